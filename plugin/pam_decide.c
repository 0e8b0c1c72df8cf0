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
 *	report after it (authfail, authsucc). engine.h declares the split as
 *	sg_engine_precheck() and sg_engine_record(). They are weak references
 *	here: once lib/engine.c defines them they are used; until then the
 *	same halves are made from sg_engine_decide() and a verifier:
 *
 *	precheck: decide with no password and a probe verifier. The engine
 *	calls a verifier only for an attempt it allows (after its check round
 *	trip, or with Redis down and store_failure = open). The probe notes
 *	that, answers SG_VERIFY_UNAVAIL, which the engine never counts, and
 *	mutes the engine's log until decide returns, so that its placeholder
 *	"result=backend_unavailable" line never reaches syslog. A refusal is
 *	the engine's own decision: logged and counted as always.
 *
 *	apppass: the same with the password. The check round trip compares
 *	it with the account's app passwords and decides (success, revoked,
 *	expired) without calling the probe. Always made this way: the
 *	engine's precheck does not look at passwords.
 *
 *	record: decide with a verifier answering the outcome the other module
 *	reached: a check round trip (a lock set meanwhile wins), then the
 *	report, with the engine's rule for accounts that need an app password
 *	and its log line. A password of the app-password shape is not passed
 *	on, so that it cannot log in here as an app password.
 *
 *	The password is never copied, logged or kept.
 */
#include <stddef.h>

#include "app_password.h"
#include "pam_saslguard.h"
#include "secret.h"
#include "status.h"

/* Defined by lib/engine.c once the split is implemented there. */
#pragma weak sg_engine_precheck
#pragma weak sg_engine_record

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

/* Decide A with the probe. Returns 1 when the engine let the attempt go
 * on to verification (D then says SG_RESULT_SUCCESS), 0 when D is the
 * engine's whole decision. */
static int decide_probed(struct sg_pam *p, const struct sg_attempt *a, struct sg_decision *d)
{
    p->probed = 0;
    p->quiet = 0;
    sg_engine_decide(p->engine, a, probe, p, d);
    p->quiet = 0;
    if (!p->probed)
        return 0;
    sg_decision_set(d, SG_RESULT_SUCCESS);
    d->until_ms = 0;
    return 1;
}

enum sg_result sg_pam_precheck(struct sg_pam *p, const struct sg_attempt *a,
                               struct sg_decision *d)
{
    struct sg_attempt b = *a;

    b.password = "";
    b.password_len = 0;
    if (sg_engine_precheck)
        return sg_engine_precheck(p->engine, &b, d);
    decide_probed(p, &b, d);
    return d->result;
}

enum sg_result sg_pam_apppass(struct sg_pam *p, const struct sg_attempt *a,
                              struct sg_decision *d, int *decided)
{
    *decided = !decide_probed(p, a, d);
    return d->result;
}

static enum sg_verify answer(void *ctx, const char *account, size_t account_len,
                             const char *password, size_t password_len)
{
    (void)account;
    (void)account_len;
    (void)password;
    (void)password_len;
    return *(const enum sg_verify *)ctx;
}

/* Does the password look like an app password (16 letters)? */
static int app_shaped(const char *password, size_t len)
{
    char letters[SG_APP_PASSWORD_LEN + 1];

    if (sg_app_password_normalize(password, len, letters) != SG_OK)
        return 0;
    sg_secret_wipe_buffer(letters, sizeof letters);
    return 1;
}

enum sg_result sg_pam_record(struct sg_pam *p, const struct sg_attempt *a,
                             enum sg_verify outcome, struct sg_decision *d)
{
    struct sg_attempt b = *a;

    if (!b.password || outcome != SG_VERIFY_BAD) {
        b.password = "";     /* only a wrong password's fingerprint needs it */
        b.password_len = 0;
    }
    if (sg_engine_record)
        return sg_engine_record(p->engine, &b, outcome, d);
    if (app_shaped(b.password, b.password_len)) {
        b.password = "";
        b.password_len = 0;
    }
    p->quiet = 0;
    return sg_engine_decide(p->engine, &b, answer, &outcome, d);
}
