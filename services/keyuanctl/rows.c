/*
 * rows.c - CSV rows to LeadEvent and ListingEvent (see rows.h).
 *
 * Each file type is one table of columns: the header names it accepts, the
 * field it fills (an offset into ctl_lead_t, ctl_listing_t or
 * ctl_contact_t) and how the cell is read. One generic loop fills any
 * event from its table, so a new column is one line here.
 */
#include "rows.h"

#include "err.h"
#include "out.h"
#include "parse.h"
#include "text.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum col_kind {
    COL_SKIP, /* a known column with no field: ignored quietly */
    COL_STR,
    COL_UINT,   /* uint32, empty is 0 */
    COL_YEARS,  /* an age: uint32 0..CTL_MAX_AGE, "35岁" too */
    COL_ID,     /* uint64 above 0 */
    COL_DOUBLE, /* empty is 0 */
    COL_PURPOSE,
    COL_STAGE,
    COL_CHANNEL,
    COL_TIME,    /* a Timestamp, linked into the event when given */
    COL_DATE,    /* a CivilDate, linked into the event when given */
    COL_LIST,    /* a repeated string */
    COL_AGES,    /* household.children of a lead, by their ages */
    COL_BOOL,    /* empty is false */
    COL_CONSENT, /* a bool of a lead's Consent; empty is "not said" */
};

/* Ages above this are typing errors, whatever intake's limits are. */
#define CTL_MAX_AGE 150

struct ctl_column {
    const char *names; /* accepted header names, '|' between them */
    const char *path;  /* proto3 JSON path of the field, for errors */
    enum col_kind kind;
    size_t offset;    /* the field in ctl_lead_t / ctl_listing_t / ... */
    size_t also;      /* COL_STR: a second string field; COL_TIME and
                         COL_DATE: the event's pointer to the value;
                         COL_LIST: the list's n_ count; 0: none */
    bool need_column; /* the header must have this column */
    bool need_value;  /* a row must have a value (numbers: above 0) */
    size_t store;     /* COL_LIST: the array that holds the items */
};

