/* ident.c - keyed hashes of identifiers (see ident.h). */
#include "ident.h"

#include "err.h"
#include "logger.h"

#include <errno.h>
#include <fcntl.h>
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

int ident_load_key(ident_t *id, const char *path)
{
    int fd = open(path, O_RDONLY);
    ssize_t n;

    if (sodium_init() < 0)
        return KY_EIO;
    if (fd < 0 && errno == ENOENT)
        return ident_create_key(id, path);
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

void ident_hash(const ident_t *id, enum ident_kind kind, const void *value,
                size_t len, uint8_t out[IDENT_HASH_BYTES])
{
    crypto_generichash_state st;
    uint8_t k = (uint8_t)kind;

    crypto_generichash_init(&st, id->key, sizeof id->key, IDENT_HASH_BYTES);
    crypto_generichash_update(&st, &k, 1);
    crypto_generichash_update(&st, value, len);
    crypto_generichash_final(&st, out, IDENT_HASH_BYTES);
}
