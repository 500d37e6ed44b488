/*
 * test_pbjson.c - the JSON codec against python's json_format.
 *
 * tests/golden/ holds, for every message of keyuan.v1 (and Envelope with
 * each body), python's JSON and binary for one message with every field
 * set (make_goldens.py writes them). Each golden is checked both ways:
 * its JSON through our decoder must pack to python's bytes, and python's
 * bytes through our encoder must read back as the same JSON value. Then
 * come python's timestamp and double edge cases, the input forms the
 * mapping allows, and one test per kind of error.
 *
 * Run from the repository root, or set KEYUAN_SRC to it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "err.h"
#include "keyuan/v1/envelope.pb-c.h"
#include "pbjson.h"
#include "wire.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a hand-written descriptor for tests/golden/pbjson_test.proto --- */

/* The layout protoc-c gives pbjson.test.TestAll. */
typedef struct test_all {
    ProtobufCMessage base;
    ProtobufCBinaryData blob;
    int64_t big;
    int32_t small;
    float ratio;
    size_t n_codes;
    uint32_t *codes;
    uint32_t pick_case;
    union {
        char *label;
        int64_t count;
    };
    protobuf_c_boolean has_maybe;
    uint32_t maybe;
    size_t n_blobs;
    ProtobufCBinaryData *blobs;
    uint64_t stamp;
    size_t n_bigs;
    int64_t *bigs;
    double ratio2;
} test_all_t;

#define TA_FIELD(nm, tag, lab, ty, quant, fl)                                  \
    {                                                                          \
        .name = #nm, .id = tag, .label = PROTOBUF_C_LABEL_##lab,               \
        .type = PROTOBUF_C_TYPE_##ty, .quantifier_offset = quant,              \
        .offset = offsetof(test_all_t, nm), .flags = fl                        \
    }
#define TA_N(nm) offsetof(test_all_t, n_##nm)

static const ProtobufCFieldDescriptor test_all_fields[] = {
    TA_FIELD(blob, 1, NONE, BYTES, 0, 0),
    TA_FIELD(big, 2, NONE, INT64, 0, 0),
    TA_FIELD(small, 3, NONE, SINT32, 0, 0),
    TA_FIELD(ratio, 4, NONE, FLOAT, 0, 0),
    TA_FIELD(codes, 5, REPEATED, UINT32, TA_N(codes),
             PROTOBUF_C_FIELD_FLAG_PACKED),
    TA_FIELD(label, 6, NONE, STRING, offsetof(test_all_t, pick_case),
             PROTOBUF_C_FIELD_FLAG_ONEOF),
    TA_FIELD(count, 7, NONE, INT64, offsetof(test_all_t, pick_case),
             PROTOBUF_C_FIELD_FLAG_ONEOF),
    TA_FIELD(maybe, 8, OPTIONAL, UINT32, offsetof(test_all_t, has_maybe), 0),
    TA_FIELD(blobs, 9, REPEATED, BYTES, TA_N(blobs), 0),
    TA_FIELD(stamp, 10, NONE, FIXED64, 0, 0),
    TA_FIELD(bigs, 11, REPEATED, INT64, TA_N(bigs),
             PROTOBUF_C_FIELD_FLAG_PACKED),
    TA_FIELD(ratio2, 12, NONE, DOUBLE, 0, 0),
};

/* Indexes of test_all_fields in the order of their names. */
static const unsigned test_all_by_name[] = {1, 10, 0, 8,  4, 6,
                                            5, 7,  3, 11, 2, 9};
static const ProtobufCIntRange test_all_ranges[] = {{1, 0}, {0, 12}};

static const ProtobufCMessageDescriptor test_all_descriptor;

static void test_all_init(ProtobufCMessage *msg)
{
    memset(msg, 0, sizeof(test_all_t));
    msg->descriptor = &test_all_descriptor;
}

static const ProtobufCMessageDescriptor test_all_descriptor = {
    PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC,
    "pbjson.test.TestAll",
    "TestAll",
    "TestAll",
    "pbjson.test",
    sizeof(test_all_t),
    sizeof test_all_fields / sizeof test_all_fields[0],
    test_all_fields,
    test_all_by_name,
    1,
    test_all_ranges,
    test_all_init,
    NULL,
    NULL,
    NULL,
};

/* ---- goldens -------------------------------------------------------- */

typedef struct golden {
    const char *name; /* file stem in tests/golden/ */
    const ProtobufCMessageDescriptor *desc;
} golden_t;

