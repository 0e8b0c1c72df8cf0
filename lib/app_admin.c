/*
 * app_admin.c - two-factor flags and app-password records (see app_admin.h).
 *
 * Record format (shared with check.lua, which reads it on every login):
 *   v1|STATE|DIGEST|CREATED|EXPIRES|LASTUSE|LASTSOURCE|REVOKED
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_admin.h"
#include "status.h"
#include "store_internal.h"

#define RECORD_MAX 256
#define FIELD_MAX (2 + SG_APP_LABEL_MAX + 1 + 20 + 1)

static int settings_key(struct sg_store *s, const char *account, char key[SG_KEY_MAX])
{
    return sg_store_key(s, "u", account, key, SG_KEY_MAX);
}

static int simple(struct sg_store *s, int argc, const char **argv, redisReply **r)
{
    return sg_store_command(s, argc, argv, r);
}

enum sg_app_state sg_app_record_state(const struct sg_app_record *r, int64_t now_ms)
{
    if (r->revoked)
        return SG_APP_STATE_REVOKED;
    if (r->expires_ms > 0 && r->expires_ms <= now_ms)
        return SG_APP_STATE_EXPIRED;
    return SG_APP_STATE_ACTIVE;
}

const char *sg_app_state_name(enum sg_app_state st)
{
    static const char *const names[] = { "active", "expired", "revoked" };

    return (unsigned)st < 3 ? names[st] : "?";
}

enum sg_app_need sg_app_needed(const struct sg_policy *p, int mfa)
{
    if (p->app_passwords == SG_APP_REQUIRED)
        return SG_APP_NEED_POLICY;
    if (p->app_passwords == SG_APP_PER_ACCOUNT && mfa)
        return SG_APP_NEED_MFA;
    return SG_APP_NEED_NONE;
}

int sg_app_mfa_set(struct sg_store *s, const char *account, int on)
{
    char key[SG_KEY_MAX];
    const char *set[4] = { "HSET", key, "mfa", "1" };
    const char *del[3] = { "HDEL", key, "mfa" };
    redisReply *r;
    int rc;

    if ((rc = settings_key(s, account, key)) != SG_OK)
        return rc;
    if ((rc = on ? simple(s, 4, set, &r) : simple(s, 3, del, &r)) != SG_OK)
        return rc;
    freeReplyObject(r);
    return SG_OK;
}

int sg_app_mfa_get(struct sg_store *s, const char *account, int *on)
{
    char key[SG_KEY_MAX];
    const char *get[3] = { "HGET", key, "mfa" };
    redisReply *r;
    int rc;

    *on = 0;
    if ((rc = settings_key(s, account, key)) != SG_OK)
        return rc;
    if ((rc = simple(s, 3, get, &r)) != SG_OK)
        return rc;
    *on = r->type == REDIS_REPLY_STRING && r->len == 1 && r->str[0] == '1';
    freeReplyObject(r);
    return SG_OK;
}

/* Parse a record; 0 if malformed (hostile bytes read as absent). */
static int parse_record(const char *field, size_t flen, const char *rec, size_t rlen,
                        struct sg_app_record *out)
{
    char buf[RECORD_MAX + 1], state;
    char digest[SG_DIGEST_HEX + 1];
    unsigned long long created, expires, lastuse, revoked;
    const char *label = field + 2, *end;
    size_t llen;
    int used = 0;

    if (rlen > RECORD_MAX || flen < 3 || flen > FIELD_MAX)
        return 0;
    memcpy(buf, rec, rlen);
    buf[rlen] = '\0';
    memset(out, 0, sizeof *out);
    if (sscanf(buf, "v1|%c|%64[0-9a-f]|%llu|%llu|%llu|%n", &state, digest,
               &created, &expires, &lastuse, &used) != 5 || used == 0)
        return 0;
    end = strchr(buf + used, '|');
    if (!end || (size_t)(end - (buf + used)) >= sizeof out->last_source
        || sscanf(end, "|%llu", &revoked) != 1 || (state != 'a' && state != 'r'))
        return 0;
    memcpy(out->last_source, buf + used, (size_t)(end - (buf + used)));
    llen = field[0] == 'r' ? strcspn(label, ":") : flen - 2;
    if (llen == 0 || llen > SG_APP_LABEL_MAX)
        return 0;
    memcpy(out->label, label, llen);
    out->revoked = state == 'r';
    out->created_ms = (int64_t)created;
    out->expires_ms = (int64_t)expires;
    out->last_use_ms = (int64_t)lastuse;
    out->revoked_ms = (int64_t)revoked;
    return 1;
}

/* HGETALL of the settings hash, as a reply the caller frees. */
static int settings(struct sg_store *s, const char *account, char key[SG_KEY_MAX],
                    redisReply **r)
{
    const char *argv[2] = { "HGETALL", key };
    int rc;

    if ((rc = settings_key(s, account, key)) != SG_OK)
        return rc;
    if ((rc = simple(s, 2, argv, r)) != SG_OK)
        return rc;
    if ((*r)->type != REDIS_REPLY_ARRAY || (*r)->elements % 2) {
        freeReplyObject(*r);
        return SG_ESTORE;
    }
    return SG_OK;
}

static int is_record_field(const redisReply *f, char kind)
{
    return f->type == REDIS_REPLY_STRING && f->len > 2 && f->str[0] == kind && f->str[1] == ':';
}

