/*
 * test_policy.c - unit tests for lib/policy.c (saslguard.conf(5) parser).
 *
 * Each test loads a small policy text and checks either the parsed values
 * or the exact diagnostics. Diagnostics are collected in a struct diags so
 * that tests can count them: the parser must report every problem, not
 * just the first, and must never hand out a half-filled policy.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "policy.h"
#include "status.h"

#define MAX_DIAGS 32

struct diags {
    size_t count;
    char *msg[MAX_DIAGS];
};

static void collect(void *ctx, const char *msg)
{
    struct diags *d = ctx;

    if (d->count < MAX_DIAGS)
        d->msg[d->count] = strdup(msg);
    d->count++;
}

static void diags_free(struct diags *d)
{
    for (size_t i = 0; i < d->count && i < MAX_DIAGS; i++)
        free(d->msg[i]);
    memset(d, 0, sizeof(*d));
}

/* Load TEXT as "t.conf"; the policy is returned only on success. */
static int load(const char *text, struct sg_policy **p, struct diags *d)
{
    memset(d, 0, sizeof(*d));
    return sg_policy_load_string("t.conf", text, p, collect, d);
}

/* TEXT must fail with exactly one diagnostic, equal to WANT. */
static void expect_one_error(const char *text, const char *want)
{
    struct sg_policy *p = (struct sg_policy *)1;
    struct diags d;

    assert_int_equal(load(text, &p, &d), SG_ECONFIG);
    assert_null(p);
    assert_int_equal(d.count, 1);
    assert_string_equal(d.msg[0], want);
    diags_free(&d);
}

/* TEXT must load; the caller frees the policy. */
static struct sg_policy *expect_ok(const char *text)
{
    struct sg_policy *p = NULL;
    struct diags d;

    assert_int_equal(load(text, &p, &d), SG_OK);
    assert_int_equal(d.count, 0);
    assert_non_null(p);
    diags_free(&d);
    return p;
}

static struct sg_addr addr(const char *text)
{
    struct sg_addr a;

    assert_int_equal(sg_addr_parse(text, &a), SG_OK);
    return a;
}

/* ---------------------------------------------------------------- values */

static void check_defaults(const struct sg_policy *p)
{
    assert_int_equal(p->redis_kind, SG_REDIS_UNIX);
    assert_string_equal(p->redis_path, "/run/redis/redis.sock");
    assert_null(p->redis_host);
    assert_null(p->redis_password_file);
    assert_int_equal(p->redis_db, 0);
    assert_int_equal(p->redis_timeout_ms, 100);
    assert_int_equal(p->account_failures, 5);
    assert_int_equal(p->account_window_ms, 15 * 60000);
    assert_int_equal(p->account_lock_ms, 15 * 60000);
    assert_int_equal(p->account_lock_max_ms, 24 * 3600000);
    assert_int_equal(p->source_failures, 20);
    assert_int_equal(p->source_window_ms, 10 * 60000);
    assert_int_equal(p->source_block_ms, 3600000);
    assert_int_equal(p->ipv4_prefix, 32);
    assert_int_equal(p->ipv6_prefix, 64);
    assert_int_equal(p->spray_accounts, 10);
    assert_int_equal(p->trusted_count, 2);
    assert_int_equal(p->familiar_sources_ms, 30ULL * 86400000);
    assert_int_equal(p->store_failure, SG_FAIL_TEMPFAIL);
    assert_int_equal(p->app_passwords, SG_APP_PER_ACCOUNT);
    assert_string_equal(p->key_prefix, "sg");
    assert_int_equal(p->password_source, SG_PWSRC_SASL);
    assert_null(p->password_file);
    assert_string_equal(p->secret_file, "/etc/saslguard/secret");
}

static void test_defaults(void **state)
{
    struct sg_policy *p;
    struct sg_addr a;

    (void)state;
    assert_int_equal(sg_policy_defaults(&p), SG_OK);
    check_defaults(p);
    assert_string_equal(p->path, "(defaults)");
    a = addr("127.0.0.1");
    assert_true(sg_policy_is_trusted(p, &a));
    a = addr("::1");
    assert_true(sg_policy_is_trusted(p, &a));
    a = addr("192.0.2.1");
    assert_false(sg_policy_is_trusted(p, &a));
    sg_policy_free(p);
    assert_int_equal(sg_policy_defaults(NULL), SG_EINVAL);
}

static void test_empty_file_is_defaults(void **state)
{
    struct sg_policy *p;

    (void)state;
    p = expect_ok("");
    check_defaults(p);
    assert_string_equal(p->path, "t.conf");
    sg_policy_free(p);
    p = expect_ok("# only a comment\n\n   \t\n");
    check_defaults(p);
    sg_policy_free(p);
}

