/*
 * hashidx.h - an LMDB index keyed by hashes that writes mostly in order.
 *
 * A key that is a hash (of a phone number, of a source's event id) lands
 * at a random place in a B-tree, so every put of a batch dirties a 4 KiB
 * page of its own, and LMDB writes every dirty page at commit. In intake
 * that was most of the bytes written per lead, and the disk, not the
 * CPU, set the pace.
 *
 * So new entries are not put in key order at all. They are appended to a
 * log (sequence number -> key and value), and a table in memory maps each
 * key in the log to its sequence number. When the log holds its share of
 * the index, it is frozen and a second log takes the new entries, while
 * every later put also moves a few frozen entries, in key order, into the
 * "main" B-tree. Each transaction thus moves one stretch of keys, and
 * dirties each page of main in that stretch once for many entries; once
 * all are moved the frozen log is dropped whole. No batch waits for a
 * large move, and the bytes written per entry stay a few hundred however
 * large the index grows, up to HASHIDX_LOG_MAX entries a log.
 *
 * A lookup asks the table in memory first (an entry in a log is newer
 * than main's), then main. Most lookups are for keys that are not there
 * (a new lead's phone and event id), so the index also keeps a Bloom
 * filter (bloom.h) of every key in it: a key it has never seen is
 * answered "not found" without touching the store.
 *
 * The memory follows the open write transaction. When one that changed it
 * does not commit, the next call sees that through the store and reads
 * the logs again: use transactions from store_begin(), end them with
 * store_commit() or store_abort(), and do not use the index in nested
 * transactions. Entries are never deleted: nothing deletes them yet
 * (erasure will need a tombstone that shadows main).
 */
#ifndef KEYUAN_HASHIDX_H
#define KEYUAN_HASHIDX_H

#include "bloom.h"
#include "store.h"

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Keys are 1 to this many bytes. */
#define HASHIDX_KEY_MAX 32
/* A log is frozen at this many entries at least... */
#define HASHIDX_LOG_MIN 8192
/* ...or at main's entries divided by this... */
#define HASHIDX_LOG_SHARE 2
/* ...but at most this many: the memory it takes (~100 bytes an entry). */
#define HASHIDX_LOG_MAX (512 * 1024)
/* Frozen entries moved to main per put: the move ends well before the
 * other log fills. */
#define HASHIDX_MOVE_STEP 2

/* The databases of one index, all named to store_open(). */
typedef struct hashidx_dbs {
    const char *main;   /* key -> value: the entries moved */
    const char *log[2]; /* sequence -> key length, key, value */
    const char *legacy; /* NULL, or an older build's "recent" part (key ->
                           value): moved to main at open */
} hashidx_dbs_t;

struct hashidx_slot;
struct hashidx_frozen;

typedef struct hashidx {
    store_t *st;
    MDB_dbi main, log[2];
    char moved_name[48]; /* meta counter: frozen entries moved so far */

    int active;        /* the log new entries go to */
    size_t active_n;   /* entries in it */
    uint64_t next_seq; /* of the next entry; both logs share the count */
    size_t main_n;     /* entries in main, as of the last move */

    /* Every entry in either log: key hash -> sequence number and log. */
    struct hashidx_slot *slots;
    size_t nslots, nused; /* nslots: a power of two */

    /* The frozen log's entries in key order; frozen_log < 0: none. */
    int frozen_log;
    struct hashidx_frozen *frozen;
    size_t nfrozen, frozen_cap, moved;
    uint8_t *fvals; /* their values, one after another */
    size_t fvals_len, fvals_cap;

    uint64_t touched; /* write transaction that last changed the memory */
    bool stale;       /* the last read of the logs failed: read again */

    bloom_t filter;   /* keys that may be in the index */
    uint64_t skipped; /* lookups the filter answered alone */
    uint64_t reloads; /* times the logs were read again after an abort */
} hashidx_t;

/*
 * Opens the index over dbs (st outlives it), moving any legacy entries to
 * main first, and reads the logs and every key. Returns 0, KY_ENOMEM,
 * KY_EINVAL (names too long) or a store error.
 */
int hashidx_open(hashidx_t *ix, store_t *st, const hashidx_dbs_t *dbs);

/* Frees the memory; accepts an index never opened (zeroed). */
void hashidx_close(hashidx_t *ix);

/*
 * Reads key's value, valid until txn ends. Returns 0, KY_ENOTFOUND,
 * KY_ENOMEM or a store error.
 */
int hashidx_get(MDB_txn *txn, hashidx_t *ix, const void *key, size_t klen,
                MDB_val *val);

/* hashidx_get() and unpack as desc (caller frees). Also KY_EDECODE. */
int hashidx_get_msg(MDB_txn *txn, hashidx_t *ix, const void *key, size_t klen,
                    const ProtobufCMessageDescriptor *desc,
                    ProtobufCMessage **out);

/*
 * Sets key to val (replacing any value). Returns 0, KY_EINVAL (key
 * length), KY_ENOMEM or a store error; after an error, abort txn.
 */
int hashidx_put(MDB_txn *txn, hashidx_t *ix, const void *key, size_t klen,
                const void *val, size_t vlen);

/* hashidx_put() of msg packed. */
int hashidx_put_msg(MDB_txn *txn, hashidx_t *ix, const void *key, size_t klen,
                    const ProtobufCMessage *msg);

/*
 * Entries in the index: a key put again, while its older entry is still
 * in a log or already in main, counts twice until the move. 0 when the
 * store fails.
 */
size_t hashidx_count(MDB_txn *txn, hashidx_t *ix);

#endif
