/* wire.c - envelope packing and conversions (see wire.h). */
#include "wire.h"

#include <stdlib.h>

uint8_t *wire_pack(const ProtobufCMessage *msg, size_t *len)
{
    size_t size = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(size ? size : 1);

    if (buf == NULL)
        return NULL;
    *len = protobuf_c_message_pack(msg, buf);
    return buf;
}

Envelope *wire_unpack(const uint8_t *data, size_t len)
{
    return keyuan__v1__envelope__unpack(NULL, len, data);
}

void wire_free(Envelope *env)
{
    if (env != NULL)
        keyuan__v1__envelope__free_unpacked(env, NULL);
}

void wire_ts_set(Google__Protobuf__Timestamp *ts, int64_t ms)
{
    int64_t sec = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;

    ts->seconds = sec;
    ts->nanos = (int32_t)((ms - sec * 1000) * 1000000);
}

int64_t wire_ts_ms(const Google__Protobuf__Timestamp *ts)
{
    if (ts == NULL)
        return 0;
    return ts->seconds * 1000 + ts->nanos / 1000000;
}

void wire_put_u64(uint8_t *out, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        out[i] = (uint8_t)v;
}

uint64_t wire_get_u64(const uint8_t *in)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = v << 8 | in[i];
    return v;
}

const char *wire_body_name(const Envelope *env)
{
    const ProtobufCFieldDescriptor *f;

    if (env->body_case == KEYUAN__V1__ENVELOPE__BODY__NOT_SET)
        return "none";
    f = protobuf_c_message_descriptor_get_field(
        &keyuan__v1__envelope__descriptor, (unsigned)env->body_case);
    return f ? f->name : "unknown";
}

bool wire_ts_valid(const Google__Protobuf__Timestamp *ts)
{
    return ts->seconds >= WIRE_TS_MIN_SECONDS &&
           ts->seconds <= WIRE_TS_MAX_SECONDS && ts->nanos >= 0 &&
           ts->nanos <= 999999999;
}

bool wire_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t x = 0;

    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t byte = *(*p)++;

        x |= (uint64_t)(byte & 0x7F) << shift;
        if (!(byte & 0x80)) {
            *v = x;
            return true;
        }
    }
    return false;
}

bool wire_skip(const uint8_t **p, const uint8_t *end, unsigned wt)
{
    uint64_t v;
    size_t size;

    switch (wt) {
    case 0:
        return wire_varint(p, end, &v);
    case 1:
    case 5:
        size = wt == 1 ? 8 : 4;
        break;
    case 2:
        if (!wire_varint(p, end, &v) || v > (uint64_t)(end - *p))
            return false;
        size = (size_t)v;
        break;
    default: /* groups and reserved types: not in proto3 */
        return false;
    }
    if ((size_t)(end - *p) < size)
        return false;
    *p += size;
    return true;
}

uint64_t wire_request_id(const uint8_t *data, size_t len)
{
    const uint8_t *p = data, *end = data + len;
    uint64_t key, id = 0;

    while (p < end && wire_varint(&p, end, &key)) {
        if (key == (4u << 3 | 0)) { /* request_id = 4, a varint */
            if (!wire_varint(&p, end, &id))
                return 0;
        } else if (!wire_skip(&p, end, key & 7)) {
            return 0;
        }
    }
    return id; /* the last one, as protobuf reads a repeated scalar */
}
