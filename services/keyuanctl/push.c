/*
 * push.c - keyuanctl push leads|listings|contacts FILE: imports events
 * into intake.
 *
 * Events come from input.c one at a time and go out through the pipe in
 * client.h, about a thousand in flight. Every row ends in exactly one
 * bucket: what intake answered (created, updated or accepted; duplicate;
 * rejected), rejected locally (it could not be made into an event and was
 * never sent), or unanswered. The closing line adds them up, so that
 * rows = created + updated + duplicate + rejected + unanswered (listings:
 * accepted in place of created and updated; contacts: logged).
 */
#include "ctl.h"

#include "client.h"
#include "err.h"
#include "input.h"
#include "out.h"
#include "parse.h"
#include "pbjson.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PUSH_WINDOW 1000
#define PUSH_TIMEOUT_MS 5000
#define PUSH_ATTEMPTS 3

static const char push_usage[] =
    "usage: keyuanctl push leads FILE [options]\n"
    "       keyuanctl push listings FILE [options]\n"
    "       keyuanctl push contacts FILE [options]\n"
    "\n"
    "Sends every event of FILE to intake and reports each row intake\n"
    "rejected, then the counts. FILE is CSV (.csv or .tsv: a header row,\n"
    "English or Chinese column names), JSON Lines (.jsonl: one event a\n"
    "line in the proto3 JSON mapping: LeadEvent, ListingEvent or\n"
    "ContactLog) or JSON (.json: an array of events); '-' reads standard\n"
    "input and needs --format. A CSV file may be UTF-8 (with or without\n"
    "BOM), GB18030/GBK as Chinese Excel saves it, or UTF-16 with BOM\n"
    "(Excel's \"Unicode text\", tab-separated); the encoding is detected.\n"
    "\n"
    "options:\n"
    "  --source NAME       source of events that name none (CSV: \"csv\");\n"
    "                      for CSV listings, the source of every row\n"
    "  --format F          csv, jsonl or json, instead of the file name\n"
    "  --window N          requests in flight at most (default 1000)\n"
    "  --attempts N        sends of a request before giving up (3)\n"
    "  (--timeout is the wait before a resend; default 5000 ms)\n"
    "\n" CTL_COMMON_HELP "\n"
    "Exit status: 0 when intake answered every row (rejections\n"
    "included), 1 when some went unanswered, 2 for usage errors.\n";

typedef struct push_counts {
    /* accepted: listings and contacts (logged), which create no file */
    uint64_t rows, created, updated, accepted, duplicate, rejected;
    uint64_t rejected_locally, unanswered;
    uint64_t unsent; /* unanswered because intake was down: never sent */
} push_counts_t;

typedef struct push {
    ctl_opts_t *o;
    enum ctl_input_kind kind;
    ctl_input_t *in;
    Envelope env; /* the request being read */
    ctl_progress_t bar;
    push_counts_t n;
    bool read_failed; /* the input could not be read to its end */
} push_t;

typedef struct push_args {
    enum ctl_input_kind kind;
    const char *path;
    const char *source;
    enum ctl_input_format format;
    ctl_pipe_cfg_t cfg;
} push_args_t;

/* --- reports --------------------------------------------------------- */

/* "line 12", or "item 12" for the elements of a JSON array. */
static const char *where(const push_t *p)
{
    return ctl_input_numbers_items(p->in) ? "item" : "line";
}

static void report_json(const ctl_pipe_item_t *item, const Keyuan__V1__Reply *r,
                        bool local)
{
    json_t *obj = json_object();
    json_t *body = r ? pbjson_from_message(&r->base) : NULL;

    if (obj == NULL)
        return;
    json_object_set_new(obj, "line", json_integer(item->line));
    json_object_set_new(obj, "sourceEventId", json_string(item->label));
    if (body)
        json_object_update(obj, body);
    else
        json_object_set_new(obj, "status", json_string("UNANSWERED"));
    if (local)
        json_object_set_new(obj, "local", json_true());
    json_decref(body);
    ctl_print_json(obj);
}

