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
    f->ix = hashidx_of(f->st, "idx", "idx_recent");
    assert_int_equal(store_begin(f->st, NULL, false, &f->txn), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    char cmd[128];

    mdb_txn_abort(f->txn);
    store_destroy(&f->st);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
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
    uint8_t key[8], val[8];

    key_of(1, key);
    wire_put_u64(val, 11);
    assert_int_equal(store_put(f->txn, f->ix.main, key, 8, val, 8, 0), 0);
    put(f, 2, 22);
    assert_int_equal(get(f, 1), 11);
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
    uint8_t key[8], val[8];

    key_of(5, key);
    wire_put_u64(val, 1);
    assert_int_equal(store_put(f->txn, f->ix.main, key, 8, val, 8, 0), 0);
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

    for (size_t i = 0; i < big; i++) {
        uint8_t key[8], val[8];

        key_of(1000000 + i, key);
        wire_put_u64(val, i);
        assert_int_equal(
            store_put(f->txn, f->ix.main, key, 8, val, 8, MDB_NOOVERWRITE), 0);
    }
    for (size_t i = 1; i < share; i++)
        put(f, i, i);
    assert_int_equal(entries(f, f->ix.recent), share - 1);
    put(f, share, share);
    assert_int_equal(entries(f, f->ix.recent), 0);
    assert_int_equal(entries(f, f->ix.main), big + share);
    assert_int_equal(get(f, share / 2), share / 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reads_both_tiers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_moves_in_bulk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limit_grows_with_main, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
