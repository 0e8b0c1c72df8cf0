/*
 * store_internal.h - what the store's own modules share (store_redis.c,
 * store_admin.c); not for front ends.
 *
 * One connection and one SIGPIPE guard for every Redis call: the admin
 * operations run their commands through sg_store_command() and their script
 * through sg_store_eval(), which connect lazily, bound every call by
 * redis_timeout and drop the connection after any error, exactly as the
 * check and report calls do. An error reply is a failure (SG_ESTORE, with
 * sg_store_error() saying why), so a reply handed out is never one.
 */
#ifndef SG_STORE_INTERNAL_H
#define SG_STORE_INTERNAL_H

#include <stddef.h>
#include <hiredis/hiredis.h>

#include "store.h"

/* Longest key built by the store. */
#define SG_KEY_MAX 1024

enum sg_script_id { SG_SCRIPT_CHECK, SG_SCRIPT_REPORT, SG_SCRIPT_ADMIN };

const struct sg_policy *sg_store_policy(const struct sg_store *s);

/* "PREFIX:TYPE:PART" (or "PREFIX:TYPE" when PART is NULL) into BUF.
 * SG_EINVAL if it does not fit. */
int sg_store_key(const struct sg_store *s, const char *type, const char *part,
                 char *buf, size_t len);

/* Run one command. On SG_OK *OUT is the reply (free with freeReplyObject). */
int sg_store_command(struct sg_store *s, int argc, const char **argv, redisReply **out);

/* A reply of the wrong shape: record DETAIL (a constant) as the store's
 * error, drop the connection, return SG_ESTORE. */
int sg_store_bad_reply(struct sg_store *s, const char *detail);

/* Run an embedded script (EVALSHA, EVAL on NOSCRIPT); same contract. */
int sg_store_eval(struct sg_store *s, enum sg_script_id id, int nkeys, const char **keys,
                  int nargs, const char **args, redisReply **out);

/* ---- store_admin.c, for store_admin_list.c ---- */

/* Longest decimal integer accepted from Redis ("-9223372036854775808"). */
#define SG_NUM_MAX 20

/* A whole decimal in [MIN, MAX] from a string (digits, optional leading
 * '-', at most SG_NUM_MAX bytes) or integer reply: SG_OK or SG_EINVAL. */
int sg_admin_reply_int(const redisReply *r, long long min, long long max, long long *out);

/* A string reply holding a source prefix in canonical sg_prefix_format()
 * form, copied to OUT: SG_OK or SG_EINVAL. */
int sg_admin_reply_source(const redisReply *r, char out[SG_PREFIX_STRLEN]);

#endif
