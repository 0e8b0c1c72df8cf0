/*
 * prompt.c - read a password for a subcommand: one line from standard
 * input when it is not a terminal, else from a prompt that does not echo.
 *
 * DESCRIPTION
 *	Never from the command line (other users see argv in ps). The
 *	terminal's echo is restored on every path, signals included: a
 *	signal that interrupts the prompt is re-raised after the restore.
 *	The caller wipes BUF after use.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "secret.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    interrupted = sig;
}

/* One line of at most CAP - 1 bytes into BUF (NUL-terminated, a trailing
 * CR dropped). Its length, -1 on a read error, -2 if the line is too long. */
static long read_line(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    int too_long = 0;
    char ch;

    for (;;) {
        ssize_t r = read(fd, &ch, 1);

        if (r < 0 && errno == EINTR && !interrupted)
            continue;
        if (r < 0)
            return -1;
        if (r == 0 || ch == '\n')
            break;
        if (n + 1 < cap)
            buf[n++] = ch;
        else
            too_long = 1;
    }
    sg_secret_wipe_buffer(&ch, sizeof ch);
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    return too_long ? -2 : (long)n;
}

long cli_read_password(const char *prompt, char *buf, size_t cap)
{
    static const int sigs[] = { SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGTSTP };
    struct sigaction sa, old[sizeof sigs / sizeof *sigs];
    struct termios saved, quiet;
    long n;

    if (!isatty(STDIN_FILENO))
        return read_line(STDIN_FILENO, buf, cap);
    if (tcgetattr(STDIN_FILENO, &saved) != 0)
        return -1;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;          /* no SA_RESTART: read() returns EINTR */
    sigemptyset(&sa.sa_mask);
    interrupted = 0;
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
        sigaction(sigs[i], &sa, &old[i]);
    quiet = saved;
    quiet.c_lflag &= (tcflag_t)~ECHO;
    fputs(prompt, stderr);
    fflush(stderr);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    n = read_line(STDIN_FILENO, buf, cap);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    fputc('\n', stderr);
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
        sigaction(sigs[i], &old[i], NULL);
    if (interrupted) {
        sg_secret_wipe_buffer(buf, cap);
        raise(interrupted);
        return -1;
    }
    return n;
}
