/*
 * store_redis.c - the failure store on Redis (see store.h for the schema).
 *
 * One connection per store, made on first use and dropped after any error
 * (timeout, I/O error, a reply of the wrong shape), so that the next call
 * reconnects. Every call is bounded by the policy's redis_timeout, for the
 * connect and for each command. Scripts run with EVALSHA; a NOSCRIPT answer
 * (Redis restarted, SCRIPT FLUSH) is followed by one EVAL of the same script,
 * which also caches it again.
 *
 * Replies are treated as hostile: only an array of exactly the expected
 * integers is accepted.
 *
 * A library must not die of SIGPIPE when Redis goes away in the middle of a
 * write, and must not change its host's signal handling: every call runs
 * inside a SIGPIPE guard (sigpipe.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <openssl/evp.h>

#include "lua_scripts.h"
#include "redis_connect.h"
#include "resp.h"
#include "sigpipe.h"
#include "status.h"
#include "store.h"
#include "store_internal.h"

#define SG_SHA1_HEX 41

struct sg_script {
    const char *text;
    char sha[SG_SHA1_HEX];
};

struct sg_store {
    const struct sg_policy *policy;
    redisContext *ctx;
    struct sg_script check;
    struct sg_script report;
    struct sg_script admin;
    struct {                    /* the policy's numbers as script arguments,
                                 * formatted once (the policy never changes) */
        char af[24], aw[24], al[24], am[24], sf[24], sw[24], sb[24], sp[24];
        char fam[24], keep[24];
    } arg;
    size_t next_sentinel;       /* the Sentinel to ask first (redis_connect.h) */
    int report_cached;          /* report.lua is in this connection's server */
    int pending;                /* replies of deferred reports not read yet */
    int closed_while_draining;  /* reading them, the connection was closed */
    char error[256];
    const char *error_step;     /* "connect", "AUTH", "command", ... */
    char error_detail[200];     /* "Connection refused" */
};

static int script_init(struct sg_script *sc, const char *text)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    sc->text = text;
    if (!EVP_Digest(text, strlen(text), md, &len, EVP_sha1(), NULL) || len != 20)
        return SG_ENOMEM;
    for (unsigned int i = 0; i < len; i++)
        snprintf(sc->sha + 2 * i, 3, "%02x", md[i]);
    return SG_OK;
}

static void ms_arg(char *buf, size_t len, uint64_t v)
{
    snprintf(buf, len, "%llu", (unsigned long long)v);
}

static void format_args(struct sg_store *s)
{
    const struct sg_policy *p = s->policy;

    ms_arg(s->arg.af, sizeof s->arg.af, p->account_failures);
    ms_arg(s->arg.aw, sizeof s->arg.aw, p->account_window_ms);
    ms_arg(s->arg.al, sizeof s->arg.al, p->account_lock_ms);
    ms_arg(s->arg.am, sizeof s->arg.am, p->account_lock_max_ms);
    ms_arg(s->arg.sf, sizeof s->arg.sf, p->source_failures);
    ms_arg(s->arg.sw, sizeof s->arg.sw, p->source_window_ms);
    ms_arg(s->arg.sb, sizeof s->arg.sb, p->source_block_ms);
    ms_arg(s->arg.sp, sizeof s->arg.sp, p->spray_accounts);
    ms_arg(s->arg.fam, sizeof s->arg.fam, p->familiar_sources_ms);
    ms_arg(s->arg.keep, sizeof s->arg.keep, SG_REVOKED_KEEP_MS);
}

int sg_store_open(const struct sg_policy *p, struct sg_store **out)
{
    struct sg_store *s;

    *out = NULL;
    if (!(s = calloc(1, sizeof *s)))
        return SG_ENOMEM;
    s->policy = p;
    format_args(s);
    if (script_init(&s->check, sg_lua_check) != SG_OK
        || script_init(&s->report, sg_lua_report) != SG_OK
        || script_init(&s->admin, sg_lua_admin) != SG_OK) {
        free(s);
        return SG_ENOMEM;
    }
    *out = s;
    return SG_OK;
}

