/*
 * sched_service.c - the scheduler as a keyuan service: its options, and
 * the handle/tick/status callbacks that svc's loop calls (see svc.h).
 *
 * handle() plans from GradeResult link messages and answers
 * ReminderQuery requests, inside svc's batch transaction; tick() fires
 * what is due in transactions of its own, at most SCHED_FIRE_BATCH
 * reminders per commit.
 */
#include "scheduler.h"

#include "clock.h"
#include "err.h"
#include "logger.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest wait between two ticks, so that a moved test clock is seen. */
#define SCHED_TICK_MAX_MS 1000

/* Upper bounds that catch typos (a cadence of 30000 days) at start. */
#define SCHED_MAX_CADENCE_DAYS 3650
#define SCHED_MAX_SPEED_S (30LL * 24 * 3600)

typedef struct sched {
    svc_t *svc;          /* the service loop, owned */
    store_t *st;         /* svc's store, borrowed */
    outbox_t *ob;        /* link to the notifier; NULL when none */
    sched_rules_t rules; /* how follow-ups are planned */
    int fired_unlogged;  /* fired by handle() since the last tick's log
                            line (a batch run again counts twice) */
} sched_t;

/* ---- options ------------------------------------------------------------ */

static int check_range(const char *name, int64_t v, int64_t max)
{
    if (v >= 0 && v <= max)
        return KY_OK;
    fprintf(stderr, "error: --%s must be between 0 and %lld (got %lld)\n", name,
            (long long)max, (long long)v);
    return KY_ECONFIG;
}

int sched_rules_init(sched_rules_t *rules, const sched_options_t *opt)
{
    const struct {
        const char *name;
        int64_t days;
        int grade;
    } cad[] = {
        {"cadence-a-days", opt->cadence_a_days, KEYUAN__V1__GRADE__GRADE_A},
        {"cadence-b-days", opt->cadence_b_days, KEYUAN__V1__GRADE__GRADE_B},
        {"cadence-c-days", opt->cadence_c_days, KEYUAN__V1__GRADE__GRADE_C},
        {"cadence-lead-days", opt->cadence_lead_days,
         KEYUAN__V1__GRADE__GRADE_LEAD},
    };
    int rc =
        check_range("speed-to-lead-s", opt->speed_to_lead_s, SCHED_MAX_SPEED_S);

    memset(rules, 0, sizeof *rules);
    rules->speed_to_lead_ms = opt->speed_to_lead_s * 1000;
    for (size_t i = 0; rc == 0 && i < sizeof cad / sizeof cad[0]; i++) {
        rc = check_range(cad[i].name, cad[i].days, SCHED_MAX_CADENCE_DAYS);
        rules->cadence_days[cad[i].grade] = (int)cad[i].days;
    }
    if (rc == 0)
        rc = sched_hours_parse(opt->work_start, opt->work_end, &rules->hours);
    if (rc == 0)
        rc = sched_hours_use_zone(opt->time_zone);
    return rc;
}

/* ---- handle ------------------------------------------------------------- */

/*
 * Plans from one grade result, then fires what is due already (a new
 * customer's speed-to-lead reminder, without delay) in the same
 * transaction: firing it in the tick's own commit wrote the pages this
 * one had just written a second time, and cost a second fsync.
 */
static int on_grade(sched_t *s, MDB_txn *txn, const Envelope *msg)
{
    int fired = 0;
    int rc = sched_apply_grade(s->st, txn, s->ob, &s->rules, msg->grade,
                               clock_now_ms(), &fired);

    /* Sending it again cannot fix it: ack it, skip it, say so. */
    if (rc == KY_EINVAL) {
        log_warn("event=grade_skipped seq=%llu reason=no_customer_id",
                 (unsigned long long)msg->seq);
        svc_count(s->svc, "grades_skipped", 1);
        return KY_OK;
    }
    if (rc == 0) {
        svc_count(s->svc, "grades_applied", 1);
        s->fired_unlogged += fired;
    }
    return rc;
}

static int on_link(sched_t *s, MDB_txn *txn, const Envelope *msg)
{
    if (msg->body_case == KEYUAN__V1__ENVELOPE__BODY_GRADE && msg->grade)
        return on_grade(s, txn, msg);

    /* Not ours to apply; refusing the ack would stall the link forever. */
    log_warn("event=link_message_skipped sender=%s seq=%llu body=%s",
             msg->sender, (unsigned long long)msg->seq, wire_body_name(msg));
    svc_count(s->svc, "link_unsupported", 1);
    return KY_OK;
}

/* Moves the reminders of list into reply memory that svc frees. */
static void reply_list(sched_t *s, Keyuan__V1__ReminderList *list,
                       Envelope *reply)
{
    Keyuan__V1__ReminderList *out = svc_alloc(s->svc, sizeof *out);
    size_t n = list->n_reminders;

    keyuan__v1__reminder_list__init(out);
    out->n_reminders = n;
    out->reminders = svc_alloc(s->svc, (n ? n : 1) * sizeof *out->reminders);
    for (size_t i = 0; i < n; i++) {
        out->reminders[i] = list->reminders[i];
        svc_defer_free(s->svc, &list->reminders[i]->base);
    }
    free(list->reminders);
    list->reminders = NULL;
    list->n_reminders = 0;
    reply->body_case = KEYUAN__V1__ENVELOPE__BODY_REMINDER_LIST;
    reply->reminder_list = out;
}

