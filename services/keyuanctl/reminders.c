/* reminders.c - keyuanctl reminders: the scheduler's follow-ups. */
#include "ctl.h"

#include "err.h"
#include "out.h"
#include "parse.h"

#include <stdio.h>
#include <string.h>

#define REMINDERS_TIMEOUT_MS 5000

static const char reminders_usage[] =
    "usage: keyuanctl reminders [options]\n"
    "\n"
    "Lists reminders from the scheduler, fired ones by default: id, due\n"
    "time and fired time (UTC; \"planned\" when not fired yet), kind,\n"
    "agent, customer, grade and text; --json prints one Reminder a line.\n"
    "\n"
    "options:\n"
    "  --customer ID       only this customer's\n"
    "  --agent ID          only this agent's\n"
    "  --planned           also the planned ones not yet due\n"
    "  --limit N           at most N fired, and with --planned at most\n"
    "                      N planned besides\n"
    "\n" CTL_COMMON_HELP "\n"
    "Exit status: 0 on an answer, 1 when the scheduler did not answer or\n"
    "refused, 2 for usage errors.\n";

enum { OPT_CUSTOMER = 256, OPT_AGENT, OPT_PLANNED, OPT_LIMIT };

/* Handles one of the command's own options; -1 or an exit code. */
static int reminders_option(Keyuan__V1__ReminderQuery *q, int ch)
{
    uint64_t v;

    switch (ch) {
    case OPT_CUSTOMER:
        if (ctl_parse_uint(optarg, UINT64_MAX, &v) != KY_OK || v == 0)
            return ctl_usage_error("reminders",
                                   "--customer wants a "
                                   "customer id, not \"%s\"",
                                   optarg);
        q->customer_id = v;
        return -1;
    case OPT_AGENT:
        q->agent_id = optarg;
        return -1;
    case OPT_PLANNED:
        q->include_planned = 1;
        return -1;
    case OPT_LIMIT:
        if (ctl_parse_uint(optarg, UINT32_MAX, &v) != KY_OK || v == 0)
            return ctl_usage_error("reminders",
                                   "--limit wants a number "
                                   "above 0, not \"%s\"",
                                   optarg);
        q->limit = (uint32_t)v;
        return -1;
    }
    return -2;
}

static int reminders_args(ctl_opts_t *o, int argc, char **argv,
                          Keyuan__V1__ReminderQuery *q)
{
    static const struct option longopts[] = {
        {"customer", required_argument, NULL, OPT_CUSTOMER},
        {"agent", required_argument, NULL, OPT_AGENT},
        {"planned", no_argument, NULL, OPT_PLANNED},
        {"limit", required_argument, NULL, OPT_LIMIT},
        CTL_COMMON_OPTIONS,
        {NULL, 0, NULL, 0}};
    int ch, rc;

    ctl_getopt_reset();
    while ((ch = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        rc = reminders_option(q, ch);
        if (rc == -2)
            rc = ctl_common_option(o, "reminders", ch, argv, reminders_usage);
        if (rc >= 0)
            return rc;
    }
    if (optind != argc)
        return ctl_usage_error("reminders", "unexpected argument \"%s\"",
                               argv[optind]);
    return -1;
}

static int reminders_add_row(ctl_table_t *t, const Keyuan__V1__Reminder *r)
{
    char id[24], due[32], fired[32], kind[32], customer[24], grade[16];
    const char *cells[8] = {id,          due,      fired, kind,
                            r->agent_id, customer, grade, r->text};

    snprintf(id, sizeof id, "%llu", (unsigned long long)r->reminder_id);
    ctl_format_ts(r->due_at, due, sizeof due);
    if (r->fired_at)
        ctl_format_ts(r->fired_at, fired, sizeof fired);
    else
        snprintf(fired, sizeof fired, "planned");
    ctl_enum_short(&keyuan__v1__reminder_kind__descriptor, "REMINDER_KIND_",
                   r->kind, kind, sizeof kind);
    snprintf(customer, sizeof customer, "%llu",
             (unsigned long long)r->customer_id);
    ctl_grade_text(r->grade, grade, sizeof grade);
    return ctl_table_add(t, cells);
}

static int reminders_table(const Keyuan__V1__ReminderList *list)
{
    static const char *const headers[8] = {
        "ID", "DUE", "FIRED", "KIND", "AGENT", "CUSTOMER", "GRADE", "TEXT"};
    ctl_table_t *t = ctl_table_new(8, headers);
    int rc = t ? KY_OK : KY_ENOMEM;

    for (size_t i = 0; rc == KY_OK && i < list->n_reminders; i++)
        rc = reminders_add_row(t, list->reminders[i]);
    if (rc == KY_OK)
        ctl_table_print(t, stdout);
    ctl_table_destroy(&t);
    return rc;
}

static int reminders_print(const ctl_opts_t *o, const Envelope *reply)
{
    const Keyuan__V1__ReminderList *list = reply->reminder_list;
    int rc = KY_OK;

    if (reply->body_case == KEYUAN__V1__ENVELOPE__BODY_REPLY) {
        fprintf(stderr, "keyuanctl reminders: %s: %s\n", reply->reply->code,
                reply->reply->message);
        return CTL_EXIT_FAIL;
    }
    if (reply->body_case != KEYUAN__V1__ENVELOPE__BODY_REMINDER_LIST) {
        fprintf(stderr, "keyuanctl reminders: unexpected %s answer\n",
                wire_body_name(reply));
        return CTL_EXIT_FAIL;
    }
    if (o->json) {
        for (size_t i = 0; rc == KY_OK && i < list->n_reminders; i++)
            rc = ctl_print_msg(&list->reminders[i]->base);
    } else if (list->n_reminders == 0) {
        printf("no reminders\n");
    } else {
        rc = reminders_table(list);
    }
    return rc == KY_OK ? CTL_EXIT_OK : CTL_EXIT_FAIL;
}

int ctl_cmd_reminders(ctl_opts_t *o, int argc, char **argv)
{
    Keyuan__V1__ReminderQuery q = KEYUAN__V1__REMINDER_QUERY__INIT;
    Envelope req = KEYUAN__V1__ENVELOPE__INIT, *reply = NULL;
    int rc = reminders_args(o, argc, argv, &q);

    if (rc >= 0)
        return rc;
    req.body_case = KEYUAN__V1__ENVELOPE__BODY_REMINDER_QUERY;
    req.reminder_query = &q;
    if (ctl_request(o, CTL_SCHEDULER, &req, REMINDERS_TIMEOUT_MS, &reply) !=
        KY_OK)
        return CTL_EXIT_FAIL;
    rc = reminders_print(o, reply);
    wire_free(reply);
    return rc;
}
