/*
 * test_app_admin.c - two-factor flags and app-password records against a
 * real redis-server.
 *
 * What saslguard(8) relies on: add refuses a label in use and a 21st
 * active record; list parses what add and revoke wrote (and skips hostile
 * values); revoke moves a record so that the label is free and check.lua
 * still finds the digest as revoked; the records add writes are the ones
 * check.lua matches; record states and the "needs an app password" rule.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_admin.h"
#include "app_password.h"
#include "policy.h"
#include "redis_fixture.h"
#include "secret.h"
#include "status.h"
#include "store.h"


struct ctx {
    struct sg_policy *policy;
    struct sg_store *store;
    struct sg_secret secret;
};

static int setup(void **state)
{
    struct ctx *c = calloc(1, sizeof *c);

    assert_non_null(c);
    sg_redis_flush(&sg_redis);
    c->policy = sg_fixture_policy(&sg_redis, "");
    assert_non_null(c->policy);
    assert_int_equal(sg_store_open(c->policy, &c->store), SG_OK);
    memset(c->secret.key, 0x5a, 48);
    c->secret.len = 48;
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    struct ctx *c = *state;

    sg_store_close(c->store);
    sg_policy_free(c->policy);
    free(c);
    return 0;
}

static void digest_of(struct ctx *c, const char *account, const char *letters,
                      char hex[SG_DIGEST_HEX])
{
    assert_int_equal(sg_app_password_digest(&c->secret, account, letters, hex), SG_OK);
}

static int add(struct ctx *c, const char *account, const char *label, const char *letters,
               int64_t now, int64_t expires, int *exists, int *full)
{
    char hex[SG_DIGEST_HEX];

    digest_of(c, account, letters, hex);
    return sg_app_add(c->store, account, label, hex, now, expires, exists, full);
}

/* check.lua's verdict on LETTERS for ACCOUNT (a real login attempt). */
static enum sg_app_match check_letters(struct ctx *c, const char *account, const char *letters,
                                       char label[SG_STORE_LABEL_MAX + 1])
{
    char hex[SG_DIGEST_HEX];
    struct sg_store_attempt a;
    struct sg_store_state st;

    digest_of(c, account, letters, hex);
    memset(&a, 0, sizeof a);
    a.account = account;
    a.app_digest = hex;
    assert_int_equal(sg_store_check(c->store, &a, &st), SG_OK);
    if (label)
        strcpy(label, st.app_label);
    return st.app_match;
}

static void test_mfa_flag(void **state)
{
    struct ctx *c = *state;
    int on = -1;

    assert_int_equal(sg_app_mfa_get(c->store, "alice", &on), SG_OK);
    assert_int_equal(on, 0);
    assert_int_equal(sg_app_mfa_set(c->store, "alice", 1), SG_OK);
    assert_int_equal(sg_app_mfa_get(c->store, "alice", &on), SG_OK);
    assert_int_equal(on, 1);
    assert_int_equal(sg_redis_int(&sg_redis, "HEXISTS sg:u:alice mfa"), 1);
    assert_int_equal(sg_app_mfa_set(c->store, "alice", 0), SG_OK);
    assert_int_equal(sg_app_mfa_get(c->store, "alice", &on), SG_OK);
    assert_int_equal(on, 0);
    assert_int_equal(sg_redis_int(&sg_redis, "HEXISTS sg:u:alice mfa"), 0);
}

static void test_add_list_and_match(void **state)
{
    struct ctx *c = *state;
    struct sg_app_record recs[8];
    char label[SG_STORE_LABEL_MAX + 1];
    size_t n;
    int exists, full;

    assert_int_equal(add(c, "alice", "phone", "abcdefghijklmnop", 1000, 0, &exists, &full), SG_OK);
    assert_int_equal(add(c, "alice", "laptop", "ponmlkjihgfedcba", 2000, 4102444800000LL,
                         &exists, &full), SG_OK);
    /* the same label again: refused, whatever the password */
    assert_int_equal(add(c, "alice", "phone", "qqqqqqqqqqqqqqqq", 3000, 0, &exists, &full),
                     SG_EINVAL);
    assert_int_equal(exists, 1);
    assert_int_equal(full, 0);
    /* a bad label never reaches Redis */
    assert_int_equal(add(c, "alice", "bad label", "abcdefghijklmnop", 3000, 0, &exists, &full),
                     SG_EINVAL);
    assert_int_equal(exists, 0);

    assert_int_equal(sg_app_list(c->store, "alice", recs, 8, &n), SG_OK);
    assert_int_equal(n, 2);
    assert_string_equal(recs[0].label, "laptop");
    assert_int_equal(recs[0].created_ms, 2000);
    assert_int_equal(recs[0].expires_ms, 4102444800000LL);
    assert_string_equal(recs[1].label, "phone");
    assert_int_equal(recs[1].revoked, 0);
    assert_int_equal(recs[1].last_use_ms, 0);
    assert_string_equal(recs[1].last_source, "");

    /* what add wrote is what check.lua matches, and it records the use */
    assert_int_equal(check_letters(c, "alice", "abcdefghijklmnop", label), SG_APP_OK);
    assert_string_equal(label, "phone");
    assert_int_equal(check_letters(c, "bob", "abcdefghijklmnop", NULL), SG_APP_NONE);
    assert_int_equal(sg_app_list(c->store, "alice", recs, 8, &n), SG_OK);
    assert_true(recs[1].last_use_ms > 0);
}

