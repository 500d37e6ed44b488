/*
 * test_logger.c - log lines are held in the process until log_flush(), a
 * warning or an error, and always reach stderr whole and in order.
 *
 * Each test points stderr (fd 2) at a temporary file and reads it back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "logger.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct capture {
    char path[64]; /* the temporary file stderr points at */
    int saved;     /* the real stderr, restored at teardown */
} capture_t;

static int capture_start(void **state)
{
    capture_t *c = calloc(1, sizeof *c);
    int fd;

    if (c == NULL)
        return -1;
    log_flush(); /* lines of earlier tests go to the real stderr */
    snprintf(c->path, sizeof c->path, "/tmp/keyuan-log-XXXXXX");
    fd = mkstemp(c->path);
    if (fd < 0)
        return -1;
    c->saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    close(fd);
    log_setup("test", LOG_INFO);
    *state = c;
    return 0;
}

/* The whole capture file, NUL-terminated; the caller frees it. */
static char *captured(const capture_t *c)
{
    FILE *f = fopen(c->path, "rb");
    char *text;
    long len;

    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    rewind(f);
    text = malloc((size_t)len + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
    text[len] = '\0';
    fclose(f);
    return text;
}

/* Restores stderr and passes on anything but log lines (cmocka's own
 * messages about a failure), so that they are not lost with the file. */
static int capture_end(void **state)
{
    capture_t *c = *state;
    char *text, *line;

    log_flush();
    dup2(c->saved, STDERR_FILENO);
    close(c->saved);
    text = captured(c);
    for (line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
        if (strncmp(line, "ts=", 3) != 0)
            fprintf(stderr, "%s\n", line);
    free(text);
    unlink(c->path);
    free(c);
    log_setup("test", LOG_INFO);
    return 0;
}

/* The number of lines in text (each ends in a newline). */
static int count_lines(const char *text)
{
    int n = 0;

    for (; *text; text++)
        n += *text == '\n';
    return n;
}

/* The line after the prefix "ts=... level=L svc=test ". */
static const char *body_of(const char *line, const char *level)
{
    char tail[64];
    const char *p;

    snprintf(tail, sizeof tail, " level=%s svc=test ", level);
    p = strstr(line, tail);
    assert_non_null(p);
    return p + strlen(tail);
}

static void test_info_is_held_until_flush(void **state)
{
    capture_t *c = *state;
    char *text;

    log_info("event=one n=%d", 1);
    log_info("event=two");
    text = captured(c);
    assert_string_equal(text, "");
    free(text);

    log_flush();
    text = captured(c);
    assert_int_equal(count_lines(text), 2);
    assert_int_equal(strncmp(text, "ts=", 3), 0);
    assert_true(strstr(text, "Z level=info svc=test event=one n=1\n") != NULL);
    assert_true(strstr(text, "event=one") < strstr(text, "event=two"));
    free(text);
}

static void test_error_flushes_what_came_before(void **state)
{
    capture_t *c = *state;
    char *text;

    log_info("event=first");
    log_info("event=second");
    log_error("event=broken err=\"%s\"", "disk");
    text = captured(c);
    assert_int_equal(count_lines(text), 3);
    assert_true(strstr(text, "event=first") < strstr(text, "event=second"));
    assert_true(strstr(text, "event=second") <
                strstr(text, "level=error svc=test event=broken"));
    free(text);

    log_info("event=third");
    log_warn("event=careful");
    text = captured(c);
    assert_int_equal(count_lines(text), 5);
    assert_true(strstr(text, "event=third") <
                strstr(text, "level=warn svc=test event=careful"));
    free(text);
}

/* Checks that text holds flood lines 0 .. n-1, whole and in order. */
/*
 * Lines held for a batch come out only when it is kept, after any warning
 * written meanwhile; a batch rolled back leaves none; too many are counted.
 */
static void test_held_lines_follow_the_batch(void **state)
{
    capture_t *c = *state;
    char *text;

    log_hold();
    log_info("event=undone");
    log_release(false);
    log_hold();
    log_info("event=applied n=1");
    log_warn("event=meanwhile");
    log_info("event=applied n=2");
    log_flush();
    text = captured(c);
    assert_int_equal(count_lines(text), 1); /* only the warning so far */
    free(text);
    log_release(true);
    log_info("event=after");
    log_flush();
    text = captured(c);
    assert_int_equal(count_lines(text), 4);
    assert_null(strstr(text, "event=undone"));
    assert_true(strstr(text, "event=meanwhile") <
                strstr(text, "event=applied n=1"));
    assert_true(strstr(text, "event=applied n=1") <
                strstr(text, "event=applied n=2"));
    assert_true(strstr(text, "event=applied n=2") <
                strstr(text, "event=after"));
    free(text);
}

static void test_held_lines_beyond_the_cap_are_counted(void **state)
{
    capture_t *c = *state;
    int n = 0;
    char *text;

    log_hold();
    for (size_t bytes = 0; bytes < LOG_HELD_MAX + 4096; bytes += 100, n++)
        log_info("event=many n=%d pad=%060d", n, 0);
    log_release(true);
    log_flush();
    text = captured(c);
    assert_non_null(strstr(text, "event=many n=0 "));
    assert_non_null(strstr(text, "event=log_lines_dropped count="));
    assert_true(count_lines(text) < n + 1);
    free(text);
}

/* Names from outside are logged only when they are plain tokens. */
static void test_token(void **state)
{
    (void)state;
    assert_string_equal(log_token("anjuke"), "anjuke");
    assert_string_equal(log_token("beike.v2_web-1"), "beike.v2_web-1");
    assert_string_equal(log_token("13812345678 customer=1"), "(other)");
    assert_string_equal(log_token("a=b"), "(other)");
    assert_string_equal(log_token("58"), "58");
    assert_string_equal(log_token("13812345678"), "(other)");
    assert_string_equal(log_token("安居客"), "(other)");
    assert_string_equal(log_token(""), "(other)");
    assert_string_equal(log_token(NULL), "(other)");
    assert_string_equal(log_token("0123456789012345678901234567890123"),
                        "(other)");
}

static void expect_flood(char *text, int n, size_t pad)
{
    char *line, *save = NULL;
    int i = 0;

    assert_int_equal(count_lines(text), n);
    for (line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save), i++) {
        const char *body = body_of(line, "info");
        int got = -1, used = 0;

        assert_int_equal(sscanf(body, "event=flood i=%d pad=%n", &got, &used),
                         1);
        assert_int_equal(got, i);
        assert_int_equal(strlen(body + used), pad);
    }
    assert_int_equal(i, n);
}

static void test_flood_arrives_whole_in_order(void **state)
{
    capture_t *c = *state;
    char pad[201];
    int n = 4 * LOG_BUFFER_BYTES / 200, held;
    char *text;

    memset(pad, 'x', sizeof pad - 1);
    pad[sizeof pad - 1] = '\0';
    for (int i = 0; i < n; i++)
        log_info("event=flood i=%d pad=%s", i, pad);

    /* Part went out when the buffer filled; what did is whole lines. */
    text = captured(c);
    held = n - count_lines(text);
    assert_true(held > 0 && held < n);
    assert_int_equal(text[strlen(text) - 1], '\n');
    expect_flood(text, n - held, strlen(pad));
    free(text);

    log_flush();
    text = captured(c);
    expect_flood(text, n, strlen(pad));
    free(text);
}

static void test_long_line_is_cut_whole(void **state)
{
    capture_t *c = *state;
    char big[3 * LOG_LINE_MAX];
    char *text;

    memset(big, 'y', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    log_info("event=long value=%s", big);
    log_info("event=after");
    log_flush();
    text = captured(c);
    assert_int_equal(count_lines(text), 2);
    assert_int_equal(strchr(text, '\n') - text + 1, LOG_LINE_MAX);
    assert_non_null(strstr(text, "event=after"));
    free(text);
}

static void test_level_filter(void **state)
{
    capture_t *c = *state;
    char *text;

    log_setup("test", LOG_WARN);
    log_debug("event=hidden_debug");
    log_info("event=hidden_info");
    log_warn("event=shown_warn");
    log_error("event=shown_error");
    log_setup("test", LOG_DEBUG);
    log_debug("event=shown_debug");
    log_flush();

    text = captured(c);
    assert_int_equal(count_lines(text), 3);
    assert_null(strstr(text, "hidden"));
    assert_non_null(strstr(text, "level=warn svc=test event=shown_warn"));
    assert_non_null(strstr(text, "level=error svc=test event=shown_error"));
    assert_non_null(strstr(text, "level=debug svc=test event=shown_debug"));
    free(text);
}

/* The stamp of line (UTC, to the second) as seconds since the epoch. */
static time_t stamp_of(const char *line)
{
    struct tm tm = {0};
    const char *end = strptime(line, "ts=%Y-%m-%dT%H:%M:%S", &tm);

    assert_non_null(end);
    assert_int_equal(*end, '.');
    return timegm(&tm);
}

/* The stamp is made once a second: it must still move with the clock. */
static void test_stamp_follows_the_clock(void **state)
{
    capture_t *c = *state;
    struct timespec pause = {1, 100 * 1000 * 1000};
    time_t before = time(NULL), first, second;
    char *text;

    log_info("event=early");
    nanosleep(&pause, NULL);
    log_info("event=late");
    log_flush();
    text = captured(c);
    first = stamp_of(text);
    second = stamp_of(strchr(text, '\n') + 1);
    assert_true(first >= before && first <= before + 1);
    assert_true(second >= first + 1 && second <= time(NULL));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_info_is_held_until_flush,
                                        capture_start, capture_end),
        cmocka_unit_test_setup_teardown(test_error_flushes_what_came_before,
                                        capture_start, capture_end),
        cmocka_unit_test(test_token),
        cmocka_unit_test_setup_teardown(test_held_lines_follow_the_batch,
                                        capture_start, capture_end),
        cmocka_unit_test_setup_teardown(
            test_held_lines_beyond_the_cap_are_counted, capture_start,
            capture_end),
        cmocka_unit_test_setup_teardown(test_flood_arrives_whole_in_order,
                                        capture_start, capture_end),
        cmocka_unit_test_setup_teardown(test_long_line_is_cut_whole,
                                        capture_start, capture_end),
        cmocka_unit_test_setup_teardown(test_level_filter, capture_start,
                                        capture_end),
        cmocka_unit_test_setup_teardown(test_stamp_follows_the_clock,
                                        capture_start, capture_end),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
