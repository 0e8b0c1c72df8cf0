/*
 * cmd_app.c - "saslguard app-password add|list|revoke": app-specific
 * passwords for accounts that cannot send their primary password.
 *
 * DESCRIPTION
 *	add makes 16 random letters (sg_app_password_generate), prints them
 *	once as four groups of four, and stores only their keyed digest
 *	(sg_app_password_digest with the policy's secret_file, bound to the
 *	account) through sg_app_add. The letters are wiped from memory as
 *	soon as they are printed; nothing else ever prints a password.
 *	list shows each record's label, times, last use and state, never a
 *	digest. revoke moves records to their revoked form, which the core
 *	remembers for 90 days to tell a stale device (revoked_credential)
 *	from a wrong password. Times are the Redis server's (one peek), as
 *	in check.lua, so expiry agrees with every mail server.
 *
 *	add and revoke go to syslog (LOG_AUTHPRIV) with the invoking user,
 *	with the label, never the password.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "outcome.h"
#include "status.h"

/* Longest --expires: ten years. */
#define EXPIRES_MAX (3650ULL * 86400 * 1000)

static const struct cli_help app_help = {
    "app-password add ACCOUNT --label NAME [--expires DURATION] [-c PATH] [--json]\n"
    "       saslguard app-password list ACCOUNT [-c PATH] [--json]\n"
    "       saslguard app-password revoke ACCOUNT LABEL|--all [-c PATH] [--json]",
    "Manage ACCOUNT's app passwords: random passwords, one per device, that a\n"
    "two-factor account (saslguard mfa on) uses for SMTP instead of its primary\n"
    "password. Only a keyed hash is stored (HMAC-SHA-256 with the policy's\n"
    "secret_file, which \"saslguard secret init\" creates).\n"
    "\n"
    "add      make a new app password for the device NAME (1 to 32 of\n"
    "         A-Z a-z 0-9 . _ -) and print it ONCE, as four groups of four\n"
    "         letters; spaces and case do not matter when it is typed.\n"
    "         With --json it is in \"password\": the only output that ever holds\n"
    "         a password. At most 20 active ones per account; a label that is\n"
    "         in use (even expired) must be revoked first.\n"
    "  --label NAME         the device's name (required)\n"
    "  --expires DURATION   stop accepting it after this long (30m, 12h, 90d...)\n"
    "list     labels, state (active, expired, revoked), creation, expiry,\n"
    "         revocation, last use and its source; never a secret.\n"
    "revoke   stop accepting LABEL (or, with --all, every active one) now. A\n"
    "         device still using it gets 535 5.7.8 ... authentication failure,\n"
    "         logged result=revoked_credential label=LABEL and not counted as a\n"
    "         failure; the revoked hash is remembered for 90 days.\n"
    "\n"
    "add and revoke are logged to syslog (authpriv) with the invoking user.\n"
    "\n"
    "exit status: 0 done (list: also when there is none); 1 add refused (label\n"
    "in use, too many active) or nothing to revoke; 2 usage error, bad label or\n"
    "duration, configuration error, secret file missing or too open; 3 Redis\n"
    "unavailable; 4 other error (secret unreadable, no random bytes).\n",
};

struct app_opts {
    const char *action, *account, *label, *expires;
    int all;
};

static int parse(struct cli *c, int argc, char **argv, struct app_opts *o)
{
    enum { OPT_LABEL = 256, OPT_EXPIRES, OPT_ALL };
    static const struct option opts[] = {
        CLI_COMMON_LONG, { "label", 1, NULL, OPT_LABEL }, { "expires", 1, NULL, OPT_EXPIRES },
        { "all", 0, NULL, OPT_ALL }, { NULL, 0, NULL, 0 },
    };
    int ch, rc, n;

    while ((ch = getopt_long(argc, argv, ":" CLI_COMMON_SHORT, opts, NULL)) != -1) {
        if (ch == OPT_LABEL)
            o->label = optarg;
        else if (ch == OPT_EXPIRES)
            o->expires = optarg;
        else if (ch == OPT_ALL)
            o->all = 1;
        else if ((rc = cli_common_option(c, ch, argv, &app_help)) >= 0)
            return rc;
    }
    n = argc - optind;
    if (n < 1)
        return cli_usage_error(&app_help, "app-password needs add, list or revoke");
    o->action = argv[optind];
    if (strcmp(o->action, "add") && strcmp(o->action, "list") && strcmp(o->action, "revoke"))
        return cli_usage_error(&app_help, "unknown app-password action '%s'", o->action);
    if (n < 2)
        return cli_usage_error(&app_help, "app-password %s needs an ACCOUNT", o->action);
    o->account = argv[optind + 1];
    if (strcmp(o->action, "revoke") == 0) {
        if (n > 3 || (n == 3) == o->all)
            return cli_usage_error(&app_help, "app-password revoke needs a LABEL or --all");
        if (n == 3)
            o->label = argv[optind + 2];
    } else if (n > 2) {
        return cli_usage_error(&app_help, "app-password %s takes one ACCOUNT", o->action);
    }
    if ((o->all && strcmp(o->action, "revoke"))
        || (o->expires && strcmp(o->action, "add"))
        || (o->label && strcmp(o->action, "list") == 0))
        return cli_usage_error(&app_help, "option not valid with app-password %s", o->action);
    if (strcmp(o->action, "add") == 0 && !o->label)
        return cli_usage_error(&app_help, "app-password add needs --label NAME");
    if (o->label && !sg_app_label_valid(o->label))
        return cli_usage_error(&app_help, "label '%s': use 1 to 32 of A-Z a-z 0-9 . _ -",
                               o->label);
    return -1;
}

