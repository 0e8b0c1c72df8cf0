/*
 * NAME
 *	pam_saslguard - PAM module: saslguard's lockout for any PAM service
 * SYNOPSIS
 *	auth requisite                  pam_saslguard.so preauth  [conf=PATH]
 *	auth [success=1 default=bad]    pam_unix.so
 *	auth [default=die]              pam_saslguard.so authfail [conf=PATH]
 *	auth required                   pam_saslguard.so authsucc [conf=PATH]
 *
 *	auth [success=done ignore=ignore default=die]
 *	                                pam_saslguard.so apppass  [conf=PATH]
 * DESCRIPTION
 *	The module wraps whatever checks the password, the way pam_faillock
 *	does: preauth refuses a locked account or a throttled source before
 *	the password check, authfail counts a failure, authsucc records a
 *	success (and refuses the primary password of an account that needs
 *	an app password). apppass does what preauth does and, in the same
 *	Redis round trip, logs in with an app password: PAM_SUCCESS for one,
 *	PAM_IGNORE for any other password, which then goes on to the primary
 *	password check. The decision and its PAM code are the core's
 *	(lib/engine.h, lib/outcome.h); pam_decide.c maps the modes onto it.
 *
 *	The account is the PAM user; the client source is PAM_RHOST when the
 *	caller sets it to an address (Dovecot does, saslauthd never does:
 *	behind saslauthd the policy is per account only). The password comes
 *	from pam_get_authtok (apppass, which may prompt) or from the
 *	PAM_AUTHTOK item another module set (authfail, for the wrong-password
 *	fingerprint); preauth and authsucc never need it.
 *
 *	One engine per PAM handle, made on the module's first call and kept
 *	with pam_set_data until pam_end: the two or three calls of one stack
 *	share one parsed policy and one Redis connection, while nothing
 *	outlives the handle (libpam unloads the module at pam_end anyway),
 *	so a changed policy applies from the next authentication on, and
 *	there is no process-wide state to share between threads, handles or
 *	forked processes. conf=PATH names the policy (SG_DEFAULT_CONFIG by
 *	default); lines naming other files keep engines of their own.
 * DIAGNOSTICS
 *	pam_syslog (facility authpriv), one line per decision as the core
 *	writes it: SG_LOG_ERR as LOG_ERR, WARN as LOG_WARNING, NOTICE as
 *	LOG_NOTICE, DEBUG as LOG_DEBUG. Never a password. A bad module
 *	argument or a policy that cannot be loaded is logged at LOG_ERR and
 *	refuses the login with PAM_SERVICE_ERR.
 */
#define PAM_SM_AUTH
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "account_key.h"
#include "pam_saslguard.h"
#include "status.h"

#define SG_PAM_DATA "pam_saslguard:"    /* + policy path: pam_set_data name */
#define SG_PAM_PATH_MAX 4096

struct sg_pam_args {
    enum sg_pam_mode mode;
    const char *conf;
};

static const char *const mode_names[] = {
    [SG_PAM_PREAUTH] = "preauth",
    [SG_PAM_APPPASS] = "apppass",
    [SG_PAM_AUTHFAIL] = "authfail",
    [SG_PAM_AUTHSUCC] = "authsucc",
};

/* Module arguments come from the admin's PAM file: a mistake refuses the
 * login rather than guessing what was meant. */
static int parse_args(pam_handle_t *pamh, int argc, const char **argv, struct sg_pam_args *out)
{
    out->mode = SG_PAM_MODE_NONE;
    out->conf = SG_DEFAULT_CONFIG;
    for (int i = 0; i < argc; i++) {
        enum sg_pam_mode m = SG_PAM_MODE_NONE;

        if (strncmp(argv[i], "conf=", 5) == 0) {
            out->conf = argv[i] + 5;
            if (!*out->conf || strlen(out->conf) > SG_PAM_PATH_MAX) {
                pam_syslog(pamh, LOG_ERR, "saslguard: conf= needs a path");
                return PAM_SERVICE_ERR;
            }
            continue;
        }
        for (int k = SG_PAM_PREAUTH; k <= SG_PAM_AUTHSUCC; k++)
            if (strcmp(argv[i], mode_names[k]) == 0)
                m = (enum sg_pam_mode)k;
        if (m == SG_PAM_MODE_NONE) {
            pam_syslog(pamh, LOG_ERR, "saslguard: unknown module argument \"%s\"", argv[i]);
            return PAM_SERVICE_ERR;
        }
        if (out->mode != SG_PAM_MODE_NONE) {
            pam_syslog(pamh, LOG_ERR, "saslguard: more than one mode (%s, %s)",
                       mode_names[out->mode], argv[i]);
            return PAM_SERVICE_ERR;
        }
        out->mode = m;
    }
    if (out->mode == SG_PAM_MODE_NONE) {
        pam_syslog(pamh, LOG_ERR,
                   "saslguard: no mode given: preauth, apppass, authfail or authsucc");
        return PAM_SERVICE_ERR;
    }
    return PAM_SUCCESS;
}

static int syslog_priority(enum sg_log_level level)
{
    switch (level) {
    case SG_LOG_ERR: return LOG_ERR;
    case SG_LOG_WARN: return LOG_WARNING;
    case SG_LOG_NOTICE: return LOG_NOTICE;
    case SG_LOG_DEBUG: break;
    }
    return LOG_DEBUG;
}

