/*
 * csv.c - RFC 4180 CSV reading, by hand (see csv.h).
 *
 * Why not a library: the one C CSV parser Debian packages, libcsv, works
 * by callbacks per cell and per record (which turns "map this row to a
 * LeadEvent" inside out), reports no line numbers, and in strict mode
 * stops at the first malformed record. An import must name the line of
 * every bad row and carry on with the next one, so a small state machine
 * over getc() that we test edge by edge serves better than the dependency.
 */
#include "csv.h"

#include "err.h"

#include <stdbool.h>
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
    p->line = 1;
    return p;
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
    if (c == ',') {
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
        if (c != ',' && !is_newline(c) && p->error == NULL)
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
