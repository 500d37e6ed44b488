/*
 * sched_hours.c - working hours in the deployment's time zone (see
 * sched_hours.h).
 *
 * TODO(holidays issue): official holidays and the make-up working days
 * (调休) from shared/data/holiday-cn are not skipped yet; a due time on a
 * public holiday still fires at that day's start of working hours.
 */
#include "sched_hours.h"

#include "err.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Reads "HH:MM" (00:00 .. 24:00) into minutes; -1 when malformed. */
static int parse_hhmm(const char *s)
{
    int h, m;

    if (strlen(s) != 5 || s[2] != ':' || !isdigit((unsigned char)s[0]) ||
        !isdigit((unsigned char)s[1]) || !isdigit((unsigned char)s[3]) ||
        !isdigit((unsigned char)s[4]))
        return -1;
    h = (s[0] - '0') * 10 + (s[1] - '0');
    m = (s[3] - '0') * 10 + (s[4] - '0');
    if (m > 59 || h > 24 || (h == 24 && m != 0))
        return -1;
    return h * 60 + m;
}

int sched_hours_parse(const char *start, const char *end, sched_hours_t *h)
{
    int s = parse_hhmm(start), e = parse_hhmm(end);

    if (s < 0 || e < 0) {
        fprintf(stderr,
                "error: working hours must be HH:MM, 00:00 to "
                "24:00 (got \"%s\" and \"%s\")\n",
                start, end);
        return KY_ECONFIG;
    }
    if (s == SCHED_HOURS_DAY_MIN)
        s = 0; /* a day that starts at 24:00 starts at 00:00 */
    if (e == 0 && s == 0)
        e = SCHED_HOURS_DAY_MIN; /* 00:00-00:00: all day */
    if (s == e) {
        fprintf(stderr, "error: working hours %s-%s are empty\n", start, end);
        return KY_ECONFIG;
    }
    h->start_min = s;
    h->end_min = e;
    return KY_OK;
}

bool sched_hours_all_day(const sched_hours_t *h)
{
    return h->start_min == 0 && h->end_min == SCHED_HOURS_DAY_MIN;
}

int sched_hours_use_zone(const char *zone)
{
    const char *dir = getenv("TZDIR");
    char path[512];

    if (dir == NULL || *dir == '\0')
        dir = "/usr/share/zoneinfo";
    snprintf(path, sizeof path, "%s/%s", dir, zone);
    if (*zone == '\0' || strstr(zone, "..") || access(path, R_OK) != 0) {
        fprintf(stderr,
                "error: unknown time zone \"%s\" (no %s; the tzdata "
                "package provides the zones)\n",
                zone, path);
        return KY_ECONFIG;
    }
    setenv("TZ", zone, 1);
    tzset();
    return KY_OK;
}

/* True when minute-of-day m lies inside the working hours. */
static bool inside(const sched_hours_t *h, int m)
{
    if (h->start_min < h->end_min)
        return m >= h->start_min && m < h->end_min;
    return m >= h->start_min || m < h->end_min; /* across midnight */
}

/* Seconds and leftover ms of ms, rounding down for times before 1970. */
static time_t split_ms(int64_t ms, int64_t *rest)
{
    int64_t sec = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;

    *rest = ms - sec * 1000;
    return (time_t)sec;
}

int64_t sched_hours_shift(const sched_hours_t *h, int64_t ms)
{
    int64_t rest;
    time_t sec = split_ms(ms, &rest);
    struct tm tm;
    int m;

    if (sched_hours_all_day(h) || localtime_r(&sec, &tm) == NULL)
        return ms;
    m = tm.tm_hour * 60 + tm.tm_min;
    if (inside(h, m))
        return ms;

    /* After the end of a same-day window: tomorrow's start. Otherwise
     * (before the start, or in the gap of a window across midnight) the
     * start comes later today. mktime() normalises the day overflow. */
    if (h->start_min < h->end_min && m >= h->end_min)
        tm.tm_mday += 1;
    tm.tm_hour = h->start_min / 60;
    tm.tm_min = h->start_min % 60;
    tm.tm_sec = 0;
    tm.tm_isdst = -1; /* let the zone's rules say whether DST applies */
    return (int64_t)mktime(&tm) * 1000;
}

int64_t sched_hours_add_days(int64_t ms, int days)
{
    int64_t rest;
    time_t sec = split_ms(ms, &rest);
    struct tm tm;

    if (localtime_r(&sec, &tm) == NULL)
        return ms + (int64_t)days * 24 * 3600 * 1000;
    tm.tm_mday += days;
    tm.tm_isdst = -1;
    return (int64_t)mktime(&tm) * 1000 + rest;
}