static void test_every_key(void **state)
{
    struct sg_policy *p;

    (void)state;
    p = expect_ok(
        "redis = tcp://redis.example.org:6380\n"
        "redis_password_file = /etc/saslguard/redis.pass\n"
        "redis_db = 3\n"
        "redis_timeout = 250ms\n"
        "account_failures = 7\n"
        "account_window = 30m\n"
        "account_lock = 20m\n"
        "account_lock_max = 2d\n"
        "source_failures = 50\n"
        "source_window = 1h\n"
        "source_block = 6h\n"
        "ipv4_prefix = 24\n"
        "ipv6_prefix = 48\n"
        "spray_accounts = 25\n"
        "trusted_networks = 192.0.2.0/24\n"
        "familiar_sources = 2w\n"
        "store_failure = closed\n"
        "app_passwords = required\n"
        "key_prefix = mail-1.sg_x\n"
        "password_source = file:/etc/saslguard/passwd\n"
        "secret_file = /var/lib/saslguard/secret\n");
    assert_int_equal(p->redis_kind, SG_REDIS_TCP);
    assert_string_equal(p->redis_host, "redis.example.org");
    assert_int_equal(p->redis_port, 6380);
    assert_null(p->redis_path);
    assert_string_equal(p->redis_password_file, "/etc/saslguard/redis.pass");
    assert_int_equal(p->redis_db, 3);
    assert_int_equal(p->redis_timeout_ms, 250);
    assert_int_equal(p->account_failures, 7);
    assert_int_equal(p->account_window_ms, 30 * 60000);
    assert_int_equal(p->account_lock_ms, 20 * 60000);
    assert_int_equal(p->account_lock_max_ms, 2 * 86400000);
    assert_int_equal(p->source_failures, 50);
    assert_int_equal(p->source_window_ms, 3600000);
    assert_int_equal(p->source_block_ms, 6 * 3600000);
    assert_int_equal(p->ipv4_prefix, 24);
    assert_int_equal(p->ipv6_prefix, 48);
    assert_int_equal(p->spray_accounts, 25);
    assert_int_equal(p->trusted_count, 1);
    assert_int_equal(p->familiar_sources_ms, 14ULL * 86400000);
    assert_int_equal(p->store_failure, SG_FAIL_CLOSED);
    assert_int_equal(p->app_passwords, SG_APP_REQUIRED);
    assert_string_equal(p->key_prefix, "mail-1.sg_x");
    assert_int_equal(p->password_source, SG_PWSRC_FILE);
    assert_string_equal(p->password_file, "/etc/saslguard/passwd");
    assert_string_equal(p->secret_file, "/var/lib/saslguard/secret");
    sg_policy_free(p);
}

static void test_enums(void **state)
{
    static const struct {
        const char *text;
        int store, app;
    } cases[] = {
        { "store_failure = tempfail\napp_passwords = per-account\n",
          SG_FAIL_TEMPFAIL, SG_APP_PER_ACCOUNT },
        { "store_failure = open\napp_passwords = off\n", SG_FAIL_OPEN, SG_APP_OFF },
        { "store_failure = closed\napp_passwords = required\n",
          SG_FAIL_CLOSED, SG_APP_REQUIRED },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sg_policy *p = expect_ok(cases[i].text);

        assert_int_equal(p->store_failure, cases[i].store);
        assert_int_equal(p->app_passwords, cases[i].app);
        sg_policy_free(p);
    }
    expect_one_error("store_failure = Open\n",
                     "t.conf:1: store_failure: unknown value 'Open' (use tempfail, open or closed)");
    expect_one_error("app_passwords = yes\n",
                     "t.conf:1: app_passwords: unknown value 'yes' (use per-account, required or off)");
    expect_one_error("mfa_primary_password = maybe\n",
                     "t.conf:1: mfa_primary_password: unknown value 'maybe' (use explain or refuse)");
    struct sg_policy *p = NULL;
    assert_int_equal(sg_policy_load_string("t.conf", "mfa_primary_password = refuse\n", &p, NULL, NULL), SG_OK);
    assert_int_equal(p->mfa_primary_password, SG_MFA_REFUSE);
    sg_policy_free(p);
    assert_int_equal(sg_policy_defaults(&p), SG_OK);
    assert_int_equal(p->mfa_primary_password, SG_MFA_EXPLAIN);
    sg_policy_free(p);
}

/* ---------------------------------------------------------------- durations */

static void test_duration_units(void **state)
{
    static const struct {
        const char *text;
        uint64_t ms;
    } cases[] = {
        { "0", 0 }, { "0s", 0 }, { "100ms", 100 }, { "30s", 30000 },
        { "15m", 900000 }, { "2h", 7200000 }, { "7d", 604800000 },
        { "1w", 604800000 }, { "3w", 1814400000ULL }, { "0015m", 900000 },
        { "18446744073709551615ms", UINT64_MAX },
    };
    uint64_t ms;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ms = 1;
        assert_int_equal(sg_duration_parse(cases[i].text, &ms), SG_OK);
        assert_int_equal(ms, cases[i].ms);
    }
}

static void test_duration_bad(void **state)
{
    static const char *bad[] = {
        "", "15", "1", "15x", "15M", "15 m", "m", "-1s", "+1s", " 1s", "1s ",
        "1.5h", "1h30m", "0x10s", "18446744073709551616ms",
        "99999999999999999999999s", "30500568904943w", "18446744073709551615s",
    };
    uint64_t ms = 42;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(sg_duration_parse(bad[i], &ms), SG_EINVAL);
    assert_int_equal(ms, 42);
    assert_int_equal(sg_duration_parse(NULL, &ms), SG_EINVAL);
    assert_int_equal(sg_duration_parse("1s", NULL), SG_EINVAL);
}

