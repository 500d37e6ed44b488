/*
 * pbjson.c - the proto3 JSON mapping over protobuf-c descriptors (see
 * pbjson.h).
 *
 * The file has four parts: helpers shared by both directions (names,
 * member access, calendar, base64), message -> jansson tree, the text
 * writer behind pbjson_encode(), and jansson tree -> message.
 *
 * Messages are built exactly as protobuf_c_message_unpack() builds them,
 * so that protobuf_c_message_free_unpacked() frees them: every part is
 * malloc'd, each message is set up with protobuf_c_message_init(), an
 * implicit-presence string left empty keeps the descriptor's default
 * pointer, and a part is linked into its parent as soon as it exists so
 * that freeing the top message on any error frees everything.
 */
#include "pbjson.h"

#include "err.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "text.h"
#include "wire.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TIMESTAMP_NAME "google.protobuf.Timestamp"

/* The proto3 JSON range of a Timestamp: 0001-01-01 to 9999-12-31 UTC. */
#define TS_MIN_SECONDS WIRE_TS_MIN_SECONDS
#define TS_MAX_SECONDS WIRE_TS_MAX_SECONDS
#define NANOS_PER_SECOND 1000000000

#define SECONDS_PER_DAY 86400
#define DAYS_0001_TO_1970 719162 /* days from 0001-01-01 to 1970-01-01 */
#define DAYS_PER_400_YEARS 146097
#define DAYS_PER_100_YEARS 36524 /* a century whose last year is not leap */
#define DAYS_PER_4_YEARS 1461

/* Field names in error messages are cut to this length. */
#define NAME_MAX_LEN 64

/* ---- shared helpers ------------------------------------------------- */

/*
 * Writes the lowerCamelCase JSON name of a proto field name into dst, as
 * protoc derives json_name: each '_' is dropped and the letter after it
 * upper-cased. protobuf-c 1.4.1 descriptors do not carry json_name.
 */
static void camel_into(char *dst, size_t cap, const char *name)
{
    bool upper = false;
    size_t n = 0;

    for (; *name != '\0' && n + 1 < cap; name++) {
        if (*name == '_') {
            upper = true;
            continue;
        }
        dst[n++] = upper && *name >= 'a' && *name <= 'z'
                       ? (char)(*name - 'a' + 'A')
                       : *name;
        upper = false;
    }
    if (cap > 0)
        dst[n] = '\0';
}

/* The JSON name of name in a new string the caller frees; NULL on OOM. */
static char *camel_dup(const char *name)
{
    size_t cap = strlen(name) + 1;
    char *dst = malloc(cap);

    if (dst != NULL)
        camel_into(dst, cap, name);
    return dst;
}

/* True when key is the lowerCamelCase form of the proto name name. */
static bool camel_equals(const char *name, const char *key)
{
    bool upper = false;

    for (; *name != '\0'; name++) {
        if (*name == '_') {
            upper = true;
            continue;
        }
        char want = upper && *name >= 'a' && *name <= 'z'
                        ? (char)(*name - 'a' + 'A')
                        : *name;
        if (*key++ != want)
            return false;
        upper = false;
    }
    return *key == '\0';
}

static bool is_timestamp(const ProtobufCMessageDescriptor *desc)
{
    return strcmp(desc->name, TIMESTAMP_NAME) == 0;
}

static void *member_at(const ProtobufCMessage *msg, unsigned offset)
{
    return (char *)msg + offset;
}

/* Strings and messages mark presence by their pointer, not a has_ flag. */
static bool is_pointer_type(ProtobufCType type)
{
    return type == PROTOBUF_C_TYPE_STRING || type == PROTOBUF_C_TYPE_MESSAGE;
}

/* The size of one element of a repeated field's array, as protobuf-c
 * lays it out. */
static size_t element_size(ProtobufCType type)
{
    switch (type) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(void *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    default:
        return 4; /* the 32-bit integers, float and enum */
    }
}

static const char *type_name(ProtobufCType type)
{
    static const char *const names[] = {
        "int32",  "sint32",  "sfixed32", "int64",   "sint64",  "sfixed64",
        "uint32", "fixed32", "uint64",   "fixed64", "float",   "double",
        "bool",   "enum",    "string",   "bytes",   "message",
    };

    if ((size_t)type < sizeof names / sizeof names[0])
        return names[type];
    return "field";
}

static bool is_leap(int64_t year)
{
    return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
}

static int days_in_month(int64_t year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30,
                                 31, 31, 30, 31, 30, 31};

    return days[month - 1] + (month == 2 && is_leap(year));
}

/* Days from 1970-01-01 to the given date (year 1..9999, Gregorian). */
static int64_t days_from_civil(int64_t year, int month, int day)
{
    int64_t before = year - 1; /* whole years since 0001-01-01 */
    int64_t days = before * 365 + before / 4 - before / 100 + before / 400;

    for (int m = 1; m < month; m++)
        days += days_in_month(year, m);
    return days + day - 1 - DAYS_0001_TO_1970;
}

/*
 * The inverse of days_from_civil() for days >= -DAYS_0001_TO_1970. It steps
 * down by 400-year cycles, centuries, 4-year runs and years; a step that
 * would land past the leap day ending its cycle is capped.
 */
static void civil_from_days(int64_t days, int64_t *year, int *month, int *day)
{
    int64_t n = days + DAYS_0001_TO_1970;
    int64_t y = 1 + 400 * (n / DAYS_PER_400_YEARS);
    int64_t step;

    n %= DAYS_PER_400_YEARS;
    step = n / DAYS_PER_100_YEARS < 3 ? n / DAYS_PER_100_YEARS : 3;
    n -= step * DAYS_PER_100_YEARS;
    y += 100 * step;
    step = n / DAYS_PER_4_YEARS;
    n -= step * DAYS_PER_4_YEARS;
    y += 4 * step;
    step = n / 365 < 3 ? n / 365 : 3;
    n -= step * 365;
    y += step;

    int m = 1;
    while (n >= days_in_month(y, m))
        n -= days_in_month(y, m++);
    *year = y;
    *month = m;
    *day = (int)n + 1;
}

static const char B64_ALPHABET[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Standard base64 with padding; a new string or NULL on OOM. */
static char *base64_encode(const uint8_t *data, size_t len)
{
    char *out = malloc((len + 2) / 3 * 4 + 1);
    size_t n = 0;

    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t chunk = (uint32_t)data[i] << 16;
        if (i + 1 < len)
            chunk |= (uint32_t)data[i + 1] << 8;
        if (i + 2 < len)
            chunk |= data[i + 2];
        out[n++] = B64_ALPHABET[chunk >> 18];
        out[n++] = B64_ALPHABET[chunk >> 12 & 63];
        out[n++] = i + 1 < len ? B64_ALPHABET[chunk >> 6 & 63] : '=';
        out[n++] = i + 2 < len ? B64_ALPHABET[chunk & 63] : '=';
    }
    out[n] = '\0';
    return out;
}

