/* leadgen.c - the synthetic leads of the benchmark (see leadgen.h). */
#include "leadgen.h"

#include <stdio.h>
#include <string.h>

static char *const region_pool[] = {"110105", "110108", "310115", "440305",
                                    "330106"};
static char *const priority_pool[] = {"学区", "交通", "物业", "配套", "开发商"};

/* A free-text note of the kind web forms send, about 170 bytes. */
static char note[] = "想在地铁附近买一套两居室，孩子明年上小学，"
                     "预算三百万左右，最好南北通透、带电梯，"
                     "希望周末可以看房，请先微信联系。";

static void needs_make(bench_lead_t *bl, uint64_t seq)
{
    Keyuan__V1__Needs *n = &bl->needs;

    keyuan__v1__needs__init(n);
    n->purpose = (Keyuan__V1__Purpose)(1 + seq % 4);
    n->bedrooms = 1 + seq % 4;
    n->living_rooms = 1 + seq % 2;
    n->area_min_m2 = 60 + (uint32_t)(seq % 60);
    n->area_max_m2 = n->area_min_m2 + 40;
    n->budget_min_wan = 150 + (uint32_t)(seq % 400);
    n->budget_max_wan = n->budget_min_wan + 100;
    n->timeline_months = 1 + seq % 12;
    n->stage = (Keyuan__V1__Stage)(1 + seq % 3);
    n->floor_preference = "中高层";
    bl->regions[0] = region_pool[seq % 5];
    bl->regions[1] = region_pool[(seq + 2) % 5];
    n->n_region_codes = 1 + seq % 2;
    n->region_codes = bl->regions;
    for (int i = 0; i < 3; i++)
        bl->priorities[i] = priority_pool[(seq + (uint64_t)i) % 5];
    n->n_priorities = 3;
    n->priorities = bl->priorities;
}

void bench_lead_make(bench_lead_t *bl, uint64_t seq, uint64_t request_id,
                     int64_t now_ms)
{
    keyuan__v1__envelope__init(&bl->env);
    keyuan__v1__lead_event__init(&bl->lead);
    keyuan__v1__contacts__init(&bl->contacts);
    google__protobuf__timestamp__init(&bl->occurred_at);

    snprintf(bl->event_id, sizeof bl->event_id, "bench-%llu",
             (unsigned long long)seq);
    snprintf(bl->mobile, sizeof bl->mobile, "138%08llu",
             (unsigned long long)(seq % BENCH_LEAD_SEQ_MAX));
    snprintf(bl->name, sizeof bl->name, "压测客户%llu",
             (unsigned long long)seq);
    wire_ts_set(&bl->occurred_at, now_ms);

    bl->contacts.mobile = bl->mobile;
    bl->lead.source = "bench";
    bl->lead.source_event_id = bl->event_id;
    bl->lead.occurred_at = &bl->occurred_at;
    bl->lead.name = bl->name;
    bl->lead.contacts = &bl->contacts;
    bl->lead.note = note;
    if (seq % 5 != 0) { /* one lead in five says nothing about its needs */
        needs_make(bl, seq);
        bl->lead.needs = &bl->needs;
    }

    bl->env.request_id = request_id;
    bl->env.body_case = KEYUAN__V1__ENVELOPE__BODY_LEAD;
    bl->env.lead = &bl->lead;
}
