/*
 * test_intake_validate.c - every text field of a customer file at its
 * limit passes and one past it is refused, naming the field, whether it
 * comes in a lead or a profile update; and the rules beyond length.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "err.h"
#include "file_doc.h"
#include "pbjson.h"
#include "text.h"
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A text field, its limit in characters and, for lists, in entries. */
typedef struct field {
    const char *path; /* relative to the profile (or lead) */
    size_t max;
    size_t entries; /* 0: a single value */
} field_t;

static const field_t FIELDS[] = {
    {"name", 64, 0},
    {"occupation", 64, 0},
    {"employer", 128, 0},
    {"lifestyle", 2000, 0},
    {"hobbies", 32, 16},
    {"contacts.wechatId", 64, 0},
    {"contacts.others", 128, 8},
    {"decision.decisionMaker", 32, 0},
    {"decision.influencers", 32, 8},
    {"consent.note", 500, 0},
    {"needs.floorPreference", 64, 0},
    {"needs.orientationPreference", 64, 0},
    {"needs.decorationPreference", 64, 0},
    {"needs.priorities", 32, 16},
};

/* n characters of Chinese text (three bytes each). */
static json_t *text(size_t n)
{
    char *s = malloc(3 * n + 1);
    json_t *j;

    for (size_t i = 0; i < n; i++)
        memcpy(s + 3 * i, "\xE5\x90\x8D", 3); /* 名 */
    s[3 * n] = '\0';
    j = json_string(s);
    free(s);
    return j;
}

/* A value for field: chars characters, entries times when a list. */
static json_t *value(const field_t *f, size_t chars, size_t entries)
{
    json_t *list;

    if (f->entries == 0)
        return text(chars);
    list = json_array();
    for (size_t i = 0; i < entries; i++)
        json_array_append_new(list, text(chars));
    return list;
}

/* Checks a lead (prefix "") or a profile update ("profile.") with v. */
static bool check(const char *prefix, const char *path, json_t *v,
                  check_fail_t *f)
{
    json_t *doc = json_pack("{ss ss}", "source", "s", "sourceEventId", "e");
    json_t *mobile = json_string("13800138000");
    ProtobufCMessage *msg = NULL;
    char full[FILE_DOC_PATH_MAX];
    bool ok;

    snprintf(full, sizeof full, "%scontacts.mobile", prefix);
    assert_int_equal(file_doc_set(doc, full, mobile), KY_OK);
    json_decref(mobile);
    if (*prefix)
        json_object_set_new(doc, "customerId", json_string("1"));
    snprintf(full, sizeof full, "%s%s", prefix, path);
    assert_int_equal(file_doc_set(doc, full, v), KY_OK);
    assert_int_equal(
        pbjson_to_message(*prefix ? &keyuan__v1__profile_update__descriptor
                                  : &keyuan__v1__lead_event__descriptor,
                          doc, &msg, NULL, 0),
        0);
    ok = *prefix
             ? check_profile_update((Keyuan__V1__ProfileUpdate *)(void *)msg, f)
             : check_lead((Keyuan__V1__LeadEvent *)(void *)msg, f);
    protobuf_c_message_free_unpacked(msg, NULL);
    json_decref(doc);
    json_decref(v);
    return ok;
}

static void expect_refused(const char *prefix, const field_t *fd, json_t *v,
                           const char *code)
{
    check_fail_t f;
    char want[FILE_DOC_PATH_MAX];

    snprintf(want, sizeof want, "%s%s", prefix, fd->path);
    if (check(prefix, fd->path, v, &f))
        fail_msg("%s accepted past its limit", want);
    assert_string_equal(f.code, code);
    assert_string_equal(f.field, want);
    assert_non_null(strstr(f.message, want));
}

static void limits_for(const char *prefix)
{
    for (size_t i = 0; i < sizeof FIELDS / sizeof FIELDS[0]; i++) {
        const field_t *fd = &FIELDS[i];
        size_t n = fd->entries ? fd->entries : 1;
        check_fail_t f;

        if (!check(prefix, fd->path, value(fd, fd->max, n), &f))
            fail_msg("%s%s at its limit: %s", prefix, fd->path, f.message);
        expect_refused(prefix, fd, value(fd, fd->max + 1, 1), "too_long");
        if (fd->entries)
            expect_refused(prefix, fd, value(fd, 1, fd->entries + 1),
                           "too_many");
    }
}

static void test_lead_limits(void **state)
{
    (void)state;
    limits_for("");
}

static void test_profile_update_limits(void **state)
{
    (void)state;
    limits_for("profile.");
}

/* A profile update or lead given as JSON text; true when accepted. */
static bool check_json(const ProtobufCMessageDescriptor *desc,
                       const char *text_json, check_fail_t *f)
{
    ProtobufCMessage *msg = NULL;
    bool ok;

    assert_int_equal(
        pbjson_decode(desc, text_json, strlen(text_json), &msg, NULL, 0), 0);
    ok =
        desc == &keyuan__v1__lead_event__descriptor
            ? check_lead((Keyuan__V1__LeadEvent *)(void *)msg, f)
            : check_profile_update((Keyuan__V1__ProfileUpdate *)(void *)msg, f);
    protobuf_c_message_free_unpacked(msg, NULL);
    return ok;
}

