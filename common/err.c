/* err.c - names for the KY_E* codes of err.h. */
#include "err.h"

const char *err_str(int code)
{
    switch (code) {
    case KY_OK:
        return "ok";
    case KY_ENOMEM:
        return "out of memory";
    case KY_EIO:
        return "i/o error";
    case KY_ESTORE:
        return "store error";
    case KY_ENOTFOUND:
        return "not found";
    case KY_EINVAL:
        return "invalid input";
    case KY_EDECODE:
        return "cannot decode";
    case KY_EZMQ:
        return "zeromq error";
    case KY_ECONFIG:
        return "bad configuration";
    case KY_EFULL:
        return "full";
    case KY_EAGAIN:
        return "try again";
    case KY_ERANGE:
        return "out of range";
    case KY_EDISABLED:
        return "disabled";
    case KY_EEXISTS:
        return "already exists";
    }
    return "unknown error";
}
