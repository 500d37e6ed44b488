/*
 * intake.c - turns events from outside into customer files.
 *
 * Each lead finds its customer by keyed hashes of the normalised mobile,
 * the WeChat id and the e-mail (never by name), or creates one; merges what
 * it says into the file; assigns an owning agent to a new file; and sends
 * grading a snapshot of the file without personal data, through the outbox,
 * in the same transaction. Listings pass through to grading. Each request
 * gets one Reply; the first answer to a (source, source event id) is kept,
 * so a source that sends an event again gets that answer and changes
 * nothing. Rejected events are answered but not kept, so a corrected event
 * may come again under the same id.
 *
 * Store layout (one LMDB environment):
 *   events     keyed hash of (source, source event id) -> first Reply
 *   ident      keyed hash of a mobile, WeChat id or e-mail -> customer id
 *   customers  customer id -> CustomerView without personal fields
 *   persons    customer id -> CustomerView with only the personal fields
 *   history    (customer id, event id) -> the LeadEvent that changed it
 *   contacts   (customer id, contact id) -> ContactLog
 * Customer, event and contact ids grow with time, so writes append. All a
 * person's records are keyed by, or prefixed with, the customer id, and
 * personal fields live apart from the rest, so that a later issue can
 * encrypt them per customer and erase a customer completely.
 */
#include "intake.h"

#include "agents.h"
#include "clock.h"
#include "err.h"
#include "ident.h"
#include "logger.h"
#include "phone.h"
#include "text.h"
#include "validate.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef Keyuan__V1__CustomerView CustomerView;
typedef Keyuan__V1__LeadEvent LeadEvent;

typedef struct intake {
    svc_t *svc;
    store_t *st;
    MDB_dbi events, ident, customers, persons, history, contacts;
    ident_t keys;
    agents_t agents;
} intake_t;

#define STATUS_ACCEPTED KEYUAN__V1__REPLY_STATUS__REPLY_STATUS_ACCEPTED
#define STATUS_DUPLICATE KEYUAN__V1__REPLY_STATUS__REPLY_STATUS_DUPLICATE
#define STATUS_REJECTED KEYUAN__V1__REPLY_STATUS__REPLY_STATUS_REJECTED

/* ---- replies and the first-answer table ------------------------------- */