/* The value of a base64 digit of either alphabet, or -1. */
static int base64_digit(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

/*
 * Decodes standard or URL-safe base64 into a new buffer (NULL when empty).
 * Padding may be left out, but when present it must complete the last
 * group. Returns 0, KY_EINVAL for bad text or KY_ENOMEM.
 */
static int base64_decode(const char *text, size_t len, uint8_t **out,
                         size_t *outlen)
{
    uint32_t bits = 0;
    size_t nbits = 0, n = 0;

    if (len % 4 == 0 && len > 0 && text[len - 1] == '=')
        len -= text[len - 2] == '=' ? 2 : 1;
    if (len % 4 == 1)
        return KY_EINVAL;
    *out = len > 0 ? malloc(len / 4 * 3 + 2) : NULL;
    if (len > 0 && *out == NULL)
        return KY_ENOMEM;
    for (size_t i = 0; i < len; i++) {
        int digit = base64_digit(text[i]);
        if (digit < 0) {
            free(*out);
            *out = NULL;
            return KY_EINVAL;
        }
        bits = bits << 6 | (uint32_t)digit;
        nbits += 6;
        if (nbits >= 8) {
            nbits -= 8;
            (*out)[n++] = (uint8_t)(bits >> nbits);
        }
    }
    *outlen = n;
    return 0;
}

/* ---- message -> jansson tree --------------------------------------- */

/* Whether an implicit-presence (proto3, no label) field holds a value
 * other than its default: protobuf-c's test before packing it. */
static bool is_nonzero(const ProtobufCFieldDescriptor *f, const void *member)
{
    const void *ptr = is_pointer_type(f->type) ? *(void *const *)member : NULL;

    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
        return ptr != NULL && *(const char *)ptr != '\0';
    case PROTOBUF_C_TYPE_MESSAGE:
        return ptr != NULL;
    case PROTOBUF_C_TYPE_BYTES:
        return ((const ProtobufCBinaryData *)member)->len > 0;
    case PROTOBUF_C_TYPE_FLOAT:
        return *(const float *)member != 0;
    case PROTOBUF_C_TYPE_DOUBLE:
        return *(const double *)member != 0;
    case PROTOBUF_C_TYPE_BOOL:
        return *(const protobuf_c_boolean *)member != 0;
    default:
        return element_size(f->type) == 8 ? *(const uint64_t *)member != 0
                                          : *(const uint32_t *)member != 0;
    }
}

/*
 * Whether the field would be on the wire: the same tests that
 * protobuf_c_message_pack() makes, so JSON and binary agree on presence.
 * Strings and messages outside proto3's implicit presence are present
 * when their pointer is set and is not the descriptor's default.
 */
static bool field_present(const ProtobufCMessage *msg,
                          const ProtobufCFieldDescriptor *f)
{
    const void *q = member_at(msg, f->quantifier_offset);
    const void *member = member_at(msg, f->offset);
    const void *ptr = is_pointer_type(f->type) ? *(void *const *)member : NULL;
    bool pointer_set = ptr != NULL && ptr != f->default_value;

    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return *(const uint32_t *)q == f->id &&
               (!is_pointer_type(f->type) || pointer_set);
    switch (f->label) {
    case PROTOBUF_C_LABEL_REQUIRED:
        return true;
    case PROTOBUF_C_LABEL_REPEATED:
        return *(const size_t *)q > 0;
    case PROTOBUF_C_LABEL_OPTIONAL:
        if (is_pointer_type(f->type))
            return pointer_set;
        return *(const protobuf_c_boolean *)q;
    default:
        return is_nonzero(f, member);
    }
}

static json_t *int64_to_json(int64_t v)
{
    char buf[24];

    snprintf(buf, sizeof buf, "%" PRId64, v);
    return json_string(buf);
}

static json_t *uint64_to_json(uint64_t v)
{
    char buf[24];

    snprintf(buf, sizeof buf, "%" PRIu64, v);
    return json_string(buf);
}

/* NaN and the infinities have no JSON number; the mapping names them. */
static json_t *nonfinite_to_json(double v)
{
    if (isnan(v))
        return json_string("NaN");
    return json_string(v > 0 ? "Infinity" : "-Infinity");
}

static json_t *double_to_json(double v)
{
    return isfinite(v) ? json_real(v) : nonfinite_to_json(v);
}

/*
 * A float goes out as the double nearest its shortest decimal form (6 to 9
 * digits), so that 0.1f prints as 0.1 and not as 0.10000000149011612.
 */
static json_t *float_to_json(float v)
{
    char buf[32];

    if (!isfinite(v))
        return nonfinite_to_json(v);
    for (int prec = 6; prec <= 9; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, (double)v);
        if ((float)strtod(buf, NULL) == v)
            break;
    }
    return json_real(strtod(buf, NULL));
}

/* An enum value by name; a number the descriptor does not know stays a
 * number (proto3 enums are open). */
static json_t *enum_to_json(const ProtobufCEnumDescriptor *e, int32_t v)
{
    const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(e, v);

    return ev != NULL ? json_string(ev->name) : json_integer(v);
}

static json_t *bytes_to_json(const ProtobufCBinaryData *bd)
{
    char *text = base64_encode(bd->data, bd->len);
    json_t *json = text != NULL ? json_string(text) : NULL;

    free(text);
    return json;
}

/* RFC 3339 in UTC with 0, 3, 6 or 9 fractional digits, as protoc does. */
static json_t *timestamp_to_json(const Google__Protobuf__Timestamp *ts)
{
    int64_t days, secs, year;
    int month, day, nanos = ts->nanos;
    char buf[40], frac[12] = "";

    if (ts->seconds < TS_MIN_SECONDS || ts->seconds > TS_MAX_SECONDS ||
        nanos < 0 || nanos >= NANOS_PER_SECOND)
        return NULL;
    days = ts->seconds / SECONDS_PER_DAY;
    secs = ts->seconds % SECONDS_PER_DAY;
    if (secs < 0) {
        secs += SECONDS_PER_DAY;
        days--;
    }
    civil_from_days(days, &year, &month, &day);
    if (nanos % 1000000 == 0 && nanos != 0)
        snprintf(frac, sizeof frac, ".%03d", nanos / 1000000);
    else if (nanos % 1000 == 0 && nanos != 0)
        snprintf(frac, sizeof frac, ".%06d", nanos / 1000);
    else if (nanos != 0)
        snprintf(frac, sizeof frac, ".%09d", nanos);
    snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d%sZ", (int)year,
             month, day, (int)(secs / 3600), (int)(secs / 60 % 60),
             (int)(secs % 60), frac);
    return json_string(buf);
}

/* One value of field f stored at member (a field or an array element).
 * Long only because it has one case per protobuf type. */
