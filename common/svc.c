/* svc.c - the batching service loop (see svc.h). */
#include "svc.h"

#include "clock.h"
#include "err.h"
#include "logger.h"
#include "pbjson.h"
#include "peer.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

/* Sanitizer builds poison arena memory not handed out ("memory" below). */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define arena_poison(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define arena_unpoison(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define arena_poison(p, n) ((void)(p), (void)(n))
#define arena_unpoison(p, n) ((void)(p), (void)(n))
#endif

#define SVC_MAX_ROUTE 3 /* identity, and REQ's empty delimiter */
#define SVC_MAX_COUNTERS 48
#define SVC_MAX_SENDERS 8
#define SVC_STUCK_MS 60000    /* default for svc_config_t.stuck_ms */
#define SVC_PRUNE_IDLE_MS 100 /* see prune_due() */
/* A request over --max-msg-bytes is answered too_large; one over this many
 * times that makes libzmq drop its sender before it is read at all, so
 * that no client can make a service hold much more than the cap. */
#define SVC_HARD_CAP 4

/* One message read from the ROUTER socket, and what to send back. */
typedef struct item {
    zmq_msg_t route[SVC_MAX_ROUTE]; /* frames before the payload */
    int nroute;
    Envelope *msg;         /* NULL when the payload did not parse */
    char *nul_at;          /* a request's text field holding a NUL, or NULL */
    size_t too_large;      /* bytes of a payload over the cap, not unpacked */
    uint64_t too_large_id; /* and its request_id */
    uint8_t *out;          /* packed reply, sent after commit */
    size_t out_len;
    bool failed; /* its handler failed: left out */
} item_t;

/* A sender seen in this batch, owed one cumulative ack. */
typedef struct ack_due {
    char name[64];
    uint64_t epoch;
    uint64_t seq;
    item_t *last; /* its latest item, for the route */
} ack_due_t;

/* A block of arena memory; see "memory" below. */
typedef struct chunk {
    struct chunk *next; /* the arena's other extra chunks */
    size_t size;        /* bytes in data */
    size_t used;        /* bytes handed out */
    max_align_t data[]; /* aligned for any type */
} chunk_t;

/* Memory handed out by bumping a pointer and taken back all at once. */
typedef struct arena {
    chunk_t *first; /* kept from one use to the next */
    chunk_t *extra; /* added since the last reset, freed by it */
    chunk_t *cur;   /* the chunk being bumped through */
    size_t chunk;   /* bytes of a chunk */
} arena_t;

/* An unpacked message svc_defer_free() frees with the message's memory. */
typedef struct deferred {
    struct deferred *next;
    ProtobufCMessage *msg;
} deferred_t;

struct svc {
    svc_config_t cfg;
    void *zctx;
    void *router;
    void *monitor; /* PAIR: the router's disconnect events (monitor_open) */
    store_t *st;
    outbox_t *ob;
    arena_t scratch;         /* svc_alloc(): lives for one message */
    deferred_t *deferred;    /* messages to free with this message */
    arena_t unpacked;        /* the batch's messages, unpacked */
    ProtobufCAllocator pbuf; /* protobuf-c's view of unpacked */
    int64_t prune_at;        /* monotonic ms: acked entries get a commit
                                of their own (prune_due); 0: none */
    int64_t started_ms;
    int ncounters;
    struct {
        const char *name;
        uint64_t value;   /* as of the last commit */
        uint64_t pending; /* counted by the batch in progress */
    } counters[SVC_MAX_COUNTERS];
    bool in_batch;     /* counts wait for the batch's commit */
    int64_t failed_ms; /* monotonic ms of the last failed commit; 0 none */
    item_t items[SVC_BATCH_MAX];
    ack_due_t acks[SVC_MAX_SENDERS];
    int nacks;
    bool retry;      /* a message failed: roll the batch back, run it again */
    bool end_wrote;  /* ops->batch_end's writes are in this try's txn */
    peer_state_t up; /* the upstream's link state in this try */
    bool up_loaded;  /* up was read from the store in this try */
    bool up_dirty;   /* up changed: write it before the commit */
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

bool svc_stopping(void)
{
    return stop_requested != 0;
}

/* ---- memory ------------------------------------------------------------ */

/*
 * A message's reply is built from many small pieces (strings, repeated
 * fields), and unpacking a message makes as many; all of them die
 * together, at the end of the message or of the batch. A malloc and a
 * free each cost more than the handler's own work, so both come from
 * arenas: a bump of a pointer, and a rewind at the end. In sanitizer
 * builds memory not handed out is poisoned, so a pointer kept past its
 * message is still caught.
 */
#define SVC_SCRATCH_CHUNK 32768  /* svc_alloc(): a reply's pieces */
#define SVC_UNPACKED_CHUNK 65536 /* about a hundred unpacked messages */
#define SVC_ALIGN _Alignof(max_align_t)

static chunk_t *chunk_new(size_t size)
{
    chunk_t *c;

    if (size > SIZE_MAX - sizeof *c)
        abort();
    c = malloc(sizeof *c + size);
    if (c == NULL)
        abort();
    c->next = NULL;
    c->size = size;
    c->used = 0;
    arena_poison(c->data, size);
    return c;
}

/* A chunk with room for need bytes, added to the arena when needed. */
static chunk_t *arena_room(arena_t *a, size_t need)
{
    chunk_t *c;

    if (a->first == NULL)
        a->first = a->cur = chunk_new(a->chunk);
    if (a->cur->size - a->cur->used >= need)
        return a->cur;
    /* A request over a quarter chunk gets a chunk of its own, so that
     * the space left in the current one is not wasted. */
    c = chunk_new(need > a->chunk / 4 ? need : a->chunk);
    c->next = a->extra;
    a->extra = c;
    if (need <= a->chunk / 4)
        a->cur = c;
    return c;
}

/* size bytes, aligned for any type, not zeroed. Aborts without memory. */
static void *arena_alloc(arena_t *a, size_t size)
{
    size_t need = size ? size : 1;
    chunk_t *c;
    void *p;

    if (need > SIZE_MAX - SVC_ALIGN)
        abort();
    need = (need + SVC_ALIGN - 1) / SVC_ALIGN * SVC_ALIGN;
    c = arena_room(a, need);
    p = (char *)c->data + c->used;
    c->used += need;
    arena_unpoison(p, size);
    return p;
}

/* Takes back everything: frees the extra chunks, rewinds the first. */
static void arena_reset(arena_t *a)
{
    while (a->extra) {
        chunk_t *c = a->extra;

        a->extra = c->next;
        free(c);
    }
    if (a->first) {
        arena_poison(a->first->data, a->first->used);
        a->first->used = 0;
    }
    a->cur = a->first;
}

static void arena_free(arena_t *a)
{
    arena_reset(a);
    free(a->first);
    a->first = a->cur = NULL;
}

/* protobuf-c's allocator over the unpacked arena. */
static void *unpacked_alloc(void *data, size_t size)
{
    return arena_alloc(data, size);
}

/* Nothing: the arena is reset once the batch is answered. */
static void unpacked_free(void *data, void *ptr)
{
    (void)data, (void)ptr;
}

static void arenas_init(svc_t *svc)
{
    svc->scratch.chunk = SVC_SCRATCH_CHUNK;
    svc->unpacked.chunk = SVC_UNPACKED_CHUNK;
    svc->pbuf.alloc = unpacked_alloc;
    svc->pbuf.free = unpacked_free;
    svc->pbuf.allocator_data = &svc->unpacked;
}

void *svc_alloc(svc_t *svc, size_t size)
{
    return memset(arena_alloc(&svc->scratch, size), 0, size);
}

char *svc_strdup(svc_t *svc, const char *s)
{
    size_t len = strlen(s);

    return memcpy(svc_alloc(svc, len + 1), s, len + 1);
}

char *svc_printf(svc_t *svc, const char *fmt, ...)
{
    va_list ap;
    int len;
    char *out;

    /* Never true; without it GCC 12 with -fsanitize=undefined warns of a
     * "null format string" and SAN=1 builds fail under -Werror. */
    if (fmt == NULL)
        abort();
    va_start(ap, fmt);
    len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    out = svc_alloc(svc, (size_t)len + 1);
    va_start(ap, fmt);
    vsnprintf(out, (size_t)len + 1, fmt, ap);
    va_end(ap);
    return out;
}

void svc_defer_free(svc_t *svc, ProtobufCMessage *msg)
{
    deferred_t *d = svc_alloc(svc, sizeof *d);

    d->msg = msg;
    d->next = svc->deferred;
    svc->deferred = d;
}

/* Ends the current message's memory: frees what was deferred and takes
 * back what svc_alloc() gave. */
static void message_end(svc_t *svc)
{
    for (deferred_t *d = svc->deferred; d; d = d->next)
        protobuf_c_message_free_unpacked(d->msg, NULL);
    svc->deferred = NULL;
    arena_reset(&svc->scratch);
}

/* ---- counters --------------------------------------------------------- */

void svc_count(svc_t *svc, const char *name, uint64_t n)
{
    int i;

    /* Callers pass literals, mostly the same pointer each time: compare
     * pointers before text, this runs several times per message. */
    for (i = 0; i < svc->ncounters; i++)
        if (svc->counters[i].name == name ||
            strcmp(svc->counters[i].name, name) == 0)
            break;
    if (i == svc->ncounters) {
        if (i == SVC_MAX_COUNTERS)
            return;
        svc->counters[i].name = name;
        svc->ncounters++;
    }
    if (svc->in_batch)
        svc->counters[i].pending += n;
    else
        svc->counters[i].value += n;
}

/*
 * Ends what a try at a batch counted and logged: kept when its commit
 * made it true, dropped when it was rolled back (svc_count(), log_hold()).
 */
static void batch_settle(svc_t *svc, bool committed)
{
    for (int i = 0; i < svc->ncounters; i++) {
        if (committed)
            svc->counters[i].value += svc->counters[i].pending;
        svc->counters[i].pending = 0;
    }
    log_release(committed);
}

void svc_status_add(svc_t *svc, Keyuan__V1__StatusReply *st, const char *name,
                    uint64_t value)
{
    Keyuan__V1__Counter *c = svc_alloc(svc, sizeof *c);
    Keyuan__V1__Counter **grown;

    keyuan__v1__counter__init(c);
    c->name = svc_strdup(svc, name);
    c->value = value;
    grown = svc_alloc(svc, (st->n_counters + 1) * sizeof *grown);
    if (st->n_counters)
        memcpy(grown, st->counters, st->n_counters * sizeof *grown);
    grown[st->n_counters++] = c;
    st->counters = grown;
}

Keyuan__V1__Reply *svc_reply(svc_t *svc, Envelope *reply,
                             Keyuan__V1__ReplyStatus status, const char *code,
                             const char *field, const char *message)
{
    Keyuan__V1__Reply *r = svc_alloc(svc, sizeof *r);

    keyuan__v1__reply__init(r);
    r->status = status;
    if (code)
        r->code = svc_strdup(svc, code);
    if (field)
        r->field = svc_strdup(svc, field);
    if (message)
        r->message = svc_strdup(svc, message);
    reply->body_case = KEYUAN__V1__ENVELOPE__BODY_REPLY;
    reply->reply = r;
    return r;
}

/* ---- peers dropped by the size cap ---------------------------------- */

/*
 * With ZMQ_MAXMSGSIZE set (SVC_HARD_CAP times --max-msg-bytes), libzmq
 * closes the connection of a peer whose message is larger and tells the
 * application nothing. A socket monitor is the only window on it, and a
 * blurred one: libzmq 4.3.4 reports the drop (stream_engine_base_t::error
 * with protocol_error) as one ZMQ_EVENT_DISCONNECTED, exactly as it
 * reports a peer that closed its connection itself, and the event carries
 * only our own bind address and the descriptor just closed: no reason and
 * no peer address. So we count every disconnect ("disconnects" in status)
 * and log it at debug level; a hard-cap drop is one of them, seen as a
 * client that gets no reply. Clients connect for a request or a file, so
 * disconnects are expected; a number growing without traffic to match is
 * the sign.
 */
static int monitor_open(svc_t *svc)
{
    char ep[64];
    int zero = 0;

    snprintf(ep, sizeof ep, "inproc://svc-monitor-%p", (void *)svc);
    if (zmq_socket_monitor(svc->router, ep, ZMQ_EVENT_DISCONNECTED) != 0)
        return KY_EZMQ;
    svc->monitor = zmq_socket(svc->zctx, ZMQ_PAIR);
    if (svc->monitor == NULL)
        return KY_EZMQ;
    zmq_setsockopt(svc->monitor, ZMQ_LINGER, &zero, sizeof zero);
    return zmq_connect(svc->monitor, ep) == 0 ? KY_OK : KY_EZMQ;
}

/* Reads one monitor frame; false when none is waiting. */
static bool monitor_frame(svc_t *svc, zmq_msg_t *frame, int flags)
{
    zmq_msg_init(frame);
    if (zmq_msg_recv(frame, svc->monitor, flags) >= 0)
        return true;
    zmq_msg_close(frame);
    return false;
}

/* Counts the waiting events: [u16 event, u32 value] then the endpoint. */
static void monitor_read(svc_t *svc)
{
    zmq_msg_t ev, endpoint;

    while (monitor_frame(svc, &ev, ZMQ_DONTWAIT)) {
        uint16_t id = 0;

        if (zmq_msg_size(&ev) >= sizeof id)
            memcpy(&id, zmq_msg_data(&ev), sizeof id);
        zmq_msg_close(&ev);
        if (monitor_frame(svc, &endpoint, 0))
            zmq_msg_close(&endpoint);
        if (id == ZMQ_EVENT_DISCONNECTED) {
            svc_count(svc, "disconnects", 1);
            log_debug("event=peer_disconnected");
        }
    }
}

/* ---- set-up and tear-down ---------------------------------------------- */

/* Restores the test clock a previous run left, or starts it now. */
static int svc_load_clock(svc_t *svc)
{
    MDB_txn *txn;
    uint64_t saved;
    int rc = store_begin(svc->st, NULL, true, &txn);

    if (rc)
        return rc;
    rc = store_meta_get(svc->st, txn, "test_clock_ms", &saved);
    mdb_txn_abort(txn);
    if (rc)
        return rc;
    clock_enable_test(saved ? (int64_t)saved : clock_now_ms());
    log_warn("event=test_clock_enabled now_ms=%lld", (long long)clock_now_ms());
    return KY_OK;
}

static int svc_bind(svc_t *svc)
{
    int zero = 0, hwm = 100000;

    svc->router = zmq_socket(svc->zctx, ZMQ_ROUTER);
    if (svc->router == NULL)
        return KY_EZMQ;
    zmq_setsockopt(svc->router, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(svc->router, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(svc->router, ZMQ_RCVHWM, &hwm, sizeof hwm);
    if (svc->cfg.max_msg_bytes > 0) {
        int64_t hard = svc->cfg.max_msg_bytes > INT64_MAX / SVC_HARD_CAP
                           ? INT64_MAX
                           : svc->cfg.max_msg_bytes * SVC_HARD_CAP;

        zmq_setsockopt(svc->router, ZMQ_MAXMSGSIZE, &hard, sizeof hard);
    }
    if (zmq_bind(svc->router, svc->cfg.bind) != 0) {
        log_error("event=bind_failed endpoint=%s err=\"%s\"", svc->cfg.bind,
                  zmq_strerror(zmq_errno()));
        return KY_EZMQ;
    }
    return monitor_open(svc);
}

svc_t *svc_new(const svc_config_t *cfg, int *err)
{
    svc_t *svc = calloc(1, sizeof *svc);

    if (svc == NULL) {
        *err = KY_ENOMEM;
        return NULL;
    }
    svc->cfg = *cfg;
    arenas_init(svc);
    svc->started_ms = clock_now_ms();
    svc->zctx = zmq_ctx_new();
    svc->st = store_open(cfg->state_dir, cfg->dbs, cfg->map_mb, err);
    if (svc->st == NULL)
        goto fail;
    if (cfg->test_clock && (*err = svc_load_clock(svc)) != 0)
        goto fail;
    if ((*err = svc_bind(svc)) != 0)
        goto fail;
    if (cfg->downstream && *cfg->downstream) { /* "": last stage */
        svc->ob =
            outbox_new(svc->st, svc->zctx, cfg->name, cfg->downstream, err);
        if (svc->ob == NULL)
            goto fail;
    }
    return svc;

fail:
    svc_destroy(&svc);
    return NULL;
}

void svc_destroy(svc_t **sp)
{
    svc_t *svc;

    if (sp == NULL || *sp == NULL)
        return;
    svc = *sp;
    outbox_destroy(&svc->ob);
    if (svc->monitor)
        zmq_close(svc->monitor);
    if (svc->router)
        zmq_close(svc->router);
    store_destroy(&svc->st);
    if (svc->zctx)
        zmq_ctx_term(svc->zctx);
    message_end(svc);
    arena_free(&svc->scratch);
    arena_free(&svc->unpacked);
    free(svc);
    *sp = NULL;
}

store_t *svc_store(svc_t *svc)
{
    return svc->st;
}

outbox_t *svc_outbox(svc_t *svc)
{
    return svc->ob;
}

void *svc_zctx(svc_t *svc)
{
    return svc->zctx;
}

/* ---- reading a batch ----------------------------------------------------- */

static void item_clear(item_t *it)
{
    it->failed = false;
    for (int i = 0; i < it->nroute; i++)
        zmq_msg_close(&it->route[i]);
    it->nroute = 0;
    it->msg = NULL;    /* in the unpacked arena, reset with the batch */
    it->nul_at = NULL; /* likewise */
    it->too_large = 0;
    it->too_large_id = 0;
    free(it->out);
    it->out = NULL;
}

/*
 * Notes in it a request's text field whose wire bytes hold a NUL: unpacked,
 * the text ends there, and every check would see only its start (two
 * WeChat ids "wx\0a" and "wx\0b" would be one). The path is kept without
 * the body's own name ("contacts.wechatId", not "lead.contacts...").
 * Link messages come from keyuan's own services, which checked them.
 */
static void note_nul(svc_t *svc, item_t *it, const void *data, size_t len)
{
    char path[PBJSON_PATH_MAX];
    const char *dot;

    if (it->msg->seq != 0 || (it->msg->sender && *it->msg->sender) ||
        !pbjson_wire_nul(&keyuan__v1__envelope__descriptor, data, len, path))
        return;
    dot = strchr(path, '.');
    dot = dot ? dot + 1 : path;
    it->nul_at = arena_alloc(&svc->unpacked, strlen(dot) + 1);
    memcpy(it->nul_at, dot, strlen(dot) + 1);
}

/*
 * True when payload is over --max-msg-bytes: it is not unpacked, and gets
 * a too_large answer (reject_too_large()) instead of a dropped connection.
 * Only past SVC_HARD_CAP times that does libzmq drop the sender.
 */
static bool over_cap(svc_t *svc, item_t *it, zmq_msg_t *payload)
{
    size_t size = zmq_msg_size(payload);

    if (svc->cfg.max_msg_bytes <= 0 || size <= (size_t)svc->cfg.max_msg_bytes)
        return false;
    it->too_large = size;
    it->too_large_id = wire_request_id(zmq_msg_data(payload), size);
    log_warn("event=message_too_large bytes=%zu", size);
    return true;
}

/*
 * Reads one multipart message: route frames, then the payload. Returns 1
 * when one was read, 0 when none is waiting, or a negative code.
 */
static int item_read(svc_t *svc, item_t *it, int flags)
{
    zmq_msg_t part;
    int more = 1;

    while (more) {
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, svc->router, flags) < 0) {
            zmq_msg_close(&part);
            return it->nroute == 0 && zmq_errno() == EAGAIN ? 0 : KY_EZMQ;
        }
        flags = 0; /* the rest of a multipart message is already here */
        more = zmq_msg_more(&part);
        if (more && it->nroute < SVC_MAX_ROUTE) {
            it->route[it->nroute++] = part;
            continue;
        }
        if (more) { /* too many frames: not one of ours */
            zmq_msg_close(&part);
            continue;
        }
        if (over_cap(svc, it, &part)) {
            zmq_msg_close(&part);
            continue;
        }
        it->msg = keyuan__v1__envelope__unpack(&svc->pbuf, zmq_msg_size(&part),
                                               zmq_msg_data(&part));
        if (it->msg == NULL)
            log_warn("event=undecodable_message bytes=%zu",
                     zmq_msg_size(&part));
        else
            note_nul(svc, it, zmq_msg_data(&part), zmq_msg_size(&part));
        zmq_msg_close(&part);
    }
    return 1;
}

/* Sends it's reply along its route; a vanished peer is not an error. */
static void item_send(svc_t *svc, item_t *it)
{
    for (int i = 0; i < it->nroute; i++) {
        zmq_msg_t copy;

        zmq_msg_init(&copy);
        zmq_msg_copy(&copy, &it->route[i]);
        if (zmq_msg_send(&copy, svc->router, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&copy);
            return;
        }
    }
    if (zmq_send(svc->router, it->out, it->out_len, ZMQ_DONTWAIT) < 0)
        log_warn("event=reply_not_sent err=\"%s\"", zmq_strerror(zmq_errno()));
}

/* ---- answering one message ----------------------------------------------- */

static void pack_reply(svc_t *svc, item_t *it, Envelope *reply)
{
    reply->request_id = it->msg         ? it->msg->request_id
                        : it->too_large ? it->too_large_id
                                        : 0;
    it->out = wire_pack(&reply->base, &it->out_len);
    if (it->out == NULL)
        abort();
    message_end(svc);
}

static void answer_status(svc_t *svc, const svc_ops_t *ops, void *self,
                          MDB_txn *txn, Envelope *reply)
{
    Keyuan__V1__StatusReply *st = svc_alloc(svc, sizeof *st);
    Google__Protobuf__Timestamp *ts = svc_alloc(svc, 2 * sizeof *ts);

    keyuan__v1__status_reply__init(st);
    google__protobuf__timestamp__init(&ts[0]);
    google__protobuf__timestamp__init(&ts[1]);
    st->service = (char *)svc->cfg.name;
    /* A link that has not moved for a minute means the next service is
     * down or stuck: this one is up but its work is not flowing. So does
     * a store that refused a commit in that time (full, failing disk). */
    st->healthy = (svc->ob == NULL || outbox_oldest_age_ms(svc->ob) <
                                          (uint64_t)svc->cfg.stuck_ms) &&
                  (svc->failed_ms == 0 ||
                   clock_mono_ms() - svc->failed_ms >= svc->cfg.stuck_ms);
    st->test_clock = clock_is_test();
    wire_ts_set(&ts[0], svc->started_ms);
    wire_ts_set(&ts[1], clock_now_ms());
    st->started_at = &ts[0];
    st->now = &ts[1];
    if (svc->ob) {
        st->outbox_size = outbox_pending(svc->ob);
        st->outbox_oldest_age_ms = outbox_oldest_age_ms(svc->ob);
    }
    for (int i = 0; i < svc->ncounters; i++)
        svc_status_add(svc, st, svc->counters[i].name, svc->counters[i].value);
    if (ops->status)
        ops->status(self, txn, st);
    reply->body_case = KEYUAN__V1__ENVELOPE__BODY_STATUS;
    reply->status = st;
}

static int answer_clock(svc_t *svc, MDB_txn *txn, const Envelope *msg,
                        Envelope *reply)
{
    int64_t ms = wire_ts_ms(msg->clock_set->now);
    int rc = clock_set_test(ms);

    if (rc == KY_EDISABLED) {
        svc_reply(svc, reply, KEYUAN__V1__REPLY_STATUS__REPLY_STATUS_REJECTED,
                  "test_clock_disabled", NULL,
                  "this service was not started with --test-clock");
        return KY_OK;
    }
    if (rc == KY_ERANGE) {
        svc_reply(svc, reply, KEYUAN__V1__REPLY_STATUS__REPLY_STATUS_REJECTED,
                  "clock_backwards", "now", "the test clock only moves on");
        return KY_OK;
    }
    rc = store_meta_put(svc->st, txn, "test_clock_ms", (uint64_t)ms);
    if (rc == 0)
        svc_reply(svc, reply, KEYUAN__V1__REPLY_STATUS__REPLY_STATUS_ACCEPTED,
                  NULL, NULL, NULL);
    return rc;
}

static void reject_internal(svc_t *svc, item_t *it)
{
    Envelope reply = KEYUAN__V1__ENVELOPE__INIT;

    svc_reply(svc, &reply, KEYUAN__V1__REPLY_STATUS__REPLY_STATUS_REJECTED,
              "internal", NULL,
              "the service could not store this request; send it again");
    pack_reply(svc, it, &reply);
}

/*
 * Notes that it's handler failed with rc: the batch is rolled back and run
 * again without it (batch_run).
 */
static void item_failed(svc_t *svc, item_t *it, int rc)
{
    log_error("event=message_failed body=%s seq=%llu err=\"%s\"",
              wire_body_name(it->msg), (unsigned long long)it->msg->seq,
              err_str(rc));
    it->failed = true;
    svc->retry = true;
    message_end(svc);
}

/* Runs a request in the batch's transaction and packs its reply. */
static void apply_request(svc_t *svc, const svc_ops_t *ops, void *self,
                          MDB_txn *txn, item_t *it)
{
    Envelope reply = KEYUAN__V1__ENVELOPE__INIT;
    const Envelope *msg = it->msg;
    int rc = KY_OK;

    if (msg->body_case == KEYUAN__V1__ENVELOPE__BODY_STATUS_REQUEST)
        answer_status(svc, ops, self, txn, &reply);
    else if (msg->body_case == KEYUAN__V1__ENVELOPE__BODY_CLOCK_SET &&
             msg->clock_set)
        rc = answer_clock(svc, txn, msg, &reply);
    else
        rc = ops->handle(self, txn, msg, &reply);
    if (rc) {
        item_failed(svc, it, rc);
        return;
    }
    pack_reply(svc, it, &reply);
}

/* Remembers that sender is owed an ack up to seq. */
static void ack_note(svc_t *svc, item_t *it, uint64_t seq)
{
    const Envelope *msg = it->msg;
    int i;

    for (i = 0; i < svc->nacks; i++)
        if (strcmp(svc->acks[i].name, msg->sender) == 0)
            break;
    if (i == svc->nacks) {
        if (i == SVC_MAX_SENDERS)
            return;
        /* A fresh entry: nothing from an earlier batch may leak into it,
         * or a sender with a new epoch could be acked an old number. */
        snprintf(svc->acks[i].name, sizeof svc->acks[i].name, "%s",
                 msg->sender);
        svc->acks[i].seq = seq;
        svc->nacks++;
    }
    if (msg->epoch != svc->acks[i].epoch || seq > svc->acks[i].seq)
        svc->acks[i].seq = seq; /* a new epoch numbers from its start */
    svc->acks[i].epoch = msg->epoch;
    svc->acks[i].last = it;
}

/*
 * Link messages come from the one upstream service (apply_link_checked),
 * and a batch holds hundreds of them: its "last applied" record is read
 * once per try and written once, before the commit (upstream_save),
 * rather than read and written for every message.
 */
static int upstream_load(svc_t *svc, MDB_txn *txn)
{
    int rc;

    if (svc->up_loaded)
        return KY_OK;
    rc = peer_load(svc->st, txn, svc->cfg.upstream, &svc->up);
    svc->up_loaded = rc == 0;
    return rc;
}

static int upstream_save(svc_t *svc, MDB_txn *txn)
{
    if (!svc->up_dirty)
        return KY_OK;
    return peer_save(svc->st, txn, svc->cfg.upstream, &svc->up);
}

/* Applies a link message once, in order, and notes the ack it earns. */
static void apply_link(svc_t *svc, const svc_ops_t *ops, void *self,
                       MDB_txn *txn, item_t *it)
{
    Envelope reply = KEYUAN__V1__ENVELOPE__INIT;
    enum peer_verdict verdict;
    uint64_t last = 0;
    int rc = upstream_load(svc, txn);

    if (rc == 0)
        verdict = peer_judge(&svc->up, it->msg, &last);
    if (rc == 0 && verdict == PEER_APPLY) {
        rc = ops->handle(self, txn, it->msg, &reply);
        message_end(svc);
        if (rc) {
            item_failed(svc, it, rc); /* not acked: it comes again */
            return;
        }
        peer_applied(&svc->up, it->msg);
        svc->up_dirty = true;
        svc_count(svc, "link_applied", 1);
        last = it->msg->seq;
    } else if (rc == 0 && verdict == PEER_REPEAT) {
        svc_count(svc, "link_repeats", 1);
    }
    if (rc == 0)
        ack_note(svc, it, last);
}

/*
 * Link messages are taken only from the configured upstream service.
 * Anything else that claims to be one (an outside client filling in seq
 * or sender) is refused rather than applied or silently acked.
 */
static void apply_link_checked(svc_t *svc, const svc_ops_t *ops, void *self,
                               MDB_txn *txn, item_t *it)
{
    Envelope reply = KEYUAN__V1__ENVELOPE__INIT;
    const char *up = svc->cfg.upstream;

    if (up && it->msg->seq > 0 && it->msg->sender &&
        strcmp(it->msg->sender, up) == 0) {
        apply_link(svc, ops, self, txn, it);
        return;
    }
    svc_count(svc, "link_refused", 1);
    svc_reply(svc, &reply, KEYUAN__V1__REPLY_STATUS__REPLY_STATUS_REJECTED,
              "not_a_link", "seq",
              "seq and sender are for keyuan's own services; leave them "
              "unset in requests");
    pack_reply(svc, it, &reply);
}

static void reject_undecodable(svc_t *svc, item_t *it)
{
    Envelope reply = KEYUAN__V1__ENVELOPE__INIT;

    svc_count(svc, "requests_undecodable", 1);
    svc_reply(svc, &reply, KEYUAN__V1__REPLY_STATUS__REPLY_STATUS_REJECTED,
              "malformed", NULL,
              "the message is not a keyuan.v1.Envelope in protobuf form");
    pack_reply(svc, it, &reply);
}

static void reject_too_large(svc_t *svc, item_t *it)
{
    Envelope reply = KEYUAN__V1__ENVELOPE__INIT;

    svc_count(svc, "requests_too_large", 1);
    svc_reply(svc, &reply, KEYUAN__V1__REPLY_STATUS__REPLY_STATUS_REJECTED,
              "too_large", NULL,
              svc_printf(svc,
                         "the message is %zu bytes; at most %lld are "
                         "taken",
                         it->too_large, (long long)svc->cfg.max_msg_bytes));
    pack_reply(svc, it, &reply);
}

static void reject_nul(svc_t *svc, item_t *it)
{
    Envelope reply = KEYUAN__V1__ENVELOPE__INIT;

    svc_count(svc, "requests_with_nul", 1);
    svc_reply(svc, &reply, KEYUAN__V1__REPLY_STATUS__REPLY_STATUS_REJECTED,
              "invalid_utf8", it->nul_at,
              svc_printf(svc, "%s: holds a NUL character", it->nul_at));
    pack_reply(svc, it, &reply);
}

/* ---- one batch --------------------------------------------------------------
 */

/* Reads up to SVC_BATCH_MAX waiting messages; returns how many. */
/*
 * Spreads the EnvelopeBatch that item n holds over items n, n+1, ...,
 * each with its own copy of the route, as if each had come alone; an
 * item that is not a batch stays. Returns how many items it now fills.
 */
static int item_expand(svc_t *svc, int n)
{
    item_t *it = &svc->items[n];
    const Keyuan__V1__EnvelopeBatch *b;
    int count;

    if (it->msg == NULL ||
        it->msg->body_case != KEYUAN__V1__ENVELOPE__BODY_BATCH)
        return 1;
    b = it->msg->batch;
    if (b->n_items == 0 || b->n_items > OUTBOX_BATCH_ITEMS) {
        /* Not what an outbox sends: left whole, it gets an answer (its
         * body is no request a handler takes) instead of vanishing. */
        log_warn("event=batch_refused items=%zu", b->n_items);
        return 1;
    }
    count = (int)b->n_items;
    for (int i = count - 1; i >= 0; i--) {
        item_t *to = &svc->items[n + i];

        if (i > 0) {
            to->nroute = it->nroute;
            for (int r = 0; r < it->nroute; r++) {
                zmq_msg_init(&to->route[r]);
                zmq_msg_copy(&to->route[r], &it->route[r]);
            }
        }
        to->msg = keyuan__v1__envelope__unpack(&svc->pbuf, b->items[i].len,
                                               b->items[i].data);
        if (to->msg == NULL)
            log_warn("event=undecodable_message bytes=%zu", b->items[i].len);
        else /* a batch of requests: each is checked as if it came alone */
            note_nul(svc, to, b->items[i].data, b->items[i].len);
    }
    return count;
}

/* Reads waiting messages, batches spread out, up to SVC_BATCH_MAX. */
static int batch_read(svc_t *svc)
{
    int n = 0;

    while (n + OUTBOX_BATCH_ITEMS <= SVC_BATCH_MAX &&
           item_read(svc, &svc->items[n], ZMQ_DONTWAIT) == 1)
        n += item_expand(svc, n);
    return n;
}

/* Applies the batch in txn; stops early when a message fails. */
static void batch_apply(svc_t *svc, const svc_ops_t *ops, void *self,
                        MDB_txn *txn, int n)
{
    for (int i = 0; i < n && !svc->retry; i++) {
        item_t *it = &svc->items[i];

        if (it->failed && it->msg->seq == 0)
            reject_internal(svc, it);
        else if (it->failed)
            continue; /* a link message: not acked, so it comes again */
        else if (it->too_large)
            reject_too_large(svc, it);
        else if (it->msg == NULL)
            reject_undecodable(svc, it);
        else if (it->nul_at)
            reject_nul(svc, it);
        else if (it->msg->seq > 0 || (it->msg->sender && *it->msg->sender))
            apply_link_checked(svc, ops, self, txn, it);
        else
            apply_request(svc, ops, self, txn, it);
    }
}

static void send_ack(svc_t *svc, ack_due_t *a)
{
    Envelope env = KEYUAN__V1__ENVELOPE__INIT;
    Keyuan__V1__Ack ack = KEYUAN__V1__ACK__INIT;
    item_t *it = a->last;

    ack.seq = a->seq;
    ack.epoch = a->epoch;
    env.body_case = KEYUAN__V1__ENVELOPE__BODY_ACK;
    env.ack = &ack;
    it->out = wire_pack(&env.base, &it->out_len);
    if (it->out)
        item_send(svc, it);
}

/*
 * Runs ops->batch_end in a transaction nested in the batch's. Nested
 * transactions cost a large allocation and a merge: fine once per batch,
 * and a failure then undoes only the service's own writes.
 */
static void batch_end(svc_t *svc, const svc_ops_t *ops, void *self,
                      MDB_txn *txn)
{
    MDB_txn *child;
    int rc;

    if (ops->batch_end == NULL || store_begin(svc->st, txn, false, &child))
        return;
    rc = ops->batch_end(self, child);
    if (rc) {
        log_error("event=batch_end_failed err=\"%s\"", err_str(rc));
        mdb_txn_abort(child);
        return;
    }
    svc->end_wrote = store_commit(child) == 0;
}

/* One try at the batch: every message in one transaction. Returns 0,
 * KY_EAGAIN when a message failed (the transaction is rolled back), or
 * the store error that stopped the commit. */
static int batch_try(svc_t *svc, const svc_ops_t *ops, void *self, int n)
{
    MDB_txn *txn;
    int rc = store_begin(svc->st, NULL, false, &txn);

    if (rc)
        return rc;
    batch_settle(svc, false); /* a try before this one was rolled back */
    log_hold();
    svc->nacks = 0;
    svc->retry = false;
    svc->end_wrote = false;
    svc->up_loaded = svc->up_dirty = false;
    if (svc->ob && outbox_needs_prune(svc->ob))
        rc = outbox_prune(svc->ob, txn);
    if (rc == 0)
        batch_apply(svc, ops, self, txn, n);
    if (rc == 0 && svc->retry)
        rc = KY_EAGAIN;
    if (rc == 0)
        rc = upstream_save(svc, txn);
    if (rc == 0)
        batch_end(svc, ops, self, txn);
    return rc ? (store_abort(txn), rc) : store_commit(txn);
}

/* Forgets the answers packed by a try that was rolled back. */
static void batch_forget(svc_t *svc, int n)
{
    for (int i = 0; i < n; i++) {
        free(svc->items[i].out);
        svc->items[i].out = NULL;
    }
}

/*
 * Applies n messages in one durable transaction, then answers them.
 * Messages are applied straight into the batch's transaction: LMDB's
 * nested transactions cost a large allocation and a merge each, about a
 * fifth of every service's time. So when one message fails, the whole
 * batch is rolled back and applied again without it (it gets an
 * "internal" rejection, or no ack), at most once per message. When the
 * commit fails nothing is answered: requests and link messages alike will
 * be sent again, and nothing was confirmed.
 */
static int batch_run(svc_t *svc, const svc_ops_t *ops, void *self, int n)
{
    int rc;

    svc->in_batch = true;
    for (int tries = 0;; tries++) {
        rc = batch_try(svc, ops, self, n);
        if (rc != KY_EAGAIN || tries > n)
            break;
        batch_forget(svc, n);
    }
    batch_settle(svc, rc == 0);
    svc->in_batch = false;
    if (rc != 0) {
        svc->failed_ms = clock_mono_ms();
        svc_count(svc, "commit_failures", 1);
    }
    if (ops->batch_done)
        ops->batch_done(self, rc == 0 && svc->end_wrote);
    if (rc == 0) {
        svc_count(svc, "batches", 1);
        for (int i = 0; i < n; i++)
            if (svc->items[i].out)
                item_send(svc, &svc->items[i]);
        for (int i = 0; i < svc->nacks; i++)
            send_ack(svc, &svc->acks[i]);
    }
    for (int i = 0; i < n; i++)
        item_clear(&svc->items[i]);
    arena_reset(&svc->unpacked);
    return rc;
}

/* ---- the loop
 * ----------------------------------------------------------------- */

static void install_signals(void)
{
    struct sigaction sa = {0};

    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/*
 * Acked outbox entries are deleted in the next batch's transaction. A
 * transaction just for them costs a commit and its fsyncs, and under load
 * acks arrive between any two batches: with a commit each, services did
 * twice the commits they needed. So an ack alone gets its commit only
 * after SVC_PRUNE_IDLE_MS without a batch to ride along with.
 */
static bool prune_due(svc_t *svc)
{
    int64_t now;

    if (svc->ob == NULL || !outbox_needs_prune(svc->ob)) {
        svc->prune_at = 0;
        return false;
    }
    now = clock_mono_ms();
    if (svc->prune_at == 0)
        svc->prune_at = now + SVC_PRUNE_IDLE_MS;
    return now >= svc->prune_at;
}

static long poll_timeout(svc_t *svc, int64_t tick_ms)
{
    int64_t t = tick_ms >= 0 && tick_ms < 1000 ? tick_ms : 1000;
    int64_t ob = svc->ob ? outbox_wait_ms(svc->ob) : -1;
    int64_t prune;

    if (ob >= 0 && ob < t)
        t = ob;
    prune_due(svc); /* forgets a deadline the last batch made moot */
    prune = svc->prune_at ? svc->prune_at - clock_mono_ms() : -1;
    if (svc->prune_at && prune < t)
        t = prune > 0 ? prune : 0;
    return (long)t;
}

int svc_run(svc_t *svc, const svc_ops_t *ops, void *self)
{
    zmq_pollitem_t items[3] = {{svc->router, 0, ZMQ_POLLIN, 0},
                               {svc->monitor, 0, ZMQ_POLLIN, 0}};
    int nitems = 2, rc = 0;
    int64_t tick_ms = ops->tick ? 0 : -1; /* -1: nothing time-driven */

    if (svc->ob) {
        items[2].socket = outbox_socket(svc->ob);
        items[2].events = ZMQ_POLLIN;
        nitems = 3;
    }
    install_signals();
    log_info("event=started endpoint=%s", svc->cfg.bind);

    while (!stop_requested) {
        int n;

        /* The batch is answered and the tick done: before waiting, write
         * out the log lines they made (logger.h). */
        log_flush();
        if (zmq_poll(items, nitems, poll_timeout(svc, tick_ms)) < 0 &&
            zmq_errno() != EINTR) {
            rc = KY_EZMQ;
            break;
        }
        if (svc->ob)
            outbox_read_acks(svc->ob);
        monitor_read(svc);
        n = batch_read(svc);
        if (n > 0 || prune_due(svc))
            if (batch_run(svc, ops, self, n) != 0)
                log_error("event=batch_failed messages=%d", n);
        if (ops->tick)
            tick_ms = ops->tick(self);
        if (svc->ob)
            outbox_pump(svc->ob);
    }
    log_info("event=stopping reason=signal");
    log_flush();
    return rc;
}

/* ---- options
 * ------------------------------------------------------------------ */

#define SVC_MAX_OPTS 48

int svc_configure(svc_config_t *cfg, const opt_t *extra, int argc, char **argv)
{
    static char *level = "info";
    static int64_t map_mb;
    opt_t table[SVC_MAX_OPTS] = {
        {"state-dir", OPT_STR, &cfg->state_dir, "LMDB directory"},
        {"bind", OPT_STR, &cfg->bind, "ZeroMQ endpoint to bind"},
        {"downstream", OPT_STR, &cfg->downstream, "next service's endpoint"},
        {"map-mb", OPT_INT, &map_mb, "largest store size in MiB"},
        {"test-clock", OPT_BOOL, &cfg->test_clock,
         "run on a test clock moved by ClockSet (tests only)"},
        {"log-level", OPT_STR, &level, "debug, info, warn or error"},
        {"max-msg-bytes", OPT_INT, &cfg->max_msg_bytes,
         "answer larger requests too_large (drop senders past 4 times)"},
        {"unhealthy-after-ms", OPT_INT, &cfg->stuck_ms,
         "report unhealthy when the outbox has not moved this long"},
    };
    int n = 8, rc, lvl;

    map_mb = (int64_t)cfg->map_mb;
    if (cfg->stuck_ms <= 0)
        cfg->stuck_ms = SVC_STUCK_MS;
    for (; extra && extra->name && n < SVC_MAX_OPTS - 1; extra++)
        table[n++] = *extra;
    rc = config_parse(cfg->name, table, argc, argv);
    if (rc)
        return rc;
    lvl = log_level_parse(level);
    if (lvl < 0 || map_mb <= 0) {
        fprintf(stderr, "error: bad --log-level or --map-mb\n");
        return KY_ECONFIG;
    }
    cfg->map_mb = (size_t)map_mb;
    log_setup(cfg->name, (enum log_level)lvl);
    return KY_OK;
}
