/* hashidx.c - a hash index of logs and a main tree (see hashidx.h). */
#include "hashidx.h"

#include "bloom.h"
#include "err.h"
#include "logger.h"
#include "wire.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A log entry's reference: its sequence number and which log holds it.
 * Sequence numbers start at 1, so 0 marks an empty slot. */
#define REF(seq, log) ((uint64_t)(seq) << 1 | (uint64_t)(log))
#define REF_SEQ(ref) ((ref) >> 1)
#define REF_LOG(ref) ((int)((ref)&1))

struct hashidx_slot {
    uint64_t hash; /* key_hash() of the key */
    uint64_t ref;  /* REF() of its newest log entry; 0: empty */
};

/* A frozen entry: its key, and its value kept in ix->fvals, so that the
 * move reads no log page (each would be a walk down the log's tree). */
struct hashidx_frozen {
    uint64_t seq;
    size_t voff, vlen;
    uint8_t klen;
    uint8_t key[HASHIDX_KEY_MAX];
};

/* A log entry, read in place: valid until the transaction ends. */
typedef struct log_entry {
    const uint8_t *key;
    size_t klen;
    MDB_val val;
} log_entry_t;

static size_t entries(MDB_txn *txn, MDB_dbi dbi)
{
    MDB_stat st;

    return mdb_stat(txn, dbi, &st) == 0 ? st.ms_entries : 0;
}

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

/* ---- the logs ------------------------------------------------------------ */

/* Splits a log value into key and value; false when it is malformed. */
static bool entry_parse(const MDB_val *v, log_entry_t *e)
{
    const uint8_t *p = v->mv_data;

    if (v->mv_size < 1 || p[0] == 0 || p[0] > v->mv_size - 1)
        return false;
    e->klen = p[0];
    e->key = p + 1;
    e->val.mv_size = v->mv_size - 1 - p[0];
    e->val.mv_data = (void *)(p + 1 + p[0]);
    return true;
}

/* Reads the entry ref names. Returns 0, KY_ENOTFOUND or a store error. */
static int log_read(MDB_txn *txn, const hashidx_t *ix, uint64_t ref,
                    log_entry_t *e)
{
    uint8_t k[8];
    MDB_val v;
    int rc;

    wire_put_u64(k, REF_SEQ(ref));
    if ((rc = store_get(txn, ix->log[REF_LOG(ref)], k, 8, &v)) != KY_OK)
        return rc;
    if (!entry_parse(&v, e)) {
        log_error("event=hashidx_bad_entry");
        return KY_ESTORE;
    }
    return KY_OK;
}

/* Calls fn on every entry of log in sequence order. */
static int log_scan(MDB_txn *txn, hashidx_t *ix, int log,
                    int (*fn)(hashidx_t *, MDB_txn *, uint64_t ref,
                              const log_entry_t *))
{
    MDB_cursor *c;
    MDB_val k, v;
    int rc = mdb_cursor_open(txn, ix->log[log], &c);

    if (rc)
        return store_err(rc, "hashidx_cursor");
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        log_entry_t e;
        int err;

        if (k.mv_size != 8 || !entry_parse(&v, &e)) {
            log_error("event=hashidx_bad_entry");
            rc = MDB_CORRUPTED;
            break;
        }
        if ((err = fn(ix, txn, REF(wire_get_u64(k.mv_data), log), &e))) {
            mdb_cursor_close(c);
            return err;
        }
    }
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND ? KY_OK : store_err(rc, "hashidx_scan");
}

/* The sequence number of log's last entry; 0 when it is empty. */
static uint64_t log_last(MDB_txn *txn, const hashidx_t *ix, int log)
{
    MDB_cursor *c;
    MDB_val k, v;
    uint64_t seq = 0;

    if (mdb_cursor_open(txn, ix->log[log], &c) != 0)
        return 0;
    if (mdb_cursor_get(c, &k, &v, MDB_LAST) == 0 && k.mv_size == 8)
        seq = wire_get_u64(k.mv_data);
    mdb_cursor_close(c);
    return seq;
}

static size_t count_parts(MDB_txn *txn, const hashidx_t *ix);

/* ---- the filter ---------------------------------------------------------- */

#define FILTER_MIN_BITS (1u << 24) /* 2 MiB: a million keys */

