/*
 * client.h - keyuanctl's side of a service's ROUTER socket.
 *
 * A client is one DEALER socket connected to one service. Requests are
 * Envelopes with a request_id that the service echoes in its reply, so
 * any number may be in flight: ctl_client_call() sends one and waits for
 * its answer; ctl_pipe_run() streams many with a window, a timeout and
 * resends (safe where the service deduplicates, as intake does by source
 * and source_event_id).
 */
#ifndef KEYUAN_CTL_CLIENT_H
#define KEYUAN_CTL_CLIENT_H

#include "wire.h"

#include <stdint.h>

typedef struct ctl_client ctl_client_t;

/*
 * Connects to endpoint with the ZeroMQ context zctx. Returns NULL with
 * *err set (KY_EZMQ for a bad endpoint, KY_ENOMEM).
 */
ctl_client_t *ctl_client_new(void *zctx, const char *endpoint, int *err);

/* Closes the socket (dropping unsent requests) and nulls *cp. */
void ctl_client_destroy(ctl_client_t **cp);

void *ctl_client_socket(ctl_client_t *c);

const char *ctl_client_endpoint(const ctl_client_t *c);

/* Packs and sends env without blocking. Returns 0, KY_EAGAIN, KY_EZMQ. */
int ctl_client_send(ctl_client_t *c, const Envelope *env);

/* Sends bytes already packed. Returns 0, KY_EAGAIN or KY_EZMQ. */
int ctl_client_send_raw(ctl_client_t *c, const uint8_t *buf, size_t len);

/*
 * Receives one Envelope if one is waiting (or arrives within timeout_ms;
 * 0 does not wait). Returns 1 with *out set (free with wire_free), 0 when
 * nothing came, or KY_EZMQ. Frames that are not an Envelope are skipped.
 */
int ctl_client_recv(ctl_client_t *c, int timeout_ms, Envelope **out);

/*
 * Sends req (its request_id is set here) and waits up to timeout_ms for
 * the reply that carries the same id. Returns 0 with *reply set (free
 * with wire_free), KY_EAGAIN on timeout, or another negative code.
 */
int ctl_client_call(ctl_client_t *c, Envelope *req, int timeout_ms,
                    Envelope **reply);

/* --- pipelining ------------------------------------------------------ */

/* One item to send: its envelope and what identifies it in reports. */
typedef struct ctl_pipe_item {
    Envelope *env;   /* borrowed until the next call of next() */
    long line;       /* where it came from in the input */
    char label[520]; /* its source_event_id (128 characters fit), with
                        control characters shown as '?'; may be empty */
    int sends;       /* times it was sent; 0 when never (service down) */
} ctl_pipe_item_t;

typedef struct ctl_pipe_ops {
    /*
     * Fills *item with the next request. Returns 1, 0 at the end of the
     * input, or a negative code to stop.
     */
    int (*next)(void *self, ctl_pipe_item_t *item);

    /* Called once per item: reply is its answer, or NULL when none came. */
    void (*done)(void *self, const ctl_pipe_item_t *item,
                 const Envelope *reply);

    /* Optional: called about ten times a second while work goes on. */
    void (*progress)(void *self, uint64_t sent, uint64_t answered);
} ctl_pipe_ops_t;

typedef struct ctl_pipe_cfg {
    int window;     /* requests in flight at most */
    int timeout_ms; /* wait before sending a request again */
    int attempts;   /* sends of one request before it is given up */
} ctl_pipe_cfg_t;

/*
 * Sends every item of ops->next() on c, at most cfg->window unanswered at
 * a time, matching replies by request_id; resends an item after
 * cfg->timeout_ms, gives it up after cfg->attempts sends. When an item is
 * given up and no reply at all came since it was first sent, the service
 * is taken as down: what is in flight and what is left are reported
 * unanswered without waiting for each. ops->done() runs exactly once per
 * item. Returns 0, or a negative code from next() or ZeroMQ.
 */
int ctl_pipe_run(ctl_client_t *c, const ctl_pipe_cfg_t *cfg,
                 const ctl_pipe_ops_t *ops, void *self);

#endif
