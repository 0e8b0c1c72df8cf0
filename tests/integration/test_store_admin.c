/*
 * test_store_admin.c - the admin operations against a real redis-server.
 *
 * What saslguard(8) relies on: status details next to the peek verdict,
 * lock (with and without end) as the engine's check sees it, unlock and
 * unblock with "nothing there" told apart, list over many SCAN pages with
 * foreign keys skipped, statistics, familiar sources, hostile field
 * values, and failures worded by step when Redis is down or answers an
 * error.
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

#include "account_key.h"
#include "policy.h"
#include "redis_fixture.h"
#include "status.h"
#include "store.h"
#include "store_admin.h"


static void fail_n(struct sg_fixture_store *c, const char *acct, const char *src, int n)
{
    struct sg_store_state st;

    struct sg_store_attempt a = { .account = acct, .source = src, .source_counted = 1 };

    for (int i = 0; i < n; i++)
        assert_int_equal(sg_store_report(c->store, &a, SG_REPORT_FAILURE,
                                         "bad_credentials", &st), SG_OK);
}

static void test_account_unknown(void **state)
{
    struct sg_fixture_store *c = sg_fixture_store_must(NULL);
    struct sg_admin_account a;

    (void)state;
    assert_int_equal(sg_admin_account(c->store, "nobody", &a), SG_OK);
    assert_false(a.exists);
    assert_int_equal(a.st.state, SG_STATE_ALLOWED);
    assert_int_equal(a.st.failures, 0);
    assert_int_equal(a.ttl_ms, -2);
    assert_int_equal(a.last_failure_ms, 0);
    assert_string_equal(a.last_source, "");
    assert_int_equal(a.familiar_count, 0);
    sg_fixture_store_close(c);
}

static void test_account_details(void **state)
{
    struct sg_fixture_store *c = sg_fixture_store_must("account_failures = 5\ntrusted_networks =");
    struct sg_admin_account a;

    (void)state;
    fail_n(c, "alice", "192.0.2.7/32", 2);
    assert_int_equal(sg_admin_account(c->store, "alice", &a), SG_OK);
    assert_true(a.exists);
    assert_int_equal(a.st.state, SG_STATE_ALLOWED);
    assert_int_equal(a.st.failures, 2);
    assert_int_equal(a.raw_failures, 2);
    assert_true(a.window_start_ms > 0 && a.window_start_ms <= a.st.now_ms);
    assert_true(a.last_failure_ms >= a.window_start_ms);
    assert_string_equal(a.last_source, "192.0.2.7/32");
    assert_int_equal(a.level, 0);
    assert_true(a.ttl_ms > 0 && a.ttl_ms <= 15 * 60 * 1000);

    /* an escalation level, when a later version writes one */
    sg_redis_int(&sg_redis, "HSET sg:a:alice lvl 3");
    assert_int_equal(sg_admin_account(c->store, "alice", &a), SG_OK);
    assert_int_equal(a.level, 3);
    sg_fixture_store_close(c);
}

static void test_hostile_fields_read_as_absent(void **state)
{
    struct sg_fixture_store *c = sg_fixture_store_must(NULL);
    struct sg_admin_account a;

    (void)state;
    sg_redis_int(&sg_redis, "HSET sg:a:mallory n x ws -5 lt 12abc ls %s lvl 99999",
                 "192.0.2.7/32\r\nEVIL");
    assert_int_equal(sg_admin_account(c->store, "mallory", &a), SG_OK);
    assert_true(a.exists);
    assert_int_equal(a.raw_failures, 0);
    assert_int_equal(a.window_start_ms, 0);
    assert_int_equal(a.last_failure_ms, 0);
    assert_string_equal(a.last_source, "");
    assert_int_equal(a.level, 0);
    /* numbers with blanks or signs strtoll would take are refused too */
    sg_redis_int(&sg_redis, "HSET sg:a:mallory n %s lvl +2 lt -", " 7");
    assert_int_equal(sg_admin_account(c->store, "mallory", &a), SG_OK);
    assert_int_equal(a.raw_failures, 0);
    assert_int_equal(a.level, 0);
    assert_int_equal(a.last_failure_ms, 0);
    /* a source in non-canonical form is not shown either */
    sg_redis_int(&sg_redis, "HSET sg:a:mallory ls 192.0.2.7/24");
    assert_int_equal(sg_admin_account(c->store, "mallory", &a), SG_OK);
    assert_string_equal(a.last_source, "");
    sg_fixture_store_close(c);
}