#define L(f) offsetof(ctl_lead_t, f)
static const ctl_column_t lead_columns[] = {
    {"source|来源", "source", COL_STR, L(ev.source)},
    {"source_event_id|来源编号", "sourceEventId", COL_STR,
     L(ev.source_event_id), 0, true, false},
    {"occurred_at|时间", "occurredAt", COL_TIME, L(occurred_at),
     L(ev.occurred_at)},
    {"name|姓名", "name", COL_STR, L(ev.name)},
    {"mobile|手机", "contacts.mobile", COL_STR, L(contacts.mobile)},
    {"wechat_id|微信", "contacts.wechatId", COL_STR, L(contacts.wechat_id)},
    {"email|邮箱", "contacts.email", COL_STR, L(contacts.email)},
    {"purpose|购房目的", "needs.purpose", COL_PURPOSE, L(needs.purpose)},
    {"bedrooms|室", "needs.bedrooms", COL_UINT, L(needs.bedrooms)},
    {"living_rooms|厅", "needs.livingRooms", COL_UINT, L(needs.living_rooms)},
    {"area_min_m2|最小面积", "needs.areaMinM2", COL_UINT, L(needs.area_min_m2)},
    {"area_max_m2|最大面积", "needs.areaMaxM2", COL_UINT, L(needs.area_max_m2)},
    {"region_codes|意向区域", "needs.regionCodes", COL_LIST,
     L(needs.region_codes), L(needs.n_region_codes), false, false, L(regions)},
    {"budget_min_wan|最低预算(万)", "needs.budgetMinWan", COL_UINT,
     L(needs.budget_min_wan)},
    {"budget_max_wan|最高预算(万)", "needs.budgetMaxWan", COL_UINT,
     L(needs.budget_max_wan)},
    {"timeline_months|购房时间(月)", "needs.timelineMonths", COL_UINT,
     L(needs.timeline_months)},
    {"stage|阶段", "needs.stage", COL_STAGE, L(needs.stage)},
    {"note|备注", "note", COL_STR, L(ev.note)},
    {"agent_id|经纪人", "agentId", COL_STR, L(ev.agent_id)},
    {"age|年龄", "age", COL_YEARS, L(ev.age)},
    {"household_size|家庭人数", "household.size", COL_UINT, L(household.size)},
    {"children_ages|子女年龄", "household.children", COL_AGES},
    {"occupation|职业", "occupation", COL_STR, L(ev.occupation)},
    {"employer|工作单位", "employer", COL_STR, L(ev.employer)},
    {"decision_maker|决策人", "decision.decisionMaker", COL_STR,
     L(decision.decision_maker)},
    {"influencers|参考意见", "decision.influencers", COL_LIST,
     L(decision.influencers), L(decision.n_influencers), false, false,
     L(influencers)},
    {"lifestyle|生活习惯", "lifestyle", COL_STR, L(ev.lifestyle)},
    {"hobbies|爱好", "hobbies", COL_LIST, L(ev.hobbies), L(ev.n_hobbies), false,
     false, L(hobbies)},
    {"consent|contact_allowed|同意联系", "consent.contactAllowed", COL_CONSENT,
     L(consent.contact_allowed)},
    {"do_not_disturb|免打扰", "consent.doNotDisturb", COL_CONSENT,
     L(consent.do_not_disturb)},
    {"birthday|生日", "birthday", COL_DATE, L(birthday), L(ev.birthday)},
    {"priorities|关注点", "needs.priorities", COL_LIST, L(needs.priorities),
     L(needs.n_priorities), false, false, L(priorities)},
    {"floor_preference|楼层", "needs.floorPreference", COL_STR,
     L(needs.floor_preference)},
    {"orientation_preference|朝向", "needs.orientationPreference", COL_STR,
     L(needs.orientation_preference)},
    {"decoration_preference|装修", "needs.decorationPreference", COL_STR,
     L(needs.decoration_preference)},
    {NULL, NULL, COL_SKIP}};
#undef L

#define S(f) offsetof(ctl_listing_t, f)
static const ctl_column_t listing_columns[] = {
    {"row_id|listing_id", "listingId", COL_STR, S(ev.listing_id),
     S(ev.source_event_id), true, false},
    {"city", "city", COL_STR, S(ev.city), 0, false, false},
    {"district", "district", COL_STR, S(ev.district), 0, false, false},
    {"district_code", "districtCode", COL_STR, S(ev.district_code), 0, false,
     false},
    {"bizcircle", "bizcircle", COL_STR, S(ev.bizcircle), 0, false, false},
    {"community", "community", COL_STR, S(ev.community), 0, false, false},
    {"bedrooms", "bedrooms", COL_UINT, S(ev.bedrooms), 0, false, false},
    {"living_rooms", "livingRooms", COL_UINT, S(ev.living_rooms), 0, false,
     false},
    {"area_m2", "areaM2", COL_DOUBLE, S(ev.area_m2), 0, true, true},
    {"total_price_wan", "totalPriceWan", COL_DOUBLE, S(ev.total_price_wan), 0,
     true, true},
    {"unit_price_yuan_m2", "unitPriceYuanM2", COL_DOUBLE,
     S(ev.unit_price_yuan_m2), 0, false, false},
    {"floor_level", "floorLevel", COL_STR, S(ev.floor_level), 0, false, false},
    {"total_floors", "totalFloors", COL_UINT, S(ev.total_floors), 0, false,
     false},
    {"orientation", "orientation", COL_STR, S(ev.orientation), 0, false, false},
    {"decoration", "decoration", COL_STR, S(ev.decoration), 0, false, false},
    {"building_type", "buildingType", COL_STR, S(ev.building_type), 0, false,
     false},
    {"build_year", "buildYear", COL_UINT, S(ev.build_year), 0, false, false},
    {"snapshot|listed_at", "listedAt", COL_TIME, S(listed_at), S(ev.listed_at),
     false, false},
    {"withdrawn", "withdrawn", COL_BOOL, S(ev.withdrawn), 0, false, false},
    {"layout|unit_price_derived|elevator|source", "", COL_SKIP, 0, 0, false,
     false},
    {NULL, NULL, COL_SKIP, 0, 0, false, false}};
