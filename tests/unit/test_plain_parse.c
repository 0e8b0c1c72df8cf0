/*
 * test_plain_parse.c - unit tests for plugin/plain_parse.c: the RFC 4616
 * PLAIN message forms, every malformed form (missing NULs, empty fields,
 * NUL in the password, overlong fields and messages), the exact length
 * limits, and the LOGIN field checks. Inputs live in heap buffers of their
 * exact length, so an over-read shows up under valgrind or ASan.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "plain_parse.h"

/* An exact-length heap copy of LEN bytes. */
static char *dup_exact(const char *bytes, size_t len)
{
    char *p = malloc(len ? len : 1);

    assert_non_null(p);
    memcpy(p, bytes, len);
    return p;
}

/* A message "Z NUL C NUL P" with fields of the given lengths, filled with
 * 'z', 'c' and 'p'. */
static char *make_msg(size_t zlen, size_t clen, size_t plen, size_t *len)
{
    char *m;

    *len = zlen + 1 + clen + 1 + plen;
    m = malloc(*len);
    assert_non_null(m);
    memset(m, 'z', zlen);
    m[zlen] = '\0';
    memset(m + zlen + 1, 'c', clen);
    m[zlen + 1 + clen] = '\0';
    memset(m + zlen + 2 + clen, 'p', plen);
    return m;
}

static enum sg_parse parse_bytes(const char *bytes, size_t len, struct sg_plain_msg *out)
{
    char *p = dup_exact(bytes, len);
    enum sg_parse st = sg_plain_parse(p, len, out);

    free(p);
    return st;
}

static void expect_bad(const char *bytes, size_t len, enum sg_parse want)
{
    struct sg_plain_msg m;

    memset(&m, 0x5a, sizeof m);
    assert_int_equal(parse_bytes(bytes, len, &m), want);
    /* a refused message leaves nothing pointing into it */
    assert_null(m.authcid);
    assert_null(m.password);
    assert_int_equal(m.authcid_len, 0);
}

#define BYTES(s) (s), (sizeof(s) - 1)

static void test_plain_without_authzid(void **state)
{
    static const char msg[] = "\0alice@example.test\0s3cret";
    char *p = dup_exact(msg, sizeof msg - 1);
    struct sg_plain_msg m;

    (void)state;
    assert_int_equal(sg_plain_parse(p, sizeof msg - 1, &m), SG_PARSE_OK);
    assert_int_equal(m.authzid_len, 0);
    assert_int_equal(m.authcid_len, 18);
    assert_memory_equal(m.authcid, "alice@example.test", 18);
    assert_int_equal(m.password_len, 6);
    assert_memory_equal(m.password, "s3cret", 6);
    assert_ptr_equal(m.authcid, p + 1);
    free(p);
}

static void test_plain_with_authzid(void **state)
{
    char *p = dup_exact(BYTES("bob\0alice\0pw"));
    struct sg_plain_msg m;

    (void)state;
    assert_int_equal(sg_plain_parse(p, 12, &m), SG_PARSE_OK);
    assert_int_equal(m.authzid_len, 3);
    assert_memory_equal(m.authzid, "bob", 3);
    assert_int_equal(m.authcid_len, 5);
    assert_memory_equal(m.authcid, "alice", 5);
    assert_int_equal(m.password_len, 2);
    assert_memory_equal(m.password, "pw", 2);
    free(p);
}

static void test_plain_password_bytes(void **state)
{
    /* any byte but NUL is a password byte: spaces, 0xff, CR LF */
    struct sg_plain_msg m;

    (void)state;
    assert_int_equal(parse_bytes(BYTES("\0u\0 a b\xff\r\n"), &m), SG_PARSE_OK);
    assert_int_equal(m.password_len, 7);
}

static void test_plain_missing_nul(void **state)
{
    (void)state;
    expect_bad(BYTES("alice"), SG_PARSE_MISSING_NUL);
    expect_bad(BYTES("alice\0s3cret"), SG_PARSE_MISSING_NUL);
    expect_bad(BYTES("\0alice"), SG_PARSE_MISSING_NUL);
    expect_bad(BYTES("\0"), SG_PARSE_MISSING_NUL);
    expect_bad(BYTES("x"), SG_PARSE_MISSING_NUL);
}

static void test_plain_empty_message(void **state)
{
    struct sg_plain_msg m;

    (void)state;
    assert_int_equal(sg_plain_parse(NULL, 0, &m), SG_PARSE_MISSING_NUL);
    assert_int_equal(sg_plain_parse("", 0, &m), SG_PARSE_MISSING_NUL);
}

static void test_plain_empty_fields(void **state)
{
    (void)state;
    expect_bad(BYTES("\0\0s3cret"), SG_PARSE_EMPTY_AUTHCID);
    expect_bad(BYTES("bob\0\0s3cret"), SG_PARSE_EMPTY_AUTHCID);
    expect_bad(BYTES("\0alice\0"), SG_PARSE_EMPTY_PASSWORD);
    expect_bad(BYTES("\0\0"), SG_PARSE_EMPTY_AUTHCID);
}

static void test_plain_nul_in_password(void **state)
{
    (void)state;
    expect_bad(BYTES("\0alice\0s3\0cret"), SG_PARSE_EXTRA_NUL);
    expect_bad(BYTES("\0alice\0s3cret\0"), SG_PARSE_EXTRA_NUL);
    expect_bad(BYTES("\0alice\0\0"), SG_PARSE_EXTRA_NUL);
    expect_bad(BYTES("\0\0\0"), SG_PARSE_EXTRA_NUL);
}

