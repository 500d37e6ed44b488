/* show.c - keyuanctl show: one customer file, found by id or mobile. */
#include "ctl.h"

#include "err.h"
#include "out.h"
#include "parse.h"

#include <stdio.h>
#include <string.h>

#define SHOW_TIMEOUT_MS 5000

static const char show_usage[] =
    "usage: keyuanctl show CUSTOMER_ID [options]\n"
    "       keyuanctl show --mobile PHONE [options]\n"
    "\n"
    "Asks intake for a customer file and prints it as \"field: value\"\n"
    "lines (fields not known yet are left out), or as one JSON object\n"
    "with --json. PHONE may be written in any form intake accepts.\n"
    "\n"
    "options:\n"
    "  --mobile PHONE      find the customer by mobile number\n"
    "\n" CTL_COMMON_HELP "\n"
    "Exit status: 0 when found, 1 when not found or intake did not\n"
    "answer, 2 for usage errors.\n";

enum { OPT_MOBILE = 256 };

static int show_args(ctl_opts_t *o, int argc, char **argv,
                     Keyuan__V1__CustomerQuery *q)
{
    static const struct option longopts[] = {
        {"mobile", required_argument, NULL, OPT_MOBILE},
        CTL_COMMON_OPTIONS,
        {NULL, 0, NULL, 0}};
    uint64_t id;
    int ch, rc;

    ctl_getopt_reset();
    while ((ch = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        if (ch == OPT_MOBILE)
            q->mobile = optarg;
        else if ((rc = ctl_common_option(o, "show", ch, argv, show_usage)) >= 0)
            return rc;
    }
    if (*q->mobile != '\0')
        return optind == argc
                   ? -1
                   : ctl_usage_error("show", "give a customer id "
                                             "or --mobile, not both");
    if (optind + 1 != argc)
        return ctl_usage_error("show", "expected CUSTOMER_ID or --mobile "
                                       "PHONE");
    if (ctl_parse_uint(argv[optind], UINT64_MAX, &id) != KY_OK || id == 0)
        return ctl_usage_error("show",
                               "a customer id is a number, not "
                               "\"%s\"",
                               argv[optind]);
    q->customer_id = id;
    return -1;
}

/* Prints a refusal (not found, bad phone); always a failure. */
static int show_refused(const ctl_opts_t *o, const Keyuan__V1__Reply *r)
{
    if (o->json)
        ctl_print_msg(&r->base);
    else
        fprintf(stderr, "keyuanctl show: %s%s%s\n",
                r->code[0] ? r->code : "refused", r->message[0] ? ": " : "",
                r->message);
    return CTL_EXIT_FAIL;
}

static int show_print(const ctl_opts_t *o, const Envelope *reply)
{
    const Keyuan__V1__CustomerView *v = reply->customer_view;

    if (reply->body_case == KEYUAN__V1__ENVELOPE__BODY_REPLY)
        return show_refused(o, reply->reply);
    if (reply->body_case != KEYUAN__V1__ENVELOPE__BODY_CUSTOMER_VIEW) {
        fprintf(stderr, "keyuanctl show: unexpected %s answer\n",
                wire_body_name(reply));
        return CTL_EXIT_FAIL;
    }
    if ((o->json ? ctl_print_msg(&v->base)
                 : ctl_print_fields(&v->base, stdout)) != 0) {
        fprintf(stderr, "keyuanctl show: cannot print the customer file\n");
        return CTL_EXIT_FAIL;
    }
    return CTL_EXIT_OK;
}

int ctl_cmd_show(ctl_opts_t *o, int argc, char **argv)
{
    Keyuan__V1__CustomerQuery q = KEYUAN__V1__CUSTOMER_QUERY__INIT;
    Envelope req = KEYUAN__V1__ENVELOPE__INIT, *reply = NULL;
    int rc = show_args(o, argc, argv, &q);

    if (rc >= 0)
        return rc;
    req.body_case = KEYUAN__V1__ENVELOPE__BODY_CUSTOMER_QUERY;
    req.customer_query = &q;
    if (ctl_request(o, CTL_INTAKE, &req, SHOW_TIMEOUT_MS, &reply) != KY_OK)
        return CTL_EXIT_FAIL;
    rc = show_print(o, reply);
    wire_free(reply);
    return rc;
}