#undef S

#define C(f) offsetof(ctl_contact_t, f)
static const ctl_column_t contact_columns[] = {
    {"source|来源", "source", COL_STR, C(ev.source)},
    {"source_event_id|来源编号", "sourceEventId", COL_STR,
     C(ev.source_event_id), 0, true, false},
    {"customer_id|客户编号|客户id", "customerId", COL_ID, C(ev.customer_id), 0,
     true, true},
    {"agent_id|经纪人", "agentId", COL_STR, C(ev.agent_id)},
    {"contacted_at|沟通时间|时间", "contactedAt", COL_TIME, C(contacted_at),
     C(ev.contacted_at)},
    {"channel|方式|沟通方式", "channel", COL_CHANNEL, C(ev.channel)},
    {"summary|内容|沟通内容", "summary", COL_STR, C(ev.summary)},
    {"feedback|客户反馈|反馈", "feedback", COL_STR, C(ev.feedback)},
    {"next_step|下一步", "nextStep.action", COL_STR, C(next_step.action)},
    {"next_at|下一步时间", "nextStep.dueAt", COL_TIME, C(next_at),
     C(next_step.due_at)},
    {NULL, NULL, COL_SKIP}};
#undef C

/* --- header ---------------------------------------------------------- */

/*
 * A header name in the form names are compared in: ASCII lower case
 * without '_', '-' and spaces (so sourceEventId matches source_event_id),
 * full-width brackets as ASCII ones.
 */
static void name_key(const char *s, size_t len, char *out, size_t outlen)
{
    size_t n = 0;

    for (size_t i = 0; i < len && n + 1 < outlen; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == 0xEF && i + 2 < len && (unsigned char)s[i + 1] == 0xBC &&
            ((unsigned char)s[i + 2] == 0x88 ||
             (unsigned char)s[i + 2] == 0x89)) {
            out[n++] = (unsigned char)s[i + 2] == 0x88 ? '(' : ')';
            i += 2;
        } else if (c != '_' && c != '-' && !isspace(c)) {
            out[n++] = (char)tolower(c);
        }
    }
    out[n] = '\0';
}

/* True when header cell key (a name_key) is one of c's names. */
static bool column_has(const ctl_column_t *c, const char *key)
{
    const char *p = c->names;

    while (*p) {
        size_t len = strcspn(p, "|");
        char alias[96];

        name_key(p, len, alias, sizeof alias);
        if (strcmp(alias, key) == 0)
            return true;
        p += len + (p[len] == '|');
    }
    return false;
}

static const ctl_column_t *column_find(const ctl_column_t *table,
                                       const char *cell)
{
    char key[96];

    name_key(cell, strlen(cell), key, sizeof key);
    for (; table->names; table++)
        if (column_has(table, key))
            return table;
    return NULL;
}

/* The first of a column's names, for messages. */
static int first_name_len(const ctl_column_t *c)
{
    return (int)strcspn(c->names, "|");
}

/* Checks that every column the table requires is in the header. */
static int header_check(const ctl_column_t *table, const ctl_header_t *h,
                        char *errbuf, size_t errlen)
{
    for (const ctl_column_t *c = table; c->names; c++) {
        bool found = false;

        for (size_t i = 0; i < h->ncols && !found; i++)
            found = h->col[i] == c;
        if (c->need_column && !found) {
            snprintf(errbuf, errlen, "the header has no column %s", c->names);
            return KY_EINVAL;
        }
    }
    return KY_OK;
}

