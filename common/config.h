/*
 * config.h - options from flags, environment and one optional file.
 *
 * Each service declares a table of options. Values are taken, later ones
 * winning, from: the table's defaults, the file named by --config (or
 * KEYUAN_CONFIG; lines "name = value", '#' comments), the environment
 * (KEYUAN_<NAME> with '-' as '_', upper case), and the command line
 * (--name value or --name=value; a bool option alone means true).
 */
#ifndef KEYUAN_CONFIG_H
#define KEYUAN_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

enum opt_type { OPT_STR, OPT_INT, OPT_BOOL };

typedef struct opt {
    const char *name; /* flag name without dashes: "state-dir" */
    enum opt_type type;
    void *dst; /* char **, int64_t * or bool * */
    const char *help;
} opt_t;

/*
 * Fills the options of table (ended by an entry with name NULL) from the
 * sources above. Strings stored in char ** destinations point into argv,
 * the environment, or memory kept for the life of the process. Returns 0,
 * 1 when --help was asked (usage printed), or KY_ECONFIG with a message
 * on stderr that names the bad option.
 */
int config_parse(const char *prog, const opt_t *table, int argc, char **argv);

#endif