/* The message without the "field: " it may start with (it is shown). */
static const char *message_text(const Keyuan__V1__Reply *r)
{
    size_t n = strlen(r->field);

    if (n > 0 && strncmp(r->message, r->field, n) == 0 &&
        strncmp(r->message + n, ": ", 2) == 0)
        return r->message + n + 2;
    return r->message;
}

/* One line per rejected or unanswered row; nothing for the others. */
static void report_human(push_t *p, const ctl_pipe_item_t *item,
                         const Keyuan__V1__Reply *r, bool local)
{
    bool rejected =
        r && r->status == KEYUAN__V1__REPLY_STATUS__REPLY_STATUS_REJECTED;

    if ((r && !rejected) || (r == NULL && item->sends == 0))
        return; /* rows never sent are summed up at the end */
    ctl_progress_clear(&p->bar);
    printf("%s %ld", where(p), item->line);
    if (item->label[0])
        printf(" [%s]", item->label);
    if (r == NULL)
        printf(": no answer from intake\n");
    else
        printf(": rejected%s %s%s%s: %s\n", local ? " locally" : "",
               r->code[0] ? r->code : "(no code)", r->field[0] ? " at " : "",
               r->field, message_text(r));
}

static void report(push_t *p, const ctl_pipe_item_t *item,
                   const Keyuan__V1__Reply *r, bool local)
{
    if (p->o->json)
        report_json(item, r, local);
    else
        report_human(p, item, r, local);
}

static void report_local(push_t *p, const ctl_pipe_item_t *item,
                         const ctl_rowerr_t *err)
{
    Keyuan__V1__Reply r = KEYUAN__V1__REPLY__INIT;

    r.status = KEYUAN__V1__REPLY_STATUS__REPLY_STATUS_REJECTED;
    r.code = (char *)err->code;
    r.field = (char *)err->field;
    r.message = (char *)err->message;
    p->n.rows++;
    p->n.rejected++;
    p->n.rejected_locally++;
    report(p, item, &r, true);
}

static void count_set(json_t *obj, const char *key, uint64_t v)
{
    json_object_set_new(obj, key, json_integer((json_int_t)v));
}

/* What an accepted listing or contact is called in the counts. */
static const char *accepted_name(const push_t *p)
{
    return p->kind == CTL_INPUT_CONTACTS ? "logged" : "accepted";
}

/* {"summary": {"rows": .., "created": .., ...}} */
static void print_summary_json(const push_t *p)
{
    const push_counts_t *n = &p->n;
    json_t *s = json_object();

    count_set(s, "rows", n->rows);
    if (p->kind == CTL_INPUT_LEADS) {
        count_set(s, "created", n->created);
        count_set(s, "updated", n->updated);
    } else {
        count_set(s, accepted_name(p), n->accepted);
    }
    count_set(s, "duplicate", n->duplicate);
    count_set(s, "rejected", n->rejected);
    count_set(s, "rejectedLocally", n->rejected_locally);
    count_set(s, "unanswered", n->unanswered);
    ctl_print_json(json_pack("{so}", "summary", s));
}

/* rows N: created .., updated .., duplicate .., rejected .. (.. locally),
 * unanswered .. (listings: accepted in place of created and updated;
 * contacts: logged) */
static void print_summary(const push_t *p)
{
    const push_counts_t *n = &p->n;

    if (p->o->json) {
        print_summary_json(p);
        return;
    }
    printf("rows %llu: ", (unsigned long long)n->rows);
    if (p->kind == CTL_INPUT_LEADS)
        printf("created %llu, updated %llu", (unsigned long long)n->created,
               (unsigned long long)n->updated);
    else
        printf("%s %llu", accepted_name(p), (unsigned long long)n->accepted);
    printf(", duplicate %llu, rejected %llu (%llu locally), unanswered %llu\n",
           (unsigned long long)n->duplicate, (unsigned long long)n->rejected,
           (unsigned long long)n->rejected_locally,
           (unsigned long long)n->unanswered);
}

/* --- the pipe's callbacks -------------------------------------------- */

/*
 * Intake drops the connection of a sender whose message is over its size
 * cap, without a reply; such a row would only ever come back unanswered,
 * and would stall the rows in flight with it. Refuse it here instead.
 */
