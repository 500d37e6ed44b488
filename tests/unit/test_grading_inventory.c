/*
 * test_grading_inventory.c - the listing inventory on a real LMDB store in
 * a temporary directory: adding, updating and withdrawing listings, the
 * district samples and their median, matches, and the market gap that the
 * rules see for a small inventory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../services/grading/inventory.h"
#include "../../services/grading/rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fixture {
    char dir[64];
    store_t *st;
    inventory_t inv;
    MDB_txn *txn;
} fixture_t;

static int setup(void **state)
{
    static const char *const dbs[] = {INVENTORY_DBS, NULL};
    fixture_t *fx = calloc(1, sizeof *fx);
    int err;

    snprintf(fx->dir, sizeof fx->dir, "/tmp/keyuan-inv-XXXXXX");
    if (mkdtemp(fx->dir) == NULL)
        return -1;
    fx->st = store_open(fx->dir, dbs, 64, &err);
    if (fx->st == NULL)
        return -1;
    inventory_init(&fx->inv, fx->st);
    if (store_begin(fx->st, NULL, false, &fx->txn) != 0)
        return -1;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *fx = *state;
    char cmd[128];

    mdb_txn_abort(fx->txn);
    store_destroy(&fx->st);
    snprintf(cmd, sizeof cmd, "rm -rf %s", fx->dir);
    if (system(cmd) != 0)
        return -1;
    free(fx);
    return 0;
}

/* Applies one listing event and returns what it did. */
static enum inventory_outcome put(fixture_t *fx, const char *id,
                                  const char *code, double area, double price,
                                  double unit, bool withdrawn)
{
    Keyuan__V1__ListingEvent ev = KEYUAN__V1__LISTING_EVENT__INIT;
    enum inventory_outcome what;

    ev.source = "feed";
    ev.source_event_id = "e";
    ev.listing_id = (char *)id;
    ev.district_code = (char *)code;
    ev.area_m2 = area;
    ev.total_price_wan = price;
    ev.unit_price_yuan_m2 = unit;
    ev.withdrawn = withdrawn;
    assert_int_equal(inventory_apply(&fx->inv, fx->txn, &ev, &what), 0);
    return what;
}

static inventory_market_t market(fixture_t *fx, const char *region,
                                 uint32_t budget_max, uint32_t area_min,
                                 uint32_t area_max)
{
    Keyuan__V1__Needs n = KEYUAN__V1__NEEDS__INIT;
    char *regions[] = {(char *)region, (char *)region};
    inventory_market_t m;

    n.n_region_codes = 2; /* the same region twice counts once */
    n.region_codes = regions;
    n.budget_max_wan = budget_max;
    n.area_min_m2 = area_min;
    n.area_max_m2 = area_max;
    assert_int_equal(inventory_market(&fx->inv, fx->txn, &n, &m), 0);
    return m;
}

/* Three listings in 东城, one in 西城, one without a district. */
static void load_small(fixture_t *fx)
{
    assert_int_equal(put(fx, "d1", "110101", 60, 600, 100000, false),
                     INVENTORY_ADDED);
    assert_int_equal(put(fx, "d2", "110101", 50, 600, 120000, false),
                     INVENTORY_ADDED);
    assert_int_equal(put(fx, "d3", "110101", 100, 800, 0, false),
                     INVENTORY_ADDED); /* unit price derived: 80000 */
    assert_int_equal(put(fx, "x1", "110102", 100, 500, 50000, false),
                     INVENTORY_ADDED);
    assert_int_equal(put(fx, "y1", "", 90, 300, 33333, false), INVENTORY_ADDED);
}

static void test_add_and_price(void **state)
{
    fixture_t *fx = *state;
    inventory_market_t m;

    load_small(fx);
    assert_int_equal(store_count(fx->txn, fx->inv.listings), 5);
    assert_int_equal(store_count(fx->txn, fx->inv.district), 2);
    assert_int_equal(store_count(fx->txn, fx->inv.by_district), 4);

    m = market(fx, "110101", 650, 40, 80);
    assert_true(m.priced);
    assert_int_equal(m.median_unit_yuan, 100000);
    assert_int_equal(m.sampled, 3);
    assert_int_equal(m.districts, 1);
    assert_true(m.matches_known);
    assert_int_equal(m.matches, 2); /* d1, d2; d3 too dear */

    m = market(fx, "110101", 800, 55, 0); /* no upper area bound */
    assert_int_equal(m.matches, 2);       /* d1, d3; d2 too small */

    m = market(fx, "110100", 650, 0, 0); /* the whole city */
    assert_int_equal(m.districts, 2);
    assert_int_equal(m.median_unit_yuan, 90000); /* 80000 and 100000 */
    assert_int_equal(m.matches, 3);

    m = market(fx, "110105", 650, 0, 0); /* no listings there */
    assert_false(m.priced);
    assert_true(m.matches_known);
    assert_int_equal(m.matches, 0);

    m = market(fx, "110101", 0, 0, 0); /* no budget: matches unknown */
    assert_true(m.priced);
    assert_false(m.matches_known);

    m = market(fx, "1101", 650, 0, 0); /* not a region code */
    assert_false(m.priced);
    assert_false(m.matches_known);
}

