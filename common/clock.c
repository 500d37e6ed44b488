/* clock.c - real and test clocks (see clock.h). */
#include "clock.h"

#include "err.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static bool test_enabled;
static int64_t test_now;

int64_t clock_now_ms(void)
{
    struct timespec ts;

    if (test_enabled)
        return test_now;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void clock_enable_test(int64_t start_ms)
{
    test_enabled = true;
    test_now = start_ms;
}

bool clock_is_test(void)
{
    return test_enabled;
}

int clock_set_test(int64_t now_ms)
{
    if (!test_enabled)
        return KY_EDISABLED;
    if (now_ms < test_now)
        return KY_ERANGE;
    test_now = now_ms;
    return KY_OK;
}

/* Reads exactly n digits at *p into *out and advances *p. */
static bool read_digits(const char **p, int n, int *out)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return false;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static bool read_offset(const char *p, int *offset_min)
{
    int sign, hh, mm;

    if (*p == 'Z' || *p == 'z') {
        *offset_min = 0;
        return p[1] == '\0';
    }
    if (*p != '+' && *p != '-')
        return false;
    sign = *p++ == '-' ? -1 : 1;
    if (!read_digits(&p, 2, &hh) || *p++ != ':' || !read_digits(&p, 2, &mm))
        return false;
    *offset_min = sign * (hh * 60 + mm);
    return *p == '\0';
}

int clock_parse_rfc3339(const char *s, int64_t *ms)
{
    struct tm tm = {0};
    int y, mo, d, h, mi, sec, frac_ms = 0, offset_min;
    const char *p = s;

    if (!read_digits(&p, 4, &y) || *p++ != '-' || !read_digits(&p, 2, &mo) ||
        *p++ != '-' || !read_digits(&p, 2, &d) ||
        (*p != 'T' && *p != 't' && *p != ' '))
        return KY_EDECODE;
    p++;
    if (!read_digits(&p, 2, &h) || *p++ != ':' || !read_digits(&p, 2, &mi) ||
        *p++ != ':' || !read_digits(&p, 2, &sec))
        return KY_EDECODE;
    if (*p == '.') {
        int scale = 100;
        p++;
        if (!isdigit((unsigned char)*p))
            return KY_EDECODE;
        for (; isdigit((unsigned char)*p); p++, scale /= 10)
            frac_ms += (*p - '0') * scale;
    }
    if (!read_offset(p, &offset_min))
        return KY_EDECODE;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return KY_EDECODE;

    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    *ms = ((int64_t)timegm(&tm) - offset_min * 60LL) * 1000 + frac_ms;
    return KY_OK;
}

char *clock_format_rfc3339(int64_t ms, char *out, int outlen)
{
    time_t sec = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    int frac = (int)(ms - (int64_t)sec * 1000);
    struct tm tm;
    char base[24];

    gmtime_r(&sec, &tm);
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, (size_t)outlen, "%s.%03dZ", base, frac);
    return out;
}
