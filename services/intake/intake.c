/*
 * intake.c - turns events from outside into customer files.
 *
 * Each lead finds its customer by keyed hashes of the normalised mobile,
 * the WeChat id and the e-mail (never by name), or creates one; merges what
 * it says into the file; assigns an owning agent to a new file; and sends
 * grading a snapshot of the file without personal data, through the outbox,
 * in the same transaction. Profile updates and contact logs change a file
 * the same way; operators merge and unmerge files (merge.h). Listings pass
 * through to grading. Each request gets one Reply; the first answer to a
 * (source, source event id) is kept, so a source that sends an event again
 * gets that answer and changes nothing. Rejected events are answered and
 * quarantined, not remembered, so a corrected event may come again under
 * the same id.
 *
 * A file is handled as one JSON document (file_doc.h): an event's fields
 * are merged or set by path into it, and the difference before/after is
 * the Change its history records.
 *
 * Store layout (one LMDB environment):
 *   events           keyed hash of (source, source event id) -> first Reply
 *   ident            keyed hash of a mobile, WeChat id or e-mail -> id
 *                    (both hash indexes, each with two logs of new
 *                    entries, "_log0" and "_log1": hashidx.h)
 *   customer_idents  (customer id, hash) -> ""          (file_ident.h)
 *   customers        customer id -> CustomerFile, no personal fields
 *   persons          customer id -> CustomerPerson, the personal fields
 *   history          (customer id, change id) -> Change  (history.h)
 *   contacts         (customer id, contact id) -> ContactLog
 *   merges           merged customer id -> MergeRecord   (merge.h)
 *   quarantine       rejected events                     (quarantine.h)
 * Customer, change and contact ids grow with time, so writes append. All a
 * person's records are keyed by, or prefixed with, the customer id, and
 * personal fields live apart from the rest, so that a later issue can
 * encrypt them per customer and erase a customer completely.
 */
#include "intake.h"

#include "agents.h"
#include "clock.h"
#include "err.h"
#include "file_apply.h"
#include "file_doc.h"
#include "file_ident.h"
#include "file_new.h"
#include "file_store.h"
#include "hashidx.h"
#include "file_view.h"
#include "history.h"
#include "ident.h"
#include "logger.h"
#include "merge.h"
#include "pbjson.h"
#include "phone.h"
#include "quarantine.h"
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef Keyuan__V1__LeadEvent LeadEvent;

typedef struct intake {
    svc_t *svc;
    store_t *st;
    hashidx_t events;        /* first answers */
    file_db_t files;         /* where customer files live */
    ident_t keys;            /* the identity index hash key */
    agents_t agents;         /* who may own a file */
    regions_t regions;       /* the division codes regions may name */
    quarantine_t quarantine; /* rejected events, for replay */
    char assign_reason[128]; /* why assign_agent() chose, for the file */
} intake_t;

#define STATUS_ACCEPTED KEYUAN__V1__REPLY_STATUS__REPLY_STATUS_ACCEPTED
#define STATUS_DUPLICATE KEYUAN__V1__REPLY_STATUS__REPLY_STATUS_DUPLICATE
#define STATUS_REJECTED KEYUAN__V1__REPLY_STATUS__REPLY_STATUS_REJECTED

#define PROFILE_DESC (&keyuan__v1__profile__descriptor)

/* ---- replies and the first-answer table ------------------------------- */

static int reject(intake_t *in, Envelope *reply, const check_fail_t *f)
{
    svc_count(in->svc, "rejected", 1);
    log_info("event=rejected code=%s field=%s", f->code, f->field);
    svc_reply(in->svc, reply, STATUS_REJECTED, f->code, f->field, f->message);
    return quarantine_keep(&in->quarantine, reply);
}

static void event_key(intake_t *in, const char *source, const char *id,
                      uint8_t key[IDENT_HASH_BYTES])
{
    size_t ls = strlen(source), li = strlen(id);
    char *buf = svc_alloc(in->svc, ls + li + 1);

    memcpy(buf, source, ls);
    memcpy(buf + ls + 1, id, li); /* NUL between: "ab"+"c" != "a"+"bc" */
    ident_hash(&in->keys, IDENT_EVENT, buf, ls + li + 1, key);
}

