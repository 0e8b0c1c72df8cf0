/*
 * engine.c - the decision engine (see engine.h).
 *
 * One attempt = one check round trip, at most one verification, at most one
 * report round trip, one log line. The password is only ever handed to the
 * front end's verifier; it is never copied, logged or sent to the store.
 *
 * Log line (stable tokens, key=value, always in this order):
 *   saslguard: result=NAME account=NAME [source=PREFIX] [mech=M]
 *              [failures=N] [until=ISO-8601] [store=down policy=P] [detail=...]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "account_key.h"
#include "app_password.h"
#include "engine.h"
#include "secret.h"
#include "status.h"
#include "store.h"

#define SG_LINE_MAX 512

struct sg_engine {
    struct sg_policy *policy;
    struct sg_store *store;
    sg_log_fn log;
    void *log_ctx;
    struct sg_secret secret;
    int have_secret;   /* app passwords can be verified */
};

static void emit(const struct sg_engine *e, enum sg_log_level lvl, const char *line)
{
    if (e && e->log)
        e->log(e->log_ctx, lvl, line);
}

struct diag_ctx {
    sg_log_fn log;
    void *ctx;
};

static void diag_to_log(void *ctx, const char *msg)
{
    struct diag_ctx *d = ctx;
    char line[SG_LINE_MAX];

    snprintf(line, sizeof line, "saslguard: config error: %s", msg);
    if (d->log)
        d->log(d->ctx, SG_LOG_ERR, line);
}

int sg_engine_new(const char *path, sg_log_fn log, void *log_ctx, struct sg_engine **out)
{
    struct diag_ctx d = { log, log_ctx };
    struct sg_policy *p;
    int rc;

    *out = NULL;
    rc = sg_policy_load(path ? path : SG_DEFAULT_CONFIG, &p, diag_to_log, &d);
    if (rc != SG_OK)
        return rc;
    return sg_engine_new_from_policy(p, log, log_ctx, out);
}

/* Read the HMAC key now: the plugin is initialised as root, before the MTA
 * drops privileges, so the key may stay readable by root alone. Without it
 * app passwords cannot match, and accounts that need one cannot log in:
 * say so once, loudly. */
static void load_secret(struct sg_engine *e)
{
    char err[300], line[SG_LINE_MAX];

    if (e->policy->app_passwords == SG_APP_OFF)
        return;
    if (sg_secret_load(e->policy->secret_file, &e->secret, err, sizeof err) == SG_OK) {
        e->have_secret = 1;
        return;
    }
    snprintf(line, sizeof line, "saslguard: app passwords cannot be verified: %s", err);
    emit(e, SG_LOG_WARN, line);
}

int sg_engine_new_from_policy(struct sg_policy *p, sg_log_fn log, void *log_ctx,
                              struct sg_engine **out)
{
    struct sg_engine *e;
    int rc;

    *out = NULL;
    if (!(e = calloc(1, sizeof *e))) {
        sg_policy_free(p);
        return SG_ENOMEM;
    }
    e->policy = p;
    e->log = log;
    e->log_ctx = log_ctx;
    if ((rc = sg_store_open(p, &e->store)) != SG_OK) {
        sg_engine_free(e);
        return rc;
    }
    load_secret(e);
    *out = e;
    return SG_OK;
}

void sg_engine_free(struct sg_engine *e)
{
    if (!e)
        return;
    sg_store_close(e->store);
    sg_policy_free(e->policy);
    sg_secret_wipe(&e->secret);
    free(e);
}

const struct sg_policy *sg_engine_policy(const struct sg_engine *e)
{
    return e->policy;
}

void sg_decision_set(struct sg_decision *out, enum sg_result r)
{
    out->result = r;
    out->sasl_code = sg_result_sasl_code(r);
    out->pam_code = sg_result_pam_code(r);
}

static void iso_time(int64_t ms, char *buf, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(buf, len, "%lld", (long long)ms);
}

