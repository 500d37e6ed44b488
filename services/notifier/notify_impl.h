/*
 * notify_impl.h - the notifier's state, shared by notifier.c (the service)
 * and deliver.c (the tick). Not for other modules.
 */
#ifndef KEYUAN_NOTIFY_IMPL_H
#define KEYUAN_NOTIFY_IMPL_H

#include "notifier.h"
#include "webhook.h"

#include <stdbool.h>
#include <stdint.h>

/* What the notifier knows of one file sink's committed size. */
typedef struct notify_sink_state {
    bool known;      /* offset holds the committed value */
    bool dirty;      /* offset is new: commit it with outcomes */
    uint64_t offset; /* bytes of the file that are committed */
} notify_sink_state_t;

struct notify {
    notify_db_t db;             /* store and databases, borrowed */
    svc_t *svc;                 /* the service loop; NULL in unit tests */
    notify_routes_t routes;     /* where reminders go, by channel */
    notify_policy_t policy;     /* back-off and attempts */
    const char *secret;         /* webhook HMAC key, or NULL */
    notify_webhook_t *web;      /* transfers; NULL without a webhook */
    bool curl_ready;            /* curl_global_init ran */
    notify_outcome_t *outcomes; /* finished attempts awaiting a commit */
    int noutcomes, outcomes_cap;
    int handed;      /* outcomes notify_settle() wrote in a batch's txn */
    uint64_t *batch; /* reminder ids of the sink batch */
    int nbatch, batch_cap;
    notify_sink_state_t sinks[NOTIFY_MAX_ROUTES]; /* by channel */
};

/* Lines a sink writes with one write() and one sync at most. */
#define NOTIFY_SINK_BATCH 1024

/* The real wall clock in ms (job.h: retries ignore the test clock). */
int64_t notify_wall_ms(void);

/* Queues the outcome of an attempt for the next commit: 0 or KY_ENOMEM. */
int notify_outcome_add(notify_t *n, uint64_t reminder_id, uint8_t channel,
                       enum notify_result result, const char *error);
int notify_outcome_push(notify_t *n, const notify_outcome_t *o);

/*
 * Settles the queued outcomes and writes dirty sink offsets in one write
 * transaction. The queue is emptied either way.
 */
int notify_commit(notify_t *n);

/*
 * How long delivered lines may wait for a batch's transaction to settle
 * them (notify_settle) before the tick commits them itself.
 */
#define NOTIFY_SETTLE_MS 5

/*
 * The service's tick. Under load a batch of new reminders commits every
 * few milliseconds; settling what the last tick delivered in that batch's
 * transaction (svc's batch_end) saves a commit and its fsyncs per round.
 * So this is notify_tick without the final commit: it first commits what
 * no batch took since the last tick, then delivers, and leaves the new
 * outcomes queued, asking to run again within NOTIFY_SETTLE_MS.
 */
int64_t notify_tick_deferred(notify_t *n);

/*
 * svc's batch_end: settles the queued outcomes and dirty sink offsets in
 * txn, keeping them queued until notify_settled(). Returns 0 or an error.
 */
int notify_settle(notify_t *n, MDB_txn *txn);

/*
 * svc's batch_done: drops what notify_settle() wrote once it is durable;
 * otherwise it stays queued for the next tick.
 */
void notify_settled(notify_t *n, bool durable);

/* Makes file sink ch agree with its committed size (see notify_recover). */
int notify_sink_reconcile(notify_t *n, uint8_t ch, int fd, uint64_t *size);

#endif