static void drop(struct sg_store *s)
{
    if (s->ctx) {
        redisFree(s->ctx);
        s->ctx = NULL;
    }
    s->report_cached = 0;
    s->pending = 0;
}

void sg_store_close(struct sg_store *s)
{
    if (!s)
        return;
    drop(s);
    free(s);
}

const char *sg_store_error(const struct sg_store *s)
{
    return s->error[0] ? s->error : "no error";
}

void sg_store_error_parts(const struct sg_store *s, const char **step, const char **detail)
{
    *step = s->error[0] && s->error_step ? s->error_step : "";
    *detail = s->error[0] ? s->error_detail : "";
}

/* WHAT must be a string constant: it is kept by reference. */
static int fail(struct sg_store *s, const char *what, const char *detail)
{
    snprintf(s->error, sizeof s->error, "redis %s: %s", what, detail ? detail : "failed");
    s->error_step = what;
    snprintf(s->error_detail, sizeof s->error_detail, "%s", detail ? detail : "failed");
    drop(s);
    return SG_ESTORE;
}

/* Read the replies of deferred reports (sg_store_report_deferred) before
 * the next command, so that replies never get out of step. An error reply
 * there is a lost success report: nothing to undo, the next one repairs it. */
/* Did the last call on C fail because the server closed the connection
 * (EOF, a reset, a broken pipe), rather than by a timeout? */
static int connection_closed(const redisContext *c, int err_no)
{
    return c->err == REDIS_ERR_EOF
           || (c->err == REDIS_ERR_IO && (err_no == EPIPE || err_no == ECONNRESET));
}

static int drain(struct sg_store *s)
{
    while (s->pending > 0) {
        void *r = NULL;

        errno = 0;
        if (redisGetReply(s->ctx, &r) != REDIS_OK || !r) {
            /* the server closed the connection: a new one may serve the
             * command this drain was for (command() retries once) */
            s->closed_while_draining = connection_closed(s->ctx, errno);
            return fail(s, "deferred reply", s->ctx->errstr[0] ? s->ctx->errstr : "no reply");
        }
        if (((redisReply *)r)->type == REDIS_REPLY_ERROR)
            s->report_cached = 0;   /* NOSCRIPT after SCRIPT FLUSH: load it again */
        freeReplyObject(r);
        s->pending--;
    }
    return SG_OK;
}

static int connect_store(struct sg_store *s)
{
    struct sg_redis_error err = { "connect", "" };

    if (s->ctx)
        return s->pending ? drain(s) : SG_OK;
    s->ctx = sg_redis_connect_policy(s->policy, &s->next_sentinel, &err);
    if (!s->ctx)
        return fail(s, err.step, err.detail);
    s->error[0] = '\0';
    return SG_OK;
}

/*
 * Is FAILED (the answer R, NULL when the connection broke) worth one more
 * try on a new connection? Only where the command cannot have run: the
 * server is now a replica (READONLY: a Sentinel failover demoted it; the
 * new connection asks the Sentinels again), or a connection reused from an
 * earlier call was closed by the server (a restart, a failover, an idle
 * timeout) before it took the command.
 */
static int worth_retry(const struct sg_store *s, const redisReply *r, int reused, int err_no)
{
    if (r)
        return r->type == REDIS_REPLY_ERROR && strncmp(r->str, "READONLY", 8) == 0;
    return reused && connection_closed(s->ctx, err_no);
}

/* One command and its reply, NULL when the connection failed. The request
 * is written in RESP by sg_resp_format (hiredis's own formatting costs a
 * login more than the rest of the store's work); a command too large for
 * the buffer (EVAL with a script's text) goes through hiredis's. */