static void test_lock_until_unlocked(void **state)
{
    struct sg_fixture_store *c = sg_fixture_store_must("account_failures = 5");
    struct sg_store_state st;
    int64_t until = 0, now = 0;

    (void)state;
    fail_n(c, "bob", NULL, 2);
    assert_int_equal(sg_admin_lock(c->store, "bob", 0, &until, &now), SG_OK);
    assert_int_equal(until, -1);
    assert_true(now > 0);
    /* the engine's check answers "disabled", and nothing can expire it */
    assert_int_equal(sg_store_check(c->store, &(struct sg_store_attempt){ .account = "bob", .source_counted = 1 }, &st), SG_OK);
    assert_int_equal(st.state, SG_STATE_ACCOUNT_DISABLED);
    assert_int_equal(st.failures, 2);
    assert_int_equal(sg_redis_int(&sg_redis, "PTTL sg:a:bob"), -1);
    /* a later failure keeps it (report.lua) */
    fail_n(c, "bob", NULL, 1);
    assert_int_equal(sg_store_peek(c->store, "bob", NULL, &st), SG_OK);
    assert_int_equal(st.state, SG_STATE_ACCOUNT_DISABLED);
    assert_int_equal(sg_redis_int(&sg_redis, "PTTL sg:a:bob"), -1);

    assert_int_equal(sg_admin_unlock(c->store, "bob"), SG_OK);
    assert_int_equal(sg_store_peek(c->store, "bob", NULL, &st), SG_OK);
    assert_int_equal(st.state, SG_STATE_ALLOWED);
    assert_int_equal(st.failures, 0);
    assert_int_equal(sg_admin_unlock(c->store, "bob"), SG_ENOTFOUND);
    sg_fixture_store_close(c);
}

static void test_lock_for_a_while(void **state)
{
    struct sg_fixture_store *c = sg_fixture_store_must("account_failures = 5\naccount_window = 15m");
    struct sg_store_state st;
    int64_t until = 0, now = 0;
    long long ttl;

    (void)state;
    assert_int_equal(sg_admin_lock(c->store, "carol", 300, &until, &now), SG_OK);
    assert_true(until >= now + 300 && until <= now + 310);
    assert_int_equal(sg_store_check(c->store, &(struct sg_store_attempt){ .account = "carol", .source_counted = 1 }, &st), SG_OK);
    assert_int_equal(st.state, SG_STATE_ACCOUNT_LOCKED);
    assert_int_equal(st.until_ms, until);
    ttl = sg_redis_int(&sg_redis, "PTTL sg:a:carol");
    assert_true(ttl > 0 && ttl <= 300);
    sg_sleep_ms(400);
    assert_int_equal(sg_store_peek(c->store, "carol", NULL, &st), SG_OK);
    assert_int_equal(st.state, SG_STATE_ALLOWED);
    assert_int_equal(sg_redis_int(&sg_redis, "EXISTS sg:a:carol"), 0);

    /* with live failures, the TTL still covers their window; a temporary
     * lock replaces an admin lock */
    fail_n(c, "dave", NULL, 2);
    assert_int_equal(sg_admin_lock(c->store, "dave", 0, NULL, NULL), SG_OK);
    assert_int_equal(sg_admin_lock(c->store, "dave", 100, NULL, NULL), SG_OK);
    ttl = sg_redis_int(&sg_redis, "PTTL sg:a:dave");
    assert_true(ttl > 14 * 60 * 1000);
    assert_int_equal(sg_store_peek(c->store, "dave", NULL, &st), SG_OK);
    assert_int_equal(st.state, SG_STATE_ACCOUNT_LOCKED);
    sg_sleep_ms(200);
    assert_int_equal(sg_store_peek(c->store, "dave", NULL, &st), SG_OK);
    assert_int_equal(st.state, SG_STATE_ALLOWED);
    assert_int_equal(st.failures, 2);
    sg_fixture_store_close(c);
}

