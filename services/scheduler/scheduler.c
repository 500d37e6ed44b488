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
 *   fired        id -> fired_at ms         what fired, and when.
 *   by_customer  (customer, id) -> empty   every follow-up of a customer,
 *                                          for queries by customer and so
 *                                          that erasing a customer can
 *                                          find all of its records.
 *   meta         sched_planned, sched_fired, sched_cancelled: totals.
 *
 * Invariants, kept because each change happens in one write transaction:
 * a follow-up is pending exactly when it has a due entry and no fired
 * entry; plans points only at pending follow-ups. A pending follow-up
 * that is replaced or cancelled before it fired is deleted everywhere:
 * it never happened.
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

static int followup_put(store_t *st, MDB_txn *txn, const reminder_t *r)
{
    uint8_t k[8];

    wire_put_u64(k, r->reminder_id);
    return store_put_msg(txn, store_db(st, "followups"), k, 8, &r->base);
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

    /* Step back from the first key after the customer's range. */
    key_customer(start, customer, UINT64_MAX);
    mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    mrc = mdb_cursor_get(cur, &k, &v, mrc == 0 ? MDB_PREV : MDB_LAST);
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
 * sched_apply_grade() holds it instead: it gets its id and customer entry
 * as planned, and, once the rest of the grade is planned, it is either
 * fired straight away (when it is due and first in line, as the due index
 * would have had it) or stored as pending like any other (hold_settle).
 */
typedef struct held {
    bool on;                          /* apply_grade may hold one */
    bool holding;                     /* r is held: neither fired nor due */
    reminder_t r;                     /* the held reminder */
    Google__Protobuf__Timestamp due;  /* r.due_at */
    Google__Protobuf__Timestamp when; /* r.fired_at, when fired at once */
    char text[96];                    /* r.text */
} held_t;

/*
 * The part of planning r that firing keeps: an id, the customer's entry
 * and the total. plan_index() makes it pending.
 */
static int plan_begin(store_t *st, MDB_txn *txn, reminder_t *r)
{
    uint8_t kc[16];
    int rc = store_next_id(st, txn, &r->reminder_id);

    if (rc)
        return rc;
    key_customer(kc, r->customer_id, r->reminder_id);
    rc = store_put(txn, store_db(st, "by_customer"), kc, 16, "", 0, 0);
    if (rc == 0)
        rc = meta_add(st, txn, "sched_planned", 1);
    if (rc == 0)
        log_debug("event=followup_planned id=%llu customer=%llu kind=%d "
                  "due_ms=%lld cycle=%u",
                  (unsigned long long)r->reminder_id,
                  (unsigned long long)r->customer_id, (int)r->kind,
                  (long long)wire_ts_ms(r->due_at), r->cycle);
    return rc;
}

/* Stores r, begun by plan_begin(), as pending: record, due and plans. */
static int plan_index(store_t *st, MDB_txn *txn, const reminder_t *r)
{
    uint8_t kd[16], kp[9], id[8];
    int rc;

    key_due(kd, wire_ts_ms(r->due_at), r->reminder_id);
    key_plan(kp, r->customer_id, r->kind);
    wire_put_u64(id, r->reminder_id);
    rc = followup_put(st, txn, r);
    if (rc == 0)
        rc = store_put(txn, store_db(st, "due"), kd, 16, "", 0, 0);
    if (rc == 0)
        rc = store_put(txn, store_db(st, "plans"), kp, 9, id, 8, 0);
    return rc;
}

/*
 * Stores r as a new pending follow-up: gives it an id and indexes it by
 * due time, by customer, and as the customer's pending one of its kind.
 */
static int plan_insert(store_t *st, MDB_txn *txn, reminder_t *r)
{
    int rc = plan_begin(st, txn, r);

    return rc ? rc : plan_index(st, txn, r);
}

/* Deletes pending follow-up r everywhere, as if it was never planned. */
static int plan_delete(store_t *st, MDB_txn *txn, const reminder_t *r)
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
    if (rc == 0)
        rc = store_del(txn, store_db(st, "plans"), kp, 9);
    if (rc == 0)
        rc = store_del(txn, store_db(st, "followups"), id, 8);
    if (rc == 0)
        rc = meta_add(st, txn, "sched_cancelled", 1);
    return rc;
}

