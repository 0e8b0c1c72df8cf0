/*
 * store.h - the shared failure store (Redis).
 *
 * Every operation is one round trip: EVALSHA of an embedded Lua script,
 * falling back to EVAL when Redis answers NOSCRIPT. The connection is made
 * lazily on first use and dropped after any error, to be made again by the
 * next call. Time comes from the Redis server (TIME inside the scripts), so
 * all mail servers of a site agree on windows and lock ends.
 *
 * Key schema (PREFIX is the policy's key_prefix):
 *   PREFIX:a:ACCOUNT   hash, one per account with recent failures or a lock
 *       n   failures in the current window     ws  window start (ms)
 *       lu  lock end (ms); -1 = locked by an admin until unlocked
 *       lt  last failure time (ms)             ls  last failure source
 *     TTL: until both the window and the lock have ended.
 *   PREFIX:s:SOURCE    hash, one per client source prefix with failures
 *       n   failures in the current window     ws  window start (ms)
 *       bu  block end (ms)
 *     TTL: until both the window and the block have ended.
 *   PREFIX:stats       hash, decisions counted by result name ("success",
 *       "bad_credentials", "locked", ...). The one key without a TTL: its
 *       size is bounded by the number of result names, not by traffic.
 * ACCOUNT is sg_account_key()'s encoding; SOURCE is sg_prefix_format()'s
 * text ("192.0.2.0/24", "2001:db8::/64").
 */
#ifndef SG_STORE_H
#define SG_STORE_H

#include <stdint.h>
#include "policy.h"

struct sg_store;

enum sg_check_state {
    SG_STATE_ALLOWED = 0,
    SG_STATE_ACCOUNT_LOCKED,    /* temporary lock, until until_ms */
    SG_STATE_ACCOUNT_DISABLED,  /* admin lock without end */
    SG_STATE_SOURCE_BLOCKED     /* source blocked until until_ms */
};

struct sg_store_state {
    enum sg_check_state state;
    long failures;          /* account failures in the current window */
    long source_failures;   /* source failures in the current window */
    int64_t until_ms;       /* end of lock/block (epoch ms), 0 if none */
    int64_t now_ms;         /* Redis server time of the answer */
};

enum sg_report_kind { SG_REPORT_FAILURE, SG_REPORT_SUCCESS };

/* Prepare a store for policy P (kept by reference; must outlive the store).
 * Does not connect. */
int sg_store_open(const struct sg_policy *p, struct sg_store **out);
void sg_store_close(struct sg_store *s);

/* Last error text (connect/command failure), for logs. */
const char *sg_store_error(const struct sg_store *s);

/*
 * check: may ACCOUNT (an sg_account_key part) try to log in from SOURCE
 * (a prefix text, or NULL for no source / trusted source)? Changes no
 * lockout state; a refusal is counted in the statistics.
 * Returns SG_OK and fills OUT, or SG_ESTORE.
 */
int sg_store_check(struct sg_store *s, const char *account, const char *source,
                   struct sg_store_state *out);

/* peek: the same answer as check, counting nothing (for admin tools). */
int sg_store_peek(struct sg_store *s, const char *account, const char *source,
                  struct sg_store_state *out);

/*
 * report: count a failure for ACCOUNT and SOURCE (locking/blocking at the
 * thresholds), or on success clear ACCOUNT's failures; count STAT (a result
 * name, or NULL) in the statistics. OUT receives the state after the
 * report (state != ALLOWED when this failure locked).
 */
int sg_store_report(struct sg_store *s, const char *account, const char *source,
                    enum sg_report_kind kind, const char *stat, struct sg_store_state *out);

#endif
