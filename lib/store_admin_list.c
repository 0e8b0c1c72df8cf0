/*
 * store_admin_list.c - listing accounts and sources, and the statistics
 * (see store_admin.h).
 *
 * DESCRIPTION
 *	sg_admin_list() walks the keys of one kind with SCAN MATCH, never
 *	KEYS, keeps only parts that sg_account_key() or sg_prefix_format()
 *	can produce (anything else under the prefix is counted as skipped),
 *	sorts them, drops SCAN's duplicates and asks sg_store_peek() about
 *	each, so "locked" means what the engine's check would say.
 *	sg_admin_stats() reads PREFIX:stats, keeping the fields that are
 *	result names with non-negative integer values.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "status.h"
#include "store_admin.h"
#include "store_internal.h"

/* A part sg_account_key() can produce. */
static int valid_account_part(const char *part)
{
    char name[SG_ACCOUNT_MAX + 1];

    return sg_admin_is_hashed_part(part)
        || sg_account_key_decode(part, name, sizeof name, NULL) == SG_OK;
}

static int valid_source_part(const char *part)
{
    redisReply r = { .type = REDIS_REPLY_STRING, .str = (char *)part, .len = strlen(part) };
    char canon[SG_PREFIX_STRLEN];

    return sg_admin_reply_source(&r, canon) == SG_OK;
}

static int add_part(struct sg_admin_list *l, size_t *cap, const char *part, size_t len)
{
    if (l->n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        struct sg_admin_entry *v = realloc(l->v, ncap * sizeof *v);

        if (!v)
            return SG_ENOMEM;
        l->v = v;
        *cap = ncap;
    }
    memset(&l->v[l->n], 0, sizeof l->v[l->n]);
    if (!(l->v[l->n].part = strndup(part, len)))
        return SG_ENOMEM;
    l->n++;
    return SG_OK;
}

/* Take the keys of one SCAN page; CURSOR becomes the next one ("0": done). */
static int scan_page(struct sg_store *s, enum sg_admin_kind kind, const char *pattern,
                     size_t plen, char cursor[SG_NUM_MAX + 1], struct sg_admin_list *l,
                     size_t *cap)
{
    const char *argv[6] = { "SCAN", cursor, "MATCH", pattern, "COUNT", "1000" };
    redisReply *r, *keys;
    int rc;

    if ((rc = sg_store_command(s, 6, argv, &r)) != SG_OK)
        return rc;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2
        || r->element[0]->type != REDIS_REPLY_STRING || r->element[0]->len == 0
        || r->element[0]->len > SG_NUM_MAX
        || strspn(r->element[0]->str, "0123456789") != r->element[0]->len
        || r->element[1]->type != REDIS_REPLY_ARRAY) {
        freeReplyObject(r);
        return sg_store_bad_reply(s, "SCAN: unexpected shape");
    }
    memcpy(cursor, r->element[0]->str, r->element[0]->len);
    cursor[r->element[0]->len] = '\0';
    keys = r->element[1];
    for (size_t i = 0; i < keys->elements && rc == SG_OK; i++) {
        const redisReply *k = keys->element[i];
        char part[SG_ACCOUNT_KEY_LEN];
        size_t len;

        if (k->type != REDIS_REPLY_STRING || k->len <= plen
            || (len = k->len - plen) >= sizeof part || memchr(k->str, '\0', k->len)) {
            l->skipped++;
            continue;
        }
        memcpy(part, k->str + plen, len);
        part[len] = '\0';
        if (!(kind == SG_ADMIN_ACCOUNTS ? valid_account_part(part) : valid_source_part(part))) {
            l->skipped++;
            continue;
        }
        if (l->n >= SG_ADMIN_LIST_MAX) {
            l->truncated = 1;
            break;
        }
        rc = add_part(l, cap, part, len);
    }
    freeReplyObject(r);
    return rc;
}

static int by_part(const void *a, const void *b)
{
    return strcmp(((const struct sg_admin_entry *)a)->part,
                  ((const struct sg_admin_entry *)b)->part);
}

