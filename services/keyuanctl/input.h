/*
 * input.h - the events of an import file, one at a time.
 *
 * A file holds lead, listing or contact events as CSV (see rows.h), as
 * JSON Lines (one event per line in the proto3 JSON mapping, decoded by
 * pbjson), or as one JSON document: an array of events or a single event.
 * The format comes from the file name (.csv, .tsv, .jsonl, .ndjson,
 * .json) unless given. A .json file that is not one JSON document is read
 * as JSON Lines. CSV may be UTF-8 (with or without BOM), GB18030/GBK or
 * UTF-16 with BOM, comma- or tab-separated (see csv.h), so Excel's
 * "Unicode text" (.txt) reads with --format csv; JSON is UTF-8, as RFC
 * 8259 requires.
 */
#ifndef KEYUAN_CTL_INPUT_H
#define KEYUAN_CTL_INPUT_H

#include "client.h"
#include "rows.h"

#include <stdbool.h>
#include <stdio.h>

enum ctl_input_kind { CTL_INPUT_LEADS, CTL_INPUT_LISTINGS, CTL_INPUT_CONTACTS };

enum ctl_input_format {
    CTL_FORMAT_AUTO, /* from the file name */
    CTL_FORMAT_CSV,
    CTL_FORMAT_JSONL,
    CTL_FORMAT_JSON /* one document: an array or one event */
};

typedef struct ctl_input ctl_input_t;

/* Parses "csv", "jsonl" or "json"; -1 for anything else. */
int ctl_input_format_parse(const char *s);

/*
 * Opens path ("-": standard input, which needs a format) for events of
 * kind. source fills events that have none (CSV leads and contacts:
 * "csv" when NULL); for CSV listings it is always the source. Unknown CSV
 * columns, and a CSV file's encoding when it is not UTF-8, are reported
 * on warn. Returns NULL with *err set and errbuf saying why: a file that
 * cannot be read, a bad header, an unknown format.
 */
ctl_input_t *ctl_input_open(const char *path, enum ctl_input_kind kind,
                            enum ctl_input_format format, const char *source,
                            FILE *warn, int *err, char *errbuf, size_t errlen);

void ctl_input_destroy(ctl_input_t **ip);

/*
 * Reads the next event into env (body set; the event lives until the next
 * call) and item (env, line, label). Returns 1; 0 at the end; KY_EINVAL
 * for a row that cannot become an event, with item's line and label and
 * *rowerr saying why (call again for the next one); or KY_EIO/KY_ENOMEM.
 */
int ctl_input_next(ctl_input_t *in, Envelope *env, ctl_pipe_item_t *item,
                   ctl_rowerr_t *rowerr);

/* True when item numbers count array elements rather than lines. */
bool ctl_input_numbers_items(const ctl_input_t *in);

/* Bytes read so far and in all (0 when not known), for progress. */
long ctl_input_offset(const ctl_input_t *in);
long ctl_input_size(const ctl_input_t *in);

#endif
