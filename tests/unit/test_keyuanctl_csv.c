/*
 * test_keyuanctl_csv.c - keyuanctl's import path without a service: the
 * CSV reader's edge cases, header mapping in English and Chinese, enum
 * spellings, values (times, durations, endpoints), and rows made into
 * LeadEvent and ListingEvent messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../services/keyuanctl/csv.h"
#include "../../services/keyuanctl/parse.h"
#include "../../services/keyuanctl/rows.h"
#include "err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- helpers --------------------------------------------------------- */

typedef struct reader {
    FILE *f;
    ctl_csv_t *csv;
    ctl_csv_row_t row;
} reader_t;

static void reader_open(reader_t *r, const char *text, size_t len)
{
    r->f = fmemopen((void *)text, len, "r");
    assert_non_null(r->f);
    r->csv = ctl_csv_new(r->f);
    assert_non_null(r->csv);
}

static void reader_close(reader_t *r)
{
    ctl_csv_destroy(&r->csv);
    assert_null(r->csv);
    fclose(r->f);
}

/* Reads the next record and checks its line and cells. */
static void expect_row(reader_t *r, long line, size_t n, ...)
{
    va_list ap;

    assert_int_equal(ctl_csv_next(r->csv, &r->row), 1);
    assert_null(r->row.error);
    assert_int_equal(r->row.line, line);
    assert_int_equal(r->row.nfields, n);
    va_start(ap, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(r->row.fields[i], va_arg(ap, const char *));
    va_end(ap);
}

static void expect_end(reader_t *r)
{
    assert_int_equal(ctl_csv_next(r->csv, &r->row), 0);
    assert_int_equal(ctl_csv_next(r->csv, &r->row), 0);
}

#define OPEN(r, s) reader_open(r, s, sizeof(s) - 1)

/* --- CSV ------------------------------------------------------------- */

static void test_csv_plain(void **state)
{
    reader_t r;

    (void)state;
    OPEN(&r, "a,b,c\n1,2,3\n");
    expect_row(&r, 1, 3, "a", "b", "c");
    expect_row(&r, 2, 3, "1", "2", "3");
    expect_end(&r);
    reader_close(&r);
}

static void test_csv_quotes(void **state)
{
    reader_t r;

    (void)state;
    OPEN(&r, "\"a,b\",\"say \"\"hi\"\"\",\"\"\n\"x\",y\n");
    expect_row(&r, 1, 3, "a,b", "say \"hi\"", "");
    expect_row(&r, 2, 2, "x", "y");
    expect_end(&r);
    reader_close(&r);
}

static void test_csv_embedded_newlines(void **state)
{
    reader_t r;

    (void)state;
    OPEN(&r, "id,note\r\n1,\"line one\r\nline two\nthree\"\r\n2,x\r\n");
    expect_row(&r, 1, 2, "id", "note");
    expect_row(&r, 2, 2, "1", "line one\nline two\nthree");
    expect_row(&r, 5, 2, "2", "x"); /* line numbers count the file's lines */
    expect_end(&r);
    reader_close(&r);
}

static void test_csv_crlf_and_cr(void **state)
{
    reader_t r;

    (void)state;
    OPEN(&r, "a,b\r\n1,2\r3,4\r\n");
    expect_row(&r, 1, 2, "a", "b");
    expect_row(&r, 2, 2, "1", "2");
    expect_row(&r, 3, 2, "3", "4");
    expect_end(&r);
    reader_close(&r);
}

static void test_csv_bom_blank_lines_no_final_newline(void **state)
{
    reader_t r;

    (void)state;
    OPEN(&r, "\xEF\xBB\xBFname,x\n\n\r\n张三,\n\"\"\nlast,1");
    expect_row(&r, 1, 2, "name", "x");
    expect_row(&r, 4, 2, "张三", "");
    expect_row(&r, 5, 1, ""); /* "" is a record with one empty cell */
    expect_row(&r, 6, 2, "last", "1");
    expect_end(&r);
    reader_close(&r);
}

static void test_csv_partial_bom_kept(void **state)
{
    reader_t r;

    (void)state;
    OPEN(&r, "\xEF\xBBx,y\n");
    expect_row(&r, 1, 2, "\xEF\xBBx", "y");
    expect_end(&r);
    reader_close(&r);
}

static void test_csv_empty_input(void **state)
{
    reader_t r;

    (void)state;
    OPEN(&r, "\n\n");
    expect_end(&r);
    reader_close(&r);
}

static void test_csv_text_after_quote(void **state)
{
    reader_t r;

    (void)state;
    OPEN(&r, "\"ab\"c,d\nok,1\n");
    assert_int_equal(ctl_csv_next(r.csv, &r.row), 1);
    assert_non_null(r.row.error);
    assert_int_equal(r.row.line, 1);
    expect_row(&r, 2, 2, "ok", "1"); /* the next record is unharmed */
    expect_end(&r);
    reader_close(&r);
}

static void test_csv_unterminated_quote(void **state)
{
    reader_t r;

    (void)state;
    OPEN(&r, "a,b\n1,\"open\n2,3\n");
    expect_row(&r, 1, 2, "a", "b");
    assert_int_equal(ctl_csv_next(r.csv, &r.row), 1);
    assert_int_equal(r.row.line, 2);
    assert_non_null(r.row.error);
    assert_non_null(strstr(r.row.error, "not closed"));
    expect_end(&r);
    reader_close(&r);
}

static void test_csv_nul_byte(void **state)
{
    static const char text[] = "a,b\x00z\nc,d\n";
    reader_t r;

    (void)state;
    reader_open(&r, text, sizeof text - 1);
    assert_int_equal(ctl_csv_next(r.csv, &r.row), 1);
    assert_non_null(r.row.error);
    expect_row(&r, 2, 2, "c", "d");
    reader_close(&r);
}

static void test_csv_bare_quote_inside_cell(void **state)
{
    reader_t r;

    (void)state;
    OPEN(&r, "5\"6,x\n"); /* lenient, as most readers are */
    expect_row(&r, 1, 2, "5\"6", "x");
    reader_close(&r);
}

static void test_csv_long_record(void **state)
{
    size_t n = CTL_CSV_MAX_RECORD + 100;
    char *text = malloc(n + 8);
    reader_t r;

    (void)state;
    memset(text, 'x', n);
    memcpy(text + n, "\nok\n", 4);
    reader_open(&r, text, n + 4);
    assert_int_equal(ctl_csv_next(r.csv, &r.row), 1);
    assert_non_null(r.row.error);
    assert_int_equal(r.row.nfields, 0);
    expect_row(&r, 2, 1, "ok");
    reader_close(&r);
    free(text);
}

static void test_csv_offset(void **state)
{
    reader_t r;

    (void)state;
    OPEN(&r, "\xEF\xBB\xBF"
             "ab\ncd\r\n");
    expect_row(&r, 1, 1, "ab");
    assert_int_equal(ctl_csv_offset(r.csv), 6);
    expect_row(&r, 2, 1, "cd");
    assert_int_equal(ctl_csv_offset(r.csv), 10);
    reader_close(&r);
}

/* --- values ---------------------------------------------------------- */

static void test_parse_uint(void **state)
{
    uint64_t v = 7;

    (void)state;
    assert_int_equal(ctl_parse_uint("", UINT32_MAX, &v), KY_OK);
    assert_int_equal(v, 0);
    assert_int_equal(ctl_parse_uint("4294967295", UINT32_MAX, &v), KY_OK);
    assert_int_equal(v, 4294967295u);
    assert_int_equal(ctl_parse_uint("4294967296", UINT32_MAX, &v), KY_EINVAL);
    assert_int_equal(ctl_parse_uint("3室", UINT32_MAX, &v), KY_EINVAL);
    assert_int_equal(ctl_parse_uint("-1", UINT32_MAX, &v), KY_EINVAL);
    assert_int_equal(ctl_parse_uint("2.5", UINT32_MAX, &v), KY_EINVAL);
}

static void test_parse_double(void **state)
{
    double d;

    (void)state;
    assert_int_equal(ctl_parse_double("89.5", &d), KY_OK);
    assert_true(d == 89.5);
    assert_int_equal(ctl_parse_double("1e3", &d), KY_OK);
    assert_true(d == 1000);
    assert_int_equal(ctl_parse_double("nan", &d), KY_EINVAL);
    assert_int_equal(ctl_parse_double("inf", &d), KY_EINVAL);
    assert_int_equal(ctl_parse_double("0x10", &d), KY_EINVAL);
    assert_int_equal(ctl_parse_double("1,5", &d), KY_EINVAL);
    assert_int_equal(ctl_parse_double("1e999", &d), KY_EINVAL);
}

static void test_parse_time(void **state)
{
    int64_t ms;

    (void)state;
    assert_int_equal(ctl_parse_time("2026-05-01T09:30:00+08:00", &ms), 0);
    assert_int_equal(ms, 1777599000000LL);
    assert_int_equal(ctl_parse_time("2026-05-01 09:30", &ms), 0);
    assert_int_equal(ms, 1777599000000LL); /* Beijing time */
    assert_int_equal(ctl_parse_time("2026/5/1 9:30:00", &ms), 0);
    assert_int_equal(ms, 1777599000000LL);
    assert_int_equal(ctl_parse_time("2026-05-01", &ms), 0);
    assert_int_equal(ms, 1777564800000LL);
    assert_int_equal(ctl_parse_time("2021-11", &ms), 0);
    assert_int_equal(ms, 1635696000000LL);
    assert_int_equal(ctl_parse_time("2026-02-30", &ms), KY_EINVAL);
    assert_int_equal(ctl_parse_time("2026-13-01", &ms), KY_EINVAL);
    assert_int_equal(ctl_parse_time("yesterday", &ms), KY_EINVAL);
    assert_int_equal(ctl_parse_time("2026-05-01 25:00", &ms), KY_EINVAL);
}

static void test_parse_duration(void **state)
{
    int64_t ms;

    (void)state;
    assert_int_equal(ctl_parse_duration("90s", &ms), 0);
    assert_int_equal(ms, 90000);
    assert_int_equal(ctl_parse_duration("15m", &ms), 0);
    assert_int_equal(ms, 900000);
    assert_int_equal(ctl_parse_duration("3d", &ms), 0);
    assert_int_equal(ms, 3 * 86400000LL);
    assert_int_equal(ctl_parse_duration("1h30m", &ms), 0);
    assert_int_equal(ms, 5400000);
    assert_int_equal(ctl_parse_duration("250ms", &ms), 0);
    assert_int_equal(ms, 250);
    assert_int_equal(ctl_parse_duration("", &ms), KY_EINVAL);
    assert_int_equal(ctl_parse_duration("0s", &ms), KY_EINVAL);
    assert_int_equal(ctl_parse_duration("5", &ms), KY_EINVAL);
    assert_int_equal(ctl_parse_duration("5y", &ms), KY_EINVAL);
    assert_int_equal(ctl_parse_duration("-5m", &ms), KY_EINVAL);
}

static void test_endpoint(void **state)
{
    static const char *const cases[][2] = {
        {":7103", "tcp://127.0.0.1:7103"},
        {"7101", "tcp://127.0.0.1:7101"},
        {"10.0.0.2:7101", "tcp://10.0.0.2:7101"},
        {"ipc:///tmp/x", "ipc:///tmp/x"}};

    (void)state;
    for (size_t i = 0; i < 4; i++) {
        char *ep = ctl_endpoint(cases[i][0]);

        assert_string_equal(ep, cases[i][1]);
        free(ep);
    }
    assert_null(ctl_endpoint(""));
}

static void test_enums(void **state)
{
    static const struct {
        const ctl_enum_spec_t *spec;
        const char *text;
        int value;
    } ok[] = {{&ctl_enum_purpose, "own_home", 1},
              {&ctl_enum_purpose, "PURPOSE_OWN_HOME", 1},
              {&ctl_enum_purpose, "Own-Home", 1},
              {&ctl_enum_purpose, "自住", 1},
              {&ctl_enum_purpose, "改善", 2},
              {&ctl_enum_purpose, "投资", 3},
              {&ctl_enum_purpose, "学区", 4},
              {&ctl_enum_purpose, "school_district", 4},
              {&ctl_enum_purpose, "", 0},
              {&ctl_enum_stage, "刚开始了解", 1},
              {&ctl_enum_stage, "目标明确", 2},
              {&ctl_enum_stage, "对比中", 3},
              {&ctl_enum_stage, "comparing", 3},
              {&ctl_enum_stage, "STAGE_CLEAR_TARGET", 2}};
    char name[32];
    int v;

    (void)state;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        v = -1;
        assert_int_equal(ctl_parse_enum(ok[i].spec, ok[i].text, &v), KY_OK);
        assert_int_equal(v, ok[i].value);
    }
    assert_int_equal(ctl_parse_enum(&ctl_enum_purpose, "holiday", &v),
                     KY_EINVAL);
    assert_int_equal(ctl_parse_enum(&ctl_enum_stage, "own_home", &v),
                     KY_EINVAL);
    assert_int_equal(ctl_parse_enum(&ctl_enum_stage, "自住", &v), KY_EINVAL);
    assert_string_equal(
        ctl_enum_short(ctl_enum_purpose.desc, "PURPOSE_", 4, name, sizeof name),
        "school_district");
    assert_string_equal(ctl_enum_short(ctl_enum_purpose.desc, "PURPOSE_", 99,
                                       name, sizeof name),
                        "99");
}

