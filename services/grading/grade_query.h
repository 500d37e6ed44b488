/* grade_query.h - a customer's grades and their reasons, for keyuanctl. */
#ifndef KEYUAN_GRADE_QUERY_H
#define KEYUAN_GRADE_QUERY_H

#include "svc.h"

/*
 * Fills reply with q's customer's GradeHistory, newest first (empty for a
 * customer grading has not seen). Returns 0 or a store error.
 */
int grade_query_answer(svc_t *svc, store_t *st, MDB_txn *txn,
                       const Keyuan__V1__GradeQuery *q, Envelope *reply);

#endif
