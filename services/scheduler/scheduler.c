/*
 * scheduler.c - planning follow-ups and firing them when due.
 *
 * LMDB layout: the named databases of the scheduler's store. Numbers in
 * keys are big-endian u64 (wire_put_u64), so that LMDB's byte order is
 * numeric order.
 *
 *   followups    id -> Reminder            every follow-up, pending or
 *                                          fired: kind, due_at, cycle,
 *                                          grade, agent, customer, text;
 *                                          fired_at once it fired. ids
 *                                          come from store_next_id(), so
 *                                          new records append.
 *   due          (due_ms, id) -> empty     the pending follow-ups in order
 *                                          of due time: "what is due now"
 *                                          is a cursor walk from the front.
 *   plans        (customer, kind u8) -> id the customer's one pending
 *                                          follow-up of that kind.
 *   fired        id -> fired_at ms         what fired, and when; never
 *                                          deleted.
 *   by_customer  (customer, id) -> empty   every follow-up of a customer,
 *                                          for queries by customer and so
 *                                          that erasing a customer can
 *                                          find all of its records.
 *   meta         sched_cancelled           pending follow-ups cancelled.
 *                sched_dropped             due entries dropped unfired:
 *                                          no record (a damaged store).
 *
 * Invariants, kept because each change happens in one write transaction:
 * a follow-up is pending exactly when it has a due entry and no fired
 * entry; plans points only at pending follow-ups. A pending follow-up
 * that is replaced or cancelled before it fired is deleted everywhere:
 * it never happened.
 *
 * Totals: every follow-up planned is pending (a due entry), fired (a fired
 * entry), cancelled or dropped, so sched_totals() counts fired and pending
 * in their databases and adds the two counters, rather than a planned and
 * a fired counter being read and written for every follow-up. Stores
 * written before kept those two in meta as sched_planned and sched_fired;
 * they held the same numbers and are no longer read. Erasing a customer
 * (to come) must count the fired entries it deletes.
 *
 * Firing deletes the due entry in the transaction that appends the
 * Reminder to the outbox, so a follow-up fires once, even across crashes.
 */
#include "scheduler.h"

#include "clock.h"
#include "err.h"
#include "logger.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef Keyuan__V1__Reminder reminder_t;

#define KIND_SPEED KEYUAN__V1__REMINDER_KIND__REMINDER_KIND_SPEED_TO_LEAD
#define KIND_CADENCE KEYUAN__V1__REMINDER_KIND__REMINDER_KIND_CADENCE
#define KIND_NEXT_STEP KEYUAN__V1__REMINDER_KIND__REMINDER_KIND_NEXT_STEP

/* What a next-step reminder says when the agent wrote no action. */
#define NEXT_STEP_DEFAULT_TEXT "按约定跟进客户"

const char *const sched_db_names[] = {
    "followups", "due", "plans", "fired", "by_customer", NULL,
};

/* ---- keys --------------------------------------------------------------- */

static void key_due(uint8_t k[16], int64_t due_ms, uint64_t id)
{
    wire_put_u64(k, due_ms > 0 ? (uint64_t)due_ms : 0);
    wire_put_u64(k + 8, id);
}

static void key_plan(uint8_t k[9], uint64_t customer, int kind)
{
    wire_put_u64(k, customer);
    k[8] = (uint8_t)kind;
}

static void key_customer(uint8_t k[16], uint64_t customer, uint64_t id)
{
    wire_put_u64(k, customer);
    wire_put_u64(k + 8, id);
}

/* True when key k sorts after the 16-byte key mine (LMDB's byte order). */
static bool key_after(const MDB_val *k, const uint8_t mine[16])
{
    size_t n = k->mv_size < 16 ? k->mv_size : 16;
    int c = memcmp(k->mv_data, mine, n);

    return c > 0 || (c == 0 && k->mv_size > 16);
}

/* ---- records ------------------------------------------------------------ */

static int meta_add(store_t *st, MDB_txn *txn, const char *name, uint64_t n)
{
    uint64_t v;
    int rc = store_meta_get(st, txn, name, &v);

    return rc ? rc : store_meta_put(st, txn, name, v + n);
}

int sched_followup_get(store_t *st, MDB_txn *txn, uint64_t id,
                       Keyuan__V1__Reminder **out)
{
    uint8_t k[8];

    wire_put_u64(k, id);
    return store_get_msg(txn, store_db(st, "followups"), k, 8,
                         &keyuan__v1__reminder__descriptor,
                         (ProtobufCMessage **)out);
}

/*
 * Keys that sort after every other key of their database are put with
 * MDB_APPEND: LMDB then goes down the right edge of the tree instead of
 * searching it, which halves the cost of a put, and fills pages to the
 * brim. Where a key is not last after all, LMDB says MDB_KEYEXIST before
 * it changes anything, and the key is put the usual way: a hint that is
 * wrong costs a little time, never a record. The hints planning passes:
 */

/* The follow-up's id is the newest given out, and no record with an older
 * id is added after it. */
#define LAST_ID 1u

/* "Fresh": the customer had no follow-up before this grade result, so it
 * is mostly the newest customer, and there is nothing to look up. */
