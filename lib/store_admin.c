/*
 * store_admin.c - the admin operations on one account or source (see
 * store_admin.h); listing and statistics are in store_admin_list.c.
 *
 * SYNOPSIS
 *	#include "store_admin.h"
 *
 * DESCRIPTION
 *	Reads go through sg_store_peek() for the verdict and plain HMGET /
 *	PTTL / TYPE / ZREVRANGE for details; the one write that touches the
 *	lockout state in more than one field (lock) is lua/admin.lua, so it
 *	is atomic; unlock and unblock are one DEL each. Every call uses the
 *	store's connection and SIGPIPE guard (store_internal.h).
 *
 *	Replies are treated as hostile, as in store_redis.c: numbers must be
 *	short decimal strings or integers in range, sources must parse as a
 *	prefix and be in canonical form, account parts must decode (or be a
 *	hashed part); anything else reads as absent or is skipped.
 *
 * DIAGNOSTICS
 *	SG_ESTORE (Redis unreachable, an error or a reply of the wrong shape:
 *	sg_store_error() says which), SG_EINVAL (a key too long), SG_ENOMEM,
 *	SG_ENOTFOUND (unlock/unblock: nothing there).
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "status.h"
#include "store_admin.h"
#include "store_internal.h"

int sg_admin_reply_int(const redisReply *r, long long min, long long max, long long *out)
{
    char buf[SG_NUM_MAX + 1], *end;
    long long v;

    if (!r)
        return SG_EINVAL;
    if (r->type == REDIS_REPLY_INTEGER) {
        v = r->integer;
    } else if (r->type == REDIS_REPLY_STRING && r->len > 0 && r->len <= SG_NUM_MAX) {
        memcpy(buf, r->str, r->len);
        buf[r->len] = '\0';
        /* digits, optionally after one '-': no blanks, no '+' (strtoll takes both) */
        if (strspn(buf + (buf[0] == '-'), "0123456789") != r->len - (buf[0] == '-')
            || r->len == (size_t)(buf[0] == '-'))
            return SG_EINVAL;
        errno = 0;
        v = strtoll(buf, &end, 10);
        if (errno || *end)
            return SG_EINVAL;
    } else {
        return SG_EINVAL;
    }
    if (v < min || v > max)
        return SG_EINVAL;
    *out = v;
    return SG_OK;
}

int sg_admin_reply_source(const redisReply *r, char out[SG_PREFIX_STRLEN])
{
    char buf[SG_PREFIX_STRLEN], canon[SG_PREFIX_STRLEN];
    struct sg_prefix p;

    if (!r || r->type != REDIS_REPLY_STRING || r->len == 0 || r->len >= SG_PREFIX_STRLEN)
        return SG_EINVAL;
    memcpy(buf, r->str, r->len);
    buf[r->len] = '\0';
    if (sg_prefix_parse(buf, &p) != SG_OK || sg_prefix_format(&p, canon, sizeof canon) != SG_OK
        || strcmp(buf, canon) != 0)
        return SG_EINVAL;
    memcpy(out, canon, sizeof canon);
    return SG_OK;
}

int sg_admin_is_hashed_part(const char *part)
{
    if (part[0] != '~' || strlen(part) != 65)
        return 0;
    for (size_t i = 1; i < 65; i++)
        if (!strchr("0123456789abcdef", part[i]))
            return 0;
    return 1;
}

/* HMGET KEY FIELDS...: an array of exactly NFIELDS replies, or SG_ESTORE. */
static int hmget(struct sg_store *s, const char *key, const char **fields, int nfields,
                 redisReply **out)
{
    const char *argv[2 + 8];
    int rc;

    argv[0] = "HMGET";
    argv[1] = key;
    for (int i = 0; i < nfields && i < 8; i++)
        argv[2 + i] = fields[i];
    if ((rc = sg_store_command(s, 2 + nfields, argv, out)) != SG_OK)
        return rc;
    if ((*out)->type != REDIS_REPLY_ARRAY || (*out)->elements != (size_t)nfields) {
        freeReplyObject(*out);
        *out = NULL;
        return sg_store_bad_reply(s, "HMGET: unexpected shape");
    }
    return SG_OK;
}