static void test_unlock_keeps_settings(void **state)
{
    struct sg_fixture_store *c = sg_fixture_store_must(NULL);

    (void)state;
    fail_n(c, "erin", NULL, 1);
    sg_redis_int(&sg_redis, "HSET sg:u:erin mfa 1");
    assert_int_equal(sg_admin_unlock(c->store, "erin"), SG_OK);
    assert_int_equal(sg_redis_int(&sg_redis, "EXISTS sg:a:erin"), 0);
    assert_int_equal(sg_redis_int(&sg_redis, "EXISTS sg:u:erin"), 1);
    sg_fixture_store_close(c);
}

static void test_source_and_unblock(void **state)
{
    struct sg_fixture_store *c = sg_fixture_store_must("source_failures = 3\naccount_failures = 100\ntrusted_networks =");
    struct sg_admin_source so;

    (void)state;
    assert_int_equal(sg_admin_source(c->store, "203.0.113.0/24", &so), SG_OK);
    assert_false(so.exists);
    fail_n(c, "u1", "203.0.113.0/24", 3);
    assert_int_equal(sg_admin_source(c->store, "203.0.113.0/24", &so), SG_OK);
    assert_true(so.exists);
    assert_int_equal(so.st.state, SG_STATE_SOURCE_BLOCKED);
    assert_int_equal(so.st.source_failures, 3);
    assert_int_equal(so.raw_failures, 3);
    assert_true(so.window_start_ms > 0);
    assert_true(so.st.until_ms > so.st.now_ms);

    assert_int_equal(sg_admin_unblock(c->store, "203.0.113.0/24"), SG_OK);
    assert_int_equal(sg_admin_source(c->store, "203.0.113.0/24", &so), SG_OK);
    assert_int_equal(so.st.state, SG_STATE_ALLOWED);
    assert_false(so.exists);
    assert_int_equal(sg_admin_unblock(c->store, "203.0.113.0/24"), SG_ENOTFOUND);
    sg_fixture_store_close(c);
}

static void test_list(void **state)
{
    struct sg_fixture_store *c = sg_fixture_store_must("account_failures = 2\nsource_failures = 2\ntrusted_networks =");
    struct sg_admin_list l;
    char big[400], hashed[SG_ACCOUNT_KEY_LEN];

    (void)state;
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(sg_account_key(big, strlen(big), hashed, sizeof hashed), SG_OK);
    assert_true(sg_admin_is_hashed_part(hashed));
    fail_n(c, "zed", "192.0.2.1/32", 1);                /* failures only */
    fail_n(c, "amy%20x", "198.51.100.0/24", 2);          /* locked; blocks the source */
    assert_int_equal(sg_admin_lock(c->store, "bob", 0, NULL, NULL), SG_OK);
    assert_int_equal(sg_admin_lock(c->store, hashed, 60000, NULL, NULL), SG_OK);
    /* keys no account or source part can produce are skipped */
    sg_redis_int(&sg_redis, "HSET sg:a:BAD n 1");
    sg_redis_int(&sg_redis, "HSET %s n 1", "sg:a:x{y}");
    sg_redis_int(&sg_redis, "HSET sg:s:192.0.2.1/24 n 1");
    sg_redis_int(&sg_redis, "HSET sg:s:nonsense n 1");
    sg_redis_int(&sg_redis, "HSET other:a:alice n 1");

    assert_int_equal(sg_admin_list(c->store, SG_ADMIN_ACCOUNTS, 0, &l), SG_OK);
    assert_int_equal(l.n, 4);
    assert_int_equal(l.skipped, 2);
    assert_false(l.truncated);
    assert_string_equal(l.v[0].part, "amy%20x");
    assert_string_equal(l.v[3].part, hashed);           /* "~" sorts after letters */
    sg_admin_list_free(&l);

    assert_int_equal(sg_admin_list(c->store, SG_ADMIN_ACCOUNTS, 1, &l), SG_OK);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.v[0].part, "amy%20x");
    assert_int_equal(l.v[0].st.state, SG_STATE_ACCOUNT_LOCKED);
    assert_string_equal(l.v[1].part, "bob");
    assert_int_equal(l.v[1].st.state, SG_STATE_ACCOUNT_DISABLED);
    assert_string_equal(l.v[2].part, hashed);
    sg_admin_list_free(&l);

    assert_int_equal(sg_admin_list(c->store, SG_ADMIN_SOURCES, 0, &l), SG_OK);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.skipped, 2);
    assert_string_equal(l.v[0].part, "192.0.2.1/32");
    assert_int_equal(l.v[0].st.state, SG_STATE_ALLOWED);
    assert_int_equal(l.v[0].st.source_failures, 1);
    assert_string_equal(l.v[1].part, "198.51.100.0/24");
    assert_int_equal(l.v[1].st.state, SG_STATE_SOURCE_BLOCKED);
    sg_admin_list_free(&l);

    assert_int_equal(sg_admin_list(c->store, SG_ADMIN_SOURCES, 1, &l), SG_OK);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.v[0].part, "198.51.100.0/24");
    sg_admin_list_free(&l);
    sg_fixture_store_close(c);
}

