/* job.c - delivery jobs, their due index and counters (see job.h). */
#include "job.h"

#include "err.h"
#include "logger.h"
#include "wire.h"

#include <stdio.h>
#include <string.h>

#define NOTIFY_JOB_VERSION 1

void notify_job_key(uint8_t key[NOTIFY_JOB_KEY_LEN], uint64_t reminder_id,
                    uint8_t channel)
{
    wire_put_u64(key, reminder_id);
    key[8] = channel;
}

void notify_due_key(uint8_t key[NOTIFY_DUE_KEY_LEN], uint8_t channel,
                    uint64_t next_ms, uint64_t reminder_id)
{
    key[0] = channel;
    wire_put_u64(key + 1, next_ms);
    wire_put_u64(key + 9, reminder_id);
}

size_t notify_job_encode(const notify_job_t *job, uint8_t *out)
{
    size_t elen = strnlen(job->error, NOTIFY_ERR_MAX);

    out[0] = NOTIFY_JOB_VERSION;
    out[1] = (uint8_t)job->state;
    out[2] = (uint8_t)job->kind;
    out[3] = 0;
    out[4] = (uint8_t)(job->attempts >> 24);
    out[5] = (uint8_t)(job->attempts >> 16);
    out[6] = (uint8_t)(job->attempts >> 8);
    out[7] = (uint8_t)job->attempts;
    wire_put_u64(out + 8, job->next_ms);
    wire_put_u64(out + 16, job->updated_ms);
    memcpy(out + NOTIFY_JOB_HEAD, job->error, elen);
    return NOTIFY_JOB_HEAD + elen;
}

int notify_job_decode(const void *data, size_t len, notify_job_t *job)
{
    const uint8_t *in = data;
    size_t elen = len - NOTIFY_JOB_HEAD;

    if (len < NOTIFY_JOB_HEAD || len > NOTIFY_JOB_MAX ||
        in[0] != NOTIFY_JOB_VERSION || in[1] > NOTIFY_DEAD ||
        in[2] >= NOTIFY_KIND_COUNT)
        return KY_EDECODE;
    job->state = (enum notify_state)in[1];
    job->kind = (enum notify_kind)in[2];
    job->attempts = (uint32_t)in[4] << 24 | (uint32_t)in[5] << 16 |
                    (uint32_t)in[6] << 8 | in[7];
    job->next_ms = wire_get_u64(in + 8);
    job->updated_ms = wire_get_u64(in + 16);
    memcpy(job->error, in + NOTIFY_JOB_HEAD, elen);
    job->error[elen] = '\0';
    return KY_OK;
}

enum notify_bucket notify_job_bucket(const notify_job_t *job)
{
    if (job->state == NOTIFY_DELIVERED)
        return NOTIFY_B_DELIVERED;
    if (job->state == NOTIFY_DEAD)
        return NOTIFY_B_DEAD;
    return job->attempts > 0 ? NOTIFY_B_RETRYING : NOTIFY_B_PENDING;
}

const char *notify_bucket_name(enum notify_bucket bucket)
{
    static const char *names[] = {"pending", "retrying", "delivered", "dead"};

    return bucket < NOTIFY_B_COUNT ? names[bucket] : "unknown";
}

int64_t notify_backoff_ms(uint32_t attempts, int64_t base_ms, int64_t max_ms,
                          uint32_t rnd)
{
    int64_t d = base_ms, lo;

    for (uint32_t i = 1; i < attempts && d < max_ms; i++)
        d *= 2;
    if (d > max_ms)
        d = max_ms;
    lo = d / 2 > base_ms ? d / 2 : base_ms;
    if (lo > d)
        lo = d;
    return lo + (int64_t)(rnd % (uint64_t)(d - lo + 1));
}

int notify_job_get(const notify_db_t *db, MDB_txn *txn, uint64_t reminder_id,
                   uint8_t channel, notify_job_t *job)
{
    uint8_t key[NOTIFY_JOB_KEY_LEN];
    MDB_val v;
    int rc;

    notify_job_key(key, reminder_id, channel);
    rc = store_get(txn, db->jobs, key, sizeof key, &v);
    if (rc)
        return rc;
    rc = notify_job_decode(v.mv_data, v.mv_size, job);
    if (rc)
        log_error("event=job_record_corrupt reminder=%llu channel=%u",
                  (unsigned long long)reminder_id, channel);
    return rc;
}

/*
 * The meta counter of kind's jobs in bucket ("jobs.file.pending"): from a
 * table, as every job's change of state updates two of them; out (len
 * bytes) is used only for values no job can have.
 */
static const char *count_name(char *out, size_t len, enum notify_kind kind,
                              enum notify_bucket bucket)
{
#define COUNT_NAMES(k)                                                         \
    {                                                                          \
        "jobs." k ".pending", "jobs." k ".retrying", "jobs." k ".delivered",   \
            "jobs." k ".dead"                                                  \
    }
    static const char *const names[NOTIFY_KIND_COUNT][NOTIFY_B_COUNT] = {
        [NOTIFY_KIND_NONE] = COUNT_NAMES("none"),
        [NOTIFY_KIND_FILE] = COUNT_NAMES("file"),
        [NOTIFY_KIND_STDOUT] = COUNT_NAMES("stdout"),
        [NOTIFY_KIND_WEBHOOK] = COUNT_NAMES("webhook"),
    };
#undef COUNT_NAMES

