/* file_ident.c - the identity index of customer files (see file_ident.h). */
#include "file_ident.h"

#include "err.h"
#include "file_doc.h"
#include "logger.h"
#include "phone.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define OWNED_KEY (8 + IDENT_HASH_BYTES)

int file_ident_normalize(json_t *profile, const char **why)
{
    const char *raw =
        json_string_value(file_doc_get(profile, "contacts.mobile"));
    char e164[PHONE_E164_MAX];
    json_t *v;
    int rc;

    if (raw == NULL || *raw == '\0')
        return file_doc_set(profile, "contacts.mobileE164", NULL);
    if (phone_normalize(raw, e164, sizeof e164, why) != 0)
        return KY_EINVAL;
    if ((v = json_string(e164)) == NULL)
        return KY_ENOMEM;
    rc = file_doc_set(profile, "contacts.mobileE164", v);
    json_decref(v);
    return rc;
}

/*
 * Hashes value into slot, without the white space around it: a source
 * that sends " wxid " means "wxid", and must find the same customer.
 * E-mails are compared in lower case.
 */
static void hash_one(const file_db_t *db, enum ident_kind kind,
                     const char *value, file_idents_t *ids, int slot)
{
    char small[256], *lower = small;
    size_t len = value ? strlen(value) : 0;

    file_doc_trim(&value, &len);
    if (len == 0)
        return;
    if (kind == IDENT_EMAIL) {
        if (len >= sizeof small && (lower = malloc(len)) == NULL)
            abort(); /* out of memory, as svc_alloc() would */
        for (size_t i = 0; i < len; i++)
            lower[i] = (char)tolower((unsigned char)value[i]);
        value = lower;
    }
    ident_hash(db->keys, kind, value, len, ids->hash[slot]);
    ids->has[slot] = true;
    if (lower != small)
        free(lower);
}

void file_ident_of_values(const file_db_t *db, const char *e164,
                          const char *wechat, const char *email,
                          file_idents_t *ids)
{
    memset(ids, 0, sizeof *ids);
    hash_one(db, IDENT_MOBILE, e164, ids, 0);
    hash_one(db, IDENT_WECHAT, wechat, ids, 1);
    hash_one(db, IDENT_EMAIL, email, ids, 2);
}

void file_ident_of(const file_db_t *db, const json_t *profile,
                   file_idents_t *ids)
{
    const json_t *c = file_doc_get(profile, "contacts");

    file_ident_of_values(db,
                         json_string_value(json_object_get(c, "mobileE164")),
                         json_string_value(json_object_get(c, "wechatId")),
                         json_string_value(json_object_get(c, "email")), ids);
}

int file_ident_find(file_db_t *db, MDB_txn *txn, const file_idents_t *ids,
                    uint64_t *id)
{
    *id = 0;
    for (int i = 0; i < FILE_IDENT_KINDS; i++) {
        MDB_val v;
        int rc;

        if (!ids->has[i])
            continue;
        rc = hashidx_get(txn, &db->ident, ids->hash[i], IDENT_HASH_BYTES, &v);
        if (rc == KY_ENOTFOUND)
            continue;
        if (rc)
            return rc;
        /* The first kind found wins; a conflict with a later kind is
         * logged and counted once, by file_ident_link(). */
        if (*id == 0)
            *id = wire_get_u64(v.mv_data);
    }
    return KY_OK;
}

static void owned_key(uint8_t key[OWNED_KEY], uint64_t id, const uint8_t *hash)
{
    wire_put_u64(key, id);
    memcpy(key + 8, hash, IDENT_HASH_BYTES);
}

/* Points hash at id in both directions. */
static int point(file_db_t *db, MDB_txn *txn, const uint8_t *hash, uint64_t id)
{
    uint8_t val[8], key[OWNED_KEY];
    int rc;

    wire_put_u64(val, id);
    owned_key(key, id, hash);
    rc = hashidx_put(txn, &db->ident, hash, IDENT_HASH_BYTES, val, 8);
    if (rc == KY_OK)
        rc = store_put(txn, db->owned, key, sizeof key, "", 0, 0);
    return rc;
}

