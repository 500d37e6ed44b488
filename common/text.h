/*
 * text.h - checks on text from outside: UTF-8 validity and length limits.
 *
 * protobuf-c does not check that string fields hold UTF-8, and a C string
 * silently ends at an embedded NUL, so every text field from the wire is
 * checked here before it is stored. utf8proc does the decoding.
 */
#ifndef KEYUAN_TEXT_H
#define KEYUAN_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* True when s (len bytes) is valid UTF-8 with no NUL and no surrogate. */
bool text_valid_utf8(const char *s, size_t len);

/*
 * What text_scan() found. Controls are C0 (U+0000-U+001F), DEL, C1
 * (U+0080-U+009F) and the format characters that hide or reorder text
 * (U+200B, U+FEFF, bidi embeddings, overrides and isolates); multiline
 * text may hold '\n', '\r', '\t' and U+2028/U+2029.
 */
typedef struct text_scan {
    bool valid;        /* as text_valid_utf8() */
    bool controls;     /* holds a control, when valid */
    size_t codepoints; /* how many code points, when valid */
} text_scan_t;

/*
 * Checks the len bytes of s in one pass, for text checked on every event.
 * test_text compares it with text_valid_utf8() and with byte-pattern
 * checks of its own, over every sequence of up to three bytes.
 */
void text_scan(const char *s, size_t len, bool multiline, text_scan_t *out);

/*
 * The length in bytes of the character s starts with when a terminal
 * would hide it or act on it rather than show it: C1 (U+0080-U+009F), a
 * hiding format character (see text_scan_t), U+2028/U+2029, or an
 * invisible one text_scan() lets through (soft hyphen, bidi marks, word
 * joiner); 0 for any other. s points at the start of a
 * character of valid UTF-8.
 */
size_t text_unsafe_at(const char *s);

/*
 * The length of s's longest prefix of at most max bytes that ends on a
 * character boundary: for quoting valid UTF-8 in a message with "%.*s"
 * without cutting a character in two.
 */
size_t text_prefix(const char *s, size_t max);

/* Cuts a character left incomplete at the end of s (as snprintf() leaves
 * one when it truncates UTF-8). */
void text_cut_tail(char *s);

/* True when s is empty or only white space. */
bool text_blank(const char *s);

#endif
