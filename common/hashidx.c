/* hashidx.c - a hash index in two tiers (see hashidx.h). */
#include "hashidx.h"

#include "err.h"
#include "logger.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static size_t entries(MDB_txn *txn, MDB_dbi dbi)
{
    MDB_stat st;

    return mdb_stat(txn, dbi, &st) == 0 ? st.ms_entries : 0;
}

/* ---- the filter ---------------------------------------------------------- */

#define FILTER_BITS_PER_KEY 16 /* about 0.5% false "maybe", blocked */
#define FILTER_PROBES 4
#define FILTER_MIN_BITS (1u << 24) /* 2 MiB: a million keys */

/* splitmix64's finaliser: every input bit moves every output bit. */
static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* A 64-bit hash of key (keys need not be hashes), 8 bytes at a time. */
static uint64_t key_hash(const void *key, size_t klen)
{
    const unsigned char *p = key;
    uint64_t h = mix64(klen);

    for (size_t at = 0; at < klen; at += 8) {
        uint64_t word = 0;

        memcpy(&word, p + at, klen - at < 8 ? klen - at : 8);
        h = mix64(h ^ word);
    }
    return h;
}

/*
 * A blocked Bloom filter: the probes of a key all fall in one 512-bit
 * block, one cache line, so a lookup costs one miss, not four. The block
 * comes from the hash's low bits, the 4 bit positions from 9 bits each
 * of its high ones.
 */
#define FILTER_BLOCK_WORDS 8

static uint64_t *filter_block(const hashidx_t *ix, uint64_t h)
{
    size_t blocks = ix->nbits / (64 * FILTER_BLOCK_WORDS);

    return ix->bits + (h & (blocks - 1)) * FILTER_BLOCK_WORDS;
}

static void filter_add(hashidx_t *ix, const void *key, size_t klen)
{
    uint64_t h = key_hash(key, klen), *block = filter_block(ix, h);

    for (int i = 0; i < FILTER_PROBES; i++) {
        unsigned bit = (unsigned)(h >> (28 + 9 * i)) & 511;

        block[bit >> 6] |= 1ull << (bit & 63);
    }
    ix->nkeys++;
}

static bool filter_maybe(const hashidx_t *ix, const void *key, size_t klen)
{
    uint64_t h, *block;

    if (ix->bits == NULL)
        return true;
    h = key_hash(key, klen);
    block = filter_block(ix, h);
    for (int i = 0; i < FILTER_PROBES; i++) {
        unsigned bit = (unsigned)(h >> (28 + 9 * i)) & 511;

        if (!(block[bit >> 6] & (1ull << (bit & 63))))
            return false;
    }
    return true;
}

/* Adds every key of dbi to the filter. */
static int filter_scan(hashidx_t *ix, MDB_txn *txn, MDB_dbi dbi)
{
    MDB_cursor *c;
    MDB_val k, v;
    int rc = mdb_cursor_open(txn, dbi, &c);

    if (rc)
        return store_err(rc, "hashidx_cursor");
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
        filter_add(ix, k.mv_data, k.mv_size);
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND ? KY_OK : store_err(rc, "hashidx_scan");
}

/*
 * Builds the filter anew, sized for four times the keys the index holds.
 * It reads every key, which a batch waits for: about 0.1 s per million
 * keys here, once at open and then each time the index quadruples.
 */
static int filter_build(hashidx_t *ix, MDB_txn *txn)
{
    size_t want = 4 * (hashidx_count(txn, ix) + 1) * FILTER_BITS_PER_KEY;
    size_t nbits = FILTER_MIN_BITS;
    uint64_t *bits;
    int rc;

    while (nbits < want)
        nbits *= 2;
    /* Aligned, so that each block is one cache line. */
    if ((bits = aligned_alloc(64, nbits / 8)) == NULL)
        return KY_ENOMEM;
    memset(bits, 0, nbits / 8);
    free(ix->bits);
    ix->bits = bits;
    ix->nbits = nbits;
    ix->nkeys = 0;
    rc = filter_scan(ix, txn, ix->main);
    if (rc == KY_OK)
        rc = filter_scan(ix, txn, ix->recent);
    if (rc) { /* no filter: every lookup goes to the store */
        free(ix->bits);
        ix->bits = NULL;
    }
    return rc;
}

