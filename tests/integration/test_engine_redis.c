/*
 * test_engine_redis.c - the decision engine against a real redis-server.
 *
 * What a front end gets for each attempt: result, SASL and PAM codes, the
 * log line, whether the password was verified at all, and the Redis state;
 * with Redis up, stopped and stuck, for each store_failure mode.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sasl/sasl.h>
#include <security/pam_appl.h>

#include "app_password.h"
#include "engine.h"
#include "redis_fixture.h"
#include "secret.h"
#include "status.h"


/* ---- a verifier with one user, counting its calls ---- */
static int verify_calls;
static int backend_answer_unavail;

static enum sg_verify verify(void *ctx, const char *account, size_t alen,
                             const char *password, size_t plen)
{
    (void)ctx;
    verify_calls++;
    if (backend_answer_unavail)
        return SG_VERIFY_UNAVAIL;
    if (alen == 5 && memcmp(account, "alice", 5) == 0 && plen == 6 && memcmp(password, "s3cret", 6) == 0)
        return SG_VERIFY_OK;
    return SG_VERIFY_BAD;
}

/* ---- captured log lines ---- */
static char lines[64][600];
static enum sg_log_level levels[64];
static int nlines;

static void capture(void *ctx, enum sg_log_level lvl, const char *line)
{
    (void)ctx;
    if (nlines < 64) {
        snprintf(lines[nlines], sizeof lines[0], "%s", line);
        levels[nlines++] = lvl;
    }
}

static const char *last_line(void)
{
    return nlines ? lines[nlines - 1] : "";
}

static struct sg_engine *engine(const char *extra)
{
    struct sg_policy *p;
    struct sg_engine *e;

    sg_redis_flush(&sg_redis);
    p = sg_fixture_policy(&sg_redis, extra);
    assert_non_null(p);
    assert_int_equal(sg_engine_new_from_policy(p, capture, NULL, &e), SG_OK);
    verify_calls = 0;
    backend_answer_unavail = 0;
    nlines = 0;
    return e;
}

static enum sg_result attempt(struct sg_engine *e, const char *user, const char *pw,
                              const char *client, struct sg_decision *d)
{
    struct sg_attempt a = { user, strlen(user), pw, strlen(pw), client, "PLAIN" };
    return sg_engine_decide(e, &a, verify, NULL, d);
}

static void test_success_and_bad(void **state)
{
    struct sg_engine *e = engine("trusted_networks =");
    struct sg_decision d;

    (void)state;
    assert_int_equal(attempt(e, "alice", "s3cret", "192.0.2.7;40000", &d), SG_RESULT_SUCCESS);
    assert_int_equal(d.sasl_code, SASL_OK);
    assert_int_equal(d.pam_code, PAM_SUCCESS);
    assert_string_equal(d.source, "192.0.2.7/32");
    assert_string_equal(last_line(), "saslguard: result=success account=alice source=192.0.2.7/32 mech=PLAIN");
    assert_int_equal(levels[nlines - 1], SG_LOG_NOTICE);

    /* 192.0.2.7 is now one of alice's familiar sources */
    assert_int_equal(attempt(e, "alice", "wrong", "192.0.2.7;40000", &d), SG_RESULT_BAD_CREDENTIALS);
    assert_int_equal(d.sasl_code, SASL_BADAUTH);
    assert_int_equal(d.pam_code, PAM_AUTH_ERR);
    assert_int_equal(d.failures, 1);
    assert_string_equal(last_line(),
        "saslguard: result=bad_credentials account=alice source=192.0.2.7/32 mech=PLAIN failures=1 familiar=yes");
    assert_int_equal(levels[nlines - 1], SG_LOG_WARN);
    assert_int_equal(verify_calls, 2);
    sg_engine_free(e);
}

