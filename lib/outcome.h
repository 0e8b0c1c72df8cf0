/*
 * outcome.h - the results of a decision and what each front end answers.
 *
 * This is DESIGN.md's reply table in code: one row per result, with its
 * stable log name, its Cyrus SASL code and its PAM code. Front ends never
 * choose a code themselves; they look it up here.
 */
#ifndef SG_OUTCOME_H
#define SG_OUTCOME_H

enum sg_result {
    SG_RESULT_SUCCESS = 0,
    SG_RESULT_BAD_CREDENTIALS,     /* wrong password or unknown user */
    SG_RESULT_LOCKED,              /* account temporarily locked */
    SG_RESULT_THROTTLED,           /* client source blocked */
    SG_RESULT_DISABLED,            /* locked by an admin until unlocked */
    SG_RESULT_APP_PASSWORD_REQUIRED,
    SG_RESULT_REVOKED_CREDENTIAL,  /* a revoked or expired app password */
    SG_RESULT_STORE_UNAVAILABLE,   /* Redis down, store_failure = tempfail */
    SG_RESULT_STORE_CLOSED,        /* Redis down, store_failure = closed */
    SG_RESULT_BACKEND_UNAVAILABLE, /* the password backend could not answer */
    SG_RESULT_CONFIG_ERROR,        /* policy file broken: refuse, never open */
    SG_RESULT_ERROR,               /* internal error (memory...) */
    SG_RESULT_COUNT
};

/* "success", "bad_credentials", "locked", ... (the result= log token) */
const char *sg_result_name(enum sg_result r);
/* SASL_OK, SASL_BADAUTH, SASL_TRYAGAIN, ... */
int sg_result_sasl_code(enum sg_result r);
/* PAM_SUCCESS, PAM_AUTH_ERR, PAM_MAXTRIES, ... */
int sg_result_pam_code(enum sg_result r);
/* Parse a result name; -1 if unknown. */
int sg_result_from_name(const char *name);

#endif
