/*
 * pbjson.h - one generic codec between protobuf-c messages and their
 * proto3 JSON form.
 *
 * Every message of keyuan.v1 goes to and from JSON through these four
 * functions, driven only by protobuf-c's descriptors, so no message is
 * mapped by hand. The mapping is the proto3 one (as protoc's json_format
 * prints it): lowerCamelCase names, enums by name, 64-bit integers as
 * strings, bytes as base64, google.protobuf.Timestamp as an RFC 3339
 * string, default values left out.
 *
 * Input accepts lowerCamelCase and the proto's snake_case names, enum
 * names or numbers, integers as numbers or strings, null for "default".
 * Unknown fields, a field given twice and two members of one oneof are
 * rejected. Other well-known types (Duration, wrappers, Struct, Any,
 * FieldMask) and maps are not special-cased: keyuan's protos use none.
 */
#ifndef KEYUAN_PBJSON_H
#define KEYUAN_PBJSON_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

#include <stdbool.h>
#include <stddef.h>

/*
 * Converts msg to its JSON value: an object, or a string for a Timestamp.
 * The caller owns the result (json_decref). Doubles are json reals;
 * NaN and the infinities become the strings "NaN", "Infinity" and
 * "-Infinity".
 *
 * Returns NULL when out of memory, or when msg holds what the mapping
 * cannot write: a string that is not UTF-8, a Timestamp outside
 * 0001-01-01..9999-12-31 or with nanos outside 0..999999999.
 */
json_t *pbjson_from_message(const ProtobufCMessage *msg);

/*
 * Converts msg and writes it as JSON text. flags are jansson's dump flags
 * (JSON_INDENT, JSON_SORT_KEYS, JSON_ENSURE_ASCII, JSON_ESCAPE_SLASH,
 * JSON_REAL_PRECISION); without JSON_INDENT the text is compact. Doubles
 * print in the shortest of 15, 16 or 17 significant digits that reads back
 * to the same value (floats: 6 to 9 digits), unless JSON_REAL_PRECISION
 * sets a precision.
 *
 * Returns a NUL-terminated string the caller frees, or NULL as
 * pbjson_from_message() does.
 */
char *pbjson_encode(const ProtobufCMessage *msg, size_t flags);

/*
 * Builds a new message of type desc from json (an object, or a string for
 * a Timestamp). On success *out holds the message, allocated part by part
 * with malloc as protobuf_c_message_unpack() does: free it with
 * protobuf_c_message_free_unpacked(*out, NULL).
 *
 * Returns 0, KY_EINVAL when json does not fit desc, or KY_ENOMEM. On error
 * *out is NULL and errbuf (if errlen > 0) says what is wrong and where, as a
 * proto3 JSON path: "needs.budgetMinWan: expected a number",
 * "reminders[1].dueAt: ...", or 'unknown field "foo"' at the top level.
 */
int pbjson_to_message(const ProtobufCMessageDescriptor *desc,
                      const json_t *json, ProtobufCMessage **out, char *errbuf,
                      size_t errlen);

/*
 * Parses len bytes of JSON text and builds a message as
 * pbjson_to_message() does. Text that is not JSON (including invalid
 * UTF-8, embedded NUL and repeated keys) gives KY_EDECODE with jansson's
 * line and column in errbuf; other errors are those of
 * pbjson_to_message().
 */
int pbjson_decode(const ProtobufCMessageDescriptor *desc, const char *text,
                  size_t len, ProtobufCMessage **out, char *errbuf,
                  size_t errlen);

/*
 * True when msg holds nothing its JSON form would keep once empty objects
 * are dropped: no field set but nested messages that are empty in turn.
 * A Timestamp, whose JSON form is a string, is never empty.
 */
bool pbjson_is_empty(const ProtobufCMessage *msg);

/* The longest dotted JSON path pbjson_leaves() reports, with its NUL. */
#define PBJSON_PATH_MAX 256

/* Called by pbjson_leaves() with a leaf's path and its compact JSON text
 * (len bytes, NUL-terminated), both valid until it returns. Nonzero stops
 * the walk. */
typedef int (*pbjson_leaf_fn)(void *arg, const char *path, const char *json,
                              size_t len);

/*
 * Calls fn for each leaf of msg's JSON form, in field order: every present
 * field that is not a nested object (scalars, strings, lists and
 * Timestamps), with its dotted lowerCamelCase path ("profile.needs.
 * budgetMaxWan") and its value as json_dumps() writes it with
 * JSON_ENCODE_ANY | JSON_COMPACT. Nested messages are walked into, so an
 * empty one yields nothing. Returns 0, fn's nonzero result, or -1 when
 * out of memory, a path is longer than PBJSON_PATH_MAX or a value cannot
 * be written (see pbjson_from_message()).
 */
int pbjson_leaves(const ProtobufCMessage *msg, pbjson_leaf_fn fn, void *arg);

/*
 * Looks in len bytes of protobuf wire data, read as desc, for a string
 * field whose value holds a NUL byte, and writes that field's dotted JSON
 * path into path (PBJSON_PATH_MAX bytes). protobuf-c hands strings over
 * NUL-terminated, so such a value would reach every check cut short: "wx"
 * for "wx\0other". Returns true when it found one; false when there is
 * none or the bytes do not parse (unpacking will say so).
 */
bool pbjson_wire_nul(const ProtobufCMessageDescriptor *desc,
                     const uint8_t *data, size_t len, char *path);

#endif