static bool too_large(const ctl_pipe_item_t *item, ctl_rowerr_t *err)
{
    size_t size = protobuf_c_message_get_packed_size(&item->env->base);

    if (size <= CTL_MAX_EVENT_BYTES)
        return false;
    err->code = "too_large";
    err->field = "";
    snprintf(err->message, sizeof err->message,
             "the event is %zu bytes; intake takes at most %d", size,
             CTL_MAX_EVENT_BYTES);
    return true;
}

static int push_next(void *self, ctl_pipe_item_t *item)
{
    push_t *p = self;
    ctl_rowerr_t err;
    int rc;

    while ((rc = ctl_input_next(p->in, &p->env, item, &err)) == KY_EINVAL ||
           (rc > 0 && too_large(item, &err)))
        report_local(p, item, &err);
    if (rc < 0) {
        p->read_failed = true;
        ctl_progress_clear(&p->bar);
        fprintf(stderr, "keyuanctl push: reading stopped after %s %ld: %s\n",
                where(p), item->line, err_str(rc));
    }
    return rc;
}

/* Counts the answer r (NULL: none, or not a Reply) in its bucket. */
static void count(push_t *p, const Keyuan__V1__Reply *r)
{
    p->n.rows++;
    if (r == NULL) {
        p->n.unanswered++;
        return;
    }

    switch (r->status) {
    case KEYUAN__V1__REPLY_STATUS__REPLY_STATUS_ACCEPTED:
        if (p->kind != CTL_INPUT_LEADS)
            p->n.accepted++;
        else if (r->created)
            p->n.created++;
        else
            p->n.updated++;
        break;
    case KEYUAN__V1__REPLY_STATUS__REPLY_STATUS_DUPLICATE:
        p->n.duplicate++;
        break;
    default:
        p->n.rejected++;
        break;
    }
}

static void push_done(void *self, const ctl_pipe_item_t *item,
                      const Envelope *reply)
{
    push_t *p = self;
    const Keyuan__V1__Reply *r = NULL;

    if (reply && reply->body_case == KEYUAN__V1__ENVELOPE__BODY_REPLY &&
        reply->reply->status !=
            KEYUAN__V1__REPLY_STATUS__REPLY_STATUS_UNSPECIFIED)
        r = reply->reply;
    else if (reply) /* an answer we cannot count: say so, count it unanswered */
        fprintf(stderr, "keyuanctl push: %s %ld: unexpected %s answer\n",
                where(p), item->line, wire_body_name(reply));
    count(p, r);
    if (r == NULL && item->sends == 0)
        p->n.unsent++;
    report(p, item, r, false);
}

static void push_progress(void *self, uint64_t sent, uint64_t answered)
{
    push_t *p = self;

    ctl_progress_draw(&p->bar, ctl_input_offset(p->in), sent, answered);
}

/* --- arguments ------------------------------------------------------- */

enum { OPT_SOURCE = 256, OPT_FORMAT, OPT_WINDOW, OPT_ATTEMPTS };

static int positive(const char *s, uint64_t max, int *out)
{
    uint64_t v;

    if (ctl_parse_uint(s, max, &v) != KY_OK || v == 0)
        return KY_EINVAL;
    *out = (int)v;
    return KY_OK;
}

/* Handles one of push's own options; returns -1 or an exit code. */
static int push_option(push_args_t *a, int ch)
{
    int f;

    switch (ch) {
    case OPT_SOURCE:
        a->source = optarg;
        return *optarg ? -1 : ctl_usage_error("push", "empty --source");
    case OPT_FORMAT:
        if ((f = ctl_input_format_parse(optarg)) < 0)
            return ctl_usage_error("push", "unknown --format \"%s\"", optarg);
        a->format = (enum ctl_input_format)f;
        return -1;
    case OPT_WINDOW:
        if (positive(optarg, 100000, &a->cfg.window) == KY_OK)
            return -1;
        return ctl_usage_error("push", "--window wants 1..100000");
    case OPT_ATTEMPTS:
        if (positive(optarg, 100, &a->cfg.attempts) == KY_OK)
            return -1;
        return ctl_usage_error("push", "--attempts wants 1..100");
    }
    return -2; /* not ours */
}

