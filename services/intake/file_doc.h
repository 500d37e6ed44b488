/*
 * file_doc.h - a customer file as one JSON document, and the operations
 * intake performs on it.
 *
 * intake works on a file in its proto3 JSON form (pbjson): the shape of
 * CustomerView without contacts and changes, so that merging an event in,
 * setting fields named by paths, diffing for history and undoing a merge
 * are each one generic walk instead of code per field. Field names are
 * the lowerCamelCase JSON names; paths join them with dots
 * ("profile.needs.budgetMaxWan"). Messages walked with a descriptor know
 * which members are sub-messages; a CivilDate, a NextStep and a Timestamp
 * are values: merged and replaced whole.
 *
 * Nothing here touches the store; file_store.h does.
 */
#ifndef KEYUAN_FILE_DOC_H
#define KEYUAN_FILE_DOC_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

#include <stdbool.h>
#include <stddef.h>

/* Longest path file_doc_path_check() writes, NUL included. */
#define FILE_DOC_PATH_MAX 128

/*
 * True when a and b are the same text once both are in Unicode NFC form
 * with surrounding white space trimmed: how intake compares names and
 * free text. Values are stored as received; this only decides whether a
 * new value is a change. NULL counts as "". Text that is not UTF-8 is
 * compared byte for byte.
 */
bool name_equal(const char *a, const char *b);

/*
 * Narrows [*s, *s + *len) to the text between surrounding white space
 * (Unicode's too); text that is not UTF-8 is left whole.
 */
void file_doc_trim(const char **s, size_t *len);

/* True when s is NULL, empty, or only white space (Unicode's too). */
bool file_doc_blank(const char *s);

/*
 * Drops from doc every string member that is blank (file_doc_blank()),
 * in nested objects too; lists are kept as they are. A source's "   "
 * says nothing, and must not overwrite what a file holds.
 */
void file_doc_drop_blanks(json_t *doc);

/* Writes the JSON (lowerCamelCase) name of proto field name to out. */
void file_doc_json_name(const char *name, char *out, size_t outlen);

/* The field of desc whose JSON or proto name is key, or NULL. */
const ProtobufCFieldDescriptor *
file_doc_field(const ProtobufCMessageDescriptor *desc, const char *key);

/*
 * Checks that path names a field of desc that an update may set: each
 * segment a field (JSON or proto name), each but the last a singular
 * sub-message other than a Timestamp. Writes the path in JSON names to
 * out (outlen bytes). Returns 0 or KY_EINVAL.
 */
int file_doc_path_check(const ProtobufCMessageDescriptor *desc,
                        const char *path, char *out, size_t outlen);

/* The value at path in doc (borrowed), or NULL when there is none. */
json_t *file_doc_get(const json_t *doc, const char *path);

/*
 * Sets the value at path to a copy of value, making the objects on the way.
 * value NULL removes it, and the objects it leaves empty. Returns 0,
 * KY_EINVAL when something on the way is not an object, or KY_ENOMEM.
 */
int file_doc_set(json_t *doc, const char *path, const json_t *value);

/*
 * Merges src (the JSON of a message of type desc) into dst: sub-messages
 * member by member, other values replaced whole. With keep, values dst
 * already has win and src only fills gaps. A value that name_equal()
 * finds the same as dst's is left as dst has it. Members desc does not
 * know are skipped. Returns 0 or KY_ENOMEM.
 */
int file_doc_merge(json_t *dst, const json_t *src,
                   const ProtobufCMessageDescriptor *desc, bool keep);

/*
 * Applies an update to dst, both the JSON of a desc message: with paths
 * (n > 0, each checked by file_doc_path_check()), exactly those paths are
 * set from src, or removed where src has nothing; without, src is merged
 * in as file_doc_merge() does. Returns 0, KY_EINVAL for a bad path, or
 * KY_ENOMEM.
 */
int file_doc_apply(json_t *dst, const json_t *src,
                   const ProtobufCMessageDescriptor *desc, char *const *paths,
                   size_t n);

/*
 * Appends a copy of value to the list at path in doc (made when missing)
 * unless the list holds it already (text compared with name_equal()).
 * Returns 0, KY_EINVAL when path holds something else, or KY_ENOMEM.
 */
int file_doc_list_add(json_t *doc, const char *path, const json_t *value);

/* Removes empty objects from doc, at any depth, and returns doc. */
json_t *file_doc_prune(json_t *doc);

/*
 * A new object holding copies of the members of obj that desc has a field
 * for. NULL when out of memory.
 */
json_t *file_doc_project(const json_t *obj,
                         const ProtobufCMessageDescriptor *desc);

/*
 * What changed from before to after, leaf by leaf (objects are walked,
 * lists compared whole): a new array of FieldChange JSON objects
 * {"path", "oldJson", "newJson"} with the values as compact JSON text and
 * "" (left out) for a value that is not there. Top-level members named in
 * skip (NULL-terminated, may be NULL) are not compared. NULL when out of
 * memory.
 */
json_t *file_doc_diff(const json_t *before, const json_t *after,
                      const char *const *skip);

/*
 * Undoes fields (FieldChange JSON objects, as file_doc_diff() makes) in
 * doc, leaving what changed since alone: a path whose value is still the
 * change's new value gets its old one back; a list changed since loses
 * only the entries the change added. Returns 0 or KY_ENOMEM.
 */
int file_doc_undo(json_t *doc, const json_t *fields);

#endif
