/*
 * quarantine.c - rejected events kept for an operator to fix and replay
 * (see quarantine.h).
 *
 * The envelope is kept byte for byte as it came, except the request id,
 * which was the client's handle for its reply and not part of the event.
 * A replay goes through intake's whole handler, so a replayed lead is
 * checked, deduplicated by (source, source event id) and sent downstream
 * exactly like one that arrives from outside.
 *
 * A source that keeps sending bad events must not fill the store and stop
 * intake for everyone, so at most q->max entries are kept: past that, each
 * new one pushes the oldest out (counted as quarantine_dropped). There is
 * no command to remove entries by hand yet.
 */
#include "quarantine.h"

#include "clock.h"
#include "err.h"
#include "logger.h"
#include "pbjson.h"

#include <string.h>

#define QUARANTINE_LIMIT_DEFAULT 50
#define QUARANTINE_LIMIT_MAX 1000
/* A page of 1000 events near the 64 KiB cap would be a 64 MiB reply. */
#define QUARANTINE_PAGE_BYTES (4u << 20)

#define STATUS_REJECTED KEYUAN__V1__REPLY_STATUS__REPLY_STATUS_REJECTED

typedef Keyuan__V1__QuarantinedEvent QuarantinedEvent;
typedef Keyuan__V1__QuarantineList QuarantineList;

static int entries_trim(quarantine_t *q, MDB_txn *txn, uint64_t *dropped);

int quarantine_init(quarantine_t *q, svc_t *svc, uint64_t max)
{
    store_t *st = svc_store(svc);
    uint64_t dropped = 0;
    MDB_txn *txn;
    int rc;

    memset(q, 0, sizeof *q);
    q->svc = svc;
    q->db = store_db(st, "quarantine");
    q->max = max ? max : 1;

    /* A lower cap than the last run's applies now, not at the next
     * rejection. */
    if ((rc = store_begin(st, NULL, false, &txn)) != KY_OK)
        return rc;
    if ((rc = entries_trim(q, txn, &dropped)) != KY_OK) {
        store_abort(txn);
        return rc;
    }
    if (dropped)
        log_info("event=quarantine_trimmed dropped=%llu",
                 (unsigned long long)dropped);
    return store_commit(txn);
}

void quarantine_note(quarantine_t *q, MDB_txn *txn, const Envelope *msg)
{
    q->txn = txn;
    q->msg = msg;
}

/* Events from outside; a refused query or command is only answered. */
static bool is_event(const Envelope *msg)
{
    switch (msg->body_case) {
    case KEYUAN__V1__ENVELOPE__BODY_LEAD:
    case KEYUAN__V1__ENVELOPE__BODY_LISTING:
    case KEYUAN__V1__ENVELOPE__BODY_CONTACT:
    case KEYUAN__V1__ENVELOPE__BODY_PROFILE_UPDATE:
        return true;
    default:
        return false;
    }
}

/* msg packed into svc memory, without the client's request id. */
static ProtobufCBinaryData pack_event(quarantine_t *q, const Envelope *msg)
{
    Envelope copy = *msg;
    ProtobufCBinaryData out;

    copy.request_id = 0;
    out.len = protobuf_c_message_get_packed_size(&copy.base);
    out.data = svc_alloc(q->svc, out.len);
    protobuf_c_message_pack(&copy.base, out.data);
    return out;
}

static int entry_put(quarantine_t *q, MDB_txn *txn, const QuarantinedEvent *e)
{
    uint8_t key[8];

    wire_put_u64(key, e->quarantine_id);
    return store_put_msg(txn, q->db, key, sizeof key, &e->base);
}

/* Deletes the oldest entries past q->max; returns how many went. */
static int entries_trim(quarantine_t *q, MDB_txn *txn, uint64_t *dropped)
{
    uint64_t n = store_count(txn, q->db);
    MDB_cursor *c;
    MDB_val k, v;
    int rc;

    *dropped = 0;
    if (n <= q->max)
        return KY_OK;
    if ((rc = mdb_cursor_open(txn, q->db, &c)) != 0)
        return store_err(rc, "quarantine_cursor");
    for (; n > q->max; n--, (*dropped)++) {
        rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
        if (rc == 0)
            rc = mdb_cursor_del(c, 0);
        if (rc)
            break;
    }
    mdb_cursor_close(c);
    return store_err(rc, "quarantine_trim");
}

/* Reads entry id; it lives until the reply is packed. */
static int entry_load(quarantine_t *q, MDB_txn *txn, uint64_t id,
                      QuarantinedEvent **out)
{
    uint8_t key[8];
    int rc;

    wire_put_u64(key, id);
    rc = store_get_msg(txn, q->db, key, sizeof key,
                       &keyuan__v1__quarantined_event__descriptor,
                       (ProtobufCMessage **)out);
    if (rc == 0)
        svc_defer_free(q->svc, &(*out)->base);
    return rc;
}

