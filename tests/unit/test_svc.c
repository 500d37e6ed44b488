/*
 * test_svc.c - the service loop's batch, with a handler that fails on
 * purpose: the other messages of the batch still commit, the failed one is
 * answered "internal", and none of its writes survive. Then, on the same
 * running service, the memory svc_alloc() hands out: zeroed, aligned and
 * apart, message after message, and deferred frees happen (the sanitizer
 * build's leak check sees it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "err.h"
#include "logger.h"
#include "svc.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

typedef struct fixture {
    svc_t *svc;
    pthread_t thread;
    bool running; /* thread runs svc_run */
    void *sock;   /* DEALER connected to the service */
    char dir[32]; /* its state directory */
    int handled;  /* handle() calls, retries included */
    int dirty;    /* svc_alloc() blocks that were not zeroed */
    int askew;    /* blocks not aligned for any type */
    int trampled; /* blocks another block wrote over */
} fixture_t;

static fixture_t fx;

#define ARENA_ROUNDS 8
#define ARENA_SIZES 10
#define ARENA_BLOCKS (ARENA_ROUNDS * ARENA_SIZES)

/* Sizes around the arena's limits: none, tiny, a chunk's quarter, more. */
static const size_t arena_sizes[ARENA_SIZES] = {
    0, 1, 7, 16, 33, 1000, 8192, 8193, 40000, 200000};

/* Checks one fresh block and fills it with its own mark. */
static void arena_check(fixture_t *f, unsigned char *p, size_t size, int mark)
{
    for (size_t i = 0; i < size; i++)
        if (p[i] != 0) {
            f->dirty++;
            break;
        }
    if ((uintptr_t)p % _Alignof(max_align_t) != 0)
        f->askew++;
    memset(p, mark, size);
}

/* Frees an unpacked message at the end of this one (svc_defer_free). */
static void arena_defer(fixture_t *f)
{
    Envelope env = KEYUAN__V1__ENVELOPE__INIT;
    uint8_t *buf;
    size_t len;

    env.request_id = 7;
    buf = wire_pack(&env.base, &len);
    svc_defer_free(f->svc, &wire_unpack(buf, len)->base);
    free(buf);
}

/* Takes blocks of every size, then checks none wrote over another. */
static int handle_arena(fixture_t *f, Envelope *reply)
{
    unsigned char *blocks[ARENA_BLOCKS];

    for (int i = 0; i < ARENA_BLOCKS; i++) {
        size_t size = arena_sizes[i % ARENA_SIZES];

        blocks[i] = svc_alloc(f->svc, size);
        arena_check(f, blocks[i], size, i % 255 + 1);
    }
    for (int i = 0; i < ARENA_BLOCKS; i++) {
        size_t size = arena_sizes[i % ARENA_SIZES];

        if (size &&
            (blocks[i][0] != i % 255 + 1 || blocks[i][size - 1] != i % 255 + 1))
            f->trampled++;
    }
    arena_defer(f);
    svc_reply(f->svc, reply, KEYUAN__V1__REPLY_STATUS__REPLY_STATUS_ACCEPTED,
              NULL, NULL, svc_printf(f->svc, "blocks=%d", ARENA_BLOCKS));
    return KY_OK;
}

/* Writes the lead's source as a key, then fails for source "bad". */
static int handle(void *self, MDB_txn *txn, const Envelope *msg,
                  Envelope *reply)
{
    fixture_t *f = self;
    store_t *st = svc_store(f->svc);
    const char *src;

    if (msg->body_case != KEYUAN__V1__ENVELOPE__BODY_LEAD) {
        svc_reply(f->svc, reply,
                  KEYUAN__V1__REPLY_STATUS__REPLY_STATUS_REJECTED,
                  "unsupported", NULL, "not a lead");
        return KY_OK;
    }
    src = msg->lead->source;
    if (strcmp(src, "arena") == 0)
        return handle_arena(f, reply);
    f->handled++;
    svc_count(f->svc, "handled", 1);
    log_info("event=handled source=%s", src ? src : "");
    store_put(txn, store_db(st, "seen"), src, strlen(src), "1", 1, 0);
    if (strcmp(src, "bad") == 0)
        return KY_ESTORE;
    svc_reply(f->svc, reply, KEYUAN__V1__REPLY_STATUS__REPLY_STATUS_ACCEPTED,
              NULL, NULL, NULL);
    return KY_OK;
}

static void *run(void *arg)
{
    static const svc_ops_t ops = {.handle = handle};
    fixture_t *f = arg;

    svc_run(f->svc, &ops, f);
    return NULL;
}

