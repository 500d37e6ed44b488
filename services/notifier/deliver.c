/*
 * deliver.c - the notifier's tick: delivers due jobs and commits what
 * came of them (see notifier.h).
 *
 * The order of one tick: start POSTs for due webhook jobs, collect the
 * POSTs that finished, write each sink's batch (write, sync), then commit
 * every outcome in one write transaction. I/O never happens while the
 * write transaction is open.
 */
#include "notify_impl.h"

#include "err.h"
#include "logger.h"
#include "pbjson.h"
#include "sink.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TICK_IDLE_MS 1000  /* nothing due: look again anyway */
#define TICK_FAILED_MS 100 /* a commit failed: wait a little */

/*
 * While POSTs are in flight the tick polls curl this often: a POST takes
 * a tick to start and one to finish, so 2 ms lets a local receiver take
 * thousands a second, for about 1% CPU while slow receivers keep all
 * transfers hanging. TODO: have svc poll curl's sockets beside its own
 * (a hook in svc.h), so that the tick runs exactly when one is ready.
 */
#define TICK_FLIGHT_MS 2

int64_t notify_wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- outcomes and their commit --------------------------------------- */

int notify_outcome_add(notify_t *n, uint64_t reminder_id, uint8_t channel,
                       enum notify_result result, const char *error)
{
    notify_outcome_t o = {0};

    o.reminder_id = reminder_id;
    o.channel = channel;
    o.result = result;
    snprintf(o.error, sizeof o.error, "%s", error ? error : "");
    return notify_outcome_push(n, &o);
}

int notify_outcome_push(notify_t *n, const notify_outcome_t *o)
{
    if (n->noutcomes == n->outcomes_cap) {
        int cap = n->outcomes_cap ? 2 * n->outcomes_cap : 64;
        notify_outcome_t *grown =
            realloc(n->outcomes, (size_t)cap * sizeof *grown);

        if (grown == NULL)
            return KY_ENOMEM;
        n->outcomes = grown;
        n->outcomes_cap = cap;
    }
    n->outcomes[n->noutcomes++] = *o;
    return KY_OK;
}

static void offset_name(const notify_t *n, uint8_t ch, char *out, size_t len)
{
    snprintf(out, len, "sink_offset:%s", n->routes.route[ch].target);
}

static int commit_offsets(notify_t *n, MDB_txn *txn)
{
    char name[NOTIFY_MAX_PATH + 16];
    int rc = KY_OK;

    for (uint8_t ch = 0; rc == 0 && ch < n->routes.n; ch++) {
        if (!n->sinks[ch].dirty)
            continue;
        offset_name(n, ch, name, sizeof name);
        rc = store_meta_put(n->db.st, txn, name, n->sinks[ch].offset);
    }
    return rc;
}

static bool offsets_dirty(const notify_t *n)
{
    for (int ch = 0; ch < n->routes.n; ch++)
        if (n->sinks[ch].dirty)
            return true;
    return false;
}

/* After a commit: dirty offsets are now known, or unknown if it failed. */
static void offsets_done(notify_t *n, bool committed)
{
    for (int ch = 0; ch < n->routes.n; ch++) {
        if (n->sinks[ch].dirty)
            n->sinks[ch].known = committed;
        n->sinks[ch].dirty = false;
    }
}

/* The random number a retry's back-off needs; a delivery needs none, and
 * asking the kernel for one per delivered line showed in profiles. */
static uint32_t outcome_jitter(const notify_outcome_t *o)
{
    return o->result == NOTIFY_OK ? 0 : randombytes_random();
}

/* Settles the queued outcomes and writes dirty sink offsets in txn. */
static int settle_in(notify_t *n, MDB_txn *txn)
{
    int64_t now = notify_wall_ms();
    int rc = KY_OK;

    for (int i = 0; rc == 0 && i < n->noutcomes; i++)
        rc = notify_job_settle(&n->db, txn, &n->policy, &n->outcomes[i], now,
                               outcome_jitter(&n->outcomes[i]));
    return rc ? rc : commit_offsets(n, txn);
}

