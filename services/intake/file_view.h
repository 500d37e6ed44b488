/*
 * file_view.h - what a customer file shows: to operators as a
 * CustomerView, to grading as a CustomerSnapshot.
 *
 * A file that others were merged into shows their contacts and history
 * beside its own (those records stay under the merged files' ids, see
 * merge.h), and its contact count adds theirs.
 */
#ifndef KEYUAN_FILE_VIEW_H
#define KEYUAN_FILE_VIEW_H

#include "file_store.h"
#include "validate.h"

#include <jansson.h>
#include <stdbool.h>

/*
 * The customer query q names: by id as given, or by a mobile number in
 * any form intake accepts. Returns 0 with *id, KY_ENOTFOUND when no file
 * has that number, KY_EINVAL with *f when it is no phone number, or <0.
 */
int file_view_find(file_db_t *db, MDB_txn *txn,
                   const Keyuan__V1__CustomerQuery *q, uint64_t *id,
                   check_fail_t *f);

/*
 * Builds the view of file id for query q into *out (svc memory, valid
 * until the reply is sent). Returns 0, KY_ENOTFOUND or <0.
 */
int file_view(file_db_t *db, MDB_txn *txn, uint64_t id,
              const Keyuan__V1__CustomerQuery *q,
              Keyuan__V1__CustomerView **out);

/*
 * Queues a snapshot of doc (a file, file_doc.h) for grading, without
 * personal data, in txn. cause says what changed it ("lead", ...).
 * Returns 0 or <0; 0 also when intake has no downstream.
 */
int file_snapshot(file_db_t *db, MDB_txn *txn, const json_t *doc, bool is_new,
                  const char *cause);

/* file_snapshot() of a file already in its CustomerView form. */
int file_snapshot_view(file_db_t *db, MDB_txn *txn,
                       const Keyuan__V1__CustomerView *v, bool is_new,
                       const char *cause);

#endif
