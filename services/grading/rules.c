/*
 * rules.c - parsing and evaluating grading rules (see rules.h).
 *
 * Each fact a rule can test is one entry of the facts[] table: how to read
 * its value from rules_facts_t and how to explain it in a sentence. A fact
 * is either a number (compared with <=, >=, <, >, =, !=) or a set of named
 * values (tested with = and != against a comma-separated list). The parser
 * is strict on purpose: a typo in a rules file must stop the service at
 * start, with the file and line, rather than quietly grade everyone C.
 */
#include "rules.h"

#include "err.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RULES_LINE_MAX 1024
#define RULES_FILE_MAX (1 << 20)
#define RULES_NUMBER_MAX 1000000

enum op { OP_LE, OP_GE, OP_LT, OP_GT, OP_EQ, OP_NE };

typedef struct fact fact_t;

/* One condition of a rule: fact, operator, and a number or a set. */
typedef struct cond {
    const fact_t *fact;
    enum op op;
    long number;  /* the right-hand side of a number fact */
    unsigned set; /* bits of the values named, for a set fact */
} cond_t;

typedef struct rule {
    char name[RULES_NAME_MAX];
    int grade; /* Keyuan__V1__Grade */
    int line;  /* where it was defined */
    int nconds;
    cond_t conds[RULES_MAX_CONDS];
} rule_t;

struct rules {
    int n;
    rule_t rule[RULES_MAX];
};

/* How a fact is read and explained. */
struct fact {
    const char *name;
    /* Number facts: the value, or false when it is not known. */
    bool (*number)(const rules_facts_t *f, long *v);
    long min;         /* smallest number a rule may use */
    const char *unit; /* printed after numbers in reasons */
    /* Set facts: value names (index = bit), their labels, which hold. */
    const char *const *values;
    const char *const *labels;
    unsigned (*holds)(const rules_facts_t *f);
    /* Writes the reason sentence for condition c, which holds for f. */
    void (*explain)(const rules_facts_t *f, const cond_t *c, char *out,
                    size_t len);
};

/* ---- reading facts ----------------------------------------------------- */

static bool timeline_value(const rules_facts_t *f, long *v)
{
    *v = f->timeline_months;
    return f->timeline_months > 0;
}

static bool gap_value(const rules_facts_t *f, long *v)
{
    int32_t pct;

    if (!rules_gap_pct(f, &pct))
        return false;
    *v = pct;
    return true;
}

static bool matches_value(const rules_facts_t *f, long *v)
{
    *v = f->matches;
    return f->matches_known;
}

static bool budget_clear(const rules_facts_t *f)
{
    uint64_t lo = f->budget_min_wan, hi = f->budget_max_wan;

    return lo > 0 && hi >= lo && (hi - lo) * 100 <= hi * 20;
}

enum { BUDGET_UNKNOWN = 1, BUDGET_KNOWN = 2, BUDGET_CLEAR = 4 };

static unsigned budget_holds(const rules_facts_t *f)
{
    if (f->budget_max_wan == 0)
        return BUDGET_UNKNOWN;
    return BUDGET_KNOWN | (budget_clear(f) ? BUDGET_CLEAR : 0);
}

/* Values of a proto enum are their bit numbers; others read as unknown. */
static unsigned enum_bit(int value, int nvalues)
{
    return value > 0 && value < nvalues ? 1u << value : 1u;
}

static unsigned stage_holds(const rules_facts_t *f)
{
    return enum_bit(f->stage, 4);
}

static unsigned purpose_holds(const rules_facts_t *f)
{
    return enum_bit(f->purpose, 5);
}

static unsigned needs_holds(const rules_facts_t *f)
{
    return f->needs_known ? 2u : 1u;
}

bool rules_gap_pct(const rules_facts_t *f, int32_t *pct)
{
    double market_wan, gap;

    if (!f->market_known || f->area_m2 == 0 || f->budget_max_wan == 0)
        return false;
    market_wan = (double)f->market_unit_yuan * f->area_m2 / 10000.0;
    gap = (market_wan - f->budget_max_wan) * 100.0 / f->budget_max_wan;
    *pct = (int32_t)lround(gap > 1e6 ? 1e6 : gap);
    return true;
}

