/*
 * file_ident.h - finding a customer file by the identifiers in it.
 *
 * A file is found by keyed hashes (ident.h) of its normalised mobile
 * (E.164), its WeChat id and its e-mail (lower-cased), never by name. Two
 * databases hold the index: "ident" maps a hash to the customer id, and
 * "customer_idents" holds (customer id, hash) for every hash that points
 * at a customer, so that a merge can move a file's identifiers and an
 * erasure can find them all by prefix.
 */
#ifndef KEYUAN_FILE_IDENT_H
#define KEYUAN_FILE_IDENT_H

#include "file_store.h"
#include "ident.h"

#include <jansson.h>
#include <stdbool.h>

#define FILE_IDENT_KINDS 3 /* mobile, WeChat id, e-mail */

/* The hashed identifiers of one profile. */
typedef struct file_idents {
    uint8_t hash[FILE_IDENT_KINDS][IDENT_HASH_BYTES];
    bool has[FILE_IDENT_KINDS];
} file_idents_t;

/*
 * Sets profile's contacts.mobileE164 from contacts.mobile (removing it when
 * there is no mobile). Returns 0, or KY_EINVAL with *why (static English)
 * when the mobile cannot be a phone number.
 */
int file_ident_normalize(json_t *profile, const char **why);

/*
 * Hashes a file's identifiers: the E.164 mobile, the WeChat id and the
 * e-mail (lower-cased here), each without the white space around it.
 * Each may be NULL or "" when the file has none.
 */
void file_ident_of_values(const file_db_t *db, const char *e164,
                          const char *wechat, const char *email,
                          file_idents_t *ids);

/* Hashes the identifiers of profile (after file_ident_normalize()). */
void file_ident_of(const file_db_t *db, const json_t *profile,
                   file_idents_t *ids);

/*
 * The customer any of ids points to (0 when none; the first when they
 * disagree, which is logged). Returns 0 or a store error.
 */
int file_ident_find(file_db_t *db, MDB_txn *txn, const file_idents_t *ids,
                    uint64_t *id);

/*
 * Points every identifier of ids that points nowhere yet at customer id.
 * One that points at another customer stays there (logged and counted
 * as "identity_conflicts": an operator may merge the two). Returns 0 or
 * a store error.
 */
int file_ident_link(file_db_t *db, MDB_txn *txn, const file_idents_t *ids,
                    uint64_t id);

/*
 * file_ident_link() for a file just made, when file_ident_find() found
 * none of ids in this transaction: points them all at id without
 * looking each up again. Returns 0 or a store error.
 */
int file_ident_link_new(file_db_t *db, MDB_txn *txn, const file_idents_t *ids,
                        uint64_t id);

/* file_ident_link() of the identifiers file doc (file_doc.h) holds. */
int file_ident_link_doc(file_db_t *db, MDB_txn *txn, const json_t *doc,
                        uint64_t id);

/*
 * Moves every identifier pointing at customer from to customer to. The
 * moved hashes are appended to *keys (svc memory, *n entries) so that
 * file_ident_repoint() can move them back. Returns 0 or a store error.
 */
int file_ident_move(file_db_t *db, MDB_txn *txn, uint64_t from, uint64_t to,
                    ProtobufCBinaryData **keys, size_t *n);

/* Points the n hashes of keys at customer to instead of customer from. */
int file_ident_repoint(file_db_t *db, MDB_txn *txn,
                       const ProtobufCBinaryData *keys, size_t n, uint64_t from,
                       uint64_t to);

#endif
