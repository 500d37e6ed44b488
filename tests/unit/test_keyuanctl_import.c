/*
 * test_keyuanctl_import.c - what keyuanctl's imports added for customer
 * files: the encodings of CSV files (UTF-8 with and without BOM, GB18030
 * as Chinese Excel writes it, UTF-16 "Unicode text"), the columns of the
 * whole customer file, civil and lunar birthdays, contact rows, and the
 * --set changes and event ids of `keyuanctl log contact`.
 *
 * Files in other encodings are made at test time with iconv from the
 * UTF-8 text in this file, so no binary fixture is checked in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../services/keyuanctl/contact.h"
#include "../../services/keyuanctl/csv.h"
#include "../../services/keyuanctl/parse.h"
#include "../../services/keyuanctl/rows.h"
#include "err.h"
#include "pbjson.h"

#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* --- helpers --------------------------------------------------------- */

/* A table as Excel users write it: Chinese, a quoted comma, a line break
 * inside a cell, a quote, an emoji (a 4-byte character) and a name with a
 * combining mark. */
static const char table_utf8[] =
    "来源编号,姓名,手机,备注,爱好\r\n"
    "gb-1,张三,13800138000,\"周末看房,要南北通透\",游泳;读书\r\n"
    "gb-2,李四,13900139000,\"说\"\"再看看\"\"\n下周回电\",🏊\r\n"
    "gb-3,Zoë Chen,13700137000,,\r\n";

/* Converts len bytes of UTF-8 at in to encoding to (a malloc'd buffer). */
static char *recode(const char *to, const char *in, size_t len, size_t *outlen)
{
    iconv_t cd = iconv_open(to, "UTF-8");
    size_t cap = len * 4 + 16, left = cap;
    char *out = malloc(cap), *op = out, *ip = (char *)in;

    assert_true(cd != (iconv_t)-1);
    assert_non_null(out);
    assert_int_not_equal(iconv(cd, &ip, &len, &op, &left), (size_t)-1);
    iconv_close(cd);
    *outlen = cap - left;
    return out;
}

/* bytes with prefix in front (a byte order mark), malloc'd. */
static char *prefixed(const char *prefix, size_t plen, const char *bytes,
                      size_t len)
{
    char *out = malloc(plen + len);

    assert_non_null(out);
    memcpy(out, prefix, plen);
    memcpy(out + plen, bytes, len);
    return out;
}

/* All records of a stream of UTF-8 text, as one string with cells
 * separated by '|' and records by '\n', for comparing files. */
static char *records_of(FILE *f, char delim)
{
    ctl_csv_t *csv = ctl_csv_new(f);
    ctl_csv_row_t row;
    char *out = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&out, &len);

    assert_non_null(csv);
    assert_non_null(mem);
    ctl_csv_set_delimiter(csv, delim);
    while (ctl_csv_next(csv, &row) == 1) {
        assert_null(row.error);
        fprintf(mem, "%ld:", row.line);
        for (size_t i = 0; i < row.nfields; i++)
            fprintf(mem, "%s%s", i ? "|" : "", row.fields[i]);
        fputc('\n', mem);
    }
    ctl_csv_destroy(&csv);
    fclose(mem);
    return out;
}

/* Decodes bytes, checks the encoding found, returns the records. */
static char *decoded_records(const char *bytes, size_t len,
                             enum ctl_encoding expect)
{
    FILE *raw = fmemopen((void *)bytes, len, "rb");
    enum ctl_encoding enc;
    char errbuf[128], *recs;
    int err;
    FILE *text;

    assert_non_null(raw);
    text = ctl_csv_decode(raw, &enc, &err, errbuf, sizeof errbuf);
    assert_non_null(text);
    assert_int_equal(enc, expect);
    recs = records_of(text, ctl_csv_sniff_delimiter(text));
    if (text != raw)
        fclose(text);
    fclose(raw);
    return recs;
}

