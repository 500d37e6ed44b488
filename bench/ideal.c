/*
 * ideal.c - bench-ideal: the "ideal stage" that `make bench` holds the
 * pipeline up against.
 *
 * Every keyuan stage must at least unpack a message, store it durably and
 * send a message on. This program does only that, in one loop, for the
 * same leads bench-push sends to intake: unpack the envelope, put the
 * lead (about 300 bytes) under a time-ordered 8-byte key, 256 puts per
 * durable commit with LMDB's default sync, then pack the envelope again
 * and send it with ZeroMQ (PUSH over loopback TCP to a PULL drain in a
 * second thread). No validation, no indexes, no outbox and no acks: what
 * the real stages do beyond this is what the ratio e2e/ideal measures.
 *
 * The leads are packed before the clock starts (a source would have done
 * that); the clock stops when the drain has received the last message.
 *
 *     bench-ideal DIR [N [PUTS_PER_COMMIT]]
 *
 * DIR is created and holds the LMDB environment; N defaults to 200000.
 * Prints one line of key=value pairs on stdout (see bench/README.md).
 */
#include "leadgen.h"

#include "clock.h"
#include "err.h"
#include "store.h"
#include "wire.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <zmq.h>

#define IDEAL_DEFAULT_N 200000
#define IDEAL_DEFAULT_BATCH 256
#define IDEAL_BATCH_MAX 4096
#define IDEAL_MAP_MB 4096

/* The leads, packed one after another before the clock starts. */
typedef struct corpus {
    uint8_t *data; /* all packed envelopes */
    size_t *off;   /* n + 1 offsets into data */
    size_t n;
    size_t lead_bytes; /* total packed size of the lead bodies */
} corpus_t;

/* The drain thread's socket and what it saw. */
typedef struct drain {
    void *pull;    /* bound by main, used only by the thread */
    size_t expect; /* messages to receive before stopping */
    size_t got;
    double end_s; /* monotonic time of the last message */
} drain_t;

typedef struct stats {
    double start_s, commit_s;
    size_t commits;
    struct rusage ru0; /* at the start: the corpus is not counted */
} stats_t;

static double mono_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the corpus --------------------------------------------------------- */

static int corpus_make(corpus_t *c, size_t n)
{
    bench_lead_t bl;
    size_t cap = n * 400, len;

    c->n = n;
    c->data = malloc(cap);
    c->off = malloc((n + 1) * sizeof *c->off);
    if (c->data == NULL || c->off == NULL)
        return KY_ENOMEM;
    c->off[0] = 0;
    for (size_t i = 0; i < n; i++) {
        bench_lead_make(&bl, i, i + 1, clock_now_ms());
        len = protobuf_c_message_get_packed_size(&bl.env.base);
        if (c->off[i] + len > cap)
            return KY_EFULL;
        protobuf_c_message_pack(&bl.env.base, c->data + c->off[i]);
        c->off[i + 1] = c->off[i] + len;
        c->lead_bytes += protobuf_c_message_get_packed_size(&bl.lead.base);
    }
    return KY_OK;
}

static void corpus_free(corpus_t *c)
{
    free(c->data);
    free(c->off);
}

/* ---- the drain ---------------------------------------------------------- */

static void *drain_main(void *arg)
{
    drain_t *d = arg;
    char buf[4096];

    while (d->got < d->expect) {
        if (zmq_recv(d->pull, buf, sizeof buf, 0) < 0) {
            if (zmq_errno() == EINTR)
                continue;
            break;
        }
        d->got++;
    }
    d->end_s = mono_s();
    return NULL;
}

/* Binds the drain on a free loopback port; writes its endpoint. */
static int drain_bind(void *zctx, drain_t *d, char *endpoint, size_t len)
{
    int hwm = 100000;

    d->pull = zmq_socket(zctx, ZMQ_PULL);
    if (d->pull == NULL)
        return KY_EZMQ;
    zmq_setsockopt(d->pull, ZMQ_RCVHWM, &hwm, sizeof hwm);
    if (zmq_bind(d->pull, "tcp://127.0.0.1:*") != 0 ||
        zmq_getsockopt(d->pull, ZMQ_LAST_ENDPOINT, endpoint, &len) != 0)
        return KY_EZMQ;
    return KY_OK;
}

/* ---- the stage ---------------------------------------------------------- */

/* A key that grows with time, as store_next_id() makes, kept in memory. */
static uint64_t next_key(uint64_t *last)
{
    uint64_t candidate = (uint64_t)clock_now_ms() << 20;

    *last = candidate > *last ? candidate : *last + 1;
    return *last;
}

/*
 * Unpacks message i, puts its lead under a new key inside txn and packs
 * the envelope again into *out (the caller frees it).
 */
static int stage_one(const corpus_t *c, size_t i, MDB_txn *txn, MDB_dbi db,
                     uint64_t *last, uint8_t **out, size_t *out_len)
{
    uint8_t key[8];
    Envelope *env = wire_unpack(c->data + c->off[i], c->off[i + 1] - c->off[i]);
    int rc;

    if (env == NULL || env->lead == NULL) {
        wire_free(env);
        return KY_EDECODE;
    }
    wire_put_u64(key, next_key(last));
    rc = store_put_msg(txn, db, key, sizeof key, &env->lead->base);
    if (rc == 0 && (*out = wire_pack(&env->base, out_len)) == NULL)
        rc = KY_ENOMEM;
    wire_free(env);
    return rc;
}

