/*
 * test_resp.c - sg_resp_format writes exactly what hiredis's own
 * formatter writes, and refuses what does not fit.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "resp.h"

static void same_as_hiredis(int argc, const char **argv)
{
    char buf[4096];
    char *want = NULL;
    int wlen = redisFormatCommandArgv(&want, argc, argv, NULL);
    size_t len = sg_resp_format(buf, sizeof buf, argc, argv);

    assert_true(wlen > 0);
    assert_int_equal(len, (size_t)wlen);
    assert_memory_equal(buf, want, len);
    /* exactly the room it needs is enough; one byte less is not */
    assert_int_equal(sg_resp_format(buf, len, argc, argv), len);
    assert_int_equal(sg_resp_format(buf, len - 1, argc, argv), 0);
    free(want);
}

static void test_like_hiredis(void **state)
{
    static const char *ping[] = { "PING" };
    static const char *empty[] = { "SET", "k", "" };
    static const char *odd[] = { "HSET", "sg:a:a%3Ab%20c", "f", "x\r\ny", "{tag}:*$" };
    const char *evalsha[17] = { "EVALSHA", "0123456789abcdef0123456789abcdef01234567", "5",
                                "sg:a:alice@example.test", "sg:stats", "sg:u:alice@example.test",
                                "sg:f:alice@example.test", "sg:s:192.0.2.7/32", "900000",
                                "600000", "1", "", "192.0.2.7/32", "7776000000",
                                "2592000000", "0", "1" };
    char big[2000];
    const char *long_arg[] = { "GET", big };

    (void)state;
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    same_as_hiredis(1, ping);
    same_as_hiredis(3, empty);
    same_as_hiredis(5, odd);
    same_as_hiredis(17, evalsha);
    same_as_hiredis(2, long_arg);
}

static void test_refuses(void **state)
{
    static const char *ping[] = { "PING" };
    char buf[64];

    (void)state;
    assert_int_equal(sg_resp_format(buf, sizeof buf, 0, ping), 0);
    assert_int_equal(sg_resp_format(buf, 0, 1, ping), 0);
    assert_int_equal(sg_resp_format(buf, 3, 1, ping), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_like_hiredis),
        cmocka_unit_test(test_refuses),
    };
    return cmocka_run_group_tests_name("resp", tests, NULL, NULL);
}
