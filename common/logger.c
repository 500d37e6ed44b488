/*
 * logger.c - key=value log lines on stderr (see logger.h).
 *
 * Lines are formatted straight into one process-wide buffer and written
 * by log_flush(). A mutex keeps lines whole when threads share the
 * process (the tests run svc_run on a thread of their own).
 */
#include "logger.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define LOG_STAMP_LEN 19 /* "2026-12-04T18:13:00" */
#define LOG_TAIL_MAX 96  /* " level=... svc=... " */

static const char *const level_names[] = {"debug", "info", "warn", "error"};

static const char *log_service = "keyuan";
static enum log_level log_min = LOG_INFO;

static struct {
    pthread_mutex_t lock;
    char data[LOG_BUFFER_BYTES]; /* whole lines waiting for log_flush() */
    size_t len;                  /* bytes used in data */
    bool exit_hooked;            /* log_flush() registered with atexit */
    time_t stamp_sec;            /* the second that stamp shows */
    char stamp[LOG_STAMP_LEN + 1];
    char tails[4][LOG_TAIL_MAX]; /* per level: " level=info svc=x " */
    bool tails_ready;
} lb = {.lock = PTHREAD_MUTEX_INITIALIZER, .stamp_sec = -1};

/* Builds the part of the prefix that depends on level and service only. */
static void tails_build(void)
{
    for (int i = 0; i < 4; i++)
        snprintf(lb.tails[i], sizeof lb.tails[i], " level=%s svc=%s ",
                 level_names[i], log_service);
    lb.tails_ready = true;
}

void log_setup(const char *service, enum log_level level)
{
    pthread_mutex_lock(&lb.lock);
    log_service = service;
    log_min = level;
    tails_build();
    pthread_mutex_unlock(&lb.lock);
}

int log_level_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(s, level_names[i]) == 0)
            return i;
    return -1;
}

/* Writes the held lines; called with the lock held. */
static void flush_locked(void)
{
    size_t done = 0;

    while (done < lb.len) {
        ssize_t n = write(STDERR_FILENO, lb.data + done, lb.len - done);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* nowhere to write: drop them rather than stall */
        done += (size_t)n;
    }
    lb.len = 0;
}

void log_flush(void)
{
    pthread_mutex_lock(&lb.lock);
    flush_locked();
    pthread_mutex_unlock(&lb.lock);
}

/*
 * Writes "ts=2026-12-04T18:13:00.123Z" at out; returns its length.
 * strftime runs once a second: a service logs thousands of lines in one.
 */
static size_t stamp_write(char *out)
{
    struct timeval tv;
    long ms;

    gettimeofday(&tv, NULL);
    if (tv.tv_sec != lb.stamp_sec) {
        struct tm tm;

        gmtime_r(&tv.tv_sec, &tm);
        strftime(lb.stamp, sizeof lb.stamp, "%Y-%m-%dT%H:%M:%S", &tm);
        lb.stamp_sec = tv.tv_sec;
    }
    ms = (long)tv.tv_usec / 1000;
    memcpy(out, "ts=", 3);
    memcpy(out + 3, lb.stamp, LOG_STAMP_LEN);
    out[3 + LOG_STAMP_LEN] = '.';
    out[4 + LOG_STAMP_LEN] = (char)('0' + ms / 100);
    out[5 + LOG_STAMP_LEN] = (char)('0' + ms / 10 % 10);
    out[6 + LOG_STAMP_LEN] = (char)('0' + ms % 10);
    out[7 + LOG_STAMP_LEN] = 'Z';
    return 8 + LOG_STAMP_LEN;
}

/* Formats one line, newline included, at out (LOG_LINE_MAX bytes free). */
static size_t line_format(char *out, enum log_level level, const char *fmt,
                          va_list ap)
{
    size_t n = stamp_write(out), tail, room;
    int body;

    if (!lb.tails_ready)
        tails_build();
    tail = strlen(lb.tails[level]);
    memcpy(out + n, lb.tails[level], tail);
    n += tail;

    /* The newline takes the place of vsnprintf's terminating NUL. */
    room = LOG_LINE_MAX - n;
    body = vsnprintf(out + n, room, fmt, ap);
    if (body > 0)
        n += (size_t)body < room ? (size_t)body : room - 1;
    out[n++] = '\n';
    return n;
}

void log_write(enum log_level level, const char *fmt, ...)
{
    va_list ap;

    if (level < log_min)
        return;

    pthread_mutex_lock(&lb.lock);
    if (!lb.exit_hooked) {
        lb.exit_hooked = true;
        atexit(log_flush);
    }
    /* Make room for the longest line first, so no line is ever split. */
    if (LOG_BUFFER_BYTES - lb.len < LOG_LINE_MAX)
        flush_locked();
    va_start(ap, fmt);
    lb.len += line_format(lb.data + lb.len, level, fmt, ap);
    va_end(ap);
    if (level >= LOG_WARN)
        flush_locked();
    pthread_mutex_unlock(&lb.lock);
}

char *log_mask_phone(const char *phone, char *out, size_t outlen)
{
    size_t len = strlen(phone);

    if (outlen == 0)
        return out;
    if (len < 8 || len >= outlen) {
        snprintf(out, outlen, "****");
        return out;
    }
    memcpy(out, phone, len + 1);
    for (size_t i = 3; i < len - 4; i++)
        out[i] = '*';
    return out;
}
