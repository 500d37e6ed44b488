/*
 * rules.h - the grading rules an operator reads and edits, and how they
 * turn a customer's facts into a grade with reasons.
 *
 * A rules file (config/grading.rules documents the syntax in full) holds one
 * rule per line; the first rule whose conditions all hold gives the grade:
 *
 *     rule a_ready grade=A when timeline<=3 budget=clear gap<=15
 *     rule lead    grade=LEAD
 *
 * The facts a condition can test are computed per customer from the needs
 * intake sends (rules_facts_from_needs) and from the listing inventory
 * (grading fills the market_* and matches fields). This module does no I/O
 * besides reading the file, so the unit tests drive it directly.
 */
#ifndef KEYUAN_GRADING_RULES_H
#define KEYUAN_GRADING_RULES_H

#include "keyuan/v1/common.pb-c.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RULES_MAX 64         /* rules in one file */
#define RULES_MAX_CONDS 8    /* conditions in one rule */
#define RULES_NAME_MAX 32    /* rule name, with its NUL */
#define RULES_REASON_MAX 256 /* one reason sentence, UTF-8, with its NUL */

/* Which parts of the needs are known: bits of rules_facts_t.needs_known. */
enum {
    RULES_NEED_REGIONS = 1 << 0,
    RULES_NEED_BUDGET = 1 << 1,
    RULES_NEED_AREA = 1 << 2,
    RULES_NEED_BEDROOMS = 1 << 3
};

/* What is known about one customer. Zero means "not known" throughout. */
typedef struct rules_facts {
    uint32_t timeline_months; /* months until they expect to buy */
    uint32_t budget_min_wan;  /* budget range, in 10,000 yuan */
    uint32_t budget_max_wan;
    uint32_t area_m2;          /* the area priced: wanted minimum, else max */
    int stage;                 /* a Keyuan__V1__Stage value */
    int purpose;               /* a Keyuan__V1__Purpose value */
    unsigned needs_known;      /* RULES_NEED_* bits */
    bool market_known;         /* some listing in the wanted regions */
    uint32_t market_unit_yuan; /* median unit price there, yuan per m2 */
    bool matches_known;        /* regions and budget known */
    uint32_t matches;          /* listings there that fit budget and area */
} rules_facts_t;

/* The outcome of one evaluation: the grade, its rule, and the reasons. */
typedef struct rules_verdict {
    int grade;        /* a Keyuan__V1__Grade value */
    const char *rule; /* the rule's name; lives as long as rules */
    int nreasons;
    char reasons[RULES_MAX_CONDS][RULES_REASON_MAX];
} rules_verdict_t;

typedef struct rules rules_t;

/*
 * Parses the rules in text (NUL-terminated); name is the file name used in
 * error messages. Returns the rules, or NULL with "name:line: what is
 * wrong" in errbuf (size errlen) when any line is invalid, the file has no
 * rules, or its last rule has conditions (every customer needs a grade).
 */
rules_t *rules_parse(const char *text, const char *name, char *errbuf,
                     size_t errlen);

/* Reads and parses the file at path, as rules_parse(). */
rules_t *rules_load(const char *path, char *errbuf, size_t errlen);

/* Frees the rules and nulls *rp; accepts NULL or *rp == NULL. */
void rules_destroy(rules_t **rp);

/* Number of rules. */
int rules_count(const rules_t *r);

/*
 * Fills the needs part of *f from needs (which may be NULL: nothing is
 * known) and clears the market part.
 */
void rules_facts_from_needs(const Keyuan__V1__Needs *needs, rules_facts_t *f);

/*
 * Percent by which the market price of the wanted home (median unit price
 * times area) exceeds the budget maximum, rounded; negative when the budget
 * is above the market. Returns false when it cannot be known.
 */
bool rules_gap_pct(const rules_facts_t *f, int32_t *pct);

/*
 * Grades f by the first rule whose conditions all hold and writes one
 * reason sentence (Chinese) per condition into *out. The last rule has no
 * conditions, so there is always a verdict.
 */
void rules_eval(const rules_t *r, const rules_facts_t *f, rules_verdict_t *out);

/* "A", "B", "C", "LEAD" or "-" for a Keyuan__V1__Grade value. */
const char *rules_grade_name(int grade);

#endif
