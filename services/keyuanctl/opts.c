/* opts.c - options every command shares, and one-shot requests (ctl.h). */
#include "ctl.h"

#include "client.h"
#include "err.h"
#include "parse.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const ctl_service_names[CTL_NSERVICES] = {"intake", "grading",
                                                      "scheduler", "notifier"};

static const char *const default_ports[CTL_NSERVICES] = {"7101", "7102", "7103",
                                                         "7104"};

static const char *const env_names[CTL_NSERVICES] = {
    "KEYUAN_INTAKE", "KEYUAN_GRADING", "KEYUAN_SCHEDULER", "KEYUAN_NOTIFIER"};

int ctl_opts_init(ctl_opts_t *o)
{
    memset(o, 0, sizeof *o);
    for (int s = 0; s < CTL_NSERVICES; s++) {
        const char *env = getenv(env_names[s]);

        o->endpoint[s] = ctl_endpoint(env && *env ? env : default_ports[s]);
        if (o->endpoint[s] == NULL)
            return KY_ENOMEM;
    }
    return KY_OK;
}

void ctl_opts_clear(ctl_opts_t *o)
{
    for (int s = 0; s < CTL_NSERVICES; s++) {
        free(o->endpoint[s]);
        o->endpoint[s] = NULL;
    }
}

const char *ctl_endpoint_of(const ctl_opts_t *o, enum ctl_service s)
{
    return o->endpoint[s];
}

int ctl_service_find(const char *name)
{
    for (int s = 0; s < CTL_NSERVICES; s++)
        if (strcmp(name, ctl_service_names[s]) == 0)
            return s;
    return -1;
}

void ctl_getopt_reset(void)
{
    optind = 0; /* glibc: 0 also resets getopt's internal state */
    opterr = 0; /* we print our own messages */
}

int ctl_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "keyuanctl%s%s: ", cmd ? " " : "", cmd ? cmd : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'keyuanctl%s%s --help'.\n", cmd ? " " : "",
            cmd ? cmd : "");
    return CTL_EXIT_USAGE;
}

static int set_endpoint(ctl_opts_t *o, int s, const char *arg)
{
    char *ep = ctl_endpoint(arg);

    if (ep == NULL)
        return KY_EINVAL;
    free(o->endpoint[s]);
    o->endpoint[s] = ep;
    return KY_OK;
}

static int set_timeout(ctl_opts_t *o, const char *arg)
{
    uint64_t ms;

    if (ctl_parse_uint(arg, 3600 * 1000, &ms) != KY_OK || ms == 0)
        return KY_EINVAL;
    o->timeout_ms = (int)ms;
    return KY_OK;
}

/* The option getopt_long just complained about, for messages. */
static const char *bad_option(char **argv)
{
    static char shortopt[3] = "-?";

    if (optopt > 0 && optopt < 128) {
        shortopt[1] = (char)optopt;
        return shortopt;
    }
    return argv[optind - 1];
}

int ctl_common_option(ctl_opts_t *o, const char *cmd, int ch, char **argv,
                      const char *usage)
{
    switch (ch) {
    case CTL_OPT_JSON:
        o->json = true;
        return -1;
    case CTL_OPT_HELP:
        fputs(usage, stdout);
        return CTL_EXIT_OK;
    case CTL_OPT_TIMEOUT:
        if (set_timeout(o, optarg) == KY_OK)
            return -1;
        return ctl_usage_error(cmd, "--timeout wants milliseconds: \"%s\"",
                               optarg);
    case ':':
        return ctl_usage_error(cmd, "option %s needs a value",
                               bad_option(argv));
    case '?':
        return ctl_usage_error(cmd, "unknown option %s", bad_option(argv));
    }
    if (ch >= CTL_OPT_ENDPOINT && ch < CTL_OPT_ENDPOINT + CTL_NSERVICES) {
        if (set_endpoint(o, ch - CTL_OPT_ENDPOINT, optarg) == KY_OK)
            return -1;
        return ctl_usage_error(cmd, "empty endpoint");
    }
    return ctl_usage_error(cmd, "unexpected option");
}

int ctl_request(ctl_opts_t *o, enum ctl_service s, Envelope *req,
                int timeout_ms, Envelope **reply)
{
    const char *ep = o->endpoint[s];
    ctl_client_t *c;
    int rc;

    if (o->timeout_ms > 0)
        timeout_ms = o->timeout_ms;
    if ((c = ctl_client_new(o->zctx, ep, &rc)) == NULL) {
        fprintf(stderr, "keyuanctl: cannot connect to %s at %s: %s\n",
                ctl_service_names[s], ep, err_str(rc));
        return rc;
    }
    rc = ctl_client_call(c, req, timeout_ms, reply);
    if (rc == KY_EAGAIN)
        fprintf(stderr, "keyuanctl: %s at %s did not answer within %d ms\n",
                ctl_service_names[s], ep, timeout_ms);
    else if (rc != KY_OK)
        fprintf(stderr, "keyuanctl: request to %s failed: %s\n",
                ctl_service_names[s], err_str(rc));
    ctl_client_destroy(&c);
    return rc;
}
