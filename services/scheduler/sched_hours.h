/*
 * sched_hours.h - moving a due time into the local working hours.
 *
 * Agents are reminded only inside the deployment's working hours, read in
 * its time zone (default Asia/Shanghai). A due time outside them moves to
 * the next start of working hours: the same day when it is before the
 * start, the next day when it is at or after the end.
 *
 * The zone is the process's: sched_hours_use_zone() sets TZ once at start
 * and sched_hours_shift() converts with localtime_r() and mktime(), so the
 * tzdata rules (including daylight saving time, for zones that have it)
 * decide every local time. Asia/Shanghai has had no DST since 1991: for
 * such a zone, times after its last transition are converted with its
 * one offset, which gives the same results (sched_hours_fixed_since()).
 */
#ifndef KEYUAN_SCHED_HOURS_H
#define KEYUAN_SCHED_HOURS_H

#include <stdbool.h>
#include <stdint.h>

#define SCHED_HOURS_DAY_MIN (24 * 60)

/*
 * Working hours as minutes after local midnight, start inclusive, end
 * exclusive. start > end is a window across midnight (22:00-06:00);
 * 00:00-24:00 is the whole day.
 */
typedef struct sched_hours {
    int start_min; /* 0 .. 1439 */
    int end_min;   /* 0 .. 1440 */
} sched_hours_t;

/*
 * Parses start and end ("HH:MM", 00:00 to 24:00; "24:00" only as the end,
 * and "00:00"/"24:00" as a pair meaning all day) into *h. Returns 0, or
 * KY_ECONFIG for a malformed time or an empty window (start == end).
 */
int sched_hours_parse(const char *start, const char *end, sched_hours_t *h);

/* True when h covers the whole day, so that no time ever moves. */
bool sched_hours_all_day(const sched_hours_t *h);

/*
 * Makes zone (an IANA name such as "Asia/Shanghai") the process's local
 * time zone: setenv("TZ") and tzset(). Returns 0, or KY_ECONFIG when no
 * tzdata file of that name exists (glibc would silently use UTC).
 */
int sched_hours_use_zone(const char *zone);

/*
 * True when the process's zone (set by sched_hours_use_zone()) keeps one
 * offset from UTC from some time on, with *from_ms set to that time: its
 * last transition (INT64_MIN for a zone that never had one). From a day
 * after it, sched_hours_shift() and sched_hours_add_days() compute
 * local times with that offset instead of asking the C library, which
 * gives the same results for such a zone (Asia/Shanghai from 1991 on).
 */
bool sched_hours_fixed_since(int64_t *from_ms);

/*
 * The earliest time >= ms (ms since the epoch, UTC) inside working hours
 * h in the process's zone: ms itself when it already is inside, else the
 * next start of working hours (whole seconds). Depends only on its
 * arguments and the zone.
 *
 * A start that falls into a DST gap (a local time that does not exist
 * that day) is normalised by mktime(), which moves it past the gap; for
 * a start in a repeated hour mktime() picks one of the two.
 */
int64_t sched_hours_shift(const sched_hours_t *h, int64_t ms);

/*
 * ms moved by days calendar days in the process's zone: the same local
 * time of day, days later, so that a weekly follow-up stays at 10:00
 * across a DST change (where 7 * 24 hours would drift by one hour).
 */
int64_t sched_hours_add_days(int64_t ms, int days);

#endif
