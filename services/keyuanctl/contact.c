/*
 * contact.c - keyuanctl log contact: one contact between an agent and a
 * customer, appended to the customer's contact log by intake.
 *
 * The ContactLog carries a (source, source event id) like every event
 * from outside, so sending it again is safe: intake answers "duplicate"
 * and logs nothing twice. When the operator gives no --event-id, a random
 * one is made and printed, so that a run that got no answer can be
 * repeated with the same id.
 */
#include "contact.h"

#include "clock.h"
#include "ctl.h"
#include "err.h"
#include "out.h"
#include "parse.h"
#include "pbjson.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define LOG_TIMEOUT_MS 5000
#define LOG_DEFAULT_SOURCE "keyuanctl"

static const char log_usage[] =
    "usage: keyuanctl log contact --customer ID --channel CHANNEL\n"
    "                             --summary TEXT [options]\n"
    "\n"
    "Appends a contact to a customer's contact log. Intake applies the\n"
    "changes of need (--set) to the file, records them in its history,\n"
    "and passes the contact on so that grading and the scheduler react.\n"
    "\n"
    "options:\n"
    "  --customer ID       the customer's id (keyuanctl show)\n"
    "  --channel CHANNEL   phone, wechat, visit, sms, other, or 电话,\n"
    "                      微信, 到访, 短信, 其他\n"
    "  --summary TEXT      what was said\n"
    "  --feedback TEXT     the customer's feedback\n"
    "  --next-step ACTION  the next step agreed, with --next-at\n"
    "  --next-at TIME      when it is due (RFC 3339, or YYYY-MM-DD HH:MM\n"
    "                      in Beijing time)\n"
    "  --at TIME           when the contact took place (default: now)\n"
    "  --agent ID          the agent who made the contact\n"
    "  --source S          where the log comes from (default keyuanctl)\n"
    "  --event-id ID       the event's id at that source (default: a new\n"
    "                      random one, printed); the same id again is a\n"
    "                      duplicate, so a retry logs nothing twice\n"
    "  --set PATH=JSON     a change of need, repeatable: PATH is a field of\n"
    "                      the customer file (needs.budgetMaxWan,\n"
    "                      needs.regionCodes, hobbies, ...), JSON its new\n"
    "                      value; text that is not JSON is a string\n"
    "\n" CTL_COMMON_HELP "\n"
    "Exit status: 0 when intake logged the contact or had logged it\n"
    "before, 1 when it refused or did not answer, 2 for usage errors.\n";

/* --- changes --------------------------------------------------------- */

/* The proto3 JSON name of a field: lowerCamelCase of its name. */
static void camel_of(const char *name, char *out, size_t outlen)
{
    size_t n = 0;
    bool up = false;

    for (; *name && n + 1 < outlen; name++) {
        if (*name == '_') {
            up = true;
            continue;
        }
        out[n++] = up ? (char)toupper((unsigned char)*name) : *name;
        up = false;
    }
    out[n] = '\0';
}

/* The field of desc named seg (len bytes) in either spelling, or NULL. */
static const ProtobufCFieldDescriptor *
field_named(const ProtobufCMessageDescriptor *desc, const char *seg, size_t len)
{
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields[i];
        char camel[64];

        camel_of(f->name, camel, sizeof camel);
        if ((strlen(f->name) == len && strncmp(f->name, seg, len) == 0) ||
            (strlen(camel) == len && strncmp(camel, seg, len) == 0))
            return f;
    }
    return NULL;
}

/*
 * Checks path against Profile and writes it in lowerCamelCase into out.
 * Every segment but the last must be a message field that is not a list.
 */
static int path_normalise(const char *path, char *out, size_t outlen,
                          char *errbuf, size_t errlen)
{
    const ProtobufCMessageDescriptor *desc = &keyuan__v1__profile__descriptor;
    const char *seg = path;
    size_t n = 0;

    for (;;) {
        size_t len = strcspn(seg, ".");
        const ProtobufCFieldDescriptor *f =
            desc ? field_named(desc, seg, len) : NULL;
        char camel[64];

        if (f == NULL) {
            snprintf(errbuf, errlen, "no field \"%s\" in the customer file",
                     path);
            return KY_EINVAL;
        }
        camel_of(f->name, camel, sizeof camel);
        n += (size_t)snprintf(out + n, outlen - n, "%s%s", n ? "." : "", camel);
        if (n >= outlen) {
            snprintf(errbuf, errlen, "the path \"%s\" is too long", path);
            return KY_EINVAL;
        }
        if (seg[len] == '\0')
            return KY_OK;
        desc = f->type == PROTOBUF_C_TYPE_MESSAGE &&
                       f->label != PROTOBUF_C_LABEL_REPEATED
                   ? f->descriptor
                   : NULL;
        seg += len + 1;
    }
}

