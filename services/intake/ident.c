/* ident.c - keyed hashes of identifiers (see ident.h). */
#include "ident.h"

#include "err.h"
#include "logger.h"
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sodium.h>
#include <unistd.h>

static int ident_create_key(ident_t *id, const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);

    if (fd < 0)
        return KY_EIO;
    randombytes_buf(id->key, sizeof id->key);
    if (write(fd, id->key, sizeof id->key) != (ssize_t)sizeof id->key ||
        fsync(fd) != 0) {
        close(fd);
        unlink(path);
        return KY_EIO;
    }
    close(fd);
    log_info("event=index_key_created");
    return KY_OK;
}

/* Reads the key; with create, makes one when the file does not exist. */
static int ident_read_key(ident_t *id, const char *path, bool create)
{
    int fd = open(path, O_RDONLY);
    ssize_t n;

    if (sodium_init() < 0)
        return KY_EIO;
    if (fd < 0 && errno == ENOENT && create)
        return ident_create_key(id, path);
    if (fd < 0 && errno == ENOENT) {
        log_error("event=index_key_missing detail=\"this store was made "
                  "with an index key that is gone; restore it\"");
        return KY_ECONFIG;
    }
    if (fd < 0) {
        log_error("event=index_key_unreadable errno=%d", errno);
        return KY_EIO;
    }
    n = read(fd, id->key, sizeof id->key);
    close(fd);
    if (n != (ssize_t)sizeof id->key) {
        log_error("event=index_key_bad_size bytes=%zd", n);
        return KY_ECONFIG;
    }
    return KY_OK;
}

/* A fingerprint of the key that reveals nothing about it; never 0. */
static uint64_t ident_fingerprint(const ident_t *id)
{
    uint8_t out[IDENT_HASH_BYTES];
    uint64_t fp = 0;

    ident_hash(id, IDENT_EVENT, "keyuan index key check", 23, out);
    for (int i = 0; i < 8; i++)
        fp = fp << 8 | out[i];
    return fp ? fp : 1;
}

int ident_open(ident_t *id, store_t *st, const char *path)
{
    MDB_txn *txn;
    uint64_t known;
    int rc = store_begin(st, NULL, false, &txn);

    if (rc)
        return rc;
    if ((rc = store_meta_get(st, txn, "index_key_check", &known)) == 0 &&
        (rc = ident_read_key(id, path, known == 0)) == 0) {
        crypto_generichash_init(&id->keyed, id->key, sizeof id->key,
                                IDENT_HASH_BYTES);
        if (known == 0)
            rc = store_meta_put(st, txn, "index_key_check",
                                ident_fingerprint(id));
        else if (known != ident_fingerprint(id)) {
            log_error("event=index_key_mismatch detail=\"the index key "
                      "file is not the one this store was made with\"");
            rc = KY_ECONFIG;
        }
    }
    if (rc) {
        mdb_txn_abort(txn);
        return rc;
    }
    return store_commit(txn);
}

void ident_hash(const ident_t *id, enum ident_kind kind, const void *value,
                size_t len, uint8_t out[IDENT_HASH_BYTES])
{
    crypto_generichash_state st = id->keyed;
    uint8_t k = (uint8_t)kind;

    crypto_generichash_update(&st, &k, 1);
    crypto_generichash_update(&st, value, len);
    crypto_generichash_final(&st, out, IDENT_HASH_BYTES);
}