static const golden_t GOLDENS[] = {
    {"LeadEvent", &keyuan__v1__lead_event__descriptor},
    {"ContactLog", &keyuan__v1__contact_log__descriptor},
    {"ListingEvent", &keyuan__v1__listing_event__descriptor},
    {"CustomerSnapshot", &keyuan__v1__customer_snapshot__descriptor},
    {"GradeResult", &keyuan__v1__grade_result__descriptor},
    {"Reminder", &keyuan__v1__reminder__descriptor},
    {"Ack", &keyuan__v1__ack__descriptor},
    {"Reply", &keyuan__v1__reply__descriptor},
    {"StatusRequest", &keyuan__v1__status_request__descriptor},
    {"StatusReply", &keyuan__v1__status_reply__descriptor},
    {"Counter", &keyuan__v1__counter__descriptor},
    {"CustomerQuery", &keyuan__v1__customer_query__descriptor},
    {"CustomerView", &keyuan__v1__customer_view__descriptor},
    {"ReminderQuery", &keyuan__v1__reminder_query__descriptor},
    {"ReminderList", &keyuan__v1__reminder_list__descriptor},
    {"ClockSet", &keyuan__v1__clock_set__descriptor},
    {"Needs", &keyuan__v1__needs__descriptor},
    {"NextStep", &keyuan__v1__next_step__descriptor},
    {"CivilDate", &keyuan__v1__civil_date__descriptor},
    {"Contacts", &keyuan__v1__contacts__descriptor},
    {"Profile", &keyuan__v1__profile__descriptor},
    {"ProfileUpdate", &keyuan__v1__profile_update__descriptor},
    {"FieldChange", &keyuan__v1__field_change__descriptor},
    {"Change", &keyuan__v1__change__descriptor},
    {"CustomerFile", &keyuan__v1__customer_file__descriptor},
    {"CustomerPerson", &keyuan__v1__customer_person__descriptor},
    {"MergeRequest", &keyuan__v1__merge_request__descriptor},
    {"UnmergeRequest", &keyuan__v1__unmerge_request__descriptor},
    {"MergeRecord", &keyuan__v1__merge_record__descriptor},
    {"Agent", &keyuan__v1__agent__descriptor},
    {"AgentQuery", &keyuan__v1__agent_query__descriptor},
    {"AgentList", &keyuan__v1__agent_list__descriptor},
    {"QuarantinedEvent", &keyuan__v1__quarantined_event__descriptor},
    {"QuarantineQuery", &keyuan__v1__quarantine_query__descriptor},
    {"QuarantineList", &keyuan__v1__quarantine_list__descriptor},
    {"QuarantineReplay", &keyuan__v1__quarantine_replay__descriptor},
    {"GradeQuery", &keyuan__v1__grade_query__descriptor},
    {"GradeHistory", &keyuan__v1__grade_history__descriptor},
    {"Envelope_lead", &keyuan__v1__envelope__descriptor},
    {"Envelope_listing", &keyuan__v1__envelope__descriptor},
    {"Envelope_contact", &keyuan__v1__envelope__descriptor},
    {"Envelope_customer", &keyuan__v1__envelope__descriptor},
    {"Envelope_grade", &keyuan__v1__envelope__descriptor},
    {"Envelope_reminder", &keyuan__v1__envelope__descriptor},
    {"Envelope_ack", &keyuan__v1__envelope__descriptor},
    {"Envelope_reply", &keyuan__v1__envelope__descriptor},
    {"Envelope_status_request", &keyuan__v1__envelope__descriptor},
    {"Envelope_status", &keyuan__v1__envelope__descriptor},
    {"Envelope_customer_query", &keyuan__v1__envelope__descriptor},
    {"Envelope_customer_view", &keyuan__v1__envelope__descriptor},
    {"Envelope_reminder_query", &keyuan__v1__envelope__descriptor},
    {"Envelope_reminder_list", &keyuan__v1__envelope__descriptor},
    {"Envelope_clock_set", &keyuan__v1__envelope__descriptor},
    {"Envelope_profile_update", &keyuan__v1__envelope__descriptor},
    {"Envelope_merge", &keyuan__v1__envelope__descriptor},
    {"Envelope_unmerge", &keyuan__v1__envelope__descriptor},
    {"Envelope_quarantine_query", &keyuan__v1__envelope__descriptor},
    {"Envelope_quarantine_list", &keyuan__v1__envelope__descriptor},
    {"Envelope_quarantine_replay", &keyuan__v1__envelope__descriptor},
    {"Envelope_agent_query", &keyuan__v1__envelope__descriptor},
    {"Envelope_agent_list", &keyuan__v1__envelope__descriptor},
    {"Envelope_grade_query", &keyuan__v1__envelope__descriptor},
    {"Envelope_grade_history", &keyuan__v1__envelope__descriptor},
    {"Envelope_batch", &keyuan__v1__envelope__descriptor},
    {"EnvelopeBatch", &keyuan__v1__envelope_batch__descriptor},
    {"TestAll", &test_all_descriptor},
    {"TestAll_count", &test_all_descriptor},
};

#define N_GOLDENS (sizeof GOLDENS / sizeof GOLDENS[0])

/* Reads tests/golden/<file> under $KEYUAN_SRC (default "."). */
static uint8_t *read_golden(const char *file, size_t *len)
{
    const char *root = getenv("KEYUAN_SRC");
    char path[512];
    uint8_t *buf;
    FILE *f;
    long size;

    snprintf(path, sizeof path, "%s/tests/golden/%s", root ? root : ".", file);
    f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s (run from the repo root or set KEYUAN_SRC)",
                 path);
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    rewind(f);
    buf = malloc((size_t)size + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
    buf[size] = '\0';
    fclose(f);
    *len = (size_t)size;
    return buf;
}

static json_t *load_golden_json(const char *stem)
{
    char file[128];
    size_t len;
    uint8_t *text;
    json_t *json;
    json_error_t jerr;

    snprintf(file, sizeof file, "%s.json", stem);
    text = read_golden(file, &len);
    json = json_loadb((const char *)text, len, JSON_DECODE_ANY, &jerr);
    if (json == NULL)
        fail_msg("%s: %s", file, jerr.text);
    free(text);
    return json;
}

static uint8_t *pack(const ProtobufCMessage *msg, size_t *len)
{
    uint8_t *buf = malloc(protobuf_c_message_get_packed_size(msg) + 1);

    assert_non_null(buf);
    *len = protobuf_c_message_pack(msg, buf);
    return buf;
}

/*
 * JSON values equal as the mapping sees them: numbers by value whether
 * integer or real, objects regardless of key order.
 */
static bool json_same(const json_t *a, const json_t *b)
{
    if (a == NULL || b == NULL) /* a key missing from one side */
        return a == b;
    if (json_is_integer(a) && json_is_integer(b))
        return json_integer_value(a) == json_integer_value(b);
    if (json_is_number(a) && json_is_number(b))
        return json_number_value(a) == json_number_value(b);
    if (json_typeof(a) != json_typeof(b))
        return false;
    if (json_is_array(a)) {
        if (json_array_size(a) != json_array_size(b))
            return false;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!json_same(json_array_get(a, i), json_array_get(b, i)))
                return false;
        return true;
    }
    if (!json_is_object(a))
        return json_equal(a, b);
    if (json_object_size(a) != json_object_size(b))
        return false;
    /* jansson's iteration API takes a non-const object. */
    for (void *it = json_object_iter((json_t *)a); it != NULL;
         it = json_object_iter_next((json_t *)a, it))
        if (!json_same(json_object_iter_value(it),
                       json_object_get(b, json_object_iter_key(it))))
            return false;
    return true;
}

static void assert_json_same(const char *what, const json_t *got,
                             const json_t *want)
{
    if (!json_same(got, want)) {
        char *g = json_dumps(got, JSON_SORT_KEYS | JSON_ENCODE_ANY);
        char *w = json_dumps(want, JSON_SORT_KEYS | JSON_ENCODE_ANY);
        print_error("%s:\n got  %s\n want %s\n", what, g, w);
        free(g);
        free(w);
        fail();
    }
}

static void assert_bytes(const char *what, const uint8_t *got, size_t glen,
                         const uint8_t *want, size_t wlen)
{
    if (glen != wlen || memcmp(got, want, wlen) != 0)
        fail_msg("%s: %zu bytes packed, python has %zu, or they differ", what,
                 glen, wlen);
}

/* Decodes text as desc and requires success. */
static ProtobufCMessage *decode_ok(const ProtobufCMessageDescriptor *desc,
                                   const char *text)
{
    ProtobufCMessage *msg = NULL;
    char err[256];
    int rc = pbjson_decode(desc, text, strlen(text), &msg, err, sizeof err);

    if (rc != 0)
        fail_msg("decoding %s: rc %d: %s", text, rc, err);
    return msg;
}

