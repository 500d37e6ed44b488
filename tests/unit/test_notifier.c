/*
 * test_notifier.c - unit tests of the notifier: sink lines, tail recovery
 * after a crash, back-off, job records, routes, webhook signing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "err.h"
#include "notifier.h"
#include "notify_impl.h"
#include "sink.h"
#include "webhook.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------ */

static Google__Protobuf__Timestamp due_ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;

/* A reminder due 2026-12-04T01:15:00Z, as the scheduler would send it. */
static Keyuan__V1__Reminder make_reminder(uint64_t id, const char *text)
{
    Keyuan__V1__Reminder r = KEYUAN__V1__REMINDER__INIT;

    due_ts.seconds = 1796346900;
    r.reminder_id = id;
    r.customer_id = 456;
    r.agent_id = "a01";
    r.kind = KEYUAN__V1__REMINDER_KIND__REMINDER_KIND_SPEED_TO_LEAD;
    r.grade = KEYUAN__V1__GRADE__GRADE_A;
    r.due_at = &due_ts;
    r.cycle = 1;
    r.text = (char *)text;
    return r;
}

static char *format(const Keyuan__V1__Reminder *r)
{
    notify_buf_t b = {0};

    assert_int_equal(notify_line_format(&b, r), 0);
    return b.data;
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *data = calloc(1, 1 << 20);
    size_t n;

    assert_non_null(f);
    n = fread(data, 1, (1 << 20) - 1, f);
    data[n] = '\0';
    fclose(f);
    return data;
}

static void write_all(const char *path, const char *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0640);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
}

