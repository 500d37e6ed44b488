/*
 * regions.h - the administrative division codes a region may be given by.
 *
 * Leads name the districts a buyer wants, and listings the district they
 * are in, by six-digit codes of the National Bureau of Statistics
 * (110105: 北京市朝阳区). A code that names no division would be stored and
 * graded as if it meant a place, so intake checks codes against the
 * official list: data/divisions/cn_admin_divisions_2023.csv (NBS 2023,
 * from modood/Administrative-divisions-of-China, WTFPL, its licence
 * beside it). Provinces and cities count as well as districts. When the
 * NBS publishes changes, an operator points --regions at a newer list.
 */
#ifndef KEYUAN_REGIONS_H
#define KEYUAN_REGIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct regions {
    uint32_t *codes; /* sorted */
    size_t n;
} regions_t;

/*
 * Reads the CSV at path: a header whose first column is "code", then one
 * division a line, its six-digit code first. Returns 0, or KY_EIO (the
 * file cannot be read), KY_EDECODE (a line is not of that form) or
 * KY_ENOMEM, with what is wrong, and where, in err.
 */
int regions_load(regions_t *r, const char *path, char *err, size_t errlen);

void regions_free(regions_t *r);

/* True when code is six digits that name a division in r. */
bool regions_known(const regions_t *r, const char *code);

#endif
