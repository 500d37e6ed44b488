/*
 * notifier.c - the notifier service: accepting reminders, status, start-up
 * and shut-down (see notifier.h; the tick is in deliver.c).
 */
#include "notify_impl.h"

#include "err.h"
#include "logger.h"
#include "sink.h"

#include <curl/curl.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* How long a clean stop waits for POSTs in flight. */
#define NOTIFY_DRAIN_MS 5000

const char *const notify_dbs[] = {"jobs", "due", "reminders", NULL};

int notify_config_check(const notify_config_t *cfg)
{
    notify_routes_t routes = {0};
    int rc = notify_routes_parse(&routes, cfg->sinks, cfg->webhook);

    notify_routes_free(&routes);
    if (rc)
        return KY_ECONFIG;
    if (cfg->retry_base_ms < 1 || cfg->retry_max_ms < cfg->retry_base_ms) {
        fprintf(stderr, "error: need 1 <= --retry-base-ms <= "
                        "--retry-max-ms\n");
        return KY_ECONFIG;
    }
    if (cfg->max_attempts < 1 || cfg->max_attempts > 1000) {
        fprintf(stderr, "error: --max-attempts must be 1..1000\n");
        return KY_ECONFIG;
    }
    return KY_OK;
}

/* The webhook needs curl; sinks alone do not. */
static int notify_open_webhook(notify_t *n)
{
    int err = KY_OK;

    for (int ch = 0; ch < n->routes.n; ch++) {
        if (n->routes.route[ch].kind != NOTIFY_KIND_WEBHOOK)
            continue;
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return KY_ENOMEM;
        n->curl_ready = true;
        n->web = notify_webhook_new(&err);
        return err;
    }
    return KY_OK;
}

notify_t *notify_new(store_t *st, svc_t *svc, const notify_config_t *cfg,
                     int *err)
{
    notify_t *n = calloc(1, sizeof *n);

    *err = KY_ENOMEM;
    if (n == NULL || sodium_init() < 0)
        goto fail;
    n->db.st = st;
    n->db.jobs = store_db(st, "jobs");
    n->db.due = store_db(st, "due");
    n->db.reminders = store_db(st, "reminders");
    n->svc = svc;
    n->secret = cfg->webhook_secret;
    n->policy.base_ms = cfg->retry_base_ms;
    n->policy.max_ms = cfg->retry_max_ms;
    n->policy.max_attempts = (uint32_t)cfg->max_attempts;
    *err = notify_routes_parse(&n->routes, cfg->sinks, cfg->webhook);
    if (*err == 0)
        *err = notify_open_webhook(n);
    if (*err)
        goto fail;
    return n;

fail:
    notify_destroy(&n);
    return NULL;
}

void notify_destroy(notify_t **np)
{
    notify_t *n;

    if (np == NULL || *np == NULL)
        return;
    n = *np;
    notify_webhook_destroy(&n->web);
    if (n->curl_ready)
        curl_global_cleanup();
    notify_routes_free(&n->routes);
    free(n->outcomes);
    free(n->batch);
    free(n);
    *np = NULL;
}

static void notify_count(notify_t *n, const char *name)
{
    if (n->svc)
        svc_count(n->svc, name, 1);
}

/* ---- start-up repair ---------------------------------------------------- */

/* Dead-letters pending jobs of channels past the configured routes. */
static int notify_orphans(notify_t *n)
{
    uint8_t key[NOTIFY_DUE_KEY_LEN];
    MDB_val k = {sizeof key, key}, v;
    MDB_txn *txn;
    MDB_cursor *cur;
    int op = MDB_SET_RANGE, rc = store_begin(n->db.st, NULL, true, &txn);

    if (rc)
        return rc;
    notify_due_key(key, (uint8_t)n->routes.n, 0, 0);
    rc = store_err(mdb_cursor_open(txn, n->db.due, &cur), "cursor_open");
    if (rc)
        goto abort_txn;
    while (rc == 0 && mdb_cursor_get(cur, &k, &v, op) == 0) {
        const uint8_t *p = k.mv_data;

        op = MDB_NEXT;
        rc = notify_outcome_add(n, wire_get_u64(p + 9), p[0], NOTIFY_FAIL,
                                "route no longer configured");
    }
    mdb_cursor_close(cur);

abort_txn:
    mdb_txn_abort(txn);
    if (rc == 0 && n->noutcomes > 0)
        log_warn("event=orphan_jobs count=%d", n->noutcomes);
    return rc ? rc : notify_commit(n);
}

int notify_recover(notify_t *n)
{
    int rc = KY_OK;

    for (uint8_t ch = 0; rc == 0 && ch < n->routes.n; ch++) {
        uint64_t size;
        int fd;

        if (n->routes.route[ch].kind != NOTIFY_KIND_FILE)
            continue;
        fd = notify_sink_open(n->routes.route[ch].target);
        if (fd < 0) {
            /* Not fatal: the tick retries, and dead-letters in the end. */
            log_error("event=sink_open_failed channel=%u errno=%d", ch, errno);
            continue;
        }
        rc = notify_sink_reconcile(n, ch, fd, &size);
        close(fd);
    }
    return rc ? rc : notify_orphans(n);
}

/* ---- accepting reminders ------------------------------------------------ */