/* --- encodings ------------------------------------------------------- */

static void test_same_records_from_every_encoding(void **state)
{
    size_t n = sizeof table_utf8 - 1, glen;
    char *want = decoded_records(table_utf8, n, CTL_ENC_UTF8);
    char *bom = prefixed("\xEF\xBB\xBF", 3, table_utf8, n);
    char *gb = recode("GB18030", table_utf8, n, &glen);
    char *got;

    (void)state;
    assert_non_null(strstr(want, "3:gb-2|李四|13900139000|说\"再看看\"\n下周"
                                 "回电|🏊\n"));
    got = decoded_records(bom, n + 3, CTL_ENC_UTF8_BOM);
    assert_string_equal(got, want);
    free(got);

    /* GB18030 holds every Unicode character: the emoji survives too. */
    assert_true(glen != n || memcmp(gb, table_utf8, n) != 0);
    got = decoded_records(gb, glen, CTL_ENC_GB18030);
    assert_string_equal(got, want);
    free(got);

    free(bom);
    free(gb);
    free(want);
}

/* Excel's "Unicode text": UTF-16LE with a BOM, cells between tabs. */
static void test_utf16_tab_separated(void **state)
{
    size_t n = sizeof table_utf8 - 1, ulen;
    char *tsv = strdup(table_utf8), *u16, *bytes, *want, *got;
    bool quoted = false;

    (void)state;
    for (char *p = tsv; *p; p++) {
        quoted ^= *p == '"';
        if (*p == ',' && !quoted)
            *p = '\t';
    }
    u16 = recode("UTF-16LE", tsv, n, &ulen);
    bytes = prefixed("\xFF\xFE", 2, u16, ulen);
    want = decoded_records(table_utf8, n, CTL_ENC_UTF8);
    got = decoded_records(bytes, ulen + 2, CTL_ENC_UTF16LE);
    assert_string_equal(got, want); /* the quoted comma stays a comma */
    free(got);
    free(want);
    free(bytes);
    free(u16);
    free(tsv);
}

/* A GBK file that starts with ASCII rows: only later bytes tell. */
static void test_gbk_found_after_ascii_rows(void **state)
{
    static const char text[] = "source_event_id,name\n"
                               "a-1,Li Lei\na-2,Han Meimei\n"
                               "a-3,王小明\n";
    size_t glen;
    char *gb = recode("GBK", text, sizeof text - 1, &glen);
    char *got;

    (void)state;
    got = decoded_records(gb, glen, CTL_ENC_GB18030);
    assert_non_null(strstr(got, "4:a-3|王小明\n"));
    free(got);
    free(gb);
}

/* One damaged cell in a UTF-8 file spoils that cell, not the file. */
static void test_utf8_with_a_damaged_cell_stays_utf8(void **state)
{
    static const char text[] = "id,name,note\n"
                               "1,张三,北京市朝阳区望京\n"
                               "2,李四,上海市浦东新区陆家嘴\n"
                               "3,\xD5\xC5,广州\n";
    char *got;

    (void)state;
    got = decoded_records(text, sizeof text - 1, CTL_ENC_UTF8);
    assert_non_null(strstr(got, "2:1|张三|北京市朝阳区望京\n"));
    assert_non_null(strstr(got, "4:3|\xD5\xC5|广州\n"));
    free(got);
}

/* Bytes GB18030 does not allow come out as 0xFF, never as text. */
static void test_gb18030_bad_bytes_marked(void **state)
{
    static const char text[] = "id,name\n1,王五\n2,赵六\n";
    size_t glen;
    char *gb = recode("GB18030", text, sizeof text - 1, &glen);
    char *bad = malloc(glen + 8), *got;

    (void)state;
    memcpy(bad, gb, glen);
    memcpy(bad + glen, "3,\x80x\n", 5);
    got = decoded_records(bad, glen + 5, CTL_ENC_GB18030);
    assert_non_null(strstr(got, "2:1|王五\n3:2|赵六\n4:3|\xFFx\n"));
    free(got);
    free(bad);
    free(gb);
}

