/*
 * test_intake_doc.c - the JSON operations intake performs on a customer
 * file (file_doc.h, file_apply.h, merge_fold): comparing names, paths,
 * merging, diffing for history and undoing a merge.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "err.h"
#include "file_apply.h"
#include "file_doc.h"
#include "merge.h"

#include <stdlib.h>
#include <string.h>

#define PROFILE (&keyuan__v1__profile__descriptor)

static json_t *parse(const char *text)
{
    json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);

    assert_non_null(j);
    return j;
}

/* Asserts that doc is the JSON text want (keys in any order). */
static void expect_json(const json_t *doc, const char *want)
{
    json_t *w = parse(want);

    if (!json_equal((json_t *)doc, w)) {
        char *got = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);

        print_error("got  %s\nwant %s\n", got, want);
        free(got);
        json_decref(w);
        fail();
    }
    json_decref(w);
}

static void test_name_equal(void **state)
{
    (void)state;
    /* e + combining acute is NFC é */
    assert_true(name_equal("Ren\xC3\xA9", "Rene\xCC\x81"));
    assert_true(name_equal("  张伟\xE3\x80\x80", "张伟")); /* ideographic sp */
    assert_true(name_equal("\t李\U0001F600 \n", "李\U0001F600"));
    assert_true(name_equal(NULL, ""));
    assert_false(name_equal("张伟", "张玮"));
    assert_false(name_equal("张 伟", "张伟")); /* inner space counts */
    assert_false(name_equal("Zhang", "zhang"));
    assert_false(name_equal("\xFF", "\xFE")); /* not UTF-8: bytes */
}

static void test_path_check(void **state)
{
    char out[FILE_DOC_PATH_MAX];

    (void)state;
    assert_int_equal(
        file_doc_path_check(PROFILE, "needs.budget_max_wan", out, sizeof out),
        KY_OK);
    assert_string_equal(out, "needs.budgetMaxWan");
    assert_int_equal(file_doc_path_check(PROFILE, "household", out, sizeof out),
                     KY_OK);
    assert_int_equal(
        file_doc_path_check(PROFILE, "consent.recordedAt", out, sizeof out),
        KY_OK);
    assert_int_equal(file_doc_path_check(PROFILE, "nope", out, sizeof out),
                     KY_EINVAL);
    assert_int_equal(file_doc_path_check(PROFILE, "", out, sizeof out),
                     KY_EINVAL);
    assert_int_equal(file_doc_path_check(PROFILE, "needs.", out, sizeof out),
                     KY_EINVAL);
    assert_int_equal(file_doc_path_check(PROFILE, "name.first", out, 128),
                     KY_EINVAL); /* into a string */
    assert_int_equal(
        file_doc_path_check(PROFILE, "household.children.age", out, 128),
        KY_EINVAL); /* into a list */
    assert_int_equal(
        file_doc_path_check(PROFILE, "consent.recordedAt.seconds", out, 128),
        KY_EINVAL); /* into a Timestamp */
}

static void test_set_and_get(void **state)
{
    json_t *doc = json_object(), *v = json_integer(3);

    (void)state;
    assert_int_equal(file_doc_set(doc, "needs.bedrooms", v), KY_OK);
    expect_json(doc, "{\"needs\":{\"bedrooms\":3}}");
    assert_int_equal(json_integer_value(file_doc_get(doc, "needs.bedrooms")),
                     3);
    assert_null(file_doc_get(doc, "needs.livingRooms"));
    assert_null(file_doc_get(doc, "needs.bedrooms.x"));

    /* Removing the last member removes the objects it leaves empty. */
    assert_int_equal(file_doc_set(doc, "needs.bedrooms", NULL), KY_OK);
    expect_json(doc, "{}");
    assert_int_equal(file_doc_set(doc, "a.b.c", NULL), KY_OK);
    expect_json(doc, "{}");
    json_decref(v);
    json_decref(doc);
}

static void test_merge_non_empty(void **state)
{
    json_t *dst = parse("{\"name\":\"Rene\xCC\x81\",\"needs\":{\"bedrooms\":2,"
                        "\"budgetMaxWan\":300},\"birthday\":{\"year\":1990,"
                        "\"month\":1,\"day\":2,\"lunar\":true}}");
    json_t *src =
        parse("{\"name\":\" Ren\xC3\xA9 \",\"needs\":{\"bedrooms\":3},"
              "\"birthday\":{\"month\":5,\"day\":6},"
              "\"hobbies\":[\"钓鱼\"],\"unknown\":1}");

    (void)state;
    assert_int_equal(file_doc_merge(dst, src, PROFILE, false), KY_OK);
    /* The name is the same in NFC, trimmed: kept as it was received. A
     * CivilDate is one value, replaced whole; unknown members skipped. */
    expect_json(dst, "{\"name\":\"Rene\xCC\x81\",\"needs\":{\"bedrooms\":3,"
                     "\"budgetMaxWan\":300},\"birthday\":{\"month\":5,"
                     "\"day\":6},\"hobbies\":[\"钓鱼\"]}");
    json_decref(dst);
    json_decref(src);
}

