/*
 * rows.h - CSV rows to LeadEvent and ListingEvent messages.
 *
 * A header row is matched once against a table of columns: English names
 * (snake_case or lowerCamelCase, any case) or, for leads, Chinese ones
 * (half- or full-width brackets alike). Each later row is then turned into
 * an event, or refused with a code, the field at fault (a proto3 JSON path,
 * as intake's replies name it) and a message: such a row never reaches
 * intake.
 *
 * Lead columns: source, source_event_id, occurred_at, name, mobile,
 * wechat_id, email, purpose, bedrooms, living_rooms, area_min_m2,
 * area_max_m2, region_codes ("110105;110108", '|' also separates),
 * budget_min_wan, budget_max_wan, timeline_months, stage, note, agent_id;
 * or 来源, 来源编号, 时间, 姓名, 手机, 微信, 邮箱, 购房目的, 室, 厅, 最小面积,
 * 最大面积, 意向区域, 最低预算(万), 最高预算(万), 购房时间(月), 阶段, 备注,
 * 经纪人. source_event_id is required; an empty source takes the --source
 * value. Empty numbers mean "not known" (0), as in the proto.
 *
 * Listing columns: those of the shared Lianjia sample. row_id (or
 * listing_id) becomes both listing_id and source_event_id; the source is
 * the --source value, not the file's "source" column, which names where
 * the sample was scraped. area_m2 and total_price_wan are required and
 * must be above zero: a listing without them cannot be priced or matched.
 * bedrooms, living_rooms, total_floors and build_year may be empty (0:
 * not known; villas have no "N室" layout) but not malformed.
 * unit_price_yuan_m2, when empty, is derived as total x 10000 / area.
 * snapshot (the month the listing was seen, "2021-11") becomes listed_at.
 * layout, unit_price_derived and elevator have no field and are skipped.
 */
#ifndef KEYUAN_CTL_ROWS_H
#define KEYUAN_CTL_ROWS_H

#include "csv.h"
#include "wire.h"

#include <stdio.h>

/* At most this many region codes per lead row. */
#define CTL_MAX_REGIONS 16

/* Why a row cannot become an event. */
typedef struct ctl_rowerr {
    const char *code;  /* "invalid_number", "missing_field", ... */
    const char *field; /* proto3 JSON path ("needs.bedrooms") or "" */
    char message[256];
    char fieldbuf[96]; /* room for a field path made on the fly */
} ctl_rowerr_t;

typedef struct ctl_column ctl_column_t;

/* How the columns of one file map to an event's fields. */
typedef struct ctl_header {
    const ctl_column_t **col; /* per CSV column: its column, or NULL */
    size_t ncols;
} ctl_header_t;

/* A LeadEvent and the storage of its parts. */
typedef struct ctl_lead {
    Keyuan__V1__LeadEvent ev;
    Keyuan__V1__Contacts contacts;
    Keyuan__V1__Needs needs;
    Google__Protobuf__Timestamp occurred_at;
    char *regions[CTL_MAX_REGIONS];
} ctl_lead_t;

/* A ListingEvent and the storage of its parts. */
typedef struct ctl_listing {
    Keyuan__V1__ListingEvent ev;
    Google__Protobuf__Timestamp listed_at;
} ctl_listing_t;

/*
 * Maps the header row hdr for leads or listings into *h. Columns nobody
 * knows are ignored with a warning on warn (may be NULL). Returns 0, or
 * KY_EINVAL with errbuf saying why (a column given twice, a required one
 * missing), or KY_ENOMEM. Free with ctl_header_clear().
 */
int ctl_header_leads(const ctl_csv_row_t *hdr, ctl_header_t *h, FILE *warn,
                     char *errbuf, size_t errlen);
int ctl_header_listings(const ctl_csv_row_t *hdr, ctl_header_t *h, FILE *warn,
                        char *errbuf, size_t errlen);

void ctl_header_clear(ctl_header_t *h);

/*
 * Builds out from row (whose cells it trims and splits in place; out's
 * strings point into them, so out lives no longer than the row).
 * default_source fills an empty source. Returns 0, or KY_EINVAL with *err
 * filled.
 */
int ctl_lead_from_row(const ctl_header_t *h, ctl_csv_row_t *row,
                      const char *default_source, ctl_lead_t *out,
                      ctl_rowerr_t *err);

/*
 * The trimmed cell of row that identifies it (source_event_id or row_id),
 * for reports; "" when there is none or it is not UTF-8.
 */
const char *ctl_row_id(const ctl_header_t *h, ctl_csv_row_t *row);

/* As ctl_lead_from_row() for a listing; source is always used. */
int ctl_listing_from_row(const ctl_header_t *h, ctl_csv_row_t *row,
                         const char *source, ctl_listing_t *out,
                         ctl_rowerr_t *err);

#endif