static redisReply *send_and_read(redisContext *c, int argc, const char **argv)
{
    char buf[8192];
    size_t len = sg_resp_format(buf, sizeof buf, argc, argv);
    void *r = NULL;

    if (len == 0)
        return redisCommandArgv(c, argc, argv, NULL);
    if (redisAppendFormattedCommand(c, buf, len) != REDIS_OK || redisGetReply(c, &r) != REDIS_OK)
        return NULL;
    return r;
}

/* Connect if need be and run one command; one retry as worth_retry says,
 * or when the connection was found closed while reading the replies of
 * deferred reports (connect_store: the command itself was never sent).
 * *OUT is the reply (maybe an error reply), or NULL after fail(). */
static int command(struct sg_store *s, int argc, const char **argv, redisReply **out)
{
    for (int attempt = 0;; attempt++) {
        int reused = s->ctx != NULL, rc, err_no;
        redisReply *r;

        s->closed_while_draining = 0;
        if ((rc = connect_store(s)) != SG_OK) {
            if (attempt == 0 && s->closed_while_draining)
                continue;
            return rc;
        }
        errno = 0;
        r = send_and_read(s->ctx, argc, argv);
        err_no = errno;
        if (attempt == 0 && worth_retry(s, r, reused, err_no)) {
            if (r)
                freeReplyObject(r);
            drop(s);
            continue;
        }
        if (!r)
            return fail(s, "command", s->ctx->errstr[0] ? s->ctx->errstr : "no reply");
        *out = r;
        return SG_OK;
    }
}

/* Integers of a script's reply, bounded; SG_ESTORE for any other shape. */
static int reply_ints(struct sg_store *s, const redisReply *r, size_t from, size_t to,
                      long long *v)
{
    for (size_t i = from; i < to; i++) {
        if (r->element[i]->type != REDIS_REPLY_INTEGER)
            return fail(s, "reply", "non-integer field");
        v[i] = r->element[i]->integer;
    }
    return SG_OK;
}

/* check.lua answers {state, failures, source failures, until, now, mfa,
 * app match, app label, familiar, success counted}; report.lua {state,
 * failures, source failures, until, now, repeated, level, familiar, spray,
 * needs app password}. Every value is range-checked. */
static int parse_state(struct sg_store *s, const redisReply *r, int is_check,
                       struct sg_store_state *out)
{
    long long v[10];

    if (r->type != REDIS_REPLY_ARRAY || r->elements != 10)
        return fail(s, "reply", "unexpected shape");
    if (reply_ints(s, r, 0, 5, v) != SG_OK)
        return SG_ESTORE;
    if (v[0] < SG_STATE_ALLOWED || v[0] > SG_STATE_SOURCE_BLOCKED || v[1] < 0 || v[2] < 0)
        return fail(s, "reply", "value out of range");
    out->state = (enum sg_check_state)v[0];
    out->failures = (long)v[1];
    out->source_failures = (long)v[2];
    out->until_ms = v[3];
    out->now_ms = v[4];
    if (is_check) {
        const redisReply *label = r->element[7];

        if (reply_ints(s, r, 5, 7, v) != SG_OK || reply_ints(s, r, 8, 10, v) != SG_OK)
            return SG_ESTORE;
        if ((v[5] != 0 && v[5] != 1) || v[6] < SG_APP_NONE || v[6] > SG_APP_EXPIRED
            || (v[8] != 0 && v[8] != 1) || (v[9] != 0 && v[9] != 1)
            || label->type != REDIS_REPLY_STRING || label->len > SG_STORE_LABEL_MAX)
            return fail(s, "reply", "value out of range");
        out->mfa = (int)v[5];
        out->app_match = (enum sg_app_match)v[6];
        memcpy(out->app_label, label->str, label->len);
        out->app_label[label->len] = '\0';
        out->familiar = (int)v[8];
        out->success_counted = (int)v[9];
    } else {
        if (reply_ints(s, r, 5, 10, v) != SG_OK)
            return SG_ESTORE;
        if (v[5] < 0 || v[5] > 1 || v[6] < 0 || v[6] > 64 || v[7] < 0 || v[7] > 1
            || v[8] < 0 || v[8] > 1 || v[9] < 0 || v[9] > 1)
            return fail(s, "reply", "value out of range");
        out->repeated = (int)v[5];
        out->level = (long)v[6];
        out->familiar = (int)v[7];
        out->spray = (int)v[8];
        out->needs_app_password = (int)v[9];
    }
    return SG_OK;
}

