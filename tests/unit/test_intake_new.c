/*
 * test_intake_new.c - a new customer file made from its lead directly
 * (file_new.h) is the file the general JSON path (file_apply.h,
 * file_commit()) makes from the same lead: the same CustomerFile and
 * CustomerPerson bytes, the same Change (its fields in any order), and a
 * view equal to the general path's document. Each lead is stored once
 * each way, in two stores, under the same id and the same test clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "clock.h"
#include "err.h"
#include "file_apply.h"
#include "file_new.h"
#include "history.h"
#include "pbjson.h"
#include "phone.h"
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CUSTOMER_ID 7000000000000000001ull
#define AGENT "agent-7"
#define REASON "round_robin"
#define NOW_MS 1764000000000ll

typedef Keyuan__V1__LeadEvent LeadEvent;
typedef Keyuan__V1__Change Change;

/* One store and the file databases in it. */
typedef struct side {
    char dir[64];
    store_t *st;
    file_db_t db;
} side_t;

static const char *const DB_NAMES[] = {
    "customers", "persons",         "history", "contacts",
    "ident",     "customer_idents", "merges",  NULL};

static void side_open(side_t *s)
{
    int err = 0;

    snprintf(s->dir, sizeof s->dir, "/tmp/keyuan-new-XXXXXX");
    assert_non_null(mkdtemp(s->dir));
    s->st = store_open(s->dir, DB_NAMES, 64, &err);
    assert_non_null(s->st);
    s->db = (file_db_t){.st = s->st};
    s->db.customers = store_db(s->st, "customers");
    s->db.persons = store_db(s->st, "persons");
    s->db.history = store_db(s->st, "history");
}

static void side_close(side_t *s)
{
    char cmd[128];

    store_destroy(&s->st);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
    assert_int_equal(system(cmd), 0);
}

static LeadEvent *lead_parse(const char *json)
{
    ProtobufCMessage *msg = NULL;
    char err[160];

    if (pbjson_decode(&keyuan__v1__lead_event__descriptor, json, strlen(json),
                      &msg, err, sizeof err) != 0)
        fail_msg("lead does not parse: %s: %s", err, json);
    return (LeadEvent *)msg;
}

/* Makes the file the new way; returns its view as JSON. */
static json_t *make_new(side_t *s, const LeadEvent *ev)
{
    file_event_t why = {"lead", ev->source, ev->source_event_id};
    const char *mobile = ev->contacts ? ev->contacts->mobile : "";
    char e164[PHONE_E164_MAX] = "";
    file_new_t nf;
    MDB_txn *txn;

    if (*mobile)
        assert_int_equal(phone_normalize(mobile, e164, sizeof e164, NULL), 0);
    file_new_build(&nf, ev, e164, CUSTOMER_ID, AGENT, REASON, clock_now_ms());
    assert_int_equal(store_begin(s->st, NULL, false, &txn), 0);
    assert_int_equal(file_new_save(&s->db, txn, &nf, &why), 0);
    assert_int_equal(store_commit(txn), 0);
    return pbjson_from_message(&nf.view.base);
}

/* Makes the file the general way; returns its document. */
static json_t *make_general(side_t *s, const LeadEvent *ev)
{
    file_event_t why = {"lead", ev->source, ev->source_event_id};
    json_t *profile, *before = json_object(), *after = json_object();
    check_fail_t f;
    bool changed;
    MDB_txn *txn;

    assert_true(file_apply_profile_in(&ev->base, "", &profile, &f));
    assert_int_equal(file_apply_lead(after, ev, profile), 0);
    assert_int_equal(file_apply_start(after, CUSTOMER_ID, AGENT, REASON), 0);
    assert_int_equal(store_begin(s->st, NULL, false, &txn), 0);
    assert_int_equal(file_commit(&s->db, txn, CUSTOMER_ID, before, after, &why,
                                 &changed, NULL),
                     0);
    assert_int_equal(store_commit(txn), 0);
    assert_true(changed);
    json_decref(profile);
    json_decref(before);
    return after;
}

/* The value of key (customer id) in dbi, or fails. */
static MDB_val record(MDB_txn *txn, MDB_dbi dbi)
{
    uint8_t key[8];
    MDB_val v;

    file_key(key, CUSTOMER_ID);
    assert_int_equal(store_get(txn, dbi, key, 8, &v), 0);
    return v;
}

