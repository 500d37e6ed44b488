/*
 * validate.c - field limits and checks for events from outside.
 *
 * Text first: one walk over a message's descriptor checks every string
 * (valid UTF-8, no NUL, within its limit) and every list (entries) against
 * the table below, and that every enum holds a value this build knows. Then the
 * rules a table cannot say: required fields, ranges, codes, dates and update
 * paths.
 */
#include "validate.h"

#include "file_doc.h"
#include "regions.h"
#include "text.h"
#include "wire.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/*
 * The one table of limits. A field is found by its JSON path, or by the
 * path's tail after any leading segments, so "name" also limits a
 * ProfileUpdate's "profile.name" and "needs.priorities" a contact's
 * "changes.needs.priorities". max counts Unicode code points of one
 * value; entries, where not 0, the values of a list. No value may hold
 * control characters (they forge log lines and rewrite operators'
 * terminals); free text may hold line breaks and tabs.
 */
static const struct limit {
    const char *field;
    size_t max;
    size_t entries;
    bool multiline; /* free text: may hold line breaks and tabs */
} limits[] = {
    {"source", 64, 0},
    {"sourceEventId", 128, 0},
    {"agentId", 32, 0},
    {"operatorId", 64, 0},
    {"name", 64, 0},
    {"occupation", 64, 0},
    {"employer", 128, 0},
    {"contacts.mobile", 32, 0},
    {"contacts.mobileE164", 24, 0},
    {"contacts.wechatId", 64, 0},
    {"contacts.email", 254, 0},
    {"contacts.others", 128, 8},
    {"household.children", 0, 10},
    {"household.children.note", 64, 0},
    {"decision.decisionMaker", 32, 0},
    {"decision.influencers", 32, 8},
    {"lifestyle", 2000, 0, true},
    {"hobbies", 32, 16},
    {"consent.note", 500, 0, true},
    {"note", 2000, 0, true},
    {"needs.regionCodes", 6, 16},
    {"needs.floorPreference", 64, 0},
    {"needs.orientationPreference", 64, 0},
    {"needs.decorationPreference", 64, 0},
    {"needs.priorities", 32, 16},
    {"paths", 128, 32},
    {"changePaths", 128, 32},
    {"listingId", 64, 0},
    {"city", 32, 0},
    {"district", 32, 0},
    {"districtCode", 6, 0},
    {"bizcircle", 64, 0},
    {"community", 128, 0},
    {"floorLevel", 32, 0},
    {"orientation", 32, 0},
    {"decoration", 32, 0},
    {"buildingType", 32, 0},
    {"summary", 2000, 0, true},
    {"feedback", 2000, 0, true},
    {"nextStep.action", 500, 0, true},
    {NULL, 0, 0},
};

/* For a field the table does not name. */
static const struct limit fallback = {"", 256, 16};

/* Largest age, household and child's age that make sense. */
#define MAX_AGE 150
#define MAX_HOUSEHOLD 50
#define MAX_CHILD_AGE 80

static const struct limit *limit_search(const char *path)
{
    for (const char *p = path; p; p = strchr(p, '.'), p = p ? p + 1 : p)
        for (const struct limit *l = limits; l->field; l++)
            if (strcmp(l->field, p) == 0)
                return l;
    return &fallback;
}

/*
 * The limit of the field at path: its entry in the table, tried for the
 * whole path, then without its first part, and so on. Answers are kept
 * by path, since the search (up to a table scan per part) ran for every
 * text field of every event. The few paths the protos have fit; a path
 * that finds its slot taken is searched again, no harm done. (One
 * thread checks events: intake's loop, or keyuanctl.)
 */