#define LAST_CUSTOMER 2u

/* store_put() of key, after every other key of db when last is set. */
static int put_last(MDB_txn *txn, MDB_dbi db, const void *key, size_t klen,
                    const void *val, size_t vlen, bool last)
{
    MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
    int rc = last ? mdb_put(txn, db, &k, &v, MDB_APPEND) : MDB_KEYEXIST;

    if (rc == MDB_KEYEXIST)
        return store_put(txn, db, key, klen, val, vlen, 0);
    return store_err(rc, "put");
}

/* Writes follow-up r; last: its id is the newest (see put_last()). */
static int followup_put(store_t *st, MDB_txn *txn, const reminder_t *r,
                        bool last)
{
    MDB_dbi db = store_db(st, "followups");
    uint8_t k[8];
    MDB_val key = {8, k}, val = {0, NULL};
    int rc = MDB_KEYEXIST;

    wire_put_u64(k, r->reminder_id);
    if (last) {
        val.mv_size = protobuf_c_message_get_packed_size(&r->base);
        rc = mdb_put(txn, db, &key, &val, MDB_RESERVE | MDB_APPEND);
    }
    if (rc == MDB_KEYEXIST)
        return store_put_msg(txn, db, k, 8, &r->base);
    if (rc)
        return store_err(rc, "put_msg");
    protobuf_c_message_pack(&r->base, val.mv_data);
    return KY_OK;
}

int sched_pending_id(store_t *st, MDB_txn *txn, uint64_t customer,
                     Keyuan__V1__ReminderKind kind, uint64_t *id)
{
    uint8_t k[9];
    MDB_val v;
    int rc;

    key_plan(k, customer, kind);
    rc = store_get(txn, store_db(st, "plans"), k, 9, &v);
    if (rc)
        return rc;
    if (v.mv_size != 8)
        return KY_EDECODE;
    *id = wire_get_u64(v.mv_data);
    return KY_OK;
}

/* The customer's pending follow-up of kind in *out, or NULL if none. */
static int pending_get(store_t *st, MDB_txn *txn, uint64_t customer, int kind,
                       reminder_t **out)
{
    uint64_t id;
    int rc = sched_pending_id(st, txn, customer, kind, &id);

    *out = NULL;
    if (rc == 0)
        rc = sched_followup_get(st, txn, id, out);
    return rc == KY_ENOTFOUND ? KY_OK : rc;
}

int sched_customer_each(store_t *st, MDB_txn *txn, uint64_t customer,
                        int (*fn)(void *arg, uint64_t id), void *arg)
{
    uint8_t start[16];
    MDB_cursor *cur;
    MDB_val k = {16, start}, v;
    int rc = mdb_cursor_open(txn, store_db(st, "by_customer"), &cur), mrc;

    if (rc)
        return store_err(rc, "cursor_open");

    /* Step back from the first key after the customer's range, or from
     * the last key when none is after it: a customer whose first
     * follow-up is being planned is mostly the newest, so that one
     * look at the end of the tree is all the walk costs. */
    key_customer(start, customer, UINT64_MAX);
    mrc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    if (mrc == 0 && key_after(&k, start)) {
        k.mv_size = 16;
        k.mv_data = start;
        mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        mrc = mdb_cursor_get(cur, &k, &v, mrc == 0 ? MDB_PREV : MDB_LAST);
    }
    while (rc == 0 && mrc == 0 && k.mv_size == 16 &&
           wire_get_u64(k.mv_data) == customer) {
        rc = fn(arg, wire_get_u64((uint8_t *)k.mv_data + 8));
        if (rc == 0)
            mrc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
    }
    mdb_cursor_close(cur);
    if (rc < 0)
        return rc;
    return mrc == 0 || mrc == MDB_NOTFOUND ? KY_OK : store_err(mrc, "walk");
}

/* ---- planning and cancelling -------------------------------------------- */

/*
 * A new customer's speed-to-lead reminder is mostly due at once: planned,
 * then fired by sched_fire_due in the same transaction, its due and plans
 * entries are written only to be deleted again and its record read back.
 * sched_apply_grade() holds one that is due at once instead: it gets its
 * id and customer entry as planned, and its record is stored as fired
 * right away, while its id is the newest (plan_hold). Once the rest of
 * the grade is planned, it is fired (when it is first in line, as the due
 * index would have had it: the usual case) or its record is stored again
 * as pending, like any other (hold_settle).
 */
typedef struct held {
    bool on;                          /* apply_grade may hold one */
    bool holding;                     /* r is held: stored as fired, not
                                         sent, not in the due index */
    reminder_t r;                     /* the held reminder */
    Google__Protobuf__Timestamp due;  /* r.due_at */
    Google__Protobuf__Timestamp when; /* r.fired_at, when fired at once */
    char text[96];                    /* r.text */
} held_t;

/*
 * The part of planning r that firing keeps: an id and the customer's
 * entry. plan_index() makes it pending.
 */