/* Decodes text as desc and requires the error code and message. */
static void decode_fails(const ProtobufCMessageDescriptor *desc,
                         const char *text, int code, const char *message)
{
    ProtobufCMessage *msg = (ProtobufCMessage *)&msg; /* not NULL */
    char err[256];
    int rc = pbjson_decode(desc, text, strlen(text), &msg, err, sizeof err);

    if (rc != code)
        fail_msg("decoding %s: rc %d (%s), want %d", text, rc, err, code);
    assert_null(msg);
    if (message != NULL && strcmp(err, message) != 0)
        fail_msg("decoding %s:\n got  %s\n want %s", text, err, message);
}

/* (a) python's JSON -> our decoder -> bytes equal to python's. */
static void test_golden_decode(void **state)
{
    const golden_t *g = *state;
    char file[128];
    size_t text_len, bin_len, len;
    uint8_t *text, *bin, *packed;
    ProtobufCMessage *msg = NULL;
    char err[256];

    snprintf(file, sizeof file, "%s.json", g->name);
    text = read_golden(file, &text_len);
    snprintf(file, sizeof file, "%s.bin", g->name);
    bin = read_golden(file, &bin_len);
    if (pbjson_decode(g->desc, (const char *)text, text_len, &msg, err,
                      sizeof err) != 0)
        fail_msg("%s: %s", g->name, err);
    assert_true(protobuf_c_message_check(msg));
    packed = pack(msg, &len);
    assert_bytes(g->name, packed, len, bin, bin_len);
    protobuf_c_message_free_unpacked(msg, NULL);
    free(packed);
    free(bin);
    free(text);
}

/* (b) python's bytes -> our encoder -> the same JSON value as python's;
 * and our text decodes back to python's bytes. */
static void test_golden_encode(void **state)
{
    const golden_t *g = *state;
    char file[128];
    size_t bin_len, len;
    uint8_t *bin, *packed;
    ProtobufCMessage *msg;
    json_t *want = load_golden_json(g->name), *tree, *reread;
    char *text;

    snprintf(file, sizeof file, "%s.bin", g->name);
    bin = read_golden(file, &bin_len);
    msg = protobuf_c_message_unpack(g->desc, NULL, bin_len, bin);
    assert_non_null(msg);
    tree = pbjson_from_message(msg);
    assert_non_null(tree);
    assert_json_same(g->name, tree, want);
    text = pbjson_encode(msg, 0);
    assert_non_null(text);
    reread = json_loads(text, 0, NULL);
    assert_non_null(reread);
    assert_json_same(g->name, reread, want);
    protobuf_c_message_free_unpacked(msg, NULL);
    msg = decode_ok(g->desc, text);
    packed = pack(msg, &len);
    assert_bytes(g->name, packed, len, bin, bin_len);
    free(packed);
    protobuf_c_message_free_unpacked(msg, NULL);
    free(text);
    json_decref(reread);
    json_decref(tree);
    json_decref(want);
    free(bin);
}

static bool has_real(const json_t *json)
{
    if (json_is_real(json))
        return true;
    for (size_t i = 0; i < json_array_size(json); i++)
        if (has_real(json_array_get(json, i)))
            return true;
    for (void *it = json_object_iter((json_t *)json); it != NULL;
         it = json_object_iter_next((json_t *)json, it))
        if (has_real(json_object_iter_value(it)))
            return true;
    return false;
}

/* pbjson_encode() lays text out as jansson's own dump does, flag by flag
 * (reals aside: that is why it has its own writer). */
static void test_encode_layout(void **state)
{
    static const size_t flag_sets[] = {
        0,
        JSON_INDENT(2),
        JSON_SORT_KEYS,
        JSON_INDENT(3) | JSON_SORT_KEYS | JSON_ENSURE_ASCII,
        JSON_INDENT(1) | JSON_COMPACT,
        JSON_ESCAPE_SLASH | JSON_ENSURE_ASCII,
    };
    (void)state;

    for (size_t i = 0; i < N_GOLDENS; i++) {
        json_t *want = load_golden_json(GOLDENS[i].name);
        ProtobufCMessage *msg = NULL;
        json_t *tree;

        assert_int_equal(
            pbjson_to_message(GOLDENS[i].desc, want, &msg, NULL, 0), 0);
        tree = pbjson_from_message(msg);
        for (size_t j = 0; !has_real(tree) && j < 6; j++) {
            size_t flags = flag_sets[j];
            char *ours = pbjson_encode(msg, flags);
            if ((flags & JSON_MAX_INDENT) == 0)
                flags |= JSON_COMPACT;
            char *theirs = json_dumps(tree, flags);
            if (strcmp(ours, theirs) != 0)
                fail_msg("%s flags %zx:\n ours   %s\n jansson %s",
                         GOLDENS[i].name, flag_sets[j], ours, theirs);
            free(ours);
            free(theirs);
        }
        json_decref(tree);
        json_decref(want);
        protobuf_c_message_free_unpacked(msg, NULL);
    }
}

/* ---- edge values python computed ------------------------------------ */

static void test_timestamps(void **state)
{
    json_t *cases = load_golden_json("timestamps");
    (void)state;

    for (size_t i = 0; i < json_array_size(cases); i++) {
        json_t *c = json_array_get(cases, i);
        const char *want = json_string_value(json_object_get(c, "json"));
        Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
        Google__Protobuf__Timestamp *back;
        json_t *got;
        char text[64];

        ts.seconds =
            strtoll(json_string_value(json_object_get(c, "seconds")), NULL, 10);
        ts.nanos = (int32_t)json_integer_value(json_object_get(c, "nanos"));
        got = pbjson_from_message(&ts.base);
        assert_non_null(got);
        assert_string_equal(json_string_value(got), want);
        snprintf(text, sizeof text, "\"%s\"", want);
        back = (Google__Protobuf__Timestamp *)decode_ok(
            &google__protobuf__timestamp__descriptor, text);
        assert_int_equal(back->seconds, ts.seconds);
        assert_int_equal(back->nanos, ts.nanos);
        protobuf_c_message_free_unpacked(&back->base, NULL);
        json_decref(got);
    }
    json_decref(cases);
}

