/*
 * inventory.c - listings, district samples and market prices (see
 * inventory.h for the storage layout and why the median is sampled).
 */
#include "inventory.h"

#include "err.h"
#include "logger.h"
#include "wire.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CODE_LEN 6
#define RECORD_LEN 20
#define RECORD_VERSION 1
#define INDEX_KEY_MAX (CODE_LEN + 4 + INVENTORY_KEY_MAX)

/* Sanity limits: larger values are data errors, not homes. */
#define AREA_MAX_M2 100000.0
#define PRICE_MAX_WAN 1000000.0
#define UNIT_MAX_YUAN 100000000.0

/* One listing as stored. */
typedef struct listing {
    uint8_t bedrooms;
    char code[CODE_LEN]; /* all '\0' when the district is unknown */
    uint32_t area_cm2;   /* area in 0.01 m2 */
    uint32_t price_cwan; /* total price in 0.01 万元 (100 yuan) */
    uint32_t unit_yuan;  /* yuan per m2 */
} listing_t;

/* A district's record: how many listings, and recent unit prices. */
typedef struct district {
    uint32_t count;
    uint32_t n;
    uint32_t prices[INVENTORY_SAMPLE]; /* oldest first */
} district_t;

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

void inventory_init(inventory_t *inv, store_t *st)
{
    inv->listings = store_db(st, "listings");
    inv->district = store_db(st, "district");
    inv->by_district = store_db(st, "district_listings");
}

/* ---- records ----------------------------------------------------------- */

static void record_encode(const listing_t *l, uint8_t *out)
{
    out[0] = RECORD_VERSION;
    out[1] = l->bedrooms;
    memcpy(out + 2, l->code, CODE_LEN);
    put32(out + 8, l->area_cm2);
    put32(out + 12, l->price_cwan);
    put32(out + 16, l->unit_yuan);
}

static int record_decode(const MDB_val *v, listing_t *l)
{
    const uint8_t *p = v->mv_data;

    if (v->mv_size != RECORD_LEN || p[0] != RECORD_VERSION) {
        log_error("event=listing_record_corrupt bytes=%zu", v->mv_size);
        return KY_EDECODE;
    }
    l->bedrooms = p[1];
    memcpy(l->code, p + 2, CODE_LEN);
    l->area_cm2 = get32(p + 8);
    l->price_cwan = get32(p + 12);
    l->unit_yuan = get32(p + 16);
    return KY_OK;
}