static int plan_begin(store_t *st, MDB_txn *txn, reminder_t *r, unsigned last)
{
    uint8_t kc[16];
    int rc = store_next_id(st, txn, &r->reminder_id);

    if (rc)
        return rc;
    key_customer(kc, r->customer_id, r->reminder_id);
    rc = put_last(txn, store_db(st, "by_customer"), kc, 16, "", 0,
                  last & LAST_CUSTOMER);
    if (rc == 0)
        log_debug("event=followup_planned id=%llu customer=%llu kind=%d "
                  "due_ms=%lld cycle=%u",
                  (unsigned long long)r->reminder_id,
                  (unsigned long long)r->customer_id, (int)r->kind,
                  (long long)wire_ts_ms(r->due_at), r->cycle);
    return rc;
}

/*
 * Stores r, begun by plan_begin(), as pending: record, due and plans.
 * last: LAST_ID, LAST_CUSTOMER (also: no kind after r's planned yet).
 */
static int plan_index(store_t *st, MDB_txn *txn, const reminder_t *r,
                      unsigned last)
{
    uint8_t kd[16], kp[9], id[8];
    int rc;

    key_due(kd, wire_ts_ms(r->due_at), r->reminder_id);
    key_plan(kp, r->customer_id, r->kind);
    wire_put_u64(id, r->reminder_id);
    rc = followup_put(st, txn, r, last & LAST_ID);
    if (rc == 0)
        rc = store_put(txn, store_db(st, "due"), kd, 16, "", 0, 0);
    if (rc == 0)
        rc = put_last(txn, store_db(st, "plans"), kp, 9, id, 8,
                      last & LAST_CUSTOMER);
    return rc;
}

/*
 * Stores r as a new pending follow-up: gives it an id and indexes it by
 * due time, by customer, and as the customer's pending one of its kind.
 * last: LAST_ID, LAST_CUSTOMER.
 */
static int plan_insert(store_t *st, MDB_txn *txn, reminder_t *r, unsigned last)
{
    int rc = plan_begin(st, txn, r, last);

    return rc ? rc : plan_index(st, txn, r, last);
}

/*
 * Deletes pending follow-up r everywhere, as if it was never planned.
 * With replaced, the caller plans its successor next, whose plans entry
 * overwrites r's: that entry is left for it rather than deleted and
 * written again.
 */
static int plan_delete(store_t *st, MDB_txn *txn, const reminder_t *r,
                       bool replaced)
{
    uint8_t kd[16], kc[16], kp[9], id[8];
    int rc;

    key_due(kd, wire_ts_ms(r->due_at), r->reminder_id);
    key_customer(kc, r->customer_id, r->reminder_id);
    key_plan(kp, r->customer_id, r->kind);
    wire_put_u64(id, r->reminder_id);

    rc = store_del(txn, store_db(st, "due"), kd, 16);
    if (rc == 0)
        rc = store_del(txn, store_db(st, "by_customer"), kc, 16);
    if (rc == 0 && !replaced)
        rc = store_del(txn, store_db(st, "plans"), kp, 9);
    if (rc == 0)
        rc = store_del(txn, store_db(st, "followups"), id, 8);
    if (rc == 0)
        rc = meta_add(st, txn, "sched_cancelled", 1);
    return rc;
}

/*
 * Cancels the customer's pending follow-up of kind, if there is one;
 * replaced as for plan_delete().
 */
static int plan_cancel_as(store_t *st, MDB_txn *txn, uint64_t customer,
                          int kind, bool replaced)
{
    uint8_t kp[9];
    reminder_t *r;
    int rc = pending_get(st, txn, customer, kind, &r);

    if (rc == KY_EDECODE) { /* a broken record must not block the link */
        key_plan(kp, customer, kind);
        return store_del(txn, store_db(st, "plans"), kp, 9);
    }
    if (rc || r == NULL)
        return rc;
    rc = plan_delete(st, txn, r, replaced);
    if (rc == 0)
        log_debug("event=followup_cancelled id=%llu customer=%llu kind=%d",
                  (unsigned long long)r->reminder_id,
                  (unsigned long long)customer, kind);
    keyuan__v1__reminder__free_unpacked(r, NULL);
    return rc;
}

/* Cancels the customer's pending follow-up of kind, if there is one. */
static int plan_cancel(store_t *st, MDB_txn *txn, uint64_t customer, int kind)
{
    return plan_cancel_as(st, txn, customer, kind, false);
}

/* Cancels every pending follow-up of the customer, of every kind. */
static int plan_cancel_all(store_t *st, MDB_txn *txn, uint64_t customer)
{
    const ProtobufCEnumDescriptor *kinds =
        &keyuan__v1__reminder_kind__descriptor;
    int rc = KY_OK;

    for (unsigned i = 0; rc == KY_OK && i < kinds->n_values; i++)
        if (kinds->values[i].value != 0)
            rc = plan_cancel(st, txn, customer, kinds->values[i].value);
    return rc;
}

/* Gives pending follow-up r to agent when the customer changed hands. */
static int plan_keep(store_t *st, MDB_txn *txn, reminder_t *r,
                     const char *agent)
{
    char *was = r->agent_id;
    int rc;

    if (strcmp(was, agent) == 0)
        return KY_OK;
    r->agent_id = (char *)agent; /* borrowed only while it is packed */
    rc = followup_put(st, txn, r, false);
    r->agent_id = was;
    return rc;
}

