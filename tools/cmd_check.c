/*
 * cmd_check.c - "saslguard check ACCOUNT": one real login attempt.
 *
 * DESCRIPTION
 *	Runs the core's whole decision (sg_engine_decide) for ACCOUNT with a
 *	password read from stdin or a no-echo prompt (never from argv, like
 *	testsaslauthd), verified by libsasl's sasl_checkpass() under the SASL
 *	application's configuration (NAME.conf, default "smtpd"), so the
 *	site's pwcheck_method answers exactly as it does for the mail server.
 *	The attempt counts like any other. The password buffer is wiped after
 *	use; it is never logged or printed. The prompt is prompt.c's.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include <openssl/crypto.h>
#include <sasl/sasl.h>

#include "cli.h"
#include "engine.h"
#include "status.h"

#define PASSWORD_MAX 1024

static const struct cli_help check_help = {
    "check ACCOUNT [--source ADDRESS] [--sasl-app NAME] [--sasl-service NAME]\n"
    "                       [--sasl-conf-dir DIR] [-c PATH] [--json]",
    "Run the whole decision for one login of ACCOUNT, as the mail server would:\n"
    "the lockout check, the password check through libsasl's sasl_checkpass()\n"
    "with the SASL application's configuration (its pwcheck_method: auxprop\n"
    "with sasldb, saslauthd, ...), then counting the outcome. Prints the result\n"
    "name, the SASL code and the reply Postfix would send.\n"
    "\n"
    "App passwords are checked as the mail server does (spaces and case do not\n"
    "matter): one of the account's active ones succeeds; a revoked or expired\n"
    "one gets revoked_credential (535, not counted as a failure); the correct\n"
    "primary password of an account that needs an app password (two-factor\n"
    "account, or app_passwords = required) gets app_password_required (535 5.7.8\n"
    "... user supplied passwords are not permitted, not counted as a failure).\n"
    "Reading app passwords needs the policy's secret_file.\n"
    "\n"
    "THIS IS A REAL ATTEMPT: a wrong password counts as a failure and can lock\n"
    "the account (and block the --source), exactly like one from the network.\n"
    "\n"
    "The password is read from standard input (one line) when that is not a\n"
    "terminal, else from a prompt that does not echo it. It is never taken\n"
    "from the command line.\n"
    "\n"
    "  --source ADDRESS     the client address of the attempt (192.0.2.7,\n"
    "                       2001:db8::1); default: none (no source counted)\n"
    "  --sasl-app NAME      SASL application name, i.e. NAME.conf (default smtpd)\n"
    "  --sasl-service NAME  SASL service name (default smtp)\n"
    "  --sasl-conf-dir DIR  where NAME.conf is (default: libsasl's search path)\n"
    "\n"
    "exit status: 0 success; 1 refused (any other result); 2 usage or\n"
    "configuration error; 3 Redis unavailable; 4 other error (libsasl).\n",
};

struct check_opts {
    const char *account, *source, *app, *service, *confdir;
};

/* ---------------------------------------------------------------- SASL */

/* sasl_callback_t.proc is int (*)(void) whatever the callback's real type;
 * going through void (*)(void) says the cast is meant. */
typedef int (*sasl_proc)(void);
#define SASL_PROC(fn) ((sasl_proc)(void (*)(void))(fn))

static int sasl_confpath(void *ctx, char **path)
{
    *path = ctx;
    return SASL_OK;
}

static int sasl_log(void *ctx, int level, const char *msg)
{
    const struct cli *c = ctx;

    if (msg && (level <= SASL_LOG_WARN || (c->verbose && level <= SASL_LOG_NOTE)))
        fprintf(stderr, "saslguard: sasl: %s\n", msg);
    return SASL_OK;
}

static enum sg_verify verify(void *ctx, const char *account, size_t alen,
                             const char *password, size_t plen)
{
    /* libsasl reads NUL-terminated strings: both are (argv, read_line) */
    return sg_verify_from_sasl(sasl_checkpass(ctx, account, (unsigned)alen, password, (unsigned)plen));
}

/* The engine's log lines go to syslog. Lines logged while the engine is
 * made (a secret that cannot be read...) are problems of this setup: shown
 * on stderr too. */
struct log_ctx {
    const struct cli *c;
    int creating;
};

static void engine_log(void *ctx, enum sg_log_level level, const char *line)
{
    static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_DEBUG };
    struct log_ctx *l = ctx;

    cli_syslog(l->c, prio[level <= SG_LOG_DEBUG ? level : SG_LOG_DEBUG], line);
    if (l->creating && !l->c->verbose && level <= SG_LOG_WARN)
        fprintf(stderr, "%s\n", line);
}

