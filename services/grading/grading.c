/*
 * grading.c - the grading service (see grading.h): applies intake's
 * listing and customer messages, grades customers by the rules, records
 * the history and sends each GradeResult on to the scheduler.
 */
#include "grading.h"

#include "grade_query.h"

#include "clock.h"
#include "err.h"
#include "inventory.h"
#include "logger.h"
#include "rules.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CUSTOMER_VERSION 1
#define CUSTOMER_HEADER 2 /* version byte, grade byte */

typedef struct grading {
    svc_t *svc;             /* the service loop, for counters and replies */
    store_t *st;            /* its store, borrowed from svc */
    outbox_t *ob;           /* link to the scheduler; NULL without one */
    inventory_t inv;        /* listings and district samples */
    MDB_dbi customers;      /* customer id -> grade and last snapshot */
    MDB_dbi grades;         /* (customer id, time id) -> GradeResult */
    rules_t *rules;         /* the rules in force */
    const char *rules_path; /* where they came from, for SIGHUP */
} grading_t;

static volatile sig_atomic_t reload_requested;

static void on_sighup(int sig)
{
    (void)sig;
    reload_requested = 1;
}

/* ---- grade tallies ----------------------------------------------------- */

/* The meta counter holding how many customers have grade; NULL if none. */
static const char *tally_name(int grade)
{
    switch (grade) {
    case KEYUAN__V1__GRADE__GRADE_A:
        return "grades_a";
    case KEYUAN__V1__GRADE__GRADE_B:
        return "grades_b";
    case KEYUAN__V1__GRADE__GRADE_C:
        return "grades_c";
    case KEYUAN__V1__GRADE__GRADE_LEAD:
        return "grades_lead";
    }
    return NULL;
}

static int tally_add(grading_t *g, MDB_txn *txn, int grade, int delta)
{
    const char *name = tally_name(grade);
    uint64_t n;
    int rc;

    if (name == NULL)
        return KY_OK;
    if ((rc = store_meta_get(g->st, txn, name, &n)) != 0)
        return rc;
    n = delta < 0 && n == 0 ? 0 : n + (uint64_t)(int64_t)delta;
    return store_meta_put(g->st, txn, name, n);
}

/* Moves one customer from grade before to grade after. */
static int tally_move(grading_t *g, MDB_txn *txn, int before, int after)
{
    int rc = KY_OK;

    if (before == after)
        return KY_OK;
    if (before != KEYUAN__V1__GRADE__GRADE_UNSPECIFIED)
        rc = tally_add(g, txn, before, -1);
    return rc ? rc : tally_add(g, txn, after, +1);
}

/* ---- customers --------------------------------------------------------- */

/* The customer's current grade; GRADE_UNSPECIFIED for a new customer. */
static int customer_grade(grading_t *g, MDB_txn *txn, uint64_t id, int *grade)
{
    uint8_t key[8];
    MDB_val v;
    int rc;

    wire_put_u64(key, id);
    rc = store_get(txn, g->customers, key, 8, &v);
    *grade = KEYUAN__V1__GRADE__GRADE_UNSPECIFIED;
    if (rc == KY_ENOTFOUND)
        return KY_OK;
    if (rc)
        return rc;
    if (v.mv_size < CUSTOMER_HEADER ||
        ((uint8_t *)v.mv_data)[0] != CUSTOMER_VERSION) {
        log_error("event=customer_record_corrupt customer=%llu",
                  (unsigned long long)id);
        return KY_EDECODE;
    }
    *grade = ((uint8_t *)v.mv_data)[1];
    return KY_OK;
}

/* Stores the header and the snapshot packed straight into the page. */
static int customer_put(grading_t *g, MDB_txn *txn,
                        const Keyuan__V1__CustomerSnapshot *snap, int grade)
{
    uint8_t key[8];
    size_t len = protobuf_c_message_get_packed_size(&snap->base);
    MDB_val k = {8, key}, v = {CUSTOMER_HEADER + len, NULL};
    int rc;

    wire_put_u64(key, snap->customer_id);
    rc = mdb_put(txn, g->customers, &k, &v, MDB_RESERVE);
    if (rc)
        return store_err(rc, "customer_put");
    ((uint8_t *)v.mv_data)[0] = CUSTOMER_VERSION;
    ((uint8_t *)v.mv_data)[1] = (uint8_t)grade;
    protobuf_c_message_pack(&snap->base, (uint8_t *)v.mv_data + 2);
    return KY_OK;
}

static int history_put(grading_t *g, MDB_txn *txn,
                       const Keyuan__V1__GradeResult *res)
{
    uint8_t key[16];
    uint64_t id;
    int rc = store_next_id(g->st, txn, &id);

    if (rc)
        return rc;
    wire_put_u64(key, res->customer_id);
    wire_put_u64(key + 8, id);
    return store_put_msg(txn, g->grades, key, sizeof key, &res->base);
}