/* A follow-up of gr's customer, not stored yet: the caller sets the rest. */
static void plan_init(reminder_t *r, Google__Protobuf__Timestamp *due_ts,
                      const Keyuan__V1__GradeResult *gr, int kind,
                      int64_t due_ms)
{
    keyuan__v1__reminder__init(r);
    google__protobuf__timestamp__init(due_ts);
    wire_ts_set(due_ts, due_ms > 0 ? due_ms : 0);
    r->customer_id = gr->customer_id;
    r->agent_id = gr->agent_id;
    r->grade = gr->grade;
    r->kind = kind;
    r->due_at = due_ts;
}

static const char *grade_label(int grade)
{
    switch (grade) {
    case KEYUAN__V1__GRADE__GRADE_A:
        return "A类";
    case KEYUAN__V1__GRADE__GRADE_B:
        return "B类";
    case KEYUAN__V1__GRADE__GRADE_C:
        return "C类";
    case KEYUAN__V1__GRADE__GRADE_LEAD:
        return "线索";
    }
    return "";
}

/*
 * Texts are put together by hand: through snprintf() they cost as much as
 * the rest of planning a follow-up. text_add() appends n bytes of s to
 * out (len bytes) at *at, cutting where snprintf() would.
 */
static void text_add(char *out, size_t len, size_t *at, const char *s, size_t n)
{
    if (n > len - 1 - *at)
        n = len - 1 - *at;
    memcpy(out + *at, s, n);
    *at += n;
    out[*at] = '\0';
}

#define TEXT_ADD(out, len, at, literal)                                        \
    text_add(out, len, at, literal, sizeof literal - 1)

/* Appends v in decimal, as %lld would. */
static void text_add_int(char *out, size_t len, size_t *at, int64_t v)
{
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    char d[21];
    size_t n = sizeof d;

    do
        d[--n] = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    if (v < 0)
        d[--n] = '-';
    text_add(out, len, at, d + n, sizeof d - n);
}

static void cadence_text(char *out, size_t len, int grade, uint32_t cycle)
{
    const char *label = grade_label(grade);
    size_t at = 0;

    text_add(out, len, &at, label, strlen(label));
    TEXT_ADD(out, len, &at, "客户定期跟进（第");
    text_add_int(out, len, &at, cycle);
    TEXT_ADD(out, len, &at, "次）");
}

static int cadence_days(const sched_rules_t *rules, int grade)
{
    return grade >= 0 && grade < SCHED_GRADES ? rules->cadence_days[grade] : 0;
}

/* ---- speed to lead ------------------------------------------------------ */

/* Finds the newest follow-up of one kind, for sched_customer_each(). */
typedef struct kind_search {
    store_t *st;
    MDB_txn *txn;
    int kind;
    reminder_t *found; /* owned; NULL until found */
    bool any;          /* the customer has a follow-up, of any kind */
} kind_search_t;

static int kind_search_visit(void *arg, uint64_t id)
{
    kind_search_t *ks = arg;
    reminder_t *r;
    int rc = sched_followup_get(ks->st, ks->txn, id, &r);

    ks->any = true;
    if (rc)
        return rc == KY_ENOTFOUND || rc == KY_EDECODE ? 0 : rc;
    if ((int)r->kind == ks->kind) {
        ks->found = r;
        return 1;
    }
    keyuan__v1__reminder__free_unpacked(r, NULL);
    return 0;
}

/*
 * The customer's newest follow-up of kind, pending or fired, or NULL;
 * *any (may be NULL) tells whether the customer has any follow-up.
 */
static int newest_of_kind(store_t *st, MDB_txn *txn, uint64_t customer,
                          int kind, reminder_t **out, bool *any)
{
    kind_search_t ks = {st, txn, kind, NULL, false};
    int rc = sched_customer_each(st, txn, customer, kind_search_visit, &ks);

    if (any)
        *any = ks.any;
    *out = ks.found;
    if (rc && ks.found) {
        keyuan__v1__reminder__free_unpacked(ks.found, NULL);
        *out = NULL;
    }
    return rc;
}

static void speed_text(char *out, size_t len, int64_t s)
{
    size_t at = 0;

    if (s == 0) {
        TEXT_ADD(out, len, &at, "新客户，请立即首次联系");
        return;
    }
    TEXT_ADD(out, len, &at, "新客户 ");
    text_add_int(out, len, &at, s % 60 == 0 ? s / 60 : s);
    if (s % 60 == 0)
        TEXT_ADD(out, len, &at, " 分钟内首次联系");
    else
        TEXT_ADD(out, len, &at, " 秒内首次联系");
}

/* True when a follow-up due at due_ms is due by now_ms, as the due index
 * orders times (before 1970 counts as 1970). */
static bool due_by(int64_t due_ms, int64_t now_ms)
{
    return (due_ms > 0 ? due_ms : 0) <= (now_ms > 0 ? now_ms : 0);
}

