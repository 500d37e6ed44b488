/*
 * quarantine.h - intake keeps every event it rejects, so that an operator
 * can list it, see it as it came, and replay it, corrected or not.
 *
 * intake.c notes each request before handling it (quarantine_note) and
 * calls quarantine_keep() from the one place every rejection passes. Only
 * events from outside (lead, listing, contact, profile update) are kept;
 * a rejected query or command is simply answered. A replay runs the event
 * through intake's own handler, in the request's transaction.
 *
 * Store: db "quarantine", time-ordered id (8 bytes, big-endian) ->
 * QuarantinedEvent.
 */
#ifndef KEYUAN_QUARANTINE_H
#define KEYUAN_QUARANTINE_H

#include "svc.h"

#include <stdbool.h>

/* The handler a replayed event goes through (intake's svc handle). */
typedef int (*quarantine_handler_t)(void *self, MDB_txn *txn,
                                    const Envelope *msg, Envelope *reply);

typedef struct quarantine {
    svc_t *svc;          /* reply memory, counters */
    MDB_dbi db;          /* "quarantine" */
    MDB_txn *txn;        /* the request being handled (quarantine_note) */
    const Envelope *msg; /* and the request itself */
    bool replaying;      /* a replay runs: its rejection is not kept again */
    uint64_t max;        /* entries kept at most; the oldest go first */
} quarantine_t;

/* Kept by default: ~6 GiB at the 64 KiB message cap, far less as a rule. */
#define QUARANTINE_MAX_DEFAULT 100000

/*
 * Sets q up on svc's store, which must have a db named "quarantine", to
 * keep at most max entries (at least 1), dropping the oldest beyond that
 * now. Returns 0 or a store error.
 */
int quarantine_init(quarantine_t *q, svc_t *svc, uint64_t max);

/*
 * Remembers the request about to be handled in txn; both are borrowed
 * until the handler returns. Call before every request.
 */
void quarantine_note(quarantine_t *q, MDB_txn *txn, const Envelope *msg);

/*
 * Keeps the noted request when it is an outside event and reply (a Reply
 * body, as the sender gets it) rejects it; otherwise does nothing. Must
 * run in the noted transaction. Returns 0 or a store error, which should
 * fail the request so that its sender sends it again.
 */
int quarantine_keep(quarantine_t *q, const Envelope *reply);

/*
 * Answers a QuarantineQuery: one entry by id, or a page of entries after
 * after_id (limit 50 by default, 1000 at most, and a page ends early
 * rather than grow past a few MiB). Sets reply to a QuarantineList, or
 * to a rejection when the id is not known. Returns 0 or a store error.
 */
int quarantine_query(quarantine_t *q, MDB_txn *txn,
                     const Keyuan__V1__QuarantineQuery *qq, Envelope *reply);

/*
 * Replays entry r->quarantine_id, or the corrected Envelope in
 * r->envelope, through handle(self, ...) in txn. The entry records the
 * outcome in replay_reply; a rejected replay makes no new entry. reply is
 * what the replayed event got, or a rejection of the replay request (no
 * such entry, already replayed, not an event). Returns 0 or the handler's
 * or the store's error.
 */
int quarantine_replay(quarantine_t *q, MDB_txn *txn,
                      const Keyuan__V1__QuarantineReplay *r, Envelope *reply,
                      quarantine_handler_t handle, void *self);

#endif
