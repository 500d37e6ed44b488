/*
 * hashidx.h - an LMDB index keyed by hashes that writes mostly in key order.
 *
 * A key that is a hash (of a phone number, of a source's event id) lands
 * at a random place in a B-tree, so every put of a batch dirties a 4 KiB
 * page of its own, and LMDB writes every dirty page at commit. In intake
 * that was three quarters of the bytes written per lead, and the disk,
 * not the CPU, set the pace.
 *
 * So a hash index is two databases. New entries go to a small "recent"
 * one, whose few pages many entries of a batch share. When it holds more
 * than a limit, every entry in it is moved to the "main" one in key
 * order, in the same transaction, so that each page of main is dirtied
 * once for many entries. A lookup reads recent, then main: an entry in
 * recent is newer and wins.
 *
 * Most lookups are for keys that are not there (a new lead's phone and
 * event id), and each costs a walk down both trees, the large one mostly
 * outside the CPU's caches. So the index also keeps, in memory, a Bloom
 * filter of every key in either part: a key it has never seen is
 * answered "not found" without touching the store. It is rebuilt from
 * the store at open and when it grows; a key put in a transaction that
 * is then rolled back stays in it, which only costs a lookup. (A filter
 * this small is written here: no Debian library offers one.)
 *
 * The two databases keep the entries that were put, so a store written
 * before this module (with main only) reads the same. Entries are never
 * deleted: nothing deletes them yet (erasure will need a tombstone that
 * shadows main until the next move).
 */
#ifndef KEYUAN_HASHIDX_H
#define KEYUAN_HASHIDX_H

#include "store.h"

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* recent holds at least this many entries before they move to main... */
#define HASHIDX_RECENT_MIN 8192
/* ...and at least main's entries divided by this. */
#define HASHIDX_RECENT_SHARE 8
/* ...but never more than this: the batch that moves them waits. */
#define HASHIDX_RECENT_MAX 65536

typedef struct hashidx {
    MDB_dbi recent;   /* new entries, moved to main in bulk */
    MDB_dbi main;     /* the rest */
    uint64_t *bits;   /* the filter: keys that may be in the index */
    size_t nbits;     /* a power of two */
    size_t nkeys;     /* keys added to the filter */
    uint64_t skipped; /* lookups the filter answered alone */
} hashidx_t;

/*
 * Opens the index over the databases named main and recent, both opened
 * with st (pass the names given to store_open()), and reads every key
 * into its filter. st outlives the index. Returns 0, KY_ENOMEM or a store
 * error.
 */
int hashidx_open(hashidx_t *ix, store_t *st, const char *main,
                 const char *recent);

/* Frees the filter; accepts an index never opened (zeroed). */
void hashidx_close(hashidx_t *ix);

/*
 * Reads key's value, valid until txn ends. Returns 0, KY_ENOTFOUND or
 * KY_ESTORE.
 */
int hashidx_get(MDB_txn *txn, hashidx_t *ix, const void *key, size_t klen,
                MDB_val *val);

/* hashidx_get() and unpack as desc (caller frees). Also KY_EDECODE. */
int hashidx_get_msg(MDB_txn *txn, hashidx_t *ix, const void *key, size_t klen,
                    const ProtobufCMessageDescriptor *desc,
                    ProtobufCMessage **out);

/*
 * Sets key to val (replacing any value), and moves recent into main when
 * it has grown past its limit. Returns 0 or a store error.
 */
int hashidx_put(MDB_txn *txn, hashidx_t *ix, const void *key, size_t klen,
                const void *val, size_t vlen);

/* hashidx_put() of msg packed. */
int hashidx_put_msg(MDB_txn *txn, hashidx_t *ix, const void *key, size_t klen,
                    const ProtobufCMessage *msg);

/* Entries in the index (those in both parts counted twice: rare). */
size_t hashidx_count(MDB_txn *txn, const hashidx_t *ix);

#endif