int notify_accept(notify_t *n, MDB_txn *txn, const Keyuan__V1__Reminder *r)
{
    uint8_t key[8];
    MDB_val v;
    int rc;

    if (r->reminder_id == 0) {
        log_warn("event=reminder_invalid reason=no_id customer=%llu",
                 (unsigned long long)r->customer_id);
        notify_count(n, "reminders_invalid");
        return KY_OK;
    }
    wire_put_u64(key, r->reminder_id);
    rc = store_get(txn, n->db.reminders, key, 8, &v);
    if (rc != KY_ENOTFOUND) {
        if (rc == 0)
            notify_count(n, "reminders_repeated");
        return rc;
    }
    rc = store_put_msg(txn, n->db.reminders, key, 8, &r->base);
    for (int ch = 0; rc == 0 && ch < n->routes.n; ch++) {
        notify_job_t job = {0};

        job.state = NOTIFY_PENDING;
        job.kind = n->routes.route[ch].kind;
        job.updated_ms = (uint64_t)notify_wall_ms();
        rc = notify_job_put(&n->db, txn, r->reminder_id, (uint8_t)ch, NULL,
                            &job);
    }
    if (rc == 0)
        notify_count(n, "reminders_received");
    return rc;
}

/* ---- the service's callbacks -------------------------------------------- */

static int notify_handle(void *self, MDB_txn *txn, const Envelope *msg,
                         Envelope *reply)
{
    notify_t *n = self;

    if (msg->seq == 0) {
        /* TODO: listing and replaying dead letters (an operator request)
         * comes with its own issue; until then only status is served. */
        svc_reply(
            n->svc, reply, KEYUAN__V1__REPLY_STATUS__REPLY_STATUS_REJECTED,
            "unsupported", NULL, "the notifier answers status requests only");
        return KY_OK;
    }
    if (msg->body_case != KEYUAN__V1__ENVELOPE__BODY_REMINDER ||
        msg->reminder == NULL) {
        log_warn("event=link_unexpected body=%s seq=%llu", wire_body_name(msg),
                 (unsigned long long)msg->seq);
        notify_count(n, "link_unexpected");
        return KY_OK;
    }
    return notify_accept(n, txn, msg->reminder);
}

int notify_counts(notify_t *n, MDB_txn *txn, enum notify_kind kind,
                  uint64_t out[NOTIFY_B_COUNT])
{
    int rc = KY_OK;

    for (int b = 0; rc == 0 && b < NOTIFY_B_COUNT; b++) {
        enum notify_bucket bucket = (enum notify_bucket)b;

        rc = notify_job_count(&n->db, txn, kind, bucket, &out[b]);
    }
    return rc;
}

/* True when kind is configured or has jobs from an earlier configuration. */
static bool kind_shown(notify_t *n, enum notify_kind kind,
                       const uint64_t counts[NOTIFY_B_COUNT])
{
    for (int ch = 0; ch < n->routes.n; ch++)
        if (n->routes.route[ch].kind == kind)
            return true;
    for (int b = 0; b < NOTIFY_B_COUNT; b++)
        if (counts[b])
            return true;
    return false;
}

/*
 * Per kind: <kind>_pending, _retrying, _delivered, _dead; and "pending",
 * every job not yet delivered nor dead: the notifier's queue depth.
 */
static void notify_status(void *self, MDB_txn *txn, Keyuan__V1__StatusReply *st)
{
    notify_t *n = self;
    uint64_t backlog = 0;
    char name[48];

    for (int k = NOTIFY_KIND_FILE; k < NOTIFY_KIND_COUNT; k++) {
        uint64_t counts[NOTIFY_B_COUNT];

        if (notify_counts(n, txn, (enum notify_kind)k, counts) != 0 ||
            !kind_shown(n, (enum notify_kind)k, counts))
            continue;
        backlog += counts[NOTIFY_B_PENDING] + counts[NOTIFY_B_RETRYING];
        for (int b = 0; b < NOTIFY_B_COUNT; b++) {
            snprintf(name, sizeof name, "%s_%s",
                     notify_kind_name((enum notify_kind)k),
                     notify_bucket_name((enum notify_bucket)b));
            svc_status_add(n->svc, st, name, counts[b]);
        }
    }
    svc_status_add(n->svc, st, "pending", backlog);
    if (n->web)
        svc_status_add(n->svc, st, "webhook_in_flight",
                       (uint64_t)notify_webhook_active(n->web));
}

static int64_t notify_tick_cb(void *self)
{
    return notify_tick_deferred(self);
}

static int notify_batch_end(void *self, MDB_txn *txn)
{
    return notify_settle(self, txn);
}

static void notify_batch_done(void *self, bool durable)
{
    notify_settled(self, durable);
}

int notify_run(const svc_config_t *scfg, const notify_config_t *ncfg)
{
    svc_config_t cfg = *scfg;
    svc_ops_t ops = {notify_handle, notify_tick_cb, notify_status,
                     notify_batch_end, notify_batch_done};
    notify_t *n = NULL;
    int err = KY_OK;
    svc_t *svc;

    cfg.dbs = notify_dbs;
    svc = svc_new(&cfg, &err);
    if (svc == NULL)
        goto done;
    n = notify_new(svc_store(svc), svc, ncfg, &err);
    if (n == NULL || (err = notify_recover(n)) != 0)
        goto done;
    log_info("event=routes count=%d", n->routes.n);
    err = svc_run(svc, &ops, n);
    notify_drain(n, NOTIFY_DRAIN_MS);
    notify_commit(n); /* what the last tick delivered */

done:
    if (err)
        log_error("event=fatal err=\"%s\"", err_str(err));
    notify_destroy(&n);
    svc_destroy(&svc);
    return err ? 1 : 0;
}
