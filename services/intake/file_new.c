/* file_new.c - a customer file made straight from its first lead. */
#include "file_new.h"

#include "err.h"
#include "file_doc.h"
#include "history.h"
#include "pbjson.h"

#include <stdlib.h>
#include <string.h>

/* ---- building ------------------------------------------------------------ */

/* True when msg or a message below it holds fields unknown to this build. */
static bool has_unknown(const ProtobufCMessage *msg)
{
    const ProtobufCMessageDescriptor *desc = msg->descriptor;

    if (msg->n_unknown_fields > 0)
        return true;
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields[i];
        const char *member = (const char *)msg + f->offset;
        size_t n = 1;

        if (f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        if (f->label == PROTOBUF_C_LABEL_REPEATED)
            n = *(const size_t *)((const char *)msg + f->quantifier_offset);
        else if (*(void *const *)member == NULL)
            continue;
        for (size_t k = 0; k < n; k++) {
            const ProtobufCMessage *sub =
                f->label == PROTOBUF_C_LABEL_REPEATED
                    ? (*(ProtobufCMessage *const *const *)member)[k]
                    : *(ProtobufCMessage *const *)member;

            if (has_unknown(sub))
                return true;
        }
    }
    return false;
}

/* True when a string field of msg, or of a message below it (lists
 * aside), holds only white space: the JSON path drops such text. */
static bool has_blank(const ProtobufCMessage *msg)
{
    const ProtobufCMessageDescriptor *desc = msg->descriptor;

    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields[i];
        const void *value;

        if (f->label == PROTOBUF_C_LABEL_REPEATED ||
            (f->type != PROTOBUF_C_TYPE_STRING &&
             f->type != PROTOBUF_C_TYPE_MESSAGE))
            continue; /* only these fields hold a pointer */
        value = *(void *const *)((const char *)msg + f->offset);
        if (value == NULL)
            continue;
        if (f->type == PROTOBUF_C_TYPE_STRING && *(const char *)value &&
            file_doc_blank(value))
            return true;
        if (f->type == PROTOBUF_C_TYPE_MESSAGE && has_blank(value))
            return true;
    }
    return false;
}

bool file_new_possible(const Keyuan__V1__LeadEvent *ev)
{
    const void *lent[] = {ev->contacts,  ev->needs,    ev->birthday,
                          ev->household, ev->decision, ev->consent};

    for (size_t i = 0; i < sizeof lent / sizeof *lent; i++)
        if (lent[i] != NULL && has_unknown(lent[i]))
            return false;
    /* Rare, and simpler there: blank text takes the JSON path. */
    return !has_blank(&ev->base);
}

/* part, or NULL when its JSON form would be an empty object. */
#define KEPT(part)                                                             \
    ((part) != NULL && !pbjson_is_empty(&(part)->base) ? (part) : NULL)

/* The profile the lead brings: its own fields with names matching. */
static void profile_fill(file_new_t *nf, const Keyuan__V1__LeadEvent *ev,
                         const char *e164)
{
    Keyuan__V1__Profile *p = &nf->profile;

    keyuan__v1__contacts__init(&nf->contacts);
    if (ev->contacts) {
        nf->contacts.mobile = ev->contacts->mobile;
        nf->contacts.wechat_id = ev->contacts->wechat_id;
        nf->contacts.email = ev->contacts->email;
        nf->contacts.others = ev->contacts->others;
        nf->contacts.n_others = ev->contacts->n_others;
    }
    nf->contacts.mobile_e164 = (char *)e164; /* never what the source says */

    keyuan__v1__profile__init(p);
    p->name = ev->name;
    p->age = ev->age;
    p->birthday = KEPT(ev->birthday);
    p->household = KEPT(ev->household);
    p->occupation = ev->occupation;
    p->employer = ev->employer;
    p->contacts = KEPT(&nf->contacts);
    p->needs = KEPT(ev->needs);
    p->decision = KEPT(ev->decision);
    p->lifestyle = ev->lifestyle;
    p->hobbies = ev->hobbies;
    p->n_hobbies = ev->n_hobbies;
    p->consent = KEPT(ev->consent);
}

void file_new_build(file_new_t *nf, const Keyuan__V1__LeadEvent *ev,
                    const char *e164, uint64_t id, const char *agent_id,
                    const char *reason, int64_t now_ms)
{
    Keyuan__V1__CustomerView *v = &nf->view;

    profile_fill(nf, ev, e164);
    google__protobuf__timestamp__init(&nf->now);
    wire_ts_set(&nf->now, now_ms);
    nf->sources[0] = ev->source;

    keyuan__v1__customer_view__init(v);
    v->customer_id = id;
    v->profile = KEPT(&nf->profile);
    v->agent_id = (char *)agent_id;
    v->agent_reason = (char *)reason;
    v->sources = nf->sources;
    v->n_sources = 1;
    v->created_at = &nf->now;
    v->updated_at = &nf->now;
    v->note = ev->note;
}

/* ---- the two records ----------------------------------------------------- */

/* Stores msg under id in dbi: a new id, so the last key there. */
static int record_put(MDB_txn *txn, MDB_dbi dbi, uint64_t id,
                      const ProtobufCMessage *msg)
{
    uint8_t key[8];

    file_key(key, id);
    return store_append_msg(txn, dbi, key, 8, msg);
}

/* Splits the file as file_store.h says: needs and consent are not personal. */
static int records_put(file_db_t *db, MDB_txn *txn, const file_new_t *nf)
{
    const Keyuan__V1__CustomerView *v = &nf->view;
    Keyuan__V1__CustomerFile file = KEYUAN__V1__CUSTOMER_FILE__INIT;
    Keyuan__V1__CustomerPerson person = KEYUAN__V1__CUSTOMER_PERSON__INIT;
    Keyuan__V1__Profile open = KEYUAN__V1__PROFILE__INIT;
    Keyuan__V1__Profile personal = nf->profile;
    int rc;

    open.needs = personal.needs;
    open.consent = personal.consent;
    personal.needs = NULL;
    personal.consent = NULL;

    file.customer_id = v->customer_id;
    file.profile = KEPT(&open);
    file.agent_id = v->agent_id;
    file.agent_reason = v->agent_reason;
    file.sources = v->sources;
    file.n_sources = v->n_sources;
    file.created_at = v->created_at;
    file.updated_at = v->updated_at;
    person.profile = v->profile ? KEPT(&personal) : NULL;
    person.note = v->note;

    rc = record_put(txn, db->customers, v->customer_id, &file.base);
    if (rc == KY_OK)
        rc = record_put(txn, db->persons, v->customer_id, &person.base);
    return rc;
}

int file_new_save(file_db_t *db, MDB_txn *txn, const file_new_t *nf,
                  const file_event_t *why)
{
    int rc = records_put(db, txn, nf);

    if (rc == KY_OK)
        rc = history_add_created(db, txn, nf->view.customer_id, why, &nf->view);
    return rc;
}
