/* file_apply.c - events applied to a file's document (file_apply.h). */
#include "file_apply.h"

#include "clock.h"
#include "err.h"
#include "file_doc.h"
#include "file_ident.h"
#include "file_store.h"
#include "pbjson.h"
#include "phone.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PROFILE_DESC (&keyuan__v1__profile__descriptor)

bool file_apply_profile_in(const ProtobufCMessage *msg, const char *prefix,
                           json_t **out, check_fail_t *f)
{
    json_t *all = msg ? pbjson_from_message(msg) : json_object();
    const char *why = "not a phone number";
    int rc;

    *out = all ? file_doc_project(all, PROFILE_DESC) : NULL;
    json_decref(all);
    if (*out == NULL)
        abort(); /* out of memory, as svc_alloc() would */
    file_doc_drop_blanks(*out);
    rc = file_doc_set(*out, "contacts.mobileE164", NULL);
    if (rc == KY_OK && (rc = file_ident_normalize(*out, &why)) == KY_OK)
        return true;
    json_decref(*out);
    *out = NULL;
    file_apply_phone_fail(f, prefix, why);
    return false;
}

void file_apply_phone_fail(check_fail_t *f, const char *prefix, const char *why)
{
    snprintf(f->path, sizeof f->path, "%scontacts.mobile", prefix);
    f->code = "invalid_phone";
    f->field = f->path;
    snprintf(f->message, sizeof f->message, "%s: %s", f->path, why);
}

/* The same way to reach someone: same number, same text, e-mail in any case. */
static bool same_way(const char *key, const char *a, const char *b)
{
    char ea[PHONE_E164_MAX], eb[PHONE_E164_MAX];

    if (a == NULL || b == NULL)
        return false;
    if (strcmp(key, "mobile") == 0 &&
        phone_normalize(a, ea, sizeof ea, NULL) == 0 &&
        phone_normalize(b, eb, sizeof eb, NULL) == 0)
        return strcmp(ea, eb) == 0;
    if (strcmp(key, "email") == 0)
        return strcasecmp(a, b) == 0;
    return name_equal(a, b);
}

/* True when contacts holds v as its key or among its others. */
static bool known_way(const json_t *contacts, const char *key, const char *v)
{
    const json_t *others = json_object_get(contacts, "others");

    if (same_way(key, json_string_value(json_object_get(contacts, key)), v))
        return true;
    for (size_t i = 0; i < json_array_size(others); i++)
        if (same_way(key, json_string_value(json_array_get(others, i)), v))
            return true;
    return false;
}

static const char *const WAY_KEYS[] = {"mobile", "wechatId", "email"};

/* True when contacts holds v in any of its fields. */
static bool known_anywhere(const json_t *contacts, const char *v)
{
    for (size_t i = 0; i < 3; i++)
        if (known_way(contacts, WAY_KEYS[i], v))
            return true;
    return false;
}

/*
 * Adds v to p's other contacts. When there are FILE_OTHERS_MAX already, a
 * lead's newer one pushes the oldest out (history keeps it): a source that
 * sends a new e-mail with every lead must not grow a file without end. In
 * a merge (keep) the kept file's own stay, and v is left out.
 */
static int others_add(json_t *p, const json_t *v, bool keep)
{
    json_t *list = file_doc_get(p, "contacts.others");

    if (json_is_array(list) && json_array_size(list) >= FILE_OTHERS_MAX) {
        if (keep)
            return KY_OK;
        json_array_remove(list, 0);
    }
    return file_doc_list_add(p, "contacts.others", v);
}

int file_apply_contact_ways(json_t *p, json_t *profile, bool keep)
{
    json_t *ours = file_doc_get(p, "contacts");
    json_t *theirs = file_doc_get(profile, "contacts");
    json_t *others = json_object_get(theirs, "others");
    int rc = KY_OK;

    for (size_t i = 0; rc == KY_OK && i < 3; i++) {
        json_t *v = json_object_get(theirs, WAY_KEYS[i]);

        if (v == NULL || json_object_get(ours, WAY_KEYS[i]) == NULL)
            continue; /* nothing to keep: the merge fills it */
        if (!known_way(ours, WAY_KEYS[i], json_string_value(v)))
            rc = others_add(p, v, keep);
        json_object_del(theirs, WAY_KEYS[i]);
        if (i == 0)
            json_object_del(theirs, "mobileE164");
    }
    if (ours == NULL || others == NULL)
        return rc; /* nothing to keep: the merge copies them */
    for (size_t i = 0; rc == KY_OK && i < json_array_size(others); i++) {
        const char *v = json_string_value(json_array_get(others, i));

        if (v && !known_anywhere(ours, v))
            rc = others_add(p, json_array_get(others, i), keep);
    }
    json_object_del(theirs, "others"); /* added, not in place of ours */
    return rc;
}

int file_apply_profile(json_t *doc, json_t *profile, char *const *paths,
                       size_t n)
{
    json_t *p = json_object_get(doc, "profile");
    const char *why;
    int rc = KY_OK;

    if (p == NULL && json_object_set_new(doc, "profile", p = json_object()))
        return KY_ENOMEM;
    if (profile && n == 0)
        rc = file_apply_contact_ways(p, profile, false);
    if (profile && rc == KY_OK)
        rc = file_doc_apply(p, profile, PROFILE_DESC, paths, n);
    return rc ? rc : file_ident_normalize(p, &why);
}

int file_apply_lead(json_t *after, const Keyuan__V1__LeadEvent *ev,
                    json_t *profile)
{
    const char *note = json_string_value(json_object_get(after, "note"));
    json_t *source = json_string(ev->source);
    int rc = file_apply_profile(after, profile, NULL, 0);

    if (rc == KY_OK && !file_doc_blank(ev->note) &&
        !name_equal(note, ev->note) &&
        json_object_set_new(after, "note", json_string(ev->note)) != 0)
        rc = KY_ENOMEM;
    if (rc == KY_OK)
        rc = source ? file_doc_list_add(after, "sources", source) : KY_ENOMEM;
    json_decref(source);
    return rc;
}

int file_apply_contact(json_t *after, const Keyuan__V1__ContactLog *ev)
{
    json_t *count = json_object_get(after, "contactCount");
    int64_t at =
        ev->contacted_at ? wire_ts_ms(ev->contacted_at) : clock_now_ms();
    int rc = json_object_set_new(after, "contactCount",
                                 json_integer(json_integer_value(count) + 1));

    if (rc == 0 && at > file_ts_ms(json_object_get(after, "lastContactAt")))
        rc = json_object_set_new(after, "lastContactAt", file_ts_json(at));
    if (rc == 0 && ev->next_step &&
        (*ev->next_step->action || ev->next_step->due_at))
        rc = json_object_set_new(after, "nextStep",
                                 pbjson_from_message(&ev->next_step->base));
    return rc ? KY_ENOMEM : KY_OK;
}

int file_apply_start(json_t *doc, uint64_t id, const char *agent_id,
                     const char *reason)
{
    char idtext[24];
    json_t *start;

    snprintf(idtext, sizeof idtext, "%llu", (unsigned long long)id);
    start = json_pack("{ss so ss ss}", "customerId", idtext, "createdAt",
                      file_ts_json(clock_now_ms()), "agentId", agent_id,
                      "agentReason", reason);
    return json_object_update_new(doc, start) ? KY_ENOMEM : KY_OK;
}
