/* peer.c - per-sender "last applied" sequence numbers (see peer.h). */
#include "peer.h"

#include "err.h"

#include <string.h>

int peer_check(store_t *st, MDB_txn *txn, const Envelope *msg,
               enum peer_verdict *verdict, uint64_t *last)
{
    MDB_val val;
    const char *sender = msg->sender ? msg->sender : "";
    int rc =
        store_get(txn, store_db(st, "peers"), sender, strlen(sender), &val);

    *last = 0;
    if (rc && rc != KY_ENOTFOUND)
        return rc;
    /*
     * A sender never seen, or seen with another epoch (its store was made
     * anew), starts a new numbering: its first message is the oldest one
     * its outbox still holds, so take it whatever its number.
     */
    if (rc == KY_ENOTFOUND || val.mv_size != 16 ||
        wire_get_u64(val.mv_data) != msg->epoch) {
        *verdict = PEER_APPLY;
        return KY_OK;
    }
    *last = wire_get_u64((uint8_t *)val.mv_data + 8);

    if (msg->seq <= *last)
        *verdict = PEER_REPEAT;
    else if (msg->seq == *last + 1)
        *verdict = PEER_APPLY;
    else
        *verdict = PEER_GAP;
    return KY_OK;
}

int peer_record(store_t *st, MDB_txn *txn, const Envelope *msg)
{
    uint8_t val[16];
    const char *sender = msg->sender ? msg->sender : "";

    wire_put_u64(val, msg->epoch);
    wire_put_u64(val + 8, msg->seq);
    return store_put(txn, store_db(st, "peers"), sender, strlen(sender), val,
                     sizeof val, 0);
}