/*
 * EVALSHA SCRIPT with KEYS and ARGS; EVAL once on NOSCRIPT. ARGV layout:
 * EVALSHA sha nkeys key... arg... On SG_OK *OUT is a reply that is not an
 * error (the caller frees it).
 */
static int eval_script(struct sg_store *s, struct sg_script *sc, int nkeys,
                       const char **keys, int nargs, const char **args,
                       redisReply **out)
{
    enum { MAX_KEYS_ARGS = 24 };
    const char *argv[3 + MAX_KEYS_ARGS];
    char nk[8];
    redisReply *r;
    int argc = 0, rc;

    *out = NULL;
    if (nkeys < 0 || nargs < 0 || nkeys + nargs > MAX_KEYS_ARGS)
        return SG_EINVAL;
    snprintf(nk, sizeof nk, "%d", nkeys);
    argv[argc++] = "EVALSHA";
    argv[argc++] = sc->sha;
    argv[argc++] = nk;
    for (int i = 0; i < nkeys; i++)
        argv[argc++] = keys[i];
    for (int i = 0; i < nargs; i++)
        argv[argc++] = args[i];

    if ((rc = command(s, argc, argv, &r)) != SG_OK)
        return rc;
    if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0) {
        freeReplyObject(r);
        argv[0] = "EVAL";
        argv[1] = sc->text;
        if ((rc = command(s, argc, argv, &r)) != SG_OK)
            return rc;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        char detail[160];

        snprintf(detail, sizeof detail, "%s", r->str);
        freeReplyObject(r);
        return fail(s, "script", detail);
    }
    if (sc == &s->report)
        s->report_cached = 1;
    *out = r;
    return SG_OK;
}

static int run_script(struct sg_store *s, struct sg_script *sc, int nkeys,
                      const char **keys, int nargs, const char **args,
                      struct sg_store_state *out)
{
    redisReply *r;
    int rc = eval_script(s, sc, nkeys, keys, nargs, args, &r);

    if (rc != SG_OK)
        return rc;
    rc = parse_state(s, r, sc == &s->check, out);
    freeReplyObject(r);
    return rc;
}

static int run_script_guarded(struct sg_store *s, struct sg_script *sc, int nkeys,
                              const char **keys, int nargs, const char **args,
                              struct sg_store_state *out)
{
    struct sg_sigpipe_guard g;
    int rc;

    sg_sigpipe_block(&g);
    rc = run_script(s, sc, nkeys, keys, nargs, args, out);
    sg_sigpipe_restore(&g);
    return rc;
}

/* ---- internal interface for the admin operations (store_internal.h) ---- */

const struct sg_policy *sg_store_policy(const struct sg_store *s)
{
    return s->policy;
}

int sg_store_key(const struct sg_store *s, const char *type, const char *part,
                 char *buf, size_t len)
{
    const char *pieces[3] = { s->policy->key_prefix, type, part };
    size_t at = 0;

    for (int i = 0; i < 3 && pieces[i]; i++) {
        size_t n = strlen(pieces[i]);

        if (len - at < n + 1 + (i > 0)) {     /* a ':', the piece, the NUL */
            if (len)
                buf[0] = '\0';
            return SG_EINVAL;
        }
        if (i > 0)
            buf[at++] = ':';
        memcpy(buf + at, pieces[i], n);
        at += n;
    }
    buf[at] = '\0';
    return SG_OK;
}

int sg_store_bad_reply(struct sg_store *s, const char *detail)
{
    return fail(s, "reply", detail);
}