static void send_lead(void *sock, uint64_t id, const char *source)
{
    Envelope env = KEYUAN__V1__ENVELOPE__INIT;
    Keyuan__V1__LeadEvent lead = KEYUAN__V1__LEAD_EVENT__INIT;
    uint8_t *buf;
    size_t len;

    lead.source = (char *)source;
    env.request_id = id;
    env.body_case = KEYUAN__V1__ENVELOPE__BODY_LEAD;
    env.lead = &lead;
    buf = wire_pack(&env.base, &len);
    zmq_send(sock, buf, len, 0);
    free(buf);
}

static Envelope *receive(void *sock)
{
    zmq_pollitem_t pi = {sock, 0, ZMQ_POLLIN, 0};
    char buf[512];
    int n;

    if (zmq_poll(&pi, 1, 3000) != 1)
        return NULL;
    n = zmq_recv(sock, buf, sizeof buf, 0);
    return n > 0 ? wire_unpack((uint8_t *)buf, (size_t)n) : NULL;
}

/* The value of counter name in the service's status, or -1. */
static long long status_counter(const char *name)
{
    Envelope env = KEYUAN__V1__ENVELOPE__INIT;
    Keyuan__V1__StatusRequest req = KEYUAN__V1__STATUS_REQUEST__INIT;
    long long value = -1;
    uint8_t *buf;
    Envelope *r;
    size_t len;

    env.request_id = 99;
    env.body_case = KEYUAN__V1__ENVELOPE__BODY_STATUS_REQUEST;
    env.status_request = &req;
    buf = wire_pack(&env.base, &len);
    zmq_send(fx.sock, buf, len, 0);
    free(buf);
    r = receive(fx.sock);
    assert_non_null(r);
    assert_int_equal(r->body_case, KEYUAN__V1__ENVELOPE__BODY_STATUS);
    for (size_t i = 0; i < r->status->n_counters; i++)
        if (strcmp(r->status->counters[i]->name, name) == 0)
            value = (long long)r->status->counters[i]->value;
    wire_free(r);
    return value;
}

/* Lines of the file at path that hold text. */
static int lines_with(const char *path, const char *text)
{
    char line[1024];
    int n = 0;
    FILE *in = fopen(path, "r");

    assert_non_null(in);
    while (fgets(line, sizeof line, in))
        n += strstr(line, text) != NULL;
    fclose(in);
    return n;
}

static bool seen(fixture_t *f, const char *key)
{
    store_t *st = svc_store(f->svc);
    MDB_txn *txn;
    MDB_val v;
    int rc;

    assert_int_equal(store_begin(st, NULL, true, &txn), 0);
    rc = store_get(txn, store_db(st, "seen"), key, strlen(key), &v);
    mdb_txn_abort(txn);
    return rc == 0;
}

/*
 * The service runs from the first test to the group's teardown: svc_run
 * stops on SIGTERM, once per process.
 */
static void test_failed_message_leaves_the_batch(void **state)
{
    static const char *const dbs[] = {"seen", NULL};
    svc_config_t cfg = {.name = "test",
                        .bind = "inproc://svc-test",
                        .dbs = dbs,
                        .map_mb = 16,
                        .stuck_ms = 60000};
    const char *sources[3] = {"one", "bad", "two"};
    char log_path[64];
    int err, saved_stderr, log_fd;

    (void)state;
    snprintf(fx.dir, sizeof fx.dir, "/tmp/keyuan-svc-XXXXXX");
    assert_non_null(mkdtemp(fx.dir));
    cfg.state_dir = fx.dir;
    fx.svc = svc_new(&cfg, &err);
    assert_non_null(fx.svc);
    fx.sock = zmq_socket(svc_zctx(fx.svc), ZMQ_DEALER);
    assert_int_equal(zmq_connect(fx.sock, cfg.bind), 0);

    /* The service's log, to count its lines. */
    snprintf(log_path, sizeof log_path, "%s.log", fx.dir);
    log_fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(log_fd >= 0);
    log_flush();
    saved_stderr = dup(STDERR_FILENO);
    dup2(log_fd, STDERR_FILENO);

    /* Queued before the loop runs, so that they arrive as one batch. */
    for (int i = 0; i < 3; i++)
        send_lead(fx.sock, (uint64_t)i + 1, sources[i]);
    assert_int_equal(pthread_create(&fx.thread, NULL, run, &fx), 0);
    fx.running = true;

    for (int i = 0; i < 3; i++) {
        Envelope *r = receive(fx.sock);

        assert_non_null(r);
        if (r->request_id == 2)
            assert_string_equal(r->reply->code, "internal");
        else
            assert_int_equal(r->reply->status,
                             KEYUAN__V1__REPLY_STATUS__REPLY_STATUS_ACCEPTED);
        wire_free(r);
    }
    assert_true(seen(&fx, "one"));
    assert_true(seen(&fx, "two"));
    assert_false(seen(&fx, "bad")); /* its write was rolled back */
    assert_true(fx.handled >= 4);   /* the batch ran again without it */

    /* What the rolled-back try counted and logged is gone with it. */
    assert_int_equal(status_counter("handled"), 2);
    log_flush();
    dup2(saved_stderr, STDERR_FILENO);
    close(saved_stderr);
    close(log_fd);
    assert_int_equal(lines_with(log_path, "event=handled source=one"), 1);
    assert_int_equal(lines_with(log_path, "event=handled source=two"), 1);
    assert_int_equal(lines_with(log_path, "event=handled source=bad"), 0);
    unlink(log_path);
}

