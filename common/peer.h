/*
 * peer.h - the receiving end of a link: which messages from each upstream
 * sender have been applied.
 *
 * For each sender the store keeps (epoch, last sequence applied) in the
 * peers database, changed in the same write transaction as the state the
 * messages change. A message is applied only if its sequence is the next
 * one expected; earlier ones are repeats (acked again, not applied) and
 * later ones mean something was lost in between (dropped; the sender's
 * resend brings the gap back in order). The first message from a sender
 * not seen before (or with a new epoch) is applied whatever its number.
 */
#ifndef KEYUAN_PEER_H
#define KEYUAN_PEER_H

#include "store.h"
#include "wire.h"

#include <stdbool.h>
#include <stdint.h>

enum peer_verdict {
    PEER_APPLY,  /* the next expected message: apply it */
    PEER_REPEAT, /* already applied: ack, do not apply */
    PEER_GAP     /* comes after a missing one: drop it */
};

/* What the peers database holds for one sender. */
typedef struct peer_state {
    bool known;     /* a record exists: epoch and last hold it */
    uint64_t epoch; /* the sender's epoch */
    uint64_t last;  /* the last sequence applied in that epoch */
} peer_state_t;

/* Reads sender's record into *ps inside txn. Returns 0 or a store error. */
int peer_load(store_t *st, MDB_txn *txn, const char *sender, peer_state_t *ps);

/*
 * Decides what to do with link message msg (seq > 0) given its sender's
 * state ps. *last is set to the last sequence applied before msg.
 */
enum peer_verdict peer_judge(const peer_state_t *ps, const Envelope *msg,
                             uint64_t *last);

/* Notes in *ps that msg was applied. */
void peer_applied(peer_state_t *ps, const Envelope *msg);

/* Writes *ps as sender's record inside txn. Returns 0 or a store error. */
int peer_save(store_t *st, MDB_txn *txn, const char *sender,
              const peer_state_t *ps);

/*
 * Decides what to do with link message msg (seq > 0) inside txn. *last is
 * set to the last sequence applied from that sender before msg.
 */
int peer_check(store_t *st, MDB_txn *txn, const Envelope *msg,
               enum peer_verdict *verdict, uint64_t *last);

/* Records msg as applied, inside the same txn that applied it. */
int peer_record(store_t *st, MDB_txn *txn, const Envelope *msg);

#endif