/*
 * Answers a repeated event with its first answer. Returns 0 when it did,
 * KY_ENOTFOUND for a new event, or a store error.
 */
static int answer_again(intake_t *in, MDB_txn *txn, const uint8_t *key,
                        Envelope *reply)
{
    Keyuan__V1__Reply *first;
    int rc = hashidx_get_msg(txn, &in->events, key, IDENT_HASH_BYTES,
                             &keyuan__v1__reply__descriptor,
                             (ProtobufCMessage **)&first);

    if (rc)
        return rc;
    svc_defer_free(in->svc, &first->base);
    first->status = STATUS_DUPLICATE;
    reply->body_case = KEYUAN__V1__ENVELOPE__BODY_REPLY;
    reply->reply = first;
    svc_count(in->svc, "duplicates", 1);
    return KY_OK;
}

static int accept(intake_t *in, MDB_txn *txn, const uint8_t *key,
                  Envelope *reply, uint64_t customer_id, bool created)
{
    Keyuan__V1__Reply *r =
        svc_reply(in->svc, reply, STATUS_ACCEPTED, NULL, NULL, NULL);

    r->customer_id = customer_id;
    r->created = created;
    if (key == NULL)
        return KY_OK;
    return hashidx_put_msg(txn, &in->events, key, IDENT_HASH_BYTES, &r->base);
}

/* ---- leads ------------------------------------------------------------- */

/*
 * Chooses the owning agent of a new file by the agents file's rules, says
 * why in the log and leaves the reason in in->assign_reason for the file.
 */
static const char *assign_agent(intake_t *in, MDB_txn *txn, const LeadEvent *ev,
                                uint64_t customer_id)
{
    agent_lead_t lead = {ev->source, ev->agent_id, NULL, 0};
    const agent_t *ag;
    uint64_t turn;

    if (ev->needs) {
        lead.regions = ev->needs->region_codes;
        lead.nregions = ev->needs->n_region_codes;
    }
    if (store_meta_get(in->st, txn, "round_robin", &turn) != 0 ||
        store_meta_put(in->st, txn, "round_robin", turn + 1) != 0)
        turn = customer_id; /* still a fair spread; the store will fail */
    ag = agents_assign(&in->agents, &lead, turn, in->assign_reason,
                       sizeof in->assign_reason);
    log_debug("event=agent_assigned customer=%llu agent=%s reason=\"%s\"",
              (unsigned long long)customer_id, ag->id, in->assign_reason);
    return ag->id;
}

/* The fields a new file starts with: id, creation time, owning agent. */
static int file_start(intake_t *in, MDB_txn *txn, const LeadEvent *ev,
                      uint64_t id, json_t *doc)
{
    const char *agent = assign_agent(in, txn, ev, id);

    return file_apply_start(doc, id, agent, in->assign_reason);
}

/* The file a lead belongs to, loaded, or a new id and an empty file. */
static int lead_target(intake_t *in, MDB_txn *txn, const file_idents_t *ids,
                       uint64_t *id, json_t **before)
{
    int rc = file_ident_find(&in->files, txn, ids, id);

    if (rc == KY_OK && *id)
        rc = file_resolve(&in->files, txn, *id, id);
    if (rc == KY_OK && *id)
        return file_load(&in->files, txn, *id, before);
    if (rc == KY_OK && (rc = store_next_id(in->st, txn, id)) == KY_OK)
        *before = json_object();
    return rc ? rc : (*before ? KY_OK : KY_ENOMEM);
}

