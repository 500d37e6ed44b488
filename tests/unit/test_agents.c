/* test_agents.c - the agents file and the assignment rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../services/intake/agents.h"
#include "err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[64];

/* Writes text to a temporary file and loads it. */
static int load(agents_t *a, const char *text, char *err, size_t errlen)
{
    FILE *f;

    strcpy(path, "/tmp/keyuan-agents-XXXXXX");
    close(mkstemp(path));
    f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return agents_load(a, path, err, errlen);
}

static const char *shipped_like =
    "{\"agents\": ["
    " {\"id\": \"a1\", \"team\": \"north\", \"workingHours\": \"09:00-21:00\"},"
    " {\"id\": \"a2\", \"team\": \"north\"},"
    " {\"id\": \"a3\", \"team\": \"south\"},"
    " {\"id\": \"a4\", \"team\": \"south\", \"active\": false}],"
    " \"rules\": ["
    " {\"source\": \"walk_in\", \"agent\": \"a3\"},"
    " {\"region\": \"4403\", \"team\": \"south\"},"
    " {\"source\": \"beike\", \"region\": \"1101\", \"agent\": \"a2\"}]}";

static const char *assign(agents_t *a, const char *source, const char *req,
                          const char *region, uint64_t turn, char *reason)
{
    char *regions[1] = {(char *)region};
    agent_lead_t lead = {source, req, regions, region ? 1 : 0};

    return agents_assign(a, &lead, turn, reason, 96)->id;
}

static void test_rules_in_order(void **state)
{
    agents_t a;
    char err[256], why[96];

    (void)state;
    assert_int_equal(load(&a, shipped_like, err, sizeof err), 0);
    assert_string_equal(assign(&a, "walk_in", NULL, "110105", 0, why), "a3");
    assert_string_equal(why, "rule 1 (source walk_in -> agent a3)");
    /* south has one active agent: a4 is inactive */
    assert_string_equal(assign(&a, "58", NULL, "440305", 0, why), "a3");
    assert_string_equal(assign(&a, "58", NULL, "440305", 1, why), "a3");
    assert_string_equal(why, "rule 2 (region 4403 -> team south)");
    assert_string_equal(assign(&a, "beike", NULL, "110101", 5, why), "a2");
    /* beike outside 1101: no rule, turns over the three active agents */
    assert_string_equal(assign(&a, "beike", NULL, "310101", 0, why), "a1");
    assert_string_equal(why, "round robin");
    assert_string_equal(assign(&a, "beike", NULL, NULL, 2, why), "a3");
    agents_free(&a);
    unlink(path);
}

static void test_named_agent_wins_when_active(void **state)
{
    agents_t a;
    char err[256], why[96];

    (void)state;
    assert_int_equal(load(&a, shipped_like, err, sizeof err), 0);
    assert_string_equal(assign(&a, "58", "a2", "440305", 0, why), "a2");
    assert_string_equal(why, "named by source 58");
    /* a4 is inactive: the rules decide */
    assert_string_equal(assign(&a, "58", "a4", "440305", 0, why), "a3");
    agents_free(&a);
    unlink(path);
}

static void expect_error(const char *text, const char *needle)
{
    agents_t a;
    char err[256];

    assert_int_equal(load(&a, text, err, sizeof err), KY_ECONFIG);
    if (strstr(err, needle) == NULL)
        fail_msg("error \"%s\" does not mention \"%s\"", err, needle);
    unlink(path);
}

static void test_bad_files(void **state)
{
    (void)state;
    expect_error("[", "");
    expect_error("{\"agents\": 3}", "expected");
    expect_error("[{\"id\": \"a1\", \"active\": false}]", "no active agent");
    expect_error("[{\"id\": \"a1\"}, {\"id\": \"a1\"}]", "twice");
    expect_error("[{\"name\": \"x\"}]", "\"id\"");
    expect_error("[{\"id\": \"a1\", \"workingHours\": \"9-5\"}]",
                 "workingHours");
    expect_error("{\"agents\": [{\"id\": \"a1\"}], \"rules\": "
                 "[{\"source\": \"x\", \"agent\": \"zz\"}]}",
                 "zz");
    expect_error("{\"agents\": [{\"id\": \"a1\"}], \"rules\": "
                 "[{\"agent\": \"a1\"}]}",
                 "\"source\" or \"region\"");
    expect_error("{\"agents\": [{\"id\": \"a1\", \"team\": \"t\"}], \"rules\": "
                 "[{\"source\": \"x\", \"agent\": \"a1\", \"team\": \"t\"}]}",
                 "exactly one");
}

static void test_bare_array_still_reads(void **state)
{
    agents_t a;
    char err[256];

    (void)state;
    assert_int_equal(
        load(&a, "[{\"id\": \"x\"}, {\"id\": \"y\"}]", err, sizeof err), 0);
    assert_int_equal(a.n, 2);
    assert_int_equal(a.nrules, 0);
    agents_free(&a);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules_in_order),
        cmocka_unit_test(test_named_agent_wins_when_active),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_bare_array_still_reads),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
