/*
 * cmd_mfa.c - "saslguard mfa on|off ACCOUNT": the two-factor flag.
 *
 * DESCRIPTION
 *	A two-factor account logs in to SMTP with app passwords only: its
 *	correct primary password is refused (result app_password_required,
 *	SASL_NOUSERPASS, not counted as a failure). The flag is the field
 *	"mfa" of the account's settings hash (store.h), set through
 *	sg_app_mfa_set; the engine reads it in its check round trip. With
 *	app_passwords = required every account is treated so, and with
 *	app_passwords = off the flag is ignored: both are said.
 *
 *	Each change goes to syslog (LOG_AUTHPRIV) with the invoking user.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "outcome.h"
#include "status.h"

static const struct cli_help mfa_help = {
    "mfa on|off ACCOUNT [-c PATH] [--json]",
    "Turn ACCOUNT's two-factor flag on or off.\n"
    "\n"
    "on    SMTP cannot ask for a second factor, so the account logs in with app\n"
    "      passwords only (saslguard app-password add). Its correct primary\n"
    "      password gets 535 5.7.8 Error: authentication failed: user supplied\n"
    "      passwords are not permitted (SASL_NOUSERPASS; with\n"
    "      mfa_primary_password = refuse the plain 535 ... authentication\n"
    "      failure), logged result=app_password_required and not counted as a\n"
    "      failure. A wrong password counts as usual.\n"
    "off   its primary password logs in again; its app passwords keep working.\n"
    "\n"
    "With app_passwords = required every account needs an app password\n"
    "whatever its flag; with app_passwords = off the flag is ignored.\n"
    "Setting the flag it already has changes nothing (exit 0).\n"
    "The change is logged to syslog (authpriv) with the invoking user.\n"
    "\n"
    "exit status: 0 set; 2 usage or configuration error; 3 Redis unavailable.\n",
};

static void print_on(const struct cli *c, const char *name, int was, size_t active)
{
    char reply[200];

    cli_postfix_reply(cli_app_primary_code(c->policy), reply, sizeof reply);
    printf("%s: two-factor %s: its primary password gets\n  %s\n"
           "  (result=app_password_required, not counted as a failure)\n",
           name, was ? "was already on" : "on", reply);
    if (active == 0)
        printf("It has no active app password yet: saslguard app-password add %s "
               "--label NAME\n", name);
    else
        printf("It has %zu active app password%s.\n", active, active == 1 ? "" : "s");
}

int cmd_mfa(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = { CLI_COMMON_LONG, { NULL, 0, NULL, 0 } };
    char key[SG_ACCOUNT_KEY_LEN], name[SG_ACCOUNT_PRINTABLE_LEN + 80];
    struct sg_app_record *recs = NULL;
    struct sg_store_state st;
    struct cli_json j;
    size_t n = 0, active;
    int ch, rc, on, was = 0;

    while ((ch = getopt_long(argc, argv, ":" CLI_COMMON_SHORT, opts, NULL)) != -1)
        if ((rc = cli_common_option(c, ch, argv, &mfa_help)) >= 0)
            return rc;
    if (argc - optind != 2)
        return cli_usage_error(&mfa_help, "mfa needs on or off and one ACCOUNT");
    if (strcmp(argv[optind], "on") && strcmp(argv[optind], "off"))
        return cli_usage_error(&mfa_help, "mfa: '%s' is neither on nor off", argv[optind]);
    on = strcmp(argv[optind], "on") == 0;
    if ((rc = cli_account_key(argv[optind + 1], key)) != CLI_OK)
        return rc;
    if ((rc = cli_open(c, 1)) != CLI_OK)
        return rc;
    cli_account_text(key, name, sizeof name);
    if ((rc = sg_app_mfa_get(c->store, key, &was)) == SG_OK)
        rc = sg_app_mfa_set(c->store, key, on);
    if (rc != SG_OK) {
        cli_audit(c, "action=mfa-%s account=%s result=error", on ? "on" : "off", name);
        return cli_store_failed(c, rc);
    }
    cli_audit(c, "action=mfa-%s account=%s result=%s", on ? "on" : "off", name,
              was == on ? "unchanged" : "ok");
    /* for the message only: what it has, in Redis time */
    if ((rc = sg_store_peek(c->store, key, NULL, &st)) != SG_OK)
        return cli_store_failed(c, rc);
    if ((rc = cli_app_records(c, key, &recs, &n)) != CLI_OK)
        return rc;
    active = cli_app_count(recs, n, st.now_ms, SG_APP_STATE_ACTIVE);
    free(recs);

    if (c->json) {
        cli_json_init(&j, stdout);
        cli_json_object(&j, NULL);
        cli_json_str(&j, "action", "mfa");
        cli_json_account(&j, key);
        cli_json_bool(&j, "mfa", on);
        cli_json_bool(&j, "changed", was != on);
        cli_json_bool(&j, "needs_app_password", sg_app_needed(c->policy, on) != SG_APP_NEED_NONE);
        cli_json_int(&j, "active_app_passwords", (long long)active);
        cli_json_end(&j);
    } else if (on) {
        print_on(c, name, was, active);
    } else {
        printf("%s: two-factor %s: its primary password logs in%s\n", name,
               was ? "off" : "was already off",
               active ? " (and its app passwords still do)" : "");
    }
    if (c->policy->app_passwords == SG_APP_OFF)
        fprintf(stderr, "saslguard: warning: app_passwords = off in %s: the flag has no effect\n",
                c->config);
    else if (c->policy->app_passwords == SG_APP_REQUIRED)
        fprintf(stderr, "saslguard: note: app_passwords = required in %s: every account needs "
                "an app password, whatever its flag\n", c->config);
    return CLI_OK;
}
