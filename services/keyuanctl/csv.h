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
 *
 * The reader takes UTF-8. Files in other encodings (GB18030 as Chinese
 * Excel saves "CSV", UTF-16 as it saves "Unicode text") are made UTF-8
 * first by ctl_csv_decode(), and a tab-separated file is read with '\t'
 * as the delimiter (ctl_csv_sniff_delimiter()).
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

/* Cells are separated by delim (',' unless set); call before reading. */
void ctl_csv_set_delimiter(ctl_csv_t *p, char delim);

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

/* --- encodings -------------------------------------------------------- */

/* The encodings ctl_csv_decode() tells apart. */
enum ctl_encoding {
    CTL_ENC_UTF8,     /* UTF-8 without a byte order mark (or plain ASCII) */
    CTL_ENC_UTF8_BOM, /* UTF-8 with one: Excel's "CSV UTF-8" */
    CTL_ENC_GB18030,  /* GB18030, GBK or GB2312: Excel's "CSV" in China */
    CTL_ENC_UTF16LE,  /* with a BOM: Excel's "Unicode text" */
    CTL_ENC_UTF16BE   /* with a BOM */
};

/* "UTF-8", "GB18030", ... for messages. */
const char *ctl_encoding_name(enum ctl_encoding enc);

/*
 * Reads raw from where it stands to its end, finds its encoding (see
 * csv.c for how, and where that can go wrong) and returns a stream of the
 * same text in UTF-8, positioned where raw started: raw itself when the
 * text is UTF-8 and raw can seek, otherwise a new temporary file. Either
 * way raw stays the caller's; a returned stream other than raw is the
 * caller's to fclose(). Bytes the encoding does not allow come out as
 * 0xFF, which is never UTF-8, so the rows holding them are refused rather
 * than imported garbled.
 *
 * Returns NULL with *err (KY_EIO, KY_ENOMEM, KY_EDISABLED when this
 * system's iconv lacks the encoding) and errbuf saying why.
 */
FILE *ctl_csv_decode(FILE *raw, enum ctl_encoding *enc, int *err, char *errbuf,
                     size_t errlen);

/*
 * Looks at the first line of f (which must be able to seek; it is put
 * back where it was) and returns '\t' when it holds tabs but no comma,
 * as a tab-separated export does, and ',' otherwise.
 */
char ctl_csv_sniff_delimiter(FILE *f);

#endif
