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

/* Number of code points in valid UTF-8 s. */
size_t text_codepoints(const char *s);

/*
 * True when valid UTF-8 s holds a control character: C0 (U+0000-U+001F),
 * DEL or C1 (U+0080-U+009F), or a format character that hides or
 * reorders text (U+200B, U+FEFF, bidi embeddings, overrides and
 * isolates). With multiline, '\n', '\r', '\t' and U+2028/U+2029 are
 * allowed.
 */
bool text_has_controls(const char *s, bool multiline);

/* What text_scan() found. */
typedef struct text_scan {
    bool valid;        /* as text_valid_utf8() */
    bool controls;     /* as text_has_controls(), when valid */
    size_t codepoints; /* as text_codepoints(), when valid */
} text_scan_t;

/*
 * The three checks above in one pass over the len bytes of s, for text
 * checked on every event. It gives the answers of the utf8proc-based
 * functions (test_text compares them over every short sequence).
 */
void text_scan(const char *s, size_t len, bool multiline, text_scan_t *out);

/*
 * The length in bytes of the character s starts with when a terminal
 * would hide it or act on it rather than show it: C1 (U+0080-U+009F), a
 * hiding format character (see text_has_controls()), U+2028/U+2029, or
 * an invisible one text_has_controls() lets through (soft hyphen, bidi
 * marks, word joiner); 0 for any other. s points at the start of a
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
