/*
 * test_smart_lockout.c - the smart lockout rules against a real Redis,
 * through the decision engine: familiar sources, the same wrong password
 * counted once, escalation with a cap and decay, password spraying,
 * trusted networks, and a TTL on every counter key.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "redis_fixture.h"
#include "secret.h"
#include "status.h"

static struct sg_redis_fixture redis;
static char secret_path[400];
static char last[600];
static int verify_calls;

static void capture(void *ctx, enum sg_log_level lvl, const char *line)
{
    (void)ctx;
    (void)lvl;
    snprintf(last, sizeof last, "%s", line);
}

static enum sg_verify verify(void *ctx, const char *account, size_t alen,
                             const char *password, size_t plen)
{
    (void)ctx;
    verify_calls++;
    return alen == 5 && !memcmp(account, "alice", 5) && plen == 6 && !memcmp(password, "s3cret", 6)
           ? SG_VERIFY_OK : SG_VERIFY_BAD;
}

static int group_setup(void **state)
{
    char err[256];

    (void)state;
    if (sg_redis_start(&redis) != 0)
        return -1;
    snprintf(secret_path, sizeof secret_path, "%s/secret", redis.dir);
    return sg_secret_create(secret_path, (uid_t)-1, (gid_t)-1, err, sizeof err) == SG_OK ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    unlink(secret_path);
    sg_redis_destroy(&redis);
    return 0;
}

static struct sg_engine *engine(const char *extra)
{
    char text[2048];
    struct sg_policy *p;
    struct sg_engine *e;

    sg_redis_flush(&redis);
    snprintf(text, sizeof text, "secret_file = %s\ntrusted_networks = 10.0.0.0/8\n%s",
             secret_path, extra);
    p = sg_fixture_policy(&redis, text);
    assert_non_null(p);
    assert_int_equal(sg_engine_new_from_policy(p, capture, NULL, &e), SG_OK);
    verify_calls = 0;
    return e;
}

static enum sg_result attempt(struct sg_engine *e, const char *user, const char *pw,
                              const char *client, struct sg_decision *d)
{
    struct sg_attempt a = { user, strlen(user), pw, strlen(pw), client, "PLAIN" };
    return sg_engine_decide(e, &a, verify, NULL, d);
}

/* N failures with distinct wrong passwords. */
static void fail_distinct(struct sg_engine *e, const char *user, const char *client, int n,
                          struct sg_decision *d)
{
    char pw[32];

    for (int i = 0; i < n; i++) {
        snprintf(pw, sizeof pw, "guess-%d-%ld", i, (long)random());
        attempt(e, user, pw, client, d);
    }
}


static void test_owner_not_locked_out_from_familiar_source(void **state)
{
    struct sg_engine *e = engine("account_failures = 5\naccount_lock = 15m");
    struct sg_decision d;

    (void)state;
    assert_int_equal(attempt(e, "alice", "s3cret", "192.0.2.10;1", &d), SG_RESULT_SUCCESS);
    assert_int_equal(sg_redis_int(&redis, "ZCARD sg:f:alice"), 1);
    /* an attacker elsewhere locks the account ... */
    fail_distinct(e, "alice", "203.0.113.5;2", 5, &d);
    assert_non_null(strstr(last, "now=locked"));
    assert_int_equal(attempt(e, "alice", "s3cret", "203.0.113.5;2", &d), SG_RESULT_LOCKED);
    assert_int_equal(attempt(e, "alice", "s3cret", "198.51.100.1;2", &d), SG_RESULT_LOCKED);
    /* ... but not for the owner at home */
    assert_int_equal(attempt(e, "alice", "s3cret", "192.0.2.10;3", &d), SG_RESULT_SUCCESS);
    /* the owner's own mistakes are counted apart */
    fail_distinct(e, "alice", "192.0.2.10;3", 4, &d);
    assert_int_equal(d.failures, 4);
    assert_non_null(strstr(last, "familiar=yes"));
    assert_int_equal(attempt(e, "alice", "s3cret", "192.0.2.10;3", &d), SG_RESULT_SUCCESS);
    /* and the attacker's lock still holds */
    assert_int_equal(attempt(e, "alice", "s3cret", "203.0.113.5;2", &d), SG_RESULT_LOCKED);
    sg_engine_free(e);
}

static void test_familiar_sources_expire(void **state)
{
    struct sg_engine *e = engine("account_failures = 2\nfamiliar_sources = 300ms");
    struct sg_decision d;

    (void)state;
    attempt(e, "alice", "s3cret", "192.0.2.10;1", &d);
    fail_distinct(e, "alice", "203.0.113.5;2", 2, &d);
    assert_int_equal(attempt(e, "alice", "s3cret", "192.0.2.10;3", &d), SG_RESULT_SUCCESS);
    sg_sleep_ms(400);
    /* no longer familiar: the lock applies */
    assert_int_equal(attempt(e, "alice", "s3cret", "192.0.2.10;3", &d), SG_RESULT_LOCKED);
    sg_engine_free(e);
}