static int on_query(sched_t *s, MDB_txn *txn, const Envelope *msg,
                    Envelope *reply)
{
    Keyuan__V1__ReminderList list = KEYUAN__V1__REMINDER_LIST__INIT;
    int rc = sched_query(s->st, txn, msg->reminder_query, &list);

    if (rc)
        return rc;
    reply_list(s, &list, reply);
    svc_count(s->svc, "queries", 1);
    return KY_OK;
}

static int sched_handle(void *self, MDB_txn *txn, const Envelope *msg,
                        Envelope *reply)
{
    sched_t *s = self;

    if (msg->seq > 0)
        return on_link(s, txn, msg);
    if (msg->body_case == KEYUAN__V1__ENVELOPE__BODY_REMINDER_QUERY &&
        msg->reminder_query)
        return on_query(s, txn, msg, reply);
    svc_reply(s->svc, reply, KEYUAN__V1__REPLY_STATUS__REPLY_STATUS_REJECTED,
              "unsupported", NULL,
              svc_printf(s->svc, "the scheduler does not take %s requests",
                         wire_body_name(msg)));
    return KY_OK;
}

/* ---- tick and status ---------------------------------------------------- */

/* Milliseconds until next_due, between 0 and SCHED_TICK_MAX_MS. */
static int64_t tick_wait(int64_t next_due, int64_t now)
{
    int64_t wait = next_due - now;

    if (wait < 0)
        return 0;
    return wait < SCHED_TICK_MAX_MS ? wait : SCHED_TICK_MAX_MS;
}

static int64_t sched_tick(void *self)
{
    sched_t *s = self;
    int64_t now = clock_now_ms(), next = -1;
    MDB_txn *txn;
    int fired = 0;
    int rc = store_begin(s->st, NULL, false, &txn);

    if (rc)
        return SCHED_TICK_MAX_MS;
    rc = sched_fire_due(s->st, txn, s->ob, &s->rules, now, SCHED_FIRE_BATCH,
                        &fired);
    if (rc == 0 && (rc = sched_first_due(s->st, txn, &next)) == KY_ENOTFOUND)
        rc = KY_OK, next = -1;

    /* Nothing fired: nothing to make durable, so no fsync. */
    if (rc || fired == 0)
        mdb_txn_abort(txn);
    else
        rc = store_commit(txn);
    if (rc) {
        log_error("event=fire_failed err=\"%s\"", err_str(rc));
        return SCHED_TICK_MAX_MS;
    }
    if (fired + s->fired_unlogged > 0)
        log_info("event=reminders_fired count=%d sent=%s",
                 fired + s->fired_unlogged, s->ob ? "outbox" : "none");
    s->fired_unlogged = 0;
    if (fired == SCHED_FIRE_BATCH)
        return 0; /* more may be due right now */
    return next < 0 ? SCHED_TICK_MAX_MS : tick_wait(next, now);
}

static void sched_status(void *self, MDB_txn *txn,
                         Keyuan__V1__StatusReply *reply)
{
    sched_t *s = self;
    sched_totals_t t;

    if (sched_totals(s->st, txn, &t) != 0)
        return;
    svc_status_add(s->svc, reply, "planned", t.planned);
    svc_status_add(s->svc, reply, "fired", t.fired);
    svc_status_add(s->svc, reply, "pending", t.pending);
    svc_status_add(s->svc, reply, "cancelled", t.cancelled);
}

/* ---- run ---------------------------------------------------------------- */

int sched_run(const svc_config_t *cfg, const sched_options_t *opt)
{
    svc_ops_t ops = {sched_handle, sched_tick, sched_status};
    svc_config_t c = *cfg;
    sched_t s = {0};
    int rc = sched_rules_init(&s.rules, opt);

    if (rc)
        return rc;
    c.dbs = sched_db_names;
    s.svc = svc_new(&c, &rc);
    if (s.svc == NULL) {
        log_error("event=start_failed err=\"%s\"", err_str(rc));
        return rc;
    }
    s.st = svc_store(s.svc);
    s.ob = svc_outbox(s.svc);
    if (s.ob == NULL)
        log_warn("event=no_downstream detail=reminders_kept_in_fired_only");
    log_info("event=scheduler_ready zone=%s work=%s-%s speed_to_lead_s=%lld "
             "cadence_days=%d/%d/%d/%d",
             opt->time_zone, opt->work_start, opt->work_end,
             (long long)opt->speed_to_lead_s,
             s.rules.cadence_days[KEYUAN__V1__GRADE__GRADE_A],
             s.rules.cadence_days[KEYUAN__V1__GRADE__GRADE_B],
             s.rules.cadence_days[KEYUAN__V1__GRADE__GRADE_C],
             s.rules.cadence_days[KEYUAN__V1__GRADE__GRADE_LEAD]);
    rc = svc_run(s.svc, &ops, &s);
    svc_destroy(&s.svc);
    return rc;
}
