/* client.c - a DEALER socket to one service (see client.h). */
#include "client.h"

#include "clock.h"
#include "err.h"

#include <stdlib.h>
#include <string.h>
#include <zmq.h>

struct ctl_client {
    void *sock;       /* DEALER, connected */
    char *endpoint;   /* for messages */
    uint64_t next_id; /* request ids of ctl_client_call() */
};

ctl_client_t *ctl_client_new(void *zctx, const char *endpoint, int *err)
{
    ctl_client_t *c = calloc(1, sizeof *c);
    int zero = 0, hwm = 0; /* unlimited: the pipe's window bounds it */

    *err = KY_ENOMEM;
    if (c == NULL || (c->endpoint = strdup(endpoint)) == NULL)
        goto fail;
    *err = KY_EZMQ;
    if ((c->sock = zmq_socket(zctx, ZMQ_DEALER)) == NULL)
        goto fail;
    zmq_setsockopt(c->sock, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(c->sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(c->sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
    if (zmq_connect(c->sock, endpoint) != 0)
        goto fail;
    c->next_id = 1;
    *err = KY_OK;
    return c;

fail:
    ctl_client_destroy(&c);
    return NULL;
}

void ctl_client_destroy(ctl_client_t **cp)
{
    ctl_client_t *c = cp ? *cp : NULL;

    if (c == NULL)
        return;
    if (c->sock)
        zmq_close(c->sock);
    free(c->endpoint);
    free(c);
    *cp = NULL;
}

void *ctl_client_socket(ctl_client_t *c)
{
    return c->sock;
}

const char *ctl_client_endpoint(const ctl_client_t *c)
{
    return c->endpoint;
}

int ctl_client_send_raw(ctl_client_t *c, const uint8_t *buf, size_t len)
{
    if (zmq_send(c->sock, buf, len, ZMQ_DONTWAIT) >= 0)
        return KY_OK;
    return zmq_errno() == EAGAIN ? KY_EAGAIN : KY_EZMQ;
}

int ctl_client_send(ctl_client_t *c, const Envelope *env)
{
    size_t len;
    uint8_t *buf = wire_pack(&env->base, &len);
    int rc;

    if (buf == NULL)
        return KY_ENOMEM;
    rc = ctl_client_send_raw(c, buf, len);
    free(buf);
    return rc;
}

/* Reads one message, keeping its last frame (a REQ-style delimiter, if a
 * peer sends one, comes first). Returns 1, 0 for none, or KY_EZMQ. */
static int recv_frames(ctl_client_t *c, Envelope **out)
{
    zmq_msg_t part;
    int more = 1;

    *out = NULL;
    while (more) {
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, c->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&part);
            return zmq_errno() == EAGAIN && *out == NULL ? 0 : KY_EZMQ;
        }
        more = zmq_msg_more(&part);
        if (!more)
            *out = wire_unpack(zmq_msg_data(&part), zmq_msg_size(&part));
        zmq_msg_close(&part);
    }
    return 1;
}

int ctl_client_recv(ctl_client_t *c, int timeout_ms, Envelope **out)
{
    int64_t deadline = clock_mono_ms() + timeout_ms;

    for (;;) {
        zmq_pollitem_t item = {c->sock, 0, ZMQ_POLLIN, 0};
        int64_t left = deadline - clock_mono_ms();
        int rc = recv_frames(c, out);

        if (rc < 0 || (rc == 1 && *out != NULL))
            return rc;
        if (rc == 1) /* not an Envelope: skip it */
            continue;
        if (left <= 0)
            return 0;
        if (zmq_poll(&item, 1, (long)left) < 0 && zmq_errno() != EINTR)
            return KY_EZMQ;
    }
}

int ctl_client_call(ctl_client_t *c, Envelope *req, int timeout_ms,
                    Envelope **reply)
{
    int64_t deadline = clock_mono_ms() + timeout_ms;
    int rc;

    req->request_id = c->next_id++;
    if ((rc = ctl_client_send(c, req)) != KY_OK)
        return rc;
    for (;;) {
        int64_t left = deadline - clock_mono_ms();

        rc = ctl_client_recv(c, left > 0 ? (int)left : 0, reply);
        if (rc <= 0)
            return rc == 0 ? KY_EAGAIN : rc;
        if ((*reply)->request_id == req->request_id)
            return KY_OK;
        wire_free(*reply); /* a late answer to an earlier call */
    }
}
