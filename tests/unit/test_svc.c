/*
 * test_svc.c - the service loop's batch, with a handler that fails on
 * purpose: the other messages of the batch still commit, the failed one is
 * answered "internal", and none of its writes survive.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "err.h"
#include "svc.h"

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
    int handled; /* handle() calls, retries included */
} fixture_t;

/* Writes the lead's source as a key, then fails for source "bad". */
static int handle(void *self, MDB_txn *txn, const Envelope *msg,
                  Envelope *reply)
{
    fixture_t *fx = self;
    store_t *st = svc_store(fx->svc);
    const char *src = msg->lead->source;

    fx->handled++;
    store_put(txn, store_db(st, "seen"), src, strlen(src), "1", 1, 0);
    if (strcmp(src, "bad") == 0)
        return KY_ESTORE;
    svc_reply(fx->svc, reply, KEYUAN__V1__REPLY_STATUS__REPLY_STATUS_ACCEPTED,
              NULL, NULL, NULL);
    return KY_OK;
}

static void *run(void *arg)
{
    static const svc_ops_t ops = {.handle = handle};
    fixture_t *fx = arg;

    svc_run(fx->svc, &ops, fx);
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

static bool seen(fixture_t *fx, const char *key)
{
    store_t *st = svc_store(fx->svc);
    MDB_txn *txn;
    MDB_val v;
    int rc;

    assert_int_equal(store_begin(st, NULL, true, &txn), 0);
    rc = store_get(txn, store_db(st, "seen"), key, strlen(key), &v);
    mdb_txn_abort(txn);
    return rc == 0;
}

static void test_failed_message_leaves_the_batch(void **state)
{
    static const char *const dbs[] = {"seen", NULL};
    char dir[] = "/tmp/keyuan-svc-XXXXXX", cmd[64];
    svc_config_t cfg = {.name = "test",
                        .bind = "inproc://svc-test",
                        .dbs = dbs,
                        .map_mb = 16,
                        .stuck_ms = 60000};
    fixture_t fx = {0};
    const char *sources[3] = {"one", "bad", "two"};
    void *sock;
    int err;

    (void)state;
    assert_non_null(mkdtemp(dir));
    cfg.state_dir = dir;
    fx.svc = svc_new(&cfg, &err);
    assert_non_null(fx.svc);
    sock = zmq_socket(svc_zctx(fx.svc), ZMQ_DEALER);
    assert_int_equal(zmq_connect(sock, cfg.bind), 0);

    /* Queued before the loop runs, so that they arrive as one batch. */
    for (int i = 0; i < 3; i++)
        send_lead(sock, (uint64_t)i + 1, sources[i]);
    assert_int_equal(pthread_create(&fx.thread, NULL, run, &fx), 0);

    for (int i = 0; i < 3; i++) {
        Envelope *r = receive(sock);

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

    raise(SIGTERM); /* svc_run's handler: the loop ends within a second */
    pthread_join(fx.thread, NULL);
    zmq_close(sock);
    svc_destroy(&fx.svc);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failed_message_leaves_the_batch),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
