/*
 * pam_saslguard.h - the pieces of the PAM module pam_saslguard.so.
 *
 * pam_saslguard.c is the host side: module arguments, PAM items, one
 * engine per PAM handle, logging through pam_syslog. pam_decide.c puts
 * each mode in the engine's terms. The decision itself is the core's
 * (lib/engine.h); nothing here chooses a result or a PAM code.
 */
#ifndef SG_PAM_SASLGUARD_H
#define SG_PAM_SASLGUARD_H

#include <security/pam_modules.h>

#include "engine.h"

/* The module argument that selects the job of one stack line. */
enum sg_pam_mode {
    SG_PAM_MODE_NONE = 0,
    SG_PAM_PREAUTH,     /* before the password check: refuse if locked */
    SG_PAM_APPPASS,     /* preauth, and log in with an app password */
    SG_PAM_AUTHFAIL,    /* the password check failed: count it */
    SG_PAM_AUTHSUCC     /* the password check succeeded: record it */
};

/* One PAM handle's engine and log sink (kept with pam_set_data). */
struct sg_pam {
    pam_handle_t *pamh;
    struct sg_engine *engine;
};

/*
 * pam_decide.c. Each fills D and returns D->result. P->engine is never
 * NULL here. The password in A is only used as the mode says.
 */

/* preauth: may the attempt go on (SG_RESULT_SUCCESS), or the refusal.
 * The password is not used (preauth does not prompt for it). */
enum sg_result sg_pam_precheck(struct sg_pam *p, const struct sg_attempt *a,
                               struct sg_decision *d);

/* apppass: the precheck, and A's password tried as an app password in the
 * same round trip. *DECIDED is 1 when D is the whole decision (success by
 * app password, or a refusal), 0 when the attempt may go on to the
 * primary password check. */
enum sg_result sg_pam_apppass(struct sg_pam *p, const struct sg_attempt *a,
                              struct sg_decision *d, int *decided);

/* authfail/authsucc: the password check made by another module said
 * OUTCOME; count it. A's password (may be NULL) only serves the
 * wrong-password fingerprint. */
enum sg_result sg_pam_record(struct sg_pam *p, const struct sg_attempt *a,
                             enum sg_verify outcome, struct sg_decision *d);

#endif
