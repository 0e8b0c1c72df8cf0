/*
 * test_account_key.c - unit tests for account_key.c: the key part of a name
 * is injective on the case-folded name, never holds a byte that could reach
 * another key or Cluster slot, hashes long names, decodes back exactly, and
 * the log rendering is bounded and escaped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "account_key.h"
#include "status.h"

/* Room for the longest sg_account_printable output: 64 escapes, "...", NUL. */
#define PRINTABLE_LEN (64 * 4 + 3 + 1)

/* Byte-wise ASCII fold, written independently of the code under test. */
static void fold_copy(const char *name, size_t len, char *out)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];

        out[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
}

static int is_upper_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

/* A part must only use the key alphabet: nothing that can leave its key. */
static void assert_safe_part(const char *part)
{
    size_t len = strlen(part);

    assert_true(len > 0);
    if (part[0] == '~') {
        assert_int_equal(len, 65);
        for (size_t i = 1; i < len; i++)
            assert_true((part[i] >= '0' && part[i] <= '9') || (part[i] >= 'a' && part[i] <= 'f'));
        return;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)part[i];

        assert_true(c >= 0x21 && c < 0x7f);
        assert_null(strchr("{}: \n~", c));
        if (c == '%') {
            assert_true(is_upper_hex(part[i + 1]));
            assert_true(is_upper_hex(part[i + 2]));
            i += 2;
        } else {
            assert_non_null(strchr("abcdefghijklmnopqrstuvwxyz0123456789.@_+-", c));
        }
    }
}

/* Encode NAME (LEN bytes), check it is safe and, if not hashed, decodes back. */
static void encode(const char *name, size_t len, char out[SG_ACCOUNT_KEY_LEN])
{
    char back[SG_ACCOUNT_MAX + 1], folded[SG_ACCOUNT_MAX];
    size_t used = 0;

    assert_int_equal(sg_account_key(name, len, out, SG_ACCOUNT_KEY_LEN), SG_OK);
    assert_safe_part(out);
    if (len > SG_ACCOUNT_MAX) {
        assert_int_equal(out[0], '~');
        assert_int_equal(sg_account_key_decode(out, back, sizeof(back), &used), SG_EINVAL);
        return;
    }
    assert_int_equal(sg_account_key_decode(out, back, sizeof(back), &used), SG_OK);
    assert_int_equal(used, len);
    fold_copy(name, len, folded);
    assert_memory_equal(back, folded, len);
    assert_int_equal(back[len], '\0');
}

static void expect_key(const char *name, size_t len, const char *want)
{
    char out[SG_ACCOUNT_KEY_LEN];

    encode(name, len, out);
    assert_string_equal(out, want);
}

#define EXPECT_KEY(lit, want) expect_key(lit, sizeof(lit) - 1, want)

static void test_kept_alphabet(void **state)
{
    (void)state;
    EXPECT_KEY("alice", "alice");
    EXPECT_KEY("alice@example.org", "alice@example.org");
    EXPECT_KEY("a.b_c+d-e@0123456789", "a.b_c+d-e@0123456789");
    EXPECT_KEY("abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxyz");
}

static void test_case_folding(void **state)
{
    char a[SG_ACCOUNT_KEY_LEN], b[SG_ACCOUNT_KEY_LEN];

    (void)state;
    EXPECT_KEY("Alice", "alice");
    EXPECT_KEY("ALICE@EXAMPLE.ORG", "alice@example.org");
    EXPECT_KEY("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz");
    encode("Alice", 5, a);
    encode("alice", 5, b);
    assert_string_equal(a, b);
    /* Only ASCII folds: UTF-8 upper case stays distinct (no locale games). */
    EXPECT_KEY("\xc3\x89", "%C3%89");
    EXPECT_KEY("\xc3\xa9", "%C3%A9");
}