/* Sends the packed messages of one committed batch, freeing them. */
static int batch_send(void *push, uint8_t **out, size_t *out_len, size_t n)
{
    int rc = KY_OK;

    for (size_t i = 0; i < n; i++) {
        if (rc == 0 && zmq_send(push, out[i], out_len[i], 0) < 0)
            rc = KY_EZMQ;
        free(out[i]);
    }
    return rc;
}

/* Messages [from, from + n) in one durable transaction, then sent. */
static int batch_run(const corpus_t *c, size_t from, size_t n, store_t *st,
                     void *push, uint64_t *last, stats_t *s)
{
    uint8_t *out[IDEAL_BATCH_MAX];
    size_t out_len[IDEAL_BATCH_MAX], done = 0;
    MDB_dbi db = store_db(st, "leads");
    MDB_txn *txn;
    double t;
    int rc = store_begin(st, NULL, false, &txn);

    if (rc)
        return rc;
    for (; done < n; done++)
        if ((rc = stage_one(c, from + done, txn, db, last, &out[done],
                            &out_len[done])) != 0)
            break;
    if (rc) {
        mdb_txn_abort(txn);
        for (size_t i = 0; i < done; i++)
            free(out[i]);
        return rc;
    }
    t = mono_s();
    rc = store_commit(txn);
    s->commit_s += mono_s() - t;
    s->commits++;
    if (rc)
        return rc;
    return batch_send(push, out, out_len, n);
}

static int stage_run(const corpus_t *c, size_t batch, store_t *st, void *push,
                     stats_t *s)
{
    uint64_t last = 0;
    int rc = KY_OK;

    getrusage(RUSAGE_SELF, &s->ru0);
    s->start_s = mono_s();
    for (size_t i = 0; rc == 0 && i < c->n; i += batch)
        rc = batch_run(c, i, c->n - i < batch ? c->n - i : batch, st, push,
                       &last, s);
    return rc;
}

/* ---- the report --------------------------------------------------------- */

static double tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static void report(const corpus_t *c, const drain_t *d, const stats_t *s)
{
    struct rusage ru;
    double secs = d->end_s - s->start_s;

    getrusage(RUSAGE_SELF, &ru);
    printf("ideal events=%zu seconds=%.3f events_per_s=%.0f "
           "value_bytes=%.0f msg_bytes=%.0f commits=%zu commit_ms_avg=%.2f "
           "cpu_user_s=%.2f cpu_sys_s=%.2f\n",
           c->n, secs, (double)c->n / secs,
           (double)c->lead_bytes / (double)c->n,
           (double)c->off[c->n] / (double)c->n, s->commits,
           s->commits ? 1000 * s->commit_s / (double)s->commits : 0.0,
           tv_s(ru.ru_utime) - tv_s(s->ru0.ru_utime),
           tv_s(ru.ru_stime) - tv_s(s->ru0.ru_stime));
}

/* ---- main --------------------------------------------------------------- */

static int run(const char *dir, const corpus_t *c, size_t batch)
{
    static const char *const dbs[] = {"leads", NULL};
    char endpoint[256];
    drain_t d = {.expect = c->n};
    stats_t s = {0};
    pthread_t thread;
    int rc, hwm = 100000;
    void *zctx = zmq_ctx_new(), *push = NULL;
    store_t *st = store_open(dir, dbs, IDEAL_MAP_MB, &rc);

    if (st == NULL)
        goto out_zmq;
    if ((rc = drain_bind(zctx, &d, endpoint, sizeof endpoint)) != 0)
        goto out_store;
    push = zmq_socket(zctx, ZMQ_PUSH);
    zmq_setsockopt(push, ZMQ_SNDHWM, &hwm, sizeof hwm);
    if (zmq_connect(push, endpoint) != 0) {
        rc = KY_EZMQ;
        goto out_store;
    }
    if (pthread_create(&thread, NULL, drain_main, &d) != 0) {
        rc = KY_EIO;
        goto out_store;
    }

    rc = stage_run(c, batch, st, push, &s);
    if (rc)
        zmq_ctx_shutdown(zctx); /* the drain's recv fails with ETERM */
    pthread_join(thread, NULL);
    if (rc == 0)
        report(c, &d, &s);

out_store:
    if (push)
        zmq_close(push);
    if (d.pull)
        zmq_close(d.pull);
    store_destroy(&st);
out_zmq:
    zmq_ctx_term(zctx);
    return rc;
}

int main(int argc, char **argv)
{
    corpus_t c = {0};
    size_t n = argc > 2 ? strtoull(argv[2], NULL, 10) : IDEAL_DEFAULT_N;
    size_t batch = argc > 3 ? strtoull(argv[3], NULL, 10) : IDEAL_DEFAULT_BATCH;
    int rc;

    if (argc < 2 || n == 0 || batch == 0 || batch > IDEAL_BATCH_MAX) {
        fprintf(stderr, "usage: bench-ideal DIR [N [PUTS_PER_COMMIT]]\n");
        return 2;
    }
    if (mkdir(argv[1], 0700) != 0 && errno != EEXIST) {
        perror(argv[1]);
        return 1;
    }
    rc = corpus_make(&c, n);
    if (rc == 0)
        rc = run(argv[1], &c, batch);
    if (rc)
        fprintf(stderr, "bench-ideal: %s\n", err_str(rc));
    corpus_free(&c);
    return rc ? 1 : 0;
}
