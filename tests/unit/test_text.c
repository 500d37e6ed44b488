/*
 * test_text.c - text_scan(), the one-pass check, gives the answers of
 * utf8proc's validation and of byte-pattern checks for every sequence of
 * up to three bytes, for four-byte ones drawn at random, and for text
 * mixing them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "text.h"

#include <stdlib.h>
#include <string.h>

/*
 * The reference answers, by byte patterns rather than decoding: the code
 * points are the bytes that do not continue a sequence, and the controls
 * are matched by their UTF-8 forms.
 */
static size_t ref_codepoints(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

static bool ref_controls(const char *s, bool multiline)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        bool e2 = p[0] == 0xE2 && p[1] && p[2];

        if (*p < 0x20 || *p == 0x7F) {
            if (!(multiline && (*p == '\n' || *p == '\r' || *p == '\t')))
                return true;
        } else if (*p == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F) {
            return true; /* C1 */
        } else if (e2 && p[1] == 0x80 &&
                   (p[2] == 0x8B || (p[2] >= 0xAA && p[2] <= 0xAE))) {
            return true; /* U+200B, U+202A-U+202E */
        } else if (e2 && p[1] == 0x81 && p[2] >= 0xA6 && p[2] <= 0xA9) {
            return true; /* U+2066-U+2069 */
        } else if (p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) {
            return true; /* U+FEFF */
        } else if (!multiline && e2 && p[1] == 0x80 &&
                   (p[2] == 0xA8 || p[2] == 0xA9)) {
            return true; /* U+2028, U+2029 */
        }
    }
    return false;
}

/* Scans the len bytes of s both ways, with and without multiline. */
static void same_answers(const unsigned char *bytes, size_t len)
{
    char s[64];

    memcpy(s, bytes, len);
    s[len] = '\0';
    for (int multiline = 0; multiline < 2; multiline++) {
        text_scan_t got;
        bool valid = text_valid_utf8(s, len);

        text_scan(s, len, multiline, &got);
        if (got.valid != valid)
            fail_msg("validity differs for %zu bytes %02x %02x %02x %02x", len,
                     bytes[0], len > 1 ? bytes[1] : 0, len > 2 ? bytes[2] : 0,
                     len > 3 ? bytes[3] : 0);
        if (!valid)
            continue;
        if (got.codepoints != ref_codepoints(s) ||
            got.controls != ref_controls(s, multiline))
            fail_msg("answers differ for %02x %02x %02x %02x", bytes[0],
                     len > 1 ? bytes[1] : 0, len > 2 ? bytes[2] : 0,
                     len > 3 ? bytes[3] : 0);
    }
}

static void test_every_short_sequence(void **state)
{
    unsigned char b[4];

    (void)state;
    for (unsigned i = 0; i < 256; i++) {
        b[0] = (unsigned char)i;
        same_answers(b, 1);
        for (unsigned j = 0; j < 256; j++) {
            b[1] = (unsigned char)j;
            same_answers(b, 2);
        }
    }
    /* Three bytes: every lead byte of a three-byte form, and a sample of
     * the rest (their first byte already decides). */
    for (unsigned v = 0; v < (1u << 24); v++) {
        b[0] = (unsigned char)(v >> 16);
        if ((b[0] < 0xE0 || b[0] > 0xEF) && (v & 0xFF) != 0x80)
            continue;
        b[1] = (unsigned char)(v >> 8);
        b[2] = (unsigned char)v;
        same_answers(b, 3);
    }
}

static void test_four_byte_sequences(void **state)
{
    unsigned char b[4];

    (void)state;
    srand(7);
    for (int i = 0; i < 2000000; i++) {
        b[0] = (unsigned char)(0xF0 + rand() % 16);
        b[1] = (unsigned char)(0x80 + rand() % 64);
        b[2] = (unsigned char)(i % 3 ? 0x80 + rand() % 64 : rand() % 256);
        b[3] = (unsigned char)(i % 5 ? 0x80 + rand() % 64 : rand() % 256);
        same_answers(b, 4);
    }
    /* The edges: U+10000, U+10FFFF and just past it. */
    same_answers((const unsigned char *)"\xF0\x90\x80\x80", 4);
    same_answers((const unsigned char *)"\xF4\x8F\xBF\xBF", 4);
    same_answers((const unsigned char *)"\xF4\x90\x80\x80", 4);
}

/* Text mixing ASCII, Chinese, emoji and the characters the check
 * rejects; cut at every length, so some cuts split a sequence. */
static void test_mixed_text(void **state)
{
    static const char *const texts[] = {
        "王先生 想买三居室, budget 500万",
        "line one\nline two\ttabbed\r\n",
        "hidden\xE2\x80\x8Bspace and \xE2\x80\xAE"
        "reversed",
        "emoji \xF0\x9F\x8F\xA0 house, \xE2\x80\x8D joiner",
        "C1 \xC2\x85 next line, sep \xE2\x80\xA8 here, BOM \xEF\xBB\xBF",
        "isolate \xE2\x81\xA6 x \xE2\x81\xA9 done \x7F",
    };

    (void)state;
    for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
        size_t len = strlen(texts[t]);

        assert_true(len < 64);
        for (size_t cut = 0; cut <= len; cut++)
            same_answers((const unsigned char *)texts[t], cut);
    }
}

/* Quoting and truncating never leave half a character. */
static void test_prefix_and_cut_tail(void **state)
{
    const char *s = "ab中文"; /* 2 + 3 + 3 bytes */
    char buf[16];

    (void)state;
    assert_int_equal(text_prefix(s, 2), 2);
    assert_int_equal(text_prefix(s, 3), 2);
    assert_int_equal(text_prefix(s, 4), 2);
    assert_int_equal(text_prefix(s, 5), 5);
    assert_int_equal(text_prefix(s, 7), 5);
    assert_int_equal(text_prefix(s, 8), 8);
    assert_int_equal(text_prefix(s, 100), 8);

    for (size_t cut = 0; cut <= strlen(s); cut++) {
        memcpy(buf, s, cut);
        buf[cut] = '\0';
        text_cut_tail(buf);
        assert_int_equal(strlen(buf), text_prefix(s, cut));
        assert_true(text_valid_utf8(buf, strlen(buf)));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_short_sequence),
        cmocka_unit_test(test_four_byte_sequences),
        cmocka_unit_test(test_mixed_text),
        cmocka_unit_test(test_prefix_and_cut_tail),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
