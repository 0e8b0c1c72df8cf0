/*
 * cmd_secret.c - "saslguard secret init": create the site's HMAC key.
 *
 * DESCRIPTION
 *	Creates the policy's secret_file with fresh random bytes, mode 0600
 *	(sg_secret_create), owned by root or by --owner USER, making its
 *	missing parent directories (0755) first. An existing file is never
 *	replaced: every app-password digest and wrong-password fingerprint
 *	is keyed with it, so a new key silently invalidates them all; an
 *	admin who wants that removes the file by hand. The new file is read
 *	back with the loader the plugin uses before success is reported.
 *
 *	Logged to syslog (LOG_AUTHPRIV) with the invoking user; the key
 *	itself is never printed or logged.
 */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "status.h"

static const struct cli_help secret_help = {
    "secret init [--owner USER] [-c PATH] [--json]",
    "Create the secret file named by secret_file in the policy (default\n"
    "/etc/saslguard/secret): random bytes, mode 0600, owned by root (or by\n"
    "USER and USER's group with --owner), creating missing directories (0755).\n"
    "It keys the hashes of app passwords and wrong passwords; saslguard refuses\n"
    "a secret that group or others may read.\n"
    "\n"
    "An existing file is never replaced: a new secret invalidates every app\n"
    "password. To start over, remove it by hand, run secret init again and\n"
    "issue new app passwords.\n"
    "\n"
    "Who must read it: the SASL plugin loads it when the MTA initialises SASL\n"
    "as root (Postfix smtpd before it drops privileges, saslauthd and PAM\n"
    "services as root), so root-only 0600 is right for them; the admin tool\n"
    "reads it for app-password add. Use --owner only for a service that runs\n"
    "without root.\n"
    "\n"
    "  --owner USER   owner of the file (default: the invoking user)\n"
    "\n"
    "The action is logged to syslog (authpriv) with the invoking user.\n"
    "\n"
    "exit status: 0 created; 1 the file exists (nothing done); 2 usage error,\n"
    "unknown user or configuration error; 4 cannot create or write it.\n",
};

/* mkdir -p the directories above PATH, 0755 whatever the umask. */
static int make_parents(const char *path, char *err, size_t errlen)
{
    char dir[4096];
    size_t len = strlen(path);

    if (len >= sizeof dir) {
        snprintf(err, errlen, "%.500s...: path too long", path);
        return SG_EINVAL;
    }
    memcpy(dir, path, len + 1);
    for (char *p = dir + 1; (p = strchr(p, '/')) != NULL; p++) {
        *p = '\0';
        if (mkdir(dir, 0755) == 0) {
            if (chmod(dir, 0755) != 0) {
                snprintf(err, errlen, "%.500s: cannot set mode 0755: %s", dir, strerror(errno));
                return SG_EIO;
            }
        } else if (errno != EEXIST) {
            snprintf(err, errlen, "%.500s: cannot create directory: %s", dir, strerror(errno));
            return SG_EIO;
        }
        *p = '/';
    }
    return SG_OK;
}

int cmd_secret(struct cli *c, int argc, char **argv)
{
    enum { OPT_OWNER = 256 };
    static const struct option opts[] = {
        CLI_COMMON_LONG, { "owner", 1, NULL, OPT_OWNER }, { NULL, 0, NULL, 0 },
    };
    const char *owner = NULL, *path;
    const struct passwd *pw;
    uid_t uid = (uid_t)-1;
    gid_t gid = (gid_t)-1;
    char err[600], who[64];
    struct sg_secret sec;
    struct stat st;
    struct cli_json j;
    int ch, rc;

    while ((ch = getopt_long(argc, argv, ":" CLI_COMMON_SHORT, opts, NULL)) != -1) {
        if (ch == OPT_OWNER)
            owner = optarg;
        else if ((rc = cli_common_option(c, ch, argv, &secret_help)) >= 0)
            return rc;
    }
    if (argc - optind != 1 || strcmp(argv[optind], "init") != 0)
        return cli_usage_error(&secret_help, "the secret command is \"secret init\"");
    if (owner) {
        if (!(pw = getpwnam(owner)))
            return cli_usage_error(&secret_help, "--owner: no such user '%s'", owner);
        uid = pw->pw_uid;       /* copied: getpw* reuse their storage */
        gid = pw->pw_gid;
        snprintf(who, sizeof who, "%s", pw->pw_name);
    } else if ((pw = getpwuid(geteuid())) != NULL) {
        snprintf(who, sizeof who, "%s", pw->pw_name);
    } else {
        snprintf(who, sizeof who, "uid %lu", (unsigned long)geteuid());
    }
    if ((rc = cli_open(c, 0)) != CLI_OK)
        return rc;
    path = c->policy->secret_file;

    if (lstat(path, &st) == 0) {
        cli_audit(c, "action=secret-init path=%s result=exists", path);
        fprintf(stderr, "saslguard: %s exists already: not replaced. A new secret would "
                "invalidate every app password;\nsaslguard: to start over, remove it by hand, "
                "run \"saslguard secret init\" again and issue new app passwords\n", path);
        return CLI_NOTHING;
    }
    rc = make_parents(path, err, sizeof err);
    if (rc == SG_OK)
        rc = sg_secret_create(path, uid, gid, err, sizeof err);
    if (rc == SG_OK) {
        rc = sg_secret_load(path, &sec, err, sizeof err);   /* as the plugin will */
        sg_secret_wipe(&sec);
    }
    if (rc != SG_OK) {
        cli_audit(c, "action=secret-init path=%s result=error", path);
        fprintf(stderr, "saslguard: %s\n", err);
        return CLI_ERROR;
    }
    cli_audit(c, "action=secret-init path=%s owner=%s result=ok", path, who);
    if (c->json) {
        cli_json_init(&j, stdout);
        cli_json_object(&j, NULL);
        cli_json_str(&j, "action", "secret-init");
        cli_json_str(&j, "path", path);
        cli_json_str(&j, "owner", who);
        cli_json_str(&j, "mode", "0600");
        cli_json_end(&j);
    } else {
        printf("%s: created (random key, mode 0600, owner %s)\n", path, who);
        if (!owner)
            printf("The SASL plugin reads it when the mail server initialises SASL as root\n"
                   "(Postfix smtpd, saslauthd), so it may stay readable by root alone.\n");
        printf("Keep it: replacing it invalidates every app password.\n");
    }
    return CLI_OK;
}
