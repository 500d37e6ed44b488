/* out.c - JSON lines, tables, field blocks and progress (see out.h). */
#include "out.h"

#include "clock.h"
#include "err.h"
#include "pbjson.h"
#include "text.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <utf8proc.h>

size_t ctl_text_width(const char *s)
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    utf8proc_ssize_t left = (utf8proc_ssize_t)strlen(s);
    size_t width = 0;

    while (left > 0) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);

        if (n <= 0) { /* not UTF-8: one column a byte */
            n = 1;
            cp = 'x';
        }
        width += (size_t)utf8proc_charwidth(cp);
        p += n;
        left -= n;
    }
    return width;
}

void ctl_utf8_clip(char *s)
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    utf8proc_ssize_t left = (utf8proc_ssize_t)strlen(s);

    while (left > 0) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);

        if (n <= 0) {
            *(char *)p = '\0';
            return;
        }
        p += n;
        left -= n;
    }
}

static void pad(FILE *out, size_t n)
{
    while (n-- > 0)
        fputc(' ', out);
}

char *ctl_defang(const char *s, bool c0)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = malloc(6 * strlen(s) + 1), *o = out;

    if (out == NULL)
        return NULL;
    while (*s) {
        const unsigned char *p = (const unsigned char *)s;
        size_t n = text_unsafe_at(s);
        unsigned cp = *p;

        if (n == 2)
            cp = (p[0] & 0x1Fu) << 6 | (p[1] & 0x3Fu);
        else if (n == 3)
            cp = (p[0] & 0x0Fu) << 12 | (p[1] & 0x3Fu) << 6 | (p[2] & 0x3Fu);
        else if (c0 && (cp < 0x20 || cp == 0x7F))
            n = 1;
        if (n == 0) {
            *o++ = *s++;
            continue;
        }
        memcpy(o, "\\u", 2);
        for (int i = 0; i < 4; i++)
            o[2 + i] = hex[(cp >> (12 - 4 * i)) & 15];
        o += 6;
        s += n;
    }
    *o = '\0';
    return out;
}

void ctl_print_line(FILE *out, const char *fmt, ...)
{
    char *text = NULL, *safe = NULL;
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&text, fmt, ap);
    va_end(ap);
    if (n >= 0)
        safe = ctl_defang(text, true);
    fprintf(out, "%s\n", safe ? safe : "(cannot print this line)");
    free(safe);
    if (n >= 0)
        free(text);
}

/* Prints JSON text made by jansson, defanged, and frees it. */
static int print_text(char *text)
{
    char *safe = text ? ctl_defang(text, false) : NULL;

    free(text);
    if (safe == NULL) {
        /* jansson refuses text that is not UTF-8, as a store written by
         * an older build may hold in a rejection's message. */
        fprintf(stderr, "keyuanctl: an answer could not be written as JSON "
                        "(text that is not UTF-8?)\n");
        return KY_EDECODE;
    }
    puts(safe);
    free(safe);
    return KY_OK;
}

int ctl_print_json(json_t *json)
{
    char *text = json_dumps(json, JSON_COMPACT);

    json_decref(json);
    return print_text(text);
}

int ctl_print_msg(const ProtobufCMessage *msg)
{
    return print_text(pbjson_encode(msg, JSON_COMPACT));
}

char *ctl_format_ts(const Google__Protobuf__Timestamp *ts, char *out,
                    size_t outlen)
{
    time_t sec;
    struct tm tm;

    if (ts == NULL) {
        snprintf(out, outlen, "-");
        return out;
    }
    sec = (time_t)ts->seconds;
    gmtime_r(&sec, &tm);
    strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return out;
}

/* --- field blocks ---------------------------------------------------- */

typedef struct field_line {
    char *label;
    char *value;
} field_line_t;

typedef struct field_list {
    field_line_t *lines;
    size_t n, cap;
} field_list_t;

/* lowerCamelCase to snake_case, appended after prefix. */
static char *label_of(const char *prefix, const char *key)
{
    size_t plen = strlen(prefix);
    char *out = malloc(plen + 2 * strlen(key) + 2);
    char *p;

    if (out == NULL)
        return NULL;
    memcpy(out, prefix, plen);
    p = out + plen;
    if (plen)
        *p++ = '.';
    for (; *key; key++) {
        if (isupper((unsigned char)*key)) {
            *p++ = '_';
            *p++ = (char)tolower((unsigned char)*key);
        } else {
            *p++ = *key;
        }
    }
    *p = '\0';
    return out;
}

/* A scalar, or a list of scalars joined by ", ", as text. */
static char *value_text(const json_t *v)
{
    if (json_is_string(v)) /* one line each: line breaks show escaped */
        return ctl_defang(json_string_value(v), true);
    if (json_is_array(v)) {
        size_t len = 0;
        char *out = NULL;

        for (size_t i = 0; i < json_array_size(v); i++) {
            char *s = value_text(json_array_get(v, i));
            char *grown = s ? realloc(out, len + strlen(s) + 3) : NULL;

            if (grown == NULL) {
                free(s);
                free(out);
                return NULL;
            }
            out = grown;
            len += (size_t)sprintf(out + len, "%s%s", i ? ", " : "", s);
            free(s);
        }
        return out ? out : strdup("");
    }
    return json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
}

