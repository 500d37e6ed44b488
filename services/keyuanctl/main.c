/*
 * main.c - keyuanctl, the operators' command line: reads the options that
 * come before the command, then hands over to the command's group.
 */
#include "ctl.h"

#include "err.h"

#include <stdio.h>
#include <string.h>
#include <zmq.h>

typedef struct command {
    const char *name;
    int (*run)(ctl_opts_t *o, int argc, char **argv);
    const char *args; /* for the usage text */
    const char *what;
} command_t;

static const command_t commands[] = {
    {"push", ctl_cmd_push, "push KIND FILE",
     "import leads, listings or contacts"},
    {"log", ctl_cmd_log, "log contact --customer ID ...", "record a contact"},
    {"agents", ctl_cmd_agents, "agents", "list agents and teams"},
    {"show", ctl_cmd_show, "show ID | --mobile PHONE", "print a customer"},
    {"merge", ctl_cmd_merge, "merge KEEP_ID MERGE_ID", "join two customers"},
    {"unmerge", ctl_cmd_unmerge, "unmerge MERGE_ID", "undo a merge"},
    {"grade", ctl_cmd_grade, "grade ID", "a customer's grade and why"},
    {"reminders", ctl_cmd_reminders, "reminders [--agent ID] ...",
     "list reminders"},
    {"status", ctl_cmd_status, "status", "health of the services"},
    {"clock", ctl_cmd_clock, "clock set TIME | advance DUR",
     "move a test clock"},
    {"quarantine", ctl_cmd_quarantine, "quarantine list|show|replay ...",
     "rejected events: list, show, replay"},
    {"help", NULL, "help COMMAND", "the options of a command"},
    {NULL, NULL, NULL, NULL}};

static void usage(FILE *out)
{
    fputs("usage: keyuanctl [options] COMMAND [ARGS]\n\ncommands:\n", out);
    for (const command_t *c = commands; c->name; c++)
        fprintf(out, "  %-30s %s\n", c->args, c->what);
    fputs("\n" CTL_COMMON_HELP, out);
    fputs("\nCommon options may also follow the command.\n", out);
}

static const command_t *command_find(const char *name)
{
    for (const command_t *c = commands; c->name; c++)
        if (c->run && strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

/* Options before the command. Returns -1 to go on, or an exit code. */
static int global_args(ctl_opts_t *o, int argc, char **argv)
{
    static const struct option longopts[] = {CTL_COMMON_OPTIONS,
                                             {NULL, 0, NULL, 0}};
    int ch, rc;

    ctl_getopt_reset();
    while ((ch = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
        if (ch == CTL_OPT_HELP || ch == 'h') {
            usage(stdout);
            return CTL_EXIT_OK;
        }
        if ((rc = ctl_common_option(o, NULL, ch, argv, "")) >= 0)
            return rc;
    }
    if (optind == argc) {
        usage(stderr);
        return CTL_EXIT_USAGE;
    }
    return -1;
}

/* "keyuanctl help push" is "keyuanctl push --help". */
static int help_command(ctl_opts_t *o, int argc, char **argv)
{
    const command_t *c = argc > 1 ? command_find(argv[1]) : NULL;
    char help[] = "--help";
    char *args[] = {argv[1], help, NULL};

    if (argc <= 1) {
        usage(stdout);
        return CTL_EXIT_OK;
    }
    if (c == NULL)
        return ctl_usage_error(NULL, "unknown command \"%s\"", argv[1]);
    return c->run(o, 2, args);
}

static int dispatch(ctl_opts_t *o, int argc, char **argv)
{
    const command_t *c = command_find(argv[0]);

    if (strcmp(argv[0], "help") == 0)
        return help_command(o, argc, argv);
    if (c == NULL)
        return ctl_usage_error(NULL, "unknown command \"%s\"", argv[0]);
    return c->run(o, argc, argv);
}

int main(int argc, char **argv)
{
    ctl_opts_t o;
    int rc;

    if (ctl_opts_init(&o) != KY_OK) {
        fprintf(stderr, "keyuanctl: out of memory\n");
        return CTL_EXIT_FAIL;
    }
    rc = global_args(&o, argc, argv);
    if (rc >= 0)
        goto out;
    if ((o.zctx = zmq_ctx_new()) == NULL) {
        fprintf(stderr, "keyuanctl: cannot start ZeroMQ\n");
        rc = CTL_EXIT_FAIL;
        goto out;
    }
    rc = dispatch(&o, argc - optind, argv + optind);
    zmq_ctx_term(o.zctx);

out:
    ctl_opts_clear(&o);
    return rc;
}
