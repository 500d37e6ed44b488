/*
 * sink.h - the file and stdout sinks: one readable line per reminder.
 *
 *   2026-12-04T09:15:00+08:00 reminder=123 kind=speed_to_lead agent=a01
 *   customer=456 grade=A cycle=1 text="..."          (one line in a file)
 *
 * The time is the reminder's due_at (fired_at when due_at is unset) in
 * China Standard Time, UTC+08:00, the zone of Asia/Shanghai (no daylight
 * saving since 1991), so that agents read the time they know; the offset
 * is printed, so the line is still exact for any reader. The line holds
 * ids and the scheduler's text, never names or phone numbers of ours.
 * text (and an agent id that needs it) is quoted, with \" \\ \n \r \t,
 * \xHH for other control bytes and invalid UTF-8, and \uHHHH for the
 * Unicode line breaks U+0085, U+2028 and U+2029: a reminder is always
 * exactly one '\n'-terminated line.
 *
 * This module formats and parses lines and does the file I/O; which lines
 * are committed is the notifier's business (deliver.c).
 */
#ifndef KEYUAN_NOTIFY_SINK_H
#define KEYUAN_NOTIFY_SINK_H

#include "keyuan/v1/flow.pb-c.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A growing byte buffer; zero-initialise it. */
typedef struct notify_buf {
    char *data;
    size_t len;
    size_t cap;
} notify_buf_t;

/* Appends len bytes. Returns 0 or KY_ENOMEM. */
int notify_buf_add(notify_buf_t *b, const void *data, size_t len);

void notify_buf_free(notify_buf_t *b);

/* Appends the line of r, with its '\n'. Returns 0 or KY_ENOMEM. */
int notify_line_format(notify_buf_t *out, const Keyuan__V1__Reminder *r);

/*
 * Reads the reminder id of a line (len bytes, without its '\n').
 * Returns 0, or KY_EDECODE when the line is not one of ours.
 */
int notify_line_reminder_id(const char *line, size_t len, uint64_t *id);

/*
 * Opens path for appending and reading back its tail, creating it (mode
 * 0640). Returns the fd, or -1 with errno.
 */
int notify_sink_open(const char *path);

/*
 * Writes len bytes to fd. A regular file gets them in a single write() so
 * that a crash leaves at most one torn line at the end; a short write is
 * an error there. Pipes and terminals are written in as many calls as
 * they take. Returns 0 or KY_EIO (errno set).
 */
int notify_sink_write(int fd, const char *data, size_t len, bool regular);

/* fdatasync; for a pipe or terminal, which cannot sync, returns 0. */
int notify_sink_sync(int fd);

/* Called with each complete line's reminder id; nonzero stops the scan. */
typedef int (*notify_line_fn)(void *arg, uint64_t reminder_id);

/*
 * Reads fd from offset from up to size and calls fn for every complete
 * line in it that is one of ours. *end is set to the offset just after
 * the last complete line (from when there is none): anything after it is
 * a torn line. Returns 0, KY_EIO, KY_ENOMEM or what fn returned.
 */
int notify_sink_scan(int fd, uint64_t from, uint64_t size, notify_line_fn fn,
                     void *arg, uint64_t *end);

#endif
