/*
 * store.h - one LMDB environment per service, with named databases.
 *
 * Every store has three databases of its own besides the service's:
 *   meta    small named counters (last id, link epoch, test clock, ...)
 *   outbox  messages waiting for a downstream ack, keyed by sequence
 *   peers   per upstream sender: its epoch and the last sequence applied
 * so that a state change, the message it causes and the ack it owes commit
 * in one write transaction.
 *
 * Commits are durable (no MDB_NOSYNC): services batch many messages into
 * one transaction so that one fsync covers them all.
 */
#ifndef KEYUAN_STORE_H
#define KEYUAN_STORE_H

#include <lmdb.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct store store_t;

#define STORE_MAX_DBS 24

/*
 * Opens (creating if needed) the environment in directory dir and the
 * databases named in the NULL-terminated list names. map_mb is the largest
 * size the data may grow to. Returns the store, or NULL with *err set.
 */
store_t *store_open(const char *dir, const char *const *names, size_t map_mb,
                    int *err);

/* Closes the environment and nulls *sp; accepts NULL or *sp == NULL. */
void store_destroy(store_t **sp);

MDB_env *store_env(const store_t *st);

/* The handle of a database named at open (or meta/outbox/peers). */
MDB_dbi store_db(const store_t *st, const char *name);

/* A random id chosen when the store was created. */
uint64_t store_epoch(const store_t *st);

/*
 * Begins a transaction (a child of parent when parent is not NULL).
 * readonly selects a read transaction. Returns 0 or KY_ESTORE.
 *
 * A top-level write transaction keeps the meta values it reads or sets
 * in memory and writes them at store_commit(): commit it with that, not
 * mdb_txn_commit(), or its meta changes are lost. (mdb_txn_abort() is
 * fine.) A nested transaction writes them back first and reads meta from
 * the database.
 */
int store_begin(store_t *st, MDB_txn *parent, bool readonly, MDB_txn **txn);

/*
 * Writes the meta values txn cached, then commits it durably. Returns 0
 * or KY_ESTORE/KY_EFULL (txn is gone either way).
 */
int store_commit(MDB_txn *txn);

/* Aborts txn, noting it for store_gen_aborted(). */
void store_abort(MDB_txn *txn);

/*
 * The number of the open top-level write transaction, 0 when none is
 * open. Each store_begin() of one takes the next number.
 */
uint64_t store_write_gen(const store_t *st);

/*
 * Whether the top-level write transaction numbered gen, now ended, may
 * not have committed: true for one aborted or whose commit failed, and
 * also (erring that way) for one numbered before the last such. A
 * transaction ended by mdb_txn_abort() rather than store_abort() is
 * known as aborted only once the next write transaction begins.
 */
bool store_gen_aborted(const store_t *st, uint64_t gen);

/*
 * Reads key; the value stays valid until the transaction ends.
 * Returns 0, KY_ENOTFOUND or KY_ESTORE.
 */
int store_get(MDB_txn *txn, MDB_dbi db, const void *key, size_t klen,
              MDB_val *val);

/*
 * Writes key=value. flags are LMDB put flags. Returns 0, KY_EEXISTS (with
 * MDB_NOOVERWRITE), KY_EFULL or KY_ESTORE.
 */
int store_put(MDB_txn *txn, MDB_dbi db, const void *key, size_t klen,
              const void *val, size_t vlen, unsigned flags);

/* Packs msg straight into the database page (no temporary buffer). */
int store_put_msg(MDB_txn *txn, MDB_dbi db, const void *key, size_t klen,
                  const ProtobufCMessage *msg);

/*
 * store_put_msg() of a key expected to sort after every key in db (a new
 * time-ordered id): LMDB appends it without searching the tree, about
 * half the work of a put. A key that is not last is put the usual way.
 */
int store_append_msg(MDB_txn *txn, MDB_dbi db, const void *key, size_t klen,
                     const ProtobufCMessage *msg);

/*
 * Unpacks a stored value as desc into *out (free with
 * protobuf_c_message_free_unpacked). Returns 0, or KY_EDECODE (logged).
 */
int store_unpack(const MDB_val *v, const ProtobufCMessageDescriptor *desc,
                 ProtobufCMessage **out);

/*
 * Reads key and unpacks it as desc into *out (free with
 * protobuf_c_message_free_unpacked). Returns 0, KY_ENOTFOUND, KY_EDECODE.
 */
int store_get_msg(MDB_txn *txn, MDB_dbi db, const void *key, size_t klen,
                  const ProtobufCMessageDescriptor *desc,
                  ProtobufCMessage **out);

/* Deletes key; a missing key is not an error. */
int store_del(MDB_txn *txn, MDB_dbi db, const void *key, size_t klen);

/*
 * A named 64-bit counter in meta; 0 when it was never set. Within a
 * top-level write transaction both work on a copy in memory, written at
 * store_commit() (see store_begin()); names of 48 bytes or more, and a
 * ninth name, go to the database each time.
 */
int store_meta_get(store_t *st, MDB_txn *txn, const char *name, uint64_t *v);
int store_meta_put(store_t *st, MDB_txn *txn, const char *name, uint64_t v);

/*
 * A new id that grows with time: the clock in ms shifted left 20 bits, plus
 * one whenever that would not exceed the last id given. Ids never repeat,
 * even across restarts or a clock that steps back. Keys made of such ids
 * append to the end of an LMDB tree, which is what makes batched writes
 * fast. Returns 0 or a store error.
 */
int store_next_id(store_t *st, MDB_txn *txn, uint64_t *id);

/* Number of entries in db as seen by txn. */
uint64_t store_count(MDB_txn *txn, MDB_dbi db);

/* Maps an LMDB return code to a KY_E* code, logging unexpected ones. */
int store_err(int rc, const char *what);

#endif