/* The engine's log sink: its lines are complete, never formatted again. */
static void log_line(void *ctx, enum sg_log_level level, const char *line)
{
    struct sg_pam *p = ctx;

    pam_syslog(p->pamh, syslog_priority(level), "%s", line);
}

static void engine_cleanup(pam_handle_t *pamh, void *data, int error_status)
{
    struct sg_pam *p = data;

    (void)pamh;
    (void)error_status;
    sg_engine_free(p->engine);
    free(p);
}

/* The handle's engine for policy CONF, made on first use. */
static int engine_get(pam_handle_t *pamh, const char *conf, struct sg_pam **out)
{
    char name[sizeof SG_PAM_DATA + SG_PAM_PATH_MAX];
    const void *data = NULL;
    struct sg_pam *p;
    int rc;

    *out = NULL;
    snprintf(name, sizeof name, "%s%s", SG_PAM_DATA, conf);
    if (pam_get_data(pamh, name, &data) == PAM_SUCCESS && data) {
        *out = (struct sg_pam *)data;
        return SG_OK;
    }
    if (!(p = calloc(1, sizeof *p)))
        return SG_ENOMEM;
    p->pamh = pamh;
    if ((rc = sg_engine_new(conf, log_line, p, &p->engine)) != SG_OK) {
        free(p);
        return rc;
    }
    if (pam_set_data(pamh, name, p, engine_cleanup) != PAM_SUCCESS) {
        engine_cleanup(pamh, p, 0);
        return SG_ENOMEM;
    }
    *out = p;
    return SG_OK;
}

/* No engine: refuse (never open) and say why, as the SASL plugin does. */
static int refuse_without_policy(pam_handle_t *pamh, const char *conf, int rc,
                                 const struct sg_attempt *a)
{
    char name[SG_ACCOUNT_PRINTABLE_LEN];
    enum sg_result r = rc == SG_ENOMEM ? SG_RESULT_ERROR : SG_RESULT_CONFIG_ERROR;

    sg_account_printable(a->account, a->account_len, name, sizeof name);
    pam_syslog(pamh, LOG_ERR, "saslguard: cannot use policy %s (%s)", conf, sg_status_str(rc));
    pam_syslog(pamh, LOG_ERR, "saslguard: result=%s account=%s mech=%s detail=policy_not_loaded",
               sg_result_name(r), name, a->mech);
    return sg_result_pam_code(r);
}

/* A conversation that has to be resumed later (PAM_CONV_AGAIN) makes the
 * module return PAM_INCOMPLETE (Linux-PAM's module writers' guide). */
static int conv_code(int rc)
{
    return rc == PAM_CONV_AGAIN ? PAM_INCOMPLETE : rc;
}

PAM_EXTERN int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    struct sg_pam_args args;
    struct sg_attempt a;
    struct sg_decision d;
    struct sg_pam *p;
    const char *user = NULL, *password = NULL;
    const void *item = NULL;
    int rc, decided;

    (void)flags;
    if ((rc = parse_args(pamh, argc, argv, &args)) != PAM_SUCCESS)
        return rc;
    if ((rc = pam_get_user(pamh, &user, NULL)) != PAM_SUCCESS)
        return conv_code(rc);
    if (!user)
        return PAM_USER_UNKNOWN;

    memset(&a, 0, sizeof a);
    a.account = user;
    a.account_len = strlen(user);
    a.mech = "PAM";
    if (pam_get_item(pamh, PAM_RHOST, &item) == PAM_SUCCESS && item && *(const char *)item)
        a.client = item;
    if (args.mode == SG_PAM_APPPASS) {
        if ((rc = pam_get_authtok(pamh, PAM_AUTHTOK, &password, NULL)) != PAM_SUCCESS)
            return conv_code(rc);
    } else if (args.mode == SG_PAM_AUTHFAIL) {
        item = NULL;
        if (pam_get_item(pamh, PAM_AUTHTOK, &item) == PAM_SUCCESS)
            password = item;
    }
    if (password) {
        a.password = password;
        a.password_len = strlen(password);
    }

    if ((rc = engine_get(pamh, args.conf, &p)) != SG_OK)
        return refuse_without_policy(pamh, args.conf, rc, &a);

    switch (args.mode) {
    case SG_PAM_PREAUTH:
        sg_pam_precheck(p, &a, &d);
        return d.pam_code;
    case SG_PAM_APPPASS:
        sg_pam_apppass(p, &a, &d, &decided);
        return decided ? d.pam_code : PAM_IGNORE;
    case SG_PAM_AUTHFAIL:
        /* reached only when the password check failed: never a success */
        sg_pam_record(p, &a, SG_VERIFY_BAD, &d);
        return d.pam_code == PAM_SUCCESS ? PAM_AUTH_ERR : d.pam_code;
    case SG_PAM_AUTHSUCC:
        sg_pam_record(p, &a, SG_VERIFY_OK, &d);
        return d.pam_code;
    case SG_PAM_MODE_NONE:
        break;
    }
    return PAM_SERVICE_ERR;
}

PAM_EXTERN int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    (void)pamh;
    (void)flags;
    (void)argc;
    (void)argv;
    return PAM_SUCCESS;
}
