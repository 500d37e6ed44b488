/*
 * sched_query.c - answering ReminderQuery: which reminders fired, and
 * which follow-ups are planned (see scheduler.h; layout in scheduler.c).
 *
 * Queries run inside the service's write batch, so a walk that filters
 * by agent examines at most SCHED_QUERY_SCAN_MAX records per part and
 * returns what it found by then, rather than holding up the link.
 */
#include "scheduler.h"

#include "err.h"
#include "logger.h"

#include <stdlib.h>
#include <string.h>

#define SCHED_QUERY_SCAN_MAX 100000

typedef Keyuan__V1__Reminder reminder_t;

/* The reminders found so far and what the query asks for. */
typedef struct found {
    store_t *st;
    MDB_txn *txn;
    const Keyuan__V1__ReminderQuery *q;
    Keyuan__V1__ReminderList *list; /* the answer, growing */
    size_t cap;                     /* slots allocated in list */
    size_t want;                    /* list size at which this part stops */
} found_t;

void sched_list_clear(Keyuan__V1__ReminderList *list)
{
    for (size_t i = 0; i < list->n_reminders; i++)
        keyuan__v1__reminder__free_unpacked(list->reminders[i], NULL);
    free(list->reminders);
    list->reminders = NULL;
    list->n_reminders = 0;
}

/* Appends r (taking it) to the answer. */
static int found_push(found_t *f, reminder_t *r)
{
    Keyuan__V1__ReminderList *l = f->list;

    if (l->n_reminders == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 16;
        reminder_t **grown = realloc(l->reminders, cap * sizeof *grown);

        if (grown == NULL) {
            keyuan__v1__reminder__free_unpacked(r, NULL);
            return KY_ENOMEM;
        }
        l->reminders = grown;
        f->cap = cap;
    }
    l->reminders[l->n_reminders++] = r;
    return KY_OK;
}

static bool found_full(const found_t *f)
{
    return f->list->n_reminders >= f->want;
}

/*
 * Adds follow-up id when it passes the query's agent filter and, with
 * fired_only, when it fired. Returns 0, 1 when the part is full, or a
 * negative code.
 */
static int found_visit(found_t *f, uint64_t id, bool fired_only)
{
    const char *agent = f->q->agent_id;
    reminder_t *r;
    int rc = sched_followup_get(f->st, f->txn, id, &r);

    if (rc)
        return rc == KY_ENOTFOUND || rc == KY_EDECODE ? 0 : rc;
    if ((fired_only && r->fired_at == NULL) ||
        (agent && *agent && strcmp(r->agent_id, agent) != 0)) {
        keyuan__v1__reminder__free_unpacked(r, NULL);
        return 0;
    }
    rc = found_push(f, r);
    return rc ? rc : found_full(f);
}

static int visit_fired(void *arg, uint64_t id)
{
    return found_visit(arg, id, true);
}

/*
 * Walks database name from one end (backwards when newest_first) and
 * visits the id in each key (at offset id_at) until the part is full.
 */
static int walk_db(found_t *f, const char *name, bool newest_first,
                   size_t id_at, size_t key_len)
{
    MDB_cursor *cur;
    MDB_val k, v;
    int first = newest_first ? MDB_LAST : MDB_FIRST;
    int step = newest_first ? MDB_PREV : MDB_NEXT;
    int rc = 0, mrc = mdb_cursor_open(f->txn, store_db(f->st, name), &cur);
    long budget = SCHED_QUERY_SCAN_MAX;

    if (mrc)
        return store_err(mrc, "cursor_open");
    for (mrc = mdb_cursor_get(cur, &k, &v, first);
         mrc == 0 && rc == 0 && budget-- > 0;
         mrc = mdb_cursor_get(cur, &k, &v, step))
        if (k.mv_size == key_len)
            rc = found_visit(f, wire_get_u64((uint8_t *)k.mv_data + id_at),
                             false);
    mdb_cursor_close(cur);
    if (rc < 0)
        return rc;
    return mrc == 0 || mrc == MDB_NOTFOUND ? KY_OK : store_err(mrc, "query");
}

static int by_due(const void *a, const void *b)
{
    int64_t x = wire_ts_ms((*(reminder_t *const *)a)->due_at);
    int64_t y = wire_ts_ms((*(reminder_t *const *)b)->due_at);

    return (x > y) - (x < y);
}

/* The customer's pending follow-ups (one per kind), soonest first. */
static int planned_of_customer(found_t *f)
{
    Keyuan__V1__ReminderList *l = f->list;
    size_t from = l->n_reminders;
    uint64_t id;
    int rc = 0;

    for (int kind = KEYUAN__V1__REMINDER_KIND__REMINDER_KIND_SPEED_TO_LEAD;
         kind <= KEYUAN__V1__REMINDER_KIND__REMINDER_KIND_LISTING_MATCH &&
         rc >= 0 && !found_full(f);
         kind++) {
        rc = sched_pending_id(f->st, f->txn, f->q->customer_id, kind, &id);
        if (rc == 0)
            rc = found_visit(f, id, false);
        else if (rc == KY_ENOTFOUND)
            rc = 0;
    }
    if (l->n_reminders > from)
        qsort(l->reminders + from, l->n_reminders - from, sizeof *l->reminders,
              by_due);
    return rc < 0 ? rc : KY_OK;
}

int sched_query(store_t *st, MDB_txn *txn, const Keyuan__V1__ReminderQuery *q,
                Keyuan__V1__ReminderList *out)
{
    size_t limit = q->limit ? q->limit : SCHED_QUERY_DEFAULT;
    found_t f = {st, txn, q, out, 0, 0};
    int rc;

    if (limit > SCHED_QUERY_MAX)
        limit = SCHED_QUERY_MAX;
    out->reminders = NULL;
    out->n_reminders = 0;

    /* Fired, newest first: ids grow with the time they were planned. */
    f.want = limit;
    if (q->customer_id)
        rc = sched_customer_each(st, txn, q->customer_id, visit_fired, &f);
    else
        rc = walk_db(&f, "fired", true, 0, 8);

    /* Then what is still to come, soonest first. */
    f.want = out->n_reminders + limit;
    if (rc == 0 && q->include_planned)
        rc = q->customer_id ? planned_of_customer(&f)
                            : walk_db(&f, "due", false, 8, 16);
    if (rc)
        sched_list_clear(out);
    return rc;
}
