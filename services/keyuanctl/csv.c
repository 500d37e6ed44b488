/*
 * csv.c - RFC 4180 CSV reading, by hand (see csv.h).
 *
 * Why not a library: the one C CSV parser Debian packages, libcsv, works
 * by callbacks per cell and per record (which turns "map this row to a
 * LeadEvent" inside out), reports no line numbers, and in strict mode
 * stops at the first malformed record. An import must name the line of
 * every bad row and carry on with the next one, so a small state machine
 * over getc() that we test edge by edge serves better than the dependency.
 *
 * The second half finds a file's encoding and makes it UTF-8 with glibc's
 * iconv, before any CSV is parsed: the bytes of a GB18030 character never
 * include a comma, quote or line break, but cutting cells first and
 * converting them after would still be the wrong way round for UTF-16.
 */
#include "csv.h"

#include "err.h"

#include <errno.h>
#include <iconv.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum csv_state {
    CSV_FIELD_START, /* at the start of a cell */
    CSV_UNQUOTED,    /* inside a cell that did not open with a quote */
    CSV_QUOTED,      /* inside a quoted cell */
    CSV_QUOTE_SEEN   /* a quote inside a quoted cell: "" or the end */
};

struct ctl_csv {
    FILE *f;      /* the stream read, borrowed */
    char delim;   /* ',' or '\t' */
    long offset;  /* bytes consumed */
    long line;    /* current line number, from 1 */
    bool started; /* the BOM check has been done */
    int back[3];  /* bytes read ahead and given back, last first */
    int nback;
    char *buf;       /* the record's cells, each NUL-terminated */
    size_t len, cap; /* bytes used and allocated in buf */
    size_t *starts;  /* offset in buf of each cell */
    size_t nstarts, scap;
    char **fields; /* pointers handed out in the row */
    size_t fcap;
    const char *error; /* first problem of the current record */
};

ctl_csv_t *ctl_csv_new(FILE *f)
{
    ctl_csv_t *p = calloc(1, sizeof *p);

    if (p == NULL)
        return NULL;
    p->f = f;
    p->delim = ',';
    p->line = 1;
    return p;
}

void ctl_csv_set_delimiter(ctl_csv_t *p, char delim)
{
    p->delim = delim;
}

void ctl_csv_destroy(ctl_csv_t **pp)
{
    ctl_csv_t *p = pp ? *pp : NULL;

    if (p == NULL)
        return;
    free(p->buf);
    free(p->starts);
    free(p->fields);
    free(p);
    *pp = NULL;
}

long ctl_csv_offset(const ctl_csv_t *p)
{
    return p->offset;
}

static int csv_getc(ctl_csv_t *p)
{
    int c = p->nback > 0 ? p->back[--p->nback] : getc(p->f);

    if (c != EOF)
        p->offset++;
    return c;
}

/* Gives back c (not EOF) so that the next csv_getc() returns it. */
static void csv_ungetc(ctl_csv_t *p, int c)
{
    p->back[p->nback++] = c;
    p->offset--;
}

/* Skips a UTF-8 byte order mark at the very start of the stream. */
static void csv_skip_bom(ctl_csv_t *p)
{
    static const int bom[3] = {0xEF, 0xBB, 0xBF};
    int c = 0, n = 0;

    p->started = true;
    while (n < 3 && (c = csv_getc(p)) == bom[n])
        n++;
    if (n == 3)
        return;
    if (c != EOF) /* give back what was read, in reverse */
        csv_ungetc(p, c);
    while (n > 0)
        csv_ungetc(p, bom[--n]);
}

static int csv_put(ctl_csv_t *p, char ch)
{
    if (p->len >= CTL_CSV_MAX_RECORD) {
        if (p->error == NULL)
            p->error = "record longer than 1 MiB";
        return KY_OK; /* keep scanning for the end of the record */
    }
    if (p->len + 1 >= p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 4096;
        char *b = realloc(p->buf, cap);

        if (b == NULL)
            return KY_ENOMEM;
        p->buf = b;
        p->cap = cap;
    }
    p->buf[p->len++] = ch;
    return KY_OK;
}