/* Standard input cannot seek: it is copied aside, then read. */
static void test_decode_from_a_pipe(void **state)
{
    size_t glen;
    char *gb = recode("GB18030", table_utf8, sizeof table_utf8 - 1, &glen);
    char *want =
        decoded_records(table_utf8, sizeof table_utf8 - 1, CTL_ENC_UTF8);
    int fds[2];
    FILE *raw, *text;
    enum ctl_encoding enc;
    char errbuf[128], *got;
    int err;

    (void)state;
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(write(fds[1], gb, glen), (ssize_t)glen);
    close(fds[1]);
    raw = fdopen(fds[0], "rb");
    text = ctl_csv_decode(raw, &enc, &err, errbuf, sizeof errbuf);
    assert_non_null(text);
    assert_true(text != raw);
    assert_int_equal(enc, CTL_ENC_GB18030);
    got = records_of(text, ',');
    assert_string_equal(got, want);
    fclose(text);
    fclose(raw);
    free(got);
    free(want);
    free(gb);
}

static void test_sniff_delimiter(void **state)
{
    static const char *const cases[][2] = {{"a,b\tc\n", ","},
                                           {"a\tb\tc\n1,2\n", "\t"},
                                           {"\"a\tb\"\n", ","},
                                           {"\"x,y\"\tz\n", "\t"},
                                           {"", ","}};

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        FILE *f = fmemopen((void *)cases[i][0], strlen(cases[i][0]) + 1, "r");

        assert_int_equal(ctl_csv_sniff_delimiter(f), cases[i][1][0]);
        assert_int_equal(ftell(f), 0); /* put back */
        fclose(f);
    }
}

/* --- the customer file's columns ------------------------------------- */

typedef struct sheet {
    FILE *f;
    ctl_csv_t *csv;
    ctl_csv_row_t row;
    ctl_header_t h;
} sheet_t;

static int sheet_open(sheet_t *s, const char *text, char *errbuf, size_t errlen,
                      bool contacts)
{
    ctl_csv_row_t hdr;

    memset(s, 0, sizeof *s);
    s->f = fmemopen((void *)text, strlen(text), "r");
    s->csv = ctl_csv_new(s->f);
    assert_int_equal(ctl_csv_next(s->csv, &hdr), 1);
    return contacts ? ctl_header_contacts(&hdr, &s->h, NULL, errbuf, errlen)
                    : ctl_header_leads(&hdr, &s->h, NULL, errbuf, errlen);
}

static ctl_csv_row_t *sheet_row(sheet_t *s)
{
    assert_int_equal(ctl_csv_next(s->csv, &s->row), 1);
    return &s->row;
}

static void sheet_close(sheet_t *s)
{
    ctl_header_clear(&s->h);
    ctl_csv_destroy(&s->csv);
    fclose(s->f);
}

/* The new columns, with Chinese names. */
static const char profile_header[] =
    "来源编号,手机,年龄,家庭人数,子女年龄,职业,工作单位,决策人,参考意见,"
    "生活习惯,爱好,同意联系,免打扰,生日,关注点,楼层,朝向,装修,时间\n";

