/*
 * cmd_status.c - "saslguard status ACCOUNT" and "saslguard list".
 *
 * DESCRIPTION
 *	status shows one account: failures in the window, whether it is
 *	locked and until when, escalation level, last failure, familiar
 *	sources, its two-factor flag, app passwords and stale devices
 *	(revoked or expired app passwords). list shows every account
 *	and/or source with state, found with SCAN. Whether something is locked always comes from the core's
 *	peek (check.lua, read only); raw fields only add details.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "status.h"
#include "store_admin.h"

static const struct cli_help status_help = {
    "status ACCOUNT [-c PATH] [--json]",
    "Show what saslguard knows about ACCOUNT: failures within account_window,\n"
    "whether it is locked and until when (an admin lock: until unlocked), its\n"
    "escalation level, the time and source of its last failure, the sources\n"
    "it logged in from (familiar sources), its two-factor flag and whether it\n"
    "needs an app password, its active app passwords, and its stale devices:\n"
    "revoked or expired app passwords (label, when, last use), whose attempts\n"
    "are refused as revoked_credential. Reads only; counts nothing.\n"
    "ACCOUNT is the name the mail server authenticates (e.g. alice@example.test),\n"
    "compared without case. An account without state is shown as \"no failures\n"
    "recorded\" (exit 0: saslguard cannot know whether the account exists).\n"
    "\n"
    "exit status: 0 shown; 2 usage or configuration error; 3 Redis unavailable.\n",
};

static const struct cli_help list_help = {
    "list [--locked] [--accounts] [--sources] [-c PATH] [--json]",
    "List accounts and client sources that have state in Redis (failures in\n"
    "their window, a lock or a block), with their failures and lock/block end.\n"
    "Found with SCAN (never KEYS), so it is safe on a busy server.\n"
    "\n"
    "  --locked     only locked or disabled accounts and blocked sources\n"
    "  --accounts   only accounts\n"
    "  --sources    only sources\n"
    "\n"
    "Names longer than 256 bytes are stored hashed and shown as\n"
    "\"(long name) ~HASH\"; ~HASH can be given to status, lock and unlock.\n"
    "\n"
    "exit status: 0 listed (also when the list is empty); 2 usage or\n"
    "configuration error; 3 Redis unavailable.\n",
};

static const char *account_state(enum sg_check_state st)
{
    switch (st) {
    case SG_STATE_ACCOUNT_LOCKED: return "locked";
    case SG_STATE_ACCOUNT_DISABLED: return "disabled";
    case SG_STATE_SOURCE_BLOCKED: return "blocked";
    case SG_STATE_ALLOWED: break;
    }
    return "allowed";
}

/* The two-factor part: flag, need, app passwords and stale devices. */
struct app_view {
    const struct sg_app_record *recs;
    size_t n;
};

static const char *need_name(enum sg_app_need need)
{
    return need == SG_APP_NEED_MFA ? "mfa" : need == SG_APP_NEED_POLICY ? "policy" : NULL;
}

static void app_json(const struct cli *c, struct cli_json *j, const struct sg_admin_account *a,
                     const struct app_view *v)
{
    enum sg_app_need need = sg_app_needed(c->policy, a->st.mfa);

    cli_json_bool(j, "mfa", a->st.mfa);
    cli_json_bool(j, "needs_app_password", need != SG_APP_NEED_NONE);
    cli_json_str(j, "needs_app_password_by", need_name(need));
    for (int stale = 0; stale < 2; stale++) {
        cli_json_array(j, stale ? "stale_devices" : "app_passwords");
        for (size_t i = 0; i < v->n; i++)
            if ((sg_app_record_state(&v->recs[i], a->st.now_ms) != SG_APP_STATE_ACTIVE) == stale)
                cli_app_json(j, &v->recs[i], a->st.now_ms);
        cli_json_end(j);
    }
}

