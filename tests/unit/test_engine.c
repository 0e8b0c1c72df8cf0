/*
 * test_engine.c - the decision engine's logic, with the store replaced by
 * cmocka mocks (linked with ld --wrap=sg_store_check,--wrap=sg_store_report).
 *
 * Covers the reply table (result -> SASL and PAM code), that refusals never
 * reach the verifier, what is reported after each verification, and the
 * store_failure modes. The same behaviour against a real Redis is proven in
 * tests/integration/test_engine_redis.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <sasl/sasl.h>
#include <security/pam_appl.h>

#include "engine.h"
#include "status.h"
#include "store.h"

int __wrap_sg_store_check(struct sg_store *s, const struct sg_store_attempt *a,
                          struct sg_store_state *out);
int __wrap_sg_store_report(struct sg_store *s, const struct sg_store_attempt *a,
                           enum sg_report_kind kind, const char *stat, struct sg_store_state *out);

int __wrap_sg_store_report_deferred(struct sg_store *s, const struct sg_store_attempt *a,
                                    const char *stat);

/* A deferred success report is a report whose state nobody reads. */
int __wrap_sg_store_report_deferred(struct sg_store *s, const struct sg_store_attempt *a,
                                    const char *stat)
{
    struct sg_store_state st;

    return __wrap_sg_store_report(s, a, SG_REPORT_SUCCESS, stat, &st);
}

int __wrap_sg_store_check(struct sg_store *s, const struct sg_store_attempt *a,
                          struct sg_store_state *out)
{
    const char *account = a->account;
    const char *source = a->source && a->source_counted ? a->source : NULL;

    (void)s;
    check_expected_ptr(account);
    check_expected_ptr(source);
    memset(out, 0, sizeof *out);
    out->state = (enum sg_check_state)mock_type(int);
    out->failures = mock_type(long);
    out->until_ms = mock_type(int64_t);
    return mock_type(int);
}

int __wrap_sg_store_report(struct sg_store *s, const struct sg_store_attempt *a,
                           enum sg_report_kind kind, const char *stat, struct sg_store_state *out)
{
    (void)s;
    (void)stat;
    (void)a;
    check_expected(kind);
    memset(out, 0, sizeof *out);
    out->state = (enum sg_check_state)mock_type(int);
    out->failures = mock_type(long);
    out->until_ms = mock_type(int64_t);
    return mock_type(int);
}

static void will_check(int state, long failures, int64_t until, int rc)
{
    will_return(__wrap_sg_store_check, state);
    will_return(__wrap_sg_store_check, failures);
    will_return(__wrap_sg_store_check, until);
    will_return(__wrap_sg_store_check, rc);
}

static void will_report(enum sg_report_kind kind, int state, long failures, int64_t until, int rc)
{
    expect_value(__wrap_sg_store_report, kind, kind);
    will_return(__wrap_sg_store_report, state);
    will_return(__wrap_sg_store_report, failures);
    will_return(__wrap_sg_store_report, until);
    will_return(__wrap_sg_store_report, rc);
}

static enum sg_verify verify(void *ctx, const char *a, size_t al, const char *p, size_t pl)
{
    (void)a;
    (void)al;
    (void)p;
    (void)pl;
    (*(int *)ctx)++;
    return (enum sg_verify)mock_type(int);
}

static struct sg_engine *make(const char *text)
{
    struct sg_policy *p = NULL;
    struct sg_engine *e = NULL;

    assert_int_equal(sg_policy_load_string("unit", text, &p, NULL, NULL), SG_OK);
    assert_int_equal(sg_engine_new_from_policy(p, NULL, NULL, &e), SG_OK);
    return e;
}

static enum sg_result run(struct sg_engine *e, const char *client, int *calls, struct sg_decision *d)
{
    struct sg_attempt a = { "alice", 5, "pw", 2, client, "PLAIN" };
    return sg_engine_decide(e, &a, verify, calls, d);
}

static void expect_keys(const char *account, const char *source)
{
    expect_string(__wrap_sg_store_check, account, account);
    if (source)
        expect_string(__wrap_sg_store_check, source, source);
    else
        expect_value(__wrap_sg_store_check, source, NULL);
}