static void test_lockout_refuses_before_verify(void **state)
{
    struct sg_engine *e = engine("account_failures = 3\naccount_lock = 15m\ntrusted_networks =");
    struct sg_decision d;

    (void)state;
    for (int i = 1; i <= 3; i++) {
        assert_int_equal(attempt(e, "alice", "guess", "192.0.2.7;1", &d), SG_RESULT_BAD_CREDENTIALS);
        assert_int_equal(d.failures, i);
    }
    assert_non_null(strstr(last_line(), " failures=3 until="));
    assert_non_null(strstr(last_line(), " now=locked"));
    assert_int_equal(verify_calls, 3);

    /* the right password, from anywhere: refused, verifier not called */
    assert_int_equal(attempt(e, "alice", "s3cret", "198.51.100.1;1", &d), SG_RESULT_LOCKED);
    assert_int_equal(d.sasl_code, SASL_TRYAGAIN);
    assert_int_equal(d.pam_code, PAM_MAXTRIES);
    assert_int_equal(verify_calls, 3);
    assert_true(d.until_ms > 0);
    assert_true(strncmp(last_line(),
        "saslguard: result=locked account=alice source=198.51.100.1/32 mech=PLAIN failures=3 until=20", 92) == 0);
    assert_non_null(strstr(last_line(), "Z"));
    sg_engine_free(e);
}

static void test_unknown_user_locked_alike(void **state)
{
    struct sg_engine *e = engine("account_failures = 2\ntrusted_networks =");
    struct sg_decision d;

    (void)state;
    assert_int_equal(attempt(e, "nosuchuser", "x", NULL, &d), SG_RESULT_BAD_CREDENTIALS);
    assert_int_equal(d.sasl_code, SASL_BADAUTH);
    assert_int_equal(attempt(e, "nosuchuser", "x", NULL, &d), SG_RESULT_BAD_CREDENTIALS);
    assert_int_equal(attempt(e, "nosuchuser", "x", NULL, &d), SG_RESULT_LOCKED);
    assert_int_equal(sg_redis_int(&sg_redis, "HGET sg:a:nosuchuser n"), 2);
    sg_engine_free(e);
}

static void test_success_clears_failures(void **state)
{
    struct sg_engine *e = engine("account_failures = 3");
    struct sg_decision d;

    (void)state;
    attempt(e, "alice", "a", NULL, &d);
    attempt(e, "alice", "b", NULL, &d);
    assert_int_equal(d.failures, 2);
    assert_int_equal(attempt(e, "alice", "s3cret", NULL, &d), SG_RESULT_SUCCESS);
    assert_int_equal(sg_redis_int(&sg_redis, "EXISTS sg:a:alice"), 0);
    attempt(e, "alice", "c", NULL, &d);
    assert_int_equal(d.failures, 1);
    sg_engine_free(e);
}

static void test_source_throttle_and_trust(void **state)
{
    struct sg_engine *e = engine("account_failures = 100\nsource_failures = 3\n"
                                 "trusted_networks = 10.0.0.0/8");
    struct sg_decision d;
    char user[16];

    (void)state;
    for (int i = 0; i < 3; i++) {
        snprintf(user, sizeof user, "user%d", i);
        assert_int_equal(attempt(e, user, "x", "203.0.113.5;2000", &d), SG_RESULT_BAD_CREDENTIALS);
    }
    assert_int_equal(attempt(e, "alice", "s3cret", "203.0.113.5;2001", &d), SG_RESULT_THROTTLED);
    assert_int_equal(d.sasl_code, SASL_TRYAGAIN);
    assert_non_null(strstr(last_line(), "result=throttled account=alice source=203.0.113.5/32"));
    /* another source is not affected */
    assert_int_equal(attempt(e, "alice", "s3cret", "203.0.113.6;2001", &d), SG_RESULT_SUCCESS);
    /* a trusted network is never throttled */
    for (int i = 0; i < 10; i++) {
        snprintf(user, sizeof user, "t%d", i);
        assert_int_equal(attempt(e, user, "x", "10.1.2.3;1", &d), SG_RESULT_BAD_CREDENTIALS);
    }
    assert_int_equal(attempt(e, "alice", "s3cret", "10.1.2.3;1", &d), SG_RESULT_SUCCESS);
    assert_int_equal(sg_redis_int(&sg_redis, "EXISTS sg:s:10.1.2.3/32"), 0);
    sg_engine_free(e);
}