static bool code_valid(const char *s, size_t len)
{
    if (len != CODE_LEN)
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static bool has_district(const listing_t *l)
{
    return l->code[0] != '\0';
}

/*
 * Builds the listing key: source, NUL, listing id (or, for a feed that
 * gives none, the event id). Returns its length, or 0 when there is none.
 */
static size_t listing_key(const Keyuan__V1__ListingEvent *ev, char *key)
{
    const char *src = ev->source ? ev->source : "";
    const char *id = ev->listing_id && *ev->listing_id ? ev->listing_id
                                                       : ev->source_event_id;
    size_t slen = strlen(src), ilen = id ? strlen(id) : 0;

    if (ilen == 0 || slen + 1 + ilen > INVENTORY_KEY_MAX)
        return 0;
    memcpy(key, src, slen);
    key[slen] = '\0';
    memcpy(key + slen + 1, id, ilen);
    return slen + 1 + ilen;
}

/* Fills *l from the event; false when area or price are unusable. */
static bool listing_from_event(const Keyuan__V1__ListingEvent *ev, listing_t *l)
{
    double area = ev->area_m2, price = ev->total_price_wan;
    double unit = ev->unit_price_yuan_m2;
    const char *code = ev->district_code ? ev->district_code : "";

    if (!isfinite(area) || !isfinite(price) || area < 1.0 ||
        area > AREA_MAX_M2 || price <= 0.0 || price > PRICE_MAX_WAN)
        return false;
    if (!isfinite(unit) || unit <= 0.0) /* some feeds leave it out */
        unit = price * 10000.0 / area;
    if (unit > UNIT_MAX_YUAN)
        return false;
    memset(l, 0, sizeof *l);
    l->bedrooms = (uint8_t)(ev->bedrooms > 255 ? 255 : ev->bedrooms);
    if (code_valid(code, strlen(code)))
        memcpy(l->code, code, CODE_LEN);
    l->area_cm2 = (uint32_t)lround(area * 100.0);
    l->price_cwan = (uint32_t)lround(price * 100.0);
    l->unit_yuan = (uint32_t)lround(unit);
    return true;
}

/* ---- district samples -------------------------------------------------- */

static int district_get(const inventory_t *inv, MDB_txn *txn, const char *code,
                        district_t *d)
{
    MDB_val v;
    const uint8_t *p;
    int rc = store_get(txn, inv->district, code, CODE_LEN, &v);

    memset(d, 0, sizeof *d);
    if (rc == KY_ENOTFOUND)
        return KY_OK;
    if (rc)
        return rc;
    p = v.mv_data;
    if (v.mv_size < 8 || (d->n = get32(p + 4)) > INVENTORY_SAMPLE ||
        v.mv_size != 8 + 4 * (size_t)d->n) {
        log_error("event=district_record_corrupt bytes=%zu", v.mv_size);
        return KY_EDECODE;
    }
    d->count = get32(p);
    for (uint32_t i = 0; i < d->n; i++)
        d->prices[i] = get32(p + 8 + 4 * i);
    return KY_OK;
}

static int district_put(const inventory_t *inv, MDB_txn *txn, const char *code,
                        const district_t *d)
{
    uint8_t buf[8 + 4 * INVENTORY_SAMPLE];

    if (d->count == 0)
        return store_del(txn, inv->district, code, CODE_LEN);
    put32(buf, d->count);
    put32(buf + 4, d->n);
    for (uint32_t i = 0; i < d->n; i++)
        put32(buf + 8 + 4 * i, d->prices[i]);
    return store_put(txn, inv->district, code, CODE_LEN, buf,
                     8 + 4 * (size_t)d->n, 0);
}

/* Counts the listing in and makes its price the newest of the sample. */
static int district_add(const inventory_t *inv, MDB_txn *txn,
                        const listing_t *l)
{
    district_t d;
    int rc = district_get(inv, txn, l->code, &d);

    if (rc)
        return rc;
    if (d.n == INVENTORY_SAMPLE) {
        memmove(d.prices, d.prices + 1, (d.n - 1) * sizeof d.prices[0]);
        d.n--;
    }
    d.prices[d.n++] = l->unit_yuan;
    d.count++;
    return district_put(inv, txn, l->code, &d);
}

/* Counts the listing out and drops the newest sample entry of its price. */
static int district_remove(const inventory_t *inv, MDB_txn *txn,
                           const listing_t *l)
{
    district_t d;
    int rc = district_get(inv, txn, l->code, &d);

    if (rc)
        return rc;
    for (uint32_t i = d.n; i-- > 0;)
        if (d.prices[i] == l->unit_yuan) {
            memmove(d.prices + i, d.prices + i + 1,
                    (d.n - i - 1) * sizeof d.prices[0]);
            d.n--;
            break;
        }
    d.count = d.count > 0 ? d.count - 1 : 0;
    if (d.n > d.count) /* cannot happen unless the store was damaged */
        d.n = d.count;
    return district_put(inv, txn, l->code, &d);
}

/* ---- the price index --------------------------------------------------- */

static size_t index_key(const listing_t *l, const char *key, size_t klen,
                        uint8_t *out)
{
    memcpy(out, l->code, CODE_LEN);
    put32(out + CODE_LEN, l->price_cwan);
    memcpy(out + CODE_LEN + 4, key, klen);
    return CODE_LEN + 4 + klen;
}

static int index_add(const inventory_t *inv, MDB_txn *txn, const listing_t *l,
                     const char *key, size_t klen)
{
    uint8_t ikey[INDEX_KEY_MAX], area[4];
    size_t ilen = index_key(l, key, klen, ikey);

    put32(area, l->area_cm2);
    return store_put(txn, inv->by_district, ikey, ilen, area, 4, 0);
}

static int index_del(const inventory_t *inv, MDB_txn *txn, const listing_t *l,
                     const char *key, size_t klen)
{
    uint8_t ikey[INDEX_KEY_MAX];
    size_t ilen = index_key(l, key, klen, ikey);

    return store_del(txn, inv->by_district, ikey, ilen);
}

/* ---- applying events --------------------------------------------------- */

/* Takes a stored listing out of the record, the index and its district. */
static int listing_remove(const inventory_t *inv, MDB_txn *txn,
                          const listing_t *old, const char *key, size_t klen)
{
    int rc = store_del(txn, inv->listings, key, klen);

    if (rc == 0 && has_district(old))
        rc = index_del(inv, txn, old, key, klen);
    if (rc == 0 && has_district(old))
        rc = district_remove(inv, txn, old);
    return rc;
}

static int listing_add(const inventory_t *inv, MDB_txn *txn, const listing_t *l,
                       const char *key, size_t klen)
{
    uint8_t rec[RECORD_LEN];
    int rc;

    record_encode(l, rec);
    rc = store_put(txn, inv->listings, key, klen, rec, RECORD_LEN, 0);
    if (rc == 0 && has_district(l))
        rc = index_add(inv, txn, l, key, klen);
    if (rc == 0 && has_district(l))
        rc = district_add(inv, txn, l);
    return rc;
}

int inventory_apply(const inventory_t *inv, MDB_txn *txn,
                    const Keyuan__V1__ListingEvent *ev,
                    enum inventory_outcome *out)
{
    char key[INVENTORY_KEY_MAX];
    listing_t l, old;
    MDB_val v;
    size_t klen = listing_key(ev, key);
    int rc;

    *out = INVENTORY_INVALID;
    if (klen == 0 || (!ev->withdrawn && !listing_from_event(ev, &l)))
        return KY_OK;

    rc = store_get(txn, inv->listings, key, klen, &v);
    if (rc && rc != KY_ENOTFOUND)
        return rc;
    if (rc == 0) {
        if ((rc = record_decode(&v, &old)) != 0 ||
            (rc = listing_remove(inv, txn, &old, key, klen)) != 0)
            return rc;
    }
    if (ev->withdrawn) {
        *out = rc == KY_ENOTFOUND ? INVENTORY_UNKNOWN : INVENTORY_REMOVED;
        return KY_OK;
    }

    *out = rc == KY_ENOTFOUND ? INVENTORY_ADDED : INVENTORY_UPDATED;
    return listing_add(inv, txn, &l, key, klen);
}

/* ---- pricing needs ----------------------------------------------------- */

/* The distinct districts with listings that the wanted regions cover. */
typedef struct coverage {
    int n;
    char codes[INVENTORY_MAX_DISTRICTS][CODE_LEN];
} coverage_t;

static void coverage_add(coverage_t *cov, const char *code)
{
    for (int i = 0; i < cov->n; i++)
        if (memcmp(cov->codes[i], code, CODE_LEN) == 0)
            return;
    if (cov->n < INVENTORY_MAX_DISTRICTS)
        memcpy(cov->codes[cov->n++], code, CODE_LEN);
}

/* A city or province code stands for every district under it. */
static size_t region_prefix(const char *code)
{
    size_t len = CODE_LEN;

    while (len > 2 && code[len - 1] == '0' && code[len - 2] == '0')
        len -= 2;
    return len;
}

/* Adds the districts with listings whose code starts like region's. */
static int coverage_region(const inventory_t *inv, MDB_txn *txn,
                           const char *region, coverage_t *cov)
{
    size_t plen = region_prefix(region);
    MDB_val k = {plen, (void *)region}, v;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, inv->district, &cur), op = MDB_SET_RANGE;

    if (rc)
        return store_err(rc, "cursor_open");
    while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0 &&
           k.mv_size == CODE_LEN && memcmp(k.mv_data, region, plen) == 0) {
        coverage_add(cov, k.mv_data);
        op = MDB_NEXT;
    }
    mdb_cursor_close(cur);
    return rc == 0 || rc == MDB_NOTFOUND ? KY_OK : store_err(rc, "cursor");
}