/* ---------------------------------------------------------------- add */

/* sg_app_add refused LABEL: say why, with the way out. */
static int add_refused(struct cli *c, const char *key, const char *name, const char *label,
                       int exists, int64_t now_ms)
{
    struct sg_app_record *recs;
    size_t n;
    char t[40];

    if (!exists) {
        fprintf(stderr, "saslguard: %s has %d active app passwords, the most there may be; "
                "revoke one first (saslguard app-password revoke ACCOUNT LABEL)\n",
                name, SG_APP_MAX_ACTIVE);
        return CLI_NOTHING;
    }
    if (cli_app_records(c, key, &recs, &n) != CLI_OK)
        n = 0, recs = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!recs[i].revoked && strcmp(recs[i].label, label) == 0
            && sg_app_record_state(&recs[i], now_ms) == SG_APP_STATE_EXPIRED) {
            cli_iso_time(recs[i].expires_ms, t, sizeof t);
            fprintf(stderr, "saslguard: %s: the app password \"%s\" expired %s but still holds "
                    "its label; revoke it first: saslguard app-password revoke %s %s\n",
                    name, label, t, name, label);
            free(recs);
            return CLI_NOTHING;
        }
    }
    free(recs);
    fprintf(stderr, "saslguard: %s already has an active app password \"%s\"; choose another "
            "label, or revoke it first: saslguard app-password revoke %s %s\n",
            name, label, name, label);
    return CLI_NOTHING;
}

static void add_print(const struct cli *c, const char *key, const char *name,
                      const char *label, const char shown[SG_APP_PASSWORD_SHOWN],
                      int64_t created_ms, int64_t expires_ms, enum sg_app_need need)
{
    struct cli_json j;
    char t[40];

    if (c->json) {
        cli_json_init(&j, stdout);
        cli_json_object(&j, NULL);
        cli_json_account(&j, key);
        cli_json_str(&j, "label", label);
        cli_json_str(&j, "password", shown);
        cli_json_time(&j, "created", created_ms);
        cli_json_time(&j, "expires", expires_ms);
        cli_json_end(&j);
        return;
    }
    if (expires_ms > 0)
        cli_iso_time(expires_ms, t, sizeof t);
    printf("%s: new app password \"%s\" (%s%s):\n\n", name, label,
           expires_ms > 0 ? "expires " : "never expires", expires_ms > 0 ? t : "");
    printf("    %s\n\n", shown);
    printf("Use it instead of your password in your mail app; spaces are optional.\n"
           "It is shown only this once: saslguard keeps only a keyed hash of it.\n");
    if (need == SG_APP_NEED_NONE && c->policy->app_passwords != SG_APP_OFF)
        printf("note: %s is not a two-factor account, so its primary password works as "
               "well (saslguard mfa on ACCOUNT)\n", name);
}