static void test_escapes(void **state)
{
    (void)state;
    EXPECT_KEY("a:b", "a%3Ab");
    EXPECT_KEY("{x}", "%7Bx%7D");
    EXPECT_KEY("%", "%25");
    EXPECT_KEY("~", "%7E");
    EXPECT_KEY("a b", "a%20b");
    EXPECT_KEY("a\nb", "a%0Ab");
    EXPECT_KEY("a\r\n", "a%0D%0A");
    EXPECT_KEY("a\0b", "a%00b");
    EXPECT_KEY("\0", "%00");
    EXPECT_KEY("\x7f\x80\xff", "%7F%80%FF");
    EXPECT_KEY("a*b?c[d]", "a%2Ab%3Fc%5Bd%5D");
    EXPECT_KEY("\"'\\/=,;", "%22%27%5C%2F%3D%2C%3B");
}

static int folded_equal(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen)
        return 0;
    for (size_t i = 0; i < alen; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];

        if (x >= 'A' && x <= 'Z')
            x += 32;
        if (y >= 'A' && y <= 'Z')
            y += 32;
        if (x != y)
            return 0;
    }
    return 1;
}

struct name { const char *bytes; size_t len; };
#define NAME(lit) { lit, sizeof(lit) - 1 }

/* Two names share a key exactly when they are equal after folding. */
static void test_injective_tricky(void **state)
{
    static const struct name names[] = {
        NAME("a:b"), NAME("a%3Ab"), NAME("a%3ab"), NAME("a%253Ab"), NAME("A:B"),
        NAME("{x}"), NAME("x"), NAME("%7Bx%7D"), NAME("%7bx%7d"), NAME("{X}"),
        NAME("a b"), NAME("a%20b"), NAME("a\nb"), NAME("a%0Ab"), NAME("a\0b"),
        NAME("a%00b"), NAME("a"), NAME("a\0"), NAME("a\0\0"), NAME("\0a"),
        NAME("~"), NAME("%7E"), NAME("%"), NAME("%25"), NAME("%2525"),
        NAME("alice"), NAME("Alice"), NAME("alice "), NAME(" alice"),
        NAME("alice\t"), NAME("sg:acct:alice"), NAME("alice}{"), NAME("\xff"),
        NAME("%FF"), NAME("%ff"), NAME("\xc3\xa9"), NAME("\xc3\x89"),
    };
    enum { N = sizeof(names) / sizeof(names[0]) };
    static char keys[N][SG_ACCOUNT_KEY_LEN];

    (void)state;
    for (size_t i = 0; i < N; i++)
        encode(names[i].bytes, names[i].len, keys[i]);
    for (size_t i = 0; i < N; i++) {
        for (size_t j = i + 1; j < N; j++) {
            int same_key = strcmp(keys[i], keys[j]) == 0;
            int same_name = folded_equal(names[i].bytes, names[i].len,
                                         names[j].bytes, names[j].len);

            if (same_key != same_name)
                fail_msg("names %zu and %zu: keys \"%s\" \"%s\"", i, j, keys[i], keys[j]);
        }
    }
    /* The spelled-out cases: "a%3Ab" and "a%3ab" fold to one name. */
    assert_string_equal(keys[0], "a%3Ab");
    assert_string_equal(keys[1], "a%253ab");
    assert_string_equal(keys[2], "a%253ab");
}

static void test_length_boundary(void **state)
{
    char name[1000], out[SG_ACCOUNT_KEY_LEN], other[SG_ACCOUNT_KEY_LEN];

    (void)state;
    /* Exactly SG_ACCOUNT_MAX bytes: still encoded. */
    memset(name, 'a', sizeof(name));
    encode(name, 256, out);
    assert_int_equal(strlen(out), 256);
    assert_memory_equal(out, name, 256);

    /* Worst case: 256 escaped bytes fill SG_ACCOUNT_KEY_LEN exactly. */
    memset(name, 0xff, 256);
    encode(name, 256, out);
    assert_int_equal(strlen(out), 3 * 256);
    assert_int_equal(strlen(out) + 1, SG_ACCOUNT_KEY_LEN);

    /* One byte more: hashed, SHA-256 of the folded name. */
    memset(name, 'a', sizeof(name));
    encode(name, 257, out);
    assert_string_equal(out, "~e8d95cc2b4bc198c54b40bd214df958afb65f5e73d2c2eafe0593cf5c635c1f0");
    memset(name, 'A', sizeof(name));
    encode(name, 257, other);
    assert_string_equal(out, other);
    encode(name, 1000, out);
    assert_string_equal(out, "~41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");

    /* 256 and 257 bytes of the same letter are different names. */
    encode(name, 256, other);
    assert_string_not_equal(out, other);
}

