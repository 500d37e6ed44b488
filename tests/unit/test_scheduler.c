/*
 * test_scheduler.c - the scheduler's working hours (a pure function of
 * time, hours and zone) and its planner and firer, driven directly on a
 * real LMDB store in a temporary directory, with a real outbox whose
 * receiver never answers (inproc, nothing leaves the process).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "clock.h"
#include "err.h"
#include "outbox.h"
#include "sched_hours.h"
#include "scheduler.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define KIND_SPEED KEYUAN__V1__REMINDER_KIND__REMINDER_KIND_SPEED_TO_LEAD
#define KIND_CADENCE KEYUAN__V1__REMINDER_KIND__REMINDER_KIND_CADENCE
#define KIND_NEXT_STEP KEYUAN__V1__REMINDER_KIND__REMINDER_KIND_NEXT_STEP
#define GRADE_A KEYUAN__V1__GRADE__GRADE_A
#define GRADE_B KEYUAN__V1__GRADE__GRADE_B
#define GRADE_C KEYUAN__V1__GRADE__GRADE_C

static int64_t at(const char *rfc3339)
{
    int64_t ms = 0;

    assert_int_equal(clock_parse_rfc3339(rfc3339, &ms), 0);
    return ms;
}

/* ---- working hours ------------------------------------------------------ */

static sched_hours_t hours(const char *start, const char *end)
{
    sched_hours_t h;

    assert_int_equal(sched_hours_parse(start, end, &h), 0);
    return h;
}

static void test_hours_parse(void **state)
{
    sched_hours_t h;

    (void)state;
    h = hours("09:00", "21:00");
    assert_int_equal(h.start_min, 540);
    assert_int_equal(h.end_min, 1260);
    assert_false(sched_hours_all_day(&h));
    h = hours("00:00", "24:00");
    assert_true(sched_hours_all_day(&h));
    h = hours("00:00", "00:00");
    assert_true(sched_hours_all_day(&h));
    h = hours("22:00", "06:00");
    assert_int_equal(h.start_min, 1320);
    assert_int_equal(h.end_min, 360);

    assert_int_equal(sched_hours_parse("9:00", "21:00", &h), KY_ECONFIG);
    assert_int_equal(sched_hours_parse("09:60", "21:00", &h), KY_ECONFIG);
    assert_int_equal(sched_hours_parse("09:00", "24:01", &h), KY_ECONFIG);
    assert_int_equal(sched_hours_parse("09:00", "09:00", &h), KY_ECONFIG);
    assert_int_equal(sched_hours_parse("09:00", "", &h), KY_ECONFIG);
}

static void test_hours_zone_unknown(void **state)
{
    (void)state;
    assert_int_equal(sched_hours_use_zone("Mars/Olympus_Mons"), KY_ECONFIG);
    assert_int_equal(sched_hours_use_zone("../etc/passwd"), KY_ECONFIG);
    assert_int_equal(sched_hours_use_zone("Asia/Shanghai"), 0);
}

static void test_hours_shanghai(void **state)
{
    sched_hours_t h = hours("09:00", "21:00");

    (void)state;
    assert_int_equal(sched_hours_use_zone("Asia/Shanghai"), 0);

    /* Inside: unchanged, to the millisecond. */
    assert_int_equal(sched_hours_shift(&h, at("2026-03-02T10:15:30.250+08:00")),
                     at("2026-03-02T10:15:30.250+08:00"));
    assert_int_equal(sched_hours_shift(&h, at("2026-03-02T09:00:00+08:00")),
                     at("2026-03-02T09:00:00+08:00"));
    assert_int_equal(sched_hours_shift(&h, at("2026-03-02T20:59:59+08:00")),
                     at("2026-03-02T20:59:59+08:00"));

    /* Before the start: the same day's start. */
    assert_int_equal(sched_hours_shift(&h, at("2026-03-02T07:30:00+08:00")),
                     at("2026-03-02T09:00:00+08:00"));

    /* At or after the end: the next day's start. */
    assert_int_equal(sched_hours_shift(&h, at("2026-03-02T21:00:00+08:00")),
                     at("2026-03-03T09:00:00+08:00"));
    assert_int_equal(sched_hours_shift(&h, at("2026-03-02T23:59:00+08:00")),
                     at("2026-03-03T09:00:00+08:00"));
}

static void test_hours_rollover(void **state)
{
    sched_hours_t h = hours("09:00", "21:00");

    (void)state;
    assert_int_equal(sched_hours_use_zone("Asia/Shanghai"), 0);

    /* Month, leap-year February and year ends. */
    assert_int_equal(sched_hours_shift(&h, at("2026-02-28T22:00:00+08:00")),
                     at("2026-03-01T09:00:00+08:00"));
    assert_int_equal(sched_hours_shift(&h, at("2028-02-28T22:00:00+08:00")),
                     at("2028-02-29T09:00:00+08:00"));
    assert_int_equal(sched_hours_shift(&h, at("2026-12-31T21:30:00+08:00")),
                     at("2027-01-01T09:00:00+08:00"));

    /* The local day, not the UTC one, decides: 17:30Z on 1 March is
     * 01:30 on 2 March in Shanghai, so the start is 2 March 09:00. */
    assert_int_equal(sched_hours_shift(&h, at("2026-03-01T17:30:00Z")),
                     at("2026-03-02T01:00:00Z"));
    /* And 13:30Z is 21:30 local: tomorrow. */
    assert_int_equal(sched_hours_shift(&h, at("2026-03-01T13:30:00Z")),
                     at("2026-03-02T01:00:00Z"));
}

static void test_hours_other_windows(void **state)
{
    sched_hours_t night = hours("22:00", "06:00");
    sched_hours_t late = hours("09:00", "00:00");
    sched_hours_t all = hours("00:00", "24:00");

    (void)state;
    assert_int_equal(sched_hours_use_zone("Asia/Shanghai"), 0);

    /* A window across midnight. */
    assert_int_equal(sched_hours_shift(&night, at("2026-03-02T23:00:00+08:00")),
                     at("2026-03-02T23:00:00+08:00"));
    assert_int_equal(sched_hours_shift(&night, at("2026-03-03T05:59:00+08:00")),
                     at("2026-03-03T05:59:00+08:00"));
    assert_int_equal(sched_hours_shift(&night, at("2026-03-03T12:00:00+08:00")),
                     at("2026-03-03T22:00:00+08:00"));

    /* Until midnight: 00:00 as the end. */
    assert_int_equal(sched_hours_shift(&late, at("2026-03-02T23:59:00+08:00")),
                     at("2026-03-02T23:59:00+08:00"));
    assert_int_equal(sched_hours_shift(&late, at("2026-03-03T00:30:00+08:00")),
                     at("2026-03-03T09:00:00+08:00"));

    /* All day: nothing moves. */
    assert_int_equal(sched_hours_shift(&all, at("2026-03-03T03:00:00+08:00")),
                     at("2026-03-03T03:00:00+08:00"));
}