/*
 * Holds r, due by now_ms, in h (see held_t): planned, neither fired nor
 * due, its record stored as fired at now_ms.
 */
static int plan_hold(store_t *st, MDB_txn *txn, held_t *h, const reminder_t *r,
                     bool fresh, int64_t now_ms)
{
    size_t at = 0;
    int rc;

    h->r = *r;
    h->due = *r->due_at;
    h->r.due_at = &h->due;
    text_add(h->text, sizeof h->text, &at, r->text, strlen(r->text));
    h->r.text = h->text;
    h->holding = true;
    rc = plan_begin(st, txn, &h->r, fresh ? LAST_CUSTOMER : 0);
    if (rc)
        return rc;
    google__protobuf__timestamp__init(&h->when);
    wire_ts_set(&h->when, now_ms);
    h->r.fired_at = &h->when;
    rc = followup_put(st, txn, &h->r, true);
    h->r.fired_at = NULL;
    return rc;
}

/*
 * Plans a new customer's first call. *fresh is set when the customer had
 * no follow-up at all before it: then nothing else needs looking up.
 */
static int plan_speed_to_lead(store_t *st, MDB_txn *txn,
                              const sched_rules_t *rules,
                              const Keyuan__V1__GradeResult *gr, int64_t now_ms,
                              held_t *h, bool *fresh)
{
    int64_t base = wire_ts_ms(gr->created_at);
    Google__Protobuf__Timestamp due_ts;
    reminder_t r, *old;
    char text[96];
    bool any;
    int rc;

    rc = newest_of_kind(st, txn, gr->customer_id, KIND_SPEED, &old, &any);
    *fresh = rc == 0 && !any;
    if (rc || old) { /* a customer is new only once */
        if (old)
            keyuan__v1__reminder__free_unpacked(old, NULL);
        return rc;
    }

    base = (base ? base : now_ms) + rules->speed_to_lead_ms;
    plan_init(&r, &due_ts, gr, KIND_SPEED,
              sched_hours_shift(&rules->hours, base));
    speed_text(text, sizeof text, rules->speed_to_lead_ms / 1000);
    r.text = text;
    if (h && h->on && due_by(wire_ts_ms(r.due_at), now_ms))
        return plan_hold(st, txn, h, &r, *fresh, now_ms);
    return plan_insert(st, txn, &r, LAST_ID | (*fresh ? LAST_CUSTOMER : 0));
}

/* ---- cadence ------------------------------------------------------------ */

/*
 * When the next cadence follow-up is due (before working hours): one
 * period after the anchor, the last contact. When that time has passed,
 * a customer whose pending follow-up has the same grade was already
 * reminded for the past periods: an overdue pending one stays, else the
 * rhythm goes on from the first period after now. Anyone else (a first
 * grade, a new grade) is overdue and is reminded now.
 */
static int64_t cadence_due(int64_t anchor_ms, int days, const reminder_t *same,
                           int64_t now_ms)
{
    int64_t due = sched_hours_add_days(anchor_ms, days), k;

    if (due > now_ms)
        return due;
    if (same == NULL)
        return now_ms;
    if (wire_ts_ms(same->due_at) <= now_ms)
        return wire_ts_ms(same->due_at);

    /* Jump close with whole days, then step by calendar periods: DST
     * makes a local day 23 or 25 hours, so the guess may be one short. */
    k = (now_ms - due) / ((int64_t)days * CLOCK_MS_PER_DAY);
    due = sched_hours_add_days(due, (int)(k * days));
    while (due <= now_ms)
        due = sched_hours_add_days(due, days);
    return due;
}

/*
 * Plans the customer's next cadence follow-up, replacing or keeping the
 * pending one. last: LAST_ID, LAST_CUSTOMER (nothing to look up).
 */
static int plan_cadence(store_t *st, MDB_txn *txn, const sched_rules_t *rules,
                        const Keyuan__V1__GradeResult *gr, int64_t now_ms,
                        unsigned last)
{
    bool fresh = last & LAST_CUSTOMER;
    int days = cadence_days(rules, gr->grade);
    int64_t anchor = wire_ts_ms(gr->last_contact_at), due;
    Google__Protobuf__Timestamp due_ts;
    reminder_t r, *pend = NULL, *same;
    char text[96];
    int rc = KY_OK;

    if (days <= 0)
        return fresh ? KY_OK
                     : plan_cancel(st, txn, gr->customer_id, KIND_CADENCE);
    if (!fresh)
        rc = pending_get(st, txn, gr->customer_id, KIND_CADENCE, &pend);
    if (rc)
        return rc;

    same = pend && pend->grade == gr->grade ? pend : NULL;
    due = cadence_due(anchor ? anchor : now_ms, days, same, now_ms);
    due = sched_hours_shift(&rules->hours, due);
    if (same && wire_ts_ms(same->due_at) == due) {
        rc = plan_keep(st, txn, same, gr->agent_id);
        goto done;
    }

    if (pend)
        rc = plan_delete(st, txn, pend, true);
    if (rc == 0) {
        plan_init(&r, &due_ts, gr, KIND_CADENCE, due);
        r.cycle = 1;
        cadence_text(text, sizeof text, gr->grade, r.cycle);
        r.text = text;
        rc = plan_insert(st, txn, &r, last);
    }
done:
    if (pend)
        keyuan__v1__reminder__free_unpacked(pend, NULL);
    return rc;
}