/* --- headers and rows ------------------------------------------------ */

typedef struct sheet {
    reader_t r;
    ctl_header_t h;
} sheet_t;

/* Opens text and maps its header for leads (or listings). */
static int sheet_open(sheet_t *s, const char *text, bool listings, char *errbuf,
                      size_t errlen)
{
    ctl_csv_row_t hdr;

    memset(s, 0, sizeof *s);
    reader_open(&s->r, text, strlen(text));
    assert_int_equal(ctl_csv_next(s->r.csv, &hdr), 1);
    return listings ? ctl_header_listings(&hdr, &s->h, NULL, errbuf, errlen)
                    : ctl_header_leads(&hdr, &s->h, NULL, errbuf, errlen);
}

static void sheet_close(sheet_t *s)
{
    ctl_header_clear(&s->h);
    reader_close(&s->r);
}

static ctl_csv_row_t *sheet_row(sheet_t *s)
{
    assert_int_equal(ctl_csv_next(s->r.csv, &s->r.row), 1);
    return &s->r.row;
}

static void test_header_english_and_camel(void **state)
{
    sheet_t s;
    char err[128];

    (void)state;
    assert_int_equal(sheet_open(&s, "Source, sourceEventId ,mobile,extra\n",
                                false, err, sizeof err),
                     KY_OK);
    assert_int_equal(s.h.ncols, 4);
    assert_non_null(s.h.col[0]);
    assert_non_null(s.h.col[1]);
    assert_non_null(s.h.col[2]);
    assert_null(s.h.col[3]); /* unknown: ignored */
    sheet_close(&s);
}