static void test_reply_table(void **state)
{
    static const struct { enum sg_result r; int sasl; int pam; const char *name; } rows[] = {
        { SG_RESULT_SUCCESS, SASL_OK, PAM_SUCCESS, "success" },
        { SG_RESULT_BAD_CREDENTIALS, SASL_BADAUTH, PAM_AUTH_ERR, "bad_credentials" },
        { SG_RESULT_LOCKED, SASL_TRYAGAIN, PAM_MAXTRIES, "locked" },
        { SG_RESULT_THROTTLED, SASL_TRYAGAIN, PAM_MAXTRIES, "throttled" },
        { SG_RESULT_DISABLED, SASL_DISABLED, PAM_PERM_DENIED, "disabled" },
        { SG_RESULT_APP_PASSWORD_REQUIRED, SASL_NOUSERPASS, PAM_AUTH_ERR, "app_password_required" },
        { SG_RESULT_STORE_UNAVAILABLE, SASL_UNAVAIL, PAM_AUTHINFO_UNAVAIL, "store_unavailable" },
        { SG_RESULT_CONFIG_ERROR, SASL_UNAVAIL, PAM_SERVICE_ERR, "config_error" },
    };

    (void)state;
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        assert_int_equal(sg_result_sasl_code(rows[i].r), rows[i].sasl);
        assert_int_equal(sg_result_pam_code(rows[i].r), rows[i].pam);
        assert_string_equal(sg_result_name(rows[i].r), rows[i].name);
        assert_int_equal(sg_result_from_name(rows[i].name), rows[i].r);
    }
    assert_int_equal(sg_result_from_name("nonsense"), -1);
    /* a SASL password check's result, as every front end reads it */
    assert_int_equal(sg_verify_from_sasl(SASL_OK), SG_VERIFY_OK);
    assert_int_equal(sg_verify_from_sasl(SASL_BADAUTH), SG_VERIFY_BAD);
    assert_int_equal(sg_verify_from_sasl(SASL_NOUSER), SG_VERIFY_BAD);
    assert_int_equal(sg_verify_from_sasl(SASL_DISABLED), SG_VERIFY_BAD);
    assert_int_equal(sg_verify_from_sasl(SASL_UNAVAIL), SG_VERIFY_UNAVAIL);
    assert_int_equal(sg_verify_from_sasl(SASL_FAIL), SG_VERIFY_UNAVAIL);
    assert_string_equal(sg_result_name((enum sg_result)999), "error");
}

static void test_success_reports_success(void **state)
{
    struct sg_engine *e = make("trusted_networks =\n");
    struct sg_decision d;
    int calls = 0;

    (void)state;
    expect_keys("alice", "192.0.2.0/32");
    will_check(SG_STATE_ALLOWED, 2, 0, SG_OK);
    will_return(verify, SG_VERIFY_OK);
    will_report(SG_REPORT_SUCCESS, SG_STATE_ALLOWED, 0, 0, SG_OK);
    assert_int_equal(run(e, "192.0.2.0;25", &calls, &d), SG_RESULT_SUCCESS);
    assert_int_equal(calls, 1);
    assert_int_equal(d.failures, 0);
    sg_engine_free(e);
}

static void test_refusals_skip_verifier(void **state)
{
    static const struct { int st; enum sg_result r; } rows[] = {
        { SG_STATE_ACCOUNT_LOCKED, SG_RESULT_LOCKED },
        { SG_STATE_ACCOUNT_DISABLED, SG_RESULT_DISABLED },
        { SG_STATE_SOURCE_BLOCKED, SG_RESULT_THROTTLED },
    };
    struct sg_engine *e = make("trusted_networks =\n");
    struct sg_decision d;
    int calls = 0;

    (void)state;
    for (size_t i = 0; i < 3; i++) {
        expect_keys("alice", "192.0.2.9/32");
        will_check(rows[i].st, 5, 1700000000000LL, SG_OK);
        assert_int_equal(run(e, "192.0.2.9;1", &calls, &d), rows[i].r);
        assert_int_equal(d.until_ms, 1700000000000LL);
        assert_int_equal(d.failures, 5);
    }
    assert_int_equal(calls, 0);
    sg_engine_free(e);
}