/* Starts a new cell at the current end of the buffer. */
static int csv_start_cell(ctl_csv_t *p)
{
    if (p->nstarts == p->scap) {
        size_t cap = p->scap ? p->scap * 2 : 32;
        size_t *s = realloc(p->starts, cap * sizeof *s);

        if (s == NULL)
            return KY_ENOMEM;
        p->starts = s;
        p->scap = cap;
    }
    p->starts[p->nstarts++] = p->len;
    return KY_OK;
}

static int csv_end_cell(ctl_csv_t *p)
{
    return csv_put(p, '\0');
}

/* Reads the LF of a CRLF pair after a CR; a lone CR also ends a line. */
static void csv_newline(ctl_csv_t *p, int c)
{
    if (c == '\r') {
        int next = csv_getc(p);

        if (next != '\n' && next != EOF)
            csv_ungetc(p, next);
    }
    p->line++;
}

static bool is_newline(int c)
{
    return c == '\n' || c == '\r';
}

/* Inside a quoted cell: text, a line break, or a quote. */
static int feed_quoted(ctl_csv_t *p, enum csv_state *st, int c)
{
    if (c == '"') {
        *st = CSV_QUOTE_SEEN;
        return KY_OK;
    }
    if (is_newline(c)) { /* any line break in a cell reads as LF */
        csv_newline(p, c);
        return csv_put(p, '\n');
    }
    return csv_put(p, (char)c);
}

/* Outside quotes: text, or the end of a cell or of the record. */
static int feed_plain(ctl_csv_t *p, enum csv_state *st, int c, bool *end)
{
    if (c == p->delim) {
        int rc = csv_end_cell(p);

        *st = CSV_FIELD_START;
        return rc != KY_OK ? rc : csv_start_cell(p);
    }
    if (is_newline(c)) {
        csv_newline(p, c);
        *end = true;
        return csv_end_cell(p);
    }
    *st = CSV_UNQUOTED;
    return csv_put(p, (char)c);
}

/*
 * Feeds one character in state *st. Sets *end when the record is over
 * (an unquoted line break). Returns 0 or KY_ENOMEM.
 */
static int csv_feed(ctl_csv_t *p, enum csv_state *st, int c, bool *end)
{
    if (c == '\0' && p->error == NULL)
        p->error = "NUL byte in a cell";

    switch (*st) {
    case CSV_QUOTED:
        return feed_quoted(p, st, c);
    case CSV_QUOTE_SEEN:
        if (c == '"') { /* "" inside quotes: one quote */
            *st = CSV_QUOTED;
            return csv_put(p, '"');
        }
        if (c != p->delim && !is_newline(c) && p->error == NULL)
            p->error = "text after a closing quote";
        break;
    case CSV_FIELD_START:
        if (c == '"') {
            *st = CSV_QUOTED;
            return KY_OK;
        }
        break;
    case CSV_UNQUOTED:
        break;
    }
    return feed_plain(p, st, c, end);
}

/* Hands the cells of the record out as row->fields. */
static int csv_emit(ctl_csv_t *p, ctl_csv_row_t *row)
{
    if (p->nstarts > p->fcap) {
        char **f = realloc(p->fields, p->nstarts * sizeof *f);

        if (f == NULL)
            return KY_ENOMEM;
        p->fields = f;
        p->fcap = p->nstarts;
    }
    for (size_t i = 0; i < p->nstarts; i++)
        p->fields[i] = p->buf + p->starts[i];
    row->fields = p->fields;
    /* a record cut at CTL_CSV_MAX_RECORD has no whole cells to give */
    row->nfields = p->len >= CTL_CSV_MAX_RECORD ? 0 : p->nstarts;
    row->error = p->error;
    return 1;
}

