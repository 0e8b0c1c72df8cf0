/*
 * status.c - texts for the core's status codes.
 */
#include "status.h"

const char *sg_status_str(int status)
{
    switch (status) {
    case SG_OK: return "ok";
    case SG_ENOMEM: return "out of memory";
    case SG_ECONFIG: return "invalid configuration";
    case SG_ESTORE: return "store unavailable";
    case SG_EINVAL: return "invalid argument";
    case SG_EIO: return "input/output error";
    case SG_ENOTFOUND: return "not found";
    }
    return "unknown status";
}