/* ---- next step ---------------------------------------------------------- */

/*
 * Every grade result carries the customer's current next step, also when
 * grading re-grades for another reason; a step already planned or fired
 * (same due time, same action) is not planned again.
 */
static int plan_next_step(store_t *st, MDB_txn *txn, const sched_rules_t *rules,
                          const Keyuan__V1__GradeResult *gr, unsigned last)
{
    bool fresh = last & LAST_CUSTOMER;
    const Keyuan__V1__NextStep *ns = gr->next_step;
    const char *text =
        ns->action && *ns->action ? ns->action : NEXT_STEP_DEFAULT_TEXT;
    int64_t due = sched_hours_shift(&rules->hours, wire_ts_ms(ns->due_at));
    Google__Protobuf__Timestamp due_ts;
    reminder_t r, *old = NULL;
    int rc = KY_OK;

    if (!fresh)
        rc = newest_of_kind(st, txn, gr->customer_id, KIND_NEXT_STEP, &old,
                            NULL);
    if (rc)
        return rc;
    if (old && wire_ts_ms(old->due_at) == due && strcmp(old->text, text) == 0) {
        rc = old->fired_at ? KY_OK : plan_keep(st, txn, old, gr->agent_id);
        keyuan__v1__reminder__free_unpacked(old, NULL);
        return rc;
    }
    if (old)
        keyuan__v1__reminder__free_unpacked(old, NULL);

    if (!fresh)
        rc = plan_cancel_as(st, txn, gr->customer_id, KIND_NEXT_STEP, true);
    if (rc)
        return rc;
    plan_init(&r, &due_ts, gr, KIND_NEXT_STEP, due);
    r.text = (char *)text;
    return plan_insert(st, txn, &r, last);
}

/* ---- a grade result ----------------------------------------------------- */

static int plan_grade(store_t *st, MDB_txn *txn, const sched_rules_t *rules,
                      const Keyuan__V1__GradeResult *gr, int64_t now_ms,
                      held_t *h)
{
    bool fresh = false; /* no follow-up of the customer before this one */
    unsigned last;
    int rc = KY_OK;

    if (gr->customer_id == 0)
        return KY_EINVAL;

    /* Merged into another customer: that customer's results plan the
     * follow-ups now, so this one keeps none. */
    if (gr->merged_into) {
        log_info("event=followups_cancelled customer=%llu reason=merged "
                 "into=%llu",
                 (unsigned long long)gr->customer_id,
                 (unsigned long long)gr->merged_into);
        return plan_cancel_all(st, txn, gr->customer_id);
    }

    /* Do not disturb: nothing new, and the routine cadence stops. A next
     * step or first call already planned stays: the agent agreed it with
     * the customer, or the customer just asked to be called. */
    if (gr->do_not_disturb) {
        log_info("event=followups_paused customer=%llu "
                 "reason=do_not_disturb",
                 (unsigned long long)gr->customer_id);
        return plan_cancel(st, txn, gr->customer_id, KIND_CADENCE);
    }
    if (gr->is_new)
        rc = plan_speed_to_lead(st, txn, rules, gr, now_ms, h, &fresh);
    /* A contact logged by the agent after the lead came in is the first
     * contact the speed-to-lead reminder asks for: it is done, whether or
     * not it fired yet. */
    if (rc == 0 && wire_ts_ms(gr->last_contact_at) > wire_ts_ms(gr->created_at))
        rc = plan_cancel(st, txn, gr->customer_id, KIND_SPEED);
    last = LAST_ID | (fresh ? LAST_CUSTOMER : 0);
    if (rc == 0)
        rc = plan_cadence(st, txn, rules, gr, now_ms, last);
    if (rc == 0 && gr->next_step && wire_ts_ms(gr->next_step->due_at) > 0)
        rc = plan_next_step(st, txn, rules, gr, last);
    return rc;
}

int sched_plan_grade(store_t *st, MDB_txn *txn, const sched_rules_t *rules,
                     const Keyuan__V1__GradeResult *gr, int64_t now_ms)
{
    return plan_grade(st, txn, rules, gr, now_ms, NULL);
}

/* ---- firing ------------------------------------------------------------- */

/* Plans cadence cycle fired->cycle + 1, one period after fired's due. */
static int plan_next_cycle(store_t *st, MDB_txn *txn,
                           const sched_rules_t *rules, const reminder_t *fired,
                           int64_t now_ms)
{
    int days = cadence_days(rules, fired->grade);
    int64_t due = wire_ts_ms(fired->due_at);
    Google__Protobuf__Timestamp due_ts;
    reminder_t r;
    char text[96];

    if (days <= 0)
        return KY_OK;

    /* After a long stop, one reminder for the missed periods is enough. */
    do
        due = sched_hours_add_days(due, days);
    while (due <= now_ms);

    keyuan__v1__reminder__init(&r);
    google__protobuf__timestamp__init(&due_ts);
    wire_ts_set(&due_ts, sched_hours_shift(&rules->hours, due));
    r.customer_id = fired->customer_id;
    r.agent_id = fired->agent_id;
    r.grade = fired->grade;
    r.kind = KIND_CADENCE;
    r.due_at = &due_ts;
    r.cycle = fired->cycle + 1;
    cadence_text(text, sizeof text, r.grade, r.cycle);
    r.text = text;
    return plan_insert(st, txn, &r, LAST_ID);
}

