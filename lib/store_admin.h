/*
 * store_admin.h - what the admin tool reads and changes in the store.
 *
 * Lockout state is interpreted in one place, check.lua: whether an account
 * is locked or a source blocked, and until when, always comes from
 * sg_store_peek(). The raw hash fields (store.h's key schema) are read only
 * for details: window start, last failure time and source, escalation
 * level. Every value read from Redis is parsed with bounds; a malformed
 * field reads as absent, a reply of the wrong shape is SG_ESTORE.
 *
 * ACCOUNT arguments are sg_account_key() parts, SOURCE arguments
 * sg_prefix_format() texts, exactly as the engine uses them.
 */
#ifndef SG_STORE_ADMIN_H
#define SG_STORE_ADMIN_H

#include <stddef.h>
#include <stdint.h>

#include "account_key.h"
#include "addr.h"
#include "outcome.h"
#include "store.h"

/* Familiar sources shown per account (the most recent first). */
#define SG_ADMIN_FAMILIAR_MAX 32
/* sg_admin_list stops collecting after this many keys (truncated = 1). */
#define SG_ADMIN_LIST_MAX 100000

struct sg_admin_familiar {
    char source[SG_PREFIX_STRLEN];
    int64_t last_ms;                    /* last successful login from there */
};

struct sg_admin_account {
    struct sg_store_state st;           /* sg_store_peek(ACCOUNT, no source):
                                         * what unfamiliar sources get */
    struct sg_store_state st_familiar;  /* sg_store_peek_familiar(ACCOUNT):
                                         * what its familiar sources get */
    int exists;                         /* PREFIX:a:ACCOUNT exists */
    long raw_failures;                  /* n as stored, even after its window */
    int64_t window_start_ms;            /* ws, 0 if none */
    int64_t last_failure_ms;            /* lt, 0 if none */
    char last_source[SG_PREFIX_STRLEN]; /* ls, "" if none */
    long level;                         /* lvl (escalation), 0 if none */
    int64_t ttl_ms;                     /* PTTL: -1 none, -2 no key */
    /* PREFIX:f:ACCOUNT, read as a sorted set (member: source prefix,
     * score: last success in ms); absent or of another type: none. */
    size_t familiar_count;              /* entries in familiar[] */
    size_t familiar_total;              /* members in the set */
    struct sg_admin_familiar familiar[SG_ADMIN_FAMILIAR_MAX];
};

struct sg_admin_source {
    struct sg_store_state st;           /* sg_store_peek(no account, SOURCE) */
    int exists;                         /* PREFIX:s:SOURCE exists */
    long raw_failures;
    int64_t window_start_ms;
};

/* Everything about ACCOUNT (peek + details). SG_OK or SG_ESTORE/SG_EINVAL. */
int sg_admin_account(struct sg_store *s, const char *account, struct sg_admin_account *out);

/* Everything about SOURCE (peek + details). */
int sg_admin_source(struct sg_store *s, const char *source, struct sg_admin_source *out);

/*
 * Lock ACCOUNT: FOR_MS = 0 until unlocked (lu = -1: the engine answers
 * "disabled"), else for FOR_MS from now ("locked"), replacing any lock.
 * UNTIL_MS (-1 or the end) and NOW_MS (Redis time) may be NULL.
 */
int sg_admin_lock(struct sg_store *s, const char *account, uint64_t for_ms,
                  int64_t *until_ms, int64_t *now_ms);

/* Forget ACCOUNT's lock and failures (DEL PREFIX:a:ACCOUNT); its settings
 * (PREFIX:u:) stay. SG_ENOTFOUND if there was nothing to forget. */
int sg_admin_unlock(struct sg_store *s, const char *account);

/* Forget SOURCE's block and failures. SG_ENOTFOUND if there was none. */
int sg_admin_unblock(struct sg_store *s, const char *source);

enum sg_admin_kind { SG_ADMIN_ACCOUNTS, SG_ADMIN_SOURCES };

struct sg_admin_entry {
    char *part;                         /* account key part or source text */
    struct sg_store_state st;           /* sg_store_peek() of it */
};

struct sg_admin_list {
    struct sg_admin_entry *v;           /* sorted by part, no duplicates */
    size_t n;
    size_t skipped;                     /* keys under the prefix that no
                                           account/source part can produce */
    int truncated;                      /* stopped at SG_ADMIN_LIST_MAX */
};

/*
 * Every account (or source) with state, found with SCAN MATCH (never KEYS),
 * each with its peek answer; REFUSED_ONLY keeps those whose next attempt is
 * refused (locked, disabled, blocked). Free OUT with sg_admin_list_free,
 * also after an error.
 */
int sg_admin_list(struct sg_store *s, enum sg_admin_kind kind, int refused_only,
                  struct sg_admin_list *out);
void sg_admin_list_free(struct sg_admin_list *l);

struct sg_admin_stats {
    long long count[SG_RESULT_COUNT];   /* decisions by result */
    long long total;
    size_t unknown;                     /* fields that are no result name */
};

/* The decision statistics (PREFIX:stats). */
int sg_admin_stats(struct sg_store *s, struct sg_admin_stats *out);

/* Is PART a hashed account part ("~" + 64 lower-case hex digits)? */
int sg_admin_is_hashed_part(const char *part);

#endif