/* Adds every key of main to the filter. */
static int filter_scan_main(hashidx_t *ix, MDB_txn *txn)
{
    MDB_cursor *c;
    MDB_val k, v;
    int rc = mdb_cursor_open(txn, ix->main, &c);

    if (rc)
        return store_err(rc, "hashidx_cursor");
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
        bloom_add(&ix->filter, key_hash(k.mv_data, k.mv_size));
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND ? KY_OK : store_err(rc, "hashidx_scan");
}

static int filter_add_entry(hashidx_t *ix, MDB_txn *txn, uint64_t ref,
                            const log_entry_t *e)
{
    (void)txn;
    (void)ref;
    bloom_add(&ix->filter, key_hash(e->key, e->klen));
    return KY_OK;
}

/*
 * Builds the filter anew, sized for four times the keys the index holds.
 * It reads every key, which a batch waits for: about 0.1 s per million
 * keys here, once at open and then each time the index quadruples.
 */
static int filter_build(hashidx_t *ix, MDB_txn *txn)
{
    int rc = bloom_reset(&ix->filter, 4 * (count_parts(txn, ix) + 1),
                         FILTER_MIN_BITS);

    if (rc == KY_OK)
        rc = filter_scan_main(ix, txn);
    for (int log = 0; log < 2 && rc == KY_OK; log++)
        rc = log_scan(txn, ix, log, filter_add_entry);
    if (rc) /* no filter: every lookup goes to the store */
        bloom_free(&ix->filter);
    return rc;
}

/* Notes a key in the filter, first making it larger when it is full. */
static void filter_note(MDB_txn *txn, hashidx_t *ix, uint64_t h)
{
    if (ix->filter.bits == NULL)
        return; /* none: lookups all go to the store */
    if (!bloom_full(&ix->filter)) {
        bloom_add(&ix->filter, h);
        return;
    }
    /* Full: built anew from the store, which holds the key already.
     * Without one the index is only slower, so a failure fails no put. */
    if (filter_build(ix, txn) != KY_OK)
        log_warn("event=hashidx_filter_dropped");
}

/* ---- the table in memory: key hash -> log entry -------------------------- */

/*
 * Open addressing with linear probing, at most half full. Slots hold a
 * 64-bit hash, not the key, so a slot whose hash matches is checked
 * against the key in its log entry: a lookup reads the log anyway.
 */
static size_t slot_of(const hashidx_t *ix, uint64_t h)
{
    return h & (ix->nslots - 1);
}

/*
 * Finds key in the table. Returns 0 with *at its slot and *e its entry,
 * KY_ENOTFOUND with *at the empty slot where it would go, or a store
 * error.
 */
static int map_find(MDB_txn *txn, const hashidx_t *ix, const void *key,
                    size_t klen, uint64_t h, size_t *at, log_entry_t *e)
{
    size_t mask = ix->nslots - 1;

    for (size_t i = slot_of(ix, h);; i = (i + 1) & mask) {
        const struct hashidx_slot *s = &ix->slots[i];
        int rc;

        if (s->ref == 0) {
            *at = i;
            return KY_ENOTFOUND;
        }
        if (s->hash != h)
            continue;
        if ((rc = log_read(txn, ix, s->ref, e)) != KY_OK)
            return rc == KY_ENOTFOUND ? KY_ESTORE : rc;
        if (e->klen == klen && memcmp(e->key, key, klen) == 0) {
            *at = i;
            return KY_OK;
        }
    }
}

/* Doubles the table when it is half full. */
static int map_reserve(hashidx_t *ix)
{
    struct hashidx_slot *old = ix->slots, *slots;
    size_t n = ix->nslots ? ix->nslots * 2 : 1024;

    if ((ix->nused + 1) * 2 <= ix->nslots)
        return KY_OK;
    if ((slots = calloc(n, sizeof *slots)) == NULL)
        return KY_ENOMEM;
    ix->slots = slots;
    ix->nslots = n;
    for (size_t i = 0; old && i < n / 2; i++) {
        size_t j = slot_of(ix, old[i].hash);

        if (old[i].ref == 0)
            continue;
        while (slots[j].ref)
            j = (j + 1) & (n - 1);
        slots[j] = old[i];
    }
    free(old);
    return KY_OK;
}

