/*
 * logger.h - one line per event on stderr: time, level, service, then
 * key=value pairs written by the caller.
 *
 *     log_info("event=lead_accepted customer=%llu", id);
 *
 * Never log names, addresses or whole phone numbers: use log_mask_phone().
 * Debug lines are printed only when the level is LOG_DEBUG (--log-level or
 * KEYUAN_LOG_LEVEL).
 */
#ifndef KEYUAN_LOGGER_H
#define KEYUAN_LOGGER_H

#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Sets the service name printed on every line and the lowest level shown. */
void log_setup(const char *service, enum log_level level);

/* Parses "debug", "info", "warn" or "error"; returns -1 for anything else. */
int log_level_parse(const char *s);

void log_write(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

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
