/*
 * test_hashidx.c - the hash index (hashidx.h): lookups through the logs
 * and main, the newer value winning, logs frozen at their limit and moved
 * to main a few entries per put, memory that follows rolled-back
 * transactions and restarts, and an older build's store.
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

static const char *const DBS[] = {"idx", "idx_log0", "idx_log1", "idx_recent",
                                  NULL};
static const hashidx_dbs_t IDX = {
    "idx", {"idx_log0", "idx_log1"}, "idx_recent"};

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
    assert_int_equal(hashidx_open(&f->ix, f->st, &IDX), 0);
    assert_int_equal(store_begin(f->st, NULL, false, &f->txn), 0);
}

/* Commits the open transaction and begins the next one. */
static void commit(fixture_t *f)
{
    assert_int_equal(store_commit(f->txn), 0);
    assert_int_equal(store_begin(f->st, NULL, false, &f->txn), 0);
}

/* Rolls the open transaction back and begins the next one. */
static void roll_back(fixture_t *f)
{
    store_abort(f->txn);
    assert_int_equal(store_begin(f->st, NULL, false, &f->txn), 0);
}

/* Closes the index and the store, and opens both again. */
static void reopen(fixture_t *f)
{
    int err = 0;

    assert_int_equal(store_commit(f->txn), 0);
    f->txn = NULL;
    hashidx_close(&f->ix);
    store_destroy(&f->st);
    f->st = store_open(f->dir, DBS, 256, &err);
    assert_non_null(f->st);
    index_open(f);
}

static void key_of(uint64_t i, uint8_t key[8]);