/* Stores what the lead changed, links its identifiers, tells grading. */
static int lead_commit(intake_t *in, MDB_txn *txn, const LeadEvent *ev,
                       uint64_t id, const json_t *before, json_t *after,
                       const file_idents_t *ids, bool created)
{
    file_event_t why = {"lead", ev->source, ev->source_event_id};
    bool changed;
    int rc =
        file_commit(&in->files, txn, id, before, after, &why, &changed, NULL);

    if (rc == KY_OK)
        rc = file_ident_link(&in->files, txn, ids, id);
    if (rc == KY_OK && changed)
        rc = file_snapshot(&in->files, txn, after, created, "lead");
    return rc;
}

/* Counts and logs a lead that was applied to file id. */
static void lead_applied(intake_t *in, const LeadEvent *ev, uint64_t id,
                         bool created)
{
    svc_count(in->svc, created ? "customers_created" : "customers_updated", 1);
    log_info("event=lead_accepted customer=%llu created=%d source=%s",
             (unsigned long long)id, created, log_token(ev->source));
}

/*
 * A lead no file knows: a new file built from it directly (file_new.h).
 * Its needs need no check against a file: check_lead() checked them.
 */
static int lead_create(intake_t *in, MDB_txn *txn, const LeadEvent *ev,
                       const char *e164, const file_idents_t *ids,
                       const uint8_t *evkey, Envelope *reply)
{
    file_event_t why = {"lead", ev->source, ev->source_event_id};
    const char *agent;
    file_new_t nf;
    uint64_t id;
    int rc = store_next_id(in->st, txn, &id);

    if (rc)
        return rc;
    agent = assign_agent(in, txn, ev, id);
    file_new_build(&nf, ev, e164, id, agent, in->assign_reason, clock_now_ms());
    rc = file_new_save(&in->files, txn, &nf, &why);
    if (rc == KY_OK)
        rc = file_ident_link_new(&in->files, txn, ids, id);
    if (rc == KY_OK)
        rc = file_snapshot_view(&in->files, txn, &nf.view, true, "lead");
    if (rc)
        return rc;
    lead_applied(in, ev, id, true);
    return accept(in, txn, evkey, reply, id, true);
}

/*
 * A lead merged into the file it belongs to, through the file's JSON
 * document; also makes the rare new file file_new_possible() refuses.
 */
static int lead_merge(intake_t *in, MDB_txn *txn, const LeadEvent *ev,
                      const uint8_t *evkey, Envelope *reply)
{
    json_t *profile = NULL, *before = NULL, *after = NULL;
    file_idents_t ids;
    check_fail_t f;
    uint64_t id;
    bool created;
    int rc;

    if (!file_apply_profile_in(&ev->base, "", &profile, &f)) {
        rc = reject(in, reply, &f); /* on_lead() checked: never */
        goto done;
    }
    file_ident_of(&in->files, profile, &ids);
    if ((rc = lead_target(in, txn, &ids, &id, &before)) != KY_OK)
        goto done;
    created = json_object_size(before) == 0;
    after = json_deep_copy(before);
    rc = after ? KY_OK : KY_ENOMEM;
    if (rc == KY_OK)
        rc = file_apply_lead(after, ev, profile);
    if (rc == KY_OK && !check_file_needs(after, &f)) {
        rc = reject(in, reply, &f);
        goto done;
    }
    if (rc == KY_OK && created)
        rc = file_start(in, txn, ev, id, after);
    if (rc == KY_OK)
        rc = lead_commit(in, txn, ev, id, before, after, &ids, created);
    if (rc == KY_OK) {
        lead_applied(in, ev, id, created);
        rc = accept(in, txn, evkey, reply, id, created);
    }

done:
    json_decref(profile);
    json_decref(before);
    json_decref(after);
    return rc;
}

/* The lead's mobile in E.164 into e164 ("" when it has none), or false. */
static bool lead_phone(const LeadEvent *ev, char e164[PHONE_E164_MAX],
                       check_fail_t *f)
{
    const char *raw = ev->contacts ? ev->contacts->mobile : NULL;
    const char *why = "not a phone number";

    e164[0] = '\0';
    if (raw == NULL || *raw == '\0' ||
        phone_normalize(raw, e164, PHONE_E164_MAX, &why) == 0)
        return true;
    file_apply_phone_fail(f, "", why);
    return false;
}

