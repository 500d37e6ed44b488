/* agents.c - the agents file and assignment rules (see agents.h). */
#include "agents.h"

#include "err.h"
#include "svc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dup_or_null(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));

    return s && *s ? strdup(s) : NULL;
}

/* "HH:MM-HH:MM" with HH 00-24 and MM 00-59. */
static bool hours_valid(const char *s)
{
    int h1, m1, h2, m2, n = 0;

    return sscanf(s, "%2d:%2d-%2d:%2d%n", &h1, &m1, &h2, &m2, &n) == 4 &&
           s[n] == '\0' && h1 >= 0 && h1 <= 24 && h2 >= 0 && h2 <= 24 &&
           m1 >= 0 && m1 < 60 && m2 >= 0 && m2 < 60;
}

static int agent_parse(agents_t *a, json_t *obj, size_t i, char *err,
                       size_t errlen)
{
    agent_t *ag = &a->list[i];
    json_t *active = json_object_get(obj, "active");

    ag->id = dup_or_null(obj, "id");
    ag->name = dup_or_null(obj, "name");
    ag->team = dup_or_null(obj, "team");
    ag->hours = dup_or_null(obj, "workingHours");
    ag->active = active == NULL || json_is_true(active);
    if (ag->id == NULL || strlen(ag->id) > 32) {
        snprintf(err, errlen, "agent %zu: \"id\" must be 1-32 characters",
                 i + 1);
        return KY_ECONFIG;
    }
    if (ag->hours && !hours_valid(ag->hours)) {
        snprintf(err, errlen,
                 "agent %s: \"workingHours\" must look like "
                 "09:00-21:00",
                 ag->id);
        return KY_ECONFIG;
    }
    for (size_t j = 0; j < i; j++)
        if (strcmp(a->list[j].id, ag->id) == 0) {
            snprintf(err, errlen, "agent id %s appears twice", ag->id);
            return KY_ECONFIG;
        }
    a->nactive += ag->active;
    return KY_OK;
}

static bool team_known(const agents_t *a, const char *team)
{
    for (size_t i = 0; i < a->n; i++)
        if (a->list[i].team && strcmp(a->list[i].team, team) == 0)
            return true;
    return false;
}

static int rule_parse(agents_t *a, json_t *obj, size_t i, char *err,
                      size_t errlen)
{
    agent_rule_t *r = &a->rules[i];

    r->source = dup_or_null(obj, "source");
    r->region = dup_or_null(obj, "region");
    r->agent = dup_or_null(obj, "agent");
    r->team = dup_or_null(obj, "team");
    if ((r->agent == NULL) == (r->team == NULL)) {
        snprintf(err, errlen,
                 "rule %zu: needs exactly one of \"agent\" or "
                 "\"team\"",
                 i + 1);
        return KY_ECONFIG;
    }
    if (r->source == NULL && r->region == NULL) {
        snprintf(err, errlen, "rule %zu: needs \"source\" or \"region\"",
                 i + 1);
        return KY_ECONFIG;
    }
    if ((r->agent && agents_active(a, r->agent) == NULL) ||
        (r->team && !team_known(a, r->team))) {
        snprintf(err, errlen, "rule %zu: no active agent \"%s\"", i + 1,
                 r->agent ? r->agent : r->team);
        return KY_ECONFIG;
    }
    return KY_OK;
}

/* Parses an array of objects with fn into a freshly allocated table. */
static int parse_array(agents_t *a, json_t *arr, const char *what,
                       int (*fn)(agents_t *, json_t *, size_t, char *, size_t),
                       size_t *count, char *err, size_t errlen)
{
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *obj = json_array_get(arr, i);
        int rc;

        if (!json_is_object(obj)) {
            snprintf(err, errlen, "%s %zu: expected an object", what, i + 1);
            return KY_ECONFIG;
        }
        *count = i + 1;
        if ((rc = fn(a, obj, i, err, errlen)) != KY_OK)
            return rc;
    }
    return KY_OK;
}

static int agents_parse(agents_t *a, json_t *root, char *err, size_t errlen)
{
    json_t *list = json_is_array(root) ? root : json_object_get(root, "agents");
    json_t *rules = json_object_get(root, "rules");
    int rc;

    if (!json_is_array(list) || (rules && !json_is_array(rules))) {
        snprintf(err, errlen, "expected {\"agents\": [...], \"rules\": [...]}");
        return KY_ECONFIG;
    }
    a->list = calloc(json_array_size(list) + 1, sizeof *a->list);
    a->rules = calloc(json_array_size(rules) + 1, sizeof *a->rules);
    if (a->list == NULL || a->rules == NULL)
        return KY_ENOMEM;
    rc = parse_array(a, list, "agent", agent_parse, &a->n, err, errlen);
    if (rc == KY_OK && a->nactive == 0) {
        snprintf(err, errlen, "no active agent");
        rc = KY_ECONFIG;
    }
    if (rc == KY_OK && rules)
        rc = parse_array(a, rules, "rule", rule_parse, &a->nrules, err, errlen);
    return rc;
}

