/* agents.c - the agents file and round-robin assignment (see agents.h). */
#include "agents.h"

#include "err.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int agent_parse(agent_t *ag, json_t *obj, size_t i, char *err,
                       size_t errlen)
{
    const char *id = json_string_value(json_object_get(obj, "id"));
    const char *name = json_string_value(json_object_get(obj, "name"));
    const char *team = json_string_value(json_object_get(obj, "team"));
    json_t *active = json_object_get(obj, "active");

    if (id == NULL || *id == '\0' || strlen(id) > 32) {
        snprintf(err, errlen, "agent %zu: \"id\" must be 1-32 characters",
                 i + 1);
        return KY_ECONFIG;
    }
    ag->id = strdup(id);
    ag->name = strdup(name ? name : "");
    ag->team = strdup(team ? team : "");
    ag->active = active == NULL || json_is_true(active);
    return ag->id && ag->name && ag->team ? KY_OK : KY_ENOMEM;
}

int agents_load(agents_t *a, const char *path, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    int rc = KY_OK;

    memset(a, 0, sizeof *a);
    if (root == NULL || !json_is_array(root)) {
        snprintf(err, errlen, "%s:%d: %s", path, jerr.line,
                 root ? "expected a JSON array of agents" : jerr.text);
        json_decref(root);
        return KY_ECONFIG;
    }
    a->list = calloc(json_array_size(root) + 1, sizeof *a->list);
    for (size_t i = 0; a->list && rc == 0 && i < json_array_size(root); i++) {
        rc = agent_parse(&a->list[i], json_array_get(root, i), i, err, errlen);
        a->n = i + 1;
        a->nactive += a->list[i].active;
    }
    json_decref(root);
    if (a->list == NULL)
        rc = KY_ENOMEM;
    if (rc == KY_OK && a->nactive == 0) {
        snprintf(err, errlen, "%s: no active agent", path);
        rc = KY_ECONFIG;
    }
    if (rc)
        agents_free(a);
    return rc;
}

void agents_free(agents_t *a)
{
    for (size_t i = 0; a->list && i < a->n; i++) {
        free(a->list[i].id);
        free(a->list[i].name);
        free(a->list[i].team);
    }
    free(a->list);
    memset(a, 0, sizeof *a);
}

const agent_t *agents_active(const agents_t *a, const char *id)
{
    for (size_t i = 0; id && i < a->n; i++)
        if (a->list[i].active && strcmp(a->list[i].id, id) == 0)
            return &a->list[i];
    return NULL;
}

const agent_t *agents_pick(const agents_t *a, uint64_t turn)
{
    uint64_t k = turn % a->nactive;

    for (size_t i = 0; i < a->n; i++)
        if (a->list[i].active && k-- == 0)
            return &a->list[i];
    return NULL;
}
