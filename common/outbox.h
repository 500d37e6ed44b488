/*
 * outbox.h - the sending end of a link between two services.
 *
 * A service that causes work downstream appends the message to its outbox
 * in the same write transaction as the state change that caused it. After
 * the commit, outbox_pump() sends what is new over a DEALER socket; the
 * receiver applies each message, commits, and acks the highest sequence it
 * applied. Acked entries are deleted by outbox_prune() in a later write
 * transaction. Entries not acked within the resend timeout are sent again
 * (go-back-N), so a lost message, a restarted receiver or a restarted sender
 * only ever causes repeats, which the receiver skips by sequence number.
 *
 * Sequence numbers start at 1, grow by one per message, and are never
 * reused: they live in the store's meta database.
 */
#ifndef KEYUAN_OUTBOX_H
#define KEYUAN_OUTBOX_H

#include "store.h"
#include "wire.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct outbox outbox_t;

/* Messages sent but not yet acked, at most. */
#define OUTBOX_WINDOW 8192

/* How long unacked messages wait before they are sent again. */
#define OUTBOX_RESEND_MS 1000

/*
 * Entries waiting together go out as one EnvelopeBatch of at most this
 * many entries or about this many bytes (the receiving service takes
 * each entry as if it had come alone).
 */
#define OUTBOX_BATCH_ITEMS 64
#define OUTBOX_BATCH_BYTES (32 * 1024)

/*
 * Creates the outbox of store st, sending as sender to endpoint (a ZeroMQ
 * endpoint the receiver binds). zctx is the process's ZeroMQ context.
 * Returns NULL with *err set on failure.
 */
outbox_t *outbox_new(store_t *st, void *zctx, const char *sender,
                     const char *endpoint, int *err);

/* Closes the socket and frees; nulls *obp; accepts NULL. */
void outbox_destroy(outbox_t **obp);

/*
 * Adds msg to the outbox inside write transaction txn. Sets msg's seq,
 * sender and epoch. Nothing is sent until the transaction has committed and
 * outbox_pump() runs. Returns 0 or a store error.
 */
int outbox_append(outbox_t *ob, MDB_txn *txn, Envelope *msg);

/* The DEALER socket, for zmq_poll (acks arrive on it). */
void *outbox_socket(outbox_t *ob);

/* Reads every ack waiting on the socket. Returns 0 or KY_EZMQ. */
int outbox_read_acks(outbox_t *ob);

/* True when acks arrived whose entries are still stored. */
bool outbox_needs_prune(const outbox_t *ob);

/* Deletes acked entries inside write transaction txn. */
int outbox_prune(outbox_t *ob, MDB_txn *txn);

/*
 * Sends committed entries not yet sent, within the window, and resends
 * after a timeout. Returns 0, or a negative code on a store or socket
 * failure (the next pump tries again).
 */
int outbox_pump(outbox_t *ob);

/* Milliseconds until outbox_pump() has resend work to do; -1 for none. */
int64_t outbox_wait_ms(const outbox_t *ob);

/* Entries stored and not yet acked, as far as this process knows. */
uint64_t outbox_pending(const outbox_t *ob);

/*
 * How long in ms the oldest unacked entry has waited, counted from when
 * this process first found it pending; 0 when nothing is pending.
 */
uint64_t outbox_oldest_age_ms(const outbox_t *ob);

#endif
