/*
 * scheduler.h - the follow-up planner and firer of keyuan.
 *
 * The scheduler receives GradeResult messages from grading, keeps every
 * planned follow-up of every customer in LMDB (layout: scheduler.c), and
 * fires each one once when it is due, as a Reminder to the notifier.
 *
 * The planning and firing functions work on a store and a write
 * transaction the caller owns, with no sockets, so that unit tests can
 * drive them directly; sched_service.c binds them to the service loop.
 *
 * Planned today: speed-to-lead, cadence by grade, the agent's next step.
 * Birthdays, holidays and festivals, listing matches, contact-frequency
 * caps and erasing a customer come with their own issues; the layout
 * already keeps every record findable by customer for the erasure.
 */
#ifndef KEYUAN_SCHEDULER_H
#define KEYUAN_SCHEDULER_H

#include "outbox.h"
#include "sched_hours.h"
#include "store.h"
#include "svc.h"
#include "wire.h"

#include <stdbool.h>
#include <stdint.h>

/* Follow-ups fired in one write transaction, at most. */
#define SCHED_FIRE_BATCH 1024

/* Reminders a ReminderQuery returns when it sets no limit, and at most. */
#define SCHED_QUERY_DEFAULT 50
#define SCHED_QUERY_MAX 1000

/* The grades of common.proto, as indexes of sched_rules_t.cadence_ms. */
#define SCHED_GRADES (KEYUAN__V1__GRADE__GRADE_LEAD + 1)

/* How follow-ups are planned; fixed for the life of the process. */
typedef struct sched_rules {
    int64_t speed_to_lead_ms;       /* new customer: first call; 0: now */
    int cadence_days[SCHED_GRADES]; /* local calendar days; 0: none */
    sched_hours_t hours;            /* working hours, local time */
} sched_rules_t;

/* The options of keyuan-scheduler beyond svc's, as main.c reads them. */
typedef struct sched_options {
    int64_t speed_to_lead_s;
    int64_t cadence_a_days;
    int64_t cadence_b_days;
    int64_t cadence_c_days;
    int64_t cadence_lead_days;
    const char *work_start; /* "HH:MM" */
    const char *work_end;
    const char *time_zone; /* IANA name */
} sched_options_t;

/* The named databases of the scheduler's store, NULL-terminated. */
extern const char *const sched_db_names[];

/*
 * Checks opt and turns it into rules; also makes opt->time_zone the
 * process's zone. Returns 0 or KY_ECONFIG (after saying why on stderr).
 */
int sched_rules_init(sched_rules_t *rules, const sched_options_t *opt);

/*
 * Plans what grade result gr asks for, inside write transaction txn, at
 * time now_ms: the speed-to-lead call of a new customer, the next cadence
 * follow-up of its grade (replacing the pending one) and the next step
 * the agent agreed (replacing a pending next step). A customer who asked
 * not to be disturbed gets nothing new and loses its pending cadence; one
 * merged into another customer (merged_into) loses every pending
 * follow-up, since the other customer's results plan them from then on.
 * Returns 0, KY_EINVAL for a result without a customer id, or a store
 * error.
 */
int sched_plan_grade(store_t *st, MDB_txn *txn, const sched_rules_t *rules,
                     const Keyuan__V1__GradeResult *gr, int64_t now_ms);

/*
 * What the service does with a grade result: sched_plan_grade(), then
 * sched_fire_due() for what is due by now_ms (at most SCHED_FIRE_BATCH),
 * in txn; *fired gets how many fired. The same records, totals and
 * messages, in the same order, as those two calls; but a speed-to-lead
 * reminder that is due at once and first in line is fired without being
 * indexed as pending first. Returns 0, KY_EINVAL (no customer id) or a
 * store error.
 */
int sched_apply_grade(store_t *st, MDB_txn *txn, outbox_t *ob,
                      const sched_rules_t *rules,
                      const Keyuan__V1__GradeResult *gr, int64_t now_ms,
                      int *fired);

/*
 * Fires, inside txn, up to max follow-ups due at or before now_ms, in
 * order of due time: each leaves the due index, is marked fired, is
 * appended to outbox ob (when not NULL) and, for a cadence, plans the
 * next cycle. *fired (may be NULL) gets how many fired. Returns 0 or a
 * store error (the caller aborts txn; nothing fired).
 */
int sched_fire_due(store_t *st, MDB_txn *txn, outbox_t *ob,
                   const sched_rules_t *rules, int64_t now_ms, int max,
                   int *fired);

/*
 * The due time of the first planned follow-up, in *due_ms. Returns 0,
 * KY_ENOTFOUND when nothing is planned, or a store error.
 */
int sched_first_due(store_t *st, MDB_txn *txn, int64_t *due_ms);

/*
 * Reads follow-up id into *out (free with
 * keyuan__v1__reminder__free_unpacked). Returns 0, KY_ENOTFOUND, ...
 */
int sched_followup_get(store_t *st, MDB_txn *txn, uint64_t id,
                       Keyuan__V1__Reminder **out);

/*
 * The id of customer's pending follow-up of kind in *id. Returns 0,
 * KY_ENOTFOUND or a store error.
 */
int sched_pending_id(store_t *st, MDB_txn *txn, uint64_t customer,
                     Keyuan__V1__ReminderKind kind, uint64_t *id);

/*
 * Calls fn(arg, id) for each follow-up of customer, pending or fired,
 * newest first, until fn returns non-zero: 1 stops the walk (returns 0),
 * a negative code stops it and is returned. Returns 0 or a store error.
 */
int sched_customer_each(store_t *st, MDB_txn *txn, uint64_t customer,
                        int (*fn)(void *arg, uint64_t id), void *arg);

/*
 * Lifetime totals: planned, fired, cancelled, and pending now. Counted
 * from the fired and due indexes and two counters (layout in scheduler.c),
 * so that no counter is written per follow-up.
 */
typedef struct sched_totals {
    uint64_t planned;
    uint64_t fired;
    uint64_t cancelled;
    uint64_t pending; /* entries in the due index */
} sched_totals_t;

int sched_totals(store_t *st, MDB_txn *txn, sched_totals_t *t);

/*
 * Answers ReminderQuery q: fired reminders, newest (highest id) first,
 * then with include_planned the pending ones, soonest first; each part
 * holds at most the query's limit. out->reminders is a malloc'd array of
 * unpacked messages: release with sched_list_clear(). Returns 0 or a
 * store error.
 */
int sched_query(store_t *st, MDB_txn *txn, const Keyuan__V1__ReminderQuery *q,
                Keyuan__V1__ReminderList *out);

/* Frees what sched_query() put into list and empties it. */
void sched_list_clear(Keyuan__V1__ReminderList *list);

/*
 * Runs the scheduler service with cfg (svc's options) and opt until
 * SIGTERM. Returns 0, or a negative code when it could not start or
 * failed.
 */
int sched_run(const svc_config_t *cfg, const sched_options_t *opt);

#endif