/* Finds the column of header cell i; a repeated column is an error. */
static int header_cell(const ctl_column_t *table, const ctl_csv_row_t *hdr,
                       ctl_header_t *h, size_t i, FILE *warn, char *errbuf,
                       size_t errlen)
{
    const char *name = hdr->fields[i];
    const ctl_column_t *c = column_find(table, name);

    if ((h->names[i] = strdup(name)) == NULL)
        return KY_ENOMEM;
    if (c == NULL) {
        if (warn)
            fprintf(warn, "warning: ignoring unknown column %zu \"%s\"\n",
                    i + 1, name);
        return KY_OK;
    }
    for (size_t j = 0; j < i; j++) {
        if (h->col[j] == c && c->kind != COL_SKIP) {
            snprintf(errbuf, errlen, "columns %zu and %zu both give %.*s",
                     j + 1, i + 1, first_name_len(c), c->names);
            return KY_EINVAL;
        }
    }
    h->col[i] = c;
    return KY_OK;
}

static int header_map(const ctl_column_t *table, const ctl_csv_row_t *hdr,
                      ctl_header_t *h, FILE *warn, char *errbuf, size_t errlen)
{
    int rc = KY_OK;

    h->ncols = 0;
    if (hdr->error) {
        snprintf(errbuf, errlen, "header row: %s", hdr->error);
        return KY_EINVAL;
    }
    h->col = calloc(hdr->nfields ? hdr->nfields : 1, sizeof *h->col);
    h->names = calloc(hdr->nfields ? hdr->nfields : 1, sizeof *h->names);
    if (h->col == NULL || h->names == NULL) {
        ctl_header_clear(h);
        return KY_ENOMEM;
    }
    h->ncols = hdr->nfields;
    for (size_t i = 0; i < h->ncols && rc == KY_OK; i++) {
        ctl_trim(hdr->fields[i]);
        rc = header_cell(table, hdr, h, i, warn, errbuf, errlen);
    }
    if (rc == KY_OK)
        rc = header_check(table, h, errbuf, errlen);
    if (rc != KY_OK)
        ctl_header_clear(h);
    return rc;
}

int ctl_header_leads(const ctl_csv_row_t *hdr, ctl_header_t *h, FILE *warn,
                     char *errbuf, size_t errlen)
{
    return header_map(lead_columns, hdr, h, warn, errbuf, errlen);
}

int ctl_header_listings(const ctl_csv_row_t *hdr, ctl_header_t *h, FILE *warn,
                        char *errbuf, size_t errlen)
{
    return header_map(listing_columns, hdr, h, warn, errbuf, errlen);
}

int ctl_header_contacts(const ctl_csv_row_t *hdr, ctl_header_t *h, FILE *warn,
                        char *errbuf, size_t errlen)
{
    return header_map(contact_columns, hdr, h, warn, errbuf, errlen);
}

void ctl_header_clear(ctl_header_t *h)
{
    for (size_t i = 0; h->names && i < h->ncols; i++)
        free(h->names[i]);
    free(h->names);
    free(h->col);
    h->names = NULL;
    h->col = NULL;
    h->ncols = 0;
}

/* --- cells ----------------------------------------------------------- */

