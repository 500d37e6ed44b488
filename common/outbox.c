/* outbox.c - the sending end of a link (see outbox.h). */
#include "outbox.h"

#include "clock.h"
#include "err.h"
#include "logger.h"

#include <stdlib.h>
#include <string.h>
#include <zmq.h>

struct outbox {
    store_t *st;          /* the service's store, borrowed */
    MDB_dbi db;           /* the "outbox" database */
    void *sock;           /* DEALER connected to the receiver */
    char *sender;         /* our service name, sent with every message */
    uint64_t acked;       /* highest sequence the receiver acked */
    uint64_t pruned;      /* highest sequence deleted from the store */
    uint64_t sent;        /* highest sequence sent on the socket */
    uint64_t stored;      /* highest sequence known committed */
    int64_t progress_ms;  /* monotonic time of the last ack or first send */
    uint64_t oldest_seq;  /* the first unacked entry when last looked */
    int64_t oldest_since; /* monotonic time it became the first unacked */
};

/* Notes when the first unacked entry changed, for outbox_oldest_age_ms. */
static void track_oldest(outbox_t *ob)
{
    if (ob->stored <= ob->acked) {
        ob->oldest_since = 0;
        return;
    }
    if (ob->oldest_seq != ob->acked + 1 || ob->oldest_since == 0) {
        ob->oldest_seq = ob->acked + 1;
        ob->oldest_since = clock_mono_ms();
    }
}

/* Reads the first and last stored sequence to resume after a restart. */
static int outbox_resume(outbox_t *ob)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    uint64_t next;
    int rc = store_begin(ob->st, NULL, true, &txn);

    if (rc)
        return rc;
    rc = store_meta_get(ob->st, txn, "outbox_next", &next);
    if (rc == 0 && mdb_cursor_open(txn, ob->db, &cur) == 0) {
        ob->stored = next ? next - 1 : 0;
        if (mdb_cursor_get(cur, &k, &v, MDB_FIRST) == 0)
            ob->acked = wire_get_u64(k.mv_data) - 1;
        else
            ob->acked = ob->stored;
        mdb_cursor_close(cur);
    }
    mdb_txn_abort(txn);
    ob->pruned = ob->sent = ob->acked;
    return rc;
}

static void *outbox_connect(void *zctx, const char *endpoint, int *err)
{
    void *sock = zmq_socket(zctx, ZMQ_DEALER);
    int one = 1, zero = 0;

    if (sock == NULL) {
        *err = KY_EZMQ;
        return NULL;
    }
    /* Queue nothing for a receiver that is not connected: the outbox is
     * the queue, and it survives restarts. */
    zmq_setsockopt(sock, ZMQ_IMMEDIATE, &one, sizeof one);
    zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof zero);
    if (zmq_connect(sock, endpoint) != 0) {
        log_error("event=link_connect_failed endpoint=%s err=\"%s\"", endpoint,
                  zmq_strerror(zmq_errno()));
        zmq_close(sock);
        *err = KY_EZMQ;
        return NULL;
    }
    return sock;
}

outbox_t *outbox_new(store_t *st, void *zctx, const char *sender,
                     const char *endpoint, int *err)
{
    outbox_t *ob = calloc(1, sizeof *ob);

    *err = KY_ENOMEM;
    if (ob == NULL || (ob->sender = strdup(sender)) == NULL)
        goto fail;
    ob->st = st;
    ob->db = store_db(st, "outbox");
    *err = outbox_resume(ob);
    if (*err)
        goto fail;
    ob->sock = outbox_connect(zctx, endpoint, err);
    if (ob->sock == NULL)
        goto fail;
    log_info("event=outbox_open endpoint=%s pending=%llu", endpoint,
             (unsigned long long)(ob->stored - ob->acked));
    return ob;

fail:
    if (ob)
        free(ob->sender);
    free(ob);
    return NULL;
}

void outbox_destroy(outbox_t **obp)
{
    if (obp == NULL || *obp == NULL)
        return;
    if ((*obp)->sock)
        zmq_close((*obp)->sock);
    free((*obp)->sender);
    free(*obp);
    *obp = NULL;
}

int outbox_append(outbox_t *ob, MDB_txn *txn, Envelope *msg)
{
    uint8_t key[8];
    uint64_t next;
    int rc = store_meta_get(ob->st, txn, "outbox_next", &next);

    if (rc)
        return rc;
    msg->seq = next ? next : 1;
    msg->sender = ob->sender;
    msg->epoch = store_epoch(ob->st);

    wire_put_u64(key, msg->seq);
    rc = store_append_msg(txn, ob->db, key, 8, &msg->base); /* seq grows */
    if (rc)
        return rc;
    return store_meta_put(ob->st, txn, "outbox_next", msg->seq + 1);
}

void *outbox_socket(outbox_t *ob)
{
    return ob->sock;
}

static void outbox_on_ack(outbox_t *ob, const Envelope *env)
{
    uint64_t seq;

    if (env->body_case != KEYUAN__V1__ENVELOPE__BODY_ACK ||
        env->ack->epoch != store_epoch(ob->st))
        return;
    seq = env->ack->seq;
    if (seq > ob->acked) {
        ob->acked = seq;
        ob->progress_ms = clock_mono_ms();
    }
    /* After a restart the receiver may know more than we sent this time. */
    if (ob->sent < ob->acked)
        ob->sent = ob->acked;
    track_oldest(ob);
}