static void expect_same_record(MDB_txn *ta, MDB_txn *tb, MDB_dbi dbi,
                               const char *what)
{
    MDB_val va = record(ta, dbi), vb = record(tb, dbi);

    if (va.mv_size != vb.mv_size || memcmp(va.mv_data, vb.mv_data, va.mv_size))
        fail_msg("%s records differ: %zu bytes new, %zu general", what,
                 va.mv_size, vb.mv_size);
}

/*
 * The only Change in the side's history, unpacked as history reads it.
 * As stored, the new path's holds the file as created and no fields (a
 * quarter of a lead's cost was writing them); the general path's holds
 * fields.
 */
static Change *only_change(side_t *s, MDB_txn *txn, bool created)
{
    MDB_cursor *c;
    MDB_val k, v;
    Change *ch;

    assert_int_equal(mdb_cursor_open(txn, s->db.history, &c), 0);
    assert_int_equal(mdb_cursor_get(c, &k, &v, MDB_FIRST), 0);
    ch = keyuan__v1__change__unpack(NULL, v.mv_size, v.mv_data);
    assert_non_null(ch);
    assert_int_equal(ch->created != NULL, created);
    assert_int_equal(ch->n_fields == 0, created);
    keyuan__v1__change__free_unpacked(ch, NULL);
    ch = history_change_unpack(v.mv_data, v.mv_size);
    assert_null(ch->created);
    assert_non_null(ch);
    assert_int_equal(mdb_cursor_get(c, &k, &v, MDB_NEXT), MDB_NOTFOUND);
    mdb_cursor_close(c);
    return ch;
}

static int by_path(const void *x, const void *y)
{
    const Keyuan__V1__FieldChange *a = *(Keyuan__V1__FieldChange *const *)x;
    const Keyuan__V1__FieldChange *b = *(Keyuan__V1__FieldChange *const *)y;

    return strcmp(a->path, b->path);
}

static void expect_same_change(Change *a, Change *b)
{
    assert_int_equal(a->change_id, b->change_id);
    assert_string_equal(a->kind, b->kind);
    assert_string_equal(a->source, b->source);
    assert_string_equal(a->source_event_id, b->source_event_id);
    assert_int_equal(a->at->seconds, b->at->seconds);
    qsort(a->fields, a->n_fields, sizeof *a->fields, by_path);
    qsort(b->fields, b->n_fields, sizeof *b->fields, by_path);
    for (size_t i = 0; i < a->n_fields && i < b->n_fields; i++) {
        assert_string_equal(a->fields[i]->path, b->fields[i]->path);
        assert_string_equal(a->fields[i]->old_json, b->fields[i]->old_json);
        assert_string_equal(a->fields[i]->new_json, b->fields[i]->new_json);
    }
    assert_int_equal(a->n_fields, b->n_fields);
}

/* Stores lead both ways and holds the two results to each other. */
static void expect_same_file(const char *json)
{
    LeadEvent *ev = lead_parse(json);
    side_t a, b;
    json_t *view, *doc;
    MDB_txn *ta, *tb;
    Change *ca, *cb;

    side_open(&a);
    side_open(&b);
    clock_set_test(NOW_MS);
    view = make_new(&a, ev);
    clock_set_test(NOW_MS);
    doc = make_general(&b, ev);

    if (!json_equal(view, doc)) {
        char *x = json_dumps(view, JSON_SORT_KEYS | JSON_COMPACT);
        char *y = json_dumps(doc, JSON_SORT_KEYS | JSON_COMPACT);

        fail_msg("view differs for %s\nnew     %s\ngeneral %s", json, x, y);
    }
    assert_int_equal(store_begin(a.st, NULL, true, &ta), 0);
    assert_int_equal(store_begin(b.st, NULL, true, &tb), 0);
    expect_same_record(ta, tb, a.db.customers, "customers");
    expect_same_record(ta, tb, a.db.persons, "persons");
    ca = only_change(&a, ta, true);
    cb = only_change(&b, tb, false);
    expect_same_change(ca, cb);

    keyuan__v1__change__free_unpacked(ca, NULL);
    keyuan__v1__change__free_unpacked(cb, NULL);
    mdb_txn_abort(ta);
    mdb_txn_abort(tb);
    json_decref(view);
    json_decref(doc);
    keyuan__v1__lead_event__free_unpacked(ev, NULL);
    side_close(&a);
    side_close(&b);
}