int sg_store_command(struct sg_store *s, int argc, const char **argv, redisReply **out)
{
    struct sg_sigpipe_guard g;
    redisReply *r = NULL;
    int rc;

    *out = NULL;
    if (argc < 1)
        return SG_EINVAL;
    sg_sigpipe_block(&g);
    if ((rc = command(s, argc, argv, &r)) == SG_OK) {
        if (r->type == REDIS_REPLY_ERROR) {
            char detail[160];

            snprintf(detail, sizeof detail, "%s", r->str);
            freeReplyObject(r);
            r = NULL;
            rc = fail(s, "command", detail);
        }
    }
    sg_sigpipe_restore(&g);
    *out = r;
    return rc;
}

int sg_store_eval(struct sg_store *s, enum sg_script_id id, int nkeys, const char **keys,
                  int nargs, const char **args, redisReply **out)
{
    struct sg_script *sc = id == SG_SCRIPT_CHECK ? &s->check
                         : id == SG_SCRIPT_REPORT ? &s->report : &s->admin;
    struct sg_sigpipe_guard g;
    int rc;

    sg_sigpipe_block(&g);
    rc = eval_script(s, sc, nkeys, keys, nargs, args, out);
    sg_sigpipe_restore(&g);
    return rc;
}

/* The keys of one attempt; SG_EINVAL if one does not fit. */
struct attempt_keys {
    char account[SG_KEY_MAX], stats[SG_KEY_MAX], settings[SG_KEY_MAX];
    char familiar[SG_KEY_MAX], source[SG_KEY_MAX];
};

static int build_keys(struct sg_store *s, const struct sg_store_attempt *a,
                      struct attempt_keys *k)
{
    int rc = SG_OK;

    rc |= sg_store_key(s, "a", a->account, k->account, SG_KEY_MAX);
    rc |= sg_store_key(s, "stats", NULL, k->stats, SG_KEY_MAX);
    rc |= sg_store_key(s, "u", a->account, k->settings, SG_KEY_MAX);
    rc |= sg_store_key(s, "f", a->account, k->familiar, SG_KEY_MAX);
    if (a->source && a->source_counted)
        rc |= sg_store_key(s, "s", a->source, k->source, SG_KEY_MAX);
    return rc == SG_OK ? SG_OK : SG_EINVAL;
}

static int check(struct sg_store *s, const struct sg_store_attempt *a, int attempt,
                 int as_familiar, struct sg_store_state *out)
{
    struct attempt_keys k;
    const char *keys[5] = { k.account, k.stats, k.settings, k.familiar, k.source };
    const char *args[9] = { s->arg.aw, s->arg.sw, attempt ? "1" : "0",
                            a->app_digest ? a->app_digest : "", a->source ? a->source : "",
                            s->arg.keep, s->arg.fam, as_familiar ? "1" : "0",
                            attempt && a->clean_success_ok ? "1" : "0" };
    int rc;

    memset(out, 0, sizeof *out);
    if ((rc = build_keys(s, a, &k)) != SG_OK)
        return rc;
    return run_script_guarded(s, &s->check, a->source && a->source_counted ? 5 : 4,
                              keys, 9, args, out);
}

int sg_store_check(struct sg_store *s, const struct sg_store_attempt *a,
                   struct sg_store_state *out)
{
    return check(s, a, 1, 0, out);
}

int sg_store_peek(struct sg_store *s, const char *account, const char *source,
                  struct sg_store_state *out)
{
    /* No account: "PREFIX:a:" is nobody's key (sg_account_key never yields
     * an empty part), so only SOURCE can refuse. */
    struct sg_store_attempt a = { .account = account ? account : "", .source = source,
                                  .source_counted = 1 };

    return check(s, &a, 0, 0, out);
}

int sg_store_peek_familiar(struct sg_store *s, const char *account, struct sg_store_state *out)
{
    struct sg_store_attempt a = { .account = account };

    return check(s, &a, 0, 1, out);
}