static int push_positionals(push_args_t *a, int argc, char **argv)
{
    if (argc - optind != 2)
        return ctl_usage_error("push",
                               "expected leads|listings|contacts and FILE");
    if (strcmp(argv[optind], "leads") == 0)
        a->kind = CTL_INPUT_LEADS;
    else if (strcmp(argv[optind], "listings") == 0)
        a->kind = CTL_INPUT_LISTINGS;
    else if (strcmp(argv[optind], "contacts") == 0)
        a->kind = CTL_INPUT_CONTACTS;
    else
        return ctl_usage_error("push",
                               "push leads, listings or contacts, not "
                               "\"%s\"",
                               argv[optind]);
    a->path = argv[optind + 1];
    return -1;
}

static int push_args(ctl_opts_t *o, int argc, char **argv, push_args_t *a)
{
    static const struct option longopts[] = {
        {"source", required_argument, NULL, OPT_SOURCE},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"window", required_argument, NULL, OPT_WINDOW},
        {"attempts", required_argument, NULL, OPT_ATTEMPTS},
        CTL_COMMON_OPTIONS,
        {NULL, 0, NULL, 0}};
    int ch, rc;

    a->cfg = (ctl_pipe_cfg_t){PUSH_WINDOW, PUSH_TIMEOUT_MS, PUSH_ATTEMPTS};
    ctl_getopt_reset();
    while ((ch = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        rc = push_option(a, ch);
        if (rc == -2)
            rc = ctl_common_option(o, "push", ch, argv, push_usage);
        if (rc >= 0)
            return rc;
    }
    if (o->timeout_ms > 0)
        a->cfg.timeout_ms = o->timeout_ms;
    return push_positionals(a, argc, argv);
}

/* --- the command ----------------------------------------------------- */

/* The lines after the counts: why the run stopped, what to do. */
static void push_explain(const push_t *p, int rc, const char *ep)
{
    if (rc != KY_OK && !p->read_failed)
        fprintf(stderr, "keyuanctl push: stopped: %s\n", err_str(rc));
    if (p->n.unsent > 0)
        fprintf(stderr,
                "keyuanctl push: intake at %s did not answer; %llu "
                "rows were not sent\n",
                ep, (unsigned long long)p->n.unsent);
    if (p->n.unanswered > 0)
        fprintf(stderr,
                "keyuanctl push: %llu rows got no answer; pushing "
                "the file again is safe\n",
                (unsigned long long)p->n.unanswered);
}

static int push_run(push_t *p, const push_args_t *a)
{
    static const ctl_pipe_ops_t ops = {push_next, push_done, push_progress};
    const char *ep = ctl_endpoint_of(p->o, CTL_INTAKE);
    ctl_client_t *c;
    int rc;

    if ((c = ctl_client_new(p->o->zctx, ep, &rc)) == NULL) {
        fprintf(stderr, "keyuanctl push: cannot connect to intake at %s\n", ep);
        return CTL_EXIT_FAIL;
    }
    ctl_progress_init(&p->bar, ctl_input_size(p->in));
    rc = ctl_pipe_run(c, &a->cfg, &ops, p);
    ctl_progress_clear(&p->bar);
    ctl_client_destroy(&c);

    print_summary(p);
    push_explain(p, rc, ep);
    return rc != KY_OK || p->n.unanswered > 0 ? CTL_EXIT_FAIL : CTL_EXIT_OK;
}

int ctl_cmd_push(ctl_opts_t *o, int argc, char **argv)
{
    push_args_t a = {0};
    push_t p = {0};
    char errbuf[256];
    int rc = push_args(o, argc, argv, &a);

    if (rc >= 0)
        return rc;
    p.o = o;
    p.kind = a.kind;
    p.in = ctl_input_open(a.path, a.kind, a.format, a.source, stderr, &rc,
                          errbuf, sizeof errbuf);
    if (p.in == NULL) {
        fprintf(stderr, "keyuanctl push: %s: %s\n", a.path, errbuf);
        return rc == KY_ENOMEM ? CTL_EXIT_FAIL : CTL_EXIT_USAGE;
    }
    rc = push_run(&p, &a);
    ctl_input_destroy(&p.in);
    return rc;
}