/*
 * Removes r, which fires, from the plans of its customer. Sets *current
 * when it was the customer's pending one of its kind (always, unless the
 * store is damaged). A cadence keeps its entry: its next cycle, planned
 * next (plan_next_cycle), overwrites it.
 */
static int plan_settle(store_t *st, MDB_txn *txn, const sched_rules_t *rules,
                       const reminder_t *r, bool *current)
{
    uint8_t kp[9];
    uint64_t id;
    int rc = sched_pending_id(st, txn, r->customer_id, r->kind, &id);

    *current = rc == 0 && id == r->reminder_id;
    if (rc == KY_ENOTFOUND || (rc == 0 && !*current))
        return KY_OK;
    if (rc)
        return rc;
    if (r->kind == KIND_CADENCE && cadence_days(rules, r->grade) > 0)
        return KY_OK;
    key_plan(kp, r->customer_id, r->kind);
    return store_del(txn, store_db(st, "plans"), kp, 9);
}

/* Sends r downstream inside txn, or keeps it in "fired" only. */
static int fire_send(outbox_t *ob, MDB_txn *txn, reminder_t *r)
{
    Envelope env = KEYUAN__V1__ENVELOPE__INIT;

    if (ob == NULL)
        return KY_OK;
    env.body_case = KEYUAN__V1__ENVELOPE__BODY_REMINDER;
    env.reminder = r;
    return outbox_append(ob, txn, &env);
}

/*
 * Fires follow-up r (its due entry is already gone) at now_ms. held: r
 * was held by sched_apply_grade(), so it never was in the plans, and
 * its record is stored as fired already (plan_hold).
 */
static int fire_one(store_t *st, MDB_txn *txn, outbox_t *ob,
                    const sched_rules_t *rules, reminder_t *r, int64_t now_ms,
                    bool held)
{
    uint8_t k[8], v[8];
    bool current = false;
    int rc;

    if (r->fired_at == NULL) {
        r->fired_at = malloc(sizeof *r->fired_at); /* freed with r */
        if (r->fired_at == NULL)
            return KY_ENOMEM;
        google__protobuf__timestamp__init(r->fired_at);
    }
    wire_ts_set(r->fired_at, now_ms);
    wire_put_u64(k, r->reminder_id);
    wire_put_u64(v, (uint64_t)now_ms);

    /* A held reminder has the newest id: nothing fired after it yet. */
    rc = held ? KY_OK : followup_put(st, txn, r, false);
    if (rc == 0)
        rc = put_last(txn, store_db(st, "fired"), k, 8, v, 8, held);
    if (rc == 0 && !held)
        rc = plan_settle(st, txn, rules, r, &current);
    if (rc == 0)
        rc = fire_send(ob, txn, r);
    if (rc == 0 && current && r->kind == KIND_CADENCE)
        rc = plan_next_cycle(st, txn, rules, r, now_ms);
    if (rc == 0)
        log_debug("event=reminder_fired id=%llu customer=%llu kind=%d "
                  "cycle=%u",
                  (unsigned long long)r->reminder_id,
                  (unsigned long long)r->customer_id, (int)r->kind, r->cycle);
    return rc;
}

/*
 * Fires follow-up id, whose due entry the cursor just deleted, and counts
 * it in *n. An entry without a readable follow-up (or a malformed key,
 * id 0) is dropped: that is all we can do, and it is counted, since it
 * was counted as pending.
 */
static int fire_id(store_t *st, MDB_txn *txn, outbox_t *ob,
                   const sched_rules_t *rules, uint64_t id, int64_t now_ms,
                   int *n)
{
    reminder_t *r = NULL;
    int rc = id ? sched_followup_get(st, txn, id, &r) : KY_ENOTFOUND;

    if (rc == KY_ENOTFOUND || rc == KY_EDECODE) {
        if (id)
            log_error("event=due_entry_without_followup id=%llu",
                      (unsigned long long)id);
        return meta_add(st, txn, "sched_dropped", 1);
    }
    if (rc)
        return rc;
    rc = fire_one(st, txn, ob, rules, r, now_ms, false);
    keyuan__v1__reminder__free_unpacked(r, NULL);
    if (rc == 0)
        (*n)++;
    return rc;
}