static json_t *value_to_json(const ProtobufCFieldDescriptor *f,
                             const void *member)
{
    const ProtobufCMessage *sub;
    const char *str;

    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return json_integer(*(const int32_t *)member);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return json_integer(*(const uint32_t *)member);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return int64_to_json(*(const int64_t *)member);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return uint64_to_json(*(const uint64_t *)member);
    case PROTOBUF_C_TYPE_FLOAT:
        return float_to_json(*(const float *)member);
    case PROTOBUF_C_TYPE_DOUBLE:
        return double_to_json(*(const double *)member);
    case PROTOBUF_C_TYPE_BOOL:
        return json_boolean(*(const protobuf_c_boolean *)member);
    case PROTOBUF_C_TYPE_ENUM:
        return enum_to_json(f->descriptor, *(const int32_t *)member);
    case PROTOBUF_C_TYPE_STRING:
        /* NULL packs as ""; json_string() refuses text not in UTF-8. */
        str = *(const char *const *)member;
        return json_string(str != NULL ? str : "");
    case PROTOBUF_C_TYPE_BYTES:
        return bytes_to_json(member);
    case PROTOBUF_C_TYPE_MESSAGE:
        sub = *(const ProtobufCMessage *const *)member;
        return sub != NULL ? pbjson_from_message(sub) : json_object();
    }
    return NULL;
}

static json_t *repeated_to_json(const ProtobufCMessage *msg,
                                const ProtobufCFieldDescriptor *f)
{
    size_t n = *(const size_t *)member_at(msg, f->quantifier_offset);
    const char *elems = *(char *const *)member_at(msg, f->offset);
    size_t size = element_size(f->type);
    json_t *array = json_array();

    for (size_t i = 0; array != NULL && i < n; i++) {
        if (json_array_append_new(array, value_to_json(f, elems + i * size))) {
            json_decref(array);
            array = NULL;
        }
    }
    return array;
}

/* Adds field f of msg to obj under its JSON name. */
static int add_field(json_t *obj, const ProtobufCMessage *msg,
                     const ProtobufCFieldDescriptor *f)
{
    json_t *value = f->label == PROTOBUF_C_LABEL_REPEATED
                        ? repeated_to_json(msg, f)
                        : value_to_json(f, member_at(msg, f->offset));
    char *key = camel_dup(f->name);
    int rc = -1;

    /* json_object_set_new() takes value even when it fails. */
    if (key != NULL && value != NULL)
        rc = json_object_set_new(obj, key, value);
    else
        json_decref(value);
    free(key);
    return rc;
}

json_t *pbjson_from_message(const ProtobufCMessage *msg)
{
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    json_t *obj;

    if (is_timestamp(desc))
        return timestamp_to_json((const Google__Protobuf__Timestamp *)msg);
    obj = json_object();
    for (unsigned i = 0; obj != NULL && i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields[i];
        if (field_present(msg, f) && add_field(obj, msg, f) != 0) {
            json_decref(obj);
            obj = NULL;
        }
    }
    return obj;
}

/* True when msg's JSON form would be an object with no member left once
 * empty objects are dropped: every field absent or such a message. */
bool pbjson_is_empty(const ProtobufCMessage *msg)
{
    const ProtobufCMessageDescriptor *desc = msg->descriptor;

    if (is_timestamp(desc))
        return false; /* a string in JSON, never an object */
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields[i];
        const ProtobufCMessage *sub;

        if (!field_present(msg, f))
            continue;
        if (f->type != PROTOBUF_C_TYPE_MESSAGE ||
            f->label == PROTOBUF_C_LABEL_REPEATED)
            return false;
        sub = *(const ProtobufCMessage *const *)member_at(msg, f->offset);
        if (!pbjson_is_empty(sub))
            return false;
    }
    return true;
}

/* True when field f's JSON value is an object the leaf walk descends into. */
static bool is_branch(const ProtobufCFieldDescriptor *f)
{
    return f->type == PROTOBUF_C_TYPE_MESSAGE &&
           f->label != PROTOBUF_C_LABEL_REPEATED &&
           !is_timestamp(f->descriptor);
}

/* Where pbjson_leaves() writes a leaf's text; grows as needed. */
typedef struct leaf_buf {
    char *text;
    size_t len, size;
} leaf_buf_t;

static bool leaf_room(leaf_buf_t *b, size_t more)
{
    size_t size = b->size ? b->size : 256;
    char *grown;

    if (b->len + more <= b->size)
        return true;
    while (size < b->len + more)
        size *= 2;
    if ((grown = realloc(b->text, size)) == NULL)
        return false;
    b->text = grown;
    b->size = size;
    return true;
}

/*
 * Writes s as a JSON string escaped as jansson escapes it (", \, and
 * controls as \b \f \n \r \t or \u00XX; the rest as is), so that texts
 * written here and by json_dumps() agree byte for byte. Most leaves are
 * short strings, and building a json_t for each cost more than the rest
 * of a new customer file.
 */
static bool leaf_string(leaf_buf_t *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);

    if (!text_valid_utf8(s, n) || !leaf_room(b, 6 * n + 3))
        return false;
    b->text[b->len++] = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        const char *esc = *p == '"'    ? "\\\""
                          : *p == '\\' ? "\\\\"
                          : *p == '\b' ? "\\b"
                          : *p == '\f' ? "\\f"
                          : *p == '\n' ? "\\n"
                          : *p == '\r' ? "\\r"
                          : *p == '\t' ? "\\t"
                                       : NULL;

        if (esc != NULL) {
            memcpy(b->text + b->len, esc, 2);
            b->len += 2;
        } else if (*p < 0x20) {
            memcpy(b->text + b->len, "\\u00", 4);
            b->text[b->len + 4] = hex[*p >> 4];
            b->text[b->len + 5] = hex[*p & 15];
            b->len += 6;
        } else {
            b->text[b->len++] = (char)*p;
        }
    }
    b->text[b->len++] = '"';
    return true;
}

/* Writes value compactly through jansson: lists, numbers, Timestamps. */
static bool leaf_json(leaf_buf_t *b, json_t *value)
{
    const size_t flags = JSON_ENCODE_ANY | JSON_COMPACT;
    size_t len;

    if (value == NULL || !leaf_room(b, 64))
        return false;
    len = json_dumpb(value, b->text + b->len, b->size - b->len, flags);
    if (len > b->size - b->len) { /* did not fit: grow, write again */
        if (!leaf_room(b, len))
            return false;
        len = json_dumpb(value, b->text + b->len, len, flags);
    }
    b->len += len;
    return len > 0;
}

/* Appends v in decimal, minus first when neg, in quotes when quoted: as
 * jansson prints integers, and proto3 JSON 64-bit ones. By hand because
 * printf's parsing was most of what a number leaf cost. */
static bool leaf_integer(leaf_buf_t *b, uint64_t v, bool neg, bool quoted)
{
    char digits[24];
    int n = 0;

    if (!leaf_room(b, sizeof digits + 3))
        return false;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    if (quoted)
        b->text[b->len++] = '"';
    if (neg)
        b->text[b->len++] = '-';
    while (n > 0)
        b->text[b->len++] = digits[--n];
    if (quoted)
        b->text[b->len++] = '"';
    return true;
}