static void test_profile_columns_chinese(void **state)
{
    static const char rows[] =
        "p-1,13800138000,35岁,4,5;9,教师,市第一中学,配偶,父母、朋友,"
        "早睡早起,游泳；读书,是,否,农历1990-闰04-12,学区|交通,中楼层,"
        "南北,精装,2026-05-01 09:30\n"
        "p-2,13800138001,,,,,,,,,,,,1988/2/29,,,,,\n";
    char text[1024], err[128];
    sheet_t s;
    ctl_lead_t l;
    ctl_rowerr_t e;

    (void)state;
    snprintf(text, sizeof text, "%s%s", profile_header, rows);
    assert_int_equal(sheet_open(&s, text, err, sizeof err, false), KY_OK);
    for (size_t i = 0; i < s.h.ncols; i++)
        assert_non_null(s.h.col[i]);
    assert_int_equal(ctl_lead_from_row(&s.h, sheet_row(&s), "csv", &l, &e),
                     KY_OK);
    assert_int_equal(l.ev.age, 35);
    assert_non_null(l.ev.household);
    assert_int_equal(l.ev.household->size, 4);
    assert_int_equal(l.ev.household->n_children, 2);
    assert_int_equal(l.ev.household->children[0]->age, 5);
    assert_int_equal(l.ev.household->children[1]->age, 9);
    assert_string_equal(l.ev.occupation, "教师");
    assert_string_equal(l.ev.employer, "市第一中学");
    assert_non_null(l.ev.decision);
    assert_string_equal(l.ev.decision->decision_maker, "配偶");
    assert_int_equal(l.ev.decision->n_influencers, 2);
    assert_string_equal(l.ev.decision->influencers[0], "父母");
    assert_string_equal(l.ev.decision->influencers[1], "朋友");
    assert_string_equal(l.ev.lifestyle, "早睡早起");
    assert_int_equal(l.ev.n_hobbies, 2);
    assert_string_equal(l.ev.hobbies[1], "读书");
    assert_non_null(l.ev.consent);
    assert_true(l.ev.consent->contact_allowed);
    assert_false(l.ev.consent->do_not_disturb);
    assert_ptr_equal(l.ev.consent->recorded_at, l.ev.occurred_at);
    assert_non_null(l.ev.birthday);
    assert_int_equal(l.ev.birthday->year, 1990);
    assert_int_equal(l.ev.birthday->month, 4);
    assert_int_equal(l.ev.birthday->day, 12);
    assert_true(l.ev.birthday->lunar);
    assert_true(l.ev.birthday->leap_month);
    assert_int_equal(l.ev.needs->n_priorities, 2);
    assert_string_equal(l.ev.needs->priorities[0], "学区");
    assert_string_equal(l.ev.needs->floor_preference, "中楼层");
    assert_string_equal(l.ev.needs->orientation_preference, "南北");
    assert_string_equal(l.ev.needs->decoration_preference, "精装");

    /* Parts a row leaves empty stay out of the event. */
    assert_int_equal(ctl_lead_from_row(&s.h, sheet_row(&s), "csv", &l, &e),
                     KY_OK);
    assert_null(l.ev.household);
    assert_null(l.ev.decision);
    assert_null(l.ev.consent);
    assert_int_equal(l.ev.n_hobbies, 0);
    assert_int_equal(l.ev.birthday->month, 2);
    assert_int_equal(l.ev.birthday->day, 29);
    assert_false(l.ev.birthday->lunar);
    sheet_close(&s);
}

static void test_profile_columns_english(void **state)
{
    static const char text[] =
        "source_event_id,mobile,age,householdSize,children_ages,consent,"
        "do_not_disturb,birthday,hobbies\n"
        "e-1,13800138000,41,3,12,no,yes,1985-10-01,\"golf; chess\"\n";
    sheet_t s;
    ctl_lead_t l;
    ctl_rowerr_t e;
    char err[128];

    (void)state;
    assert_int_equal(sheet_open(&s, text, err, sizeof err, false), KY_OK);
    assert_int_equal(ctl_lead_from_row(&s.h, sheet_row(&s), "csv", &l, &e),
                     KY_OK);
    assert_int_equal(l.ev.age, 41);
    assert_int_equal(l.ev.household->n_children, 1);
    assert_non_null(l.ev.consent); /* "no" is an answer, kept */
    assert_false(l.ev.consent->contact_allowed);
    assert_true(l.ev.consent->do_not_disturb);
    assert_null(l.ev.consent->recorded_at);
    assert_false(l.ev.birthday->lunar);
    assert_string_equal(l.ev.hobbies[0], "golf");
    assert_string_equal(l.ev.hobbies[1], "chess");
    sheet_close(&s);
}