static void test_merge_keep_fills_gaps(void **state)
{
    json_t *dst = parse("{\"needs\":{\"bedrooms\":2},\"hobbies\":[\"a\"]}");
    json_t *src = parse("{\"needs\":{\"bedrooms\":3,\"stage\":\"STAGE_"
                        "COMPARING\"},\"hobbies\":[\"b\"],\"age\":40}");

    (void)state;
    assert_int_equal(file_doc_merge(dst, src, PROFILE, true), KY_OK);
    expect_json(dst, "{\"needs\":{\"bedrooms\":2,\"stage\":\"STAGE_COMPARING\""
                     "},\"hobbies\":[\"a\"],\"age\":40}");
    json_decref(dst);
    json_decref(src);
}

static void test_apply_paths_set_and_clear(void **state)
{
    json_t *dst = parse("{\"needs\":{\"bedrooms\":2,\"budgetMaxWan\":300},"
                        "\"occupation\":\"教师\",\"hobbies\":[\"a\"]}");
    json_t *src = parse("{\"needs\":{\"bedrooms\":4,\"budgetMaxWan\":999},"
                        "\"employer\":\"X\"}");
    char *paths[] = {"needs.bedrooms", "occupation", "hobbies", "employer"};
    char *bad[] = {"needs.nope"};

    (void)state;
    assert_int_equal(file_doc_apply(dst, src, PROFILE, paths, 4), KY_OK);
    /* Only the named paths: budgetMaxWan stays; unset ones are cleared. */
    expect_json(dst, "{\"needs\":{\"bedrooms\":4,\"budgetMaxWan\":300},"
                     "\"employer\":\"X\"}");
    assert_int_equal(file_doc_apply(dst, src, PROFILE, bad, 1), KY_EINVAL);
    json_decref(dst);
    json_decref(src);
}

static void test_diff(void **state)
{
    json_t *before = parse("{\"customerId\":\"1\",\"updatedAt\":\"x\","
                           "\"profile\":{\"name\":\"a\",\"needs\":{"
                           "\"bedrooms\":2}},\"sources\":[\"p\"]}");
    json_t *after = parse("{\"customerId\":\"1\",\"updatedAt\":\"y\","
                          "\"profile\":{\"needs\":{\"bedrooms\":3,"
                          "\"stage\":\"STAGE_COMPARING\"}},"
                          "\"sources\":[\"p\",\"q\"]}");
    const char *const skip[] = {"updatedAt", NULL};
    json_t *d = file_doc_diff(before, after, skip);

    (void)state;
    expect_json(d, "[{\"path\":\"profile.name\",\"oldJson\":\"\\\"a\\\"\"},"
                   "{\"path\":\"profile.needs.bedrooms\",\"oldJson\":\"2\","
                   "\"newJson\":\"3\"},{\"path\":\"profile.needs.stage\","
                   "\"newJson\":\"\\\"STAGE_COMPARING\\\"\"},"
                   "{\"path\":\"sources\",\"oldJson\":\"[\\\"p\\\"]\","
                   "\"newJson\":\"[\\\"p\\\",\\\"q\\\"]\"}]");
    json_decref(d);
    d = file_doc_diff(after, after, NULL);
    assert_int_equal(json_array_size(d), 0);
    json_decref(d);
    json_decref(before);
    json_decref(after);
}

/* The undo of a diff gives back before; later changes survive. */
static void test_undo(void **state)
{
    json_t *before =
        parse("{\"profile\":{\"name\":\"a\"},\"sources\":[\"p\"]}");
    json_t *after = parse("{\"profile\":{\"name\":\"a\",\"age\":30,"
                          "\"occupation\":\"x\"},\"sources\":[\"p\",\"q\"]}");
    json_t *d = file_doc_diff(before, after, NULL);
    json_t *doc = json_deep_copy(after);

    (void)state;
    assert_int_equal(file_doc_undo(doc, d), KY_OK);
    assert_true(json_equal(doc, before));

    /* Changed since: age is someone else's now, and "r" came later. */
    json_decref(doc);
    doc = parse("{\"profile\":{\"name\":\"a\",\"age\":31,\"occupation\":\"x\"},"
                "\"sources\":[\"p\",\"q\",\"r\"]}");
    assert_int_equal(file_doc_undo(doc, d), KY_OK);
    expect_json(doc, "{\"profile\":{\"name\":\"a\",\"age\":31},"
                     "\"sources\":[\"p\",\"r\"]}");
    json_decref(doc);
    json_decref(d);
    json_decref(before);
    json_decref(after);
}

