/*
 * file_apply.h - what an event does to a customer file's document.
 *
 * A lead, a profile update and a contact each bring a profile (a lead's
 * fields are named as Profile's, so a lead reads as a partial profile);
 * these functions turn it into JSON and apply it, with the bookkeeping
 * each kind of event adds. They work on documents only (file_doc.h);
 * intake.c loads, commits and answers.
 */
#ifndef KEYUAN_FILE_APPLY_H
#define KEYUAN_FILE_APPLY_H

#include "validate.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * The profile msg carries (a Profile, a LeadEvent, or NULL for none) as
 * JSON in *out (caller decrefs), its mobile normalised to
 * contacts.mobileE164. False, with *out NULL and *f naming prefix +
 * "contacts.mobile", when the mobile cannot be a phone number.
 */
bool file_apply_profile_in(const ProtobufCMessage *msg, const char *prefix,
                           json_t **out, check_fail_t *f);

/* Fills *f for a mobile at prefix + "contacts.mobile" that is not a phone
 * number, why (static English) saying how. */
void file_apply_phone_fail(check_fail_t *f, const char *prefix,
                           const char *why);

/* Other contacts a file keeps at most (as many as one event may bring). */
#define FILE_OTHERS_MAX 8

/*
 * An event never takes a way to reach the customer away from a file. For
 * each of the mobile, WeChat id and e-mail that both the file's profile p
 * and the incoming profile hold, the incoming one is dropped from profile
 * and, unless p holds it already (the same number written another way,
 * an e-mail in other case, among the others too), added to p's
 * contacts.others; the incoming others are added to p's the same way
 * rather than replacing them. Past FILE_OTHERS_MAX the oldest of p's
 * others go, unless keep (a merge: the kept file keeps its values), when
 * the incoming ones that do not fit are left out (the merge record keeps
 * them). Returns 0 or KY_ENOMEM.
 */
int file_apply_contact_ways(json_t *p, json_t *profile, bool keep);

/*
 * Applies profile (may be NULL) to doc's profile: the n paths set, or,
 * with none, its non-empty fields merged in (file_doc_apply()) after
 * file_apply_contact_ways(); then derives contacts.mobileE164 again.
 * Returns 0 or <0.
 */
int file_apply_profile(json_t *doc, json_t *profile, char *const *paths,
                       size_t n);

/* Applies a lead: its profile, its note (latest wins), its source. */
int file_apply_lead(json_t *doc, const Keyuan__V1__LeadEvent *ev,
                    json_t *profile);

/*
 * The bookkeeping of a contact: one more contact, the later last contact
 * time, the next step when it names one. Returns 0 or KY_ENOMEM.
 */
int file_apply_contact(json_t *doc, const Keyuan__V1__ContactLog *ev);

/*
 * The fields a new file starts with: its id, the time it was created, the
 * owning agent and why that agent. Returns 0 or KY_ENOMEM.
 */
int file_apply_start(json_t *doc, uint64_t id, const char *agent_id,
                     const char *reason);

#endif
