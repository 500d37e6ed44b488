/*
 * validate.h - what intake accepts from outside, field by field.
 *
 * Every text field has a limit in one table (validate.c), which the
 * protocol note in docs/ repeats; every text field of a message is checked
 * against it by one walk over the message's descriptor, so a field added
 * to a proto is checked without code. A failed check names the field in
 * its proto3 JSON form ("contacts.mobile", "profile.hobbies") so a source
 * can fix its data.
 */
#ifndef KEYUAN_VALIDATE_H
#define KEYUAN_VALIDATE_H

#include "keyuan/v1/envelope.pb-c.h"
#include "regions.h"

#include <jansson.h>
#include <stdbool.h>

typedef struct check_fail {
    const char *code;  /* "missing_field", "too_long", ... */
    const char *field; /* proto3 JSON path of the field; may point at path */
    char message[192]; /* what is wrong, in English */
    char path[96];     /* room for a field path built while checking */
} check_fail_t;

/*
 * From now on, region codes (needs.regionCodes, a listing's districtCode)
 * must be in r, which outlives the checks; before, or with NULL, six
 * digits pass.
 */
void validate_use_regions(const regions_t *r);

/* Each returns true when the event may be applied, else fills *f. */
bool check_lead(const Keyuan__V1__LeadEvent *ev, check_fail_t *f);
bool check_listing(const Keyuan__V1__ListingEvent *ev, check_fail_t *f);
bool check_contact(const Keyuan__V1__ContactLog *ev, check_fail_t *f);
bool check_profile_update(const Keyuan__V1__ProfileUpdate *u, check_fail_t *f);

/* Checks only the text fields of msg (any message) against the table. */
bool check_text_fields(const ProtobufCMessage *msg, check_fail_t *f);

/*
 * Checks the ranges of a customer file after an event was applied to it
 * (file_doc.h's JSON form): an event valid on its own may still combine
 * with the file into a minimum above a maximum.
 */
bool check_file_needs(const json_t *doc, check_fail_t *f);

#endif
