/*
 * sigpipe.h - write to a socket from a library without dying of SIGPIPE
 * and without touching the host's signal handling.
 *
 * A peer that goes away in the middle of a write raises SIGPIPE, whose
 * default action kills the process (smtpd, saslauthd, the CLI). A library
 * may not install a handler or ignore the signal for its host. Instead,
 * SIGPIPE is blocked in the calling thread for the length of one call;
 * a SIGPIPE that call raised is then consumed, and the thread's old mask
 * comes back. A SIGPIPE that was pending before the call stays pending.
 */
#ifndef SG_SIGPIPE_H
#define SG_SIGPIPE_H

#include <signal.h>

struct sg_sigpipe_guard {
    sigset_t old;
    int was_pending;
};

void sg_sigpipe_block(struct sg_sigpipe_guard *g);
void sg_sigpipe_restore(const struct sg_sigpipe_guard *g);

#endif