static int app_add(struct cli *c, const struct app_opts *o, const char *key, const char *name)
{
    char letters[SG_APP_PASSWORD_LEN + 1], shown[SG_APP_PASSWORD_SHOWN];
    char digest[SG_DIGEST_HEX], t[40];
    struct sg_secret sec;
    struct sg_store_state st;
    uint64_t for_ms = 0;
    int64_t expires = 0;
    int rc, exists = 0, full = 0;

    if (o->expires && (sg_duration_parse(o->expires, &for_ms) != SG_OK || for_ms == 0
                       || for_ms > EXPIRES_MAX))
        return cli_usage_error(&app_help, "--expires: '%s' is not a duration from 1ms to "
                               "3650d (e.g. 12h, 90d)", o->expires);
    if (c->policy->app_passwords == SG_APP_OFF)
        fprintf(stderr, "saslguard: warning: app_passwords = off in %s: app passwords are "
                "not accepted until it is per-account or required\n", c->config);
    if ((rc = cli_secret_load(c, &sec)) != CLI_OK)
        return rc;
    /* Redis time, as check.lua compares expiry with it; and the flag */
    if ((rc = sg_store_peek(c->store, key, NULL, &st)) != SG_OK) {
        sg_secret_wipe(&sec);
        return cli_store_failed(c, rc);
    }
    if (for_ms)
        expires = st.now_ms + (int64_t)for_ms;
    rc = sg_app_password_generate(letters);
    if (rc == SG_OK)
        rc = sg_app_password_digest(&sec, key, letters, digest);
    sg_secret_wipe(&sec);
    if (rc != SG_OK) {
        sg_secret_wipe_buffer(letters, sizeof letters);
        fputs("saslguard: cannot generate an app password (OpenSSL failed)\n", stderr);
        return CLI_ERROR;
    }
    sg_app_password_show(letters, shown);
    sg_secret_wipe_buffer(letters, sizeof letters);

    rc = sg_app_add(c->store, key, o->label, digest, st.now_ms, expires, &exists, &full);
    sg_secret_wipe_buffer(digest, sizeof digest);
    if (rc != SG_OK) {
        sg_secret_wipe_buffer(shown, sizeof shown);
        if (exists || full) {
            cli_audit(c, "action=app-password-add account=%s label=%s result=refused reason=%s",
                      name, o->label, exists ? "label_in_use" : "too_many");
            return add_refused(c, key, name, o->label, exists, st.now_ms);
        }
        cli_audit(c, "action=app-password-add account=%s label=%s result=error", name, o->label);
        return cli_store_failed(c, rc);
    }
    if (expires > 0)
        cli_iso_time(expires, t, sizeof t);
    cli_audit(c, "action=app-password-add account=%s label=%s expires=%s result=ok", name,
              o->label, expires > 0 ? t : "never");
    add_print(c, key, name, o->label, shown, st.now_ms, expires,
              sg_app_needed(c->policy, st.mfa));
    fflush(stdout);
    sg_secret_wipe_buffer(shown, sizeof shown);
    return CLI_OK;
}

/* ---------------------------------------------------------------- list */

