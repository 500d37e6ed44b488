/* bloom.c - a blocked Bloom filter (see bloom.h). */
#include "bloom.h"

#include "err.h"

#include <stdlib.h>
#include <string.h>

#define BLOOM_PROBES 4
#define BLOOM_BLOCK_WORDS 8 /* 512 bits: one cache line */

int bloom_reset(bloom_t *f, size_t keys, size_t min_bits)
{
    size_t want = keys * BLOOM_BITS_PER_KEY, nbits = 512;

    bloom_free(f);
    while (nbits < want || nbits < min_bits)
        nbits *= 2;
    /* Aligned, so that each block is one cache line. */
    if ((f->bits = aligned_alloc(64, nbits / 8)) == NULL)
        return KY_ENOMEM;
    memset(f->bits, 0, nbits / 8);
    f->nbits = nbits;
    return KY_OK;
}

void bloom_free(bloom_t *f)
{
    free(f->bits);
    *f = (bloom_t){0};
}

bool bloom_full(const bloom_t *f)
{
    return (f->nkeys + 1) * BLOOM_BITS_PER_KEY > f->nbits;
}

/* The block of h comes from its low bits, the probes from its high ones
 * (9 bits each), so the two do not depend on each other. */
static uint64_t *block_of(const bloom_t *f, uint64_t h)
{
    size_t blocks = f->nbits / (64 * BLOOM_BLOCK_WORDS);

    return f->bits + (h & (blocks - 1)) * BLOOM_BLOCK_WORDS;
}

static unsigned probe_bit(uint64_t h, int i)
{
    return (unsigned)(h >> (28 + 9 * i)) & 511;
}

void bloom_add(bloom_t *f, uint64_t h)
{
    uint64_t *block;

    if (f->bits == NULL)
        return;
    block = block_of(f, h);
    for (int i = 0; i < BLOOM_PROBES; i++) {
        unsigned bit = probe_bit(h, i);

        block[bit >> 6] |= 1ull << (bit & 63);
    }
    f->nkeys++;
}

bool bloom_maybe(const bloom_t *f, uint64_t h)
{
    const uint64_t *block;

    if (f->bits == NULL)
        return true;
    block = block_of(f, h);
    for (int i = 0; i < BLOOM_PROBES; i++) {
        unsigned bit = probe_bit(h, i);

        if (!(block[bit >> 6] & (1ull << (bit & 63))))
            return false;
    }
    return true;
}