/* Many keys: several SCAN pages, every key once. */
static void test_list_many(void **state)
{
    enum { N = 3000 };
    struct sg_fixture_store *c = sg_fixture_store_must(NULL);
    redisContext *rc = sg_redis_connect(&sg_redis);
    struct sg_admin_list l;

    (void)state;
    assert_non_null(rc);
    for (int i = 0; i < N; i++)
        redisAppendCommand(rc, "HSET sg:a:user%05d n 1", i);
    for (int i = 0; i < N; i++) {
        void *r = NULL;

        assert_int_equal(redisGetReply(rc, &r), REDIS_OK);
        freeReplyObject(r);
    }
    redisFree(rc);
    assert_int_equal(sg_admin_list(c->store, SG_ADMIN_ACCOUNTS, 0, &l), SG_OK);
    assert_int_equal(l.n, N);
    for (size_t i = 1; i < l.n; i++)
        assert_true(strcmp(l.v[i - 1].part, l.v[i].part) < 0);
    sg_admin_list_free(&l);
    assert_int_equal(sg_admin_list(c->store, SG_ADMIN_ACCOUNTS, 1, &l), SG_OK);
    assert_int_equal(l.n, 0);
    sg_admin_list_free(&l);
    sg_fixture_store_close(c);
}

static void test_stats(void **state)
{
    struct sg_fixture_store *c = sg_fixture_store_must(NULL);
    struct sg_admin_stats st;

    (void)state;
    assert_int_equal(sg_admin_stats(c->store, &st), SG_OK);
    assert_int_equal(st.total, 0);
    sg_redis_int(&sg_redis, "HINCRBY sg:stats success 7");
    sg_redis_int(&sg_redis, "HINCRBY sg:stats locked 2");
    sg_redis_int(&sg_redis, "HSET sg:stats bogus 5");
    sg_redis_int(&sg_redis, "HSET sg:stats throttled notanumber");
    assert_int_equal(sg_admin_stats(c->store, &st), SG_OK);
    assert_int_equal(st.count[SG_RESULT_SUCCESS], 7);
    assert_int_equal(st.count[SG_RESULT_LOCKED], 2);
    assert_int_equal(st.count[SG_RESULT_THROTTLED], 0);
    assert_int_equal(st.total, 9);
    assert_int_equal(st.unknown, 2);
    sg_fixture_store_close(c);
}

static void test_familiar_sources(void **state)
{
    struct sg_fixture_store *c = sg_fixture_store_must(NULL);
    struct sg_admin_account a;

    (void)state;
    sg_redis_int(&sg_redis, "ZADD sg:f:alice 1700000000000 192.0.2.0/24 1700000005000 "
                         "2001:db8::/64 1 bad-member");
    assert_int_equal(sg_admin_account(c->store, "alice", &a), SG_OK);
    assert_int_equal(a.familiar_total, 3);
    assert_int_equal(a.familiar_count, 2);
    assert_string_equal(a.familiar[0].source, "2001:db8::/64");
    assert_int_equal(a.familiar[0].last_ms, 1700000005000LL);
    assert_string_equal(a.familiar[1].source, "192.0.2.0/24");
    /* a key of another type reads as none */
    sg_redis_int(&sg_redis, "DEL sg:f:alice");
    sg_redis_int(&sg_redis, "SET sg:f:alice x");
    assert_int_equal(sg_admin_account(c->store, "alice", &a), SG_OK);
    assert_int_equal(a.familiar_count, 0);
    sg_fixture_store_close(c);
}

/* The admin's view and the admin's lock cover both sides of smart lockout:
 * failures from the owner's familiar sources are counted apart. */