/* Points key at the log entry ref, whether it was in the table or not. */
static int map_set(MDB_txn *txn, hashidx_t *ix, const void *key, size_t klen,
                   uint64_t h, uint64_t ref)
{
    log_entry_t e;
    size_t at;
    int rc = map_reserve(ix);

    if (rc == KY_OK)
        rc = map_find(txn, ix, key, klen, h, &at, &e);
    if (rc == KY_ENOTFOUND) {
        ix->slots[at].hash = h;
        ix->nused++;
        rc = KY_OK;
    }
    if (rc == KY_OK)
        ix->slots[at].ref = ref;
    return rc;
}

/*
 * Empties the slot holding ref, if any (a newer entry of the same key may
 * have taken it), shifting later slots of the run back so that probes
 * still find them.
 */
static void map_remove(hashidx_t *ix, uint64_t h, uint64_t ref)
{
    size_t mask = ix->nslots - 1, i = slot_of(ix, h);

    while (ix->slots[i].ref != ref) {
        if (ix->slots[i].ref == 0)
            return;
        i = (i + 1) & mask;
    }
    for (size_t j = (i + 1) & mask; ix->slots[j].ref; j = (j + 1) & mask) {
        size_t home = slot_of(ix, ix->slots[j].hash);

        if (((j - home) & mask) >= ((j - i) & mask)) {
            ix->slots[i] = ix->slots[j];
            i = j;
        }
    }
    ix->slots[i].ref = 0;
    ix->nused--;
}

/* ---- freezing and moving ------------------------------------------------- */

static int frozen_cmp(const void *a, const void *b)
{
    const struct hashidx_frozen *x = a, *y = b;
    size_t n = x->klen < y->klen ? x->klen : y->klen;
    int c = memcmp(x->key, y->key, n);

    if (c == 0 && x->klen != y->klen)
        c = x->klen < y->klen ? -1 : 1;
    if (c == 0) /* one key twice: the older moves first */
        c = x->seq < y->seq ? -1 : x->seq > y->seq;
    return c;
}

static int frozen_add(hashidx_t *ix, MDB_txn *txn, uint64_t ref,
                      const log_entry_t *e)
{
    struct hashidx_frozen *f;

    (void)txn;
    if (ix->nfrozen == ix->frozen_cap || e->klen > HASHIDX_KEY_MAX) {
        log_error("event=hashidx_bad_entry");
        return KY_ESTORE;
    }
    if (ix->fvals_len + e->val.mv_size > ix->fvals_cap) {
        size_t cap = ix->fvals_cap ? ix->fvals_cap : 4096;
        uint8_t *vals;

        while (cap < ix->fvals_len + e->val.mv_size)
            cap *= 2;
        if ((vals = realloc(ix->fvals, cap)) == NULL)
            return KY_ENOMEM;
        ix->fvals = vals;
        ix->fvals_cap = cap;
    }
    f = &ix->frozen[ix->nfrozen++];
    f->seq = REF_SEQ(ref);
    f->klen = (uint8_t)e->klen;
    memcpy(f->key, e->key, e->klen);
    f->voff = ix->fvals_len;
    f->vlen = e->val.mv_size;
    if (f->vlen)
        memcpy(ix->fvals + f->voff, e->val.mv_data, f->vlen);
    ix->fvals_len += f->vlen;
    return KY_OK;
}

/* The first two bytes of f's key: the order of its bucket. */
static size_t frozen_bucket(const struct hashidx_frozen *f)
{
    return (size_t)f->key[0] << 8 | (f->klen > 1 ? f->key[1] : 0);
}

/*
 * Sorts the frozen entries by key. Keys are hashes as a rule, so one
 * counting pass on their first two bytes leaves buckets of a few entries
 * each, which qsort() finishes: linear time, where a qsort() of the
 * whole log was a tenth of intake's work. Other keys sort right, only
 * slower.
 */
