/* history.c - Change records and the contact log (see history.h). */
#include "history.h"

#include "clock.h"
#include "err.h"
#include "logger.h"
#include "pbjson.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One entry found by history_recent(). */
typedef struct entry {
    uint64_t id;
    ProtobufCMessage *msg;
} entry_t;

static void entry_key(uint8_t key[16], uint64_t customer, uint64_t id)
{
    wire_put_u64(key, customer);
    wire_put_u64(key + 8, id);
}

int history_append(file_db_t *db, MDB_txn *txn, MDB_dbi dbi, uint64_t id,
                   const ProtobufCMessage *msg)
{
    uint8_t key[16];
    uint64_t entry;
    int rc = store_next_id(db->st, txn, &entry);

    if (rc)
        return rc;
    entry_key(key, id, entry);
    return store_put_msg(txn, dbi, key, sizeof key, msg);
}

/* The Change as JSON; fields is borrowed (a reference is added). */
static json_t *change_json(uint64_t change_id, const file_event_t *why,
                           const json_t *fields)
{
    char id[24];

    snprintf(id, sizeof id, "%" PRIu64, change_id);
    return json_pack("{ss so* ss? ss? ss? sO}", "changeId", id, "at",
                     file_ts_json(clock_now_ms()), "source", why->source,
                     "sourceEventId", why->source_event_id, "kind", why->kind,
                     "fields", (json_t *)fields);
}

int history_add(file_db_t *db, MDB_txn *txn, uint64_t id,
                const file_event_t *why, const json_t *fields)
{
    ProtobufCMessage *change = NULL;
    uint8_t key[16];
    uint64_t change_id;
    json_t *json;
    char err[160];
    int rc = store_next_id(db->st, txn, &change_id);

    if (rc)
        return rc;
    if ((json = change_json(change_id, why, fields)) == NULL)
        return KY_ENOMEM;
    rc = pbjson_to_message(&keyuan__v1__change__descriptor, json, &change, err,
                           sizeof err);
    json_decref(json);
    if (rc) {
        log_error("event=change_unstorable customer=%llu err=\"%s\"",
                  (unsigned long long)id, err);
        return rc;
    }
    entry_key(key, id, change_id);
    rc = store_put_msg(txn, db->history, key, sizeof key, change);
    protobuf_c_message_free_unpacked(change, NULL);
    return rc;
}

int history_add_created(file_db_t *db, MDB_txn *txn, uint64_t id,
                        const file_event_t *why,
                        const Keyuan__V1__CustomerView *file)
{
    Keyuan__V1__Change change = KEYUAN__V1__CHANGE__INIT;
    Google__Protobuf__Timestamp at = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    uint8_t key[16];
    int rc = store_next_id(db->st, txn, &change.change_id);

    if (rc)
        return rc;
    wire_ts_set(&at, clock_now_ms());
    change.at = &at;
    change.source = (char *)(why->source ? why->source : "");
    change.source_event_id =
        (char *)(why->source_event_id ? why->source_event_id : "");
    change.kind = (char *)why->kind;
    change.created = (Keyuan__V1__CustomerView *)file;
    entry_key(key, id, change.change_id);
    /* The newest customer's first entry: the last key of history. */
    return store_append_msg(txn, db->history, key, sizeof key, &change.base);
}

/* ---- a created file's fields ------------------------------------------- */

/*
 * Every field a file started with, as FieldChanges from nothing. Paths
 * and JSON texts go into one growing buffer and are pointed at once the
 * walk is over, so it costs a few allocations, not two per field.
 */
typedef struct leaves {
    size_t (*at)[2]; /* offsets of each leaf's path and JSON text in text */
    size_t n, cap;
    char *text;
    size_t used, size;
} leaves_t;

static bool text_add(leaves_t *l, const char *text, size_t len)
{
    size_t size = l->size ? l->size : 1024;
    char *grown;

    if (l->used + len + 1 > l->size) {
        while (size < l->used + len + 1)
            size *= 2;
        if ((grown = realloc(l->text, size)) == NULL)
            return false;
        l->text = grown;
        l->size = size;
    }
    memcpy(l->text + l->used, text, len + 1);
    l->used += len + 1;
    return true;
}

static int leaf_add(void *arg, const char *path, const char *json, size_t len)
{
    leaves_t *l = arg;

    if (strcmp(path, "updatedAt") == 0)
        return 0; /* not a change of its own, as in file_commit() */
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 32;
        void *grown = realloc(l->at, cap * sizeof *l->at);

        if (grown == NULL)
            return -1;
        l->at = grown;
        l->cap = cap;
    }
    l->at[l->n][0] = l->used;
    if (!text_add(l, path, strlen(path)))
        return -1;
    l->at[l->n][1] = l->used;
    if (!text_add(l, json, len))
        return -1;
    l->n++;
    return 0;
}

/*
 * c with its created file turned into fields, as a new message packed and
 * unpacked again so that it owns its memory like any other; NULL when out
 * of memory. c is left as it was.
 */