static void test_prune_and_project(void **state)
{
    json_t *doc = parse("{\"a\":{\"b\":{}},\"c\":[],\"d\":{\"e\":1}}");
    json_t *lead = parse("{\"source\":\"s\",\"name\":\"n\",\"note\":\"x\","
                         "\"needs\":{\"bedrooms\":1}}");
    json_t *p;

    (void)state;
    expect_json(file_doc_prune(doc), "{\"c\":[],\"d\":{\"e\":1}}");
    p = file_doc_project(lead, PROFILE);
    expect_json(p, "{\"name\":\"n\",\"needs\":{\"bedrooms\":1}}");
    json_decref(p);
    json_decref(lead);
    json_decref(doc);
}

static void test_list_add(void **state)
{
    json_t *doc = json_object(), *a = json_string("张伟"),
           *b = json_string(" 张伟 ");

    (void)state;
    assert_int_equal(file_doc_list_add(doc, "sources", a), KY_OK);
    assert_int_equal(file_doc_list_add(doc, "sources", b), KY_OK);
    expect_json(doc, "{\"sources\":[\"张伟\"]}");
    json_decref(a);
    json_decref(b);
    json_decref(doc);
}

/* A lead never takes a way to reach the customer away. */
static void test_contact_ways(void **state)
{
    json_t *doc = parse("{\"profile\":{\"contacts\":{\"mobile\":\"138 0013 "
                        "8000\",\"mobileE164\":\"+8613800138000\","
                        "\"email\":\"a@b.cn\"}}}");
    json_t *same = parse("{\"contacts\":{\"mobile\":\"13800138000\","
                         "\"mobileE164\":\"+8613800138000\","
                         "\"email\":\"A@B.CN\"}}");
    json_t *other = parse("{\"contacts\":{\"mobile\":\"13900139000\","
                          "\"mobileE164\":\"+8613900139000\","
                          "\"wechatId\":\"wx1\"}}");

    (void)state;
    assert_int_equal(file_apply_profile(doc, same, NULL, 0), KY_OK);
    assert_int_equal(file_apply_profile(doc, other, NULL, 0), KY_OK);
    expect_json(doc, "{\"profile\":{\"contacts\":{\"mobile\":\"138 0013 8000\","
                     "\"mobileE164\":\"+8613800138000\",\"email\":\"a@b.cn\","
                     "\"others\":[\"13900139000\"],\"wechatId\":\"wx1\"}}}");

    /* With a path, the mobile is set as asked and E.164 follows it. */
    json_decref(other);
    other = parse("{\"contacts\":{\"mobile\":\"+86 139-0013-9000\"}}");
    {
        char *paths[] = {"contacts.mobile"};

        assert_int_equal(file_apply_profile(doc, other, paths, 1), KY_OK);
    }
    assert_string_equal(
        json_string_value(file_doc_get(doc, "profile.contacts.mobileE164")),
        "+8613900139000");
    json_decref(doc);
    json_decref(same);
    json_decref(other);
}

/* A lead's other contacts join the file's instead of replacing them, and
 * a file keeps the newest FILE_OTHERS_MAX. */
static void test_other_contacts(void **state)
{
    json_t *doc = parse("{\"profile\":{\"contacts\":{\"email\":\"a@b.cn\","
                        "\"others\":[\"QQ 1\",\"QQ 2\"]}}}");
    json_t *lead = parse("{\"contacts\":{\"others\":[\"QQ 2\",\"A@B.CN\","
                         "\"QQ 3\"]}}");
    json_t *others;
    char text[64];

    (void)state;
    assert_int_equal(file_apply_profile(doc, lead, NULL, 0), KY_OK);
    expect_json(doc, "{\"profile\":{\"contacts\":{\"email\":\"a@b.cn\","
                     "\"others\":[\"QQ 1\",\"QQ 2\",\"QQ 3\"]}}}");

    for (int i = 0; i < 10; i++) {
        json_decref(lead);
        snprintf(text, sizeof text, "{\"contacts\":{\"email\":\"n%d@b.cn\"}}",
                 i);
        lead = parse(text);
        assert_int_equal(file_apply_profile(doc, lead, NULL, 0), KY_OK);
    }
    others = file_doc_get(doc, "profile.contacts.others");
    assert_int_equal(json_array_size(others), FILE_OTHERS_MAX);
    assert_string_equal(json_string_value(json_array_get(others, 0)),
                        "n2@b.cn");
    assert_string_equal(
        json_string_value(json_array_get(others, FILE_OTHERS_MAX - 1)),
        "n9@b.cn");
    json_decref(lead);
    json_decref(doc);
}

