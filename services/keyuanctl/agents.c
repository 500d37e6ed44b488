/*
 * agents.c - keyuanctl agents: the agents and teams intake assigns
 * customers to, as it loaded them from the file operators edit.
 *
 * Intake is asked rather than the file read, so what is shown is what
 * the running service uses, wherever its file lives.
 */
#include "ctl.h"

#include "err.h"
#include "out.h"

#include <stdio.h>

#define AGENTS_TIMEOUT_MS 5000

static const char agents_usage[] =
    "usage: keyuanctl agents [options]\n"
    "\n"
    "Asks intake for the agents it assigns customers to and prints one\n"
    "row each: id, name, team, whether active, working hours. --json\n"
    "prints one Agent a line.\n"
    "\n" CTL_COMMON_HELP "\n"
    "Exit status: 0 when intake answered, 1 when it refused or did not\n"
    "answer, 2 for usage errors.\n";

static int agents_args(ctl_opts_t *o, int argc, char **argv)
{
    static const struct option longopts[] = {CTL_COMMON_OPTIONS,
                                             {NULL, 0, NULL, 0}};
    int ch, rc;

    ctl_getopt_reset();
    while ((ch = getopt_long(argc, argv, ":", longopts, NULL)) != -1)
        if ((rc = ctl_common_option(o, "agents", ch, argv, agents_usage)) >= 0)
            return rc;
    if (optind != argc)
        return ctl_usage_error("agents", "unexpected argument \"%s\"",
                               argv[optind]);
    return -1;
}

static int print_table(const Keyuan__V1__AgentList *list)
{
    static const char *const headers[] = {"ID", "NAME", "TEAM", "ACTIVE",
                                          "HOURS"};
    ctl_table_t *t = ctl_table_new(5, headers);
    int rc = t ? KY_OK : KY_ENOMEM;

    for (size_t i = 0; rc == KY_OK && i < list->n_agents; i++) {
        const Keyuan__V1__Agent *ag = list->agents[i];
        const char *row[] = {ag->id, ag->name, ag->team,
                             ag->active ? "yes" : "no",
                             *ag->working_hours ? ag->working_hours : "-"};

        rc = ctl_table_add(t, row);
    }
    if (rc == KY_OK)
        ctl_table_print(t, stdout);
    ctl_table_destroy(&t);
    return rc;
}

static int print_list(const ctl_opts_t *o, const Keyuan__V1__AgentList *list)
{
    int rc = KY_OK;

    if (!o->json)
        return print_table(list);
    for (size_t i = 0; rc == KY_OK && i < list->n_agents; i++)
        rc = ctl_print_msg(&list->agents[i]->base);
    return rc;
}

static int agents_answer(const ctl_opts_t *o, const Envelope *reply)
{
    const Keyuan__V1__Reply *r = reply->reply;

    if (reply->body_case == KEYUAN__V1__ENVELOPE__BODY_REPLY) {
        fprintf(stderr, "keyuanctl agents: %s%s%s\n",
                r->code[0] ? r->code : "refused", r->message[0] ? ": " : "",
                r->message);
        return CTL_EXIT_FAIL;
    }
    if (reply->body_case != KEYUAN__V1__ENVELOPE__BODY_AGENT_LIST) {
        fprintf(stderr, "keyuanctl agents: unexpected %s answer\n",
                wire_body_name(reply));
        return CTL_EXIT_FAIL;
    }
    if (print_list(o, reply->agent_list) != KY_OK) {
        fprintf(stderr, "keyuanctl agents: cannot print the list\n");
        return CTL_EXIT_FAIL;
    }
    return CTL_EXIT_OK;
}

int ctl_cmd_agents(ctl_opts_t *o, int argc, char **argv)
{
    Keyuan__V1__AgentQuery q = KEYUAN__V1__AGENT_QUERY__INIT;
    Envelope req = KEYUAN__V1__ENVELOPE__INIT, *reply = NULL;
    int rc = agents_args(o, argc, argv);

    if (rc >= 0)
        return rc;
    req.body_case = KEYUAN__V1__ENVELOPE__BODY_AGENT_QUERY;
    req.agent_query = &q;
    if (ctl_request(o, CTL_INTAKE, &req, AGENTS_TIMEOUT_MS, &reply) != KY_OK)
        return CTL_EXIT_FAIL;
    rc = agents_answer(o, reply);
    wire_free(reply);
    return rc;
}
