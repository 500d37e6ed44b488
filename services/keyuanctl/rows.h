/*
 * rows.h - CSV rows to LeadEvent, ListingEvent and ContactLog messages.
 *
 * A header row is matched once against a table of columns: English names
 * (snake_case or lowerCamelCase, any case) or, for leads and contacts,
 * Chinese ones (half- or full-width brackets alike). Each later row is
 * then turned into an event, or refused with a code, the field at fault (a
 * proto3 JSON path, as intake's replies name it) and a message that names
 * the column as the file does: such a row never reaches intake.
 *
 * Lead columns (English | Chinese):
 *   source | 来源; source_event_id | 来源编号 (required); occurred_at | 时间;
 *   name | 姓名; mobile | 手机; wechat_id | 微信; email | 邮箱;
 *   purpose | 购房目的; bedrooms | 室; living_rooms | 厅; area_min_m2 |
 *   最小面积; area_max_m2 | 最大面积; region_codes | 意向区域;
 *   budget_min_wan | 最低预算(万); budget_max_wan | 最高预算(万);
 *   timeline_months | 购房时间(月); stage | 阶段; note | 备注;
 *   agent_id | 经纪人; age | 年龄 ("35" or "35岁"); household_size |
 *   家庭人数; children_ages | 子女年龄 ("5;9"); occupation | 职业;
 *   employer | 工作单位; decision_maker | 决策人; influencers | 参考意见;
 *   lifestyle | 生活习惯; hobbies | 爱好; consent | 同意联系;
 *   do_not_disturb | 免打扰; birthday | 生日 ("1990-04-12",
 *   "农历1990-闰04-12"); priorities | 关注点; floor_preference | 楼层;
 *   orientation_preference | 朝向; decoration_preference | 装修.
 * An empty source takes the --source value. Empty numbers mean "not
 * known" (0), as in the proto. Lists (regions, children's ages,
 * influencers, hobbies, priorities) separate items with ';', '；', '、'
 * or '|', at most CTL_MAX_ITEMS. consent and do_not_disturb take 是/否,
 * yes/no, true/false, 1/0, 同意/不同意; either one given records a Consent
 * (recorded at occurred_at when the row has one), both empty records none.
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
 *
 * Contact columns: source | 来源; source_event_id | 来源编号 (required);
 * customer_id | 客户编号 | 客户ID (required); agent_id | 经纪人;
 * contacted_at | 沟通时间 | 时间; channel | 方式 | 沟通方式 (电话, 微信,
 * 到访, 短信, 其他 or phone, wechat, visit, sms, other); summary | 内容 |
 * 沟通内容; feedback | 客户反馈 | 反馈; next_step | 下一步; next_at |
 * 下一步时间. Changes of need are not columns: send them as JSON Lines (a
 * ContactLog with changes and changePaths) or with `keyuanctl log contact
 * --set`.
 */
#ifndef KEYUAN_CTL_ROWS_H
#define KEYUAN_CTL_ROWS_H

#include "csv.h"
#include "wire.h"

#include <stdbool.h>
#include <stdio.h>

/* At most this many items in one list cell, as intake allows. */
#define CTL_MAX_ITEMS 16

/* The largest event intake takes (its --max-msg-bytes default). */
#define CTL_MAX_EVENT_BYTES (64 * 1024)

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
    char **names;             /* per CSV column: its name in the file */
    size_t ncols;
} ctl_header_t;

/* A LeadEvent and the storage of its parts. */
typedef struct ctl_lead {
    Keyuan__V1__LeadEvent ev;
    Keyuan__V1__Contacts contacts;
    Keyuan__V1__Needs needs;
    Keyuan__V1__Household household;
    Keyuan__V1__Decision decision;
    Keyuan__V1__Consent consent;
    Keyuan__V1__CivilDate birthday;
    Google__Protobuf__Timestamp occurred_at;
    char *regions[CTL_MAX_ITEMS];
    char *priorities[CTL_MAX_ITEMS];
    char *influencers[CTL_MAX_ITEMS];
    char *hobbies[CTL_MAX_ITEMS];
    Keyuan__V1__Child children[CTL_MAX_ITEMS];
    Keyuan__V1__Child *child_list[CTL_MAX_ITEMS];
    bool consent_given; /* a consent column of the row had a value */
} ctl_lead_t;

/* A ListingEvent and the storage of its parts. */
typedef struct ctl_listing {
    Keyuan__V1__ListingEvent ev;
    Google__Protobuf__Timestamp listed_at;
} ctl_listing_t;

/* A ContactLog and the storage of its parts. */
typedef struct ctl_contact {
    Keyuan__V1__ContactLog ev;
    Keyuan__V1__NextStep next_step;
    Google__Protobuf__Timestamp contacted_at;
    Google__Protobuf__Timestamp next_at;
} ctl_contact_t;

/*
 * Maps the header row hdr for leads, listings or contacts into *h.
 * Columns nobody knows are ignored with a warning on warn (may be NULL).
 * Returns 0, or KY_EINVAL with errbuf saying why (a column given twice, a
 * required one missing), or KY_ENOMEM. Free with ctl_header_clear().
 */
int ctl_header_leads(const ctl_csv_row_t *hdr, ctl_header_t *h, FILE *warn,
                     char *errbuf, size_t errlen);
int ctl_header_listings(const ctl_csv_row_t *hdr, ctl_header_t *h, FILE *warn,
                        char *errbuf, size_t errlen);
int ctl_header_contacts(const ctl_csv_row_t *hdr, ctl_header_t *h, FILE *warn,
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

/* As ctl_lead_from_row() for a contact. */
int ctl_contact_from_row(const ctl_header_t *h, ctl_csv_row_t *row,
                         const char *default_source, ctl_contact_t *out,
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
