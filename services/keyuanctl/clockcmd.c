/*
 * clockcmd.c - keyuanctl clock set|advance: moves the test clock of
 * services started with --test-clock (others refuse), so that tests and
 * demos can cross days in seconds.
 */
#include "ctl.h"

#include "clock.h"
#include "err.h"
#include "out.h"
#include "parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLOCK_TIMEOUT_MS 5000

static const char clock_usage[] =
    "usage: keyuanctl clock set TIME [--service NAME]\n"
    "       keyuanctl clock advance DURATION [--service NAME]\n"
    "\n"
    "Moves the test clock of a service started with --test-clock; time\n"
    "only moves forward. TIME is RFC 3339 (2026-05-01T09:30:00+08:00);\n"
    "\"2026-05-01 09:30\" is read as Beijing time. DURATION is 90s, 15m,\n"
    "3d, 1h30m, ... (units ms, s, m, h, d, w) added to the service's\n"
    "current time, as its status reports it.\n"
    "\n"
    "options:\n"
    "  --service NAME      intake, grading, scheduler (default) or\n"
    "                      notifier; several with commas, or all\n"
    "\n" CTL_COMMON_HELP "\n"
    "Exit status: 0 when every service moved, 1 when one refused or did\n"
    "not answer, 2 for usage errors.\n";

enum { OPT_SERVICE = 256 };

typedef struct clock_args {
    bool advance;               /* advance, or set */
    int64_t ms;                 /* the time, or the duration */
    bool chosen[CTL_NSERVICES]; /* the services to move */
} clock_args_t;

/* Reads "scheduler", "intake,grading" or "all" into a->chosen. */
static int parse_services(clock_args_t *a, const char *list)
{
    char buf[128], *save = NULL;

    memset(a->chosen, 0, sizeof a->chosen);
    if (strcmp(list, "all") == 0) {
        for (int s = 0; s < CTL_NSERVICES; s++)
            a->chosen[s] = true;
        return KY_OK;
    }
    snprintf(buf, sizeof buf, "%s", list);
    for (char *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        int s = ctl_service_find(ctl_trim(tok));

        if (s < 0)
            return KY_EINVAL;
        a->chosen[s] = true;
    }
    return KY_OK;
}

static int clock_positionals(clock_args_t *a, int argc, char **argv)
{
    const char *verb, *value;

    if (argc - optind != 2)
        return ctl_usage_error("clock", "expected set TIME or advance DUR");
    verb = argv[optind];
    value = argv[optind + 1];
    if (strcmp(verb, "set") == 0) {
        if (ctl_parse_time(value, &a->ms) != KY_OK)
            return ctl_usage_error("clock", "not an RFC 3339 time: \"%s\"",
                                   value);
        return -1;
    }
    if (strcmp(verb, "advance") == 0) {
        a->advance = true;
        if (ctl_parse_duration(value, &a->ms) != KY_OK)
            return ctl_usage_error("clock", "not a duration like 15m: \"%s\"",
                                   value);
        return -1;
    }
    return ctl_usage_error("clock", "use set or advance, not \"%s\"", verb);
}