static void expect_update(const char *body, const char *code, const char *field)
{
    char buf[512];
    check_fail_t f;

    snprintf(buf, sizeof buf,
             "{\"source\":\"s\",\"sourceEventId\":\"e\",\"customerId\":\"7\""
             "%s%s}",
             *body ? "," : "", body);
    if (code == NULL) {
        if (!check_json(&keyuan__v1__profile_update__descriptor, buf, &f))
            fail_msg("%s refused: %s", body, f.message);
        return;
    }
    assert_false(check_json(&keyuan__v1__profile_update__descriptor, buf, &f));
    assert_string_equal(f.code, code);
    assert_string_equal(f.field, field);
}

static void test_profile_update_rules(void **state)
{
    (void)state;
    expect_update("\"paths\":[\"needs.budgetMaxWan\",\"household\"]", NULL,
                  NULL);
    expect_update("\"paths\":[\"needs.budget_max_wan\"]", NULL, NULL);
    expect_update("\"paths\":[\"nope\"]", "invalid_path", "paths");
    expect_update("\"paths\":[\"contacts.mobileE164\"]", "invalid_path",
                  "paths");
    expect_update("\"paths\":[\"household.children.age\"]", "invalid_path",
                  "paths");
    expect_update("\"profile\":{\"age\":151}", "out_of_range", "profile.age");
    expect_update("\"profile\":{\"birthday\":{\"year\":1990,\"month\":2,"
                  "\"day\":29}}",
                  "out_of_range", "profile.birthday.day");
    expect_update("\"profile\":{\"birthday\":{\"month\":2,\"day\":29}}", NULL,
                  NULL);
    expect_update("\"profile\":{\"birthday\":{\"month\":12,\"day\":30,"
                  "\"lunar\":true,\"leapMonth\":true}}",
                  NULL, NULL);
    expect_update("\"profile\":{\"birthday\":{\"month\":3,\"day\":3,"
                  "\"leapMonth\":true}}",
                  "invalid_date", "profile.birthday.leapMonth");
    expect_update("\"profile\":{\"household\":{\"size\":51}}", "out_of_range",
                  "profile.household.size");
    expect_update("\"profile\":{\"contacts\":{\"email\":\"nope\"}}",
                  "invalid_email", "profile.contacts.email");
    expect_update("\"profile\":{\"needs\":{\"regionCodes\":[\"北京\"]}}",
                  "invalid_region", "profile.needs.regionCodes");
    expect_update("\"profile\":{\"household\":{\"children\":[{},{},{},"
                  "{},{},{},{},{},{},{},{}]}}",
                  "too_many", "profile.household.children");
    expect_update("", NULL, NULL);
}

static void test_update_needs_ids(void **state)
{
    const char *no_customer = "{\"source\":\"s\",\"sourceEventId\":\"e\"}";
    check_fail_t f;

    (void)state;
    assert_false(
        check_json(&keyuan__v1__profile_update__descriptor, no_customer, &f));
    assert_string_equal(f.field, "customerId");
    assert_false(check_json(&keyuan__v1__lead_event__descriptor,
                            "{\"source\":\"s\",\"sourceEventId\":\"e\","
                            "\"contacts\":{\"mobile\":\"1\"},\"age\":200}",
                            &f));
    assert_string_equal(f.field, "age");
}

/*
 * A Timestamp proto3 cannot write (before year 1, after 9999, nanos out of
 * range) is refused with its path, wherever it is: later steps turn times
 * into text and could not store it.
 */
static void test_times_in_range(void **state)
{
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    Keyuan__V1__Consent consent = KEYUAN__V1__CONSENT__INIT;
    Keyuan__V1__Contacts contacts = KEYUAN__V1__CONTACTS__INIT;
    Keyuan__V1__LeadEvent ev = KEYUAN__V1__LEAD_EVENT__INIT;
    Keyuan__V1__ContactLog log = KEYUAN__V1__CONTACT_LOG__INIT;
    const struct {
        int64_t seconds;
        int32_t nanos;
        bool ok;
    } cases[] = {
        {253402300799, 999999999, true},
        {-62135596800, 0, true},
        {253402300800, 0, false},
        {-62135596801, 0, false},
        {0, -1, false},
        {0, 1000000000, false},
    };
    check_fail_t f;

    (void)state;
    ev.source = "s";
    ev.source_event_id = "1";
    contacts.mobile = "13800138000";
    ev.contacts = &contacts;
    consent.recorded_at = &ts;
    ev.consent = &consent;
    log.customer_id = 1;
    log.contacted_at = &ts;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ts.seconds = cases[i].seconds;
        ts.nanos = cases[i].nanos;
        assert_int_equal(check_lead(&ev, &f), cases[i].ok);
        if (!cases[i].ok) {
            assert_string_equal(f.code, "out_of_range");
            assert_string_equal(f.field, "consent.recordedAt");
        }
        assert_int_equal(check_text_fields(&log.base, &f), cases[i].ok);
    }
}