/* Maps one row under profile_header; expects a rejection. */
static void expect_reject(const char *row, const char *code, const char *field,
                          const char *column)
{
    char text[1024], err[128];
    sheet_t s;
    ctl_lead_t l;
    ctl_rowerr_t e;

    snprintf(text, sizeof text, "%s%s\n", profile_header, row);
    assert_int_equal(sheet_open(&s, text, err, sizeof err, false), KY_OK);
    assert_int_equal(ctl_lead_from_row(&s.h, sheet_row(&s), "csv", &l, &e),
                     KY_EINVAL);
    assert_string_equal(e.code, code);
    assert_string_equal(e.field, field);
    if (strstr(e.message, column) == NULL)
        fail_msg("\"%s\" does not name %s", e.message, column);
    sheet_close(&s);
}

static void test_profile_rejections(void **state)
{
    (void)state;
    expect_reject("x,1,三十,,,,,,,,,,,,,,,,", "invalid_number", "age",
                  "column 3 (年龄)");
    expect_reject("x,1,200,,,,,,,,,,,,,,,,", "invalid_number", "age", "年龄");
    expect_reject("x,1,,两,,,,,,,,,,,,,,,", "invalid_number", "household.size",
                  "家庭人数");
    expect_reject("x,1,,,5;九,,,,,,,,,,,,,,", "invalid_number",
                  "household.children", "column 5 (子女年龄)");
    expect_reject("x,1,,,,,,,,,,也许,,,,,,,", "invalid_bool",
                  "consent.contactAllowed", "同意联系");
    expect_reject("x,1,,,,,,,,,,,maybe,,,,,,", "invalid_bool",
                  "consent.doNotDisturb", "免打扰");
    expect_reject("x,1,,,,,,,,,,,,1990-02-30,,,,,", "invalid_date", "birthday",
                  "column 14 (生日)");
    expect_reject("x,1,,,,,,,,,,,,1989-02-29,,,,,", "invalid_date", "birthday",
                  "生日");
    expect_reject("x,1,,,,,,,,,,,,农历1990-13-01,,,,,", "invalid_date",
                  "birthday", "生日");
    expect_reject("x,1,,,,,,,,,,,,四月十二,,,,,", "invalid_date", "birthday",
                  "生日");
    expect_reject("x,1,,,,,,,,,a;b;c;d;e;f;g;h;i;j;k;l;m;n;o;p;q,,,,,,,,",
                  "too_many", "hobbies", "爱好");
}

static void test_civil_dates(void **state)
{
    Keyuan__V1__CivilDate d;

    (void)state;
    assert_int_equal(ctl_parse_civil_date("2000-02-29", &d), KY_OK);
    assert_int_equal(ctl_parse_civil_date("1990.4.12", &d), KY_OK);
    assert_int_equal(d.month, 4);
    assert_int_equal(ctl_parse_civil_date("lunar 1990-04-30", &d), KY_OK);
    assert_true(d.lunar);
    assert_false(d.leap_month);
    assert_int_equal(ctl_parse_civil_date("阴历2001-闰4-1", &d), KY_OK);
    assert_true(d.leap_month);
    assert_int_equal(ctl_parse_civil_date("1900-02-29", &d), KY_EINVAL);
    assert_int_equal(ctl_parse_civil_date("1990-闰04-12", &d), KY_EINVAL);
    assert_int_equal(ctl_parse_civil_date("农历1990-04-31", &d), KY_EINVAL);
    assert_int_equal(ctl_parse_civil_date("1899-01-01", &d), KY_EINVAL);
    assert_int_equal(ctl_parse_civil_date("1990-04-12x", &d), KY_EINVAL);
    assert_int_equal(ctl_parse_civil_date("1990-04/12", &d), KY_EINVAL);
    assert_int_equal(ctl_parse_civil_date("", &d), KY_EINVAL);
}

