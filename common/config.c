/* config.c - flags, KEYUAN_* variables and a config file (see config.h). */
#include "config.h"

#include "err.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const opt_t *opt_find(const opt_t *table, const char *name, size_t len)
{
    for (; table->name; table++)
        if (strlen(table->name) == len && strncmp(table->name, name, len) == 0)
            return table;
    return NULL;
}

/* Stores text into o's destination; text must outlive the process. */
static int opt_set(const opt_t *o, const char *text, const char *from)
{
    char *end;

    switch (o->type) {
    case OPT_STR:
        *(const char **)o->dst = text;
        return KY_OK;
    case OPT_INT:
        errno = 0;
        *(int64_t *)o->dst = strtoll(text, &end, 10);
        if (errno == 0 && end != text && *end == '\0')
            return KY_OK;
        break;
    case OPT_BOOL:
        if (!strcmp(text, "1") || !strcmp(text, "true") ||
            !strcmp(text, "yes")) {
            *(bool *)o->dst = true;
            return KY_OK;
        }
        if (!strcmp(text, "0") || !strcmp(text, "false") ||
            !strcmp(text, "no")) {
            *(bool *)o->dst = false;
            return KY_OK;
        }
        break;
    }
    fprintf(stderr, "error: %s: option %s: bad value \"%s\"\n", from, o->name,
            text);
    return KY_ECONFIG;
}

static char *trim(char *s)
{
    char *end;

    while (isspace((unsigned char)*s))
        s++;
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

/* Reads "name = value" lines; the strings are kept for the process life. */
static int config_file(const opt_t *table, const char *path)
{
    FILE *f = fopen(path, "r");
    char line[1024];
    int lineno = 0, rc = KY_OK;

    if (f == NULL) {
        fprintf(stderr, "error: cannot open config file %s: %s\n", path,
                strerror(errno));
        return KY_ECONFIG;
    }
    while (rc == KY_OK && fgets(line, sizeof line, f)) {
        char *eq, *name, *value = NULL;
        const opt_t *o;

        lineno++;
        name = trim(line);
        if (*name == '#' || *name == '\0')
            continue;
        if ((eq = strchr(name, '=')) != NULL) {
            *eq = '\0';
            value = trim(eq + 1);
            name = trim(name);
        }
        o = value ? opt_find(table, name, strlen(name)) : NULL;
        if (o == NULL) {
            fprintf(stderr, "error: %s:%d: unknown or malformed setting\n",
                    path, lineno);
            rc = KY_ECONFIG;
        } else if ((value = strdup(value)) == NULL) {
            rc = KY_ENOMEM;
        } else {
            rc = opt_set(o, value, path);
        }
    }
    fclose(f);
    return rc;
}

static int config_env(const opt_t *table)
{
    for (; table->name; table++) {
        char var[96] = "KEYUAN_";
        size_t n = strlen(var);
        const char *value;

        for (const char *p = table->name; *p && n < sizeof var - 1; p++)
            var[n++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
        var[n] = '\0';
        value = getenv(var);
        if (value && opt_set(table, value, var) != KY_OK)
            return KY_ECONFIG;
    }
    return KY_OK;
}

/* The option's current value, which is its default before parsing. */
static void print_default(const opt_t *o)
{
    if (o->type == OPT_STR && *(const char **)o->dst)
        printf(" [%s]", *(const char **)o->dst);
    else if (o->type == OPT_INT)
        printf(" [%lld]", (long long)*(int64_t *)o->dst);
    else if (o->type == OPT_BOOL && *(bool *)o->dst)
        printf(" [on]");
}

static void usage(const char *prog, const opt_t *table)
{
    printf("usage: %s [options]\n\n"
           "Each option may also come from the environment as KEYUAN_NAME\n"
           "(--state-dir: KEYUAN_STATE_DIR) or from a \"name = value\" line\n"
           "in the --config FILE. Defaults are in brackets.\n\n",
           prog);
    for (; table->name; table++) {
        printf("  --%-20s %s", table->name, table->help);
        print_default(table);
        printf("\n");
    }
    printf("  --%-20s %s\n", "config FILE", "read settings from FILE");
}

static int config_flags(const char *prog, const opt_t *table, int argc,
                        char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *eq, *value;
        const opt_t *o;

        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(prog, table);
            return 1;
        }
        if (strncmp(arg, "--", 2) != 0) {
            fprintf(stderr, "error: unexpected argument \"%s\"\n", arg);
            return KY_ECONFIG;
        }
        arg += 2;
        eq = strchr(arg, '=');
        o = opt_find(table, arg, eq ? (size_t)(eq - arg) : strlen(arg));
        if (strncmp(arg, "config", 6) == 0 && (arg[6] == '\0' || arg[6] == '='))
            value = eq ? eq + 1 : argv[++i]; /* already read */
        else if (o == NULL) {
            fprintf(stderr, "error: unknown option --%s (see --help)\n", arg);
            return KY_ECONFIG;
        } else if (eq)
            value = eq + 1;
        else if (o->type == OPT_BOOL)
            value = "true";
        else if (i + 1 < argc)
            value = argv[++i];
        else {
            fprintf(stderr, "error: option --%s needs a value\n", o->name);
            return KY_ECONFIG;
        }
        if (o && opt_set(o, value, "command line") != KY_OK)
            return KY_ECONFIG;
    }
    return KY_OK;
}

/* The --config FILE flag or KEYUAN_CONFIG, read before anything else. */
static const char *config_path(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--config=", 9) == 0)
            return argv[i] + 9;
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            return argv[i + 1];
    }
    return getenv("KEYUAN_CONFIG");
}

int config_parse(const char *prog, const opt_t *table, int argc, char **argv)
{
    const char *path = config_path(argc, argv);
    int rc;

    if (path && (rc = config_file(table, path)) != KY_OK)
        return rc;
    if ((rc = config_env(table)) != KY_OK)
        return rc;
    return config_flags(prog, table, argc, argv);
}
