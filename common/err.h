/*
 * err.h - the one error convention of keyuan.
 *
 * Functions return 0 on success and a negative KY_E* code on failure; bool
 * is kept for predicates. err_str() turns a code into a short English
 * phrase for logs and replies.
 */
#ifndef KEYUAN_ERR_H
#define KEYUAN_ERR_H

enum {
    KY_OK = 0,
    KY_ENOMEM = -1, /* allocation failed */
    KY_EIO = -2,    /* file or socket I/O failed; errno has details */
    KY_ESTORE = -3, /* LMDB returned an error */
    KY_ENOTFOUND = -4,
    KY_EINVAL = -5,     /* input failed validation */
    KY_EDECODE = -6,    /* bytes or text did not parse */
    KY_EZMQ = -7,       /* a ZeroMQ call failed */
    KY_ECONFIG = -8,    /* configuration is wrong */
    KY_EFULL = -9,      /* a store or queue is full */
    KY_EAGAIN = -10,    /* try again later */
    KY_ERANGE = -11,    /* a value is out of its allowed range */
    KY_EDISABLED = -12, /* the feature is off in this process */
    KY_EEXISTS = -13    /* the key is already there */
};

/* Returns a static string naming code; never NULL. */
const char *err_str(int code);

#endif
