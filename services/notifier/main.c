/* main.c - keyuan-notifier: reads its options and runs the notifier. */
#include "notifier.h"

#include "err.h"

#include <stdio.h>

int main(int argc, char **argv)
{
    svc_config_t cfg = {
        .name = "notifier",
        .upstream = "scheduler",
        .state_dir = "var/notifier",
        .bind = "tcp://127.0.0.1:7104",
        .downstream = NULL,
        .map_mb = 4096,
    };
    notify_config_t ncfg = {
        .retry_base_ms = 500,
        .retry_max_ms = 60000,
        .max_attempts = 8,
    };
    const opt_t extra[] = {
        {"sink", OPT_STR, &ncfg.sinks,
         "comma-separated sinks: file:PATH or stdout (default stdout "
         "when no --webhook)"},
        {"webhook", OPT_STR, &ncfg.webhook, "generic JSON webhook URL"},
        {"webhook-secret", OPT_STR, &ncfg.webhook_secret,
         "key for the X-Keyuan-Signature HMAC-SHA256 header"},
        {"retry-base-ms", OPT_INT, &ncfg.retry_base_ms, "first back-off"},
        {"retry-max-ms", OPT_INT, &ncfg.retry_max_ms, "longest back-off"},
        {"max-attempts", OPT_INT, &ncfg.max_attempts,
         "attempts before a dead letter"},
        {NULL, 0, NULL, NULL},
    };
    int rc = svc_configure(&cfg, extra, argc, argv);

    if (rc)
        return rc == 1 ? 0 : 2;
    if (ncfg.sinks == NULL && (ncfg.webhook == NULL || !*ncfg.webhook))
        ncfg.sinks = "stdout";
    if (notify_config_check(&ncfg) != 0)
        return 2;
    return notify_run(&cfg, &ncfg);
}