static void app_text(const struct cli *c, const struct sg_admin_account *a,
                     const struct app_view *v)
{
    static const char *const head[] = { "app passwords:", "stale devices:" };
    const struct sg_policy *p = c->policy;
    enum sg_app_need need = sg_app_needed(p, a->st.mfa);
    char line[400];

    if (p->app_passwords == SG_APP_OFF)
        printf("two-factor:   %s (ignored: app_passwords = off)\n", a->st.mfa ? "on" : "off");
    else if (need == SG_APP_NEED_POLICY)
        printf("two-factor:   %s; needs an app password anyway (app_passwords = required)\n",
               a->st.mfa ? "on" : "off");
    else if (need == SG_APP_NEED_MFA)
        printf("two-factor:   on: needs an app password (its primary password gets "
               "app_password_required)\n");
    else
        printf("two-factor:   off\n");
    for (int stale = 0; stale < 2; stale++) {
        int shown = 0;

        for (size_t i = 0; i < v->n; i++) {
            if ((sg_app_record_state(&v->recs[i], a->st.now_ms) != SG_APP_STATE_ACTIVE) != stale)
                continue;
            cli_app_text(&v->recs[i], a->st.now_ms, line, sizeof line);
            printf("%-15s%s: %s\n", shown++ ? "" : head[stale], v->recs[i].label, line);
        }
        if (!shown)
            printf("%-15s(none)\n", head[stale]);
    }
}

static void status_json(const struct cli *c, const char *key, const struct sg_admin_account *a,
                        const struct app_view *v)
{
    const struct sg_policy *p = c->policy;
    struct cli_json j;

    cli_json_init(&j, stdout);
    cli_json_object(&j, NULL);
    cli_json_account(&j, key);
    cli_json_bool(&j, "exists", a->exists);
    cli_json_str(&j, "state", account_state(a->st.state));
    cli_json_bool(&j, "locked", a->st.state != SG_STATE_ALLOWED);
    cli_json_str(&j, "lock", a->st.state == SG_STATE_ACCOUNT_DISABLED ? "admin"
                              : a->st.state == SG_STATE_ACCOUNT_LOCKED ? "temporary" : "none");
    cli_json_time(&j, "until", a->st.state == SG_STATE_ACCOUNT_LOCKED ? a->st.until_ms : 0);
    cli_json_int(&j, "failures", a->st.failures);
    cli_json_int(&j, "account_failures", p->account_failures);
    cli_json_int(&j, "account_window_ms", (long long)p->account_window_ms);
    cli_json_time(&j, "window_start", a->st.failures > 0 ? a->window_start_ms : 0);
    cli_json_int(&j, "escalation_level", a->level);
    /* smart lockout: failures from familiar sources have their own lock */
    cli_json_object(&j, "familiar_side");
    cli_json_str(&j, "state", account_state(a->st_familiar.state));
    cli_json_time(&j, "until", a->st_familiar.state == SG_STATE_ACCOUNT_LOCKED
                                   ? a->st_familiar.until_ms : 0);
    cli_json_int(&j, "failures", a->st_familiar.failures);
    cli_json_end(&j);
    if (a->last_failure_ms > 0) {
        cli_json_object(&j, "last_failure");
        cli_json_time(&j, "time", a->last_failure_ms);
        cli_json_str(&j, "source", a->last_source[0] ? a->last_source : NULL);
        cli_json_end(&j);
    } else {
        cli_json_null(&j, "last_failure");
    }
    cli_json_array(&j, "familiar_sources");
    for (size_t i = 0; i < a->familiar_count; i++) {
        cli_json_object(&j, NULL);
        cli_json_str(&j, "source", a->familiar[i].source);
        cli_json_time(&j, "last_login", a->familiar[i].last_ms);
        cli_json_end(&j);
    }
    cli_json_end(&j);
    app_json(c, &j, a, v);
    cli_json_time(&j, "now", a->st.now_ms);
    cli_json_end(&j);
}

