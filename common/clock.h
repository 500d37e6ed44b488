/*
 * clock.h - the process's idea of "now", in milliseconds since the Unix
 * epoch, UTC.
 *
 * By default it is the real clock. A service started with --test-clock
 * runs on a test clock instead: time stands still until a ClockSet request
 * moves it (forward only), so tests can cross days and weeks in
 * milliseconds. The service stores the test time so it survives a restart.
 */
#ifndef KEYUAN_CLOCK_H
#define KEYUAN_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#define CLOCK_MS_PER_DAY (24LL * 3600 * 1000)

/* Current time in ms: real, or the test clock's value when enabled. */
int64_t clock_now_ms(void);

/* Monotonic milliseconds for timeouts; never affected by the test clock. */
int64_t clock_mono_ms(void);

/* Switches this process to the test clock, starting at start_ms. */
void clock_enable_test(int64_t start_ms);

bool clock_is_test(void);

/*
 * Moves the test clock to now_ms. Returns 0, KY_EDISABLED without a test
 * clock, or KY_ERANGE when now_ms is earlier than the current test time.
 */
int clock_set_test(int64_t now_ms);

/*
 * Parses an RFC 3339 time ("2026-05-01T09:30:00+08:00", "...Z", optional
 * fraction) into ms since the epoch. Returns 0 or KY_EDECODE.
 */
int clock_parse_rfc3339(const char *s, int64_t *ms);

/* Formats ms as RFC 3339 UTC with millisecond precision; returns out. */
char *clock_format_rfc3339(int64_t ms, char *out, int outlen);

#endif
