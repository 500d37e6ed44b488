/*
 * rows.c - CSV rows to LeadEvent and ListingEvent (see rows.h).
 *
 * Each file type is one table of columns: the header names it accepts, the
 * field it fills (an offset into ctl_lead_t or ctl_listing_t) and how the
 * cell is read. One generic loop fills any event from its table, so a new
 * column is one line here.
 */
#include "rows.h"

#include "err.h"
#include "parse.h"
#include "text.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

enum col_kind {
    COL_SKIP, /* a known column with no field: ignored quietly */
    COL_STR,
    COL_UINT,   /* uint32, empty is 0 */
    COL_DOUBLE, /* empty is 0 */
    COL_PURPOSE,
    COL_STAGE,
    COL_TIME,    /* a Timestamp, linked into the event when given */
    COL_REGIONS, /* needs.region_codes of a lead */
    COL_BOOL
};

struct ctl_column {
    const char *names; /* accepted header names, '|' between them */
    const char *path;  /* proto3 JSON path of the field, for errors */
    enum col_kind kind;
    size_t offset;    /* the field in ctl_lead_t / ctl_listing_t */
    size_t also;      /* COL_STR: a second string field; COL_TIME: the
                         event's pointer to the Timestamp; 0: none */
    bool need_column; /* the header must have this column */
    bool need_value;  /* a row must have a value (numbers: above 0) */
};

#define L(f) offsetof(ctl_lead_t, f)
static const ctl_column_t lead_columns[] = {
    {"source|来源", "source", COL_STR, L(ev.source), 0, false, false},
    {"source_event_id|来源编号", "sourceEventId", COL_STR,
     L(ev.source_event_id), 0, true, false},
    {"occurred_at|时间", "occurredAt", COL_TIME, L(occurred_at),
     L(ev.occurred_at), false, false},
    {"name|姓名", "name", COL_STR, L(ev.name), 0, false, false},
    {"mobile|手机", "contacts.mobile", COL_STR, L(contacts.mobile), 0, false,
     false},
    {"wechat_id|微信", "contacts.wechatId", COL_STR, L(contacts.wechat_id), 0,
     false, false},
    {"email|邮箱", "contacts.email", COL_STR, L(contacts.email), 0, false,
     false},
    {"purpose|购房目的", "needs.purpose", COL_PURPOSE, L(needs.purpose), 0,
     false, false},
    {"bedrooms|室", "needs.bedrooms", COL_UINT, L(needs.bedrooms), 0, false,
     false},
    {"living_rooms|厅", "needs.livingRooms", COL_UINT, L(needs.living_rooms), 0,
     false, false},
    {"area_min_m2|最小面积", "needs.areaMinM2", COL_UINT, L(needs.area_min_m2),
     0, false, false},
    {"area_max_m2|最大面积", "needs.areaMaxM2", COL_UINT, L(needs.area_max_m2),
     0, false, false},
    {"region_codes|意向区域", "needs.regionCodes", COL_REGIONS, 0, 0, false,
     false},
    {"budget_min_wan|最低预算(万)", "needs.budgetMinWan", COL_UINT,
     L(needs.budget_min_wan), 0, false, false},
    {"budget_max_wan|最高预算(万)", "needs.budgetMaxWan", COL_UINT,
     L(needs.budget_max_wan), 0, false, false},
    {"timeline_months|购房时间(月)", "needs.timelineMonths", COL_UINT,
     L(needs.timeline_months), 0, false, false},
    {"stage|阶段", "needs.stage", COL_STAGE, L(needs.stage), 0, false, false},
    {"note|备注", "note", COL_STR, L(ev.note), 0, false, false},
    {"agent_id|经纪人", "agentId", COL_STR, L(ev.agent_id), 0, false, false},
    {NULL, NULL, COL_SKIP, 0, 0, false, false}};
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
    if (h->col == NULL)
        return KY_ENOMEM;
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