static void status_text(const struct cli *c, const char *key, const struct sg_admin_account *a,
                        const struct app_view *v)
{
    const struct sg_policy *p = c->policy;
    char name[SG_ACCOUNT_PRINTABLE_LEN + 80], t[40], span[40], win[24];

    cli_account_text(key, name, sizeof name);
    sg_duration_format(p->account_window_ms, win, sizeof win);
    printf("account:      %s\n", name);
    /* st is what unfamiliar sources get; the familiar side follows below */
    if (a->st.state == SG_STATE_ACCOUNT_DISABLED) {
        printf("state:        locked until unlocked (by an admin)\n");
    } else if (a->st.state == SG_STATE_ACCOUNT_LOCKED) {
        cli_iso_time(a->st.until_ms, t, sizeof t);
        cli_span(a->st.until_ms - a->st.now_ms, span, sizeof span);
        printf("state:        locked until %s (%s from now)\n", t, span);
    } else {
        printf("state:        not locked\n");
    }
    if (!a->exists) {
        printf("failures:     0 (no failures recorded)\n");
    } else {
        printf("failures:     %ld within account_window = %s (account_failures = %u)\n",
               a->st.failures, win, p->account_failures);
        if (a->st.failures > 0 && a->window_start_ms > 0) {
            cli_iso_time(a->window_start_ms, t, sizeof t);
            printf("window start: %s\n", t);
        }
    }
    printf("escalation:   %ld\n", a->level);
    if (a->st_familiar.state == SG_STATE_ACCOUNT_LOCKED) {
        cli_iso_time(a->st_familiar.until_ms, t, sizeof t);
        printf("familiar side: locked until %s (%ld failures from familiar sources)\n", t,
               a->st_familiar.failures);
    } else if (a->st_familiar.failures > 0) {
        printf("familiar side: %ld failures from familiar sources (counted apart)\n",
               a->st_familiar.failures);
    }
    if (a->last_failure_ms > 0) {
        cli_iso_time(a->last_failure_ms, t, sizeof t);
        printf("last failure: %s from %s\n", t, a->last_source[0] ? a->last_source : "(no source)");
    } else {
        printf("last failure: none\n");
    }
    if (a->familiar_count == 0) {
        printf("familiar:     (none)\n");
    } else {
        for (size_t i = 0; i < a->familiar_count; i++) {
            cli_iso_time(a->familiar[i].last_ms, t, sizeof t);
            printf("%s%s (last login %s)\n", i ? "              " : "familiar:     ",
                   a->familiar[i].source, t);
        }
        if (a->familiar_total > a->familiar_count)
            printf("              ... %zu more\n", a->familiar_total - a->familiar_count);
    }
    app_text(c, a, v);
}

int cmd_status(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = { CLI_COMMON_LONG, { NULL, 0, NULL, 0 } };
    char key[SG_ACCOUNT_KEY_LEN];
    struct sg_admin_account a;
    struct sg_app_record *recs;
    struct app_view v;
    int ch, rc;

    while ((ch = getopt_long(argc, argv, ":" CLI_COMMON_SHORT, opts, NULL)) != -1)
        if ((rc = cli_common_option(c, ch, argv, &status_help)) >= 0)
            return rc;
    if (argc - optind != 1)
        return cli_usage_error(&status_help, "status needs exactly one ACCOUNT");
    if ((rc = cli_account_key(argv[optind], key)) != CLI_OK)
        return rc;
    if ((rc = cli_open(c, 1)) != CLI_OK)
        return rc;
    if ((rc = sg_admin_account(c->store, key, &a)) != SG_OK)
        return cli_store_failed(c, rc);
    if ((rc = cli_app_records(c, key, &recs, &v.n)) != CLI_OK)
        return rc;
    v.recs = recs;
    if (c->json)
        status_json(c, key, &a, &v);
    else
        status_text(c, key, &a, &v);
    free(recs);
    return CLI_OK;
}

/* ---------------------------------------------------------------- list */

static void until_text(const struct sg_store_state *st, char *buf, size_t len)
{
    char t[40], span[40];

    if (st->state == SG_STATE_ACCOUNT_DISABLED) {
        snprintf(buf, len, "until unlocked");
    } else if (st->state != SG_STATE_ALLOWED) {
        cli_iso_time(st->until_ms, t, sizeof t);
        cli_span(st->until_ms - st->now_ms, span, sizeof span);
        snprintf(buf, len, "%s (in %s)", t, span);
    } else {
        snprintf(buf, len, "-");
    }
}