int quarantine_keep(quarantine_t *q, const Envelope *reply)
{
    QuarantinedEvent *e;
    uint64_t dropped;
    int rc;

    if (q->replaying || q->msg == NULL || !is_event(q->msg) ||
        reply->body_case != KEYUAN__V1__ENVELOPE__BODY_REPLY ||
        reply->reply->status != STATUS_REJECTED)
        return KY_OK;

    e = svc_alloc(q->svc, sizeof *e);
    keyuan__v1__quarantined_event__init(e);
    rc = store_next_id(svc_store(q->svc), q->txn, &e->quarantine_id);
    if (rc)
        return rc;
    e->received_at = svc_alloc(q->svc, sizeof *e->received_at);
    google__protobuf__timestamp__init(e->received_at);
    wire_ts_set(e->received_at, clock_now_ms());
    e->reply = reply->reply;
    e->envelope = pack_event(q, q->msg);
    if ((rc = entry_put(q, q->txn, e)) != 0 ||
        (rc = entries_trim(q, q->txn, &dropped)) != 0)
        return rc;

    svc_count(q->svc, "quarantined", 1);
    if (dropped)
        svc_count(q->svc, "quarantine_dropped", dropped);
    log_info("event=quarantined id=%llu body=%s code=%s dropped_oldest=%llu",
             (unsigned long long)e->quarantine_id, wire_body_name(q->msg),
             e->reply->code, (unsigned long long)dropped);
    return KY_OK;
}

/* ---- listing ------------------------------------------------------------ */

static void list_add(quarantine_t *q, QuarantineList *list, QuarantinedEvent *e)
{
    QuarantinedEvent **grown =
        svc_alloc(q->svc, (list->n_events + 1) * sizeof *grown);

    if (list->n_events)
        memcpy(grown, list->events, list->n_events * sizeof *grown);
    grown[list->n_events++] = e;
    list->events = grown;
}

/* Adds the entry under the cursor to list; false when it does not parse. */
static bool list_add_val(quarantine_t *q, QuarantineList *list,
                         const MDB_val *v)
{
    QuarantinedEvent *e =
        keyuan__v1__quarantined_event__unpack(NULL, v->mv_size, v->mv_data);

    if (e == NULL)
        return false;
    svc_defer_free(q->svc, &e->base);
    list_add(q, list, e);
    return true;
}

