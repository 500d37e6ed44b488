/*
 * merge_fold.c - how one customer file folds into another (merge.h): on
 * the two files' JSON documents, so that the merge's changes are diffed
 * and undone like any other.
 */
#include "merge.h"

#include "err.h"
#include "file_apply.h"
#include "file_doc.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* file_doc_list_add() of a new reference. */
static int list_add(json_t *doc, const char *path, json_t *value)
{
    int rc = value ? file_doc_list_add(doc, path, value) : KY_ENOMEM;

    json_decref(value);
    return rc;
}

static int fold_sources(json_t *keep, const json_t *merge)
{
    const json_t *theirs = json_object_get(merge, "sources");
    int rc = KY_OK;

    for (size_t i = 0; rc == KY_OK && i < json_array_size(theirs); i++)
        rc = file_doc_list_add(keep, "sources", json_array_get(theirs, i));
    return rc;
}

/* keep's last contact becomes the later of the two. */
static int fold_last_contact(json_t *keep, const json_t *merge)
{
    const json_t *theirs = json_object_get(merge, "lastContactAt");

    if (theirs == NULL || file_ts_ms(theirs) <= file_ts_ms(json_object_get(
                                                    keep, "lastContactAt")))
        return KY_OK;
    return file_doc_set(keep, "lastContactAt", theirs);
}

/*
 * Fills keep's gaps from merge: the profile (its ways to reach the person
 * that keep has others of go to keep's other contacts), next step, note.
 */
static int fold_gaps(json_t *keep, const json_t *merge)
{
    json_t *theirs = json_deep_copy(json_object_get(merge, "profile"));
    json_t *ours = json_object_get(keep, "profile");
    json_t *gaps = NULL;
    int rc = KY_OK;

    if (theirs && ours)
        rc = file_apply_contact_ways(ours, theirs, true);
    gaps = json_pack("{s:o*, s:O*, s:O*}", "profile", theirs, "nextStep",
                     json_object_get(merge, "nextStep"), "note",
                     json_object_get(merge, "note"));
    if (gaps == NULL)
        return KY_ENOMEM;
    if (rc == KY_OK)
        rc = file_doc_merge(keep, gaps, &keyuan__v1__customer_view__descriptor,
                            true);
    json_decref(gaps);
    return rc;
}

int merge_fold(json_t *keep, const json_t *merge, uint64_t merge_id)
{
    char id[24];
    int rc;

    snprintf(id, sizeof id, "%" PRIu64, merge_id);
    if ((rc = fold_gaps(keep, merge)) != KY_OK ||
        (rc = fold_sources(keep, merge)) != KY_OK ||
        (rc = fold_last_contact(keep, merge)) != KY_OK)
        return rc;
    return list_add(keep, "mergedFrom", json_string(id));
}
