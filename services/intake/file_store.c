/*
 * file_store.c - loading, saving and committing customer files (see
 * file_store.h).
 */
#include "file_store.h"

#include "clock.h"
#include "err.h"
#include "file_doc.h"
#include "history.h"
#include "logger.h"
#include "pbjson.h"

#include <string.h>

/*
 * The members of the profile that are not personal data and so live in
 * the CustomerFile record; every other member is personal.
 */
static const char *const file_profile_keys[] = {"needs", "consent", NULL};

/* How deep merges may chain before the chain is taken as broken. */
#define FILE_RESOLVE_MAX 64

void file_key(uint8_t key[8], uint64_t id)
{
    wire_put_u64(key, id);
}

json_t *file_ts_json(int64_t ms)
{
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;

    wire_ts_set(&ts, ms);
    return pbjson_from_message(&ts.base);
}

int64_t file_ts_ms(const json_t *json)
{
    ProtobufCMessage *ts;
    int64_t ms;

    if (json == NULL ||
        pbjson_to_message(&google__protobuf__timestamp__descriptor, json, &ts,
                          NULL, 0) != 0)
        return 0;
    ms = wire_ts_ms((Google__Protobuf__Timestamp *)ts);
    protobuf_c_message_free_unpacked(ts, NULL);
    return ms;
}

/* Reads one record as JSON; an absent record is an empty object. */
static int record_json(MDB_txn *txn, MDB_dbi dbi, uint64_t id,
                       const ProtobufCMessageDescriptor *desc, json_t **out)
{
    ProtobufCMessage *msg;
    uint8_t key[8];
    int rc;

    file_key(key, id);
    rc = store_get_msg(txn, dbi, key, 8, desc, &msg);
    if (rc == KY_ENOTFOUND) {
        *out = json_object();
        return *out ? KY_ENOTFOUND : KY_ENOMEM;
    }
    if (rc)
        return rc;
    *out = pbjson_from_message(msg);
    protobuf_c_message_free_unpacked(msg, NULL);
    return *out ? KY_OK : KY_ENOMEM;
}

int file_load(file_db_t *db, MDB_txn *txn, uint64_t id, json_t **doc)
{
    json_t *person = NULL;
    int rc = record_json(txn, db->customers, id,
                         &keyuan__v1__customer_file__descriptor, doc);

    if (rc)
        goto fail;
    rc = record_json(txn, db->persons, id,
                     &keyuan__v1__customer_person__descriptor, &person);
    if (rc && rc != KY_ENOTFOUND)
        goto fail;
    if (json_object_update_recursive(*doc, person) != 0) {
        rc = KY_ENOMEM;
        goto fail;
    }
    json_decref(person);
    return KY_OK;

fail:
    json_decref(person);
    json_decref(*doc);
    *doc = NULL;
    return rc;
}

static bool is_file_profile_key(const char *key)
{
    for (const char *const *k = file_profile_keys; *k; k++)
        if (strcmp(*k, key) == 0)
            return true;
    return false;
}

/* Keeps in rec's profile only the members whose place is (not) the file. */
static void profile_keep(json_t *rec, bool file_part)
{
    json_t *profile = json_object_get(rec, "profile"), *val;
    const char *key;
    void *tmp;

    json_object_foreach_safe(profile, tmp, key, val)
    {
        if (is_file_profile_key(key) != file_part)
            json_object_del(profile, key);
    }
    file_doc_prune(rec);
}

/* Stores the part of doc that desc has fields for as a desc record. */
static int record_put(MDB_txn *txn, MDB_dbi dbi, uint64_t id, const json_t *doc,
                      const ProtobufCMessageDescriptor *desc, bool file_part)
{
    json_t *rec = file_doc_project(doc, desc);
    ProtobufCMessage *msg = NULL;
    char err[160];
    uint8_t key[8];
    int rc;

    if (rec == NULL)
        return KY_ENOMEM;
    profile_keep(rec, file_part);
    rc = pbjson_to_message(desc, rec, &msg, err, sizeof err);
    json_decref(rec);
    if (rc) {
        log_error("event=file_unstorable customer=%llu type=%s err=\"%s\"",
                  (unsigned long long)id, desc->name, err);
        return rc;
    }
    file_key(key, id);
    rc = store_put_msg(txn, dbi, key, 8, msg);
    protobuf_c_message_free_unpacked(msg, NULL);
    return rc;
}

