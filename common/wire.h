/*
 * wire.h - packing envelopes and the small conversions every service needs
 * around the generated protobuf-c code (build/gen/keyuan/v1/).
 */
#ifndef KEYUAN_WIRE_H
#define KEYUAN_WIRE_H

#include "keyuan/v1/envelope.pb-c.h"

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

/* Big-endian 8-byte keys, so that LMDB's byte order is numeric order. */
void wire_put_u64(uint8_t *out, uint64_t v);
uint64_t wire_get_u64(const uint8_t *in);

/* The name of the envelope's body ("lead", "reminder", ...) for logs. */
const char *wire_body_name(const Envelope *env);

#endif
