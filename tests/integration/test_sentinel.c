/*
 * test_sentinel.c - the store behind Redis Sentinel: a real master, a
 * replica and a Sentinel on 127.0.0.1, started here.
 *
 * Proves: redis = sentinel://... finds the master (past a dead Sentinel),
 * clear errors for an unknown master name, no Sentinel reachable, a
 * Sentinel that wants a password and a master that is down; and after a failover the same store
 * object (as a long-lived smtpd holds it) follows the Sentinel to the new
 * master within the call, with the counters replicated.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy.h"
#include "redis_fixture.h"
#include "status.h"
#include "store.h"

#define MASTER_NAME "sgtest"

static struct sg_redis_fixture servers[2];  /* start as master and replica */
static struct sg_redis_fixture sentinel;

/* What a Sentinel says the master's port is; 0 if it does not say. */
static int master_port(const struct sg_redis_fixture *s)
{
    redisContext *c = sg_redis_connect(s);
    redisReply *r;
    int port = 0;

    if (!c)
        return 0;
    r = redisCommand(c, "SENTINEL get-master-addr-by-name %s", MASTER_NAME);
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2
        && r->element[1]->type == REDIS_REPLY_STRING)
        port = atoi(r->element[1]->str);
    if (r)
        freeReplyObject(r);
    redisFree(c);
    return port;
}

/* "master" or "slave" (ROLE), "" when the server does not answer. */
static void role(const struct sg_redis_fixture *f, char *buf, size_t len)
{
    redisContext *c = sg_redis_connect(f);
    redisReply *r = c ? redisCommand(c, "ROLE") : NULL;

    snprintf(buf, len, "%s", r && r->type == REDIS_REPLY_ARRAY && r->elements > 0
                             && r->element[0]->type == REDIS_REPLY_STRING
                             ? r->element[0]->str : "");
    if (r)
        freeReplyObject(r);
    if (c)
        redisFree(c);
}

static long long sentinel_int(const char *cmd)
{
    redisContext *c = sg_redis_connect(&sentinel);
    redisReply *r = c ? redisCommand(c, cmd) : NULL;
    long long n = -1;

    if (r && r->type == REDIS_REPLY_ARRAY)
        n = (long long)r->elements;
    if (r)
        freeReplyObject(r);
    if (c)
        redisFree(c);
    return n;
}

static int replica_link_up(void)
{
    char *info = sg_redis_str(&servers[1], "INFO replication");
    int up = info && strstr(info, "master_link_status:up") != NULL;

    free(info);
    return up;
}

