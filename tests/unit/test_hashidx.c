/*
 * test_hashidx.c - the two-tier hash index (hashidx.h): lookups through
 * both tiers, the newer value winning, and recent moving to main in bulk
 * once it passes its limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "err.h"
#include "hashidx.h"
#include "wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct fixture {
    char dir[64];
    store_t *st;
    hashidx_t ix;
    MDB_txn *txn;
} fixture_t;

static const char *const DBS[] = {"idx", "idx_recent", NULL};

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    int err = 0;

    snprintf(f->dir, sizeof f->dir, "/tmp/keyuan-hashidx-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->st = store_open(f->dir, DBS, 256, &err);
    assert_non_null(f->st);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    char cmd[128];

    if (f->txn)
        mdb_txn_abort(f->txn);
    hashidx_close(&f->ix);
    store_destroy(&f->st);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* Opens the index over what the store holds, and a write transaction. */
static void index_open(fixture_t *f)
{
    assert_int_equal(hashidx_open(&f->ix, f->st, "idx", "idx_recent"), 0);
    assert_int_equal(store_begin(f->st, NULL, false, &f->txn), 0);
}

static void key_of(uint64_t i, uint8_t key[8]);

/* Stores keys first..first+n-1 in main directly, as an older build did. */
static void main_preset(fixture_t *f, uint64_t first, size_t n)
{
    MDB_dbi dbi = store_db(f->st, "idx");
    MDB_txn *txn;

    assert_int_equal(store_begin(f->st, NULL, false, &txn), 0);
    for (size_t i = 0; i < n; i++) {
        uint8_t key[8], val[8];

        key_of(first + i, key);
        wire_put_u64(val, first + i);
        assert_int_equal(store_put(txn, dbi, key, 8, val, 8, 0), 0);
    }
    assert_int_equal(store_commit(txn), 0);
}

/* A key that is spread like a hash: the bits of i scattered. */
static void key_of(uint64_t i, uint8_t key[8])
{
    wire_put_u64(key, i * 0x9E3779B97F4A7C15ull);
}

static void put(fixture_t *f, uint64_t i, uint64_t value)
{
    uint8_t key[8], val[8];

    key_of(i, key);
    wire_put_u64(val, value);
    assert_int_equal(hashidx_put(f->txn, &f->ix, key, 8, val, 8), 0);
}

/* The value of key i, or 0 when it is not there. */
static uint64_t get(fixture_t *f, uint64_t i)
{
    uint8_t key[8];
    MDB_val v;
    int rc;

    key_of(i, key);
    rc = hashidx_get(f->txn, &f->ix, key, 8, &v);
    if (rc == KY_ENOTFOUND)
        return 0;
    assert_int_equal(rc, 0);
    return wire_get_u64(v.mv_data);
}

static size_t entries(fixture_t *f, MDB_dbi dbi)
{
    MDB_stat st;

    assert_int_equal(mdb_stat(f->txn, dbi, &st), 0);
    return st.ms_entries;
}

/* An entry put before the index had two tiers is found in main. */
static void test_reads_both_tiers(void **state)
{
    fixture_t *f = *state;

    main_preset(f, 1, 1);
    index_open(f);
    put(f, 2, 22);
    assert_int_equal(get(f, 1), 1);
    assert_int_equal(get(f, 2), 22);
    assert_int_equal(get(f, 3), 0);
    assert_int_equal(entries(f, f->ix.recent), 1);
    assert_int_equal(hashidx_count(f->txn, &f->ix), 2);

    put(f, 1, 111); /* newer, in recent: wins over main */
    assert_int_equal(get(f, 1), 111);
}

/* At its limit recent moves to main, newer values over older ones. */
static void test_moves_in_bulk(void **state)
{
    fixture_t *f = *state;

    main_preset(f, 5, 1);
    index_open(f);
    for (uint64_t i = 1; i < HASHIDX_RECENT_MIN; i++)
        put(f, 100 + i, i);
    put(f, 5, 55);
    assert_int_equal(entries(f, f->ix.recent), 0);
    assert_int_equal(entries(f, f->ix.main), HASHIDX_RECENT_MIN);
    assert_int_equal(get(f, 5), 55);
    for (uint64_t i = 1; i < HASHIDX_RECENT_MIN; i++)
        assert_int_equal(get(f, 100 + i), i);

    put(f, 7, 77); /* a new tier begins */
    assert_int_equal(entries(f, f->ix.recent), 1);
    assert_int_equal(get(f, 7), 77);
}

/* Beside a large main, recent grows to its share before it moves. */
static void test_limit_grows_with_main(void **state)
{
    fixture_t *f = *state;
    size_t big = (size_t)HASHIDX_RECENT_MIN * HASHIDX_RECENT_SHARE * 2;
    size_t share = big / HASHIDX_RECENT_SHARE;

    main_preset(f, 1000000, big);
    index_open(f);
    for (size_t i = 1; i < share; i++)
        put(f, i, i);
    assert_int_equal(entries(f, f->ix.recent), share - 1);
    put(f, share, share);
    assert_int_equal(entries(f, f->ix.recent), 0);
    assert_int_equal(entries(f, f->ix.main), big + share);
    assert_int_equal(get(f, share / 2), share / 2);
    assert_int_equal(get(f, 1000000 + big / 2), 1000000 + big / 2);
}

/* However large main grows, recent moves at HASHIDX_RECENT_MAX. */
static void test_limit_stops_growing(void **state)
{
    fixture_t *f = *state;
    size_t big = (size_t)HASHIDX_RECENT_MAX * HASHIDX_RECENT_SHARE * 5 / 4;

    main_preset(f, 10000000, big);
    index_open(f);
    for (size_t i = 1; i < HASHIDX_RECENT_MAX; i++)
        put(f, i, i);
    assert_int_equal(entries(f, f->ix.recent), HASHIDX_RECENT_MAX - 1);
    put(f, HASHIDX_RECENT_MAX, 1);
    assert_int_equal(entries(f, f->ix.recent), 0);
    assert_int_equal(entries(f, f->ix.main), big + HASHIDX_RECENT_MAX);
}

/*
 * A key never put is answered without a lookup, nearly always; a key
 * put is always found: from the store at open, after puts, and after
 * the filter outgrew itself and was built again.
 */
static void test_filter(void **state)
{
    fixture_t *f = *state;
    const uint64_t n = 70000; /* past what the smallest filter holds */
    uint64_t skipped;

    main_preset(f, 1, 1000);
    index_open(f);
    for (uint64_t i = 1; i <= 1000; i++)
        assert_int_equal(get(f, i), i);
    assert_int_equal(f->ix.skipped, 0);
    for (uint64_t i = 0; i < 1000; i++)
        assert_int_equal(get(f, 5000000 + i), 0);
    assert_true(f->ix.skipped >= 990);

    for (uint64_t i = 2000; i < 2000 + n; i++)
        put(f, i, i);
    skipped = f->ix.skipped;
    for (uint64_t i = 2000; i < 2000 + n; i++)
        assert_int_equal(get(f, i), i);
    for (uint64_t i = 1; i <= 1000; i++)
        assert_int_equal(get(f, i), i);
    assert_int_equal(f->ix.skipped, skipped);
    for (uint64_t i = 0; i < 1000; i++)
        assert_int_equal(get(f, 9000000 + i), 0);
    assert_true(f->ix.skipped >= skipped + 990);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reads_both_tiers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_moves_in_bulk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limit_grows_with_main, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_limit_stops_growing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_filter, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