static void test_duration_format(void **state)
{
    static const struct {
        uint64_t ms;
        const char *text;
    } cases[] = {
        { 0, "0" }, { 1, "1ms" }, { 1500, "1500ms" }, { 1000, "1s" },
        { 90000, "90s" }, { 900000, "15m" }, { 5400000, "90m" },
        { 3600000, "1h" }, { 86400000, "1d" }, { 604800000, "1w" },
        { 1209600000, "2w" }, { 8 * 86400000ULL, "8d" },
        { UINT64_MAX, "18446744073709551615ms" },
    };
    char buf[32];
    uint64_t back;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sg_duration_format(cases[i].ms, buf, sizeof(buf));
        assert_string_equal(buf, cases[i].text);
        assert_int_equal(sg_duration_parse(buf, &back), SG_OK);
        assert_int_equal(back, cases[i].ms);
    }
    sg_duration_format(900000, buf, 3);     /* truncated, still terminated */
    assert_string_equal(buf, "15");
    sg_duration_format(900000, NULL, 0);
}

static void test_duration_keys(void **state)
{
    (void)state;
    expect_one_error("account_lock = 15x\n",
                     "t.conf:1: account_lock: unknown unit 'x' (use ms, s, m, h, d, w)");
    expect_one_error("account_window = 15\n",
                     "t.conf:1: account_window: a unit is required (ms, s, m, h, d, w)");
    expect_one_error("source_window = 0\n", "t.conf:1: source_window: must be greater than 0");
    expect_one_error("source_block = 0s\n", "t.conf:1: source_block: must be greater than 0");
    expect_one_error("familiar_sources = 99999999999999999999d\n",
                     "t.conf:1: familiar_sources: '99999999999999999999d' is too large");
    expect_one_error("familiar_sources = 3000000000000d\n",
                     "t.conf:1: familiar_sources: '3000000000000d' is too large");
    expect_one_error("familiar_sources = 3651d\n",
                     "t.conf:1: familiar_sources: must be at most 3650d");
    expect_one_error("redis_timeout = 61s\n", "t.conf:1: redis_timeout: must be at most 1m");
    expect_one_error("redis_timeout = 0\n", "t.conf:1: redis_timeout: must be greater than 0");
    expect_one_error("account_lock = soon\n",
                     "t.conf:1: account_lock: 'soon' is not a duration (e.g. 30s, 15m, 2h)");
    expect_one_error("account_lock =\n", "t.conf:1: account_lock: missing value");
}

/* ---------------------------------------------------------------- numbers */

static void test_integers(void **state)
{
    struct sg_policy *p;

    (void)state;
    p = expect_ok("account_failures = 1\nsource_failures = 1000000\nredis_db = 0\n"
                  "ipv4_prefix = 8\nipv6_prefix = 128\nspray_accounts = 100000\n");
    assert_int_equal(p->account_failures, 1);
    assert_int_equal(p->source_failures, 1000000);
    assert_int_equal(p->ipv4_prefix, 8);
    assert_int_equal(p->ipv6_prefix, 128);
    assert_int_equal(p->spray_accounts, 100000);
    sg_policy_free(p);

    expect_one_error("account_failures = 0\n",
                     "t.conf:1: account_failures: '0' is not an integer from 1 to 1000000");
    expect_one_error("account_failures = -1\n",
                     "t.conf:1: account_failures: '-1' is not an integer from 1 to 1000000");
    expect_one_error("account_failures = +5\n",
                     "t.conf:1: account_failures: '+5' is not an integer from 1 to 1000000");
    expect_one_error("account_failures = 5x\n",
                     "t.conf:1: account_failures: '5x' is not an integer from 1 to 1000000");
    expect_one_error("account_failures = 0x10\n",
                     "t.conf:1: account_failures: '0x10' is not an integer from 1 to 1000000");
    expect_one_error("source_failures = 1000001\n",
                     "t.conf:1: source_failures: '1000001' is not an integer from 1 to 1000000");
    expect_one_error("redis_db = 99999999999999999999999\n",
                     "t.conf:1: redis_db: '99999999999999999999999' is not an integer from 0 to 1000000");
    expect_one_error("ipv4_prefix = 7\n",
                     "t.conf:1: ipv4_prefix: '7' is not an integer from 8 to 32");
    expect_one_error("ipv4_prefix = 33\n",
                     "t.conf:1: ipv4_prefix: '33' is not an integer from 8 to 32");
    expect_one_error("ipv6_prefix = 129\n",
                     "t.conf:1: ipv6_prefix: '129' is not an integer from 16 to 128");
    expect_one_error("spray_accounts = 100001\n",
                     "t.conf:1: spray_accounts: '100001' is not an integer from 1 to 100000");
    expect_one_error("spray_accounts = 1 0\n",
                     "t.conf:1: spray_accounts: '1 0' is not an integer from 1 to 100000");
}

/* ---------------------------------------------------------------- syntax */