int file_ident_link(file_db_t *db, MDB_txn *txn, const file_idents_t *ids,
                    uint64_t id)
{
    for (int i = 0; i < FILE_IDENT_KINDS; i++) {
        MDB_val v;
        int rc;

        if (!ids->has[i])
            continue;
        rc = hashidx_get(txn, &db->ident, ids->hash[i], IDENT_HASH_BYTES, &v);
        if (rc == KY_OK && wire_get_u64(v.mv_data) != id) {
            svc_count(db->svc, "identity_conflicts", 1);
            log_warn("event=identity_conflict customer=%llu other=%llu",
                     (unsigned long long)id,
                     (unsigned long long)wire_get_u64(v.mv_data));
            continue;
        }
        if (rc == KY_ENOTFOUND)
            rc = point(db, txn, ids->hash[i], id);
        if (rc)
            return rc;
    }
    return KY_OK;
}

int file_ident_link_new(file_db_t *db, MDB_txn *txn, const file_idents_t *ids,
                        uint64_t id)
{
    int rc = KY_OK;

    for (int i = 0; rc == KY_OK && i < FILE_IDENT_KINDS; i++)
        if (ids->has[i])
            rc = point(db, txn, ids->hash[i], id);
    return rc;
}

/* Appends the hash of owned key k to *keys. */
static void keys_add(file_db_t *db, const MDB_val *k,
                     ProtobufCBinaryData **keys, size_t *n)
{
    ProtobufCBinaryData *grown = svc_alloc(db->svc, (*n + 1) * sizeof *grown);

    if (*n)
        memcpy(grown, *keys, *n * sizeof *grown);
    grown[*n].len = IDENT_HASH_BYTES;
    grown[*n].data = svc_alloc(db->svc, IDENT_HASH_BYTES);
    memcpy(grown[*n].data, (uint8_t *)k->mv_data + 8, IDENT_HASH_BYTES);
    *keys = grown;
    (*n)++;
}

/* Lists the hashes that point at customer id, appending to *keys. */
static int owned_list(file_db_t *db, MDB_txn *txn, uint64_t id,
                      ProtobufCBinaryData **keys, size_t *n)
{
    uint8_t start[8];
    MDB_val k = {8, start}, v;
    MDB_cursor *c = NULL;
    int rc = mdb_cursor_open(txn, db->owned, &c);

    wire_put_u64(start, id);
    if (rc == 0)
        rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && k.mv_size == OWNED_KEY && wire_get_u64(k.mv_data) == id) {
        keys_add(db, &k, keys, n);
        rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
    }
    if (c)
        mdb_cursor_close(c);
    return rc == 0 || rc == MDB_NOTFOUND ? KY_OK : store_err(rc, "owned");
}

int file_ident_repoint(file_db_t *db, MDB_txn *txn,
                       const ProtobufCBinaryData *keys, size_t n, uint64_t from,
                       uint64_t to)
{
    int rc = KY_OK;

    for (size_t i = 0; rc == KY_OK && i < n; i++) {
        uint8_t key[OWNED_KEY];

        if (keys[i].len != IDENT_HASH_BYTES)
            return KY_EDECODE;
        owned_key(key, from, keys[i].data);
        rc = store_del(txn, db->owned, key, sizeof key);
        if (rc == KY_OK)
            rc = point(db, txn, keys[i].data, to);
    }
    return rc;
}

int file_ident_move(file_db_t *db, MDB_txn *txn, uint64_t from, uint64_t to,
                    ProtobufCBinaryData **keys, size_t *n)
{
    size_t first = *n;
    int rc = owned_list(db, txn, from, keys, n);

    if (rc == KY_OK)
        rc = file_ident_repoint(db, txn, *keys + first, *n - first, from, to);
    return rc;
}

int file_ident_link_doc(file_db_t *db, MDB_txn *txn, const json_t *doc,
                        uint64_t id)
{
    file_idents_t ids;

    file_ident_of(db, json_object_get(doc, "profile"), &ids);
    return file_ident_link(db, txn, &ids, id);
}