/* Counts the district's listings within budget and area. */
static int count_matches(const inventory_t *inv, MDB_txn *txn, const char *code,
                         const Keyuan__V1__Needs *needs, uint32_t *matches)
{
    uint8_t start[CODE_LEN + 4];
    uint64_t max_price = (uint64_t)needs->budget_max_wan * 100;
    uint64_t lo = (uint64_t)needs->area_min_m2 * 100;
    uint64_t hi =
        needs->area_max_m2 ? (uint64_t)needs->area_max_m2 * 100 : UINT64_MAX;
    MDB_val k = {sizeof start, start}, v;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, inv->by_district, &cur), op = MDB_SET_RANGE;

    if (rc)
        return store_err(rc, "cursor_open");
    memcpy(start, code, CODE_LEN);
    put32(start + CODE_LEN, 0);
    while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0 &&
           k.mv_size > CODE_LEN + 4 && memcmp(k.mv_data, code, CODE_LEN) == 0 &&
           get32((uint8_t *)k.mv_data + CODE_LEN) <= max_price) {
        uint32_t area = v.mv_size == 4 ? get32(v.mv_data) : 0;

        *matches += area >= lo && area <= hi;
        op = MDB_NEXT;
    }
    mdb_cursor_close(cur);
    return rc == 0 || rc == MDB_NOTFOUND ? KY_OK : store_err(rc, "cursor");
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return (x > y) - (x < y);
}

