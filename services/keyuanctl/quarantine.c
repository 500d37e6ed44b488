/*
 * quarantine.c - keyuanctl quarantine: the events intake rejected, listed,
 * shown as they came, and replayed as they are or corrected.
 *
 * Intake keeps each rejected event's Envelope in protobuf form; here it
 * is unpacked and printed in proto3 JSON, and a corrected one is read
 * back from proto3 JSON (pbjson), so an operator can show an event, fix
 * the file and replay it.
 */
#include "ctl.h"

#include "err.h"
#include "out.h"
#include "parse.h"
#include "pbjson.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUARANTINE_TIMEOUT_MS 10000

typedef Keyuan__V1__QuarantinedEvent QuarantinedEvent;
typedef Keyuan__V1__Reply Reply;

#define STATUS_REJECTED KEYUAN__V1__REPLY_STATUS__REPLY_STATUS_REJECTED

static const char quarantine_usage[] =
    "usage: keyuanctl quarantine list [--after ID] [--limit N] [options]\n"
    "       keyuanctl quarantine show ID [options]\n"
    "       keyuanctl quarantine replay ID [--file CORRECTED.json] "
    "[options]\n"
    "\n"
    "Intake keeps every event it rejects. list prints them oldest first:\n"
    "id, time received (UTC), the rejection's code, field and message, the\n"
    "kind of event and whether a replay got it in. show prints one with\n"
    "the event in proto3 JSON. replay sends it through intake again, as\n"
    "kept or as corrected in a JSON file (an Envelope, or the bare event\n"
    "as `show` prints under \"lead\", \"contact\", ...), and prints the\n"
    "answer. With --json, list and show print one object an event, the\n"
    "event under \"envelope\" as an Envelope in proto3 JSON.\n"
    "\n"
    "options:\n"
    "  --after ID          list: only events after this id (paging)\n"
    "  --limit N           list: at most N (default 50, at most 1000)\n"
    "  --file PATH         replay: the corrected event (\"-\": stdin)\n"
    "\n" CTL_COMMON_HELP "\n"
    "Exit status: 0 on an answer (replay: when the event got in), 1 when\n"
    "intake did not answer or refused, 2 for usage errors.\n";

enum { OPT_AFTER = 256, OPT_LIMIT, OPT_FILE };

/* What the command line asked for. */
typedef struct qargs {
    const char *sub;  /* "list", "show" or "replay" */
    uint64_t id;      /* show, replay */
    uint64_t after;   /* list */
    uint32_t limit;   /* list; 0: intake's default */
    const char *file; /* replay; NULL: as kept */
} qargs_t;

/* ---- arguments ----------------------------------------------------- */

/* Handles one of the command's own options; -1, an exit code, or -2. */
static int qargs_option(qargs_t *a, int ch)
{
    uint64_t v;

    if (ch == OPT_AFTER || ch == OPT_LIMIT) {
        if (strcmp(a->sub, "list") != 0)
            return ctl_usage_error("quarantine", "--after and --limit are "
                                                 "for list");
        if (ctl_parse_uint(optarg, ch == OPT_AFTER ? UINT64_MAX : 1000, &v) !=
                KY_OK ||
            (ch == OPT_LIMIT && v == 0))
            return ctl_usage_error("quarantine", "bad number \"%s\"", optarg);
        if (ch == OPT_AFTER)
            a->after = v;
        else
            a->limit = (uint32_t)v;
        return -1;
    }
    if (ch != OPT_FILE)
        return -2;
    if (strcmp(a->sub, "replay") != 0)
        return ctl_usage_error("quarantine", "--file is for replay");
    a->file = optarg;
    return -1;
}

/* The id that show and replay take, and nothing else for list. */
static int qargs_operands(qargs_t *a, int argc, char **argv)
{
    bool wants_id = strcmp(a->sub, "list") != 0;

    if (optind + (wants_id ? 1 : 0) != argc)
        return ctl_usage_error("quarantine",
                               wants_id ? "%s wants one event id"
                                        : "%s takes no arguments",
                               a->sub);
    if (wants_id &&
        (ctl_parse_uint(argv[optind], UINT64_MAX, &a->id) != KY_OK ||
         a->id == 0))
        return ctl_usage_error("quarantine",
                               "an event id is a number, not "
                               "\"%s\"",
                               argv[optind]);
    return -1;
}