/* A batch of requests is answered request by request. */
static void test_batch_is_spread(void **state)
{
    Envelope env = KEYUAN__V1__ENVELOPE__INIT, items[3];
    Keyuan__V1__LeadEvent leads[3];
    Keyuan__V1__EnvelopeBatch batch = KEYUAN__V1__ENVELOPE_BATCH__INIT;
    ProtobufCBinaryData packed[3];
    const char *sources[3] = {"b1", "b2", "b3"};
    bool seen_id[3] = {false, false, false};
    uint8_t *buf;
    size_t len;

    (void)state;
    for (int i = 0; i < 3; i++) {
        keyuan__v1__envelope__init(&items[i]);
        keyuan__v1__lead_event__init(&leads[i]);
        leads[i].source = (char *)sources[i];
        items[i].request_id = 50 + (uint64_t)i;
        items[i].body_case = KEYUAN__V1__ENVELOPE__BODY_LEAD;
        items[i].lead = &leads[i];
        packed[i].data = wire_pack(&items[i].base, &packed[i].len);
    }
    batch.items = packed;
    batch.n_items = 3;
    env.body_case = KEYUAN__V1__ENVELOPE__BODY_BATCH;
    env.batch = &batch;
    buf = wire_pack(&env.base, &len);
    zmq_send(fx.sock, buf, len, 0);
    free(buf);
    for (int i = 0; i < 3; i++) {
        Envelope *r = receive(fx.sock);

        assert_non_null(r);
        assert_int_equal(r->reply->status,
                         KEYUAN__V1__REPLY_STATUS__REPLY_STATUS_ACCEPTED);
        assert_true(r->request_id >= 50 && r->request_id < 53);
        seen_id[r->request_id - 50] = true;
        wire_free(r);
        free(packed[i].data);
    }
    assert_true(seen_id[0] && seen_id[1] && seen_id[2]);
    assert_true(seen(&fx, "b1") && seen(&fx, "b2") && seen(&fx, "b3"));

    /* An empty batch is answered, not dropped. */
    batch.n_items = 0;
    env.request_id = 60;
    buf = wire_pack(&env.base, &len);
    zmq_send(fx.sock, buf, len, 0);
    free(buf);
    {
        Envelope *r = receive(fx.sock);

        assert_non_null(r);
        assert_int_equal(r->request_id, 60);
        assert_string_equal(r->reply->code, "unsupported");
        wire_free(r);
    }
}

/* Expects the replies to n "arena" messages. */
static void expect_arena_replies(int n)
{
    for (int i = 0; i < n; i++) {
        Envelope *r = receive(fx.sock);

        assert_non_null(r);
        assert_int_equal(r->reply->status,
                         KEYUAN__V1__REPLY_STATUS__REPLY_STATUS_ACCEPTED);
        assert_string_equal(r->reply->message, "blocks=80");
        wire_free(r);
    }
}

static void test_memory_is_fresh_for_every_message(void **state)
{
    (void)state;
    assert_true(fx.running); /* the service of the first test */

    /* One by one: each message reuses what the last one wrote on. */
    for (int i = 0; i < 4; i++) {
        send_lead(fx.sock, 100 + (uint64_t)i, "arena");
        expect_arena_replies(1);
    }
    /* And several in one batch. */
    for (int i = 0; i < 3; i++)
        send_lead(fx.sock, 200 + (uint64_t)i, "arena");
    expect_arena_replies(3);

    assert_int_equal(fx.dirty, 0);
    assert_int_equal(fx.askew, 0);
    assert_int_equal(fx.trampled, 0);
}

static int stop_service(void **state)
{
    char cmd[64];

    (void)state;
    if (fx.svc == NULL)
        return 0;
    if (fx.running) {
        raise(SIGTERM); /* svc_run's handler: the loop ends within a second */
        pthread_join(fx.thread, NULL);
    }
    if (fx.sock)
        zmq_close(fx.sock);
    svc_destroy(&fx.svc);
    snprintf(cmd, sizeof cmd, "rm -rf %s", fx.dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failed_message_leaves_the_batch),
        cmocka_unit_test(test_memory_is_fresh_for_every_message),
        cmocka_unit_test(test_batch_is_spread),
    };

    return cmocka_run_group_tests(tests, NULL, stop_service);
}