/* Median of the covered districts' samples taken together. */
static int market_median(const inventory_t *inv, MDB_txn *txn,
                         const coverage_t *cov, inventory_market_t *out)
{
    uint32_t *all = malloc(sizeof *all * INVENTORY_SAMPLE * (cov->n + 1));
    size_t n = 0;
    district_t d;
    int rc = all ? KY_OK : KY_ENOMEM;

    for (int i = 0; rc == 0 && i < cov->n; i++) {
        if ((rc = district_get(inv, txn, cov->codes[i], &d)) != 0)
            break;
        memcpy(all + n, d.prices, d.n * sizeof *all);
        n += d.n;
        out->districts += d.n > 0;
    }
    if (rc == 0 && n > 0) {
        qsort(all, n, sizeof *all, cmp_u32);
        out->median_unit_yuan =
            n % 2 ? all[n / 2]
                  : (uint32_t)(((uint64_t)all[n / 2 - 1] + all[n / 2] + 1) / 2);
        out->sampled = (uint32_t)n;
        out->priced = true;
    }
    free(all);
    return rc;
}

int inventory_market(const inventory_t *inv, MDB_txn *txn,
                     const Keyuan__V1__Needs *needs, inventory_market_t *out)
{
    coverage_t cov = {0};
    bool any_region = false;
    int rc = KY_OK;

    memset(out, 0, sizeof *out);
    if (needs == NULL)
        return KY_OK;
    for (size_t i = 0; rc == 0 && i < needs->n_region_codes; i++) {
        const char *code = needs->region_codes[i];

        if (code == NULL || !code_valid(code, strlen(code)))
            continue;
        any_region = true;
        rc = coverage_region(inv, txn, code, &cov);
    }
    if (rc == 0 && cov.n > 0)
        rc = market_median(inv, txn, &cov, out);

    out->matches_known = any_region && needs->budget_max_wan > 0;
    for (int i = 0; rc == 0 && out->matches_known && i < cov.n; i++)
        rc = count_matches(inv, txn, cov.codes[i], needs, &out->matches);
    return rc;
}