/* Significant digits of a number's text: "1.5e-07" has 2, "100.0" 1. */
static int significant_digits(const char *s)
{
    char digits[64];
    size_t n = 0, first = 0;

    for (; *s != '\0' && *s != 'e' && *s != 'E' && n < sizeof digits; s++)
        if (*s >= '0' && *s <= '9')
            digits[n++] = *s;
    while (first < n && digits[first] == '0')
        first++;
    while (n > first && digits[n - 1] == '0')
        n--;
    return (int)(n - first);
}

static double double_from_bits(const char *hex)
{
    uint64_t bits = strtoull(hex, NULL, 16);
    double v;

    if (strcmp(hex, "nan") == 0)
        return NAN;
    memcpy(&v, &bits, sizeof v);
    return v;
}

/* Each double reads and writes exactly, in no more digits than python. */
static void test_doubles(void **state)
{
    json_t *cases = load_golden_json("doubles");
    (void)state;

    for (size_t i = 0; i < json_array_size(cases); i++) {
        json_t *c = json_array_get(cases, i);
        const char *py = json_string_value(json_object_get(c, "json"));
        double v =
            double_from_bits(json_string_value(json_object_get(c, "bits")));
        Keyuan__V1__ListingEvent ev = KEYUAN__V1__LISTING_EVENT__INIT;
        Keyuan__V1__ListingEvent *back;
        char text[128], *ours;

        snprintf(text, sizeof text, "{\"areaM2\":%s}", py);
        back = (Keyuan__V1__ListingEvent *)decode_ok(
            &keyuan__v1__listing_event__descriptor, text);
        assert_true(isnan(v) ? isnan(back->area_m2)
                             : memcmp(&v, &back->area_m2, 8) == 0);
        ev.area_m2 = v;
        ours = pbjson_encode(&ev.base, 0);
        snprintf(text, sizeof text, "{\"areaM2\":%s}", py);
        if (strcmp(ours, text) != 0 &&
            (py[0] == '"' || significant_digits(ours) > significant_digits(py)))
            fail_msg("%s: ours %s, python %s", py, ours, text);
        free(ours);
        protobuf_c_message_free_unpacked(&back->base, NULL);
    }
    json_decref(cases);
}

/* ---- input forms the mapping allows -------------------------------- */

/* Two JSON texts that must make the same bytes. */
static void assert_same_message(const ProtobufCMessageDescriptor *desc,
                                const char *a, const char *b)
{
    ProtobufCMessage *ma = decode_ok(desc, a), *mb = decode_ok(desc, b);
    size_t la, lb;
    uint8_t *pa = pack(ma, &la), *pb = pack(mb, &lb);

    if (la != lb || memcmp(pa, pb, la) != 0)
        fail_msg("%s and %s differ", a, b);
    free(pa);
    free(pb);
    protobuf_c_message_free_unpacked(ma, NULL);
    protobuf_c_message_free_unpacked(mb, NULL);
}

static void test_input_forms(void **state)
{
    const ProtobufCMessageDescriptor *lead =
        &keyuan__v1__lead_event__descriptor;
    const ProtobufCMessageDescriptor *ta = &test_all_descriptor;
    (void)state;

    assert_same_message(lead,
                        "{\"source_event_id\":\"e\",\"needs\":"
                        "{\"budget_min_wan\":5,\"region_codes\":[\"1\"]}}",
                        "{\"sourceEventId\":\"e\",\"needs\":"
                        "{\"budgetMinWan\":5,\"regionCodes\":[\"1\"]}}");
    assert_same_message(lead, "{\"needs\":{\"purpose\":2,\"stage\":3}}",
                        "{\"needs\":{\"purpose\":\"PURPOSE_UPGRADE\","
                        "\"stage\":\"STAGE_COMPARING\"}}");
    assert_same_message(lead,
                        "{\"needs\":{\"bedrooms\":\"3\",\"livingRooms\":2.0,"
                        "\"areaMinM2\":1e2,\"areaMaxM2\":\"-0\"}}",
                        "{\"needs\":{\"bedrooms\":3,\"livingRooms\":2,"
                        "\"areaMinM2\":100}}");
    assert_same_message(lead,
                        "{\"needs\":null,\"name\":null,\"contacts\":"
                        "{\"others\":null,\"mobile\":\"\"},\"note\":\"\"}",
                        "{\"contacts\":{}}");
    assert_same_message(lead, "{\"occurredAt\":\"2024-05-01T16:00:00+08:00\"}",
                        "{\"occurredAt\":\"2024-05-01t08:00:00z\"}");
    assert_same_message(lead, "{\"occurredAt\":\"2024-05-01T08:00:00.5Z\"}",
                        "{\"occurredAt\":\"2024-05-01T08:00:00.500000000Z\"}");
    assert_same_message(lead, "{\"birthday\":{\"year\":\"-2147483648\"}}",
                        "{\"birthday\":{\"year\":-2147483648}}");
    assert_same_message(&keyuan__v1__envelope__descriptor,
                        "{\"lead\":null,\"ack\":{\"seq\":42}}",
                        "{\"ack\":{\"seq\":\"42\"}}");
    assert_same_message(ta, "{\"blob\":\"-_8\",\"blobs\":[\"AQ\"]}",
                        "{\"blob\":\"+/8=\",\"blobs\":[\"AQ==\"]}");
    assert_same_message(ta, "{\"big\":-9007199254740993,\"ratio2\":\"-1.5\"}",
                        "{\"big\":\"-9007199254740993\",\"ratio2\":-1.5}");
    /* The largest double below 2^64 (2^64 itself is out of range). */
    assert_same_message(ta, "{\"stamp\":1.8446744073709550e19}",
                        "{\"stamp\":\"18446744073709549568\"}");
}

/* Values that only some paths produce, checked field by field. */
static void test_input_values(void **state)
{
    Keyuan__V1__Envelope *env;
    test_all_t *ta;
    Keyuan__V1__Reminder *rem;
    char *text;
    (void)state;

    env = (Keyuan__V1__Envelope *)decode_ok(&keyuan__v1__envelope__descriptor,
                                            "{\"statusRequest\":{}}");
    assert_int_equal(env->body_case, KEYUAN__V1__ENVELOPE__BODY_STATUS_REQUEST);
    text = pbjson_encode(&env->base, 0);
    assert_string_equal(text, "{\"statusRequest\":{}}");
    free(text);
    protobuf_c_message_free_unpacked(&env->base, NULL);

    ta = (test_all_t *)decode_ok(&test_all_descriptor,
                                 "{\"ratio2\":\"NaN\",\"ratio\":\"-Infinity\","
                                 "\"label\":\"\",\"maybe\":null}");
    assert_true(isnan(ta->ratio2));
    assert_true(isinf(ta->ratio) && ta->ratio < 0);
    assert_int_equal(ta->pick_case, 6);
    assert_string_equal(ta->label, "");
    assert_false(ta->has_maybe);
    text = pbjson_encode(&ta->base, 0);
    assert_string_equal(text, "{\"ratio\":\"-Infinity\",\"label\":\"\","
                              "\"ratio2\":\"NaN\"}");
    free(text);
    protobuf_c_message_free_unpacked(&ta->base, NULL);

    /* proto3 enums are open: an unknown number stays a number. */
    rem = (Keyuan__V1__Reminder *)decode_ok(&keyuan__v1__reminder__descriptor,
                                            "{\"kind\":99,\"grade\":-1}");
    assert_int_equal(rem->kind, 99);
    text = pbjson_encode(&rem->base, 0);
    assert_string_equal(text, "{\"kind\":99,\"grade\":-1}");
    free(text);
    protobuf_c_message_free_unpacked(&rem->base, NULL);
}

