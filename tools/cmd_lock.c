/*
 * cmd_lock.c - "saslguard lock", "unlock" and "unblock": the admin's writes.
 *
 * DESCRIPTION
 *	lock sets an account's lock end (store_admin.c, lua/admin.lua):
 *	without --for until an admin unlocks it (the engine answers
 *	"disabled", 535 5.7.8 ... account disabled), with --for for that long
 *	("locked", 454 4.7.0). unlock forgets an account's lock and failures;
 *	unblock forgets a source's block and failures. Each action goes to
 *	syslog (LOG_AUTHPRIV) with the invoking user (cli_audit).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "outcome.h"
#include "status.h"
#include "store_admin.h"

/* Longest --for: ten years. */
#define LOCK_FOR_MAX (3650ULL * 86400 * 1000)

static const struct cli_help lock_help = {
    "lock ACCOUNT [--for DURATION] [-c PATH] [--json]",
    "Lock ACCOUNT now, whatever its failures.\n"
    "\n"
    "  --for DURATION   lock for this long (30s, 15m, 2h, 7d...): the next\n"
    "                   attempts get \"locked\" (454 4.7.0, try again later)\n"
    "\n"
    "Without --for the account stays locked until \"saslguard unlock\": attempts\n"
    "get \"disabled\" (535 5.7.8 Error: authentication failed: account disabled).\n"
    "A new lock replaces any lock the account had; its failures are kept.\n"
    "The action is logged to syslog (authpriv) with the invoking user.\n"
    "\n"
    "exit status: 0 locked; 2 usage error, bad duration or configuration\n"
    "error; 3 Redis unavailable.\n",
};

static const struct cli_help unlock_help = {
    "unlock ACCOUNT [-c PATH] [--json]",
    "Clear ACCOUNT's lock (temporary or by an admin) and its failures, so its\n"
    "next attempt is checked as if it had never failed. Its settings (app\n"
    "passwords) are not touched. Logged to syslog (authpriv).\n"
    "\n"
    "exit status: 0 cleared; 1 nothing to clear (no lock and no failures\n"
    "recorded); 2 usage or configuration error; 3 Redis unavailable.\n",
};

static const struct cli_help unblock_help = {
    "unblock ADDRESS|PREFIX [-c PATH] [--json]",
    "Clear a client source's block and failures. A bare ADDRESS is reduced to\n"
    "the policy's source prefix first (ipv4_prefix, ipv6_prefix), as the engine\n"
    "does; a PREFIX written with /N is used as given (e.g. 2001:db8:1:2::/64).\n"
    "Logged to syslog (authpriv).\n"
    "\n"
    "exit status: 0 cleared; 1 nothing to clear; 2 usage error, bad address or\n"
    "configuration error; 3 Redis unavailable.\n",
};

/* Parse the common options and exactly one operand into *ARG. */
static int one_operand(struct cli *c, int argc, char **argv, const struct option *opts,
                       const struct cli_help *h, const char **for_arg, const char **arg)
{
    int ch, rc;

    while ((ch = getopt_long(argc, argv, ":" CLI_COMMON_SHORT, opts, NULL)) != -1) {
        if (ch == 'f' && for_arg)
            *for_arg = optarg;
        else if ((rc = cli_common_option(c, ch, argv, h)) >= 0)
            return rc;
    }
    if (argc - optind != 1)
        return cli_usage_error(h, "%s needs exactly one operand", argv[0]);
    *arg = argv[optind];
    return -1;
}

static void json_done(const char *action, const char *key, const char *source,
                      int changed, int64_t until_ms, int until_unlocked)
{
    struct cli_json j;
    char name[SG_ACCOUNT_MAX + 1];
    long n;

    cli_json_init(&j, stdout);
    cli_json_object(&j, NULL);
    cli_json_str(&j, "action", action);
    if (key) {
        n = cli_account_name(key, name, sizeof name);
        if (n > 0)
            cli_json_strn(&j, "account", name, (size_t)n);
        else
            cli_json_null(&j, "account");
        cli_json_str(&j, "key", key);
    } else {
        cli_json_str(&j, "source", source);
    }
    cli_json_bool(&j, "changed", changed);
    if (strcmp(action, "lock") == 0) {
        cli_json_bool(&j, "until_unlocked", until_unlocked);
        cli_json_time(&j, "until", until_unlocked ? 0 : until_ms);
    }
    cli_json_end(&j);
}

int cmd_lock(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        CLI_COMMON_LONG, { "for", 1, NULL, 'f' }, { NULL, 0, NULL, 0 },
    };
    const char *arg = NULL, *for_arg = NULL;
    char key[SG_ACCOUNT_KEY_LEN], name[SG_ACCOUNT_PRINTABLE_LEN + 80], t[40], d[24], reply[200];
    uint64_t for_ms = 0;
    int64_t until = 0;
    int rc;

    if ((rc = one_operand(c, argc, argv, opts, &lock_help, &for_arg, &arg)) >= 0)
        return rc;
    if (for_arg && (sg_duration_parse(for_arg, &for_ms) != SG_OK || for_ms == 0
                    || for_ms > LOCK_FOR_MAX))
        return cli_usage_error(&lock_help, "--for: '%s' is not a duration from 1ms to 3650d "
                               "(e.g. 30s, 15m, 2h, 7d)", for_arg);
    if ((rc = cli_account_key(arg, key)) != CLI_OK)
        return rc;
    if ((rc = cli_open(c, 1)) != CLI_OK)
        return rc;
    cli_account_text(key, name, sizeof name);
    if ((rc = sg_admin_lock(c->store, key, for_ms, &until, NULL)) != SG_OK) {
        cli_audit(c, "action=lock account=%s result=error", name);
        return cli_store_failed(c, rc);
    }
    if (for_ms) {
        sg_duration_format(for_ms, d, sizeof d);
        cli_iso_time(until, t, sizeof t);
        cli_audit(c, "action=lock account=%s for=%s until=%s result=ok", name, d, t);
    } else {
        cli_audit(c, "action=lock account=%s until=unlocked result=ok", name);
    }
    if (c->json) {
        json_done("lock", key, NULL, 1, until, for_ms == 0);
    } else if (for_ms) {
        cli_postfix_reply(sg_result_sasl_code(SG_RESULT_LOCKED), reply, sizeof reply);
        printf("%s: locked until %s (for %s); attempts get: %s\n", name, t, d, reply);
    } else {
        cli_postfix_reply(sg_result_sasl_code(SG_RESULT_DISABLED), reply, sizeof reply);
        printf("%s: locked until unlocked; attempts get: %s\n", name, reply);
    }
    return CLI_OK;
}

