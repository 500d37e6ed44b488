/*
 * grading.h - the grading service: keeps the listing inventory and every
 * customer's grade, and tells the scheduler each grade with its reasons.
 *
 * Link messages from intake:
 *   ListingEvent      updates the inventory (inventory.h)
 *   CustomerSnapshot  grades the customer by the rules (rules.h), stores
 *                     the grade and its history, and appends one
 *                     GradeResult to the outbox for the scheduler, every
 *                     time, so that next-step changes travel even when the
 *                     grade stays the same
 * Outside requests other than status are rejected as "unsupported".
 *
 * Databases besides the inventory's:
 *   customers  customer id (u64 BE) -> version byte (1), current grade
 *              byte, then the packed CustomerSnapshot last graded
 *   grades     customer id (u64 BE), time-ordered id (u64 BE) -> packed
 *              GradeResult: the history, oldest first per customer, so
 *              that erasing a customer is one prefix walk
 *   meta       "grades_a", "grades_b", "grades_c", "grades_lead": how many
 *              customers hold each grade now
 *
 * SIGHUP reloads the rules file; a file with errors is logged and the
 * rules in use are kept.
 */
#ifndef KEYUAN_GRADING_H
#define KEYUAN_GRADING_H

#include "svc.h"

/*
 * Loads the rules at rules_path, opens the store and runs the service
 * until SIGTERM. cfg's dbs is ignored: grading names its own. Returns 0,
 * KY_ECONFIG when the rules file is invalid (the error, naming file and
 * line, is logged), or another negative code when start-up fails.
 */
int grading_run(const svc_config_t *cfg, const char *rules_path);

#endif