static void test_ipv6_prefix_aggregation(void **state)
{
    struct sg_engine *e = engine("account_failures = 100\nsource_failures = 2\nipv6_prefix = 64");
    struct sg_decision d;

    (void)state;
    attempt(e, "u1", "x", "2001:db8:1:2::1;1", &d);
    assert_string_equal(d.source, "2001:db8:1:2::/64");
    attempt(e, "u2", "x", "2001:db8:1:2::ffff;1", &d);
    assert_int_equal(attempt(e, "alice", "s3cret", "2001:db8:1:2::77;1", &d), SG_RESULT_THROTTLED);
    assert_int_equal(attempt(e, "alice", "s3cret", "2001:db8:1:3::1;1", &d), SG_RESULT_SUCCESS);
    /* IPv4-mapped IPv6 counts as IPv4 */
    attempt(e, "u3", "x", "::ffff:192.0.2.44;1", &d);
    assert_string_equal(d.source, "192.0.2.44/32");
    sg_engine_free(e);
}

static void test_odd_usernames_are_separate(void **state)
{
    struct sg_engine *e = engine("account_failures = 2\ntrusted_networks =");
    static const char *odd[] = { "alice:x", "{alice}", "alice ", "ALICE%3A", "alice\n", "a*", "alice\r\nresult=success" };
    struct sg_decision d;
    char big[1001];

    (void)state;
    for (size_t i = 0; i < sizeof odd / sizeof *odd; i++) {
        attempt(e, odd[i], "x", NULL, &d);
        attempt(e, odd[i], "x", NULL, &d);
        assert_int_equal(attempt(e, odd[i], "x", NULL, &d), SG_RESULT_LOCKED);
        assert_null(strchr(last_line(), '\n'));
        assert_null(strchr(last_line(), '\r'));
    }
    memset(big, 'z', 1000);
    big[1000] = '\0';
    attempt(e, big, "x", NULL, &d);
    attempt(e, big, "x", NULL, &d);
    assert_int_equal(attempt(e, big, "x", NULL, &d), SG_RESULT_LOCKED);
    assert_true(strlen(last_line()) < 300);
    /* none of them touched alice */
    assert_int_equal(attempt(e, "alice", "s3cret", NULL, &d), SG_RESULT_SUCCESS);
    /* "Alice" is alice: case games do not dodge the lockout */
    attempt(e, "Alice", "x", NULL, &d);
    attempt(e, "ALICE", "x", NULL, &d);
    assert_int_equal(attempt(e, "alice", "s3cret", NULL, &d), SG_RESULT_LOCKED);
    sg_engine_free(e);
}

static void test_password_never_logged(void **state)
{
    struct sg_engine *e = engine("account_failures = 2\ntrusted_networks =");
    struct sg_decision d;

    (void)state;
    attempt(e, "alice", "Tr0ub4dor&3", "192.0.2.1;1", &d);
    attempt(e, "alice", "Tr0ub4dor&3", "192.0.2.1;1", &d);
    attempt(e, "alice", "s3cret", "192.0.2.1;1", &d);
    for (int i = 0; i < nlines; i++) {
        assert_null(strstr(lines[i], "Tr0ub4dor"));
        assert_null(strstr(lines[i], "s3cret"));
    }
    sg_engine_free(e);
}

static void test_backend_unavailable_not_counted(void **state)
{
    struct sg_engine *e = engine("account_failures = 2");
    struct sg_decision d;

    (void)state;
    backend_answer_unavail = 1;
    for (int i = 0; i < 5; i++) {
        assert_int_equal(attempt(e, "alice", "x", NULL, &d), SG_RESULT_BACKEND_UNAVAILABLE);
        assert_int_equal(d.sasl_code, SASL_UNAVAIL);
    }
    assert_int_equal(sg_redis_int(&sg_redis, "EXISTS sg:a:alice"), 0);
    sg_engine_free(e);
}

static void test_store_down_tempfail(void **state)
{
    struct sg_engine *e = engine("store_failure = tempfail");
    struct sg_decision d;

    (void)state;
    sg_redis_stop(&sg_redis);
    assert_int_equal(attempt(e, "alice", "s3cret", "192.0.2.1;1", &d), SG_RESULT_STORE_UNAVAILABLE);
    assert_int_equal(d.sasl_code, SASL_UNAVAIL);
    assert_int_equal(d.pam_code, PAM_AUTHINFO_UNAVAIL);
    assert_int_equal(verify_calls, 0);
    assert_non_null(strstr(last_line(), "result=store_unavailable account=alice"));
    assert_non_null(strstr(last_line(), "store=down policy=tempfail"));
    assert_int_equal(sg_redis_restart(&sg_redis), 0);
    assert_int_equal(attempt(e, "alice", "s3cret", "192.0.2.1;1", &d), SG_RESULT_SUCCESS);
    sg_engine_free(e);
}