static int row_fail(ctl_rowerr_t *err, const char *code, const char *field,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int row_fail(ctl_rowerr_t *err, const char *code, const char *field,
                    const char *fmt, ...)
{
    va_list ap;

    err->code = code;
    err->field = field;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return KY_EINVAL;
}

/* At most about 40 bytes of s, cut at a UTF-8 character boundary. */
static const char *snip(const char *s, char *out, size_t outlen)
{
    size_t n = strlen(s);

    if (n < outlen) {
        memcpy(out, s, n + 1);
        return out;
    }
    n = outlen - 4;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    memcpy(out, s, n);
    strcpy(out + n, "...");
    return out;
}

/* The length of the list separator at s; 0 when there is none. */
static size_t separator_at(const char *s)
{
    static const char *const seps[] = {";", "|", "；", "、", NULL};

    for (int i = 0; seps[i]; i++) {
        size_t n = strlen(seps[i]);

        if (strncmp(s, seps[i], n) == 0)
            return n;
    }
    return 0;
}

/*
 * Splits UTF-8 text in place into its trimmed, non-empty items. Returns
 * how many, or -1 when there are more than max.
 */
static int split_list(char *text, char **items, size_t max)
{
    size_t n = 0;
    char *p = text;

    while (*p) {
        char *start = p, *item;
        size_t sep = 0;

        while (*p && (sep = separator_at(p)) == 0)
            p++;
        if (*p) {
            *p = '\0';
            p += sep;
        }
        item = ctl_trim(start);
        if (*item == '\0')
            continue;
        if (n == max)
            return -1;
        items[n++] = item;
    }
    return (int)n;
}

static int too_many(const ctl_column_t *c, ctl_rowerr_t *err)
{
    return row_fail(err, "too_many", c->path,
                    "more than %d items (separate them with ';')",
                    CTL_MAX_ITEMS);
}

/* A repeated string: its items in the array at store, count and pointer. */
static int set_list(const ctl_column_t *c, char *base, char *text,
                    ctl_rowerr_t *err)
{
    char **items = (char **)(base + c->store);
    int n = split_list(text, items, CTL_MAX_ITEMS);
    size_t count = n > 0 ? (size_t)n : 0;

    if (n < 0)
        return too_many(c, err);
    memcpy(base + c->also, &count, sizeof count);
    if (count > 0)
        memcpy(base + c->offset, &items, sizeof items);
    return KY_OK;
}

/* An age in years, "35" or "35岁"; empty is 0. */
static int parse_years(char *text, uint32_t *v)
{
    static const char suffix[] = "岁";
    size_t n = strlen(text), m = sizeof suffix - 1;
    uint64_t u;

    if (n >= m && strcmp(text + n - m, suffix) == 0) {
        text[n - m] = '\0';
        text = ctl_trim(text);
        if (*text == '\0')
            return KY_EINVAL;
    }
    if (ctl_parse_uint(text, CTL_MAX_AGE, &u) != KY_OK)
        return KY_EINVAL;
    *v = (uint32_t)u;
    return KY_OK;
}

static int set_years(const ctl_column_t *c, char *base, char *text,
                     ctl_rowerr_t *err)
{
    char snipped[48];
    uint32_t v;

    snip(text, snipped, sizeof snipped);
    if (parse_years(text, &v) != KY_OK)
        return row_fail(err, "invalid_number", c->path,
                        "expected an age in years (0-%d), got \"%s\"",
                        CTL_MAX_AGE, snipped);
    memcpy(base + c->offset, &v, sizeof v);
    return KY_OK;
}

/* household.children from "5;9": one child per age. */
static int set_children(const ctl_column_t *c, ctl_lead_t *lead, char *text,
                        ctl_rowerr_t *err)
{
    Keyuan__V1__Household *hh = &lead->household;
    char *items[CTL_MAX_ITEMS], snipped[48];
    int n = split_list(text, items, CTL_MAX_ITEMS);

    if (n < 0)
        return too_many(c, err);
    for (int i = 0; i < n; i++) {
        Keyuan__V1__Child *child = &lead->children[i];

        keyuan__v1__child__init(child);
        snip(items[i], snipped, sizeof snipped);
        if (parse_years(items[i], &child->age) != KY_OK)
            return row_fail(err, "invalid_number", c->path,
                            "expected children's ages in years like "
                            "\"5;9\", got \"%s\"",
                            snipped);
        lead->child_list[i] = child;
    }
    hh->n_children = (size_t)n;
    hh->children = n > 0 ? lead->child_list : NULL;
    return KY_OK;
}

/* Yes or no in English, Chinese or digits; false when it is neither. */
static bool parse_yes_no(const char *text, protobuf_c_boolean *v)
{
    static const char *const yes[] = {"1",  "true", "yes", "y",
                                      "是", "同意", NULL};
    static const char *const no[] = {"0",  "false",  "no", "n",
                                     "否", "不同意", NULL};

    for (int i = 0; yes[i]; i++)
        if (strcasecmp(text, yes[i]) == 0)
            return *v = 1, true;
    for (int i = 0; no[i]; i++)
        if (strcasecmp(text, no[i]) == 0)
            return *v = 0, true;
    return false;
}

static int set_bool(const ctl_column_t *c, char *base, const char *text,
                    ctl_rowerr_t *err)
{
    protobuf_c_boolean v = 0;
    char snipped[48];

    if (*text && !parse_yes_no(text, &v))
        return row_fail(err, "invalid_bool", c->path,
                        "expected 是/否, yes/no, true/false or 1/0, got "
                        "\"%s\"",
                        snip(text, snipped, sizeof snipped));
    memcpy(base + c->offset, &v, sizeof v);
    if (c->kind == COL_CONSENT && *text)
        ((ctl_lead_t *)base)->consent_given = true;
    return KY_OK;
}

static int set_number(const ctl_column_t *c, char *base, const char *text,
                      ctl_rowerr_t *err)
{
    char snipped[48];
    uint64_t u;
    uint32_t u32;
    double d;

    snip(text, snipped, sizeof snipped);
    if (c->need_value && *text == '\0')
        return row_fail(err, "missing_field", c->path, "a value is required");
    if (c->kind == COL_UINT || c->kind == COL_ID) {
        if (ctl_parse_uint(text, c->kind == COL_ID ? UINT64_MAX : UINT32_MAX,
                           &u) != KY_OK ||
            (c->kind == COL_ID && u == 0))
            return row_fail(err, "invalid_number", c->path,
                            "expected a whole number%s, got \"%s\"",
                            c->kind == COL_ID ? " above 0" : "", snipped);
        u32 = (uint32_t)u;
        if (c->kind == COL_ID)
            memcpy(base + c->offset, &u, sizeof u);
        else
            memcpy(base + c->offset, &u32, sizeof u32);
        return KY_OK;
    }
    if (ctl_parse_double(text, &d) != KY_OK)
        return row_fail(err, "invalid_number", c->path,
                        "expected a number, got \"%s\"", snipped);
    if (c->need_value && d <= 0)
        return row_fail(err, "invalid_number", c->path,
                        "must be above zero, got \"%s\"", snipped);
    memcpy(base + c->offset, &d, sizeof d);
    return KY_OK;
}

static const ctl_enum_spec_t *enum_spec(enum col_kind kind)
{
    if (kind == COL_PURPOSE)
        return &ctl_enum_purpose;
    return kind == COL_STAGE ? &ctl_enum_stage : &ctl_enum_channel;
}

static int set_enum(const ctl_column_t *c, char *base, const char *text,
                    ctl_rowerr_t *err)
{
    const ctl_enum_spec_t *spec = enum_spec(c->kind);
    char snipped[48];
    int v;

    if (ctl_parse_enum(spec, text, &v) != KY_OK)
        return row_fail(err, "invalid_enum", c->path,
                        "unknown value \"%s\": use %s",
                        snip(text, snipped, sizeof snipped), spec->hint);
    memcpy(base + c->offset, &v, sizeof v);
    return KY_OK;
}

static int set_time(const ctl_column_t *c, char *base, const char *text,
                    ctl_rowerr_t *err)
{
    Google__Protobuf__Timestamp *ts =
        (Google__Protobuf__Timestamp *)(base + c->offset);
    char snipped[48];
    int64_t ms;

    if (*text == '\0')
        return KY_OK;
    if (ctl_parse_time(text, &ms) != KY_OK)
        return row_fail(err, "invalid_time", c->path,
                        "expected an RFC 3339 time or YYYY-MM-DD HH:MM "
                        "(Beijing time), got \"%s\"",
                        snip(text, snipped, sizeof snipped));
    wire_ts_set(ts, ms);
    memcpy(base + c->also, &ts, sizeof ts);
    return KY_OK;
}

static int set_date(const ctl_column_t *c, char *base, const char *text,
                    ctl_rowerr_t *err)
{
    Keyuan__V1__CivilDate *d = (Keyuan__V1__CivilDate *)(base + c->offset);
    char snipped[48];

    if (*text == '\0')
        return KY_OK;
    if (ctl_parse_civil_date(text, d) != KY_OK)
        return row_fail(err, "invalid_date", c->path,
                        "expected a date like 1990-04-12, or 农历1990-04-12 "
                        "(农历1990-闰04-12 for a leap month), got \"%s\"",
                        snip(text, snipped, sizeof snipped));
    memcpy(base + c->also, &d, sizeof d);
    return KY_OK;
}

/* Reads one trimmed, UTF-8-checked cell into its field. */
static int cell_set(const ctl_column_t *c, char *base, char *text,
                    ctl_rowerr_t *err)
{
    switch (c->kind) {
    case COL_SKIP:
        return KY_OK;
    case COL_STR:
        memcpy(base + c->offset, &text, sizeof text);
        if (c->also)
            memcpy(base + c->also, &text, sizeof text);
        return KY_OK;
    case COL_UINT:
    case COL_ID:
    case COL_DOUBLE:
        return set_number(c, base, text, err);
    case COL_YEARS:
        return set_years(c, base, text, err);
    case COL_PURPOSE:
    case COL_STAGE:
    case COL_CHANNEL:
        return set_enum(c, base, text, err);
    case COL_TIME:
        return set_time(c, base, text, err);
    case COL_DATE:
        return set_date(c, base, text, err);
    case COL_LIST:
        return set_list(c, base, text, err);
    case COL_AGES:
        return set_children(c, (ctl_lead_t *)base, text, err);
    case COL_BOOL:
    case COL_CONSENT:
        return set_bool(c, base, text, err);
    }
    return KY_OK;
}

/* Puts the column, as the file names it, in front of err's message. */
static void name_column(ctl_rowerr_t *err, size_t i, const char *name)
{
    char msg[sizeof err->message], snipped[48];
    int n = snprintf(msg, sizeof msg, "column %zu (%s): ", i + 1,
                     snip(name, snipped, sizeof snipped));

    if (n < 0 || (size_t)n >= sizeof msg)
        return;
    snprintf(msg + n, sizeof msg - (size_t)n, "%s", err->message);
    memcpy(err->message, msg, sizeof msg);
    ctl_utf8_clip(err->message);
}

/* What a cell missing at the end of a short row reads as. */
static char empty_cell[1] = "";

/* Fills the event at base from row through the header's columns. */
static int row_fill(const ctl_header_t *h, ctl_csv_row_t *row, char *base,
                    ctl_rowerr_t *err)
{
    int rc = KY_OK;

    if (row->error)
        return row_fail(err, "malformed_csv", "", "%s", row->error);
    if (row->nfields > h->ncols)
        return row_fail(err, "malformed_row", "",
                        "row has %zu cells but the header has %zu",
                        row->nfields, h->ncols);
    for (size_t i = 0; i < h->ncols && rc == KY_OK; i++) {
        const ctl_column_t *c = h->col[i];
        char *text = i < row->nfields ? ctl_trim(row->fields[i]) : empty_cell;

        if (c == NULL || c->kind == COL_SKIP)
            continue;
        if (!text_valid_utf8(text, strlen(text)))
            rc = row_fail(err, "invalid_utf8", c->path,
                          "not text in the file's encoding (damaged, or "
                          "in an encoding other than UTF-8, GB18030 or "
                          "UTF-16)");
        else
            rc = cell_set(c, base, text, err);
        if (rc == KY_EINVAL)
            name_column(err, i, h->names[i]);
    }
    return rc;
}

const char *ctl_row_id(const ctl_header_t *h, ctl_csv_row_t *row)
{
    for (size_t i = 0; i < h->ncols && i < row->nfields; i++) {
        const ctl_column_t *c = h->col[i];
        char *text;

        if (c == NULL || (strcmp(c->path, "sourceEventId") != 0 &&
                          strcmp(c->path, "listingId") != 0))
            continue;
        text = ctl_trim(row->fields[i]);
        return text_valid_utf8(text, strlen(text)) ? text : "";
    }
    return "";
}

/* --- events ---------------------------------------------------------- */

static void lead_init(ctl_lead_t *l)
{
    memset(l, 0, sizeof *l);
    keyuan__v1__lead_event__init(&l->ev);
    keyuan__v1__contacts__init(&l->contacts);
    keyuan__v1__needs__init(&l->needs);
    keyuan__v1__household__init(&l->household);
    keyuan__v1__decision__init(&l->decision);
    keyuan__v1__consent__init(&l->consent);
    keyuan__v1__civil_date__init(&l->birthday);
    google__protobuf__timestamp__init(&l->occurred_at);
    l->ev.contacts = &l->contacts;
    l->ev.needs = &l->needs;
}

/*
 * Links the parts of the file a row filled in. Parts left empty stay
 * out, so that a lead says nothing of what its source did not know.
 */
static void lead_link(ctl_lead_t *l)
{
    Keyuan__V1__LeadEvent *ev = &l->ev;

    if (l->household.size > 0 || l->household.n_children > 0)
        ev->household = &l->household;
    if (*l->decision.decision_maker || l->decision.n_influencers > 0)
        ev->decision = &l->decision;
    if (l->consent_given) {
        l->consent.recorded_at = ev->occurred_at;
        ev->consent = &l->consent;
    }
}

int ctl_lead_from_row(const ctl_header_t *h, ctl_csv_row_t *row,
                      const char *default_source, ctl_lead_t *out,
                      ctl_rowerr_t *err)
{
    int rc;

    lead_init(out);
    rc = row_fill(h, row, (char *)out, err);
    if (rc != KY_OK)
        return rc;
    lead_link(out);
    if (*out->ev.source == '\0' && default_source)
        out->ev.source = (char *)default_source;
    return KY_OK;
}

static void listing_init(ctl_listing_t *l)
{
    memset(l, 0, sizeof *l);
    l->ev = (Keyuan__V1__ListingEvent)KEYUAN__V1__LISTING_EVENT__INIT;
    l->listed_at =
        (Google__Protobuf__Timestamp)GOOGLE__PROTOBUF__TIMESTAMP__INIT;
}

int ctl_listing_from_row(const ctl_header_t *h, ctl_csv_row_t *row,
                         const char *source, ctl_listing_t *out,
                         ctl_rowerr_t *err)
{
    Keyuan__V1__ListingEvent *ev = &out->ev;
    int rc;

    listing_init(out);
    rc = row_fill(h, row, (char *)out, err);
    if (rc != KY_OK)
        return rc;
    ev->source = (char *)source;
    if (ev->unit_price_yuan_m2 == 0 && ev->area_m2 > 0)
        ev->unit_price_yuan_m2 = ev->total_price_wan * 10000 / ev->area_m2;
    return KY_OK;
}

static void contact_init(ctl_contact_t *c)
{
    memset(c, 0, sizeof *c);
    keyuan__v1__contact_log__init(&c->ev);
    keyuan__v1__next_step__init(&c->next_step);
    google__protobuf__timestamp__init(&c->contacted_at);
    google__protobuf__timestamp__init(&c->next_at);
}

int ctl_contact_from_row(const ctl_header_t *h, ctl_csv_row_t *row,
                         const char *default_source, ctl_contact_t *out,
                         ctl_rowerr_t *err)
{
    Keyuan__V1__ContactLog *ev = &out->ev;
    int rc;

    contact_init(out);
    rc = row_fill(h, row, (char *)out, err);
    if (rc != KY_OK)
        return rc;
    if (*out->next_step.action || out->next_step.due_at)
        ev->next_step = &out->next_step;
    if (*ev->source == '\0' && default_source)
        ev->source = (char *)default_source;
    return KY_OK;
}
