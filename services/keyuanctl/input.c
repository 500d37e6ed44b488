/* input.c - events from CSV, JSON Lines or JSON files (see input.h). */
#include "input.h"

#include "err.h"
#include "out.h"
#include "pbjson.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

struct ctl_input {
    enum ctl_input_kind kind;
    enum ctl_input_format format; /* never AUTO once open */
    const char *source;           /* --source, borrowed; may be NULL */
    FILE *raw;                    /* the file opened, or stdin */
    bool own_raw;                 /* raw is ours to close (not stdin) */
    FILE *f;                      /* what is read: raw, or raw in UTF-8 */
    long size;                    /* bytes of f; 0: not a regular file */
    ctl_csv_t *csv;               /* CSV: the reader and its header */
    ctl_header_t hdr;
    ctl_lead_t lead; /* CSV: the event of the last row */
    ctl_listing_t listing;
    ctl_contact_t contact;
    char *line; /* JSON Lines: the last line */
    size_t linecap;
    long lineno;
    json_t *doc; /* JSON: the array of events */
    size_t next_elem;
    ProtobufCMessage *decoded; /* JSON: the last event decoded */
};

int ctl_input_format_parse(const char *s)
{
    if (strcmp(s, "csv") == 0)
        return CTL_FORMAT_CSV;
    if (strcmp(s, "jsonl") == 0 || strcmp(s, "ndjson") == 0)
        return CTL_FORMAT_JSONL;
    if (strcmp(s, "json") == 0)
        return CTL_FORMAT_JSON;
    return -1;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static int format_of(const char *path)
{
    if (ends_with(path, ".csv") || ends_with(path, ".tsv"))
        return CTL_FORMAT_CSV;
    if (ends_with(path, ".jsonl") || ends_with(path, ".ndjson"))
        return CTL_FORMAT_JSONL;
    if (ends_with(path, ".json"))
        return CTL_FORMAT_JSON;
    return -1;
}

static const ProtobufCMessageDescriptor *event_desc(const ctl_input_t *in)
{
    switch (in->kind) {
    case CTL_INPUT_LEADS:
        return &keyuan__v1__lead_event__descriptor;
    case CTL_INPUT_LISTINGS:
        return &keyuan__v1__listing_event__descriptor;
    default:
        return &keyuan__v1__contact_log__descriptor;
    }
}

/* Copies s into item's label, cut at a character boundary. */
static void label_set(ctl_pipe_item_t *item, const char *s)
{
    size_t n = strlen(s);

    if (n >= sizeof item->label) {
        n = sizeof item->label - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(item->label, s, n);
    item->label[n] = '\0';
    /* The label goes to the operator's terminal: a crafted file must not
     * be able to send it escape sequences. */
    for (char *c = item->label; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7F)
            *c = '?';
}

/* --- opening --------------------------------------------------------- */

/* Makes in->f the file's text in UTF-8 (see ctl_csv_decode()). */
static int open_text(ctl_input_t *in, FILE *warn, char *errbuf, size_t errlen)
{
    enum ctl_encoding enc;
    struct stat st;
    int rc;

    in->f = ctl_csv_decode(in->raw, &enc, &rc, errbuf, errlen);
    if (in->f == NULL)
        return rc;
    if (in->f != in->raw && fstat(fileno(in->f), &st) == 0)
        in->size = (long)st.st_size;
    if (warn && enc != CTL_ENC_UTF8 && enc != CTL_ENC_UTF8_BOM)
        fprintf(warn, "note: reading the file as %s text\n",
                ctl_encoding_name(enc));
    return KY_OK;
}

static int header_of(ctl_input_t *in, const ctl_csv_row_t *hdr, FILE *warn,
                     char *errbuf, size_t errlen)
{
    switch (in->kind) {
    case CTL_INPUT_LEADS:
        return ctl_header_leads(hdr, &in->hdr, warn, errbuf, errlen);
    case CTL_INPUT_LISTINGS:
        return ctl_header_listings(hdr, &in->hdr, warn, errbuf, errlen);
    default:
        return ctl_header_contacts(hdr, &in->hdr, warn, errbuf, errlen);
    }
}

static int open_csv(ctl_input_t *in, FILE *warn, char *errbuf, size_t errlen)
{
    ctl_csv_row_t hdr;
    int rc = open_text(in, warn, errbuf, errlen);

    if (rc != KY_OK)
        return rc;
    if ((in->csv = ctl_csv_new(in->f)) == NULL)
        return KY_ENOMEM;
    ctl_csv_set_delimiter(in->csv, ctl_csv_sniff_delimiter(in->f));
    rc = ctl_csv_next(in->csv, &hdr);
    if (rc == 0) {
        snprintf(errbuf, errlen, "the file is empty: no header row");
        return KY_EINVAL;
    }
    if (rc < 0) {
        snprintf(errbuf, errlen, "cannot read: %s", err_str(rc));
        return rc;
    }
    return header_of(in, &hdr, warn, errbuf, errlen);
}

/* Loads a whole JSON document; falls back to JSON Lines when the file is
 * not one document (several objects, one a line, under a .json name). */
static int open_json(ctl_input_t *in, char *errbuf, size_t errlen)
{
    json_error_t jerr;

    in->doc = json_loadf(in->f, JSON_REJECT_DUPLICATES, &jerr);
    if (in->doc == NULL) {
        if (in->own_raw && fseek(in->f, 0, SEEK_SET) == 0) {
            in->format = CTL_FORMAT_JSONL;
            return KY_OK;
        }
        snprintf(errbuf, errlen, "not JSON: line %d: %s", jerr.line, jerr.text);
        return KY_EINVAL;
    }
    if (json_is_object(in->doc)) {
        json_t *array = json_array();

        if (array == NULL || json_array_append_new(array, in->doc) != 0)
            return KY_ENOMEM;
        in->doc = array;
    }
    if (!json_is_array(in->doc)) {
        snprintf(errbuf, errlen, "expected an array of events or an event");
        return KY_EINVAL;
    }
    return KY_OK;
}

static int open_file(ctl_input_t *in, const char *path, char *errbuf,
                     size_t errlen)
{
    struct stat st;

    in->own_raw = strcmp(path, "-") != 0;
    in->raw = in->own_raw ? fopen(path, "rb") : stdin;
    if (in->raw == NULL) {
        snprintf(errbuf, errlen, "cannot open: %s", strerror(errno));
        return KY_EIO;
    }
    in->f = in->raw;
    if (fstat(fileno(in->raw), &st) == 0 && S_ISREG(st.st_mode))
        in->size = (long)st.st_size;
    return KY_OK;
}

static int open_format(ctl_input_t *in, const char *path, FILE *warn,
                       char *errbuf, size_t errlen)
{
    if (in->format == CTL_FORMAT_AUTO) {
        int f = strcmp(path, "-") ? format_of(path) : -1;

        if (f < 0) {
            snprintf(errbuf, errlen,
                     "unknown format: use --format csv, "
                     "jsonl or json");
            return KY_EINVAL;
        }
        in->format = (enum ctl_input_format)f;
    }
    if (in->format == CTL_FORMAT_CSV)
        return open_csv(in, warn, errbuf, errlen);
    if (in->format == CTL_FORMAT_JSON)
        return open_json(in, errbuf, errlen);
    return KY_OK;
}

ctl_input_t *ctl_input_open(const char *path, enum ctl_input_kind kind,
                            enum ctl_input_format format, const char *source,
                            FILE *warn, int *err, char *errbuf, size_t errlen)
{
    ctl_input_t *in = calloc(1, sizeof *in);

    *err = KY_ENOMEM;
    snprintf(errbuf, errlen, "out of memory");
    if (in == NULL)
        return NULL;
    in->kind = kind;
    in->format = format;
    in->source = source;
    *err = open_file(in, path, errbuf, errlen);
    if (*err == KY_OK)
        *err = open_format(in, path, warn, errbuf, errlen);
    if (*err != KY_OK)
        ctl_input_destroy(&in);
    return in;
}

void ctl_input_destroy(ctl_input_t **ip)
{
    ctl_input_t *in = ip ? *ip : NULL;

    if (in == NULL)
        return;
    if (in->decoded)
        protobuf_c_message_free_unpacked(in->decoded, NULL);
    ctl_header_clear(&in->hdr);
    ctl_csv_destroy(&in->csv);
    json_decref(in->doc);
    free(in->line);
    if (in->f && in->f != in->raw)
        fclose(in->f);
    if (in->own_raw && in->raw)
        fclose(in->raw);
    free(in);
    *ip = NULL;
}

bool ctl_input_numbers_items(const ctl_input_t *in)
{
    return in->format == CTL_FORMAT_JSON;
}

long ctl_input_offset(const ctl_input_t *in)
{
    if (in->csv)
        return ctl_csv_offset(in->csv);
    if (in->doc)
        return in->size * (long)in->next_elem /
               (long)(json_array_size(in->doc) ? json_array_size(in->doc) : 1);
    return in->f ? ftell(in->f) : 0;
}

long ctl_input_size(const ctl_input_t *in)
{
    return in->size;
}

/* --- events ---------------------------------------------------------- */

static void env_set(ctl_input_t *in, Envelope *env, ProtobufCMessage *ev)
{
    *env = (Envelope)KEYUAN__V1__ENVELOPE__INIT;
    switch (in->kind) {
    case CTL_INPUT_LEADS:
        env->body_case = KEYUAN__V1__ENVELOPE__BODY_LEAD;
        env->lead = (Keyuan__V1__LeadEvent *)ev;
        break;
    case CTL_INPUT_LISTINGS:
        env->body_case = KEYUAN__V1__ENVELOPE__BODY_LISTING;
        env->listing = (Keyuan__V1__ListingEvent *)ev;
        break;
    case CTL_INPUT_CONTACTS:
        env->body_case = KEYUAN__V1__ENVELOPE__BODY_CONTACT;
        env->contact = (Keyuan__V1__ContactLog *)ev;
        break;
    }
}

/* Replaces an empty source of a decoded event with --source. */
static int fill_source(ctl_input_t *in, char **source)
{
    char *s;

    if (**source != '\0' || in->source == NULL)
        return KY_OK;
    if ((s = strdup(in->source)) == NULL)
        return KY_ENOMEM;
    if (*source != protobuf_c_empty_string)
        free(*source);
    *source = s;
    return KY_OK;
}

/* Sends the decoded event in->decoded as the next item. */
static int take_decoded(ctl_input_t *in, Envelope *env, ctl_pipe_item_t *item)
{
    char **source, *seid;
    int rc;

    if (in->kind == CTL_INPUT_LEADS) {
        Keyuan__V1__LeadEvent *ev = (Keyuan__V1__LeadEvent *)in->decoded;

        source = &ev->source;
        seid = ev->source_event_id;
    } else if (in->kind == CTL_INPUT_LISTINGS) {
        Keyuan__V1__ListingEvent *ev = (Keyuan__V1__ListingEvent *)in->decoded;

        source = &ev->source;
        seid = ev->source_event_id;
    } else {
        Keyuan__V1__ContactLog *ev = (Keyuan__V1__ContactLog *)in->decoded;

        source = &ev->source;
        seid = ev->source_event_id;
    }
    if ((rc = fill_source(in, source)) != KY_OK)
        return rc;
    env_set(in, env, in->decoded);
    label_set(item, seid);
    item->env = env;
    return 1;
}

/* The id of an event that failed to decode, if the JSON has one. */
static void label_from_json(const json_t *obj, ctl_pipe_item_t *item)
{
    static const char *const keys[] = {"sourceEventId", "source_event_id",
                                       "listingId", "listing_id", NULL};

    for (int i = 0; keys[i]; i++) {
        const json_t *v = json_object_get(obj, keys[i]);

        if (json_is_string(v)) {
            label_set(item, json_string_value(v));
            return;
        }
    }
}

/* Turns pbjson's "path: what" message into a rejection. */
static int json_reject(int rc, const char *msg, ctl_rowerr_t *err)
{
    const char *colon = strstr(msg, ": ");
    size_t plen = colon ? (size_t)(colon - msg) : 0;

    if (rc == KY_ENOMEM)
        return rc;
    err->code = rc == KY_EDECODE ? "malformed_json" : "invalid_json";
    err->field = "";
    if (plen > 0 && plen < sizeof err->fieldbuf && !memchr(msg, ' ', plen) &&
        !memchr(msg, '"', plen)) {
        memcpy(err->fieldbuf, msg, plen);
        err->fieldbuf[plen] = '\0';
        err->field = err->fieldbuf;
    }
    snprintf(err->message, sizeof err->message, "%s", msg);
    ctl_utf8_clip(err->message);
    return KY_EINVAL;
}

static void free_decoded(ctl_input_t *in)
{
    if (in->decoded)
        protobuf_c_message_free_unpacked(in->decoded, NULL);
    in->decoded = NULL;
}

/* Strips the line end, and a BOM on the first line. */
static char *line_text(ctl_input_t *in, ssize_t *n)
{
    char *text = in->line;

    while (*n > 0 && (text[*n - 1] == '\n' || text[*n - 1] == '\r'))
        text[--*n] = '\0';
    if (in->lineno == 1 && *n >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        text += 3;
        *n -= 3;
    }
    return text;
}

static int next_jsonl(ctl_input_t *in, Envelope *env, ctl_pipe_item_t *item,
                      ctl_rowerr_t *err)
{
    char msg[256];
    ssize_t n;

    while ((n = getline(&in->line, &in->linecap, in->f)) >= 0) {
        json_t *obj;
        char *text;
        int rc;

        in->lineno++;
        text = line_text(in, &n);
        if (strspn(text, " \t") == (size_t)n)
            continue;
        item->line = in->lineno;
        free_decoded(in);
        rc = pbjson_decode(event_desc(in), text, (size_t)n, &in->decoded, msg,
                           sizeof msg);
        if (rc == KY_OK)
            return take_decoded(in, env, item);
        obj = json_loadb(text, (size_t)n, 0, NULL); /* for its id */
        label_from_json(obj, item);
        json_decref(obj);
        return json_reject(rc, msg, err);
    }
    return ferror(in->f) ? KY_EIO : 0;
}

static int next_json(ctl_input_t *in, Envelope *env, ctl_pipe_item_t *item,
                     ctl_rowerr_t *err)
{
    const json_t *elem;
    char msg[256];
    int rc;

    if (in->next_elem >= json_array_size(in->doc))
        return 0;
    elem = json_array_get(in->doc, in->next_elem++);
    item->line = (long)in->next_elem;
    free_decoded(in);
    rc = pbjson_to_message(event_desc(in), elem, &in->decoded, msg, sizeof msg);
    if (rc == KY_OK)
        return take_decoded(in, env, item);
    label_from_json(elem, item);
    return json_reject(rc, msg, err);
}

/* Makes CSV row into the event of in's kind, at *ev. */
static int event_of_row(ctl_input_t *in, ctl_csv_row_t *row,
                        ProtobufCMessage **ev, ctl_rowerr_t *err)
{
    const char *source = in->source ? in->source : "csv";

    switch (in->kind) {
    case CTL_INPUT_LEADS:
        *ev = &in->lead.ev.base;
        return ctl_lead_from_row(&in->hdr, row, source, &in->lead, err);
    case CTL_INPUT_LISTINGS:
        *ev = &in->listing.ev.base;
        return ctl_listing_from_row(&in->hdr, row, source, &in->listing, err);
    default:
        *ev = &in->contact.ev.base;
        return ctl_contact_from_row(&in->hdr, row, source, &in->contact, err);
    }
}

/* Spreadsheets leave rows of empty cells (",,,") and blank lines at the
 * end of an export: they are not events and are skipped, not rejected. */
static bool row_blank(const ctl_csv_row_t *row)
{
    if (row->error)
        return false;
    for (size_t i = 0; i < row->nfields; i++)
        if (strspn(row->fields[i], " \t\r") != strlen(row->fields[i]))
            return false;
    return true;
}

static int next_csv(ctl_input_t *in, Envelope *env, ctl_pipe_item_t *item,
                    ctl_rowerr_t *err)
{
    ctl_csv_row_t row;
    ProtobufCMessage *ev;
    int rc;

    while ((rc = ctl_csv_next(in->csv, &row)) > 0 && row_blank(&row))
        ;
    if (rc <= 0)
        return rc;
    item->line = row.line;
    label_set(item, ctl_row_id(&in->hdr, &row));
    rc = event_of_row(in, &row, &ev, err);
    if (rc != KY_OK)
        return rc;
    env_set(in, env, ev);
    item->env = env;
    return 1;
}

int ctl_input_next(ctl_input_t *in, Envelope *env, ctl_pipe_item_t *item,
                   ctl_rowerr_t *rowerr)
{
    memset(item, 0, sizeof *item);
    switch (in->format) {
    case CTL_FORMAT_CSV:
        return next_csv(in, env, item, rowerr);
    case CTL_FORMAT_JSON:
        return next_json(in, env, item, rowerr);
    default:
        return next_jsonl(in, env, item, rowerr);
    }
}