int notify_commit(notify_t *n)
{
    MDB_txn *txn = NULL;
    int rc;

    if (n->noutcomes == 0 && !offsets_dirty(n))
        return KY_OK;
    rc = store_begin(n->db.st, NULL, false, &txn);
    if (rc == 0)
        rc = settle_in(n, txn);
    if (rc == 0)
        rc = store_commit(txn);
    else if (txn)
        mdb_txn_abort(txn);
    if (rc)
        log_error("event=commit_failed outcomes=%d err=\"%s\"", n->noutcomes,
                  err_str(rc));
    n->noutcomes = 0;
    n->handed = 0;
    offsets_done(n, rc == 0);
    return rc;
}

int notify_settle(notify_t *n, MDB_txn *txn)
{
    int rc;

    n->handed = 0;
    if (n->noutcomes == 0 && !offsets_dirty(n))
        return KY_OK;
    rc = settle_in(n, txn);
    if (rc == 0)
        n->handed = n->noutcomes;
    return rc;
}

void notify_settled(notify_t *n, bool durable)
{
    int handed = n->handed;

    n->handed = 0;
    if (!durable || (handed == 0 && !offsets_dirty(n)))
        return;
    n->noutcomes -= handed;
    memmove(n->outcomes, n->outcomes + handed,
            (size_t)n->noutcomes * sizeof *n->outcomes);
    offsets_done(n, true);
}

/* ---- walking the due index ------------------------------------------- */

/* What a walk over one channel's due jobs found beyond what it took. */
typedef struct due_walk {
    bool more;       /* due jobs left for the next tick */
    int64_t next_ms; /* earliest job not yet due; -1: none */
} due_walk_t;

/* Called for each due job; returns 1 to take it, 0 to skip, 2 to stop. */
typedef int (*due_fn)(notify_t *n, MDB_txn *txn, uint8_t ch, uint64_t id,
                      void *arg);

static void due_walk(notify_t *n, uint8_t ch, int64_t now, due_fn fn, void *arg,
                     due_walk_t *w)
{
    uint8_t key[NOTIFY_DUE_KEY_LEN];
    MDB_val k = {sizeof key, key}, v;
    MDB_txn *txn;
    MDB_cursor *cur;
    int op = MDB_SET_RANGE, verdict = 0;

    w->more = false;
    w->next_ms = -1;
    if (store_begin(n->db.st, NULL, true, &txn) != 0)
        return;
    notify_due_key(key, ch, 0, 0);
    if (mdb_cursor_open(txn, n->db.due, &cur) == 0) {
        while (verdict != 2 && mdb_cursor_get(cur, &k, &v, op) == 0 &&
               ((uint8_t *)k.mv_data)[0] == ch) {
            int64_t due = (int64_t)wire_get_u64((uint8_t *)k.mv_data + 1);

            op = MDB_NEXT;
            if (due > now) {
                w->next_ms = due;
                break;
            }
            verdict =
                fn(n, txn, ch, wire_get_u64((uint8_t *)k.mv_data + 9), arg);
        }
        w->more = verdict == 2;
        mdb_cursor_close(cur);
    }
    mdb_txn_abort(txn);
}

/*
 * Reads the reminder of a due job on ch, after checking that the job was
 * made for this route's kind. On a mismatch or a broken record it queues
 * a dead letter and returns NULL.
 */
static Keyuan__V1__Reminder *due_reminder(notify_t *n, MDB_txn *txn, uint8_t ch,
                                          uint64_t id)
{
    uint8_t key[8];
    notify_job_t job;
    ProtobufCMessage *msg = NULL;

    if (notify_job_get(&n->db, txn, id, ch, &job) != 0)
        return NULL; /* an index entry without its job: nothing to do */
    if (job.kind != n->routes.route[ch].kind) {
        notify_outcome_add(n, id, ch, NOTIFY_FAIL,
                           "route changed kind since the job was made");
        return NULL;
    }
    wire_put_u64(key, id);
    if (store_get_msg(txn, n->db.reminders, key, 8,
                      &keyuan__v1__reminder__descriptor, &msg) != 0) {
        notify_outcome_add(n, id, ch, NOTIFY_FAIL,
                           "reminder record missing or corrupt");
        return NULL;
    }
    return (Keyuan__V1__Reminder *)msg;
}

/* ---- file and stdout sinks ------------------------------------------- */