int sched_fire_due(store_t *st, MDB_txn *txn, outbox_t *ob,
                   const sched_rules_t *rules, int64_t now_ms, int max,
                   int *fired)
{
    MDB_cursor *cur;
    MDB_val k, v;
    int n = 0, rc = KY_OK;
    int mrc = mdb_cursor_open(txn, store_db(st, "due"), &cur);

    if (mrc)
        return store_err(mrc, "cursor_open");

    /* Always the front: firing a cadence adds entries further on. */
    while (rc == 0 && mrc == 0 && n < max &&
           (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == 0) {
        const uint8_t *key = k.mv_data;
        uint64_t due = k.mv_size == 16 ? wire_get_u64(key) : 0;
        uint64_t id = k.mv_size == 16 ? wire_get_u64(key + 8) : 0;

        if (due > (uint64_t)(now_ms > 0 ? now_ms : 0))
            break;
        mrc = mdb_cursor_del(cur, 0); /* a malformed key just goes */
        if (mrc == 0)
            rc = fire_id(st, txn, ob, rules, id, now_ms, &n);
    }
    mdb_cursor_close(cur);
    if (fired)
        *fired = n;
    if (rc)
        return rc;
    return mrc == 0 || mrc == MDB_NOTFOUND ? KY_OK : store_err(mrc, "fire");
}

/*
 * Looks at the front of the due index for r, due by now_ms: sets *first
 * when sched_fire_due() would fire r before anything there ((due time,
 * id) order), and *front_due when the front entry is due by now_ms too.
 */
static int due_front(store_t *st, MDB_txn *txn, const reminder_t *r,
                     int64_t now_ms, bool *first, bool *front_due)
{
    uint64_t now = (uint64_t)(now_ms > 0 ? now_ms : 0);
    uint8_t mine[16];
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = mdb_cursor_open(txn, store_db(st, "due"), &cur);

    if (rc)
        return store_err(rc, "cursor_open");
    key_due(mine, wire_ts_ms(r->due_at), r->reminder_id);
    rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    *first = rc == MDB_NOTFOUND || (rc == 0 && key_after(&k, mine));
    *front_due = rc == 0 && (k.mv_size != 16 || wire_get_u64(k.mv_data) <= now);
    mdb_cursor_close(cur);
    return rc == 0 || rc == MDB_NOTFOUND ? KY_OK : store_err(rc, "first_due");
}

/*
 * Fires the held reminder (due by now_ms) now if it is first in line,
 * else makes it pending like any other, its record stored again as such.
 * *due_now is left true unless nothing in the due index can be due by
 * now_ms, which the look at its front showed: then sched_fire_due() has
 * nothing to do.
 */
static int hold_settle(store_t *st, MDB_txn *txn, outbox_t *ob,
                       const sched_rules_t *rules, held_t *h, int64_t now_ms,
                       int *fired, bool *due_now)
{
    bool first, front_due;
    int rc;

    if (!h->holding)
        return KY_OK;
    h->holding = false;
    rc = due_front(st, txn, &h->r, now_ms, &first, &front_due);
    if (rc || !first)
        return rc ? rc : plan_index(st, txn, &h->r, 0);

    /* A speed-to-lead reminder plans nothing when it fires, so the due
     * index stays as due_front() saw it. */
    h->r.fired_at = &h->when;
    rc = fire_one(st, txn, ob, rules, &h->r, now_ms, true);
    h->r.fired_at = NULL;
    if (rc == 0) {
        (*fired)++;
        *due_now = front_due;
    }
    return rc;
}

int sched_apply_grade(store_t *st, MDB_txn *txn, outbox_t *ob,
                      const sched_rules_t *rules,
                      const Keyuan__V1__GradeResult *gr, int64_t now_ms,
                      int *fired)
{
    held_t h = {0};
    bool due_now = true;
    int n = 0, rc;

    /* A contact logged after the lead came in cancels the speed-to-lead
     * reminder just planned (sched_plan_grade): that one is not held. */
    h.on = wire_ts_ms(gr->last_contact_at) <= wire_ts_ms(gr->created_at);
    *fired = 0;
    rc = plan_grade(st, txn, rules, gr, now_ms, &h);
    if (rc == 0)
        rc = hold_settle(st, txn, ob, rules, &h, now_ms, fired, &due_now);
    if (rc == 0 && due_now)
        rc = sched_fire_due(st, txn, ob, rules, now_ms, SCHED_FIRE_BATCH, &n);
    *fired += n;
    return rc;
}

int sched_first_due(store_t *st, MDB_txn *txn, int64_t *due_ms)
{
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = mdb_cursor_open(txn, store_db(st, "due"), &cur);

    if (rc)
        return store_err(rc, "cursor_open");
    rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    if (rc == 0 && k.mv_size == 16)
        *due_ms = (int64_t)wire_get_u64(k.mv_data);
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? KY_ENOTFOUND : store_err(rc, "first_due");
}

/* Counted from the indexes, see "Totals" at the top of this file. */
int sched_totals(store_t *st, MDB_txn *txn, sched_totals_t *t)
{
    uint64_t dropped = 0;
    int rc = store_meta_get(st, txn, "sched_cancelled", &t->cancelled);

    if (rc == 0)
        rc = store_meta_get(st, txn, "sched_dropped", &dropped);
    t->fired = store_count(txn, store_db(st, "fired"));
    t->pending = store_count(txn, store_db(st, "due"));
    t->planned = t->fired + t->pending + t->cancelled + dropped;
    return rc;
}