/* 1000-byte names that differ in one byte (incl. NUL, space, case) hash apart. */
static void test_long_names_distinct(void **state)
{
    static const unsigned char variants[] = { 'x', 'y', '\0', ' ', '\n', 0xff, ':', '{' };
    enum { NV = sizeof(variants) };
    static const size_t positions[] = { 0, 256, 999 };
    char name[1000], keys[NV * 3][SG_ACCOUNT_KEY_LEN];
    size_t n = 0;

    (void)state;
    for (size_t p = 0; p < 3; p++) {
        for (size_t v = 0; v < NV; v++) {
            memset(name, 'a', sizeof(name));
            name[positions[p]] = (char)variants[v];
            encode(name, sizeof(name), keys[n++]);
        }
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            assert_string_not_equal(keys[i], keys[j]);

    /* Folding happens before hashing: one byte's case does not matter. */
    memset(name, 'a', sizeof(name));
    name[500] = 'Q';
    encode(name, sizeof(name), keys[0]);
    name[500] = 'q';
    encode(name, sizeof(name), keys[1]);
    assert_string_equal(keys[0], keys[1]);
}

static void test_buffer_too_small(void **state)
{
    char out[SG_ACCOUNT_KEY_LEN];
    char name[300];

    (void)state;
    /* "a%3Ab" is 5 characters: 6 bytes fit, 5 do not. */
    assert_int_equal(sg_account_key("a:b", 3, out, 6), SG_OK);
    assert_string_equal(out, "a%3Ab");
    memset(out, 'x', sizeof(out));
    assert_int_equal(sg_account_key("a:b", 3, out, 5), SG_EINVAL);
    assert_string_equal(out, "");
    assert_int_equal(out[1], 'x');
    assert_int_equal(sg_account_key("a:b", 3, out, 1), SG_EINVAL);
    assert_string_equal(out, "");
    assert_int_equal(sg_account_key("a:b", 3, out, 0), SG_EINVAL);

    /* Hashed form: '~' + 64 hex + NUL = 66 bytes. */
    memset(name, 'z', sizeof(name));
    assert_int_equal(sg_account_key(name, sizeof(name), out, 66), SG_OK);
    assert_int_equal(strlen(out), 65);
    memset(out, 'x', sizeof(out));
    assert_int_equal(sg_account_key(name, sizeof(name), out, 65), SG_EINVAL);
    assert_string_equal(out, "");
}

static void test_bad_args(void **state)
{
    char out[SG_ACCOUNT_KEY_LEN];

    (void)state;
    memset(out, 'x', sizeof(out));
    assert_int_equal(sg_account_key("", 0, out, sizeof(out)), SG_EINVAL);
    assert_string_equal(out, "");
    assert_int_equal(sg_account_key("alice", 0, out, sizeof(out)), SG_EINVAL);
    assert_int_equal(sg_account_key(NULL, 5, out, sizeof(out)), SG_EINVAL);
    assert_int_equal(sg_account_key("alice", 5, NULL, sizeof(out)), SG_EINVAL);
}

static void expect_decode(const char *part, const char *want, size_t wantlen)
{
    char out[SG_ACCOUNT_MAX + 1];
    size_t used = 99;

    assert_int_equal(sg_account_key_decode(part, out, sizeof(out), &used), SG_OK);
    assert_int_equal(used, wantlen);
    assert_memory_equal(out, want, wantlen);
    assert_int_equal(out[wantlen], '\0');
}

static void test_decode(void **state)
{
    char out[8];
    size_t used = 0;

    (void)state;
    expect_decode("alice", "alice", 5);
    expect_decode("a%3Ab", "a:b", 3);
    expect_decode("%00", "\0", 1);
    expect_decode("a%00b%00", "a\0b\0", 4);
    expect_decode("%25", "%", 1);
    expect_decode("%7E", "~", 1);
    expect_decode("%C3%89", "\xc3\x89", 2);
    /* OUT needs room for the NUL: "abc" fits 4 bytes, not 3. */
    assert_int_equal(sg_account_key_decode("abc", out, 4, &used), SG_OK);
    assert_int_equal(used, 3);
    assert_int_equal(sg_account_key_decode("abc", out, 3, &used), SG_EINVAL);
    assert_int_equal(used, 0);
    assert_string_equal(out, "");
    assert_int_equal(sg_account_key_decode("abc", out, 4, NULL), SG_OK);
    assert_int_equal(sg_account_key_decode("abc", out, 0, &used), SG_EINVAL);
    assert_int_equal(sg_account_key_decode("abc", NULL, 4, &used), SG_EINVAL);
    assert_int_equal(sg_account_key_decode(NULL, out, sizeof(out), &used), SG_EINVAL);
}

/* Anything sg_account_key would never write is refused. */
static void test_decode_rejects(void **state)
{
    static const char *bad[] = {
        "", "~", "~e8d95cc2b4bc198c54b40bd214df958afb65f5e73d2c2eafe0593cf5c635c1f0",
        "a~", "A", "Alice", "a b", "a:b", "{x}", "a\nb", "a/b", "\x80", "%", "%4",
        "%G0", "%0G", "a%", "a%2", "%3a", "%7e", "%c3%89",
        /* Canonical form has kept bytes literal and letters folded. */
        "%61", "%2E", "%40", "%5F", "%2B", "%2D", "%30", "%41", "%5A",
    };
    char out[SG_ACCOUNT_MAX + 1], big[1024], part[3 * 300 + 1];
    size_t used = 99;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        used = 99;
        if (sg_account_key_decode(bad[i], out, sizeof(out), &used) != SG_EINVAL)
            fail_msg("decoded \"%s\"", bad[i]);
        assert_int_equal(used, 0);
        assert_string_equal(out, "");
    }
    /* Longer than SG_ACCOUNT_MAX decoded bytes: such names are hashed instead. */
    memset(part, 'a', 257);
    part[257] = '\0';
    assert_int_equal(sg_account_key_decode(part, out, sizeof(out), &used), SG_EINVAL);
    assert_int_equal(sg_account_key_decode(part, big, sizeof(big), &used), SG_EINVAL);
    part[256] = '\0';
    assert_int_equal(sg_account_key_decode(part, out, sizeof(out), &used), SG_OK);
    assert_int_equal(used, 256);
    for (size_t i = 0; i < 257; i++)
        memcpy(part + 3 * i, "%00", 3);
    part[3 * 257] = '\0';
    assert_int_equal(sg_account_key_decode(part, out, sizeof(out), &used), SG_EINVAL);
    part[3 * 256] = '\0';
    assert_int_equal(sg_account_key_decode(part, out, sizeof(out), &used), SG_OK);
    assert_int_equal(used, 256);
}

