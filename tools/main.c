/*
 * main.c - saslguard(8), the admin command: global options and dispatch.
 *
 * SYNOPSIS
 *	saslguard [-c PATH] [-v] [--json] COMMAND [ARGS]
 *
 * DESCRIPTION
 *	Finds the policy file (-c, $SASLGUARD_CONF, SG_DEFAULT_CONFIG), runs
 *	one subcommand and returns its exit status. Also home of what every
 *	subcommand shares: the common options, loading the policy, opening
 *	the store, wording store failures, account arguments and the syslog
 *	trail of admin actions.
 *
 * DIAGNOSTICS
 *	Everything goes to stderr prefixed "saslguard: "; the exit status
 *	says what kind of failure it was (cli.h, enum cli_exit).
 */
#include "config.h"

#include <getopt.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "cli.h"
#include "status.h"
#include "store_admin.h"

static const char usage_text[] =
    "usage: saslguard [-c PATH] [-v] [--json] COMMAND [ARGS]\n"
    "\n"
    "Inspect and manage saslguard's lockout state and app passwords in Redis.\n"
    "\n"
    "commands:\n"
    "  status ACCOUNT              failures, lock, last failure, familiar sources\n"
    "  explain ACCOUNT|ADDRESS     what the next attempt would get, and why\n"
    "  list [--locked] [--accounts] [--sources]\n"
    "                              accounts and sources with recorded state\n"
    "  lock ACCOUNT [--for DURATION]\n"
    "                              lock an account (no duration: until unlocked)\n"
    "  unlock ACCOUNT              clear an account's lock and failures\n"
    "  unblock ADDRESS|PREFIX      clear a source's block and failures\n"
    "  check ACCOUNT [--source ADDRESS]\n"
    "                              a real login attempt, password from stdin or a\n"
    "                              prompt (it counts like any other attempt)\n"
    "  stats [--prometheus] [--output FILE]\n"
    "                              decisions by result\n"
    "  config check                validate the policy file\n"
    "  mfa on|off ACCOUNT          two-factor flag: SMTP with app passwords only\n"
    "  app-password add ACCOUNT --label NAME [--expires DURATION]\n"
    "                              new app password, printed once\n"
    "  app-password list ACCOUNT   labels, state, last use (never secrets)\n"
    "  app-password revoke ACCOUNT LABEL|--all\n"
    "                              stop accepting app passwords\n"
    "  secret init [--owner USER]  create the HMAC secret file (secret_file)\n"
    "  passwd [--delete] ACCOUNT   set or delete a password in the password file\n"
    "                              (password_source = file:PATH)\n"
    "\n"
    "options (also accepted after COMMAND):\n"
    "  -c, --config PATH   policy file (default: $SASLGUARD_CONF, else " SG_DEFAULT_CONFIG ")\n"
    "      --json          machine-readable output (one JSON object)\n"
    "  -v, --verbose       copy syslog lines (admin actions, decisions) to stderr\n"
    "  -h, --help          this text; \"saslguard COMMAND --help\" for a command\n"
    "      --version       print the version\n"
    "\n"
    "exit status: 0 done; 1 nothing found, nothing to do, or login refused;\n"
    "2 usage or configuration error; 3 Redis unavailable; 4 other error.\n";

struct command {
    const char *name;
    int (*run)(struct cli *c, int argc, char **argv);
};

static const struct command commands[] = {
    { "status", cmd_status }, { "explain", cmd_explain }, { "list", cmd_list },
    { "lock", cmd_lock }, { "unlock", cmd_unlock }, { "unblock", cmd_unblock },
    { "check", cmd_check }, { "stats", cmd_stats }, { "config", cmd_config },
    { "mfa", cmd_mfa }, { "app-password", cmd_app_password }, { "secret", cmd_secret },
    { "passwd", cmd_passwd },
};

int cli_usage_error(const struct cli_help *h, const char *fmt, ...)
{
    va_list ap;

    fputs("saslguard: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (h)
        fprintf(stderr, "usage: saslguard %s\n", h->usage);
    fputs("Try \"saslguard --help\" or \"saslguard COMMAND --help\".\n", stderr);
    return CLI_USAGE;
}

int cli_common_option(struct cli *c, int ch, char **argv, const struct cli_help *h)
{
    switch (ch) {
    case 'c':
        c->config = optarg;
        return -1;
    case 'j':
        c->json = 1;
        return -1;
    case 'v':
        c->verbose = 1;
        return -1;
    case 'h':
        printf("usage: saslguard %s\n\n%s", h->usage, h->text);
        return CLI_OK;
    case ':':
        return cli_usage_error(h, "option '%s' needs an argument", argv[optind - 1]);
    default:
        if (optopt)
            return cli_usage_error(h, "unknown option '-%c'", optopt);
        return cli_usage_error(h, "unknown option '%s'", argv[optind - 1]);
    }
}

static void print_diag(void *ctx, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "saslguard: %s\n", msg);
}

int cli_open(struct cli *c, int store)
{
    int rc = sg_policy_load(c->config, &c->policy, print_diag, NULL);

    if (rc == SG_ENOMEM) {
        fputs("saslguard: out of memory\n", stderr);
        return CLI_ERROR;
    }
    if (rc != SG_OK) {
        fprintf(stderr, "saslguard: %s: invalid policy file (\"saslguard config check\")\n",
                c->config);
        return CLI_USAGE;
    }
    if (store && sg_store_open(c->policy, &c->store) != SG_OK) {
        fputs("saslguard: out of memory\n", stderr);
        return CLI_ERROR;
    }
    return CLI_OK;
}