/* Reads characters up to the end of one record or of the input. */
static int csv_read_record(ctl_csv_t *p, bool *any, enum csv_state *st)
{
    bool end = false;
    int c, rc = KY_OK;

    while (!end && rc == KY_OK && (c = csv_getc(p)) != EOF) {
        *any = *any || !is_newline(c) || *st == CSV_QUOTED;
        rc = csv_feed(p, st, c, &end);
    }
    if (rc == KY_OK && !end && ferror(p->f))
        rc = KY_EIO;
    if (rc == KY_OK && !end && *any) { /* the last record lacks a newline */
        if (*st == CSV_QUOTED && p->error == NULL)
            p->error = "quoted cell not closed before the end of the file";
        rc = csv_end_cell(p);
    }
    return rc;
}

int ctl_csv_next(ctl_csv_t *p, ctl_csv_row_t *row)
{
    if (!p->started)
        csv_skip_bom(p);

    for (;;) {
        enum csv_state st = CSV_FIELD_START;
        bool any = false;
        int rc;

        p->len = 0;
        p->nstarts = 0;
        p->error = NULL;
        row->line = p->line;
        if ((rc = csv_start_cell(p)) != KY_OK)
            return rc;
        if ((rc = csv_read_record(p, &any, &st)) != KY_OK)
            return rc;
        if (any)
            return csv_emit(p, row);
        if (feof(p->f))
            return 0;
        /* an empty line: skip it */
    }
}

/* --- encodings -------------------------------------------------------- */

/*
 * How the encoding is found:
 *
 * 1. A byte order mark decides: EF BB BF is UTF-8, FF FE UTF-16LE, FE FF
 *    UTF-16BE, 84 31 95 33 GB18030.
 * 2. Otherwise the whole file is checked as UTF-8, counting complete
 *    multi-byte characters and invalid sequences. No invalid sequence:
 *    UTF-8. A few among many valid characters (at most one for every
 *    ENC_UTF8_MARGIN): UTF-8 with some damaged rows, which are then
 *    refused one by one instead of the whole file being misread. Else
 *    GB18030, which contains GBK and GB2312: what Excel in China writes
 *    when asked for "CSV". Chinese text in GBK holds about one valid UTF-8
 *    sequence for six invalid ones by chance, far from the margin.
 *
 * Limits: a file that is valid as both is read as UTF-8. For ASCII that is
 * right; GBK text that happens to be valid UTF-8 throughout is rare beyond
 * a handful of characters, but a very short GBK file can be misread. Big5,
 * Shift-JIS and other legacy encodings are taken for GB18030 and come out
 * garbled or refused. A file mixing UTF-8 and GBK rows in like numbers is
 * read as GB18030, and its UTF-8 rows come out garbled. UTF-16 is only
 * recognised by its byte order mark (Excel always writes one).
 */
#define ENC_UTF8_MARGIN 4

/* Bytes that stand for "this input could not be decoded" in the output. */
#define ENC_BAD_BYTE 0xFF

#define ENC_CHUNK 16384

const char *ctl_encoding_name(enum ctl_encoding enc)
{
    switch (enc) {
    case CTL_ENC_UTF8:
        return "UTF-8";
    case CTL_ENC_UTF8_BOM:
        return "UTF-8 with BOM";
    case CTL_ENC_GB18030:
        return "GB18030";
    case CTL_ENC_UTF16LE:
        return "UTF-16LE";
    case CTL_ENC_UTF16BE:
        return "UTF-16BE";
    }
    return "?";
}

/* A UTF-8 check over a stream, a byte at a time. */
typedef struct utf8_scan {
    int need;                /* continuation bytes still expected */
    unsigned char lo, hi;    /* range of the next continuation byte */
    uint64_t valid, invalid; /* multi-byte characters, bad sequences */
} utf8_scan_t;

