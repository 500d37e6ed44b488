/* logger.c - key=value log lines on stderr (see logger.h). */
#include "logger.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static const char *log_service = "keyuan";
static enum log_level log_min = LOG_INFO;

void log_setup(const char *service, enum log_level level)
{
    log_service = service;
    log_min = level;
}

int log_level_parse(const char *s)
{
    static const char *names[] = {"debug", "info", "warn", "error"};

    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

void log_write(enum log_level level, const char *fmt, ...)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    char line[1024], stamp[32];
    struct timeval tv;
    struct tm tm;
    va_list ap;
    int n;

    if (level < log_min)
        return;

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    n = snprintf(line, sizeof line, "ts=%s.%03ldZ level=%s svc=%s ", stamp,
                 (long)tv.tv_usec / 1000, names[level], log_service);

    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);

    /* One fputs per line so lines from one process never interleave; the
     * byte kept free above guarantees room for the newline. */
    strcat(line, "\n");
    fputs(line, stderr);
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
