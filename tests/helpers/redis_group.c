/*
 * redis_group.c - the one private redis-server of a cmocka test program:
 * group set-up and tear-down, and a store that must open (see
 * redis_fixture.h). Apart from redis_fixture.c, which the benchmark uses
 * without cmocka.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "redis_fixture.h"

struct sg_redis_fixture sg_redis;

int sg_redis_group_setup(void **state)
{
    (void)state;
    return sg_redis_start(&sg_redis);
}

int sg_redis_group_teardown(void **state)
{
    (void)state;
    sg_redis_destroy(&sg_redis);
    return 0;
}

struct sg_fixture_store *sg_fixture_store_must(const char *extra)
{
    struct sg_fixture_store *c = sg_fixture_store_open(&sg_redis, extra);

    assert_non_null(c);
    return c;
}
