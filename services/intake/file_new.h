/*
 * file_new.h - a customer file made straight from its first lead.
 *
 * Most leads are new customers. The general path (file_apply.h,
 * file_store.h) handles an event as JSON documents: load the file, merge
 * the event in, diff before and after for the history, split and convert
 * back to protobuf. For a file that does not exist yet there is nothing to
 * load, merge or diff, and doing all that anyway took about four fifths of
 * intake's time per lead. So a new file is built here from the event's
 * protobuf fields: the same two records, the same creation Change and the
 * same snapshot for grading as the general path makes.
 * tests/unit/test_intake_new.c holds the two paths to that.
 */
#ifndef KEYUAN_FILE_NEW_H
#define KEYUAN_FILE_NEW_H

#include "file_store.h"

#include <stdbool.h>

/* A new file, in the shape of CustomerView. Points into its lead. */
typedef struct file_new {
    Keyuan__V1__CustomerView view;   /* the whole file */
    Keyuan__V1__Profile profile;     /* view.profile, when not empty */
    Keyuan__V1__Contacts contacts;   /* profile.contacts, with mobileE164 */
    Google__Protobuf__Timestamp now; /* created and updated */
    char *sources[1];
} file_new_t;

/*
 * True when the lead can make its file here: none of the parts it lends
 * the file carries fields this build does not know, and no text of it is
 * only white space (the JSON path drops both, and the stored file must
 * not depend on which path made it).
 */
bool file_new_possible(const Keyuan__V1__LeadEvent *ev);

/*
 * Fills nf with the file lead ev starts: customer id, owning agent and why,
 * created and updated now_ms, the lead's profile fields with contacts.
 * mobileE164 set to e164 ("" when it has no mobile), its source and note.
 * Empty parts are left out, as the JSON form leaves them out. nf borrows
 * every string and part from ev, e164, agent_id and reason.
 */
void file_new_build(file_new_t *nf, const Keyuan__V1__LeadEvent *ev,
                    const char *e164, uint64_t id, const char *agent_id,
                    const char *reason, int64_t now_ms);

/*
 * Stores nf as file nf->view.customer_id: its CustomerFile and
 * CustomerPerson records, and the Change of why that made it
 * (history_add_created(): it reads back as every field the file starts
 * with). Returns 0 or <0.
 */
int file_new_save(file_db_t *db, MDB_txn *txn, const file_new_t *nf,
                  const file_event_t *why);

#endif