/* True when one of a and b is the other or a field inside it. */
static bool paths_overlap(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), n = la < lb ? la : lb;

    return strncmp(a, b, n) == 0 && (la == lb || (la < lb ? b : a)[n] == '.');
}

/* The value of a --set: JSON, or the text itself as a JSON string. */
static json_t *value_of(const char *text)
{
    json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);

    return v ? v : json_string(text);
}

/* Puts v (stolen) at the dotted path of doc, making objects on the way. */
static int doc_set(json_t *doc, const char *path, json_t *v)
{
    char seg[64];

    for (;;) {
        size_t len = strcspn(path, ".");
        json_t *next;

        snprintf(seg, sizeof seg, "%.*s", (int)len, path);
        if (path[len] == '\0')
            return json_object_set_new(doc, seg, v) == 0 ? KY_OK : KY_ENOMEM;
        next = json_object_get(doc, seg);
        if (next == NULL) {
            next = json_object();
            if (next == NULL || json_object_set_new(doc, seg, next) != 0) {
                json_decref(v);
                return KY_ENOMEM;
            }
        }
        doc = next;
        path += len + 1;
    }
}

/* Records path (copied) in ch->paths. */
static int paths_add(ctl_changes_t *ch, const char *path)
{
    char **p = realloc(ch->paths, (ch->npaths + 1) * sizeof *p);

    if (p == NULL)
        return KY_ENOMEM;
    ch->paths = p;
    if ((p[ch->npaths] = strdup(path)) == NULL)
        return KY_ENOMEM;
    ch->npaths++;
    return KY_OK;
}

int ctl_changes_add(ctl_changes_t *ch, const char *arg, char *errbuf,
                    size_t errlen)
{
    const char *eq = strchr(arg, '=');
    char raw[256], path[256];
    json_t *v;
    int rc;

    if (eq == NULL || eq == arg || (size_t)(eq - arg) >= sizeof raw) {
        snprintf(errbuf, errlen, "--set wants PATH=JSON, not \"%s\"", arg);
        return KY_EINVAL;
    }
    snprintf(raw, sizeof raw, "%.*s", (int)(eq - arg), arg);
    if ((rc = path_normalise(raw, path, sizeof path, errbuf, errlen)) != 0)
        return rc;
    for (size_t i = 0; i < ch->npaths; i++) {
        if (paths_overlap(ch->paths[i], path)) {
            snprintf(errbuf, errlen, "--set %s overlaps --set %s", path,
                     ch->paths[i]);
            return KY_EINVAL;
        }
    }

    if (ch->doc == NULL && (ch->doc = json_object()) == NULL)
        return KY_ENOMEM;
    if ((v = value_of(eq + 1)) == NULL) {
        snprintf(errbuf, errlen, "--set %s: the value is not UTF-8 text", path);
        return KY_EINVAL;
    }
    if ((rc = doc_set(ch->doc, path, v)) != KY_OK)
        return rc;
    return paths_add(ch, path);
}

int ctl_changes_build(const ctl_changes_t *ch, Keyuan__V1__Profile **out,
                      char *errbuf, size_t errlen)
{
    ProtobufCMessage *msg = NULL;
    int rc;

    *out = NULL;
    if (ch->npaths == 0)
        return KY_OK;
    rc = pbjson_to_message(&keyuan__v1__profile__descriptor, ch->doc, &msg,
                           errbuf, errlen);
    *out = (Keyuan__V1__Profile *)msg;
    return rc;
}

void ctl_changes_clear(ctl_changes_t *ch)
{
    for (size_t i = 0; i < ch->npaths; i++)
        free(ch->paths[i]);
    free(ch->paths);
    json_decref(ch->doc);
    memset(ch, 0, sizeof *ch);
}

int ctl_event_id_new(char out[CTL_EVENT_ID_SIZE])
{
    unsigned char b[16];
    size_t n = 0;

    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
        return KY_EIO;
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80); /* RFC 4122 variant */
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[n++] = '-';
        n += (size_t)snprintf(out + n, CTL_EVENT_ID_SIZE - n, "%02x", b[i]);
    }
    return KY_OK;
}

/* --- arguments ------------------------------------------------------- */

/* What the command line says, and the storage of the ContactLog. */
typedef struct log_args {
    Keyuan__V1__ContactLog ev;
    Keyuan__V1__NextStep next;
    Google__Protobuf__Timestamp at, due;
    ctl_changes_t changes;
    Keyuan__V1__Profile *profile; /* built from changes */
    char event_id[CTL_EVENT_ID_SIZE];
    bool made_id; /* event_id was made here, not given */
} log_args_t;