static void test_familiar_side(void **state)
{
    struct sg_fixture_store *c = sg_fixture_store_must("account_failures = 2");
    struct sg_store_attempt home = { .account = "hugo", .source = "192.0.2.10/32", .source_counted = 1 };
    struct sg_store_attempt away = { .account = "hugo", .source = "203.0.113.3/32", .source_counted = 1 };
    struct sg_admin_account acct;
    struct sg_store_state st;
    int64_t until = 0;

    (void)state;
    assert_int_equal(sg_store_report(c->store, &home, SG_REPORT_SUCCESS, "success", &st), SG_OK);
    assert_int_equal(sg_store_report(c->store, &home, SG_REPORT_FAILURE, NULL, &st), SG_OK);
    assert_int_equal(st.familiar, 1);
    assert_int_equal(sg_store_report(c->store, &home, SG_REPORT_FAILURE, NULL, &st), SG_OK);
    assert_int_equal(st.state, SG_STATE_ACCOUNT_LOCKED);
    assert_int_equal(sg_admin_account(c->store, "hugo", &acct), SG_OK);
    assert_int_equal(acct.st.state, SG_STATE_ALLOWED);            /* unfamiliar side */
    assert_int_equal(acct.st_familiar.state, SG_STATE_ACCOUNT_LOCKED);
    assert_int_equal(acct.st_familiar.failures, 2);
    assert_int_equal(sg_admin_unlock(c->store, "hugo"), SG_OK);
    assert_int_equal(sg_store_check(c->store, &home, &st), SG_OK);
    assert_int_equal(st.state, SG_STATE_ALLOWED);

    /* a timed admin lock applies from familiar sources too */
    assert_int_equal(sg_store_report(c->store, &home, SG_REPORT_SUCCESS, "success", &st), SG_OK);
    assert_int_equal(sg_admin_lock(c->store, "hugo", 60000, &until, NULL), SG_OK);
    assert_int_equal(sg_store_check(c->store, &home, &st), SG_OK);
    assert_int_equal(st.state, SG_STATE_ACCOUNT_LOCKED);
    assert_int_equal(st.until_ms, until);
    assert_int_equal(sg_store_check(c->store, &away, &st), SG_OK);
    assert_int_equal(st.state, SG_STATE_ACCOUNT_LOCKED);
    sg_fixture_store_close(c);
}

static void test_errors_named_by_step(void **state)
{
    struct sg_fixture_store *c = sg_fixture_store_must(NULL);
    struct sg_admin_stats st;
    struct sg_admin_account a;
    const char *step, *detail;

    (void)state;
    /* an error reply (WRONGTYPE) is a store failure, worded */
    sg_redis_int(&sg_redis, "SET sg:stats x");
    assert_int_equal(sg_admin_stats(c->store, &st), SG_ESTORE);
    sg_store_error_parts(c->store, &step, &detail);
    assert_string_equal(step, "command");
    assert_non_null(strstr(detail, "WRONGTYPE"));

    sg_redis_stop(&sg_redis);
    assert_int_equal(sg_admin_account(c->store, "alice", &a), SG_ESTORE);
    sg_store_error_parts(c->store, &step, &detail);
    assert_string_equal(step, "connect");
    assert_true(detail[0] != '\0');
    assert_int_equal(sg_admin_lock(c->store, "alice", 0, NULL, NULL), SG_ESTORE);
    assert_int_equal(sg_admin_unlock(c->store, "alice"), SG_ESTORE);
    assert_int_equal(sg_redis_restart(&sg_redis), 0);
    /* and it reconnects */
    assert_int_equal(sg_admin_unlock(c->store, "alice"), SG_ENOTFOUND);
    sg_fixture_store_close(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_account_unknown),
        cmocka_unit_test(test_account_details),
        cmocka_unit_test(test_hostile_fields_read_as_absent),
        cmocka_unit_test(test_lock_until_unlocked),
        cmocka_unit_test(test_lock_for_a_while),
        cmocka_unit_test(test_unlock_keeps_settings),
        cmocka_unit_test(test_source_and_unblock),
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_list_many),
        cmocka_unit_test(test_stats),
        cmocka_unit_test(test_familiar_sources),
        cmocka_unit_test(test_familiar_side),
        cmocka_unit_test(test_errors_named_by_step),
    };
    return cmocka_run_group_tests_name("store_admin", tests, sg_redis_group_setup, sg_redis_group_teardown);
}