static bool leaf_signed(leaf_buf_t *b, int64_t v, bool quoted)
{
    uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

    return leaf_integer(b, mag, v < 0, quoted);
}

/* Appends text as it is: literals and enum names, which need no escape. */
static bool leaf_literal(leaf_buf_t *b, const char *text, bool quoted)
{
    size_t n = strlen(text);

    if (!leaf_room(b, n + 2))
        return false;
    if (quoted)
        b->text[b->len++] = '"';
    memcpy(b->text + b->len, text, n);
    b->len += n;
    if (quoted)
        b->text[b->len++] = '"';
    return true;
}

/* The text of the scalars jansson would write as they are here. Returns
 * false, writing nothing, for the types left to leaf_json(). */
static bool leaf_scalar(leaf_buf_t *b, const ProtobufCFieldDescriptor *f,
                        const void *member, bool *ok)
{
    const ProtobufCEnumValue *ev;

    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
        *ok = leaf_string(b, *(const char *const *)member);
        return true;
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        *ok = leaf_signed(b, *(const int32_t *)member, false);
        return true;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        *ok = leaf_integer(b, *(const uint32_t *)member, false, false);
        return true;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        *ok = leaf_signed(b, *(const int64_t *)member, true);
        return true;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        *ok = leaf_integer(b, *(const uint64_t *)member, false, true);
        return true;
    case PROTOBUF_C_TYPE_BOOL:
        *ok = leaf_literal(
            b, *(const protobuf_c_boolean *)member ? "true" : "false", false);
        return true;
    case PROTOBUF_C_TYPE_ENUM: /* names are identifiers: nothing to escape */
        ev = protobuf_c_enum_descriptor_get_value(f->descriptor,
                                                  *(const int32_t *)member);
        *ok = ev ? leaf_literal(b, ev->name, true)
                 : leaf_signed(b, *(const int32_t *)member, false);
        return true;
    default:
        return false;
    }
}

/* A list of strings, ["a","b"], as jansson writes it compactly. */
static bool leaf_strings(leaf_buf_t *b, char *const *list, size_t n)
{
    bool ok = leaf_room(b, 2);

    if (ok)
        b->text[b->len++] = '[';
    for (size_t i = 0; ok && i < n; i++) {
        if (i > 0)
            b->text[b->len++] = ',';
        ok = leaf_string(b, list[i]) && leaf_room(b, 2);
    }
    if (ok)
        b->text[b->len++] = ']';
    return ok;
}

/* Writes the JSON text of field f of msg into b (emptied first). */
static bool leaf_text(leaf_buf_t *b, const ProtobufCMessage *msg,
                      const ProtobufCFieldDescriptor *f)
{
    const void *member = member_at(msg, f->offset);
    json_t *value;
    bool ok = false;

    b->len = 0;
    if (f->label == PROTOBUF_C_LABEL_REPEATED &&
        f->type == PROTOBUF_C_TYPE_STRING)
        ok =
            leaf_strings(b, *(char *const *const *)member,
                         *(const size_t *)member_at(msg, f->quantifier_offset));
    else if (f->label == PROTOBUF_C_LABEL_REPEATED ||
             !leaf_scalar(b, f, member, &ok)) {
        value = f->label == PROTOBUF_C_LABEL_REPEATED
                    ? repeated_to_json(msg, f)
                    : value_to_json(f, member);
        ok = leaf_json(b, value);
        json_decref(value);
    }
    if (ok && leaf_room(b, 1))
        b->text[b->len] = '\0';
    return ok;
}

/* Walks the leaves of msg below path (len bytes of it in use). */
static int leaves_walk(const ProtobufCMessage *msg, char *path, size_t len,
                       leaf_buf_t *b, pbjson_leaf_fn fn, void *arg)
{
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    int rc = 0;

    for (unsigned i = 0; rc == 0 && i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields[i];
        size_t at = len ? len + 1 : 0;

        if (!field_present(msg, f))
            continue;
        if (at + strlen(f->name) + 1 > PBJSON_PATH_MAX)
            return -1;
        if (len)
            path[len] = '.';
        camel_into(path + at, PBJSON_PATH_MAX - at, f->name);
        if (is_branch(f))
            rc = leaves_walk(
                *(const ProtobufCMessage *const *)member_at(msg, f->offset),
                path, strlen(path), b, fn, arg);
        else
            rc = leaf_text(b, msg, f) ? fn(arg, path, b->text, b->len) : -1;
    }
    path[len] = '\0';
    return rc;
}

int pbjson_leaves(const ProtobufCMessage *msg, pbjson_leaf_fn fn, void *arg)
{
    char path[PBJSON_PATH_MAX] = "";
    leaf_buf_t b = {NULL, 0, 0};
    int rc = leaves_walk(msg, path, 0, &b, fn, arg);

    free(b.text);
    return rc;
}

/* ---- NUL in wire strings --------------------------------------------- */

#define WIRE_NUL_DEPTH 32 /* deeper than any keyuan message nests */

/*
 * Returns how many fields lead down to a string holding a NUL (trail
 * holds them), 0 when there is none, -1 when the bytes do not parse. The
 * path is named only once found: this runs on every request.
 */
static int nul_walk(const ProtobufCMessageDescriptor *desc, const uint8_t *p,
                    const uint8_t *end, const ProtobufCFieldDescriptor **trail,
                    int depth)
{
    while (p < end) {
        const ProtobufCFieldDescriptor *f;
        uint64_t key, size;
        int rc = 0;

        if (!wire_varint(&p, end, &key))
            return -1;
        if ((key & 7) != 2) {
            if (!wire_skip(&p, end, key & 7))
                return -1;
            continue;
        }
        if (!wire_varint(&p, end, &size) || size > (uint64_t)(end - p))
            return -1;
        f = protobuf_c_message_descriptor_get_field(desc, (unsigned)(key >> 3));
        trail[depth] = f;
        if (f && f->type == PROTOBUF_C_TYPE_STRING)
            rc = memchr(p, 0, size) ? depth + 1 : 0;
        else if (f && f->type == PROTOBUF_C_TYPE_MESSAGE &&
                 depth + 1 < WIRE_NUL_DEPTH)
            rc = nul_walk(f->descriptor, p, p + size, trail, depth + 1);
        if (rc)
            return rc;
        p += size;
    }
    return 0;
}

bool pbjson_wire_nul(const ProtobufCMessageDescriptor *desc,
                     const uint8_t *data, size_t len, char *path)
{
    const ProtobufCFieldDescriptor *trail[WIRE_NUL_DEPTH];
    int n = nul_walk(desc, data, data + len, trail, 0);
    size_t at = 0;

    path[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (at + 1 + strlen(trail[i]->name) + 1 > PBJSON_PATH_MAX)
            break; /* never, for keyuan's messages: the path stays short */
        if (i)
            path[at++] = '.';
        camel_into(path + at, PBJSON_PATH_MAX - at, trail[i]->name);
        at = strlen(path);
    }
    return n > 0;
}