/* Output options: pretty printing and a caller's real precision. */
static void test_encode_options(void **state)
{
    Keyuan__V1__ListingEvent ev = KEYUAN__V1__LISTING_EVENT__INIT;
    Keyuan__V1__Counter ctr = KEYUAN__V1__COUNTER__INIT;
    char *text;
    (void)state;

    ev.area_m2 = 89.7;
    ev.total_price_wan = 100;
    ev.unit_price_yuan_m2 = 1.0 / 3;
    text = pbjson_encode(&ev.base, 0);
    assert_string_equal(text, "{\"areaM2\":89.7,\"totalPriceWan\":100.0,"
                              "\"unitPriceYuanM2\":0.3333333333333333}");
    free(text);
    text = pbjson_encode(&ev.base, JSON_REAL_PRECISION(3));
    assert_string_equal(text, "{\"areaM2\":89.7,\"totalPriceWan\":100.0,"
                              "\"unitPriceYuanM2\":0.333}");
    free(text);
    ctr.name = "n/a ü";
    ctr.value = 7;
    text = pbjson_encode(&ctr.base,
                         JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
    assert_string_equal(text, "{\n  \"name\": \"n/a \\u00FC\",\n"
                              "  \"value\": \"7\"\n}");
    free(text);
}

/* ---- errors --------------------------------------------------------- */

static void test_error_unknown_field(void **state)
{
    const ProtobufCMessageDescriptor *d = &keyuan__v1__lead_event__descriptor;
    (void)state;

    decode_fails(d, "{\"foo\":1}", KY_EINVAL, "unknown field \"foo\"");
    decode_fails(d, "{\"needs\":{\"fooBar\":null}}", KY_EINVAL,
                 "needs: unknown field \"fooBar\"");
    /* Only the exact camel or snake name: no case folding. */
    decode_fails(d, "{\"SourceEventId\":\"x\"}", KY_EINVAL,
                 "unknown field \"SourceEventId\"");
    decode_fails(d, "{\"needs\":{\"areaMinM2\":1,\"area_min_m2\":2}}",
                 KY_EINVAL, "needs: field \"areaMinM2\" is given twice");
}

static void test_error_wrong_type(void **state)
{
    const ProtobufCMessageDescriptor *d = &keyuan__v1__lead_event__descriptor;
    (void)state;

    decode_fails(d, "{\"needs\":{\"budgetMinWan\":true}}", KY_EINVAL,
                 "needs.budgetMinWan: expected a number");
    decode_fails(d, "{\"contacts\":{\"mobile\":13800138000}}", KY_EINVAL,
                 "contacts.mobile: expected a string");
    decode_fails(d, "{\"needs\":[]}", KY_EINVAL, "needs: expected an object");
    decode_fails(d, "{\"birthday\":{\"lunar\":\"yes\"}}", KY_EINVAL,
                 "birthday.lunar: expected true or false");
    decode_fails(d, "{\"needs\":{\"priorities\":\"schools\"}}", KY_EINVAL,
                 "needs.priorities: expected an array");
    decode_fails(d, "{\"needs\":{\"priorities\":[\"a\",null]}}", KY_EINVAL,
                 "needs.priorities[1]: null is not allowed in a list");
    decode_fails(d, "{\"needs\":{\"priorities\":[\"a\",1]}}", KY_EINVAL,
                 "needs.priorities[1]: expected a string");
    decode_fails(d, "{\"needs\":{\"stage\":true}}", KY_EINVAL,
                 "needs.stage: expected an enum name or number");
    decode_fails(d, "[]", KY_EINVAL, "expected an object");
    decode_fails(&keyuan__v1__reminder_list__descriptor,
                 "{\"reminders\":[{},{\"dueAt\":{}}]}", KY_EINVAL,
                 "reminders[1].dueAt: expected an RFC 3339 timestamp such "
                 "as \"2024-05-01T08:00:00Z\"");
    decode_fails(&keyuan__v1__reminder_list__descriptor, "{\"reminders\":{}}",
                 KY_EINVAL,
                 "reminders: expected an "
                 "array");
    decode_fails(&test_all_descriptor, "{\"blob\":1}", KY_EINVAL,
                 "blob: expected a base64 string");
    decode_fails(&test_all_descriptor, "{\"ratio2\":\"1.5x\"}", KY_EINVAL,
                 "ratio2: expected a number");
    decode_fails(&test_all_descriptor, "{\"ratio2\":\"inf\"}", KY_EINVAL,
                 "ratio2: expected a number");
}

static void test_error_enum(void **state)
{
    (void)state;

    decode_fails(&keyuan__v1__lead_event__descriptor,
                 "{\"needs\":{\"purpose\":\"PURPOSE_CASTLE\"}}", KY_EINVAL,
                 "needs.purpose: unknown value \"PURPOSE_CASTLE\" for enum "
                 "keyuan.v1.Purpose");
    decode_fails(&keyuan__v1__reminder__descriptor, "{\"grade\":\"grade_a\"}",
                 KY_EINVAL,
                 "grade: unknown value \"grade_a\" for enum keyuan.v1.Grade");
    decode_fails(&keyuan__v1__reminder__descriptor, "{\"grade\":2147483648}",
                 KY_EINVAL, "grade: value out of range for int32");
}

static void test_error_timestamp(void **state)
{
    static const char *const bad[] = {
        "\"2024-02-30T00:00:00Z\"",
        "\"2023-02-29T00:00:00Z\"",
        "\"2024-05-01T08:00:00\"",
        "\"2024-05-01 08:00:00Z\"",
        "\"2024-05-01T08:00:60Z\"",
        "\"2024-05-01T24:00:00Z\"",
        "\"2024-05-01T08:00:00.1234567891Z\"",
        "\"2024-05-01T08:00:00.Z\"",
        "\"0000-12-31T00:00:00Z\"",
        "\"2024-5-01T08:00:00Z\"",
        "\"\"",
        "1714550400",
        "\"2024-05-01T08:00:00+08\"",
        "\"2024-05-01T08:00:00Z \"",
        "\"2024-05-01T08:00:00+24:00\"",
        "\"+2024-05-01T08:00:00Z\"",
        "\"2024-13-01T08:00:00Z\"",
    };
    const char *want = "occurredAt: expected an RFC 3339 timestamp such as "
                       "\"2024-05-01T08:00:00Z\"";
    char text[128];
    (void)state;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text, "{\"occurredAt\":%s}", bad[i]);
        decode_fails(&keyuan__v1__lead_event__descriptor, text, KY_EINVAL,
                     want);
    }
    decode_fails(&keyuan__v1__lead_event__descriptor,
                 "{\"occurredAt\":\"0001-01-01T00:00:00+00:01\"}", KY_EINVAL,
                 "occurredAt: timestamp outside 0001-01-01T00:00:00Z.."
                 "9999-12-31T23:59:59Z");
    decode_fails(&keyuan__v1__lead_event__descriptor,
                 "{\"occurredAt\":\"9999-12-31T23:59:59-00:01\"}", KY_EINVAL,
                 NULL);
}