static void test_failure_reported(void **state)
{
    struct sg_engine *e = make("trusted_networks =\nipv4_prefix = 24\n");
    struct sg_decision d;
    int calls = 0;

    (void)state;
    expect_keys("alice", "198.51.100.0/24");
    will_check(SG_STATE_ALLOWED, 0, 0, SG_OK);
    will_return(verify, SG_VERIFY_BAD);
    will_report(SG_REPORT_FAILURE, SG_STATE_ACCOUNT_LOCKED, 5, 42, SG_OK);
    assert_int_equal(run(e, "198.51.100.77;1", &calls, &d), SG_RESULT_BAD_CREDENTIALS);
    assert_int_equal(d.failures, 5);
    assert_int_equal(d.until_ms, 42);
    assert_string_equal(d.source, "198.51.100.0/24");
    sg_engine_free(e);
}

static void test_trusted_and_missing_source_not_counted(void **state)
{
    struct sg_engine *e = make("trusted_networks = 192.0.2.0/24\n");
    struct sg_decision d;
    int calls = 0;

    (void)state;
    expect_keys("alice", NULL);   /* trusted: no source key */
    will_check(SG_STATE_ALLOWED, 0, 0, SG_OK);
    will_return(verify, SG_VERIFY_BAD);
    will_report(SG_REPORT_FAILURE, SG_STATE_ALLOWED, 1, 0, SG_OK);
    run(e, "192.0.2.1;1", &calls, &d);
    assert_string_equal(d.source, "192.0.2.1/32");

    expect_keys("alice", NULL);   /* unparsable client: account-only */
    will_check(SG_STATE_ALLOWED, 0, 0, SG_OK);
    will_return(verify, SG_VERIFY_BAD);
    will_report(SG_REPORT_FAILURE, SG_STATE_ALLOWED, 2, 0, SG_OK);
    run(e, "not-an-address", &calls, &d);
    assert_string_equal(d.source, "");
    sg_engine_free(e);
}

static void test_store_modes(void **state)
{
    struct sg_engine *t = make("store_failure = tempfail\n");
    struct sg_engine *o = make("store_failure = open\n");
    struct sg_engine *c = make("store_failure = closed\n");
    struct sg_decision d;
    int calls = 0;

    (void)state;
    expect_keys("alice", NULL);
    will_check(0, 0, 0, SG_ESTORE);
    assert_int_equal(run(t, NULL, &calls, &d), SG_RESULT_STORE_UNAVAILABLE);
    expect_keys("alice", NULL);
    will_check(0, 0, 0, SG_ESTORE);
    assert_int_equal(run(c, NULL, &calls, &d), SG_RESULT_STORE_CLOSED);
    assert_int_equal(calls, 0);
    expect_keys("alice", NULL);
    will_check(0, 0, 0, SG_ESTORE);
    will_return(verify, SG_VERIFY_OK);
    assert_int_equal(run(o, NULL, &calls, &d), SG_RESULT_SUCCESS);   /* no report */
    assert_int_equal(calls, 1);
    sg_engine_free(t);
    sg_engine_free(o);
    sg_engine_free(c);
}

static void test_report_failure_keeps_verdict(void **state)
{
    struct sg_engine *e = make("");
    struct sg_decision d;
    int calls = 0;

    (void)state;
    expect_keys("alice", NULL);
    will_check(SG_STATE_ALLOWED, 0, 0, SG_OK);
    will_return(verify, SG_VERIFY_OK);
    will_report(SG_REPORT_SUCCESS, 0, 0, 0, SG_ESTORE);
    assert_int_equal(run(e, NULL, &calls, &d), SG_RESULT_SUCCESS);
    sg_engine_free(e);
}

static void test_empty_account(void **state)
{
    struct sg_engine *e = make("");
    struct sg_attempt a = { "", 0, "pw", 2, NULL, "PLAIN" };
    struct sg_decision d;
    int calls = 0;

    (void)state;
    assert_int_equal(sg_engine_decide(e, &a, verify, &calls, &d), SG_RESULT_BAD_CREDENTIALS);
    assert_int_equal(calls, 0);
    sg_engine_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reply_table),
        cmocka_unit_test(test_success_reports_success),
        cmocka_unit_test(test_refusals_skip_verifier),
        cmocka_unit_test(test_failure_reported),
        cmocka_unit_test(test_trusted_and_missing_source_not_counted),
        cmocka_unit_test(test_store_modes),
        cmocka_unit_test(test_report_failure_keeps_verdict),
        cmocka_unit_test(test_empty_account),
    };
    return cmocka_run_group_tests_name("engine", tests, NULL, NULL);
}
