/* main.c - keyuan-intake: reads its configuration and runs the service. */
#include "intake.h"
#include "quarantine.h"

#include <stdio.h>

int main(int argc, char **argv)
{
    static const char *const dbs[] = {
        "events",     "events_log0",     "events_log1", "events_recent",
        "ident",      "ident_log0",      "ident_log1",  "ident_recent",
        "customers",  "persons",         "history",     "contacts",
        "quarantine", "customer_idents", "merges",      NULL};
    svc_config_t cfg = {
        .name = "intake",
        .state_dir = "var/intake",
        .bind = "tcp://127.0.0.1:7101",
        .downstream = "tcp://127.0.0.1:7102",
        .dbs = dbs,
        .map_mb = 4096,
        .max_msg_bytes = 64 * 1024,
    };
    intake_options_t opt = {.agents_path = "config/agents.json",
                            .regions_path =
                                "data/divisions/cn_admin_divisions_2023.csv",
                            .quarantine_max = QUARANTINE_MAX_DEFAULT};
    opt_t extra[] = {
        {"agents", OPT_STR, &opt.agents_path, "agents file (JSON)"},
        {"regions", OPT_STR, &opt.regions_path,
         "division codes regions may name (CSV, NBS)"},
        {"index-key", OPT_STR, &opt.key_path,
         "index hash key file (default STATE_DIR/index.key)"},
        {"quarantine-max", OPT_INT, &opt.quarantine_max,
         "rejected events kept at most; the oldest go first"},
        {NULL, 0, NULL, NULL},
    };
    int rc = svc_configure(&cfg, extra, argc, argv);

    if (rc)
        return rc == 1 ? 0 : 2;
    if (opt.quarantine_max < 1) {
        fprintf(stderr, "error: --quarantine-max must be at least 1\n");
        return 2;
    }
    return intake_run(&cfg, &opt);
}
