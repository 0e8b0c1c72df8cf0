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
 *	apppass hands the password to precheck, which tries it as an app
 *	password in its one check round trip; precheck's "decided" says
 *	whether that settled the attempt (an app password, a revoked one, a
 *	refusal) or whether it may go on to the next module. In own-store
 *	mode (password_source = file:) the core verifies the primary
 *	password as well, and apppass makes the whole decision.
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

enum sg_result sg_pam_apppass(struct sg_pam *p, const struct sg_attempt *a,
                              struct sg_decision *d, int *decided)
{
    /* Own-store mode (password_source = file:): the core verifies the
     * primary password too, so the whole decision is made here. */
    if (sg_engine_policy(p->engine)->password_source == SG_PWSRC_FILE)
        sg_engine_decide(p->engine, a, NULL, NULL, d);
    else
        sg_engine_precheck(p->engine, a, d);   /* tries it as an app password */
    *decided = d->decided;
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
