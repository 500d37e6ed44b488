/*
 * main.c - keyuan-scheduler: reads the configuration and runs the
 * scheduler (sched_service.c).
 */
#include "scheduler.h"

#include "err.h"
#include "svc.h"

int main(int argc, char **argv)
{
    svc_config_t cfg = {
        .name = "scheduler",
        .upstream = "grading",
        .state_dir = "var/scheduler",
        .bind = "tcp://127.0.0.1:7103",
        .downstream = "tcp://127.0.0.1:7104",
        .map_mb = 4096,
    };
    sched_options_t opt = {
        .speed_to_lead_s = 900,
        .cadence_a_days = 3,
        .cadence_b_days = 7,
        .cadence_c_days = 30,
        .cadence_lead_days = 2,
        .work_start = "09:00",
        .work_end = "21:00",
        .time_zone = "Asia/Shanghai",
    };
    const opt_t extra[] = {
        {"speed-to-lead-s", OPT_INT, &opt.speed_to_lead_s,
         "first call to a new customer within this many seconds"},
        {"cadence-a-days", OPT_INT, &opt.cadence_a_days,
         "days between follow-ups of grade A customers; 0: none"},
        {"cadence-b-days", OPT_INT, &opt.cadence_b_days,
         "days between follow-ups of grade B customers; 0: none"},
        {"cadence-c-days", OPT_INT, &opt.cadence_c_days,
         "days between follow-ups of grade C customers; 0: none"},
        {"cadence-lead-days", OPT_INT, &opt.cadence_lead_days,
         "days between follow-ups of leads; 0: none"},
        {"work-start", OPT_STR, &opt.work_start,
         "start of working hours, HH:MM local time"},
        {"work-end", OPT_STR, &opt.work_end,
         "end of working hours, HH:MM (00:00 and 24:00: all day)"},
        {"time-zone", OPT_STR, &opt.time_zone,
         "IANA time zone of working hours and calendar days"},
        {NULL, 0, NULL, NULL},
    };
    int rc = svc_configure(&cfg, extra, argc, argv);

    if (rc == 1)
        return 0;
    if (rc)
        return 2;
    rc = sched_run(&cfg, &opt);
    if (rc == KY_ECONFIG)
        return 2;
    return rc == 0 ? 0 : 1;
}