int sg_admin_list(struct sg_store *s, enum sg_admin_kind kind, int refused_only,
                  struct sg_admin_list *out)
{
    char pattern[SG_KEY_MAX], cursor[SG_NUM_MAX + 1] = "0";
    size_t cap = 0, plen, kept = 0;
    int rc;

    memset(out, 0, sizeof *out);
    /* key_prefix holds no glob characters (policy.c allows [A-Za-z0-9_.-]) */
    if ((rc = sg_store_key(s, kind == SG_ADMIN_ACCOUNTS ? "a" : "s", "*", pattern,
                           sizeof pattern)) != SG_OK)
        return rc;
    plen = strlen(pattern) - 1;
    do {
        rc = scan_page(s, kind, pattern, plen, cursor, out, &cap);
    } while (rc == SG_OK && !out->truncated && strcmp(cursor, "0") != 0);
    if (rc != SG_OK)
        return rc;

    /* SCAN may return a key twice: sort, then keep each part once */
    if (out->n)
        qsort(out->v, out->n, sizeof *out->v, by_part);
    for (size_t i = 0; i < out->n; i++) {
        struct sg_admin_entry *e = &out->v[i];

        if (kept > 0 && strcmp(out->v[kept - 1].part, e->part) == 0) {
            free(e->part);
            continue;
        }
        rc = kind == SG_ADMIN_ACCOUNTS ? sg_store_peek(s, e->part, NULL, &e->st)
                                       : sg_store_peek(s, NULL, e->part, &e->st);
        if (rc == SG_OK && kind == SG_ADMIN_ACCOUNTS && e->st.state == SG_STATE_ALLOWED) {
            /* locked only for its familiar sources (smart lockout) */
            struct sg_store_state fam;

            rc = sg_store_peek_familiar(s, e->part, &fam);
            if (rc == SG_OK && fam.state != SG_STATE_ALLOWED)
                e->st = fam;
        }
        if (rc != SG_OK) {
            /* keep the rest freeable: move the unvisited tail down */
            memmove(&out->v[kept], &out->v[i], (out->n - i) * sizeof *out->v);
            out->n = kept + (out->n - i);
            return rc;
        }
        if (refused_only && e->st.state == SG_STATE_ALLOWED) {
            free(e->part);
            continue;
        }
        out->v[kept++] = *e;
    }
    out->n = kept;
    return SG_OK;
}

void sg_admin_list_free(struct sg_admin_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].part);
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* ---------------------------------------------------------------- stats */

int sg_admin_stats(struct sg_store *s, struct sg_admin_stats *out)
{
    char key[SG_KEY_MAX];
    const char *argv[2] = { "HGETALL", key };
    redisReply *r;
    int rc;

    memset(out, 0, sizeof *out);
    if ((rc = sg_store_key(s, "stats", NULL, key, sizeof key)) != SG_OK)
        return rc;
    if ((rc = sg_store_command(s, 2, argv, &r)) != SG_OK)
        return rc;
    /* the hash has one field per result name: far fewer than 4096 */
    if (r->type != REDIS_REPLY_ARRAY || r->elements % 2 != 0 || r->elements > 4096) {
        freeReplyObject(r);
        return sg_store_bad_reply(s, "HGETALL: unexpected shape");
    }
    for (size_t i = 0; i < r->elements; i += 2) {
        const redisReply *f = r->element[i];
        char name[33];
        long long v;
        int res = -1;

        if (f->type == REDIS_REPLY_STRING && f->len < sizeof name
            && !memchr(f->str, '\0', f->len)) {
            memcpy(name, f->str, f->len);
            name[f->len] = '\0';
            res = sg_result_from_name(name);
        }
        if (res < 0 || sg_admin_reply_int(r->element[i + 1], 0, INT64_MAX / 2, &v) != SG_OK) {
            out->unknown++;
            continue;
        }
        out->count[res] = v;
        if (out->total <= INT64_MAX / 2)
            out->total += v;
    }
    freeReplyObject(r);
    return SG_OK;
}
