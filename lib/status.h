/*
 * status.h - status codes returned by every fallible core function.
 *
 * A function that can fail returns one of these; SG_OK is the only success.
 * Callers must look at the value: there are no silent defaults after an error.
 */
#ifndef SG_STATUS_H
#define SG_STATUS_H

enum sg_status {
    SG_OK = 0,
    SG_ENOMEM = -1,   /* allocation failed */
    SG_ECONFIG = -2,  /* policy file missing, unreadable or invalid */
    SG_ESTORE = -3,   /* Redis unreachable, timed out or answered nonsense */
    SG_EINVAL = -4,   /* malformed argument (address, duration, name...) */
    SG_EIO = -5,      /* file or system error */
    SG_ENOTFOUND = -6 /* nothing there (no such account state, key...) */
};

/* A short, constant English text for a status code. */
const char *sg_status_str(int status);

#endif
