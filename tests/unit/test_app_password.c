/*
 * test_app_password.c - app-password generation, normalisation and
 * digests, and the secret file they are keyed with.
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

#include "app_password.h"
#include "secret.h"
#include "status.h"

static void test_generate_alphabet_and_length(void **state)
{
    char pw[SG_APP_PASSWORD_LEN + 1];

    (void)state;
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(sg_app_password_generate(pw), SG_OK);
        assert_int_equal(strlen(pw), SG_APP_PASSWORD_LEN);
        assert_int_equal(strspn(pw, "abcdefghijklmnopqrstuvwxyz"), SG_APP_PASSWORD_LEN);
    }
}

/* The byte-to-letter mapping over all 256 byte values: each letter exactly
 * 9 times, 22 bytes rejected. This is the proof of no modulo bias; the
 * sample test below checks the generator that draws through it. */
static void test_letter_mapping_exact(void **state)
{
    int count[26] = { 0 }, rejected = 0;

    (void)state;
    for (int b = 0; b < 256; b++) {
        char c = sg_app_password_letter((unsigned char)b);
        if (c == 0) {
            rejected++;
            continue;
        }
        assert_true(c >= 'a' && c <= 'z');
        count[c - 'a']++;
    }
    assert_int_equal(rejected, 256 - 26 * 9);
    for (int k = 0; k < 26; k++)
        assert_int_equal(count[k], 9);
}

/* 100000 passwords = 1.6 million letters: a chi-square test over the 26
 * letters (25 degrees of freedom) and every letter at every position. The
 * bound 100 is exceeded by a fair generator with probability 6e-11 (the
 * 0.1% value, 52.6, failed one CI run in a thousand); a modulo-biased
 * generator (byte % 26: letters a-v 10/256, w-z 9/256) gives about 2150. */
static void test_generate_no_bias(void **state)
{
    enum { N = 100000 };
    long count[26] = { 0 }, pos[SG_APP_PASSWORD_LEN][26] = { { 0 } };
    char pw[SG_APP_PASSWORD_LEN + 1];
    double expected = (double)N * SG_APP_PASSWORD_LEN / 26, chi = 0;

    (void)state;
    for (int i = 0; i < N; i++) {
        assert_int_equal(sg_app_password_generate(pw), SG_OK);
        for (int j = 0; j < SG_APP_PASSWORD_LEN; j++) {
            count[pw[j] - 'a']++;
            pos[j][pw[j] - 'a']++;
        }
    }
    for (int k = 0; k < 26; k++)
        chi += (count[k] - expected) * (count[k] - expected) / expected;
    assert_true(chi < 100.0);
    for (int j = 0; j < SG_APP_PASSWORD_LEN; j++)
        for (int k = 0; k < 26; k++)
            assert_true(pos[j][k] > 0);
}

static void test_show_groups(void **state)
{
    char out[SG_APP_PASSWORD_SHOWN];

    (void)state;
    sg_app_password_show("abcdefghijklmnop", out);
    assert_string_equal(out, "abcd efgh ijkl mnop");
}

static void test_normalize(void **state)
{
    char out[SG_APP_PASSWORD_LEN + 1];
    static const char *good[] = {
        "abcdefghijklmnop", "abcd efgh ijkl mnop", "ABCD-EFGH-IJKL-MNOP",
        " aBcD\tefgh  ijkl mnop ", "a b c d e f g h i j k l m n o p",
    };
    static const char *bad[] = {
        "", "abcdefghijklmno", "abcdefghijklmnopq", "abcd efgh ijkl mno1",
        "abcd_efgh_ijkl_mnop", "abcdefghijklmnop\n", "s3cret",
    };

    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        assert_int_equal(sg_app_password_normalize(good[i], strlen(good[i]), out), SG_OK);
        assert_string_equal(out, "abcdefghijklmnop");
    }
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(sg_app_password_normalize(bad[i], strlen(bad[i]), out), SG_EINVAL);
    /* a NUL inside is not a letter; a huge input is refused outright */
    assert_int_equal(sg_app_password_normalize("abcdefgh\0ijklmnop", 17, out), SG_EINVAL);
    char big[5000];
    memset(big, ' ', sizeof big);
    memcpy(big, "abcdefghijklmnop", 16);
    assert_int_equal(sg_app_password_normalize(big, sizeof big, out), SG_EINVAL);
}

