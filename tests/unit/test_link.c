/*
 * test_link.c - the outbox and the receiver's sequence check, with a real
 * LMDB store and a real ZeroMQ socket standing in for the receiver.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "err.h"
#include "outbox.h"
#include "peer.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

typedef struct fixture {
    char dir[64];
    void *zctx;
    void *receiver; /* ROUTER standing in for the next service */
    store_t *st;
    outbox_t *ob;
} fixture_t;

/* Entries of the last batch received, handed out one by one. */
static struct {
    Envelope *env[OUTBOX_BATCH_ITEMS];
    int n, at;
    zmq_msg_t route;
    int messages; /* ZeroMQ messages received */
} got;

static void open_sender(fixture_t *fx)
{
    int err;

    fx->st = store_open(fx->dir, NULL, 64, &err);
    assert_non_null(fx->st);
    fx->ob = outbox_new(fx->st, fx->zctx, "test", "inproc://receiver", &err);
    assert_non_null(fx->ob);
}

static void close_sender(fixture_t *fx)
{
    outbox_destroy(&fx->ob);
    store_destroy(&fx->st);
    assert_null(fx->ob);
}

static int setup(void **state)
{
    fixture_t *fx = calloc(1, sizeof *fx);
    int zero = 0;

    strcpy(fx->dir, "/tmp/keyuan-link-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    fx->zctx = zmq_ctx_new();
    fx->receiver = zmq_socket(fx->zctx, ZMQ_ROUTER);
    zmq_setsockopt(fx->receiver, ZMQ_LINGER, &zero, sizeof zero);
    assert_int_equal(zmq_bind(fx->receiver, "inproc://receiver"), 0);
    open_sender(fx);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *fx = *state;
    char cmd[128];

    for (; got.at < got.n; got.at++) /* what a test did not look at */
        wire_free(got.env[got.at]);

    close_sender(fx);
    zmq_close(fx->receiver);
    zmq_ctx_term(fx->zctx);
    snprintf(cmd, sizeof cmd, "rm -rf %s", fx->dir);
    assert_int_equal(system(cmd), 0);
    free(fx);
    return 0;
}

/* Appends n reminders in one committed transaction. */
static void append(fixture_t *fx, int n, uint64_t first_id)
{
    MDB_txn *txn;

    assert_int_equal(store_begin(fx->st, NULL, false, &txn), 0);
    for (int i = 0; i < n; i++) {
        Envelope env = KEYUAN__V1__ENVELOPE__INIT;
        Keyuan__V1__Reminder r = KEYUAN__V1__REMINDER__INIT;

        r.reminder_id = first_id + (uint64_t)i;
        env.body_case = KEYUAN__V1__ENVELOPE__BODY_REMINDER;
        env.reminder = &r;
        assert_int_equal(outbox_append(fx->ob, txn, &env), 0);
    }
    assert_int_equal(store_commit(txn), 0);
}

/* Keeps the items of batch env for receive(). */
static void keep_items(Envelope *env)
{
    Keyuan__V1__EnvelopeBatch *b = env->batch;

    assert_true(b->n_items > 1 && b->n_items <= OUTBOX_BATCH_ITEMS);
    for (size_t i = 0; i < b->n_items; i++) {
        got.env[i] = wire_unpack(b->items[i].data, b->items[i].len);
        assert_non_null(got.env[i]);
    }
    got.n = (int)b->n_items;
    got.at = 0;
    wire_free(env);
}

/*
 * Receives one entry at the receiver; returns it and its route. Entries
 * that came as one batch come out one by one, each with the route.
 */
static Envelope *receive(fixture_t *fx, zmq_msg_t *route)
{
    zmq_msg_t body;
    Envelope *env;

    if (got.at == got.n) {
        if (!zmq_poll(&(zmq_pollitem_t){fx->receiver, 0, ZMQ_POLLIN, 0}, 1,
                      500))
            return NULL;
        if (got.messages++ > 0)
            zmq_msg_close(&got.route);
        zmq_msg_init(&got.route);
        zmq_msg_init(&body);
        assert_true(zmq_msg_recv(&got.route, fx->receiver, 0) >= 0);
        assert_true(zmq_msg_recv(&body, fx->receiver, 0) >= 0);
        env = wire_unpack(zmq_msg_data(&body), zmq_msg_size(&body));
        zmq_msg_close(&body);
        assert_non_null(env);
        if (env->body_case != KEYUAN__V1__ENVELOPE__BODY_BATCH) {
            got.env[0] = env;
            got.n = 1;
            got.at = 0;
        } else {
            keep_items(env);
        }
    }
    zmq_msg_init(route);
    zmq_msg_copy(route, &got.route);
    return got.env[got.at++];
}

static void send_ack(fixture_t *fx, zmq_msg_t *route, uint64_t seq)
{
    Envelope env = KEYUAN__V1__ENVELOPE__INIT;
    Keyuan__V1__Ack ack = KEYUAN__V1__ACK__INIT;
    uint8_t *buf;
    size_t len;

    ack.seq = seq;
    ack.epoch = store_epoch(fx->st);
    env.body_case = KEYUAN__V1__ENVELOPE__BODY_ACK;
    env.ack = &ack;
    buf = wire_pack(&env.base, &len);
    zmq_msg_send(route, fx->receiver, ZMQ_SNDMORE);
    zmq_send(fx->receiver, buf, len, 0);
    free(buf);
}

/* Receives n messages and checks they are seq first..first+n-1. */
static void expect_seqs(fixture_t *fx, uint64_t first, int n, zmq_msg_t *route)
{
    for (int i = 0; i < n; i++) {
        Envelope *env = receive(fx, route);

        assert_non_null(env);
        assert_int_equal(env->seq, first + (uint64_t)i);
        assert_string_equal(env->sender, "test");
        assert_int_equal(env->reminder->reminder_id, 100 + first + i);
        wire_free(env);
        if (i + 1 < n)
            zmq_msg_close(route);
    }
}

static void prune(fixture_t *fx)
{
    MDB_txn *txn;

    assert_int_equal(store_begin(fx->st, NULL, false, &txn), 0);
    assert_int_equal(outbox_prune(fx->ob, txn), 0);
    assert_int_equal(store_commit(txn), 0);
}

static void test_sends_in_order_and_prunes_on_ack(void **state)
{
    fixture_t *fx = *state;
    zmq_msg_t route;

    append(fx, 5, 101);
    assert_int_equal(outbox_pump(fx->ob), 0);
    expect_seqs(fx, 1, 5, &route);
    assert_int_equal(outbox_pending(fx->ob), 5);

    send_ack(fx, &route, 3);
    zmq_msg_close(&route);
    usleep(20000);
    assert_int_equal(outbox_read_acks(fx->ob), 0);
    assert_true(outbox_needs_prune(fx->ob));
    prune(fx);
    assert_int_equal(outbox_pending(fx->ob), 2);
}

/* Entries waiting together travel together, in order, in batches. */
static void test_sends_in_batches(void **state)
{
    fixture_t *fx = *state;
    int before = got.messages;
    zmq_msg_t route;

    append(fx, 150, 101);
    assert_int_equal(outbox_pump(fx->ob), 0);
    expect_seqs(fx, 1, 150, &route);
    zmq_msg_close(&route);
    /* 150 entries in 64 + 64 + 22: three messages, not 150 */
    assert_int_equal(got.messages - before, 3);
}

static void test_resends_unacked_after_timeout(void **state)
{
    fixture_t *fx = *state;
    zmq_msg_t route;

    append(fx, 3, 101);
    outbox_pump(fx->ob);
    expect_seqs(fx, 1, 3, &route);
    zmq_msg_close(&route);

    outbox_pump(fx->ob); /* before the timeout: nothing again */
    assert_null(receive(fx, &route));

    usleep((OUTBOX_RESEND_MS + 50) * 1000);
    outbox_pump(fx->ob);
    expect_seqs(fx, 1, 3, &route);
    zmq_msg_close(&route);
}

static void test_restart_resends_and_keeps_numbering(void **state)
{
    fixture_t *fx = *state;
    zmq_msg_t route;

    append(fx, 4, 101);
    outbox_pump(fx->ob);
    expect_seqs(fx, 1, 4, &route);
    send_ack(fx, &route, 2);
    zmq_msg_close(&route);
    usleep(20000);
    outbox_read_acks(fx->ob);
    prune(fx);

    close_sender(fx); /* as after a crash: 3 and 4 never acked */
    open_sender(fx);
    assert_int_equal(outbox_pending(fx->ob), 2);
    outbox_pump(fx->ob);
    expect_seqs(fx, 3, 2, &route);
    zmq_msg_close(&route);

    append(fx, 1, 105); /* numbering goes on, never reused */
    usleep((OUTBOX_RESEND_MS + 50) * 1000);
    outbox_pump(fx->ob);
    expect_seqs(fx, 3, 3, &route);
    zmq_msg_close(&route);
}

static void test_peer_verdicts(void **state)
{
    fixture_t *fx = *state;
    Envelope msg = KEYUAN__V1__ENVELOPE__INIT;
    enum peer_verdict v;
    uint64_t last;
    MDB_txn *txn;

    msg.sender = "upstream";
    msg.epoch = 7;
    assert_int_equal(store_begin(fx->st, NULL, false, &txn), 0);

    msg.seq = 1;
    peer_check(fx->st, txn, &msg, &v, &last);
    assert_int_equal(v, PEER_APPLY);
    peer_record(fx->st, txn, &msg);

    msg.seq = 1;
    peer_check(fx->st, txn, &msg, &v, &last);
    assert_int_equal(v, PEER_REPEAT);
    msg.seq = 3;
    peer_check(fx->st, txn, &msg, &v, &last);
    assert_int_equal(v, PEER_GAP);
    assert_int_equal(last, 1);
    msg.seq = 2;
    peer_check(fx->st, txn, &msg, &v, &last);
    assert_int_equal(v, PEER_APPLY);

    msg.epoch = 8; /* the sender's store was made anew */
    msg.seq = 1;
    peer_check(fx->st, txn, &msg, &v, &last);
    assert_int_equal(v, PEER_APPLY);
    mdb_txn_abort(txn);
}

static void test_ids_grow(void **state)
{
    fixture_t *fx = *state;
    uint64_t a, b;
    MDB_txn *txn;

    assert_int_equal(store_begin(fx->st, NULL, false, &txn), 0);
    store_next_id(fx->st, txn, &a);
    store_next_id(fx->st, txn, &b);
    assert_true(b > a);
    assert_int_equal(store_commit(txn), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sends_in_order_and_prunes_on_ack,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_resends_unacked_after_timeout,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_restart_resends_and_keeps_numbering, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sends_in_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peer_verdicts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ids_grow, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
