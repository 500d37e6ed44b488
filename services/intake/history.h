/*
 * history.h - what happened to a customer file: its Change records and
 * its contact log.
 *
 * Both are append-only and keyed (customer id, entry id): entry ids come
 * from store_next_id(), so they grow with time across all customers, and
 * erasing a customer is a delete of every key with its id as prefix.
 */
#ifndef KEYUAN_HISTORY_H
#define KEYUAN_HISTORY_H

#include "file_store.h"

#include <jansson.h>

/* Entries a view carries when its query sets no limit, and at most. */
#define HISTORY_CONTACTS_DEFAULT 20
#define HISTORY_CHANGES_DEFAULT 50
#define HISTORY_LIMIT_MAX 1000

/*
 * Records a Change of file id: why it changed and fields, an array of
 * FieldChange JSON objects (file_doc_diff()). Returns 0 or <0.
 */
int history_add(file_db_t *db, MDB_txn *txn, uint64_t id,
                const file_event_t *why, const json_t *fields);

/*
 * Records the Change that made file (file_new.h): the file itself rather
 * than one FieldChange per field, which is what made writing it cost. It
 * reads back as the fields (history_change_unpack()). Returns 0 or <0.
 */
int history_add_created(file_db_t *db, MDB_txn *txn, uint64_t id,
                        const file_event_t *why,
                        const Keyuan__V1__CustomerView *file);

/*
 * Unpacks a stored Change (caller frees), a created file turned into its
 * fields from nothing, so that every Change read has fields. NULL when
 * the bytes are not a Change or memory ran out.
 */
Keyuan__V1__Change *history_change_unpack(const void *data, size_t len);

/* Appends msg under (id, a new entry id) in dbi. Returns 0 or <0. */
int history_append(file_db_t *db, MDB_txn *txn, MDB_dbi dbi, uint64_t id,
                   const ProtobufCMessage *msg);

/*
 * The newest entries (at most limit) of the customers ids[0..n) in dbi,
 * newest first, unpacked as desc into an svc-allocated array *out of
 * *nout messages that live until the reply is sent. Returns 0 or <0.
 */
int history_recent(file_db_t *db, MDB_txn *txn, MDB_dbi dbi,
                   const uint64_t *ids, size_t n, size_t limit,
                   const ProtobufCMessageDescriptor *desc,
                   ProtobufCMessage ***out, size_t *nout);

#endif