/* ---- jansson tree -> text ------------------------------------------ */

/*
 * jansson prints every real with 17 digits (0.1 as 0.10000000000000001),
 * so pbjson_encode() walks the tree itself: numbers as below, strings,
 * keys and literals through json_dumps() to keep jansson's escaping, and
 * the layout of jansson's dump (separators, JSON_INDENT, JSON_SORT_KEYS).
 */
typedef struct writer {
    FILE *out;    /* an open_memstream() over the result */
    size_t flags; /* the caller's jansson dump flags */
    bool failed;  /* an allocation failed along the way */
} writer_t;

static void write_value(writer_t *w, const json_t *v, int depth);

static void write_newline(writer_t *w, int depth)
{
    int indent = (int)(w->flags & JSON_MAX_INDENT);

    if (indent > 0)
        fprintf(w->out, "\n%*s", indent * depth, "");
}

static void write_separator(writer_t *w, int depth)
{
    fputc(',', w->out);
    if ((w->flags & (JSON_MAX_INDENT | JSON_COMPACT)) == 0)
        fputc(' ', w->out);
    write_newline(w, depth);
}

/*
 * Shortest of %.15g, %.16g, %.17g that reads back as v, unless the
 * caller asked for JSON_REAL_PRECISION. Like strtod() on input, this
 * assumes the "C" LC_NUMERIC locale (a '.' decimal point): keyuan's
 * programs never call setlocale().
 */
