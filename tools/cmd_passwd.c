/*
 * cmd_passwd.c - "saslguard passwd": set, change or delete an account's
 * password in the policy's password file (password_source = file:PATH).
 *
 * DESCRIPTION
 *	The password is read from a no-echo prompt (asked twice) or, when
 *	standard input is not a terminal, as one line from it; never from
 *	the command line. It is hashed here (crypt_gensalt_rn + crypt_rn,
 *	yescrypt unless --scheme says otherwise) and only the hash is
 *	written, atomically, by the core (passwd_file_write.c). Running
 *	mail servers pick the change up within a second, without a restart.
 *	Each action goes to syslog (LOG_AUTHPRIV) with the invoking user.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "passwd_file.h"
#include "status.h"

#define PASSWORD_MAX 511    /* crypt(3) takes at most 511 bytes */

static const struct cli_help passwd_help = {
    "passwd ACCOUNT [--scheme yescrypt|bcrypt|sha512] [-c PATH] [--json]\n"
    "       saslguard passwd --delete ACCOUNT [-c PATH] [--json]",
    "Set or change ACCOUNT's password in the policy's password file\n"
    "(password_source = file:PATH), adding the account if it has no line yet;\n"
    "its flags (e.g. mfa) are kept. The password is asked twice at a prompt\n"
    "that does not echo it, or read as one line from standard input when that\n"
    "is not a terminal; it is never taken from the command line. Only a\n"
    "crypt(3) hash with a fresh random salt is stored.\n"
    "\n"
    "  --scheme NAME   yescrypt (default), bcrypt (cost 10) or sha512\n"
    "  --delete        remove ACCOUNT's line instead\n"
    "\n"
    "The file is replaced atomically (other writers wait on PATH.lock), keeps\n"
    "its mode and owner, and is created with mode 0640 if missing. Mail\n"
    "servers notice the change within a second, without a restart. The action\n"
    "is logged to syslog (authpriv) with the invoking user, never the password.\n"
    "\n"
    "exit status: 0 done; 1 --delete: no such account; 2 usage error, policy\n"
    "without password_source = file:, or a password file that does not load;\n"
    "4 the file cannot be written.\n",
};

struct passwd_opts {
    const char *account;
    enum sg_passwd_scheme scheme;
    int delete;
};

static int parse(struct cli *c, int argc, char **argv, struct passwd_opts *o)
{
    enum { OPT_SCHEME = 256, OPT_DELETE };
    static const struct option opts[] = {
        CLI_COMMON_LONG, { "scheme", 1, NULL, OPT_SCHEME }, { "delete", 0, NULL, OPT_DELETE },
        { NULL, 0, NULL, 0 },
    };
    const char *scheme = NULL;
    char why[200];
    int ch, rc;

    while ((ch = getopt_long(argc, argv, ":" CLI_COMMON_SHORT, opts, NULL)) != -1) {
        switch (ch) {
        case OPT_SCHEME: scheme = optarg; break;
        case OPT_DELETE: o->delete = 1; break;
        default:
            if ((rc = cli_common_option(c, ch, argv, &passwd_help)) >= 0)
                return rc;
        }
    }
    if (argc - optind > 1)
        return cli_usage_error(&passwd_help, "passwd takes one ACCOUNT; the password is read "
                               "from standard input or a prompt, never from the command line");
    if (argc - optind != 1)
        return cli_usage_error(&passwd_help, "passwd needs an ACCOUNT");
    o->account = argv[optind];
    if (scheme && o->delete)
        return cli_usage_error(&passwd_help, "--scheme makes no sense with --delete");
    if (scheme && sg_passwd_scheme_parse(scheme, &o->scheme) != SG_OK)
        return cli_usage_error(&passwd_help, "--scheme: '%s' is not yescrypt, bcrypt or "
                               "sha512", scheme);
    if (!sg_passwd_file_account_ok(o->account, why, sizeof why))
        return cli_usage_error(&passwd_help, "%s", why);
    return -1;
}

