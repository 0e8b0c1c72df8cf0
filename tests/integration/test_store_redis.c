/*
 * test_store_redis.c - the Redis store against a real redis-server.
 *
 * Proves the exact counting of store.h's contract: locks after exactly N
 * failures (also from 8 concurrent processes), window and lock expiry,
 * clearing on success, source blocking, TTLs on every key, NOSCRIPT
 * fallback, reconnect after a restart (within the call when the server
 * closed the connection between calls) and a bounded wait on a stuck
 * server.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "policy.h"
#include "redis_fixture.h"
#include "status.h"
#include "store.h"


/* The store's calls for an attempt with a counted source (or none). */
static int chk(struct sg_store *s, const char *acct, const char *src, struct sg_store_state *st)
{
    struct sg_store_attempt a = { .account = acct, .source = src, .source_counted = 1 };
    return sg_store_check(s, &a, st);
}

static int rep(struct sg_store *s, const char *acct, const char *src, enum sg_report_kind kind,
               const char *stat, struct sg_store_state *st)
{
    struct sg_store_attempt a = { .account = acct, .source = src, .source_counted = 1 };
    return sg_store_report(s, &a, kind, stat, st);
}

static void fail_once(struct sg_fixture_store *c, const char *acct, const char *src, struct sg_store_state *st)
{
    assert_int_equal(rep(c->store, acct, src, SG_REPORT_FAILURE, "bad_credentials", st), SG_OK);
}

static void test_lock_after_exactly_n(void **state)
{
    struct sg_fixture_store *c = sg_fixture_store_must("account_failures = 5\naccount_lock = 15m\ntrusted_networks =");
    struct sg_store_state st;

    (void)state;
    for (int i = 1; i <= 4; i++) {
        fail_once(c, "alice", NULL, &st);
        assert_int_equal(st.failures, i);
        assert_int_equal(st.state, SG_STATE_ALLOWED);
    }
    assert_int_equal(chk(c->store, "alice", NULL, &st), SG_OK);
    assert_int_equal(st.state, SG_STATE_ALLOWED);
    assert_int_equal(st.failures, 4);

    fail_once(c, "alice", NULL, &st);
    assert_int_equal(st.failures, 5);
    assert_int_equal(st.state, SG_STATE_ACCOUNT_LOCKED);
    assert_true(st.until_ms >= st.now_ms + 15 * 60 * 1000 - 5);

    assert_int_equal(chk(c->store, "alice", NULL, &st), SG_OK);
    assert_int_equal(st.state, SG_STATE_ACCOUNT_LOCKED);
    assert_int_equal(st.failures, 5);
    /* another account is not touched */
    assert_int_equal(chk(c->store, "bob", NULL, &st), SG_OK);
    assert_int_equal(st.state, SG_STATE_ALLOWED);
    assert_int_equal(st.failures, 0);
    /* the Redis state an admin would look at */
    assert_int_equal(sg_redis_int(&sg_redis, "HGET sg:a:alice n"), 5);
    assert_true(sg_redis_int(&sg_redis, "HGET sg:a:alice lu") > 0);
    sg_fixture_store_close(c);
}

struct seen {
    long failures;
    int state;
};

/* 8 processes, 10 failures each, threshold 50: every count 1..80 is seen
 * exactly once, and the lock starts exactly at 50. */