static void test_error_base64(void **state)
{
    static const char *const bad[] = {
        "ab$d", "abcde", "ab=c", "a===", "abc==", "ab c", "="};
    char text[64];
    (void)state;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text, "{\"blob\":\"%s\"}", bad[i]);
        decode_fails(&test_all_descriptor, text, KY_EINVAL,
                     "blob: invalid base64");
    }
    decode_fails(&test_all_descriptor, "{\"blobs\":[\"AA==\",\"%\"]}",
                 KY_EINVAL, "blobs[1]: invalid base64");
}

static void test_error_range(void **state)
{
    const ProtobufCMessageDescriptor *d = &keyuan__v1__lead_event__descriptor;
    const ProtobufCMessageDescriptor *ta = &test_all_descriptor;
    const char *u32 = "needs.bedrooms: value out of range for uint32";
    const char *whole = "needs.bedrooms: expected an integer";
    (void)state;

    decode_fails(d, "{\"needs\":{\"bedrooms\":4294967296}}", KY_EINVAL, u32);
    decode_fails(d, "{\"needs\":{\"bedrooms\":\"4294967296\"}}", KY_EINVAL,
                 u32);
    decode_fails(d, "{\"needs\":{\"bedrooms\":-1}}", KY_EINVAL, u32);
    decode_fails(d, "{\"needs\":{\"bedrooms\":1e10}}", KY_EINVAL, u32);
    decode_fails(d, "{\"needs\":{\"bedrooms\":1.5}}", KY_EINVAL, whole);
    decode_fails(d, "{\"needs\":{\"bedrooms\":\"1e2\"}}", KY_EINVAL, whole);
    decode_fails(d, "{\"needs\":{\"bedrooms\":\" 1\"}}", KY_EINVAL, whole);
    decode_fails(d, "{\"needs\":{\"bedrooms\":\"+1\"}}", KY_EINVAL, whole);
    decode_fails(d, "{\"needs\":{\"bedrooms\":\"\"}}", KY_EINVAL, whole);
    decode_fails(d, "{\"birthday\":{\"year\":2147483648}}", KY_EINVAL,
                 "birthday.year: value out of range for int32");
    decode_fails(ta, "{\"stamp\":\"18446744073709551616\"}", KY_EINVAL,
                 "stamp: value out of range for fixed64");
    decode_fails(ta, "{\"stamp\":1.8446744073709552e19}", KY_EINVAL,
                 "stamp: value out of range for fixed64");
    decode_fails(ta, "{\"big\":\"9223372036854775808\"}", KY_EINVAL,
                 "big: value out of range for int64");
    decode_fails(ta, "{\"bigs\":[\"-9223372036854775809\"]}", KY_EINVAL,
                 "bigs[0]: value out of range for int64");
    decode_fails(ta, "{\"small\":-2147483649}", KY_EINVAL,
                 "small: value out of range for sint32");
    decode_fails(ta, "{\"ratio\":1e39}", KY_EINVAL,
                 "ratio: value out of range for float");
    decode_fails(ta, "{\"ratio2\":\"1e999\"}", KY_EINVAL,
                 "ratio2: value out of range for double");
}

static void test_error_oneof(void **state)
{
    (void)state;

    decode_fails(&keyuan__v1__envelope__descriptor, "{\"lead\":{},\"ack\":{}}",
                 KY_EINVAL,
                 "fields \"lead\" and \"ack\" are members of one oneof; "
                 "set only one");
    decode_fails(&test_all_descriptor, "{\"count\":0,\"label\":\"x\"}",
                 KY_EINVAL,
                 "fields \"count\" and \"label\" are members of one oneof; "
                 "set only one");
}

/* Text that is not JSON: jansson's parser refuses it. */
static void test_error_not_json(void **state)
{
    static const char *const bad[] = {
        "{\"name\":\"\xff\"}",      /* invalid UTF-8 */
        "{\"name\":\"\xe5\xbc\"}",  /* truncated UTF-8 */
        "{\"name\":\"\xc0\xaf\"}",  /* overlong UTF-8 */
        "{\"name\":\"\\ud800\"}",   /* lone surrogate */
        "{\"name\":\"a\\u0000b\"}", /* NUL */
        "{\"name\":\"a\",\"name\":\"b\"}",
        "{\"name\":",
        "",
        "{} {}",
    };
    (void)state;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        decode_fails(&keyuan__v1__lead_event__descriptor, bad[i], KY_EDECODE,
                     NULL);
}

/* A tree the caller built may hold what JSON text cannot. */
static void test_error_tree(void **state)
{
    json_t *obj = json_object();
    ProtobufCMessage *msg = (ProtobufCMessage *)&msg;
    char err[64];
    (void)state;

    json_object_set_new(obj, "name", json_stringn("a\0b", 3));
    assert_int_equal(pbjson_to_message(&keyuan__v1__lead_event__descriptor, obj,
                                       &msg, err, sizeof err),
                     KY_EINVAL);
    assert_null(msg);
    assert_string_equal(err, "name: string contains a NUL character");
    /* A short buffer is cut, never overrun; none at all is allowed. */
    assert_int_equal(pbjson_to_message(&keyuan__v1__lead_event__descriptor, obj,
                                       &msg, err, 5),
                     KY_EINVAL);
    assert_string_equal(err, "name");
    assert_int_equal(pbjson_to_message(&keyuan__v1__lead_event__descriptor, obj,
                                       &msg, NULL, 0),
                     KY_EINVAL);
    json_decref(obj);
}