/* Write the decision line. DETAIL is an optional extra token (trusted text). */
static void log_decision(const struct sg_engine *e, const struct sg_attempt *a,
                         const struct sg_decision *d, const char *detail)
{
    char line[SG_LINE_MAX], name[SG_ACCOUNT_PRINTABLE_LEN], until[32];
    size_t n;

    sg_account_printable(a->account, a->account_len, name, sizeof name);
    n = (size_t)snprintf(line, sizeof line, "saslguard: result=%s account=%s",
                         sg_result_name(d->result), name);
#define APPEND(...) \
    do { if (n < sizeof line) n += (size_t)snprintf(line + n, sizeof line - n, __VA_ARGS__); } while (0)
    if (d->source[0])
        APPEND(" source=%s", d->source);
    if (a->mech)
        APPEND(" mech=%s", a->mech);
    if (d->failures > 0)
        APPEND(" failures=%ld", d->failures);
    if (d->until_ms > 0) {
        iso_time(d->until_ms, until, sizeof until);
        APPEND(" until=%s", until);
    }
    if (detail)
        APPEND(" %s", detail);
#undef APPEND
    emit(e, d->result == SG_RESULT_SUCCESS ? SG_LOG_NOTICE : SG_LOG_WARN, line);
}

static enum sg_result from_state(enum sg_check_state st)
{
    switch (st) {
    case SG_STATE_ACCOUNT_LOCKED: return SG_RESULT_LOCKED;
    case SG_STATE_ACCOUNT_DISABLED: return SG_RESULT_DISABLED;
    case SG_STATE_SOURCE_BLOCKED: return SG_RESULT_THROTTLED;
    case SG_STATE_ALLOWED: break;
    }
    return SG_RESULT_SUCCESS;
}

static enum sg_result from_verify(enum sg_verify v)
{
    switch (v) {
    case SG_VERIFY_OK: return SG_RESULT_SUCCESS;
    case SG_VERIFY_BAD: return SG_RESULT_BAD_CREDENTIALS;
    case SG_VERIFY_UNAVAIL: break;
    }
    return SG_RESULT_BACKEND_UNAVAILABLE;
}

/* Work out the source prefix text; COUNTED is NULL for a trusted source. */
static void resolve_source(const struct sg_engine *e, const struct sg_attempt *a,
                           struct sg_decision *d, const char **counted)
{
    const struct sg_policy *p = e->policy;
    struct sg_addr addr;
    struct sg_prefix pfx;

    *counted = NULL;
    if (!a->client || sg_addr_parse(a->client, &addr) != SG_OK)
        return;
    sg_addr_to_prefix(&addr, p->ipv4_prefix, p->ipv6_prefix, &pfx);
    if (sg_prefix_format(&pfx, d->source, sizeof d->source) != SG_OK) {
        d->source[0] = '\0';
        return;
    }
    if (!sg_policy_is_trusted(p, &addr))
        *counted = d->source;
}

/* Redis is down: the policy's store_failure decides. */
static enum sg_result decide_without_store(struct sg_engine *e, const struct sg_attempt *a,
                                           sg_verify_fn verify, void *vctx,
                                           struct sg_decision *d)
{
    static const char *const names[] = { "tempfail", "open", "closed" };
    enum sg_store_failure mode = e->policy->store_failure;
    char detail[320];

    if (mode == SG_FAIL_OPEN)
        sg_decision_set(d, from_verify(verify(vctx, a->account, a->account_len,
                                              a->password, a->password_len)));
    else
        sg_decision_set(d, mode == SG_FAIL_CLOSED ? SG_RESULT_STORE_CLOSED
                                                  : SG_RESULT_STORE_UNAVAILABLE);
    snprintf(detail, sizeof detail, "store=down policy=%s error=\"%s\"",
             names[mode], sg_store_error(e->store));
    log_decision(e, a, d, detail);
    return d->result;
}

/* The app-password digest of the presented password, when it has the shape
 * of one (16 letters, blanks and dashes aside); "" otherwise. */
static void app_digest(const struct sg_engine *e, const struct sg_attempt *a,
                       const char *key, char hex[SG_DIGEST_HEX])
{
    char letters[SG_APP_PASSWORD_LEN + 1];

    hex[0] = '\0';
    if (!e->have_secret
        || sg_app_password_normalize(a->password, a->password_len, letters) != SG_OK)
        return;
    if (sg_app_password_digest(&e->secret, key, letters, hex) != SG_OK)
        hex[0] = '\0';
    sg_secret_wipe_buffer(letters, sizeof letters);
}

/* The check found the password among the account's app passwords. */
static enum sg_result decide_app_password(struct sg_engine *e, const struct sg_attempt *a,
                                          const struct sg_store_state *st,
                                          struct sg_decision *d)
{
    static const char *const why[] = { "", "", "revoked", "expired" };
    char detail[96];