/* Stores keys first..first+n-1 (value: key number + plus) in db directly. */
static void db_preset(fixture_t *f, const char *db, uint64_t first, size_t n,
                      uint64_t plus)
{
    MDB_dbi dbi = store_db(f->st, db);
    MDB_txn *txn;

    assert_int_equal(store_begin(f->st, NULL, false, &txn), 0);
    for (size_t i = 0; i < n; i++) {
        uint8_t key[8], val[8];

        key_of(first + i, key);
        wire_put_u64(val, first + i + plus);
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

/* Stores keys first..first+n-1 in main, as an older build did. */
static void main_preset(fixture_t *f, uint64_t first, size_t n)
{
    db_preset(f, "idx", first, n, 0);
}

static size_t entries(fixture_t *f, MDB_dbi dbi)
{
    MDB_stat st;

    assert_int_equal(mdb_stat(f->txn, dbi, &st), 0);
    return st.ms_entries;
}

/* Entries in both logs. */
static size_t logged(fixture_t *f)
{
    return entries(f, f->ix.log[0]) + entries(f, f->ix.log[1]);
}

/* Keys first..first+n-1 all read value (key number + plus). */
static void assert_range(fixture_t *f, uint64_t first, size_t n, uint64_t plus)
{
    for (uint64_t i = first; i < first + n; i++)
        assert_int_equal(get(f, i), i + plus);
}

/* Puts keys first..first+n-1 with value key number + plus. */
static void put_range(fixture_t *f, uint64_t first, size_t n, uint64_t plus)
{
    for (uint64_t i = first; i < first + n; i++)
        put(f, i, i + plus);
}

/* An entry put before the index had logs is found in main. */
static void test_reads_main_and_log(void **state)
{
    fixture_t *f = *state;

    main_preset(f, 1, 1);
    index_open(f);
    put(f, 2, 22);
    assert_int_equal(get(f, 1), 1);
    assert_int_equal(get(f, 2), 22);
    assert_int_equal(get(f, 3), 0);
    assert_int_equal(entries(f, f->ix.log[0]), 1);
    assert_int_equal(hashidx_count(f->txn, &f->ix), 2);

    put(f, 1, 111); /* newer, in the log: wins over main */
    assert_int_equal(get(f, 1), 111);
    put(f, 1, 1111); /* twice in the log: the last wins */
    assert_int_equal(get(f, 1), 1111);
}

/*
 * A full log is frozen at the next put; each put then moves two frozen
 * entries to main, and the frozen log is dropped once all have moved.
 * Every value reads the same all along.
 */
static void test_freezes_and_moves(void **state)
{
    fixture_t *f = *state;
    const size_t n = HASHIDX_LOG_MIN;

    index_open(f);
    put_range(f, 1, n, 0);
    assert_int_equal(entries(f, f->ix.log[0]), n);
    assert_int_equal(f->ix.frozen_log, -1);

    put(f, n + 1, n + 1); /* freezes log 0 */
    assert_int_equal(f->ix.frozen_log, 0);
    assert_int_equal(f->ix.active, 1);
    assert_int_equal(entries(f, f->ix.main), HASHIDX_MOVE_STEP);
    assert_range(f, 1, n + 1, 0);

    put_range(f, n + 2, n / 4, 0); /* a quarter of the move, committed */
    commit(f);
    assert_int_equal(entries(f, f->ix.main), (n / 4 + 1) * HASHIDX_MOVE_STEP);
    assert_range(f, 1, n + 1 + n / 4, 0);
    /* An entry moved but still frozen counts once. */
    assert_int_equal(hashidx_count(f->txn, &f->ix), n + 1 + n / 4);

    put_range(f, n + 2 + n / 4, n / 4, 0); /* the rest */
    assert_int_equal(f->ix.frozen_log, -1);
    assert_int_equal(entries(f, f->ix.log[0]), 0);
    assert_int_equal(entries(f, f->ix.main), n);
    assert_int_equal(entries(f, f->ix.log[1]), n / 2 + 1);
    assert_int_equal(f->ix.nused, n / 2 + 1);
    assert_range(f, 1, n + 1 + n / 2, 0);
    assert_int_equal(hashidx_count(f->txn, &f->ix), n + n / 2 + 1);
}

/* A key set again while its older entry is frozen reads the newer value,
 * before, during and after the moves of both. */
static void test_newer_wins_across_moves(void **state)
{
    fixture_t *f = *state;
    const size_t n = HASHIDX_LOG_MIN;

    index_open(f);
    put_range(f, 1, n, 0);
    put_range(f, 1, 100, 1000); /* freezes, then sets 1..100 again */
    assert_range(f, 1, 100, 1000);
    put_range(f, n + 1, n / 2, 0); /* the frozen log moves and goes */
    assert_int_equal(f->ix.frozen_log, -1);
    assert_range(f, 1, 100, 1000);
    assert_range(f, 101, n - 100, 0);

    put_range(f, 2 * n, n, 0); /* freezes the log of 1..100 and moves it */
    assert_int_equal(f->ix.frozen_log, -1);
    assert_int_equal(entries(f, f->ix.log[0]) + entries(f, f->ix.log[1]),
                     (size_t)f->ix.nused);
    assert_range(f, 1, 100, 1000);
    assert_int_equal(hashidx_count(f->txn, &f->ix), n * 5 / 2);
}

/* A key put twice in one log ends in main with its later value. */
static void test_twice_in_one_log(void **state)
{
    fixture_t *f = *state;
    const size_t n = HASHIDX_LOG_MIN;
    uint8_t key[8];
    MDB_val v;

    index_open(f);
    put_range(f, 1, n - 1, 0);
    put(f, 5, 555);
    put_range(f, n + 1, n / 2, 0); /* freezes, moves all, drops */
    assert_int_equal(f->ix.frozen_log, -1);
    key_of(5, key);
    assert_int_equal(store_get(f->txn, f->ix.main, key, 8, &v), 0);
    assert_int_equal(wire_get_u64(v.mv_data), 555);
    assert_int_equal(get(f, 5), 555);
}

/* What a rolled-back transaction put is gone, and the memory with it. */
static void test_rolled_back_puts(void **state)
{
    fixture_t *f = *state;

    index_open(f);
    put_range(f, 1, 10, 0);
    commit(f);
    put_range(f, 11, 10, 0);
    put(f, 1, 99);
    assert_int_equal(get(f, 1), 99);
    roll_back(f);

    assert_int_equal(get(f, 1), 1);
    assert_int_equal(get(f, 11), 0);
    assert_int_equal(f->ix.reloads, 1);
    put(f, 11, 11); /* takes the sequence number the rolled-back one had */
    assert_int_equal(get(f, 11), 11);
    assert_int_equal(get(f, 12), 0);
    assert_range(f, 1, 10, 0);
    commit(f);
    assert_int_equal(logged(f), 11);
    assert_int_equal(f->ix.reloads, 1);
}

/*
 * A rolled-back freeze, and a rolled-back end of a move, leave the logs
 * as they were, and the memory follows: nothing committed goes missing.
 * A bare mdb_txn_abort() is noticed at the next store_begin().
 */
static void test_rolled_back_moves(void **state)
{
    fixture_t *f = *state;
    const size_t n = HASHIDX_LOG_MIN;

    index_open(f);
    put_range(f, 1, n, 0);
    commit(f);
    put(f, n + 1, n + 1); /* freezes */
    assert_int_equal(f->ix.frozen_log, 0);
    roll_back(f);
    assert_range(f, 1, n, 0);
    assert_int_equal(get(f, n + 1), 0);
    assert_int_equal(f->ix.frozen_log, -1);

    put_range(f, n + 1, n / 2 - 1, 0); /* freezes, moves all but two */
    commit(f);
    assert_int_equal(f->ix.frozen_log, 0);
    put(f, n + n / 2, 7); /* moves the last two and drops the log */
    assert_int_equal(f->ix.frozen_log, -1);
    mdb_txn_abort(f->txn);
    assert_int_equal(store_begin(f->st, NULL, false, &f->txn), 0);
    assert_range(f, 1, n + n / 2 - 1, 0);
    assert_int_equal(get(f, n + n / 2), 0);
    assert_int_equal(f->ix.frozen_log, 0);
    assert_int_equal(f->ix.moved, n - HASHIDX_MOVE_STEP);
    assert_int_equal(f->ix.reloads, 2);
}

/* Writes raw bytes as the log entry of sequence number seq. */
static void log_entry_set(fixture_t *f, int log, uint64_t seq, const void *val,
                          size_t vlen)
{
    uint8_t k[8];

    wire_put_u64(k, seq);
    assert_int_equal(store_put(f->txn, f->ix.log[log], k, 8, val, vlen, 0), 0);
}

/*
 * A reload that fails (a log entry that does not parse) answers with an
 * error, and is tried again at the next call, not taken as done.
 */
static void test_failed_reload_is_retried(void **state)
{
    fixture_t *f = *state;
    uint8_t good[1 + 8 + 8], key[8];
    MDB_val v;

    index_open(f);
    put_range(f, 1, 3, 0);
    commit(f);
    key_of(2, key);
    assert_int_equal(store_get(f->txn, f->ix.log[0], "\0\0\0\0\0\0\0\2", 8, &v),
                     0);
    memcpy(good, v.mv_data, sizeof good);
    put(f, 4, 4);
    roll_back(f);                      /* the next call reloads... */
    log_entry_set(f, 0, 2, "\x09", 1); /* ...and finds entry 2 broken */
    commit(f);
    assert_int_equal(hashidx_get(f->txn, &f->ix, key, 8, &v), KY_ESTORE);
    assert_true(f->ix.stale);

    log_entry_set(f, 0, 2, good, sizeof good);
    commit(f);
    assert_range(f, 1, 3, 0);
    assert_false(f->ix.stale);
}

/* Closed in the middle of a move, the index goes on from where it was. */
static void test_restart_mid_move(void **state)
{
    fixture_t *f = *state;
    const size_t n = HASHIDX_LOG_MIN;

    index_open(f);
    put_range(f, 1, n, 0);
    put_range(f, n + 1, 100, 0);
    reopen(f);
    assert_int_equal(f->ix.frozen_log, 0);
    assert_int_equal(f->ix.active, 1);
    assert_int_equal(f->ix.moved, 100 * HASHIDX_MOVE_STEP);
    assert_int_equal(entries(f, f->ix.main), 100 * HASHIDX_MOVE_STEP);
    assert_range(f, 1, n + 100, 0);
    assert_int_equal(hashidx_count(f->txn, &f->ix), n + 100);

    put_range(f, n + 101, n / 2, 0);
    assert_int_equal(f->ix.frozen_log, -1);
    assert_int_equal(entries(f, f->ix.main), n);
    assert_range(f, 1, n + 100 + n / 2, 0);
}

/* Beside a large main, a log grows to its share before it is frozen. */
static void test_limit_grows_with_main(void **state)
{
    fixture_t *f = *state;
    size_t big = (size_t)HASHIDX_LOG_MIN * HASHIDX_LOG_SHARE * 2;
    size_t share = big / HASHIDX_LOG_SHARE;

    main_preset(f, 1000000, big);
    index_open(f);
    put_range(f, 1, share, 0);
    assert_int_equal(f->ix.frozen_log, -1);
    put(f, share + 1, share + 1);
    assert_int_equal(f->ix.frozen_log, 0);
    assert_int_equal(get(f, share / 2), share / 2);
    assert_int_equal(get(f, 1000000 + big / 2), 1000000 + big / 2);
}

/* An older build's "recent" entries move to main at open, and win. */
static void test_legacy_recent(void **state)
{
    fixture_t *f = *state;

    main_preset(f, 1, 10);
    db_preset(f, "idx_recent", 5, 10, 1000); /* 5..10 newer than main's */
    index_open(f);
    assert_int_equal(entries(f, store_db(f->st, "idx_recent")), 0);
    assert_int_equal(entries(f, f->ix.main), 14);
    assert_range(f, 1, 4, 0);
    assert_range(f, 5, 10, 1000);
}

/* Keys must be 1 to HASHIDX_KEY_MAX bytes. */
static void test_key_length(void **state)
{
    fixture_t *f = *state;
    uint8_t key[HASHIDX_KEY_MAX + 1] = {1};

    index_open(f);
    assert_int_equal(hashidx_put(f->txn, &f->ix, key, 0, "v", 1), KY_EINVAL);
    assert_int_equal(
        hashidx_put(f->txn, &f->ix, key, HASHIDX_KEY_MAX + 1, "v", 1),
        KY_EINVAL);
    assert_int_equal(hashidx_put(f->txn, &f->ix, key, HASHIDX_KEY_MAX, "v", 1),
                     0);
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
        cmocka_unit_test_setup_teardown(test_reads_main_and_log, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_freezes_and_moves, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_newer_wins_across_moves, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_twice_in_one_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rolled_back_puts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rolled_back_moves, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_failed_reload_is_retried, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_restart_mid_move, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limit_grows_with_main, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_legacy_recent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_length, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filter, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