int agents_load(agents_t *a, const char *path, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    char detail[200];
    int rc;

    memset(a, 0, sizeof *a);
    if (root == NULL) {
        snprintf(err, errlen, "%s:%d: %s", path, jerr.line, jerr.text);
        return KY_ECONFIG;
    }
    rc = agents_parse(a, root, detail, sizeof detail);
    json_decref(root);
    if (rc) {
        snprintf(err, errlen, "%s: %s", path,
                 rc == KY_ENOMEM ? "out of memory" : detail);
        agents_free(a);
    }
    return rc;
}

void agents_free(agents_t *a)
{
    for (size_t i = 0; a->list && i < a->n; i++) {
        free(a->list[i].id);
        free(a->list[i].name);
        free(a->list[i].team);
        free(a->list[i].hours);
    }
    for (size_t i = 0; a->rules && i < a->nrules; i++) {
        free(a->rules[i].source);
        free(a->rules[i].region);
        free(a->rules[i].agent);
        free(a->rules[i].team);
    }
    free(a->list);
    free(a->rules);
    memset(a, 0, sizeof *a);
}

const agent_t *agents_active(const agents_t *a, const char *id)
{
    for (size_t i = 0; id && i < a->n; i++)
        if (a->list[i].active && strcmp(a->list[i].id, id) == 0)
            return &a->list[i];
    return NULL;
}

/* The active agent whose turn it is, among team (or all when NULL). */
static const agent_t *take_turn(const agents_t *a, const char *team,
                                uint64_t turn)
{
    size_t eligible = 0, k;

    for (size_t i = 0; i < a->n; i++)
        eligible +=
            a->list[i].active &&
            (!team || (a->list[i].team && strcmp(a->list[i].team, team) == 0));
    if (eligible == 0)
        return NULL;
    k = (size_t)(turn % eligible);
    for (size_t i = 0; i < a->n; i++)
        if (a->list[i].active &&
            (!team ||
             (a->list[i].team && strcmp(a->list[i].team, team) == 0)) &&
            k-- == 0)
            return &a->list[i];
    return NULL;
}

static bool rule_matches(const agent_rule_t *r, const agent_lead_t *lead)
{
    bool region_ok = r->region == NULL;

    if (r->source && (lead->source == NULL || strcmp(r->source, lead->source)))
        return false;
    for (size_t i = 0; !region_ok && i < lead->nregions; i++)
        region_ok =
            strncmp(lead->regions[i], r->region, strlen(r->region)) == 0;
    return region_ok;
}

const agent_t *agents_assign(const agents_t *a, const agent_lead_t *lead,
                             uint64_t turn, char *reason, size_t reasonlen)
{
    const agent_t *ag = agents_active(a, lead->requested);

    if (ag) {
        snprintf(reason, reasonlen, "named by source %s", lead->source);
        return ag;
    }
    for (size_t i = 0; i < a->nrules; i++) {
        const agent_rule_t *r = &a->rules[i];

        if (!rule_matches(r, lead))
            continue;
        ag =
            r->agent ? agents_active(a, r->agent) : take_turn(a, r->team, turn);
        if (ag == NULL)
            continue; /* the team has no active agent now */
        snprintf(reason, reasonlen, "rule %zu (%s%s%s%s -> %s %s)", i + 1,
                 r->source ? "source " : "", r->source ? r->source : "",
                 r->source && r->region ? ", region "
                 : r->region            ? "region "
                                        : "",
                 r->region ? r->region : "", r->agent ? "agent" : "team",
                 r->agent ? r->agent : r->team);
        return ag;
    }
    snprintf(reason, reasonlen, "round robin");
    return take_turn(a, NULL, turn);
}

void agents_reply(const agents_t *a, svc_t *svc, Envelope *reply)
{
    Keyuan__V1__AgentList *list = svc_alloc(svc, sizeof *list);

    keyuan__v1__agent_list__init(list);
    list->agents = svc_alloc(svc, (a->n + 1) * sizeof *list->agents);
    for (size_t i = 0; i < a->n; i++) {
        Keyuan__V1__Agent *ag = svc_alloc(svc, sizeof *ag);

        keyuan__v1__agent__init(ag);
        ag->id = a->list[i].id;
        ag->name = a->list[i].name ? a->list[i].name : "";
        ag->team = a->list[i].team ? a->list[i].team : "";
        ag->working_hours = a->list[i].hours ? a->list[i].hours : "";
        ag->active = a->list[i].active;
        list->agents[list->n_agents++] = ag;
    }
    reply->body_case = KEYUAN__V1__ENVELOPE__BODY_AGENT_LIST;
    reply->agent_list = list;
}
