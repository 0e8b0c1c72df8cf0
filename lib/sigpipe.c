/*
 * sigpipe.c - a SIGPIPE guard for one library call (see sigpipe.h).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include "sigpipe.h"

void sg_sigpipe_block(struct sg_sigpipe_guard *g)
{
    sigset_t pipe_only, pending;

    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    sigpending(&pending);
    g->was_pending = sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, &g->old);
}

void sg_sigpipe_restore(const struct sg_sigpipe_guard *g)
{
    sigset_t pipe_only, pending;
    const struct timespec zero = { 0, 0 };

    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    sigpending(&pending);
    if (!g->was_pending && sigismember(&pending, SIGPIPE))
        while (sigtimedwait(&pipe_only, NULL, &zero) < 0 && errno == EINTR)
            ;
    pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}
