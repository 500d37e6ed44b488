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
    bool holding; /* log_hold(): info and debug lines go to held */
    char *held;   /* those lines, whole */
    size_t held_len, held_cap;
    size_t dropped; /* held lines that did not fit under LOG_HELD_MAX */
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

static void hold_line(enum log_level level, const char *fmt, va_list ap);

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
    if (lb.holding && level < LOG_WARN) {
        va_start(ap, fmt);
        hold_line(level, fmt, ap);
        va_end(ap);
        pthread_mutex_unlock(&lb.lock);
        return;
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

/* Adds one line to the held ones, growing them up to LOG_HELD_MAX. */
static void hold_line(enum log_level level, const char *fmt, va_list ap)
{
    char line[LOG_LINE_MAX];
    size_t n = line_format(line, level, fmt, ap);

    if (lb.held_len + n > lb.held_cap) {
        size_t cap = lb.held_cap ? lb.held_cap : LOG_BUFFER_BYTES;
        char *grown;

        while (cap < lb.held_len + n)
            cap *= 2;
        if (cap > LOG_HELD_MAX || (grown = realloc(lb.held, cap)) == NULL) {
            lb.dropped++;
            return;
        }
        lb.held = grown;
        lb.held_cap = cap;
    }
    memcpy(lb.held + lb.held_len, line, n);
    lb.held_len += n;
}

void log_hold(void)
{
    pthread_mutex_lock(&lb.lock);
    lb.holding = true;
    lb.held_len = 0;
    lb.dropped = 0;
    pthread_mutex_unlock(&lb.lock);
}

/* Writes n bytes of whole lines through the buffer, in order. */
static void write_through(const char *data, size_t n)
{
    flush_locked();
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, data, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; /* nowhere to write: drop them rather than stall */
        data += w;
        n -= (size_t)w;
    }
}

void log_release(bool keep)
{
    size_t dropped;

    pthread_mutex_lock(&lb.lock);
    if (keep && lb.held_len == 0) {
        /* nothing held */
    } else if (keep && lb.held_len <= LOG_BUFFER_BYTES - lb.len) {
        memcpy(lb.data + lb.len, lb.held, lb.held_len);
        lb.len += lb.held_len;
    } else if (keep) {
        write_through(lb.held, lb.held_len);
    }
    dropped = keep ? lb.dropped : 0;
    lb.holding = false;
    lb.held_len = 0;
    lb.dropped = 0;
    pthread_mutex_unlock(&lb.lock);
    if (dropped)
        log_write(LOG_WARN, "event=log_lines_dropped count=%zu", dropped);
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

const char *log_token(const char *s)
{
    size_t n = 0, digits = 0;

    for (; s && s[n]; n++) {
        digits += s[n] >= '0' && s[n] <= '9';
        unsigned char ch = (unsigned char)s[n];

        if (n == 32 ||
            !((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'))
            return "(other)";
    }
    /* Seven digits or more could be a phone number: never logged. */
    return n > 0 && (digits < n || n < 7) ? s : "(other)";
}
