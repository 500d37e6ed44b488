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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SECONDS_PER_DAY 86400

/*
 * From when the zone's offset from UTC stops changing. glibc derives a
 * local time after a zone's last transition from the footer rule of the
 * zone file, parsing that rule again on every call: localtime_r() and
 * mktime() took 6% of the scheduler's time in make bench. When the
 * footer names no daylight-saving time (Asia/Shanghai: "CST-8"), every
 * time from the last transition on is one fixed offset from UTC, and
 * local days are arithmetic (fixed_zone_read() sets this up).
 */
static struct {
    bool on;       /* the zone has such a time */
    int64_t from;  /* its last transition, seconds since the epoch */
    long offset_s; /* local time minus UTC from then on, seconds */
} fixed;

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

/* ---- zones of one offset: reading the zone file ------------------------- */

#define TZIF_HEADER 44
#define TZIF_MAX_BYTES (1 << 20)

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* The counts of a TZif header at p (RFC 8536, 3.1), in file order:
 * isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt. */
static void tzif_counts(const unsigned char *p, size_t c[6])
{
    for (int i = 0; i < 6; i++)
        c[i] = be32(p + 20 + 4 * (size_t)i);
}

/* Bytes of the data block after a header with counts c; time_len is 4
 * for the version 1 block, 8 for the version 2+ one. */
static size_t tzif_data_len(const size_t c[6], size_t time_len)
{
    return c[3] * time_len + c[3] + c[4] * 6 + c[5] + c[2] * (time_len + 4) +
           c[1] + c[0];
}

/* True when footer rule s (a POSIX TZ string) names standard time only:
 * a name, an offset, and nothing after them. */
static bool rule_is_fixed(const char *s, size_t len)
{
    size_t i = 0;

    if (i < len && s[i] == '<') {
        while (i < len && s[i] != '>')
            i++;
        if (i++ == len)
            return false;
    } else {
        while (i < len && isalpha((unsigned char)s[i]))
            i++;
    }
    if (i == 0 || i == len)
        return false;
    if (s[i] == '+' || s[i] == '-')
        i++;
    while (i < len && (isdigit((unsigned char)s[i]) || s[i] == ':'))
        i++;
    return i == len;
}

/*
 * Reads zone file buf (n bytes) for the time of its last transition, in
 * *from (INT64_MIN when it has none and a single type). Returns false
 * when the zone changes its offset after that (a daylight-saving rule),
 * counts leap seconds, or is not a TZif file of version 2 or later.
 */
static bool tzif_fixed_from(const unsigned char *buf, size_t n, int64_t *from)
{
    size_t c[6], off, end;
    const unsigned char *nl;

    if (n < TZIF_HEADER || memcmp(buf, "TZif", 4) != 0 || buf[4] < '2')
        return false;
    tzif_counts(buf, c);
    off = TZIF_HEADER + tzif_data_len(c, 4);
    if (off > n || n - off < TZIF_HEADER || memcmp(buf + off, "TZif", 4))
        return false;
    tzif_counts(buf + off, c);
    off += TZIF_HEADER;
    if (c[2] != 0 || c[4] == 0 || tzif_data_len(c, 8) > n - off)
        return false; /* leap seconds, or no types */
    if (c[3] > 0)
        *from = be64(buf + off + (c[3] - 1) * 8);
    else if (c[4] == 1)
        *from = INT64_MIN;
    else
        return false;

    /* The footer: the rule for times after the last transition. */
    off += tzif_data_len(c, 8);
    if (off >= n || buf[off] != '\n')
        return false;
    nl = memchr(buf + off + 1, '\n', n - off - 1);
    if (nl == NULL)
        return false;
    end = (size_t)(nl - buf);
    return rule_is_fixed((const char *)buf + off + 1, end - off - 1);
}

/* Local time minus UTC at sec in the process's zone, by the C library. */
static bool libc_offset(int64_t sec, long *offset_s)
{
    time_t t = (time_t)sec;
    struct tm tm;

    if (localtime_r(&t, &tm) == NULL)
        return false;
    *offset_s = tm.tm_gmtoff;
    return true;
}

/* Sets up "fixed" for the zone in file path, now the process's zone. */
static void fixed_zone_read(const char *path)
{
    unsigned char *buf = malloc(TZIF_MAX_BYTES);
    FILE *f = fopen(path, "rb");
    size_t n = 0;
    long at_from, later;
    int64_t from = 0;

    fixed.on = false;
    if (buf && f)
        n = fread(buf, 1, TZIF_MAX_BYTES, f);
    if (n > 0 && n < TZIF_MAX_BYTES && tzif_fixed_from(buf, n, &from)) {
        int64_t probe = from == INT64_MIN ? 0 : from;

        /* The C library must agree: the same offset at the last
         * transition and a century after it. */
        if (libc_offset(probe, &at_from) &&
            libc_offset(probe + 100LL * 365 * SECONDS_PER_DAY, &later) &&
            at_from == later) {
            fixed.on = true;
            fixed.from = from;
            fixed.offset_s = at_from;
        }
    }
    if (f)
        fclose(f);
    free(buf);
}

bool sched_hours_fixed_since(int64_t *from_ms)
{
    if (!fixed.on)
        return false;
    *from_ms = fixed.from < INT64_MIN / 1000 ? INT64_MIN : fixed.from * 1000;
    return true;
}

/* The end of year 9999: later times are left to the C library. */
#define FIXED_UNTIL 253402300800LL

/* True when second sec, and the day before it, are in fixed's range:
 * local days and times from there on are arithmetic, and no local time
 * from there on can also name a time before the last transition. */
static bool fixed_covers(int64_t sec)
{
    return fixed.on && sec < FIXED_UNTIL && sec - SECONDS_PER_DAY >= fixed.from;
}

/* Floor division: the local day of local second lsec, and its second. */
static int64_t day_of(int64_t lsec, int64_t *second)
{
    int64_t day = lsec / SECONDS_PER_DAY;

    if (lsec % SECONDS_PER_DAY < 0)
        day--;
    *second = lsec - day * SECONDS_PER_DAY;
    return day;
}

/* ---- the zone ------------------------------------------------------------ */

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
    fixed_zone_read(path);
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

/* sched_hours_shift() where fixed_covers(sec): the same steps, on the
 * local day and minute computed with the one offset. */
static int64_t shift_fixed(const sched_hours_t *h, int64_t ms, int64_t sec)
{
    int64_t second, day = day_of(sec + fixed.offset_s, &second);
    int m = (int)(second / 60);

    if (inside(h, m))
        return ms;
    if (h->start_min < h->end_min && m >= h->end_min)
        day += 1;
    return (day * SECONDS_PER_DAY + h->start_min * 60 - fixed.offset_s) * 1000;
}

int64_t sched_hours_shift(const sched_hours_t *h, int64_t ms)
{
    int64_t rest;
    time_t sec = split_ms(ms, &rest);
    struct tm tm;
    int m;

    if (sched_hours_all_day(h))
        return ms;
    if (fixed_covers(sec))
        return shift_fixed(h, ms, sec);
    if (localtime_r(&sec, &tm) == NULL)
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
    int64_t moved = (int64_t)days * SECONDS_PER_DAY;
    struct tm tm;

    if (fixed_covers(sec) && fixed_covers(sec + moved))
        return ms + moved * 1000;
    if (localtime_r(&sec, &tm) == NULL)
        return ms + (int64_t)days * 24 * 3600 * 1000;
    tm.tm_mday += days;
    tm.tm_isdst = -1;
    return (int64_t)mktime(&tm) * 1000 + rest;
}
