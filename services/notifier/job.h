/*
 * job.h - delivery jobs: one per reminder and route, kept in LMDB.
 *
 * Databases (all keys big-endian, so LMDB order is numeric order):
 *   jobs       (reminder_id u64, channel u8) -> job record (below)
 *   due        (channel u8, next_attempt_ms u64, reminder_id u64) -> ""
 *              one entry per pending job: "what is due on this route now"
 *              is a cursor walk from the front of the channel's range
 *   reminders  reminder_id u64 -> Reminder (protobuf)
 *   meta       "jobs.<kind>.<bucket>" -> u64 counters kept in step with
 *              the jobs, so status never scans them
 *
 * Job record, version 1: version u8, state u8, kind u8, 0 u8,
 * attempts u32, next_attempt_ms u64, updated_ms u64, then the last error
 * as UTF-8 text without a terminator (at most NOTIFY_ERR_MAX bytes).
 *
 * Times here are the real wall clock in ms, also under --test-clock:
 * retries are operational, and a frozen test clock must not freeze them.
 *
 * TODO: reminders and finished jobs are kept forever (they are the memory
 * that makes a repeated reminder id a no-op). A retention sweep, and the
 * customer index that erasure requests need, come with their issues.
 */
#ifndef KEYUAN_NOTIFY_JOB_H
#define KEYUAN_NOTIFY_JOB_H

#include "route.h"
#include "store.h"

#include <stdbool.h>
#include <stdint.h>

enum notify_state {
    NOTIFY_PENDING = 0,   /* waiting for its first or next attempt */
    NOTIFY_DELIVERED = 1, /* the route took it; never sent again */
    NOTIFY_DEAD = 2       /* given up; kept with its last error */
};

/* How status counts jobs: pending splits by whether an attempt failed. */
enum notify_bucket {
    NOTIFY_B_PENDING,
    NOTIFY_B_RETRYING,
    NOTIFY_B_DELIVERED,
    NOTIFY_B_DEAD,
    NOTIFY_B_COUNT
};

#define NOTIFY_ERR_MAX 200
#define NOTIFY_JOB_KEY_LEN 9
#define NOTIFY_DUE_KEY_LEN 17
#define NOTIFY_JOB_HEAD 24
#define NOTIFY_JOB_MAX (NOTIFY_JOB_HEAD + NOTIFY_ERR_MAX)

typedef struct notify_job {
    enum notify_state state;
    enum notify_kind kind;          /* the route kind it was made for */
    uint32_t attempts;              /* attempts made, failed or not */
    uint64_t next_ms;               /* when pending: next attempt, 0 = now */
    uint64_t updated_ms;            /* last change */
    char error[NOTIFY_ERR_MAX + 1]; /* the last failure, "" if none */
} notify_job_t;

/* What one delivery attempt came to. */
enum notify_result {
    NOTIFY_OK,    /* delivered */
    NOTIFY_RETRY, /* failed for now: try again after a back-off */
    NOTIFY_FAIL   /* failed for good: dead letter */
};

typedef struct notify_outcome {
    uint64_t reminder_id;
    uint8_t channel;
    enum notify_result result;
    int64_t retry_after_ms; /* the receiver's Retry-After, or 0 */
    char error[NOTIFY_ERR_MAX + 1];
} notify_outcome_t;

/* The retry policy from the configuration. */
typedef struct notify_policy {
    int64_t base_ms;       /* first back-off */
    int64_t max_ms;        /* longest back-off */
    uint32_t max_attempts; /* attempts before a job is dead */
} notify_policy_t;

/* The databases of the notifier's store, and the store itself. */
typedef struct notify_db {
    store_t *st;
    MDB_dbi jobs, due, reminders;
} notify_db_t;

void notify_job_key(uint8_t key[NOTIFY_JOB_KEY_LEN], uint64_t reminder_id,
                    uint8_t channel);
void notify_due_key(uint8_t key[NOTIFY_DUE_KEY_LEN], uint8_t channel,
                    uint64_t next_ms, uint64_t reminder_id);

/* Writes job into out (NOTIFY_JOB_MAX bytes); returns the length used. */
size_t notify_job_encode(const notify_job_t *job, uint8_t *out);

/* Reads a record; returns 0 or KY_EDECODE. */
int notify_job_decode(const void *data, size_t len, notify_job_t *job);

enum notify_bucket notify_job_bucket(const notify_job_t *job);

/*
 * The wait before attempt number attempts + 1 after attempts failures
 * (attempts >= 1): base * 2^(attempts - 1), capped at max, with "equal
 * jitter": a value in [max(base, d / 2), d] chosen by rnd, so that
 * receivers coming back from an outage are not hit by every sender at
 * once, yet each wait still grows.
 */
int64_t notify_backoff_ms(uint32_t attempts, int64_t base_ms, int64_t max_ms,
                          uint32_t rnd);

/* Reads the job of (reminder_id, channel): 0, KY_ENOTFOUND, ... */
int notify_job_get(const notify_db_t *db, MDB_txn *txn, uint64_t reminder_id,
                   uint8_t channel, notify_job_t *job);

/*
 * Stores job, moving its due entry and the status counters from what old
 * was (NULL for a new job). Returns 0 or a store error.
 */
int notify_job_put(const notify_db_t *db, MDB_txn *txn, uint64_t reminder_id,
                   uint8_t channel, const notify_job_t *old,
                   const notify_job_t *job);

/*
 * Applies the outcome of one attempt at now_ms (rnd: a random number for
 * the jitter). A job that is no longer pending is left alone, so applying
 * an outcome twice changes nothing. Returns 0 or a store error.
 */
int notify_job_settle(const notify_db_t *db, MDB_txn *txn,
                      const notify_policy_t *policy,
                      const notify_outcome_t *out, int64_t now_ms,
                      uint32_t rnd);

/* The status counter of kind and bucket. */
int notify_job_count(const notify_db_t *db, MDB_txn *txn, enum notify_kind kind,
                     enum notify_bucket bucket, uint64_t *value);

/* "pending", "retrying", "delivered", "dead". */
const char *notify_bucket_name(enum notify_bucket bucket);

#endif
