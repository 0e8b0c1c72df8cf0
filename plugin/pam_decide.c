/*
 * NAME
 *	pam_decide - pam_saslguard's modes in the decision engine's terms
 * SYNOPSIS
 *	#include "pam_saslguard.h"
 *
 *	enum sg_result sg_pam_precheck(p, attempt, &decision)
 *	enum sg_result sg_pam_apppass(p, attempt, &decision, &decided)
 *	enum sg_result sg_pam_record(p, attempt, outcome, &decision)
 * DESCRIPTION
 *	In a PAM stack another module (pam_unix, pam_ldap, pam_userdb...)
 *	checks the primary password, so one decision is split over two calls
 *	of this module: a check before that module (preauth, apppass) and a
 *	report after it (authfail, authsucc), the engine's
 *	sg_engine_precheck() and sg_engine_record().
 *
 *	preauth never hands the password to precheck: it does not prompt
 *	for one, and app passwords are apppass's job.
 *
 *	apppass needs to know whether the check round trip logged the user
 *	in with an app password, and precheck answers SG_RESULT_SUCCESS both
 *	for that and for "may go on". So apppass runs sg_engine_decide()
 *	with a probe verifier. The engine calls a verifier only for an
 *	attempt it allows that no app password decided (after the check, or
 *	with Redis down and store_failure = open); the probe notes that,
 *	answers SG_VERIFY_UNAVAIL, which the engine never counts, and mutes
 *	the engine's log until decide returns, so that the placeholder
 *	"result=backend_unavailable" line never reaches syslog. Any other
 *	outcome is the engine's own decision, logged and counted as always.
 *
 *	record passes the password only with a failure, for the engine's
 *	wrong-password fingerprint (the same wrong password counts once).
 *
 *	The password is never copied, logged or kept here.
 */
#include <stddef.h>

#include "pam_saslguard.h"

enum sg_result sg_pam_precheck(struct sg_pam *p, const struct sg_attempt *a,
                               struct sg_decision *d)
{
    struct sg_attempt b = *a;

    b.password = NULL;
    b.password_len = 0;
    return sg_engine_precheck(p->engine, &b, d);
}

static enum sg_verify probe(void *ctx, const char *account, size_t account_len,
                            const char *password, size_t password_len)
{
    struct sg_pam *p = ctx;

    (void)account;
    (void)account_len;
    (void)password;
    (void)password_len;
    p->probed = 1;
    p->quiet = 1;
    return SG_VERIFY_UNAVAIL;
}

enum sg_result sg_pam_apppass(struct sg_pam *p, const struct sg_attempt *a,
                              struct sg_decision *d, int *decided)
{
    p->probed = 0;
    p->quiet = 0;
    sg_engine_decide(p->engine, a, probe, p, d);
    p->quiet = 0;
    *decided = !p->probed;
    if (p->probed) {
        sg_decision_set(d, SG_RESULT_SUCCESS);    /* may go on */
        d->until_ms = 0;
    }
    return d->result;
}

enum sg_result sg_pam_record(struct sg_pam *p, const struct sg_attempt *a,
                             enum sg_verify outcome, struct sg_decision *d)
{
    struct sg_attempt b = *a;

    if (outcome != SG_VERIFY_BAD) {
        b.password = NULL;
        b.password_len = 0;
    }
    return sg_engine_record(p->engine, &b, outcome, d);
}