/* HOST:PORT, an IPv6 address in brackets, appended to BUF at *AT. */
static void append_node(char *buf, size_t len, size_t *at, const char *host, int port)
{
    int n;

    if (*at >= len)
        return;
    n = snprintf(buf + *at, len - *at, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
    *at += n > 0 ? (size_t)n : 0;
}

void cli_endpoint(const struct sg_policy *p, char *buf, size_t len)
{
    size_t at = 0;

    if (p->redis_kind == SG_REDIS_UNIX) {
        snprintf(buf, len, "unix:%s", p->redis_path);
        return;
    }
    at = (size_t)snprintf(buf, len, p->redis_kind == SG_REDIS_TCP ? "tcp://" : "sentinel://");
    if (p->redis_kind == SG_REDIS_TCP) {
        append_node(buf, len, &at, p->redis_host, p->redis_port);
        return;
    }
    for (size_t i = 0; i < p->redis_sentinel_count; i++) {
        if (i > 0 && at + 1 < len)
            buf[at++] = ',', buf[at] = '\0';
        append_node(buf, len, &at, p->redis_sentinels[i].host, p->redis_sentinels[i].port);
    }
    if (at < len)
        snprintf(buf + at, len - at, "/%s", p->redis_master);
}

int cli_store_failed(struct cli *c, int rc)
{
    const char *step, *detail;
    char ep[600];

    if (rc == SG_ENOMEM) {
        fputs("saslguard: out of memory\n", stderr);
        return CLI_ERROR;
    }
    if (rc == SG_EINVAL) {
        fputs("saslguard: name too long for a Redis key\n", stderr);
        return CLI_USAGE;
    }
    cli_endpoint(c->policy, ep, sizeof ep);
    sg_store_error_parts(c->store, &step, &detail);
    if (strcmp(step, "connect") == 0)
        fprintf(stderr, "saslguard: cannot reach Redis at %s: %s\n", ep, detail);
    else if (step[0])
        fprintf(stderr, "saslguard: Redis at %s: %s: %s\n", ep, step, detail);
    else
        fprintf(stderr, "saslguard: Redis at %s: %s\n", ep, sg_store_error(c->store));
    return CLI_STORE;
}

int cli_account_key(const char *arg, char key[SG_ACCOUNT_KEY_LEN])
{
    int rc;

    if (sg_admin_is_hashed_part(arg)) {
        memcpy(key, arg, strlen(arg) + 1);
        return CLI_OK;
    }
    rc = sg_account_key(arg, strlen(arg), key, SG_ACCOUNT_KEY_LEN);
    if (rc == SG_ENOMEM) {
        fputs("saslguard: out of memory\n", stderr);
        return CLI_ERROR;
    }
    if (rc != SG_OK) {
        fputs("saslguard: empty account name\n", stderr);
        return CLI_USAGE;
    }
    return CLI_OK;
}

void cli_syslog(const struct cli *c, int priority, const char *line)
{
    openlog("saslguard", LOG_PID | (c->verbose ? LOG_PERROR : 0), LOG_AUTHPRIV);
    syslog(priority, "%s", line);
    closelog();
}

void cli_audit(const struct cli *c, const char *fmt, ...)
{
    char user[SG_ACCOUNT_PRINTABLE_LEN], sudo[SG_ACCOUNT_PRINTABLE_LEN], what[768], line[1400];
    const struct passwd *pw = getpwuid(getuid());
    const char *su = getenv("SUDO_USER");
    va_list ap;

    if (pw && pw->pw_name)
        sg_account_printable(pw->pw_name, strlen(pw->pw_name), user, sizeof user);
    else
        snprintf(user, sizeof user, "uid:%lu", (unsigned long)getuid());
    if (su && *su)
        sg_account_printable(su, strlen(su), sudo, sizeof sudo);
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(line, sizeof line, "saslguard: admin=%s%s%s %s", user,
             su && *su ? " sudo_user=" : "", su && *su ? sudo : "", what);
    cli_syslog(c, LOG_NOTICE, line);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "config", 1, NULL, 'c' }, { "json", 0, NULL, 'j' }, { "verbose", 0, NULL, 'v' },
        { "help", 0, NULL, 'h' }, { "version", 0, NULL, 'V' }, { NULL, 0, NULL, 0 },
    };
    struct cli c = { 0 };
    const char *env = getenv("SASLGUARD_CONF");
    int ch, rc = CLI_USAGE;

    c.config = env && *env ? env : SG_DEFAULT_CONFIG;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "+:c:vh", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': c.config = optarg; break;
        case 'j': c.json = 1; break;
        case 'v': c.verbose = 1; break;
        case 'h': fputs(usage_text, stdout); return CLI_OK;
        case 'V': printf("saslguard %s\n", PACKAGE_VERSION); return CLI_OK;
        case ':': return cli_usage_error(NULL, "option '%s' needs an argument", argv[optind - 1]);
        default:
            if (optopt)
                return cli_usage_error(NULL, "unknown option '-%c'", optopt);
            return cli_usage_error(NULL, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return cli_usage_error(NULL, "no command given");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
        if (strcmp(argv[optind], commands[i].name) == 0) {
            int sub_argc = argc - optind;
            char **sub_argv = argv + optind;

            optind = 0;     /* glibc: restart getopt for the subcommand */
            rc = commands[i].run(&c, sub_argc, sub_argv);
            sg_store_close(c.store);
            sg_policy_free(c.policy);
            if (fflush(stdout) != 0 || ferror(stdout)) {
                perror("saslguard: standard output");
                return rc == CLI_OK ? CLI_ERROR : rc;
            }
            return rc;
        }
    }
    return cli_usage_error(NULL, "unknown command '%s'", argv[optind]);
}
