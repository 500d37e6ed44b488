/*
 * test_ident.c - the identity index's keyed hash (ident.h) is keyed
 * BLAKE2b of the kind byte and the value, whatever shortcut computes it:
 * stores written before must keep finding their customers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ident.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_hash_is_keyed_blake2b(void **state)
{
    static const char *const dbs[] = {NULL};
    static const char *const values[] = {"+8613800138000", "", "wx-1",
                                         "a@b.cn"};
    char dir[64], key_path[96], cmd[128];
    ident_t id;
    store_t *st;
    int err = 0;

    (void)state;
    snprintf(dir, sizeof dir, "/tmp/keyuan-ident-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(key_path, sizeof key_path, "%s/index.key", dir);
    st = store_open(dir, dbs, 16, &err);
    assert_non_null(st);
    assert_int_equal(ident_open(&id, st, key_path), 0);

    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        uint8_t got[IDENT_HASH_BYTES], want[IDENT_HASH_BYTES], in[64];
        size_t len = strlen(values[i]);

        in[0] = (uint8_t)IDENT_MOBILE;
        memcpy(in + 1, values[i], len);
        crypto_generichash(want, sizeof want, in, len + 1, id.key,
                           sizeof id.key);
        ident_hash(&id, IDENT_MOBILE, values[i], len, got);
        assert_memory_equal(got, want, sizeof got);
        ident_hash(&id, IDENT_MOBILE, values[i], len, got); /* again */
        assert_memory_equal(got, want, sizeof got);
    }
    store_destroy(&st);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_is_keyed_blake2b),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