/* Calls of EVALSHA and EVAL since the last CONFIG RESETSTAT: the store's
 * round trips. */
static long script_calls(void)
{
    char *info = sg_redis_str(&sg_redis, "INFO commandstats");
    long n = 0;

    assert_non_null(info);
    for (const char *c = info; (c = strstr(c, "cmdstat_eval")) != NULL; c++) {
        const char *calls = strstr(c, "calls=");
        if (calls)
            n += atol(calls + 6);
    }
    free(info);
    return n;
}

static long long stat_of(const char *result)
{
    long long v = sg_redis_int(&sg_redis, "HGET sg:stats %s", result);
    return v < 0 ? 0 : v;
}

/* The owner's usual login, with nothing on record, from a source recorded
 * as familiar within the last hour: one round trip (check.lua counts the
 * success in advance); every other outcome takes that count back. */
static void test_clean_success_one_round_trip(void **state)
{
    struct sg_engine *e = engine("trusted_networks =");
    struct sg_decision d;
    char *first, *now;

    (void)state;
    /* the first success from a source records it (the first report of a
     * connection waits for its reply) */
    assert_int_equal(attempt(e, "alice", "s3cret", "192.0.2.7;1", &d), SG_RESULT_SUCCESS);
    first = sg_redis_str(&sg_redis, "ZSCORE sg:f:alice 192.0.2.7/32");
    assert_non_null(first);
    assert_int_equal(sg_redis_int(&sg_redis, "CONFIG RESETSTAT"), -1);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(attempt(e, "alice", "s3cret", "192.0.2.7;2", &d), SG_RESULT_SUCCESS);
        assert_string_equal(last_line(), "saslguard: result=success account=alice source=192.0.2.7/32 mech=PLAIN");
    }
    assert_int_equal(script_calls(), 3);            /* check only */
    assert_int_equal(verify_calls, 4);              /* every password verified */
    assert_int_equal(stat_of("success"), 4);
    now = sg_redis_str(&sg_redis, "ZSCORE sg:f:alice 192.0.2.7/32");
    assert_string_equal(now, first);                /* not rewritten within the hour */
    free(now);
    free(first);
    assert_int_equal(sg_redis_int(&sg_redis, "EXISTS sg:a:alice"), 0);

    /* a wrong password after check counted a success: taken back */
    assert_int_equal(attempt(e, "alice", "wrong", "192.0.2.7;2", &d), SG_RESULT_BAD_CREDENTIALS);
    assert_int_equal(d.failures, 1);
    assert_int_equal(stat_of("success"), 4);
    assert_int_equal(stat_of("bad_credentials"), 1);
    /* failures on record: the next success reports, and clears them */
    assert_int_equal(attempt(e, "alice", "s3cret", "192.0.2.7;2", &d), SG_RESULT_SUCCESS);
    assert_int_equal(attempt(e, "alice", "s3cret", "192.0.2.7;2", &d), SG_RESULT_SUCCESS);
    assert_int_equal(sg_redis_int(&sg_redis, "EXISTS sg:a:alice"), 0);
    assert_int_equal(stat_of("success"), 6);

    /* the backend could not answer: not counted, the success taken back */
    backend_answer_unavail = 1;
    assert_int_equal(attempt(e, "alice", "s3cret", "192.0.2.7;2", &d), SG_RESULT_BACKEND_UNAVAILABLE);
    backend_answer_unavail = 0;
    assert_int_equal(stat_of("success"), 6);
    assert_int_equal(sg_redis_int(&sg_redis, "EXISTS sg:a:alice"), 0);

    /* a new source is recorded as familiar: not clean */
    assert_int_equal(sg_redis_int(&sg_redis, "CONFIG RESETSTAT"), -1);
    assert_int_equal(attempt(e, "alice", "s3cret", "198.51.100.1;2", &d), SG_RESULT_SUCCESS);
    assert_int_equal(attempt(e, "alice", "s3cret", "198.51.100.1;2", &d), SG_RESULT_SUCCESS);
    assert_int_equal(script_calls(), 3);            /* check, report, check */
    assert_true(sg_redis_int(&sg_redis, "ZSCORE sg:f:alice 198.51.100.1/32") > 0);
    assert_int_equal(stat_of("success"), 8);

    /* a two-factor account's primary password: never counted as success */
    assert_int_equal(sg_redis_int(&sg_redis, "HSET sg:u:alice mfa 1"), 1);
    assert_int_equal(attempt(e, "alice", "s3cret", "192.0.2.7;2", &d), SG_RESULT_APP_PASSWORD_REQUIRED);
    assert_int_equal(stat_of("success"), 8);
    assert_int_equal(stat_of("app_password_required"), 1);
    sg_engine_free(e);
}

