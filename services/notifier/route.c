/* route.c - parsing the notifier's routes (see route.h). */
#include "route.h"

#include "err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *notify_kind_name(enum notify_kind kind)
{
    switch (kind) {
    case NOTIFY_KIND_FILE:
        return "file";
    case NOTIFY_KIND_STDOUT:
        return "stdout";
    case NOTIFY_KIND_WEBHOOK:
        return "webhook";
    default:
        return "none";
    }
}

static int route_add(notify_routes_t *routes, enum notify_kind kind,
                     const char *target, size_t len)
{
    notify_route_t *r;

    if (routes->n == NOTIFY_MAX_ROUTES) {
        fprintf(stderr, "error: more than %d routes\n", NOTIFY_MAX_ROUTES);
        return KY_ECONFIG;
    }
    r = &routes->route[routes->n];
    r->kind = kind;
    if (target && (r->target = strndup(target, len)) == NULL)
        return KY_ENOMEM;
    routes->n++;
    return KY_OK;
}

/* Two routes writing to the same place would write every line twice. */
static int route_check_unique(const notify_routes_t *routes)
{
    const notify_route_t *last = &routes->route[routes->n - 1];

    for (int i = 0; i < routes->n - 1; i++) {
        const notify_route_t *r = &routes->route[i];

        if (r->kind != last->kind)
            continue;
        if (r->target == last->target ||
            (r->target && strcmp(r->target, last->target) == 0)) {
            fprintf(stderr, "error: --sink lists %s twice\n",
                    last->target ? last->target : "stdout");
            return KY_ECONFIG;
        }
    }
    return KY_OK;
}

/* Parses one "file:PATH" or "stdout" of len bytes. */
static int route_parse_sink(notify_routes_t *routes, const char *s, size_t len)
{
    int rc;

    if (len == 6 && strncmp(s, "stdout", 6) == 0)
        rc = route_add(routes, NOTIFY_KIND_STDOUT, NULL, 0);
    else if (len > 5 && strncmp(s, "file:", 5) == 0 &&
             len - 5 <= NOTIFY_MAX_PATH)
        rc = route_add(routes, NOTIFY_KIND_FILE, s + 5, len - 5);
    else {
        fprintf(stderr, "error: --sink: \"%.*s\" is not file:PATH or stdout\n",
                (int)len, s);
        return KY_ECONFIG;
    }
    return rc ? rc : route_check_unique(routes);
}

static int route_parse_webhook(notify_routes_t *routes, const char *url)
{
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
        fprintf(stderr, "error: --webhook must be an http(s) URL\n");
        return KY_ECONFIG;
    }
    return route_add(routes, NOTIFY_KIND_WEBHOOK, url, strlen(url));
}

int notify_routes_parse(notify_routes_t *routes, const char *sinks,
                        const char *webhook)
{
    const char *p = sinks ? sinks : "";
    int rc = KY_OK;

    while (*p && rc == 0) {
        size_t len = strcspn(p, ",");

        if (len > 0)
            rc = route_parse_sink(routes, p, len);
        p += len;
        if (*p == ',')
            p++;
    }
    if (rc == 0 && webhook && *webhook)
        rc = route_parse_webhook(routes, webhook);
    return rc;
}

void notify_routes_free(notify_routes_t *routes)
{
    for (int i = 0; i < routes->n; i++) {
        free(routes->route[i].target);
        routes->route[i].target = NULL;
    }
    routes->n = 0;
}