static void test_syntax_errors(void **state)
{
    struct sg_policy *p = (struct sg_policy *)1;
    struct diags d;

    (void)state;
    expect_one_error("account_failures 5\n", "t.conf:1: expected 'key = value'");
    expect_one_error("= 5\n", "t.conf:1: expected 'key = value'");
    expect_one_error("\n\naccount_faliures = 5\n", "t.conf:3: account_faliures: unknown key");
    expect_one_error("Account_Failures = 5\n", "t.conf:1: Account_Failures: unknown key");
    expect_one_error("account_failures = 5\n# x\naccount_failures = 6\n",
                     "t.conf:3: account_failures: duplicate key (first set on line 1)");
    /* a duplicate is reported even when both values are the same */
    expect_one_error("key_prefix = a\nkey_prefix = a\n",
                     "t.conf:2: key_prefix: duplicate key (first set on line 1)");
    /* unknown keys are echoed bounded and with control bytes masked */
    expect_one_error("bad\x01key = 1\n", "t.conf:1: bad?key: unknown key");
    assert_int_equal(sg_policy_load_string("x", NULL, &p, NULL, NULL), SG_EINVAL);
    assert_null(p);
    assert_int_equal(sg_policy_load_string("x", "", NULL, NULL, NULL), SG_EINVAL);
    /* a NULL name and a NULL callback are allowed */
    assert_int_equal(sg_policy_load_string(NULL, "nonsense\n", &p, NULL, NULL), SG_ECONFIG);
    assert_null(p);
    memset(&d, 0, sizeof(d));
    assert_int_equal(sg_policy_load_string(NULL, "x\n", &p, collect, &d), SG_ECONFIG);
    assert_string_equal(d.msg[0], "(string):1: expected 'key = value'");
    diags_free(&d);
}

static void test_comments_and_whitespace(void **state)
{
    struct sg_policy *p;

    (void)state;
    p = expect_ok("# saslguard policy\n"
                  "\n"
                  "   # indented comment\n"
                  "\t account_failures\t=\t9   \n"
                  "account_window=2h\n"
                  "source_failures = 30 # trailing comment\n"
                  "source_window = 5m\t# tab before the comment\n"
                  "password_source = file:/etc/pw#1   # '#' inside a value stays\n"
                  "   \n");
    assert_int_equal(p->account_failures, 9);
    assert_int_equal(p->account_window_ms, 2 * 3600000);
    assert_int_equal(p->source_failures, 30);
    assert_int_equal(p->source_window_ms, 5 * 60000);
    assert_string_equal(p->password_file, "/etc/pw#1");
    sg_policy_free(p);
    /* a comment right after '=' is not a value */
    expect_one_error("account_lock = # later\n", "t.conf:1: account_lock: missing value");
}

static void test_crlf_and_last_line(void **state)
{
    struct sg_policy *p;

    (void)state;
    p = expect_ok("account_failures = 4\r\n\r\n# c\r\naccount_lock = 1h\r\nkey_prefix = ab");
    assert_int_equal(p->account_failures, 4);
    assert_int_equal(p->account_lock_ms, 3600000);
    assert_string_equal(p->key_prefix, "ab");
    sg_policy_free(p);
    /* line numbers count CRLF lines too */
    expect_one_error("a = 1\r\n", "t.conf:1: a: unknown key");
    expect_one_error("\r\n\r\nb = 1\r\n", "t.conf:3: b: unknown key");
}

static void test_long_line(void **state)
{
    char *text = malloc(4200);
    struct sg_policy *p;
    size_t n;

    (void)state;
    assert_non_null(text);
    /* exactly 4096 bytes (plus CR LF) is fine */
    n = (size_t)sprintf(text, "account_failures = 3 #");
    memset(text + n, 'x', 4096 - n);
    memcpy(text + 4096, "\r\n", 3);
    p = expect_ok(text);
    assert_int_equal(p->account_failures, 3);
    sg_policy_free(p);
    /* 4097 is too long, and the lines after it are still read */
    memset(text, '#', 4097);
    memcpy(text + 4097, "\nnope\n", 7);
    {
        struct diags d;

        p = (struct sg_policy *)1;
        assert_int_equal(load(text, &p, &d), SG_ECONFIG);
        assert_null(p);
        assert_int_equal(d.count, 2);
        assert_string_equal(d.msg[0], "t.conf:1: line too long (limit 4096 bytes)");
        assert_string_equal(d.msg[1], "t.conf:2: expected 'key = value'");
        diags_free(&d);
    }
    free(text);
}

static void test_many_errors_all_reported(void **state)
{
    struct sg_policy *p = (struct sg_policy *)1;
    struct diags d;
    static const char *want[] = {
        "t.conf:2: expected 'key = value'",
        "t.conf:3: bogus: unknown key",
        "t.conf:4: account_lock: unknown unit 'y' (use ms, s, m, h, d, w)",
        "t.conf:5: account_failures: 'many' is not an integer from 1 to 1000000",
        "t.conf:6: store_failure: unknown value 'maybe' (use tempfail, open or closed)",
        "t.conf:8: account_failures: duplicate key (first set on line 5)",
        "t.conf:9: redis: missing port (tcp://HOST:PORT)",
        "t.conf:10: trusted_networks: 'nope' is not an address or CIDR prefix",
        "t.conf:10: trusted_networks: '10.0.0.0/33' is not an address or CIDR prefix",
        "t.conf:11: secret_file: 'secret' is not an absolute path",
    };

    (void)state;
    assert_int_equal(load("ipv4_prefix = 24\n"
                          "just words\n"
                          "bogus = 1\n"
                          "account_lock = 3y\n"
                          "account_failures = many\n"
                          "store_failure = maybe\n"
                          "source_failures = 3\n"
                          "account_failures = 4\n"
                          "redis = tcp://localhost\n"
                          "trusted_networks = nope, 10.0.0.0/8 10.0.0.0/33\n"
                          "secret_file = secret\n", &p, &d), SG_ECONFIG);
    assert_null(p);
    assert_int_equal(d.count, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < d.count; i++)
        assert_string_equal(d.msg[i], want[i]);
    diags_free(&d);
}

/* ---------------------------------------------------------------- keys */

