/*
 * wire.h - packing envelopes and the small conversions every service needs
 * around the generated protobuf-c code (build/gen/keyuan/v1/).
 */
#ifndef KEYUAN_WIRE_H
#define KEYUAN_WIRE_H

#include "keyuan/v1/envelope.pb-c.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef Keyuan__V1__Envelope Envelope;

/*
 * Packs msg into a new buffer. Returns it (caller frees) and its length in
 * *len, or NULL when out of memory.
 */
uint8_t *wire_pack(const ProtobufCMessage *msg, size_t *len);

/* Unpacks an envelope; NULL when data is not one. Free with wire_free(). */
Envelope *wire_unpack(const uint8_t *data, size_t len);

/* Frees an envelope from wire_unpack(); accepts NULL. */
void wire_free(Envelope *env);

/* Fills a Timestamp from ms since the epoch. */
void wire_ts_set(Google__Protobuf__Timestamp *ts, int64_t ms);

/* ms since the epoch of ts; 0 when ts is NULL (the field was not set). */
int64_t wire_ts_ms(const Google__Protobuf__Timestamp *ts);

/* 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z, in Unix seconds. */
#define WIRE_TS_MIN_SECONDS INT64_C(-62135596800)
#define WIRE_TS_MAX_SECONDS INT64_C(253402300799)

/*
 * True when ts is a time proto3 can write: 0001-01-01T00:00:00Z to
 * 9999-12-31T23:59:59.999999999Z, nanos within 0..999999999.
 */
bool wire_ts_valid(const Google__Protobuf__Timestamp *ts);

/* Big-endian 8-byte keys, so that LMDB's byte order is numeric order. */
void wire_put_u64(uint8_t *out, uint64_t v);
uint64_t wire_get_u64(const uint8_t *in);

/* The name of the envelope's body ("lead", "reminder", ...) for logs. */
const char *wire_body_name(const Envelope *env);

/*
 * Reading protobuf wire data by hand, for the few places that must look
 * at bytes before (or instead of) unpacking them. Each advances *p and
 * returns false when the bytes end or do not parse.
 */
/* A varint. */
bool wire_varint(const uint8_t **p, const uint8_t *end, uint64_t *v);
/* Skips the value of a field of wire type wt (0, 1, 2 or 5). */
bool wire_skip(const uint8_t **p, const uint8_t *end, unsigned wt);

/*
 * The request_id of the packed Envelope in data, read without unpacking
 * it (for a message too large to unpack); 0 when absent or unreadable.
 */
uint64_t wire_request_id(const uint8_t *data, size_t len);

#endif