int cmd_unlock(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = { CLI_COMMON_LONG, { NULL, 0, NULL, 0 } };
    const char *arg = NULL;
    char key[SG_ACCOUNT_KEY_LEN], name[SG_ACCOUNT_PRINTABLE_LEN + 80], t[40];
    struct sg_store_state st, fam;
    int rc;

    if ((rc = one_operand(c, argc, argv, opts, &unlock_help, NULL, &arg)) >= 0)
        return rc;
    if ((rc = cli_account_key(arg, key)) != CLI_OK)
        return rc;
    if ((rc = cli_open(c, 1)) != CLI_OK)
        return rc;
    cli_account_text(key, name, sizeof name);
    /* what it was, for the message only: the DEL decides. Smart lockout
     * keeps two sides (store.h): say what either had. */
    if ((rc = sg_store_peek(c->store, key, NULL, &st)) == SG_OK
        && (rc = sg_store_peek_familiar(c->store, key, &fam)) == SG_OK) {
        if (st.state == SG_STATE_ALLOWED && fam.state != SG_STATE_ALLOWED)
            st = fam;
        if (fam.failures > st.failures)
            st.failures = fam.failures;
        rc = sg_admin_unlock(c->store, key);
    }
    if (rc != SG_OK && rc != SG_ENOTFOUND) {
        cli_audit(c, "action=unlock account=%s result=error", name);
        return cli_store_failed(c, rc);
    }
    cli_audit(c, "action=unlock account=%s result=%s", name, rc == SG_OK ? "ok" : "nothing");
    if (c->json) {
        json_done("unlock", key, NULL, rc == SG_OK, 0, 0);
    } else if (rc == SG_ENOTFOUND) {
        printf("%s: nothing to unlock (no lock or failures recorded)\n", name);
    } else if (st.state == SG_STATE_ACCOUNT_DISABLED) {
        printf("%s: unlocked (was locked until unlocked; %ld failures cleared)\n", name,
               st.failures);
    } else if (st.state == SG_STATE_ACCOUNT_LOCKED) {
        cli_iso_time(st.until_ms, t, sizeof t);
        printf("%s: unlocked (was locked until %s; %ld failures cleared)\n", name, t, st.failures);
    } else {
        printf("%s: %ld failures cleared (it was not locked)\n", name, st.failures);
    }
    return rc == SG_OK ? CLI_OK : CLI_NOTHING;
}

/* ADDRESS -> the policy's prefix; PREFIX (with /N) -> itself, normalised. */
static int source_key(const struct sg_policy *p, const char *arg, char out[SG_PREFIX_STRLEN])
{
    struct sg_addr addr;
    struct sg_prefix pfx;

    if (strchr(arg, '/')) {
        if (sg_prefix_parse(arg, &pfx) != SG_OK)
            return SG_EINVAL;
    } else {
        if (sg_addr_parse(arg, &addr) != SG_OK)
            return SG_EINVAL;
        sg_addr_to_prefix(&addr, p->ipv4_prefix, p->ipv6_prefix, &pfx);
    }
    return sg_prefix_format(&pfx, out, SG_PREFIX_STRLEN);
}

int cmd_unblock(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = { CLI_COMMON_LONG, { NULL, 0, NULL, 0 } };
    const char *arg = NULL;
    char src[SG_PREFIX_STRLEN], t[40];
    struct sg_store_state st;
    int rc;

    if ((rc = one_operand(c, argc, argv, opts, &unblock_help, NULL, &arg)) >= 0)
        return rc;
    if ((rc = cli_open(c, 1)) != CLI_OK)
        return rc;
    if (source_key(c->policy, arg, src) != SG_OK)
        return cli_usage_error(&unblock_help, "'%s' is not an IP address or prefix", arg);
    if ((rc = sg_store_peek(c->store, NULL, src, &st)) == SG_OK)
        rc = sg_admin_unblock(c->store, src);
    if (rc != SG_OK && rc != SG_ENOTFOUND) {
        cli_audit(c, "action=unblock source=%s result=error", src);
        return cli_store_failed(c, rc);
    }
    cli_audit(c, "action=unblock source=%s result=%s", src, rc == SG_OK ? "ok" : "nothing");
    if (c->json) {
        json_done("unblock", NULL, src, rc == SG_OK, 0, 0);
    } else if (rc == SG_ENOTFOUND) {
        printf("%s: nothing to unblock (no block or failures recorded)\n", src);
    } else if (st.state == SG_STATE_SOURCE_BLOCKED) {
        cli_iso_time(st.until_ms, t, sizeof t);
        printf("%s: unblocked (was blocked until %s; %ld failures cleared)\n", src, t,
               st.source_failures);
    } else {
        printf("%s: %ld failures cleared (it was not blocked)\n", src, st.source_failures);
    }
    return rc == SG_OK ? CLI_OK : CLI_NOTHING;
}
