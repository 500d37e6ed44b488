/* text.c - UTF-8 checks built on utf8proc (see text.h). */
#include "text.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <utf8proc.h>

bool text_valid_utf8(const char *s, size_t len)
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    utf8proc_int32_t cp;

    while (len > 0) {
        utf8proc_ssize_t n = utf8proc_iterate(p, (utf8proc_ssize_t)len, &cp);

        if (n <= 0 || cp == 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

/*
 * Format characters that hide or reorder text on screen: the zero-width
 * space, the byte-order mark, and the bidi embeddings, overrides and
 * isolates (a name with U+202E displays backwards). The zero-width
 * joiner and non-joiner stay allowed: emoji sequences need them.
 */
static bool hiding_format(const unsigned char *p)
{
    if (p[0] == 0xE2 && p[1] == 0x80)
        return p[2] == 0x8B || (p[2] >= 0xAA && p[2] <= 0xAE);
    if (p[0] == 0xE2 && p[1] == 0x81)
        return p[2] >= 0xA6 && p[2] <= 0xA9;
    return p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF;
}

/* U+2028 LINE SEPARATOR and U+2029 PARAGRAPH SEPARATOR. */
static bool unicode_line_break(const unsigned char *p)
{
    return p[0] == 0xE2 && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9);
}

/*
 * Invisible characters intake lets through, being harmless in stored
 * text, that still should not reach a terminal unseen: the soft hyphen,
 * the Arabic letter mark, the left-to-right and right-to-left marks, the
 * word joiner and invisible operators (U+2060-U+2064), and the deprecated
 * format characters U+206A-U+206F.
 */
static bool invisible(const unsigned char *p)
{
    if (p[0] == 0xC2)
        return p[1] == 0xAD;
    if (p[0] == 0xD8)
        return p[1] == 0x9C;
    if (p[0] == 0xE2 && p[1] == 0x80)
        return p[2] == 0x8E || p[2] == 0x8F;
    if (p[0] == 0xE2 && p[1] == 0x81)
        return (p[2] >= 0xA0 && p[2] <= 0xA4) || (p[2] >= 0xAA && p[2] <= 0xAF);
    return false;
}

size_t text_unsafe_at(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    if (p[0] == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F)
        return 2;
    if ((p[0] == 0xC2 || p[0] == 0xD8) && invisible(p))
        return 2;
    if (p[0] >= 0xE2 && p[1] && p[2] &&
        (hiding_format(p) || unicode_line_break(p) || invisible(p)))
        return 3;
    return 0;
}

/*
 * A code point past ASCII that text_scan() counts as a control: C1, the
 * hiding format characters, and with !multiline the Unicode line breaks.
 */
static bool control_above_ascii(uint32_t cp, bool multiline)
{
    if (cp <= 0x9F || cp == 0x200B || cp == 0xFEFF)
        return true;
    if ((cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069))
        return true;
    return !multiline && (cp == 0x2028 || cp == 0x2029);
}

/*
 * Decodes the sequence of n bytes at p, lead byte first, into *cp.
 * False when a continuation byte is wrong or the result is an overlong
 * form, a surrogate or past U+10FFFF.
 */
static bool decode(const unsigned char *p, size_t n, uint32_t *cp)
{
    static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
    uint32_t v = p[0] & (0x7F >> n);

    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return false;
        v = v << 6 | (p[i] & 0x3F);
    }
    *cp = v;
    return v >= least[n] && v <= 0x10FFFF && (v < 0xD800 || v > 0xDFFF);
}

/* The length of the sequence lead begins; 0 when it begins none. */
static size_t sequence_length(unsigned char lead)
{
    if (lead < 0x80)
        return 1;
    if (lead < 0xC0)
        return 0; /* a continuation byte */
    if (lead < 0xE0)
        return 2;
    if (lead < 0xF0)
        return 3;
    return lead < 0xF8 ? 4 : 0;
}

/*
 * utf8proc decodes one code point per call, and the checks took three
 * passes; this decoder is written by hand so that text checked on every
 * event is read once.
 */
void text_scan(const char *s, size_t len, bool multiline, text_scan_t *out)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;

    *out = (text_scan_t){.valid = true};
    while (p < end) {
        size_t n = sequence_length(*p);
        uint32_t cp = *p;

        if (n == 0 || (size_t)(end - p) < n || cp == 0 ||
            (n > 1 && !decode(p, n, &cp))) {
            out->valid = false;
            return;
        }
        if (n == 1 && (cp < 0x20 || cp == 0x7F))
            out->controls |=
                !(multiline && (cp == '\n' || cp == '\r' || cp == '\t'));
        else if (n > 1)
            out->controls |= control_above_ascii(cp, multiline);
        out->codepoints++;
        p += n;
    }
}

size_t text_prefix(const char *s, size_t max)
{
    size_t n = strnlen(s, max);

    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--; /* s[n], the first byte left out, continues a character */
    return n;
}

void text_cut_tail(char *s)
{
    size_t n = strlen(s), lead = n;

    while (lead > 0 && ((unsigned char)s[lead - 1] & 0xC0) == 0x80)
        lead--;
    if (lead == 0)
        return;
    lead--; /* the last character's first byte */
    if ((unsigned char)s[lead] >= 0xC0 &&
        n - lead < sequence_length((unsigned char)s[lead]))
        s[lead] = '\0';
}

bool text_blank(const char *s)
{
    for (; s && *s; s++)
        if (!isspace((unsigned char)*s))
            return false;
    return true;
}
