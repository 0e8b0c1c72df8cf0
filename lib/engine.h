/*
 * engine.h - the decision engine: the one entry point of every front end.
 *
 * For each attempt: check the store (one round trip), refuse locked or
 * throttled attempts without calling the verifier, otherwise verify the
 * password through the front end's callback, report the outcome (one round
 * trip), log one decision line and return the result with the SASL and PAM
 * codes to answer. With the store unreachable, the policy's store_failure
 * decides (tempfail / open / closed).
 *
 * With password_source = file:PATH the engine verifies primary passwords
 * itself against that file (passwd_file.h), opened when the engine is made
 * (a file that does not load is a configuration error, like a broken
 * policy); sg_engine_decide() then ignores the front end's verifier, and
 * the file's "mfa" flag counts like the account's mfa flag in Redis.
 */
#ifndef SG_ENGINE_H
#define SG_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include "addr.h"
#include "log.h"
#include "outcome.h"
#include "policy.h"

struct sg_engine;
struct sg_passwd_file;

enum sg_verify {
    SG_VERIFY_OK = 0,   /* password correct */
    SG_VERIFY_BAD,      /* wrong password or no such user */
    SG_VERIFY_UNAVAIL   /* the backend could not answer (temporary) */
};

/* A Cyrus SASL password-check result (sasl_checkpass, utils->checkpass) as
 * a verdict: wrong password, unknown user or an account the backend
 * refuses is the client's doing (BAD, counted); any other failure is the
 * server's (UNAVAIL: backend down, out of memory...; not counted). */
enum sg_verify sg_verify_from_sasl(int sasl_code);

/* Verifies the primary password. Never logs or keeps the password. */
typedef enum sg_verify (*sg_verify_fn)(void *ctx, const char *account, size_t account_len,
                                       const char *password, size_t password_len);

struct sg_attempt {
    const char *account;     /* canonical account name (bytes) */
    size_t account_len;
    const char *password;
    size_t password_len;
    const char *client;      /* "192.0.2.7;40000", bare address, or NULL */
    const char *mech;        /* "PLAIN", "LOGIN", "PAM"... for the log line */
};

/* Which app password the presented password was (sg_decision.app_password). */
enum sg_decision_app {
    SG_DECISION_APP_NONE = 0,       /* not an app password of the account */
    SG_DECISION_APP_OK,             /* an active one: logged in with it */
    SG_DECISION_APP_REVOKED,        /* a revoked one */
    SG_DECISION_APP_EXPIRED         /* one past its expiry */
};

struct sg_decision {
    enum sg_result result;
    int sasl_code;
    int pam_code;
    long failures;                  /* account failures in the window */
    int64_t until_ms;               /* lock/block end, 0 if none */
    char source[SG_PREFIX_STRLEN];  /* "192.0.2.0/24", "" when unknown */
    int decided;                    /* the decision is complete (always after
                                     * decide/record; after precheck only
                                     * when the check alone made it) */
    enum sg_decision_app app_password;
    char app_label[33];             /* which app password, "" if none */
};

/*
 * Create an engine from the policy file at PATH (NULL: the default path).
 * Every configuration error is logged through LOG at SG_LOG_ERR with its
 * file and line; then SG_ECONFIG is returned and *out is NULL.
 */
int sg_engine_new(const char *path, sg_log_fn log, void *log_ctx, struct sg_engine **out);

/* Same with a policy already loaded; the engine takes ownership of P. */
int sg_engine_new_from_policy(struct sg_policy *p, sg_log_fn log, void *log_ctx,
                              struct sg_engine **out);

void sg_engine_free(struct sg_engine *e);

const struct sg_policy *sg_engine_policy(const struct sg_engine *e);

/* The password file in use (password_source = file:), else NULL. */
struct sg_passwd_file *sg_engine_passwd_file(const struct sg_engine *e);

/* Decide one attempt. Always fills OUT; E may be NULL (no valid policy):
 * then the result is SG_RESULT_CONFIG_ERROR. Returns OUT->result. */
enum sg_result sg_engine_decide(struct sg_engine *e, const struct sg_attempt *a,
                                sg_verify_fn verify, void *verify_ctx,
                                struct sg_decision *out);

/*
 * The decision in two halves, for hosts that verify the password elsewhere
 * (a PAM stack in the style of pam_faillock: preauth, then pam_unix, then
 * authfail or authsucc).
 *
 * precheck: may the attempt go on? One check round trip, no verification:
 * SG_RESULT_SUCCESS with decided = 0 when it may, else the refusal
 * (locked, throttled, disabled, store unavailable/closed), logged like a
 * whole decision, with decided = 1. With store_failure = open and Redis
 * down, the attempt may go on. When the attempt carries a password that is
 * one of the account's app passwords, that settles it in the same round
 * trip: SG_RESULT_SUCCESS (or SG_RESULT_REVOKED_CREDENTIAL) with
 * decided = 1 and app_password/app_label set.
 *
 * record: the verification made elsewhere said OUTCOME; count it (one
 * report round trip) and log the decision. SG_VERIFY_UNAVAIL is logged and
 * not counted. For a correct password on an account that needs an app
 * password, the result is SG_RESULT_APP_PASSWORD_REQUIRED (not counted).
 */
enum sg_result sg_engine_precheck(struct sg_engine *e, const struct sg_attempt *a,
                                  struct sg_decision *out);
enum sg_result sg_engine_record(struct sg_engine *e, const struct sg_attempt *a,
                                enum sg_verify outcome, struct sg_decision *out);

/* Fill OUT for result R with its codes (used for refusals made outside). */
void sg_decision_set(struct sg_decision *out, enum sg_result r);

#endif