static int group_setup(void **state)
{
    int i;

    (void)state;
    if (sg_redis_start_tcp(&servers[0], 0) != 0
        || sg_redis_start_tcp(&servers[1], servers[0].port) != 0)
        return -1;
    for (i = 0; i < 500 && !replica_link_up(); i++)
        sg_sleep_ms(20);
    if (i == 500) {
        fprintf(stderr, "test_sentinel: the replica never linked up\n");
        return -1;
    }
    if (sg_sentinel_start(&sentinel, servers[0].port, MASTER_NAME, NULL) != 0)
        return -1;
    /* the Sentinel must know the replica before it can fail over to it */
    for (i = 0; i < 750 && sentinel_int("SENTINEL replicas " MASTER_NAME) != 1; i++)
        sg_sleep_ms(20);
    if (i == 750) {
        fprintf(stderr, "test_sentinel: the Sentinel never saw the replica\n");
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    sg_redis_destroy(&sentinel);
    sg_redis_destroy(&servers[1]);
    sg_redis_destroy(&servers[0]);
    return 0;
}

/* A store on the policy TEXT ("redis = sentinel://..." and more lines). */
static struct sg_store *store_for(struct sg_policy **pp, const char *text)
{
    struct sg_store *s = NULL;

    assert_int_equal(sg_policy_load_string("sentinel-policy", text, pp, NULL, NULL), SG_OK);
    assert_int_equal(sg_store_open(*pp, &s), SG_OK);
    return s;
}

static int report_failure(struct sg_store *s, const char *account)
{
    struct sg_store_attempt a = { .account = account };
    struct sg_store_state st;

    return sg_store_report(s, &a, SG_REPORT_FAILURE, "bad_credentials", &st);
}

static const struct sg_redis_fixture *current_master(void)
{
    int port = master_port(&sentinel);

    return port == servers[0].port ? &servers[0] : port == servers[1].port ? &servers[1] : NULL;
}

static void test_finds_the_master(void **state)
{
    char text[512];
    struct sg_policy *p;
    struct sg_store *s;
    struct sg_store_state st;

    (void)state;
    /* the first Sentinel listed is down: the next one answers */
    snprintf(text, sizeof text, "redis = sentinel://127.0.0.1:1,127.0.0.1:%d/%s\n"
             "redis_timeout = 1s\n", sentinel.port, MASTER_NAME);
    s = store_for(&p, text);
    assert_int_equal(report_failure(s, "amy"), SG_OK);
    assert_int_equal(report_failure(s, "amy"), SG_OK);
    assert_int_equal(sg_redis_int(current_master(), "HGET sg:a:amy n"), 2);
    assert_int_equal(sg_store_peek(s, "amy", NULL, &st), SG_OK);
    assert_int_equal(st.failures, 2);
    sg_store_close(s);
    sg_policy_free(p);
}

static void test_errors_name_the_problem(void **state)
{
    char text[512];
    struct sg_policy *p;
    struct sg_store *s;

    (void)state;
    snprintf(text, sizeof text, "redis = sentinel://127.0.0.1:%d/nope\n", sentinel.port);
    s = store_for(&p, text);
    assert_int_equal(report_failure(s, "amy"), SG_ESTORE);
    assert_non_null(strstr(sg_store_error(s), "redis sentinel: no Sentinel named master 'nope'"));
    assert_non_null(strstr(sg_store_error(s), "does not know the master"));
    sg_store_close(s);
    sg_policy_free(p);

    s = store_for(&p, "redis = sentinel://127.0.0.1:1,127.0.0.1:2/" MASTER_NAME "\n");
    assert_int_equal(report_failure(s, "amy"), SG_ESTORE);
    assert_non_null(strstr(sg_store_error(s), "(last: 127.0.0.1:2: Connection refused)"));
    sg_store_close(s);
    sg_policy_free(p);
}

static void test_follows_a_failover(void **state)
{
    char text[512], r0[16] = "", r1[16] = "", *ok;
    struct sg_policy *p;
    struct sg_store *s;
    struct sg_policy *p2;
    struct sg_store *s2;
    const struct sg_redis_fixture *before, *after;
    redisContext *c;
    redisReply *r;
    int i;

    (void)state;
    snprintf(text, sizeof text, "redis = sentinel://127.0.0.1:%d/%s\nredis_timeout = 1s\n",
             sentinel.port, MASTER_NAME);
    s = store_for(&p, text);
    assert_int_equal(report_failure(s, "ben"), SG_OK);
    before = current_master();
    assert_non_null(before);

    /* a Sentinel promotes only a replica it has pinged and read INFO from
     * lately (NOGOODSLAVE until then): ask until it starts */
    c = sg_redis_connect(&sentinel);
    assert_non_null(c);
    for (i = 0; i < 750; i++) {
        int started;

        r = redisCommand(c, "SENTINEL failover %s", MASTER_NAME);
        assert_non_null(r);
        started = r->type == REDIS_REPLY_STATUS;
        if (!started && strncmp(r->str, "NOGOODSLAVE", 11) != 0)
            fprintf(stderr, "SENTINEL failover: %s\n", r->str);
        freeReplyObject(r);
        if (started)
            break;
        sg_sleep_ms(20);
    }
    redisFree(c);
    assert_true(i < 750);
    /* wait until the Sentinel names the other server and it is a master */
    for (i = 0; i < 1000; i++) {
        after = current_master();
        role(after ? after : before, r1, sizeof r1);
        if (after && after != before && strcmp(r1, "master") == 0)
            break;
        sg_sleep_ms(20);
    }
    assert_true(i < 1000);
    /* the old master becomes its replica: what the Sentinel does at its
     * next look at it (up to 10 s later), done here at once */
    ok = sg_redis_str(before, "REPLICAOF 127.0.0.1 %d", after->port);
    assert_non_null(ok);
    assert_string_equal(ok, "OK");
    free(ok);
    role(before, r0, sizeof r0);
    assert_string_equal(r0, "slave");

    /* the store still holds its connection to the old master, now a
     * replica: the next call gets there READONLY (or a closed connection)
     * and goes to the new master within the call */
    if (report_failure(s, "ben") != SG_OK)
        fail_msg("after the failover: %s", sg_store_error(s));
    assert_int_equal(sg_redis_int(after, "HGET sg:a:ben n"), 2);   /* replicated, then counted */
    /* a fresh store goes straight to the new master */
    s2 = store_for(&p2, text);
    assert_int_equal(report_failure(s2, "ben"), SG_OK);
    assert_int_equal(sg_redis_int(after, "HGET sg:a:ben n"), 3);
    sg_store_close(s2);
    sg_policy_free(p2);
    sg_store_close(s);
    sg_policy_free(p);
}

static void test_sentinel_with_password(void **state)
{
    struct sg_redis_fixture guarded;
    char text[1024], pwfile[300];
    struct sg_policy *p;
    struct sg_store *s;
    const struct sg_redis_fixture *m = current_master();
    int fd;

    (void)state;
    assert_non_null(m);
    assert_int_equal(sg_sentinel_start(&guarded, m->port, MASTER_NAME, "s3ntinel-pass"), 0);
    snprintf(pwfile, sizeof pwfile, "%s/sentinel.pass", guarded.dir);
    fd = open(pwfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "s3ntinel-pass\n", 14), 14);
    close(fd);

    /* without the password the Sentinel refuses, and the message says so */
    snprintf(text, sizeof text, "redis = sentinel://127.0.0.1:%d/%s\n", guarded.port,
             MASTER_NAME);
    s = store_for(&p, text);
    assert_int_equal(report_failure(s, "cy"), SG_ESTORE);
    assert_non_null(strstr(sg_store_error(s), "redis sentinel: no Sentinel named master"));
    assert_non_null(strstr(sg_store_error(s), "NOAUTH"));
    sg_store_close(s);
    sg_policy_free(p);

    snprintf(text, sizeof text, "redis = sentinel://127.0.0.1:%d/%s\n"
             "redis_sentinel_password_file = %s\n", guarded.port, MASTER_NAME, pwfile);
    s = store_for(&p, text);
    assert_int_equal(report_failure(s, "cy"), SG_OK);
    assert_int_equal(sg_redis_int(m, "HGET sg:a:cy n"), 1);
    sg_store_close(s);
    sg_policy_free(p);

    /* a password file others can read is refused */
    chmod(pwfile, 0604);
    s = store_for(&p, text);
    assert_int_equal(report_failure(s, "cy"), SG_ESTORE);
    assert_non_null(strstr(sg_store_error(s), "readable by others"));
    sg_store_close(s);
    sg_policy_free(p);
    sg_redis_destroy(&guarded);
}

/* The master the Sentinel names is down (before any failover): the
 * message names that master. */
static void test_master_down_is_named(void **state)
{
    char text[512], want[128];
    struct sg_policy *p;
    struct sg_store *s;
    struct sg_redis_fixture *m = (struct sg_redis_fixture *)current_master();

    (void)state;
    assert_non_null(m);
    sg_redis_stop(m);
    snprintf(text, sizeof text, "redis = sentinel://127.0.0.1:%d/%s\n", sentinel.port,
             MASTER_NAME);
    s = store_for(&p, text);
    assert_int_equal(report_failure(s, "dee"), SG_ESTORE);
    snprintf(want, sizeof want, "master 127.0.0.1:%d (named by a Sentinel): Connection refused",
             m->port);
    assert_non_null(strstr(sg_store_error(s), want));
    sg_store_close(s);
    sg_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_finds_the_master),
        cmocka_unit_test(test_errors_name_the_problem),
        cmocka_unit_test(test_follows_a_failover),
        cmocka_unit_test(test_sentinel_with_password),
        cmocka_unit_test(test_master_down_is_named),
    };
    return cmocka_run_group_tests_name("sentinel", tests, group_setup, group_teardown);
}