/* A merge fills the kept file's other contacts only while there is room:
 * the kept file keeps its values, the merged file's main ways first. */
static void test_merge_keeps_own_others(void **state)
{
    json_t *keep =
        parse("{\"customerId\":\"1\",\"profile\":{\"contacts\":{\"mobile\":"
              "\"13800138000\",\"others\":[\"k1\",\"k2\",\"k3\",\"k4\",\"k5\","
              "\"k6\"]}}}");
    json_t *merge =
        parse("{\"customerId\":\"2\",\"profile\":{\"contacts\":{\"mobile\":"
              "\"13900139000\",\"email\":\"x@y.cn\",\"others\":[\"x1\",\"x2\"]"
              "}}}");
    json_t *others;

    (void)state;
    assert_int_equal(merge_fold(keep, merge, 2), KY_OK);
    others = file_doc_get(keep, "profile.contacts.others");
    assert_int_equal(json_array_size(others), FILE_OTHERS_MAX);
    assert_string_equal(json_string_value(json_array_get(others, 0)), "k1");
    assert_string_equal(json_string_value(json_array_get(others, 6)),
                        "13900139000");
    assert_string_equal(json_string_value(json_array_get(others, 7)),
                        "x1"); /* the e-mail fills a gap: keep has none */
    assert_string_equal(
        json_string_value(file_doc_get(keep, "profile.contacts.email")),
        "x@y.cn");
    json_decref(keep);
    json_decref(merge);
}

static void test_merge_fold(void **state)
{
    json_t *keep = parse("{\"customerId\":\"1\",\"profile\":{\"name\":\"a\","
                         "\"contacts\":{\"mobile\":\"13800138000\"}},"
                         "\"sources\":[\"p\"],\"contactCount\":2,"
                         "\"lastContactAt\":\"2026-01-01T00:00:00Z\"}");
    json_t *merge = parse("{\"customerId\":\"2\",\"profile\":{\"name\":\"b\","
                          "\"age\":30,\"contacts\":{\"mobile\":\"13900139000\""
                          "}},\"sources\":[\"q\",\"p\"],\"contactCount\":5,"
                          "\"lastContactAt\":\"2026-02-01T00:00:00.5Z\","
                          "\"nextStep\":{\"action\":\"call\"},"
                          "\"mergedFrom\":[\"9\"]}");

    (void)state;
    assert_int_equal(merge_fold(keep, merge, 2), KY_OK);
    expect_json(keep, "{\"customerId\":\"1\",\"profile\":{\"name\":\"a\","
                      "\"age\":30,\"contacts\":{\"mobile\":\"13800138000\","
                      "\"others\":[\"13900139000\"]}},\"sources\":[\"p\","
                      "\"q\"],\"contactCount\":2,\"lastContactAt\":"
                      "\"2026-02-01T00:00:00.5Z\",\"nextStep\":{\"action\":"
                      "\"call\"},\"mergedFrom\":[\"2\"]}");
    json_decref(keep);
    json_decref(merge);
}

/* Blank text says nothing: dropped from a profile before it is merged. */
static void test_drop_blanks(void **state)
{
    json_t *doc = parse("{\"name\":\"\u00a0\u3000\",\"occupation\":\" x \","
                        "\"needs\":{\"floorPreference\":\"\\n\\t\","
                        "\"budgetMaxWan\":3},\"hobbies\":[\" \"]}");

    (void)state;
    file_doc_drop_blanks(doc);
    expect_json(doc, "{\"occupation\":\" x \",\"needs\":{\"budgetMaxWan\":3},"
                     "\"hobbies\":[\" \"]}");
    json_decref(doc);
    assert_true(file_doc_blank(NULL));
    assert_true(file_doc_blank(""));
    assert_true(file_doc_blank(" \t\xE3\x80\x80"));
    assert_false(file_doc_blank(" a "));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_equal),
        cmocka_unit_test(test_path_check),
        cmocka_unit_test(test_set_and_get),
        cmocka_unit_test(test_merge_non_empty),
        cmocka_unit_test(test_merge_keep_fills_gaps),
        cmocka_unit_test(test_apply_paths_set_and_clear),
        cmocka_unit_test(test_diff),
        cmocka_unit_test(test_undo),
        cmocka_unit_test(test_prune_and_project),
        cmocka_unit_test(test_list_add),
        cmocka_unit_test(test_contact_ways),
        cmocka_unit_test(test_other_contacts),
        cmocka_unit_test(test_merge_fold),
        cmocka_unit_test(test_merge_keeps_own_others),
        cmocka_unit_test(test_drop_blanks),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
