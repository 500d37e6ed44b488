/*
 * svc.h - the loop every keyuan service runs.
 *
 * A service binds one ROUTER socket. On it arrive requests from outside
 * (keyuanctl, lead sources: seq == 0, answered with one reply each) and
 * link messages from the upstream service (seq > 0, answered with an ack).
 * The loop reads whatever has arrived, up to SVC_BATCH_MAX messages, and
 * applies them all in one durable LMDB write transaction. When one message
 * fails, the batch is rolled back and applied again without it. Replies
 * and acks go out only after the commit, so nothing is
 * confirmed that a crash could still lose.
 *
 * Status requests and test-clock moves are answered here; everything else
 * goes to the service's handler. Time-driven work (firing reminders,
 * delivering them) runs in the service's tick callback.
 */
#ifndef KEYUAN_SVC_H
#define KEYUAN_SVC_H

#include "config.h"
#include "outbox.h"
#include "store.h"
#include "wire.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SVC_BATCH_MAX 1024

typedef struct svc svc_t;

/* What a service is started with; strings are borrowed for its life. */
typedef struct svc_config {
    const char *name;       /* "intake", ...: logs, link sender name */
    const char *state_dir;  /* the service's LMDB directory */
    const char *bind;       /* ZeroMQ endpoint to bind */
    const char *downstream; /* endpoint of the next service, or NULL */
    const char *upstream;   /* the one service whose link messages are
                               taken ("intake" for grading), or NULL */
    const char *const *dbs; /* the service's databases, NULL-terminated */
    size_t map_mb;          /* LMDB map size */
    int64_t stuck_ms;       /* unhealthy when the link has not moved for
                               this long; 0: 60 s */
    bool test_clock;        /* run on the test clock (tests only) */
    int64_t max_msg_bytes;  /* larger messages drop the sender; 0: none */
} svc_config_t;

typedef struct svc_ops {
    /*
     * Applies msg inside txn, the batch's transaction. For requests
     * (msg->seq == 0) it sets reply's body to a message allocated with
     * svc_alloc(). Returns 0, or a negative code when msg cannot be
     * applied: the batch is then rolled back and applied again without
     * it, a request gets an "internal" rejection and a link message is
     * not acked, so its sender sends it again. handle may thus run twice
     * for one message: its effects belong in txn (counters aside).
     */
    int (*handle)(void *self, MDB_txn *txn, const Envelope *msg,
                  Envelope *reply);

    /*
     * Optional: time-driven work, with transactions of its own. Returns
     * the milliseconds until it wants to run again (it also runs after
     * every batch).
     */
    int64_t (*tick)(void *self);

    /* Optional: adds the service's numbers with svc_status_add(). */
    void (*status)(void *self, MDB_txn *txn, Keyuan__V1__StatusReply *st);

    /*
     * Optional: writes the service holds until a write transaction comes
     * along anyway, so that they cost no commit of their own. Runs at most
     * once per batch, after its messages and just before its commit, in a
     * transaction nested in the batch's: when it returns a negative code
     * only its own writes are undone. Until batch_done says they are
     * durable, the service must still hold what it wrote.
     */
    int (*batch_end)(void *self, MDB_txn *txn);

    /*
     * Optional: told once per batch, after its commit, whether what
     * batch_end wrote is now durable (false: the batch or batch_end
     * failed, and nothing of batch_end's survived).
     */
    void (*batch_done)(void *self, bool durable);
} svc_ops_t;

/*
 * Reads the options every service has (--state-dir, --bind, --downstream,
 * --map-mb, --test-clock, --log-level, --max-msg-bytes) plus the service's
 * own in extra (NULL-name terminated, may be NULL) into cfg, whose fields
 * hold the defaults on entry, and sets up logging. Returns 0, 1 when
 * --help was asked, or KY_ECONFIG after printing what is wrong.
 */
int svc_configure(svc_config_t *cfg, const opt_t *extra, int argc, char **argv);

/* Opens the store, binds, connects the outbox. NULL with *err on error. */
svc_t *svc_new(const svc_config_t *cfg, int *err);

/* Runs until SIGTERM or SIGINT; then returns 0 (or a fatal error). */
int svc_run(svc_t *svc, const svc_ops_t *ops, void *self);

/* Frees everything and nulls *sp; accepts NULL. */
void svc_destroy(svc_t **sp);

store_t *svc_store(svc_t *svc);

/* The link to the downstream service; NULL for the last service. */
outbox_t *svc_outbox(svc_t *svc);

/* The ZeroMQ context, for services that open more sockets. */
void *svc_zctx(svc_t *svc);

/*
 * Zeroed memory that lives until the current message's reply is packed.
 * Aborts the process when out of memory, like protobuf-c's allocator.
 */
void *svc_alloc(svc_t *svc, size_t size);
char *svc_strdup(svc_t *svc, const char *s);
char *svc_printf(svc_t *svc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Frees an unpacked message when the current message is done. */
void svc_defer_free(svc_t *svc, ProtobufCMessage *msg);

/*
 * Adds n to the named counter shown by status ("leads_created", ...).
 * name is kept, not copied: pass a string literal.
 */
void svc_count(svc_t *svc, const char *name, uint64_t n);

/* Adds a counter line to a status reply being built. */
void svc_status_add(svc_t *svc, Keyuan__V1__StatusReply *st, const char *name,
                    uint64_t value);

/*
 * Fills reply with a Reply body of the given status; code, message and
 * field may be NULL. Returns the Reply for further fields.
 */
Keyuan__V1__Reply *svc_reply(svc_t *svc, Envelope *reply,
                             Keyuan__V1__ReplyStatus status, const char *code,
                             const char *field, const char *message);

/* True once SIGTERM or SIGINT arrived. */
bool svc_stopping(void);

#endif
