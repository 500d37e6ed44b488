/* grade.c - keyuanctl grade: a customer's grade, the rule and the reasons
 * that produced it, and the grades before it, from the grading service. */
#include "ctl.h"

#include "err.h"
#include "out.h"
#include "parse.h"

#include <stdio.h>
#include <string.h>

#define GRADE_TIMEOUT_MS 5000

static const char grade_usage[] =
    "usage: keyuanctl grade CUSTOMER_ID [options]\n"
    "\n"
    "Shows the customer's grade (A, B, C or lead), the rule that gave it\n"
    "and the reasons, then the grades before it, newest first. --json\n"
    "prints one GradeResult a line.\n"
    "\n"
    "options:\n"
    "  --limit N           at most N grades (default 10)\n"
    "\n" CTL_COMMON_HELP "\n"
    "Exit status: 0 on an answer, 1 when grading did not answer, refused\n"
    "or has no grade for the customer, 2 for usage errors.\n";

enum { OPT_LIMIT = 256 };

static int grade_args(ctl_opts_t *o, int argc, char **argv,
                      Keyuan__V1__GradeQuery *q)
{
    static const struct option longopts[] = {
        {"limit", required_argument, NULL, OPT_LIMIT},
        CTL_COMMON_OPTIONS,
        {NULL, 0, NULL, 0}};
    uint64_t v;
    int ch, rc;

    ctl_getopt_reset();
    while ((ch = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        if (ch == OPT_LIMIT) {
            if (ctl_parse_uint(optarg, 200, &v) != KY_OK || v == 0)
                return ctl_usage_error("grade",
                                       "--limit wants 1 to 200, "
                                       "not \"%s\"",
                                       optarg);
            q->limit = (uint32_t)v;
            continue;
        }
        rc = ctl_common_option(o, "grade", ch, argv, grade_usage);
        if (rc >= 0)
            return rc;
    }
    if (optind + 1 != argc ||
        ctl_parse_uint(argv[optind], UINT64_MAX, &v) != KY_OK || v == 0)
        return ctl_usage_error("grade", "give one customer id");
    q->customer_id = v;
    return -1;
}

static void print_one(const Keyuan__V1__GradeResult *g, bool reasons)
{
    char grade[16], when[32];

    ctl_grade_text(g->grade, grade, sizeof grade);
    ctl_format_ts(g->graded_at, when, sizeof when);
    printf("%s  %-4s  rule %s\n", when, grade, g->rule ? g->rule : "-");
    for (size_t i = 0; reasons && i < g->n_reasons; i++)
        printf("    - %s\n", g->reasons[i]);
}

static int grade_print(const ctl_opts_t *o, const Envelope *reply)
{
    const Keyuan__V1__GradeHistory *h = reply->grade_history;
    int rc = KY_OK;

    if (reply->body_case == KEYUAN__V1__ENVELOPE__BODY_REPLY) {
        fprintf(stderr, "keyuanctl grade: %s: %s\n", reply->reply->code,
                reply->reply->message);
        return CTL_EXIT_FAIL;
    }
    if (reply->body_case != KEYUAN__V1__ENVELOPE__BODY_GRADE_HISTORY) {
        fprintf(stderr, "keyuanctl grade: unexpected %s answer\n",
                wire_body_name(reply));
        return CTL_EXIT_FAIL;
    }
    if (h->n_grades == 0) {
        fprintf(stderr, "keyuanctl grade: grading has no grade for this "
                        "customer (yet)\n");
        return CTL_EXIT_FAIL;
    }
    for (size_t i = 0; o->json && rc == KY_OK && i < h->n_grades; i++)
        rc = ctl_print_msg(&h->grades[i]->base);
    for (size_t i = 0; !o->json && i < h->n_grades; i++) {
        if (i == 1)
            printf("\nearlier:\n");
        print_one(h->grades[i], i == 0);
    }
    return rc == KY_OK ? CTL_EXIT_OK : CTL_EXIT_FAIL;
}

int ctl_cmd_grade(ctl_opts_t *o, int argc, char **argv)
{
    Keyuan__V1__GradeQuery q = KEYUAN__V1__GRADE_QUERY__INIT;
    Envelope req = KEYUAN__V1__ENVELOPE__INIT, *reply = NULL;
    int rc = grade_args(o, argc, argv, &q);

    if (rc >= 0)
        return rc;
    req.body_case = KEYUAN__V1__ENVELOPE__BODY_GRADE_QUERY;
    req.grade_query = &q;
    if (ctl_request(o, CTL_GRADING, &req, GRADE_TIMEOUT_MS, &reply) != KY_OK)
        return CTL_EXIT_FAIL;
    rc = grade_print(o, reply);
    wire_free(reply);
    return rc;
}