enum {
    OPT_CUSTOMER = 256,
    OPT_CHANNEL,
    OPT_SUMMARY,
    OPT_FEEDBACK,
    OPT_NEXT_STEP,
    OPT_NEXT_AT,
    OPT_AT,
    OPT_AGENT,
    OPT_SOURCE,
    OPT_EVENT_ID,
    OPT_SET
};

/* A time option into ts; returns -1 or the usage error's exit code. */
static int time_arg(const char *opt, const char *s,
                    Google__Protobuf__Timestamp *ts)
{
    int64_t ms;

    if (ctl_parse_time(s, &ms) != KY_OK)
        return ctl_usage_error("log",
                               "%s wants a time such as "
                               "2026-05-01T09:30:00+08:00 or "
                               "\"2026-05-01 09:30\", not \"%s\"",
                               opt, s);
    wire_ts_set(ts, ms);
    return -1;
}

static int value_option(log_args_t *a, int ch)
{
    uint64_t id;
    int v;

    switch (ch) {
    case OPT_CUSTOMER:
        if (ctl_parse_uint(optarg, UINT64_MAX, &id) != KY_OK || id == 0)
            return ctl_usage_error("log",
                                   "--customer wants a customer id, "
                                   "not \"%s\"",
                                   optarg);
        a->ev.customer_id = id;
        return -1;
    case OPT_CHANNEL:
        if (ctl_parse_enum(&ctl_enum_channel, optarg, &v) != KY_OK || v == 0)
            return ctl_usage_error("log", "unknown --channel \"%s\": use %s",
                                   optarg, ctl_enum_channel.hint);
        a->ev.channel = (Keyuan__V1__Channel)v;
        return -1;
    case OPT_AT:
        a->ev.contacted_at = &a->at;
        return time_arg("--at", optarg, &a->at);
    case OPT_NEXT_AT:
        a->next.due_at = &a->due;
        return time_arg("--next-at", optarg, &a->due);
    }
    return -2;
}

/* Handles one of log's own options; returns -1, -2 (not ours) or a code. */
static int log_option(log_args_t *a, int ch)
{
    char err[256];
    int rc;

    switch (ch) {
    case OPT_SUMMARY:
        a->ev.summary = optarg;
        return -1;
    case OPT_FEEDBACK:
        a->ev.feedback = optarg;
        return -1;
    case OPT_NEXT_STEP:
        a->next.action = optarg;
        return -1;
    case OPT_AGENT:
        a->ev.agent_id = optarg;
        return -1;
    case OPT_SOURCE:
        a->ev.source = optarg;
        return -1;
    case OPT_EVENT_ID:
        a->ev.source_event_id = optarg;
        return -1;
    case OPT_SET:
        rc = ctl_changes_add(&a->changes, optarg, err, sizeof err);
        if (rc == KY_ENOMEM)
            return ctl_usage_error("log", "out of memory");
        return rc == KY_OK ? -1 : ctl_usage_error("log", "%s", err);
    }
    return value_option(a, ch);
}

/* Checks what must be given, and fills in the defaults. */
static int log_complete(log_args_t *a)
{
    char err[256];

    if (a->ev.customer_id == 0 || a->ev.channel == 0 || !*a->ev.summary)
        return ctl_usage_error("log", "--customer, --channel and --summary "
                                      "are required");
    if (!*a->next.action != (a->next.due_at == NULL))
        return ctl_usage_error("log", "--next-step and --next-at go "
                                      "together");
    if (*a->next.action)
        a->ev.next_step = &a->next;
    if (*a->ev.source_event_id == '\0') {
        if (ctl_event_id_new(a->event_id) != KY_OK)
            return ctl_usage_error("log", "no randomness for an event id: "
                                          "give --event-id");
        a->ev.source_event_id = a->event_id;
        a->made_id = true;
    }
    if (a->ev.contacted_at == NULL) {
        wire_ts_set(&a->at, clock_now_ms());
        a->ev.contacted_at = &a->at;
    }
    if (ctl_changes_build(&a->changes, &a->profile, err, sizeof err) != 0)
        return ctl_usage_error("log", "--set %s", err);
    a->ev.changes = a->profile;
    a->ev.change_paths = a->changes.paths;
    a->ev.n_change_paths = a->changes.npaths;
    return -1;
}

