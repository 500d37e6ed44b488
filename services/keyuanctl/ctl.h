/*
 * ctl.h - what keyuanctl's commands share: the options every command
 * takes, exit codes, and the entry point of each command group.
 *
 * main.c picks the command; each group (push.c, show.c, reminders.c,
 * status.c, clockcmd.c) parses its own arguments with getopt_long, the
 * common options included, and returns the process's exit code.
 */
#ifndef KEYUAN_CTL_H
#define KEYUAN_CTL_H

#include "wire.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

enum {
    CTL_EXIT_OK = 0,   /* done; a push may still have had rejections */
    CTL_EXIT_FAIL = 1, /* a service did not answer, or said no */
    CTL_EXIT_USAGE = 2 /* bad command line or unreadable input file */
};

enum ctl_service {
    CTL_INTAKE,
    CTL_GRADING,
    CTL_SCHEDULER,
    CTL_NOTIFIER,
    CTL_NSERVICES
};

/* "intake", "grading", "scheduler", "notifier". */
extern const char *const ctl_service_names[CTL_NSERVICES];

typedef struct ctl_opts {
    void *zctx;                    /* the process's ZeroMQ context */
    char *endpoint[CTL_NSERVICES]; /* owned; from env, then flags */
    bool json;                     /* one JSON object per line */
    int timeout_ms;                /* per request; 0: the command's */
} ctl_opts_t;

/* Fills o with defaults and KEYUAN_INTAKE etc. Returns 0 or KY_ENOMEM. */
int ctl_opts_init(ctl_opts_t *o);

void ctl_opts_clear(ctl_opts_t *o);

/* getopt_long codes of the common options. */
enum {
    CTL_OPT_JSON = 1000,
    CTL_OPT_HELP,
    CTL_OPT_TIMEOUT,
    CTL_OPT_ENDPOINT /* + enum ctl_service */
};

/* Formatted by hand: clang-format cannot lay out initializers in a macro. */
/* clang-format off */
#define CTL_COMMON_OPTIONS                                              \
    {"json", no_argument, NULL, CTL_OPT_JSON},                          \
    {"help", no_argument, NULL, CTL_OPT_HELP},                          \
    {"timeout", required_argument, NULL, CTL_OPT_TIMEOUT},              \
    {"intake", required_argument, NULL, CTL_OPT_ENDPOINT},              \
    {"grading", required_argument, NULL, CTL_OPT_ENDPOINT + 1},         \
    {"scheduler", required_argument, NULL, CTL_OPT_ENDPOINT + 2},       \
    {"notifier", required_argument, NULL, CTL_OPT_ENDPOINT + 3}
/* clang-format on */

/* Help lines for the common options, for usage texts. */
#define CTL_COMMON_HELP                                                        \
    "common options:\n"                                                        \
    "  --json              one JSON object per line on stdout\n"               \
    "  --timeout MS        wait per request (default depends on the "          \
    "command)\n"                                                               \
    "  --intake EP         intake endpoint (KEYUAN_INTAKE, :7101)\n"           \
    "  --grading EP        grading endpoint (KEYUAN_GRADING, :7102)\n"         \
    "  --scheduler EP      scheduler endpoint (KEYUAN_SCHEDULER, :7103)\n"     \
    "  --notifier EP       notifier endpoint (KEYUAN_NOTIFIER, :7104)\n"       \
    "  --help              this text\n"

/*
 * Handles a getopt_long result ch that is not the command's own. usage is
 * the command's help text. Returns -1 to go on, or the exit code the
 * command should return now (0 after --help, 2 after a usage error).
 */
int ctl_common_option(ctl_opts_t *o, const char *cmd, int ch, char **argv,
                      const char *usage);

/* Prints "keyuanctl CMD: message" and a hint; returns CTL_EXIT_USAGE. */
int ctl_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Resets getopt for a new parse (commands parse argv from index 1). */
void ctl_getopt_reset(void);

/* The endpoint of service s, as given or defaulted. */
const char *ctl_endpoint_of(const ctl_opts_t *o, enum ctl_service s);

/* Looks a service up by name; -1 when unknown. */
int ctl_service_find(const char *name);

/*
 * Sends req to service s and waits for the reply (timeout_ms, or
 * o->timeout_ms when set). Returns 0 with *reply set (wire_free), or a
 * negative code after printing what went wrong to stderr.
 */
int ctl_request(ctl_opts_t *o, enum ctl_service s, Envelope *req,
                int timeout_ms, Envelope **reply);

/* Command groups: argv[0] is the command's name. */
int ctl_cmd_push(ctl_opts_t *o, int argc, char **argv);
int ctl_cmd_show(ctl_opts_t *o, int argc, char **argv);
int ctl_cmd_reminders(ctl_opts_t *o, int argc, char **argv);
int ctl_cmd_grade(ctl_opts_t *o, int argc, char **argv); /* grade.c */
int ctl_cmd_status(ctl_opts_t *o, int argc, char **argv);
int ctl_cmd_clock(ctl_opts_t *o, int argc, char **argv);
int ctl_cmd_log(ctl_opts_t *o, int argc, char **argv);    /* contact.c */
int ctl_cmd_agents(ctl_opts_t *o, int argc, char **argv); /* agents.c */
int ctl_cmd_quarantine(ctl_opts_t *o, int argc, char **argv);
int ctl_cmd_merge(ctl_opts_t *o, int argc, char **argv);   /* merge.c */
int ctl_cmd_unmerge(ctl_opts_t *o, int argc, char **argv); /* merge.c */

#endif