static int cmp_keys(const void *a, const void *b)
{
    return strcmp(a, b);
}

/*
 * Every 1- and 2-byte name: the key is safe, decodes to the folded name, and
 * all names without upper case (one per folded name) get distinct keys.
 */
static void test_bruteforce_short_names(void **state)
{
    enum { KEYLEN = 7, MAXN = 256 + 256 * 256 };
    /* Static, not malloc'd: a failed assertion longjmps out and would leak. */
    static char keys[MAXN][KEYLEN];
    size_t n = 0;

    (void)state;
    for (unsigned len = 1; len <= 2; len++) {
        for (unsigned v = 0; v < (len == 1 ? 256u : 65536u); v++) {
            char name[2] = { (char)(v & 0xff), (char)(v >> 8) };
            char out[SG_ACCOUNT_KEY_LEN];
            int has_upper = 0;

            encode(name, len, out);
            assert_true(strlen(out) < KEYLEN);
            for (unsigned i = 0; i < len; i++)
                has_upper |= name[i] >= 'A' && name[i] <= 'Z';
            if (!has_upper)
                memcpy(keys[n++], out, strlen(out) + 1);
        }
    }
    assert_int_equal(n, 230 + 230 * 230);
    qsort(keys, n, KEYLEN, cmp_keys);
    for (size_t i = 1; i < n; i++)
        if (strcmp(keys[i - 1], keys[i]) == 0)
            fail_msg("duplicate key \"%s\"", keys[i]);
}

