/*
 * grade_query.c - answers "what grade is this customer, and why": the
 * customer's GradeResults from the grades database, newest first. The
 * history is keyed (customer id, time-ordered id), so this is one cursor
 * walk backwards from the end of the customer's range.
 */
#include "grade_query.h"

#include "err.h"

#include <string.h>

#define GRADE_QUERY_DEFAULT 10
#define GRADE_QUERY_MAX 200

/* Positions cur on the customer's newest entry; false when none. */
static bool seek_newest(MDB_cursor *cur, uint64_t customer_id, MDB_val *k,
                        MDB_val *v)
{
    uint8_t after[16];

    wire_put_u64(after, customer_id + 1);
    memset(after + 8, 0, 8);
    k->mv_size = sizeof after;
    k->mv_data = after;
    if (mdb_cursor_get(cur, k, v, MDB_SET_RANGE) == 0)
        return mdb_cursor_get(cur, k, v, MDB_PREV) == 0;
    return mdb_cursor_get(cur, k, v, MDB_LAST) == 0;
}

static bool is_customer(const MDB_val *k, uint64_t customer_id)
{
    return k->mv_size == 16 && wire_get_u64(k->mv_data) == customer_id;
}

/* Unpacks one entry into svc memory and appends it to list. */
static int take(svc_t *svc, Keyuan__V1__GradeHistory *list, const MDB_val *v)
{
    Keyuan__V1__GradeResult *r =
        keyuan__v1__grade_result__unpack(NULL, v->mv_size, v->mv_data);

    if (r == NULL)
        return KY_EDECODE;
    svc_defer_free(svc, &r->base);
    list->grades[list->n_grades++] = r;
    return KY_OK;
}

int grade_query_answer(svc_t *svc, store_t *st, MDB_txn *txn,
                       const Keyuan__V1__GradeQuery *q, Envelope *reply)
{
    Keyuan__V1__GradeHistory *list = svc_alloc(svc, sizeof *list);
    uint32_t limit = q->limit ? q->limit : GRADE_QUERY_DEFAULT;
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = mdb_cursor_open(txn, store_db(st, "grades"), &cur);
    bool more;

    if (rc)
        return store_err(rc, "cursor_open");
    limit = limit > GRADE_QUERY_MAX ? GRADE_QUERY_MAX : limit;
    keyuan__v1__grade_history__init(list);
    list->grades = svc_alloc(svc, limit * sizeof *list->grades);
    more = seek_newest(cur, q->customer_id, &k, &v);
    while (rc == 0 && more && is_customer(&k, q->customer_id) &&
           list->n_grades < limit) {
        rc = take(svc, list, &v);
        more = mdb_cursor_get(cur, &k, &v, MDB_PREV) == 0;
    }
    mdb_cursor_close(cur);
    if (rc)
        return rc;
    reply->body_case = KEYUAN__V1__ENVELOPE__BODY_GRADE_HISTORY;
    reply->grade_history = list;
    return KY_OK;
}