static int batch_add(notify_t *n, uint64_t id)
{
    if (n->nbatch == n->batch_cap) {
        int cap = n->batch_cap ? 2 * n->batch_cap : 64;
        uint64_t *grown = realloc(n->batch, (size_t)cap * sizeof *grown);

        if (grown == NULL)
            return KY_ENOMEM;
        n->batch = grown;
        n->batch_cap = cap;
    }
    n->batch[n->nbatch++] = id;
    return KY_OK;
}

/* due_fn: adds the job's line to the batch in arg. */
static int sink_take(notify_t *n, MDB_txn *txn, uint8_t ch, uint64_t id,
                     void *arg)
{
    notify_buf_t *lines = arg;
    Keyuan__V1__Reminder *r;
    int rc;

    if (n->nbatch == NOTIFY_SINK_BATCH)
        return 2;
    r = due_reminder(n, txn, ch, id);
    if (r == NULL)
        return 0;
    rc = notify_line_format(lines, r);
    if (rc == 0)
        rc = batch_add(n, id);
    keyuan__v1__reminder__free_unpacked(r, NULL);
    return rc == 0 ? 1 : 2;
}

/* Queues one outcome for every reminder of the batch. */
static void batch_settle(notify_t *n, uint8_t ch, enum notify_result result,
                         const char *error)
{
    for (int i = 0; i < n->nbatch; i++)
        notify_outcome_add(n, n->batch[i], ch, result, error);
    n->nbatch = 0;
}

static void sink_failed(notify_t *n, uint8_t ch, const char *what)
{
    char error[NOTIFY_ERR_MAX + 1];

    snprintf(error, sizeof error, "%s: %s", what, strerror(errno));
    log_error("event=sink_failed channel=%u lines=%d err=\"%s\"", ch, n->nbatch,
              error);
    batch_settle(n, ch, NOTIFY_RETRY, error);
}

/* Writes the batch to an open file at committed size size, then syncs. */
static void sink_file_write(notify_t *n, uint8_t ch, int fd, uint64_t size,
                            const notify_buf_t *lines)
{
    if (notify_sink_write(fd, lines->data, lines->len, true) != 0 ||
        notify_sink_sync(fd) != 0) {
        int saved = errno;

        /* Take the lines back so the file holds only committed ones; if
         * that fails too, the next reconcile sorts the tail out. */
        if (ftruncate(fd, (off_t)size) == 0)
            notify_sink_sync(fd);
        errno = saved;
        sink_failed(n, ch, "write");
        return;
    }
    n->sinks[ch].offset = size + lines->len;
    n->sinks[ch].dirty = true;
    batch_settle(n, ch, NOTIFY_OK, NULL);
}

/* due_fn: stops at the first due job, which shows there is one. */
static int due_any(notify_t *n, MDB_txn *txn, uint8_t ch, uint64_t id,
                   void *arg)
{
    (void)n, (void)txn, (void)ch, (void)id, (void)arg;
    return 2;
}

static void sink_file_batch(notify_t *n, uint8_t ch, int64_t now, due_walk_t *w)
{
    notify_buf_t lines = {0};
    uint64_t size = 0;
    int fd, open_errno;

    /* Most ticks find nothing due: then leave the file alone. */
    due_walk(n, ch, now, due_any, NULL, w);
    if (!w->more)
        return;
    fd = notify_sink_open(n->routes.route[ch].target);
    open_errno = errno;
    if (fd >= 0 && notify_sink_reconcile(n, ch, fd, &size) != 0) {
        close(fd);
        w->more = false;
        w->next_ms = now + TICK_FAILED_MS;
        return;
    }
    n->nbatch = 0;
    due_walk(n, ch, now, sink_take, &lines, w);
    if (n->nbatch > 0 && fd < 0) {
        errno = open_errno;
        sink_failed(n, ch, "open");
    } else if (n->nbatch > 0)
        sink_file_write(n, ch, fd, size, &lines);
    if (fd >= 0)
        close(fd);
    notify_buf_free(&lines);
}

