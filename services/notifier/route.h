/*
 * route.h - where the notifier delivers a reminder: a channel kind and a
 * target.
 *
 * The routes come from the configuration, in a fixed order: the sinks of
 * --sink as listed, then --webhook. A route's index in that list is its
 * channel number, stored in every delivery job, so reordering the options
 * between runs moves pending jobs to other routes (a job whose route kind
 * no longer matches is dead-lettered, not sent somewhere unexpected).
 *
 * TODO: per-agent routing (agents' delivery routes from the agents file)
 * and the WeCom, DingTalk, Feishu and email channels are later issues;
 * they add kinds here and a target per agent.
 */
#ifndef KEYUAN_NOTIFY_ROUTE_H
#define KEYUAN_NOTIFY_ROUTE_H

#include <stddef.h>
#include <stdint.h>

enum notify_kind {
    NOTIFY_KIND_NONE = 0,
    NOTIFY_KIND_FILE = 1,    /* appends lines to a file */
    NOTIFY_KIND_STDOUT = 2,  /* writes lines to standard output */
    NOTIFY_KIND_WEBHOOK = 3, /* POSTs the reminder as JSON */
    NOTIFY_KIND_COUNT
};

/* Routes at most; the channel number is one byte in job keys. */
#define NOTIFY_MAX_ROUTES 16

/* Longest file path a file sink accepts (it becomes part of a meta key). */
#define NOTIFY_MAX_PATH 400

typedef struct notify_route {
    enum notify_kind kind;
    char *target; /* file path or URL; NULL for stdout */
} notify_route_t;

typedef struct notify_routes {
    notify_route_t route[NOTIFY_MAX_ROUTES];
    int n;
} notify_routes_t;

/*
 * Parses sinks ("file:PATH,stdout", may be NULL or empty) and the webhook
 * URL (may be NULL) into routes, which must be zeroed. Returns 0, or
 * KY_ECONFIG after printing which value is wrong to stderr. Free with
 * notify_routes_free() either way.
 */
int notify_routes_parse(notify_routes_t *routes, const char *sinks,
                        const char *webhook);

void notify_routes_free(notify_routes_t *routes);

/* "file", "stdout", "webhook" (or "none"); never NULL. */
const char *notify_kind_name(enum notify_kind kind);

#endif