static void test_header_errors(void **state)
{
    sheet_t s;
    char err[128];

    (void)state;
    assert_int_equal(sheet_open(&s, "source,mobile\n", false, err, sizeof err),
                     KY_EINVAL);
    assert_non_null(strstr(err, "source_event_id"));
    sheet_close(&s);
    assert_int_equal(
        sheet_open(&s, "source_event_id,手机,mobile\n", false, err, sizeof err),
        KY_EINVAL);
    assert_non_null(strstr(err, "columns 2 and 3"));
    sheet_close(&s);
    assert_int_equal(sheet_open(&s, "row_id,city\n", true, err, sizeof err),
                     KY_EINVAL);
    assert_non_null(strstr(err, "area_m2"));
    sheet_close(&s);
}

static void test_lead_row_english(void **state)
{
    static const char text[] =
        "source,source_event_id,occurred_at,name,mobile,wechat_id,email,"
        "purpose,bedrooms,living_rooms,area_min_m2,area_max_m2,region_codes,"
        "budget_min_wan,budget_max_wan,timeline_months,stage,note,agent_id\n"
        "58,ev-1,2026-05-01T09:30:00+08:00,Li Lei,13800138000,lilei,"
        "li@example.com,upgrade,3,2,90,120,\"110105; 110108|110101\",500,"
        "650,3,clear_target,\"wants, quiet\",agent-7\n";
    sheet_t s;
    ctl_lead_t lead;
    ctl_rowerr_t e;
    char err[128];

    (void)state;
    assert_int_equal(sheet_open(&s, text, false, err, sizeof err), KY_OK);
    assert_int_equal(ctl_lead_from_row(&s.h, sheet_row(&s), "csv", &lead, &e),
                     KY_OK);
    assert_string_equal(lead.ev.source, "58");
    assert_string_equal(lead.ev.source_event_id, "ev-1");
    assert_non_null(lead.ev.occurred_at);
    assert_int_equal(lead.ev.occurred_at->seconds, 1777599000);
    assert_string_equal(lead.ev.name, "Li Lei");
    assert_string_equal(lead.ev.contacts->mobile, "13800138000");
    assert_string_equal(lead.ev.contacts->wechat_id, "lilei");
    assert_string_equal(lead.ev.contacts->email, "li@example.com");
    assert_int_equal(lead.ev.needs->purpose, 2);
    assert_int_equal(lead.ev.needs->bedrooms, 3);
    assert_int_equal(lead.ev.needs->living_rooms, 2);
    assert_int_equal(lead.ev.needs->area_min_m2, 90);
    assert_int_equal(lead.ev.needs->area_max_m2, 120);
    assert_int_equal(lead.ev.needs->n_region_codes, 3);
    assert_string_equal(lead.ev.needs->region_codes[0], "110105");
    assert_string_equal(lead.ev.needs->region_codes[1], "110108");
    assert_string_equal(lead.ev.needs->region_codes[2], "110101");
    assert_int_equal(lead.ev.needs->budget_min_wan, 500);
    assert_int_equal(lead.ev.needs->budget_max_wan, 650);
    assert_int_equal(lead.ev.needs->timeline_months, 3);
    assert_int_equal(lead.ev.needs->stage, 2);
    assert_string_equal(lead.ev.note, "wants, quiet");
    assert_string_equal(lead.ev.agent_id, "agent-7");
    sheet_close(&s);
}

