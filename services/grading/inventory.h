/*
 * inventory.h - the listings on the market, as grading needs them: what
 * the wanted home costs in a customer's regions, and how many listings
 * there fit the customer's budget and area.
 *
 * Three databases of the grading store hold it (names in INVENTORY_DBS):
 *
 *   listings           source NUL listing id -> compact record (20 bytes:
 *                      version, bedrooms, district code, area in 0.01 m2,
 *                      total price in 0.01 万元, unit price in yuan/m2)
 *   district           6-digit district code -> listings count, then the
 *                      unit prices of its most recent listings (at most
 *                      INVENTORY_SAMPLE, oldest first)
 *   district_listings  code, total price (u32 BE, 0.01 万), listing key ->
 *                      area (u32 BE, 0.01 m2): "listings in this district
 *                      up to this price" is one cursor walk
 *
 * The market price is a median over the sample, not over every listing:
 * a bounded sample keeps each grading cheap however large a district
 * grows, and recent listings say more about today's prices than old ones.
 * A withdrawn listing takes one sample entry of its unit price with it (if
 * it is still in the sample). Listings without a valid district code are
 * kept in "listings" but count towards no district.
 */
#ifndef KEYUAN_GRADING_INVENTORY_H
#define KEYUAN_GRADING_INVENTORY_H

#include "store.h"
#include "keyuan/v1/common.pb-c.h"
#include "keyuan/v1/lead.pb-c.h"

#include <stdbool.h>
#include <stdint.h>

#define INVENTORY_DBS "listings", "district", "district_listings"

/* Unit prices kept per district for its median. */
#define INVENTORY_SAMPLE 256

/* Districts one customer's regions may cover; further ones are ignored. */
#define INVENTORY_MAX_DISTRICTS 64

/* Longest listing key (source, NUL, listing id) in bytes. */
#define INVENTORY_KEY_MAX 256

/* The inventory's database handles in an open store. */
typedef struct inventory {
    MDB_dbi listings;
    MDB_dbi district;
    MDB_dbi by_district;
} inventory_t;

/* What one ListingEvent did. */
enum inventory_outcome {
    INVENTORY_ADDED,   /* a listing not seen before */
    INVENTORY_UPDATED, /* a known listing with new details */
    INVENTORY_REMOVED, /* withdrawn */
    INVENTORY_UNKNOWN, /* withdrawn, but it was never listed */
    INVENTORY_INVALID  /* no id, or area/price missing or absurd */
};

/* What the inventory says about one customer's needs. */
typedef struct inventory_market {
    bool priced;               /* some listing in the wanted regions */
    uint32_t median_unit_yuan; /* median unit price there, yuan per m2 */
    uint32_t districts;        /* districts with listings that were used */
    uint32_t sampled;          /* unit prices the median was taken over */
    bool matches_known;        /* a region and a budget maximum are known */
    uint32_t matches;          /* listings within budget and area range */
} inventory_market_t;

/* Looks up the databases of INVENTORY_DBS in st. */
void inventory_init(inventory_t *inv, store_t *st);

/*
 * Applies a listing event inside write transaction txn: adds, replaces or
 * (withdrawn) removes the listing, keeping the district data in step.
 * *out says which; an invalid event changes nothing and returns 0.
 * Returns 0 or a store error.
 */
int inventory_apply(const inventory_t *inv, MDB_txn *txn,
                    const Keyuan__V1__ListingEvent *ev,
                    enum inventory_outcome *out);

/*
 * Prices needs against the inventory. A region code is a district
 * ("110101") or, ending in 00, every district of a city ("110100") or a
 * province ("110000"). Matches count listings whose total price is within
 * the budget maximum and whose area lies in the wanted range (an unknown
 * bound is open). Returns 0 or a store error.
 */
int inventory_market(const inventory_t *inv, MDB_txn *txn,
                     const Keyuan__V1__Needs *needs, inventory_market_t *out);

#endif
