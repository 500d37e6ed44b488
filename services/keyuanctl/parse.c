/* parse.c - numbers, times, durations, enums and endpoints (see parse.h). */
#include "parse.h"

#include "clock.h"
#include "err.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

char *ctl_trim(char *s)
{
    char *end;

    while (isspace((unsigned char)*s))
        s++;
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

int ctl_parse_uint(const char *s, uint64_t max, uint64_t *v)
{
    uint64_t n = 0;

    for (const char *p = s; *p; p++) {
        uint64_t d = (uint64_t)(*p - '0');

        if (!isdigit((unsigned char)*p) || d > max || n > (max - d) / 10)
            return KY_EINVAL;
        n = n * 10 + d;
    }
    *v = n;
    return KY_OK;
}

int ctl_parse_double(const char *s, double *v)
{
    char *end;
    double d;

    if (*s == '\0') {
        *v = 0;
        return KY_OK;
    }
    /* strtod also takes hex, "inf" and "nan": allow plain decimals only */
    if (strspn(s, "0123456789.+-eE") != strlen(s))
        return KY_EINVAL;
    errno = 0;
    d = strtod(s, &end);
    if (end == s || *end != '\0' || errno == ERANGE || !isfinite(d))
        return KY_EINVAL;
    *v = d;
    return KY_OK;
}

/* Reads 1 to max digits at *p. */
static bool read_num(const char **p, int max, int *v)
{
    int n = 0, i = 0;

    for (; i < max && isdigit((unsigned char)(*p)[i]); i++)
        n = n * 10 + ((*p)[i] - '0');
    *p += i;
    *v = n;
    return i > 0;
}

/* The "YYYY-MM-DD HH:MM:SS" family, parts after the month optional. */
static bool read_local(const char *p, struct tm *tm)
{
    char sep;

    tm->tm_mday = 1;
    if (!read_num(&p, 4, &tm->tm_year) || (*p != '-' && *p != '/'))
        return false;
    sep = *p++;
    if (!read_num(&p, 2, &tm->tm_mon))
        return false;
    if (*p == sep && (p++, !read_num(&p, 2, &tm->tm_mday)))
        return false;
    if ((*p == ' ' || *p == 'T') && p[1] != '\0') {
        p++;
        if (!read_num(&p, 2, &tm->tm_hour) || *p++ != ':' ||
            !read_num(&p, 2, &tm->tm_min))
            return false;
        if (*p == ':' && (p++, !read_num(&p, 2, &tm->tm_sec)))
            return false;
    }
    return *p == '\0';
}

int ctl_parse_time(const char *s, int64_t *ms)
{
    struct tm tm = {0};
    struct tm check;
    time_t t;

    if (clock_parse_rfc3339(s, ms) == KY_OK)
        return KY_OK;
    if (!read_local(s, &tm) || tm.tm_mon < 1 || tm.tm_mon > 12 ||
        tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 59)
        return KY_EINVAL;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    check = tm;
    t = timegm(&tm);
    if (tm.tm_mday != check.tm_mday) /* 2026-02-30 rolled over */
        return KY_EINVAL;
    *ms = ((int64_t)t - CTL_DEFAULT_UTC_OFFSET_H * 3600LL) * 1000;
    return KY_OK;
}

/* Skips a lunar prefix at *p; true when there was one. */
static bool lunar_prefix(const char **p)
{
    static const char *const prefixes[] = {"农历", "阴历", "lunar", NULL};

    for (int i = 0; prefixes[i]; i++) {
        size_t n = strlen(prefixes[i]);

        if (strncasecmp(*p, prefixes[i], n) == 0) {
            *p += n;
            while (**p == ' ' || **p == ':')
                (*p)++;
            return true;
        }
    }
    return false;
}

static bool leap_year(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    return m == 2 && leap_year(y) ? 29 : days[m - 1];
}

int ctl_parse_civil_date(const char *s, Keyuan__V1__CivilDate *d)
{
    bool lunar = lunar_prefix(&s), leap = false;
    int y, m, day;
    char sep;

    if (!read_num(&s, 4, &y) || (*s != '-' && *s != '/' && *s != '.'))
        return KY_EINVAL;
    sep = *s++;
    if (lunar && strncmp(s, "闰", strlen("闰")) == 0) {
        s += strlen("闰");
        leap = true;
    }
    if (!read_num(&s, 2, &m) || *s++ != sep || !read_num(&s, 2, &day) ||
        *s != '\0')
        return KY_EINVAL;
    if (y < 1900 || y > 2100 || m < 1 || m > 12 || day < 1 ||
        day > (lunar ? 30 : month_days(y, m)))
        return KY_EINVAL;
    keyuan__v1__civil_date__init(d);
    d->year = y;
    d->month = m;
    d->day = day;
    d->lunar = lunar;
    d->leap_month = leap;
    return KY_OK;
}

static int64_t unit_ms(const char **p)
{
    static const struct {
        const char *name;
        int64_t ms;
    } units[] = {{"ms", 1},      {"s", 1000},     {"m", 60000},
                 {"h", 3600000}, {"d", 86400000}, {"w", 604800000},
                 {NULL, 0}};

    for (int i = 0; units[i].name; i++) {
        size_t n = strlen(units[i].name);

        if (strncmp(*p, units[i].name, n) == 0) {
            *p += n;
            return units[i].ms;
        }
    }
    return 0;
}

int ctl_parse_duration(const char *s, int64_t *ms)
{
    const char *p = s;
    int64_t total = 0;

    while (*p) {
        int64_t n = 0, unit;
        int digits = 0;

        for (; isdigit((unsigned char)*p) && digits < 12; p++, digits++)
            n = n * 10 + (*p - '0');
        if (digits == 0 || (unit = unit_ms(&p)) == 0)
            return KY_EINVAL;
        total += n * unit;
        if (total > 100LL * 365 * 86400000) /* a century is plenty */
            return KY_EINVAL;
    }
    if (total <= 0)
        return KY_EINVAL;
    *ms = total;
    return KY_OK;
}

static const ctl_enum_label_t purpose_labels[] = {
    {"自住", KEYUAN__V1__PURPOSE__PURPOSE_OWN_HOME},
    {"改善", KEYUAN__V1__PURPOSE__PURPOSE_UPGRADE},
    {"投资", KEYUAN__V1__PURPOSE__PURPOSE_INVESTMENT},
    {"学区", KEYUAN__V1__PURPOSE__PURPOSE_SCHOOL_DISTRICT},
    {NULL, 0}};

static const ctl_enum_label_t stage_labels[] = {
    {"刚开始了解", KEYUAN__V1__STAGE__STAGE_JUST_LOOKING},
    {"目标明确", KEYUAN__V1__STAGE__STAGE_CLEAR_TARGET},
    {"对比中", KEYUAN__V1__STAGE__STAGE_COMPARING},
    {NULL, 0}};

static const ctl_enum_label_t channel_labels[] = {
    {"电话", KEYUAN__V1__CHANNEL__CHANNEL_PHONE},
    {"微信", KEYUAN__V1__CHANNEL__CHANNEL_WECHAT},
    {"到访", KEYUAN__V1__CHANNEL__CHANNEL_VISIT},
    {"来访", KEYUAN__V1__CHANNEL__CHANNEL_VISIT},
    {"短信", KEYUAN__V1__CHANNEL__CHANNEL_SMS},
    {"其他", KEYUAN__V1__CHANNEL__CHANNEL_OTHER},
    {NULL, 0}};

const ctl_enum_spec_t ctl_enum_channel = {
    &keyuan__v1__channel__descriptor, "CHANNEL_", channel_labels,
    "phone, wechat, visit, sms, other or 电话, 微信, 到访, 短信, 其他"};

const ctl_enum_spec_t ctl_enum_purpose = {
    &keyuan__v1__purpose__descriptor, "PURPOSE_", purpose_labels,
    "own_home, upgrade, investment, school_district or 自住, 改善, "
    "投资, 学区"};

const ctl_enum_spec_t ctl_enum_stage = {
    &keyuan__v1__stage__descriptor, "STAGE_", stage_labels,
    "just_looking, clear_target, comparing or 刚开始了解, 目标明确, 对比中"};

/* Upper-cases s into out with '-' and ' ' as '_'; false if too long. */
static bool enum_key(const char *s, const char *prefix, char *out,
                     size_t outlen)
{
    size_t n = strlen(prefix);

    if (n + strlen(s) >= outlen)
        return false;
    memcpy(out, prefix, n);
    for (; *s; s++)
        out[n++] =
            *s == '-' || *s == ' ' ? '_' : (char)toupper((unsigned char)*s);
    out[n] = '\0';
    return true;
}

int ctl_parse_enum(const ctl_enum_spec_t *spec, const char *s, int *value)
{
    const ProtobufCEnumValue *ev = NULL;
    char key[64];

    if (*s == '\0') {
        *value = 0;
        return KY_OK;
    }
    for (const ctl_enum_label_t *l = spec->labels; l->label; l++) {
        if (strcmp(l->label, s) == 0) {
            *value = l->value;
            return KY_OK;
        }
    }
    if (enum_key(s, "", key, sizeof key))
        ev = protobuf_c_enum_descriptor_get_value_by_name(spec->desc, key);
    if (ev == NULL && enum_key(s, spec->prefix, key, sizeof key))
        ev = protobuf_c_enum_descriptor_get_value_by_name(spec->desc, key);
    if (ev == NULL)
        return KY_EINVAL;
    *value = ev->value;
    return KY_OK;
}

char *ctl_enum_short(const ProtobufCEnumDescriptor *desc, const char *prefix,
                     int value, char *out, size_t outlen)
{
    const ProtobufCEnumValue *ev =
        protobuf_c_enum_descriptor_get_value(desc, value);
    const char *name;
    size_t i = 0;

    if (ev == NULL) {
        snprintf(out, outlen, "%d", value);
        return out;
    }
    name = ev->name;
    if (strncmp(name, prefix, strlen(prefix)) == 0)
        name += strlen(prefix);
    for (; name[i] && i + 1 < outlen; i++)
        out[i] = (char)tolower((unsigned char)name[i]);
    out[i] = '\0';
    return out;
}

char *ctl_endpoint(const char *s)
{
    char *out = NULL;

    if (s == NULL || *s == '\0')
        return NULL;
    if (strstr(s, "://"))
        return strdup(s);
    if (*s == ':')
        s++;
    if (strspn(s, "0123456789") == strlen(s)) {
        if (asprintf(&out, "tcp://127.0.0.1:%s", s) < 0)
            return NULL;
        return out;
    }
    if (asprintf(&out, "tcp://%s", s) < 0)
        return NULL;
    return out;
}

char *ctl_grade_text(int grade, char *out, size_t outlen)
{
    ctl_enum_short(&keyuan__v1__grade__descriptor, "GRADE_", grade, out,
                   outlen);
    if (strlen(out) == 1)
        out[0] = (char)(out[0] - 'a' + 'A');
    return out;
}