static void sink_stdout_batch(notify_t *n, uint8_t ch, int64_t now,
                              due_walk_t *w)
{
    notify_buf_t lines = {0};

    int rc;

    n->nbatch = 0;
    due_walk(n, ch, now, sink_take, &lines, w);
    if (n->nbatch > 0) {
        /* Nothing to reconcile: a line written before a crash is written
         * again after it. stdout is at-least-once. */
        rc = notify_sink_write(STDOUT_FILENO, lines.data, lines.len, false);
        if (rc == 0)
            rc = notify_sink_sync(STDOUT_FILENO);
        if (rc)
            sink_failed(n, ch, "stdout");
        else
            batch_settle(n, ch, NOTIFY_OK, NULL);
    }
    notify_buf_free(&lines);
}

/* ---- reconciling a file sink with its committed size ------------------ */

/* Where the lines of a recovered tail are settled. */
typedef struct tail_ctx {
    notify_t *n;
    uint8_t ch;
} tail_ctx_t;

/* notify_line_fn: a line written before a crash counts as delivered. */
static int tail_line(void *arg, uint64_t id)
{
    tail_ctx_t *t = arg;

    return notify_outcome_add(t->n, id, t->ch, NOTIFY_OK, NULL);
}

/* Reads the committed offset; *present is false when none was recorded. */
static int offset_load(notify_t *n, uint8_t ch, bool *present)
{
    char name[NOTIFY_MAX_PATH + 16];
    MDB_txn *txn;
    MDB_val v;
    int rc = store_begin(n->db.st, NULL, true, &txn);

    if (rc)
        return rc;
    offset_name(n, ch, name, sizeof name);
    rc = store_get(txn, store_db(n->db.st, "meta"), name, strlen(name), &v);
    *present = rc == 0 && v.mv_size == 8;
    n->sinks[ch].offset = *present ? wire_get_u64(v.mv_data) : 0;
    mdb_txn_abort(txn);
    return rc == KY_ENOTFOUND ? KY_OK : rc;
}

/*
 * A file we never wrote to: what is in it is someone else's. Start after
 * it, on a line of our own.
 */
static int adopt_file(uint8_t ch, int fd, uint64_t *size)
{
    char last = '\n';

    if (*size > 0 && pread(fd, &last, 1, (off_t)(*size - 1)) != 1)
        return KY_EIO;
    if (last != '\n') {
        if (notify_sink_write(fd, "\n", 1, true) != 0 ||
            notify_sink_sync(fd) != 0)
            return KY_EIO;
        (*size)++;
    }
    log_info("event=sink_adopted channel=%u size=%llu", ch,
             (unsigned long long)*size);
    return KY_OK;
}

/*
 * The file is longer than committed: the tail was written, synced or not,
 * by a batch whose commit never happened. Its complete lines are
 * delivered; a torn last line is cut off and its job stays pending.
 */
static int recover_tail(notify_t *n, uint8_t ch, int fd, uint64_t *size)
{
    tail_ctx_t ctx = {n, ch};
    uint64_t from = n->sinks[ch].offset, end;
    int queued = n->noutcomes;
    int rc = notify_sink_scan(fd, from, *size, tail_line, &ctx, &end);

    if (rc)
        return rc;
    if (end < *size &&
        (ftruncate(fd, (off_t)end) != 0 || notify_sink_sync(fd) != 0))
        return KY_EIO;
    log_warn("event=sink_tail_recovered channel=%u lines=%d torn_bytes=%llu",
             ch, n->noutcomes - queued, (unsigned long long)(*size - end));
    *size = end;
    return KY_OK;
}

int notify_sink_reconcile(notify_t *n, uint8_t ch, int fd, uint64_t *size)
{
    notify_sink_state_t *s = &n->sinks[ch];
    struct stat sb;
    bool present = s->known;
    int rc = KY_OK;

    if (fstat(fd, &sb) != 0)
        return KY_EIO;
    *size = (uint64_t)sb.st_size;
    if (!s->known && (rc = offset_load(n, ch, &present)) != 0)
        return rc;
    if (present && *size == s->offset) {
        s->known = true;
        return KY_OK;
    }
    if (!present)
        rc = adopt_file(ch, fd, size);
    else if (*size < s->offset)
        log_warn("event=sink_shrunk channel=%u size=%llu committed=%llu", ch,
                 (unsigned long long)*size, (unsigned long long)s->offset);
    else
        rc = recover_tail(n, ch, fd, size);
    if (rc)
        return rc;
    s->offset = *size;
    s->dirty = true;
    return notify_commit(n);
}

/* ---- the webhook -------------------------------------------------------- */

