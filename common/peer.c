/* peer.c - per-sender "last applied" sequence numbers (see peer.h). */
#include "peer.h"

#include "err.h"

#include <string.h>

int peer_load(store_t *st, MDB_txn *txn, const char *sender, peer_state_t *ps)
{
    MDB_val val;
    int rc =
        store_get(txn, store_db(st, "peers"), sender, strlen(sender), &val);

    memset(ps, 0, sizeof *ps);
    if (rc == KY_ENOTFOUND)
        return KY_OK;
    if (rc)
        return rc;
    if (val.mv_size == 16) { /* anything else: as if never seen */
        ps->known = true;
        ps->epoch = wire_get_u64(val.mv_data);
        ps->last = wire_get_u64((uint8_t *)val.mv_data + 8);
    }
    return KY_OK;
}

enum peer_verdict peer_judge(const peer_state_t *ps, const Envelope *msg,
                             uint64_t *last)
{
    /*
     * A sender never seen, or seen with another epoch (its store was made
     * anew), starts a new numbering: its first message is the oldest one
     * its outbox still holds, so take it whatever its number.
     */
    *last = 0;
    if (!ps->known || ps->epoch != msg->epoch)
        return PEER_APPLY;
    *last = ps->last;
    if (msg->seq <= *last)
        return PEER_REPEAT;
    return msg->seq == *last + 1 ? PEER_APPLY : PEER_GAP;
}

void peer_applied(peer_state_t *ps, const Envelope *msg)
{
    ps->known = true;
    ps->epoch = msg->epoch;
    ps->last = msg->seq;
}

int peer_save(store_t *st, MDB_txn *txn, const char *sender,
              const peer_state_t *ps)
{
    uint8_t val[16];

    wire_put_u64(val, ps->epoch);
    wire_put_u64(val + 8, ps->last);
    return store_put(txn, store_db(st, "peers"), sender, strlen(sender), val,
                     sizeof val, 0);
}

int peer_check(store_t *st, MDB_txn *txn, const Envelope *msg,
               enum peer_verdict *verdict, uint64_t *last)
{
    peer_state_t ps;
    int rc = peer_load(st, txn, msg->sender ? msg->sender : "", &ps);

    *last = 0;
    if (rc == 0)
        *verdict = peer_judge(&ps, msg, last);
    return rc;
}

int peer_record(store_t *st, MDB_txn *txn, const Envelope *msg)
{
    peer_state_t ps;

    peer_applied(&ps, msg);
    return peer_save(st, txn, msg->sender ? msg->sender : "", &ps);
}
