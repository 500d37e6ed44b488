/*
 * logger.h - one line per event on stderr: time, level, service, then
 * key=value pairs written by the caller.
 *
 *     log_info("event=lead_accepted customer=%llu", id);
 *
 * Never log names, addresses or whole phone numbers: use log_mask_phone().
 * Debug lines are printed only when the level is LOG_DEBUG (--log-level or
 * KEYUAN_LOG_LEVEL).
 *
 * Lines are gathered in a buffer in the process and written to stderr
 * together, whole lines only: a service logs about one line per message,
 * and a write per line cost more than the message's own work. The buffer
 * goes out when the service loop is about to wait (svc_run calls
 * log_flush() before each poll), when it is full, at exit, and at once
 * after every warn or error line. The price: a process killed hard
 * (SIGKILL, a crash) loses the debug and info lines of the batch it was
 * working on; warnings and errors are never held back, and nothing a
 * service confirmed to anyone depends on a log line.
 */
#ifndef KEYUAN_LOGGER_H
#define KEYUAN_LOGGER_H

#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* The longest line, newline included: longer ones are cut to fit. */
#define LOG_LINE_MAX 1024

/* Bytes held in the process before they are written anyway. */
#define LOG_BUFFER_BYTES 65536

/* Sets the service name printed on every line and the lowest level shown. */
void log_setup(const char *service, enum log_level level);

/* Parses "debug", "info", "warn" or "error"; returns -1 for anything else. */
int log_level_parse(const char *s);

void log_write(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The most a batch's held lines may take; more are counted, not kept. */
#define LOG_HELD_MAX (1 << 20)

/*
 * Holds the info and debug lines that follow, until log_release(): they
 * tell what a batch did, and a batch rolled back (to run again without a
 * failing message, or because its commit failed) did nothing. Warnings
 * and errors are written at once all the same, so they may come before
 * the held lines of their batch.
 */
void log_hold(void);

/*
 * Ends log_hold(): with keep the held lines are written (queued like any
 * other), otherwise they are dropped. Lines beyond LOG_HELD_MAX are
 * counted in a warning.
 */
void log_release(bool keep);

/*
 * Writes the lines held so far to stderr, in one write when it takes them
 * all. Call it before the process waits for anything. Lines that cannot
 * be written (stderr closed) are dropped: logging never stops a service.
 */
void log_flush(void);

/*
 * s when it is a short plain token (up to 32 letters, digits, '.', '_'
 * or '-'; not seven digits or more alone), else "(other)". For names from
 * outside worth a log line, such as a lead source, which could carry a phone
 * number or forged key=value pairs as well.
 */
const char *log_token(const char *s);

#define log_debug(...) log_write(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_write(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_write(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_write(LOG_ERROR, __VA_ARGS__)

/*
 * Writes a masked form of phone into out (size outlen): the first three and
 * last four digits stay, the middle becomes stars ("138****8000"). Short
 * values are masked whole. Returns out.
 */
char *log_mask_phone(const char *phone, char *out, size_t outlen);

#endif