/* due_fn: starts the POST of a due job unless one is in flight. */
static int web_take(notify_t *n, MDB_txn *txn, uint8_t ch, uint64_t id,
                    void *arg)
{
    Keyuan__V1__Reminder *r;
    char *body;
    int rc;

    (void)arg;
    if (notify_webhook_busy(n->web, id, ch))
        return 0;
    if (notify_webhook_active(n->web) >= NOTIFY_WEBHOOK_MAX_FLIGHT)
        return 2;
    r = due_reminder(n, txn, ch, id);
    if (r == NULL)
        return 0;
    body = pbjson_encode(&r->base, 0);
    keyuan__v1__reminder__free_unpacked(r, NULL);
    if (body == NULL) {
        notify_outcome_add(n, id, ch, NOTIFY_FAIL,
                           "the reminder cannot be written as JSON");
        return 0;
    }
    rc = notify_webhook_start(n->web, n->routes.route[ch].target, n->secret, id,
                              ch, body, strlen(body));
    return rc == 0 ? 1 : 2;
}

static void web_collect(notify_t *n)
{
    notify_outcome_t done[NOTIFY_WEBHOOK_MAX_FLIGHT];
    int got = notify_webhook_collect(n->web, done, NOTIFY_WEBHOOK_MAX_FLIGHT);

    for (int i = 0; i < got; i++)
        notify_outcome_push(n, &done[i]);
}

/* ---- the tick ----------------------------------------------------------- */

/* Folds one route's walk into the time the tick asks to wait. */
static int64_t wait_fold(int64_t wait, const due_walk_t *w, int64_t now)
{
    if (w->more)
        return 0;
    if (w->next_ms >= 0 && w->next_ms - now < wait)
        return w->next_ms > now ? w->next_ms - now : 0;
    return wait;
}

/* Runs every route once, queueing what finished; returns the wait. */
static int64_t deliver_due(notify_t *n)
{
    int64_t now = notify_wall_ms(), wait = TICK_IDLE_MS;
    due_walk_t w;

    for (uint8_t ch = 0; ch < n->routes.n; ch++) {
        switch (n->routes.route[ch].kind) {
        case NOTIFY_KIND_WEBHOOK:
            due_walk(n, ch, now, web_take, NULL, &w);
            /* Full of transfers is not a backlog to spin on. */
            if (notify_webhook_active(n->web) >= NOTIFY_WEBHOOK_MAX_FLIGHT)
                w.more = false;
            break;
        case NOTIFY_KIND_FILE:
            sink_file_batch(n, ch, now, &w);
            break;
        case NOTIFY_KIND_STDOUT:
            sink_stdout_batch(n, ch, now, &w);
            break;
        default:
            continue;
        }
        wait = wait_fold(wait, &w, now);
    }
    if (n->web)
        web_collect(n);
    if (n->web && notify_webhook_active(n->web) > 0 && wait > TICK_FLIGHT_MS)
        wait = TICK_FLIGHT_MS;
    return wait;
}

int64_t notify_tick(notify_t *n)
{
    int64_t wait = deliver_due(n);

    return notify_commit(n) != 0 ? TICK_FAILED_MS : wait;
}

int64_t notify_tick_deferred(notify_t *n)
{
    int64_t wait;

    /* The walk must not take a delivered job for a due one: what no
     * batch settled since the last tick is committed first. */
    if (notify_commit(n) != 0)
        return TICK_FAILED_MS;
    wait = deliver_due(n);
    if ((n->noutcomes > 0 || offsets_dirty(n)) && wait > NOTIFY_SETTLE_MS)
        wait = NOTIFY_SETTLE_MS;
    return wait;
}

void notify_drain(notify_t *n, int64_t budget_ms)
{
    int64_t deadline = notify_wall_ms() + budget_ms;

    if (n->web == NULL || notify_webhook_active(n->web) == 0)
        return;
    log_info("event=draining transfers=%d", notify_webhook_active(n->web));
    while (notify_webhook_active(n->web) > 0 && notify_wall_ms() < deadline) {
        notify_webhook_wait(n->web, 50);
        web_collect(n);
        notify_commit(n);
    }
    if (notify_webhook_active(n->web) > 0)
        log_warn("event=drain_incomplete transfers=%d",
                 notify_webhook_active(n->web));
}