static void list_print(const struct cli *c, struct cli_json *j, enum sg_admin_kind kind,
                       const struct sg_admin_list *l, int locked)
{
    int acc = kind == SG_ADMIN_ACCOUNTS;

    if (c->json) {
        cli_json_array(j, acc ? "accounts" : "sources");
        for (size_t i = 0; i < l->n; i++) {
            const struct sg_admin_entry *e = &l->v[i];

            cli_json_object(j, NULL);
            if (acc)
                cli_json_account(j, e->part);
            else
                cli_json_str(j, "source", e->part);
            cli_json_str(j, "state", account_state(e->st.state));
            cli_json_int(j, "failures", acc ? e->st.failures : e->st.source_failures);
            cli_json_time(j, "until",
                          e->st.state == SG_STATE_ACCOUNT_DISABLED ? 0 : e->st.until_ms);
            cli_json_end(j);
        }
        cli_json_end(j);
        return;
    }
    if (l->n == 0) {
        printf(acc ? (locked ? "no locked accounts\n" : "no accounts with recorded state\n")
                   : (locked ? "no blocked sources\n" : "no sources with recorded state\n"));
    } else {
        printf("%-32s %-9s %8s  %s\n", acc ? "ACCOUNT" : "SOURCE", "STATE", "FAILURES", "UNTIL");
        for (size_t i = 0; i < l->n; i++) {
            const struct sg_admin_entry *e = &l->v[i];
            char name[SG_ACCOUNT_PRINTABLE_LEN + 80], until[128];

            if (acc)
                cli_account_text(e->part, name, sizeof name);
            else
                snprintf(name, sizeof name, "%s", e->part);
            until_text(&e->st, until, sizeof until);
            printf("%-32s %-9s %8ld  %s\n", name, account_state(e->st.state),
                   acc ? e->st.failures : e->st.source_failures, until);
        }
    }
    if (l->truncated)
        printf("(stopped after %d entries)\n", SG_ADMIN_LIST_MAX);
}

int cmd_list(struct cli *c, int argc, char **argv)
{
    enum { OPT_LOCKED = 256, OPT_ACCOUNTS, OPT_SOURCES };
    static const struct option opts[] = {
        CLI_COMMON_LONG, { "locked", 0, NULL, OPT_LOCKED },
        { "accounts", 0, NULL, OPT_ACCOUNTS }, { "sources", 0, NULL, OPT_SOURCES },
        { NULL, 0, NULL, 0 },
    };
    int ch, rc = SG_OK, locked = 0, want[2] = { 0, 0 };
    struct sg_admin_list l[2];
    struct cli_json j;

    memset(l, 0, sizeof l);
    while ((ch = getopt_long(argc, argv, ":" CLI_COMMON_SHORT, opts, NULL)) != -1) {
        if (ch == OPT_LOCKED)
            locked = 1;
        else if (ch == OPT_ACCOUNTS)
            want[SG_ADMIN_ACCOUNTS] = 1;
        else if (ch == OPT_SOURCES)
            want[SG_ADMIN_SOURCES] = 1;
        else if ((rc = cli_common_option(c, ch, argv, &list_help)) >= 0)
            return rc;
    }
    if (optind != argc)
        return cli_usage_error(&list_help, "list takes no operands");
    if (!want[SG_ADMIN_ACCOUNTS] && !want[SG_ADMIN_SOURCES])
        want[SG_ADMIN_ACCOUNTS] = want[SG_ADMIN_SOURCES] = 1;
    if ((rc = cli_open(c, 1)) != CLI_OK)
        return rc;
    /* fetch everything first: no half-printed output when Redis fails */
    for (int k = 0; k < 2 && rc == SG_OK; k++)
        if (want[k])
            rc = sg_admin_list(c->store, (enum sg_admin_kind)k, locked, &l[k]);
    if (rc == SG_OK) {
        cli_json_init(&j, stdout);
        if (c->json)
            cli_json_object(&j, NULL);
        for (int k = 0; k < 2; k++) {
            if (!want[k])
                continue;
            if (!c->json && k == SG_ADMIN_SOURCES && want[SG_ADMIN_ACCOUNTS])
                putchar('\n');
            list_print(c, &j, (enum sg_admin_kind)k, &l[k], locked);
            if (c->json)
                cli_json_bool(&j, k == SG_ADMIN_ACCOUNTS ? "accounts_truncated"
                                                        : "sources_truncated", l[k].truncated);
        }
        if (c->json)
            cli_json_end(&j);
    }
    sg_admin_list_free(&l[0]);
    sg_admin_list_free(&l[1]);
    return rc == SG_OK ? CLI_OK : cli_store_failed(c, rc);
}