static void test_digest_known_vector(void **state)
{
    struct sg_secret s;
    char hex[SG_DIGEST_HEX];

    (void)state;
    memset(&s, 0, sizeof s);
    memset(s.key, 'k', 32);
    s.len = 32;
    /* python3: hmac.new(b'k'*32, b'app-password\0alice\0abcdefghijklmnop', sha256) */
    assert_int_equal(sg_app_password_digest(&s, "alice", "abcdefghijklmnop", hex), SG_OK);
    assert_string_equal(hex, "ee5bb18206dadf1d5343bcf09c3be6331d7cc29ca3c25fc31b618307fcfc1114");
    /* bound to the account */
    assert_int_equal(sg_app_password_digest(&s, "bob", "abcdefghijklmnop", hex), SG_OK);
    assert_string_equal(hex, "f9c7467dc8916c1b5e49b9d834f546277d04cf7f9d6f2505295495c58df478de");
    s.len = 31;   /* a short key is refused */
    assert_int_equal(sg_app_password_digest(&s, "alice", "abcdefghijklmnop", hex), SG_EINVAL);
}

static void test_equal_constant_time_api(void **state)
{
    (void)state;
    assert_true(sg_secret_equal("abcdef", "abcdef", 6));
    assert_false(sg_secret_equal("abcdef", "abcdeg", 6));
    assert_false(sg_secret_equal("xbcdef", "abcdef", 6));
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

static void test_secret_file(void **state)
{
    char dir[] = "/tmp/sgsecret-XXXXXX", path[64], err[256];
    struct sg_secret s;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/secret", dir);

    /* created fresh: 0600, loads, 96 hex chars */
    assert_int_equal(sg_secret_create(path, (uid_t)-1, (gid_t)-1, err, sizeof err), SG_OK);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(sg_secret_load(path, &s, err, sizeof err), SG_OK);
    assert_int_equal(s.len, 96);
    sg_secret_wipe(&s);
    assert_int_equal(s.len, 0);
    /* never overwritten */
    assert_int_equal(sg_secret_create(path, (uid_t)-1, (gid_t)-1, err, sizeof err), SG_EIO);
    assert_non_null(strstr(err, "cannot create"));

    /* group- or world-readable: refused with the fix in the message */
    write_file(path, "0123456789abcdef0123456789abcdef\n", 0640);
    assert_int_equal(sg_secret_load(path, &s, err, sizeof err), SG_ECONFIG);
    assert_non_null(strstr(err, "mode 0640 is too open"));
    assert_non_null(strstr(err, "chmod 600"));
    chmod(path, 0604);
    assert_int_equal(sg_secret_load(path, &s, err, sizeof err), SG_ECONFIG);
    chmod(path, 0400);
    assert_int_equal(sg_secret_load(path, &s, err, sizeof err), SG_OK);
    assert_int_equal(s.len, 32);   /* newline not part of the key */
    sg_secret_wipe(&s);

    /* too short */
    write_file(path, "short\n", 0600);
    assert_int_equal(sg_secret_load(path, &s, err, sizeof err), SG_ECONFIG);
    assert_non_null(strstr(err, "too short"));

    /* missing */
    unlink(path);
    assert_int_equal(sg_secret_load(path, &s, err, sizeof err), SG_EIO);
    assert_non_null(strstr(err, "cannot open"));
    /* a directory */
    assert_int_equal(sg_secret_load(dir, &s, err, sizeof err), SG_ECONFIG);
    rmdir(dir);
}

static void test_labels(void **state)
{
    (void)state;
    assert_true(sg_app_label_valid("iphone"));
    assert_true(sg_app_label_valid("Thunderbird-2.laptop_1"));
    assert_false(sg_app_label_valid(""));
    assert_false(sg_app_label_valid("has space"));
    assert_false(sg_app_label_valid("a:b"));
    assert_false(sg_app_label_valid("0123456789012345678901234567890123"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generate_alphabet_and_length),
        cmocka_unit_test(test_letter_mapping_exact),
        cmocka_unit_test(test_generate_no_bias),
        cmocka_unit_test(test_show_groups),
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_digest_known_vector),
        cmocka_unit_test(test_equal_constant_time_api),
        cmocka_unit_test(test_secret_file),
        cmocka_unit_test(test_labels),
    };
    return cmocka_run_group_tests_name("app_password", tests, NULL, NULL);
}