void ctl_header_clear(ctl_header_t *h)
{
    free(h->col);
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

/* Splits "110105; 110108|110101" into the lead's region list. */
static int set_regions(ctl_lead_t *lead, char *text, ctl_rowerr_t *err)
{
    Keyuan__V1__Needs *needs = &lead->needs;
    char *save = NULL;

    for (char *tok = strtok_r(text, ";|", &save); tok;
         tok = strtok_r(NULL, ";|", &save)) {
        tok = ctl_trim(tok);
        if (*tok == '\0')
            continue;
        if (needs->n_region_codes == CTL_MAX_REGIONS)
            return row_fail(err, "too_many_regions", "needs.regionCodes",
                            "more than %d region codes", CTL_MAX_REGIONS);
        lead->regions[needs->n_region_codes++] = tok;
    }
    needs->region_codes = needs->n_region_codes ? lead->regions : NULL;
    return KY_OK;
}

static int set_bool(const ctl_column_t *c, char *base, const char *text,
                    ctl_rowerr_t *err)
{
    static const char *const yes[] = {"1", "true", "yes", "y", "是", NULL};
    static const char *const no[] = {"", "0", "false", "no", "n", "否", NULL};
    protobuf_c_boolean v = -1;
    char snipped[48];

    for (int i = 0; yes[i] && v < 0; i++)
        if (strcasecmp(text, yes[i]) == 0)
            v = 1;
    for (int i = 0; no[i] && v < 0; i++)
        if (strcasecmp(text, no[i]) == 0)
            v = 0;
    if (v < 0)
        return row_fail(err, "invalid_bool", c->path,
                        "expected 1/0, true/false or 是/否, got \"%s\"",
                        snip(text, snipped, sizeof snipped));
    memcpy(base + c->offset, &v, sizeof v);
    return KY_OK;
}

static int set_number(const ctl_column_t *c, char *base, const char *text,
                      ctl_rowerr_t *err)
{
    char snipped[48];
    uint64_t u;
    uint32_t u32;
    double d;

    if (c->need_value && *text == '\0')
        return row_fail(err, "missing_field", c->path, "%.*s is required",
                        first_name_len(c), c->names);
    if (c->kind == COL_UINT) {
        if (ctl_parse_uint(text, UINT32_MAX, &u) != KY_OK)
            return row_fail(err, "invalid_number", c->path,
                            "expected a whole number, got \"%s\"",
                            snip(text, snipped, sizeof snipped));
        u32 = (uint32_t)u;
        memcpy(base + c->offset, &u32, sizeof u32);
        return KY_OK;
    }
    if (ctl_parse_double(text, &d) != KY_OK)
        return row_fail(err, "invalid_number", c->path,
                        "expected a number, got \"%s\"",
                        snip(text, snipped, sizeof snipped));
    if (c->need_value && d <= 0)
        return row_fail(err, "invalid_number", c->path,
                        "must be above zero, got \"%s\"", text);
    memcpy(base + c->offset, &d, sizeof d);
    return KY_OK;
}

static int set_enum(const ctl_column_t *c, char *base, const char *text,
                    ctl_rowerr_t *err)
{
    const ctl_enum_spec_t *spec =
        c->kind == COL_PURPOSE ? &ctl_enum_purpose : &ctl_enum_stage;
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
    case COL_DOUBLE:
        return set_number(c, base, text, err);
    case COL_PURPOSE:
    case COL_STAGE:
        return set_enum(c, base, text, err);
    case COL_TIME:
        return set_time(c, base, text, err);
    case COL_REGIONS:
        return set_regions((ctl_lead_t *)base, text, err);
    case COL_BOOL:
        return set_bool(c, base, text, err);
    }
    return KY_OK;
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
            return row_fail(err, "invalid_utf8", c->path,
                            "cell of column %zu is not UTF-8 text (save the "
                            "file as CSV UTF-8)",
                            i + 1);
        rc = cell_set(c, base, text, err);
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
    l->ev = (Keyuan__V1__LeadEvent)KEYUAN__V1__LEAD_EVENT__INIT;
    l->contacts = (Keyuan__V1__Contacts)KEYUAN__V1__CONTACTS__INIT;
    l->needs = (Keyuan__V1__Needs)KEYUAN__V1__NEEDS__INIT;
    l->occurred_at =
        (Google__Protobuf__Timestamp)GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    l->ev.contacts = &l->contacts;
    l->ev.needs = &l->needs;
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
