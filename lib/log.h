/*
 * log.h - how the core hands log lines to its host.
 *
 * The core formats complete lines (no printf work left to the host, whose
 * formatter may be limited, as libsasl's is) and passes them to a sink
 * chosen by the front end: libsasl's utils->log, pam_syslog, or stderr.
 */
#ifndef SG_LOG_H
#define SG_LOG_H

enum sg_log_level {
    SG_LOG_ERR = 0,   /* broken configuration, internal error */
    SG_LOG_WARN,      /* refusals, store trouble: must reach the admin */
    SG_LOG_NOTICE,    /* successful logins */
    SG_LOG_DEBUG
};

typedef void (*sg_log_fn)(void *ctx, enum sg_log_level level, const char *line);

#endif