static int on_lead(intake_t *in, MDB_txn *txn, const LeadEvent *ev,
                   Envelope *reply)
{
    const Keyuan__V1__Contacts *c = ev->contacts;
    uint8_t evkey[IDENT_HASH_BYTES];
    char e164[PHONE_E164_MAX];
    file_idents_t ids;
    check_fail_t f;
    uint64_t id;
    int rc;

    if (!check_lead(ev, &f) || !lead_phone(ev, e164, &f))
        return reject(in, reply, &f);
    event_key(in, ev->source, ev->source_event_id, evkey);
    if ((rc = answer_again(in, txn, evkey, reply)) != KY_ENOTFOUND)
        return rc;

    file_ident_of_values(&in->files, e164, c ? c->wechat_id : NULL,
                         c ? c->email : NULL, &ids);
    if ((rc = file_ident_find(&in->files, txn, &ids, &id)) != KY_OK)
        return rc;
    if (id == 0 && file_new_possible(ev))
        return lead_create(in, txn, ev, e164, &ids, evkey, reply);
    return lead_merge(in, txn, ev, evkey, reply);
}

/* ---- listings ---------------------------------------------------------- */

static int on_listing(intake_t *in, MDB_txn *txn,
                      const Keyuan__V1__ListingEvent *ev, Envelope *reply)
{
    Envelope env = KEYUAN__V1__ENVELOPE__INIT;
    uint8_t evkey[IDENT_HASH_BYTES];
    check_fail_t f;
    int rc;

    if (!check_listing(ev, &f))
        return reject(in, reply, &f);
    event_key(in, ev->source,
              ev->source_event_id && *ev->source_event_id ? ev->source_event_id
                                                          : ev->listing_id,
              evkey);
    if ((rc = answer_again(in, txn, evkey, reply)) != KY_ENOTFOUND)
        return rc;

    env.body_case = KEYUAN__V1__ENVELOPE__BODY_LISTING;
    env.listing = (Keyuan__V1__ListingEvent *)ev;
    if (svc_outbox(in->svc) &&
        (rc = outbox_append(svc_outbox(in->svc), txn, &env)) != 0)
        return rc;
    svc_count(in->svc, "listings", 1);
    return accept(in, txn, evkey, reply, 0, false);
}

/* ---- profile updates and contacts --------------------------------------- */

/* An update of an existing file: what it is and what it brings. */
typedef struct update {
    const char *source, *event_id; /* identify the event */
    uint64_t customer_id;          /* as named; merged files resolve */
    json_t *profile;               /* what it brings (file_apply.h) */
    char *const *paths;            /* paths to set, or none: merge */
    size_t npaths;
} update_t;

/*
 * Loads the file an update names into *before, and into *after with the
 * update's profile applied. Returns 0, KY_ENOTFOUND or <0.
 */
static int update_target(intake_t *in, MDB_txn *txn, update_t *u,
                         json_t **before, json_t **after)
{
    int rc = file_resolve(&in->files, txn, u->customer_id, &u->customer_id);

    if (rc == KY_OK)
        rc = file_load(&in->files, txn, u->customer_id, before);
    if (rc == KY_OK && (*after = json_deep_copy(*before)) == NULL)
        rc = KY_ENOMEM;
    if (rc == KY_OK)
        rc = file_apply_profile(*after, u->profile, u->paths, u->npaths);
    return rc;
}

/* Rejects an update that names no file. */
static int update_unknown(intake_t *in, Envelope *reply)
{
    static const check_fail_t f = {"not_found", "customerId",
                                   "customerId: no such customer", ""};

    return reject(in, reply, &f);
}