/* Cancels the customer's pending follow-up of kind, if there is one. */
static int plan_cancel(store_t *st, MDB_txn *txn, uint64_t customer, int kind)
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
    rc = plan_delete(st, txn, r);
    if (rc == 0)
        log_debug("event=followup_cancelled id=%llu customer=%llu kind=%d",
                  (unsigned long long)r->reminder_id,
                  (unsigned long long)customer, kind);
    keyuan__v1__reminder__free_unpacked(r, NULL);
    return rc;
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
    rc = followup_put(st, txn, r);
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

static void cadence_text(char *out, size_t len, int grade, uint32_t cycle)
{
    snprintf(out, len, "%s客户定期跟进（第%u次）", grade_label(grade), cycle);
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
} kind_search_t;

static int kind_search_visit(void *arg, uint64_t id)
{
    kind_search_t *ks = arg;
    reminder_t *r;
    int rc = sched_followup_get(ks->st, ks->txn, id, &r);

    if (rc)
        return rc == KY_ENOTFOUND || rc == KY_EDECODE ? 0 : rc;
    if ((int)r->kind == ks->kind) {
        ks->found = r;
        return 1;
    }
    keyuan__v1__reminder__free_unpacked(r, NULL);
    return 0;
}

/* The customer's newest follow-up of kind, pending or fired, or NULL. */
static int newest_of_kind(store_t *st, MDB_txn *txn, uint64_t customer,
                          int kind, reminder_t **out)
{
    kind_search_t ks = {st, txn, kind, NULL};
    int rc = sched_customer_each(st, txn, customer, kind_search_visit, &ks);

    *out = ks.found;
    if (rc && ks.found) {
        keyuan__v1__reminder__free_unpacked(ks.found, NULL);
        *out = NULL;
    }
    return rc;
}

static void speed_text(char *out, size_t len, int64_t s)
{
    if (s == 0)
        snprintf(out, len, "新客户，请立即首次联系");
    else if (s % 60 == 0)
        snprintf(out, len, "新客户 %lld 分钟内首次联系", (long long)(s / 60));
    else
        snprintf(out, len, "新客户 %lld 秒内首次联系", (long long)s);
}

/* Holds r in h (see held_t): planned, but neither fired nor due yet. */
static int plan_hold(store_t *st, MDB_txn *txn, held_t *h, const reminder_t *r)
{
    h->r = *r;
    h->due = *r->due_at;
    h->r.due_at = &h->due;
    snprintf(h->text, sizeof h->text, "%s", r->text);
    h->r.text = h->text;
    h->holding = true;
    return plan_begin(st, txn, &h->r);
}