/* The new password, asked twice on a terminal; its length, or -1 (said). */
static long new_password(char *pw, size_t cap)
{
    char again[PASSWORD_MAX + 2];
    long n, m;
    int tty = isatty(STDIN_FILENO);

    n = cli_read_password("New password: ", pw, cap);
    if (n > 0 && tty) {
        m = cli_read_password("Retype new password: ", again, sizeof again);
        if (m != n || memcmp(pw, again, (size_t)n) != 0)
            n = -3;
        sg_secret_wipe_buffer(again, sizeof again);
    }
    if (n > 0)
        return n;
    sg_secret_wipe_buffer(pw, cap);
    fprintf(stderr, "saslguard: %s\n",
            n == -3 ? "the passwords do not match; nothing changed"
            : n == -2 ? "password longer than 511 bytes (the limit of crypt(3))"
            : n == 0 ? (tty ? "empty password; nothing changed"
                            : "no password given on standard input")
                     : "cannot read the password");
    return -1;
}

static void print_done(const struct cli *c, const char *action, const char *account,
                       const char *file, const char *scheme, int added)
{
    char name[SG_ACCOUNT_PRINTABLE_LEN];
    struct cli_json j;

    if (c->json) {
        cli_json_init(&j, stdout);
        cli_json_object(&j, NULL);
        cli_json_str(&j, "action", action);
        cli_json_str(&j, "account", account);
        cli_json_str(&j, "file", file);
        if (scheme) {
            cli_json_str(&j, "scheme", scheme);
            cli_json_bool(&j, "added", added);
        }
        cli_json_end(&j);
        return;
    }
    sg_account_printable(account, strlen(account), name, sizeof name);
    if (!scheme)
        printf("%s: removed from %s\n", name, file);
    else
        printf("%s: %s (%s) %s %s; mail servers use it within a second\n", name,
               added ? "account added" : "password changed", scheme, added ? "to" : "in", file);
}

/* Exit code for a failed write RC; the message is in ERR. */
static int write_failed(int rc, const char *err)
{
    fprintf(stderr, "saslguard: %s\n", rc == SG_ENOMEM ? "out of memory" : err);
    return rc == SG_EINVAL || rc == SG_ECONFIG ? CLI_USAGE
           : rc == SG_ENOTFOUND ? CLI_NOTHING : CLI_ERROR;
}

int cmd_passwd(struct cli *c, int argc, char **argv)
{
    struct passwd_opts o = { NULL, SG_PWS_YESCRYPT, 0 };
    char pw[PASSWORD_MAX + 2], hash[SG_PASSWD_HASH_MAX], err[1200];
    char name[SG_ACCOUNT_PRINTABLE_LEN];
    const char *file, *scheme;
    long plen;
    int rc, added = 0;

    if ((rc = parse(c, argc, argv, &o)) >= 0)
        return rc;
    if ((rc = cli_open(c, 0)) != CLI_OK)
        return rc;
    if (c->policy->password_source != SG_PWSRC_FILE) {
        fprintf(stderr, "saslguard: %s: password_source is sasl: the site's pwcheck_method "
                "checks passwords; saslguard passwd manages the file of "
                "\"password_source = file:PATH\"\n", c->config);
        return CLI_USAGE;
    }
    file = c->policy->password_file;
    sg_account_printable(o.account, strlen(o.account), name, sizeof name);

    if (o.delete) {
        rc = sg_passwd_file_delete(file, o.account, err, sizeof err);
        cli_audit(c, "action=passwd-delete account=%s file=%s result=%s", name, file,
                  rc == SG_OK ? "ok" : rc == SG_ENOTFOUND ? "not_found" : "error");
        if (rc != SG_OK)
            return write_failed(rc, err);
        print_done(c, "passwd-delete", o.account, file, NULL, 0);
        return CLI_OK;
    }

    scheme = sg_passwd_scheme_name(o.scheme);
    if ((plen = new_password(pw, sizeof pw)) < 0)
        return CLI_USAGE;
    rc = sg_passwd_hash(o.scheme, pw, (size_t)plen, hash);
    sg_secret_wipe_buffer(pw, sizeof pw);
    if (rc != SG_OK) {
        fprintf(stderr, "saslguard: %s\n", rc == SG_EINVAL
                ? "the password cannot hold a NUL byte" : "libxcrypt cannot hash the password");
        return rc == SG_EINVAL ? CLI_USAGE : CLI_ERROR;
    }
    rc = sg_passwd_file_set(file, o.account, hash, &added, err, sizeof err);
    sg_secret_wipe_buffer(hash, sizeof hash);
    cli_audit(c, "action=passwd account=%s file=%s scheme=%s result=%s", name, file, scheme,
              rc != SG_OK ? "error" : added ? "added" : "changed");
    if (rc != SG_OK)
        return write_failed(rc, err);
    print_done(c, "passwd", o.account, file, scheme, added);
    return CLI_OK;
}