static void test_concurrent_exact(void **state)
{
    enum { PROCS = 8, EACH = 10, THRESHOLD = 50 };
    struct sg_fixture_store *c = sg_fixture_store_must("account_failures = 50\nsource_failures = 1000\ntrusted_networks =");
    int fds[2];
    int seen[PROCS * EACH + 1] = { 0 };
    struct seen s;
    pid_t pids[PROCS];

    (void)state;
    assert_int_equal(pipe(fds), 0);
    for (int p = 0; p < PROCS; p++) {
        pids[p] = fork();
        assert_true(pids[p] >= 0);
        if (pids[p] == 0) {
            struct sg_store *own;
            struct sg_store_state st;

            close(fds[0]);
            if (sg_store_open(c->policy, &own) != SG_OK)
                _exit(2);
            for (int i = 0; i < EACH; i++) {
                if (rep(own, "carol", "192.0.2.1/32", SG_REPORT_FAILURE, NULL, &st) != SG_OK)
                    _exit(3);
                s.failures = st.failures;
                s.state = st.state;
                if (write(fds[1], &s, sizeof s) != (ssize_t)sizeof s)
                    _exit(4);
            }
            sg_store_close(own);
            _exit(0);
        }
    }
    close(fds[1]);
    for (int n = 0; n < PROCS * EACH; n++) {
        assert_int_equal(read(fds[0], &s, sizeof s), (ssize_t)sizeof s);
        assert_in_range(s.failures, 1, PROCS * EACH);
        seen[s.failures]++;
        if (s.failures < THRESHOLD)
            assert_int_equal(s.state, SG_STATE_ALLOWED);
        else
            assert_int_equal(s.state, SG_STATE_ACCOUNT_LOCKED);
    }
    close(fds[0]);
    for (int p = 0; p < PROCS; p++) {
        int status;

        assert_int_equal(waitpid(pids[p], &status, 0), pids[p]);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    for (int n = 1; n <= PROCS * EACH; n++)
        assert_int_equal(seen[n], 1);
    assert_int_equal(sg_redis_int(&sg_redis, "HGET sg:a:carol n"), PROCS * EACH);
    assert_int_equal(sg_redis_int(&sg_redis, "HGET sg:s:192.0.2.1/32 n"), PROCS * EACH);
    sg_fixture_store_close(c);
}

static void test_window_expiry(void **state)
{
    struct sg_fixture_store *c = sg_fixture_store_must("account_failures = 3\naccount_window = 300ms");
    struct sg_store_state st;

    (void)state;
    fail_once(c, "dave", NULL, &st);
    fail_once(c, "dave", NULL, &st);
    assert_int_equal(st.failures, 2);
    sg_sleep_ms(400);
    assert_int_equal(chk(c->store, "dave", NULL, &st), SG_OK);
    assert_int_equal(st.failures, 0);
    fail_once(c, "dave", NULL, &st);
    assert_int_equal(st.failures, 1);   /* a fresh window, not 3 -> no lock */
    assert_int_equal(st.state, SG_STATE_ALLOWED);
    sg_fixture_store_close(c);
}

static void test_lock_expiry(void **state)
{
    struct sg_fixture_store *c = sg_fixture_store_must("account_failures = 2\naccount_window = 10m\naccount_lock = 300ms\naccount_lock_max = 1s");
    struct sg_store_state st;

    (void)state;
    fail_once(c, "erin", NULL, &st);
    fail_once(c, "erin", NULL, &st);
    assert_int_equal(st.state, SG_STATE_ACCOUNT_LOCKED);
    assert_int_equal(chk(c->store, "erin", NULL, &st), SG_OK);
    assert_int_equal(st.state, SG_STATE_ACCOUNT_LOCKED);
    sg_sleep_ms(400);
    assert_int_equal(chk(c->store, "erin", NULL, &st), SG_OK);
    assert_int_equal(st.state, SG_STATE_ALLOWED);
    /* after a lock, counting starts afresh */
    fail_once(c, "erin", NULL, &st);
    assert_int_equal(st.failures, 1);
    assert_int_equal(st.state, SG_STATE_ALLOWED);
    sg_fixture_store_close(c);
}

static void test_success_clears(void **state)
{
    struct sg_fixture_store *c = sg_fixture_store_must("account_failures = 5\nsource_failures = 100");
    struct sg_store_state st;

    (void)state;
    for (int i = 0; i < 3; i++)
        fail_once(c, "frank", "198.51.100.7/32", &st);
    assert_int_equal(sg_redis_int(&sg_redis, "EXISTS sg:a:frank"), 1);
    assert_int_equal(rep(c->store, "frank", "198.51.100.7/32", SG_REPORT_SUCCESS, NULL, &st), SG_OK);
    assert_int_equal(sg_redis_int(&sg_redis, "EXISTS sg:a:frank"), 0);
    assert_int_equal(chk(c->store, "frank", "198.51.100.7/32", &st), SG_OK);
    assert_int_equal(st.failures, 0);
    /* a success never launders the source's count */
    assert_int_equal(st.source_failures, 3);
    sg_fixture_store_close(c);
}

static void test_success_keeps_lock(void **state)
{
    struct sg_fixture_store *c = sg_fixture_store_must("account_failures = 2");
    struct sg_store_state st;

    (void)state;
    fail_once(c, "gina", NULL, &st);
    fail_once(c, "gina", NULL, &st);
    assert_int_equal(st.state, SG_STATE_ACCOUNT_LOCKED);
    /* a concurrent attempt that verified before the lock reports success */
    assert_int_equal(rep(c->store, "gina", NULL, SG_REPORT_SUCCESS, NULL, &st), SG_OK);
    assert_int_equal(chk(c->store, "gina", NULL, &st), SG_OK);
    assert_int_equal(st.state, SG_STATE_ACCOUNT_LOCKED);
    assert_int_equal(st.failures, 0);
    sg_fixture_store_close(c);
}

static void test_source_block(void **state)
{
    struct sg_fixture_store *c = sg_fixture_store_must("account_failures = 100\nsource_failures = 3\nsource_block = 1h");
    struct sg_store_state st;
    const char *bad = "203.0.113.9/32", *good = "203.0.113.10/32";

    (void)state;
    fail_once(c, "u1", bad, &st);
    fail_once(c, "u2", bad, &st);
    assert_int_equal(st.state, SG_STATE_ALLOWED);
    assert_int_equal(st.source_failures, 2);
    fail_once(c, "u3", bad, &st);
    assert_int_equal(st.state, SG_STATE_SOURCE_BLOCKED);
    assert_true(st.until_ms >= st.now_ms + 3600 * 1000 - 5);

    assert_int_equal(chk(c->store, "someone", bad, &st), SG_OK);
    assert_int_equal(st.state, SG_STATE_SOURCE_BLOCKED);
    assert_int_equal(chk(c->store, "someone", good, &st), SG_OK);
    assert_int_equal(st.state, SG_STATE_ALLOWED);
    assert_int_equal(chk(c->store, "someone", NULL, &st), SG_OK);
    assert_int_equal(st.state, SG_STATE_ALLOWED);
    sg_fixture_store_close(c);
}

static void test_every_key_has_ttl(void **state)
{
    struct sg_fixture_store *c = sg_fixture_store_must("account_failures = 2\naccount_window = 15m\naccount_lock = 1h\n"
                             "account_lock_max = 2h\nsource_window = 10m\nsource_block = 2h\nsource_failures = 2");
    struct sg_store_state st;
    long long ttl;

    (void)state;
    fail_once(c, "hank", "192.0.2.50/32", &st);
    ttl = sg_redis_int(&sg_redis, "PTTL sg:a:hank");
    assert_in_range(ttl, 15 * 60 * 1000 - 2000, 15 * 60 * 1000);
    ttl = sg_redis_int(&sg_redis, "PTTL sg:s:192.0.2.50/32");
    assert_in_range(ttl, 10 * 60 * 1000 - 2000, 10 * 60 * 1000);
    fail_once(c, "hank", "192.0.2.50/32", &st);
    /* locked: the key lives as long as the lock, and account_lock_max more
     * to remember the escalation level */
    ttl = sg_redis_int(&sg_redis, "PTTL sg:a:hank");
    assert_in_range(ttl, 3 * 3600 * 1000 - 2000, 3 * 3600 * 1000);
    /* no zero-valued fields are stored */
    assert_int_equal(sg_redis_int(&sg_redis, "HEXISTS sg:a:hank fn"), 0);
    ttl = sg_redis_int(&sg_redis, "PTTL sg:s:192.0.2.50/32");
    assert_in_range(ttl, 7200 * 1000 - 2000, 7200 * 1000);
    sg_fixture_store_close(c);
}

static void test_key_prefix(void **state)
{
    struct sg_fixture_store *c = sg_fixture_store_must("key_prefix = site1");
    struct sg_store_state st;

    (void)state;
    fail_once(c, "ivan", "192.0.2.1/32", &st);
    assert_int_equal(sg_redis_int(&sg_redis, "EXISTS site1:a:ivan"), 1);
    assert_int_equal(sg_redis_int(&sg_redis, "EXISTS site1:s:192.0.2.1/32"), 1);
    assert_int_equal(sg_redis_int(&sg_redis, "EXISTS sg:a:ivan"), 0);
    sg_fixture_store_close(c);
}

static void test_noscript_fallback(void **state)
{
    struct sg_fixture_store *c = sg_fixture_store_must("account_failures = 5");
    struct sg_store_state st;
    char *r;

    (void)state;
    fail_once(c, "judy", NULL, &st);
    r = sg_redis_str(&sg_redis, "SCRIPT FLUSH");
    assert_non_null(r);
    free(r);
    fail_once(c, "judy", NULL, &st);   /* NOSCRIPT -> EVAL */
    assert_int_equal(st.failures, 2);
    assert_int_equal(chk(c->store, "judy", NULL, &st), SG_OK);
    assert_int_equal(st.failures, 2);
    sg_fixture_store_close(c);
}

static void test_reconnect_after_restart(void **state)
{
    struct sg_fixture_store *c = sg_fixture_store_must("account_failures = 5");
    struct sg_store_state st;

    (void)state;
    fail_once(c, "kim", NULL, &st);
    sg_redis_stop(&sg_redis);
    assert_int_equal(chk(c->store, "kim", NULL, &st), SG_ESTORE);
    assert_non_null(strstr(sg_store_error(c->store), "redis"));
    assert_int_equal(sg_redis_restart(&sg_redis), 0);
    /* same store object: reconnects by itself; the restart lost the data */
    assert_int_equal(chk(c->store, "kim", NULL, &st), SG_OK);
    assert_int_equal(st.failures, 0);
    sg_fixture_store_close(c);
}

/* A connection the server closed between two calls (restart, failover,
 * idle timeout) is replaced within the call: the caller sees no error. */
static void test_restart_between_calls_is_transparent(void **state)
{
    struct sg_fixture_store *c = sg_fixture_store_must("account_failures = 5");
    struct sg_store_state st;

    (void)state;
    fail_once(c, "kim", NULL, &st);
    assert_int_equal(sg_redis_restart(&sg_redis), 0);
    assert_int_equal(chk(c->store, "kim", NULL, &st), SG_OK);
    assert_int_equal(st.failures, 0);
    fail_once(c, "kim", NULL, &st);
    assert_int_equal(sg_redis_int(&sg_redis, "HGET sg:a:kim n"), 1);
    sg_fixture_store_close(c);
}

/* The same with a deferred success report still unanswered: the server
 * dies before replying to it; the next call finds the connection closed
 * while reading that reply, and still gets its answer. */
static void test_restart_with_a_deferred_reply_pending(void **state)
{
    struct sg_fixture_store *c = sg_fixture_store_must("account_failures = 5");
    struct sg_store_attempt a = { .account = "kim", .source_counted = 1 };
    struct sg_store_state st;

    (void)state;
    fail_once(c, "kim", NULL, &st);             /* connected, report.lua loaded */
    sg_redis_pause(&sg_redis);                     /* the next request is never answered */
    assert_int_equal(sg_store_report_deferred(c->store, &a, "success"), SG_OK);
    kill(sg_redis.pid, SIGKILL);
    waitpid(sg_redis.pid, NULL, 0);
    sg_redis.pid = 0;
    assert_int_equal(sg_redis_restart(&sg_redis), 0);
    assert_int_equal(chk(c->store, "kim", NULL, &st), SG_OK);
    assert_int_equal(st.failures, 0);
    sg_fixture_store_close(c);
}

static void test_stuck_server_times_out(void **state)
{
    struct sg_fixture_store *c = sg_fixture_store_must("redis_timeout = 200ms");
    struct sg_store_state st;
    struct timespec t0, t1;
    long ms;

    (void)state;
    assert_int_equal(chk(c->store, "lee", NULL, &st), SG_OK);   /* connected */
    sg_redis_pause(&sg_redis);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(chk(c->store, "lee", NULL, &st), SG_ESTORE);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    sg_redis_resume(&sg_redis);
    ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    /* bounded by redis_timeout, not hanging (generous bound for a busy CI) */
    assert_true(ms < 3000);
    assert_non_null(strstr(sg_store_error(c->store), "redis"));
    /* and usable again once the server answers */
    assert_int_equal(chk(c->store, "lee", NULL, &st), SG_OK);
    sg_fixture_store_close(c);
}

static void test_statistics(void **state)
{
    struct sg_fixture_store *c = sg_fixture_store_must("account_failures = 2");
    struct sg_store_state st;

    (void)state;
    fail_once(c, "mia", NULL, &st);
    fail_once(c, "mia", NULL, &st);
    assert_int_equal(chk(c->store, "mia", NULL, &st), SG_OK);   /* refused: counted */
    assert_int_equal(chk(c->store, "other", NULL, &st), SG_OK); /* allowed: not */
    assert_int_equal(sg_store_peek(c->store, "mia", NULL, &st), SG_OK);    /* a look: not */
    assert_int_equal(st.state, SG_STATE_ACCOUNT_LOCKED);
    assert_int_equal(rep(c->store, "other", NULL, SG_REPORT_SUCCESS, "success", &st), SG_OK);
    assert_int_equal(sg_redis_int(&sg_redis, "HGET sg:stats bad_credentials"), 2);
    assert_int_equal(sg_redis_int(&sg_redis, "HGET sg:stats locked"), 1);
    assert_int_equal(sg_redis_int(&sg_redis, "HGET sg:stats success"), 1);
    assert_int_equal(sg_redis_int(&sg_redis, "HLEN sg:stats"), 3);
    sg_fixture_store_close(c);
}

static void test_tcp_connection(void **state)
{
    /* unreachable TCP endpoint: a refused connect is a store error */
    struct sg_policy *p = NULL;
    struct sg_store *s;
    struct sg_store_state st;

    (void)state;
    assert_int_equal(sg_policy_load_string("t", "redis = tcp://127.0.0.1:1\n", &p, NULL, NULL), SG_OK);
    assert_int_equal(sg_store_open(p, &s), SG_OK);
    assert_int_equal(chk(s, "x", NULL, &st), SG_ESTORE);
    assert_non_null(strstr(sg_store_error(s), "connect"));
    sg_store_close(s);
    sg_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lock_after_exactly_n),
        cmocka_unit_test(test_concurrent_exact),
        cmocka_unit_test(test_window_expiry),
        cmocka_unit_test(test_lock_expiry),
        cmocka_unit_test(test_success_clears),
        cmocka_unit_test(test_success_keeps_lock),
        cmocka_unit_test(test_source_block),
        cmocka_unit_test(test_every_key_has_ttl),
        cmocka_unit_test(test_key_prefix),
        cmocka_unit_test(test_noscript_fallback),
        cmocka_unit_test(test_reconnect_after_restart),
        cmocka_unit_test(test_restart_between_calls_is_transparent),
        cmocka_unit_test(test_restart_with_a_deferred_reply_pending),
        cmocka_unit_test(test_stuck_server_times_out),
        cmocka_unit_test(test_statistics),
        cmocka_unit_test(test_tcp_connection),
    };
    return cmocka_run_group_tests_name("store_redis", tests, sg_redis_group_setup, sg_redis_group_teardown);
}
