/*
 * file_store.h - customer files in intake's store.
 *
 * A file is kept as two records under its customer id: "customers" holds
 * a CustomerFile (everything but personal data: ownership, sources, times,
 * needs and consent), "persons" a CustomerPerson (the rest of the profile
 * and the source's note). Loaded, the two become one JSON document in the
 * shape of CustomerView (file_doc.h); saved, the document is split again
 * by the two messages' fields, so no field is copied by hand.
 *
 * Every change goes through file_commit(): it diffs the document before
 * and after, stores the file and records the difference as a Change in
 * the file's history (history.h). A change that changes nothing is not
 * stored at all.
 */
#ifndef KEYUAN_FILE_STORE_H
#define KEYUAN_FILE_STORE_H

#include "hashidx.h"
#include "ident.h"
#include "svc.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* The store and the databases a customer file lives in. */
typedef struct file_db {
    svc_t *svc;          /* for per-message memory and the outbox */
    store_t *st;         /* intake's store */
    const ident_t *keys; /* the identity index hash key */
    MDB_dbi customers;   /* id -> CustomerFile */
    MDB_dbi persons;     /* id -> CustomerPerson */
    MDB_dbi history;     /* (id, change id) -> Change */
    MDB_dbi contacts;    /* (id, contact id) -> ContactLog */
    hashidx_t ident;     /* identifier hash -> id */
    MDB_dbi owned;       /* (id, identifier hash) -> "" */
    MDB_dbi merges;      /* merged id -> MergeRecord */
} file_db_t;

/* Why a file changed, for its history. Strings are borrowed. */
typedef struct file_event {
    const char *kind;   /* "lead", "profile", "contact", "merge", ... */
    const char *source; /* the event's source, or the operator */
    const char *source_event_id;
} file_event_t;

/* Writes id as an 8-byte big-endian key. */
void file_key(uint8_t key[8], uint64_t id);

/* A Timestamp's JSON (an RFC 3339 string) for ms; NULL when out of memory. */
json_t *file_ts_json(int64_t ms);

/* ms since the epoch of a Timestamp's JSON; 0 when json is not one. */
int64_t file_ts_ms(const json_t *json);

/*
 * Loads file id into *doc (caller decrefs). Returns 0, KY_ENOTFOUND when
 * there is no such file, or a store error.
 */
int file_load(file_db_t *db, MDB_txn *txn, uint64_t id, json_t **doc);

/* Splits doc into its two records and stores them. Returns 0 or <0. */
int file_save(file_db_t *db, MDB_txn *txn, uint64_t id, const json_t *doc);

/*
 * The file that id's file was merged into, following merges; id itself
 * when it was not merged. Returns 0, KY_ENOTFOUND or a store error.
 */
int file_resolve(file_db_t *db, MDB_txn *txn, uint64_t id, uint64_t *target);

/*
 * Stores after as file id when it differs from before (ignoring
 * updatedAt, which it sets), and records what changed as a Change of why.
 * after is pruned of empty objects. *changed says whether anything was
 * stored; when fields is not NULL it receives the FieldChange JSON array
 * (caller decrefs). Returns 0 or <0.
 */
int file_commit(file_db_t *db, MDB_txn *txn, uint64_t id, const json_t *before,
                json_t *after, const file_event_t *why, bool *changed,
                json_t **fields);

/*
 * Records in file id's history, as a Change of why, what differs from
 * before to after (updatedAt aside); records nothing when nothing does.
 * Stores neither document. Returns 0 or <0.
 */
int file_log_change(file_db_t *db, MDB_txn *txn, uint64_t id,
                    const json_t *before, const json_t *after,
                    const file_event_t *why);

/*
 * The stored records of file id as bytes, copied into svc memory; an
 * absent record is empty. Returns 0, KY_ENOTFOUND (no CustomerFile) or a
 * store error.
 */
int file_raw_get(file_db_t *db, MDB_txn *txn, uint64_t id,
                 ProtobufCBinaryData *file, ProtobufCBinaryData *person);

/* Writes the stored records of file id back byte for byte. */
int file_raw_put(file_db_t *db, MDB_txn *txn, uint64_t id,
                 const ProtobufCBinaryData *file,
                 const ProtobufCBinaryData *person);

#endif
