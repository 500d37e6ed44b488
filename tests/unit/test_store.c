/*
 * test_store.c - the meta values a write transaction keeps in memory
 * (store.h): seen in the transaction, written at store_commit(), gone with
 * an abort, handed to a nested transaction through the database.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "err.h"
#include "store.h"
#include "wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct fixture {
    char dir[64];
    store_t *st;
} fixture_t;

static int setup(void **state)
{
    static const char *const dbs[] = {"data", NULL};
    fixture_t *f = calloc(1, sizeof *f);
    int err = 0;

    snprintf(f->dir, sizeof f->dir, "/tmp/keyuan-store-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->st = store_open(f->dir, dbs, 16, &err);
    assert_non_null(f->st);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    char cmd[128];

    store_destroy(&f->st);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* name's value as a new read transaction sees it. */
static uint64_t stored(fixture_t *f, const char *name)
{
    MDB_txn *txn;
    uint64_t v;

    assert_int_equal(store_begin(f->st, NULL, true, &txn), 0);
    assert_int_equal(store_meta_get(f->st, txn, name, &v), 0);
    mdb_txn_abort(txn);
    return v;
}

static MDB_txn *begin(fixture_t *f)
{
    MDB_txn *txn;

    assert_int_equal(store_begin(f->st, NULL, false, &txn), 0);
    return txn;
}

static void test_committed_and_aborted(void **state)
{
    fixture_t *f = *state;
    MDB_txn *txn = begin(f);
    uint64_t v;

    assert_int_equal(store_meta_put(f->st, txn, "n", 5), 0);
    assert_int_equal(store_meta_get(f->st, txn, "n", &v), 0);
    assert_int_equal(v, 5);
    assert_int_equal(stored(f, "n"), 0); /* not before the commit */
    assert_int_equal(store_commit(txn), 0);
    assert_int_equal(stored(f, "n"), 5);

    txn = begin(f);
    assert_int_equal(store_meta_put(f->st, txn, "n", 6), 0);
    mdb_txn_abort(txn);
    txn = begin(f); /* the same LMDB transaction object, reused */
    assert_int_equal(store_meta_get(f->st, txn, "n", &v), 0);
    assert_int_equal(v, 5);
    assert_int_equal(store_commit(txn), 0);
    assert_int_equal(stored(f, "n"), 5);
}

/* More names than the cache holds, and names too long for it. */
static void test_many_and_long_names(void **state)
{
    fixture_t *f = *state;
    const char *lng =
        "a-name-of-sixty-characters-is-too-long-for-the-cache-...";
    MDB_txn *txn = begin(f);
    char name[16];
    uint64_t v;

    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof name, "c%d", i);
        assert_int_equal(store_meta_put(f->st, txn, name, (uint64_t)i + 1), 0);
    }
    assert_int_equal(store_meta_put(f->st, txn, lng, 77), 0);
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof name, "c%d", i);
        assert_int_equal(store_meta_get(f->st, txn, name, &v), 0);
        assert_int_equal(v, (uint64_t)i + 1);
    }
    assert_int_equal(store_commit(txn), 0);
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof name, "c%d", i);
        assert_int_equal(stored(f, name), (uint64_t)i + 1);
    }
    assert_int_equal(stored(f, lng), 77);
}

/* A nested transaction sees what its parent set, and the parent what the
 * nested one committed; an aborted nested one leaves the parent's. */
static void test_nested(void **state)
{
    fixture_t *f = *state;
    MDB_txn *txn = begin(f), *child;
    uint64_t v;

    assert_int_equal(store_meta_put(f->st, txn, "n", 1), 0);
    assert_int_equal(store_begin(f->st, txn, false, &child), 0);
    assert_int_equal(store_meta_get(f->st, child, "n", &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(store_meta_put(f->st, child, "n", 2), 0);
    assert_int_equal(store_commit(child), 0);
    assert_int_equal(store_meta_get(f->st, txn, "n", &v), 0);
    assert_int_equal(v, 2);

    assert_int_equal(store_begin(f->st, txn, false, &child), 0);
    assert_int_equal(store_meta_put(f->st, child, "n", 3), 0);
    mdb_txn_abort(child);
    assert_int_equal(store_meta_get(f->st, txn, "n", &v), 0);
    assert_int_equal(v, 2);
    assert_int_equal(store_commit(txn), 0);
    assert_int_equal(stored(f, "n"), 2);
}

/* Ids grow across commits and aborts, several per transaction. */
static void test_next_id(void **state)
{
    fixture_t *f = *state;
    uint64_t last = 0, id;

    for (int round = 0; round < 3; round++) {
        MDB_txn *txn = begin(f);

        for (int i = 0; i < 5; i++) {
            assert_int_equal(store_next_id(f->st, txn, &id), 0);
            assert_true(id > last);
            last = id;
        }
        if (round == 1) {
            mdb_txn_abort(txn); /* ids given here may come again */
            last = stored(f, "last_id");
        } else {
            assert_int_equal(store_commit(txn), 0);
            assert_int_equal(stored(f, "last_id"), last);
        }
    }
}

/* Appends in key order, and a key that is not last still lands. */
static void test_append(void **state)
{
    fixture_t *f = *state;
    MDB_dbi db = store_db(f->st, "data");
    Keyuan__V1__Ack ack = KEYUAN__V1__ACK__INIT;
    const uint8_t keys[][2] = {{0, 1}, {0, 5}, {0, 3}, {0, 9}};
    MDB_txn *txn = begin(f);

    for (size_t i = 0; i < 4; i++) {
        ack.seq = i + 1;
        assert_int_equal(store_append_msg(txn, db, keys[i], 2, &ack.base), 0);
    }
    for (size_t i = 0; i < 4; i++) {
        ProtobufCMessage *m;

        assert_int_equal(store_get_msg(txn, db, keys[i], 2,
                                       &keyuan__v1__ack__descriptor, &m),
                         0);
        assert_int_equal(((Keyuan__V1__Ack *)m)->seq, i + 1);
        protobuf_c_message_free_unpacked(m, NULL);
    }
    assert_int_equal(store_count(txn, db), 4);
    assert_int_equal(store_commit(txn), 0);
}

/* A state directory whose parents do not exist yet is made with them, as
 * var/<service> in a fresh checkout. */
static void test_makes_parent_dirs(void **state)
{
    static const char *const dbs[] = {"data", NULL};
    fixture_t *f = *state;
    char deep[128];
    store_t *st;
    int err = 0;

    snprintf(deep, sizeof deep, "%s/var/deeper/intake", f->dir);
    st = store_open(deep, dbs, 16, &err);
    assert_non_null(st);
    assert_int_equal(access(deep, W_OK), 0);
    store_destroy(&st);

    snprintf(deep, sizeof deep, "/proc/keyuan-cannot/intake");
    assert_null(store_open(deep, dbs, 16, &err));
    assert_int_equal(err, KY_EIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_committed_and_aborted, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_many_and_long_names, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_nested, setup, teardown),
        cmocka_unit_test_setup_teardown(test_next_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append, setup, teardown),
        cmocka_unit_test_setup_teardown(test_makes_parent_dirs, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