static void write_real(writer_t *w, double v)
{
    int prec = (int)(w->flags >> 11 & 0x1F);
    int first = prec > 0 ? prec : 15, last = prec > 0 ? prec : 17;
    char buf[40];

    for (int p = first; p <= last; p++) {
        snprintf(buf, sizeof buf, "%.*g", p, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    /* Keep it a real: "100" would read back as an integer. */
    if (strpbrk(buf, ".eE") == NULL)
        strcat(buf, ".0");
    fputs(buf, w->out);
}

static void write_leaf(writer_t *w, const json_t *v)
{
    size_t flags =
        JSON_ENCODE_ANY | (w->flags & (JSON_ENSURE_ASCII | JSON_ESCAPE_SLASH));
    char *text;

    if (json_is_real(v)) {
        write_real(w, json_real_value(v));
        return;
    }
    text = json_dumps(v, flags);
    if (text == NULL)
        w->failed = true;
    else
        fputs(text, w->out);
    free(text);
}

static void write_array(writer_t *w, const json_t *array, int depth)
{
    size_t n = json_array_size(array);

    fputc('[', w->out);
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            write_separator(w, depth + 1);
        else
            write_newline(w, depth + 1);
        write_value(w, json_array_get(array, i), depth + 1);
    }
    if (n > 0)
        write_newline(w, depth);
    fputc(']', w->out);
}

static int compare_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of obj in jansson's order, or sorted for JSON_SORT_KEYS. */
static const char **object_keys(writer_t *w, const json_t *obj)
{
    /* jansson's iteration API takes a non-const object. */
    json_t *o = (json_t *)obj;
    const char **keys = malloc((json_object_size(o) + 1) * sizeof *keys);
    size_t n = 0;

    if (keys == NULL) {
        w->failed = true;
        return NULL;
    }
    for (void *it = json_object_iter(o); it != NULL;
         it = json_object_iter_next(o, it))
        keys[n++] = json_object_iter_key(it);
    if (w->flags & JSON_SORT_KEYS)
        qsort(keys, n, sizeof *keys, compare_keys);
    return keys;
}

static void write_object(writer_t *w, const json_t *obj, int depth)
{
    const char **keys = object_keys(w, obj);
    size_t n = json_object_size(obj);
    json_t *name;

    fputc('{', w->out);
    for (size_t i = 0; keys != NULL && i < n; i++) {
        if (i > 0)
            write_separator(w, depth + 1);
        else
            write_newline(w, depth + 1);
        name = json_string(keys[i]);
        if (name == NULL)
            w->failed = true;
        else
            write_leaf(w, name);
        json_decref(name);
        fputs(w->flags & JSON_COMPACT ? ":" : ": ", w->out);
        write_value(w, json_object_get(obj, keys[i]), depth + 1);
    }
    if (n > 0)
        write_newline(w, depth);
    fputc('}', w->out);
    free(keys);
}

static void write_value(writer_t *w, const json_t *v, int depth)
{
    if (json_is_object(v))
        write_object(w, v, depth);
    else if (json_is_array(v))
        write_array(w, v, depth);
    else
        write_leaf(w, v);
}

char *pbjson_encode(const ProtobufCMessage *msg, size_t flags)
{
    json_t *json = pbjson_from_message(msg);
    writer_t w = {NULL, flags, false};
    char *text = NULL;
    size_t len = 0;

    if (json == NULL)
        return NULL;
    if ((flags & JSON_MAX_INDENT) == 0)
        w.flags |= JSON_COMPACT;
    w.out = open_memstream(&text, &len);
    if (w.out == NULL)
        goto drop_json;
    write_value(&w, json, 0);
    if (ferror(w.out))
        w.failed = true;
    if (fclose(w.out) != 0 || w.failed) {
        free(text);
        text = NULL;
    }
drop_json:
    json_decref(json);
    return text;
}

/* ---- jansson tree -> message --------------------------------------- */

typedef struct decoder {
    char *err;      /* the caller's error buffer; may be NULL */
    size_t errlen;  /* its size; 0 when there is none */
    char path[256]; /* the proto3 JSON path of the value being read */
    size_t pathlen; /* strlen(path) */
} decoder_t;

static int read_message(decoder_t *d, const ProtobufCMessageDescriptor *desc,
                        const json_t *json, ProtobufCMessage **out);

/* Writes "path: what" (or just "what" at the top) and returns code. */
static int fail(decoder_t *d, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(decoder_t *d, int code, const char *fmt, ...)
{
    va_list ap;
    int n = 0;

    if (d->errlen == 0)
        return code;
    if (d->pathlen > 0)
        n = snprintf(d->err, d->errlen, "%s: ", d->path);
    if (n >= 0 && (size_t)n < d->errlen) {
        va_start(ap, fmt);
        vsnprintf(d->err + n, d->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    text_cut_tail(d->err);
    return code;
}

static int fail_oom(decoder_t *d)
{
    return fail(d, KY_ENOMEM, "out of memory");
}

/* Appends to the path; returns the old length for path_pop(). A path
 * too long for the buffer is cut, which only shortens error messages. */
static size_t path_push(decoder_t *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static size_t path_push(decoder_t *d, const char *fmt, ...)
{
    size_t mark = d->pathlen;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(d->path + mark, sizeof d->path - mark, fmt, ap);
    va_end(ap);
    d->pathlen = strlen(d->path);
    return mark;
}

/* Appends ".name" (or "name" at the top) without formatting: this runs
 * for every field of every message decoded, so it stays cheap. */
static size_t path_push_field(decoder_t *d, const ProtobufCFieldDescriptor *f)
{
    size_t mark = d->pathlen, room = sizeof d->path - mark;
    char name[NAME_MAX_LEN];
    size_t len;

    camel_into(name, sizeof name, f->name);
    len = strlen(name);
    if (mark > 0 && room > 1) {
        d->path[d->pathlen++] = '.';
        room--;
    }
    if (len >= room)
        len = room - 1; /* cut: only shortens error messages */
    memcpy(d->path + d->pathlen, name, len);
    d->pathlen += len;
    d->path[d->pathlen] = '\0';
    return mark;
}

static void path_pop(decoder_t *d, size_t mark)
{
    d->pathlen = mark;
    d->path[mark] = '\0';
}

/* Fits a (sign, magnitude) integer into type's range. */
static bool integer_fits(ProtobufCType type, bool neg, uint64_t mag)
{
    switch (type) {
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return !neg && mag <= UINT32_MAX;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return !neg;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return mag <= (neg ? UINT64_C(1) << 63 : (uint64_t)INT64_MAX);
    default: /* the signed 32-bit types and enum numbers */
        return mag <= (neg ? UINT64_C(1) << 31 : (uint64_t)INT32_MAX);
    }
}

/* A decimal integer string: an optional '-', then digits only. */
static int string_to_integer(decoder_t *d, ProtobufCType type, const char *s,
                             bool *neg, uint64_t *mag)
{
    *neg = *s == '-';
    s += *neg;
    *mag = 0;
    if (*s < '0' || *s > '9')
        return fail(d, KY_EINVAL, "expected an integer");
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned digit = (unsigned)(*s - '0');
        if (*mag > (UINT64_MAX - digit) / 10)
            return fail(d, KY_EINVAL, "value out of range for %s",
                        type_name(type));
        *mag = *mag * 10 + digit;
    }
    if (*s != '\0')
        return fail(d, KY_EINVAL, "expected an integer");
    return 0;
}

/* A real that is a whole number (1.0, 1e3) is accepted as an integer. */
static int real_to_integer(decoder_t *d, ProtobufCType type, double v,
                           bool *neg, uint64_t *mag)
{
    if (v != floor(v))
        return fail(d, KY_EINVAL, "expected an integer");
    if (fabs(v) >= 18446744073709551616.0)
        return fail(d, KY_EINVAL, "value out of range for %s", type_name(type));
    *neg = v < 0;
    *mag = (uint64_t)fabs(v);
    return 0;
}

/* Reads an integer of type from a JSON number or decimal string. */
static int read_integer(decoder_t *d, ProtobufCType type, const json_t *v,
                        bool *neg, uint64_t *mag)
{
    int rc;

    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        *neg = i < 0;
        *mag = *neg ? 0 - (uint64_t)i : (uint64_t)i;
        rc = 0;
    } else if (json_is_real(v)) {
        rc = real_to_integer(d, type, json_real_value(v), neg, mag);
    } else if (json_is_string(v)) {
        rc = string_to_integer(d, type, json_string_value(v), neg, mag);
    } else {
        return fail(d, KY_EINVAL, "expected a number");
    }
    if (rc == 0 && *neg && *mag == 0)
        *neg = false; /* "-0" */
    if (rc == 0 && !integer_fits(type, *neg, *mag))
        return fail(d, KY_EINVAL, "value out of range for %s", type_name(type));
    return rc;
}

/* Stores an integer field of any width; the value is known to fit. */
static int set_integer(decoder_t *d, ProtobufCType type, void *member,
                       const json_t *v)
{
    bool neg = false;
    uint64_t mag = 0;
    int64_t sval;
    int rc = read_integer(d, type, v, &neg, &mag);

    if (rc != 0)
        return rc;
    /* -mag without converting an out-of-range unsigned to signed. */
    sval = neg ? -(int64_t)(mag - 1) - 1 : (int64_t)mag;
    if (element_size(type) == 8)
        *(uint64_t *)member = neg ? (uint64_t)sval : mag;
    else if (neg)
        *(int32_t *)member = (int32_t)sval;
    else
        *(uint32_t *)member = (uint32_t)mag;
    return 0;
}

/* A string that strtod() may read: JSON number characters only, so that
 * "inf", "0x1p3" and leading blanks stay errors. */
static bool is_number_text(const char *s)
{
    return *s != '\0' && s[strspn(s, "0123456789+-.eE")] == '\0';
}

/* Reads a double from a number, a numeric string or "NaN", "Infinity",
 * "-Infinity". */
static int read_real(decoder_t *d, const json_t *v, double *out)
{
    const char *s = json_string_value(v);
    char *end;

    if (json_is_number(v)) {
        *out = json_number_value(v);
        return 0;
    }
    if (s == NULL)
        return fail(d, KY_EINVAL, "expected a number");
    if (strcmp(s, "NaN") == 0)
        *out = NAN;
    else if (strcmp(s, "Infinity") == 0)
        *out = INFINITY;
    else if (strcmp(s, "-Infinity") == 0)
        *out = -INFINITY;
    else if (!is_number_text(s) || (*out = strtod(s, &end), *end != '\0'))
        return fail(d, KY_EINVAL, "expected a number");
    else if (!isfinite(*out))
        return fail(d, KY_EINVAL, "value out of range for double");
    return 0;
}

static int set_real(decoder_t *d, ProtobufCType type, void *member,
                    const json_t *v)
{
    double x = 0;
    int rc = read_real(d, v, &x);

    if (rc != 0)
        return rc;
    if (type == PROTOBUF_C_TYPE_DOUBLE) {
        *(double *)member = x;
        return 0;
    }
    /*
     * Refuse what would round to infinity. The bound is FLT_MAX plus half
     * its last unit: 3.4028235e38, the shortest text of FLT_MAX, is above
     * FLT_MAX itself and must still be read.
     */
    if (isfinite(x) && fabs(x) >= 0x1.ffffffp127)
        return fail(d, KY_EINVAL, "value out of range for float");
    *(float *)member = (float)x;
    return 0;
}

static const ProtobufCEnumValue *enum_by_name(const ProtobufCEnumDescriptor *e,
                                              const char *name)
{
    const ProtobufCEnumValue *ev =
        protobuf_c_enum_descriptor_get_value_by_name(e, name);

    /* The by-name index is missing when optimize_for = CODE_SIZE. */
    for (unsigned i = 0; ev == NULL && i < e->n_values; i++) {
        if (strcmp(e->values[i].name, name) == 0)
            ev = &e->values[i];
    }
    return ev;
}

static int set_enum(decoder_t *d, const ProtobufCEnumDescriptor *e,
                    void *member, const json_t *v)
{
    const ProtobufCEnumValue *ev;

    if (json_is_number(v))
        return set_integer(d, PROTOBUF_C_TYPE_INT32, member, v);
    if (!json_is_string(v))
        return fail(d, KY_EINVAL, "expected an enum name or number");
    ev = enum_by_name(e, json_string_value(v));
    if (ev == NULL)
        return fail(d, KY_EINVAL, "unknown value \"%.*s\" for enum %s",
                    (int)text_prefix(json_string_value(v), 64),
                    json_string_value(v), e->name);
    *(int32_t *)member = ev->value;
    return 0;
}

/*
 * Stores a copy of a JSON string. An implicit-presence field left empty
 * keeps the descriptor's default pointer, as unpack leaves it.
 */
static int set_string(decoder_t *d, const ProtobufCFieldDescriptor *f,
                      void *member, const json_t *v)
{
    size_t len = json_string_length(v);
    bool implicit = f->label == PROTOBUF_C_LABEL_NONE &&
                    !(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF);
    char *copy;

    if (!json_is_string(v))
        return fail(d, KY_EINVAL, "expected a string");
    /* A C string cannot hold NUL (a tree built with json_stringn). */
    if (strlen(json_string_value(v)) != len)
        return fail(d, KY_EINVAL, "string contains a NUL character");
    if (len == 0 && implicit)
        return 0;
    copy = malloc(len + 1);
    if (copy == NULL)
        return fail_oom(d);
    memcpy(copy, json_string_value(v), len + 1);
    *(char **)member = copy;
    return 0;
}

static int set_bytes(decoder_t *d, void *member, const json_t *v)
{
    ProtobufCBinaryData *bd = member;
    int rc;

    if (!json_is_string(v))
        return fail(d, KY_EINVAL, "expected a base64 string");
    rc = base64_decode(json_string_value(v), json_string_length(v), &bd->data,
                       &bd->len);
    if (rc == KY_ENOMEM)
        return fail_oom(d);
    if (rc != 0)
        return fail(d, KY_EINVAL, "invalid base64");
    return 0;
}

/* Stores one value of field f at member (a field or array element). */
static int set_value(decoder_t *d, const ProtobufCFieldDescriptor *f,
                     void *member, const json_t *v)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE:
        return set_real(d, f->type, member, v);
    case PROTOBUF_C_TYPE_BOOL:
        if (!json_is_boolean(v))
            return fail(d, KY_EINVAL, "expected true or false");
        *(protobuf_c_boolean *)member = json_is_true(v);
        return 0;
    case PROTOBUF_C_TYPE_ENUM:
        return set_enum(d, f->descriptor, member, v);
    case PROTOBUF_C_TYPE_STRING:
        return set_string(d, f, member, v);
    case PROTOBUF_C_TYPE_BYTES:
        return set_bytes(d, member, v);
    case PROTOBUF_C_TYPE_MESSAGE:
        return read_message(d, f->descriptor, v, member);
    default:
        return set_integer(d, f->type, member, v);
    }
}

/*
 * Fills a repeated field. The array and its count are stored first, all
 * zero, so that a failure part way leaves a message free_unpacked can
 * free.
 */
static int set_repeated(decoder_t *d, ProtobufCMessage *msg,
                        const ProtobufCFieldDescriptor *f, const json_t *v)
{
    size_t n = json_array_size(v), size = element_size(f->type);
    char *elems;
    int rc = 0;

    if (!json_is_array(v))
        return fail(d, KY_EINVAL, "expected an array");
    if (n == 0)
        return 0;
    elems = calloc(n, size);
    if (elems == NULL)
        return fail_oom(d);
    *(char **)member_at(msg, f->offset) = elems;
    *(size_t *)member_at(msg, f->quantifier_offset) = n;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const json_t *elem = json_array_get(v, i);
        size_t mark = path_push(d, "[%zu]", i);
        rc = json_is_null(elem)
                 ? fail(d, KY_EINVAL, "null is not allowed in a list")
                 : set_value(d, f, elems + i * size, elem);
        path_pop(d, mark);
    }
    return rc;
}