static int frozen_sort(hashidx_t *ix)
{
    enum { BUCKETS = 1 << 16 };
    size_t *end = calloc(BUCKETS, sizeof *end);
    struct hashidx_frozen *out =
        malloc((ix->nfrozen ? ix->nfrozen : 1) * sizeof *out);
    size_t at = 0;

    if (end == NULL || out == NULL) {
        free(end);
        free(out);
        return KY_ENOMEM;
    }
    for (size_t i = 0; i < ix->nfrozen; i++)
        end[frozen_bucket(&ix->frozen[i])]++;
    for (size_t b = 0; b < BUCKETS; b++) { /* counts -> where each begins */
        size_t count = end[b];

        end[b] = at;
        at += count;
    }
    for (size_t i = 0; i < ix->nfrozen; i++) /* ...and then where it ends */
        out[end[frozen_bucket(&ix->frozen[i])]++] = ix->frozen[i];
    for (size_t b = 0, begin = 0; b < BUCKETS; begin = end[b++])
        if (end[b] - begin > 1)
            qsort(out + begin, end[b] - begin, sizeof *out, frozen_cmp);
    free(ix->frozen);
    ix->frozen = out;
    free(end);
    return KY_OK;
}

/* Lists the entries of log in key order, as the frozen log. */
static int frozen_load(MDB_txn *txn, hashidx_t *ix, int log)
{
    size_t n = entries(txn, ix->log[log]);
    int rc;

    if ((ix->frozen = calloc(n ? n : 1, sizeof *ix->frozen)) == NULL)
        return KY_ENOMEM;
    ix->frozen_cap = n;
    ix->frozen_log = log;
    ix->nfrozen = 0;
    rc = log_scan(txn, ix, log, frozen_add);
    if (rc == KY_OK)
        rc = frozen_sort(ix);
    return rc;
}

static void frozen_free(hashidx_t *ix)
{
    free(ix->frozen);
    free(ix->fvals);
    ix->frozen = NULL;
    ix->fvals = NULL;
    ix->fvals_len = ix->fvals_cap = 0;
    ix->nfrozen = ix->frozen_cap = ix->moved = 0;
    ix->frozen_log = -1;
}

/* Drops the frozen log, all of it moved, and forgets its entries. */
static int frozen_drop(MDB_txn *txn, hashidx_t *ix)
{
    int log = ix->frozen_log, rc;

    rc = store_err(mdb_drop(txn, ix->log[log], 0), "hashidx_drop");
    if (rc == KY_OK)
        rc = store_meta_put(ix->st, txn, ix->moved_name, 0);
    if (rc)
        return rc;
    for (size_t i = 0; i < ix->nfrozen; i++) {
        const struct hashidx_frozen *f = &ix->frozen[i];

        map_remove(ix, key_hash(f->key, f->klen), REF(f->seq, log));
    }
    frozen_free(ix);
    ix->main_n = entries(txn, ix->main);
    return KY_OK;
}

/* Moves up to n frozen entries to main, in key order; drops the frozen
 * log once all are there. */
static int move_some(MDB_txn *txn, hashidx_t *ix, size_t n)
{
    size_t stop = ix->moved + n < ix->nfrozen ? ix->moved + n : ix->nfrozen;
    int rc = KY_OK;

    if (ix->frozen_log < 0)
        return KY_OK;
    for (; ix->moved < stop && rc == KY_OK; ix->moved++) {
        const struct hashidx_frozen *f = &ix->frozen[ix->moved];
        const void *val = f->vlen ? ix->fvals + f->voff : (const void *)"";

        rc = store_put(txn, ix->main, f->key, f->klen, val, f->vlen, 0);
    }
    if (rc == KY_OK)
        rc = store_meta_put(ix->st, txn, ix->moved_name, ix->moved);
    if (rc == KY_OK && ix->moved == ix->nfrozen)
        rc = frozen_drop(txn, ix);
    return rc;
}

static size_t log_limit(const hashidx_t *ix)
{
    size_t limit = ix->main_n / HASHIDX_LOG_SHARE;

    if (limit < HASHIDX_LOG_MIN)
        limit = HASHIDX_LOG_MIN;
    return limit > HASHIDX_LOG_MAX ? HASHIDX_LOG_MAX : limit;
}

/*
 * Freezes the active log, once whatever is still frozen has moved (a
 * batch waits for that only when the limit shrank), and makes the other
 * log active. The sort is the one wait: ~0.1 s at HASHIDX_LOG_MAX.
 */
static int freeze(MDB_txn *txn, hashidx_t *ix)
{
    int rc = move_some(txn, ix, ix->nfrozen);

    if (rc == KY_OK)
        rc = frozen_load(txn, ix, ix->active);
    if (rc)
        return rc;
    ix->active = 1 - ix->active;
    ix->active_n = 0;
    return KY_OK;
}