static void test_plain_limits_exact(void **state)
{
    struct sg_plain_msg m;
    size_t len;
    char *p;

    (void)state;
    p = make_msg(SG_SASL_ID_MAX, SG_SASL_ID_MAX, SG_SASL_PASSWORD_MAX, &len);
    assert_int_equal(len, SG_PLAIN_MSG_MAX);
    assert_int_equal(sg_plain_parse(p, len, &m), SG_PARSE_OK);
    assert_int_equal(m.authzid_len, SG_SASL_ID_MAX);
    assert_int_equal(m.authcid_len, SG_SASL_ID_MAX);
    assert_int_equal(m.password_len, SG_SASL_PASSWORD_MAX);
    free(p);
}

static void test_plain_limits_over(void **state)
{
    struct sg_plain_msg m;
    size_t len;
    char *p;

    (void)state;
    p = make_msg(SG_SASL_ID_MAX + 1, 5, 5, &len);
    assert_int_equal(sg_plain_parse(p, len, &m), SG_PARSE_TOO_LONG);
    free(p);
    p = make_msg(0, SG_SASL_ID_MAX + 1, 5, &len);
    assert_int_equal(sg_plain_parse(p, len, &m), SG_PARSE_TOO_LONG);
    free(p);
    p = make_msg(0, 5, SG_SASL_PASSWORD_MAX + 1, &len);
    assert_int_equal(sg_plain_parse(p, len, &m), SG_PARSE_TOO_LONG);
    free(p);
    /* 10000-byte user name: refused on the total length, before any scan */
    p = make_msg(0, 10000, 6, &len);
    assert_int_equal(sg_plain_parse(p, len, &m), SG_PARSE_TOO_LONG);
    assert_null(m.authcid);
    free(p);
}

static void test_plain_huge_without_nul(void **state)
{
    size_t len = 1u << 20;
    char *p = malloc(len);
    struct sg_plain_msg m;

    (void)state;
    assert_non_null(p);
    memset(p, 'a', len);
    assert_int_equal(sg_plain_parse(p, len, &m), SG_PARSE_TOO_LONG);
    free(p);
}

static void test_login_fields(void **state)
{
    char *p = dup_exact(BYTES("alice"));
    char big[SG_SASL_PASSWORD_MAX + 1];

    (void)state;
    assert_int_equal(sg_login_field_check(p, 5, SG_SASL_ID_MAX, SG_PARSE_EMPTY_AUTHCID),
                     SG_PARSE_OK);
    free(p);
    assert_int_equal(sg_login_field_check(NULL, 0, SG_SASL_ID_MAX, SG_PARSE_EMPTY_AUTHCID),
                     SG_PARSE_EMPTY_AUTHCID);
    assert_int_equal(sg_login_field_check("", 0, SG_SASL_PASSWORD_MAX,
                                          SG_PARSE_EMPTY_PASSWORD),
                     SG_PARSE_EMPTY_PASSWORD);
    assert_int_equal(sg_login_field_check("a\0b", 3, SG_SASL_ID_MAX, SG_PARSE_EMPTY_AUTHCID),
                     SG_PARSE_EXTRA_NUL);
    memset(big, 'x', sizeof big);
    assert_int_equal(sg_login_field_check(big, SG_SASL_ID_MAX, SG_SASL_ID_MAX,
                                          SG_PARSE_EMPTY_AUTHCID), SG_PARSE_OK);
    assert_int_equal(sg_login_field_check(big, SG_SASL_ID_MAX + 1, SG_SASL_ID_MAX,
                                          SG_PARSE_EMPTY_AUTHCID), SG_PARSE_TOO_LONG);
    assert_int_equal(sg_login_field_check(big, SG_SASL_PASSWORD_MAX, SG_SASL_PASSWORD_MAX,
                                          SG_PARSE_EMPTY_PASSWORD), SG_PARSE_OK);
    assert_int_equal(sg_login_field_check(big, sizeof big, SG_SASL_PASSWORD_MAX,
                                          SG_PARSE_EMPTY_PASSWORD), SG_PARSE_TOO_LONG);
}

static void test_parse_texts(void **state)
{
    (void)state;
    for (int st = SG_PARSE_OK; st <= SG_PARSE_EMPTY_PASSWORD; st++) {
        assert_non_null(sg_parse_str((enum sg_parse)st));
        assert_true(strlen(sg_parse_str((enum sg_parse)st)) > 0);
    }
    assert_string_equal(sg_parse_str((enum sg_parse)99), "malformed message");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_without_authzid),
        cmocka_unit_test(test_plain_with_authzid),
        cmocka_unit_test(test_plain_password_bytes),
        cmocka_unit_test(test_plain_missing_nul),
        cmocka_unit_test(test_plain_empty_message),
        cmocka_unit_test(test_plain_empty_fields),
        cmocka_unit_test(test_plain_nul_in_password),
        cmocka_unit_test(test_plain_limits_exact),
        cmocka_unit_test(test_plain_limits_over),
        cmocka_unit_test(test_plain_huge_without_nul),
        cmocka_unit_test(test_login_fields),
        cmocka_unit_test(test_parse_texts),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
