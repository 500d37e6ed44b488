/* file_view.c - a customer file as view and as snapshot (file_view.h). */
#include "file_view.h"

#include "err.h"
#include "file_apply.h"
#include "file_ident.h"
#include "history.h"
#include "logger.h"
#include "pbjson.h"

#include <stdio.h>
#include <string.h>

typedef Keyuan__V1__CustomerView CustomerView;

/* Files one view shows at most: itself and those merged into it. */
#define VIEW_FILES_MAX 64

/* The ids a view reads contacts and history of, and their contacts. */
typedef struct view_files {
    uint64_t ids[VIEW_FILES_MAX];
    size_t n;
    uint64_t contacts; /* contact count of all of them */
} view_files_t;

/* Decodes doc (or a part of it) as a CustomerView; freed with the reply. */
static int view_decode(file_db_t *db, const json_t *doc, CustomerView **out)
{
    char err[160];
    int rc = pbjson_to_message(&keyuan__v1__customer_view__descriptor, doc,
                               (ProtobufCMessage **)out, err, sizeof err);

    if (rc) {
        log_error("event=file_unreadable err=\"%s\"", err);
        return rc;
    }
    svc_defer_free(db->svc, &(*out)->base);
    return KY_OK;
}

/* Adds id and, breadth first, the files merged into it. */
static int files_walk(file_db_t *db, MDB_txn *txn, uint64_t id,
                      view_files_t *vf)
{
    vf->ids[vf->n++] = id;
    for (size_t at = 0; at < vf->n; at++) {
        Keyuan__V1__CustomerFile *f;
        uint8_t key[8];
        int rc;

        file_key(key, vf->ids[at]);
        rc = store_get_msg(txn, db->customers, key, 8,
                           &keyuan__v1__customer_file__descriptor,
                           (ProtobufCMessage **)&f);
        if (rc)
            return rc;
        vf->contacts += f->contact_count;
        for (size_t i = 0; i < f->n_merged_from && vf->n < VIEW_FILES_MAX; i++)
            vf->ids[vf->n++] = f->merged_from[i];
        keyuan__v1__customer_file__free_unpacked(f, NULL);
    }
    return KY_OK;
}

static size_t limit_of(uint32_t asked, size_t dflt)
{
    if (asked == 0)
        return dflt;
    return asked < HISTORY_LIMIT_MAX ? asked : HISTORY_LIMIT_MAX;
}

/* Adds the recent contacts and changes of every file of vf to v. */
static int view_logs(file_db_t *db, MDB_txn *txn, const view_files_t *vf,
                     const Keyuan__V1__CustomerQuery *q, CustomerView *v)
{
    int rc =
        history_recent(db, txn, db->contacts, vf->ids, vf->n,
                       limit_of(q->contact_limit, HISTORY_CONTACTS_DEFAULT),
                       &keyuan__v1__contact_log__descriptor,
                       (ProtobufCMessage ***)&v->contacts, &v->n_contacts);

    if (rc == KY_OK)
        rc = history_recent(db, txn, db->history, vf->ids, vf->n,
                            limit_of(q->change_limit, HISTORY_CHANGES_DEFAULT),
                            &keyuan__v1__change__descriptor,
                            (ProtobufCMessage ***)&v->changes, &v->n_changes);
    return rc;
}

int file_view(file_db_t *db, MDB_txn *txn, uint64_t id,
              const Keyuan__V1__CustomerQuery *q, CustomerView **out)
{
    view_files_t vf = {.n = 0};
    CustomerView *decoded;
    json_t *doc;
    int rc = file_load(db, txn, id, &doc);

    if (rc)
        return rc;
    rc = view_decode(db, doc, &decoded);
    json_decref(doc);
    if (rc == KY_OK)
        rc = files_walk(db, txn, id, &vf);
    if (rc)
        return rc;

    /* A copy, so that the lists below (freed one by one) are not freed a
     * second time with the decoded message. */
    *out = svc_alloc(db->svc, sizeof **out);
    **out = *decoded;
    (*out)->contact_count = (uint32_t)vf.contacts;
    return view_logs(db, txn, &vf, q, *out);
}

int file_view_find(file_db_t *db, MDB_txn *txn,
                   const Keyuan__V1__CustomerQuery *q, uint64_t *id,
                   check_fail_t *f)
{
    Keyuan__V1__Contacts c = KEYUAN__V1__CONTACTS__INIT;
    Keyuan__V1__Profile p = KEYUAN__V1__PROFILE__INIT;
    file_idents_t ids;
    json_t *profile;
    int rc;

    *id = q->customer_id;
    if (*id || *q->mobile == '\0')
        return KY_OK;
    c.mobile = q->mobile;
    p.contacts = &c;
    if (!check_text_fields(&q->base, f) ||
        !file_apply_profile_in(&p.base, "", &profile, f)) {
        f->field = "mobile";
        snprintf(f->message, sizeof f->message, "mobile: not a phone number");
        return KY_EINVAL;
    }
    file_ident_of(db, profile, &ids);
    json_decref(profile);
    rc = file_ident_find(db, txn, &ids, id);
    return rc == KY_OK && *id == 0 ? KY_ENOTFOUND : rc;
}

static void snapshot_fill(Keyuan__V1__CustomerSnapshot *snap,
                          const CustomerView *v)
{
    const Keyuan__V1__Profile *p = v->profile;

    snap->customer_id = v->customer_id;
    snap->agent_id = v->agent_id;
    snap->created_at = v->created_at;
    snap->updated_at = v->updated_at;
    snap->last_contact_at = v->last_contact_at;
    snap->next_step = v->next_step;
    snap->merged_into = v->merged_into;
    if (p) {
        snap->needs = p->needs;
        snap->birthday = p->birthday;
        snap->do_not_disturb = p->consent && p->consent->do_not_disturb;
    }
}

int file_snapshot_view(file_db_t *db, MDB_txn *txn, const CustomerView *v,
                       bool is_new, const char *cause)
{
    Keyuan__V1__CustomerSnapshot snap = KEYUAN__V1__CUSTOMER_SNAPSHOT__INIT;
    Envelope env = KEYUAN__V1__ENVELOPE__INIT;
    outbox_t *ob = svc_outbox(db->svc);

    if (ob == NULL)
        return KY_OK;
    snapshot_fill(&snap, v);
    snap.is_new = is_new;
    snap.cause = (char *)cause;
    env.body_case = KEYUAN__V1__ENVELOPE__BODY_CUSTOMER;
    env.customer = &snap;
    return outbox_append(ob, txn, &env);
}

int file_snapshot(file_db_t *db, MDB_txn *txn, const json_t *doc, bool is_new,
                  const char *cause)
{
    CustomerView *v;
    int rc;

    if (svc_outbox(db->svc) == NULL)
        return KY_OK;
    if ((rc = view_decode(db, doc, &v)) != KY_OK)
        return rc;
    return file_snapshot_view(db, txn, v, is_new, cause);
}