/* Entries with ids above after, up to limit entries or about a page. */
static int list_page(quarantine_t *q, MDB_txn *txn, uint64_t after,
                     uint32_t limit, QuarantineList *list)
{
    uint8_t key[8];
    MDB_val k = {sizeof key, key}, v;
    MDB_cursor *cur;
    size_t bytes = 0;
    int mrc, rc = KY_OK;

    if (after == UINT64_MAX)
        return KY_OK;
    wire_put_u64(key, after + 1);
    if ((mrc = mdb_cursor_open(txn, q->db, &cur)) != 0)
        return store_err(mrc, "quarantine_cursor");
    mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (mrc == 0 && list->n_events < limit &&
           bytes < QUARANTINE_PAGE_BYTES) {
        if (!list_add_val(q, list, &v)) {
            rc = KY_EDECODE;
            break;
        }
        bytes += v.mv_size;
        mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    if (rc == KY_OK && mrc != 0 && mrc != MDB_NOTFOUND)
        rc = store_err(mrc, "quarantine_list");
    return rc;
}

static int not_found(quarantine_t *q, Envelope *reply, uint64_t id)
{
    svc_reply(q->svc, reply, STATUS_REJECTED, "not_found", "quarantineId",
              svc_printf(q->svc, "quarantineId: no quarantined event %llu",
                         (unsigned long long)id));
    return KY_OK;
}

int quarantine_query(quarantine_t *q, MDB_txn *txn,
                     const Keyuan__V1__QuarantineQuery *qq, Envelope *reply)
{
    QuarantineList *list = svc_alloc(q->svc, sizeof *list);
    uint32_t limit = qq->limit ? qq->limit : QUARANTINE_LIMIT_DEFAULT;
    QuarantinedEvent *e;
    int rc;

    keyuan__v1__quarantine_list__init(list);
    if (qq->quarantine_id) {
        rc = entry_load(q, txn, qq->quarantine_id, &e);
        if (rc == KY_ENOTFOUND)
            return not_found(q, reply, qq->quarantine_id);
        if (rc == 0)
            list_add(q, list, e);
    } else {
        if (limit > QUARANTINE_LIMIT_MAX)
            limit = QUARANTINE_LIMIT_MAX;
        rc = list_page(q, txn, qq->after_id, limit, list);
    }
    if (rc)
        return rc;
    reply->body_case = KEYUAN__V1__ENVELOPE__BODY_QUARANTINE_LIST;
    reply->quarantine_list = list;
    return KY_OK;
}

/* ---- replay ------------------------------------------------------------- */

/* Answers the replay request itself with a refusal; not an error. */
static int refuse(quarantine_t *q, Envelope *reply, const char *code,
                  const char *field, const char *message)
{
    svc_reply(q->svc, reply, STATUS_REJECTED, code, field, message);
    return KY_OK;
}

/* Accepted or duplicate: the event is in, the entry is done. */
static bool is_replayed(const QuarantinedEvent *e)
{
    return e->replay_reply && e->replay_reply->status != STATUS_REJECTED;
}

/*
 * The envelope to replay: the corrected one when given, else the stored
 * one; NULL when the bytes are not an Envelope. It is a request whatever
 * the corrected file said, so link fields are cleared.
 */
static Envelope *replay_envelope(quarantine_t *q, const QuarantinedEvent *e,
                                 const Keyuan__V1__QuarantineReplay *r)
{
    const ProtobufCBinaryData *b =
        r->envelope.len ? &r->envelope : &e->envelope;
    Envelope *env = wire_unpack(b->data, b->len);

    if (env == NULL)
        return NULL;
    svc_defer_free(q->svc, &env->base);
    env->seq = 0;
    env->request_id = 0;
    return env;
}

/*
 * True when a text field of the envelope to replay holds a NUL, with *at
 * its path in the event ("name"): the service loop refuses such requests
 * (svc.c note_nul()), and a corrected envelope must not slip one past.
 */
static bool nul_inside(quarantine_t *q, const QuarantinedEvent *e,
                       const Keyuan__V1__QuarantineReplay *r, const char **at)
{
    const ProtobufCBinaryData *b =
        r->envelope.len ? &r->envelope : &e->envelope;
    char path[PBJSON_PATH_MAX];
    const char *dot;

    if (!pbjson_wire_nul(&keyuan__v1__envelope__descriptor, b->data, b->len,
                         path))
        return false;
    dot = strchr(path, '.');
    *at = svc_strdup(q->svc, dot ? dot + 1 : path);
    return true;
}

/* Stores e with the outcome of its replay. */
static int entry_record(quarantine_t *q, MDB_txn *txn, QuarantinedEvent *e,
                        Keyuan__V1__Reply *outcome)
{
    Keyuan__V1__Reply *before = e->replay_reply;
    int rc;

    e->replay_reply = outcome;
    rc = entry_put(q, txn, e);
    e->replay_reply = before; /* e is freed as unpacked; outcome is not */
    return rc;
}

/* Runs env through handle with keep() off, so a rejection is not kept. */
static int replay_run(quarantine_t *q, MDB_txn *txn, const Envelope *env,
                      Envelope *reply, quarantine_handler_t handle, void *self)
{
    int rc;

    q->replaying = true;
    rc = handle(self, txn, env, reply);
    q->replaying = false;
    return rc;
}

int quarantine_replay(quarantine_t *q, MDB_txn *txn,
                      const Keyuan__V1__QuarantineReplay *r, Envelope *reply,
                      quarantine_handler_t handle, void *self)
{
    QuarantinedEvent *e;
    Envelope *env;
    const char *at;
    int rc = entry_load(q, txn, r->quarantine_id, &e);

    if (rc == KY_ENOTFOUND)
        return not_found(q, reply, r->quarantine_id);
    if (rc)
        return rc;
    if (is_replayed(e))
        return refuse(q, reply, "already_replayed", "quarantineId",
                      "quarantineId: this event was replayed already");
    if (nul_inside(q, e, r, &at))
        return refuse(q, reply, "invalid_utf8", at,
                      svc_printf(q->svc, "%s: holds a NUL character", at));
    env = replay_envelope(q, e, r);
    if (env == NULL)
        return refuse(q, reply, "malformed", "envelope",
                      "envelope: not a keyuan.v1.Envelope in protobuf form");
    if (!is_event(env)) /* also keeps a replay from replaying a replay */
        return refuse(q, reply, "unsupported", "envelope",
                      "envelope: only lead, listing, contact and profile "
                      "update events can be replayed");

    if ((rc = replay_run(q, txn, env, reply, handle, self)) != 0)
        return rc;
    if (reply->body_case != KEYUAN__V1__ENVELOPE__BODY_REPLY)
        return KY_OK; /* not an event's answer; nothing to record */
    log_info("event=quarantine_replayed id=%llu status=%d code=%s",
             (unsigned long long)e->quarantine_id, (int)reply->reply->status,
             reply->reply->code);
    return entry_record(q, txn, e, reply->reply);
}