static int key_ttl(struct sg_store *s, const char *key, int64_t *ttl)
{
    const char *argv[2] = { "PTTL", key };
    redisReply *r;
    long long v;
    int rc;

    if ((rc = sg_store_command(s, 2, argv, &r)) != SG_OK)
        return rc;
    rc = sg_admin_reply_int(r, -2, INT64_MAX, &v);
    freeReplyObject(r);
    if (rc != SG_OK)
        return sg_store_bad_reply(s, "PTTL: unexpected reply");
    *ttl = v;
    return SG_OK;
}

/* PREFIX:f:ACCOUNT as a sorted set; anything else reads as none. */
static int read_familiar(struct sg_store *s, const char *account, struct sg_admin_account *out)
{
    char key[SG_KEY_MAX], stop[16];
    const char *type_argv[2] = { "TYPE", key };
    const char *card_argv[2] = { "ZCARD", key };
    const char *range_argv[5] = { "ZREVRANGE", key, "0", stop, "WITHSCORES" };
    redisReply *r;
    long long v;
    int rc, zset;

    if ((rc = sg_store_key(s, "f", account, key, sizeof key)) != SG_OK)
        return rc;
    if ((rc = sg_store_command(s, 2, type_argv, &r)) != SG_OK)
        return rc;
    zset = r->type == REDIS_REPLY_STATUS && strcmp(r->str, "zset") == 0;
    freeReplyObject(r);
    if (!zset)
        return SG_OK;
    if ((rc = sg_store_command(s, 2, card_argv, &r)) != SG_OK)
        return rc;
    if (sg_admin_reply_int(r, 0, INT64_MAX, &v) == SG_OK)
        out->familiar_total = (size_t)v;
    freeReplyObject(r);
    snprintf(stop, sizeof stop, "%d", SG_ADMIN_FAMILIAR_MAX - 1);
    if ((rc = sg_store_command(s, 5, range_argv, &r)) != SG_OK)
        return rc;
    if (r->type == REDIS_REPLY_ARRAY && r->elements % 2 == 0
        && r->elements <= 2 * SG_ADMIN_FAMILIAR_MAX) {
        for (size_t i = 0; i < r->elements; i += 2) {
            struct sg_admin_familiar *f = &out->familiar[out->familiar_count];
            long long ms;

            /* scores come back as decimal strings, maybe "1.7e+12" */
            if (sg_admin_reply_source(r->element[i], f->source) != SG_OK)
                continue;
            if (sg_admin_reply_int(r->element[i + 1], 0, INT64_MAX, &ms) != SG_OK) {
                const redisReply *sc = r->element[i + 1];
                char buf[32], *end;
                double d;

                if (sc->type != REDIS_REPLY_STRING || sc->len >= sizeof buf)
                    continue;
                memcpy(buf, sc->str, sc->len);
                buf[sc->len] = '\0';
                d = strtod(buf, &end);
                if (*end || !(d >= 0 && d < 9.2e18))
                    continue;
                ms = (long long)d;
            }
            f->last_ms = ms;
            out->familiar_count++;
        }
    }
    freeReplyObject(r);
    return SG_OK;
}

int sg_admin_account(struct sg_store *s, const char *account, struct sg_admin_account *out)
{
    static const char *fields[] = { "n", "ws", "lt", "ls", "lvl" };
    char key[SG_KEY_MAX];
    redisReply *r;
    long long v;
    int rc;

    memset(out, 0, sizeof *out);
    if ((rc = sg_store_key(s, "a", account, key, sizeof key)) != SG_OK)
        return rc;
    if ((rc = sg_store_peek(s, account, NULL, &out->st)) != SG_OK)
        return rc;
    if ((rc = sg_store_peek_familiar(s, account, &out->st_familiar)) != SG_OK)
        return rc;
    if ((rc = hmget(s, key, fields, 5, &r)) != SG_OK)
        return rc;
    if (sg_admin_reply_int(r->element[0], 0, LONG_MAX, &v) == SG_OK)
        out->raw_failures = (long)v;
    if (sg_admin_reply_int(r->element[1], 1, INT64_MAX, &v) == SG_OK)
        out->window_start_ms = v;
    if (sg_admin_reply_int(r->element[2], 1, INT64_MAX, &v) == SG_OK)
        out->last_failure_ms = v;
    if (sg_admin_reply_source(r->element[3], out->last_source) != SG_OK)
        out->last_source[0] = '\0';
    if (sg_admin_reply_int(r->element[4], 0, 1000, &v) == SG_OK)
        out->level = (long)v;
    freeReplyObject(r);
    if ((rc = key_ttl(s, key, &out->ttl_ms)) != SG_OK)
        return rc;
    out->exists = out->ttl_ms != -2;
    return read_familiar(s, account, out);
}

