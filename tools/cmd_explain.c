/*
 * cmd_explain.c - "saslguard explain ACCOUNT|ADDRESS [--source ADDRESS]".
 *
 * DESCRIPTION
 *	What the next login attempt would get and why: which counter, which
 *	threshold, which policy key, the result name and codes (outcome.h)
 *	and the reply Postfix would send. The verdict is the core's: one
 *	sg_store_peek() of the account and/or source, as the engine's check
 *	would see it (a trusted source is not counted, as in the engine);
 *	the details around it come from store_admin. For an account, its
 *	app-password side too: whether it needs one (sg_app_needed), what the
 *	right primary password, an app password and a stale one would get.
 */
#include <errno.h>
#include <getopt.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "outcome.h"
#include "status.h"
#include "store_admin.h"

static const struct cli_help explain_help = {
    "explain ACCOUNT|ADDRESS [--source ADDRESS] [-c PATH] [--json]\n"
    "       saslguard explain --account NAME [--source ADDRESS]",
    "Say what the next login attempt would get, and why: the counter, its\n"
    "threshold and window and the policy keys that set them, the lock or block\n"
    "end, the result (result name, SASL code, PAM code) and the SMTP reply\n"
    "Postfix would send. For an allowed attempt, both outcomes are shown: the\n"
    "right password and a wrong one (and whether that one would lock).\n"
    "\n"
    "For an account that needs an app password (two-factor account, or\n"
    "app_passwords = required), the right primary password is refused with\n"
    "app_password_required (535 5.7.8 Error: authentication failed: user\n"
    "supplied passwords are not permitted; with mfa_primary_password = refuse\n"
    "the plain 535 ... authentication failure), not counted; what an app\n"
    "password and a revoked or expired one get is shown too. A secret file\n"
    "that the mail server could not use is reported.\n"
    "\n"
    "An ADDRESS (192.0.2.7, 2001:db8::1, or a prefix 192.0.2.0/24) is reduced\n"
    "to the policy's source prefix (ipv4_prefix, ipv6_prefix) and checked\n"
    "against trusted_networks. Anything else is an account name; use --account\n"
    "for an account name that looks like an address.\n"
    "\n"
    "  --source ADDRESS   with an account: the attempt comes from ADDRESS\n"
    "  --account NAME     NAME is an account, whatever it looks like\n"
    "\n"
    "Reads only; counts nothing.\n"
    "exit status: 0 explained; 2 usage error, bad address or configuration\n"
    "error; 3 Redis unavailable.\n",
};

struct source {
    const char *arg;                    /* as given */
    char prefix[SG_PREFIX_STRLEN];      /* the source key text */
    const char *prefix_key;             /* "ipv4_prefix", or NULL if given as a prefix */
    int trusted;
    char trusted_by[SG_PREFIX_STRLEN];
};

/* Looks like an IP address or prefix, not like a mail account name? */
static int looks_like_address(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 128 || strspn(s, "0123456789abcdefABCDEF:.[];/%") != n)
        return 0;
    return strchr(s, ':') || (strchr(s, '.') && strspn(s, "0123456789./;") == n);
}

static int resolve_source(const struct sg_policy *p, const char *arg, struct source *src)
{
    struct sg_addr addr;
    struct sg_prefix pfx;

    memset(src, 0, sizeof *src);
    src->arg = arg;
    if (strchr(arg, '/')) {
        if (sg_prefix_parse(arg, &pfx) != SG_OK)
            return SG_EINVAL;
        addr = pfx.addr;
    } else {
        if (sg_addr_parse(arg, &addr) != SG_OK)
            return SG_EINVAL;
        sg_addr_to_prefix(&addr, p->ipv4_prefix, p->ipv6_prefix, &pfx);
        src->prefix_key = addr.family == AF_INET ? "ipv4_prefix" : "ipv6_prefix";
    }
    if (sg_prefix_format(&pfx, src->prefix, sizeof src->prefix) != SG_OK)
        return SG_EINVAL;
    for (size_t i = 0; i < p->trusted_count; i++) {
        if (sg_prefix_contains(&p->trusted[i], &addr)) {
            src->trusted = 1;
            sg_prefix_format(&p->trusted[i], src->trusted_by, sizeof src->trusted_by);
            break;
        }
    }
    return SG_OK;
}

