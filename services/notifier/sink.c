/* sink.c - reminder lines and their file I/O (see sink.h). */
#include "sink.h"

#include "err.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SINK_ZONE_OFFSET_S (8 * 3600) /* Asia/Shanghai: UTC+08:00 */
#define SINK_SCAN_CHUNK 65536

/* ---- buffer ------------------------------------------------------------ */

int notify_buf_add(notify_buf_t *b, const void *data, size_t len)
{
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        char *grown;

        while (cap < b->len + len + 1)
            cap *= 2;
        grown = realloc(b->data, cap);
        if (grown == NULL)
            return KY_ENOMEM;
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return KY_OK;
}

static int buf_printf(notify_buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int buf_printf(notify_buf_t *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return KY_EINVAL; /* only short, fixed fields go through here */
    return notify_buf_add(b, tmp, (size_t)n);
}

void notify_buf_free(notify_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* ---- formatting --------------------------------------------------------- */

/*
 * Length of the valid UTF-8 sequence at s (n bytes left), or 0 when it is
 * not one (RFC 3629: no overlong forms, no surrogates, nothing past
 * U+10FFFF).
 */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char lo = 0x80, hi = 0xbf;
    size_t len;

    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        len = 2;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        len = 3;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        len = 4;
    else
        return 0;
    if (s[0] == 0xe0)
        lo = 0xa0;
    else if (s[0] == 0xed)
        hi = 0x9f;
    else if (s[0] == 0xf0)
        lo = 0x90;
    else if (s[0] == 0xf4)
        hi = 0x8f;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return len;
}

/* The escape for the character at s of length len, or NULL for none. */
static const char *escape_for(const unsigned char *s, size_t len, char tmp[8])
{
    if (len == 1) {
        switch (s[0]) {
        case '"':
            return "\\\"";
        case '\\':
            return "\\\\";
        case '\n':
            return "\\n";
        case '\r':
            return "\\r";
        case '\t':
            return "\\t";
        }
        if (s[0] >= 0x20 && s[0] != 0x7f)
            return NULL;
        snprintf(tmp, 8, "\\x%02x", s[0]);
        return tmp;
    }
    if (len == 2 && s[0] == 0xc2 && s[1] == 0x85)
        return "\\u0085";
    if (len == 3 && s[0] == 0xe2 && s[1] == 0x80 &&
        (s[2] == 0xa8 || s[2] == 0xa9))
        return s[2] == 0xa8 ? "\\u2028" : "\\u2029";
    return NULL;
}

/* Appends s between double quotes, escaped as sink.h describes. */
static int add_quoted(notify_buf_t *b, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t n = strlen(str);
    int rc = notify_buf_add(b, "\"", 1);

    while (rc == 0 && n > 0) {
        size_t len = s[0] < 0x80 ? 1 : utf8_len(s, n);
        char tmp[8];
        const char *esc;

        if (len == 0) { /* invalid UTF-8: one byte, shown in hex */
            snprintf(tmp, sizeof tmp, "\\x%02x", s[0]);
            esc = tmp;
            len = 1;
        } else {
            esc = escape_for(s, len, tmp);
        }
        rc = esc ? notify_buf_add(b, esc, strlen(esc))
                 : notify_buf_add(b, s, len);
        s += len;
        n -= len;
    }
    return rc ? rc : notify_buf_add(b, "\"", 1);
}

/* True when s can stand unquoted: non-empty, no space, quote or control. */
static bool is_bare(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || *s == '"' || *s == '\\' || *s == '=' ||
            *s == 0x7f || (unsigned char)*s >= 0x80)
            return false;
    return true;
}

/* An enum value's name without prefix, lower case ("speed_to_lead"). */
static int add_enum(notify_buf_t *b, const ProtobufCEnumDescriptor *desc,
                    int value, const char *prefix, bool keep_letter)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(desc, value);
    size_t plen = strlen(prefix);
    char name[64];
    size_t i;

    if (v == NULL || strncmp(v->name, prefix, plen) != 0)
        return buf_printf(b, "%d", value);
    for (i = 0; i < sizeof name - 1 && v->name[plen + i]; i++)
        name[i] = v->name[plen + i];
    name[i] = '\0';
    /* Grades read as the agency writes them: A, B, C, lead. */
    if (!(keep_letter && name[0] && name[1] == '\0'))
        for (i = 0; name[i]; i++)
            name[i] = (char)tolower((unsigned char)name[i]);
    return notify_buf_add(b, name, strlen(name));
}

/* Writes v as n decimal digits, zero-padded, at out. */
static void put_digits(char *out, int v, int n)
{
    while (n-- > 0) {
        out[n] = (char)('0' + v % 10);
        v /= 10;
    }
}

/*
 * due_at (or fired_at) as RFC 3339 in UTC+08:00, to the second. Written
 * by hand rather than with strftime, which costs as much as the rest of
 * the line: a file sink writes one line per reminder.
 */
static int add_time(notify_buf_t *b, const Keyuan__V1__Reminder *r)
{
    const Google__Protobuf__Timestamp *ts = r->due_at ? r->due_at : r->fired_at;
    time_t t;
    struct tm tm;
    char out[40];

    if (ts == NULL)
        return notify_buf_add(b, "-", 1);
    t = (time_t)(ts->seconds + SINK_ZONE_OFFSET_S);
    if (gmtime_r(&t, &tm) == NULL)
        return notify_buf_add(b, "-", 1);
    if (tm.tm_year < 1000 - 1900 || tm.tm_year > 9999 - 1900) { /* rare */
        strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%S+08:00", &tm);
        return notify_buf_add(b, out, strlen(out));
    }
    memcpy(out, "0000-00-00T00:00:00+08:00", 25);
    put_digits(out, tm.tm_year + 1900, 4);
    put_digits(out + 5, tm.tm_mon + 1, 2);
    put_digits(out + 8, tm.tm_mday, 2);
    put_digits(out + 11, tm.tm_hour, 2);
    put_digits(out + 14, tm.tm_min, 2);
    put_digits(out + 17, tm.tm_sec, 2);
    return notify_buf_add(b, out, 25);
}

