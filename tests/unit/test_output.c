/*
 * test_output.c - saslguard(8)'s output helpers (tools/output.c).
 *
 * JSON strings for any bytes (account names come from the network):
 * escapes, control bytes, well-formed UTF-8 kept, every kind of malformed
 * UTF-8 as \u00XX; the writer's commas and nesting; times, spans and the
 * display of account key parts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account_key.h"
#include "cli.h"
#include "status.h"

/* JSON of LEN bytes of S, as a new string. */
static char *json_of(const char *s, size_t len)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);

    assert_non_null(f);
    cli_json_string(f, s, len);
    fclose(f);
    return buf;
}

static void expect_json(const char *s, size_t len, const char *want)
{
    char *got = json_of(s, len);

    assert_string_equal(got, want);
    free(got);
}

#define EXPECT(lit, want) expect_json(lit, sizeof(lit) - 1, want)

static void test_plain_and_short_escapes(void **state)
{
    (void)state;
    EXPECT("alice@example.test", "\"alice@example.test\"");
    EXPECT("", "\"\"");
    EXPECT("a\"b\\c/d", "\"a\\\"b\\\\c/d\"");
    EXPECT("\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\"");
}

static void test_control_bytes(void **state)
{
    (void)state;
    EXPECT("\x01\x1f", "\"\\u0001\\u001f\"");
    EXPECT("a\0b", "\"a\\u0000b\"");
    EXPECT("\x7f", "\"\\u007f\"");
    EXPECT("\x1b[31mred", "\"\\u001b[31mred\"");
}