static void test_lock_max_cross_check(void **state)
{
    struct sg_policy *p;

    (void)state;
    expect_one_error("account_lock = 1h\n\naccount_lock_max = 30m\n",
                     "t.conf:3: account_lock_max: 30m is shorter than account_lock (1h)");
    expect_one_error("account_lock_max = 10m\n",
                     "t.conf:1: account_lock_max: 10m is shorter than account_lock (15m, the default)");
    expect_one_error("account_failures = 3\naccount_lock = 2d\n",
                     "t.conf:2: account_lock: 2d is longer than account_lock_max (24h, the default)");
    /* no second message when one of the two is already wrong */
    expect_one_error("account_lock = 2q\naccount_lock_max = 1m\n",
                     "t.conf:1: account_lock: unknown unit 'q' (use ms, s, m, h, d, w)");
    p = expect_ok("account_lock = 1h\naccount_lock_max = 1h\n");
    assert_int_equal(p->account_lock_max_ms, p->account_lock_ms);
    sg_policy_free(p);
}

static void test_redis(void **state)
{
    struct sg_policy *p;

    (void)state;
    p = expect_ok("redis = unix:/var/run/redis/r.sock\n");
    assert_int_equal(p->redis_kind, SG_REDIS_UNIX);
    assert_string_equal(p->redis_path, "/var/run/redis/r.sock");
    assert_null(p->redis_host);
    sg_policy_free(p);

    p = expect_ok("redis = tcp://127.0.0.1:6379\n");
    assert_int_equal(p->redis_kind, SG_REDIS_TCP);
    assert_string_equal(p->redis_host, "127.0.0.1");
    assert_int_equal(p->redis_port, 6379);
    assert_null(p->redis_path);
    sg_policy_free(p);

    p = expect_ok("redis = tcp://[::1]:1\n");
    assert_string_equal(p->redis_host, "::1");
    assert_int_equal(p->redis_port, 1);
    sg_policy_free(p);

    p = expect_ok("redis = tcp://[2001:db8::7]:65535\n");
    assert_string_equal(p->redis_host, "2001:db8::7");
    assert_int_equal(p->redis_port, 65535);
    sg_policy_free(p);

    expect_one_error("redis = unix:run/redis.sock\n",
                     "t.conf:1: redis: the socket path must be absolute (unix:/PATH)");
    expect_one_error("redis = unix:\n",
                     "t.conf:1: redis: the socket path must be absolute (unix:/PATH)");
    expect_one_error("redis = /run/redis.sock\n",
                     "t.conf:1: redis: expected unix:/PATH, tcp://HOST:PORT or "
                     "sentinel://HOST:PORT[,HOST:PORT...]/MASTER");
    expect_one_error("redis = redis://h:1\n",
                     "t.conf:1: redis: expected unix:/PATH, tcp://HOST:PORT or "
                     "sentinel://HOST:PORT[,HOST:PORT...]/MASTER");
    expect_one_error("redis = tcp://h\n", "t.conf:1: redis: missing port (tcp://HOST:PORT)");
    expect_one_error("redis = tcp://h:\n", "t.conf:1: redis: missing port (tcp://HOST:PORT)");
    expect_one_error("redis = tcp://[::1]\n", "t.conf:1: redis: missing port (tcp://HOST:PORT)");
    expect_one_error("redis = tcp://h:0\n",
                     "t.conf:1: redis: port must be a number from 1 to 65535");
    expect_one_error("redis = tcp://h:65536\n",
                     "t.conf:1: redis: port must be a number from 1 to 65535");
    expect_one_error("redis = tcp://h:99999999999999999999\n",
                     "t.conf:1: redis: port must be a number from 1 to 65535");
    expect_one_error("redis = tcp://h:63x\n",
                     "t.conf:1: redis: port must be a number from 1 to 65535");
    expect_one_error("redis = tcp://h:6379/0\n",
                     "t.conf:1: redis: port must be a number from 1 to 65535");
    expect_one_error("redis = tcp://::1:6379\n",
                     "t.conf:1: redis: put an IPv6 address in brackets ([::1]:6379)");
    expect_one_error("redis = tcp://[::1:6379\n",
                     "t.conf:1: redis: missing ']' after the IPv6 address");
    expect_one_error("redis = tcp://[nope]:6379\n",
                     "t.conf:1: redis: '[nope]:6379' is not a valid host");
    expect_one_error("redis = tcp://[]:6379\n", "t.conf:1: redis: '[]:6379' is not a valid host");
    expect_one_error("redis = tcp://:6379\n", "t.conf:1: redis: ':6379' is not a valid host");
    expect_one_error("redis = tcp://a b:6379\n", "t.conf:1: redis: 'a b:6379' is not a valid host");
}