static void test_every_field(void **state)
{
    (void)state;
    expect_same_file(
        "{\"source\":\"beike\",\"sourceEventId\":\"bk-1\","
        "\"occurredAt\":\"2026-11-20T10:40:00Z\",\"name\":\"张伟\","
        "\"contacts\":{\"mobile\":\"+86 138-0013-8001\",\"wechatId\":\"zw88\","
        "\"email\":\"Zhang.Wei@Example.com\",\"others\":[\"010-6512 3456\"]},"
        "\"needs\":{\"purpose\":\"PURPOSE_SCHOOL_DISTRICT\",\"bedrooms\":3,"
        "\"livingRooms\":2,\"areaMinM2\":80,\"areaMaxM2\":120,"
        "\"regionCodes\":[\"110105\",\"110108\"],\"budgetMinWan\":600,"
        "\"budgetMaxWan\":900,\"floorPreference\":\"中层\","
        "\"orientationPreference\":\"南北通透\","
        "\"decorationPreference\":\"精装\",\"priorities\":[\"学区\",\"地铁\"],"
        "\"timelineMonths\":3,\"stage\":\"STAGE_COMPARING\"},"
        "\"note\":\"周末看房\\n带父母\",\"agentId\":\"a-1\","
        "\"birthday\":{\"year\":1988,\"month\":8,\"day\":15,\"lunar\":true},"
        "\"age\":38,\"household\":{\"size\":4,\"children\":[{\"age\":6,"
        "\"note\":\"小学\"},{}]},\"occupation\":\"工程师\","
        "\"employer\":\"某公司\",\"decision\":{\"decisionMaker\":\"配偶\","
        "\"influencers\":[\"父母\"]},\"lifestyle\":\"爱跑步\","
        "\"hobbies\":[\"羽毛球\",\"\"],\"consent\":{\"contactAllowed\":true,"
        "\"recordedAt\":\"2026-11-20T10:40:00Z\",\"note\":\"电话同意\"}}");
}

static void test_few_fields(void **state)
{
    (void)state;
    expect_same_file("{\"source\":\"58\",\"sourceEventId\":\"1\","
                     "\"contacts\":{\"mobile\":\"13800138002\"}}");
    expect_same_file("{\"source\":\"wx\",\"sourceEventId\":\"2\","
                     "\"contacts\":{\"wechatId\":\"only-wechat\"}}");
    expect_same_file("{\"source\":\"web\",\"sourceEventId\":\"3\","
                     "\"name\":\"Ann\",\"contacts\":{\"email\":\"a@b.cn\"},"
                     "\"needs\":{\"budgetMaxWan\":300}}");
}

/* Parts present but empty leave nothing, as the JSON form drops {}. */
static void test_empty_parts(void **state)
{
    (void)state;
    expect_same_file("{\"source\":\"s\",\"sourceEventId\":\"4\","
                     "\"contacts\":{\"mobile\":\"13800138003\"},"
                     "\"needs\":{},\"birthday\":{},\"household\":{},"
                     "\"decision\":{},\"consent\":{}}");
    expect_same_file("{\"source\":\"s\",\"sourceEventId\":\"5\","
                     "\"contacts\":{\"wechatId\":\"w\"},"
                     "\"consent\":{\"recordedAt\":\"1970-01-01T00:00:00Z\"}}");
    expect_same_file("{\"source\":\"s\",\"sourceEventId\":\"6\","
                     "\"contacts\":{\"email\":\"x@y.z\"},"
                     "\"needs\":{\"purpose\":\"PURPOSE_UNSPECIFIED\"}}");
}

/* A source cannot set the normalised mobile: intake derives it. */
static void test_mobile_e164_is_derived(void **state)
{
    (void)state;
    expect_same_file("{\"source\":\"s\",\"sourceEventId\":\"7\","
                     "\"contacts\":{\"mobile\":\"138 0013 8004\","
                     "\"mobileE164\":\"+8613999999999\"}}");
    expect_same_file("{\"source\":\"s\",\"sourceEventId\":\"8\","
                     "\"contacts\":{\"wechatId\":\"w\","
                     "\"mobileE164\":\"+8613999999999\"}}");
}

