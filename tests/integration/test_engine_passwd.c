/*
 * test_engine_passwd.c - the decision engine with password_source = file:
 * against a real redis-server.
 *
 * The engine verifies against the file and never calls the front end's
 * verifier; a locked account costs no hashing (the point of a slow hash
 * behind a pre-check); an unknown account is hashed and counted like a
 * known one; the file's mfa flag asks for an app password; a file that
 * does not load is a configuration error; a change is picked up.
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

#include <sasl/sasl.h>

#include "engine.h"
#include "passwd_file.h"
#include "redis_fixture.h"
#include "status.h"

static struct sg_redis_fixture redis;
static char dir[64], path[128];
static char h_alice[SG_PASSWD_HASH_MAX];

/* ---- the front end's verifier: must never be called with file: ---- */
static int frontend_calls;

static enum sg_verify frontend_verify(void *ctx, const char *account, size_t alen,
                                      const char *password, size_t plen)
{
    (void)ctx;
    (void)account;
    (void)alen;
    (void)password;
    (void)plen;
    frontend_calls++;
    return SG_VERIFY_OK;    /* would let anyone in */
}

static char lines[64][600];
static int nlines;

static void capture(void *ctx, enum sg_log_level lvl, const char *line)
{
    (void)ctx;
    (void)lvl;
    if (nlines < 64)
        snprintf(lines[nlines++], sizeof lines[0], "%s", line);
}

static const char *last_line(void)
{
    return nlines ? lines[nlines - 1] : "";
}

static int logged(const char *needle)
{
    for (int i = 0; i < nlines; i++)
        if (strstr(lines[i], needle))
            return 1;
    return 0;
}

static void write_passwd(const char *text)
{
    char tmp[160];
    int fd;

    snprintf(tmp, sizeof tmp, "%s.new", path);
    assert_true((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0640)) >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    assert_int_equal(close(fd), 0);
    assert_int_equal(rename(tmp, path), 0);
}

/* An engine on the fixture with password_source = file:PATH and EXTRA. */
static int make_engine(const char *extra, struct sg_engine **e)
{
    char text[1024];
    struct sg_policy *p;
    int rc;

    sg_redis_flush(&redis);
    snprintf(text, sizeof text, "password_source = file:%s\naccount_failures = 3\n"
             "trusted_networks =\n%s", path, extra);
    assert_non_null(p = sg_fixture_policy(&redis, text));
    nlines = 0;
    rc = sg_engine_new_from_policy(p, capture, NULL, e);
    frontend_calls = 0;
    return rc;
}

static struct sg_engine *engine(const char *extra)
{
    struct sg_engine *e;

    assert_int_equal(make_engine(extra, &e), SG_OK);
    nlines = 0;
    return e;
}

static enum sg_result attempt(struct sg_engine *e, const char *user, const char *pw,
                              const char *client, struct sg_decision *d)
{
    struct sg_attempt a = { user, strlen(user), pw, strlen(pw), client, "PLAIN" };

    return sg_engine_decide(e, &a, frontend_verify, NULL, d);
}

static unsigned long hashes(struct sg_engine *e)
{
    struct sg_passwd_file_stats st;

    sg_passwd_file_stats(sg_engine_passwd_file(e), &st);
    return st.hashes;
}

static int group_setup(void **state)
{
    char text[SG_PASSWD_HASH_MAX + 64];

    (void)state;
    snprintf(dir, sizeof dir, "/tmp/test_engine_passwd.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/passwd", dir);
    if (sg_passwd_hash(SG_PWS_YESCRYPT, "s3cret", 6, h_alice) != SG_OK)
        return -1;
    snprintf(text, sizeof text, "alice:%s\ncarol:{PLAIN}c4rol:mfa\n", h_alice);
    write_passwd(text);
    return sg_redis_start(&redis);
}

static int group_teardown(void **state)
{
    char p[200];

    (void)state;
    sg_redis_destroy(&redis);
    snprintf(p, sizeof p, "%s.lock", path);
    unlink(p);
    unlink(path);
    rmdir(dir);
    return 0;
}

static void test_file_decides_not_the_front_end(void **state)
{
    struct sg_engine *e = engine("");
    struct sg_decision d;

    (void)state;
    assert_int_equal(attempt(e, "alice", "s3cret", "192.0.2.7;1", &d), SG_RESULT_SUCCESS);
    assert_int_equal(d.sasl_code, SASL_OK);
    assert_int_equal(attempt(e, "alice", "wrong", "192.0.2.7;1", &d), SG_RESULT_BAD_CREDENTIALS);
    assert_int_equal(d.sasl_code, SASL_BADAUTH);
    assert_int_equal(d.failures, 1);
    assert_int_equal(frontend_calls, 0);
    assert_int_equal(hashes(e), 2);
    sg_engine_free(e);
}

/* Under attack a locked account costs no hashing at all. */
static void test_locked_account_costs_no_hashing(void **state)
{
    struct sg_engine *e = engine("");
    struct sg_decision d;

    (void)state;
    for (int i = 1; i <= 3; i++)
        assert_int_equal(attempt(e, "alice", "guess", "198.51.100.1;1", &d),
                         SG_RESULT_BAD_CREDENTIALS);
    assert_int_equal(hashes(e), 3);
    for (int i = 0; i < 50; i++)
        assert_int_equal(attempt(e, "alice", i ? "guess" : "s3cret", "198.51.100.1;1", &d),
                         SG_RESULT_LOCKED);
    assert_int_equal(hashes(e), 3);
    assert_int_equal(frontend_calls, 0);
    sg_engine_free(e);
}