int sg_admin_source(struct sg_store *s, const char *source, struct sg_admin_source *out)
{
    static const char *fields[] = { "n", "ws" };
    char key[SG_KEY_MAX];
    redisReply *r;
    long long v;
    int64_t ttl;
    int rc;

    memset(out, 0, sizeof *out);
    if ((rc = sg_store_key(s, "s", source, key, sizeof key)) != SG_OK)
        return rc;
    if ((rc = sg_store_peek(s, NULL, source, &out->st)) != SG_OK)
        return rc;
    if ((rc = hmget(s, key, fields, 2, &r)) != SG_OK)
        return rc;
    if (sg_admin_reply_int(r->element[0], 0, LONG_MAX, &v) == SG_OK)
        out->raw_failures = (long)v;
    if (sg_admin_reply_int(r->element[1], 1, INT64_MAX, &v) == SG_OK)
        out->window_start_ms = v;
    freeReplyObject(r);
    if ((rc = key_ttl(s, key, &ttl)) != SG_OK)
        return rc;
    out->exists = ttl != -2;
    return SG_OK;
}

int sg_admin_lock(struct sg_store *s, const char *account, uint64_t for_ms,
                  int64_t *until_ms, int64_t *now_ms)
{
    char key[SG_KEY_MAX], len[24], window[24];
    const char *keys[1] = { key };
    const char *args[2] = { len, window };
    redisReply *r;
    long long u, n;
    int rc;

    if ((rc = sg_store_key(s, "a", account, key, sizeof key)) != SG_OK)
        return rc;
    snprintf(len, sizeof len, "%llu", (unsigned long long)for_ms);
    snprintf(window, sizeof window, "%llu",
             (unsigned long long)sg_store_policy(s)->account_window_ms);
    if ((rc = sg_store_eval(s, SG_SCRIPT_ADMIN, 1, keys, 2, args, &r)) != SG_OK)
        return rc;
    rc = r->type == REDIS_REPLY_ARRAY && r->elements == 2
         && sg_admin_reply_int(r->element[0], -1, INT64_MAX, &u) == SG_OK
         && sg_admin_reply_int(r->element[1], 0, INT64_MAX, &n) == SG_OK ? SG_OK : SG_ESTORE;
    freeReplyObject(r);
    if (rc != SG_OK)
        return sg_store_bad_reply(s, "admin.lua: unexpected reply");
    if (until_ms)
        *until_ms = u;
    if (now_ms)
        *now_ms = n;
    return SG_OK;
}

static int del(struct sg_store *s, const char *type, const char *part)
{
    char key[SG_KEY_MAX];
    const char *argv[2] = { "DEL", key };
    redisReply *r;
    long long v = 0;
    int rc;

    if ((rc = sg_store_key(s, type, part, key, sizeof key)) != SG_OK)
        return rc;
    if ((rc = sg_store_command(s, 2, argv, &r)) != SG_OK)
        return rc;
    rc = sg_admin_reply_int(r, 0, 1, &v);
    freeReplyObject(r);
    if (rc != SG_OK)
        return sg_store_bad_reply(s, "DEL: unexpected reply");
    return v == 0 ? SG_ENOTFOUND : SG_OK;
}

int sg_admin_unlock(struct sg_store *s, const char *account)
{
    return del(s, "a", account);
}

int sg_admin_unblock(struct sg_store *s, const char *source)
{
    return del(s, "s", source);
}
