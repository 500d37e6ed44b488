/*
 * out.h - how keyuanctl prints: JSON lines for scripts, aligned tables
 * and "field: value" blocks for people, and a progress bar on a terminal.
 *
 * Widths count display columns, so Chinese text (two columns a
 * character) lines up with ASCII.
 */
#ifndef KEYUAN_CTL_OUT_H
#define KEYUAN_CTL_OUT_H

#include "wire.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Columns that UTF-8 text s takes on a terminal. */
size_t ctl_text_width(const char *s);

/* Cuts s at its first byte that is not part of valid UTF-8. */
void ctl_utf8_clip(char *s);

/* Writes json as one compact line on stdout and releases it (decref). */
int ctl_print_json(json_t *json);

/* Writes msg as one line of proto3 JSON on stdout. Returns 0 or <0. */
int ctl_print_msg(const ProtobufCMessage *msg);

/*
 * Prints msg as "field: value" lines with the values aligned: nested
 * messages as dotted paths (needs.budget_min_wan), lists joined by ", ",
 * fields at their default left out. Returns 0 or KY_ENOMEM.
 */
int ctl_print_fields(const ProtobufCMessage *msg, FILE *out);

/* A timestamp as "2026-05-01T09:30:00Z"; "-" when ts is NULL. */
/*
 * A copy of s (free it) in which every character a terminal would hide or
 * act on (text_unsafe_at(), and with c0 also C0 controls and DEL) is
 * written as \uXXXX: what keyuanctl prints may be a rejected event made to
 * reorder or hide text on an operator's screen. Inside JSON strings the
 * escape reads back as the same character. NULL without memory.
 */
char *ctl_defang(const char *s, bool c0);

/* Prints one line formatted as printf() does, defanged (with c0), and a
 * line break. */
void ctl_print_line(FILE *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

char *ctl_format_ts(const Google__Protobuf__Timestamp *ts, char *out,
                    size_t outlen);

typedef struct ctl_table ctl_table_t;

/* A table with ncols columns named by headers (copied). NULL: no memory. */
ctl_table_t *ctl_table_new(size_t ncols, const char *const *headers);

/* Appends a row of ncols cells (copied). Returns 0 or KY_ENOMEM. */
int ctl_table_add(ctl_table_t *t, const char *const *cells);

/* Prints the table, each column as wide as its widest cell. */
void ctl_table_print(const ctl_table_t *t, FILE *out);

void ctl_table_destroy(ctl_table_t **tp);

/* A one-line progress bar on stderr, drawn only when it is a terminal. */
typedef struct ctl_progress {
    bool on;    /* stderr is a terminal */
    bool drawn; /* a bar is on the screen now */
    long total; /* bytes of input; 0 when not known */
} ctl_progress_t;

void ctl_progress_init(ctl_progress_t *p, long total_bytes);

/* Redraws the bar: done bytes of the input, requests sent and answered. */
void ctl_progress_draw(ctl_progress_t *p, long done, uint64_t sent,
                       uint64_t answered);

/* Wipes the bar so that a line can be printed; it comes back next draw. */
void ctl_progress_clear(ctl_progress_t *p);

#endif
