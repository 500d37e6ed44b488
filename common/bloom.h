/*
 * bloom.h - a blocked Bloom filter of 64-bit hashes.
 *
 * It answers "certainly not seen" or "maybe seen" for a hash, in one
 * cache line per question: all of a hash's probe bits fall in one 512-bit
 * block. hashidx.h keeps one per index so that a lookup of a key never
 * stored (a new lead's phone) costs no walk down a B-tree. No Debian
 * library offers a filter this small, so it is written here.
 */
#ifndef KEYUAN_BLOOM_H
#define KEYUAN_BLOOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bits per hash held: about 0.5% of absent hashes answer "maybe". */
#define BLOOM_BITS_PER_KEY 16

typedef struct bloom {
    uint64_t *bits; /* NULL: no filter, every answer is "maybe" */
    size_t nbits;   /* a power of two, at least 512 */
    size_t nkeys;   /* hashes added */
} bloom_t;

/*
 * Makes f empty and sized for at least keys hashes (nbits at least
 * min_bits), freeing what it held. Returns 0 or KY_ENOMEM (f then has no
 * filter).
 */
int bloom_reset(bloom_t *f, size_t keys, size_t min_bits);

/* Frees the bits; f answers "maybe" from then on. */
void bloom_free(bloom_t *f);

/* True when f holds as many hashes as it was sized for. */
bool bloom_full(const bloom_t *f);

void bloom_add(bloom_t *f, uint64_t h);

/* False only for a hash never added (true when f has no filter). */
bool bloom_maybe(const bloom_t *f, uint64_t h);

#endif
