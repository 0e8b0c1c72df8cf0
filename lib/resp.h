/*
 * resp.h - a Redis command in the wire format (RESP), written straight
 * into a caller's buffer.
 *
 * hiredis formats every argument through its sds strings (a malloc, a
 * printf-like scan and a free each), and a login's EVALSHA has 17.
 * Writing the multi-bulk request directly costs a few hundred instructions,
 * and the result goes to redisAppendFormattedCommand.
 */
#ifndef SG_RESP_H
#define SG_RESP_H

#include <stddef.h>

/* "*ARGC\r\n" then "$LEN\r\nARG\r\n" for each of the ARGC NUL-terminated
 * ARGV into BUF. Returns the length written, or 0 when it does not fit in
 * CAP bytes (BUF is then unspecified). */
size_t sg_resp_format(char *buf, size_t cap, int argc, const char *const *argv);

#endif