static void test_redis_sentinel(void **state)
{
    static const char form[] = "sentinel://HOST:PORT[,HOST:PORT...]/MASTER";
    char want[200];
    struct sg_policy *p;

    (void)state;
    p = expect_ok("redis = sentinel://10.0.0.1:26379,[2001:db8::2]:26380,s3.example.org:1/mail-1\n"
                  "redis_sentinel_password_file = /etc/saslguard/sentinel.pass\n");
    assert_int_equal(p->redis_kind, SG_REDIS_SENTINEL);
    assert_int_equal(p->redis_sentinel_count, 3);
    assert_string_equal(p->redis_sentinels[0].host, "10.0.0.1");
    assert_int_equal(p->redis_sentinels[0].port, 26379);
    assert_string_equal(p->redis_sentinels[1].host, "2001:db8::2");
    assert_int_equal(p->redis_sentinels[1].port, 26380);
    assert_string_equal(p->redis_sentinels[2].host, "s3.example.org");
    assert_int_equal(p->redis_sentinels[2].port, 1);
    assert_string_equal(p->redis_master, "mail-1");
    assert_string_equal(p->redis_sentinel_password_file, "/etc/saslguard/sentinel.pass");
    assert_null(p->redis_path);
    assert_null(p->redis_host);
    sg_policy_free(p);

    p = expect_ok("redis = sentinel://127.0.0.1:26379/m\n");
    assert_int_equal(p->redis_sentinel_count, 1);
    assert_null(p->redis_sentinel_password_file);
    sg_policy_free(p);

    /* eight Sentinels at most */
    p = expect_ok("redis = sentinel://a:1,b:2,c:3,d:4,e:5,f:6,g:7,h:8/m\n");
    assert_int_equal(p->redis_sentinel_count, 8);
    assert_string_equal(p->redis_sentinels[7].host, "h");
    sg_policy_free(p);
    expect_one_error("redis = sentinel://a:1,b:2,c:3,d:4,e:5,f:6,g:7,h:8,i:9/m\n",
                     "t.conf:1: redis: at most 8 Sentinels");

    snprintf(want, sizeof want, "t.conf:1: redis: expected %s", form);
    expect_one_error("redis = sentinel://\n", want);
    expect_one_error("redis = sentinel://h:1\n", want);
    expect_one_error("redis = sentinel:///m\n", want);
    expect_one_error("redis = sentinel://h:1,/m\n", want);
    snprintf(want, sizeof want, "t.conf:1: redis: missing port (%s)", form);
    expect_one_error("redis = sentinel://h/m\n", want);
    expect_one_error("redis = sentinel://h:1,,h:2/m\n", want);
    expect_one_error("redis = sentinel://h:1/\n",
                     "t.conf:1: redis: '' is not a Sentinel master name (1 to 64 of A-Z a-z 0-9 . _ -)");
    expect_one_error("redis = sentinel://h:1/a b\n",
                     "t.conf:1: redis: 'a b' is not a Sentinel master name (1 to 64 of A-Z a-z 0-9 . _ -)");
    expect_one_error("redis = sentinel://h:1/" "0123456789012345678901234567890123456789"
                     "0123456789012345678901234\n",
                     "t.conf:1: redis: '0123456789012345678901234567890123456789012345678901234567890123...' "
                     "is not a Sentinel master name (1 to 64 of A-Z a-z 0-9 . _ -)");
    expect_one_error("redis = sentinel://h:0/m\n",
                     "t.conf:1: redis: port must be a number from 1 to 65535");
    expect_one_error("redis = sentinel://h:1,::1:2/m\n",
                     "t.conf:1: redis: put an IPv6 address in brackets ([::1]:6379)");
    expect_one_error("redis = sentinel://h:1,b@d:2/m\n", "t.conf:1: redis: 'b@d:2' is not a valid host");
    expect_one_error("redis_sentinel_password_file = sentinel.pass\n",
                     "t.conf:1: redis_sentinel_password_file: 'sentinel.pass' is not an absolute path");
}

static void test_paths(void **state)
{
    struct sg_policy *p;

    (void)state;
    p = expect_ok("password_source = file:/etc/saslguard/passwd\n");
    assert_int_equal(p->password_source, SG_PWSRC_FILE);
    assert_string_equal(p->password_file, "/etc/saslguard/passwd");
    sg_policy_free(p);
    p = expect_ok("password_source = sasl\nredis_password_file =\n");
    assert_int_equal(p->password_source, SG_PWSRC_SASL);
    assert_null(p->password_file);
    assert_null(p->redis_password_file);
    sg_policy_free(p);

    expect_one_error("password_source = file:passwd\n",
                     "t.conf:1: password_source: the password file must be an absolute path (file:/PATH)");
    expect_one_error("password_source = file:\n",
                     "t.conf:1: password_source: the password file must be an absolute path (file:/PATH)");
    expect_one_error("password_source = ldap\n",
                     "t.conf:1: password_source: unknown value 'ldap' (use sasl or file:/PATH)");
    expect_one_error("redis_password_file = pass\n",
                     "t.conf:1: redis_password_file: 'pass' is not an absolute path");
    expect_one_error("secret_file =\n", "t.conf:1: secret_file: missing value");
    expect_one_error("secret_file = ./s\n", "t.conf:1: secret_file: './s' is not an absolute path");
}

static void test_key_prefix(void **state)
{
    struct sg_policy *p;

    (void)state;
    p = expect_ok("key_prefix = abcdefghijklmnopqrstuvwxyz012345\n");   /* 32 */
    assert_string_equal(p->key_prefix, "abcdefghijklmnopqrstuvwxyz012345");
    sg_policy_free(p);
    expect_one_error("key_prefix = abcdefghijklmnopqrstuvwxyz0123456\n",
                     "t.conf:1: key_prefix: longer than 32 characters");
    expect_one_error("key_prefix = sg:x\n",
                     "t.conf:1: key_prefix: 'sg:x' may contain only letters, digits, '_', '.' and '-'");
    expect_one_error("key_prefix = {sg}\n",
                     "t.conf:1: key_prefix: '{sg}' may contain only letters, digits, '_', '.' and '-'");
    expect_one_error("key_prefix =\n", "t.conf:1: key_prefix: missing value");
}

