/*
 * merge.c - keyuanctl merge and unmerge: an operator joins two customer
 * files that intake could not know were one person, or parts them again.
 * intake does the work (services/intake/merge.h); this only asks.
 */
#include "ctl.h"

#include "err.h"
#include "out.h"
#include "parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MERGE_TIMEOUT_MS 5000

static const char merge_usage[] =
    "usage: keyuanctl merge KEEP_ID MERGE_ID [options]\n"
    "\n"
    "Folds customer MERGE_ID into customer KEEP_ID: KEEP_ID keeps its\n"
    "values and takes MERGE_ID's where it has none; sources, contacts,\n"
    "history and follow-ups of both stay with KEEP_ID; MERGE_ID's phone,\n"
    "WeChat id and e-mail find KEEP_ID from now on. `keyuanctl unmerge\n"
    "MERGE_ID` restores both files as they were.\n"
    "\n"
    "options:\n"
    "  --operator NAME     who merges, for the history (default $USER)\n"
    "\n" CTL_COMMON_HELP "\n"
    "Exit status: 0 when merged (or merged before), 1 when intake refused\n"
    "or did not answer, 2 for usage errors.\n";

static const char unmerge_usage[] =
    "usage: keyuanctl unmerge MERGE_ID [options]\n"
    "\n"
    "Undoes `keyuanctl merge KEEP_ID MERGE_ID`: both files are restored as\n"
    "they were before the merge. What happened to KEEP_ID since the merge\n"
    "(contacts, updates, new leads) stays with KEEP_ID.\n"
    "\n"
    "options:\n"
    "  --operator NAME     who unmerges, for the history (default $USER)\n"
    "\n" CTL_COMMON_HELP "\n"
    "Exit status: 0 when done, 1 when intake refused or did not answer,\n"
    "2 for usage errors.\n";

enum { OPT_OPERATOR = 256 };

/*
 * Parses [options] and nids customer ids into ids. Returns -1 to go on or
 * an exit code.
 */
static int merge_args(ctl_opts_t *o, const char *cmd, const char *usage,
                      int argc, char **argv, uint64_t *ids, int nids,
                      char **operator_id)
{
    static const struct option longopts[] = {
        {"operator", required_argument, NULL, OPT_OPERATOR},
        CTL_COMMON_OPTIONS,
        {NULL, 0, NULL, 0}};
    int ch, rc;

    ctl_getopt_reset();
    while ((ch = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        if (ch == OPT_OPERATOR)
            *operator_id = optarg;
        else if ((rc = ctl_common_option(o, cmd, ch, argv, usage)) >= 0)
            return rc;
    }
    if (argc - optind != nids)
        return ctl_usage_error(cmd, "expected %s",
                               nids == 2 ? "KEEP_ID MERGE_ID" : "MERGE_ID");
    for (int i = 0; i < nids; i++)
        if (ctl_parse_uint(argv[optind + i], UINT64_MAX, &ids[i]) != KY_OK ||
            ids[i] == 0)
            return ctl_usage_error(cmd,
                                   "a customer id is a number, not "
                                   "\"%s\"",
                                   argv[optind + i]);
    return -1;
}

/* Prints intake's answer; the exit code. */
static int merge_print(const ctl_opts_t *o, const char *cmd,
                       const Envelope *reply, const char *done)
{
    const Keyuan__V1__Reply *r = reply->reply;

    if (reply->body_case != KEYUAN__V1__ENVELOPE__BODY_REPLY) {
        fprintf(stderr, "keyuanctl %s: unexpected %s answer\n", cmd,
                wire_body_name(reply));
        return CTL_EXIT_FAIL;
    }
    if (o->json)
        ctl_print_msg(&r->base);
    if (r->status == KEYUAN__V1__REPLY_STATUS__REPLY_STATUS_REJECTED) {
        if (!o->json)
            fprintf(stderr, "keyuanctl %s: %s: %s\n", cmd, r->code, r->message);
        return CTL_EXIT_FAIL;
    }
    if (!o->json)
        printf("%s%s\n", done,
               r->status == KEYUAN__V1__REPLY_STATUS__REPLY_STATUS_DUPLICATE
                   ? " (already)"
                   : "");
    return CTL_EXIT_OK;
}

static int merge_send(ctl_opts_t *o, const char *cmd, Envelope *req,
                      const char *done)
{
    Envelope *reply = NULL;
    int rc;

    if (ctl_request(o, CTL_INTAKE, req, MERGE_TIMEOUT_MS, &reply) != KY_OK)
        return CTL_EXIT_FAIL;
    rc = merge_print(o, cmd, reply, done);
    wire_free(reply);
    return rc;
}

static char *default_operator(void)
{
    char *user = getenv("USER");

    return user ? user : "";
}

int ctl_cmd_merge(ctl_opts_t *o, int argc, char **argv)
{
    Keyuan__V1__MergeRequest m = KEYUAN__V1__MERGE_REQUEST__INIT;
    Envelope req = KEYUAN__V1__ENVELOPE__INIT;
    uint64_t ids[2];
    char done[96];
    int rc;

    m.operator_id = default_operator();
    rc =
        merge_args(o, "merge", merge_usage, argc, argv, ids, 2, &m.operator_id);
    if (rc >= 0)
        return rc;
    m.keep_id = ids[0];
    m.merge_id = ids[1];
    req.body_case = KEYUAN__V1__ENVELOPE__BODY_MERGE;
    req.merge = &m;
    snprintf(done, sizeof done, "merged customer %llu into %llu",
             (unsigned long long)ids[1], (unsigned long long)ids[0]);
    return merge_send(o, "merge", &req, done);
}

int ctl_cmd_unmerge(ctl_opts_t *o, int argc, char **argv)
{
    Keyuan__V1__UnmergeRequest u = KEYUAN__V1__UNMERGE_REQUEST__INIT;
    Envelope req = KEYUAN__V1__ENVELOPE__INIT;
    uint64_t id;
    char done[96];
    int rc;

    u.operator_id = default_operator();
    rc = merge_args(o, "unmerge", unmerge_usage, argc, argv, &id, 1,
                    &u.operator_id);
    if (rc >= 0)
        return rc;
    u.merge_id = id;
    req.body_case = KEYUAN__V1__ENVELOPE__BODY_UNMERGE;
    req.unmerge = &u;
    snprintf(done, sizeof done, "restored customer %llu",
             (unsigned long long)id);
    return merge_send(o, "unmerge", &req, done);
}