/* Stores the changed file, links its identifiers, tells grading. */
static int update_commit(intake_t *in, MDB_txn *txn, const update_t *u,
                         const char *kind, const json_t *before, json_t *after)
{
    file_event_t why = {kind, u->source, u->event_id};
    bool changed;
    int rc = file_commit(&in->files, txn, u->customer_id, before, after, &why,
                         &changed, NULL);

    if (rc == KY_OK)
        rc = file_ident_link_doc(&in->files, txn, after, u->customer_id);
    if (rc == KY_OK && changed)
        rc = file_snapshot(&in->files, txn, after, false, kind);
    return rc;
}

/* Appends the contact to the log of the file it was applied to. */
static int contact_log(intake_t *in, MDB_txn *txn,
                       const Keyuan__V1__ContactLog *ev, uint64_t id)
{
    Keyuan__V1__ContactLog entry = *ev;
    Google__Protobuf__Timestamp now = GOOGLE__PROTOBUF__TIMESTAMP__INIT;

    entry.customer_id = id;
    if (entry.contacted_at == NULL) { /* as the file counts it: now */
        wire_ts_set(&now, clock_now_ms());
        entry.contacted_at = &now;
    }
    return history_append(&in->files, txn, in->files.contacts, id, &entry.base);
}

/*
 * The steps a profile update and a contact share: first-answer check,
 * load, apply, commit with history, answer. contact is NULL for a
 * profile update. u->profile is consumed.
 */
static int update_run(intake_t *in, MDB_txn *txn, update_t *u,
                      const Keyuan__V1__ContactLog *contact, Envelope *reply)
{
    const char *kind = contact ? "contact" : "profile";
    uint8_t evkey[IDENT_HASH_BYTES];
    check_fail_t f;
    json_t *before = NULL, *after = NULL;
    int rc;

    event_key(in, u->source, u->event_id, evkey);
    if ((rc = answer_again(in, txn, evkey, reply)) != KY_ENOTFOUND)
        goto done;
    rc = update_target(in, txn, u, &before, &after);
    if (rc == KY_ENOTFOUND) {
        rc = update_unknown(in, reply);
        goto done;
    }
    if (rc == KY_OK && contact)
        rc = file_apply_contact(after, contact);
    if (rc == KY_OK && !check_file_needs(after, &f)) {
        rc = reject(in, reply, &f);
        goto done;
    }
    if (rc == KY_OK)
        rc = update_commit(in, txn, u, kind, before, after);
    if (rc == KY_OK && contact)
        rc = contact_log(in, txn, contact, u->customer_id);
    if (rc == KY_OK) {
        svc_count(in->svc, contact ? "contacts" : "profile_updates", 1);
        rc = accept(in, txn, evkey, reply, u->customer_id, false);
    }

done:
    json_decref(u->profile);
    json_decref(before);
    json_decref(after);
    return rc;
}

static int on_profile(intake_t *in, MDB_txn *txn,
                      const Keyuan__V1__ProfileUpdate *ev, Envelope *reply)
{
    update_t u = {.source = ev->source,
                  .event_id = ev->source_event_id,
                  .customer_id = ev->customer_id,
                  .paths = ev->paths,
                  .npaths = ev->n_paths};
    check_fail_t f;

    if (!check_profile_update(ev, &f) ||
        !file_apply_profile_in(ev->profile ? &ev->profile->base : NULL,
                               "profile.", &u.profile, &f)) {
        json_decref(u.profile);
        return reject(in, reply, &f);
    }
    return update_run(in, txn, &u, NULL, reply);
}

static int on_contact(intake_t *in, MDB_txn *txn,
                      const Keyuan__V1__ContactLog *ev, Envelope *reply)
{
    update_t u = {.source = ev->source,
                  .event_id = ev->source_event_id,
                  .customer_id = ev->customer_id,
                  .paths = ev->change_paths,
                  .npaths = ev->n_change_paths};
    check_fail_t f;

    if (!check_contact(ev, &f) ||
        !file_apply_profile_in(ev->changes ? &ev->changes->base : NULL,
                               "changes.", &u.profile, &f)) {
        json_decref(u.profile);
        return reject(in, reply, &f);
    }
    return update_run(in, txn, &u, ev, reply);
}

/* ---- queries, merges ------------------------------------------------------
 */

