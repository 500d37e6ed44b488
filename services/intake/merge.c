/*
 * merge.c - merging two customer files and undoing it (see merge.h for
 * the rules). Each runs in the write transaction of its request.
 */
#include "merge.h"

#include "clock.h"
#include "err.h"
#include "file_doc.h"
#include "file_ident.h"
#include "file_view.h"
#include "logger.h"
#include "pbjson.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef Keyuan__V1__MergeRecord MergeRecord;

/* The two files of a merge as they are now. */
typedef struct pair {
    json_t *keep;  /* keep_id's document */
    json_t *merge; /* merge_id's document */
} pair_t;

static int refuse(check_fail_t *f, const char *code, const char *field,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int refuse(check_fail_t *f, const char *code, const char *field,
                  const char *fmt, ...)
{
    va_list ap;
    int n;

    f->code = code;
    f->field = field;
    n = snprintf(f->message, sizeof f->message, "%s: ", field);
    va_start(ap, fmt);
    vsnprintf(f->message + n, sizeof f->message - (size_t)n, fmt, ap);
    va_end(ap);
    return KY_EINVAL;
}

static uint64_t merged_into(const json_t *doc)
{
    const char *s = json_string_value(json_object_get(doc, "mergedInto"));

    return s ? strtoull(s, NULL, 10) : 0;
}

/* Who a merge's history entries name as their source. */
static const char *operator_of(const char *operator_id)
{
    return *operator_id ? operator_id : "operator";
}

static void key8(uint8_t key[8], uint64_t id)
{
    wire_put_u64(key, id);
}

/* Loads a file of the merge; refuses when there is none. */
static int side_load(file_db_t *db, MDB_txn *txn, uint64_t id,
                     const char *field, json_t **doc, check_fail_t *f)
{
    int rc;

    if (id == 0)
        return refuse(f, "missing_field", field, "is required");
    rc = file_load(db, txn, id, doc);
    if (rc == KY_ENOTFOUND)
        return refuse(f, "not_found", field, "no customer %llu",
                      (unsigned long long)id);
    return rc;
}

/* Loads both files and checks that they may be merged. */
static int merge_check(file_db_t *db, MDB_txn *txn,
                       const Keyuan__V1__MergeRequest *req, pair_t *p,
                       check_fail_t *f)
{
    uint64_t into;
    int rc;

    if ((rc = side_load(db, txn, req->keep_id, "keepId", &p->keep, f)) ||
        (rc = side_load(db, txn, req->merge_id, "mergeId", &p->merge, f)))
        return rc;
    if (req->keep_id == req->merge_id)
        return refuse(f, "invalid_merge", "mergeId", "is keepId");
    into = merged_into(p->merge);
    if (into == req->keep_id)
        return KY_EEXISTS;
    if (into)
        return refuse(f, "already_merged", "mergeId", "was merged into %llu",
                      (unsigned long long)into);
    if ((into = merged_into(p->keep)) != 0)
        return refuse(f, "already_merged", "keepId",
                      "was merged into %llu: merge into that file",
                      (unsigned long long)into);
    return KY_OK;
}

/* Keeps the merge's changes to keep_id in rec as FieldChange messages. */
static int record_changes(file_db_t *db, MergeRecord *rec, const json_t *fields)
{
    size_t n = json_array_size(fields);

    rec->keep_changes = svc_alloc(db->svc, (n + 1) * sizeof(void *));
    for (size_t i = 0; i < n; i++) {
        ProtobufCMessage *fc;
        int rc = pbjson_to_message(&keyuan__v1__field_change__descriptor,
                                   json_array_get(fields, i), &fc, NULL, 0);

        if (rc)
            return rc;
        svc_defer_free(db->svc, fc);
        rec->keep_changes[rec->n_keep_changes++] =
            (Keyuan__V1__FieldChange *)fc;
    }
    return KY_OK;
}

/* The merge's changes to keep_id, back as FieldChange JSON. */
static json_t *recorded_changes(const MergeRecord *rec)
{
    json_t *out = json_array();

    for (size_t i = 0; out && i < rec->n_keep_changes; i++)
        if (json_array_append_new(
                out, pbjson_from_message(&rec->keep_changes[i]->base))) {
            json_decref(out);
            out = NULL;
        }
    return out;
}

/* Folds the merge into keep_id and records the keep side in rec. */
static int merge_keep(file_db_t *db, MDB_txn *txn, MergeRecord *rec,
                      const pair_t *p, const file_event_t *why, json_t **after)
{
    json_t *fields = NULL;
    bool changed;
    int rc;

    if ((*after = json_deep_copy(p->keep)) == NULL)
        return KY_ENOMEM;
    if ((rc = merge_fold(*after, p->merge, rec->merge_id)) != KY_OK ||
        (rc = file_commit(db, txn, rec->keep_id, p->keep, *after, why, &changed,
                          &fields)) != KY_OK)
        return rc;
    rc = record_changes(db, rec, fields);
    json_decref(fields);
    if (rc == KY_OK)
        rc = file_raw_get(db, txn, rec->keep_id, &rec->keep_file_after,
                          &rec->keep_person_after);
    return rc;
}

/* Marks merge_id merged and points its identifiers at keep_id. */
static int merge_away(file_db_t *db, MDB_txn *txn, MergeRecord *rec,
                      const pair_t *p, const file_event_t *why, json_t **after)
{
    char into[24];
    bool changed;
    int rc;

    snprintf(into, sizeof into, "%llu", (unsigned long long)rec->keep_id);
    if ((*after = json_deep_copy(p->merge)) == NULL ||
        json_object_set_new(*after, "mergedInto", json_string(into)) != 0)
        return KY_ENOMEM;
    rc = file_commit(db, txn, rec->merge_id, p->merge, *after, why, &changed,
                     NULL);
    if (rc == KY_OK)
        rc = file_ident_move(db, txn, rec->merge_id, rec->keep_id,
                             &rec->ident_keys, &rec->n_ident_keys);
    return rc;
}

/* Fills rec with what the merge will need to be undone. */
static int record_start(file_db_t *db, MDB_txn *txn, MergeRecord *rec,
                        const Keyuan__V1__MergeRequest *req)
{
    Google__Protobuf__Timestamp *at = svc_alloc(db->svc, sizeof *at);
    int rc;

    google__protobuf__timestamp__init(at);
    wire_ts_set(at, clock_now_ms());
    rec->keep_id = req->keep_id;
    rec->merge_id = req->merge_id;
    rec->merged_at = at;
    rec->operator_id = req->operator_id;
    rc =
        file_raw_get(db, txn, req->keep_id, &rec->keep_file, &rec->keep_person);
    if (rc == KY_OK)
        rc = file_raw_get(db, txn, req->merge_id, &rec->merge_file,
                          &rec->merge_person);
    return rc;
}

int merge_files(file_db_t *db, MDB_txn *txn,
                const Keyuan__V1__MergeRequest *req, check_fail_t *f)
{
    MergeRecord rec = KEYUAN__V1__MERGE_RECORD__INIT;
    file_event_t why = {"merge", operator_of(req->operator_id), NULL};
    pair_t p = {NULL, NULL};
    json_t *keep_after = NULL, *merge_after = NULL;
    uint8_t key[8];
    int rc = merge_check(db, txn, req, &p, f);

    if (rc)
        goto done;
    if ((rc = record_start(db, txn, &rec, req)) != KY_OK ||
        (rc = merge_keep(db, txn, &rec, &p, &why, &keep_after)) != KY_OK ||
        (rc = merge_away(db, txn, &rec, &p, &why, &merge_after)) != KY_OK)
        goto done;
    key8(key, req->merge_id);
    if ((rc = store_put_msg(txn, db->merges, key, 8, &rec.base)) != KY_OK ||
        (rc = file_snapshot(db, txn, keep_after, false, "merge")) != KY_OK)
        goto done;
    rc = file_snapshot(db, txn, merge_after, false, "merged");

done:
    json_decref(keep_after);
    json_decref(merge_after);
    json_decref(p.keep);
    json_decref(p.merge);
    return rc;
}

/* ---- unmerge ---------------------------------------------------------- */

static bool same_bytes(const ProtobufCBinaryData *a,
                       const ProtobufCBinaryData *b)
{
    return a->len == b->len &&
           (a->len == 0 || !memcmp(a->data, b->data, a->len));
}

/* Writes id's records back from bytes, recording the change. */
static int restore_raw(file_db_t *db, MDB_txn *txn, uint64_t id,
                       const ProtobufCBinaryData *file,
                       const ProtobufCBinaryData *person,
                       const file_event_t *why)
{
    json_t *before = NULL, *after = NULL;
    int rc = file_load(db, txn, id, &before);

    if (rc == KY_OK && (rc = file_raw_put(db, txn, id, file, person)) == 0 &&
        (rc = file_load(db, txn, id, &after)) == KY_OK)
        rc = file_log_change(db, txn, id, before, after, why);
    json_decref(before);
    json_decref(after);
    return rc;
}

/* keep_id as it was, or without the merge's changes if it changed since. */
static int restore_keep(file_db_t *db, MDB_txn *txn, const MergeRecord *rec,
                        const file_event_t *why)
{
    ProtobufCBinaryData file, person;
    json_t *before = NULL, *after = NULL, *fields = NULL;
    bool changed;
    int rc = file_raw_get(db, txn, rec->keep_id, &file, &person);

    if (rc)
        return rc;
    if (same_bytes(&file, &rec->keep_file_after) &&
        same_bytes(&person, &rec->keep_person_after))
        return restore_raw(db, txn, rec->keep_id, &rec->keep_file,
                           &rec->keep_person, why);

    if ((rc = file_load(db, txn, rec->keep_id, &before)) == KY_OK) {
        after = json_deep_copy(before);
        fields = recorded_changes(rec);
        rc = after && fields ? file_doc_undo(after, fields) : KY_ENOMEM;
    }
    if (rc == KY_OK)
        rc = file_commit(db, txn, rec->keep_id, before, after, why, &changed,
                         NULL);
    json_decref(before);
    json_decref(after);
    json_decref(fields);
    return rc;
}

/* Loads the merge record of merge_id and checks it may be undone. */
static int unmerge_check(file_db_t *db, MDB_txn *txn, uint64_t merge_id,
                         MergeRecord **rec, check_fail_t *f)
{
    json_t *keep = NULL;
    uint8_t key[8];
    uint64_t into;
    int rc;

    if (merge_id == 0)
        return refuse(f, "missing_field", "mergeId", "is required");
    key8(key, merge_id);
    rc = store_get_msg(txn, db->merges, key, 8,
                       &keyuan__v1__merge_record__descriptor,
                       (ProtobufCMessage **)rec);
    if (rc == KY_ENOTFOUND)
        return refuse(f, "not_merged", "mergeId",
                      "customer %llu is not merged into another",
                      (unsigned long long)merge_id);
    if (rc)
        return rc;
    svc_defer_free(db->svc, &(*rec)->base);
    if ((rc = file_load(db, txn, (*rec)->keep_id, &keep)) != KY_OK)
        return rc;
    into = merged_into(keep);
    json_decref(keep);
    if (into)
        return refuse(f, "keep_merged", "mergeId",
                      "customer %llu, which it was merged into, was merged "
                      "into %llu since: unmerge that first",
                      (unsigned long long)(*rec)->keep_id,
                      (unsigned long long)into);
    return KY_OK;
}

/* Sends grading a snapshot of file id as it is now. */
static int snapshot_of(file_db_t *db, MDB_txn *txn, uint64_t id)
{
    json_t *doc;
    int rc = file_load(db, txn, id, &doc);

    if (rc == KY_OK)
        rc = file_snapshot(db, txn, doc, false, "unmerge");
    json_decref(doc);
    return rc;
}

int merge_undo(file_db_t *db, MDB_txn *txn,
               const Keyuan__V1__UnmergeRequest *req, check_fail_t *f,
               uint64_t *keep_id)
{
    file_event_t why = {"unmerge", operator_of(req->operator_id), NULL};
    MergeRecord *rec;
    uint8_t key[8];
    int rc = unmerge_check(db, txn, req->merge_id, &rec, f);

    if (rc)
        return rc;
    *keep_id = rec->keep_id;
    key8(key, rec->merge_id);
    if ((rc = restore_raw(db, txn, rec->merge_id, &rec->merge_file,
                          &rec->merge_person, &why)) != KY_OK ||
        (rc = restore_keep(db, txn, rec, &why)) != KY_OK ||
        (rc = file_ident_repoint(db, txn, rec->ident_keys, rec->n_ident_keys,
                                 rec->keep_id, rec->merge_id)) != KY_OK ||
        (rc = store_del(txn, db->merges, key, 8)) != KY_OK ||
        (rc = snapshot_of(db, txn, rec->keep_id)) != KY_OK)
        return rc;
    return snapshot_of(db, txn, rec->merge_id);
}
