/*
 * merge.h - an operator joins two customer files, and may part them again.
 *
 * Merging folds file merge_id into file keep_id:
 *   - keep_id's profile keeps its values and takes merge_id's where it
 *     has none; merge_id's mobile, WeChat id and e-mail, when they differ
 *     from keep_id's, are added to keep_id's other contacts; sources are
 *     united; keep_id takes merge_id's next step when it has none, and
 *     the later of the two last contacts;
 *   - every identifier that found merge_id now finds keep_id, so a later
 *     lead for merge_id's phone updates keep_id;
 *   - merge_id's contacts and history stay where they are, under its own
 *     id, and keep_id's view reads them too (file_view.h). Moving them
 *     would rewrite every record of a long file, and moving them back on
 *     an unmerge would need to tell them from those logged since; left in
 *     place, both are free, and erasing keep_id follows merged_from;
 *   - merge_id's file is marked merged_into and changes no more: contacts
 *     and updates that name it apply to keep_id;
 *   - grading gets a snapshot of keep_id (cause "merge"), and one of
 *     merge_id with merged_into set (cause "merged") on which the
 *     scheduler cancels merge_id's pending follow-ups: keep_id's plan
 *     covers the customer from then on.
 * A MergeRecord keeps both files' stored records byte for byte as they
 * were, keep_id's as the merge left them, the merge's changes to keep_id
 * and the identifiers it moved.
 *
 * Unmerging restores merge_id's records byte for byte and points its
 * identifiers back at it. keep_id's records are restored byte for byte
 * when nothing changed keep_id since the merge. Otherwise what happened
 * after the merge stays on keep_id: the merge's own changes are undone
 * where keep_id still has the merged values, and later ones are kept
 * (file_doc_undo()); contacts logged and identifiers learnt since stay
 * with keep_id. Both files get a snapshot (cause "unmerge"); merge_id's
 * cadence starts again from it, though follow-ups cancelled by the merge
 * (speed-to-lead, a next step) are not planned again.
 */
#ifndef KEYUAN_MERGE_H
#define KEYUAN_MERGE_H

#include "file_store.h"
#include "validate.h"

/*
 * Merges as req says. Returns 0 when done, KY_EEXISTS
 * when merge_id was already merged into keep_id, KY_EINVAL with *f saying
 * why the merge is refused, or a store error.
 */
int merge_files(file_db_t *db, MDB_txn *txn,
                const Keyuan__V1__MergeRequest *req, check_fail_t *f);

/*
 * Undoes the merge of req->merge_id. Returns 0 when done (*keep_id: the
 * file it was merged into), KY_EINVAL with *f, or a store error.
 */
int merge_undo(file_db_t *db, MDB_txn *txn,
               const Keyuan__V1__UnmergeRequest *req, check_fail_t *f,
               uint64_t *keep_id);

/*
 * The fold itself, on documents (file_doc.h): merge, a file, into keep,
 * as described above. Returns 0 or KY_ENOMEM.
 */
int merge_fold(json_t *keep, const json_t *merge, uint64_t merge_id);

#endif
