/*
 * contact.h - the parts of `keyuanctl log contact` worth testing alone:
 * changes of need given as --set PATH=JSON, and new event ids.
 *
 * A contact log may carry changes of the customer file: a Profile holding
 * the new values and the proto3 JSON paths of the fields they replace
 * (ContactLog.changes and change_paths). Operators write each change as
 * PATH=JSON, for example needs.budgetMaxWan=600, hobbies=["游泳"] or
 * needs.stage=STAGE_COMPARING; the values are gathered into one JSON
 * object and pbjson makes the Profile of it, so every field of the file
 * can be changed without code per field.
 */
#ifndef KEYUAN_CTL_CONTACT_H
#define KEYUAN_CTL_CONTACT_H

#include "wire.h"

#include <jansson.h>
#include <stddef.h>

/* Changes gathered from --set options. */
typedef struct ctl_changes {
    json_t *doc;   /* the Profile as JSON so far; NULL before the first */
    char **paths;  /* lowerCamelCase paths, in the order given; owned */
    size_t npaths; /* entries in paths */
} ctl_changes_t;

/*
 * Adds one change "PATH=VALUE". PATH names a field of Profile in
 * lowerCamelCase or snake_case, nested fields joined by '.'
 * ("needs.budget_max_wan" is stored as "needs.budgetMaxWan"). VALUE is
 * JSON; text that is not JSON is taken as a string, so occupation=教师
 * works without quotes, and an empty VALUE clears a text field. Returns 0,
 * KY_EINVAL with errbuf saying why (no such field, a path that overlaps an
 * earlier one), or KY_ENOMEM.
 */
int ctl_changes_add(ctl_changes_t *ch, const char *arg, char *errbuf,
                    size_t errlen);

/*
 * Builds the Profile of the changes added. Returns 0 with *out set (free
 * with protobuf_c_message_free_unpacked(), NULL when there are no
 * changes), or KY_EINVAL with errbuf naming the field whose value does
 * not fit ("needs.bedrooms: expected a number"), or KY_ENOMEM.
 */
int ctl_changes_build(const ctl_changes_t *ch, Keyuan__V1__Profile **out,
                      char *errbuf, size_t errlen);

/* Frees what ch holds and empties it. */
void ctl_changes_clear(ctl_changes_t *ch);

/* Room for an event id and its NUL. */
#define CTL_EVENT_ID_SIZE 37

/*
 * Writes a new random event id, a version 4 UUID such as
 * "0f8e2c1a-4b7d-4e3f-9a2b-6c5d4e3f2a1b", into out. Returns 0 or KY_EIO
 * when the system has no randomness to give.
 */
int ctl_event_id_new(char out[CTL_EVENT_ID_SIZE]);

#endif
