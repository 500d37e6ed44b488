/*
 * pipe.c - many requests in flight on one client (see client.h).
 *
 * Each request in flight sits in a slot that keeps its packed bytes for
 * resending. Its request_id is (serial number x slot count + slot index),
 * so the slot of a reply is found by one division and a stale reply (to a
 * request already answered or given up) is told apart by the full id.
 */
#include "client.h"

#include "clock.h"
#include "err.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define PIPE_PROGRESS_MS 100

typedef struct pipe_slot {
    uint64_t id;          /* request_id; 0 when the slot is free */
    ctl_pipe_item_t item; /* line and label; env is not kept */
    uint8_t *buf;         /* the packed request */
    size_t len;
    int64_t first_ms; /* when it was first sent (monotonic) */
    int64_t sent_ms;  /* when it was last sent */
    int sends;
} pipe_slot_t;

typedef struct pipe {
    ctl_client_t *client;
    const ctl_pipe_cfg_t *cfg;
    const ctl_pipe_ops_t *ops;
    void *self;
    pipe_slot_t *slots;
    size_t nslots;
    size_t *free_idx; /* stack of free slot indexes */
    size_t nfree;
    uint64_t serial; /* grows with every request */
    uint64_t sent, answered;
    int64_t last_reply_ms; /* when the last reply came; 0: none yet */
    int64_t next_check_ms; /* earliest moment a slot can time out */
    int64_t next_progress_ms;
    int next_err; /* what next() failed with, reported at the end */
    bool eof;     /* next() has nothing more */
    bool down;    /* the service is taken as down */
} pipe_t;

static size_t pipe_inflight(const pipe_t *p)
{
    return p->nslots - p->nfree;
}

static void slot_release(pipe_t *p, pipe_slot_t *s)
{
    free(s->buf);
    s->buf = NULL;
    s->id = 0;
    p->free_idx[p->nfree++] = (size_t)(s - p->slots);
}

/* Reports the slot's item with reply (NULL: unanswered), frees the slot. */
static void slot_done(pipe_t *p, pipe_slot_t *s, const Envelope *reply)
{
    s->item.sends = s->sends;
    p->ops->done(p->self, &s->item, reply);
    slot_release(p, s);
}

static int slot_send(pipe_t *p, pipe_slot_t *s, int64_t now)
{
    int rc = ctl_client_send_raw(p->client, s->buf, s->len);

    if (rc == KY_EZMQ)
        return rc;
    s->sent_ms = now; /* KY_EAGAIN: counts as a send; the timer retries */
    s->sends++;
    if (p->next_check_ms == 0 || now + p->cfg->timeout_ms < p->next_check_ms)
        p->next_check_ms = now + p->cfg->timeout_ms;
    return KY_OK;
}

/* Takes the next item from the source into a free slot and sends it. */
static int pipe_fill_one(pipe_t *p)
{
    ctl_pipe_item_t item = {0};
    pipe_slot_t *s;
    uint64_t id;
    size_t idx, len;
    uint8_t *buf;
    int rc = p->ops->next(p->self, &item);

    if (rc <= 0) { /* an error ends the input; what is in flight finishes */
        p->eof = true;
        p->next_err = rc;
        return KY_OK;
    }
    idx = p->free_idx[p->nfree - 1];
    id = (p->serial + 1) * p->nslots + idx;
    item.env->request_id = id;
    if ((buf = wire_pack(&item.env->base, &len)) == NULL)
        return KY_ENOMEM;
    p->nfree--;
    p->serial++;
    s = &p->slots[idx];
    *s = (pipe_slot_t){id, item, buf, len, clock_mono_ms(), 0, 0};
    s->item.env = NULL;
    p->sent++;
    return slot_send(p, s, s->first_ms);
}

static int pipe_fill(pipe_t *p)
{
    int rc = KY_OK;

    while (rc == KY_OK && !p->eof && !p->down && p->nfree > 0)
        rc = pipe_fill_one(p);
    return rc;
}

static void pipe_reply(pipe_t *p, Envelope *reply)
{
    uint64_t id = reply->request_id;
    pipe_slot_t *s = id ? &p->slots[id % p->nslots] : NULL;

    p->last_reply_ms = clock_mono_ms();
    if (s == NULL || s->id != id)
        return; /* answers a resend that was already answered */
    p->answered++;
    slot_done(p, s, reply);
}

