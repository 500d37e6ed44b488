/* phone.c - phone number normalisation (see phone.h). */
#include "phone.h"

#include "err.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define DIGITS_MAX 20

/* The digits of a number, its '+' and its extension, as written. */
typedef struct parsed {
    char digits[DIGITS_MAX + 1];
    int ndigits;
    bool plus;   /* began with '+' (or full-width '＋') */
    char ext[8]; /* extension digits, if any */
    const char *error;
} parsed_t;

/* Length of a full-width digit or '+' at p (U+FF10..U+FF19, U+FF0B). */
static int fullwidth(const unsigned char *p, char *ascii)
{
    if (p[0] == 0xEF && p[1] == 0xBC && p[2] >= 0x90 && p[2] <= 0x99) {
        *ascii = (char)('0' + p[2] - 0x90);
        return 3;
    }
    if (p[0] == 0xEF && p[1] == 0xBC && p[2] == 0x8B) {
        *ascii = '+';
        return 3;
    }
    return 0;
}

/* Separators people put in numbers: ASCII and full-width punctuation. */
static int separator(const unsigned char *p)
{
    static const char *wide[] = {"\xE3\x80\x80", /* ideographic space */
                                 "\xEF\xBC\x8D", /* full-width hyphen-minus */
                                 "\xEF\xBC\x88", /* full-width ( */
                                 "\xEF\xBC\x89", /* full-width ) */
                                 "\xE2\x80\x94", /* em dash */
                                 "\xE2\x80\x93", /* en dash */
                                 NULL};

    if (strchr(" -.()/\t", *p) && *p)
        return 1;
    for (int i = 0; wide[i]; i++)
        if (strncmp((const char *)p, wide[i], 3) == 0)
            return 3;
    return 0;
}

/* Extension markers: "转", "ext", "x", "#" or "," followed by digits. */
static int ext_marker(const unsigned char *p)
{
    if (strncmp((const char *)p, "\xE8\xBD\xAC", 3) == 0) /* 转 */
        return 3;
    if (strncasecmp((const char *)p, "ext", 3) == 0)
        return 3;
    if (*p == 'x' || *p == 'X' || *p == '#' || *p == ',')
        return 1;
    return 0;
}

static void parse_ext(const unsigned char *p, parsed_t *ps)
{
    int n = 0;
    char c;
    int w;

    while (*p) {
        if ((w = separator(p)) != 0) {
            p += w;
            continue;
        }
        if ((w = fullwidth(p, &c)) == 0 && *p >= '0' && *p <= '9') {
            c = (char)*p;
            w = 1;
        }
        if (w == 0 || c == '+' || n == (int)sizeof ps->ext - 1) {
            ps->error = "bad extension";
            return;
        }
        ps->ext[n++] = c;
        p += w;
    }
    if (n == 0)
        ps->error = "empty extension";
}

static void parse(const unsigned char *p, parsed_t *ps)
{
    while (*p && ps->error == NULL) {
        char c = 0;
        int w = fullwidth(p, &c);

        if (w == 0 && ((*p >= '0' && *p <= '9') || *p == '+')) {
            c = (char)*p;
            w = 1;
        }
        if (c == '+' && ps->ndigits == 0 && !ps->plus)
            ps->plus = true;
        else if (c >= '0' && c <= '9' && ps->ndigits < DIGITS_MAX)
            ps->digits[ps->ndigits++] = c;
        else if (c != 0)
            ps->error = c == '+' ? "misplaced '+'" : "too many digits";
        else if ((w = separator(p)) != 0)
            ;
        else if (ps->ndigits > 0 && (w = ext_marker(p)) != 0)
            return parse_ext(p + w, ps);
        else
            ps->error = "unexpected character";
        p += w ? w : 1;
    }
}

static bool is_mobile(const char *d, int n)
{
    return n == 11 && d[0] == '1' && d[1] >= '3' && d[1] <= '9';
}

/* 0 + area code (2-3 digits, not starting with 0) + 7-8 digits. */
static bool is_landline(const char *d, int n)
{
    return d[0] == '0' && d[1] != '0' && n >= 10 && n <= 12;
}

/* Removes a leading 86 / 0086 from a mainland number written that way. */
static const char *strip_cn_prefix(const parsed_t *ps, int *n)
{
    const char *d = ps->digits;

    if (!ps->plus && *n > 4 && strncmp(d, "0086", 4) == 0) {
        *n -= 4;
        return d + 4;
    }
    if (*n > 2 && strncmp(d, "86", 2) == 0 &&
        (ps->plus || is_mobile(d + 2, *n - 2))) {
        *n -= 2;
        return d + 2;
    }
    return d;
}

static int format_cn(const parsed_t *ps, char *out, size_t outlen,
                     const char **why)
{
    int n = ps->ndigits;
    const char *d = strip_cn_prefix(ps, &n);
    bool had_cc = d != ps->digits;

    if (is_mobile(d, n) && ps->ext[0] == '\0') {
        snprintf(out, outlen, "+86%.*s", n, d);
        return KY_OK;
    }
    /* After +86 a landline drops its trunk 0: +86 10 6234 5678. */
    if (had_cc && d[0] != '0' && !is_mobile(d, n) && n >= 9 && n <= 11) {
        snprintf(out, outlen, "+86%.*s%s%s", n, d, ps->ext[0] ? "," : "",
                 ps->ext);
        return KY_OK;
    }
    if (is_landline(d, n)) {
        snprintf(out, outlen, "+86%.*s%s%s", n - 1, d + 1,
                 ps->ext[0] ? "," : "", ps->ext);
        return KY_OK;
    }
    *why = "not a mainland mobile or landline number";
    return KY_EINVAL;
}

int phone_normalize(const char *raw, char *out, size_t outlen, const char **why)
{
    parsed_t ps = {0};
    const char *unused;

    why = why ? why : &unused;
    *out = '\0';

    parse((const unsigned char *)raw, &ps);
    if (ps.error == NULL && ps.ndigits < 7)
        ps.error = ps.ndigits ? "too few digits" : "no digits";
    if (ps.error) {
        *why = ps.error;
        return KY_EINVAL;
    }
    if (ps.plus && strncmp(ps.digits, "86", 2) != 0) {
        if (ps.ndigits > 15 || ps.digits[0] == '0') {
            *why = "not a valid international number";
            return KY_EINVAL;
        }
        snprintf(out, outlen, "+%s%s%s", ps.digits, ps.ext[0] ? "," : "",
                 ps.ext);
        return KY_OK;
    }
    return format_cn(&ps, out, outlen, why);
}