    if (st->app_match == SG_APP_OK) {
        sg_decision_set(d, SG_RESULT_SUCCESS);
        snprintf(detail, sizeof detail, "credential=app_password label=%s", st->app_label);
    } else {
        /* a stale device: refused, and not the owner's fault to count */
        sg_decision_set(d, SG_RESULT_REVOKED_CREDENTIAL);
        snprintf(detail, sizeof detail, "label=%s reason=%s", st->app_label, why[st->app_match]);
    }
    log_decision(e, a, d, detail);
    return d->result;
}

/* The primary password was right, but the account may only use app
 * passwords: refuse without counting a failure. */
static enum sg_result decide_app_password_required(struct sg_engine *e, const struct sg_attempt *a,
                                                   const char *key, const char *source,
                                                   struct sg_decision *d)
{
    struct sg_store_state st;

    sg_decision_set(d, SG_RESULT_APP_PASSWORD_REQUIRED);
    if (e->policy->mfa_primary_password == SG_MFA_REFUSE)
        d->sasl_code = sg_result_sasl_code(SG_RESULT_BAD_CREDENTIALS);
    if (sg_store_report(e->store, key, source, SG_REPORT_NEUTRAL,
                        sg_result_name(d->result), &st) != SG_OK)
        log_decision(e, a, d, "store=down counted=no");
    else
        log_decision(e, a, d, NULL);
    return d->result;
}

enum sg_result sg_engine_decide(struct sg_engine *e, const struct sg_attempt *a,
                                sg_verify_fn verify, void *vctx, struct sg_decision *d)
{
    char key[SG_ACCOUNT_KEY_LEN], digest[SG_DIGEST_HEX];
    const char *source;
    struct sg_store_state st;
    enum sg_verify v;
    int needs_app_password;

    memset(d, 0, sizeof *d);
    if (!e) {
        sg_decision_set(d, SG_RESULT_CONFIG_ERROR);
        return d->result;
    }
    resolve_source(e, a, d, &source);
    if (!a->account || a->account_len == 0
        || sg_account_key(a->account, a->account_len, key, sizeof key) != SG_OK) {
        /* No name to count against: refuse, as a wrong password would be. */
        sg_decision_set(d, SG_RESULT_BAD_CREDENTIALS);
        log_decision(e, a, d, "detail=empty_account");
        return d->result;
    }

    app_digest(e, a, key, digest);
    if (sg_store_check(e->store, key, source, digest, &st) != SG_OK)
        return decide_without_store(e, a, verify, vctx, d);
    d->failures = st.failures;
    if (st.state != SG_STATE_ALLOWED) {
        /* Refused before verification: no hashing, no backend call. */
        sg_decision_set(d, from_state(st.state));
        d->until_ms = st.until_ms;
        log_decision(e, a, d, NULL);
        return d->result;
    }
    if (st.app_match != SG_APP_NONE) {
        d->failures = 0;
        return decide_app_password(e, a, &st, d);
    }

    v = verify(vctx, a->account, a->account_len, a->password, a->password_len);
    sg_decision_set(d, from_verify(v));
    if (v == SG_VERIFY_UNAVAIL) {
        log_decision(e, a, d, NULL);    /* not the client's fault: not counted */
        return d->result;
    }
    needs_app_password = e->policy->app_passwords == SG_APP_REQUIRED
                         || (e->policy->app_passwords == SG_APP_PER_ACCOUNT && st.mfa);
    if (v == SG_VERIFY_OK && needs_app_password)
        return decide_app_password_required(e, a, key, source, d);

    if (sg_store_report(e->store, key, source,
                        v == SG_VERIFY_OK ? SG_REPORT_SUCCESS : SG_REPORT_FAILURE,
                        sg_result_name(d->result), &st) != SG_OK) {
        char detail[300];

        snprintf(detail, sizeof detail, "store=down error=\"%s\" counted=no",
                 sg_store_error(e->store));
        log_decision(e, a, d, detail);
        return d->result;
    }
    if (v == SG_VERIFY_BAD) {
        d->failures = st.failures;
        d->until_ms = st.until_ms;
    } else {
        d->failures = 0;
    }
    log_decision(e, a, d, v == SG_VERIFY_BAD && st.state != SG_STATE_ALLOWED
                              ? (st.state == SG_STATE_SOURCE_BLOCKED ? "now=throttled" : "now=locked")
                              : NULL);
    return d->result;
}