static void test_trusted_networks(void **state)
{
    struct sg_policy *p;
    struct sg_addr a;

    (void)state;
    p = expect_ok("trusted_networks = 192.0.2.0/24, 2001:db8::/32,198.51.100.7\t::1\n");
    assert_int_equal(p->trusted_count, 4);
    a = addr("192.0.2.200");
    assert_true(sg_policy_is_trusted(p, &a));
    a = addr("192.0.3.1");
    assert_false(sg_policy_is_trusted(p, &a));
    a = addr("2001:db8:ffff::1");
    assert_true(sg_policy_is_trusted(p, &a));
    a = addr("2001:db9::1");
    assert_false(sg_policy_is_trusted(p, &a));
    a = addr("198.51.100.7");
    assert_true(sg_policy_is_trusted(p, &a));
    a = addr("198.51.100.8");
    assert_false(sg_policy_is_trusted(p, &a));
    a = addr("::ffff:192.0.2.9");          /* mapped: folded to IPv4 */
    assert_true(sg_policy_is_trusted(p, &a));
    a = addr("127.0.0.1");                 /* the file replaces the default */
    assert_false(sg_policy_is_trusted(p, &a));
    assert_false(sg_policy_is_trusted(p, NULL));
    assert_false(sg_policy_is_trusted(NULL, &a));
    sg_policy_free(p);

    p = expect_ok("trusted_networks =\n");
    assert_int_equal(p->trusted_count, 0);
    a = addr("127.0.0.1");
    assert_false(sg_policy_is_trusted(p, &a));
    sg_policy_free(p);

    expect_one_error("trusted_networks = 192.0.2.0/24 example.org\n",
                     "t.conf:1: trusted_networks: 'example.org' is not an address or CIDR prefix");
    expect_one_error("trusted_networks = 2001:db8::/129\n",
                     "t.conf:1: trusted_networks: '2001:db8::/129' is not an address or CIDR prefix");
}

static void test_trusted_limit(void **state)
{
    char text[2048];
    struct sg_policy *p;
    size_t n;

    (void)state;
    n = (size_t)sprintf(text, "trusted_networks =");
    for (int i = 0; i < SG_TRUSTED_MAX; i++)
        n += (size_t)sprintf(text + n, " 10.0.%d.0/24", i);
    strcpy(text + n, "\n");
    p = expect_ok(text);
    assert_int_equal(p->trusted_count, SG_TRUSTED_MAX);
    sg_policy_free(p);
    strcpy(text + n, " 10.1.0.0/16\n");
    expect_one_error(text, "t.conf:1: trusted_networks: more than 64 networks");
    /* an overlong token is rejected, shortened in the message */
    memset(text, 0, sizeof(text));
    n = (size_t)sprintf(text, "trusted_networks = ");
    memset(text + n, '1', 200);
    strcpy(text + n + 200, "\n");
    expect_one_error(text, "t.conf:1: trusted_networks: '"
                     "1111111111111111111111111111111111111111111111111111111111111111"
                     "...' is not an address or CIDR prefix");
}

/* ---------------------------------------------------------------- files */

