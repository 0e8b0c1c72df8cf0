/*
 * NAME
 *	pam_driver - run pam_authenticate on a private PAM configuration
 * SYNOPSIS
 *	pam_driver [-d confdir] [-s service] [-u user] [-p password]
 *		   [-r rhost] [-n repeat] [-l logfile] [-c]
 * DESCRIPTION
 *	A PAM application, as saslauthd or Dovecot would be, for testing PAM
 *	modules without touching /etc/pam.d: with -d the service file is
 *	read from CONFDIR (pam_start_confdir, Linux-PAM 1.4 and later).
 *	The conversation answers every hidden prompt with PASSWORD and every
 *	visible one with USER, and counts the prompts. -r sets PAM_RHOST.
 *	-n authenticates REPEAT times, each with a fresh handle (saslauthd
 *	makes one per request). -c also runs pam_setcred after a success.
 *
 *	syslog: this program defines syslog(3) and glibc's fortified
 *	__syslog_chk itself, so the lines libpam's pam_syslog writes for the
 *	modules (LOG_AUTHPRIV) are caught here and appended to LOGFILE (or
 *	written to stderr) as "PRIORITY: message", where a test can read
 *	them; nothing reaches the system log.
 *
 *	Output on stdout, one line per attempt:
 *	  result: PAM_XXX (N): <pam_strerror> prompts=N
 *	and for -c "setcred: PAM_XXX (N)". The password is never printed.
 * DIAGNOSTICS
 *	Exit 0 if the last attempt returned PAM_SUCCESS, 1 on any other PAM
 *	result, 2 on a usage or setup error.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <security/pam_appl.h>

/* The syslog entry points libpam may call (not <syslog.h>: defined here). */
void syslog(int pri, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vsyslog(int pri, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
void __syslog_chk(int pri, int flag, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void __vsyslog_chk(int pri, int flag, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static const char *log_path;
static const char *user = "alice";
static const char *password = "";
static int prompts;

static const char *level_name(int pri)
{
    static const char *const names[8] = {
        "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"
    };
    return names[pri & 7];
}

void vsyslog(int pri, const char *fmt, va_list ap)
{
    FILE *f = log_path ? fopen(log_path, "a") : stderr;

    if (!f)
        return;
    fprintf(f, "%s: ", level_name(pri));
    vfprintf(f, fmt, ap);
    fputc('\n', f);
    if (f != stderr)
        fclose(f);
}

void syslog(int pri, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsyslog(pri, fmt, ap);
    va_end(ap);
}

void __vsyslog_chk(int pri, int flag, const char *fmt, va_list ap)
{
    (void)flag;
    vsyslog(pri, fmt, ap);
}

void __syslog_chk(int pri, int flag, const char *fmt, ...)
{
    va_list ap;

    (void)flag;
    va_start(ap, fmt);
    vsyslog(pri, fmt, ap);
    va_end(ap);
}

static const char *code_name(int code)
{
    switch (code) {
#define C(x) case x: return #x
    C(PAM_SUCCESS); C(PAM_OPEN_ERR); C(PAM_SYMBOL_ERR); C(PAM_SERVICE_ERR);
    C(PAM_SYSTEM_ERR); C(PAM_BUF_ERR); C(PAM_PERM_DENIED); C(PAM_AUTH_ERR);
    C(PAM_CRED_INSUFFICIENT); C(PAM_AUTHINFO_UNAVAIL); C(PAM_USER_UNKNOWN);
    C(PAM_MAXTRIES); C(PAM_NEW_AUTHTOK_REQD); C(PAM_ACCT_EXPIRED); C(PAM_SESSION_ERR);
    C(PAM_CRED_UNAVAIL); C(PAM_CRED_EXPIRED); C(PAM_CRED_ERR); C(PAM_NO_MODULE_DATA);
    C(PAM_CONV_ERR); C(PAM_AUTHTOK_ERR); C(PAM_AUTHTOK_RECOVERY_ERR);
    C(PAM_AUTHTOK_LOCK_BUSY); C(PAM_AUTHTOK_DISABLE_AGING); C(PAM_TRY_AGAIN);
    C(PAM_IGNORE); C(PAM_ABORT); C(PAM_AUTHTOK_EXPIRED); C(PAM_MODULE_UNKNOWN);
    C(PAM_BAD_ITEM); C(PAM_CONV_AGAIN); C(PAM_INCOMPLETE);
#undef C
    }
    return "PAM_?";
}

static int converse(int n, const struct pam_message **msg, struct pam_response **resp, void *ctx)
{
    struct pam_response *r;

    (void)ctx;
    if (n <= 0 || n > PAM_MAX_NUM_MSG || !(r = calloc((size_t)n, sizeof *r)))
        return PAM_CONV_ERR;
    for (int i = 0; i < n; i++) {
        switch (msg[i]->msg_style) {
        case PAM_PROMPT_ECHO_OFF:
            prompts++;
            r[i].resp = strdup(password);
            break;
        case PAM_PROMPT_ECHO_ON:
            r[i].resp = strdup(user);
            break;
        default:
            fprintf(stderr, "pam message: %s\n", msg[i]->msg ? msg[i]->msg : "");
            continue;
        }
        if (!r[i].resp) {
            for (int k = 0; k < i; k++)
                free(r[k].resp);
            free(r);
            return PAM_BUF_ERR;
        }
    }
    *resp = r;
    return PAM_SUCCESS;
}

static void usage(void)
{
    fprintf(stderr, "usage: pam_driver [-d confdir] [-s service] [-u user] [-p password]\n"
                    "                  [-r rhost] [-n repeat] [-l logfile] [-c]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *confdir = NULL, *service = "saslguard-test", *rhost = NULL;
    struct pam_conv conv = { converse, NULL };
    int opt, repeat = 1, setcred = 0, rc = PAM_ABORT;

    while ((opt = getopt(argc, argv, "d:s:u:p:r:n:l:c")) != -1) {
        switch (opt) {
        case 'd': confdir = optarg; break;
        case 's': service = optarg; break;
        case 'u': user = optarg; break;
        case 'p': password = optarg; break;
        case 'r': rhost = optarg; break;
        case 'n': repeat = atoi(optarg); break;
        case 'l': log_path = optarg; break;
        case 'c': setcred = 1; break;
        default: usage();
        }
    }
    if (optind != argc || repeat < 1 || repeat > 100000)
        usage();

    for (int i = 0; i < repeat; i++) {
        pam_handle_t *pamh = NULL;

        prompts = 0;
        rc = confdir ? pam_start_confdir(service, user, &conv, confdir, &pamh)
                     : pam_start(service, user, &conv, &pamh);
        if (rc != PAM_SUCCESS) {
            fprintf(stderr, "pam_driver: pam_start: %s\n", code_name(rc));
            return 2;
        }
        if (rhost && (rc = pam_set_item(pamh, PAM_RHOST, rhost)) != PAM_SUCCESS) {
            fprintf(stderr, "pam_driver: pam_set_item(PAM_RHOST): %s\n", code_name(rc));
            return 2;
        }
        rc = pam_authenticate(pamh, 0);
        printf("result: %s (%d): %s prompts=%d\n", code_name(rc), rc,
               pam_strerror(pamh, rc), prompts);
        if (setcred && rc == PAM_SUCCESS) {
            int c = pam_setcred(pamh, PAM_ESTABLISH_CRED);

            printf("setcred: %s (%d)\n", code_name(c), c);
        }
        fflush(stdout);
        pam_end(pamh, rc);
    }
    return rc == PAM_SUCCESS ? 0 : 1;
}
