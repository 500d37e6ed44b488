/*
 * leadgen.h - the synthetic leads both benchmark programs use.
 *
 * bench-ideal and bench-push must move the same messages, so that the
 * ideal stage and the real pipeline are compared on equal bytes: one
 * function builds lead number seq as an Envelope, the way a lead source
 * would send it to intake. Lead seq has the mobile 13800000000 + seq
 * (distinct for seq < 100,000,000, so each lead creates a customer), the
 * source event id "bench-<seq>", and, for four leads in five, needs that
 * vary with seq. Packed, a lead is about 300 bytes.
 */
#ifndef KEYUAN_BENCH_LEADGEN_H
#define KEYUAN_BENCH_LEADGEN_H

#include "wire.h"

#include <stdint.h>

/* One lead and the storage its fields point into. */
typedef struct bench_lead {
    Envelope env; /* request_id + lead body */
    Keyuan__V1__LeadEvent lead;
    Keyuan__V1__Contacts contacts;
    Keyuan__V1__Needs needs;
    Google__Protobuf__Timestamp occurred_at;
    char event_id[32]; /* "bench-<seq>" */
    char mobile[16];   /* "138xxxxxxxx" */
    char name[40];
    char *regions[2];
    char *priorities[3];
} bench_lead_t;

/* Mobiles are 13800000000 + seq; larger seq would leave the 138 range. */
#define BENCH_LEAD_SEQ_MAX 100000000ULL

/*
 * Fills bl with lead seq (< BENCH_LEAD_SEQ_MAX) and request_id, occurred
 * at now_ms. bl->env is then ready to pack; it points into bl itself, so
 * bl must not move until it is packed.
 */
void bench_lead_make(bench_lead_t *bl, uint64_t seq, uint64_t request_id,
                     int64_t now_ms);

#endif