static void trusted_list(const struct sg_policy *p, char *buf, size_t len)
{
    size_t n = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < p->trusted_count && n + SG_PREFIX_STRLEN + 1 < len; i++) {
        if (i)
            buf[n++] = ' ';
        sg_prefix_format(&p->trusted[i], buf + n, len - n);
        n += strlen(buf + n);
    }
    if (!buf[0])
        snprintf(buf, len, "empty");
}

/* The verdict, worded once for both outputs. */
struct verdict {
    const struct sg_store_state *st;
    enum sg_result result;              /* when refused */
    char reason[700];
    char fail_note[300];                /* allowed: what a wrong password does */
    long acct_next, src_next;           /* allowed: failure numbers it would be */
    int locks, blocks;
    /* app passwords, for an account */
    enum sg_app_need need;
    size_t app_active, app_stale;
    char secret_problem[600];           /* "" when the secret file is usable */
};

/* Would the mail server be unable to use the secret file? (A file only
 * root may read is fine: the plugin loads it as root.) */
static void secret_problem(const struct cli *c, char *buf, size_t len)
{
    const char *path = c->policy->secret_file;
    struct sg_secret sec;
    char err[600];
    int rc;

    buf[0] = '\0';
    if (access(path, F_OK) != 0 && errno == ENOENT) {
        snprintf(buf, len, "%s does not exist (create it with: saslguard secret init)", path);
        return;
    }
    rc = sg_secret_load(path, &sec, err, sizeof err);
    sg_secret_wipe(&sec);
    if (rc == SG_ECONFIG)
        snprintf(buf, len, "%s", err);
}

/* The account's app-password side: need, counts, secret file. */
static int app_side(struct cli *c, const char *key, struct verdict *v)
{
    struct sg_app_record *recs;
    size_t n;
    int rc;

    v->need = sg_app_needed(c->policy, v->st->mfa);
    if ((rc = cli_app_records(c, key, &recs, &n)) != CLI_OK)
        return rc;
    v->app_active = cli_app_count(recs, n, v->st->now_ms, SG_APP_STATE_ACTIVE);
    v->app_stale = n - v->app_active;
    free(recs);
    if (c->policy->app_passwords != SG_APP_OFF && (v->need != SG_APP_NEED_NONE || n > 0))
        secret_problem(c, v->secret_problem, sizeof v->secret_problem);
    return CLI_OK;
}

/* The app-password lines of the text output. */
static void app_header(const struct cli *c, const struct verdict *v)
{
    if (c->policy->app_passwords == SG_APP_OFF)
        printf("app passwords: not accepted (app_passwords = off)%s\n",
               v->st->mfa ? "; its two-factor flag is ignored" : "");
    else if (v->need != SG_APP_NEED_NONE)
        printf("app passwords: needed (%s); %zu active, %zu revoked or expired\n",
               cli_app_need_text(v->need), v->app_active, v->app_stale);
    else
        printf("app passwords: not needed; %zu active, %zu revoked or expired\n",
               v->app_active, v->app_stale);
    if (v->secret_problem[0])
        printf("warning: app passwords cannot be verified: %s\n", v->secret_problem);
}

static void app_outcomes(const struct cli *c, const struct verdict *v)
{
    char reply[200];

    if (c->policy->app_passwords == SG_APP_OFF
        || (v->need == SG_APP_NEED_NONE && v->app_active + v->app_stale == 0))
        return;
    cli_postfix_reply(sg_result_sasl_code(SG_RESULT_SUCCESS), reply, sizeof reply);
    printf("  app password:   %s (success)%s\n", reply,
           v->app_active ? "" : "; it has no active one (saslguard app-password add)");
    cli_postfix_reply(sg_result_sasl_code(SG_RESULT_REVOKED_CREDENTIAL), reply, sizeof reply);
    printf("  revoked or expired app password: %s (revoked_credential); a stale device, "
           "not counted as a failure\n", reply);
}

