/*
 * csv.h - an RFC 4180 CSV reader for keyuanctl's imports.
 *
 * Records are read one at a time from a stdio stream, so a file of any
 * size imports in constant memory. Quoted fields may hold commas, ""
 * escapes and line breaks; lines end in LF, CRLF or a lone CR; a UTF-8
 * byte order mark at the start is skipped; empty lines are skipped.
 *
 * A malformed record (text after a closing quote, a quote left open at the
 * end of the file, a NUL byte, a record over CSV_MAX_RECORD bytes) is
 * still returned, with row.error saying what is wrong, and reading goes on
 * with the next line, so one bad row costs only itself.
 */
#ifndef KEYUAN_CTL_CSV_H
#define KEYUAN_CTL_CSV_H

#include <stdio.h>

/* Longest record kept, in bytes; longer ones are reported as malformed. */
#define CTL_CSV_MAX_RECORD (1 << 20)

typedef struct ctl_csv ctl_csv_t;

/* One record. Everything is owned by the reader until its next call. */
typedef struct ctl_csv_row {
    char **fields; /* NUL-terminated cells; callers may edit them */
    size_t nfields;
    long line;         /* line of the file where the record starts, from 1 */
    const char *error; /* NULL, or why the record is malformed */
} ctl_csv_row_t;

/* A reader of f, which stays the caller's. Returns NULL when out of memory. */
ctl_csv_t *ctl_csv_new(FILE *f);

/* Frees the reader (not its stream) and nulls *pp; accepts NULL. */
void ctl_csv_destroy(ctl_csv_t **pp);

/*
 * Reads the next record into *row. Returns 1 for a record (check
 * row->error), 0 at the end of the input, KY_EIO when reading failed or
 * KY_ENOMEM.
 */
int ctl_csv_next(ctl_csv_t *p, ctl_csv_row_t *row);

/* Bytes of the stream consumed so far, for progress reports. */
long ctl_csv_offset(const ctl_csv_t *p);

#endif