static const struct limit *limit_of(const char *path)
{
    static struct {
        char path[FILE_DOC_PATH_MAX];
        const struct limit *limit;
    } known[128];
    uint32_t h = 2166136261u;
    size_t len = strlen(path), slot;

    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)path[i]) * 16777619u;
    slot = h % (sizeof known / sizeof known[0]);
    if (known[slot].limit && strcmp(known[slot].path, path) == 0)
        return known[slot].limit;
    if (len < sizeof known[slot].path) {
        memcpy(known[slot].path, path, len + 1);
        known[slot].limit = limit_search(path);
        return known[slot].limit;
    }
    return limit_search(path);
}

/* Names prefix + field in *f and says what is wrong. Returns false. */
static bool fail_at(check_fail_t *f, const char *code, const char *prefix,
                    const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static bool fail_at(check_fail_t *f, const char *code, const char *prefix,
                    const char *field, const char *fmt, ...)
{
    va_list ap;
    int n;

    snprintf(f->path, sizeof f->path, "%s%s", prefix, field);
    f->code = code;
    f->field = f->path;
    n = snprintf(f->message, sizeof f->message, "%s: ", f->path);
    va_start(ap, fmt);
    vsnprintf(f->message + n, sizeof f->message - (size_t)n, fmt, ap);
    va_end(ap);
    text_cut_tail(f->message); /* a reply must be valid UTF-8 */
    return false;
}

/*
 * A text value: valid UTF-8, within lim's length, without control
 * characters, present when required. path names it in a failure. A list's
 * entries are all required: in_list words the failure for one of them.
 */
static bool check_value(const char *value, const struct limit *lim,
                        const char *path, bool required, bool in_list,
                        check_fail_t *f)
{
    text_scan_t scan;

    if (value == NULL || *value == '\0')
        return required
                   ? fail_at(f, "missing_field", "", path,
                             in_list ? "holds an empty entry" : "is required")
                   : true;
    text_scan(value, strlen(value), lim->multiline, &scan);
    if (!scan.valid)
        return fail_at(f, "invalid_utf8", "", path, "is not valid UTF-8");
    if (scan.codepoints > lim->max)
        return fail_at(f, "too_long", "", path, "longer than %zu characters",
                       lim->max);
    if (scan.controls)
        return fail_at(f, "control_character", "", path,
                       lim->multiline
                           ? "holds a control character other than a line "
                             "break or tab"
                           : "holds a control character or line break");
    if (required && text_blank(value))
        return fail_at(f, "missing_field", "", path,
                       in_list ? "holds a blank entry" : "is blank");
    return true;
}

static bool check_text(const char *value, const char *path, bool required,
                       check_fail_t *f)
{
    return check_value(value, limit_of(path), path, required, false, f);
}

/* ---- the walk over every text field --------------------------------- */

/*
 * A field as the walk meets it: its JSON path and its limit. Both are
 * worked out once per field descriptor under a given parent and kept:
 * naming the path and searching the table ran for every field of every
 * event. The protos have a few hundred such paths; past the table's size
 * a node is worked out each time, in the caller's scratch node. (One
 * thread checks events: intake's loop, or keyuanctl.)
 */
typedef struct field_node {
    const struct field_node *parent; /* NULL at the top */
    const ProtobufCFieldDescriptor *fd;
    const struct limit *limit;
    char path[FILE_DOC_PATH_MAX]; /* "" when too long: never, in practice */
} field_node_t;

#define FIELD_NODES 1024

static field_node_t field_nodes[FIELD_NODES];

static bool node_kept(const field_node_t *n)
{
    return n >= field_nodes && n < field_nodes + FIELD_NODES;
}

/* Writes the path and limit of fd under parent into n. */
static void node_fill(field_node_t *n, const field_node_t *parent,
                      const ProtobufCFieldDescriptor *fd)
{
    char name[FILE_DOC_PATH_MAX];
    size_t lp = parent ? strlen(parent->path) : 0, ln;

    file_doc_json_name(fd->name, name, sizeof name);
    ln = strlen(name);
    n->parent = parent;
    n->fd = fd;
    if (lp + 1 + ln + 1 > sizeof n->path) {
        n->path[0] = '\0';
    } else {
        if (lp) {
            memcpy(n->path, parent->path, lp);
            n->path[lp++] = '.';
        }
        memcpy(n->path + lp, name, ln + 1);
    }
    n->limit = limit_search(n->path);
}

/* The node of fd under parent: kept, or worked out in scratch. */
static const field_node_t *node_of(const field_node_t *parent,
                                   const ProtobufCFieldDescriptor *fd,
                                   field_node_t *scratch)
{
    uintptr_t h = ((uintptr_t)parent >> 4) * 31 + ((uintptr_t)fd >> 3);

    if (parent == NULL || node_kept(parent))
        for (size_t i = 0; i < 8; i++) {
            field_node_t *n = &field_nodes[(h + i) % FIELD_NODES];

            if (n->fd == fd && n->parent == parent)
                return n;
            if (n->fd == NULL) {
                node_fill(n, parent, fd);
                return n;
            }
        }
    node_fill(scratch, parent, fd);
    return scratch;
}

static bool walk(const ProtobufCMessage *msg, const field_node_t *parent,
                 check_fail_t *f);

static bool walk_field(const ProtobufCMessage *msg, const field_node_t *node,
                       check_fail_t *f)
{
    const ProtobufCFieldDescriptor *fd = node->fd;
    const char *base = (const char *)msg;
    bool repeated = fd->label == PROTOBUF_C_LABEL_REPEATED;
    size_t n = repeated ? *(const size_t *)(base + fd->quantifier_offset) : 1;
    void *const *values = repeated ? *(void *const *const *)(base + fd->offset)
                                   : (void *const *)(base + fd->offset);
    size_t max = node->limit->entries ? node->limit->entries : fallback.entries;

    if (node->path[0] == '\0')
        return fail_at(f, "too_deep", "", fd->name, "is nested too deep");
    if (repeated && n > max)
        return fail_at(f, "too_many", "", node->path, "more than %zu entries",
                       max);
    for (size_t i = 0; i < n; i++) {
        if (fd->type == PROTOBUF_C_TYPE_STRING &&
            !check_value(values[i], node->limit, node->path, repeated, repeated,
                         f))
            return false;
        if (fd->type == PROTOBUF_C_TYPE_MESSAGE && values[i] &&
            fd->descriptor == &google__protobuf__timestamp__descriptor) {
            if (!wire_ts_valid(values[i]))
                return fail_at(f, "out_of_range", "", node->path,
                               "is not a time between years 1 and 9999");
            continue;
        }
        if (fd->type == PROTOBUF_C_TYPE_MESSAGE && values[i] &&
            !walk(values[i], node, f))
            return false;
    }
    return true;
}

/* True when a string or message field holds nothing: "", NULL or []. */
static bool field_empty(const ProtobufCMessage *msg,
                        const ProtobufCFieldDescriptor *fd)
{
    const char *base = (const char *)msg;
    const char *value = *(const char *const *)(base + fd->offset);

    if (fd->label == PROTOBUF_C_LABEL_REPEATED)
        return *(const size_t *)(base + fd->quantifier_offset) == 0;
    if (fd->type == PROTOBUF_C_TYPE_STRING)
        return value == NULL || *value == '\0';
    return value == NULL;
}

/*
 * An enum field's values must be ones this build knows: protobuf-c keeps
 * any number it reads, and a stage or purpose no rule can read would be
 * stored as if it meant something.
 */
static bool check_enum(const ProtobufCMessage *msg,
                       const ProtobufCFieldDescriptor *fd,
                       const field_node_t *parent, check_fail_t *f)
{
    const char *base = (const char *)msg;
    bool repeated = fd->label == PROTOBUF_C_LABEL_REPEATED;
    size_t n = repeated ? *(const size_t *)(base + fd->quantifier_offset) : 1;
    const int *values = repeated ? *(const int *const *)(base + fd->offset)
                                 : (const int *)(base + fd->offset);
    field_node_t scratch;

    for (size_t i = 0; i < n; i++)
        if (protobuf_c_enum_descriptor_get_value(fd->descriptor, values[i]) ==
            NULL)
            return fail_at(f, "unknown_value", "",
                           node_of(parent, fd, &scratch)->path,
                           "is %d, not a value this version knows", values[i]);
    return true;
}

static bool walk(const ProtobufCMessage *msg, const field_node_t *parent,
                 check_fail_t *f)
{
    const ProtobufCMessageDescriptor *d = msg->descriptor;

    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *fd = &d->fields[i];
        field_node_t scratch;

        if (fd->type == PROTOBUF_C_TYPE_ENUM) {
            if (!check_enum(msg, fd, parent, f))
                return false;
            continue;
        }
        if (fd->type != PROTOBUF_C_TYPE_STRING &&
            fd->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        if (field_empty(msg, fd))
            continue; /* nothing to check: skip naming its path */
        if (!walk_field(msg, node_of(parent, fd, &scratch), f))
            return false;
    }
    return true;
}

bool check_text_fields(const ProtobufCMessage *msg, check_fail_t *f)
{
    return walk(msg, NULL, f);
}

/* ---- rules beyond text ---------------------------------------------- */

static bool is_digits(const char *s, size_t len)
{
    if (strlen(s) != len)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

/* The official division codes, once validate_use_regions() set them. */
static const regions_t *known_regions;

void validate_use_regions(const regions_t *r)
{
    known_regions = r;
}

/* Why code is no division code, or NULL when it is one. */
static const char *region_fault(const char *code)
{
    if (!is_digits(code, 6))
        return "must be six-digit division codes like 110105";
    if (known_regions && !regions_known(known_regions, code))
        return "names no division in intake's list of division codes";
    return NULL;
}

static bool check_needs(const Keyuan__V1__Needs *n, const char *prefix,
                        check_fail_t *f)
{
    const char *why;

    if (n == NULL)
        return true;
    for (size_t i = 0; i < n->n_region_codes; i++)
        if ((why = region_fault(n->region_codes[i])) != NULL)
            return fail_at(f, "invalid_region", prefix, "needs.regionCodes",
                           "%s", why);
    if (n->budget_max_wan && n->budget_min_wan > n->budget_max_wan)
        return fail_at(f, "invalid_range", prefix, "needs.budgetMinWan",
                       "is above needs.budgetMaxWan");
    if (n->area_max_m2 && n->area_min_m2 > n->area_max_m2)
        return fail_at(f, "invalid_range", prefix, "needs.areaMinM2",
                       "is above needs.areaMaxM2");
    if (n->timeline_months > 120)
        return fail_at(f, "out_of_range", prefix, "needs.timelineMonths",
                       "must be at most 120 months");
    return true;
}

static bool is_leap(int32_t y)
{
    return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

/*
 * A birthday: a year from 1900 to 2100 or 0 (not known), a month and a
 * day that exist (a solar 29 February only in leap years or with no year;
 * lunar months have 29 or 30 days), and a leap month only if lunar.
 */
static bool check_birthday(const Keyuan__V1__CivilDate *d, const char *prefix,
                           check_fail_t *f)
{
    static const int days[12] = {31, 29, 31, 30, 31, 30,
                                 31, 31, 30, 31, 30, 31};
    int max;

    if (d == NULL)
        return true;
    if (d->year != 0 && (d->year < 1900 || d->year > 2100))
        return fail_at(f, "out_of_range", prefix, "birthday.year",
                       "must be from 1900 to 2100, or 0 if not known");
    if (d->month < 1 || d->month > 12)
        return fail_at(f, "out_of_range", prefix, "birthday.month",
                       "must be from 1 to 12");
    max = d->lunar ? 30 : days[d->month - 1];
    if (!d->lunar && d->month == 2 && d->year && !is_leap(d->year))
        max = 28;
    if (d->day < 1 || d->day > max)
        return fail_at(f, "out_of_range", prefix, "birthday.day",
                       "must be from 1 to %d in that month", max);
    if (d->leap_month && !d->lunar)
        return fail_at(f, "invalid_date", prefix, "birthday.leapMonth",
                       "is only for lunar dates");
    return true;
}

static bool check_household(const Keyuan__V1__Household *h, const char *prefix,
                            check_fail_t *f)
{
    if (h == NULL)
        return true;
    if (h->size > MAX_HOUSEHOLD)
        return fail_at(f, "out_of_range", prefix, "household.size",
                       "must be at most %d", MAX_HOUSEHOLD);
    for (size_t i = 0; i < h->n_children; i++)
        if (h->children[i]->age > MAX_CHILD_AGE)
            return fail_at(f, "out_of_range", prefix, "household.children.age",
                           "must be at most %d", MAX_CHILD_AGE);
    return true;
}

static bool check_email(const Keyuan__V1__Contacts *c, const char *prefix,
                        check_fail_t *f)
{
    if (c && c->email && *c->email && strchr(c->email, '@') == NULL)
        return fail_at(f, "invalid_email", prefix, "contacts.email",
                       "has no '@'");
    return true;
}

/* The parts of a profile that LeadEvent and Profile both have. */
typedef struct person_parts {
    uint32_t age;
    const Keyuan__V1__CivilDate *birthday;
    const Keyuan__V1__Household *household;
    const Keyuan__V1__Contacts *contacts;
    const Keyuan__V1__Needs *needs;
} person_parts_t;

static bool check_parts(const person_parts_t *p, const char *prefix,
                        check_fail_t *f)
{
    if (p->age > MAX_AGE)
        return fail_at(f, "out_of_range", prefix, "age", "must be at most %d",
                       MAX_AGE);
    return check_birthday(p->birthday, prefix, f) &&
           check_household(p->household, prefix, f) &&
           check_email(p->contacts, prefix, f) &&
           check_needs(p->needs, prefix, f);
}

static bool check_profile(const Keyuan__V1__Profile *p, const char *prefix,
                          check_fail_t *f)
{
    person_parts_t parts;

    if (p == NULL)
        return true;
    parts = (person_parts_t){p->age, p->birthday, p->household, p->contacts,
                             p->needs};
    return check_parts(&parts, prefix, f);
}

/*
 * Update paths name fields of the profile; contacts.mobileE164 is
 * intake's to set, so it cannot be named.
 */
static bool check_paths(char **paths, size_t n, const char *field,
                        check_fail_t *f)
{
    char canon[FILE_DOC_PATH_MAX];

    for (size_t i = 0; i < n; i++)
        if (file_doc_path_check(&keyuan__v1__profile__descriptor, paths[i],
                                canon, sizeof canon) != 0 ||
            strcmp(canon, "contacts.mobileE164") == 0)
            return fail_at(f, "invalid_path", "", field,
                           "\"%.*s\" is not a field of the profile that "
                           "can be set",
                           (int)text_prefix(paths[i], 60), paths[i]);
    return true;
}

static bool check_event_ids(const char *source, const char *event_id,
                            check_fail_t *f)
{
    return check_text(source, "source", true, f) &&
           check_text(event_id, "sourceEventId", true, f);
}

bool check_lead(const Keyuan__V1__LeadEvent *ev, check_fail_t *f)
{
    const Keyuan__V1__Contacts *c = ev->contacts;
    person_parts_t parts = {ev->age, ev->birthday, ev->household, c, ev->needs};

    if (!check_event_ids(ev->source, ev->source_event_id, f) ||
        !check_text_fields(&ev->base, f))
        return false;
    if (c == NULL || ((c->mobile == NULL || !*c->mobile) &&
                      (c->wechat_id == NULL || !*c->wechat_id) &&
                      (c->email == NULL || !*c->email)))
        return fail_at(f, "missing_field", "", "contacts",
                       "needs a mobile, a WeChat id or an e-mail");
    return check_parts(&parts, "", f);
}

bool check_listing(const Keyuan__V1__ListingEvent *ev, check_fail_t *f)
{
    const char *why;

    if (!check_text(ev->source, "source", true, f) ||
        !check_text(ev->listing_id, "listingId", true, f) ||
        !check_text_fields(&ev->base, f))
        return false;
    if (ev->district_code && *ev->district_code &&
        (why = region_fault(ev->district_code)) != NULL)
        return fail_at(f, "invalid_region", "", "districtCode", "%s", why);
    /* The same ranges grading keeps listings in (inventory.c), so that a
     * listing intake accepts is never dropped downstream. */
    if (!(ev->area_m2 >= 1 && ev->area_m2 <= 100000))
        return fail_at(f, "out_of_range", "", "areaM2",
                       "must be from 1 to 100000 m2");
    if (!(ev->total_price_wan > 0 && ev->total_price_wan <= 1000000))
        return fail_at(f, "out_of_range", "", "totalPriceWan",
                       "must be above 0 and at most 1000000 (10k yuan)");
    if (!(ev->unit_price_yuan_m2 >= 0 && ev->unit_price_yuan_m2 <= 1e8))
        return fail_at(f, "out_of_range", "", "unitPriceYuanM2",
                       "must be from 0 (derive it) to 100000000");
    if (ev->total_price_wan * 10000.0 / ev->area_m2 > 1e8)
        return fail_at(f, "out_of_range", "", "totalPriceWan",
                       "gives a price per m2 above 100000000 yuan");
    return true;
}

bool check_contact(const Keyuan__V1__ContactLog *ev, check_fail_t *f)
{
    if (!check_event_ids(ev->source, ev->source_event_id, f) ||
        !check_text_fields(&ev->base, f))
        return false;
    if (ev->customer_id == 0)
        return fail_at(f, "missing_field", "", "customerId", "is required");
    return check_profile(ev->changes, "changes.", f) &&
           check_paths(ev->change_paths, ev->n_change_paths, "changePaths", f);
}

bool check_profile_update(const Keyuan__V1__ProfileUpdate *u, check_fail_t *f)
{
    if (!check_event_ids(u->source, u->source_event_id, f) ||
        !check_text_fields(&u->base, f))
        return false;
    if (u->customer_id == 0)
        return fail_at(f, "missing_field", "", "customerId", "is required");
    return check_profile(u->profile, "profile.", f) &&
           check_paths(u->paths, u->n_paths, "paths", f);
}

/* A number of a needs object, 0 when absent. */
static json_int_t needs_number(const json_t *needs, const char *key)
{
    return json_integer_value(json_object_get(needs, key));
}

bool check_file_needs(const json_t *doc, check_fail_t *f)
{
    const json_t *needs =
        json_object_get(json_object_get(doc, "profile"), "needs");
    json_int_t bmin = needs_number(needs, "budgetMinWan");
    json_int_t bmax = needs_number(needs, "budgetMaxWan");
    json_int_t amin = needs_number(needs, "areaMinM2");
    json_int_t amax = needs_number(needs, "areaMaxM2");

    if (bmax && bmin > bmax)
        return fail_at(f, "invalid_range", "", "needs.budgetMinWan",
                       "would be %lld, above the file's needs.budgetMaxWan "
                       "%lld",
                       (long long)bmin, (long long)bmax);
    if (amax && amin > amax)
        return fail_at(f, "invalid_range", "", "needs.areaMinM2",
                       "would be %lld, above the file's needs.areaMaxM2 "
                       "%lld",
                       (long long)amin, (long long)amax);
    return true;
}