/* ---- the memory, read from the store ------------------------------------- */

static int map_add_entry(hashidx_t *ix, MDB_txn *txn, uint64_t ref,
                         const log_entry_t *e)
{
    return map_set(txn, ix, e->key, e->klen, key_hash(e->key, e->klen), ref);
}

static void memory_free(hashidx_t *ix)
{
    free(ix->slots);
    ix->slots = NULL;
    ix->nslots = ix->nused = 0;
    frozen_free(ix);
}

/*
 * Reads the logs as txn sees them. The active log is the one with the
 * newest entry (a freeze happens only on a put to the other log), and
 * the frozen one is the other, when it is not empty.
 */
static int memory_load(hashidx_t *ix, MDB_txn *txn)
{
    uint64_t last[2] = {log_last(txn, ix, 0), log_last(txn, ix, 1)};
    uint64_t moved = 0;
    int rc;

    memory_free(ix);
    ix->touched = 0;
    ix->stale = true; /* until it is all read: a failure is tried again */
    ix->active = last[1] > last[0];
    ix->active_n = entries(txn, ix->log[ix->active]);
    ix->next_seq = (last[ix->active] ? last[ix->active] : 0) + 1;
    ix->main_n = entries(txn, ix->main);
    if ((rc = store_meta_get(ix->st, txn, ix->moved_name, &moved)))
        return rc;
    if (last[1 - ix->active]) {
        int frozen = 1 - ix->active;

        rc = frozen_load(txn, ix, frozen);
        if (rc == KY_OK)
            rc = log_scan(txn, ix, frozen, map_add_entry);
        ix->moved = moved < ix->nfrozen ? moved : ix->nfrozen;
    }
    if (rc == KY_OK)
        rc = log_scan(txn, ix, ix->active, map_add_entry);
    ix->stale = rc != KY_OK;
    return rc;
}

/*
 * Makes the memory match txn: when the transaction that last changed it
 * did not commit, it is read again from the logs.
 */
static int memory_sync(hashidx_t *ix, MDB_txn *txn)
{
    if (!ix->stale) {
        if (ix->touched == 0 || ix->touched == store_write_gen(ix->st))
            return KY_OK;
        if (!store_gen_aborted(ix->st, ix->touched)) {
            ix->touched = 0;
            return KY_OK;
        }
        ix->reloads++;
        log_info("event=hashidx_reload reason=rolled_back");
    }
    return memory_load(ix, txn);
}

/* ---- the index ----------------------------------------------------------- */

/* Moves an older build's "recent" entries to main, in one transaction. */
static int legacy_move(hashidx_t *ix, MDB_dbi legacy)
{
    MDB_txn *txn;
    MDB_cursor *c;
    MDB_val k, v;
    size_t n = 0;
    int rc = store_begin(ix->st, NULL, false, &txn);

    if (rc)
        return rc;
    if ((rc = mdb_cursor_open(txn, legacy, &c)) != 0) {
        store_abort(txn);
        return store_err(rc, "hashidx_cursor");
    }
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT), n++)
        if ((rc = mdb_put(txn, ix->main, &k, &v, 0)) != 0)
            break;
    mdb_cursor_close(c);
    if (rc == MDB_NOTFOUND)
        rc = mdb_drop(txn, legacy, 0);
    if (rc) {
        store_abort(txn);
        return store_err(rc, "hashidx_legacy");
    }
    if (n)
        log_info("event=hashidx_legacy_moved entries=%zu", n);
    return store_commit(txn);
}

int hashidx_open(hashidx_t *ix, store_t *st, const hashidx_dbs_t *dbs)
{
    MDB_txn *txn;
    int rc;

    *ix = (hashidx_t){.st = st, .frozen_log = -1};
    ix->main = store_db(st, dbs->main);
    ix->log[0] = store_db(st, dbs->log[0]);
    ix->log[1] = store_db(st, dbs->log[1]);
    if ((size_t)snprintf(ix->moved_name, sizeof ix->moved_name, "%s_moved",
                         dbs->main) >= sizeof ix->moved_name)
        return KY_EINVAL;
    if (dbs->legacy && (rc = legacy_move(ix, store_db(st, dbs->legacy))))
        return rc;
    if ((rc = store_begin(st, NULL, true, &txn)) != KY_OK)
        return rc;
    rc = memory_load(ix, txn);
    if (rc == KY_OK)
        rc = filter_build(ix, txn);
    mdb_txn_abort(txn);
    if (rc)
        hashidx_close(ix);
    return rc;
}

