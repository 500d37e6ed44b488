/*
 * main.c - keyuan-grading: reads the options and runs the service
 * (grading.h).
 */
#include "grading.h"

#include <stddef.h>

int main(int argc, char **argv)
{
    svc_config_t cfg = {
        .name = "grading",
        .upstream = "intake",
        .state_dir = "var/grading",
        .bind = "tcp://127.0.0.1:7102",
        .downstream = "tcp://127.0.0.1:7103",
        .map_mb = 4096,
    };
    const char *rules = "config/grading.rules";
    const opt_t extra[] = {
        {"rules", OPT_STR, &rules, "grading rules file (SIGHUP reloads)"},
        {NULL, OPT_STR, NULL, NULL},
    };
    int rc = svc_configure(&cfg, extra, argc, argv);

    if (rc)
        return rc == 1 ? 0 : 2;
    return grading_run(&cfg, rules) == 0 ? 0 : 1;
}