/* report.lua's KEYS and ARGV for one attempt. */
enum { SG_REPORT_NARGS = 16 };
struct report_call {
    struct attempt_keys k;
    char jit[32];
    const char *keys[5];
    const char *args[SG_REPORT_NARGS];
    int nkeys;
};

static int report_call(struct sg_store *s, const struct sg_store_attempt *a,
                       enum sg_report_kind kind, const char *stat, struct report_call *c)
{
    static const char *const kinds[] = { "f", "s", "n", "c" };
    const char *args[SG_REPORT_NARGS] = {
        kinds[kind], s->arg.af, s->arg.aw, s->arg.al, s->arg.am,
        s->arg.sf, s->arg.sw, s->arg.sb, s->arg.sp,
        a->source ? a->source : "", stat ? stat : "", s->arg.fam,
        a->fingerprint ? a->fingerprint : "", c->jit, a->account,
        a->take_back_success ? "1" : "0" };
    int rc;

    if ((unsigned)kind > SG_REPORT_SUCCESS_UNLESS_MFA)
        return SG_EINVAL;
    if ((rc = build_keys(s, a, &c->k)) != SG_OK)
        return rc;
    c->keys[0] = c->k.account;
    c->keys[1] = c->k.stats;
    c->keys[2] = c->k.settings;
    c->keys[3] = c->k.familiar;
    c->keys[4] = c->k.source;
    c->nkeys = a->source && a->source_counted ? 5 : 4;
    memcpy(c->args, args, sizeof args);
    snprintf(c->jit, sizeof c->jit, "%.4f",
             a->jitter < -0.1 ? -0.1 : a->jitter > 0.1 ? 0.1 : a->jitter);
    return SG_OK;
}

int sg_store_report(struct sg_store *s, const struct sg_store_attempt *a,
                    enum sg_report_kind kind, const char *stat, struct sg_store_state *out)
{
    struct report_call c;
    int rc;

    memset(out, 0, sizeof *out);
    if ((rc = report_call(s, a, kind, stat, &c)) != SG_OK)
        return rc;
    return run_script_guarded(s, &s->report, c.nkeys, c.keys, SG_REPORT_NARGS, c.args, out);
}

/* Send the report without waiting for its reply (read before the next
 * command): a success's reply changes nothing the client is told. */
static int send_deferred(struct sg_store *s, const struct report_call *c)
{
    const char *argv[3 + 5 + SG_REPORT_NARGS];
    char nk[4];
    int argc = 0, done = 0, rc;

    if ((rc = connect_store(s)) != SG_OK)
        return rc;
    snprintf(nk, sizeof nk, "%d", c->nkeys);
    argv[argc++] = "EVALSHA";
    argv[argc++] = s->report.sha;
    argv[argc++] = nk;
    for (int i = 0; i < c->nkeys; i++)
        argv[argc++] = c->keys[i];
    for (int i = 0; i < SG_REPORT_NARGS; i++)
        argv[argc++] = c->args[i];
    if (redisAppendCommandArgv(s->ctx, argc, argv, NULL) != REDIS_OK)
        return fail(s, "command", s->ctx->errstr[0] ? s->ctx->errstr : "cannot queue");
    while (!done)
        if (redisBufferWrite(s->ctx, &done) != REDIS_OK)
            return fail(s, "command", s->ctx->errstr[0] ? s->ctx->errstr : "cannot write");
    s->pending++;
    return SG_OK;
}

int sg_store_report_deferred(struct sg_store *s, const struct sg_store_attempt *a,
                             const char *stat)
{
    struct sg_store_state st;
    struct report_call c;
    struct sg_sigpipe_guard g;
    int rc;

    if (!s->ctx || !s->report_cached)      /* first one: load the script */
        return sg_store_report(s, a, SG_REPORT_SUCCESS, stat, &st);
    if ((rc = report_call(s, a, SG_REPORT_SUCCESS, stat, &c)) != SG_OK)
        return rc;
    sg_sigpipe_block(&g);
    rc = send_deferred(s, &c);
    sg_sigpipe_restore(&g);
    return rc;
}
