/* test_phone.c - phone numbers written every way become one E.164 form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "err.h"
#include "phone.h"

#include <string.h>

static void expect_e164(const char *raw, const char *want)
{
    char out[PHONE_E164_MAX];

    assert_int_equal(phone_normalize(raw, out, sizeof out, NULL), KY_OK);
    assert_string_equal(out, want);
}

static void expect_invalid(const char *raw)
{
    char out[PHONE_E164_MAX];
    const char *why = NULL;

    assert_int_equal(phone_normalize(raw, out, sizeof out, &why), KY_EINVAL);
    assert_non_null(why);
    assert_true(strlen(why) > 5); /* a whole reason, not a cut one */
}

static void test_mobile_variants(void **state)
{
    (void)state;
    expect_e164("13800138000", "+8613800138000");
    expect_e164("138 0013 8000", "+8613800138000");
    expect_e164("138-0013-8000", "+8613800138000");
    expect_e164("+86 138 0013 8000", "+8613800138000");
    expect_e164("+86-138-0013-8000", "+8613800138000");
    expect_e164("008613800138000", "+8613800138000");
    expect_e164("8613800138000", "+8613800138000");
    expect_e164("(+86) 13800138000", "+8613800138000");
}

static void test_fullwidth(void **state)
{
    (void)state;
    /* １３８００１３８０００ with full-width digits and an ideographic space */
    expect_e164("\xEF\xBC\x91\xEF\xBC\x93\xEF\xBC\x98\xE3\x80\x80"
                "\xEF\xBC\x90\xEF\xBC\x90\xEF\xBC\x91\xEF\xBC\x93"
                "\xEF\xBC\x98\xEF\xBC\x90\xEF\xBC\x90\xEF\xBC\x90",
                "+8613800138000");
    expect_e164("\xEF\xBC\x8B"
                "8613800138000",
                "+8613800138000");
}

static void test_landlines(void **state)
{
    (void)state;
    expect_e164("010-62345678", "+861062345678");
    expect_e164("(010) 6234 5678", "+861062345678");
    expect_e164("0755-8888-7777", "+8675588887777");
    expect_e164("+86 10 6234 5678", "+861062345678");
    expect_e164("0086 755 88887777", "+8675588887777");
    expect_e164("010-62345678 \xE8\xBD\xAC 123", "+861062345678,123");
    expect_e164("010-62345678 ext 45", "+861062345678,45");
}

static void test_foreign_kept(void **state)
{
    (void)state;
    expect_e164("+1 415 555 0100", "+14155550100");
    expect_e164("+852 9123 4567", "+85291234567");
}

static void test_one_digit_differs(void **state)
{
    char a[PHONE_E164_MAX], b[PHONE_E164_MAX];

    (void)state;
    phone_normalize("13800138000", a, sizeof a, NULL);
    phone_normalize("13800138001", b, sizeof b, NULL);
    assert_string_not_equal(a, b);
}

static void test_invalid(void **state)
{
    (void)state;
    expect_invalid("");
    expect_invalid("12345");
    expect_invalid("not a phone");
    expect_invalid("1380013800O"); /* letter O */
    expect_invalid("23800138000"); /* no such mobile prefix */
    expect_invalid("+86 138 0013 8000 9999 9999");
    expect_invalid("138+0013");
    expect_invalid("13800138000 ext"); /* extension without digits */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mobile_variants),
        cmocka_unit_test(test_fullwidth),
        cmocka_unit_test(test_landlines),
        cmocka_unit_test(test_foreign_kept),
        cmocka_unit_test(test_one_digit_differs),
        cmocka_unit_test(test_invalid),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