/* What the encoder cannot write: it says so with NULL. */
static void test_error_encode(void **state)
{
    Keyuan__V1__Contacts c = KEYUAN__V1__CONTACTS__INIT;
    Keyuan__V1__NextStep step = KEYUAN__V1__NEXT_STEP__INIT;
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    (void)state;

    c.mobile = "\xff";
    assert_null(pbjson_encode(&c.base, 0));
    step.due_at = &ts;
    ts.seconds = INT64_C(253402300800);
    assert_null(pbjson_encode(&step.base, 0));
    ts.seconds = 0;
    ts.nanos = -1;
    assert_null(pbjson_from_message(&step.base));
    ts.nanos = 1000000000;
    assert_null(pbjson_from_message(&step.base));
    ts.nanos = 0;
    step.action = "";
    char *text = pbjson_encode(&step.base, 0);
    assert_string_equal(text, "{\"dueAt\":\"1970-01-01T00:00:00Z\"}");
    free(text);
}

/* ---- leaves and emptiness ---------------------------------------------- */

/* Appends "path=value;" for each leaf to the buffer in arg. */
static int leaf_collect(void *arg, const char *path, const char *json,
                        size_t len)
{
    char *out = arg;
    size_t used = strlen(out);

    assert_int_equal(strlen(json), len);
    snprintf(out + used, 1024 - used, "%s=%s;", path, json);
    return 0;
}

static int leaf_stop(void *arg, const char *path, const char *json, size_t len)
{
    (void)json;
    (void)len;
    return strcmp(path, (const char *)arg) == 0 ? 7 : 0;
}

/* Keeps the one leaf's text in arg. */
static int leaf_keep(void *arg, const char *path, const char *json, size_t len)
{
    (void)path;
    memcpy(arg, json, len + 1);
    return 0;
}

/* A string leaf's text is what json_dumps() writes, escapes and all. */
static void test_leaf_escaping(void **state)
{
    Keyuan__V1__Profile p = KEYUAN__V1__PROFILE__INIT;
    char name[256], got[1024];
    size_t n = 0;
    json_t *want;
    char *text;

    (void)state;
    for (int c = 1; c < 0x80; c++)
        name[n++] = (char)c;
    memcpy(name + n, "张\xF0\x9F\x98\x80/", 9);
    name[n + 9] = '\0';
    p.name = name;
    assert_int_equal(pbjson_leaves(&p.base, leaf_keep, got), 0);
    want = json_string(name);
    text = json_dumps(want, JSON_ENCODE_ANY | JSON_COMPACT);
    assert_string_equal(got, text);
    free(text);
    json_decref(want);

    /* and so is a list of strings */
    char *list[] = {name, "", "x\"y"};
    p.name = "";
    p.hobbies = list;
    p.n_hobbies = 3;
    assert_int_equal(pbjson_leaves(&p.base, leaf_keep, got), 0);
    want = json_pack("[sss]", list[0], list[1], list[2]);
    text = json_dumps(want, JSON_COMPACT);
    assert_string_equal(got, text);
    free(text);
    json_decref(want);
    p.n_hobbies = 0;

    p.name = "ab\xC3"; /* cut UTF-8: not writable */
    assert_int_equal(pbjson_leaves(&p.base, leaf_keep, got), -1);
}

static void test_leaves(void **state)
{
    Keyuan__V1__CustomerView v = KEYUAN__V1__CUSTOMER_VIEW__INIT;
    Keyuan__V1__Profile p = KEYUAN__V1__PROFILE__INIT;
    Keyuan__V1__Needs n = KEYUAN__V1__NEEDS__INIT;
    Keyuan__V1__Household h = KEYUAN__V1__HOUSEHOLD__INIT;
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    char *regions[] = {"110105", "110108"}, out[1024] = "";

    (void)state;
    n.budget_max_wan = 600;
    n.region_codes = regions;
    n.n_region_codes = 2;
    n.stage = KEYUAN__V1__STAGE__STAGE_COMPARING;
    p.name = "张\"伟";
    p.needs = &n;
    p.household = &h; /* empty: walked into, yields nothing */
    v.customer_id = 18446744073709551615ull;
    v.profile = &p;
    v.created_at = &ts; /* a Timestamp is a leaf, even at zero */

    assert_int_equal(pbjson_leaves(&v.base, leaf_collect, out), 0);
    assert_string_equal(out,
                        "customerId=\"18446744073709551615\";"
                        "profile.name=\"张\\\"伟\";"
                        "profile.needs.regionCodes=[\"110105\",\"110108\"];"
                        "profile.needs.budgetMaxWan=600;"
                        "profile.needs.stage=\"STAGE_COMPARING\";"
                        "createdAt=\"1970-01-01T00:00:00Z\";");
    assert_int_equal(pbjson_leaves(&v.base, leaf_stop, "profile.name"), 7);
}

/* Scalars are written as json_dumps() writes them, by type. */
static void test_leaf_scalars(void **state)
{
    Keyuan__V1__CivilDate d = KEYUAN__V1__CIVIL_DATE__INIT;
    Keyuan__V1__Needs n = KEYUAN__V1__NEEDS__INIT;
    Keyuan__V1__Ack a = KEYUAN__V1__ACK__INIT;
    char out[1024] = "";

    (void)state;
    d.year = -2147483647 - 1;
    d.month = 12;
    d.lunar = true;
    assert_int_equal(pbjson_leaves(&d.base, leaf_collect, out), 0);
    assert_string_equal(out, "year=-2147483648;month=12;lunar=true;");

    out[0] = '\0';
    n.bedrooms = 4294967295u;
    n.purpose = 99; /* an enum value this build does not know */
    assert_int_equal(pbjson_leaves(&n.base, leaf_collect, out), 0);
    assert_string_equal(out, "purpose=99;bedrooms=4294967295;");

    out[0] = '\0';
    d.year = 0;
    d.month = -7;
    d.lunar = false;
    assert_int_equal(pbjson_leaves(&d.base, leaf_collect, out), 0);
    assert_string_equal(out, "month=-7;");

    out[0] = '\0';
    a.seq = 18446744073709551615ull;
    assert_int_equal(pbjson_leaves(&a.base, leaf_collect, out), 0);
    assert_string_equal(out, "seq=\"18446744073709551615\";");
}