static int pipe_read(pipe_t *p, int timeout_ms)
{
    Envelope *reply;
    int rc = ctl_client_recv(p->client, timeout_ms, &reply);

    while (rc == 1) {
        pipe_reply(p, reply);
        wire_free(reply);
        rc = ctl_client_recv(p->client, 0, &reply);
    }
    return rc;
}

/* Gives up slot s; when nothing at all answered meanwhile, the service
 * is down and waiting for the others would only take longer. */
static void slot_give_up(pipe_t *p, pipe_slot_t *s)
{
    if (p->last_reply_ms < s->first_ms)
        p->down = true;
    slot_done(p, s, NULL);
}

/* Resends or gives up the requests whose time is up. */
static int pipe_timeouts(pipe_t *p, int64_t now)
{
    int rc = KY_OK;

    if (now < p->next_check_ms)
        return KY_OK;
    p->next_check_ms = 0;
    for (size_t i = 0; i < p->nslots && rc == KY_OK; i++) {
        pipe_slot_t *s = &p->slots[i];

        if (s->id == 0)
            continue;
        if (now >= s->sent_ms + p->cfg->timeout_ms) {
            if (s->sends >= p->cfg->attempts)
                slot_give_up(p, s);
            else
                rc = slot_send(p, s, now);
        } else if (p->next_check_ms == 0 ||
                   s->sent_ms + p->cfg->timeout_ms < p->next_check_ms) {
            p->next_check_ms = s->sent_ms + p->cfg->timeout_ms;
        }
    }
    return rc;
}

/* After the service was taken as down: everything left is unanswered. */
static int pipe_drain(pipe_t *p)
{
    ctl_pipe_item_t item;
    int rc;

    for (size_t i = 0; i < p->nslots; i++)
        if (p->slots[i].id != 0)
            slot_done(p, &p->slots[i], NULL);
    while (!p->eof) {
        memset(&item, 0, sizeof item);
        if ((rc = p->ops->next(p->self, &item)) <= 0) {
            p->eof = true;
            p->next_err = rc;
        } else {
            p->ops->done(p->self, &item, NULL);
        }
    }
    return KY_OK;
}

static void pipe_progress(pipe_t *p, int64_t now)
{
    if (p->ops->progress == NULL || now < p->next_progress_ms)
        return;
    p->next_progress_ms = now + PIPE_PROGRESS_MS;
    p->ops->progress(p->self, p->sent, p->answered);
}

/* How long to wait for replies before the next timer. */
static int pipe_wait_ms(const pipe_t *p, int64_t now)
{
    int64_t wait = p->next_check_ms ? p->next_check_ms - now : 1000;

    if (p->ops->progress && p->next_progress_ms - now < wait)
        wait = p->next_progress_ms - now;
    return wait < 0 ? 0 : (int)wait;
}

static int pipe_loop(pipe_t *p)
{
    int rc = KY_OK;

    while (rc == KY_OK && !p->down && !(p->eof && pipe_inflight(p) == 0)) {
        int64_t now;

        if ((rc = pipe_fill(p)) != KY_OK)
            break;
        if (pipe_inflight(p) == 0)
            continue; /* end of input, or only local rejections */
        now = clock_mono_ms();
        rc = pipe_read(p, pipe_wait_ms(p, now));
        if (rc < 0)
            break;
        now = clock_mono_ms();
        rc = pipe_timeouts(p, now);
        pipe_progress(p, now);
    }
    if (rc == KY_OK && p->down)
        rc = pipe_drain(p);
    return rc != KY_OK ? rc : p->next_err;
}

int ctl_pipe_run(ctl_client_t *c, const ctl_pipe_cfg_t *cfg,
                 const ctl_pipe_ops_t *ops, void *self)
{
    pipe_t p = {c, cfg, ops, self};
    int rc = KY_ENOMEM;

    p.nslots = cfg->window > 0 ? (size_t)cfg->window : 1;
    p.slots = calloc(p.nslots, sizeof *p.slots);
    p.free_idx = calloc(p.nslots, sizeof *p.free_idx);
    if (p.slots == NULL || p.free_idx == NULL)
        goto out;
    for (size_t i = p.nslots; i > 0; i--)
        p.free_idx[p.nfree++] = i - 1;

    rc = pipe_loop(&p);
    if (ops->progress)
        ops->progress(self, p.sent, p.answered);

out:
    for (size_t i = 0; p.slots && i < p.nslots; i++)
        free(p.slots[i].buf);
    free(p.free_idx);
    free(p.slots);
    return rc;
}