static int plan_speed_to_lead(store_t *st, MDB_txn *txn,
                              const sched_rules_t *rules,
                              const Keyuan__V1__GradeResult *gr, int64_t now_ms,
                              held_t *h)
{
    int64_t base = wire_ts_ms(gr->created_at);
    Google__Protobuf__Timestamp due_ts;
    reminder_t r, *old;
    char text[96];
    int rc;

    rc = newest_of_kind(st, txn, gr->customer_id, KIND_SPEED, &old);
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
    return h && h->on ? plan_hold(st, txn, h, &r) : plan_insert(st, txn, &r);
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

static int plan_cadence(store_t *st, MDB_txn *txn, const sched_rules_t *rules,
                        const Keyuan__V1__GradeResult *gr, int64_t now_ms)
{
    int days = cadence_days(rules, gr->grade);
    int64_t anchor = wire_ts_ms(gr->last_contact_at), due;
    Google__Protobuf__Timestamp due_ts;
    reminder_t r, *pend, *same;
    char text[96];
    int rc;

    if (days <= 0)
        return plan_cancel(st, txn, gr->customer_id, KIND_CADENCE);
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
        rc = plan_delete(st, txn, pend);
    if (rc == 0) {
        plan_init(&r, &due_ts, gr, KIND_CADENCE, due);
        r.cycle = 1;
        cadence_text(text, sizeof text, gr->grade, r.cycle);
        r.text = text;
        rc = plan_insert(st, txn, &r);
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
                          const Keyuan__V1__GradeResult *gr)
{
    const Keyuan__V1__NextStep *ns = gr->next_step;
    const char *text =
        ns->action && *ns->action ? ns->action : NEXT_STEP_DEFAULT_TEXT;
    int64_t due = sched_hours_shift(&rules->hours, wire_ts_ms(ns->due_at));
    Google__Protobuf__Timestamp due_ts;
    reminder_t r, *old;
    int rc = newest_of_kind(st, txn, gr->customer_id, KIND_NEXT_STEP, &old);

    if (rc)
        return rc;
    if (old && wire_ts_ms(old->due_at) == due && strcmp(old->text, text) == 0) {
        rc = old->fired_at ? KY_OK : plan_keep(st, txn, old, gr->agent_id);
        keyuan__v1__reminder__free_unpacked(old, NULL);
        return rc;
    }
    if (old)
        keyuan__v1__reminder__free_unpacked(old, NULL);

    rc = plan_cancel(st, txn, gr->customer_id, KIND_NEXT_STEP);
    if (rc)
        return rc;
    plan_init(&r, &due_ts, gr, KIND_NEXT_STEP, due);
    r.text = (char *)text;
    return plan_insert(st, txn, &r);
}

/* ---- a grade result ----------------------------------------------------- */

static int plan_grade(store_t *st, MDB_txn *txn, const sched_rules_t *rules,
                      const Keyuan__V1__GradeResult *gr, int64_t now_ms,
                      held_t *h)
{
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
        rc = plan_speed_to_lead(st, txn, rules, gr, now_ms, h);
    /* A contact logged by the agent after the lead came in is the first
     * contact the speed-to-lead reminder asks for: it is done, whether or
     * not it fired yet. */
    if (rc == 0 && wire_ts_ms(gr->last_contact_at) > wire_ts_ms(gr->created_at))
        rc = plan_cancel(st, txn, gr->customer_id, KIND_SPEED);
    if (rc == 0)
        rc = plan_cadence(st, txn, rules, gr, now_ms);
    if (rc == 0 && gr->next_step && wire_ts_ms(gr->next_step->due_at) > 0)
        rc = plan_next_step(st, txn, rules, gr);
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
    return plan_insert(st, txn, &r);
}

/*
 * Removes r from the plans of its customer. Sets *current when it was the
 * customer's pending one of its kind (always, unless the store is damaged).
 */
static int plan_settle(store_t *st, MDB_txn *txn, const reminder_t *r,
                       bool *current)
{
    uint8_t kp[9];
    uint64_t id;
    int rc = sched_pending_id(st, txn, r->customer_id, r->kind, &id);

    *current = rc == 0 && id == r->reminder_id;
    if (rc == KY_ENOTFOUND || (rc == 0 && !*current))
        return KY_OK;
    if (rc)
        return rc;
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

/* Fires follow-up r (its due entry is already gone) at now_ms. */
static int fire_one(store_t *st, MDB_txn *txn, outbox_t *ob,
                    const sched_rules_t *rules, reminder_t *r, int64_t now_ms)
{
    uint8_t k[8], v[8];
    bool current;
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

    rc = followup_put(st, txn, r);
    if (rc == 0)
        rc = store_put(txn, store_db(st, "fired"), k, 8, v, 8, 0);
    if (rc == 0)
        rc = plan_settle(st, txn, r, &current);
    if (rc == 0)
        rc = fire_send(ob, txn, r);
    if (rc == 0)
        rc = meta_add(st, txn, "sched_fired", 1);
    if (rc == 0 && current && r->kind == KIND_CADENCE)
        rc = plan_next_cycle(st, txn, rules, r, now_ms);
    if (rc == 0)
        log_debug("event=reminder_fired id=%llu customer=%llu kind=%d "
                  "cycle=%u",
                  (unsigned long long)r->reminder_id,
                  (unsigned long long)r->customer_id, (int)r->kind, r->cycle);
    return rc;
}

/* Fires the follow-up whose due entry the cursor just deleted. */
static int fire_id(store_t *st, MDB_txn *txn, outbox_t *ob,
                   const sched_rules_t *rules, uint64_t id, int64_t now_ms)
{
    reminder_t *r;
    int rc = sched_followup_get(st, txn, id, &r);

    if (rc == KY_ENOTFOUND || rc == KY_EDECODE) {
        log_error("event=due_entry_without_followup id=%llu",
                  (unsigned long long)id);
        return KY_OK; /* dropping the stray entry is all we can do */
    }
    if (rc)
        return rc;
    rc = fire_one(st, txn, ob, rules, r, now_ms);
    keyuan__v1__reminder__free_unpacked(r, NULL);
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
        if (mrc == 0 && id != 0 &&
            (rc = fire_id(st, txn, ob, rules, id, now_ms)) == 0)
            n++;
    }
    mdb_cursor_close(cur);
    if (fired)
        *fired = n;
    if (rc)
        return rc;
    return mrc == 0 || mrc == MDB_NOTFOUND ? KY_OK : store_err(mrc, "fire");
}

/* True when due index key k sorts after mine (LMDB's byte order). */
static bool key_after(const MDB_val *k, const uint8_t mine[16])
{
    size_t n = k->mv_size < 16 ? k->mv_size : 16;
    int c = memcmp(k->mv_data, mine, n);

    return c > 0 || (c == 0 && k->mv_size > 16);
}

/*
 * Sets *first when r is due by now_ms and sched_fire_due() would fire it
 * before anything in the due index: (due time, id) order.
 */
static int first_in_line(store_t *st, MDB_txn *txn, const reminder_t *r,
                         int64_t now_ms, bool *first)
{
    int64_t due = wire_ts_ms(r->due_at);
    uint8_t mine[16];
    MDB_cursor *cur;
    MDB_val k, v;
    int rc;

    *first = false;
    if ((due > 0 ? due : 0) > (now_ms > 0 ? now_ms : 0))
        return KY_OK;
    rc = mdb_cursor_open(txn, store_db(st, "due"), &cur);
    if (rc)
        return store_err(rc, "cursor_open");
    key_due(mine, due, r->reminder_id);
    rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    *first = rc == MDB_NOTFOUND || (rc == 0 && key_after(&k, mine));
    mdb_cursor_close(cur);
    return rc == 0 || rc == MDB_NOTFOUND ? KY_OK : store_err(rc, "first_due");
}

/* Fires the held reminder now if it is first in line, else makes it
 * pending like any other. */
static int hold_settle(store_t *st, MDB_txn *txn, outbox_t *ob,
                       const sched_rules_t *rules, held_t *h, int64_t now_ms,
                       int *fired)
{
    bool first;
    int rc;

    if (!h->holding)
        return KY_OK;
    h->holding = false;
    rc = first_in_line(st, txn, &h->r, now_ms, &first);
    if (rc || !first)
        return rc ? rc : plan_index(st, txn, &h->r);
    google__protobuf__timestamp__init(&h->when);
    h->r.fired_at = &h->when;
    rc = fire_one(st, txn, ob, rules, &h->r, now_ms);
    h->r.fired_at = NULL;
    if (rc == 0)
        (*fired)++;
    return rc;
}

int sched_apply_grade(store_t *st, MDB_txn *txn, outbox_t *ob,
                      const sched_rules_t *rules,
                      const Keyuan__V1__GradeResult *gr, int64_t now_ms,
                      int *fired)
{
    held_t h = {0};
    int n = 0, rc;

    /* A contact logged after the lead came in cancels the speed-to-lead
     * reminder just planned (sched_plan_grade): that one is not held. */
    h.on = wire_ts_ms(gr->last_contact_at) <= wire_ts_ms(gr->created_at);
    *fired = 0;
    rc = plan_grade(st, txn, rules, gr, now_ms, &h);
    if (rc == 0)
        rc = hold_settle(st, txn, ob, rules, &h, now_ms, fired);
    if (rc == 0)
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

int sched_totals(store_t *st, MDB_txn *txn, sched_totals_t *t)
{
    int rc = store_meta_get(st, txn, "sched_planned", &t->planned);

    if (rc == 0)
        rc = store_meta_get(st, txn, "sched_fired", &t->fired);
    if (rc == 0)
        rc = store_meta_get(st, txn, "sched_cancelled", &t->cancelled);
    t->pending = store_count(txn, store_db(st, "due"));
    return rc;
}