static void test_is_empty(void **state)
{
    Keyuan__V1__Profile p = KEYUAN__V1__PROFILE__INIT;
    Keyuan__V1__Household h = KEYUAN__V1__HOUSEHOLD__INIT;
    Keyuan__V1__Child child = KEYUAN__V1__CHILD__INIT, *children[] = {&child};
    Keyuan__V1__Consent c = KEYUAN__V1__CONSENT__INIT;
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;

    (void)state;
    assert_true(pbjson_is_empty(&p.base));
    p.household = &h;
    p.consent = &c;
    assert_true(pbjson_is_empty(&p.base)); /* only empty parts */
    h.children = children;
    h.n_children = 1;
    assert_false(pbjson_is_empty(&h.base)); /* a list of {} is kept */
    h.n_children = 0;
    c.recorded_at = &ts;
    assert_false(pbjson_is_empty(&p.base)); /* a Timestamp is a string */
    assert_false(pbjson_is_empty(&ts.base));
}

/* Packs env, then writes NUL over every byte 'Q' of the result. */
static uint8_t *pack_with_nul(const Keyuan__V1__Envelope *env, size_t *len)
{
    uint8_t *buf;

    *len = protobuf_c_message_get_packed_size(&env->base);
    buf = malloc(*len);
    assert_non_null(buf);
    protobuf_c_message_pack(&env->base, buf);
    for (size_t i = 0; i < *len; i++)
        if (buf[i] == 'Q')
            buf[i] = 0;
    return buf;
}

/* A NUL in a string field's wire bytes is found and named by its JSON
 * path, at any depth and in lists; bytes, clean text and bytes that do
 * not parse are not reported. */
static void test_wire_nul(void **state)
{
    Keyuan__V1__Envelope env = KEYUAN__V1__ENVELOPE__INIT;
    Keyuan__V1__LeadEvent lead = KEYUAN__V1__LEAD_EVENT__INIT;
    Keyuan__V1__Contacts contacts = KEYUAN__V1__CONTACTS__INIT;
    char path[PBJSON_PATH_MAX];
    char *others[] = {"ok", "aQb"};
    uint8_t *buf;
    size_t len;

    (void)state;
    env.body_case = KEYUAN__V1__ENVELOPE__BODY_LEAD;
    env.lead = &lead;
    lead.source = "s";
    lead.source_event_id = "e";
    lead.contacts = &contacts;
    contacts.wechat_id = "wxQ";
    buf = pack_with_nul(&env, &len);
    assert_true(
        pbjson_wire_nul(&keyuan__v1__envelope__descriptor, buf, len, path));
    assert_string_equal(path, "lead.contacts.wechatId");
    assert_false(pbjson_wire_nul(&keyuan__v1__envelope__descriptor, buf,
                                 len - 1, path)); /* cut short */
    free(buf);

    contacts.wechat_id = "wx";
    contacts.n_others = 2;
    contacts.others = others;
    buf = pack_with_nul(&env, &len);
    assert_true(
        pbjson_wire_nul(&keyuan__v1__envelope__descriptor, buf, len, path));
    assert_string_equal(path, "lead.contacts.others");
    free(buf);

    contacts.n_others = 0;
    env.request_id = 81; /* 'Q': a varint, not text */
    buf = pack_with_nul(&env, &len);
    assert_false(
        pbjson_wire_nul(&keyuan__v1__envelope__descriptor, buf, len, path));
    free(buf);
}

/* wire_request_id() reads the id of a packed Envelope without unpacking
 * it, past fields before and after it; 0 when absent or cut short. */
static void test_wire_request_id(void **state)
{
    Keyuan__V1__Envelope env = KEYUAN__V1__ENVELOPE__INIT;
    Keyuan__V1__LeadEvent lead = KEYUAN__V1__LEAD_EVENT__INIT;
    uint8_t *buf;
    size_t len;

    (void)state;
    env.seq = 3;
    env.sender = "x";
    env.epoch = 0x1234567890ull;
    env.request_id = 300;
    env.body_case = KEYUAN__V1__ENVELOPE__BODY_LEAD;
    env.lead = &lead;
    lead.source = "s";
    lead.note = "a note";
    buf = wire_pack(&env.base, &len);
    assert_non_null(buf);
    assert_int_equal(wire_request_id(buf, len), 300);
    assert_int_equal(wire_request_id(buf, len - 1), 0); /* cut short */
    free(buf);

    env.request_id = 0;
    buf = wire_pack(&env.base, &len);
    assert_int_equal(wire_request_id(buf, len), 0);
    free(buf);
    assert_int_equal(wire_request_id((const uint8_t *)"\xff\xff", 2), 0);
}

int main(void)
{
    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_encode_layout),
        cmocka_unit_test(test_timestamps),
        cmocka_unit_test(test_doubles),
        cmocka_unit_test(test_input_forms),
        cmocka_unit_test(test_input_values),
        cmocka_unit_test(test_encode_options),
        cmocka_unit_test(test_error_unknown_field),
        cmocka_unit_test(test_error_wrong_type),
        cmocka_unit_test(test_error_enum),
        cmocka_unit_test(test_error_timestamp),
        cmocka_unit_test(test_error_base64),
        cmocka_unit_test(test_error_range),
        cmocka_unit_test(test_error_oneof),
        cmocka_unit_test(test_error_not_json),
        cmocka_unit_test(test_error_tree),
        cmocka_unit_test(test_error_encode),
        cmocka_unit_test(test_leaves),
        cmocka_unit_test(test_leaf_escaping),
        cmocka_unit_test(test_leaf_scalars),
        cmocka_unit_test(test_is_empty),
        cmocka_unit_test(test_wire_nul),
        cmocka_unit_test(test_wire_request_id),
    };
    struct CMUnitTest tests[2 * N_GOLDENS + sizeof fixed / sizeof fixed[0]];
    static char names[2 * N_GOLDENS][64];
    size_t n = 0;

    for (size_t i = 0; i < N_GOLDENS; i++) {
        snprintf(names[2 * i], 64, "golden_decode %s", GOLDENS[i].name);
        snprintf(names[2 * i + 1], 64, "golden_encode %s", GOLDENS[i].name);
        tests[n++] = (struct CMUnitTest){names[2 * i], test_golden_decode, NULL,
                                         NULL, (void *)&GOLDENS[i]};
        tests[n++] = (struct CMUnitTest){names[2 * i + 1], test_golden_encode,
                                         NULL, NULL, (void *)&GOLDENS[i]};
    }
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        tests[n++] = fixed[i];
    return _cmocka_run_group_tests("pbjson", tests, n, NULL, NULL);
}
