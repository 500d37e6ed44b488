/*
 * ident.h - finding a customer by what identifies a person.
 *
 * Intake never stores a phone number, WeChat id or e-mail as an index key
 * in clear: the key is a BLAKE2b hash keyed with a secret kept beside the
 * store (libsodium's crypto_generichash). Whoever copies the store cannot
 * list phone numbers from the index, and erasing a customer's personal
 * record leaves nothing readable behind in the index.
 *
 * Index keys are random, so they are small (32-byte key, 8-byte value);
 * the records they point to are keyed by time-ordered customer ids.
 */
#ifndef KEYUAN_IDENT_H
#define KEYUAN_IDENT_H

#include <sodium.h>
#include <stddef.h>
#include <stdint.h>

#define IDENT_KEY_BYTES 32
#define IDENT_HASH_BYTES 32

enum ident_kind {
    IDENT_MOBILE = 'm',
    IDENT_WECHAT = 'w',
    IDENT_EMAIL = 'e',
    IDENT_EVENT = 'v'
};

typedef struct ident {
    uint8_t key[IDENT_KEY_BYTES]; /* the secret hash key */
    /* BLAKE2b with the key already absorbed: copied for each hash, which
     * spares one of the two compressions a short value costs. */
    crypto_generichash_state keyed;
} ident_t;

/*
 * Opens the key of store st: loads it from path, or creates it when the
 * store is new. The store keeps a fingerprint of its key, so a store
 * started with a missing or different key is refused (KY_ECONFIG) instead
 * of silently failing to find every customer and creating them again.
 * Returns 0, KY_EIO, KY_ECONFIG or a store error.
 */
struct store;
int ident_open(ident_t *id, struct store *st, const char *path);

/* Hashes kind and value (len bytes) into out. */
void ident_hash(const ident_t *id, enum ident_kind kind, const void *value,
                size_t len, uint8_t out[IDENT_HASH_BYTES]);

#endif