/* Marks f as its oneof's member, unless another member holds it. */
static int claim_oneof(decoder_t *d, ProtobufCMessage *msg,
                       const ProtobufCFieldDescriptor *f)
{
    uint32_t *which = member_at(msg, f->quantifier_offset);
    const ProtobufCFieldDescriptor *other;
    char mine[NAME_MAX_LEN], theirs[NAME_MAX_LEN];

    if (*which == 0) {
        *which = f->id;
        return 0;
    }
    other = protobuf_c_message_descriptor_get_field(msg->descriptor, *which);
    camel_into(mine, sizeof mine, f->name);
    camel_into(theirs, sizeof theirs, other != NULL ? other->name : "?");
    return fail(d, KY_EINVAL,
                "fields \"%s\" and \"%s\" are members of one oneof; "
                "set only one",
                theirs, mine);
}

static int set_field(decoder_t *d, ProtobufCMessage *msg,
                     const ProtobufCFieldDescriptor *f, const json_t *v)
{
    bool oneof = f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF;

    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return set_repeated(d, msg, f, v);
    /* proto2 and proto3 `optional` scalars carry a has_ flag. */
    if (f->label == PROTOBUF_C_LABEL_OPTIONAL && !oneof &&
        !is_pointer_type(f->type))
        *(protobuf_c_boolean *)member_at(msg, f->quantifier_offset) = 1;
    return set_value(d, f, member_at(msg, f->offset), v);
}

/* A field by its proto name or its lowerCamelCase JSON name. */
/*
 * Guesses the proto name of a lowerCamelCase key ("areaMinM2" ->
 * "area_min_m2"), so that the descriptor's binary search by name finds
 * most keys; false when it does not fit in snake (cap bytes).
 */
static bool snake_into(char *snake, size_t cap, const char *key)
{
    size_t n = 0;

    for (; *key != '\0'; key++) {
        bool up = *key >= 'A' && *key <= 'Z';

        if (n + 3 > cap)
            return false;
        if (up)
            snake[n++] = '_';
        snake[n++] = up ? (char)(*key - 'A' + 'a') : *key;
    }
    snake[n] = '\0';
    return true;
}

static const ProtobufCFieldDescriptor *
find_field(const ProtobufCMessageDescriptor *desc, const char *key)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(desc, key);
    char snake[NAME_MAX_LEN];

    /* Both lookups are binary searches; the JSON name of a field whose
     * proto name has a digit after '_' is only found by the scan below. */
    if (f == NULL && snake_into(snake, sizeof snake, key)) {
        f = protobuf_c_message_descriptor_get_field_by_name(desc, snake);
        if (f && !camel_equals(f->name, key))
            f = NULL; /* "area_minM2"-style keys are not JSON names */
    }
    for (unsigned i = 0; f == NULL && i < desc->n_fields; i++) {
        if (camel_equals(desc->fields[i].name, key))
            f = &desc->fields[i];
    }
    return f;
}

/* Reads one key of a message object. seen[] flags the fields given so
 * far, so that "areaMinM2" and "area_min_m2" together are refused. */