static void test_valid_utf8_kept(void **state)
{
    (void)state;
    EXPECT("j\xc3\xbcrgen", "\"j\xc3\xbcrgen\"");                 /* U+00FC */
    EXPECT("\xe2\x82\xac", "\"\xe2\x82\xac\"");                   /* U+20AC */
    EXPECT("\xf0\x9f\x94\x92", "\"\xf0\x9f\x94\x92\"");           /* U+1F512 */
    EXPECT("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"");           /* U+10FFFF */
    EXPECT("\xed\x9f\xbf", "\"\xed\x9f\xbf\"");                   /* U+D7FF */
}

static void test_invalid_utf8_escaped(void **state)
{
    (void)state;
    EXPECT("\xff", "\"\\u00ff\"");                                /* never valid */
    EXPECT("\x80", "\"\\u0080\"");                                /* lone continuation */
    EXPECT("\xc0\xaf", "\"\\u00c0\\u00af\"");                     /* overlong '/' */
    EXPECT("\xe0\x80\xaf", "\"\\u00e0\\u0080\\u00af\"");          /* overlong 3 bytes */
    EXPECT("\xed\xa0\x80", "\"\\u00ed\\u00a0\\u0080\"");          /* surrogate U+D800 */
    EXPECT("\xf4\x90\x80\x80", "\"\\u00f4\\u0090\\u0080\\u0080\""); /* > U+10FFFF */
    EXPECT("\xe2\x82", "\"\\u00e2\\u0082\"");                     /* truncated at end */
    EXPECT("\xe2\x82x", "\"\\u00e2\\u0082x\"");                   /* truncated inside */
    EXPECT("\xc3\xbc\xc3", "\"\xc3\xbc\\u00c3\"");                /* good, then cut */
}

/* Every byte value alone: the output must be pure printable ASCII unless
 * the byte is plain ASCII itself. */
static void test_every_single_byte(void **state)
{
    (void)state;
    for (int b = 0; b < 256; b++) {
        char in = (char)b, *out = json_of(&in, 1);

        for (const char *p = out; *p; p++)
            assert_true((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
        if (b >= 0x80)
            assert_int_equal(strlen(out), 8);     /* "\u00XX" */
        free(out);
    }
}

static void test_writer_nesting(void **state)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    struct cli_json j;

    (void)state;
    cli_json_init(&j, f);
    cli_json_object(&j, NULL);
    cli_json_str(&j, "a", "x");
    cli_json_int(&j, "n", -42);
    cli_json_bool(&j, "t", 1);
    cli_json_str(&j, "none", NULL);
    cli_json_array(&j, "list");
    cli_json_int(&j, NULL, 1);
    cli_json_object(&j, NULL);
    cli_json_strn(&j, "k", "a\0b", 3);
    cli_json_end(&j);
    cli_json_array(&j, NULL);
    cli_json_end(&j);
    cli_json_end(&j);
    cli_json_time(&j, "when", 0);
    cli_json_time(&j, "at", 1764497700000LL);
    cli_json_object(&j, "empty");
    cli_json_end(&j);
    cli_json_end(&j);
    fclose(f);
    assert_string_equal(buf, "{\"a\":\"x\",\"n\":-42,\"t\":true,\"none\":null,"
                             "\"list\":[1,{\"k\":\"a\\u0000b\"},[]],\"when\":null,"
                             "\"at\":\"2025-11-30T10:15:00Z\",\"empty\":{}}\n");
    free(buf);
}

static void test_times_and_spans(void **state)
{
    char buf[64];

    (void)state;
    cli_iso_time(0, buf, sizeof buf);
    assert_string_equal(buf, "1970-01-01T00:00:00Z");
    cli_iso_time(1764497700999LL, buf, sizeof buf);
    assert_string_equal(buf, "2025-11-30T10:15:00Z");
    cli_span(0, buf, sizeof buf);
    assert_string_equal(buf, "0s");
    cli_span(-5, buf, sizeof buf);
    assert_string_equal(buf, "0s");
    cli_span(1, buf, sizeof buf);
    assert_string_equal(buf, "1s");                 /* rounded up: not "0s" left */
    cli_span(898000, buf, sizeof buf);
    assert_string_equal(buf, "14m 58s");
    cli_span(900000, buf, sizeof buf);
    assert_string_equal(buf, "15m");
    cli_span(7500000, buf, sizeof buf);
    assert_string_equal(buf, "2h 5m");
    cli_span(3LL * 86400000 + 4 * 3600000 + 59000, buf, sizeof buf);
    assert_string_equal(buf, "3d 4h");
}

static void test_account_text(void **state)
{
    char key[SG_ACCOUNT_KEY_LEN], text[400], name[SG_ACCOUNT_MAX + 1], big[300];

    (void)state;
    assert_int_equal(sg_account_key("Alice@Example.test", 18, key, sizeof key), SG_OK);
    cli_account_text(key, text, sizeof text);
    assert_string_equal(text, "alice@example.test");
    assert_int_equal(sg_account_key("a b\n", 4, key, sizeof key), SG_OK);
    cli_account_text(key, text, sizeof text);
    assert_string_equal(text, "a\\x20b\\x0a");
    assert_int_equal(cli_account_name(key, name, sizeof name), 4);
    assert_memory_equal(name, "a b\n", 4);

    memset(big, 'x', sizeof big);
    assert_int_equal(sg_account_key(big, sizeof big, key, sizeof key), SG_OK);
    cli_account_text(key, text, sizeof text);
    assert_true(strncmp(text, "(long name) ~", 13) == 0);
    assert_int_equal(strlen(text), 12 + 65);
    assert_int_equal(cli_account_name(key, name, sizeof name), 0);

    cli_account_text("NOT%ZZvalid", text, sizeof text);
    assert_string_equal(text, "(invalid key part)");
    assert_int_equal(cli_account_name("A", name, sizeof name), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_and_short_escapes),
        cmocka_unit_test(test_control_bytes),
        cmocka_unit_test(test_valid_utf8_kept),
        cmocka_unit_test(test_invalid_utf8_escaped),
        cmocka_unit_test(test_every_single_byte),
        cmocka_unit_test(test_writer_nesting),
        cmocka_unit_test(test_times_and_spans),
        cmocka_unit_test(test_account_text),
    };
    return cmocka_run_group_tests_name("output", tests, NULL, NULL);
}