static void word(const struct cli *c, const char *key, const struct source *src,
                 struct verdict *v)
{
    const struct sg_policy *p = c->policy;
    const struct sg_store_state *st = v->st;
    char aw[24], al[24], sw[24], sb[24], until[40];
    size_t n = 0;

    sg_duration_format(p->account_window_ms, aw, sizeof aw);
    sg_duration_format(p->account_lock_ms, al, sizeof al);
    sg_duration_format(p->source_window_ms, sw, sizeof sw);
    sg_duration_format(p->source_block_ms, sb, sizeof sb);
    cli_iso_time(st->until_ms, until, sizeof until);
    switch (st->state) {
    case SG_STATE_ACCOUNT_DISABLED:
        v->result = SG_RESULT_DISABLED;
        snprintf(v->reason, sizeof v->reason,
                 "locked by an admin until unlocked (saslguard unlock)");
        return;
    case SG_STATE_ACCOUNT_LOCKED:
        v->result = SG_RESULT_LOCKED;
        if (st->failures >= (long)p->account_failures)
            snprintf(v->reason, sizeof v->reason,
                     "%ld failures >= account_failures = %u within account_window = %s; "
                     "lock ends %s (account_lock = %s)", st->failures, p->account_failures,
                     aw, until, al);
        else
            snprintf(v->reason, sizeof v->reason,
                     "lock ends %s (set by an admin, or account_lock = %s after "
                     "account_failures = %u failures whose account_window = %s has passed; "
                     "%ld failures in the window now)", until, al, p->account_failures, aw,
                     st->failures);
        return;
    case SG_STATE_SOURCE_BLOCKED:
        v->result = SG_RESULT_THROTTLED;
        if (st->source_failures >= (long)p->source_failures)
            snprintf(v->reason, sizeof v->reason,
                     "source %s: %ld failures >= source_failures = %u within source_window = %s; "
                     "block ends %s (source_block = %s)", src->prefix, st->source_failures,
                     p->source_failures, sw, until, sb);
        else
            snprintf(v->reason, sizeof v->reason,
                     "source %s blocked; block ends %s (source_block = %s after "
                     "source_failures = %u failures whose source_window = %s has passed; "
                     "%ld failures in the window now)", src->prefix, until, sb,
                     p->source_failures, sw, st->source_failures);
        return;
    case SG_STATE_ALLOWED:
        break;
    }
    v->acct_next = st->failures + 1;
    v->src_next = st->source_failures + 1;
    v->locks = key && v->acct_next >= (long)p->account_failures;
    v->blocks = src && !src->trusted && v->src_next >= (long)p->source_failures;
#define ADD(buf, ...) \
    do { \
        if (n < sizeof buf) \
            n += (size_t)snprintf(buf + n, sizeof buf - n, __VA_ARGS__); \
    } while (0)
    if (key)
        ADD(v->reason, "%ld failures < account_failures = %u within account_window = %s",
            st->failures, p->account_failures, aw);
    if (src && src->trusted)
        ADD(v->reason, "%ssource %s is trusted (%s in trusted_networks): never counted or blocked",
            key ? "; " : "", src->prefix, src->trusted_by);
    else if (src)
        ADD(v->reason, "%ssource %s: %ld failures < source_failures = %u within source_window = %s",
            key ? "; " : "", src->prefix, st->source_failures, p->source_failures, sw);
    n = 0;
    if (key)
        ADD(v->fail_note, "account failure %ld of %u", v->acct_next, p->account_failures);
    if (v->locks)
        ADD(v->fail_note, ": locks the account for account_lock = %s", al);
    if (src && !src->trusted)
        ADD(v->fail_note, "%ssource failure %ld of %u%s%s", key ? "; " : "", v->src_next,
            p->source_failures, v->blocks ? ": blocks the source for source_block = " : "",
            v->blocks ? sb : "");
#undef ADD
}

