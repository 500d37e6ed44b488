/*
 * notify_impl.h - the notifier's state, shared by notifier.c (the service)
 * and deliver.c (the tick). Not for other modules.
 */
#ifndef KEYUAN_NOTIFY_IMPL_H
#define KEYUAN_NOTIFY_IMPL_H

#include "notifier.h"
#include "webhook.h"

#include <stdbool.h>
#include <stdint.h>

/* What the notifier knows of one file sink's committed size. */
typedef struct notify_sink_state {
    bool known;      /* offset holds the committed value */
    bool dirty;      /* offset is new: commit it with outcomes */
    uint64_t offset; /* bytes of the file that are committed */
} notify_sink_state_t;

struct notify {
    notify_db_t db;             /* store and databases, borrowed */
    svc_t *svc;                 /* the service loop; NULL in unit tests */
    notify_routes_t routes;     /* where reminders go, by channel */
    notify_policy_t policy;     /* back-off and attempts */
    const char *secret;         /* webhook HMAC key, or NULL */
    notify_webhook_t *web;      /* transfers; NULL without a webhook */
    bool curl_ready;            /* curl_global_init ran */
    notify_outcome_t *outcomes; /* finished attempts awaiting a commit */
    int noutcomes, outcomes_cap;
    uint64_t *batch; /* reminder ids of the sink batch */
    int nbatch, batch_cap;
    notify_sink_state_t sinks[NOTIFY_MAX_ROUTES]; /* by channel */
};

/* Lines a sink writes with one write() and one sync at most. */
#define NOTIFY_SINK_BATCH 1024

/* The real wall clock in ms (job.h: retries ignore the test clock). */
int64_t notify_wall_ms(void);

/* Queues the outcome of an attempt for the next commit: 0 or KY_ENOMEM. */
int notify_outcome_add(notify_t *n, uint64_t reminder_id, uint8_t channel,
                       enum notify_result result, const char *error);
int notify_outcome_push(notify_t *n, const notify_outcome_t *o);

/*
 * Settles the queued outcomes and writes dirty sink offsets in one write
 * transaction. The queue is emptied either way.
 */
int notify_commit(notify_t *n);

/* Makes file sink ch agree with its committed size (see notify_recover). */
int notify_sink_reconcile(notify_t *n, uint8_t ch, int fd, uint64_t *size);

#endif
