/*
 * show.c - keyuanctl show: one customer file, found by id or mobile, with
 * its owner, sources, recent contacts and history.
 */
#include "ctl.h"

#include "err.h"
#include "out.h"
#include "parse.h"

#include <stdio.h>
#include <string.h>

#define SHOW_TIMEOUT_MS 5000

static const char show_usage[] =
    "usage: keyuanctl show CUSTOMER_ID [options]\n"
    "       keyuanctl show --mobile PHONE [options]\n"
    "\n"
    "Asks intake for a customer file and prints it: the file's own fields\n"
    "(owner and why, sources, times, next step, merges), the profile as\n"
    "\"field: value\" lines (fields not known yet are left out), the recent\n"
    "contacts and the history of changes, newest first. --json prints the\n"
    "CustomerView as one JSON object. PHONE may be written in any form\n"
    "intake accepts. A file merged into others shows their contacts and\n"
    "history too.\n"
    "\n"
    "options:\n"
    "  --mobile PHONE      find the customer by mobile number\n"
    "  --contacts N        show the N most recent contacts (default 20)\n"
    "  --changes N         show the N most recent changes (default 50)\n"
    "\n" CTL_COMMON_HELP "\n"
    "Exit status: 0 when found, 1 when not found or intake did not\n"
    "answer, 2 for usage errors.\n";

enum { OPT_MOBILE = 256, OPT_CONTACTS, OPT_CHANGES };

/* --contacts N / --changes N; -1 to go on or an exit code. */
static int show_limit(const char *opt, uint32_t *limit)
{
    uint64_t n;

    if (ctl_parse_uint(optarg, 1000, &n) != KY_OK || n == 0)
        return ctl_usage_error("show",
                               "%s wants a number from 1 to 1000, "
                               "not \"%s\"",
                               opt, optarg);
    *limit = (uint32_t)n;
    return -1;
}

/* Handles one of the command's own options; -1 to go on, an exit code. */
static int show_option(Keyuan__V1__CustomerQuery *q, int ch)
{
    if (ch == OPT_MOBILE) {
        q->mobile = optarg;
        return -1;
    }
    return ch == OPT_CONTACTS ? show_limit("--contacts", &q->contact_limit)
                              : show_limit("--changes", &q->change_limit);
}