static void test_hours_dst(void **state)
{
    sched_hours_t h = hours("09:00", "21:00");

    (void)state;
    /* New York moves to EDT (UTC-4) on Sunday 8 March 2026. */
    assert_int_equal(sched_hours_use_zone("America/New_York"), 0);

    /* Saturday 22:00 EST -> Sunday 09:00 EDT = 13:00Z (not 14:00Z). */
    assert_int_equal(sched_hours_shift(&h, at("2026-03-08T03:00:00Z")),
                     at("2026-03-08T13:00:00Z"));
    /* Early Sunday, before the change: the same day, after it. */
    assert_int_equal(sched_hours_shift(&h, at("2026-03-08T06:30:00Z")),
                     at("2026-03-08T13:00:00Z"));

    /* Calendar days keep the local time across the change. */
    assert_int_equal(sched_hours_add_days(at("2026-03-06T10:00:00-05:00"), 3),
                     at("2026-03-09T10:00:00-04:00"));
    assert_int_equal(sched_hours_add_days(at("2026-10-31T10:00:00-04:00"), 7),
                     at("2026-11-07T10:00:00-05:00"));

    assert_int_equal(sched_hours_use_zone("Asia/Shanghai"), 0);
    assert_int_equal(sched_hours_add_days(at("2026-02-27T10:00:00+08:00"), 3),
                     at("2026-03-02T10:00:00+08:00"));
}

/* ---- working hours in zones of one offset ---------------------------------
 */

/* What sched_hours_shift() computes, by the C library alone. */
static int64_t libc_shift(const sched_hours_t *h, int64_t ms)
{
    time_t sec = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    struct tm tm;
    int m;
    bool in;

    if (sched_hours_all_day(h) || localtime_r(&sec, &tm) == NULL)
        return ms;
    m = tm.tm_hour * 60 + tm.tm_min;
    in = h->start_min < h->end_min ? m >= h->start_min && m < h->end_min
                                   : m >= h->start_min || m < h->end_min;
    if (in)
        return ms;
    if (h->start_min < h->end_min && m >= h->end_min)
        tm.tm_mday += 1;
    tm.tm_hour = h->start_min / 60;
    tm.tm_min = h->start_min % 60;
    tm.tm_sec = 0;
    tm.tm_isdst = -1;
    return (int64_t)mktime(&tm) * 1000;
}

/* What sched_hours_add_days() computes, by the C library alone. */
static int64_t libc_add_days(int64_t ms, int days)
{
    int64_t sec = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    time_t t = (time_t)sec;
    struct tm tm;

    assert_non_null(localtime_r(&t, &tm));
    tm.tm_mday += days;
    tm.tm_isdst = -1;
    return (int64_t)mktime(&tm) * 1000 + (ms - sec * 1000);
}

static void test_hours_fixed_offset(void **state)
{
    static const char *const zones[] = {
        "Asia/Shanghai", "Asia/Kolkata", "Asia/Kathmandu",
        "UTC",           "Etc/GMT-8",    "Asia/Tokyo",
    };
    sched_hours_t windows[] = {
        hours("09:00", "21:00"), hours("22:00", "06:00"),
        hours("08:30", "17:45"), hours("09:00", "00:00"),
        hours("00:00", "24:00"),
    };
    uint64_t seed = 42;
    int64_t from = 0;

    (void)state;
    /* Shanghai's last transition: the end of DST in September 1991. From
     * a day after it, local times are computed with UTC+8. */
    assert_int_equal(sched_hours_use_zone("Asia/Shanghai"), 0);
    assert_true(sched_hours_fixed_since(&from));
    assert_int_equal(from, at("1991-09-15T01:00:00+08:00"));
    assert_int_equal(sched_hours_use_zone("America/New_York"), 0);
    assert_false(sched_hours_fixed_since(&from));

    /* The same results as the C library, 1900 to 2100, on both sides of
     * each zone's last transition (Kathmandu's file ends in 2038). */
    for (size_t z = 0; z < sizeof zones / sizeof zones[0]; z++) {
        assert_int_equal(sched_hours_use_zone(zones[z]), 0);
        for (int i = 0; i < 20000; i++) {
            const sched_hours_t *h = &windows[i % 5];
            int64_t ms;
            int days;

            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            ms = (int64_t)(seed >> 1) % (200LL * 365 * 86400000) -
                 70LL * 365 * 86400000;
            days = (int)(seed >> 58) - 8;
            assert_int_equal(sched_hours_shift(h, ms), libc_shift(h, ms));
            assert_int_equal(sched_hours_add_days(ms, days),
                             libc_add_days(ms, days));
        }
    }
    assert_int_equal(sched_hours_use_zone("Asia/Shanghai"), 0);
}

/* ---- the planner: a store in a temporary directory ---------------------- */

typedef struct fixture {
    char dir[64];
    void *zctx;
    store_t *st;
    outbox_t *ob;
    sched_rules_t rules;
} fixture_t;

