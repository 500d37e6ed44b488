/* text.c - UTF-8 checks built on utf8proc (see text.h). */
#include "text.h"

#include <ctype.h>
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

size_t text_codepoints(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
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

bool text_has_controls(const char *s, bool multiline)
{
    const unsigned char *p = (const unsigned char *)s;

    for (; *p; p++) {
        if (*p < 0x20 || *p == 0x7F) {
            if (!(multiline && (*p == '\n' || *p == '\r' || *p == '\t')))
                return true;
        } else if (*p == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F) {
            return true; /* C1 controls are U+0080-U+009F: C2 80..C2 9F */
        } else if (*p >= 0xE2 && (hiding_format(p) ||
                                  (!multiline && unicode_line_break(p)))) {
            return true;
        }
    }
    return false;
}

bool text_blank(const char *s)
{
    for (; s && *s; s++)
        if (!isspace((unsigned char)*s))
            return false;
    return true;
}
