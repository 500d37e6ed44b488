/* validate.c - field limits and checks for events from outside. */
#include "validate.h"

#include "text.h"

#include <stdio.h>
#include <string.h>

/* The one table of text limits, in Unicode code points. */
static const struct limit {
    const char *field;
    size_t max;
} limits[] = {
    {"source", 64},
    {"sourceEventId", 128},
    {"name", 64},
    {"contacts.mobile", 32},
    {"contacts.wechatId", 64},
    {"contacts.email", 254},
    {"contacts.others", 128},
    {"note", 2000},
    {"agentId", 32},
    {"needs.regionCodes", 6},
    {"needs.floorPreference", 64},
    {"needs.orientationPreference", 64},
    {"needs.decorationPreference", 64},
    {"needs.priorities", 32},
    {"listingId", 64},
    {"city", 32},
    {"district", 32},
    {"districtCode", 6},
    {"bizcircle", 64},
    {"community", 128},
    {"summary", 2000},
    {"feedback", 2000},
    {"nextStep.action", 500},
    {NULL, 0},
};

/* Largest repeated-field sizes. */
#define MAX_REGIONS 16
#define MAX_PRIORITIES 16
#define MAX_OTHER_CONTACTS 8

static size_t limit_of(const char *field)
{
    for (const struct limit *l = limits; l->field; l++)
        if (strcmp(l->field, field) == 0)
            return l->max;
    return 256;
}

static bool fail(check_fail_t *f, const char *code, const char *field,
                 const char *message)
{
    f->code = code;
    f->field = field;
    snprintf(f->message, sizeof f->message, "%s: %s", field, message);
    return false;
}

/* A text field: valid UTF-8, within its limit, present when required. */
static bool check_text(const char *value, const char *field, bool required,
                       check_fail_t *f)
{
    size_t max = limit_of(field);

    if (value == NULL || *value == '\0')
        return required ? fail(f, "missing_field", field, "is required") : true;
    if (!text_valid_utf8(value, strlen(value)))
        return fail(f, "invalid_utf8", field, "is not valid UTF-8");
    if (text_codepoints(value) > max) {
        fail(f, "too_long", field, "");
        snprintf(f->message, sizeof f->message,
                 "%s: longer than %zu characters", field, max);
        return false;
    }
    if (required && text_blank(value))
        return fail(f, "missing_field", field, "is blank");
    return true;
}

static bool check_list(char **values, size_t n, size_t max, const char *field,
                       check_fail_t *f)
{
    if (n > max) {
        fail(f, "too_many", field, "");
        snprintf(f->message, sizeof f->message, "%s: more than %zu entries",
                 field, max);
        return false;
    }
    for (size_t i = 0; i < n; i++)
        if (!check_text(values[i], field, true, f))
            return false;
    return true;
}

static bool is_digits(const char *s, size_t len)
{
    if (strlen(s) != len)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

static bool check_needs(const Keyuan__V1__Needs *n, check_fail_t *f)
{
    if (n == NULL)
        return true;
    if (!check_list(n->region_codes, n->n_region_codes, MAX_REGIONS,
                    "needs.regionCodes", f) ||
        !check_list(n->priorities, n->n_priorities, MAX_PRIORITIES,
                    "needs.priorities", f) ||
        !check_text(n->floor_preference, "needs.floorPreference", false, f) ||
        !check_text(n->orientation_preference, "needs.orientationPreference",
                    false, f) ||
        !check_text(n->decoration_preference, "needs.decorationPreference",
                    false, f))
        return false;
    for (size_t i = 0; i < n->n_region_codes; i++)
        if (!is_digits(n->region_codes[i], 6))
            return fail(f, "invalid_region", "needs.regionCodes",
                        "must be six-digit division codes like 110105");
    if (n->budget_max_wan && n->budget_min_wan > n->budget_max_wan)
        return fail(f, "invalid_range", "needs.budgetMinWan",
                    "is above needs.budgetMaxWan");
    if (n->area_max_m2 && n->area_min_m2 > n->area_max_m2)
        return fail(f, "invalid_range", "needs.areaMinM2",
                    "is above needs.areaMaxM2");
    if (n->timeline_months > 120)
        return fail(f, "out_of_range", "needs.timelineMonths",
                    "must be at most 120 months");
    return true;
}

static bool check_contacts(const Keyuan__V1__Contacts *c, check_fail_t *f)
{
    if (c == NULL || ((c->mobile == NULL || !*c->mobile) &&
                      (c->wechat_id == NULL || !*c->wechat_id) &&
                      (c->email == NULL || !*c->email)))
        return fail(f, "missing_field", "contacts",
                    "needs a mobile, a WeChat id or an e-mail");
    if (!check_text(c->mobile, "contacts.mobile", false, f) ||
        !check_text(c->wechat_id, "contacts.wechatId", false, f) ||
        !check_text(c->email, "contacts.email", false, f) ||
        !check_list(c->others, c->n_others, MAX_OTHER_CONTACTS,
                    "contacts.others", f))
        return false;
    if (c->email && *c->email && strchr(c->email, '@') == NULL)
        return fail(f, "invalid_email", "contacts.email", "has no '@'");
    return true;
}

bool check_lead(const Keyuan__V1__LeadEvent *ev, check_fail_t *f)
{
    return check_text(ev->source, "source", true, f) &&
           check_text(ev->source_event_id, "sourceEventId", true, f) &&
           check_text(ev->name, "name", false, f) &&
           check_text(ev->note, "note", false, f) &&
           check_text(ev->agent_id, "agentId", false, f) &&
           check_contacts(ev->contacts, f) && check_needs(ev->needs, f);
}

bool check_listing(const Keyuan__V1__ListingEvent *ev, check_fail_t *f)
{
    if (!check_text(ev->source, "source", true, f) ||
        !check_text(ev->listing_id, "listingId", true, f) ||
        !check_text(ev->source_event_id, "sourceEventId", false, f) ||
        !check_text(ev->city, "city", false, f) ||
        !check_text(ev->district, "district", false, f) ||
        !check_text(ev->district_code, "districtCode", false, f) ||
        !check_text(ev->bizcircle, "bizcircle", false, f) ||
        !check_text(ev->community, "community", false, f))
        return false;
    if (ev->district_code && *ev->district_code &&
        !is_digits(ev->district_code, 6))
        return fail(f, "invalid_region", "districtCode",
                    "must be a six-digit division code");
    if (!(ev->area_m2 > 0 && ev->area_m2 < 100000))
        return fail(f, "out_of_range", "areaM2", "must be above 0");
    if (!(ev->total_price_wan > 0 && ev->total_price_wan < 10000000))
        return fail(f, "out_of_range", "totalPriceWan", "must be above 0");
    return true;
}

bool check_contact(const Keyuan__V1__ContactLog *ev, check_fail_t *f)
{
    if (!check_text(ev->source, "source", true, f) ||
        !check_text(ev->source_event_id, "sourceEventId", true, f) ||
        !check_text(ev->agent_id, "agentId", false, f) ||
        !check_text(ev->summary, "summary", false, f) ||
        !check_text(ev->feedback, "feedback", false, f))
        return false;
    if (ev->customer_id == 0)
        return fail(f, "missing_field", "customerId", "is required");
    if (ev->next_step &&
        !check_text(ev->next_step->action, "nextStep.action", false, f))
        return false;
    return true;
}
