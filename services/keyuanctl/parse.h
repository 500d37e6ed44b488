/*
 * parse.h - the values keyuanctl reads from files and flags: whole
 * numbers, decimals, times, durations, enums given by name, short name or
 * Chinese label, and service endpoints.
 *
 * Every function returns 0 or KY_EINVAL and leaves its output alone on
 * error; callers turn the error into a message that names the input.
 */
#ifndef KEYUAN_CTL_PARSE_H
#define KEYUAN_CTL_PARSE_H

#include "keyuan/v1/common.pb-c.h"

#include <protobuf-c/protobuf-c.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Hours east of UTC assumed for times written without an offset. */
#define CTL_DEFAULT_UTC_OFFSET_H 8

/* Strips leading and trailing ASCII white space in place; returns s. */
char *ctl_trim(char *s);

/* A whole number 0..max in decimal digits; "" gives 0 ("not known"). */
int ctl_parse_uint(const char *s, uint64_t max, uint64_t *v);

/* A finite decimal number ("89.5", "1e3"); "" gives 0. */
int ctl_parse_double(const char *s, double *v);

/*
 * A time in ms since the epoch: RFC 3339, or "YYYY-MM", "YYYY-MM-DD",
 * "YYYY-MM-DD HH:MM[:SS]" (also with '/' between the date's parts and
 * one-digit months, days and hours, as spreadsheets write them), which
 * are read as Beijing time (UTC+8), the zone the agencies work in.
 */
int ctl_parse_time(const char *s, int64_t *ms);

/*
 * A birthday or other civil date into *d: "YYYY-MM-DD" (also '/' or '.'
 * between the parts, one-digit months and days), a day of the Gregorian
 * calendar; or a lunar date, "农历YYYY-MM-DD" ("阴历" or "lunar" also
 * start one), whose month may be written "闰MM" for the leap month of
 * that number: month 1-12, day 1-30 (whether that year has such a leap
 * month is for the calendar tables of the scheduler to say). Years
 * 1900-2100, the range lunar tables cover.
 */
int ctl_parse_civil_date(const char *s, Keyuan__V1__CivilDate *d);

/*
 * A duration such as "90s", "15m", "3d" or "1h30m" (units ms, s, m, h, d,
 * w) in milliseconds; it must be more than zero.
 */
int ctl_parse_duration(const char *s, int64_t *ms);

/* A label in another language for an enum value. */
typedef struct ctl_enum_label {
    const char *label;
    int value;
} ctl_enum_label_t;

/* How the values of one proto enum may be written. */
typedef struct ctl_enum_spec {
    const ProtobufCEnumDescriptor *desc;
    const char *prefix;             /* "PURPOSE_": stripped for short names */
    const ctl_enum_label_t *labels; /* Chinese labels, ended by NULL label */
    const char *hint;               /* the accepted forms, for messages */
} ctl_enum_spec_t;

extern const ctl_enum_spec_t ctl_enum_purpose;
extern const ctl_enum_spec_t ctl_enum_stage;
extern const ctl_enum_spec_t ctl_enum_channel;

/*
 * An enum value from its full name ("PURPOSE_OWN_HOME"), its short name
 * in any case ("own_home", "Own-Home") or a Chinese label ("自住"). ""
 * gives 0, the UNSPECIFIED value.
 */
int ctl_parse_enum(const ctl_enum_spec_t *spec, const char *s, int *value);

/*
 * The short lower-case name of an enum value ("own_home", "a" for
 * GRADE_A) into out; the number when the value is unknown. Returns out.
 */
char *ctl_enum_short(const ProtobufCEnumDescriptor *desc, const char *prefix,
                     int value, char *out, size_t outlen);

/* A grade as agents say it: "A", "B", "C" or "lead". Returns out. */
char *ctl_grade_text(int grade, char *out, size_t outlen);

/*
 * A ZeroMQ endpoint from what an operator types: "tcp://host:port" as is,
 * ":7103" or "7103" for loopback, "host:port" for tcp. Returns a string
 * the caller frees, or NULL when s is empty or out of memory.
 */
char *ctl_endpoint(const char *s);

#endif
