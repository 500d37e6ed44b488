/*
 * test_regions.c - the official division codes (regions.h): the shipped
 * list loads and answers for provinces, cities and districts, and a file
 * that is not such a list is refused saying where.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "err.h"
#include "regions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SHIPPED "data/divisions/cn_admin_divisions_2023.csv"

static void test_shipped_list(void **state)
{
    regions_t r;
    char err[256];

    (void)state;
    assert_int_equal(regions_load(&r, SHIPPED, err, sizeof err), 0);
    assert_int_equal(r.n, 31 + 342 + 2978);
    assert_true(regions_known(&r, "110105"));  /* 北京市朝阳区 */
    assert_true(regions_known(&r, "440305"));  /* 深圳市南山区 */
    assert_true(regions_known(&r, "440300"));  /* 深圳市 */
    assert_true(regions_known(&r, "110000"));  /* 北京市 */
    assert_false(regions_known(&r, "999999")); /* six digits, no place */
    assert_false(regions_known(&r, "11010"));
    assert_false(regions_known(&r, "1101050"));
    assert_false(regions_known(&r, "11010x"));
    assert_false(regions_known(&r, NULL));
    regions_free(&r);
    assert_false(regions_known(&r, "110105")); /* freed: knows nothing */
}

/* Writes text to a temporary file and loads it; returns the result. */
static int load_text(const char *text, char *err, size_t errlen)
{
    char path[] = "/tmp/keyuan-regions-XXXXXX";
    int fd = mkstemp(path), rc;
    regions_t r;
    FILE *f;

    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    rc = regions_load(&r, path, err, errlen);
    unlink(path);
    if (rc == 0) {
        assert_true(regions_known(&r, "110105"));
        regions_free(&r);
    }
    return rc;
}

static void test_bad_files(void **state)
{
    char err[256];

    (void)state;
    assert_int_equal(
        load_text("code,name\r\n110105,朝阳区\r\n\r\n", err, sizeof err),
        0); /* CRLF and a blank line are fine */
    assert_int_equal(load_text("\xEF\xBB\xBF"
                               "code,name\n110105,x\n",
                               err, sizeof err),
                     0); /* a BOM, as spreadsheets write */
    assert_int_equal(load_text("name,code\n110105,x\n", err, sizeof err),
                     KY_EDECODE);
    assert_non_null(strstr(err, ":1: the header"));
    {
        char longline[2048] = "code\n110105,";

        memset(longline + strlen(longline), 'x', 1500);
        strcat(longline, "\n11010\n");
        assert_int_equal(load_text(longline, err, sizeof err), KY_EDECODE);
        assert_non_null(
            strstr(err, ":3: not a six-digit")); /* the right line */
    }
    assert_int_equal(load_text("code\n110105\n11010\n", err, sizeof err),
                     KY_EDECODE);
    assert_non_null(strstr(err, ":3: not a six-digit"));
    assert_int_equal(load_text("code\n", err, sizeof err), KY_EDECODE);
    assert_non_null(strstr(err, "no division codes"));
    assert_int_equal(load_text("", err, sizeof err), KY_EDECODE);

    {
        regions_t r;

        assert_int_equal(
            regions_load(&r, "/nonexistent/regions.csv", err, sizeof err),
            KY_EIO);
        assert_non_null(strstr(err, "/nonexistent/regions.csv: "));
        assert_int_equal(regions_load(&r, "/tmp", err, sizeof err), KY_EIO);
        assert_non_null(strstr(err, "/tmp: Is a directory"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_list),
        cmocka_unit_test(test_bad_files),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