/* ---- grading one customer ---------------------------------------------- */

static int customer_facts(grading_t *g, MDB_txn *txn,
                          const Keyuan__V1__Needs *needs, rules_facts_t *f)
{
    inventory_market_t m;
    int rc = inventory_market(&g->inv, txn, needs, &m);

    if (rc)
        return rc;
    rules_facts_from_needs(needs, f);
    f->market_known = m.priced;
    f->market_unit_yuan = m.median_unit_yuan;
    f->matches_known = m.matches_known;
    f->matches = m.matches;
    return KY_OK;
}

/* Fills res from the snapshot and the verdict; res borrows from both. */
static void result_fill(Keyuan__V1__GradeResult *res, char **reasons,
                        const Keyuan__V1__CustomerSnapshot *snap,
                        rules_verdict_t *v, int previous)
{
    res->customer_id = snap->customer_id;
    res->agent_id = snap->agent_id;
    res->grade = (Keyuan__V1__Grade)v->grade;
    res->previous_grade = (Keyuan__V1__Grade)previous;
    res->rule = (char *)v->rule;
    for (int i = 0; i < v->nreasons; i++)
        reasons[i] = v->reasons[i];
    res->n_reasons = (size_t)v->nreasons;
    res->reasons = reasons;
    res->is_new = snap->is_new;
    res->created_at = snap->created_at;
    res->last_contact_at = snap->last_contact_at;
    res->next_step = snap->next_step;
    res->do_not_disturb = snap->do_not_disturb;
    res->birthday = snap->birthday;
    res->merged_into = snap->merged_into;
}

static int result_send(grading_t *g, MDB_txn *txn, Keyuan__V1__GradeResult *res)
{
    Envelope env = KEYUAN__V1__ENVELOPE__INIT;

    if (g->ob == NULL)
        return KY_OK;
    env.body_case = KEYUAN__V1__ENVELOPE__BODY_GRADE;
    env.grade = res;
    return outbox_append(g->ob, txn, &env);
}

/*
 * Grades one snapshot: facts from its needs and the inventory as it is
 * now, the first rule that holds, then the customer record, the history
 * entry, the tallies and the message to the scheduler, all in txn.
 */
static int grade_customer(grading_t *g, MDB_txn *txn,
                          const Keyuan__V1__CustomerSnapshot *snap)
{
    Keyuan__V1__GradeResult res = KEYUAN__V1__GRADE_RESULT__INIT;
    Google__Protobuf__Timestamp now = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    char *reasons[RULES_MAX_CONDS];
    rules_facts_t facts;
    rules_verdict_t verdict;
    int previous, rc;

    if (snap->customer_id == 0) {
        log_warn("event=snapshot_without_customer_id");
        svc_count(g->svc, "snapshots_invalid", 1);
        return KY_OK;
    }
    if ((rc = customer_grade(g, txn, snap->customer_id, &previous)) != 0 ||
        (rc = customer_facts(g, txn, snap->needs, &facts)) != 0)
        return rc;
    rules_eval(g->rules, &facts, &verdict);

    result_fill(&res, reasons, snap, &verdict, previous);
    wire_ts_set(&now, clock_now_ms());
    res.graded_at = &now;
    if ((rc = customer_put(g, txn, snap, verdict.grade)) != 0 ||
        (rc = history_put(g, txn, &res)) != 0 ||
        (rc = tally_move(g, txn, previous, verdict.grade)) != 0 ||
        (rc = result_send(g, txn, &res)) != 0)
        return rc;

    svc_count(g->svc, "customers_graded", 1);
    log_info("event=graded customer=%llu grade=%s previous=%s rule=%s",
             (unsigned long long)snap->customer_id,
             rules_grade_name(verdict.grade), rules_grade_name(previous),
             verdict.rule);
    return KY_OK;
}

/* ---- listings ---------------------------------------------------------- */

static int apply_listing(grading_t *g, MDB_txn *txn, const Envelope *msg)
{
    static const char *counters[] = {
        [INVENTORY_ADDED] = "listings_added",
        [INVENTORY_UPDATED] = "listings_updated",
        [INVENTORY_REMOVED] = "listings_withdrawn",
        [INVENTORY_UNKNOWN] = "listings_withdrawn_unknown",
        [INVENTORY_INVALID] = "listings_invalid",
    };
    enum inventory_outcome what;
    int rc = inventory_apply(&g->inv, txn, msg->listing, &what);

    if (rc)
        return rc;
    svc_count(g->svc, counters[what], 1);
    if (what == INVENTORY_INVALID)
        log_warn("event=listing_invalid seq=%llu",
                 (unsigned long long)msg->seq);
    /*
     * TODO: re-grade the customers whose wanted regions this listing
     * touches (issue "re-grade on inventory change"). Until then a change
     * of the market shows in a customer's grade at their next snapshot.
     */
    return KY_OK;
}