/* Without a source, a clean success is one round trip too; a familiar
 * source's time is recorded again after familiar_sources / 720. */
static void test_clean_success_no_source_and_refresh(void **state)
{
    struct sg_engine *e = engine("familiar_sources = 7200ms");   /* refresh: 10 ms */
    struct sg_decision d;
    long long t1, t2;

    (void)state;
    assert_int_equal(attempt(e, "alice", "s3cret", NULL, &d), SG_RESULT_SUCCESS);
    assert_int_equal(sg_redis_int(&sg_redis, "CONFIG RESETSTAT"), -1);
    assert_int_equal(attempt(e, "alice", "s3cret", NULL, &d), SG_RESULT_SUCCESS);
    assert_int_equal(script_calls(), 1);
    assert_int_equal(stat_of("success"), 2);

    assert_int_equal(attempt(e, "alice", "s3cret", "192.0.2.7;1", &d), SG_RESULT_SUCCESS);
    t1 = sg_redis_int(&sg_redis, "ZSCORE sg:f:alice 192.0.2.7/32");
    sg_sleep_ms(30);
    assert_int_equal(attempt(e, "alice", "s3cret", "192.0.2.7;1", &d), SG_RESULT_SUCCESS);
    /* read the deferred report's reply: the next command does */
    assert_int_equal(attempt(e, "alice", "s3cret", "192.0.2.7;1", &d), SG_RESULT_SUCCESS);
    t2 = sg_redis_int(&sg_redis, "ZSCORE sg:f:alice 192.0.2.7/32");
    assert_true(t2 >= t1 + 30);
    assert_true(sg_redis_int(&sg_redis, "PTTL sg:f:alice") > 7000);
    assert_int_equal(stat_of("success"), 5);
    sg_engine_free(e);
}

static void test_store_down_open(void **state)
{
    struct sg_engine *e = engine("store_failure = open");
    struct sg_decision d;

    (void)state;
    sg_redis_stop(&sg_redis);
    assert_int_equal(attempt(e, "alice", "s3cret", NULL, &d), SG_RESULT_SUCCESS);
    assert_non_null(strstr(last_line(), "store=down policy=open"));
    assert_int_equal(attempt(e, "alice", "wrong", NULL, &d), SG_RESULT_BAD_CREDENTIALS);
    assert_int_equal(d.sasl_code, SASL_BADAUTH);
    assert_int_equal(levels[nlines - 1], SG_LOG_WARN);
    assert_int_equal(verify_calls, 2);
    assert_int_equal(sg_redis_restart(&sg_redis), 0);
    sg_engine_free(e);
}

static void test_store_down_closed(void **state)
{
    struct sg_engine *e = engine("store_failure = closed");
    struct sg_decision d;

    (void)state;
    sg_redis_stop(&sg_redis);
    assert_int_equal(attempt(e, "alice", "s3cret", NULL, &d), SG_RESULT_STORE_CLOSED);
    assert_int_equal(d.sasl_code, SASL_BADAUTH);
    assert_int_equal(verify_calls, 0);
    assert_non_null(strstr(last_line(), "store=down policy=closed"));
    assert_int_equal(sg_redis_restart(&sg_redis), 0);
    sg_engine_free(e);
}