/* --- contacts -------------------------------------------------------- */

static void test_contact_row(void **state)
{
    static const char text[] =
        "来源编号,客户编号,方式,沟通时间,内容,客户反馈,下一步,下一步时间,"
        "经纪人\n"
        "c-1,42,微信,2026-05-01 09:30,介绍了两套,嫌贵,约看房,"
        "2026-05-03 14:00,a01\n"
        "c-2,42,到访,,,,,,\n"
        "c-3,0,phone,,,,,,\n"
        "c-4,42,传真,,,,,,\n";
    sheet_t s;
    ctl_contact_t c;
    ctl_rowerr_t e;
    char err[128];

    (void)state;
    assert_int_equal(sheet_open(&s, text, err, sizeof err, true), KY_OK);
    assert_int_equal(ctl_contact_from_row(&s.h, sheet_row(&s), "csv", &c, &e),
                     KY_OK);
    assert_string_equal(c.ev.source, "csv");
    assert_string_equal(c.ev.source_event_id, "c-1");
    assert_int_equal(c.ev.customer_id, 42);
    assert_int_equal(c.ev.channel, KEYUAN__V1__CHANNEL__CHANNEL_WECHAT);
    assert_int_equal(c.ev.contacted_at->seconds, 1777599000);
    assert_string_equal(c.ev.summary, "介绍了两套");
    assert_string_equal(c.ev.feedback, "嫌贵");
    assert_non_null(c.ev.next_step);
    assert_string_equal(c.ev.next_step->action, "约看房");
    assert_int_equal(c.ev.next_step->due_at->seconds, 1777788000);
    assert_string_equal(c.ev.agent_id, "a01");

    assert_int_equal(ctl_contact_from_row(&s.h, sheet_row(&s), "csv", &c, &e),
                     KY_OK);
    assert_int_equal(c.ev.channel, KEYUAN__V1__CHANNEL__CHANNEL_VISIT);
    assert_null(c.ev.next_step);
    assert_null(c.ev.contacted_at);

    assert_int_equal(ctl_contact_from_row(&s.h, sheet_row(&s), "csv", &c, &e),
                     KY_EINVAL);
    assert_string_equal(e.field, "customerId");
    assert_int_equal(ctl_contact_from_row(&s.h, sheet_row(&s), "csv", &c, &e),
                     KY_EINVAL);
    assert_string_equal(e.code, "invalid_enum");
    assert_non_null(strstr(e.message, "方式"));
    sheet_close(&s);

    assert_int_equal(sheet_open(&s, "来源编号,内容\n", err, sizeof err, true),
                     KY_EINVAL);
    assert_non_null(strstr(err, "customer_id"));
    sheet_close(&s);
}

/* --- log contact: changes and event ids ------------------------------ */

static void test_changes_build_profile(void **state)
{
    ctl_changes_t ch = {0};
    Keyuan__V1__Profile *p;
    char err[256];

    (void)state;
    assert_int_equal(
        ctl_changes_add(&ch, "needs.budget_max_wan=600", err, sizeof err),
        KY_OK);
    assert_int_equal(
        ctl_changes_add(&ch, "needs.regionCodes=[\"110105\"]", err, sizeof err),
        KY_OK);
    assert_int_equal(ctl_changes_add(&ch, "occupation=教师", err, sizeof err),
                     KY_OK);
    assert_int_equal(
        ctl_changes_add(&ch, "consent.doNotDisturb=true", err, sizeof err),
        KY_OK);
    assert_int_equal(ctl_changes_add(&ch, "lifestyle=", err, sizeof err),
                     KY_OK);
    assert_int_equal(ch.npaths, 5);
    assert_string_equal(ch.paths[0], "needs.budgetMaxWan");
    assert_string_equal(ch.paths[1], "needs.regionCodes");
    assert_string_equal(ch.paths[3], "consent.doNotDisturb");

    assert_int_equal(ctl_changes_build(&ch, &p, err, sizeof err), KY_OK);
    assert_int_equal(p->needs->budget_max_wan, 600);
    assert_string_equal(p->needs->region_codes[0], "110105");
    assert_string_equal(p->occupation, "教师");
    assert_true(p->consent->do_not_disturb);
    assert_string_equal(p->lifestyle, "");
    protobuf_c_message_free_unpacked(&p->base, NULL);
    ctl_changes_clear(&ch);
    assert_int_equal(ctl_changes_build(&ch, &p, err, sizeof err), KY_OK);
    assert_null(p);
}