static void test_lead_row_chinese(void **state)
{
    static const char text[] =
        "\xEF\xBB\xBF来源,来源编号,时间,姓名,手机,微信,邮箱,购房目的,室,厅,"
        "最小面积,最大面积,意向区域,最低预算（万）,最高预算(万),购房时间(月),"
        "阶段,备注,经纪人\r\n"
        ",zh-1,2026-05-01 09:30,张三,138 0013 8000,zs88,,学区,2,1,,,"
        "440305,300,,6,对比中,\"看房\n周末\",\r\n";
    sheet_t s;
    ctl_lead_t lead;
    ctl_rowerr_t e;
    char err[128];
    ctl_csv_row_t *row;

    (void)state;
    assert_int_equal(sheet_open(&s, text, false, err, sizeof err), KY_OK);
    for (size_t i = 0; i < s.h.ncols; i++)
        assert_non_null(s.h.col[i]);
    row = sheet_row(&s);
    assert_string_equal(ctl_row_id(&s.h, row), "zh-1");
    assert_int_equal(ctl_lead_from_row(&s.h, row, "csv", &lead, &e), KY_OK);
    assert_string_equal(lead.ev.source, "csv"); /* empty: the default */
    assert_int_equal(lead.ev.occurred_at->seconds, 1777599000);
    assert_string_equal(lead.ev.name, "张三");
    assert_string_equal(lead.ev.contacts->mobile, "138 0013 8000");
    assert_int_equal(lead.ev.needs->purpose, 4);
    assert_int_equal(lead.ev.needs->area_min_m2, 0);
    assert_int_equal(lead.ev.needs->budget_min_wan, 300);
    assert_int_equal(lead.ev.needs->budget_max_wan, 0);
    assert_int_equal(lead.ev.needs->stage, 3);
    assert_string_equal(lead.ev.note, "看房\n周末");
    assert_string_equal(lead.ev.agent_id, "");
    sheet_close(&s);
}

