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
 * The two databases keep the entries that were put, so a store written
 * before this module (with main only) reads the same. Entries are never
 * deleted: nothing deletes them yet (erasure will need a tombstone that
 * shadows main until the next move).
 */
#ifndef KEYUAN_HASHIDX_H
#define KEYUAN_HASHIDX_H

#include "store.h"

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

/* recent holds at least this many entries before they move to main... */
#define HASHIDX_RECENT_MIN 8192
/* ...and at least main's entries divided by this. */
#define HASHIDX_RECENT_SHARE 8

typedef struct hashidx {
    MDB_dbi recent; /* new entries, moved to main in bulk */
    MDB_dbi main;   /* the rest */
} hashidx_t;

/*
 * The index over the databases named main and recent, both opened with
 * the store (pass the names given to store_open()). The store outlives
 * the index.
 */
hashidx_t hashidx_of(const store_t *st, const char *main, const char *recent);

/*
 * Reads key's value, valid until txn ends. Returns 0, KY_ENOTFOUND or
 * KY_ESTORE.
 */
int hashidx_get(MDB_txn *txn, const hashidx_t *ix, const void *key, size_t klen,
                MDB_val *val);

/* hashidx_get() and unpack as desc (caller frees). Also KY_EDECODE. */
int hashidx_get_msg(MDB_txn *txn, const hashidx_t *ix, const void *key,
                    size_t klen, const ProtobufCMessageDescriptor *desc,
                    ProtobufCMessage **out);

/*
 * Sets key to val (replacing any value), and moves recent into main when
 * it has grown past its limit. Returns 0 or a store error.
 */
int hashidx_put(MDB_txn *txn, const hashidx_t *ix, const void *key, size_t klen,
                const void *val, size_t vlen);

/* hashidx_put() of msg packed. */
int hashidx_put_msg(MDB_txn *txn, const hashidx_t *ix, const void *key,
                    size_t klen, const ProtobufCMessage *msg);

/* Entries in the index (those in both parts counted twice: rare). */
size_t hashidx_count(MDB_txn *txn, const hashidx_t *ix);

#endif