/* Appends v in decimal. */
static int add_u64(notify_buf_t *b, uint64_t v)
{
    char tmp[20];
    size_t i = sizeof tmp;

    do
        tmp[--i] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    return notify_buf_add(b, tmp + i, sizeof tmp - i);
}

/* Appends a string literal. */
#define add_lit(b, s) notify_buf_add((b), (s), sizeof(s) - 1)

int notify_line_format(notify_buf_t *out, const Keyuan__V1__Reminder *r)
{
    const char *agent = r->agent_id ? r->agent_id : "";
    int rc = add_time(out, r);

    if (rc == 0)
        rc = add_lit(out, " reminder=");
    if (rc == 0)
        rc = add_u64(out, r->reminder_id);
    if (rc == 0)
        rc = add_lit(out, " kind=");
    if (rc == 0)
        rc = add_enum(out, &keyuan__v1__reminder_kind__descriptor, (int)r->kind,
                      "REMINDER_KIND_", false);
    if (rc == 0)
        rc = add_lit(out, " agent=");
    if (rc == 0)
        rc = is_bare(agent) ? notify_buf_add(out, agent, strlen(agent))
                            : add_quoted(out, agent);
    if (rc == 0)
        rc = add_lit(out, " customer=");
    if (rc == 0)
        rc = add_u64(out, r->customer_id);
    if (rc == 0)
        rc = add_lit(out, " grade=");
    if (rc == 0)
        rc = add_enum(out, &keyuan__v1__grade__descriptor, (int)r->grade,
                      "GRADE_", true);
    if (rc == 0)
        rc = add_lit(out, " cycle=");
    if (rc == 0)
        rc = add_u64(out, r->cycle);
    if (rc == 0)
        rc = add_lit(out, " text=");
    if (rc == 0)
        rc = add_quoted(out, r->text ? r->text : "");
    return rc ? rc : notify_buf_add(out, "\n", 1);
}

/* ---- parsing ------------------------------------------------------------ */

int notify_line_reminder_id(const char *line, size_t len, uint64_t *id)
{
    static const char tag[] = " reminder=";
    const char *sp = memchr(line, ' ', len);
    const char *p;
    uint64_t v = 0;

    if (sp == NULL || sp == line ||
        (size_t)(line + len - sp) < sizeof tag - 1 ||
        memcmp(sp, tag, sizeof tag - 1) != 0)
        return KY_EDECODE;
    p = sp + sizeof tag - 1;
    if (p == line + len || !isdigit((unsigned char)*p))
        return KY_EDECODE;
    for (; p < line + len && isdigit((unsigned char)*p); p++) {
        uint64_t d = (uint64_t)(*p - '0');

        if (v > (UINT64_MAX - d) / 10)
            return KY_EDECODE;
        v = v * 10 + d;
    }
    if (p == line + len || *p != ' ' || v == 0)
        return KY_EDECODE;
    *id = v;
    return KY_OK;
}

/* ---- file I/O ----------------------------------------------------------- */

int notify_sink_open(const char *path)
{
    return open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

int notify_sink_write(int fd, const char *data, size_t len, bool regular)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);

        if (n < 0 && errno == EINTR && !regular)
            continue;
        if (n < 0)
            return KY_EIO;
        if (regular && (size_t)n != len) {
            errno = ENOSPC; /* a short write to a file: the disk is full */
            return KY_EIO;
        }
        data += n;
        len -= (size_t)n;
    }
    return KY_OK;
}

int notify_sink_sync(int fd)
{
    if (fdatasync(fd) == 0 || errno == EINVAL || errno == EROFS)
        return KY_OK;
    return KY_EIO;
}

/* Calls fn for each complete line at the front of b; keeps the rest. */
static int scan_lines(notify_buf_t *b, uint64_t *end, notify_line_fn fn,
                      void *arg)
{
    size_t start = 0;
    char *nl;
    int rc = KY_OK;

    while (rc == 0 &&
           (nl = memchr(b->data + start, '\n', b->len - start)) != NULL) {
        size_t len = (size_t)(nl - (b->data + start));
        uint64_t id;

        if (notify_line_reminder_id(b->data + start, len, &id) == 0)
            rc = fn(arg, id);
        start += len + 1;
        *end += len + 1;
    }
    memmove(b->data, b->data + start, b->len - start);
    b->len -= start;
    return rc;
}

int notify_sink_scan(int fd, uint64_t from, uint64_t size, notify_line_fn fn,
                     void *arg, uint64_t *end)
{
    notify_buf_t b = {0};
    char *chunk = malloc(SINK_SCAN_CHUNK);
    uint64_t at = from;
    int rc = chunk ? KY_OK : KY_ENOMEM;

    *end = from;
    while (rc == 0 && at < size) {
        size_t want =
            size - at < SINK_SCAN_CHUNK ? (size_t)(size - at) : SINK_SCAN_CHUNK;
        ssize_t n = pread(fd, chunk, want, (off_t)at);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = KY_EIO;
            break;
        }
        if (n == 0)
            break; /* shorter than fstat said: scan what is there */
        at += (uint64_t)n;
        rc = notify_buf_add(&b, chunk, (size_t)n);
        if (rc == 0)
            rc = scan_lines(&b, end, fn, arg);
    }
    free(chunk);
    notify_buf_free(&b);
    return rc;
}
