/*
 * intake.h - the intake service: the one door for leads, listings and
 * contact logs from outside. See intake.c for its store layout.
 */
#ifndef KEYUAN_INTAKE_H
#define KEYUAN_INTAKE_H

#include "svc.h"

typedef struct intake_options {
    const char *agents_path;  /* JSON list of agents (agents.h) */
    const char *regions_path; /* division codes (regions.h) */
    const char *key_path;     /* index hash key; made on first start */
    int64_t quarantine_max;   /* rejected events kept at most */
} intake_options_t;

/* Runs intake until SIGTERM/SIGINT. Returns a process exit status. */
int intake_run(const svc_config_t *cfg, const intake_options_t *opt);

#endif