    if ((unsigned)kind < NOTIFY_KIND_COUNT && (unsigned)bucket < NOTIFY_B_COUNT)
        return names[kind][bucket];
    snprintf(out, len, "jobs.%s.%s", notify_kind_name(kind),
             notify_bucket_name(bucket));
    return out;
}

int notify_job_count(const notify_db_t *db, MDB_txn *txn, enum notify_kind kind,
                     enum notify_bucket bucket, uint64_t *value)
{
    char name[48];

    return store_meta_get(db->st, txn,
                          count_name(name, sizeof name, kind, bucket), value);
}

static int count_add(const notify_db_t *db, MDB_txn *txn, enum notify_kind kind,
                     enum notify_bucket bucket, int delta)
{
    char name[48];
    const char *key = count_name(name, sizeof name, kind, bucket);
    uint64_t v;
    int rc = store_meta_get(db->st, txn, key, &v);

    if (rc)
        return rc;
    if (delta < 0 && v < (uint64_t)-delta)
        v = 0; /* never wrap: a counter is a number to read, not a ledger */
    else
        v += (uint64_t)(int64_t)delta;
    return store_meta_put(db->st, txn, key, v);
}

/* Moves the due entry of a job from old's time to job's (if pending). */
static int due_move(const notify_db_t *db, MDB_txn *txn, uint64_t id,
                    uint8_t ch, const notify_job_t *old,
                    const notify_job_t *job)
{
    uint8_t key[NOTIFY_DUE_KEY_LEN];
    int rc = KY_OK;

    if (old && old->state == NOTIFY_PENDING) {
        notify_due_key(key, ch, old->next_ms, id);
        rc = store_del(txn, db->due, key, sizeof key);
    }
    if (rc == 0 && job->state == NOTIFY_PENDING) {
        notify_due_key(key, ch, job->next_ms, id);
        rc = store_put(txn, db->due, key, sizeof key, "", 0, 0);
    }
    return rc;
}

int notify_job_put(const notify_db_t *db, MDB_txn *txn, uint64_t reminder_id,
                   uint8_t channel, const notify_job_t *old,
                   const notify_job_t *job)
{
    uint8_t key[NOTIFY_JOB_KEY_LEN], val[NOTIFY_JOB_MAX];
    size_t vlen = notify_job_encode(job, val);
    int rc;

    notify_job_key(key, reminder_id, channel);
    rc = store_put(txn, db->jobs, key, sizeof key, val, vlen, 0);
    if (rc == 0)
        rc = due_move(db, txn, reminder_id, channel, old, job);
    if (rc == 0 && old)
        rc = count_add(db, txn, old->kind, notify_job_bucket(old), -1);
    if (rc == 0)
        rc = count_add(db, txn, job->kind, notify_job_bucket(job), 1);
    return rc;
}

/* Turns a failed attempt into a later retry, or a dead letter. */
static void job_fail(notify_job_t *job, const notify_policy_t *policy,
                     const notify_outcome_t *out, int64_t now_ms, uint32_t rnd)
{
    int64_t wait;

    snprintf(job->error, sizeof job->error, "%s", out->error);
    if (out->result == NOTIFY_FAIL || job->attempts >= policy->max_attempts) {
        job->state = NOTIFY_DEAD;
        return;
    }
    wait =
        notify_backoff_ms(job->attempts, policy->base_ms, policy->max_ms, rnd);
    if (out->retry_after_ms > wait)
        wait = out->retry_after_ms < policy->max_ms ? out->retry_after_ms
                                                    : policy->max_ms;
    job->next_ms = (uint64_t)(now_ms + wait);
}

static void job_log(uint64_t id, uint8_t ch, const notify_job_t *job)
{
    unsigned long long rid = (unsigned long long)id;
    unsigned tries = job->attempts;

    if (job->state == NOTIFY_DELIVERED)
        log_info("event=delivered reminder=%llu channel=%u attempts=%u", rid,
                 ch, tries);
    else if (job->state == NOTIFY_DEAD)
        log_warn(
            "event=dead_letter reminder=%llu channel=%u attempts=%u err=\"%s\"",
            rid, ch, tries, job->error);
    else
        log_warn(
            "event=retry_later reminder=%llu channel=%u attempts=%u err=\"%s\"",
            rid, ch, tries, job->error);
}

int notify_job_settle(const notify_db_t *db, MDB_txn *txn,
                      const notify_policy_t *policy,
                      const notify_outcome_t *out, int64_t now_ms, uint32_t rnd)
{
    notify_job_t old, job;
    int rc = notify_job_get(db, txn, out->reminder_id, out->channel, &old);

    if (rc == KY_ENOTFOUND)
        return KY_OK;
    if (rc || old.state != NOTIFY_PENDING)
        return rc;

    job = old;
    job.attempts++;
    job.updated_ms = (uint64_t)now_ms;
    if (out->result == NOTIFY_OK) {
        job.state = NOTIFY_DELIVERED;
        job.error[0] = '\0';
    } else {
        job_fail(&job, policy, out, now_ms, rnd);
    }
    rc = notify_job_put(db, txn, out->reminder_id, out->channel, &old, &job);
    if (rc == 0)
        job_log(out->reminder_id, out->channel, &job);
    return rc;
}
