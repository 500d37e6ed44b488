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

/* history_add() of fields already in their protobuf form. */
int history_add_fields(file_db_t *db, MDB_txn *txn, uint64_t id,
                       const file_event_t *why,
                       Keyuan__V1__FieldChange **fields, size_t n);

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