static void test_same_wrong_password_counts_once(void **state)
{
    struct sg_engine *e = engine("account_failures = 3\nsource_failures = 5");
    struct sg_decision d;

    (void)state;
    for (int i = 0; i < 50; i++)
        assert_int_equal(attempt(e, "alice", "oldpassword", "192.0.2.20;1", &d),
                         SG_RESULT_BAD_CREDENTIALS);
    assert_int_equal(d.failures, 1);
    assert_non_null(strstr(last, "repeat=yes counted=no"));
    /* neither the account nor the office's address is punished */
    assert_int_equal(sg_redis_int(&redis, "HGET sg:a:alice n"), 1);
    assert_int_equal(sg_redis_int(&redis, "HGET sg:s:192.0.2.20/32 n"), 1);
    assert_int_equal(attempt(e, "alice", "s3cret", "192.0.2.20;1", &d), SG_RESULT_SUCCESS);
    /* the fingerprints are keyed hashes, never the password */
    assert_int_equal(sg_redis_int(&redis, "EXISTS sg:a:alice"), 0);   /* cleared by success */
    attempt(e, "alice", "oldpassword", "192.0.2.20;1", &d);
    assert_int_equal(sg_redis_int(&redis, "HGET sg:a:alice wc"), 1);
    {   /* the one fingerprint field: "w" + 16 hex, never the password */
        redisContext *c = sg_redis_connect(&redis);
        redisReply *r = redisCommand(c, "HKEYS sg:a:alice");
        int found = 0;

        for (size_t i = 0; i < r->elements; i++) {
            const char *f = r->element[i]->str;

            assert_null(strstr(f, "oldpassword"));
            if (f[0] == 'w' && strcmp(f, "ws") != 0 && strcmp(f, "wc") != 0) {
                assert_int_equal(strlen(f), 17);
                found++;
            }
        }
        assert_int_equal(found, 1);
        freeReplyObject(r);
        redisFree(c);
    }
    /* different wrong passwords still lock */
    fail_distinct(e, "bob", "192.0.2.21;1", 3, &d);
    assert_int_equal(attempt(e, "bob", "x", "192.0.2.21;1", &d), SG_RESULT_LOCKED);
    sg_engine_free(e);
}

static long lock_ms(const struct sg_decision *d)
{
    long long now = sg_redis_int(&redis, "EVAL %s 0",
        "local t = redis.call('TIME') return t[1] * 1000 + math.floor(t[2] / 1000)");
    return (long)(d->until_ms - now);
}

static void test_escalation_cap_and_decay(void **state)
{
    struct sg_engine *e = engine("account_failures = 2\naccount_window = 1m\n"
                                 "account_lock = 200ms\naccount_lock_max = 1500ms");
    struct sg_decision d;
    long ms;

    (void)state;
    fail_distinct(e, "carol", "203.0.113.9;1", 2, &d);            /* level 0: 200 ms */
    ms = lock_ms(&d);
    assert_in_range(ms, 100, 200);
    assert_non_null(strstr(last, "level=0"));
    sg_sleep_ms(250);
    fail_distinct(e, "carol", "203.0.113.9;1", 2, &d);            /* level 1: 400 +-10% */
    ms = lock_ms(&d);
    assert_in_range(ms, 250, 440);
    assert_non_null(strstr(last, "level=1"));
    assert_int_equal(sg_redis_int(&redis, "HGET sg:a:carol lvl"), 1);
    sg_sleep_ms(450);
    fail_distinct(e, "carol", "203.0.113.9;1", 2, &d);            /* level 2: 800 +-10% */
    ms = lock_ms(&d);
    assert_in_range(ms, 550, 880);
    sg_sleep_ms(900);
    fail_distinct(e, "carol", "203.0.113.9;1", 2, &d);            /* level 3: capped at 1500 */
    ms = lock_ms(&d);
    assert_in_range(ms, 1300, 1500);
    assert_non_null(strstr(last, "level=3"));
    /* a quiet account_lock_max after the lock ended: back to level 0 */
    sg_sleep_ms(1500 + 1600);
    fail_distinct(e, "carol", "203.0.113.9;1", 2, &d);
    ms = lock_ms(&d);
    assert_in_range(ms, 100, 200);
    assert_non_null(strstr(last, "level=0"));
    sg_engine_free(e);
}