/* ---- the service callbacks --------------------------------------------- */

static int grading_handle(void *self, MDB_txn *txn, const Envelope *msg,
                          Envelope *reply)
{
    grading_t *g = self;

    if (msg->seq == 0 &&
        msg->body_case == KEYUAN__V1__ENVELOPE__BODY_GRADE_QUERY)
        return grade_query_answer(g->svc, g->st, txn, msg->grade_query, reply);
    if (msg->seq == 0 || msg->sender == NULL) {
        svc_count(g->svc, "requests_unsupported", 1);
        svc_reply(g->svc, reply,
                  KEYUAN__V1__REPLY_STATUS__REPLY_STATUS_REJECTED,
                  "unsupported", NULL,
                  "grading answers status and grade queries only");
        return KY_OK;
    }
    if (msg->body_case == KEYUAN__V1__ENVELOPE__BODY_CUSTOMER && msg->customer)
        return grade_customer(g, txn, msg->customer);
    if (msg->body_case == KEYUAN__V1__ENVELOPE__BODY_LISTING && msg->listing)
        return apply_listing(g, txn, msg);

    /* Acked and skipped: resending it would not make it understood. */
    log_warn("event=link_body_ignored body=%s seq=%llu", wire_body_name(msg),
             (unsigned long long)msg->seq);
    svc_count(g->svc, "link_ignored", 1);
    return KY_OK;
}

static void rules_reload(grading_t *g)
{
    char err[512];
    rules_t *fresh = rules_load(g->rules_path, err, sizeof err);

    if (fresh == NULL) {
        log_error("event=rules_reload_failed kept=old detail=\"%s\"", err);
        svc_count(g->svc, "rules_reload_failures", 1);
        return;
    }
    rules_destroy(&g->rules);
    g->rules = fresh;
    svc_count(g->svc, "rules_reloads", 1);
    log_info("event=rules_reloaded path=%s rules=%d", g->rules_path,
             rules_count(g->rules));
}

static int64_t grading_tick(void *self)
{
    if (reload_requested) {
        reload_requested = 0;
        rules_reload(self);
    }
    return -1;
}

static void grading_status(void *self, MDB_txn *txn,
                           Keyuan__V1__StatusReply *st)
{
    static const int grades[] = {
        KEYUAN__V1__GRADE__GRADE_A, KEYUAN__V1__GRADE__GRADE_B,
        KEYUAN__V1__GRADE__GRADE_C, KEYUAN__V1__GRADE__GRADE_LEAD};
    grading_t *g = self;
    uint64_t n;

    svc_status_add(g->svc, st, "customers", store_count(txn, g->customers));
    svc_status_add(g->svc, st, "listings", store_count(txn, g->inv.listings));
    svc_status_add(g->svc, st, "districts", store_count(txn, g->inv.district));
    for (int i = 0; i < 4; i++)
        if (store_meta_get(g->st, txn, tally_name(grades[i]), &n) == 0)
            svc_status_add(g->svc, st, tally_name(grades[i]), n);
    svc_status_add(g->svc, st, "rules", (uint64_t)rules_count(g->rules));
}

/* ---- running ----------------------------------------------------------- */

static int grading_open(grading_t *g, const svc_config_t *cfg_in)
{
    static const char *const dbs[] = {INVENTORY_DBS, "customers", "grades",
                                      NULL};
    svc_config_t cfg = *cfg_in;
    int rc;

    cfg.dbs = dbs;
    g->svc = svc_new(&cfg, &rc);
    if (g->svc == NULL)
        return rc;
    g->st = svc_store(g->svc);
    g->ob = svc_outbox(g->svc);
    inventory_init(&g->inv, g->st);
    g->customers = store_db(g->st, "customers");
    g->grades = store_db(g->st, "grades");
    return KY_OK;
}

int grading_run(const svc_config_t *cfg, const char *rules_path)
{
    static const svc_ops_t ops = {grading_handle, grading_tick, grading_status};
    struct sigaction sa = {0};
    grading_t g = {0};
    char err[512];
    int rc;

    /* Before anything slow: SIGHUP's default action ends the process. */
    sa.sa_handler = on_sighup;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGHUP, &sa, NULL);

    g.rules_path = rules_path;
    g.rules = rules_load(rules_path, err, sizeof err);
    if (g.rules == NULL) {
        log_error("event=rules_invalid detail=\"%s\"", err);
        return KY_ECONFIG;
    }
    log_info("event=rules_loaded path=%s rules=%d", rules_path,
             rules_count(g.rules));
    if ((rc = grading_open(&g, cfg)) != 0)
        goto free_rules;
    rc = svc_run(g.svc, &ops, &g);
    svc_destroy(&g.svc);

free_rules:
    rules_destroy(&g.rules);
    return rc;
}