static void test_unknown_account_like_a_known_one(void **state)
{
    struct sg_engine *e = engine("");
    struct sg_passwd_file_stats st;
    struct sg_decision d;

    (void)state;
    assert_int_equal(attempt(e, "mallory", "s3cret", "192.0.2.9;1", &d),
                     SG_RESULT_BAD_CREDENTIALS);
    assert_int_equal(d.failures, 1);
    assert_string_equal(last_line(), "saslguard: result=bad_credentials account=mallory "
                        "source=192.0.2.9/32 mech=PLAIN failures=1");
    sg_passwd_file_stats(sg_engine_passwd_file(e), &st);
    assert_int_equal(st.hashes, 1);
    assert_int_equal(st.dummies, 1);
    for (int i = 0; i < 2; i++)
        attempt(e, "mallory", "x", "192.0.2.9;1", &d);
    assert_int_equal(attempt(e, "mallory", "y", "192.0.2.9;1", &d), SG_RESULT_LOCKED);
    sg_engine_free(e);
}

static void test_mfa_flag_in_the_file(void **state)
{
    struct sg_engine *e = engine("");
    struct sg_decision d;

    (void)state;
    assert_int_equal(attempt(e, "carol", "c4rol", "192.0.2.10;1", &d),
                     SG_RESULT_APP_PASSWORD_REQUIRED);
    assert_int_equal(d.sasl_code, SASL_NOUSERPASS);
    assert_int_equal(sg_redis_int(&redis, "EXISTS sg:a:carol"), 0);     /* not counted */
    assert_int_equal(attempt(e, "carol", "wrong", "192.0.2.10;1", &d),
                     SG_RESULT_BAD_CREDENTIALS);
    assert_int_equal(d.failures, 1);
    sg_engine_free(e);

    e = engine("app_passwords = off\n");
    assert_int_equal(attempt(e, "carol", "c4rol", "192.0.2.10;1", &d), SG_RESULT_SUCCESS);
    sg_engine_free(e);
}

static void test_broken_file_is_a_config_error(void **state)
{
    char good[4096], want[300];
    struct sg_engine *e = (struct sg_engine *)1;
    struct sg_decision d;
    FILE *f;
    size_t n;

    (void)state;
    assert_non_null(f = fopen(path, "r"));
    n = fread(good, 1, sizeof good - 1, f);
    good[n] = '\0';
    fclose(f);

    write_passwd("alice:{MD5}x\n");
    assert_int_equal(make_engine("", &e), SG_ECONFIG);
    assert_null(e);
    snprintf(want, sizeof want, "saslguard: config error: %s:1: unsupported scheme {MD5}", path);
    assert_true(logged(want));
    assert_int_equal(attempt(NULL, "alice", "s3cret", NULL, &d), SG_RESULT_CONFIG_ERROR);
    assert_int_equal(d.sasl_code, SASL_UNAVAIL);

    chmod(path, 0644);
    assert_int_equal(make_engine("", &e), SG_ECONFIG);
    assert_true(logged("mode 0644 is too open"));
    unlink(path);
    assert_int_equal(make_engine("", &e), SG_ECONFIG);
    assert_true(logged("cannot open: No such file or directory"));
    write_passwd(good);
}

static void test_change_is_picked_up(void **state)
{
    struct sg_engine *e = engine("");
    char h[SG_PASSWD_HASH_MAX], err[600];
    struct sg_decision d;

    (void)state;
    assert_int_equal(attempt(e, "alice", "s3cret", NULL, &d), SG_RESULT_SUCCESS);
    assert_int_equal(sg_passwd_hash(SG_PWS_SHA512, "n3w-one", 7, h), SG_OK);
    assert_int_equal(sg_passwd_file_set(path, "alice", h, NULL, err, sizeof err), SG_OK);
    sleep(1);
    usleep(100 * 1000);
    assert_int_equal(attempt(e, "alice", "n3w-one", NULL, &d), SG_RESULT_SUCCESS);
    assert_int_equal(attempt(e, "alice", "s3cret", NULL, &d), SG_RESULT_BAD_CREDENTIALS);
    assert_int_equal(sg_passwd_file_set(path, "alice", h_alice, NULL, err, sizeof err), SG_OK);
    sg_engine_free(e);
}

/* Redis down, store_failure = open: still the file that verifies. */
static void test_store_down_open_uses_the_file(void **state)
{
    struct sg_engine *e = engine("store_failure = open\n");
    struct sg_decision d;

    (void)state;
    sg_redis_stop(&redis);
    assert_int_equal(attempt(e, "alice", "s3cret", NULL, &d), SG_RESULT_SUCCESS);
    assert_int_equal(attempt(e, "alice", "nope", NULL, &d), SG_RESULT_BAD_CREDENTIALS);
    assert_int_equal(frontend_calls, 0);
    assert_int_equal(sg_redis_restart(&redis), 0);
    sg_engine_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_decides_not_the_front_end),
        cmocka_unit_test(test_locked_account_costs_no_hashing),
        cmocka_unit_test(test_unknown_account_like_a_known_one),
        cmocka_unit_test(test_mfa_flag_in_the_file),
        cmocka_unit_test(test_broken_file_is_a_config_error),
        cmocka_unit_test(test_change_is_picked_up),
        cmocka_unit_test(test_store_down_open_uses_the_file),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
