/*
 * notifier.h - the notifier service: turns due reminders from the
 * scheduler into deliveries to agents, each exactly once per route.
 *
 * A Reminder link message is stored, with one delivery job per configured
 * route, in the transaction that acknowledges it (job.h has the layout);
 * a reminder id seen before creates nothing. Deliveries run in the tick,
 * never inside a write transaction: file and stdout sinks write a batch of
 * lines, sync, then commit them delivered (with the file's committed
 * size, so a restart can tell written-but-uncommitted lines from missing
 * ones); webhook POSTs run on libcurl's multi interface and are committed
 * as they finish. Failures retry with back-off, then become dead letters.
 */
#ifndef KEYUAN_NOTIFIER_H
#define KEYUAN_NOTIFIER_H

#include "job.h"
#include "route.h"
#include "svc.h"

#include <stdint.h>

typedef struct notify_config {
    const char *sinks;          /* "file:PATH,stdout", or NULL */
    const char *webhook;        /* generic JSON webhook URL, or NULL */
    const char *webhook_secret; /* HMAC key for X-Keyuan-Signature */
    int64_t retry_base_ms;      /* first back-off */
    int64_t retry_max_ms;       /* longest back-off */
    int64_t max_attempts;       /* attempts before a dead letter */
} notify_config_t;

/* The databases the notifier's store opens, NULL-terminated. */
extern const char *const notify_dbs[];

typedef struct notify notify_t;

/*
 * Checks cfg's numbers and routes, printing what is wrong. Returns 0 or
 * KY_ECONFIG.
 */
int notify_config_check(const notify_config_t *cfg);

/*
 * Creates the notifier on store st (opened with notify_dbs). svc is the
 * service loop for counters and replies, or NULL (unit tests). cfg's
 * strings are borrowed for the notifier's life. NULL with *err on error.
 */
notify_t *notify_new(store_t *st, svc_t *svc, const notify_config_t *cfg,
                     int *err);

/* Aborts transfers in flight (their jobs stay pending); nulls *np. */
void notify_destroy(notify_t **np);

/*
 * Start-up repair, before any delivery: makes each file sink agree with
 * its committed size (lines written but not committed are marked
 * delivered, a torn last line is cut off), and dead-letters pending jobs
 * of routes no longer configured. Returns 0 or an error.
 */
int notify_recover(notify_t *n);

/*
 * Stores reminder r and its delivery jobs inside write transaction txn,
 * unless its id is already known. Invalid reminders are logged and
 * skipped (returning 0), so that the link does not stall on them. Returns
 * 0 or a store error.
 */
int notify_accept(notify_t *n, MDB_txn *txn, const Keyuan__V1__Reminder *r);

/*
 * Delivers what is due and records what finished. Returns the ms until it
 * should run again: 0 while a backlog waits, a few while transfers are in
 * flight, else until the next retry is due (at most a second).
 */
int64_t notify_tick(notify_t *n);

/*
 * Lets transfers in flight finish for up to budget_ms and records them,
 * so that a clean stop re-sends nothing.
 */
void notify_drain(notify_t *n, int64_t budget_ms);

/* Reads the status counters of kind into out, by bucket. */
int notify_counts(notify_t *n, MDB_txn *txn, enum notify_kind kind,
                  uint64_t out[NOTIFY_B_COUNT]);

/* Runs the service until SIGTERM; returns the exit status for main(). */
int notify_run(const svc_config_t *scfg, const notify_config_t *ncfg);

#endif