static int show_args(ctl_opts_t *o, int argc, char **argv,
                     Keyuan__V1__CustomerQuery *q)
{
    static const struct option longopts[] = {
        {"mobile", required_argument, NULL, OPT_MOBILE},
        {"contacts", required_argument, NULL, OPT_CONTACTS},
        {"changes", required_argument, NULL, OPT_CHANGES},
        CTL_COMMON_OPTIONS,
        {NULL, 0, NULL, 0}};
    uint64_t id;
    int ch, rc;

    ctl_getopt_reset();
    while ((ch = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        if (ch >= OPT_MOBILE && ch <= OPT_CHANGES)
            rc = show_option(q, ch);
        else
            rc = ctl_common_option(o, "show", ch, argv, show_usage);
        if (rc >= 0)
            return rc;
    }
    if (*q->mobile != '\0')
        return optind == argc
                   ? -1
                   : ctl_usage_error("show", "give a customer id "
                                             "or --mobile, not both");
    if (optind + 1 != argc)
        return ctl_usage_error("show", "expected CUSTOMER_ID or --mobile "
                                       "PHONE");
    if (ctl_parse_uint(argv[optind], UINT64_MAX, &id) != KY_OK || id == 0)
        return ctl_usage_error("show",
                               "a customer id is a number, not "
                               "\"%s\"",
                               argv[optind]);
    q->customer_id = id;
    return -1;
}

/* Prints a refusal (not found, bad phone); always a failure. */
static int show_refused(const ctl_opts_t *o, const Keyuan__V1__Reply *r)
{
    if (o->json)
        ctl_print_msg(&r->base);
    else
        fprintf(stderr, "keyuanctl show: %s%s%s\n",
                r->code[0] ? r->code : "refused", r->message[0] ? ": " : "",
                r->message);
    return CTL_EXIT_FAIL;
}

/* Text cut to at most max bytes on a character boundary, into buf. */
static const char *clip(const char *s, char *buf, size_t max)
{
    snprintf(buf, max + 1, "%s", s);
    ctl_utf8_clip(buf);
    return buf;
}

static int contact_row(ctl_table_t *t, const Keyuan__V1__ContactLog *c)
{
    char when[32], channel[16], summary[121], feedback[121], next[160];
    char due[32], action[121];
    const char *cells[6] = {when,    channel,  c->agent_id,
                            summary, feedback, next};

    ctl_format_ts(c->contacted_at, when, sizeof when);
    ctl_enum_short(&keyuan__v1__channel__descriptor, "CHANNEL_", c->channel,
                   channel, sizeof channel);
    clip(c->summary, summary, 120);
    clip(c->feedback, feedback, 120);
    next[0] = '\0';
    if (c->next_step)
        snprintf(next, sizeof next, "%s %s",
                 ctl_format_ts(c->next_step->due_at, due, sizeof due),
                 clip(c->next_step->action, action, 120));
    return ctl_table_add(t, cells);
}

static int show_contacts(const Keyuan__V1__CustomerView *v)
{
    static const char *const headers[6] = {"WHEN",    "CHANNEL",  "AGENT",
                                           "SUMMARY", "FEEDBACK", "NEXT STEP"};
    ctl_table_t *t;
    int rc = KY_OK;

    printf("\ncontacts (%zu of %u, newest first):\n", v->n_contacts,
           v->contact_count);
    if (v->n_contacts == 0)
        return KY_OK;
    if ((t = ctl_table_new(6, headers)) == NULL)
        return KY_ENOMEM;
    for (size_t i = 0; rc == KY_OK && i < v->n_contacts; i++)
        rc = contact_row(t, v->contacts[i]);
    if (rc == KY_OK)
        ctl_table_print(t, stdout);
    ctl_table_destroy(&t);
    return rc;
}

static void show_changes(const Keyuan__V1__CustomerView *v)
{
    char at[32];

    printf("\nhistory (%zu changes shown, newest first):\n", v->n_changes);
    for (size_t i = 0; i < v->n_changes; i++) {
        const Keyuan__V1__Change *c = v->changes[i];

        ctl_print_line(stdout, "%s  %s  %s%s%s",
                       ctl_format_ts(c->at, at, sizeof at), c->kind, c->source,
                       *c->source_event_id ? "/" : "", c->source_event_id);
        for (size_t j = 0; j < c->n_fields; j++)
            ctl_print_line(
                stdout, "  %s: %s -> %s", c->fields[j]->path,
                *c->fields[j]->old_json ? c->fields[j]->old_json : "-",
                *c->fields[j]->new_json ? c->fields[j]->new_json : "-");
    }
}

/* The whole file for people: its own fields, profile, contacts, history. */
static int show_file(const Keyuan__V1__CustomerView *v)
{
    Keyuan__V1__CustomerView top = *v;
    int rc;

    top.profile = NULL;
    top.n_contacts = 0;
    top.n_changes = 0;
    if ((rc = ctl_print_fields(&top.base, stdout)) != KY_OK)
        return rc;
    printf("\nprofile:\n");
    if (v->profile && (rc = ctl_print_fields(&v->profile->base, stdout)))
        return rc;
    if ((rc = show_contacts(v)) != KY_OK)
        return rc;
    show_changes(v);
    return KY_OK;
}

static int show_print(const ctl_opts_t *o, const Envelope *reply)
{
    const Keyuan__V1__CustomerView *v = reply->customer_view;

    if (reply->body_case == KEYUAN__V1__ENVELOPE__BODY_REPLY)
        return show_refused(o, reply->reply);
    if (reply->body_case != KEYUAN__V1__ENVELOPE__BODY_CUSTOMER_VIEW) {
        fprintf(stderr, "keyuanctl show: unexpected %s answer\n",
                wire_body_name(reply));
        return CTL_EXIT_FAIL;
    }
    if ((o->json ? ctl_print_msg(&v->base) : show_file(v)) != 0) {
        fprintf(stderr, "keyuanctl show: cannot print the customer file\n");
        return CTL_EXIT_FAIL;
    }
    return CTL_EXIT_OK;
}

int ctl_cmd_show(ctl_opts_t *o, int argc, char **argv)
{
    Keyuan__V1__CustomerQuery q = KEYUAN__V1__CUSTOMER_QUERY__INIT;
    Envelope req = KEYUAN__V1__ENVELOPE__INIT, *reply = NULL;
    int rc = show_args(o, argc, argv, &q);

    if (rc >= 0)
        return rc;
    req.body_case = KEYUAN__V1__ENVELOPE__BODY_CUSTOMER_QUERY;
    req.customer_query = &q;
    if (ctl_request(o, CTL_INTAKE, &req, SHOW_TIMEOUT_MS, &reply) != KY_OK)
        return CTL_EXIT_FAIL;
    rc = show_print(o, reply);
    wire_free(reply);
    return rc;
}