static void test_revoke(void **state)
{
    struct ctx *c = *state;
    struct sg_app_record recs[8];
    char label[SG_STORE_LABEL_MAX + 1];
    size_t n, revoked;
    int exists, full;

    assert_int_equal(add(c, "alice", "phone", "abcdefghijklmnop", 1000, 0, &exists, &full), SG_OK);
    assert_int_equal(add(c, "alice", "tablet", "tabletabletablet", 1000, 0, &exists, &full), SG_OK);
    assert_int_equal(sg_app_revoke(c->store, "alice", "phone", 5000, &revoked), SG_OK);
    assert_int_equal(revoked, 1);
    assert_int_equal(sg_app_revoke(c->store, "alice", "phone", 5000, &revoked), SG_ENOTFOUND);
    assert_int_equal(sg_app_revoke(c->store, "alice", "nosuch", 5000, &revoked), SG_ENOTFOUND);
    assert_int_equal(sg_redis_int(&sg_redis, "HEXISTS sg:u:alice p:phone"), 0);
    assert_int_equal(sg_redis_int(&sg_redis, "HEXISTS sg:u:alice r:phone:5000"), 1);

    /* check.lua still knows it, as revoked, under its label */
    assert_int_equal(check_letters(c, "alice", "abcdefghijklmnop", label), SG_APP_REVOKED);
    assert_string_equal(label, "phone");

    assert_int_equal(sg_app_list(c->store, "alice", recs, 8, &n), SG_OK);
    assert_int_equal(n, 2);
    assert_string_equal(recs[0].label, "tablet");         /* active first */
    assert_string_equal(recs[1].label, "phone");
    assert_int_equal(recs[1].revoked, 1);
    assert_int_equal(recs[1].revoked_ms, 5000);
    assert_int_equal(sg_app_record_state(&recs[1], 6000), SG_APP_STATE_REVOKED);

    /* the label is free again */
    assert_int_equal(add(c, "alice", "phone", "newnewnewnewnewn", 6000, 0, &exists, &full), SG_OK);
    assert_int_equal(sg_app_revoke(c->store, "alice", NULL, 7000, &revoked), SG_OK);
    assert_int_equal(revoked, 2);
    assert_int_equal(sg_app_revoke(c->store, "alice", NULL, 7000, &revoked), SG_ENOTFOUND);
    assert_int_equal(revoked, 0);
    assert_int_equal(sg_app_list(c->store, "alice", recs, 8, &n), SG_OK);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(recs[i].revoked, 1);
}

static void test_at_most_twenty(void **state)
{
    struct ctx *c = *state;
    char label[16];
    int exists, full;

    for (int i = 0; i < SG_APP_MAX_ACTIVE; i++) {
        snprintf(label, sizeof label, "dev%d", i);
        assert_int_equal(add(c, "alice", label, "abcdefghijklmnop", 1000, 0, &exists, &full),
                         SG_OK);
    }
    assert_int_equal(add(c, "alice", "one-more", "abcdefghijklmnop", 1000, 0, &exists, &full),
                     SG_EINVAL);
    assert_int_equal(full, 1);
    assert_int_equal(exists, 0);
}

static void test_hostile_records_skipped(void **state)
{
    struct ctx *c = *state;
    struct sg_app_record recs[8];
    size_t n, revoked;
    int exists, full;

    assert_int_equal(sg_redis_int(&sg_redis, "HSET sg:u:alice p:junk %s", "not a record"), 1);
    assert_int_equal(sg_redis_int(&sg_redis, "HSET sg:u:alice p:huge %s",
                                  "v1|a|00|1|1|1|xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                                  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx|0"), 1);
    assert_int_equal(sg_redis_int(&sg_redis, "HSET sg:u:alice r: %s", "v1|r|00|1|1|1||1"), 1);
    assert_int_equal(sg_app_list(c->store, "alice", recs, 8, &n), SG_OK);
    assert_int_equal(n, 0);
    assert_int_equal(sg_app_revoke(c->store, "alice", NULL, 7000, &revoked), SG_ENOTFOUND);
    assert_int_equal(add(c, "alice", "phone", "abcdefghijklmnop", 1000, 0, &exists, &full), SG_OK);
    assert_int_equal(sg_app_list(c->store, "alice", recs, 8, &n), SG_OK);
    assert_int_equal(n, 1);
}

static void test_states_and_need(void **state)
{
    struct ctx *c = *state;
    struct sg_app_record r;

    memset(&r, 0, sizeof r);
    assert_int_equal(sg_app_record_state(&r, 5000), SG_APP_STATE_ACTIVE);
    r.expires_ms = 5000;
    assert_int_equal(sg_app_record_state(&r, 4999), SG_APP_STATE_ACTIVE);
    assert_int_equal(sg_app_record_state(&r, 5000), SG_APP_STATE_EXPIRED);   /* as check.lua */
    r.revoked = 1;
    assert_int_equal(sg_app_record_state(&r, 1), SG_APP_STATE_REVOKED);
    assert_string_equal(sg_app_state_name(SG_APP_STATE_EXPIRED), "expired");

    assert_int_equal(sg_app_needed(c->policy, 0), SG_APP_NEED_NONE);     /* per-account */
    assert_int_equal(sg_app_needed(c->policy, 1), SG_APP_NEED_MFA);
    c->policy->app_passwords = SG_APP_REQUIRED;
    assert_int_equal(sg_app_needed(c->policy, 0), SG_APP_NEED_POLICY);
    c->policy->app_passwords = SG_APP_OFF;
    assert_int_equal(sg_app_needed(c->policy, 1), SG_APP_NEED_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mfa_flag, setup, teardown),
        cmocka_unit_test_setup_teardown(test_add_list_and_match, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revoke, setup, teardown),
        cmocka_unit_test_setup_teardown(test_at_most_twenty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_records_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_states_and_need, setup, teardown),
    };

    return cmocka_run_group_tests(tests, sg_redis_group_setup, sg_redis_group_teardown);
}