static void test_store_stuck_tempfail(void **state)
{
    struct sg_engine *e = engine("store_failure = tempfail\nredis_timeout = 150ms");
    struct sg_decision d;

    (void)state;
    assert_int_equal(attempt(e, "alice", "s3cret", NULL, &d), SG_RESULT_SUCCESS);
    sg_redis_pause(&sg_redis);
    assert_int_equal(attempt(e, "alice", "s3cret", NULL, &d), SG_RESULT_STORE_UNAVAILABLE);
    sg_redis_resume(&sg_redis);
    assert_int_equal(verify_calls, 1);
    assert_int_equal(attempt(e, "alice", "s3cret", NULL, &d), SG_RESULT_SUCCESS);
    sg_engine_free(e);
}

static void test_config_error(void **state)
{
    struct sg_engine *e = NULL;
    struct sg_decision d;
    char path[] = "/tmp/sgconf-XXXXXX";
    int fd = mkstemp(path);
    FILE *f;

    (void)state;
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    fputs("# test\naccount_failures = many\nbogus_key = 1\n", f);
    fclose(f);
    nlines = 0;
    assert_int_equal(sg_engine_new(path, capture, NULL, &e), SG_ECONFIG);
    assert_null(e);
    assert_true(nlines >= 2);
    assert_non_null(strstr(lines[0], ":2: account_failures"));
    assert_non_null(strstr(lines[1], ":3: bogus_key"));
    assert_int_equal(levels[0], SG_LOG_ERR);
    unlink(path);
    /* no engine: every attempt is refused with a temporary failure */
    assert_int_equal(attempt(NULL, "alice", "s3cret", NULL, &d), SG_RESULT_CONFIG_ERROR);
    assert_int_equal(d.sasl_code, SASL_UNAVAIL);
}

/* ---- app passwords and two-factor accounts ---- */

static char secret_path[400];

static const char *secret_file(void)
{
    char err[256];

    if (!secret_path[0]) {
        snprintf(secret_path, sizeof secret_path, "%s/secret", sg_redis.dir);
        assert_int_equal(sg_secret_create(secret_path, (uid_t)-1, (gid_t)-1, err, sizeof err), SG_OK);
    }
    return secret_path;
}

static struct sg_engine *app_engine(const char *extra)
{
    char text[1024];

    snprintf(text, sizeof text, "secret_file = %s\naccount_failures = 3\ntrusted_networks =\n%s",
             secret_file(), extra);
    return engine(text);
}

/* Store an app password record the way the admin tools do (store.h). */
static void add_app_password(const char *account, const char *label, const char *letters,
                             char state, long long expires, long long revoked)
{
    struct sg_secret sec;
    char err[256], hex[SG_DIGEST_HEX], rec[200];

    assert_int_equal(sg_secret_load(secret_file(), &sec, err, sizeof err), SG_OK);
    assert_int_equal(sg_app_password_digest(&sec, account, letters, hex), SG_OK);
    sg_secret_wipe(&sec);
    snprintf(rec, sizeof rec, "v1|%c|%s|1|%lld|0||%lld", state, hex, expires, revoked);
    assert_int_equal(sg_redis_int(&sg_redis, "HSET sg:u:%s p:%s %s", account, label, rec), 1);
}