static int field_add(field_list_t *fl, char *label, char *value)
{
    if (label == NULL || value == NULL)
        goto fail;
    if (fl->n == fl->cap) {
        size_t cap = fl->cap ? fl->cap * 2 : 32;
        field_line_t *l = realloc(fl->lines, cap * sizeof *l);

        if (l == NULL)
            goto fail;
        fl->lines = l;
        fl->cap = cap;
    }
    fl->lines[fl->n++] = (field_line_t){label, value};
    return KY_OK;

fail:
    free(label);
    free(value);
    return KY_ENOMEM;
}

/* Adds every member of object obj, nested objects as dotted labels. */
static int field_walk(field_list_t *fl, const char *prefix, json_t *obj)
{
    int rc = KY_OK;

    for (void *it = json_object_iter(obj); it;
         it = json_object_iter_next(obj, it)) {
        json_t *v = json_object_iter_value(it);
        char *label = label_of(prefix, json_object_iter_key(it));

        if (json_is_object(v) && label) {
            rc = field_walk(fl, label, v);
            free(label);
        } else {
            rc = field_add(fl, label, value_text(v));
        }
        if (rc != KY_OK)
            break;
    }
    return rc;
}

int ctl_print_fields(const ProtobufCMessage *msg, FILE *out)
{
    json_t *json = pbjson_from_message(msg);
    field_list_t fl = {0};
    size_t width = 0;
    int rc = KY_ENOMEM;

    if (json == NULL)
        return KY_ENOMEM;
    rc = json_is_object(json) ? field_walk(&fl, "", json) : KY_EINVAL;
    for (size_t i = 0; i < fl.n; i++)
        if (strlen(fl.lines[i].label) > width)
            width = strlen(fl.lines[i].label);
    for (size_t i = 0; rc == KY_OK && i < fl.n; i++) {
        fprintf(out, "%s:", fl.lines[i].label);
        pad(out, width - strlen(fl.lines[i].label) + 1);
        fprintf(out, "%s\n", fl.lines[i].value);
    }
    for (size_t i = 0; i < fl.n; i++) {
        free(fl.lines[i].label);
        free(fl.lines[i].value);
    }
    free(fl.lines);
    json_decref(json);
    return rc;
}

/* --- tables ---------------------------------------------------------- */

struct ctl_table {
    size_t ncols;
    char **cells; /* rows x ncols, the header row first */
    size_t nrows, cap;
};

ctl_table_t *ctl_table_new(size_t ncols, const char *const *headers)
{
    ctl_table_t *t = calloc(1, sizeof *t);

    if (t == NULL)
        return NULL;
    t->ncols = ncols;
    if (ctl_table_add(t, headers) != KY_OK)
        ctl_table_destroy(&t);
    return t;
}

int ctl_table_add(ctl_table_t *t, const char *const *cells)
{
    char **row;

    if (t->nrows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        char **c = realloc(t->cells, cap * t->ncols * sizeof *c);

        if (c == NULL)
            return KY_ENOMEM;
        t->cells = c;
        t->cap = cap;
    }
    row = t->cells + t->nrows * t->ncols;
    for (size_t i = 0; i < t->ncols; i++) {
        if ((row[i] = ctl_defang(cells[i] ? cells[i] : "", true)) == NULL) {
            while (i-- > 0)
                free(row[i]);
            return KY_ENOMEM;
        }
    }
    t->nrows++;
    return KY_OK;
}

void ctl_table_print(const ctl_table_t *t, FILE *out)
{
    size_t width[32] = {0};
    size_t ncols = t->ncols < 32 ? t->ncols : 32;

    for (size_t r = 0; r < t->nrows; r++)
        for (size_t c = 0; c < ncols; c++) {
            size_t w = ctl_text_width(t->cells[r * t->ncols + c]);

            width[c] = w > width[c] ? w : width[c];
        }
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < ncols; c++) {
            const char *cell = t->cells[r * t->ncols + c];

            fputs(cell, out);
            if (c + 1 < ncols) /* the last column is not padded */
                pad(out, width[c] - ctl_text_width(cell) + 2);
        }
        fputc('\n', out);
    }
}

void ctl_table_destroy(ctl_table_t **tp)
{
    ctl_table_t *t = tp ? *tp : NULL;

    if (t == NULL)
        return;
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t);
    *tp = NULL;
}

/* --- progress -------------------------------------------------------- */

#define BAR_WIDTH 30

void ctl_progress_init(ctl_progress_t *p, long total_bytes)
{
    p->on = isatty(STDERR_FILENO);
    p->drawn = false;
    p->total = total_bytes > 0 ? total_bytes : 0;
}

void ctl_progress_draw(ctl_progress_t *p, long done, uint64_t sent,
                       uint64_t answered)
{
    char bar[BAR_WIDTH + 1];
    int pct, fill;

    if (!p->on)
        return;
    fputc('\r', stderr);
    if (p->total > 0) {
        pct = done >= p->total ? 100 : (int)(done * 100 / p->total);
        fill = pct * BAR_WIDTH / 100;
        memset(bar, '#', (size_t)fill);
        memset(bar + fill, '.', (size_t)(BAR_WIDTH - fill));
        bar[BAR_WIDTH] = '\0';
        fprintf(stderr, "[%s] %3d%%  ", bar, pct);
    }
    fprintf(stderr, "%llu sent, %llu answered\033[K", (unsigned long long)sent,
            (unsigned long long)answered);
    fflush(stderr);
    p->drawn = true;
}

void ctl_progress_clear(ctl_progress_t *p)
{
    if (!p->drawn)
        return;
    fputs("\r\033[K", stderr);
    fflush(stderr);
    p->drawn = false;
}