static int read_field(decoder_t *d, ProtobufCMessage *msg, bool *seen,
                      const char *key, const json_t *v)
{
    const ProtobufCFieldDescriptor *f = find_field(msg->descriptor, key);
    char name[NAME_MAX_LEN];
    size_t mark;
    int rc;

    if (f == NULL)
        return fail(d, KY_EINVAL, "unknown field \"%.*s\"",
                    (int)text_prefix(key, 64), key);
    if (seen[f - msg->descriptor->fields]) {
        camel_into(name, sizeof name, f->name);
        return fail(d, KY_EINVAL, "field \"%s\" is given twice", name);
    }
    seen[f - msg->descriptor->fields] = true;
    if (json_is_null(v))
        return 0; /* null means the default: leave what init set */
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        rc = claim_oneof(d, msg, f);
        if (rc != 0)
            return rc;
    }
    mark = path_push_field(d, f);
    rc = set_field(d, msg, f, v);
    path_pop(d, mark);
    return rc;
}

static int read_fields(decoder_t *d, ProtobufCMessage *msg, const json_t *obj)
{
    /* jansson's iteration API takes a non-const object. */
    json_t *o = (json_t *)obj;
    bool *seen = calloc(msg->descriptor->n_fields + 1, sizeof *seen);
    int rc = 0;

    if (seen == NULL)
        return fail_oom(d);
    for (void *it = json_object_iter(o); rc == 0 && it != NULL;
         it = json_object_iter_next(o, it))
        rc = read_field(d, msg, seen, json_object_iter_key(it),
                        json_object_iter_value(it));
    free(seen);
    return rc;
}

/* Reads exactly n digits at *p into *out. */
static bool read_digits(const char **p, int n, int *out)
{
    *out = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (**p < '0' || **p > '9')
            return false;
        *out = *out * 10 + (**p - '0');
    }
    return true;
}

/* Reads "HH:MM" of a time or a zone offset. */
static bool read_hh_mm(const char **p, int *hh, int *mm)
{
    return read_digits(p, 2, hh) && *(*p)++ == ':' && read_digits(p, 2, mm);
}

/* Reads ".f" with 1 to 9 digits, if present, as nanoseconds. */
static bool read_fraction(const char **p, int32_t *nanos)
{
    int digits = 0;

    *nanos = 0;
    if (**p != '.')
        return true;
    for ((*p)++; **p >= '0' && **p <= '9'; (*p)++, digits++) {
        if (digits == 9)
            return false;
        *nanos = *nanos * 10 + (**p - '0');
    }
    for (int i = digits; i < 9; i++)
        *nanos *= 10;
    return digits > 0;
}

/* Reads "Z" or "+HH:MM" / "-HH:MM" into seconds east of UTC. */
static bool read_zone(const char **p, int64_t *offset)
{
    char sign = **p;
    int hh, mm;

    (*p)++;
    *offset = 0;
    if (sign == 'Z' || sign == 'z')
        return true;
    if ((sign != '+' && sign != '-') || !read_hh_mm(p, &hh, &mm) || hh > 23 ||
        mm > 59)
        return false;
    *offset = (sign == '-' ? -1 : 1) * (int64_t)(hh * 3600 + mm * 60);
    return true;
}

/*
 * Parses an RFC 3339 date-time: "YYYY-MM-DDTHH:MM:SS[.f]Z" or with a
 * "+HH:MM" offset. Leap seconds (":60") are not accepted: Timestamp
 * smears them.
 */
static bool parse_timestamp(const char *s, int64_t *seconds, int32_t *nanos)
{
    int year, month, day, hh, mm, ss;
    int64_t offset;

    if (!read_digits(&s, 4, &year) || *s++ != '-' ||
        !read_digits(&s, 2, &month) || *s++ != '-' ||
        !read_digits(&s, 2, &day) || (*s != 'T' && *s != 't'))
        return false;
    s++;
    if (!read_hh_mm(&s, &hh, &mm) || *s++ != ':' || !read_digits(&s, 2, &ss) ||
        !read_fraction(&s, nanos) || !read_zone(&s, &offset) || *s != '\0')
        return false;
    if (year < 1 || month < 1 || month > 12 || day < 1 ||
        day > days_in_month(year, month) || hh > 23 || mm > 59 || ss > 59)
        return false;
    *seconds = days_from_civil(year, month, day) * SECONDS_PER_DAY + hh * 3600 +
               mm * 60 + ss - offset;
    return true;
}

static int read_timestamp(decoder_t *d, ProtobufCMessage *msg, const json_t *v)
{
    Google__Protobuf__Timestamp *ts = (Google__Protobuf__Timestamp *)msg;
    const char *s = json_string_value(v);

    if (s == NULL || !parse_timestamp(s, &ts->seconds, &ts->nanos))
        return fail(d, KY_EINVAL,
                    "expected an RFC 3339 timestamp such as "
                    "\"2024-05-01T08:00:00Z\"");
    if (ts->seconds < TS_MIN_SECONDS || ts->seconds > TS_MAX_SECONDS)
        return fail(d, KY_EINVAL,
                    "timestamp outside 0001-01-01T00:00:00Z"
                    "..9999-12-31T23:59:59Z");
    return 0;
}

/* Builds a new message of type desc from json into *out. */
static int read_message(decoder_t *d, const ProtobufCMessageDescriptor *desc,
                        const json_t *json, ProtobufCMessage **out)
{
    ProtobufCMessage *msg = malloc(desc->sizeof_message);
    int rc;

    if (msg == NULL)
        return fail_oom(d);
    protobuf_c_message_init(desc, msg);
    if (is_timestamp(desc))
        rc = read_timestamp(d, msg, json);
    else if (!json_is_object(json))
        rc = fail(d, KY_EINVAL, "expected an object");
    else
        rc = read_fields(d, msg, json);
    if (rc != 0) {
        protobuf_c_message_free_unpacked(msg, NULL);
        return rc;
    }
    *out = msg;
    return 0;
}

int pbjson_to_message(const ProtobufCMessageDescriptor *desc,
                      const json_t *json, ProtobufCMessage **out, char *errbuf,
                      size_t errlen)
{
    decoder_t d = {errbuf, errlen, "", 0};

    *out = NULL;
    if (errlen > 0)
        errbuf[0] = '\0';
    return read_message(&d, desc, json, out);
}

int pbjson_decode(const ProtobufCMessageDescriptor *desc, const char *text,
                  size_t len, ProtobufCMessage **out, char *errbuf,
                  size_t errlen)
{
    json_error_t jerr;
    json_t *json;
    int rc;

    *out = NULL;
    /* DECODE_ANY: a Timestamp's JSON is a bare string. */
    json = json_loadb(len > 0 ? text : "", len,
                      JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (json == NULL) {
        if (errlen > 0)
            snprintf(errbuf, errlen, "line %d column %d: %s", jerr.line,
                     jerr.column, jerr.text);
        return KY_EDECODE;
    }
    rc = pbjson_to_message(desc, json, out, errbuf, errlen);
    json_decref(json);
    return rc;
}