static void list_text(const struct cli *c, const char *name, const struct sg_store_state *st,
                      const struct sg_app_record *recs, size_t n)
{
    enum sg_app_need need = sg_app_needed(c->policy, st->mfa);
    size_t w = 5;
    char created[40], expires[40], revoked[40], use[120];

    printf("%s: %s; %zu active, %zu expired, %zu revoked (at most %d active)\n", name,
           need == SG_APP_NEED_MFA ? "two-factor account, needs an app password"
           : need == SG_APP_NEED_POLICY ? "needs an app password (app_passwords = required)"
           : c->policy->app_passwords == SG_APP_OFF ? "app passwords not accepted (app_passwords = off)"
           : "primary password or app password",
           cli_app_count(recs, n, st->now_ms, SG_APP_STATE_ACTIVE),
           cli_app_count(recs, n, st->now_ms, SG_APP_STATE_EXPIRED),
           cli_app_count(recs, n, st->now_ms, SG_APP_STATE_REVOKED), SG_APP_MAX_ACTIVE);
    if (n == 0) {
        printf("no app passwords\n");
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (strlen(recs[i].label) > w)
            w = strlen(recs[i].label);
    printf("%-*s  %-7s  %-20s  %-20s  %-20s  %s\n", (int)w, "LABEL", "STATE", "CREATED",
           "EXPIRES", "REVOKED", "LAST USE");
    for (size_t i = 0; i < n; i++) {
        const struct sg_app_record *r = &recs[i];

        cli_iso_time(r->created_ms, created, sizeof created);
        if (r->expires_ms > 0)
            cli_iso_time(r->expires_ms, expires, sizeof expires);
        else
            snprintf(expires, sizeof expires, "never");
        if (r->revoked_ms > 0)
            cli_iso_time(r->revoked_ms, revoked, sizeof revoked);
        else
            snprintf(revoked, sizeof revoked, "-");
        cli_app_last_use(r, use, sizeof use);
        printf("%-*s  %-7s  %-20s  %-20s  %-20s  %s\n", (int)w, r->label,
               sg_app_state_name(sg_app_record_state(r, st->now_ms)), created, expires,
               revoked, use);
    }
}

static int app_list(struct cli *c, const char *key, const char *name)
{
    struct sg_app_record *recs;
    struct sg_store_state st;
    struct cli_json j;
    enum sg_app_need need;
    size_t n;
    int rc;

    if ((rc = sg_store_peek(c->store, key, NULL, &st)) != SG_OK)
        return cli_store_failed(c, rc);
    if ((rc = cli_app_records(c, key, &recs, &n)) != CLI_OK)
        return rc;
    need = sg_app_needed(c->policy, st.mfa);
    if (c->json) {
        cli_json_init(&j, stdout);
        cli_json_object(&j, NULL);
        cli_json_account(&j, key);
        cli_json_bool(&j, "mfa", st.mfa);
        cli_json_bool(&j, "needs_app_password", need != SG_APP_NEED_NONE);
        cli_json_int(&j, "max_active", SG_APP_MAX_ACTIVE);
        cli_json_array(&j, "app_passwords");
        for (size_t i = 0; i < n; i++)
            cli_app_json(&j, &recs[i], st.now_ms);
        cli_json_end(&j);
        cli_json_time(&j, "now", st.now_ms);
        cli_json_end(&j);
    } else {
        list_text(c, name, &st, recs, n);
    }
    free(recs);
    return CLI_OK;
}

/* ---------------------------------------------------------------- revoke */

static int app_revoke(struct cli *c, const struct app_opts *o, const char *key, const char *name)
{
    struct sg_store_state st;
    struct cli_json j;
    char reply[200];
    size_t revoked = 0;
    int rc;

    if ((rc = sg_store_peek(c->store, key, NULL, &st)) == SG_OK)
        rc = sg_app_revoke(c->store, key, o->label, st.now_ms, &revoked);
    if (rc != SG_OK && rc != SG_ENOTFOUND) {
        cli_audit(c, "action=app-password-revoke account=%s %s%s result=error", name,
                  o->label ? "label=" : "all=", o->label ? o->label : "yes");
        return cli_store_failed(c, rc);
    }
    cli_audit(c, "action=app-password-revoke account=%s %s%s revoked=%zu result=%s", name,
              o->label ? "label=" : "all=", o->label ? o->label : "yes", revoked,
              rc == SG_OK ? "ok" : "nothing");
    if (c->json) {
        cli_json_init(&j, stdout);
        cli_json_object(&j, NULL);
        cli_json_str(&j, "action", "app-password-revoke");
        cli_json_account(&j, key);
        cli_json_str(&j, "label", o->label);
        cli_json_bool(&j, "all", o->all);
        cli_json_int(&j, "revoked", (long long)revoked);
        cli_json_end(&j);
    } else if (rc == SG_ENOTFOUND && o->label) {
        printf("%s: no active app password \"%s\" (saslguard app-password list %s)\n", name,
               o->label, name);
    } else if (rc == SG_ENOTFOUND) {
        printf("%s: no active app passwords to revoke\n", name);
    } else {
        cli_postfix_reply(sg_result_sasl_code(SG_RESULT_REVOKED_CREDENTIAL), reply, sizeof reply);
        if (o->label)
            printf("%s: app password \"%s\" revoked\n", name, o->label);
        else
            printf("%s: %zu app password%s revoked\n", name, revoked, revoked == 1 ? "" : "s");
        printf("A device still using %s gets: %s\n(result=revoked_credential, not counted as a "
               "failure; remembered for 90 days)\n", revoked == 1 ? "it" : "one", reply);
    }
    return rc == SG_OK ? CLI_OK : CLI_NOTHING;
}

int cmd_app_password(struct cli *c, int argc, char **argv)
{
    struct app_opts o = { NULL, NULL, NULL, NULL, 0 };
    char key[SG_ACCOUNT_KEY_LEN], name[SG_ACCOUNT_PRINTABLE_LEN + 80];
    int rc;

    if ((rc = parse(c, argc, argv, &o)) >= 0)
        return rc;
    if ((rc = cli_account_key(o.account, key)) != CLI_OK)
        return rc;
    if ((rc = cli_open(c, 1)) != CLI_OK)
        return rc;
    cli_account_text(key, name, sizeof name);
    if (strcmp(o.action, "add") == 0)
        return app_add(c, &o, key, name);
    if (strcmp(o.action, "list") == 0)
        return app_list(c, key, name);
    return app_revoke(c, &o, key, name);
}