/* Smart lockout's other side: what the account's familiar sources get. */
static void familiar_side(const struct sg_admin_account *acc)
{
    char t[40];

    if (acc->familiar_count == 0)
        return;
    if (acc->st_familiar.state == SG_STATE_ACCOUNT_LOCKED) {
        cli_iso_time(acc->st_familiar.until_ms, t, sizeof t);
        printf("familiar sources (%zu): locked until %s after %ld failures from them "
               "(counted apart from others)\n", acc->familiar_total, t,
               acc->st_familiar.failures);
    } else if (acc->st.state == SG_STATE_ACCOUNT_LOCKED) {
        printf("familiar sources (%zu): not locked: the lock below shuts out only the others "
               "(familiar_sources = where it logged in lately)\n", acc->familiar_total);
    } else if (acc->st_familiar.failures > 0) {
        printf("familiar sources (%zu): %ld failures from them, counted apart\n",
               acc->familiar_total, acc->st_familiar.failures);
    }
}

static void print_text(const struct cli *c, const char *key, const struct source *src,
                       const struct sg_admin_account *acc, const struct verdict *v)
{
    char name[SG_ACCOUNT_PRINTABLE_LEN + 80], reply[200], tl[SG_TRUSTED_MAX * SG_PREFIX_STRLEN];

    if (key) {
        cli_account_text(key, name, sizeof name);
        printf("account: %s%s\n", name, acc->exists ? "" : " (no failures recorded)");
        app_header(c, v);
        if (!src)
            familiar_side(acc);
    }
    if (src) {
        if (src->prefix_key)
            printf("source:  %s -> %s (%s = %u)\n", src->arg, src->prefix, src->prefix_key,
                   strcmp(src->prefix_key, "ipv4_prefix") == 0 ? c->policy->ipv4_prefix
                                                               : c->policy->ipv6_prefix);
        else
            printf("source:  %s\n", src->prefix);
        trusted_list(c->policy, tl, sizeof tl);
        if (src->trusted)
            printf("trusted: yes (%s in trusted_networks)\n", src->trusted_by);
        else
            printf("trusted: no (trusted_networks = %s)\n", tl);
    }
    if (v->st->state != SG_STATE_ALLOWED) {
        int code = sg_result_sasl_code(v->result);

        cli_postfix_reply(code, reply, sizeof reply);
        printf("next attempt: %s (%s): %s\n", cli_postfix_code(code), sg_result_name(v->result),
               v->reason);
        printf("  reply:  %s\n", reply);
        printf("  result: %s (%s %d, %s); refused before the password is checked, "
               "not counted as a failure\n", sg_result_name(v->result), cli_sasl_name(code), code,
               cli_pam_name(sg_result_pam_code(v->result)));
        return;
    }
    if (!key) {
        printf("next attempt: not refused for this source%s%s; each account's own state decides\n",
               v->reason[0] ? ": " : "", v->reason);
        return;
    }
    printf("next attempt: password checked: %s\n", v->reason);
    if (v->need != SG_APP_NEED_NONE) {
        cli_postfix_reply(cli_app_primary_code(c->policy), reply, sizeof reply);
        printf("  right password: %s (app_password_required): %s needs an app password (%s); "
               "not counted as a failure\n", reply, name, cli_app_need_text(v->need));
    } else {
        cli_postfix_reply(sg_result_sasl_code(SG_RESULT_SUCCESS), reply, sizeof reply);
        printf("  right password: %s (success); clears the account's failures\n", reply);
    }
    app_outcomes(c, v);
    cli_postfix_reply(sg_result_sasl_code(SG_RESULT_BAD_CREDENTIALS), reply, sizeof reply);
    printf("  wrong password: %s (bad_credentials); %s\n", reply, v->fail_note);
}