/* ---- explaining facts -------------------------------------------------- */

static const char *op_sign(enum op op)
{
    static const char *signs[] = {"≤", "≥", "<", ">", "=", "≠"};

    return signs[op];
}

/* Appends printf output to out (size len), never past its end. */
static void append(char *out, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void append(char *out, size_t len, const char *fmt, ...)
{
    size_t used = strlen(out);
    va_list ap;

    if (used + 1 >= len)
        return;
    va_start(ap, fmt);
    vsnprintf(out + used, len - used, fmt, ap);
    va_end(ap);
}

/* The condition as an agent reads it: "≤3 个月", "≠刚开始了解、正在对比". */
static void cond_text(const cond_t *c, char *out, size_t len)
{
    const fact_t *fa = c->fact;

    snprintf(out, len, "%s", op_sign(c->op));
    if (fa->number) {
        append(out, len, "%ld%s", c->number, fa->unit);
        return;
    }
    for (int i = 0, first = 1; fa->values[i]; i++)
        if (c->set & (1u << i)) {
            append(out, len, "%s%s", first ? "" : "、", fa->labels[i]);
            first = 0;
        }
}

static void explain_timeline(const rules_facts_t *f, const cond_t *c, char *out,
                             size_t len)
{
    char cond[64];

    cond_text(c, cond, sizeof cond);
    snprintf(out, len, "计划 %u 个月内购买 (%s)", f->timeline_months, cond);
}

static void budget_text(const rules_facts_t *f, char *out, size_t len)
{
    if (f->budget_max_wan == 0)
        snprintf(out, len, "预算未知");
    else if (f->budget_min_wan == 0)
        snprintf(out, len, "预算上限 %u 万", f->budget_max_wan);
    else
        snprintf(out, len, "预算 %u–%u 万", f->budget_min_wan,
                 f->budget_max_wan);
}

static void explain_budget(const rules_facts_t *f, const cond_t *c, char *out,
                           size_t len)
{
    (void)c;
    budget_text(f, out, len);
    if (budget_clear(f))
        append(out, len, "，区间明确");
    else if (f->budget_max_wan > 0)
        append(out, len, "，大致清楚");
}

static void explain_gap(const rules_facts_t *f, const cond_t *c, char *out,
                        size_t len)
{
    char cond[64];
    int32_t pct = 0;
    double market_wan = (double)f->market_unit_yuan * f->area_m2 / 10000.0;

    rules_gap_pct(f, &pct);
    cond_text(c, cond, sizeof cond);
    snprintf(out, len,
             "预算上限 %u 万，意向区域参考价约 %.0f 万 "
             "(单价中位数 %u 元/㎡ × %u ㎡)，差距 %d%% (%s)",
             f->budget_max_wan, market_wan, f->market_unit_yuan, f->area_m2,
             (int)pct, cond);
}

static void explain_set(const char *what, const fact_t *fa, unsigned holds,
                        const cond_t *c, char *out, size_t len)
{
    char cond[128];
    int i = 0;

    while (fa->values[i + 1] && !(holds & (1u << i)))
        i++;
    cond_text(c, cond, sizeof cond);
    snprintf(out, len, "%s：%s (%s)", what, fa->labels[i], cond);
}

static void explain_stage(const rules_facts_t *f, const cond_t *c, char *out,
                          size_t len)
{
    explain_set("购房阶段", c->fact, stage_holds(f), c, out, len);
}

static void explain_purpose(const rules_facts_t *f, const cond_t *c, char *out,
                            size_t len)
{
    explain_set("购房目的", c->fact, purpose_holds(f), c, out, len);
}

static void explain_matches(const rules_facts_t *f, const cond_t *c, char *out,
                            size_t len)
{
    char cond[64];

    cond_text(c, cond, sizeof cond);
    snprintf(out, len, "意向区域有 %u 套在售房源符合预算和面积 (%s)",
             f->matches, cond);
}

static void explain_needs(const rules_facts_t *f, const cond_t *c, char *out,
                          size_t len)
{
    static const char *parts[] = {"区域", "预算", "面积", "户型"};
    int first = 1;

    (void)c;
    if (f->needs_known == 0) {
        snprintf(out, len, "需求尚未了解");
        return;
    }
    snprintf(out, len, "已了解的需求：");
    for (int i = 0; i < 4; i++)
        if (f->needs_known & (1u << i)) {
            append(out, len, "%s%s", first ? "" : "、", parts[i]);
            first = 0;
        }
}

/* ---- the facts --------------------------------------------------------- */

static const char *const budget_values[] = {"unknown", "known", "clear", NULL};
static const char *const budget_labels[] = {"未知", "已知", "明确"};
static const char *const stage_values[] = {"unknown", "just_looking",
                                           "clear_target", "comparing", NULL};
static const char *const stage_labels[] = {"未记录", "刚开始了解",
                                           "已有明确目标", "正在对比"};
static const char *const purpose_values[] = {
    "unknown", "own_home", "upgrade", "investment", "school_district", NULL};
static const char *const purpose_labels[] = {"未记录", "自住", "改善", "投资",
                                             "学区"};
static const char *const needs_values[] = {"unknown", "known", NULL};
static const char *const needs_labels[] = {"未了解", "已了解"};

static const fact_t facts[] = {
    {"timeline", timeline_value, 0, " 个月", NULL, NULL, NULL,
     explain_timeline},
    {"budget", NULL, 0, "", budget_values, budget_labels, budget_holds,
     explain_budget},
    {"gap", gap_value, -100, "%", NULL, NULL, NULL, explain_gap},
    {"stage", NULL, 0, "", stage_values, stage_labels, stage_holds,
     explain_stage},
    {"matches", matches_value, 0, " 套", NULL, NULL, NULL, explain_matches},
    {"needs", NULL, 0, "", needs_values, needs_labels, needs_holds,
     explain_needs},
    {"purpose", NULL, 0, "", purpose_values, purpose_labels, purpose_holds,
     explain_purpose},
};

#define NFACTS ((int)(sizeof facts / sizeof facts[0]))

static const fact_t *fact_find(const char *name, size_t len)
{
    for (int i = 0; i < NFACTS; i++)
        if (strlen(facts[i].name) == len &&
            strncmp(facts[i].name, name, len) == 0)
            return &facts[i];
    return NULL;
}

/* ---- parsing ----------------------------------------------------------- */

/* Where the parser is, for error messages. */
typedef struct parse {
    const char *file;
    int line;
    char *err;
    size_t errlen;
} parse_t;

static int fail(parse_t *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(parse_t *p, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (p->errlen == 0)
        return KY_ECONFIG;
    n = snprintf(p->err, p->errlen, "%s:%d: ", p->file, p->line);
    if (n >= 0 && (size_t)n < p->errlen) {
        va_start(ap, fmt);
        vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return KY_ECONFIG;
}

static int parse_op(const char *s, enum op *op, size_t *len)
{
    static const char *ops[] = {"<=", ">=", "<", ">", "=", "!="};

    for (int i = 0; i < 6; i++) {
        size_t n = strlen(ops[i]);

        if (strncmp(s, ops[i], n) == 0 &&
            (s[n] == '\0' || !strchr("<>=!", s[n]))) {
            *op = (enum op)i;
            *len = n;
            return KY_OK;
        }
    }
    return KY_EINVAL;
}

static int parse_number(parse_t *p, const char *tok, const char *s, cond_t *c)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end != '\0')
        return fail(p, "'%s': '%s' is not a whole number", tok, s);
    if (v < c->fact->min || v > RULES_NUMBER_MAX)
        return fail(p, "'%s': %s must be between %ld and %d", tok,
                    c->fact->name, c->fact->min, RULES_NUMBER_MAX);
    c->number = v;
    return KY_OK;
}

static int value_index(const fact_t *fa, const char *s, size_t len)
{
    for (int i = 0; fa->values[i]; i++)
        if (strlen(fa->values[i]) == len && strncmp(fa->values[i], s, len) == 0)
            return i;
    return -1;
}

/* Reads "v1,v2,..." into c->set. */
static int parse_set(parse_t *p, const char *tok, const char *s, cond_t *c)
{
    const fact_t *fa = c->fact;
    char known[128] = "";

    for (int i = 0; fa->values[i]; i++)
        append(known, sizeof known, "%s%s", i ? ", " : "", fa->values[i]);
    for (;;) {
        size_t len = strcspn(s, ",");
        int i = value_index(fa, s, len);

        if (i < 0)
            return fail(p, "'%s': %s cannot be '%.*s' (one of: %s)", tok,
                        fa->name, (int)len, s, known);
        c->set |= 1u << i;
        if (s[len] == '\0')
            return KY_OK;
        s += len + 1;
    }
}

/* Parses one condition token: FACT OP VALUE, no spaces. */
static int parse_cond(parse_t *p, const char *tok, cond_t *c)
{
    size_t nlen = strspn(tok, "abcdefghijklmnopqrstuvwxyz_"), oplen;
    const char *value;

    memset(c, 0, sizeof *c);
    c->fact = fact_find(tok, nlen);
    if (nlen == 0 || c->fact == NULL)
        return fail(p,
                    "unknown fact '%.*s' in '%s' (facts: timeline, "
                    "budget, gap, stage, matches, needs, purpose)",
                    (int)nlen, tok, tok);
    if (parse_op(tok + nlen, &c->op, &oplen) != KY_OK)
        return fail(p,
                    "'%s': expected an operator (<= >= < > = !=) "
                    "after %s",
                    tok, c->fact->name);
    value = tok + nlen + oplen;
    if (*value == '\0')
        return fail(p, "'%s': missing value", tok);
    if (c->fact->number)
        return parse_number(p, tok, value, c);
    if (c->op != OP_EQ && c->op != OP_NE)
        return fail(p, "'%s': %s takes = or != only", tok, c->fact->name);
    return parse_set(p, tok, value, c);
}

static int parse_grade(parse_t *p, const char *tok, int *grade)
{
    static const char *names[] = {"A", "B", "C", "LEAD"};

    if (strncmp(tok, "grade=", 6) == 0)
        for (int i = 0; i < 4; i++)
            if (strcmp(tok + 6, names[i]) == 0) {
                *grade = KEYUAN__V1__GRADE__GRADE_A + i;
                return KY_OK;
            }
    return fail(p,
                "expected grade=A, grade=B, grade=C or grade=LEAD, "
                "found '%s'",
                tok);
}

static int parse_name(parse_t *p, const rules_t *r, const char *tok,
                      rule_t *out)
{
    size_t len = strlen(tok);

    if (len == 0 || len >= RULES_NAME_MAX ||
        strspn(tok, "abcdefghijklmnopqrstuvwxyz0123456789_-") != len ||
        tok[0] < 'a' || tok[0] > 'z')
        return fail(p,
                    "bad rule name '%s' (a lower-case letter, then "
                    "letters, digits, _ or -; at most %d)",
                    tok, RULES_NAME_MAX - 1);
    for (int i = 0; i < r->n; i++)
        if (strcmp(r->rule[i].name, tok) == 0)
            return fail(p, "rule '%s' is already defined on line %d", tok,
                        r->rule[i].line);
    memcpy(out->name, tok, len + 1);
    return KY_OK;
}

/* Splits line at blanks into at most max tokens; '#' starts a comment. */
static int tokenize(char *line, char **tok, int max)
{
    char *save = NULL, *t;
    int n = 0;

    line[strcspn(line, "#")] = '\0';
    for (t = strtok_r(line, " \t\r\n", &save); t;
         t = strtok_r(NULL, " \t\r\n", &save)) {
        if (n == max)
            return max + 1;
        tok[n++] = t;
    }
    return n;
}

/* Parses one "rule NAME grade=G [when COND...]" line into r. */
static int parse_rule(parse_t *p, rules_t *r, char **tok, int ntok)
{
    rule_t *ru = &r->rule[r->n];
    int rc;

    if (strcmp(tok[0], "rule") != 0 || ntok < 3)
        return fail(p, "expected 'rule NAME grade=G [when CONDITION...]'");
    if (r->n > 0 && r->rule[r->n - 1].nconds == 0)
        return fail(p,
                    "rule '%s' can never match: rule '%s' on line %d "
                    "has no conditions and matches everyone",
                    tok[1], r->rule[r->n - 1].name, r->rule[r->n - 1].line);
    if (r->n == RULES_MAX)
        return fail(p, "too many rules (at most %d)", RULES_MAX);
    memset(ru, 0, sizeof *ru);
    ru->line = p->line;
    if ((rc = parse_name(p, r, tok[1], ru)) ||
        (rc = parse_grade(p, tok[2], &ru->grade)))
        return rc;
    if (ntok > 3 && strcmp(tok[3], "when") != 0)
        return fail(p, "expected 'when' after the grade, found '%s'", tok[3]);
    if (ntok == 4)
        return fail(p, "'when' needs at least one condition");
    if (ntok - 4 > RULES_MAX_CONDS)
        return fail(p, "too many conditions (at most %d)", RULES_MAX_CONDS);
    for (int i = 4; i < ntok; i++)
        if ((rc = parse_cond(p, tok[i], &ru->conds[ru->nconds++])) != 0)
            return rc;
    r->n++;
    return KY_OK;
}

/*
 * Copies the next logical line of *text into line (size RULES_LINE_MAX)
 * and advances *text past it. A physical line that ends in a backslash,
 * and holds no comment, continues on the next one. p->line ends on the
 * last physical line read; *first is where the logical line began.
 */
static int read_line(parse_t *p, const char **text, char *line, int *first)
{
    size_t used = 0;
    bool more = true;

    *first = p->line + 1;
    while (more && **text) {
        size_t len = strcspn(*text, "\n"), keep = len;

        p->line++;
        while (keep > 0 && strchr(" \t\r", (*text)[keep - 1]))
            keep--;
        more = keep > 0 && (*text)[keep - 1] == '\\' &&
               memchr(*text, '#', keep) == NULL;
        keep -= more;
        if (used + keep + 2 > RULES_LINE_MAX)
            return fail(p, "line longer than %d bytes", RULES_LINE_MAX - 2);
        memcpy(line + used, *text, keep);
        used += keep;
        line[used++] = ' ';
        *text += len + ((*text)[len] == '\n');
    }
    line[used] = '\0';
    return KY_OK;
}

static int parse_line(parse_t *p, rules_t *r, char *line)
{
    char *tok[RULES_MAX_CONDS + 5];
    int ntok = tokenize(line, tok, RULES_MAX_CONDS + 4);

    if (ntok == 0)
        return KY_OK;
    if (ntok > RULES_MAX_CONDS + 4)
        return fail(p, "too many conditions (at most %d)", RULES_MAX_CONDS);
    return parse_rule(p, r, tok, ntok);
}

rules_t *rules_parse(const char *text, const char *name, char *errbuf,
                     size_t errlen)
{
    parse_t p = {name, 0, errbuf, errlen};
    rules_t *r = calloc(1, sizeof *r);

    if (r == NULL) {
        snprintf(errbuf, errlen, "%s: out of memory", name);
        return NULL;
    }
    if (strncmp(text, "\xEF\xBB\xBF", 3) == 0) /* a BOM from an editor */
        text += 3;
    while (*text) {
        char line[RULES_LINE_MAX];
        int first, last;

        if (read_line(&p, &text, line, &first) != KY_OK)
            goto fail;
        last = p.line;
        p.line = first; /* errors name the line where the rule begins */
        if (parse_line(&p, r, line) != KY_OK)
            goto fail;
        p.line = last;
    }
    if (r->n == 0) {
        p.line = p.line ? p.line : 1;
        fail(&p, "no rules");
        goto fail;
    }
    if (r->rule[r->n - 1].nconds > 0) {
        p.line = r->rule[r->n - 1].line;
        fail(&p,
             "the last rule, '%s', must have no conditions, so "
             "that every customer gets a grade",
             r->rule[r->n - 1].name);
        goto fail;
    }
    return r;

fail:
    free(r);
    return NULL;
}

/* Reads the whole file at path into a NUL-terminated buffer. */
static char *read_file(const char *path, char *errbuf, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n;

    if (f == NULL) {
        snprintf(errbuf, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    buf = malloc(RULES_FILE_MAX + 1);
    if (buf == NULL) {
        snprintf(errbuf, errlen, "%s: out of memory", path);
        goto close;
    }
    n = fread(buf, 1, RULES_FILE_MAX + 1, f);
    if (ferror(f) || n > RULES_FILE_MAX || memchr(buf, '\0', n)) {
        snprintf(errbuf, errlen, "%s: unreadable, binary or over %d bytes",
                 path, RULES_FILE_MAX);
        free(buf);
        buf = NULL;
        goto close;
    }
    buf[n] = '\0';

close:
    fclose(f);
    return buf;
}

rules_t *rules_load(const char *path, char *errbuf, size_t errlen)
{
    char *text = read_file(path, errbuf, errlen);
    rules_t *r;

    if (text == NULL)
        return NULL;
    r = rules_parse(text, path, errbuf, errlen);
    free(text);
    return r;
}

void rules_destroy(rules_t **rp)
{
    if (rp == NULL || *rp == NULL)
        return;
    free(*rp);
    *rp = NULL;
}

int rules_count(const rules_t *r)
{
    return r->n;
}

/* ---- evaluating -------------------------------------------------------- */

void rules_facts_from_needs(const Keyuan__V1__Needs *n, rules_facts_t *f)
{
    memset(f, 0, sizeof *f);
    if (n == NULL)
        return;
    f->timeline_months = n->timeline_months;
    f->budget_min_wan = n->budget_min_wan;
    f->budget_max_wan = n->budget_max_wan;
    f->area_m2 = n->area_min_m2 ? n->area_min_m2 : n->area_max_m2;
    f->stage = (int)n->stage;
    f->purpose = (int)n->purpose;
    for (size_t i = 0; i < n->n_region_codes; i++)
        if (n->region_codes[i] && n->region_codes[i][0])
            f->needs_known |= RULES_NEED_REGIONS;
    if (n->budget_min_wan || n->budget_max_wan)
        f->needs_known |= RULES_NEED_BUDGET;
    if (n->area_min_m2 || n->area_max_m2)
        f->needs_known |= RULES_NEED_AREA;
    if (n->bedrooms)
        f->needs_known |= RULES_NEED_BEDROOMS;
}

static bool compare(long a, enum op op, long b)
{
    switch (op) {
    case OP_LE:
        return a <= b;
    case OP_GE:
        return a >= b;
    case OP_LT:
        return a < b;
    case OP_GT:
        return a > b;
    case OP_EQ:
        return a == b;
    case OP_NE:
        return a != b;
    }
    return false;
}

/* A number fact that is not known fails every condition on it. */
static bool cond_holds(const cond_t *c, const rules_facts_t *f)
{
    long v;
    unsigned hit;

    if (c->fact->number)
        return c->fact->number(f, &v) && compare(v, c->op, c->number);
    hit = c->fact->holds(f) & c->set;
    return c->op == OP_EQ ? hit != 0 : hit == 0;
}

static bool rule_holds(const rule_t *ru, const rules_facts_t *f)
{
    for (int i = 0; i < ru->nconds; i++)
        if (!cond_holds(&ru->conds[i], f))
            return false;
    return true;
}

void rules_eval(const rules_t *r, const rules_facts_t *f, rules_verdict_t *out)
{
    const rule_t *ru = &r->rule[r->n - 1]; /* unconditional, by parse */

    for (int i = 0; i < r->n - 1; i++)
        if (rule_holds(&r->rule[i], f)) {
            ru = &r->rule[i];
            break;
        }
    memset(out, 0, sizeof *out);
    out->grade = ru->grade;
    out->rule = ru->name;
    for (int i = 0; i < ru->nconds; i++)
        ru->conds[i].fact->explain(f, &ru->conds[i], out->reasons[i],
                                   RULES_REASON_MAX);
    out->nreasons = ru->nconds;
    if (ru->nconds == 0) {
        snprintf(out->reasons[0], RULES_REASON_MAX, "其余规则均不适用");
        out->nreasons = 1;
    }
}

const char *rules_grade_name(int grade)
{
    switch (grade) {
    case KEYUAN__V1__GRADE__GRADE_A:
        return "A";
    case KEYUAN__V1__GRADE__GRADE_B:
        return "B";
    case KEYUAN__V1__GRADE__GRADE_C:
        return "C";
    case KEYUAN__V1__GRADE__GRADE_LEAD:
        return "LEAD";
    }
    return "-";
}