/* What the decision says about app passwords. */
struct app_note {
    const char *label;                  /* "" unless an app password matched */
    const char *state;                  /* "active", "revoked", "expired", or NULL */
};

static void app_note(const struct sg_decision *d, struct app_note *n)
{
    static const char *const states[] = { NULL, "active", "revoked", "expired" };

    n->label = d->app_label;
    n->state = (unsigned)d->app_password < 4 ? states[d->app_password] : NULL;
}

static void print_result(const struct cli *c, const char *account, const struct sg_decision *d,
                         enum sg_app_passwords mode)
{
    char reply[200], name[SG_ACCOUNT_PRINTABLE_LEN], until[40];
    struct cli_json j;
    struct app_note n;

    app_note(d, &n);
    cli_postfix_reply(d->sasl_code, reply, sizeof reply);
    if (c->json) {
        cli_json_init(&j, stdout);
        cli_json_object(&j, NULL);
        cli_json_str(&j, "account", account);
        cli_json_str(&j, "source", d->source[0] ? d->source : NULL);
        cli_json_str(&j, "result", sg_result_name(d->result));
        cli_json_int(&j, "sasl_code", d->sasl_code);
        cli_json_str(&j, "sasl_name", cli_sasl_name(d->sasl_code));
        cli_json_str(&j, "pam_name", cli_pam_name(d->pam_code));
        cli_json_str(&j, "reply", reply);
        cli_json_int(&j, "failures", d->failures);
        cli_json_time(&j, "until", d->until_ms);
        if (n.state) {
            cli_json_object(&j, "app_password");
            cli_json_str(&j, "label", n.label);
            cli_json_str(&j, "state", n.state);
            cli_json_end(&j);
        } else {
            cli_json_null(&j, "app_password");
        }
        cli_json_end(&j);
        return;
    }
    sg_account_printable(account, strlen(account), name, sizeof name);
    printf("%s: %s (%s %d)\n", name, sg_result_name(d->result), cli_sasl_name(d->sasl_code),
           d->sasl_code);
    printf("reply: %s\n", reply);
    if (d->failures > 0)
        printf("failures: %ld\n", d->failures);
    if (d->until_ms > 0) {
        cli_iso_time(d->until_ms, until, sizeof until);
        printf("until: %s\n", until);
    }
    if (d->result == SG_RESULT_SUCCESS && n.state)
        printf("credential: app password \"%s\"\n", n.label);
    else if (d->result == SG_RESULT_REVOKED_CREDENTIAL)
        printf("note: app password \"%s\" %s: a stale device; not counted as a failure\n",
               n.label, strcmp(n.state, "expired") == 0 ? "has expired" : "was revoked");
    else if (d->result == SG_RESULT_APP_PASSWORD_REQUIRED)
        printf("note: the password is right, but %s needs an app password (%s); "
               "not counted as a failure\n", name,
               cli_app_need_text(mode == SG_APP_REQUIRED ? SG_APP_NEED_POLICY : SG_APP_NEED_MFA));
}

static int parse(struct cli *c, int argc, char **argv, struct check_opts *o)
{
    enum { OPT_SOURCE = 256, OPT_APP, OPT_SERVICE, OPT_CONFDIR };
    static const struct option opts[] = {
        CLI_COMMON_LONG, { "source", 1, NULL, OPT_SOURCE }, { "sasl-app", 1, NULL, OPT_APP },
        { "sasl-service", 1, NULL, OPT_SERVICE }, { "sasl-conf-dir", 1, NULL, OPT_CONFDIR },
        { NULL, 0, NULL, 0 },
    };
    struct sg_addr addr;
    int ch, rc;

    while ((ch = getopt_long(argc, argv, ":" CLI_COMMON_SHORT, opts, NULL)) != -1) {
        switch (ch) {
        case OPT_SOURCE: o->source = optarg; break;
        case OPT_APP: o->app = optarg; break;
        case OPT_SERVICE: o->service = optarg; break;
        case OPT_CONFDIR: o->confdir = optarg; break;
        default:
            if ((rc = cli_common_option(c, ch, argv, &check_help)) >= 0)
                return rc;
        }
    }
    if (argc - optind > 1)
        return cli_usage_error(&check_help, "check takes one ACCOUNT; the password is read "
                               "from standard input or a prompt, never from the command line");
    if (argc - optind != 1)
        return cli_usage_error(&check_help, "check needs an ACCOUNT");
    o->account = argv[optind];
    if (!o->account[0])
        return cli_usage_error(&check_help, "empty account name");
    if (o->source && sg_addr_parse(o->source, &addr) != SG_OK)
        return cli_usage_error(&check_help, "--source: '%s' is not an IP address", o->source);
    if (!o->app[0] || !o->service[0])
        return cli_usage_error(&check_help, "empty SASL application or service name");
    return -1;
}