static Keyuan__V1__Change *change_with_fields(const Keyuan__V1__Change *c)
{
    Keyuan__V1__Change copy = *c;
    Keyuan__V1__FieldChange *fields = NULL, **list = NULL;
    Keyuan__V1__Change *out = NULL;
    leaves_t l = {0};
    uint8_t *packed = NULL;
    size_t len;

    if (pbjson_leaves(&c->created->base, leaf_add, &l) != 0 ||
        (fields = calloc(l.n + 1, sizeof *fields)) == NULL ||
        (list = calloc(l.n + 1, sizeof *list)) == NULL)
        goto done;
    for (size_t i = 0; i < l.n; i++) {
        keyuan__v1__field_change__init(&fields[i]);
        fields[i].path = l.text + l.at[i][0];
        fields[i].new_json = l.text + l.at[i][1];
        list[i] = &fields[i];
    }
    copy.created = NULL;
    copy.fields = list;
    copy.n_fields = l.n;
    packed = wire_pack(&copy.base, &len);
    if (packed)
        out = keyuan__v1__change__unpack(NULL, len, packed);

done:
    free(packed);
    free(list);
    free(fields);
    free(l.at);
    free(l.text);
    return out;
}

Keyuan__V1__Change *history_change_unpack(const void *data, size_t len)
{
    Keyuan__V1__Change *c = keyuan__v1__change__unpack(NULL, len, data);
    Keyuan__V1__Change *expanded;

    if (c == NULL || c->created == NULL)
        return c;
    expanded = change_with_fields(c);
    keyuan__v1__change__free_unpacked(c, NULL);
    return expanded;
}

/* Unpacks v into the list, growing it; ids beyond limit are dropped later. */
static int entry_add(entry_t **list, size_t *n, const MDB_val *k,
                     const MDB_val *v, const ProtobufCMessageDescriptor *desc)
{
    entry_t *grown = realloc(*list, (*n + 1) * sizeof **list);
    ProtobufCMessage *msg;

    if (grown == NULL)
        return KY_ENOMEM;
    *list = grown;
    msg =
        desc == &keyuan__v1__change__descriptor
            ? (ProtobufCMessage *)history_change_unpack(v->mv_data, v->mv_size)
            : protobuf_c_message_unpack(desc, NULL, v->mv_size, v->mv_data);
    if (msg == NULL) {
        log_error("event=stored_record_corrupt type=%s", desc->name);
        return KY_EDECODE;
    }
    (*list)[(*n)++] = (entry_t){wire_get_u64((uint8_t *)k->mv_data + 8), msg};
    return KY_OK;
}

/* Collects the newest limit entries of customer from cursor c. */
static int collect(MDB_cursor *c, uint64_t customer, size_t limit,
                   const ProtobufCMessageDescriptor *desc, entry_t **list,
                   size_t *n)
{
    uint8_t start[16];
    MDB_val k = {sizeof start, start}, v;
    size_t taken = 0;
    int rc;

    entry_key(start, customer + 1, 0);
    rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    rc = mdb_cursor_get(c, &k, &v, rc == MDB_NOTFOUND ? MDB_LAST : MDB_PREV);
    while (rc == 0 && taken < limit && k.mv_size == 16 &&
           wire_get_u64(k.mv_data) == customer) {
        if ((rc = entry_add(list, n, &k, &v, desc)) != KY_OK)
            return rc;
        taken++;
        rc = mdb_cursor_get(c, &k, &v, MDB_PREV);
    }
    return rc == 0 || rc == MDB_NOTFOUND ? KY_OK : store_err(rc, "history");
}

static int newest_first(const void *a, const void *b)
{
    const entry_t *x = a, *y = b;

    return x->id < y->id ? 1 : x->id > y->id ? -1 : 0;
}

/* Keeps the newest limit entries for the reply, frees the rest. */
static void entries_keep(file_db_t *db, entry_t *list, size_t n, size_t limit,
                         ProtobufCMessage ***out, size_t *nout)
{
    if (n > 1)
        qsort(list, n, sizeof *list, newest_first);
    *nout = n < limit ? n : limit;
    *out = svc_alloc(db->svc, (*nout + 1) * sizeof **out);
    for (size_t i = 0; i < n; i++) {
        if (i < *nout) {
            (*out)[i] = list[i].msg;
            svc_defer_free(db->svc, list[i].msg);
        } else {
            protobuf_c_message_free_unpacked(list[i].msg, NULL);
        }
    }
}

int history_recent(file_db_t *db, MDB_txn *txn, MDB_dbi dbi,
                   const uint64_t *ids, size_t n, size_t limit,
                   const ProtobufCMessageDescriptor *desc,
                   ProtobufCMessage ***out, size_t *nout)
{
    entry_t *list = NULL;
    size_t count = 0;
    MDB_cursor *c = NULL;
    int rc = store_err(mdb_cursor_open(txn, dbi, &c), "cursor");

    for (size_t i = 0; rc == KY_OK && i < n; i++)
        rc = collect(c, ids[i], limit, desc, &list, &count);
    if (c)
        mdb_cursor_close(c);
    if (rc == KY_OK)
        entries_keep(db, list, count, limit, out, nout);
    else
        for (size_t i = 0; i < count; i++)
            protobuf_c_message_free_unpacked(list[i].msg, NULL);
    free(list);
    return rc;
}