static void test_app_password_login(void **state)
{
    struct sg_engine *e = app_engine("");
    struct sg_decision d;
    char *rec;

    (void)state;
    assert_int_equal(sg_redis_int(&sg_redis, "HSET sg:u:alice mfa 1"), 1);
    add_app_password("alice", "phone", "abcdefghijklmnop", 'a', 0, 0);
    /* one failure first: the app-password login clears it */
    attempt(e, "alice", "nope", "192.0.2.8;1", &d);
    assert_int_equal(d.failures, 1);
    verify_calls = 0;
    /* as shown (groups), as typed (upper case, no spaces) */
    assert_int_equal(attempt(e, "alice", "abcd efgh ijkl mnop", "192.0.2.8;1", &d), SG_RESULT_SUCCESS);
    assert_int_equal(d.sasl_code, SASL_OK);
    assert_string_equal(last_line(),
        "saslguard: result=success account=alice source=192.0.2.8/32 mech=PLAIN credential=app_password label=phone");
    assert_int_equal(attempt(e, "alice", "ABCDEFGHIJKLMNOP", "192.0.2.8;1", &d), SG_RESULT_SUCCESS);
    assert_int_equal(verify_calls, 0);   /* one round trip, no backend call */
    assert_int_equal(sg_redis_int(&sg_redis, "EXISTS sg:a:alice"), 0);
    rec = sg_redis_str(&sg_redis, "HGET sg:u:alice p:phone");
    assert_non_null(rec);
    assert_non_null(strstr(rec, "|192.0.2.8/32|"));   /* last use source */
    assert_null(strstr(rec, "abcdefghijklmnop"));     /* only the digest */
    free(rec);
    assert_int_equal(sg_redis_int(&sg_redis, "HGET sg:stats success"), 2);
    /* an app password is bound to its account */
    assert_int_equal(attempt(e, "bob", "abcdefghijklmnop", NULL, &d), SG_RESULT_BAD_CREDENTIALS);
    sg_engine_free(e);
}

static void test_primary_password_on_2fa_account(void **state)
{
    struct sg_engine *e = app_engine("");
    struct sg_decision d;

    (void)state;
    assert_int_equal(sg_redis_int(&sg_redis, "HSET sg:u:alice mfa 1"), 1);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(attempt(e, "alice", "s3cret", "192.0.2.9;1", &d),
                         SG_RESULT_APP_PASSWORD_REQUIRED);
        assert_int_equal(d.sasl_code, SASL_NOUSERPASS);
        assert_int_equal(d.pam_code, PAM_AUTH_ERR);
    }
    assert_string_equal(last_line(),
        "saslguard: result=app_password_required account=alice source=192.0.2.9/32 mech=PLAIN");
    assert_int_equal(levels[nlines - 1], SG_LOG_WARN);
    /* never counted: no lock after 10 */
    assert_int_equal(sg_redis_int(&sg_redis, "EXISTS sg:a:alice"), 0);
    assert_int_equal(sg_redis_int(&sg_redis, "EXISTS sg:s:192.0.2.9/32"), 0);
    assert_int_equal(sg_redis_int(&sg_redis, "HGET sg:stats app_password_required"), 10);
    /* a wrong password on a 2FA account counts as usual */
    assert_int_equal(attempt(e, "alice", "wrong", "192.0.2.9;1", &d), SG_RESULT_BAD_CREDENTIALS);
    assert_int_equal(d.failures, 1);
    sg_engine_free(e);
}

static void test_revoked_and_expired(void **state)
{
    struct sg_engine *e = app_engine("");
    struct sg_decision d;

    (void)state;
    add_app_password("alice", "oldphone", "oldoldoldoldoldo", 'r', 0, 1);
    add_app_password("alice", "tablet", "tabletabletablet", 'a', 1, 0);   /* expired 1970 */
    for (int i = 0; i < 5; i++) {
        assert_int_equal(attempt(e, "alice", "oldo ldol dold oldo", NULL, &d), SG_RESULT_REVOKED_CREDENTIAL);
        assert_int_equal(d.sasl_code, SASL_BADAUTH);
    }
    assert_string_equal(last_line(),
        "saslguard: result=revoked_credential account=alice mech=PLAIN label=oldphone reason=revoked");
    assert_int_equal(attempt(e, "alice", "tabletabletablet", NULL, &d), SG_RESULT_REVOKED_CREDENTIAL);
    assert_non_null(strstr(last_line(), "label=tablet reason=expired"));
    /* stale devices never lock the owner out */
    assert_int_equal(sg_redis_int(&sg_redis, "EXISTS sg:a:alice"), 0);
    assert_int_equal(attempt(e, "alice", "s3cret", NULL, &d), SG_RESULT_SUCCESS);
    assert_int_equal(verify_calls, 1);
    sg_engine_free(e);
}