static int reject(intake_t *in, Envelope *reply, const check_fail_t *f)
{
    svc_count(in->svc, "rejected", 1);
    log_info("event=rejected code=%s field=%s", f->code, f->field);
    svc_reply(in->svc, reply, STATUS_REJECTED, f->code, f->field, f->message);
    return KY_OK;
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
    int rc = store_get_msg(txn, in->events, key, IDENT_HASH_BYTES,
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
    return store_put_msg(txn, in->events, key, IDENT_HASH_BYTES, &r->base);
}

/* ---- identity ---------------------------------------------------------- */

/* The identifiers of a lead, normalised for matching. */
typedef struct idents {
    char mobile[PHONE_E164_MAX];
    const char *wechat;
    char *email; /* lower-cased copy (svc_alloc) */
    uint8_t hash[3][IDENT_HASH_BYTES];
    bool has[3];
} idents_t;

static void idents_hash(intake_t *in, idents_t *ids)
{
    if (ids->mobile[0]) {
        ident_hash(&in->keys, IDENT_MOBILE, ids->mobile, strlen(ids->mobile),
                   ids->hash[0]);
        ids->has[0] = true;
    }
    if (ids->wechat && *ids->wechat) {
        ident_hash(&in->keys, IDENT_WECHAT, ids->wechat, strlen(ids->wechat),
                   ids->hash[1]);
        ids->has[1] = true;
    }
    if (ids->email && *ids->email) {
        ident_hash(&in->keys, IDENT_EMAIL, ids->email, strlen(ids->email),
                   ids->hash[2]);
        ids->has[2] = true;
    }
}

/* Normalises the lead's contacts; false (with *f) for a bad mobile. */
static bool idents_make(intake_t *in, const Keyuan__V1__Contacts *c,
                        idents_t *ids, check_fail_t *f)
{
    const char *why;

    memset(ids, 0, sizeof *ids);
    if (c->mobile && *c->mobile &&
        phone_normalize(c->mobile, ids->mobile, sizeof ids->mobile, &why)) {
        f->code = "invalid_phone";
        f->field = "contacts.mobile";
        snprintf(f->message, sizeof f->message, "contacts.mobile: %s", why);
        return false;
    }
    ids->wechat = c->wechat_id;
    if (c->email && *c->email) {
        ids->email = svc_strdup(in->svc, c->email);
        for (char *p = ids->email; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    }
    idents_hash(in, ids);
    return true;
}

/* The customer any identifier already points to; 0 when none does. */
static int idents_find(intake_t *in, MDB_txn *txn, const idents_t *ids,
                       uint64_t *customer_id)
{
    *customer_id = 0;
    for (int i = 0; i < 3; i++) {
        MDB_val v;
        int rc;

        if (!ids->has[i])
            continue;
        rc = store_get(txn, in->ident, ids->hash[i], IDENT_HASH_BYTES, &v);
        if (rc == KY_ENOTFOUND)
            continue;
        if (rc)
            return rc;
        if (*customer_id == 0)
            *customer_id = wire_get_u64(v.mv_data);
        else if (wire_get_u64(v.mv_data) != *customer_id)
            log_warn("event=identity_conflict customer=%llu other=%llu",
                     (unsigned long long)*customer_id,
                     (unsigned long long)wire_get_u64(v.mv_data));
    }
    return KY_OK;
}

/* Points every identifier not yet known at customer_id. */
static int idents_link(intake_t *in, MDB_txn *txn, const idents_t *ids,
                       uint64_t customer_id)
{
    uint8_t id[8];

    wire_put_u64(id, customer_id);
    for (int i = 0; i < 3; i++) {
        int rc;

        if (!ids->has[i])
            continue;
        rc = store_put(txn, in->ident, ids->hash[i], IDENT_HASH_BYTES, id, 8,
                       MDB_NOOVERWRITE);
        if (rc && rc != KY_EEXISTS)
            return rc;
    }
    return KY_OK;
}

/* ---- the customer file ------------------------------------------------- */

/* Later non-zero values win; lists are replaced when the event has one. */
static void needs_merge(Keyuan__V1__Needs *out, const Keyuan__V1__Needs *old,
                        const Keyuan__V1__Needs *ev)
{
    static const Keyuan__V1__Needs none = KEYUAN__V1__NEEDS__INIT;

    old = old ? old : &none;
    ev = ev ? ev : &none;
    *out = *old;
#define TAKE(f)                                                                \
    if (ev->f)                                                                 \
    out->f = ev->f
    TAKE(purpose);
    TAKE(bedrooms);
    TAKE(living_rooms);
    TAKE(area_min_m2);
    TAKE(area_max_m2);
    TAKE(budget_min_wan);
    TAKE(budget_max_wan);
    TAKE(timeline_months);
    TAKE(stage);
#undef TAKE
#define TAKE_STR(f)                                                            \
    if (ev->f && *ev->f)                                                       \
    out->f = ev->f
    TAKE_STR(floor_preference);
    TAKE_STR(orientation_preference);
    TAKE_STR(decoration_preference);
#undef TAKE_STR
    if (ev->n_region_codes) {
        out->n_region_codes = ev->n_region_codes;
        out->region_codes = ev->region_codes;
    }
    if (ev->n_priorities) {
        out->n_priorities = ev->n_priorities;
        out->priorities = ev->priorities;
    }
}

/* Adds source to the file's list of sources unless it is there. */
static void sources_add(intake_t *in, CustomerView *cv, const char *source)
{
    char **grown;

    for (size_t i = 0; i < cv->n_sources; i++)
        if (strcmp(cv->sources[i], source) == 0)
            return;
    grown = svc_alloc(in->svc, (cv->n_sources + 1) * sizeof *grown);
    if (cv->n_sources)
        memcpy(grown, cv->sources, cv->n_sources * sizeof *grown);
    grown[cv->n_sources++] = (char *)source;
    cv->sources = grown;
}

/* Reads a stored view, or leaves *out NULL when there is none yet. */
static int view_load(intake_t *in, MDB_txn *txn, MDB_dbi db, const uint8_t *key,
                     CustomerView **out)
{
    int rc =
        store_get_msg(txn, db, key, 8, &keyuan__v1__customer_view__descriptor,
                      (ProtobufCMessage **)out);

    if (rc == KY_ENOTFOUND) {
        *out = NULL;
        return KY_OK;
    }
    if (rc == 0)
        svc_defer_free(in->svc, &(*out)->base);
    return rc;
}

static Google__Protobuf__Timestamp *ts_new(intake_t *in, int64_t ms)
{
    Google__Protobuf__Timestamp *ts = svc_alloc(in->svc, sizeof *ts);

    google__protobuf__timestamp__init(ts);
    wire_ts_set(ts, ms);
    return ts;
}

/* Chooses the owning agent of a new file and says why in the log. */
static const char *assign_agent(intake_t *in, MDB_txn *txn, const LeadEvent *ev,
                                uint64_t customer_id)
{
    const agent_t *ag = agents_active(&in->agents, ev->agent_id);
    uint64_t turn;

    if (ag) {
        log_info("event=agent_assigned customer=%llu agent=%s reason=source",
                 (unsigned long long)customer_id, ag->id);
        return ag->id;
    }
    if (store_meta_get(in->st, txn, "round_robin", &turn) != 0 ||
        store_meta_put(in->st, txn, "round_robin", turn + 1) != 0)
        turn = customer_id; /* still a fair spread; the store will fail */
    ag = agents_pick(&in->agents, turn);
    log_info("event=agent_assigned customer=%llu agent=%s reason=round_robin",
             (unsigned long long)customer_id, ag->id);
    return ag->id;
}

/* Writes the non-personal part of the file; fills *cv with the result. */
static int file_update(intake_t *in, MDB_txn *txn, const LeadEvent *ev,
                       const uint8_t *key, uint64_t customer_id,
                       CustomerView *cv)
{
    Keyuan__V1__Needs *needs = svc_alloc(in->svc, sizeof *needs);
    CustomerView *old;
    int64_t now = clock_now_ms();
    int rc = view_load(in, txn, in->customers, key, &old);

    if (rc)
        return rc;
    if (old)
        *cv = *old;
    else {
        keyuan__v1__customer_view__init(cv);
        cv->customer_id = customer_id;
        cv->created_at = ts_new(in, now);
        cv->agent_id = (char *)assign_agent(in, txn, ev, customer_id);
    }
    needs_merge(needs, cv->needs, ev->needs);
    cv->needs = needs;
    cv->updated_at = ts_new(in, now);
    sources_add(in, cv, ev->source);
    return store_put_msg(txn, in->customers, key, 8, &cv->base);
}

/* Writes the personal part; fields already known are kept as they were. */
static int person_update(intake_t *in, MDB_txn *txn, const LeadEvent *ev,
                         const uint8_t *key, const idents_t *ids)
{
    CustomerView person = KEYUAN__V1__CUSTOMER_VIEW__INIT, *old;
    int rc = view_load(in, txn, in->persons, key, &old);

    if (rc)
        return rc;
    if (old)
        person = *old;
#define KEEP_OR(f, v)                                                          \
    if ((person.f == NULL || !*person.f) && (v) && *(v))                       \
    person.f = (char *)(v)
    KEEP_OR(name, ev->name);
    KEEP_OR(mobile, ids->mobile);
    KEEP_OR(wechat_id, ids->wechat);
    KEEP_OR(email, ids->email);
    KEEP_OR(note, ev->note);
#undef KEEP_OR
    return store_put_msg(txn, in->persons, key, 8, &person.base);
}

/* Keeps the event in the file's history, keyed (customer id, event id). */
static int history_add(intake_t *in, MDB_txn *txn, MDB_dbi db,
                       uint64_t customer_id, const ProtobufCMessage *msg)
{
    uint8_t key[16];
    uint64_t id;
    int rc = store_next_id(in->st, txn, &id);

    if (rc)
        return rc;
    wire_put_u64(key, customer_id);
    wire_put_u64(key + 8, id);
    return store_put_msg(txn, db, key, sizeof key, msg);
}

/* Queues the file, without personal data, for grading. */
static int snapshot_send(intake_t *in, MDB_txn *txn, const CustomerView *cv,
                         bool is_new, const char *cause,
                         const Keyuan__V1__ContactLog *contact)
{
    Envelope env = KEYUAN__V1__ENVELOPE__INIT;
    Keyuan__V1__CustomerSnapshot snap = KEYUAN__V1__CUSTOMER_SNAPSHOT__INIT;
    outbox_t *ob = svc_outbox(in->svc);

    if (ob == NULL)
        return KY_OK;
    snap.customer_id = cv->customer_id;
    snap.agent_id = cv->agent_id;
    snap.needs = cv->needs;
    snap.created_at = cv->created_at;
    snap.updated_at = cv->updated_at;
    snap.is_new = is_new;
    snap.cause = (char *)cause;
    if (contact) {
        snap.last_contact_at = contact->contacted_at;
        snap.next_step = contact->next_step;
    }
    env.body_case = KEYUAN__V1__ENVELOPE__BODY_CUSTOMER;
    env.customer = &snap;
    return outbox_append(ob, txn, &env);
}

/* ---- requests ------------------------------------------------------------ */

static int on_lead(intake_t *in, MDB_txn *txn, const LeadEvent *ev,
                   Envelope *reply)
{
    uint8_t evkey[IDENT_HASH_BYTES], key[8];
    CustomerView cv;
    check_fail_t f;
    idents_t ids;
    uint64_t customer_id;
    bool created;
    int rc;

    if (!check_lead(ev, &f) || !idents_make(in, ev->contacts, &ids, &f))
        return reject(in, reply, &f);
    event_key(in, ev->source, ev->source_event_id, evkey);
    if ((rc = answer_again(in, txn, evkey, reply)) != KY_ENOTFOUND)
        return rc;

    if ((rc = idents_find(in, txn, &ids, &customer_id)) != 0)
        return rc;
    created = customer_id == 0;
    if (created && (rc = store_next_id(in->st, txn, &customer_id)) != 0)
        return rc;
    wire_put_u64(key, customer_id);

    if ((rc = idents_link(in, txn, &ids, customer_id)) != 0 ||
        (rc = file_update(in, txn, ev, key, customer_id, &cv)) != 0 ||
        (rc = person_update(in, txn, ev, key, &ids)) != 0 ||
        (rc = history_add(in, txn, in->history, customer_id, &ev->base)) ||
        (rc = snapshot_send(in, txn, &cv, created, "lead", NULL)) != 0)
        return rc;

    svc_count(in->svc, created ? "customers_created" : "customers_updated", 1);
    log_info("event=lead_accepted customer=%llu created=%d source=%s",
             (unsigned long long)customer_id, created, ev->source);
    return accept(in, txn, evkey, reply, customer_id, created);
}

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

static int on_contact(intake_t *in, MDB_txn *txn,
                      const Keyuan__V1__ContactLog *ev, Envelope *reply)
{
    uint8_t evkey[IDENT_HASH_BYTES], key[8];
    CustomerView *old, cv;
    check_fail_t f = {"not_found", "customerId",
                      "customerId: no such customer"};
    int rc;

    if (!check_contact(ev, &f))
        return reject(in, reply, &f);
    event_key(in, ev->source, ev->source_event_id, evkey);
    if ((rc = answer_again(in, txn, evkey, reply)) != KY_ENOTFOUND)
        return rc;
    wire_put_u64(key, ev->customer_id);
    if ((rc = view_load(in, txn, in->customers, key, &old)) != 0)
        return rc;
    if (old == NULL)
        return reject(in, reply, &f);

    cv = *old;
    cv.contact_count++;
    cv.updated_at = ts_new(in, clock_now_ms());
    if ((rc = store_put_msg(txn, in->customers, key, 8, &cv.base)) != 0 ||
        (rc = history_add(in, txn, in->contacts, ev->customer_id, &ev->base)) !=
            0 ||
        (rc = snapshot_send(in, txn, &cv, false, "contact", ev)) != 0)
        return rc;
    svc_count(in->svc, "contacts", 1);
    return accept(in, txn, evkey, reply, ev->customer_id, false);
}

/* Finds the customer id a query names, by id or by mobile number. */
static int query_target(intake_t *in, MDB_txn *txn,
                        const Keyuan__V1__CustomerQuery *q, uint64_t *id,
                        check_fail_t *f)
{
    idents_t ids;
    Keyuan__V1__Contacts c = KEYUAN__V1__CONTACTS__INIT;

    *id = q->customer_id;
    if (*id || q->mobile == NULL || *q->mobile == '\0')
        return KY_OK;
    c.mobile = q->mobile;
    if (!text_valid_utf8(q->mobile, strlen(q->mobile)) ||
        !idents_make(in, &c, &ids, f)) {
        f->code = "invalid_phone";
        f->field = "mobile";
        snprintf(f->message, sizeof f->message, "mobile: not a phone number");
        return KY_EINVAL;
    }
    return idents_find(in, txn, &ids, id);
}

static int on_query(intake_t *in, MDB_txn *txn,
                    const Keyuan__V1__CustomerQuery *q, Envelope *reply)
{
    check_fail_t f = {"not_found", "customerId", "no such customer"};
    CustomerView *file, *person, *out;
    uint8_t key[8];
    uint64_t id;
    int rc = query_target(in, txn, q, &id, &f);

    if (rc == KY_EINVAL)
        return reject(in, reply, &f);
    if (rc)
        return rc;
    wire_put_u64(key, id);
    if ((rc = view_load(in, txn, in->customers, key, &file)) != 0 ||
        (rc = view_load(in, txn, in->persons, key, &person)) != 0)
        return rc;
    if (file == NULL)
        return reject(in, reply, &f);

    out = svc_alloc(in->svc, sizeof *out);
    *out = *file;
    if (person) {
        out->name = person->name;
        out->mobile = person->mobile;
        out->wechat_id = person->wechat_id;
        out->email = person->email;
        out->note = person->note;
    }
    reply->body_case = KEYUAN__V1__ENVELOPE__BODY_CUSTOMER_VIEW;
    reply->customer_view = out;
    return KY_OK;
}

static int intake_handle(void *self, MDB_txn *txn, const Envelope *msg,
                         Envelope *reply)
{
    intake_t *in = self;

    switch (msg->body_case) {
    case KEYUAN__V1__ENVELOPE__BODY_LEAD:
        return on_lead(in, txn, msg->lead, reply);
    case KEYUAN__V1__ENVELOPE__BODY_LISTING:
        return on_listing(in, txn, msg->listing, reply);
    case KEYUAN__V1__ENVELOPE__BODY_CONTACT:
        return on_contact(in, txn, msg->contact, reply);
    case KEYUAN__V1__ENVELOPE__BODY_CUSTOMER_QUERY:
        return on_query(in, txn, msg->customer_query, reply);
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

    svc_status_add(in->svc, st, "customers", store_count(txn, in->customers));
    svc_status_add(in->svc, st, "events", store_count(txn, in->events));
    svc_status_add(in->svc, st, "contact_log", store_count(txn, in->contacts));
}

/* ---- start and stop -------------------------------------------------------
 */

static int intake_open(intake_t *in, const svc_config_t *cfg,
                       const intake_options_t *opt)
{
    char err[256], key_path[4096];
    int rc;

    if (agents_load(&in->agents, opt->agents_path, err, sizeof err) != 0) {
        log_error("event=agents_unusable detail=\"%s\"", err);
        return KY_ECONFIG;
    }
    in->svc = svc_new(cfg, &rc);
    if (in->svc == NULL)
        return rc;
    snprintf(key_path, sizeof key_path, "%s/index.key", cfg->state_dir);
    rc = ident_load_key(&in->keys, opt->key_path ? opt->key_path : key_path);
    if (rc)
        return rc;
    in->st = svc_store(in->svc);
    in->events = store_db(in->st, "events");
    in->ident = store_db(in->st, "ident");
    in->customers = store_db(in->st, "customers");
    in->persons = store_db(in->st, "persons");
    in->history = store_db(in->st, "history");
    in->contacts = store_db(in->st, "contacts");
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
    agents_free(&in.agents);
    return rc ? 1 : 0;
}
