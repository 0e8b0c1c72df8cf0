/*
 * resp.c - a Redis command in RESP, without allocations (see resp.h).
 */
#include <string.h>

#include "resp.h"

/* "*N\r\n" or "$N\r\n" at BUF + *AT; 0 if it does not fit. */
static int put_header(char *buf, size_t cap, size_t *at, char kind, size_t n)
{
    char digits[24];
    size_t d = 0;

    do {
        digits[d++] = (char)('0' + n % 10);
        n /= 10;
    } while (n > 0);
    if (cap - *at < d + 3)
        return 0;
    buf[(*at)++] = kind;
    while (d > 0)
        buf[(*at)++] = digits[--d];
    buf[(*at)++] = '\r';
    buf[(*at)++] = '\n';
    return 1;
}

size_t sg_resp_format(char *buf, size_t cap, int argc, const char *const *argv)
{
    size_t at = 0;

    if (argc < 1 || !put_header(buf, cap, &at, '*', (size_t)argc))
        return 0;
    for (int i = 0; i < argc; i++) {
        size_t len = strlen(argv[i]);

        if (!put_header(buf, cap, &at, '$', len) || cap - at < len + 2)
            return 0;
        memcpy(buf + at, argv[i], len);
        at += len;
        buf[at++] = '\r';
        buf[at++] = '\n';
    }
    return at;
}
