/*
 * test_bloom.c - the blocked Bloom filter (bloom.h): every hash added is
 * "maybe", few others are, and a filter that could not be made answers
 * "maybe" to all.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "bloom.h"

/* splitmix64: hashes spread like the ones the index gives. */
static uint64_t next_hash(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void test_no_false_negatives_few_false_positives(void **state)
{
    const size_t n = 100000;
    bloom_t f = {0};
    uint64_t s = 1, maybe = 0;

    (void)state;
    assert_int_equal(bloom_reset(&f, n, 0), 0);
    for (size_t i = 0; i < n; i++)
        bloom_add(&f, next_hash(&s));
    assert_false(bloom_full(&f)); /* sized for n: the power of two above */

    s = 1;
    for (size_t i = 0; i < n; i++)
        assert_true(bloom_maybe(&f, next_hash(&s)));
    for (size_t i = 0; i < n; i++) /* hashes never added */
        maybe += bloom_maybe(&f, next_hash(&s));
    assert_true(maybe < n / 100); /* ~0.5% expected at this load */
    bloom_free(&f);
}

static void test_full_and_reset(void **state)
{
    bloom_t f = {0};
    uint64_t s = 7;

    (void)state;
    assert_int_equal(bloom_reset(&f, 10, 0), 0);
    assert_int_equal(f.nbits, 512); /* the smallest: one block */
    while (!bloom_full(&f))
        bloom_add(&f, next_hash(&s));
    assert_int_equal(f.nkeys, 512 / BLOOM_BITS_PER_KEY);

    assert_int_equal(bloom_reset(&f, 1000, 1u << 20), 0);
    assert_int_equal(f.nbits, 1u << 20);
    assert_int_equal(f.nkeys, 0);
    s = 7;
    assert_false(bloom_maybe(&f, next_hash(&s))); /* empty again */
    bloom_free(&f);
}

static void test_no_filter_answers_maybe(void **state)
{
    bloom_t f = {0};

    (void)state;
    bloom_add(&f, 42);
    assert_true(bloom_maybe(&f, 42));
    assert_true(bloom_maybe(&f, 43));
    assert_int_equal(f.nkeys, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_false_negatives_few_false_positives),
        cmocka_unit_test(test_full_and_reset),
        cmocka_unit_test(test_no_filter_answers_maybe),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
