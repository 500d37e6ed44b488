/*
 * test_grading.c - the grading rules: parsing (the shipped file, a valid
 * file, every kind of error with its line), each fact's evaluation
 * including unknown values, and the reason sentences.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../services/grading/rules.h"

#include <stdio.h>
#include <string.h>

#define A KEYUAN__V1__GRADE__GRADE_A
#define B KEYUAN__V1__GRADE__GRADE_B
#define C KEYUAN__V1__GRADE__GRADE_C
#define LEAD KEYUAN__V1__GRADE__GRADE_LEAD

/* Parses text, which must be valid. */
static rules_t *parse_ok(const char *text)
{
    char err[512] = "";
    rules_t *r = rules_parse(text, "t.rules", err, sizeof err);

    if (r == NULL)
        fail_msg("unexpected parse error: %s", err);
    return r;
}

/* Grades f by a one-condition rule followed by a catch-all. */
static int grade_by(const char *cond, const rules_facts_t *f,
                    rules_verdict_t *v)
{
    char text[256];
    rules_t *r;

    snprintf(text, sizeof text, "rule r grade=A when %s\nrule l grade=LEAD\n",
             cond);
    r = parse_ok(text);
    rules_eval(r, f, v);
    rules_destroy(&r);
    return v->grade;
}

static bool holds(const char *cond, const rules_facts_t *f)
{
    rules_verdict_t v;

    return grade_by(cond, f, &v) == A;
}

/* ---- parsing ----------------------------------------------------------- */

static void test_shipped_rules_parse(void **state)
{
    char err[512] = "";
    rules_t *r = rules_load("config/grading.rules", err, sizeof err);

    (void)state;
    if (r == NULL)
        fail_msg("config/grading.rules: %s", err);
    assert_int_equal(rules_count(r), 7);
    rules_destroy(&r);
    assert_null(r);
    rules_destroy(NULL);
}

static void test_valid_file(void **state)
{
    const char *text =
        "\xEF\xBB\xBF# a comment\r\n"
        "\n"
        "   rule a_1   grade=A  when timeline<=3 budget=clear  # why\r\n"
        "rule b-2 grade=B when stage=clear_target,comparing gap>=-10\n"
        "rule c grade=C when needs=known \\\r\n"
        "    purpose!=investment \\\n"
        "    matches=0\n"
        "# a comment that ends in a backslash does not continue \\\n"
        "rule lead grade=LEAD";
    rules_t *r = parse_ok(text);

    (void)state;
    assert_int_equal(rules_count(r), 4);
    rules_destroy(&r);
}