static void test_password_spraying(void **state)
{
    struct sg_engine *e = engine("account_failures = 100\nsource_failures = 100\nspray_accounts = 3");
    struct sg_decision d;
    char user[16];

    (void)state;
    for (int i = 0; i < 3; i++) {
        snprintf(user, sizeof user, "victim%d", i);
        assert_int_equal(attempt(e, user, "Summer2026!", "198.51.100.66;1", &d),
                         SG_RESULT_BAD_CREDENTIALS);
    }
    assert_int_equal(sg_redis_int(&redis, "HGET sg:s:198.51.100.66/32 k"), 3);
    attempt(e, "victim3", "Summer2026!", "198.51.100.66;1", &d);   /* the 4th account */
    assert_non_null(strstr(last, "now=throttled reason=spray"));
    assert_int_equal(attempt(e, "alice", "s3cret", "198.51.100.66;2", &d), SG_RESULT_THROTTLED);
    assert_int_equal(verify_calls, 4);
    /* other sources pass */
    assert_int_equal(attempt(e, "alice", "s3cret", "198.51.100.67;2", &d), SG_RESULT_SUCCESS);
    /* the set stays bounded */
    for (int i = 4; i < 40; i++) {
        snprintf(user, sizeof user, "victim%d", i);
        attempt(e, user, "x", "198.51.100.66;1", &d);
    }
    assert_true(sg_redis_int(&redis, "HGET sg:s:198.51.100.66/32 k") <= 4);
    assert_true(sg_redis_int(&redis, "HLEN sg:s:198.51.100.66/32") <= 4 + 4);
    /* a trusted network never counts as spraying */
    for (int i = 0; i < 10; i++) {
        snprintf(user, sizeof user, "t%d", i);
        assert_int_equal(attempt(e, user, "x", "10.9.8.7;1", &d), SG_RESULT_BAD_CREDENTIALS);
    }
    assert_int_equal(attempt(e, "alice", "s3cret", "10.9.8.7;1", &d), SG_RESULT_SUCCESS);
    assert_int_equal(sg_redis_int(&redis, "EXISTS sg:s:10.9.8.7/32"), 0);
    sg_engine_free(e);
}

static void test_trusted_network_still_locks_account(void **state)
{
    struct sg_engine *e = engine("account_failures = 3");
    struct sg_decision d;

    (void)state;
    fail_distinct(e, "dave", "10.1.1.1;1", 3, &d);
    assert_int_equal(attempt(e, "dave", "x", "10.1.1.1;1", &d), SG_RESULT_LOCKED);
    assert_int_equal(sg_redis_int(&redis, "EXISTS sg:s:10.1.1.1/32"), 0);
    sg_engine_free(e);
}

/* Every key but the statistics and the admin's settings expires. */
static void test_every_counter_key_has_ttl(void **state)
{
    struct sg_engine *e = engine("account_failures = 2\nspray_accounts = 2\nsource_failures = 3");
    struct sg_decision d;
    redisContext *c;
    redisReply *r;
    char cursor[32] = "0";
    int keys = 0;

    (void)state;
    attempt(e, "alice", "s3cret", "192.0.2.1;1", &d);
    fail_distinct(e, "alice", "192.0.2.1;1", 3, &d);
    fail_distinct(e, "eve", "203.0.113.1;1", 3, &d);
    fail_distinct(e, "frank", "2001:db8::1;1", 3, &d);
    attempt(e, "gina", "same", "203.0.113.1;1", &d);
    attempt(e, "gina", "same", "203.0.113.1;1", &d);
    c = sg_redis_connect(&redis);
    assert_non_null(c);
    do {
        r = redisCommand(c, "SCAN %s COUNT 1000", cursor);
        assert_non_null(r);
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        for (size_t i = 0; i < r->element[1]->elements; i++) {
            const char *k = r->element[1]->element[i]->str;
            redisReply *t = redisCommand(c, "PTTL %s", k);

            keys++;
            if (strcmp(k, "sg:stats") != 0 && strncmp(k, "sg:u:", 5) != 0) {
                if (t->integer <= 0)
                    fail_msg("key %s has no TTL", k);
            }
            freeReplyObject(t);
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    redisFree(c);
    assert_true(keys >= 6);
    sg_engine_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_owner_not_locked_out_from_familiar_source),
        cmocka_unit_test(test_familiar_sources_expire),
        cmocka_unit_test(test_same_wrong_password_counts_once),
        cmocka_unit_test(test_escalation_cap_and_decay),
        cmocka_unit_test(test_password_spraying),
        cmocka_unit_test(test_trusted_network_still_locks_account),
        cmocka_unit_test(test_every_counter_key_has_ttl),
    };
    return cmocka_run_group_tests_name("smart_lockout", tests, group_setup, group_teardown);
}
