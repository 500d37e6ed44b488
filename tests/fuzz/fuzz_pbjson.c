/*
 * fuzz_pbjson.c - libFuzzer target for the JSON codec (common/pbjson.c).
 *
 * Decodes arbitrary bytes as an Envelope's JSON. When that succeeds it
 * checks the round trip: our own JSON for the message must decode again,
 * to the same bytes on the wire. Not built by `make`; from the repo root:
 *
 *   make build/gen/.stamp
 *   clang -std=c11 -D_GNU_SOURCE -g -O1 \
 *       -fsanitize=fuzzer,address,undefined -Icommon -Ibuild/gen \
 *       tests/fuzz/fuzz_pbjson.c common/pbjson.c \
 *       build/gen/keyuan/v1/[a-z]*.pb-c.c \
 *       build/gen/google/protobuf/[a-z]*.pb-c.c \
 *       -ljansson -lprotobuf-c -lm -o build/fuzz_pbjson
 *   mkdir -p build/fuzz-corpus
 *   cp tests/golden/Envelope_*.json build/fuzz-corpus
 *   build/fuzz_pbjson -max_total_time=60 build/fuzz-corpus
 *
 * (libFuzzer adds its finds to the corpus directory: keep it under build/.)
 */
#include "keyuan/v1/envelope.pb-c.h"
#include "pbjson.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *pack(const ProtobufCMessage *msg, size_t *len)
{
    uint8_t *buf = malloc(protobuf_c_message_get_packed_size(msg) + 1);

    if (buf == NULL)
        abort();
    *len = protobuf_c_message_pack(msg, buf);
    return buf;
}

/* Our JSON of msg must read back to the same wire bytes. */
static void check_round_trip(const ProtobufCMessage *msg)
{
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    ProtobufCMessage *again = NULL;
    char *text = pbjson_encode(msg, 0);
    size_t len1, len2;
    uint8_t *bin1, *bin2;
    char err[256];

    /* NULL: a string that is not UTF-8 cannot come out of the parser. */
    if (text == NULL ||
        pbjson_decode(desc, text, strlen(text), &again, err, sizeof err))
        abort();
    bin1 = pack(msg, &len1);
    bin2 = pack(again, &len2);
    if (len1 != len2 || memcmp(bin1, bin2, len1) != 0)
        abort();
    free(bin2);
    free(bin1);
    protobuf_c_message_free_unpacked(again, NULL);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ProtobufCMessage *msg = NULL;
    char err[256];

    if (pbjson_decode(&keyuan__v1__envelope__descriptor, (const char *)data,
                      size, &msg, err, sizeof err) == 0) {
        check_round_trip(msg);
        protobuf_c_message_free_unpacked(msg, NULL);
    }
    return 0;
}