/* Decide with the password in PW; the engine owns C->policy meanwhile. */
static int decide(struct cli *c, const struct check_opts *o, sasl_conn_t *conn,
                  const char *pw, size_t plen, struct log_ctx *log, struct sg_decision *d)
{
    struct sg_engine *e;
    struct sg_attempt a = { o->account, strlen(o->account), pw, plen, o->source, "cli" };
    struct sg_policy *p = c->policy;
    int rc;

    c->policy = NULL;               /* sg_engine_new_from_policy takes it, even on failure */
    log->creating = 1;
    rc = sg_engine_new_from_policy(p, engine_log, log, &e);
    log->creating = 0;
    if (rc == SG_ECONFIG) {         /* e.g. password_source = file: that does not load */
        fputs("saslguard: cannot decide: the configuration is broken (see above)\n", stderr);
        return CLI_USAGE;
    }
    if (rc != SG_OK) {
        fputs("saslguard: out of memory\n", stderr);
        return CLI_ERROR;
    }
    sg_engine_decide(e, &a, verify, conn, d);
    sg_engine_free(e);
    return CLI_OK;
}

int cmd_check(struct cli *c, int argc, char **argv)
{
    struct check_opts o = { NULL, NULL, "smtpd", "smtp", NULL };
    char pw[PASSWORD_MAX + 1], ep[600];
    sasl_callback_t cbs[3];
    sasl_conn_t *conn = NULL;
    struct log_ctx log = { c, 0 };
    struct sg_decision d;
    enum sg_app_passwords mode;
    long plen;
    int rc, n = 0;

    if ((rc = parse(c, argc, argv, &o)) >= 0)
        return rc;
    if ((rc = cli_open(c, 0)) != CLI_OK)
        return rc;
    cli_endpoint(c->policy, ep, sizeof ep);
    mode = c->policy->app_passwords;    /* the engine takes the policy */

    plen = cli_read_password("Password: ", pw, sizeof pw);
    if (plen < 0 || plen == 0) {
        OPENSSL_cleanse(pw, sizeof pw);
        fprintf(stderr, "saslguard: %s\n", plen == -2 ? "password longer than 1024 bytes"
                                           : plen == 0 ? "no password given on standard input"
                                                       : "cannot read the password");
        return plen == -1 ? CLI_ERROR : CLI_USAGE;
    }

    if (o.confdir)
        cbs[n++] = (sasl_callback_t){ SASL_CB_GETCONFPATH,
                                      SASL_PROC(sasl_confpath),
                                      (void *)o.confdir };
    cbs[n++] = (sasl_callback_t){ SASL_CB_LOG, SASL_PROC(sasl_log), c };
    cbs[n] = (sasl_callback_t){ SASL_CB_LIST_END, NULL, NULL };
    if ((rc = sasl_server_init(cbs, o.app)) != SASL_OK
        || (rc = sasl_server_new(o.service, NULL, NULL, NULL, NULL, NULL, 0, &conn)) != SASL_OK) {
        OPENSSL_cleanse(pw, sizeof pw);
        fprintf(stderr, "saslguard: cannot set up Cyrus SASL (application %s, service %s): %s\n",
                o.app, o.service, sasl_errstring(rc, NULL, NULL));
        sasl_server_done();
        return CLI_ERROR;
    }
    rc = decide(c, &o, conn, pw, (size_t)plen, &log, &d);
    OPENSSL_cleanse(pw, sizeof pw);
    sasl_dispose(&conn);
    sasl_server_done();
    if (rc != CLI_OK)
        return rc;

    print_result(c, o.account, &d, mode);
    if (d.result == SG_RESULT_STORE_UNAVAILABLE || d.result == SG_RESULT_STORE_CLOSED) {
        fprintf(stderr, "saslguard: cannot reach Redis at %s; the decision was: %s "
                "(store_failure = %s)\n", ep, sg_result_name(d.result),
                d.result == SG_RESULT_STORE_CLOSED ? "closed" : "tempfail");
        return CLI_STORE;
    }
    return d.result == SG_RESULT_SUCCESS ? CLI_OK : CLI_NOTHING;
}
