/* regions.c - the official list of division codes (see regions.h). */
#include "regions.h"

#include "err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The six digits at s as a number; false unless s starts with exactly
 * six digits followed by end, ',' or a line end. */
static bool code_parse(const char *s, uint32_t *code)
{
    uint32_t v = 0;
    int i;

    for (i = 0; i < 6; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint32_t)(s[i] - '0');
    }
    if (s[i] != '\0' && s[i] != ',' && s[i] != '\r' && s[i] != '\n')
        return false;
    *code = v;
    return true;
}

static int code_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

static int add(regions_t *r, size_t *cap, uint32_t code)
{
    if (r->n == *cap) {
        size_t grown = *cap ? *cap * 2 : 4096;
        uint32_t *codes = realloc(r->codes, grown * sizeof *codes);

        if (codes == NULL)
            return KY_ENOMEM;
        r->codes = codes;
        *cap = grown;
    }
    r->codes[r->n++] = code;
    return KY_OK;
}

/* Checks the header line: "code" first, after a UTF-8 BOM if any. */
static bool header_ok(const char *line)
{
    if (strncmp(line, "\xEF\xBB\xBF", 3) == 0)
        line += 3; /* as spreadsheets save CSV */
    return strncmp(line, "code", 4) == 0 &&
           (line[4] == ',' || line[4] == '\n' || line[4] == '\r' ||
            line[4] == '\0');
}

/* Reads the header and the lines after it into r. */
static int read_lines(regions_t *r, FILE *in, const char *path, char *err,
                      size_t errlen)
{
    char *line = NULL;
    size_t size = 0, cap = 0;
    unsigned lineno = 0;
    int rc = KY_OK;

    while (rc == KY_OK && getline(&line, &size, in) >= 0) {
        uint32_t code;

        if (++lineno == 1) {
            if (!header_ok(line)) {
                snprintf(err, errlen, "%s:1: the header must begin with code",
                         path);
                rc = KY_EDECODE;
            }
        } else if (line[0] != '\n' && strcmp(line, "\r\n") != 0) {
            if (code_parse(line, &code)) {
                rc = add(r, &cap, code);
            } else {
                snprintf(err, errlen, "%s:%u: not a six-digit division code",
                         path, lineno);
                rc = KY_EDECODE;
            }
        }
    }
    free(line);
    if (rc == KY_OK && ferror(in)) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        rc = KY_EIO;
    }
    return rc;
}

int regions_load(regions_t *r, const char *path, char *err, size_t errlen)
{
    FILE *in = fopen(path, "r");
    int rc;

    *r = (regions_t){0};
    if (in == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return KY_EIO;
    }
    rc = read_lines(r, in, path, err, errlen);
    fclose(in);
    if (rc == KY_OK && r->n == 0) {
        snprintf(err, errlen, "%s: no division codes", path);
        rc = KY_EDECODE;
    }
    if (rc) {
        regions_free(r);
        return rc;
    }
    qsort(r->codes, r->n, sizeof *r->codes, code_cmp);
    return KY_OK;
}

void regions_free(regions_t *r)
{
    free(r->codes);
    *r = (regions_t){0};
}

bool regions_known(const regions_t *r, const char *code)
{
    uint32_t v;

    if (r->n == 0 || code == NULL || strlen(code) != 6 || !code_parse(code, &v))
        return false;
    return bsearch(&v, r->codes, r->n, sizeof v, code_cmp) != NULL;
}