static int on_query(intake_t *in, MDB_txn *txn,
                    const Keyuan__V1__CustomerQuery *q, Envelope *reply)
{
    check_fail_t f = {"not_found", "customerId", "no such customer"};
    Keyuan__V1__CustomerView *view;
    uint64_t id;
    int rc = file_view_find(&in->files, txn, q, &id, &f);

    if (rc == KY_OK)
        rc = file_view(&in->files, txn, id, q, &view);
    if (rc == KY_EINVAL || rc == KY_ENOTFOUND)
        return reject(in, reply, &f);
    if (rc)
        return rc;
    reply->body_case = KEYUAN__V1__ENVELOPE__BODY_CUSTOMER_VIEW;
    reply->customer_view = view;
    return KY_OK;
}

static int on_merge(intake_t *in, MDB_txn *txn,
                    const Keyuan__V1__MergeRequest *req, Envelope *reply)
{
    check_fail_t f;
    int rc = check_text_fields(&req->base, &f)
                 ? merge_files(&in->files, txn, req, &f)
                 : KY_EINVAL;

    if (rc == KY_EINVAL)
        return reject(in, reply, &f);
    if (rc == KY_EEXISTS) {
        svc_reply(in->svc, reply, STATUS_DUPLICATE, NULL, NULL, NULL)
            ->customer_id = req->keep_id;
        return KY_OK;
    }
    if (rc)
        return rc;
    svc_count(in->svc, "merges", 1);
    log_info("event=customers_merged keep=%llu merged=%llu",
             (unsigned long long)req->keep_id,
             (unsigned long long)req->merge_id);
    return accept(in, txn, NULL, reply, req->keep_id, false);
}

static int on_unmerge(intake_t *in, MDB_txn *txn,
                      const Keyuan__V1__UnmergeRequest *req, Envelope *reply)
{
    check_fail_t f;
    uint64_t keep_id;
    int rc = check_text_fields(&req->base, &f)
                 ? merge_undo(&in->files, txn, req, &f, &keep_id)
                 : KY_EINVAL;

    if (rc == KY_EINVAL)
        return reject(in, reply, &f);
    if (rc)
        return rc;
    svc_count(in->svc, "unmerges", 1);
    log_info("event=customers_unmerged keep=%llu restored=%llu",
             (unsigned long long)keep_id, (unsigned long long)req->merge_id);
    return accept(in, txn, NULL, reply, req->merge_id, false);
}

static int intake_handle(void *self, MDB_txn *txn, const Envelope *msg,
                         Envelope *reply)
{
    intake_t *in = self;

    quarantine_note(&in->quarantine, txn, msg);
    switch (msg->body_case) {
    case KEYUAN__V1__ENVELOPE__BODY_LEAD:
        return on_lead(in, txn, msg->lead, reply);
    case KEYUAN__V1__ENVELOPE__BODY_LISTING:
        return on_listing(in, txn, msg->listing, reply);
    case KEYUAN__V1__ENVELOPE__BODY_CONTACT:
        return on_contact(in, txn, msg->contact, reply);
    case KEYUAN__V1__ENVELOPE__BODY_PROFILE_UPDATE:
        return on_profile(in, txn, msg->profile_update, reply);
    case KEYUAN__V1__ENVELOPE__BODY_CUSTOMER_QUERY:
        return on_query(in, txn, msg->customer_query, reply);
    case KEYUAN__V1__ENVELOPE__BODY_AGENT_QUERY:
        agents_reply(&in->agents, in->svc, reply);
        return KY_OK;
    case KEYUAN__V1__ENVELOPE__BODY_MERGE:
        return on_merge(in, txn, msg->merge, reply);
    case KEYUAN__V1__ENVELOPE__BODY_UNMERGE:
        return on_unmerge(in, txn, msg->unmerge, reply);
    case KEYUAN__V1__ENVELOPE__BODY_QUARANTINE_QUERY:
        return quarantine_query(&in->quarantine, txn, msg->quarantine_query,
                                reply);
    case KEYUAN__V1__ENVELOPE__BODY_QUARANTINE_REPLAY:
        return quarantine_replay(&in->quarantine, txn, msg->quarantine_replay,
                                 reply, intake_handle, in);
    default:
        svc_reply(in->svc, reply, STATUS_REJECTED, "unsupported", NULL,
                  svc_printf(in->svc, "intake does not take \"%s\" messages",
                             wire_body_name(msg)));
        return KY_OK;
    }
}

