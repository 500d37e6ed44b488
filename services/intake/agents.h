/*
 * agents.h - the agents and teams operators keep in one JSON file, and the
 * rules that give each new customer an owning agent.
 *
 *   {"agents": [{"id": "a01", "name": "...", "team": "north",
 *                "active": true, "workingHours": "09:00-21:00"}, ...],
 *    "rules":  [{"source": "anjuke", "agent": "a02"},
 *               {"region": "1101", "team": "north"}, ...]}
 *
 * (A bare array of agents is read as {"agents": [...]} with no rules.)
 *
 * A new customer gets, in this order: the agent the lead source named, if
 * that agent is active; the target of the first rule that matches the
 * lead's source and/or wanted region (a region rule matches any wanted
 * division code that starts with its digits); otherwise the next active
 * agent in turn. A rule's target is one agent, or a team whose active
 * agents take turns. The reason for the choice is kept with the file.
 */
#ifndef KEYUAN_AGENTS_H
#define KEYUAN_AGENTS_H

#include "keyuan/v1/envelope.pb-c.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct agent {
    char *id;
    char *name;
    char *team;
    char *hours; /* "09:00-21:00", local time */
    bool active;
} agent_t;

typedef struct agent_rule {
    char *source; /* match this lead source, or NULL for any */
    char *region; /* match a wanted code with this prefix, or NULL */
    char *agent;  /* give to this agent ... */
    char *team;   /* ... or to this team in turn */
} agent_rule_t;

typedef struct agents {
    agent_t *list;
    size_t n;
    size_t nactive;
    agent_rule_t *rules;
    size_t nrules;
} agents_t;

/* What a lead tells the assignment rules. */
typedef struct agent_lead {
    const char *source;
    const char *requested; /* agent the source named, or NULL */
    char *const *regions;  /* wanted division codes */
    size_t nregions;
} agent_lead_t;

/*
 * Reads path into a. Returns 0, or KY_ECONFIG with a message naming the
 * problem in err (errlen bytes): at least one active agent is required,
 * ids are unique, every rule names a known agent or team.
 */
int agents_load(agents_t *a, const char *path, char *err, size_t errlen);

void agents_free(agents_t *a);

/* The active agent with this id, or NULL. */
const agent_t *agents_active(const agents_t *a, const char *id);

/*
 * Chooses the owning agent of a new customer. turn counts assignments made
 * so far (for taking turns). Writes why into reason (reasonlen bytes), e.g.
 * "rule 2 (region 1101 -> team north)". Never returns NULL once loaded.
 */
const agent_t *agents_assign(const agents_t *a, const agent_lead_t *lead,
                             uint64_t turn, char *reason, size_t reasonlen);

/* Fills reply with an AgentList of every agent (for keyuanctl agents). */
struct svc;
void agents_reply(const agents_t *a, struct svc *svc,
                  Keyuan__V1__Envelope *reply);

#endif