static int setup(void **state)
{
    fixture_t *fx = calloc(1, sizeof *fx);
    int err;

    assert_non_null(fx);
    strcpy(fx->dir, "/tmp/keyuan-sched-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    fx->st = store_open(fx->dir, sched_db_names, 64, &err);
    assert_non_null(fx->st);
    fx->zctx = zmq_ctx_new();
    fx->ob =
        outbox_new(fx->st, fx->zctx, "scheduler", "inproc://notifier", &err);
    assert_non_null(fx->ob);

    assert_int_equal(sched_hours_use_zone("Asia/Shanghai"), 0);
    fx->rules.speed_to_lead_ms = 900 * 1000;
    fx->rules.cadence_days[GRADE_A] = 3;
    fx->rules.cadence_days[GRADE_B] = 7;
    fx->rules.cadence_days[GRADE_C] = 0;
    fx->rules.cadence_days[KEYUAN__V1__GRADE__GRADE_LEAD] = 2;
    fx->rules.hours = hours("09:00", "21:00");
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *fx = *state;
    char path[128];

    outbox_destroy(&fx->ob);
    store_destroy(&fx->st);
    zmq_ctx_term(fx->zctx);
    snprintf(path, sizeof path, "%s/data.mdb", fx->dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/lock.mdb", fx->dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/keyuan.lock", fx->dir);
    unlink(path);
    assert_int_equal(rmdir(fx->dir), 0); /* nothing left behind in /tmp */
    free(fx);
    return 0;
}

static MDB_txn *begin(fixture_t *fx)
{
    MDB_txn *txn;

    assert_int_equal(store_begin(fx->st, NULL, false, &txn), 0);
    return txn;
}

/* A grade result; the Timestamps live in the caller's storage. */
typedef struct grade {
    Keyuan__V1__GradeResult gr;
    Google__Protobuf__Timestamp created, contact, step_due;
    Keyuan__V1__NextStep step;
} grade_t;

static void grade_init(grade_t *g, uint64_t customer, const char *agent,
                       int grade, const char *last_contact)
{
    keyuan__v1__grade_result__init(&g->gr);
    google__protobuf__timestamp__init(&g->created);
    google__protobuf__timestamp__init(&g->contact);
    google__protobuf__timestamp__init(&g->step_due);
    keyuan__v1__next_step__init(&g->step);
    g->gr.customer_id = customer;
    g->gr.agent_id = (char *)agent;
    g->gr.grade = grade;
    if (last_contact) {
        wire_ts_set(&g->contact, at(last_contact));
        g->gr.last_contact_at = &g->contact;
    }
}

static void grade_step(grade_t *g, const char *action, const char *due)
{
    g->step.action = (char *)action;
    wire_ts_set(&g->step_due, at(due));
    g->step.due_at = &g->step_due;
    g->gr.next_step = &g->step;
}

static void plan(fixture_t *fx, grade_t *g, const char *now)
{
    MDB_txn *txn = begin(fx);

    assert_int_equal(sched_plan_grade(fx->st, txn, &fx->rules, &g->gr, at(now)),
                     0);
    assert_int_equal(store_commit(txn), 0);
}

static int fire(fixture_t *fx, const char *now, int max)
{
    MDB_txn *txn = begin(fx);
    int n = -1;

    assert_int_equal(
        sched_fire_due(fx->st, txn, fx->ob, &fx->rules, at(now), max, &n), 0);
    assert_int_equal(store_commit(txn), 0);
    return n;
}

/* The customer's pending follow-up of kind; fails the test if none. */
static Keyuan__V1__Reminder *pending(fixture_t *fx, uint64_t customer, int kind)
{
    Keyuan__V1__Reminder *r = NULL;
    MDB_txn *txn;
    uint64_t id;

    assert_int_equal(store_begin(fx->st, NULL, true, &txn), 0);
    assert_int_equal(sched_pending_id(fx->st, txn, customer, kind, &id), 0);
    assert_int_equal(sched_followup_get(fx->st, txn, id, &r), 0);
    mdb_txn_abort(txn);
    assert_int_equal(r->reminder_id, id);
    assert_null(r->fired_at);
    return r;
}

static bool has_pending(fixture_t *fx, uint64_t customer, int kind)
{
    MDB_txn *txn;
    uint64_t id;
    int rc;

    assert_int_equal(store_begin(fx->st, NULL, true, &txn), 0);
    rc = sched_pending_id(fx->st, txn, customer, kind, &id);
    mdb_txn_abort(txn);
    assert_true(rc == 0 || rc == KY_ENOTFOUND);
    return rc == 0;
}

static sched_totals_t totals(fixture_t *fx)
{
    sched_totals_t t;
    MDB_txn *txn;

    assert_int_equal(store_begin(fx->st, NULL, true, &txn), 0);
    assert_int_equal(sched_totals(fx->st, txn, &t), 0);
    mdb_txn_abort(txn);
    return t;
}

/* The Reminder bodies in the outbox, in sequence order (max n). */
static int outbox_reminders(fixture_t *fx, Keyuan__V1__Reminder **out, int n)
{
    MDB_cursor *cur;
    MDB_val k, v;
    MDB_txn *txn;
    int i = 0, op = MDB_FIRST;

    assert_int_equal(store_begin(fx->st, NULL, true, &txn), 0);
    assert_int_equal(mdb_cursor_open(txn, store_db(fx->st, "outbox"), &cur), 0);
    for (; i < n && mdb_cursor_get(cur, &k, &v, op) == 0; i++, op = MDB_NEXT) {
        Envelope *env = wire_unpack(v.mv_data, v.mv_size);

        assert_non_null(env);
        assert_int_equal(env->body_case, KEYUAN__V1__ENVELOPE__BODY_REMINDER);
        assert_int_equal(env->seq, (uint64_t)i + 1);
        out[i] = env->reminder; /* the caller owns the body */
        env->reminder = NULL;
        env->body_case = KEYUAN__V1__ENVELOPE__BODY__NOT_SET;
        wire_free(env);
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return i;
}

static void free_reminders(Keyuan__V1__Reminder **r, int n)
{
    for (int i = 0; i < n; i++)
        keyuan__v1__reminder__free_unpacked(r[i], NULL);
}

static void test_new_customer(void **state)
{
    fixture_t *fx = *state;
    Keyuan__V1__Reminder *r;
    grade_t g;

    /* A lead at 20:50 local: 15 minutes later is after hours. */
    grade_init(&g, 7, "agent-1", KEYUAN__V1__GRADE__GRADE_LEAD, NULL);
    g.gr.is_new = true;
    wire_ts_set(&g.created, at("2026-03-02T20:50:00+08:00"));
    g.gr.created_at = &g.created;
    plan(fx, &g, "2026-03-02T20:50:01+08:00");

    r = pending(fx, 7, KIND_SPEED);
    assert_int_equal(wire_ts_ms(r->due_at), at("2026-03-03T09:00:00+08:00"));
    assert_string_equal(r->text, "新客户 15 分钟内首次联系");
    assert_string_equal(r->agent_id, "agent-1");
    keyuan__v1__reminder__free_unpacked(r, NULL);

    /* Lead cadence: 2 days after now (no contact yet). */
    r = pending(fx, 7, KIND_CADENCE);
    assert_int_equal(wire_ts_ms(r->due_at), at("2026-03-04T20:50:01+08:00"));
    assert_int_equal(r->cycle, 1);
    assert_string_equal(r->text, "线索客户定期跟进（第1次）");
    keyuan__v1__reminder__free_unpacked(r, NULL);

    /* is_new seen again (a replay): no second first call. */
    plan(fx, &g, "2026-03-02T20:51:00+08:00");
    assert_int_equal(totals(fx).pending, 2);
}

static void test_cadence_replaces_pending(void **state)
{
    fixture_t *fx = *state;
    Keyuan__V1__Reminder *first, *r;
    sched_totals_t t;
    grade_t g;

    grade_init(&g, 42, "agent-1", GRADE_A, "2026-03-02T10:00:00+08:00");
    plan(fx, &g, "2026-03-02T10:05:00+08:00");
    first = pending(fx, 42, KIND_CADENCE);
    assert_int_equal(wire_ts_ms(first->due_at),
                     at("2026-03-05T10:00:00+08:00"));
    assert_string_equal(first->text, "A类客户定期跟进（第1次）");

    /* A re-grade with nothing new keeps the very same follow-up. */
    plan(fx, &g, "2026-03-02T11:00:00+08:00");
    r = pending(fx, 42, KIND_CADENCE);
    assert_int_equal(r->reminder_id, first->reminder_id);
    keyuan__v1__reminder__free_unpacked(r, NULL);

    /* A new contact, and the customer drops to B: one pending only. */
    grade_init(&g, 42, "agent-2", GRADE_B, "2026-03-03T15:00:00+08:00");
    plan(fx, &g, "2026-03-03T15:01:00+08:00");
    r = pending(fx, 42, KIND_CADENCE);
    assert_true(r->reminder_id != first->reminder_id);
    assert_int_equal(wire_ts_ms(r->due_at), at("2026-03-10T15:00:00+08:00"));
    assert_int_equal(r->grade, GRADE_B);
    assert_string_equal(r->agent_id, "agent-2");
    keyuan__v1__reminder__free_unpacked(r, NULL);

    t = totals(fx);
    assert_int_equal(t.pending, 1);
    assert_int_equal(t.planned, 2);
    assert_int_equal(t.cancelled, 1);

    /* The replaced one never fires: at its old due time nothing does. */
    assert_int_equal(fire(fx, "2026-03-05T10:00:00+08:00", 100), 0);
    keyuan__v1__reminder__free_unpacked(first, NULL);

    /* C has no cadence here: the pending one goes. */
    grade_init(&g, 42, "agent-2", GRADE_C, "2026-03-04T15:00:00+08:00");
    plan(fx, &g, "2026-03-04T15:01:00+08:00");
    assert_false(has_pending(fx, 42, KIND_CADENCE));
    assert_int_equal(totals(fx).pending, 0);
}

static void test_cadence_agent_change_keeps_plan(void **state)
{
    fixture_t *fx = *state;
    Keyuan__V1__Reminder *a, *b;
    grade_t g;

    grade_init(&g, 5, "agent-1", GRADE_B, "2026-03-02T10:00:00+08:00");
    plan(fx, &g, "2026-03-02T10:00:00+08:00");
    a = pending(fx, 5, KIND_CADENCE);
    g.gr.agent_id = "agent-9"; /* the customer changed hands */
    plan(fx, &g, "2026-03-02T12:00:00+08:00");
    b = pending(fx, 5, KIND_CADENCE);
    assert_int_equal(a->reminder_id, b->reminder_id);
    assert_string_equal(b->agent_id, "agent-9");
    keyuan__v1__reminder__free_unpacked(a, NULL);
    keyuan__v1__reminder__free_unpacked(b, NULL);
}

static void test_do_not_disturb(void **state)
{
    fixture_t *fx = *state;
    grade_t g;

    grade_init(&g, 9, "agent-1", GRADE_A, "2026-03-02T10:00:00+08:00");
    plan(fx, &g, "2026-03-02T10:00:00+08:00");
    assert_true(has_pending(fx, 9, KIND_CADENCE));

    g.gr.do_not_disturb = true;
    grade_step(&g, "带看", "2026-03-06T10:00:00+08:00");
    plan(fx, &g, "2026-03-02T11:00:00+08:00");
    assert_false(has_pending(fx, 9, KIND_CADENCE));
    assert_false(has_pending(fx, 9, KIND_NEXT_STEP));
    assert_int_equal(fire(fx, "2026-04-01T10:00:00+08:00", 100), 0);

    /* Consent back: the cadence starts again. */
    g.gr.do_not_disturb = false;
    g.gr.next_step = NULL;
    plan(fx, &g, "2026-04-01T10:00:00+08:00");
    assert_true(has_pending(fx, 9, KIND_CADENCE));
}

static void test_next_step(void **state)
{
    fixture_t *fx = *state;
    Keyuan__V1__Reminder *r, *sent[4];
    grade_t g;

    grade_init(&g, 11, "agent-3", GRADE_C, "2026-03-02T10:00:00+08:00");
    grade_step(&g, "周六带看翠湖苑", "2026-03-07T10:00:00+08:00");
    plan(fx, &g, "2026-03-02T10:00:00+08:00");
    r = pending(fx, 11, KIND_NEXT_STEP);
    assert_string_equal(r->text, "周六带看翠湖苑");
    assert_int_equal(wire_ts_ms(r->due_at), at("2026-03-07T10:00:00+08:00"));
    keyuan__v1__reminder__free_unpacked(r, NULL);

    /* A new step replaces the pending one; 22:00 moves to 09:00. */
    grade_step(&g, "电话确认贷款预审", "2026-03-05T22:00:00+08:00");
    plan(fx, &g, "2026-03-03T10:00:00+08:00");
    r = pending(fx, 11, KIND_NEXT_STEP);
    assert_string_equal(r->text, "电话确认贷款预审");
    assert_int_equal(wire_ts_ms(r->due_at), at("2026-03-06T09:00:00+08:00"));
    keyuan__v1__reminder__free_unpacked(r, NULL);
    assert_int_equal(totals(fx).pending, 1);

    assert_int_equal(fire(fx, "2026-03-06T09:00:00+08:00", 100), 1);
    assert_int_equal(outbox_reminders(fx, sent, 4), 1);
    assert_int_equal(sent[0]->kind, KIND_NEXT_STEP);
    assert_string_equal(sent[0]->text, "电话确认贷款预审");
    free_reminders(sent, 1);

    /* Re-grades still carry the step that fired: it is not planned again. */
    plan(fx, &g, "2026-03-06T12:00:00+08:00");
    assert_false(has_pending(fx, 11, KIND_NEXT_STEP));
    assert_int_equal(fire(fx, "2026-03-30T12:00:00+08:00", 100), 0);
}

static void test_fire_in_order_and_next_cycle(void **state)
{
    fixture_t *fx = *state;
    Keyuan__V1__Reminder *sent[8], *r;
    grade_t g;

    /* Three customers whose follow-ups come due in this order: 3, 1, 2. */
    grade_init(&g, 1, "agent-1", GRADE_A, "2026-03-02T11:00:00+08:00");
    plan(fx, &g, "2026-03-02T11:00:00+08:00");
    grade_init(&g, 2, "agent-1", GRADE_A, "2026-03-02T12:00:00+08:00");
    plan(fx, &g, "2026-03-02T12:00:00+08:00");
    grade_init(&g, 3, "agent-2", GRADE_A, "2026-03-02T10:00:00+08:00");
    plan(fx, &g, "2026-03-02T12:00:00+08:00");

    /* Nothing is due before its time. */
    assert_int_equal(fire(fx, "2026-03-05T09:59:59+08:00", 100), 0);

    /* A batch limit of 2 fires the two earliest. */
    assert_int_equal(fire(fx, "2026-03-05T12:00:00+08:00", 2), 2);
    assert_int_equal(fire(fx, "2026-03-05T12:00:00+08:00", 100), 1);
    assert_int_equal(fire(fx, "2026-03-05T12:00:00+08:00", 100), 0);
    assert_int_equal(outbox_reminders(fx, sent, 8), 3);
    assert_int_equal(sent[0]->customer_id, 3);
    assert_int_equal(sent[1]->customer_id, 1);
    assert_int_equal(sent[2]->customer_id, 2);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(sent[i]->kind, KIND_CADENCE);
        assert_int_equal(sent[i]->cycle, 1);
        assert_non_null(sent[i]->fired_at);
        assert_int_equal(wire_ts_ms(sent[i]->fired_at),
                         at("2026-03-05T12:00:00+08:00"));
    }
    free_reminders(sent, 3);

    /* Each fired cadence planned its next cycle, one period on. */
    r = pending(fx, 3, KIND_CADENCE);
    assert_int_equal(r->cycle, 2);
    assert_int_equal(wire_ts_ms(r->due_at), at("2026-03-08T10:00:00+08:00"));
    assert_string_equal(r->text, "A类客户定期跟进（第2次）");
    keyuan__v1__reminder__free_unpacked(r, NULL);
    assert_int_equal(totals(fx).pending, 3);

    /* Second cycle: each fires once more, and only once. */
    assert_int_equal(fire(fx, "2026-03-08T12:00:00+08:00", 100), 3);
    assert_int_equal(fire(fx, "2026-03-08T12:00:00+08:00", 100), 0);
    assert_int_equal(outbox_reminders(fx, sent, 8), 6);
    for (int i = 3; i < 6; i++)
        assert_int_equal(sent[i]->cycle, 2);
    free_reminders(sent, 6);
    assert_int_equal(totals(fx).fired, 6);
}

static void test_fire_after_long_stop(void **state)
{
    fixture_t *fx = *state;
    Keyuan__V1__Reminder *r;
    grade_t g;

    grade_init(&g, 4, "agent-1", GRADE_A, "2026-03-02T10:00:00+08:00");
    plan(fx, &g, "2026-03-02T10:00:00+08:00");

    /* Down for ten days: one reminder, and the rhythm goes on. */
    assert_int_equal(fire(fx, "2026-03-12T11:00:00+08:00", 100), 1);
    r = pending(fx, 4, KIND_CADENCE);
    assert_int_equal(r->cycle, 2);
    assert_int_equal(wire_ts_ms(r->due_at), at("2026-03-14T10:00:00+08:00"));
    keyuan__v1__reminder__free_unpacked(r, NULL);

    /* A re-grade (no new contact) then keeps that plan. */
    plan(fx, &g, "2026-03-12T12:00:00+08:00");
    r = pending(fx, 4, KIND_CADENCE);
    assert_int_equal(r->cycle, 2);
    keyuan__v1__reminder__free_unpacked(r, NULL);
    assert_int_equal(totals(fx).cancelled, 0);
}

static void test_overdue_first_grade(void **state)
{
    fixture_t *fx = *state;
    Keyuan__V1__Reminder *r;
    grade_t g;

    /* Last contacted ten days ago and graded A now: due at once. */
    grade_init(&g, 6, "agent-1", GRADE_A, "2026-03-02T10:00:00+08:00");
    plan(fx, &g, "2026-03-12T15:00:00+08:00");
    r = pending(fx, 6, KIND_CADENCE);
    assert_int_equal(wire_ts_ms(r->due_at), at("2026-03-12T15:00:00+08:00"));
    keyuan__v1__reminder__free_unpacked(r, NULL);
}

static void test_query(void **state)
{
    fixture_t *fx = *state;
    Keyuan__V1__ReminderQuery q = KEYUAN__V1__REMINDER_QUERY__INIT;
    Keyuan__V1__ReminderList l = KEYUAN__V1__REMINDER_LIST__INIT;
    MDB_txn *txn;
    grade_t g;

    grade_init(&g, 1, "agent-1", GRADE_A, "2026-03-02T10:00:00+08:00");
    plan(fx, &g, "2026-03-02T10:00:00+08:00");
    grade_init(&g, 2, "agent-2", GRADE_A, "2026-03-02T11:00:00+08:00");
    grade_step(&g, "签约", "2026-03-20T10:00:00+08:00");
    plan(fx, &g, "2026-03-02T11:00:00+08:00");
    assert_int_equal(fire(fx, "2026-03-05T12:00:00+08:00", 100), 2);
    assert_int_equal(fire(fx, "2026-03-08T12:00:00+08:00", 100), 2);

    assert_int_equal(store_begin(fx->st, NULL, true, &txn), 0);

    /* All fired, newest first. */
    assert_int_equal(sched_query(fx->st, txn, &q, &l), 0);
    assert_int_equal(l.n_reminders, 4);
    for (size_t i = 0; i + 1 < l.n_reminders; i++)
        assert_true(l.reminders[i]->reminder_id >
                    l.reminders[i + 1]->reminder_id);
    assert_int_equal(l.reminders[0]->cycle, 2);
    sched_list_clear(&l);

    /* One customer, with what is planned: 2 fired, cadence, next step. */
    q.customer_id = 2;
    q.include_planned = true;
    assert_int_equal(sched_query(fx->st, txn, &q, &l), 0);
    assert_int_equal(l.n_reminders, 4);
    assert_non_null(l.reminders[0]->fired_at);
    assert_non_null(l.reminders[1]->fired_at);
    assert_null(l.reminders[2]->fired_at);
    assert_int_equal(l.reminders[2]->kind, KIND_CADENCE);
    assert_int_equal(l.reminders[3]->kind, KIND_NEXT_STEP);
    sched_list_clear(&l);

    /* By agent, with a limit. */
    q.customer_id = 0;
    q.agent_id = "agent-1";
    q.limit = 1;
    assert_int_equal(sched_query(fx->st, txn, &q, &l), 0);
    assert_int_equal(l.n_reminders, 2); /* one fired, one planned */
    for (size_t i = 0; i < l.n_reminders; i++) {
        assert_int_equal(l.reminders[i]->customer_id, 1);
        assert_string_equal(l.reminders[i]->agent_id, "agent-1");
    }
    assert_int_equal(l.reminders[0]->cycle, 2);
    assert_null(l.reminders[1]->fired_at);
    sched_list_clear(&l);

    /* Nobody's. */
    q.agent_id = "agent-404";
    assert_int_equal(sched_query(fx->st, txn, &q, &l), 0);
    assert_int_equal(l.n_reminders, 0);
    mdb_txn_abort(txn);
}

static void test_first_due(void **state)
{
    fixture_t *fx = *state;
    MDB_txn *txn;
    int64_t due = 0;
    grade_t g;

    assert_int_equal(store_begin(fx->st, NULL, true, &txn), 0);
    assert_int_equal(sched_first_due(fx->st, txn, &due), KY_ENOTFOUND);
    mdb_txn_abort(txn);

    grade_init(&g, 1, "agent-1", GRADE_B, "2026-03-02T10:00:00+08:00");
    plan(fx, &g, "2026-03-02T10:00:00+08:00");
    assert_int_equal(store_begin(fx->st, NULL, true, &txn), 0);
    assert_int_equal(sched_first_due(fx->st, txn, &due), 0);
    assert_int_equal(due, at("2026-03-09T10:00:00+08:00"));
    mdb_txn_abort(txn);
}

/* ---- sched_apply_grade: the same as planning, then firing --------------- */

/* Appends len bytes of p to the dump d (grown with realloc). */
static void dump_add(char **d, size_t *len, const void *p, size_t n)
{
    *d = realloc(*d, *len + n + sizeof n);
    assert_non_null(*d);
    memcpy(*d + *len, &n, sizeof n);
    memcpy(*d + *len + sizeof n, p, n);
    *len += n + sizeof n;
}

/*
 * Every record of the store, in order, as one buffer. Left out: the
 * store's random epoch, which the outbox entries carry too, so these are
 * dumped as their sequence number and reminder.
 */
static char *dump(fixture_t *fx, size_t *len)
{
    static const char *const dbs[] = {"followups",   "due",  "plans", "fired",
                                      "by_customer", "meta", "outbox"};
    char *d = NULL;
    MDB_txn *txn;

    *len = 0;
    assert_int_equal(store_begin(fx->st, NULL, true, &txn), 0);
    for (size_t i = 0; i < sizeof dbs / sizeof dbs[0]; i++) {
        MDB_cursor *cur;
        MDB_val k, v;
        int op = MDB_FIRST;

        assert_int_equal(mdb_cursor_open(txn, store_db(fx->st, dbs[i]), &cur),
                         0);
        for (; mdb_cursor_get(cur, &k, &v, op) == 0; op = MDB_NEXT) {
            Envelope *env;
            uint8_t *body;
            size_t n;

            dump_add(&d, len, k.mv_data, k.mv_size);
            if (strcmp(dbs[i], "meta") == 0 && k.mv_size == 5 &&
                memcmp(k.mv_data, "epoch", 5) == 0)
                continue;
            if (strcmp(dbs[i], "outbox") != 0) {
                dump_add(&d, len, v.mv_data, v.mv_size);
                continue;
            }
            env = wire_unpack(v.mv_data, v.mv_size);
            assert_non_null(env);
            body = wire_pack(&env->reminder->base, &n);
            dump_add(&d, len, body, n);
            free(body);
            wire_free(env);
        }
        mdb_cursor_close(cur);
    }
    mdb_txn_abort(txn);
    return d;
}

/* Applies g at now to a (plan, then fire) and to b (apply): same result. */
static void same_apply(fixture_t *a, fixture_t *b, grade_t *g, const char *now)
{
    MDB_txn *ta = begin(a), *tb = begin(b);
    int na = 0, nb = 0;
    size_t la, lb;
    char *da, *db;

    assert_int_equal(sched_plan_grade(a->st, ta, &a->rules, &g->gr, at(now)),
                     0);
    assert_int_equal(sched_fire_due(a->st, ta, a->ob, &a->rules, at(now),
                                    SCHED_FIRE_BATCH, &na),
                     0);
    assert_int_equal(
        sched_apply_grade(b->st, tb, b->ob, &b->rules, &g->gr, at(now), &nb),
        0);
    assert_int_equal(store_commit(ta), 0);
    assert_int_equal(store_commit(tb), 0);
    assert_int_equal(na, nb);
    da = dump(a, &la);
    db = dump(b, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(da, db, la);
    free(da);
    free(db);
}

static void new_lead(grade_t *g, uint64_t customer, const char *created)
{
    grade_init(g, customer, "agent-1", KEYUAN__V1__GRADE__GRADE_LEAD, NULL);
    g->gr.is_new = true;
    wire_ts_set(&g->created, at(created));
    g->gr.created_at = &g->created;
}

static void test_apply_grade_same_as_plan_and_fire(void **state)
{
    void *fxs[2];
    fixture_t *a, *b;
    grade_t g;

    (void)state;
    /* The same ids in both stores: store_next_id() reads the clock. */
    clock_enable_test(at("2026-03-02T08:00:00+08:00"));
    setup(&fxs[0]);
    setup(&fxs[1]);
    a = fxs[0];
    b = fxs[1];
    a->rules.speed_to_lead_ms = b->rules.speed_to_lead_ms = 0;

    /* Due at once and first in line: fired straight away. */
    new_lead(&g, 1, "2026-03-02T10:00:00+08:00");
    same_apply(a, b, &g, "2026-03-02T10:00:00.005+08:00");
    /* A lead at night: due in the morning, pending. */
    new_lead(&g, 2, "2026-03-02T23:00:00+08:00");
    same_apply(a, b, &g, "2026-03-02T23:00:01+08:00");
    /* Due, but the pending one of customer 2 comes first. */
    new_lead(&g, 3, "2026-03-03T09:30:00+08:00");
    same_apply(a, b, &g, "2026-03-03T09:30:01+08:00");
    /* A next step already overdue comes before the first call. */
    new_lead(&g, 4, "2026-03-03T10:00:00+08:00");
    grade_step(&g, "回电", "2026-03-03T09:45:00+08:00");
    same_apply(a, b, &g, "2026-03-03T10:00:01+08:00");
    /* A contact logged after the lead came in: no first call. */
    new_lead(&g, 5, "2026-03-03T10:00:00+08:00");
    wire_ts_set(&g.contact, at("2026-03-03T10:05:00+08:00"));
    g.gr.last_contact_at = &g.contact;
    same_apply(a, b, &g, "2026-03-03T10:06:00+08:00");
    /* The same result again, and a new grade for an old customer. */
    same_apply(a, b, &g, "2026-03-03T10:07:00+08:00");
    new_lead(&g, 1, "2026-03-02T10:00:00+08:00");
    g.gr.is_new = false;
    g.gr.grade = GRADE_A;
    same_apply(a, b, &g, "2026-03-03T11:00:00+08:00");
    /* With a delay: planned, then fired by a later grade's apply. */
    a->rules.speed_to_lead_ms = b->rules.speed_to_lead_ms = 60 * 1000;
    new_lead(&g, 6, "2026-03-03T12:00:00+08:00");
    same_apply(a, b, &g, "2026-03-03T12:00:01+08:00");
    new_lead(&g, 7, "2026-03-03T12:05:00+08:00");
    same_apply(a, b, &g, "2026-03-03T12:05:00+08:00");
    assert_true(totals(b).fired >= 5);

    teardown(&fxs[0]);
    teardown(&fxs[1]);
}

/* ---- totals, keys and pages --------------------------------------------- */

/* Applies g at now with sched_apply_grade() in a transaction of its own;
 * returns how many reminders fired. */
static int apply(fixture_t *fx, grade_t *g, const char *now)
{
    MDB_txn *txn = begin(fx);
    int n = -1;

    assert_int_equal(
        sched_apply_grade(fx->st, txn, fx->ob, &fx->rules, &g->gr, at(now), &n),
        0);
    assert_int_equal(store_commit(txn), 0);
    return n;
}

/* True when meta holds name; its value in *v. */
static bool meta_has(fixture_t *fx, const char *name, uint64_t *v)
{
    MDB_txn *txn;
    MDB_val val;
    int rc;

    assert_int_equal(store_begin(fx->st, NULL, true, &txn), 0);
    rc = store_get(txn, store_db(fx->st, "meta"), name, strlen(name), &val);
    if (rc == 0 && v)
        *v = val.mv_size == 8 ? wire_get_u64(val.mv_data) : 0;
    mdb_txn_abort(txn);
    assert_true(rc == 0 || rc == KY_ENOTFOUND);
    return rc == 0;
}

static MDB_stat db_stat(fixture_t *fx, const char *name)
{
    MDB_stat stat;
    MDB_txn *txn;

    assert_int_equal(store_begin(fx->st, NULL, true, &txn), 0);
    assert_int_equal(mdb_stat(txn, store_db(fx->st, name), &stat), 0);
    mdb_txn_abort(txn);
    return stat;
}

static void expect_totals(fixture_t *fx, uint64_t planned, uint64_t fired,
                          uint64_t pending, uint64_t cancelled)
{
    sched_totals_t t = totals(fx);

    assert_int_equal(t.planned, planned);
    assert_int_equal(t.fired, fired);
    assert_int_equal(t.pending, pending);
    assert_int_equal(t.cancelled, cancelled);
}

/*
 * Totals are counted from the fired and due indexes plus the cancelled and
 * dropped counters: no counter is read and written per follow-up.
 */
static void test_totals_from_indexes(void **state)
{
    fixture_t *fx = *state;
    uint8_t stray[16];
    uint64_t v = 0;
    MDB_txn *txn;
    grade_t g;
    int rc;

    /* A new lead: the first call fires at once, a cadence is planned. */
    fx->rules.speed_to_lead_ms = 0;
    new_lead(&g, 1, "2026-03-02T10:00:00+08:00");
    assert_int_equal(apply(fx, &g, "2026-03-02T10:00:01+08:00"), 1);
    expect_totals(fx, 2, 1, 1, 0);

    /* A new grade replaces the cadence. */
    grade_init(&g, 1, "agent-1", GRADE_A, "2026-03-02T11:00:00+08:00");
    assert_int_equal(apply(fx, &g, "2026-03-02T11:00:00+08:00"), 0);
    expect_totals(fx, 3, 1, 1, 1);
    assert_false(meta_has(fx, "sched_planned", NULL));
    assert_false(meta_has(fx, "sched_fired", NULL));

    /* A due entry without its record (a damaged store) counts as planned
     * while it waits, and as dropped once its time came. */
    wire_put_u64(stray, (uint64_t)at("2026-03-03T10:00:00+08:00"));
    wire_put_u64(stray + 8, 12345);
    txn = begin(fx);
    rc = store_put(txn, store_db(fx->st, "due"), stray, 16, "", 0, 0);
    assert_int_equal(rc, 0);
    assert_int_equal(store_commit(txn), 0);
    expect_totals(fx, 4, 1, 2, 1);
    assert_int_equal(fire(fx, "2026-03-04T10:00:00+08:00", 100), 0);
    expect_totals(fx, 4, 1, 1, 1);
    assert_true(meta_has(fx, "sched_dropped", &v));
    assert_int_equal(v, 1);

    /* The cadence fires and its next cycle is planned. */
    assert_int_equal(fire(fx, "2026-03-05T11:00:00+08:00", 100), 1);
    expect_totals(fx, 5, 2, 1, 1);

    /* Stores written before kept counters of planned and fired follow-ups
     * in meta, with the numbers counted here; they are left alone. */
    txn = begin(fx);
    assert_int_equal(store_meta_put(fx->st, txn, "sched_planned", 4), 0);
    assert_int_equal(store_meta_put(fx->st, txn, "sched_fired", 2), 0);
    assert_int_equal(store_commit(txn), 0);
    new_lead(&g, 2, "2026-03-05T12:00:00+08:00");
    assert_int_equal(apply(fx, &g, "2026-03-05T12:00:00+08:00"), 1);
    expect_totals(fx, 7, 3, 2, 1);
    assert_true(meta_has(fx, "sched_planned", &v));
    assert_int_equal(v, 4);
}

/*
 * New customers' keys are mostly the last of their databases and are
 * appended; one whose id is older than a customer planned before is put
 * in its place all the same.
 */
static void test_new_customers_out_of_order(void **state)
{
    Keyuan__V1__ReminderQuery q = KEYUAN__V1__REMINDER_QUERY__INIT;
    Keyuan__V1__ReminderList l = KEYUAN__V1__REMINDER_LIST__INIT;
    static const uint64_t customers[] = {100, 50, 200, 75};
    fixture_t *fx = *state;
    MDB_txn *txn;
    grade_t g;

    fx->rules.speed_to_lead_ms = 0;
    for (int i = 0; i < 4; i++) {
        new_lead(&g, customers[i], "2026-03-02T10:00:00+08:00");
        g.gr.grade = i % 2 ? GRADE_A : GRADE_B;
        assert_int_equal(apply(fx, &g, "2026-03-02T10:00:01+08:00"), 1);
    }
    expect_totals(fx, 8, 4, 4, 0);
    for (int i = 0; i < 4; i++) {
        Keyuan__V1__Reminder *r = pending(fx, customers[i], KIND_CADENCE);

        assert_int_equal(r->grade, i % 2 ? GRADE_A : GRADE_B);
        keyuan__v1__reminder__free_unpacked(r, NULL);
    }

    assert_int_equal(store_begin(fx->st, NULL, true, &txn), 0);
    q.include_planned = true;
    for (int i = 0; i < 4; i++) {
        q.customer_id = customers[i];
        assert_int_equal(sched_query(fx->st, txn, &q, &l), 0);
        assert_int_equal(l.n_reminders, 2);
        assert_int_equal(l.reminders[0]->kind, KIND_SPEED);
        assert_non_null(l.reminders[0]->fired_at);
        assert_int_equal(l.reminders[1]->kind, KIND_CADENCE);
        assert_null(l.reminders[1]->fired_at);
        for (size_t j = 0; j < l.n_reminders; j++)
            assert_int_equal(l.reminders[j]->customer_id, customers[i]);
        sched_list_clear(&l);
    }
    mdb_txn_abort(txn);

    /* The same result again: no second first call for anyone. */
    for (int i = 0; i < 4; i++) {
        new_lead(&g, customers[i], "2026-03-02T10:00:00+08:00");
        g.gr.grade = i % 2 ? GRADE_A : GRADE_B;
        assert_int_equal(apply(fx, &g, "2026-03-02T10:00:01+08:00"), 0);
    }
    expect_totals(fx, 8, 4, 4, 0);
}

/*
 * A new customer's two records, the first call fired at once and the
 * cadence, are written in id order at the end of the tree, so that their
 * pages fill up (42 records a page here). Written the other way round,
 * the older record went in before the newer one and split full pages in
 * the middle (31 a page here, 28 in make bench).
 */
static void test_new_customer_records_fill_pages(void **state)
{
    fixture_t *fx = *state;
    uint64_t customer = (uint64_t)at("2026-03-02T10:00:00+08:00") << 20;
    int64_t now = at("2026-03-02T10:00:01+08:00");
    MDB_stat stat;
    grade_t g;

    fx->rules.speed_to_lead_ms = 0;
    fx->rules.cadence_days[GRADE_C] = 30;
    for (int batch = 0; batch < 10; batch++) {
        MDB_txn *txn = begin(fx);

        for (int i = 0; i < 300; i++, customer++) {
            int n = 0, rc;

            /* Customer and agent ids as make bench has them. */
            new_lead(&g, customer, "2026-03-02T10:00:00+08:00");
            g.gr.agent_id = "a01";
            g.gr.grade = GRADE_A + (int)(customer % 4);
            rc = sched_apply_grade(fx->st, txn, fx->ob, &fx->rules, &g.gr, now,
                                   &n);
            assert_int_equal(rc, 0);
            assert_int_equal(n, 1);
        }
        assert_int_equal(store_commit(txn), 0);
    }
    stat = db_stat(fx, "followups");
    assert_int_equal(stat.ms_entries, 6000);
    assert_true(stat.ms_entries / stat.ms_leaf_pages >= 38);
    stat = db_stat(fx, "by_customer");
    assert_true(stat.ms_entries / stat.ms_leaf_pages >= 140);
}

/* A cadence that fires when its grade has no cadence any more leaves no
 * pending cadence behind. */
static void test_cadence_fires_when_switched_off(void **state)
{
    fixture_t *fx = *state;
    grade_t g;

    grade_init(&g, 8, "agent-1", GRADE_A, "2026-03-02T10:00:00+08:00");
    plan(fx, &g, "2026-03-02T10:00:00+08:00");
    fx->rules.cadence_days[GRADE_A] = 0;
    assert_int_equal(fire(fx, "2026-03-05T12:00:00+08:00", 100), 1);
    assert_false(has_pending(fx, 8, KIND_CADENCE));
    expect_totals(fx, 1, 1, 0, 0);
}

/* The first call's text at each setting of the delay. */
static void test_speed_texts(void **state)
{
    static const struct {
        int64_t ms;
        const char *text;
    } cases[] = {
        {0, "新客户，请立即首次联系"},
        {90 * 1000, "新客户 90 秒内首次联系"},
        {15 * 60 * 1000, "新客户 15 分钟内首次联系"},
        {120 * 60 * 1000, "新客户 120 分钟内首次联系"},
    };
    fixture_t *fx = *state;
    grade_t g;

    for (int i = 0; i < 4; i++) {
        Keyuan__V1__Reminder *r;

        fx->rules.speed_to_lead_ms = cases[i].ms;
        new_lead(&g, (uint64_t)i + 1, "2026-03-02T10:00:00+08:00");
        plan(fx, &g, "2026-03-02T10:00:00+08:00");
        r = pending(fx, (uint64_t)i + 1, KIND_SPEED);
        assert_string_equal(r->text, cases[i].text);
        keyuan__v1__reminder__free_unpacked(r, NULL);
    }
}

int main(void)
{
    const struct CMUnitTest hours_tests[] = {
        cmocka_unit_test(test_hours_parse),
        cmocka_unit_test(test_hours_zone_unknown),
        cmocka_unit_test(test_hours_shanghai),
        cmocka_unit_test(test_hours_rollover),
        cmocka_unit_test(test_hours_other_windows),
        cmocka_unit_test(test_hours_dst),
        cmocka_unit_test(test_hours_fixed_offset),
    };
    const struct CMUnitTest planner_tests[] = {
        cmocka_unit_test_setup_teardown(test_new_customer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cadence_replaces_pending, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_cadence_agent_change_keeps_plan,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_do_not_disturb, setup, teardown),
        cmocka_unit_test_setup_teardown(test_next_step, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fire_in_order_and_next_cycle,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_fire_after_long_stop, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_overdue_first_grade, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_query, setup, teardown),
        cmocka_unit_test_setup_teardown(test_first_due, setup, teardown),
        cmocka_unit_test_setup_teardown(test_totals_from_indexes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_new_customers_out_of_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_new_customer_records_fill_pages,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_cadence_fires_when_switched_off,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_speed_texts, setup, teardown),
        /* Last: it runs the process on the test clock. */
        cmocka_unit_test(test_apply_grade_same_as_plan_and_fire),
    };
    int failed =
        cmocka_run_group_tests_name("scheduler_hours", hours_tests, NULL, NULL);

    return failed + cmocka_run_group_tests_name("scheduler_planner",
                                                planner_tests, NULL, NULL);
}