static void test_changes_refused(void **state)
{
    ctl_changes_t ch = {0};
    Keyuan__V1__Profile *p;
    char err[256];

    (void)state;
    assert_int_equal(ctl_changes_add(&ch, "needs.budget=1", err, sizeof err),
                     KY_EINVAL);
    assert_non_null(strstr(err, "needs.budget"));
    assert_int_equal(ctl_changes_add(&ch, "hobbies.x=1", err, sizeof err),
                     KY_EINVAL);
    assert_int_equal(ctl_changes_add(&ch, "=1", err, sizeof err), KY_EINVAL);
    assert_int_equal(ctl_changes_add(&ch, "name", err, sizeof err), KY_EINVAL);
    assert_int_equal(ctl_changes_add(&ch, "needs.bedrooms=3", err, sizeof err),
                     KY_OK);
    assert_int_equal(ctl_changes_add(&ch, "needs={}", err, sizeof err),
                     KY_EINVAL);
    assert_non_null(strstr(err, "overlaps"));
    assert_int_equal(ctl_changes_add(&ch, "needs.bedrooms=4", err, sizeof err),
                     KY_EINVAL);
    assert_int_equal(ctl_changes_add(&ch, "age=old", err, sizeof err), KY_OK);
    assert_int_equal(ctl_changes_build(&ch, &p, err, sizeof err), KY_EINVAL);
    assert_null(p);
    assert_non_null(strstr(err, "age"));
    ctl_changes_clear(&ch);
}

static void test_event_ids(void **state)
{
    char a[CTL_EVENT_ID_SIZE], b[CTL_EVENT_ID_SIZE];

    (void)state;
    assert_int_equal(ctl_event_id_new(a), KY_OK);
    assert_int_equal(ctl_event_id_new(b), KY_OK);
    assert_int_equal(strlen(a), 36);
    assert_string_not_equal(a, b);
    assert_int_equal(a[8], '-');
    assert_int_equal(a[14], '4'); /* version 4 */
    assert_true(strchr("89ab", a[19]) != NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_records_from_every_encoding),
        cmocka_unit_test(test_utf16_tab_separated),
        cmocka_unit_test(test_gbk_found_after_ascii_rows),
        cmocka_unit_test(test_utf8_with_a_damaged_cell_stays_utf8),
        cmocka_unit_test(test_gb18030_bad_bytes_marked),
        cmocka_unit_test(test_decode_from_a_pipe),
        cmocka_unit_test(test_sniff_delimiter),
        cmocka_unit_test(test_profile_columns_chinese),
        cmocka_unit_test(test_profile_columns_english),
        cmocka_unit_test(test_profile_rejections),
        cmocka_unit_test(test_civil_dates),
        cmocka_unit_test(test_contact_row),
        cmocka_unit_test(test_changes_build_profile),
        cmocka_unit_test(test_changes_refused),
        cmocka_unit_test(test_event_ids),
    };

    return cmocka_run_group_tests_name("keyuanctl_import", tests, NULL, NULL);
}