static void test_app_passwords_required_for_all(void **state)
{
    struct sg_engine *e = app_engine("app_passwords = required\n");
    struct sg_decision d;

    (void)state;
    assert_int_equal(attempt(e, "alice", "s3cret", NULL, &d), SG_RESULT_APP_PASSWORD_REQUIRED);
    assert_int_equal(d.sasl_code, SASL_NOUSERPASS);
    assert_int_equal(sg_redis_int(&sg_redis, "HEXISTS sg:stats success"), 0);
    add_app_password("alice", "laptop", "laptoplaptoplapt", 'a', 0, 0);
    assert_int_equal(attempt(e, "alice", "lapt opla ptop lapt", NULL, &d), SG_RESULT_SUCCESS);
    sg_engine_free(e);
    /* a site that prefers not to explain */
    e = app_engine("app_passwords = required\nmfa_primary_password = refuse\n");
    assert_int_equal(attempt(e, "alice", "s3cret", NULL, &d), SG_RESULT_APP_PASSWORD_REQUIRED);
    assert_int_equal(d.sasl_code, SASL_BADAUTH);
    assert_non_null(strstr(last_line(), "result=app_password_required"));
    sg_engine_free(e);
    /* app_passwords = off: the flag is ignored */
    e = app_engine("app_passwords = off\n");
    assert_int_equal(sg_redis_int(&sg_redis, "HSET sg:u:alice mfa 1"), 1);
    assert_int_equal(attempt(e, "alice", "s3cret", NULL, &d), SG_RESULT_SUCCESS);
    sg_engine_free(e);
}

static void test_locked_account_refuses_app_password(void **state)
{
    struct sg_engine *e = app_engine("");
    struct sg_decision d;

    (void)state;
    add_app_password("alice", "phone", "abcdefghijklmnop", 'a', 0, 0);
    attempt(e, "alice", "guess1", NULL, &d);
    attempt(e, "alice", "guess2", NULL, &d);
    attempt(e, "alice", "guess3", NULL, &d);
    assert_int_equal(attempt(e, "alice", "abcdefghijklmnop", NULL, &d), SG_RESULT_LOCKED);
    sg_engine_free(e);
}

static void test_missing_secret(void **state)
{
    struct sg_engine *e = engine("secret_file = /nonexistent/secret\n");
    struct sg_decision d;

    (void)state;
    /* engine() reset the log: the warning came before; make a second one */
    sg_engine_free(e);
    nlines = 0;
    struct sg_policy *p = sg_fixture_policy(&sg_redis, "secret_file = /nonexistent/secret\n");
    assert_int_equal(sg_engine_new_from_policy(p, capture, NULL, &e), SG_OK);
    assert_int_equal(nlines, 1);
    assert_string_equal(lines[0], "saslguard: no secret: app passwords cannot be verified, "
                        "repeated wrong passwords count each time: "
                        "/nonexistent/secret: cannot open: No such file or directory");
    assert_int_equal(levels[0], SG_LOG_WARN);
    assert_int_equal(attempt(e, "alice", "s3cret", NULL, &d), SG_RESULT_SUCCESS);
    sg_engine_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_success_and_bad),
        cmocka_unit_test(test_lockout_refuses_before_verify),
        cmocka_unit_test(test_unknown_user_locked_alike),
        cmocka_unit_test(test_success_clears_failures),
        cmocka_unit_test(test_source_throttle_and_trust),
        cmocka_unit_test(test_ipv6_prefix_aggregation),
        cmocka_unit_test(test_odd_usernames_are_separate),
        cmocka_unit_test(test_password_never_logged),
        cmocka_unit_test(test_backend_unavailable_not_counted),
        cmocka_unit_test(test_clean_success_one_round_trip),
        cmocka_unit_test(test_clean_success_no_source_and_refresh),
        cmocka_unit_test(test_store_down_tempfail),
        cmocka_unit_test(test_store_down_open),
        cmocka_unit_test(test_store_down_closed),
        cmocka_unit_test(test_store_stuck_tempfail),
        cmocka_unit_test(test_config_error),
        cmocka_unit_test(test_app_password_login),
        cmocka_unit_test(test_primary_password_on_2fa_account),
        cmocka_unit_test(test_revoked_and_expired),
        cmocka_unit_test(test_app_passwords_required_for_all),
        cmocka_unit_test(test_locked_account_refuses_app_password),
        cmocka_unit_test(test_missing_secret),
    };
    return cmocka_run_group_tests_name("engine_redis", tests, sg_redis_group_setup, sg_redis_group_teardown);
}