/* Every lead the repo ships as a sample, line by line. */
static void test_sample_leads(void **state)
{
    const char *root = getenv("KEYUAN_SRC");
    char path[512], *line = NULL;
    size_t cap = 0;
    int n = 0;
    FILE *f;

    (void)state;
    snprintf(path, sizeof path, "%s/data/sample_leads.jsonl",
             root ? root : ".");
    f = fopen(path, "r");
    if (f == NULL)
        fail_msg("cannot open %s (run from the repo root or set KEYUAN_SRC)",
                 path);
    while (getline(&line, &cap, f) > 0) {
        LeadEvent *ev = lead_parse(line);
        const char *mobile = ev->contacts ? ev->contacts->mobile : "";
        char e164[PHONE_E164_MAX];
        check_fail_t why;
        bool valid = check_lead(ev, &why) &&
                     (*mobile == '\0' ||
                      phone_normalize(mobile, e164, sizeof e164, NULL) == 0);

        keyuan__v1__lead_event__free_unpacked(ev, NULL);
        if (valid) {
            expect_same_file(line);
            n++;
        }
    }
    free(line);
    fclose(f);
    assert_true(n >= 24); /* 26 lines, 2 bad on purpose */
}

/* A part carrying fields this build does not know takes the JSON path. */
static void test_unknown_fields_refused(void **state)
{
    /* Needs with field 99 (varint 1) appended: tag 99<<3 = 0x318. */
    static const uint8_t needs_extra[] = {0x10, 0x03, 0x98, 0x06, 0x01};
    Keyuan__V1__Needs *needs =
        keyuan__v1__needs__unpack(NULL, sizeof needs_extra, needs_extra);
    LeadEvent ev = KEYUAN__V1__LEAD_EVENT__INIT;

    (void)state;
    assert_non_null(needs);
    assert_int_equal(needs->bedrooms, 3);
    assert_true(file_new_possible(&ev));
    ev.needs = needs;
    assert_false(file_new_possible(&ev));
    needs->base.n_unknown_fields = 0; /* as if known: allowed */
    assert_true(file_new_possible(&ev));
    needs->base.n_unknown_fields = 1;
    keyuan__v1__needs__free_unpacked(needs, NULL);
}

/* Text that is only white space takes the JSON path, which drops it. */
static void test_blank_text_refused(void **state)
{
    static const char *const leads[] = {
        "{\"source\":\"s\",\"sourceEventId\":\"b1\","
        "\"contacts\":{\"mobile\":\"13800138005\"},\"note\":\"   \"}",
        "{\"source\":\"s\",\"sourceEventId\":\"b2\","
        "\"contacts\":{\"mobile\":\"13800138006\"},"
        "\"name\":\"\u00a0\u3000\"}",
        "{\"source\":\"s\",\"sourceEventId\":\"b3\","
        "\"contacts\":{\"mobile\":\"13800138007\"},"
        "\"needs\":{\"floorPreference\":\"\\n\\t\"}}",
    };
    LeadEvent *ok = lead_parse("{\"source\":\"s\",\"sourceEventId\":\"b0\","
                               "\"name\":\" A \",\"hobbies\":[\" \"]}");

    (void)state;
    assert_true(file_new_possible(ok)); /* text around words; lists */
    keyuan__v1__lead_event__free_unpacked(ok, NULL);
    for (size_t i = 0; i < sizeof leads / sizeof leads[0]; i++) {
        LeadEvent *ev = lead_parse(leads[i]);

        assert_false(file_new_possible(ev));
        keyuan__v1__lead_event__free_unpacked(ev, NULL);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_field),
        cmocka_unit_test(test_few_fields),
        cmocka_unit_test(test_empty_parts),
        cmocka_unit_test(test_mobile_e164_is_derived),
        cmocka_unit_test(test_sample_leads),
        cmocka_unit_test(test_unknown_fields_refused),
        cmocka_unit_test(test_blank_text_refused),
    };

    clock_enable_test(NOW_MS);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