static void test_missing_file(void **state)
{
    char err[256];

    (void)state;
    assert_null(rules_load("/nonexistent/grading.rules", err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/grading.rules: cannot open"));
}

/* Each bad file and the start of its error message. */
static const struct {
    const char *text;
    const char *error;
} bad[] = {
    {"", "t.rules:1: no rules"},
    {"# only a comment\n", "t.rules:1: no rules"},
    {"rule a grade=A\nrule b grade=B when timeline<=3\n",
     "t.rules:2: rule 'b' can never match"},
    {"rule a grade=A when timeline<=3\n",
     "t.rules:1: the last rule, 'a', must have no conditions"},
    {"\nrules a grade=A\n", "t.rules:2: expected 'rule NAME"},
    {"rule a\n", "t.rules:1: expected 'rule NAME"},
    {"rule A grade=A\n", "t.rules:1: bad rule name 'A'"},
    {"rule a grade=D\n", "t.rules:1: expected grade=A"},
    {"rule a grade=a\n", "t.rules:1: expected grade=A"},
    {"rule a A\n", "t.rules:1: expected grade=A"},
    {"rule a grade=A if timeline<3\n",
     "t.rules:1: expected 'when' after the grade, found 'if'"},
    {"rule a grade=A when\n", "t.rules:1: 'when' needs at least one"},
    {"rule a grade=A when x=1\nrule b grade=B\n",
     "t.rules:1: unknown fact 'x' in 'x=1'"},
    {"#\nrule a grade=A when timelin<=3\nrule b grade=B\n",
     "t.rules:2: unknown fact 'timelin'"},
    {"rule a grade=A when <=3\nrule b grade=B\n", "t.rules:1: unknown fact ''"},
    {"rule a grade=A when timeline=<3\nrule b grade=B\n",
     "t.rules:1: 'timeline=<3': expected an operator"},
    {"rule a grade=A when timeline~3\nrule b grade=B\n",
     "t.rules:1: 'timeline~3': expected an operator"},
    {"rule a grade=A when timeline<=\nrule b grade=B\n",
     "t.rules:1: 'timeline<=': missing value"},
    {"rule a grade=A when timeline<=3x\nrule b grade=B\n",
     "t.rules:1: 'timeline<=3x': '3x' is not a whole number"},
    {"rule a grade=A when timeline<=-1\nrule b grade=B\n",
     "t.rules:1: 'timeline<=-1': timeline must be between 0"},
    {"rule a grade=A when gap<=-101\nrule b grade=B\n",
     "t.rules:1: 'gap<=-101': gap must be between -100"},
    {"rule a grade=A when matches>=99999999999\nrule b grade=B\n",
     "t.rules:1: 'matches>=99999999999'"},
    {"rule a grade=A when budget<=clear\nrule b grade=B\n",
     "t.rules:1: 'budget<=clear': budget takes = or != only"},
    {"rule a grade=A when budget=fuzzy\nrule b grade=B\n",
     "t.rules:1: 'budget=fuzzy': budget cannot be 'fuzzy' (one of: "
     "unknown, known, clear)"},
    {"rule a grade=A when stage=comparing,\nrule b grade=B\n",
     "t.rules:1: 'stage=comparing,': stage cannot be ''"},
    {"rule a grade=A \\\n when needs=known timeline<=x\nrule b grade=B\n",
     "t.rules:1: 'timeline<=x': 'x' is not a whole number"},
    {"rule a grade=A \\\n when needs=known\nrule c grade=C \\\n when x=1\n",
     "t.rules:3: unknown fact 'x'"},
    {"rule a grade=A when needs=known\nrule a grade=B\n",
     "t.rules:2: rule 'a' is already defined on line 1"},
    {"rule a grade=A when timeline>1 timeline>1 timeline>1 timeline>1 "
     "timeline>1 timeline>1 timeline>1 timeline>1 timeline>1\n",
     "t.rules:1: too many conditions"},
};

static void test_errors_name_the_line(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[512] = "";
        rules_t *r = rules_parse(bad[i].text, "t.rules", err, sizeof err);

        if (r != NULL)
            fail_msg("case %zu parsed: %s", i, bad[i].text);
        if (strncmp(err, bad[i].error, strlen(bad[i].error)) != 0)
            fail_msg("case %zu: got \"%s\", want \"%s...\"", i, err,
                     bad[i].error);
    }
}

static void test_long_line(void **state)
{
    char text[2100], err[256];

    (void)state;
    memset(text, 'x', sizeof text);
    memcpy(text, "rule a grade=A #", 16);
    text[sizeof text - 1] = '\0';
    assert_null(rules_parse(text, "t.rules", err, sizeof err));
    assert_non_null(strstr(err, "t.rules:1: line longer than"));
}

/* ---- facts ------------------------------------------------------------- */

static void test_timeline(void **state)
{
    rules_facts_t f = {0};

    (void)state;
    assert_false(holds("timeline<=3", &f)); /* unknown */
    assert_false(holds("timeline>6", &f));
    assert_false(holds("timeline!=5", &f));
    f.timeline_months = 3;
    assert_true(holds("timeline<=3", &f));
    assert_false(holds("timeline<3", &f));
    assert_true(holds("timeline=3", &f));
    assert_false(holds("timeline!=3", &f));
    f.timeline_months = 9;
    assert_true(holds("timeline>6", &f));
    assert_true(holds("timeline>=9", &f));
}

static void test_budget(void **state)
{
    rules_facts_t f = {0};

    (void)state;
    assert_true(holds("budget=unknown", &f));
    assert_false(holds("budget=known", &f));
    assert_true(holds("budget!=clear", &f));
    f.budget_min_wan = 300; /* a minimum alone is no budget */
    assert_true(holds("budget=unknown", &f));
    f.budget_max_wan = 500;
    assert_true(holds("budget=known", &f));
    assert_false(holds("budget=clear", &f));
    f.budget_max_wan = 350; /* 50 of 350 is under 20% */
    assert_true(holds("budget=clear", &f));
    assert_true(holds("budget=known", &f));
    assert_false(holds("budget=unknown", &f));
    f.budget_min_wan = 280; /* 70 of 350 is exactly 20% */
    assert_true(holds("budget=clear", &f));
    f.budget_min_wan = 279;
    assert_false(holds("budget=clear", &f));
    f.budget_min_wan = 400; /* minimum above maximum: not clear */
    assert_false(holds("budget=clear", &f));
    f.budget_min_wan = 0;
    assert_true(holds("budget=known", &f));
    assert_false(holds("budget=clear", &f));
}

static void test_gap(void **state)
{
    rules_facts_t f = {0};
    int32_t pct;

    (void)state;
    f.budget_max_wan = 500;
    f.area_m2 = 60;
    assert_false(rules_gap_pct(&f, &pct)); /* no market */
    assert_false(holds("gap<=15", &f));
    assert_false(holds("gap>30", &f));
    f.market_known = true;
    f.market_unit_yuan = 100000; /* 600 万 for 60 m2 */
    assert_true(rules_gap_pct(&f, &pct));
    assert_int_equal(pct, 20);
    assert_false(holds("gap<=15", &f));
    assert_true(holds("gap>15", &f));
    assert_false(holds("gap>30", &f));
    f.budget_max_wan = 700; /* budget above the market */
    assert_true(rules_gap_pct(&f, &pct));
    assert_int_equal(pct, -14);
    assert_true(holds("gap<=15", &f));
    assert_true(holds("gap<0", &f));
    f.area_m2 = 0;
    assert_false(holds("gap<=15", &f));
    f.area_m2 = 60;
    f.budget_max_wan = 0;
    assert_false(holds("gap<=15", &f));
}

static void test_stage(void **state)
{
    rules_facts_t f = {0};

    (void)state;
    assert_true(holds("stage=unknown", &f));
    assert_true(holds("stage!=just_looking,comparing", &f));
    f.stage = KEYUAN__V1__STAGE__STAGE_CLEAR_TARGET;
    assert_true(holds("stage=clear_target", &f));
    assert_true(holds("stage=clear_target,comparing", &f));
    assert_true(holds("stage!=just_looking,comparing", &f));
    f.stage = KEYUAN__V1__STAGE__STAGE_COMPARING;
    assert_false(holds("stage!=just_looking,comparing", &f));
    f.stage = 42; /* a value from a newer proto reads as unknown */
    assert_true(holds("stage=unknown", &f));
}

static void test_matches(void **state)
{
    rules_facts_t f = {0};

    (void)state;
    assert_false(holds("matches>=1", &f));
    assert_false(holds("matches=0", &f)); /* unknown, not zero */
    f.matches_known = true;
    assert_true(holds("matches=0", &f));
    assert_false(holds("matches>=1", &f));
    f.matches = 12;
    assert_true(holds("matches>=1", &f));
    assert_true(holds("matches>10", &f));
}

static void test_needs_and_purpose(void **state)
{
    rules_facts_t f = {0};

    (void)state;
    assert_true(holds("needs=unknown", &f));
    assert_false(holds("needs=known", &f));
    assert_true(holds("purpose=unknown", &f));
    f.needs_known = RULES_NEED_AREA;
    assert_true(holds("needs=known", &f));
    f.purpose = KEYUAN__V1__PURPOSE__PURPOSE_SCHOOL_DISTRICT;
    assert_true(holds("purpose=own_home,school_district", &f));
    assert_false(holds("purpose!=school_district", &f));
}

static void test_facts_from_needs(void **state)
{
    Keyuan__V1__Needs n = KEYUAN__V1__NEEDS__INIT;
    char *regions[] = {"", "110101"};
    rules_facts_t f;

    (void)state;
    rules_facts_from_needs(NULL, &f);
    assert_int_equal(f.needs_known, 0);
    rules_facts_from_needs(&n, &f);
    assert_int_equal(f.needs_known, 0);
    n.n_region_codes = 1;
    n.region_codes = regions; /* an empty code is no region */
    rules_facts_from_needs(&n, &f);
    assert_int_equal(f.needs_known, 0);
    n.n_region_codes = 2;
    n.area_max_m2 = 90;
    n.bedrooms = 2;
    n.budget_max_wan = 500;
    n.timeline_months = 4;
    n.stage = KEYUAN__V1__STAGE__STAGE_COMPARING;
    rules_facts_from_needs(&n, &f);
    assert_int_equal(f.needs_known, RULES_NEED_REGIONS | RULES_NEED_BUDGET |
                                        RULES_NEED_AREA | RULES_NEED_BEDROOMS);
    assert_int_equal(f.area_m2, 90); /* no minimum: the maximum is priced */
    n.area_min_m2 = 60;
    rules_facts_from_needs(&n, &f);
    assert_int_equal(f.area_m2, 60);
    assert_int_equal(f.timeline_months, 4);
    assert_int_equal(f.stage, KEYUAN__V1__STAGE__STAGE_COMPARING);
    assert_false(f.market_known);
}

/* ---- first match and reasons ------------------------------------------- */

static void test_first_match_and_reasons(void **state)
{
    rules_t *r =
        parse_ok("rule a grade=A when timeline<=3 budget=clear gap<=15 "
                 "stage!=just_looking,comparing matches>=1\n"
                 "rule far grade=C when gap>30\n"
                 "rule b grade=B when timeline<=6 budget=known\n"
                 "rule c grade=C when needs=known\n"
                 "rule lead grade=LEAD\n");
    rules_facts_t f = {0};
    rules_verdict_t v;

    (void)state;
    rules_eval(r, &f, &v);
    assert_int_equal(v.grade, LEAD);
    assert_string_equal(v.rule, "lead");
    assert_int_equal(v.nreasons, 1);
    assert_string_equal(v.reasons[0], "其余规则均不适用");

    f.needs_known = RULES_NEED_REGIONS | RULES_NEED_BUDGET;
    f.budget_min_wan = 300;
    f.budget_max_wan = 350;
    f.timeline_months = 2;
    f.area_m2 = 60;
    f.market_known = true;
    f.market_unit_yuan = 63000; /* 378 万: 8% above 350 */
    f.matches_known = true;
    f.matches = 12;
    f.stage = KEYUAN__V1__STAGE__STAGE_CLEAR_TARGET;
    rules_eval(r, &f, &v);
    assert_int_equal(v.grade, A);
    assert_string_equal(v.rule, "a");
    assert_int_equal(v.nreasons, 5);
    assert_string_equal(v.reasons[0], "计划 2 个月内购买 (≤3 个月)");
    assert_string_equal(v.reasons[1], "预算 300–350 万，区间明确");
    assert_string_equal(v.reasons[2],
                        "预算上限 350 万，意向区域参考价约 378 万 "
                        "(单价中位数 63000 元/㎡ × 60 ㎡)，差距 8% (≤15%)");
    assert_string_equal(v.reasons[3],
                        "购房阶段：已有明确目标 (≠刚开始了解、正在对比)");
    assert_string_equal(v.reasons[4],
                        "意向区域有 12 套在售房源符合预算和面积 (≥1 套)");

    f.stage = KEYUAN__V1__STAGE__STAGE_COMPARING; /* A fails: B */
    rules_eval(r, &f, &v);
    assert_int_equal(v.grade, B);
    assert_string_equal(v.rule, "b");
    assert_int_equal(v.nreasons, 2);

    f.market_unit_yuan = 100000; /* 600 万: 71% above 350 */
    rules_eval(r, &f, &v);
    assert_int_equal(v.grade, C);
    assert_string_equal(v.rule, "far");
    assert_int_equal(v.nreasons, 1);
    assert_non_null(strstr(v.reasons[0], "差距 71% (>30%)"));

    f.market_known = false; /* only regions known: C */
    f.budget_max_wan = 0;
    f.budget_min_wan = 0;
    f.needs_known = RULES_NEED_REGIONS;
    rules_eval(r, &f, &v);
    assert_int_equal(v.grade, C);
    assert_string_equal(v.rule, "c");
    assert_string_equal(v.reasons[0], "已了解的需求：区域");
    rules_destroy(&r);
}

static void test_other_reasons(void **state)
{
    rules_facts_t f = {0};
    rules_verdict_t v;

    (void)state;
    f.budget_max_wan = 500;
    grade_by("budget=known", &f, &v);
    assert_string_equal(v.reasons[0], "预算上限 500 万，大致清楚");
    grade_by("budget=unknown,known", &f, &v);
    assert_string_equal(v.reasons[0], "预算上限 500 万，大致清楚");
    f.budget_max_wan = 0;
    grade_by("budget!=known", &f, &v);
    assert_string_equal(v.reasons[0], "预算未知");
    grade_by("needs=unknown", &f, &v);
    assert_string_equal(v.reasons[0], "需求尚未了解");
    grade_by("purpose=unknown", &f, &v);
    assert_string_equal(v.reasons[0], "购房目的：未记录 (=未记录)");
    f.purpose = KEYUAN__V1__PURPOSE__PURPOSE_UPGRADE;
    grade_by("purpose=own_home,upgrade", &f, &v);
    assert_string_equal(v.reasons[0], "购房目的：改善 (=自住、改善)");
    f.timeline_months = 12;
    grade_by("timeline>6", &f, &v);
    assert_string_equal(v.reasons[0], "计划 12 个月内购买 (>6 个月)");
    assert_string_equal(rules_grade_name(LEAD), "LEAD");
    assert_string_equal(rules_grade_name(0), "-");
}

/* The shipped rules give the handbook's grades to typical customers. */
static void test_shipped_rules_grades(void **state)
{
    char err[512];
    rules_t *r = rules_load("config/grading.rules", err, sizeof err);
    rules_facts_t f = {0};
    rules_verdict_t v;

    (void)state;
    assert_non_null(r);
    rules_eval(r, &f, &v);
    assert_int_equal(v.grade, LEAD);

    f.needs_known = RULES_NEED_REGIONS | RULES_NEED_BUDGET | RULES_NEED_AREA;
    f.budget_min_wan = 600;
    f.budget_max_wan = 700;
    f.area_m2 = 60;
    f.timeline_months = 2;
    f.market_known = true;
    f.market_unit_yuan = 107000;
    f.matches_known = true;
    f.matches = 3;
    rules_eval(r, &f, &v);
    assert_int_equal(v.grade, A);

    f.timeline_months = 5;
    rules_eval(r, &f, &v);
    assert_int_equal(v.grade, B);
    f.timeline_months = 8;
    rules_eval(r, &f, &v);
    assert_int_equal(v.grade, C);
    assert_string_equal(v.rule, "c_later");
    f.timeline_months = 2;
    f.budget_min_wan = 200;
    f.budget_max_wan = 220;
    rules_eval(r, &f, &v);
    assert_int_equal(v.grade, C);
    assert_string_equal(v.rule, "c_far_budget");
    f.timeline_months = 0;
    f.market_known = false;
    f.stage = KEYUAN__V1__STAGE__STAGE_COMPARING;
    rules_eval(r, &f, &v);
    assert_int_equal(v.grade, B);
    assert_string_equal(v.rule, "b_deciding");
    f.stage = 0;
    rules_eval(r, &f, &v);
    assert_int_equal(v.grade, C);
    assert_string_equal(v.rule, "c_unclear");
    rules_destroy(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_rules_parse),
        cmocka_unit_test(test_valid_file),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_errors_name_the_line),
        cmocka_unit_test(test_long_line),
        cmocka_unit_test(test_timeline),
        cmocka_unit_test(test_budget),
        cmocka_unit_test(test_gap),
        cmocka_unit_test(test_stage),
        cmocka_unit_test(test_matches),
        cmocka_unit_test(test_needs_and_purpose),
        cmocka_unit_test(test_facts_from_needs),
        cmocka_unit_test(test_first_match_and_reasons),
        cmocka_unit_test(test_other_reasons),
        cmocka_unit_test(test_shipped_rules_grades),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
