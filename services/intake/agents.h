/*
 * agents.h - the agents and teams operators list in a JSON file:
 *
 *   [{"id": "a01", "name": "...", "team": "north", "active": true}, ...]
 *
 * Intake assigns each new customer to an agent: the one the lead source
 * named when that agent exists and is active, otherwise the next active
 * agent in turn.
 */
#ifndef KEYUAN_AGENTS_H
#define KEYUAN_AGENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct agent {
    char *id;
    char *name;
    char *team;
    bool active;
} agent_t;

typedef struct agents {
    agent_t *list;
    size_t n;
    size_t nactive;
} agents_t;

/*
 * Reads path into a. Returns 0, or KY_ECONFIG with a message naming the
 * problem in err (errlen bytes). At least one active agent is required.
 */
int agents_load(agents_t *a, const char *path, char *err, size_t errlen);

void agents_free(agents_t *a);

/* The active agent with this id, or NULL. */
const agent_t *agents_active(const agents_t *a, const char *id);

/* The active agent whose turn it is; turn counts assignments so far. */
const agent_t *agents_pick(const agents_t *a, uint64_t turn);

#endif