/* Maps one lead row under header and expects a rejection. */
static void expect_lead_reject(const char *text, const char *code,
                               const char *field)
{
    sheet_t s;
    ctl_lead_t lead;
    ctl_rowerr_t e;
    char err[128];

    assert_int_equal(sheet_open(&s, text, false, err, sizeof err), KY_OK);
    assert_int_equal(ctl_lead_from_row(&s.h, sheet_row(&s), "csv", &lead, &e),
                     KY_EINVAL);
    assert_string_equal(e.code, code);
    assert_string_equal(e.field, field);
    assert_true(strlen(e.message) > 0);
    sheet_close(&s);
}

static void test_lead_row_rejections(void **state)
{
    (void)state;
    expect_lead_reject("source_event_id,室\nx,三\n", "invalid_number",
                       "needs.bedrooms");
    expect_lead_reject("source_event_id,budget_max_wan\nx,-5\n",
                       "invalid_number", "needs.budgetMaxWan");
    expect_lead_reject("source_event_id,purpose\nx,holiday\n", "invalid_enum",
                       "needs.purpose");
    expect_lead_reject("source_event_id,阶段\nx,自住\n", "invalid_enum",
                       "needs.stage");
    expect_lead_reject("source_event_id,时间\nx,tomorrow\n", "invalid_time",
                       "occurredAt");
    expect_lead_reject("source_event_id,name\nx,a,b\n", "malformed_row", "");
    expect_lead_reject("source_event_id,name\nx,\"a\"b\n", "malformed_csv", "");
    expect_lead_reject("source_event_id,name\nx,\xC0\xAF\n", "invalid_utf8",
                       "name");
    expect_lead_reject("source_event_id,意向区域\nx,1;2;3;4;5;6;7;8;9;10;11;"
                       "12;13;14;15;16;17\n",
                       "too_many", "needs.regionCodes");
}

