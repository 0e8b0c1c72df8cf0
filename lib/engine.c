/*
 * engine.c - the decision engine (see engine.h).
 *
 * One attempt = one check round trip, at most one verification, at most one
 * report round trip (none for a clean success: a success that would change
 * nothing, which check counted in advance; lua/check.lua), one log line.
 * The password is only ever handed to the verifier (the front end's, or
 * with password_source = file: the core's own password file); it is never
 * copied, logged or sent to the store.
 *
 * Log line (stable tokens, key=value, always in this order):
 *   saslguard: result=NAME account=NAME [source=PREFIX] [mech=M]
 *              [failures=N] [until=ISO-8601] [store=down policy=P] [detail=...]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "account_key.h"
#include "app_admin.h"
#include "app_password.h"
#include "engine.h"
#include "passwd_file.h"
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
    struct sg_passwd_file *pwfile;   /* password_source = file:, else NULL */
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
 * app passwords cannot match (accounts that need one cannot log in) and
 * wrong passwords cannot be fingerprinted: say so once, loudly. */
static void load_secret(struct sg_engine *e)
{
    char err[300], line[SG_LINE_MAX];

    if (sg_secret_load(e->policy->secret_file, &e->secret, err, sizeof err) == SG_OK) {
        e->have_secret = 1;
        return;
    }
    snprintf(line, sizeof line, "saslguard: no secret: %srepeated wrong passwords count "
             "each time: %s", e->policy->app_passwords == SG_APP_OFF ? ""
             : "app passwords cannot be verified, ", err);
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
    /* A password file that does not load is a broken policy: refusing
     * (config_error) beats running without the passwords it holds. */
    if (p->password_source == SG_PWSRC_FILE
        && (rc = sg_passwd_file_open(p->password_file, log, log_ctx, &e->pwfile)) != SG_OK) {
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
    sg_passwd_file_close(e->pwfile);
    sg_policy_free(e->policy);
    sg_secret_wipe(&e->secret);
    free(e);
}

const struct sg_policy *sg_engine_policy(const struct sg_engine *e)
{
    return e->policy;
}

struct sg_passwd_file *sg_engine_passwd_file(const struct sg_engine *e)
{
    return e->pwfile;
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

/* One attempt on its way through the engine. */
struct job {
    struct sg_engine *e;
    const struct sg_attempt *a;
    struct sg_decision *d;
    char key[SG_ACCOUNT_KEY_LEN];
    char digest[SG_DIGEST_HEX];
    char fingerprint[SG_DIGEST_HEX];
    struct sg_store_attempt sa;
    int file_mfa;       /* the password file's "mfa" flag for the account */
    int success_counted; /* check counted a success in advance (store.h) */
};

/* The source prefix (d->source), and whether it is counted (not trusted). */
static void resolve_source(struct job *j)
{
    const struct sg_policy *p = j->e->policy;
    struct sg_addr addr;
    struct sg_prefix pfx;

    if (!j->a->client || sg_addr_parse(j->a->client, &addr) != SG_OK)
        return;
    sg_addr_to_prefix(&addr, p->ipv4_prefix, p->ipv6_prefix, &pfx);
    if (sg_prefix_format(&pfx, j->d->source, sizeof j->d->source) != SG_OK) {
        j->d->source[0] = '\0';
        return;
    }
    j->sa.source = j->d->source;
    j->sa.source_counted = !sg_policy_is_trusted(p, &addr);
}

/* Set up J; 0 when the decision is made already: no engine (config_error),
 * or no account name (logged). */
static int begin(struct job *j, struct sg_engine *e, const struct sg_attempt *a,
                 struct sg_decision *d)
{
    memset(d, 0, sizeof *d);
    memset(j, 0, sizeof *j);
    d->decided = 1;     /* precheck clears it when the attempt may go on */
    if (!e) {           /* no valid policy: refuse, never "no protection" */
        sg_decision_set(d, SG_RESULT_CONFIG_ERROR);
        return 0;
    }
    j->e = e;
    j->a = a;
    j->d = d;
    j->sa.account = j->key;
    resolve_source(j);
    if (!a->account || a->account_len == 0
        || sg_account_key(a->account, a->account_len, j->key, sizeof j->key) != SG_OK) {
        /* No name to count against: refuse, as a wrong password would be. */
        sg_decision_set(d, SG_RESULT_BAD_CREDENTIALS);
        log_decision(e, a, d, "detail=empty_account");
        return 0;
    }
    return 1;
}

/* The app-password digest of the presented password, when it has the shape
 * of one (16 letters, blanks and dashes aside). */
static void app_digest(struct job *j)
{
    char letters[SG_APP_PASSWORD_LEN + 1];

    if (!j->e->have_secret || j->e->policy->app_passwords == SG_APP_OFF || !j->a->password
        || sg_app_password_normalize(j->a->password, j->a->password_len, letters) != SG_OK)
        return;
    if (sg_app_password_digest(&j->e->secret, j->key, letters, j->digest) == SG_OK)
        j->sa.app_digest = j->digest;
    sg_secret_wipe_buffer(letters, sizeof letters);
}

/* A keyed fingerprint of a wrong password, so that the same one again can
 * be recognised without keeping it: 64 bits are plenty for 32 entries. */
static void fingerprint(struct job *j)
{
    if (!j->e->have_secret || !j->a->password
        || sg_secret_hmac(&j->e->secret, "wrong-password", j->key, strlen(j->key),
                          j->a->password, j->a->password_len, j->fingerprint) != SG_OK)
        return;
    j->fingerprint[16] = '\0';
    j->sa.fingerprint = j->fingerprint;
}

/* Jitter in [-0.1, 0.1] for an escalated lock. */
static double jitter(void)
{
    unsigned char b[4];
    uint32_t v;

    if (RAND_bytes(b, sizeof b) != 1)
        return 0;
    v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    return ((double)v / 4294967295.0 - 0.5) / 5.0;
}

/* Redis is down: the policy's store_failure decides. */
static enum sg_result decide_without_store(struct job *j, sg_verify_fn verify, void *vctx)
{
    static const char *const names[] = { "tempfail", "open", "closed" };
    enum sg_store_failure mode = j->e->policy->store_failure;
    const struct sg_attempt *a = j->a;
    char detail[320];

    if (mode == SG_FAIL_OPEN && !verify) {
        sg_decision_set(j->d, SG_RESULT_SUCCESS);   /* precheck: may go on, unlogged */
        j->d->decided = 0;
        return j->d->result;
    }
    if (mode == SG_FAIL_OPEN)
        sg_decision_set(j->d, verify ? from_verify(verify(vctx, a->account, a->account_len,
                                                          a->password, a->password_len))
                                     : SG_RESULT_SUCCESS);
    else
        sg_decision_set(j->d, mode == SG_FAIL_CLOSED ? SG_RESULT_STORE_CLOSED
                                                     : SG_RESULT_STORE_UNAVAILABLE);
    snprintf(detail, sizeof detail, "store=down policy=%s error=\"%s\"",
             names[mode], sg_store_error(j->e->store));
    log_decision(j->e, a, j->d, detail);
    return j->d->result;
}

/* Check, one round trip. Returns 1 when the attempt may go on to
 * verification; 0 when J's decision is made (and logged). */
static int check(struct job *j, sg_verify_fn verify, void *vctx, struct sg_store_state *st)
{
    static const char *const why[] = { "", "", "revoked", "expired" };
    struct sg_decision *d = j->d;
    char detail[96];

    if (sg_store_check(j->e->store, &j->sa, st) != SG_OK) {
        decide_without_store(j, verify, vctx);
        return 0;
    }
    d->failures = st->failures;
    if (st->state != SG_STATE_ALLOWED) {
        /* Refused before verification: no hashing, no backend call. */
        sg_decision_set(d, from_state(st->state));
        d->until_ms = st->until_ms;
        log_decision(j->e, j->a, d, st->familiar ? "familiar=yes" : NULL);
        return 0;
    }
    if (st->app_match == SG_APP_NONE)
        return 1;
    d->failures = 0;
    d->app_password = (enum sg_decision_app)st->app_match;
    snprintf(d->app_label, sizeof d->app_label, "%s", st->app_label);
    if (st->app_match == SG_APP_OK) {
        sg_decision_set(d, SG_RESULT_SUCCESS);
        snprintf(detail, sizeof detail, "credential=app_password label=%s", st->app_label);
    } else {
        /* a stale device: refused, and not the owner's fault to count */
        sg_decision_set(d, SG_RESULT_REVOKED_CREDENTIAL);
        snprintf(detail, sizeof detail, "label=%s reason=%s", st->app_label,
                 why[st->app_match]);
    }
    log_decision(j->e, j->a, d, detail);
    return 0;
}

/* Tokens that say why a failure counted as it did. */
static void failure_detail(const struct sg_store_state *st, char *buf, size_t len)
{
    size_t n = 0;

    buf[0] = '\0';
#define ADD(...) \
    do { if (n < len) n += (size_t)snprintf(buf + n, len - n, __VA_ARGS__); } while (0)
    if (st->repeated)
        ADD("%srepeat=yes counted=no", n ? " " : "");
    if (st->familiar)
        ADD("%sfamiliar=yes", n ? " " : "");
    if (st->state == SG_STATE_SOURCE_BLOCKED)
        ADD("%snow=throttled%s", n ? " " : "", st->spray ? " reason=spray" : "");
    else if (st->state != SG_STATE_ALLOWED)
        ADD("%snow=locked level=%ld", n ? " " : "", st->level);
#undef ADD
}

/*
 * The verification said V: report it (one round trip) and log. MFA is 1 or
 * 0 when check told whether the account needs an app password, -1 when
 * unknown (precheck/record): then the report script decides.
 */
static enum sg_result finish(struct job *j, enum sg_verify v, int mfa)
{
    struct sg_engine *e = j->e;
    struct sg_decision *d = j->d;
    struct sg_store_state st;
    enum sg_report_kind kind;
    char detail[300];
    int rc;
    int required = sg_app_needed(e->policy, mfa == 1) != SG_APP_NEED_NONE;

    sg_decision_set(d, from_verify(v));
    j->sa.take_back_success = j->success_counted;
    if (v == SG_VERIFY_UNAVAIL) {
        /* not the client's fault: not counted (but a success counted in
         * advance is taken back) */
        if (j->success_counted)
            sg_store_report(e->store, &j->sa, SG_REPORT_NEUTRAL, NULL, &st);
        log_decision(e, j->a, d, NULL);
        return d->result;
    }
    if (v == SG_VERIFY_BAD) {
        fingerprint(j);
        j->sa.jitter = jitter();
        kind = SG_REPORT_FAILURE;
    } else if (required) {
        sg_decision_set(d, SG_RESULT_APP_PASSWORD_REQUIRED);
        kind = SG_REPORT_NEUTRAL;
    } else {
        kind = mfa < 0 && e->policy->app_passwords == SG_APP_PER_ACCOUNT
               ? SG_REPORT_SUCCESS_UNLESS_MFA : SG_REPORT_SUCCESS;
    }

    if (kind == SG_REPORT_SUCCESS && j->success_counted) {
        /* a clean success: check counted it and it changes nothing else */
        d->failures = 0;
        log_decision(e, j->a, d, NULL);
        return d->result;
    }
    memset(&st, 0, sizeof st);
    rc = kind == SG_REPORT_SUCCESS
         /* nothing in a success's reply changes the answer: don't wait */
         ? sg_store_report_deferred(e->store, &j->sa, sg_result_name(d->result))
         : sg_store_report(e->store, &j->sa, kind, kind == SG_REPORT_SUCCESS_UNLESS_MFA
                           ? "success" : sg_result_name(d->result), &st);
    if (rc != SG_OK) {
        snprintf(detail, sizeof detail, "store=down error=\"%s\" counted=no",
                 sg_store_error(e->store));
        log_decision(e, j->a, d, detail);
        return d->result;
    }
    if (st.needs_app_password)
        sg_decision_set(d, SG_RESULT_APP_PASSWORD_REQUIRED);
    if (d->result == SG_RESULT_APP_PASSWORD_REQUIRED
        && e->policy->mfa_primary_password == SG_MFA_REFUSE)
        d->sasl_code = sg_result_sasl_code(SG_RESULT_BAD_CREDENTIALS);
    if (v == SG_VERIFY_BAD) {
        d->failures = st.failures;
        d->until_ms = st.until_ms;
        failure_detail(&st, detail, sizeof detail);
        log_decision(e, j->a, d, detail[0] ? detail : NULL);
    } else {
        d->failures = 0;
        log_decision(e, j->a, d, NULL);
    }
    return d->result;
}

/* The verifier for password_source = file: (ctx: the job). */
static enum sg_verify verify_file(void *ctx, const char *account, size_t account_len,
                                  const char *password, size_t password_len)
{
    struct job *j = ctx;
    unsigned flags;
    enum sg_verify v = sg_passwd_file_verify(j->e->pwfile, account, account_len,
                                             password, password_len, &flags);

    j->file_mfa = (flags & SG_PWF_MFA) != 0;
    return v;
}

enum sg_result sg_engine_decide(struct sg_engine *e, const struct sg_attempt *a,
                                sg_verify_fn verify, void *vctx, struct sg_decision *d)
{
    struct sg_store_state st;
    struct job j;
    enum sg_verify v;

    if (!begin(&j, e, a, d))
        return d->result;
    if (e->pwfile) {        /* the core verifies; the front end's verifier is unused */
        verify = verify_file;
        vctx = &j;
    }
    app_digest(&j);
    /* this call reports the outcome itself: a clean success needs no
     * report (unless every account needs an app password: then a primary
     * password never succeeds) */
    j.sa.clean_success_ok = e->policy->app_passwords != SG_APP_REQUIRED;
    if (!check(&j, verify, vctx, &st))
        return d->result;
    j.success_counted = st.success_counted;
    v = verify(vctx, a->account, a->account_len, a->password, a->password_len);
    /* a two-factor account by Redis (saslguard mfa on) or by the file's flag */
    return finish(&j, v, st.mfa || j.file_mfa);
}

enum sg_result sg_engine_precheck(struct sg_engine *e, const struct sg_attempt *a,
                                  struct sg_decision *d)
{
    struct sg_store_state st;
    struct job j;

    if (!begin(&j, e, a, d))
        return d->result;
    app_digest(&j);   /* when the host has the password already */
    if (check(&j, NULL, NULL, &st)) {
        sg_decision_set(d, SG_RESULT_SUCCESS);   /* may go on: nothing logged yet */
        d->decided = 0;
    }
    return d->result;
}

enum sg_result sg_engine_record(struct sg_engine *e, const struct sg_attempt *a,
                                enum sg_verify outcome, struct sg_decision *d)
{
    struct job j;

    if (!begin(&j, e, a, d))
        return d->result;
    return finish(&j, outcome, -1);
}