int sg_app_add(struct sg_store *s, const char *account, const char *label,
               const char digest[SG_DIGEST_HEX], int64_t now_ms, int64_t expires_ms,
               int *exists, int *full)
{
    char key[SG_KEY_MAX], field[FIELD_MAX + 1], rec[RECORD_MAX];
    const char *argv[4] = { "HSETNX", key, field, rec };
    redisReply *r;
    size_t active = 0;
    int rc;

    *exists = *full = 0;
    if (!sg_app_label_valid(label) || strlen(digest) != SG_DIGEST_HEX - 1)
        return SG_EINVAL;
    if ((rc = settings(s, account, key, &r)) != SG_OK)
        return rc;
    for (size_t i = 0; i < r->elements; i += 2)
        active += is_record_field(r->element[i], 'p');
    freeReplyObject(r);
    if (active >= SG_APP_MAX_ACTIVE) {
        *full = 1;
        return SG_EINVAL;
    }
    snprintf(field, sizeof field, "p:%s", label);
    snprintf(rec, sizeof rec, "v1|a|%s|%" PRId64 "|%" PRId64 "|0||0", digest, now_ms, expires_ms);
    if ((rc = simple(s, 4, argv, &r)) != SG_OK)
        return rc;
    *exists = r->type == REDIS_REPLY_INTEGER && r->integer == 0;
    freeReplyObject(r);
    return *exists ? SG_EINVAL : SG_OK;
}

static int by_state_then_label(const void *a, const void *b)
{
    const struct sg_app_record *x = a, *y = b;

    if (x->revoked != y->revoked)
        return x->revoked - y->revoked;
    return strcmp(x->label, y->label);
}

int sg_app_list(struct sg_store *s, const char *account, struct sg_app_record *recs,
                size_t max, size_t *count)
{
    char key[SG_KEY_MAX];
    redisReply *r;
    int rc;

    *count = 0;
    if ((rc = settings(s, account, key, &r)) != SG_OK)
        return rc;
    for (size_t i = 0; i < r->elements && *count < max; i += 2) {
        const redisReply *f = r->element[i], *v = r->element[i + 1];

        if ((is_record_field(f, 'p') || is_record_field(f, 'r')) && v->type == REDIS_REPLY_STRING
            && parse_record(f->str, f->len, v->str, v->len, &recs[*count]))
            (*count)++;
    }
    freeReplyObject(r);
    qsort(recs, *count, sizeof *recs, by_state_then_label);
    return SG_OK;
}

/* Move one active record to its revoked field, atomically (MULTI/EXEC). */
static int revoke_one(struct sg_store *s, const char *key, const redisReply *f,
                      const redisReply *v, int64_t now_ms)
{
    char field[FIELD_MAX + 1], oldfield[FIELD_MAX + 1], rec[RECORD_MAX];
    const char *multi[1] = { "MULTI" }, *exec[1] = { "EXEC" };
    const char *hdel[3] = { "HDEL", key, oldfield };
    const char *hset[4] = { "HSET", key, field, rec };
    struct sg_app_record a;
    char digest[SG_DIGEST_HEX + 1];
    redisReply *r;
    int rc;

    if (!parse_record(f->str, f->len, v->str, v->len, &a) || a.revoked
        || v->len > RECORD_MAX || sscanf(v->str, "v1|a|%64[0-9a-f]|", digest) != 1)
        return SG_ENOTFOUND;
    snprintf(oldfield, sizeof oldfield, "p:%s", a.label);
    snprintf(field, sizeof field, "r:%s:%" PRId64, a.label, now_ms);
    snprintf(rec, sizeof rec, "v1|r|%s|%" PRId64 "|%" PRId64 "|%" PRId64 "|%s|%" PRId64,
             digest, a.created_ms, a.expires_ms, a.last_use_ms, a.last_source, now_ms);
    if ((rc = simple(s, 1, multi, &r)) != SG_OK)
        return rc;
    freeReplyObject(r);
    if ((rc = simple(s, 3, hdel, &r)) != SG_OK)
        return rc;
    freeReplyObject(r);
    if ((rc = simple(s, 4, hset, &r)) != SG_OK)
        return rc;
    freeReplyObject(r);
    if ((rc = simple(s, 1, exec, &r)) != SG_OK)
        return rc;
    freeReplyObject(r);
    return SG_OK;
}

int sg_app_revoke(struct sg_store *s, const char *account, const char *label,
                  int64_t now_ms, size_t *revoked)
{
    char key[SG_KEY_MAX];
    redisReply *r;
    int rc = SG_OK;

    *revoked = 0;
    if (label && !sg_app_label_valid(label))
        return SG_EINVAL;
    if ((rc = settings(s, account, key, &r)) != SG_OK)
        return rc;
    for (size_t i = 0; i < r->elements; i += 2) {
        const redisReply *f = r->element[i], *v = r->element[i + 1];
        int one;

        if (!is_record_field(f, 'p') || v->type != REDIS_REPLY_STRING)
            continue;
        if (label && (f->len - 2 != strlen(label) || memcmp(f->str + 2, label, f->len - 2)))
            continue;
        one = revoke_one(s, key, f, v, now_ms);
        if (one == SG_OK)
            (*revoked)++;
        else if (one != SG_ENOTFOUND) {
            rc = one;
            break;
        }
    }
    freeReplyObject(r);
    if (rc == SG_OK && *revoked == 0)
        return SG_ENOTFOUND;
    return rc;
}