static void test_lead_row_short_row(void **state)
{
    sheet_t s;
    ctl_lead_t lead;
    ctl_rowerr_t e;
    char err[128];

    (void)state;
    assert_int_equal(
        sheet_open(&s, "source_event_id,name,室\nx\n", false, err, sizeof err),
        KY_OK);
    assert_int_equal(ctl_lead_from_row(&s.h, sheet_row(&s), NULL, &lead, &e),
                     KY_OK);
    assert_string_equal(lead.ev.source_event_id, "x");
    assert_string_equal(lead.ev.name, "");
    assert_string_equal(lead.ev.source, "");
    assert_null(lead.ev.occurred_at);
    assert_int_equal(lead.ev.needs->bedrooms, 0);
    sheet_close(&s);
}

/* The header of the shared Lianjia sample (names only, no data). */
#define LISTING_HEADER                                                         \
    "row_id,city,district,district_code,bizcircle,community,layout,"           \
    "bedrooms,living_rooms,area_m2,total_price_wan,unit_price_yuan_m2,"        \
    "unit_price_derived,floor_level,total_floors,orientation,decoration,"      \
    "building_type,elevator,build_year,source,snapshot\n"

static void test_listing_row(void **state)
{
    static const char text[] = LISTING_HEADER
        "T0001,北京市,朝阳区,110105,望京,示例小区,2室1厅,2,1,66.5,500,,1,中,"
        "21,南北,精装,板楼,1,2005,somewhere/data.csv,2021-11\n"
        "T0002,深圳市,南山区,440305,科技园,别墅区,独栋别墅,,,300,2000,66667,0,"
        ",,,,,,,x,2018-09\n";
    sheet_t s;
    ctl_listing_t l;
    ctl_rowerr_t e;
    char err[128];

    (void)state;
    assert_int_equal(sheet_open(&s, text, true, err, sizeof err), KY_OK);
    assert_int_equal(ctl_listing_from_row(&s.h, sheet_row(&s), "csv", &l, &e),
                     KY_OK);
    assert_string_equal(l.ev.source, "csv");
    assert_string_equal(l.ev.source_event_id, "T0001");
    assert_string_equal(l.ev.listing_id, "T0001");
    assert_string_equal(l.ev.city, "北京市");
    assert_string_equal(l.ev.district_code, "110105");
    assert_string_equal(l.ev.community, "示例小区");
    assert_int_equal(l.ev.bedrooms, 2);
    assert_true(l.ev.area_m2 == 66.5);
    assert_true(l.ev.total_price_wan == 500);
    assert_true(l.ev.unit_price_yuan_m2 > 75187 &&
                l.ev.unit_price_yuan_m2 < 75188); /* derived */
    assert_string_equal(l.ev.floor_level, "中");
    assert_int_equal(l.ev.total_floors, 21);
    assert_int_equal(l.ev.build_year, 2005);
    assert_non_null(l.ev.listed_at);
    assert_int_equal(l.ev.listed_at->seconds, 1635696000);

    assert_int_equal(ctl_listing_from_row(&s.h, sheet_row(&s), "feed", &l, &e),
                     KY_OK);
    assert_string_equal(l.ev.source, "feed");
    assert_int_equal(l.ev.bedrooms, 0); /* a villa: no rooms given */
    assert_int_equal(l.ev.build_year, 0);
    assert_true(l.ev.unit_price_yuan_m2 == 66667);
    sheet_close(&s);
}