static void intake_status(void *self, MDB_txn *txn, Keyuan__V1__StatusReply *st)
{
    intake_t *in = self;

    svc_status_add(in->svc, st, "customers",
                   store_count(txn, in->files.customers));
    svc_status_add(in->svc, st, "events", hashidx_count(txn, &in->events));
    svc_status_add(in->svc, st, "contact_log",
                   store_count(txn, in->files.contacts));
    svc_status_add(in->svc, st, "merged", store_count(txn, in->files.merges));
    svc_status_add(in->svc, st, "quarantine",
                   store_count(txn, in->quarantine.db));
}

/* ---- start and stop -------------------------------------------------------
 */

/* The two hash indexes; "_recent" was their newest part before the logs. */
static const hashidx_dbs_t EVENTS_DBS = {
    "events", {"events_log0", "events_log1"}, "events_recent"};
static const hashidx_dbs_t IDENT_DBS = {
    "ident", {"ident_log0", "ident_log1"}, "ident_recent"};

static void intake_dbs(intake_t *in)
{
    file_db_t *f = &in->files;

    f->svc = in->svc;
    f->st = in->st;
    f->keys = &in->keys;
    f->customers = store_db(in->st, "customers");
    f->persons = store_db(in->st, "persons");
    f->history = store_db(in->st, "history");
    f->contacts = store_db(in->st, "contacts");
    f->owned = store_db(in->st, "customer_idents");
    f->merges = store_db(in->st, "merges");
}

static int intake_open(intake_t *in, const svc_config_t *cfg,
                       const intake_options_t *opt)
{
    char err[256], key_path[4096];
    int rc;

    if (agents_load(&in->agents, opt->agents_path, err, sizeof err) != 0) {
        log_error("event=agents_unusable detail=\"%s\"", err);
        return KY_ECONFIG;
    }
    if (regions_load(&in->regions, opt->regions_path, err, sizeof err) != 0) {
        log_error("event=regions_unusable detail=\"%s\"", err);
        return KY_ECONFIG;
    }
    validate_use_regions(&in->regions);
    in->svc = svc_new(cfg, &rc);
    if (in->svc == NULL)
        return rc;
    snprintf(key_path, sizeof key_path, "%s/index.key", cfg->state_dir);
    in->st = svc_store(in->svc);
    rc =
        ident_open(&in->keys, in->st, opt->key_path ? opt->key_path : key_path);
    if (rc)
        return rc;
    intake_dbs(in);
    rc = hashidx_open(&in->events, in->st, &EVENTS_DBS);
    if (rc == KY_OK)
        rc = hashidx_open(&in->files.ident, in->st, &IDENT_DBS);
    if (rc)
        return rc;
    rc = quarantine_init(&in->quarantine, in->svc,
                         (uint64_t)opt->quarantine_max);
    if (rc)
        return rc;
    return KY_OK;
}

int intake_run(const svc_config_t *cfg, const intake_options_t *opt)
{
    static const svc_ops_t ops = {
        .handle = intake_handle,
        .status = intake_status,
    };
    intake_t in = {0};
    int rc = intake_open(&in, cfg, opt);

    if (rc == 0)
        rc = svc_run(in.svc, &ops, &in);
    else
        log_error("event=start_failed err=\"%s\"", err_str(rc));
    svc_destroy(&in.svc);
    hashidx_close(&in.events);
    hashidx_close(&in.files.ident);
    agents_free(&in.agents);
    validate_use_regions(NULL);
    regions_free(&in.regions);
    return rc ? 1 : 0;
}