void hashidx_close(hashidx_t *ix)
{
    memory_free(ix);
    bloom_free(&ix->filter);
}

int hashidx_get(MDB_txn *txn, hashidx_t *ix, const void *key, size_t klen,
                MDB_val *val)
{
    uint64_t h = key_hash(key, klen);
    log_entry_t e;
    size_t at;
    int rc;

    if (!bloom_maybe(&ix->filter, h)) {
        ix->skipped++;
        return KY_ENOTFOUND;
    }
    if ((rc = memory_sync(ix, txn)) != KY_OK)
        return rc;
    if (ix->nslots) {
        rc = map_find(txn, ix, key, klen, h, &at, &e);
        if (rc == KY_OK)
            *val = e.val;
        if (rc != KY_ENOTFOUND)
            return rc;
    }
    return store_get(txn, ix->main, key, klen, val);
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
 * Appends an entry for key with room for a value of vlen bytes, which the
 * caller writes at *room before any other write to txn, then calls
 * put_end().
 */
static int put_begin(MDB_txn *txn, hashidx_t *ix, const void *key, size_t klen,
                     size_t vlen, uint8_t **room)
{
    uint8_t k[8];
    MDB_val kv = {8, k}, v = {1 + klen + vlen, NULL};
    int rc;

    if (klen == 0 || klen > HASHIDX_KEY_MAX)
        return KY_EINVAL;
    if ((rc = memory_sync(ix, txn)) != KY_OK)
        return rc;
    ix->touched = store_write_gen(ix->st);
    if (ix->active_n >= log_limit(ix) && (rc = freeze(txn, ix)) != KY_OK)
        return rc;
    wire_put_u64(k, ix->next_seq);
    rc = mdb_put(txn, ix->log[ix->active], &kv, &v, MDB_APPEND | MDB_RESERVE);
    if (rc)
        return store_err(rc, "hashidx_put");
    *(uint8_t *)v.mv_data = (uint8_t)klen;
    memcpy((uint8_t *)v.mv_data + 1, key, klen);
    *room = (uint8_t *)v.mv_data + 1 + klen;
    return KY_OK;
}

/* Finishes a put_begin(): the table, the filter and a step of the move. */
static int put_end(MDB_txn *txn, hashidx_t *ix, const void *key, size_t klen)
{
    uint64_t h = key_hash(key, klen);
    int rc = map_set(txn, ix, key, klen, h, REF(ix->next_seq, ix->active));

    if (rc)
        return rc;
    ix->next_seq++;
    ix->active_n++;
    filter_note(txn, ix, h);
    return move_some(txn, ix, HASHIDX_MOVE_STEP);
}

int hashidx_put(MDB_txn *txn, hashidx_t *ix, const void *key, size_t klen,
                const void *val, size_t vlen)
{
    uint8_t *room;
    int rc = put_begin(txn, ix, key, klen, vlen, &room);

    if (rc)
        return rc;
    if (vlen)
        memcpy(room, val, vlen);
    return put_end(txn, ix, key, klen);
}

int hashidx_put_msg(MDB_txn *txn, hashidx_t *ix, const void *key, size_t klen,
                    const ProtobufCMessage *msg)
{
    uint8_t *room;
    int rc = put_begin(txn, ix, key, klen,
                       protobuf_c_message_get_packed_size(msg), &room);

    if (rc)
        return rc;
    protobuf_c_message_pack(msg, room);
    return put_end(txn, ix, key, klen);
}

/* Entries in main and the logs, those moved but still frozen once. */
static size_t count_parts(MDB_txn *txn, const hashidx_t *ix)
{
    size_t n = entries(txn, ix->main) + entries(txn, ix->log[0]) +
               entries(txn, ix->log[1]);

    return ix->frozen_log >= 0 && n >= ix->moved ? n - ix->moved : n;
}

size_t hashidx_count(MDB_txn *txn, hashidx_t *ix)
{
    if (memory_sync(ix, txn) != KY_OK)
        return 0;
    return count_parts(txn, ix);
}
