/*
 * status.c - keyuanctl status: health and numbers of the four services.
 *
 * The four are asked at once, so a service that is down costs the one
 * timeout, not one each.
 */
#include "ctl.h"

#include "client.h"
#include "clock.h"
#include "err.h"
#include "out.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define STATUS_TIMEOUT_MS 2000

static const char status_usage[] =
    "usage: keyuanctl status [options]\n"
    "\n"
    "Asks intake, grading, scheduler and notifier for their status and\n"
    "prints one row each: healthy, outbox size, age of the oldest unacked\n"
    "outbox entry, and counters. A service that does not answer within\n"
    "2 s (or --timeout) shows as down. --json prints each StatusReply as\n"
    "a line, and {\"service\":..,\"down\":true} for those down.\n"
    "\n" CTL_COMMON_HELP "\n"
    "Exit status: 0 when all four are up and healthy, 1 otherwise, 2 for\n"
    "usage errors.\n";

typedef struct status_slot {
    ctl_client_t *client;
    Envelope *reply; /* its StatusReply, or NULL */
} status_slot_t;

static int status_args(ctl_opts_t *o, int argc, char **argv)
{
    static const struct option longopts[] = {CTL_COMMON_OPTIONS,
                                             {NULL, 0, NULL, 0}};
    int ch, rc;

    ctl_getopt_reset();
    while ((ch = getopt_long(argc, argv, ":", longopts, NULL)) != -1)
        if ((rc = ctl_common_option(o, "status", ch, argv, status_usage)) >= 0)
            return rc;
    if (optind != argc)
        return ctl_usage_error("status", "unexpected argument \"%s\"",
                               argv[optind]);
    return -1;
}

static void status_send(ctl_opts_t *o, status_slot_t *slots)
{
    Keyuan__V1__StatusRequest sr = KEYUAN__V1__STATUS_REQUEST__INIT;
    Envelope req = KEYUAN__V1__ENVELOPE__INIT;
    int err;

    req.body_case = KEYUAN__V1__ENVELOPE__BODY_STATUS_REQUEST;
    req.status_request = &sr;
    for (int s = 0; s < CTL_NSERVICES; s++) {
        slots[s].client = ctl_client_new(o->zctx, o->endpoint[s], &err);
        req.request_id = (uint64_t)s + 1;
        if (slots[s].client && ctl_client_send(slots[s].client, &req) != 0)
            ctl_client_destroy(&slots[s].client);
    }
}

/* Takes what arrived on slot s; keeps it if it is the status asked. */
static void status_read(status_slot_t *slot)
{
    Envelope *env;

    while (slot->reply == NULL && ctl_client_recv(slot->client, 0, &env) == 1) {
        if (env->body_case == KEYUAN__V1__ENVELOPE__BODY_STATUS)
            slot->reply = env;
        else
            wire_free(env);
    }
}

/* Polls the services not answered yet until all answer or time is up. */
static void status_wait(status_slot_t *slots, int timeout_ms)
{
    int64_t deadline = clock_mono_ms() + timeout_ms;

    for (;;) {
        zmq_pollitem_t items[CTL_NSERVICES];
        int idx[CTL_NSERVICES], n = 0;
        int64_t left = deadline - clock_mono_ms();

        for (int s = 0; s < CTL_NSERVICES; s++) {
            if (slots[s].client && slots[s].reply == NULL) {
                items[n] = (zmq_pollitem_t){ctl_client_socket(slots[s].client),
                                            0, ZMQ_POLLIN, 0};
                idx[n++] = s;
            }
        }
        if (n == 0 || left <= 0)
            return;
        if (zmq_poll(items, n, (long)left) < 0 && zmq_errno() != EINTR)
            return;
        for (int i = 0; i < n; i++)
            if (items[i].revents & ZMQ_POLLIN)
                status_read(&slots[idx[i]]);
    }
}

/* "-", "350ms", "12.5s", "7m", "3h". */
static char *age_text(uint64_t ms, char *out, size_t outlen)
{
    if (ms == 0)
        snprintf(out, outlen, "-");
    else if (ms < 1000)
        snprintf(out, outlen, "%llums", (unsigned long long)ms);
    else if (ms < 60000)
        snprintf(out, outlen, "%.1fs", (double)ms / 1000);
    else if (ms < 3600000)
        snprintf(out, outlen, "%llum", (unsigned long long)(ms / 60000));
    else
        snprintf(out, outlen, "%lluh", (unsigned long long)(ms / 3600000));
    return out;
}

/* "name=value name=value ..." into a new string; NULL when no memory. */
static char *counters_text(const Keyuan__V1__StatusReply *st)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);

    if (f == NULL)
        return NULL;
    for (size_t i = 0; i < st->n_counters; i++)
        fprintf(f, "%s%s=%llu", i ? " " : "", st->counters[i]->name,
                (unsigned long long)st->counters[i]->value);
    fclose(f);
    return out;
}

static int status_row(ctl_table_t *t, int s, const status_slot_t *slot)
{
    const Keyuan__V1__StatusReply *st =
        slot->reply ? slot->reply->status : NULL;
    char outbox[24], oldest[24];
    char *counters;
    const char *cells[5] = {ctl_service_names[s], "down", "-", "-", "-"};
    int rc;

    if (st == NULL)
        return ctl_table_add(t, cells);
    snprintf(outbox, sizeof outbox, "%llu",
             (unsigned long long)st->outbox_size);
    counters = counters_text(st);
    cells[1] = st->healthy ? "yes" : "no";
    cells[2] = outbox;
    cells[3] = age_text(st->outbox_oldest_age_ms, oldest, sizeof oldest);
    cells[4] = counters ? counters : "";
    rc = ctl_table_add(t, cells);
    free(counters);
    return rc;
}

static int status_print_table(const status_slot_t *slots)
{
    static const char *const headers[5] = {"SERVICE", "HEALTHY", "OUTBOX",
                                           "OLDEST", "COUNTERS"};
    ctl_table_t *t = ctl_table_new(5, headers);
    int rc = t ? KY_OK : KY_ENOMEM;

    for (int s = 0; rc == KY_OK && s < CTL_NSERVICES; s++)
        rc = status_row(t, s, &slots[s]);
    if (rc == KY_OK)
        ctl_table_print(t, stdout);
    ctl_table_destroy(&t);
    return rc;
}

static void status_print_json(const ctl_opts_t *o, const status_slot_t *slots)
{
    for (int s = 0; s < CTL_NSERVICES; s++) {
        if (slots[s].reply)
            ctl_print_msg(&slots[s].reply->status->base);
        else
            ctl_print_json(json_pack("{sssbss}", "service",
                                     ctl_service_names[s], "down", 1,
                                     "endpoint", o->endpoint[s]));
    }
}

int ctl_cmd_status(ctl_opts_t *o, int argc, char **argv)
{
    status_slot_t slots[CTL_NSERVICES] = {{0}};
    int rc = status_args(o, argc, argv);

    if (rc >= 0)
        return rc;
    status_send(o, slots);
    status_wait(slots, o->timeout_ms > 0 ? o->timeout_ms : STATUS_TIMEOUT_MS);
    if (o->json)
        status_print_json(o, slots);
    else if (status_print_table(slots) != KY_OK)
        fprintf(stderr, "keyuanctl status: out of memory\n");
    rc = CTL_EXIT_OK;
    for (int s = 0; s < CTL_NSERVICES; s++) {
        if (slots[s].reply == NULL || !slots[s].reply->status->healthy)
            rc = CTL_EXIT_FAIL;
        wire_free(slots[s].reply);
        ctl_client_destroy(&slots[s].client);
    }
    return rc;
}