static void json_result_code(struct cli_json *j, const char *key, enum sg_result r, int code)
{
    char reply[200];

    cli_postfix_reply(code, reply, sizeof reply);
    if (key)
        cli_json_object(j, key);
    cli_json_str(j, "result", sg_result_name(r));
    cli_json_int(j, "sasl_code", code);
    cli_json_str(j, "sasl_name", cli_sasl_name(code));
    cli_json_str(j, "pam_name", cli_pam_name(sg_result_pam_code(r)));
    cli_json_str(j, "reply", reply);
    if (key)
        cli_json_end(j);
}

static void json_result(struct cli_json *j, const char *key, enum sg_result r)
{
    json_result_code(j, key, r, sg_result_sasl_code(r));
}

static void print_json(const struct cli *c, const char *key, const struct source *src,
                       const struct sg_admin_account *acc, const struct sg_admin_source *so,
                       const struct verdict *v)
{
    const struct sg_policy *p = c->policy;
    struct cli_json j;
    char name[SG_ACCOUNT_MAX + 1];
    long n;

    cli_json_init(&j, stdout);
    cli_json_object(&j, NULL);
    if (key) {
        cli_json_object(&j, "account");
        n = cli_account_name(key, name, sizeof name);
        if (n > 0)
            cli_json_strn(&j, "account", name, (size_t)n);
        else
            cli_json_null(&j, "account");
        cli_json_str(&j, "key", key);
        cli_json_int(&j, "failures", acc->st.failures);
        cli_json_int(&j, "account_failures", p->account_failures);
        cli_json_int(&j, "account_window_ms", (long long)p->account_window_ms);
        cli_json_int(&j, "account_lock_ms", (long long)p->account_lock_ms);
        cli_json_bool(&j, "mfa", v->st->mfa);
        cli_json_bool(&j, "needs_app_password", v->need != SG_APP_NEED_NONE);
        cli_json_str(&j, "needs_app_password_by", v->need == SG_APP_NEED_MFA ? "mfa"
                     : v->need == SG_APP_NEED_POLICY ? "policy" : NULL);
        cli_json_int(&j, "app_passwords_active", (long long)v->app_active);
        cli_json_int(&j, "app_passwords_stale", (long long)v->app_stale);
        cli_json_str(&j, "secret_problem", v->secret_problem[0] ? v->secret_problem : NULL);
        cli_json_end(&j);
    } else {
        cli_json_null(&j, "account");
    }
    if (src) {
        cli_json_object(&j, "source");
        cli_json_str(&j, "address", src->arg);
        cli_json_str(&j, "prefix", src->prefix);
        cli_json_str(&j, "prefix_key", src->prefix_key);
        cli_json_bool(&j, "trusted", src->trusted);
        cli_json_str(&j, "trusted_by", src->trusted ? src->trusted_by : NULL);
        cli_json_int(&j, "failures", src->trusted ? 0 : so->st.source_failures);
        cli_json_int(&j, "source_failures", p->source_failures);
        cli_json_int(&j, "source_window_ms", (long long)p->source_window_ms);
        cli_json_int(&j, "source_block_ms", (long long)p->source_block_ms);
        cli_json_time(&j, "block_until", !src->trusted && so->st.state == SG_STATE_SOURCE_BLOCKED
                                         ? so->st.until_ms : 0);
        cli_json_end(&j);
    } else {
        cli_json_null(&j, "source");
    }
    cli_json_object(&j, "next");
    cli_json_bool(&j, "refused", v->st->state != SG_STATE_ALLOWED);
    if (v->st->state != SG_STATE_ALLOWED) {
        int acct = v->st->state != SG_STATE_SOURCE_BLOCKED;

        json_result(&j, NULL, v->result);
        cli_json_str(&j, "counter", acct ? "account" : "source");
        cli_json_int(&j, "failures", acct ? v->st->failures : v->st->source_failures);
        cli_json_str(&j, "threshold_key", acct ? "account_failures" : "source_failures");
        cli_json_int(&j, "threshold", acct ? p->account_failures : p->source_failures);
        cli_json_str(&j, "window_key", acct ? "account_window" : "source_window");
        cli_json_str(&j, "lock_key", acct ? "account_lock" : "source_block");
        cli_json_time(&j, "until", v->st->until_ms);
    } else {
        cli_json_null(&j, "result");
        if (key) {
            if (v->need != SG_APP_NEED_NONE)
                json_result_code(&j, "on_success", SG_RESULT_APP_PASSWORD_REQUIRED,
                                 cli_app_primary_code(p));
            else
                json_result(&j, "on_success", SG_RESULT_SUCCESS);
            json_result(&j, "on_failure", SG_RESULT_BAD_CREDENTIALS);
            if (p->app_passwords != SG_APP_OFF) {
                json_result(&j, "on_app_password", SG_RESULT_SUCCESS);
                json_result(&j, "on_stale_app_password", SG_RESULT_REVOKED_CREDENTIAL);
            }
            cli_json_int(&j, "account_failure", v->acct_next);
            cli_json_bool(&j, "locks_account", v->locks);
            if (src && !src->trusted) {
                cli_json_int(&j, "source_failure", v->src_next);
                cli_json_bool(&j, "blocks_source", v->blocks);
            }
        }
    }
    cli_json_str(&j, "reason", v->reason);
    cli_json_end(&j);
    cli_json_end(&j);
}