static void expect_listing_reject(const char *row, const char *code,
                                  const char *field)
{
    char text[1024];
    sheet_t s;
    ctl_listing_t l;
    ctl_rowerr_t e;
    char err[128];

    snprintf(text, sizeof text, "%s%s\n", LISTING_HEADER, row);
    assert_int_equal(sheet_open(&s, text, true, err, sizeof err), KY_OK);
    assert_int_equal(ctl_listing_from_row(&s.h, sheet_row(&s), "csv", &l, &e),
                     KY_EINVAL);
    assert_string_equal(e.code, code);
    assert_string_equal(e.field, field);
    sheet_close(&s);
}

static void test_listing_rejections(void **state)
{
    (void)state;
    expect_listing_reject("T1,c,d,1,b,m,l,2,1,,500,,,,,,,,,,,2021-11",
                          "missing_field", "areaM2");
    expect_listing_reject("T1,c,d,1,b,m,l,2,1,大,500,,,,,,,,,,,2021-11",
                          "invalid_number", "areaM2");
    expect_listing_reject("T1,c,d,1,b,m,l,2,1,50,0,,,,,,,,,,,2021-11",
                          "invalid_number", "totalPriceWan");
    expect_listing_reject("T1,c,d,1,b,m,l,two,1,50,300,,,,,,,,,,,2021-11",
                          "invalid_number", "bedrooms");
    expect_listing_reject("T1,c,d,1,b,m,l,2,1,50,300,,,,6F,,,,,,,2021-11",
                          "invalid_number", "totalFloors");
    expect_listing_reject("T1,c,d,1,b,m,l,2,1,50,300,,,,,,,,,,,Nov 2021",
                          "invalid_time", "listedAt");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_plain),
        cmocka_unit_test(test_csv_quotes),
        cmocka_unit_test(test_csv_embedded_newlines),
        cmocka_unit_test(test_csv_crlf_and_cr),
        cmocka_unit_test(test_csv_bom_blank_lines_no_final_newline),
        cmocka_unit_test(test_csv_partial_bom_kept),
        cmocka_unit_test(test_csv_empty_input),
        cmocka_unit_test(test_csv_text_after_quote),
        cmocka_unit_test(test_csv_unterminated_quote),
        cmocka_unit_test(test_csv_nul_byte),
        cmocka_unit_test(test_csv_bare_quote_inside_cell),
        cmocka_unit_test(test_csv_long_record),
        cmocka_unit_test(test_csv_offset),
        cmocka_unit_test(test_parse_uint),
        cmocka_unit_test(test_parse_double),
        cmocka_unit_test(test_parse_time),
        cmocka_unit_test(test_parse_duration),
        cmocka_unit_test(test_endpoint),
        cmocka_unit_test(test_enums),
        cmocka_unit_test(test_header_english_and_camel),
        cmocka_unit_test(test_header_errors),
        cmocka_unit_test(test_lead_row_english),
        cmocka_unit_test(test_lead_row_chinese),
        cmocka_unit_test(test_lead_row_rejections),
        cmocka_unit_test(test_lead_row_short_row),
        cmocka_unit_test(test_listing_row),
        cmocka_unit_test(test_listing_rejections),
    };

    return cmocka_run_group_tests_name("keyuanctl_csv", tests, NULL, NULL);
}