static void expect_printable(const char *name, size_t len, size_t outlen, const char *want)
{
    char out[PRINTABLE_LEN + 16];

    assert_true(outlen <= PRINTABLE_LEN + 8);
    memset(out, '#', sizeof(out));
    sg_account_printable(name, len, out, outlen);
    assert_string_equal(out, want);
    /* Nothing written past OUTLEN. */
    for (size_t i = outlen; i < sizeof(out); i++)
        assert_int_equal(out[i], '#');
}

#define EXPECT_PRINTABLE(lit, want) \
    expect_printable(lit, sizeof(lit) - 1, PRINTABLE_LEN, want)

static void test_printable(void **state)
{
    (void)state;
    EXPECT_PRINTABLE("alice@example.org", "alice@example.org");
    EXPECT_PRINTABLE("Alice", "Alice");
    EXPECT_PRINTABLE("a b", "a\\x20b");
    EXPECT_PRINTABLE("a\"b", "a\\x22b");
    EXPECT_PRINTABLE("a\\b", "a\\x5cb");
    EXPECT_PRINTABLE("user=root", "user\\x3droot");
    EXPECT_PRINTABLE("a\0b", "a\\x00b");
    EXPECT_PRINTABLE("a\nb\r\t", "a\\x0ab\\x0d\\x09");
    EXPECT_PRINTABLE("\x7f\x80\xff", "\\x7f\\x80\\xff");
    EXPECT_PRINTABLE("{x}:~%'", "{x}:~%'");
    EXPECT_PRINTABLE("", "");
    expect_printable(NULL, 5, PRINTABLE_LEN, "");
}

static void test_printable_bounds(void **state)
{
    char name[1000], want[PRINTABLE_LEN];

    (void)state;
    /* 64 bytes are shown in full; the 65th turns into "...". */
    memset(name, 'a', sizeof(name));
    memset(want, 'a', 64);
    want[64] = '\0';
    expect_printable(name, 64, PRINTABLE_LEN, want);
    memcpy(want + 64, "...", 4);
    expect_printable(name, 65, PRINTABLE_LEN, want);
    expect_printable(name, sizeof(name), PRINTABLE_LEN, want);

    /* Worst case fills PRINTABLE_LEN exactly. */
    memset(name, '\n', sizeof(name));
    for (size_t i = 0; i < 64; i++)
        memcpy(want + 4 * i, "\\x0a", 4);
    memcpy(want + 256, "...", 4);
    expect_printable(name, sizeof(name), PRINTABLE_LEN, want);
    assert_int_equal(strlen(want) + 1, PRINTABLE_LEN);
    /* 64 escapes without "..." need one byte less. */
    want[256] = '\0';
    expect_printable(name, 64, 257, want);
}

/* A buffer too small truncates at a whole unit and marks it with "...". */
static void test_printable_small_buffers(void **state)
{
    char untouched = '#';

    (void)state;
    expect_printable("abcdefgh", 8, 9, "abcdefgh");
    expect_printable("abcdefgh", 8, 8, "abcd...");
    expect_printable("abcdefgh", 8, 5, "a...");
    expect_printable("abcdefgh", 8, 4, "...");
    expect_printable("abcdefgh", 8, 3, "ab");
    expect_printable("abcdefgh", 8, 1, "");
    expect_printable("\n\n\n", 3, 13, "\\x0a\\x0a\\x0a");
    expect_printable("\n\n\n", 3, 12, "\\x0a\\x0a...");
    expect_printable("\n\n\n", 3, 10, "\\x0a...");
    expect_printable("\n\n\n", 3, 7, "...");
    expect_printable("a\n", 2, 2, "a");
    expect_printable("\n", 1, 2, "");
    sg_account_printable("alice", 5, NULL, 10);
    sg_account_printable("alice", 5, &untouched, 0);
    assert_int_equal(untouched, '#');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kept_alphabet),
        cmocka_unit_test(test_case_folding),
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_injective_tricky),
        cmocka_unit_test(test_length_boundary),
        cmocka_unit_test(test_long_names_distinct),
        cmocka_unit_test(test_buffer_too_small),
        cmocka_unit_test(test_bad_args),
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_decode_rejects),
        cmocka_unit_test(test_bruteforce_short_names),
        cmocka_unit_test(test_printable),
        cmocka_unit_test(test_printable_bounds),
        cmocka_unit_test(test_printable_small_buffers),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