int cmd_explain(struct cli *c, int argc, char **argv)
{
    enum { OPT_SOURCE = 256, OPT_ACCOUNT };
    static const struct option opts[] = {
        CLI_COMMON_LONG, { "source", 1, NULL, OPT_SOURCE }, { "account", 1, NULL, OPT_ACCOUNT },
        { NULL, 0, NULL, 0 },
    };
    const char *account = NULL, *source = NULL;
    char keybuf[SG_ACCOUNT_KEY_LEN], *key = NULL;
    struct source src;
    struct sg_admin_account acc;
    struct sg_admin_source so;
    struct sg_store_state st;
    struct verdict v;
    int ch, rc;

    while ((ch = getopt_long(argc, argv, ":" CLI_COMMON_SHORT, opts, NULL)) != -1) {
        if (ch == OPT_SOURCE)
            source = optarg;
        else if (ch == OPT_ACCOUNT)
            account = optarg;
        else if ((rc = cli_common_option(c, ch, argv, &explain_help)) >= 0)
            return rc;
    }
    if (argc - optind > 1 || (argc - optind == 1) == (account != NULL))
        return cli_usage_error(&explain_help, "explain needs one ACCOUNT or ADDRESS");
    if (!account && looks_like_address(argv[optind])) {
        if (source)
            return cli_usage_error(&explain_help, "--source goes with an ACCOUNT");
        source = argv[optind];
    } else if (!account) {
        account = argv[optind];
    }
    if (account && (rc = cli_account_key(account, keybuf)) != CLI_OK)
        return rc;
    key = account ? keybuf : NULL;
    if ((rc = cli_open(c, 1)) != CLI_OK)
        return rc;
    if (source && resolve_source(c->policy, source, &src) != SG_OK)
        return cli_usage_error(&explain_help, "'%s' is not an IP address or prefix", source);

    memset(&acc, 0, sizeof acc);
    memset(&so, 0, sizeof so);
    if (key && (rc = sg_admin_account(c->store, key, &acc)) != SG_OK)
        return cli_store_failed(c, rc);
    if (source && !src.trusted && (rc = sg_admin_source(c->store, src.prefix, &so)) != SG_OK)
        return cli_store_failed(c, rc);
    /* the verdict: one peek, as the engine's check would ask */
    rc = sg_store_peek(c->store, key, source && !src.trusted ? src.prefix : NULL, &st);
    if (rc != SG_OK)
        return cli_store_failed(c, rc);
    memset(&v, 0, sizeof v);
    v.st = &st;
    word(c, key, source ? &src : NULL, &v);
    if (key && (rc = app_side(c, key, &v)) != CLI_OK)
        return rc;
    if (c->json)
        print_json(c, key, source ? &src : NULL, &acc, &so, &v);
    else
        print_text(c, key, source ? &src : NULL, &acc, &v);
    return CLI_OK;
}