/* Starts a sequence at lead byte c (0x80 or above). */
static void scan_lead(utf8_scan_t *s, unsigned char c)
{
    s->lo = 0x80;
    s->hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        s->need = 1;
    } else if (c >= 0xE0 && c <= 0xEF) { /* no overlongs, no surrogates */
        s->need = 2;
        s->lo = c == 0xE0 ? 0xA0 : 0x80;
        s->hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) { /* up to U+10FFFF */
        s->need = 3;
        s->lo = c == 0xF0 ? 0x90 : 0x80;
        s->hi = c == 0xF4 ? 0x8F : 0xBF;
    } else {
        s->invalid++;
    }
}

static void scan_byte(utf8_scan_t *s, unsigned char c)
{
    if (s->need > 0) {
        if (c >= s->lo && c <= s->hi) {
            s->lo = 0x80;
            s->hi = 0xBF;
            if (--s->need == 0)
                s->valid++;
            return;
        }
        s->invalid++; /* cut short: c is looked at afresh */
        s->need = 0;
    }
    if (c >= 0x80)
        scan_lead(s, c);
}

/* Checks the rest of f as UTF-8 and decides between it and GB18030. */
static int detect_by_content(FILE *f, enum ctl_encoding *enc)
{
    unsigned char buf[ENC_CHUNK];
    utf8_scan_t s = {0};
    size_t n;

    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        for (size_t i = 0; i < n; i++)
            scan_byte(&s, buf[i]);
    if (ferror(f))
        return KY_EIO;
    if (s.need > 0)
        s.invalid++;
    if (s.invalid == 0 || s.valid >= ENC_UTF8_MARGIN * s.invalid)
        *enc = CTL_ENC_UTF8;
    else
        *enc = CTL_ENC_GB18030;
    return KY_OK;
}

/* Finds f's encoding from offset start; leaves f at start. */
static int detect(FILE *f, long start, enum ctl_encoding *enc)
{
    unsigned char b[4] = {0};
    size_t n = fread(b, 1, sizeof b, f);
    int rc = KY_OK;

    if (n >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF)
        *enc = CTL_ENC_UTF8_BOM;
    else if (n >= 2 && b[0] == 0xFF && b[1] == 0xFE)
        *enc = CTL_ENC_UTF16LE;
    else if (n >= 2 && b[0] == 0xFE && b[1] == 0xFF)
        *enc = CTL_ENC_UTF16BE;
    else if (n == 4 && memcmp(b, "\x84\x31\x95\x33", 4) == 0)
        *enc = CTL_ENC_GB18030;
    else if (fseek(f, start, SEEK_SET) != 0)
        return KY_EIO;
    else
        rc = detect_by_content(f, enc);
    if (rc == KY_OK && fseek(f, start, SEEK_SET) != 0)
        rc = KY_EIO;
    return rc;
}

/* Copies what is left of in (a pipe) into a temporary file. */
static FILE *spool(FILE *in)
{
    char buf[ENC_CHUNK];
    FILE *out = tmpfile();
    size_t n;

    if (out == NULL)
        return NULL;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n)
            break;
    if (ferror(in) || ferror(out) || fseek(out, 0, SEEK_SET) != 0) {
        fclose(out);
        return NULL;
    }
    return out;
}

/* The iconv state of one conversion. */
typedef struct conv {
    iconv_t cd;
    size_t unit; /* bytes skipped past input iconv refuses */
    FILE *in, *out;
} conv_t;

/*
 * Converts the len bytes at buf; input iconv refuses becomes ENC_BAD_BYTE.
 * An incomplete character at the end is left for the next chunk unless
 * this is the last. Returns the bytes left over, or -1 on a write error.
 */
static long conv_chunk(conv_t *cv, char *buf, size_t len, bool last)
{
    char out[4 * ENC_CHUNK];
    char *ip = buf;
    size_t ileft = len;

    while (ileft > 0) {
        char *op = out;
        size_t oleft = sizeof out;
        size_t r = iconv(cv->cd, &ip, &ileft, &op, &oleft);
        int e = errno;

        if (fwrite(out, 1, (size_t)(op - out), cv->out) != (size_t)(op - out))
            return -1;
        if (r != (size_t)-1 || e == E2BIG)
            continue;
        if (e == EINVAL && !last)
            break; /* the rest of this character is in the next chunk */
        if (fputc(ENC_BAD_BYTE, cv->out) == EOF)
            return -1;
        r = ileft < cv->unit ? ileft : cv->unit;
        ip += r;
        ileft -= r;
    }
    memmove(buf, ip, ileft);
    return (long)ileft;
}