static int clock_args(ctl_opts_t *o, int argc, char **argv, clock_args_t *a)
{
    static const struct option longopts[] = {
        {"service", required_argument, NULL, OPT_SERVICE},
        CTL_COMMON_OPTIONS,
        {NULL, 0, NULL, 0}};
    int ch, rc;

    a->chosen[CTL_SCHEDULER] = true;
    ctl_getopt_reset();
    while ((ch = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        if (ch == OPT_SERVICE) {
            if (parse_services(a, optarg) != KY_OK)
                return ctl_usage_error("clock", "unknown service in \"%s\"",
                                       optarg);
        } else if ((rc = ctl_common_option(o, "clock", ch, argv,
                                           clock_usage)) >= 0) {
            return rc;
        }
    }
    return clock_positionals(a, argc, argv);
}

/* The current time of service s from its status; 0 when none came. */
static int64_t service_now(ctl_opts_t *o, int s)
{
    Keyuan__V1__StatusRequest sr = KEYUAN__V1__STATUS_REQUEST__INIT;
    Envelope req = KEYUAN__V1__ENVELOPE__INIT, *reply = NULL;
    int64_t now = 0;

    req.body_case = KEYUAN__V1__ENVELOPE__BODY_STATUS_REQUEST;
    req.status_request = &sr;
    if (ctl_request(o, (enum ctl_service)s, &req, CLOCK_TIMEOUT_MS, &reply) !=
        KY_OK)
        return 0;
    if (reply->body_case == KEYUAN__V1__ENVELOPE__BODY_STATUS)
        now = wire_ts_ms(reply->status->now);
    wire_free(reply);
    return now;
}

/*
 * For advance: the latest "now" of the chosen services plus the duration,
 * so that all of them land on one time. Returns 0, or KY_EAGAIN when one
 * did not say.
 */
static int advance_target(ctl_opts_t *o, const clock_args_t *a, int64_t *target)
{
    int64_t latest = 0;

    for (int s = 0; s < CTL_NSERVICES; s++) {
        int64_t now;

        if (!a->chosen[s])
            continue;
        if ((now = service_now(o, s)) == 0) {
            fprintf(stderr, "keyuanctl clock: no current time from %s\n",
                    ctl_service_names[s]);
            return KY_EAGAIN;
        }
        latest = now > latest ? now : latest;
    }
    *target = latest + a->ms;
    return KY_OK;
}

static void clock_report(const ctl_opts_t *o, int s, const char *when)
{
    if (o->json)
        ctl_print_json(
            json_pack("{ssss}", "service", ctl_service_names[s], "now", when));
    else
        printf("%s: clock set to %s\n", ctl_service_names[s], when);
}

/* Sends ClockSet(ms) to service s. Returns 0 or CTL_EXIT_FAIL. */
static int clock_set_one(ctl_opts_t *o, int s, int64_t ms)
{
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    Keyuan__V1__ClockSet cs = KEYUAN__V1__CLOCK_SET__INIT;
    Envelope req = KEYUAN__V1__ENVELOPE__INIT, *reply = NULL;
    char when[40];
    int rc = CTL_EXIT_FAIL;

    wire_ts_set(&ts, ms);
    cs.now = &ts;
    req.body_case = KEYUAN__V1__ENVELOPE__BODY_CLOCK_SET;
    req.clock_set = &cs;
    if (ctl_request(o, (enum ctl_service)s, &req, CLOCK_TIMEOUT_MS, &reply) !=
        KY_OK)
        return CTL_EXIT_FAIL;
    if (reply->body_case == KEYUAN__V1__ENVELOPE__BODY_REPLY &&
        reply->reply->status ==
            KEYUAN__V1__REPLY_STATUS__REPLY_STATUS_ACCEPTED) {
        clock_report(o, s, clock_format_rfc3339(ms, when, sizeof when));
        rc = CTL_EXIT_OK;
    } else if (reply->body_case == KEYUAN__V1__ENVELOPE__BODY_REPLY) {
        fprintf(stderr, "keyuanctl clock: %s refused: %s: %s\n",
                ctl_service_names[s], reply->reply->code,
                reply->reply->message);
    } else {
        fprintf(stderr, "keyuanctl clock: unexpected %s answer from %s\n",
                wire_body_name(reply), ctl_service_names[s]);
    }
    wire_free(reply);
    return rc;
}

int ctl_cmd_clock(ctl_opts_t *o, int argc, char **argv)
{
    clock_args_t a = {0};
    int64_t target = 0;
    int rc = clock_args(o, argc, argv, &a);

    if (rc >= 0)
        return rc;
    target = a.ms;
    if (a.advance && advance_target(o, &a, &target) != KY_OK)
        return CTL_EXIT_FAIL;
    rc = CTL_EXIT_OK;
    for (int s = 0; s < CTL_NSERVICES; s++)
        if (a.chosen[s] && clock_set_one(o, s, target) != CTL_EXIT_OK)
            rc = CTL_EXIT_FAIL;
    return rc;
}