/* check_lead() of the lead JSON template tmpl with its %s filled by fill. */
static bool lead_with(const char *tmpl, const char *fill, check_fail_t *f)
{
    char buf[256];

    snprintf(buf, sizeof buf, tmpl, fill);
    return check_json(&keyuan__v1__lead_event__descriptor, buf, f);
}

/* An enum number this build does not know is refused, naming the field;
 * a known one, by number or by name, passes. */
static void test_unknown_enum_values(void **state)
{
    static const char lead[] = "{\"source\":\"s\",\"sourceEventId\":\"1\","
                               "\"contacts\":{\"mobile\":\"13800138000\"},"
                               "\"needs\":{\"purpose\":%s}}";
    check_fail_t f;

    (void)state;
    assert_false(lead_with(lead, "99", &f));
    assert_string_equal(f.code, "unknown_value");
    assert_string_equal(f.field, "needs.purpose");
    if (!lead_with(lead, "2", &f))
        fail_msg("a known purpose refused: %s", f.message);
    if (!lead_with(lead, "\"PURPOSE_INVESTMENT\"", &f))
        fail_msg("a purpose by name refused: %s", f.message);

    expect_update("\"profile\":{\"needs\":{\"stage\":-3}},"
                  "\"paths\":[\"needs.stage\"]",
                  "unknown_value", "profile.needs.stage");
}

/* An empty or blank entry of a list is named as such, not as a missing
 * field. */
static void test_empty_list_entry(void **state)
{
    static const char lead[] = "{\"source\":\"s\",\"sourceEventId\":\"1\","
                               "\"contacts\":{\"mobile\":\"13800138000\"},"
                               "\"hobbies\":[\"读书\",%s]}";
    check_fail_t f;

    (void)state;
    assert_false(lead_with(lead, "\"\"", &f));
    assert_string_equal(f.code, "missing_field");
    assert_string_equal(f.field, "hobbies");
    assert_non_null(strstr(f.message, "empty entry"));
    assert_false(lead_with(lead, "\" \"", &f));
    assert_non_null(strstr(f.message, "blank entry"));
}

/* With the official list in use, a six-digit code that names no
 * division is refused; before, its form was all that was checked. */
static void test_region_codes_named_in_the_list(void **state)
{
    static const char lead[] =
        "{\"source\":\"s\",\"sourceEventId\":\"1\","
        "\"contacts\":{\"mobile\":\"13800138000\"},"
        "\"needs\":{\"regionCodes\":[\"110105\",\"%s\"]}}";
    Keyuan__V1__ListingEvent listing = KEYUAN__V1__LISTING_EVENT__INIT;
    regions_t r;
    char err[256];
    check_fail_t f;

    (void)state;
    assert_true(lead_with(lead, "999999", &f));

    assert_int_equal(regions_load(&r,
                                  "data/divisions/cn_admin_divisions_2023.csv",
                                  err, sizeof err),
                     0);
    validate_use_regions(&r);
    assert_false(lead_with(lead, "999999", &f));
    assert_string_equal(f.code, "invalid_region");
    assert_string_equal(f.field, "needs.regionCodes");
    assert_non_null(strstr(f.message, "list of division codes"));
    if (!lead_with(lead, "440300", &f))
        fail_msg("a city's code refused: %s", f.message);

    listing.source = "s";
    listing.source_event_id = "L1-1";
    listing.listing_id = "L1";
    listing.area_m2 = 80;
    listing.total_price_wan = 500;
    listing.district_code = "110199";
    assert_false(check_listing(&listing, &f));
    assert_string_equal(f.field, "districtCode");
    listing.district_code = "110101";
    if (!check_listing(&listing, &f))
        fail_msg("a district's code refused: %s", f.message);
    validate_use_regions(NULL);
    regions_free(&r);
}

/* A path quoted in a rejection is cut on a character boundary: the
 * reply's message must stay valid UTF-8. */
static void test_quoted_path_stays_utf8(void **state)
{
    char body[256] = "\"paths\":[\"needs.x";
    check_fail_t f;

    (void)state;
    for (int i = 0; i < 20; i++)
        strcat(body, "中");
    strcat(body, "\"]");
    expect_update(body, "invalid_path", "paths");
    assert_false(
        check_json(&keyuan__v1__profile_update__descriptor,
                   "{\"source\":\"s\",\"sourceEventId\":\"e\","
                   "\"customerId\":\"7\",\"paths\":[\"needs.x中中中中中"
                   "中中中中中中中中中中中中中中中\"]}",
                   &f));
    assert_true(text_valid_utf8(f.message, strlen(f.message)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lead_limits),
        cmocka_unit_test(test_profile_update_limits),
        cmocka_unit_test(test_profile_update_rules),
        cmocka_unit_test(test_update_needs_ids),
        cmocka_unit_test(test_times_in_range),
        cmocka_unit_test(test_unknown_enum_values),
        cmocka_unit_test(test_empty_list_entry),
        cmocka_unit_test(test_region_codes_named_in_the_list),
        cmocka_unit_test(test_quoted_path_stays_utf8),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