static int conv_run(conv_t *cv)
{
    char buf[ENC_CHUNK + 8];
    size_t have = 0;

    for (;;) {
        size_t n = fread(buf + have, 1, ENC_CHUNK, cv->in);
        long left;

        if (n == 0 && ferror(cv->in))
            return KY_EIO;
        left = conv_chunk(cv, buf, have + n, n == 0);
        if (left < 0)
            return KY_EIO;
        have = (size_t)left;
        if (n == 0)
            return KY_OK;
    }
}

/* Converts what is left of in, in encoding enc, into a new UTF-8 file. */
static FILE *convert(FILE *in, enum ctl_encoding enc, int *err, char *errbuf,
                     size_t errlen)
{
    conv_t cv = {(iconv_t)-1, enc == CTL_ENC_GB18030 ? 1 : 2, in, NULL};
    const char *from = enc == CTL_ENC_GB18030   ? "GB18030"
                       : enc == CTL_ENC_UTF16LE ? "UTF-16LE"
                                                : "UTF-16BE";

    cv.cd = iconv_open("UTF-8", from);
    if (cv.cd == (iconv_t)-1) {
        *err = KY_EDISABLED;
        snprintf(errbuf, errlen, "this system's iconv cannot read %s", from);
        return NULL;
    }
    *err = KY_EIO;
    if (enc != CTL_ENC_GB18030 && fseek(in, 2, SEEK_CUR) != 0) /* the BOM */
        goto done;
    if ((cv.out = tmpfile()) == NULL)
        goto done;
    *err = conv_run(&cv);
    if (*err == KY_OK && (fflush(cv.out) != 0 || fseek(cv.out, 0, SEEK_SET)))
        *err = KY_EIO;

done:
    iconv_close(cv.cd);
    if (*err != KY_OK) {
        snprintf(errbuf, errlen, "cannot convert from %s: %s", from,
                 strerror(errno));
        if (cv.out)
            fclose(cv.out);
        return NULL;
    }
    return cv.out;
}

FILE *ctl_csv_decode(FILE *raw, enum ctl_encoding *enc, int *err, char *errbuf,
                     size_t errlen)
{
    FILE *src = raw, *copy = NULL, *out = NULL;
    long start = ftell(raw);

    *err = KY_EIO;
    if (start < 0 || fseek(raw, start, SEEK_SET) != 0) {
        if ((copy = spool(raw)) == NULL) {
            snprintf(errbuf, errlen, "cannot read: %s", strerror(errno));
            return NULL;
        }
        src = copy;
        start = 0;
    }
    if ((*err = detect(src, start, enc)) != KY_OK) {
        snprintf(errbuf, errlen, "cannot read: %s", strerror(errno));
    } else if (*enc == CTL_ENC_UTF8 || *enc == CTL_ENC_UTF8_BOM) {
        out = src;
        copy = NULL; /* handed out */
    } else {
        out = convert(src, *enc, err, errbuf, errlen);
    }
    if (copy)
        fclose(copy);
    return out;
}

char ctl_csv_sniff_delimiter(FILE *f)
{
    long at = ftell(f);
    bool quoted = false;
    int c, tabs = 0, commas = 0;

    if (at < 0)
        return ',';
    for (long n = 0; n < CTL_CSV_MAX_RECORD && (c = getc(f)) != EOF; n++) {
        if (c == '"')
            quoted = !quoted;
        else if (!quoted && (c == '\n' || c == '\r'))
            break;
        tabs += !quoted && c == '\t';
        commas += !quoted && c == ',';
    }
    if (fseek(f, at, SEEK_SET) != 0)
        return ',';
    return tabs > 0 && commas == 0 ? '\t' : ',';
}