int file_save(file_db_t *db, MDB_txn *txn, uint64_t id, const json_t *doc)
{
    int rc = record_put(txn, db->customers, id, doc,
                        &keyuan__v1__customer_file__descriptor, true);

    if (rc == KY_OK)
        rc = record_put(txn, db->persons, id, doc,
                        &keyuan__v1__customer_person__descriptor, false);
    return rc;
}

int file_resolve(file_db_t *db, MDB_txn *txn, uint64_t id, uint64_t *target)
{
    for (int hops = 0; hops < FILE_RESOLVE_MAX; hops++) {
        Keyuan__V1__CustomerFile *f;
        uint8_t key[8];
        uint64_t next;
        int rc;

        file_key(key, id);
        rc = store_get_msg(txn, db->customers, key, 8,
                           &keyuan__v1__customer_file__descriptor,
                           (ProtobufCMessage **)&f);
        if (rc)
            return rc;
        next = f->merged_into;
        keyuan__v1__customer_file__free_unpacked(f, NULL);
        if (next == 0) {
            *target = id;
            return KY_OK;
        }
        id = next;
    }
    log_error("event=merge_chain_broken customer=%llu", (unsigned long long)id);
    return KY_EDECODE;
}

/* Sets after's updatedAt to now. */
static int touch(json_t *after)
{
    json_t *now = file_ts_json(clock_now_ms());

    if (now == NULL || json_object_set_new(after, "updatedAt", now) != 0)
        return KY_ENOMEM;
    return KY_OK;
}

int file_commit(file_db_t *db, MDB_txn *txn, uint64_t id, const json_t *before,
                json_t *after, const file_event_t *why, bool *changed,
                json_t **fields)
{
    static const char *const skip[] = {"updatedAt", NULL};
    json_t *diff = file_doc_diff(before, file_doc_prune(after), skip);
    int rc = diff ? KY_OK : KY_ENOMEM;

    *changed = diff && json_array_size(diff) > 0;
    if (*changed && (rc = touch(after)) == KY_OK &&
        (rc = file_save(db, txn, id, after)) == KY_OK)
        rc = history_add(db, txn, id, why, diff);
    if (fields && rc == KY_OK)
        *fields = diff;
    else
        json_decref(diff);
    return rc;
}

int file_log_change(file_db_t *db, MDB_txn *txn, uint64_t id,
                    const json_t *before, const json_t *after,
                    const file_event_t *why)
{
    static const char *const skip[] = {"updatedAt", NULL};
    json_t *diff = file_doc_diff(before, after, skip);
    int rc = diff ? KY_OK : KY_ENOMEM;

    if (diff && json_array_size(diff) > 0)
        rc = history_add(db, txn, id, why, diff);
    json_decref(diff);
    return rc;
}

/* Copies the value of id in dbi into svc memory; absent: empty. */
static int raw_copy(file_db_t *db, MDB_txn *txn, MDB_dbi dbi, uint64_t id,
                    ProtobufCBinaryData *out)
{
    uint8_t key[8];
    MDB_val v;
    int rc;

    file_key(key, id);
    rc = store_get(txn, dbi, key, 8, &v);
    out->len = rc ? 0 : v.mv_size;
    out->data = svc_alloc(db->svc, out->len + 1);
    if (rc == 0)
        memcpy(out->data, v.mv_data, v.mv_size);
    return rc;
}

int file_raw_get(file_db_t *db, MDB_txn *txn, uint64_t id,
                 ProtobufCBinaryData *file, ProtobufCBinaryData *person)
{
    int rc = raw_copy(db, txn, db->customers, id, file);

    if (rc)
        return rc;
    rc = raw_copy(db, txn, db->persons, id, person);
    return rc == KY_ENOTFOUND ? KY_OK : rc;
}

int file_raw_put(file_db_t *db, MDB_txn *txn, uint64_t id,
                 const ProtobufCBinaryData *file,
                 const ProtobufCBinaryData *person)
{
    uint8_t key[8];
    int rc;

    file_key(key, id);
    rc = store_put(txn, db->customers, key, 8, file->data, file->len, 0);
    if (rc == KY_OK)
        rc = store_put(txn, db->persons, key, 8, person->data, person->len, 0);
    return rc;
}