static void test_update_and_withdraw(void **state)
{
    fixture_t *fx = *state;
    inventory_market_t m;

    load_small(fx);
    assert_int_equal(put(fx, "d3", "110101", 100, 640, 64000, false),
                     INVENTORY_UPDATED);
    assert_int_equal(store_count(fx->txn, fx->inv.listings), 5);
    m = market(fx, "110101", 650, 0, 0);
    assert_int_equal(m.matches, 3); /* d3 now within budget */
    assert_int_equal(m.median_unit_yuan, 100000);

    assert_int_equal(put(fx, "d1", NULL, 0, 0, 0, true), INVENTORY_REMOVED);
    m = market(fx, "110101", 650, 0, 0);
    assert_int_equal(m.matches, 2);
    assert_int_equal(m.sampled, 2);
    assert_int_equal(m.median_unit_yuan, 92000); /* 64000 and 120000 */

    assert_int_equal(put(fx, "d1", NULL, 0, 0, 0, true), INVENTORY_UNKNOWN);
    assert_int_equal(put(fx, "x1", NULL, 0, 0, 0, true), INVENTORY_REMOVED);
    assert_int_equal(store_count(fx->txn, fx->inv.district), 1);
    assert_int_equal(put(fx, "y1", NULL, 0, 0, 0, true), INVENTORY_REMOVED);
    assert_int_equal(store_count(fx->txn, fx->inv.listings), 2);
    assert_int_equal(store_count(fx->txn, fx->inv.by_district), 2);
}

static void test_invalid(void **state)
{
    fixture_t *fx = *state;

    assert_int_equal(put(fx, "z", "110101", 0, 500, 0, false),
                     INVENTORY_INVALID);
    assert_int_equal(put(fx, "z", "110101", 80, 0, 0, false),
                     INVENTORY_INVALID);
    assert_int_equal(put(fx, "z", "110101", 80, 1e9, 0, false),
                     INVENTORY_INVALID);
    assert_int_equal(put(fx, "", "110101", 80, 500, 0, false),
                     INVENTORY_ADDED); /* keyed by its event id */
    assert_int_equal(store_count(fx->txn, fx->inv.listings), 1);
}

/* The sample keeps the most recent prices: old ones age out. */
static void test_sample_is_recent(void **state)
{
    fixture_t *fx = *state;
    inventory_market_t m;
    char id[16];

    for (int i = 0; i < 250; i++) {
        snprintf(id, sizeof id, "old%d", i);
        put(fx, id, "440305", 100, 100, 10000, false);
    }
    for (int i = 0; i < 200; i++) {
        snprintf(id, sizeof id, "new%d", i);
        put(fx, id, "440305", 100, 300, 30000, false);
    }
    m = market(fx, "440305", 1000, 0, 0);
    assert_int_equal(m.sampled, INVENTORY_SAMPLE);
    assert_int_equal(m.median_unit_yuan, 30000);
    assert_int_equal(m.matches, 450); /* matches count every listing */
}

/* What the rules see: market gap and matches from a small inventory. */
static void test_market_gap(void **state)
{
    fixture_t *fx = *state;
    Keyuan__V1__Needs n = KEYUAN__V1__NEEDS__INIT;
    char *regions[] = {"110101"};
    inventory_market_t m;
    rules_facts_t f;
    int32_t gap;

    load_small(fx);
    n.n_region_codes = 1;
    n.region_codes = regions;
    n.budget_min_wan = 500;
    n.budget_max_wan = 550;
    n.area_min_m2 = 60;
    n.area_max_m2 = 90;
    assert_int_equal(inventory_market(&fx->inv, fx->txn, &n, &m), 0);
    rules_facts_from_needs(&n, &f);
    f.market_known = m.priced;
    f.market_unit_yuan = m.median_unit_yuan;
    f.matches_known = m.matches_known;
    f.matches = m.matches;
    assert_true(rules_gap_pct(&f, &gap));
    assert_int_equal(gap, 9); /* 100000 x 60 = 600 万 vs 550 */
    assert_int_equal(f.matches, 0);

    n.budget_max_wan = 300; /* 600 万 is double that */
    rules_facts_from_needs(&n, &f);
    f.market_known = m.priced;
    f.market_unit_yuan = m.median_unit_yuan;
    assert_true(rules_gap_pct(&f, &gap));
    assert_int_equal(gap, 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_add_and_price, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_and_withdraw, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_invalid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sample_is_recent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_market_gap, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