static int count_lines(const char *s, const char *needle)
{
    int n = 0;

    for (const char *p = s; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

/* ---- sink lines --------------------------------------------------------- */

static void test_line_format(void **state)
{
    Keyuan__V1__Reminder r = make_reminder(123, "新客户来电，请尽快回电");
    char *line;

    (void)state;
    line = format(&r);
    assert_string_equal(line,
                        "2026-12-04T09:15:00+08:00 reminder=123 "
                        "kind=speed_to_lead agent=a01 customer=456 grade=A "
                        "cycle=1 text=\"新客户来电，请尽快回电\"\n");
    free(line);
}

static void test_line_escapes(void **state)
{
    Keyuan__V1__Reminder r =
        make_reminder(9, "a\"b\\c\nd\re\tf\x01g\x7f h\xff i\xe2\x80\xa8j");
    char *line;

    (void)state;
    r.agent_id = "agent 7";
    r.grade = KEYUAN__V1__GRADE__GRADE_LEAD;
    r.kind = (Keyuan__V1__ReminderKind)99;
    line = format(&r);
    assert_non_null(strstr(line, " agent=\"agent 7\" "));
    assert_non_null(strstr(line, " kind=99 "));
    assert_non_null(strstr(line, " grade=lead "));
    assert_non_null(strstr(line, "text=\"a\\\"b\\\\c\\nd\\re\\tf\\x01g\\x7f "
                                 "h\\xff i\\u2028j\"\n"));
    assert_int_equal(count_lines(line, "\n"), 1);
    free(line);
}

static void test_line_time_fallbacks(void **state)
{
    Google__Protobuf__Timestamp fired = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    Keyuan__V1__Reminder r = make_reminder(5, "");
    char *line;

    (void)state;
    fired.seconds = 0;
    r.due_at = NULL;
    r.fired_at = &fired;
    r.agent_id = "";
    line = format(&r);
    assert_string_equal(line, "1970-01-01T08:00:00+08:00 reminder=5 "
                              "kind=speed_to_lead agent=\"\" customer=456 "
                              "grade=A cycle=1 text=\"\"\n");
    free(line);
    r.fired_at = NULL;
    line = format(&r);
    assert_true(strncmp(line, "- reminder=5 ", 13) == 0);
    free(line);
}

/* Expects r's line, due in year, to start as strftime writes the time. */
static void expect_strftime_year(const Keyuan__V1__Reminder *r,
                                 Google__Protobuf__Timestamp *due, int year)
{
    struct tm tm = {.tm_year = year - 1900, .tm_mon = 5, .tm_mday = 15};
    time_t t = timegm(&tm);
    char want[64];
    char *line;

    due->seconds = t - 8 * 3600;
    strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%S+08:00 reminder=", &tm);
    line = format(r);
    assert_true(strncmp(line, want, strlen(want)) == 0);
    free(line);
}

/* Numbers and times are written by hand: their edges match printf's. */
static void test_line_numbers_and_years(void **state)
{
    Keyuan__V1__Reminder r = make_reminder(UINT64_MAX, "x");
    Google__Protobuf__Timestamp due = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    char *line;

    (void)state;
    r.customer_id = 0;
    r.cycle = UINT32_MAX;
    r.due_at = &due;
    due.seconds = 253402300799LL - 8 * 3600; /* 9999-12-31T23:59:59+08 */
    line = format(&r);
    assert_string_equal(line, "9999-12-31T23:59:59+08:00 "
                              "reminder=18446744073709551615 "
                              "kind=speed_to_lead agent=a01 customer=0 "
                              "grade=A cycle=4294967295 text=\"x\"\n");
    free(line);

    due.seconds += 1; /* five digits of year: strftime's form */
    line = format(&r);
    assert_true(strncmp(line, "10000-01-01T00:00:00+08:00 reminder=", 36) == 0);
    free(line);

    expect_strftime_year(&r, &due, 999);
    expect_strftime_year(&r, &due, 1000);
}

static void test_line_parse(void **state)
{
    Keyuan__V1__Reminder r = make_reminder(18446744073709551614ULL, "x");
    char *line = format(&r);
    uint64_t id = 0;

    (void)state;
    assert_int_equal(notify_line_reminder_id(line, strlen(line) - 1, &id), 0);
    assert_true(id == 18446744073709551614ULL);
    free(line);

    assert_int_equal(notify_line_reminder_id("garbage", 7, &id), KY_EDECODE);
    assert_int_equal(notify_line_reminder_id(" reminder=5 x", 13, &id),
                     KY_EDECODE);
    assert_int_equal(notify_line_reminder_id("t reminder=x ", 13, &id),
                     KY_EDECODE);
    assert_int_equal(notify_line_reminder_id("t reminder=0 ", 13, &id),
                     KY_EDECODE);
    assert_int_equal(notify_line_reminder_id("t reminder=12", 13, &id),
                     KY_EDECODE);
    assert_int_equal(
        notify_line_reminder_id("t reminder=99999999999999999999 ", 32, &id),
        KY_EDECODE);
    assert_int_equal(notify_line_reminder_id("t reminder=42 k", 15, &id), 0);
    assert_true(id == 42);
}

/* ---- back-off, records, routes, webhook --------------------------------- */

static void test_backoff(void **state)
{
    (void)state;
    /* The first retry waits exactly base. */
    assert_int_equal(notify_backoff_ms(1, 500, 60000, 0), 500);
    assert_int_equal(notify_backoff_ms(1, 500, 60000, 0xffffffffu), 500);
    /* Then within [d/2, d] for d = base * 2^(n-1). */
    assert_int_equal(notify_backoff_ms(2, 500, 60000, 0), 500);
    assert_int_equal(notify_backoff_ms(2, 500, 60000, 500), 1000);
    assert_int_equal(notify_backoff_ms(4, 500, 60000, 0), 2000);
    assert_int_equal(notify_backoff_ms(4, 500, 60000, 2000), 4000);
    /* Capped at max, also for huge attempt counts. */
    assert_int_equal(notify_backoff_ms(8, 500, 60000, 0), 30000);
    assert_int_equal(notify_backoff_ms(8, 500, 60000, 30000), 60000);
    assert_int_equal(notify_backoff_ms(1000, 500, 60000, 12345), 30000 + 12345);
    for (uint32_t n = 1; n < 40; n++) {
        for (uint32_t rnd = 0; rnd < 100000; rnd += 7919) {
            int64_t w = notify_backoff_ms(n, 500, 60000, rnd * 2654435761u);

            assert_true(w >= 500 && w <= 60000);
        }
    }
    /* base == max: no room for jitter. */
    assert_int_equal(notify_backoff_ms(3, 100, 100, 77), 100);
}

static void test_job_record(void **state)
{
    notify_job_t job = {0}, back;
    uint8_t buf[NOTIFY_JOB_MAX];
    size_t len;

    (void)state;
    job.state = NOTIFY_DEAD;
    job.kind = NOTIFY_KIND_WEBHOOK;
    job.attempts = 70000;
    job.next_ms = 1796346900123ULL;
    job.updated_ms = 42;
    memset(job.error, 'e', NOTIFY_ERR_MAX);
    len = notify_job_encode(&job, buf);
    assert_int_equal(len, NOTIFY_JOB_MAX);
    assert_int_equal(notify_job_decode(buf, len, &back), 0);
    assert_int_equal(back.state, NOTIFY_DEAD);
    assert_int_equal(back.kind, NOTIFY_KIND_WEBHOOK);
    assert_int_equal(back.attempts, 70000);
    assert_true(back.next_ms == 1796346900123ULL && back.updated_ms == 42);
    assert_int_equal(strlen(back.error), NOTIFY_ERR_MAX);
    assert_int_equal(notify_job_bucket(&back), NOTIFY_B_DEAD);

    assert_int_equal(notify_job_decode(buf, 10, &back), KY_EDECODE);
    buf[1] = 7;
    assert_int_equal(notify_job_decode(buf, len, &back), KY_EDECODE);
}

static void test_routes(void **state)
{
    notify_routes_t r = {0};

    (void)state;
    assert_int_equal(notify_routes_parse(&r, "file:/tmp/a.log,stdout,",
                                         "https://hooks.example/x"),
                     0);
    assert_int_equal(r.n, 3);
    assert_int_equal(r.route[0].kind, NOTIFY_KIND_FILE);
    assert_string_equal(r.route[0].target, "/tmp/a.log");
    assert_int_equal(r.route[1].kind, NOTIFY_KIND_STDOUT);
    assert_int_equal(r.route[2].kind, NOTIFY_KIND_WEBHOOK);
    notify_routes_free(&r);

    assert_int_equal(notify_routes_parse(&r, "mail:x", NULL), KY_ECONFIG);
    notify_routes_free(&r);
    assert_int_equal(notify_routes_parse(&r, "stdout,stdout", NULL),
                     KY_ECONFIG);
    notify_routes_free(&r);
    assert_int_equal(notify_routes_parse(&r, "file:", NULL), KY_ECONFIG);
    notify_routes_free(&r);
    assert_int_equal(notify_routes_parse(&r, NULL, "ftp://x"), KY_ECONFIG);
    notify_routes_free(&r);
}

static void test_webhook_sign_and_classify(void **state)
{
    char hex[65];

    (void)state;
    /* RFC 4231, test case 2. */
    notify_webhook_sign("Jefe", "what do ya want for nothing?", 28, hex);
    assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c7"
                             "5a003f089d2739839dec58b964ec3843");

    assert_int_equal(notify_webhook_classify(0, 200), NOTIFY_OK);
    assert_int_equal(notify_webhook_classify(0, 204), NOTIFY_OK);
    assert_int_equal(notify_webhook_classify(0, 503), NOTIFY_RETRY);
    assert_int_equal(notify_webhook_classify(0, 429), NOTIFY_RETRY);
    assert_int_equal(notify_webhook_classify(0, 408), NOTIFY_RETRY);
    assert_int_equal(notify_webhook_classify(0, 400), NOTIFY_FAIL);
    assert_int_equal(notify_webhook_classify(0, 404), NOTIFY_FAIL);
    assert_int_equal(notify_webhook_classify(0, 301), NOTIFY_FAIL);
    assert_int_equal(notify_webhook_classify(28, 0), NOTIFY_RETRY);
    assert_int_equal(notify_webhook_classify(7, 0), NOTIFY_RETRY);
    assert_int_equal(notify_webhook_classify(3, 0), NOTIFY_FAIL);
}

/* ---- the store: jobs and tail recovery ---------------------------------- */

typedef struct fixture {
    char dir[64];
    char sink[96];
    char sinks[128];
    store_t *st;
    notify_t *n;
    notify_config_t cfg;
} fixture_t;

static void fixture_open(fixture_t *f)
{
    int err = 0;

    f->st = store_open(f->dir, notify_dbs, 64, &err);
    assert_non_null(f->st);
    f->n = notify_new(f->st, NULL, &f->cfg, &err);
    assert_non_null(f->n);
}

static void fixture_close(fixture_t *f)
{
    notify_destroy(&f->n);
    store_destroy(&f->st);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);

    snprintf(f->dir, sizeof f->dir, "/tmp/ky-notify-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->sink, sizeof f->sink, "%s/sink.log", f->dir);
    snprintf(f->sinks, sizeof f->sinks, "file:%s", f->sink);
    f->cfg.sinks = f->sinks;
    f->cfg.retry_base_ms = 1;
    f->cfg.retry_max_ms = 4;
    f->cfg.max_attempts = 3;
    fixture_open(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    char cmd[128];

    fixture_close(f);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

static void accept_ids(fixture_t *f, uint64_t from, uint64_t to)
{
    MDB_txn *txn;

    assert_int_equal(store_begin(f->st, NULL, false, &txn), 0);
    for (uint64_t id = from; id <= to; id++) {
        Keyuan__V1__Reminder r = make_reminder(id, "回访");

        assert_int_equal(notify_accept(f->n, txn, &r), 0);
    }
    assert_int_equal(store_commit(txn), 0);
}

static void counts(fixture_t *f, enum notify_kind kind,
                   uint64_t out[NOTIFY_B_COUNT])
{
    MDB_txn *txn;

    assert_int_equal(store_begin(f->st, NULL, true, &txn), 0);
    assert_int_equal(notify_counts(f->n, txn, kind, out), 0);
    mdb_txn_abort(txn);
}

static enum notify_state job_state(fixture_t *f, uint64_t id)
{
    notify_db_t db = {f->st, store_db(f->st, "jobs"), store_db(f->st, "due"),
                      store_db(f->st, "reminders")};
    notify_job_t job;
    MDB_txn *txn;

    assert_int_equal(store_begin(f->st, NULL, true, &txn), 0);
    assert_int_equal(notify_job_get(&db, txn, id, 0, &job), 0);
    mdb_txn_abort(txn);
    return job.state;
}

static void test_accept_is_idempotent(void **state)
{
    fixture_t *f = *state;
    uint64_t c[NOTIFY_B_COUNT];

    accept_ids(f, 1, 3);
    accept_ids(f, 2, 4);
    counts(f, NOTIFY_KIND_FILE, c);
    assert_int_equal(c[NOTIFY_B_PENDING], 4);
    assert_int_equal(c[NOTIFY_B_DELIVERED], 0);
}

/* A batch written and synced, then a crash before its commit. */
static void test_tail_recovery(void **state)
{
    fixture_t *f = *state;
    Keyuan__V1__Reminder r1 = make_reminder(1, "回访"),
                         r2 = make_reminder(2, "回访"),
                         r3 = make_reminder(3, "回访");
    notify_buf_t b = {0};
    uint64_t c[NOTIFY_B_COUNT];
    char *text, *expect;
    size_t whole;

    assert_int_equal(notify_recover(f->n), 0); /* adopts the empty file */
    accept_ids(f, 1, 4);
    assert_int_equal(notify_line_format(&b, &r1), 0);
    assert_int_equal(notify_line_format(&b, &r2), 0);
    whole = b.len;
    assert_int_equal(notify_line_format(&b, &r3), 0);
    write_all(f->sink, b.data, whole + 20); /* line 3 torn mid-way */

    fixture_close(f); /* "restart" */
    fixture_open(f);
    assert_int_equal(notify_recover(f->n), 0);
    text = read_all(f->sink);
    expect = strndup(b.data, whole);
    assert_string_equal(text, expect);
    free(text);
    assert_int_equal(job_state(f, 1), NOTIFY_DELIVERED);
    assert_int_equal(job_state(f, 2), NOTIFY_DELIVERED);
    assert_int_equal(job_state(f, 3), NOTIFY_PENDING);
    counts(f, NOTIFY_KIND_FILE, c);
    assert_int_equal(c[NOTIFY_B_DELIVERED], 2);
    assert_int_equal(c[NOTIFY_B_PENDING], 2);

    /* Delivery resumes with the torn reminder and the one never written. */
    notify_tick(f->n);
    notify_tick(f->n);
    text = read_all(f->sink);
    assert_true(strncmp(text, expect, whole) == 0);
    assert_int_equal(count_lines(text, "\n"), 4);
    for (int id = 1; id <= 4; id++) {
        char tag[32];

        snprintf(tag, sizeof tag, " reminder=%d ", id);
        assert_int_equal(count_lines(text, tag), 1);
        assert_int_equal(job_state(f, (uint64_t)id), NOTIFY_DELIVERED);
    }
    counts(f, NOTIFY_KIND_FILE, c);
    assert_int_equal(c[NOTIFY_B_DELIVERED], 4);
    assert_int_equal(c[NOTIFY_B_PENDING] + c[NOTIFY_B_RETRYING], 0);
    free(text);
    free(expect);
    notify_buf_free(&b);
}

/* Only a torn line after the committed size: cut, nothing delivered. */
static void test_tail_only_torn(void **state)
{
    fixture_t *f = *state;
    char *text;

    assert_int_equal(notify_recover(f->n), 0);
    accept_ids(f, 1, 1);
    notify_tick(f->n);
    write_all(f->sink, "2026-12-04T09:15:00+08:00 remin", 31);

    fixture_close(f);
    fixture_open(f);
    assert_int_equal(notify_recover(f->n), 0);
    text = read_all(f->sink);
    assert_int_equal(count_lines(text, "\n"), 1);
    assert_non_null(strstr(text, " reminder=1 "));
    assert_null(strstr(text, "remin\n"));
    assert_true(text[strlen(text) - 1] == '\n');
    free(text);
}

/* Someone else's file: kept as it is, our lines start on a line of ours. */
static void test_adopts_foreign_file(void **state)
{
    fixture_t *f = *state;
    const char *expect;
    char *text;

    fixture_close(f);
    write_all(f->sink, "operator note", 13);
    fixture_open(f);
    assert_int_equal(notify_recover(f->n), 0);
    accept_ids(f, 7, 7);
    notify_tick(f->n);
    text = read_all(f->sink);
    expect = "operator note\n2026-12-04T09:15:00+08:00 reminder=7 ";
    assert_true(strncmp(text, expect, strlen(expect)) == 0);
    free(text);
    assert_int_equal(job_state(f, 7), NOTIFY_DELIVERED);
}

/* A failing file sink retries with back-off, then dead-letters. */
static void test_sink_failure_dead_letters(void **state)
{
    fixture_t *f = *state;
    uint64_t c[NOTIFY_B_COUNT];

    fixture_close(f);
    snprintf(f->sinks, sizeof f->sinks, "file:%s/missing/dir/s.log", f->dir);
    fixture_open(f);
    assert_int_equal(notify_recover(f->n), 0);
    accept_ids(f, 1, 2);
    notify_tick(f->n);
    counts(f, NOTIFY_KIND_FILE, c);
    assert_int_equal(c[NOTIFY_B_RETRYING], 2);
    for (int i = 0; i < 50 && job_state(f, 1) == NOTIFY_PENDING; i++) {
        usleep(5000);
        notify_tick(f->n);
    }
    counts(f, NOTIFY_KIND_FILE, c);
    assert_int_equal(c[NOTIFY_B_DEAD], 2);
    assert_int_equal(c[NOTIFY_B_RETRYING] + c[NOTIFY_B_PENDING], 0);
}

/* Jobs of a route that is gone are dead letters, not silently kept. */
static void test_orphan_jobs(void **state)
{
    fixture_t *f = *state;
    uint64_t c[NOTIFY_B_COUNT];
    char *text;

    fixture_close(f);
    snprintf(f->sinks, sizeof f->sinks, "file:%s,stdout", f->sink);
    fixture_open(f);
    accept_ids(f, 1, 1);
    fixture_close(f);
    snprintf(f->sinks, sizeof f->sinks, "file:%s", f->sink);
    fixture_open(f);
    assert_int_equal(notify_recover(f->n), 0);
    notify_tick(f->n);
    counts(f, NOTIFY_KIND_STDOUT, c);
    assert_int_equal(c[NOTIFY_B_DEAD], 1);
    assert_int_equal(c[NOTIFY_B_PENDING], 0);
    text = read_all(f->sink);
    assert_int_equal(count_lines(text, "\n"), 1);
    free(text);
}

/* Expects ids from..to each once in the sink, and all delivered. */
static void expect_delivered(fixture_t *f, int from, int to)
{
    uint64_t c[NOTIFY_B_COUNT];
    char *text = read_all(f->sink);

    assert_int_equal(count_lines(text, "\n"), to - from + 1);
    for (int id = from; id <= to; id++) {
        char tag[32];

        snprintf(tag, sizeof tag, " reminder=%d ", id);
        assert_int_equal(count_lines(text, tag), 1);
        assert_int_equal(job_state(f, (uint64_t)id), NOTIFY_DELIVERED);
    }
    free(text);
    counts(f, NOTIFY_KIND_FILE, c);
    assert_int_equal(c[NOTIFY_B_DELIVERED], (uint64_t)(to - from + 1));
    assert_int_equal(c[NOTIFY_B_PENDING] + c[NOTIFY_B_RETRYING], 0);
}

/* Runs svc's batch_end and batch_done in a batch that commits or not. */
static void batch(fixture_t *f, bool commit)
{
    MDB_txn *txn;

    assert_int_equal(store_begin(f->st, NULL, false, &txn), 0);
    assert_int_equal(notify_settle(f->n, txn), 0);
    if (commit)
        assert_int_equal(store_commit(txn), 0);
    else
        mdb_txn_abort(txn);
    notify_settled(f->n, commit);
}

/*
 * The service's tick leaves what it delivered to the next batch's
 * transaction, or commits it at its own next run: either way each line
 * is written once and its job ends delivered.
 */
static void test_deferred_settle(void **state)
{
    fixture_t *f = *state;

    assert_int_equal(notify_recover(f->n), 0);
    accept_ids(f, 1, 3);
    assert_true(notify_tick_deferred(f->n) <= NOTIFY_SETTLE_MS);
    assert_int_equal(job_state(f, 1), NOTIFY_PENDING); /* not yet settled */
    batch(f, true);
    expect_delivered(f, 1, 3);

    /* No batch came: the next tick commits before it walks. */
    accept_ids(f, 4, 5);
    notify_tick_deferred(f->n);
    notify_tick_deferred(f->n);
    expect_delivered(f, 1, 5);

    /* A batch that did not commit leaves them to the tick. */
    accept_ids(f, 6, 6);
    notify_tick_deferred(f->n);
    batch(f, false);
    assert_int_equal(job_state(f, 6), NOTIFY_PENDING);
    notify_tick_deferred(f->n);
    expect_delivered(f, 1, 6);

    /* Killed before any commit: the restart finds the line, once. */
    accept_ids(f, 7, 7);
    notify_tick_deferred(f->n);
    fixture_close(f);
    fixture_open(f);
    assert_int_equal(notify_recover(f->n), 0);
    notify_tick_deferred(f->n);
    notify_tick_deferred(f->n);
    expect_delivered(f, 1, 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_format),
        cmocka_unit_test(test_line_escapes),
        cmocka_unit_test(test_line_time_fallbacks),
        cmocka_unit_test(test_line_numbers_and_years),
        cmocka_unit_test(test_line_parse),
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_job_record),
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_webhook_sign_and_classify),
        cmocka_unit_test_setup_teardown(test_accept_is_idempotent, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_tail_recovery, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tail_only_torn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_adopts_foreign_file, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sink_failure_dead_letters, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_orphan_jobs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deferred_settle, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