/* ---- the index ----------------------------------------------------------- */

int hashidx_open(hashidx_t *ix, store_t *st, const char *main,
                 const char *recent)
{
    MDB_txn *txn;
    int rc;

    *ix =
        (hashidx_t){.recent = store_db(st, recent), .main = store_db(st, main)};
    if ((rc = store_begin(st, NULL, true, &txn)) != KY_OK)
        return rc;
    rc = filter_build(ix, txn);
    mdb_txn_abort(txn);
    return rc;
}

void hashidx_close(hashidx_t *ix)
{
    free(ix->bits);
    ix->bits = NULL;
}

int hashidx_get(MDB_txn *txn, hashidx_t *ix, const void *key, size_t klen,
                MDB_val *val)
{
    int rc;

    if (!filter_maybe(ix, key, klen)) {
        ix->skipped++;
        return KY_ENOTFOUND;
    }
    rc = store_get(txn, ix->recent, key, klen, val);
    return rc == KY_ENOTFOUND ? store_get(txn, ix->main, key, klen, val) : rc;
}

int hashidx_get_msg(MDB_txn *txn, hashidx_t *ix, const void *key, size_t klen,
                    const ProtobufCMessageDescriptor *desc,
                    ProtobufCMessage **out)
{
    MDB_val v;
    int rc = hashidx_get(txn, ix, key, klen, &v);

    return rc ? rc : store_unpack(&v, desc, out);
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

/*
 * Moves recent into main once recent is past its share of the index. The
 * batch that does it waits for the move (about 1 ms per thousand entries
 * here), so the share stops growing at HASHIDX_RECENT_MAX.
 */
static int settle(MDB_txn *txn, const hashidx_t *ix)
{
    size_t recent = entries(txn, ix->recent);
    size_t limit = entries(txn, ix->main) / HASHIDX_RECENT_SHARE;

    if (limit < HASHIDX_RECENT_MIN)
        limit = HASHIDX_RECENT_MIN;
    if (limit > HASHIDX_RECENT_MAX)
        limit = HASHIDX_RECENT_MAX;
    return recent < limit ? KY_OK : move_recent(txn, ix);
}

/* Notes key in the filter, first making it larger when it is full. */
static int filter_note(MDB_txn *txn, hashidx_t *ix, const void *key,
                       size_t klen)
{
    if (ix->bits == NULL)
        return KY_OK; /* none: lookups all go to the store */
    if ((ix->nkeys + 1) * FILTER_BITS_PER_KEY <= ix->nbits) {
        filter_add(ix, key, klen);
        return KY_OK;
    }
    /* Full: built anew from the store, which holds key already. Without
     * one the index is only slower, so a failure fails no write. */
    if (filter_build(ix, txn) != KY_OK)
        log_warn("event=hashidx_filter_dropped");
    return KY_OK;
}

int hashidx_put(MDB_txn *txn, hashidx_t *ix, const void *key, size_t klen,
                const void *val, size_t vlen)
{
    int rc = store_put(txn, ix->recent, key, klen, val, vlen, 0);

    if (rc == KY_OK)
        rc = filter_note(txn, ix, key, klen);
    return rc ? rc : settle(txn, ix);
}

int hashidx_put_msg(MDB_txn *txn, hashidx_t *ix, const void *key, size_t klen,
                    const ProtobufCMessage *msg)
{
    int rc = store_put_msg(txn, ix->recent, key, klen, msg);

    if (rc == KY_OK)
        rc = filter_note(txn, ix, key, klen);
    return rc ? rc : settle(txn, ix);
}

size_t hashidx_count(MDB_txn *txn, const hashidx_t *ix)
{
    return entries(txn, ix->recent) + entries(txn, ix->main);
}