static int qargs_parse(ctl_opts_t *o, int argc, char **argv, qargs_t *a)
{
    static const struct option longopts[] = {
        {"after", required_argument, NULL, OPT_AFTER},
        {"limit", required_argument, NULL, OPT_LIMIT},
        {"file", required_argument, NULL, OPT_FILE},
        CTL_COMMON_OPTIONS,
        {NULL, 0, NULL, 0}};
    int ch, rc;

    ctl_getopt_reset();
    while ((ch = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        rc = qargs_option(a, ch);
        if (rc == -2)
            rc = ctl_common_option(o, "quarantine", ch, argv, quarantine_usage);
        if (rc >= 0)
            return rc;
    }
    return qargs_operands(a, argc, argv);
}

/* ---- asking intake ------------------------------------------------- */

/* Prints a refusal; always a failure. */
static int refused(const ctl_opts_t *o, const Reply *r)
{
    if (o->json)
        ctl_print_msg(&r->base);
    else
        fprintf(stderr, "keyuanctl quarantine: %s%s%s\n",
                r->code[0] ? r->code : "refused", r->message[0] ? ": " : "",
                r->message);
    return CTL_EXIT_FAIL;
}

/*
 * Sends a QuarantineQuery. Returns 0 with *reply holding a QuarantineList
 * (wire_free), or an exit code after saying what went wrong.
 */
static int ask_list(ctl_opts_t *o, const Keyuan__V1__QuarantineQuery *q,
                    Envelope **reply)
{
    Envelope req = KEYUAN__V1__ENVELOPE__INIT;
    int rc;

    req.body_case = KEYUAN__V1__ENVELOPE__BODY_QUARANTINE_QUERY;
    req.quarantine_query = (Keyuan__V1__QuarantineQuery *)q;
    if (ctl_request(o, CTL_INTAKE, &req, QUARANTINE_TIMEOUT_MS, reply) != 0)
        return CTL_EXIT_FAIL;
    if ((*reply)->body_case == KEYUAN__V1__ENVELOPE__BODY_QUARANTINE_LIST)
        return 0;
    if ((*reply)->body_case == KEYUAN__V1__ENVELOPE__BODY_REPLY) {
        rc = refused(o, (*reply)->reply);
    } else {
        fprintf(stderr, "keyuanctl quarantine: unexpected %s answer\n",
                wire_body_name(*reply));
        rc = CTL_EXIT_FAIL;
    }
    wire_free(*reply);
    *reply = NULL;
    return rc;
}

/* The kept event unpacked; NULL when the bytes are not an Envelope. */
static Envelope *event_of(const QuarantinedEvent *e)
{
    return wire_unpack(e->envelope.data, e->envelope.len);
}

/* ---- printing ------------------------------------------------------ */

/* "yes" once a replay got the event in; "rejected again", or "-". */
static const char *replayed_text(const QuarantinedEvent *e)
{
    if (e->replay_reply == NULL)
        return "-";
    return e->replay_reply->status == STATUS_REJECTED ? "rejected again"
                                                      : "yes";
}

/* The entry as JSON, with the event as an Envelope object, not base64. */
static json_t *entry_json(const QuarantinedEvent *e)
{
    json_t *j = pbjson_from_message(&e->base);
    Envelope *env = event_of(e);
    json_t *ej = env ? pbjson_from_message(&env->base) : NULL;

    if (j && ej)
        json_object_set_new(j, "envelope", ej);
    else
        json_decref(ej);
    wire_free(env);
    return j;
}

static int entry_row(ctl_table_t *t, const QuarantinedEvent *e)
{
    static const Reply none = KEYUAN__V1__REPLY__INIT;
    const Reply *r = e->reply ? e->reply : &none;
    Envelope *env = event_of(e);
    const char *body = env ? wire_body_name(env) : "?";
    char id[24], received[32];
    const char *cells[7] = {id,         received, r->code,         r->field,
                            r->message, body,     replayed_text(e)};
    int rc;

    snprintf(id, sizeof id, "%llu", (unsigned long long)e->quarantine_id);
    ctl_format_ts(e->received_at, received, sizeof received);
    rc = ctl_table_add(t, cells);
    wire_free(env);
    return rc;
}

static int list_table(const Keyuan__V1__QuarantineList *list)
{
    static const char *const headers[7] = {
        "ID", "RECEIVED", "CODE", "FIELD", "MESSAGE", "BODY", "REPLAYED"};
    ctl_table_t *t = ctl_table_new(7, headers);
    int rc = t ? KY_OK : KY_ENOMEM;

    for (size_t i = 0; rc == KY_OK && i < list->n_events; i++)
        rc = entry_row(t, list->events[i]);
    if (rc == KY_OK)
        ctl_table_print(t, stdout);
    ctl_table_destroy(&t);
    return rc;
}

static int list_print(const ctl_opts_t *o,
                      const Keyuan__V1__QuarantineList *list)
{
    int rc = KY_OK;

    if (o->json) {
        for (size_t i = 0; rc == KY_OK && i < list->n_events; i++) {
            json_t *j = entry_json(list->events[i]);

            rc = j ? ctl_print_json(j) : KY_ENOMEM;
        }
    } else if (list->n_events == 0) {
        printf("no quarantined events\n");
    } else {
        rc = list_table(list);
    }
    return rc == KY_OK ? CTL_EXIT_OK : CTL_EXIT_FAIL;
}

static void reply_line(const char *label, const Reply *r)
{
    char status[32];

    ctl_enum_short(&keyuan__v1__reply_status__descriptor, "REPLY_STATUS_",
                   r->status, status, sizeof status);
    printf("%-10s%s%s%s%s%s\n", label, status, r->code[0] ? " " : "", r->code,
           r->message[0] ? ": " : "", r->message);
}

/* "field: value" lines for people, then the event in indented JSON. */
static int show_text(const QuarantinedEvent *e)
{
    Envelope *env = event_of(e);
    char received[32], *json = NULL, *text = NULL;

    printf("%-10s%llu\n", "id:", (unsigned long long)e->quarantine_id);
    printf("%-10s%s\n", "received:",
           ctl_format_ts(e->received_at, received, sizeof received));
    if (e->reply)
        reply_line("reply:", e->reply);
    if (e->replay_reply)
        reply_line("replay:", e->replay_reply);
    if (env && (json = pbjson_encode(&env->base, JSON_INDENT(2))) != NULL)
        text = ctl_defang(json, false);
    free(json);
    printf("event:\n%s\n", text ? text : "(not readable)");
    free(text);
    wire_free(env);
    return text ? CTL_EXIT_OK : CTL_EXIT_FAIL;
}

/* ---- the subcommands ----------------------------------------------- */

static int cmd_list(ctl_opts_t *o, const qargs_t *a)
{
    Keyuan__V1__QuarantineQuery q = KEYUAN__V1__QUARANTINE_QUERY__INIT;
    Envelope *reply = NULL;
    int rc;

    q.after_id = a->after;
    q.limit = a->limit;
    if ((rc = ask_list(o, &q, &reply)) != 0)
        return rc;
    rc = list_print(o, reply->quarantine_list);
    wire_free(reply);
    return rc;
}

/* Fetches entry id; 0 with *reply holding it, or an exit code. */
static int fetch_one(ctl_opts_t *o, uint64_t id, Envelope **reply)
{
    Keyuan__V1__QuarantineQuery q = KEYUAN__V1__QUARANTINE_QUERY__INIT;
    int rc;

    q.quarantine_id = id;
    if ((rc = ask_list(o, &q, reply)) != 0)
        return rc;
    if ((*reply)->quarantine_list->n_events == 1)
        return 0;
    fprintf(stderr, "keyuanctl quarantine: intake sent no event %llu\n",
            (unsigned long long)id);
    wire_free(*reply);
    *reply = NULL;
    return CTL_EXIT_FAIL;
}

static int cmd_show(ctl_opts_t *o, const qargs_t *a)
{
    Envelope *reply = NULL;
    const QuarantinedEvent *e;
    json_t *j;
    int rc = fetch_one(o, a->id, &reply);

    if (rc)
        return rc;
    e = reply->quarantine_list->events[0];
    if (o->json)
        rc = (j = entry_json(e)) != NULL && ctl_print_json(j) == KY_OK
                 ? CTL_EXIT_OK
                 : CTL_EXIT_FAIL;
    else
        rc = show_text(e);
    wire_free(reply);
    return rc;
}

/* ---- replay -------------------------------------------------------- */

/* Reads all of path ("-": stdin) into a NUL-ended buffer (free). */
static char *read_all(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n;

    *len = 0;
    if (f == NULL)
        return NULL;
    do {
        char *grown = realloc(buf, cap = cap * 2 + 4096);

        if (grown == NULL) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = grown;
        *len += n = fread(buf + *len, 1, cap - *len - 1, f);
    } while (n > 0);
    if (buf && ferror(f)) {
        free(buf);
        buf = NULL;
    }
    if (buf)
        buf[*len] = '\0';
    if (f != stdin)
        fclose(f);
    return buf;
}

/*
 * The event as the body kind the kept event had: text holds the bare
 * body. Returns an Envelope (wire_free), or NULL with errbuf saying why.
 */
static Envelope *decode_body(int kind, const char *text, size_t len,
                             char *errbuf, size_t errlen)
{
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(
        &keyuan__v1__envelope__descriptor, (unsigned)kind);
    ProtobufCMessage *body;
    Envelope *env;

    if (f == NULL || f->type != PROTOBUF_C_TYPE_MESSAGE ||
        pbjson_decode(f->descriptor, text, len, &body, errbuf, errlen) != 0)
        return NULL;
    env = calloc(1, sizeof *env);
    if (env == NULL) {
        protobuf_c_message_free_unpacked(body, NULL);
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    keyuan__v1__envelope__init(env);
    env->body_case = (Keyuan__V1__Envelope__BodyCase)kind;
    /* The oneof member's pointer, wherever the generated struct keeps it;
     * wire_free() then frees the body with the envelope. */
    *(ProtobufCMessage **)((char *)env + f->offset) = body;
    return env;
}

/*
 * The corrected event from text: an Envelope with a body, else the bare
 * body of the kind the kept event has (asked from intake only then).
 */
static int decode_corrected(ctl_opts_t *o, const qargs_t *a, const char *text,
                            size_t len, Envelope **out)
{
    ProtobufCMessage *msg = NULL;
    Envelope *reply = NULL, *kept;
    char err[256] = "the kept event cannot be read";
    int rc;

    if (pbjson_decode(&keyuan__v1__envelope__descriptor, text, len, &msg, err,
                      sizeof err) == 0 &&
        ((Envelope *)msg)->body_case != KEYUAN__V1__ENVELOPE__BODY__NOT_SET) {
        *out = (Envelope *)msg;
        return 0;
    }
    wire_free((Envelope *)msg);
    if ((rc = fetch_one(o, a->id, &reply)) != 0)
        return rc;
    kept = event_of(reply->quarantine_list->events[0]);
    *out =
        kept ? decode_body(kept->body_case, text, len, err, sizeof err) : NULL;
    wire_free(kept);
    wire_free(reply);
    if (*out)
        return 0;
    fprintf(stderr,
            "keyuanctl quarantine: %s: neither an Envelope nor the kept "
            "event's body: %s\n",
            a->file, err);
    return CTL_EXIT_USAGE;
}

/* Packs the corrected event from a->file into r->envelope (free). */
static int corrected_pack(ctl_opts_t *o, const qargs_t *a,
                          Keyuan__V1__QuarantineReplay *r)
{
    size_t len;
    char *text = read_all(a->file, &len);
    Envelope *env = NULL;
    int rc;

    if (text == NULL) {
        fprintf(stderr, "keyuanctl quarantine: cannot read %s\n", a->file);
        return CTL_EXIT_USAGE;
    }
    rc = decode_corrected(o, a, text, len, &env);
    free(text);
    if (rc)
        return rc;
    r->envelope.data = wire_pack(&env->base, &r->envelope.len);
    wire_free(env);
    return r->envelope.data ? 0 : CTL_EXIT_FAIL;
}

static int replay_print(const ctl_opts_t *o, const Envelope *reply)
{
    const Reply *r = reply->reply;

    if (reply->body_case != KEYUAN__V1__ENVELOPE__BODY_REPLY) {
        fprintf(stderr, "keyuanctl quarantine: unexpected %s answer\n",
                wire_body_name(reply));
        return CTL_EXIT_FAIL;
    }
    if (r->status == STATUS_REJECTED)
        return refused(o, r);
    if (o->json)
        ctl_print_msg(&r->base);
    else
        reply_line("replayed:", r);
    return CTL_EXIT_OK;
}

static int cmd_replay(ctl_opts_t *o, const qargs_t *a)
{
    Keyuan__V1__QuarantineReplay r = KEYUAN__V1__QUARANTINE_REPLAY__INIT;
    Envelope req = KEYUAN__V1__ENVELOPE__INIT, *reply = NULL;
    int rc = a->file ? corrected_pack(o, a, &r) : 0;

    if (rc)
        return rc;
    r.quarantine_id = a->id;
    req.body_case = KEYUAN__V1__ENVELOPE__BODY_QUARANTINE_REPLAY;
    req.quarantine_replay = &r;
    rc = ctl_request(o, CTL_INTAKE, &req, QUARANTINE_TIMEOUT_MS, &reply);
    free(r.envelope.data);
    if (rc != KY_OK)
        return CTL_EXIT_FAIL;
    rc = replay_print(o, reply);
    wire_free(reply);
    return rc;
}

int ctl_cmd_quarantine(ctl_opts_t *o, int argc, char **argv)
{
    qargs_t a = {0};
    int rc;

    if (argc < 2 || strcmp(argv[1], "--help") == 0) {
        fputs(quarantine_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CTL_EXIT_USAGE : CTL_EXIT_OK;
    }
    a.sub = argv[1];
    if (strcmp(a.sub, "list") && strcmp(a.sub, "show") &&
        strcmp(a.sub, "replay"))
        return ctl_usage_error("quarantine", "unknown subcommand \"%s\"",
                               a.sub);
    if ((rc = qargs_parse(o, argc - 1, argv + 1, &a)) >= 0)
        return rc;
    if (strcmp(a.sub, "list") == 0)
        return cmd_list(o, &a);
    return strcmp(a.sub, "show") == 0 ? cmd_show(o, &a) : cmd_replay(o, &a);
}