static int log_args(ctl_opts_t *o, int argc, char **argv, log_args_t *a)
{
    static const struct option longopts[] = {
        {"customer", required_argument, NULL, OPT_CUSTOMER},
        {"channel", required_argument, NULL, OPT_CHANNEL},
        {"summary", required_argument, NULL, OPT_SUMMARY},
        {"feedback", required_argument, NULL, OPT_FEEDBACK},
        {"next-step", required_argument, NULL, OPT_NEXT_STEP},
        {"next-at", required_argument, NULL, OPT_NEXT_AT},
        {"at", required_argument, NULL, OPT_AT},
        {"agent", required_argument, NULL, OPT_AGENT},
        {"source", required_argument, NULL, OPT_SOURCE},
        {"event-id", required_argument, NULL, OPT_EVENT_ID},
        {"set", required_argument, NULL, OPT_SET},
        CTL_COMMON_OPTIONS,
        {NULL, 0, NULL, 0}};
    int ch, rc;

    ctl_getopt_reset();
    while ((ch = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        rc = log_option(a, ch);
        if (rc == -2)
            rc = ctl_common_option(o, "log", ch, argv, log_usage);
        if (rc >= 0)
            return rc;
    }
    if (optind == argc || strcmp(argv[optind], "contact") != 0)
        return ctl_usage_error("log", "expected \"log contact\"");
    if (optind + 1 != argc)
        return ctl_usage_error("log", "unexpected argument \"%s\"",
                               argv[optind + 1]);
    return log_complete(a);
}

static void log_args_init(log_args_t *a)
{
    memset(a, 0, sizeof *a);
    keyuan__v1__contact_log__init(&a->ev);
    keyuan__v1__next_step__init(&a->next);
    google__protobuf__timestamp__init(&a->at);
    google__protobuf__timestamp__init(&a->due);
    a->ev.source = LOG_DEFAULT_SOURCE;
}

static void log_args_clear(log_args_t *a)
{
    if (a->profile)
        protobuf_c_message_free_unpacked(&a->profile->base, NULL);
    ctl_changes_clear(&a->changes);
}

/* --- the answer ------------------------------------------------------ */

static int print_json(const log_args_t *a, const Keyuan__V1__Reply *r)
{
    json_t *obj = pbjson_from_message(&r->base);

    if (obj == NULL)
        return KY_ENOMEM;
    json_object_set_new(obj, "source", json_string(a->ev.source));
    json_object_set_new(obj, "sourceEventId",
                        json_string(a->ev.source_event_id));
    return ctl_print_json(obj);
}

static void print_human(const log_args_t *a, const Keyuan__V1__Reply *r)
{
    const char *id = a->ev.source_event_id;

    switch (r->status) {
    case KEYUAN__V1__REPLY_STATUS__REPLY_STATUS_ACCEPTED:
        printf("logged: customer %llu, source %s, event id %s\n",
               (unsigned long long)r->customer_id, a->ev.source, id);
        break;
    case KEYUAN__V1__REPLY_STATUS__REPLY_STATUS_DUPLICATE:
        printf("duplicate: event id %s of source %s was logged before; "
               "nothing changed\n",
               id, a->ev.source);
        break;
    default:
        fprintf(stderr, "keyuanctl log: rejected %s%s%s: %s\n",
                r->code[0] ? r->code : "(no code)", r->field[0] ? " at " : "",
                r->field, r->message);
        break;
    }
}

static int log_answer(const ctl_opts_t *o, const log_args_t *a,
                      const Envelope *reply)
{
    const Keyuan__V1__Reply *r = reply->reply;

    if (reply->body_case != KEYUAN__V1__ENVELOPE__BODY_REPLY) {
        fprintf(stderr, "keyuanctl log: unexpected %s answer\n",
                wire_body_name(reply));
        return CTL_EXIT_FAIL;
    }
    if (o->json)
        print_json(a, r);
    else
        print_human(a, r);
    return r->status == KEYUAN__V1__REPLY_STATUS__REPLY_STATUS_ACCEPTED ||
                   r->status == KEYUAN__V1__REPLY_STATUS__REPLY_STATUS_DUPLICATE
               ? CTL_EXIT_OK
               : CTL_EXIT_FAIL;
}

int ctl_cmd_log(ctl_opts_t *o, int argc, char **argv)
{
    Envelope req = KEYUAN__V1__ENVELOPE__INIT, *reply = NULL;
    log_args_t a;
    int rc;

    log_args_init(&a);
    if ((rc = log_args(o, argc, argv, &a)) >= 0)
        goto done;
    req.body_case = KEYUAN__V1__ENVELOPE__BODY_CONTACT;
    req.contact = &a.ev;
    if (ctl_request(o, CTL_INTAKE, &req, LOG_TIMEOUT_MS, &reply) != KY_OK) {
        fprintf(stderr,
                "keyuanctl log: the contact may or may not be logged; run "
                "again with --source %s --event-id %s to be sure, without "
                "logging it twice\n",
                a.ev.source, a.ev.source_event_id);
        rc = CTL_EXIT_FAIL;
        goto done;
    }
    rc = log_answer(o, &a, reply);
    wire_free(reply);

done:
    log_args_clear(&a);
    return rc;
}