int outbox_read_acks(outbox_t *ob)
{
    for (;;) {
        zmq_msg_t m;
        Envelope *env;

        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, ob->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            return zmq_errno() == EAGAIN ? KY_OK : KY_EZMQ;
        }
        env = wire_unpack(zmq_msg_data(&m), zmq_msg_size(&m));
        if (env)
            outbox_on_ack(ob, env);
        else
            log_warn("event=bad_ack bytes=%zu", zmq_msg_size(&m));
        wire_free(env);
        zmq_msg_close(&m);
    }
}

bool outbox_needs_prune(const outbox_t *ob)
{
    return ob->acked > ob->pruned;
}

int outbox_prune(outbox_t *ob, MDB_txn *txn)
{
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = mdb_cursor_open(txn, ob->db, &cur);

    if (rc)
        return store_err(rc, "cursor_open");
    while ((rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == 0 &&
           wire_get_u64(k.mv_data) <= ob->acked) {
        rc = mdb_cursor_del(cur, 0);
        if (rc)
            break;
    }
    mdb_cursor_close(cur);
    if (rc && rc != MDB_NOTFOUND)
        return store_err(rc, "outbox_prune");
    ob->pruned = ob->acked;
    return KY_OK;
}

/*
 * Sends the n entries in items, the last numbered last: one alone as it
 * is, several as one EnvelopeBatch, so that a busy link costs one ZeroMQ
 * message per batch. Returns false when ZeroMQ took nothing (no receiver
 * or a full queue: the resend timer tries again).
 */
static bool send_items(outbox_t *ob, ProtobufCBinaryData *items, size_t n,
                       uint64_t last)
{
    Envelope env = KEYUAN__V1__ENVELOPE__INIT;
    Keyuan__V1__EnvelopeBatch batch = KEYUAN__V1__ENVELOPE_BATCH__INIT;
    zmq_msg_t msg;

    if (n == 1) {
        if (zmq_send(ob->sock, items[0].data, items[0].len, ZMQ_DONTWAIT) < 0)
            return false;
    } else {
        batch.items = items;
        batch.n_items = n;
        env.body_case = KEYUAN__V1__ENVELOPE__BODY_BATCH;
        env.batch = &batch;
        zmq_msg_init_size(&msg, protobuf_c_message_get_packed_size(&env.base));
        protobuf_c_message_pack(&env.base, zmq_msg_data(&msg));
        if (zmq_msg_send(&msg, ob->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&msg);
            return false;
        }
    }
    if (ob->sent == ob->acked)
        ob->progress_ms = clock_mono_ms();
    ob->sent = last;
    if (ob->sent > ob->stored)
        ob->stored = ob->sent;
    return true;
}

/* Sends stored entries after ob->sent, up to the window, in batches. */
static int outbox_send_new(outbox_t *ob, MDB_txn *txn)
{
    ProtobufCBinaryData items[OUTBOX_BATCH_ITEMS];
    size_t n = 0, bytes = 0;
    uint64_t last = 0;
    MDB_cursor *cur;
    MDB_val k, v;
    uint8_t key[8];
    int rc = mdb_cursor_open(txn, ob->db, &cur), op = MDB_SET_RANGE;
    bool ok = true;

    if (rc)
        return store_err(rc, "cursor_open");
    wire_put_u64(key, ob->sent + 1);
    k.mv_size = 8;
    k.mv_data = key;
    while (ok && ob->sent + n - ob->acked < OUTBOX_WINDOW &&
           mdb_cursor_get(cur, &k, &v, op) == 0) {
        op = MDB_NEXT;
        items[n++] = (ProtobufCBinaryData){v.mv_size, v.mv_data};
        bytes += v.mv_size;
        last = wire_get_u64(k.mv_data);
        if (n == OUTBOX_BATCH_ITEMS || bytes >= OUTBOX_BATCH_BYTES) {
            ok = send_items(ob, items, n, last);
            n = bytes = 0;
        }
    }
    if (ok && n > 0)
        send_items(ob, items, n, last);
    mdb_cursor_close(cur); /* items pointed into the store until here */
    return KY_OK;
}

int outbox_pump(outbox_t *ob)
{
    MDB_txn *txn;
    uint64_t next;
    int rc;

    /* Nothing acked for a while: start again from the first unacked. */
    if (ob->sent > ob->acked &&
        clock_mono_ms() - ob->progress_ms >= OUTBOX_RESEND_MS) {
        log_debug("event=outbox_resend from=%llu to=%llu",
                  (unsigned long long)ob->acked + 1,
                  (unsigned long long)ob->sent);
        ob->sent = ob->acked;
    }
    rc = store_begin(ob->st, NULL, true, &txn);
    if (rc)
        return rc;
    rc = store_meta_get(ob->st, txn, "outbox_next", &next);
    if (rc == 0 && next > 0)
        ob->stored = next - 1;
    if (rc == 0 && ob->stored > ob->sent)
        rc = outbox_send_new(ob, txn);
    mdb_txn_abort(txn);
    track_oldest(ob);
    return rc;
}

int64_t outbox_wait_ms(const outbox_t *ob)
{
    int64_t left;

    /* Stored but unsent: the receiver was not there; look again soon. */
    if (ob->stored > ob->sent)
        return 50;
    if (ob->sent <= ob->acked)
        return -1;
    left = ob->progress_ms + OUTBOX_RESEND_MS - clock_mono_ms();
    return left > 0 ? left : 0;
}

uint64_t outbox_pending(const outbox_t *ob)
{
    return ob->stored > ob->acked ? ob->stored - ob->acked : 0;
}

uint64_t outbox_oldest_age_ms(const outbox_t *ob)
{
    if (ob->stored <= ob->acked || ob->oldest_since == 0)
        return 0;
    return (uint64_t)(clock_mono_ms() - ob->oldest_since);
}