/* A temporary file holding LEN bytes of TEXT; PATH receives its name. */
static void write_temp(char *path, const char *text, size_t len)
{
    int fd;

    strcpy(path, "/tmp/test_policy.XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
}

static void test_load_file(void **state)
{
    static const char text[] = "# real file\naccount_failures = 8\nredis_db = 2\n";
    char path[64];
    struct sg_policy *p = NULL;
    struct diags d = { 0 };

    (void)state;
    write_temp(path, text, sizeof(text) - 1);
    assert_int_equal(sg_policy_load(path, &p, collect, &d), SG_OK);
    assert_int_equal(d.count, 0);
    assert_non_null(p);
    assert_string_equal(p->path, path);
    assert_int_equal(p->account_failures, 8);
    assert_int_equal(p->redis_db, 2);
    sg_policy_free(p);
    unlink(path);
}

static void test_load_file_errors_name_the_file(void **state)
{
    static const char text[] = "\naccount_failures = 0\n";
    char path[64], want[160];
    struct sg_policy *p = (struct sg_policy *)1;
    struct diags d = { 0 };

    (void)state;
    write_temp(path, text, sizeof(text) - 1);
    assert_int_equal(sg_policy_load(path, &p, collect, &d), SG_ECONFIG);
    assert_null(p);
    assert_int_equal(d.count, 1);
    snprintf(want, sizeof(want),
             "%s:2: account_failures: '0' is not an integer from 1 to 1000000", path);
    assert_string_equal(d.msg[0], want);
    diags_free(&d);
    unlink(path);
}

static void test_nul_byte(void **state)
{
    static const char text[] = "account_failures = 8\nredis_db = 2\0x\nkey_prefix = a\0";
    char path[64], want[160];
    struct sg_policy *p = (struct sg_policy *)1;
    struct diags d = { 0 };

    (void)state;
    write_temp(path, text, sizeof(text) - 1);
    assert_int_equal(sg_policy_load(path, &p, collect, &d), SG_ECONFIG);
    assert_null(p);
    assert_int_equal(d.count, 2);
    snprintf(want, sizeof(want), "%s:2: NUL byte in line", path);
    assert_string_equal(d.msg[0], want);
    snprintf(want, sizeof(want), "%s:3: NUL byte in line", path);
    assert_string_equal(d.msg[1], want);
    diags_free(&d);
    unlink(path);
}

static void test_cannot_open(void **state)
{
    char path[64];
    struct sg_policy *p = (struct sg_policy *)1;
    struct diags d = { 0 };

    (void)state;
    write_temp(path, "", 0);
    unlink(path);               /* a name that surely does not exist */
    assert_int_equal(sg_policy_load(path, &p, collect, &d), SG_ECONFIG);
    assert_null(p);
    assert_int_equal(d.count, 1);
    assert_true(strncmp(d.msg[0], path, strlen(path)) == 0);
    assert_string_equal(d.msg[0] + strlen(path), ": cannot open: No such file or directory");
    diags_free(&d);
    assert_int_equal(sg_policy_load(path, &p, NULL, NULL), SG_ECONFIG);
    assert_int_equal(sg_policy_load(path, NULL, NULL, NULL), SG_EINVAL);
}

static void test_not_a_regular_file(void **state)
{
    char dir[] = "/tmp/test_policy.XXXXXX";
    struct sg_policy *p = (struct sg_policy *)1;
    struct diags d = { 0 };
    char want[64];

    (void)state;
    assert_non_null(mkdtemp(dir));
    assert_int_equal(sg_policy_load(dir, &p, collect, &d), SG_ECONFIG);
    assert_null(p);
    assert_int_equal(d.count, 1);
    snprintf(want, sizeof(want), "%s: not a regular file", dir);
    assert_string_equal(d.msg[0], want);
    diags_free(&d);
    rmdir(dir);
}

static void test_file_too_large(void **state)
{
    size_t len = 1024 * 1024 + 1;
    char *text = malloc(len);
    char path[64], want[128];
    struct sg_policy *p = (struct sg_policy *)1;
    struct diags d = { 0 };

    (void)state;
    assert_non_null(text);
    for (size_t i = 0; i < len; i++)
        text[i] = (i % 64 == 63) ? '\n' : '#';
    write_temp(path, text, len);
    free(text);
    assert_int_equal(sg_policy_load(path, &p, collect, &d), SG_ECONFIG);
    assert_null(p);
    assert_int_equal(d.count, 1);
    snprintf(want, sizeof(want), "%s: file too large (limit 1048576 bytes)", path);
    assert_string_equal(d.msg[0], want);
    diags_free(&d);
    unlink(path);
}

/*
 * etc/saslguard.conf documents every key with its default, commented out.
 * Uncommented, it must load and equal the built-in defaults: the example
 * cannot drift from the code.
 */
static FILE *open_example(void)
{
    static const char self[] = "tests/unit/test_policy.c";
    const char *srcdir = getenv("top_srcdir");   /* set by "make check" */
    char path[4096];
    size_t len;

    if (srcdir != NULL) {
        snprintf(path, sizeof(path), "%s/etc/saslguard.conf", srcdir);
    } else {
        /* run by hand: find the source tree from this file's own name */
        len = strlen(__FILE__);
        assert_true(len >= strlen(self) && len - strlen(self) < 1024);
        snprintf(path, sizeof(path), "%.*setc/saslguard.conf",
                 (int)(len - strlen(self)), __FILE__);
    }
    return fopen(path, "r");
}

static void test_example_file_matches_defaults(void **state)
{
    char line[512], *text;
    size_t used = 0, keys = 0;
    struct sg_policy *p;
    FILE *f;

    (void)state;
    f = open_example();
    assert_non_null(f);
    text = calloc(1, 65536);
    assert_non_null(text);
    while (fgets(line, sizeof(line), f) != NULL) {
        const char *l = line;

        /* "#key = value" is a default; "# text" is prose */
        if (line[0] == '#' && line[1] >= 'a' && line[1] <= 'z' && strstr(line, " =") != NULL) {
            l = line + 1;
            keys++;
        }
        assert_true(used + strlen(l) < 65536);
        memcpy(text + used, l, strlen(l) + 1);
        used += strlen(l);
    }
    fclose(f);
    assert_int_equal(keys, 23);     /* every key in the key table */
    p = expect_ok(text);
    check_defaults(p);
    sg_policy_free(p);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_empty_file_is_defaults),
        cmocka_unit_test(test_every_key),
        cmocka_unit_test(test_enums),
        cmocka_unit_test(test_duration_units),
        cmocka_unit_test(test_duration_bad),
        cmocka_unit_test(test_duration_format),
        cmocka_unit_test(test_duration_keys),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_comments_and_whitespace),
        cmocka_unit_test(test_crlf_and_last_line),
        cmocka_unit_test(test_long_line),
        cmocka_unit_test(test_many_errors_all_reported),
        cmocka_unit_test(test_lock_max_cross_check),
        cmocka_unit_test(test_redis),
        cmocka_unit_test(test_redis_sentinel),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_key_prefix),
        cmocka_unit_test(test_trusted_networks),
        cmocka_unit_test(test_trusted_limit),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_load_file_errors_name_the_file),
        cmocka_unit_test(test_nul_byte),
        cmocka_unit_test(test_cannot_open),
        cmocka_unit_test(test_not_a_regular_file),
        cmocka_unit_test(test_file_too_large),
        cmocka_unit_test(test_example_file_matches_defaults),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
