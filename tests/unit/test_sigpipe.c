/*
 * test_sigpipe.c - a write to a closed socket inside the guard does not
 * kill the process (SIGPIPE's default action), leaves no SIGPIPE pending
 * and gives the thread its signal mask back; a SIGPIPE pending before the
 * call is left alone.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sigpipe.h"

static int pipe_pending(void)
{
    sigset_t pending;

    sigpending(&pending);
    return sigismember(&pending, SIGPIPE);
}

static int pipe_blocked(void)
{
    sigset_t now;

    pthread_sigmask(SIG_SETMASK, NULL, &now);
    return sigismember(&now, SIGPIPE);
}

/* A write to a socket whose peer is gone: EPIPE (and SIGPIPE). */
static void write_to_closed(void)
{
    int sv[2];

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    close(sv[1]);
    assert_int_equal(write(sv[0], "x", 1), -1);
    assert_int_equal(errno, EPIPE);
    close(sv[0]);
}

static void test_write_to_closed_socket(void **state)
{
    struct sg_sigpipe_guard g;

    (void)state;
    signal(SIGPIPE, SIG_DFL);           /* as in a host that kept the default */
    assert_false(pipe_blocked());
    sg_sigpipe_block(&g);
    assert_true(pipe_blocked());
    write_to_closed();
    assert_true(pipe_pending());        /* raised, held back by the guard */
    sg_sigpipe_restore(&g);
    assert_false(pipe_pending());       /* consumed: we are still alive */
    assert_false(pipe_blocked());       /* the old mask is back */
}

static void test_earlier_sigpipe_left_pending(void **state)
{
    struct sg_sigpipe_guard g;
    sigset_t pipe_only;
    const struct timespec zero = { 0, 0 };

    (void)state;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, NULL);   /* the host blocks it */
    raise(SIGPIPE);                                  /* and has one pending */
    sg_sigpipe_block(&g);
    write_to_closed();
    sg_sigpipe_restore(&g);
    assert_true(pipe_pending());        /* the host's own signal is not ours to take */
    assert_true(pipe_blocked());        /* its mask as it was */
    assert_int_equal(sigtimedwait(&pipe_only, NULL, &zero), SIGPIPE);
    pthread_sigmask(SIG_UNBLOCK, &pipe_only, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_to_closed_socket),
        cmocka_unit_test(test_earlier_sigpipe_left_pending),
    };
    return cmocka_run_group_tests_name("sigpipe", tests, NULL, NULL);
}
