/* hashidx.c - a hash index in two tiers (see hashidx.h). */
#include "hashidx.h"

#include "err.h"
#include "logger.h"

static size_t entries(MDB_txn *txn, MDB_dbi dbi)
{
    MDB_stat st;

    return mdb_stat(txn, dbi, &st) == 0 ? st.ms_entries : 0;
}

hashidx_t hashidx_of(const store_t *st, const char *main, const char *recent)
{
    return (hashidx_t){store_db(st, recent), store_db(st, main)};
}

int hashidx_get(MDB_txn *txn, const hashidx_t *ix, const void *key, size_t klen,
                MDB_val *val)
{
    int rc = store_get(txn, ix->recent, key, klen, val);

    return rc == KY_ENOTFOUND ? store_get(txn, ix->main, key, klen, val) : rc;
}

int hashidx_get_msg(MDB_txn *txn, const hashidx_t *ix, const void *key,
                    size_t klen, const ProtobufCMessageDescriptor *desc,
                    ProtobufCMessage **out)
{
    MDB_val v;
    int rc = hashidx_get(txn, ix, key, klen, &v);

    if (rc)
        return rc;
    *out = protobuf_c_message_unpack(desc, NULL, v.mv_size, v.mv_data);
    if (*out == NULL) {
        log_error("event=stored_record_corrupt type=%s", desc->name);
        return KY_EDECODE;
    }
    return KY_OK;
}

/*
 * Moves every entry of recent into main, in key order: sorted puts touch
 * each page of main once, where the same puts spread over many commits
 * would have dirtied a page each time.
 */
static int move_recent(MDB_txn *txn, const hashidx_t *ix)
{
    MDB_cursor *c;
    MDB_val k, v;
    int rc = mdb_cursor_open(txn, ix->recent, &c);

    if (rc)
        return store_err(rc, "hashidx_cursor");
    rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
    while (rc == 0) {
        if ((rc = mdb_put(txn, ix->main, &k, &v, 0)) != 0)
            break;
        rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(c);
    if (rc != MDB_NOTFOUND)
        return store_err(rc, "hashidx_move");
    return store_err(mdb_drop(txn, ix->recent, 0), "hashidx_drop");
}

/* Moves recent into main once recent is past its share of the index. */
static int settle(MDB_txn *txn, const hashidx_t *ix)
{
    size_t recent = entries(txn, ix->recent);
    size_t limit = entries(txn, ix->main) / HASHIDX_RECENT_SHARE;

    if (recent < HASHIDX_RECENT_MIN || recent < limit)
        return KY_OK;
    return move_recent(txn, ix);
}

int hashidx_put(MDB_txn *txn, const hashidx_t *ix, const void *key, size_t klen,
                const void *val, size_t vlen)
{
    int rc = store_put(txn, ix->recent, key, klen, val, vlen, 0);

    return rc ? rc : settle(txn, ix);
}

int hashidx_put_msg(MDB_txn *txn, const hashidx_t *ix, const void *key,
                    size_t klen, const ProtobufCMessage *msg)
{
    int rc = store_put_msg(txn, ix->recent, key, klen, msg);

    return rc ? rc : settle(txn, ix);
}

size_t hashidx_count(MDB_txn *txn, const hashidx_t *ix)
{
    return entries(txn, ix->recent) + entries(txn, ix->main);
}
