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
 *   Counters hold no zero-valued field: an absent field reads as 0.
 *   PREFIX:a:ACCOUNT   hash, one per account with recent failures or a lock
 *       n   failures from unfamiliar sources      ws  their window start (ms)
 *       lu  their lock end (ms); -1 = locked by an admin until unlocked
 *       fn, fws, flu  the same for failures from the account's familiar
 *           sources: counted apart, so an attacker cannot lock the owner out
 *       lvl escalation level of the last lock     le  when that lock ended
 *       lt  last failure time (ms)                ls  last failure source
 *       w<FP>  when a wrong password with keyed fingerprint FP (16 hex of an
 *           HMAC, never the password) was last seen; at most 32 (wc)
 *     TTL: until windows and locks have ended, and after a lock for
 *     account_lock_max more (the escalation memory). An admin lock
 *     (lua/admin.lua) sets lu to -1 and drops the TTL, or sets lu to now +
 *     its length with a TTL that covers it.
 *   PREFIX:f:ACCOUNT   sorted set of familiar sources: member = source text,
 *       score = last recorded successful login from there (ms); at most
 *       32; TTL familiar_sources after it. A success from a source whose
 *       score is younger than familiar_sources / 720 is not recorded again
 *       (a clean success, lua/check.lua): one round trip per login.
 *   PREFIX:s:SOURCE    hash, one per client source prefix with failures
 *       n   failures in the current window     ws  window start (ms)
 *       bu  block end (ms)
 *       k   distinct accounts failing in the window (spray detection)
 *       m<TAG>  one per such account (TAG: 10 hex of SHA-1 of its key
 *           part); at most spray_accounts + 1
 *     TTL: until both the window and the block have ended.
 *   PREFIX:u:ACCOUNT   hash, the account's settings, kept until an admin
 *       changes them (configuration, not counters: no TTL)
 *       mfa       "1": two-factor account, needs app passwords
 *       p:LABEL   one app password: v1|STATE|DIGEST|CREATED|EXPIRES|
 *                 LASTUSE|LASTSOURCE|REVOKED (STATE a or r; times in ms);
 *                 DIGEST is the keyed HMAC of app_password.h, never the
 *                 password
 *       r:LABEL:REVOKED  a revoked one, dropped after 90 days
 *   PREFIX:stats       hash, decisions counted by result name ("success",
 *       "bad_credentials", "locked", ...); a clean success is counted by
 *       check.lua in advance and taken back by report.lua if the outcome
 *       was another. The one key without a TTL: its
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

/* What check found about the presented password's app-password digest. */
enum sg_app_match {
    SG_APP_NONE = 0,     /* no app password of the account matches */
    SG_APP_OK,           /* an active one: the login succeeded */
    SG_APP_REVOKED,      /* a revoked one (kept 90 days to say so) */
    SG_APP_EXPIRED       /* one past its expiry */
};

#define SG_REVOKED_KEEP_MS (90ULL * 86400 * 1000)
#define SG_STORE_LABEL_MAX 32

/* One attempt as the store sees it. */
struct sg_store_attempt {
    const char *account;        /* sg_account_key() part */
    const char *source;         /* sg_prefix_format() text, or NULL if unknown */
    int source_counted;         /* 0: trusted network, no source counters */
    const char *app_digest;     /* check: app-password digest, or NULL */
    const char *fingerprint;    /* report failure: keyed HMAC of the wrong
                                 * password, or NULL */
    double jitter;              /* report failure: in [-0.1, 0.1], for a new
                                 * escalated lock */
    int clean_success_ok;       /* check: the caller reports this attempt's
                                 * outcome itself and will skip the report of
                                 * a success that changes nothing, so check
                                 * may count that success in advance
                                 * (sg_store_state.success_counted) */
    int take_back_success;      /* report: check counted this attempt as a
                                 * success in advance; the outcome is another */
};

struct sg_store_state {
    enum sg_check_state state;
    long failures;          /* account failures in the current window */
    long source_failures;   /* source failures in the current window */
    int64_t until_ms;       /* end of lock/block (epoch ms), 0 if none */
    int64_t now_ms;         /* Redis server time of the answer */
    int familiar;           /* the source is one of the account's familiar ones */
    int repeated;           /* report: the same wrong password again, not counted */
    long level;             /* report: escalation level of the account's lock */
    int spray;              /* report: this failure blocked the source for spraying */
    int needs_app_password; /* report "c": the account needs an app password */
    int mfa;                /* check only: the account needs app passwords */
    enum sg_app_match app_match;            /* check only */
    char app_label[SG_STORE_LABEL_MAX + 1]; /* check only: which app password */
    int success_counted;    /* check only: a success of this attempt would
                             * change nothing and is counted already: report
                             * nothing for a success, and report any other
                             * outcome with take_back_success set */
};

enum sg_report_kind {
    SG_REPORT_FAILURE,   /* count a failure */
    SG_REPORT_SUCCESS,   /* clear the account's failures, source now familiar */
    SG_REPORT_NEUTRAL,   /* change nothing; only count the statistic */
    SG_REPORT_SUCCESS_UNLESS_MFA  /* SUCCESS, or NEUTRAL counted as
                                   * app_password_required if the account
                                   * has the mfa flag (needs_app_password) */
};

/* Prepare a store for policy P (kept by reference; must outlive the store).
 * Does not connect. */
int sg_store_open(const struct sg_policy *p, struct sg_store **out);
void sg_store_close(struct sg_store *s);

/* Last error text (connect/command failure), for logs. */
const char *sg_store_error(const struct sg_store *s);

/* The same error in two parts, for tools that word their own message:
 * STEP is what failed ("connect", "AUTH", "command"...), DETAIL the reason
 * ("Connection refused"); both "" when there was no error. */
void sg_store_error_parts(const struct sg_store *s, const char **step, const char **detail);

/*
 * check: may ACCOUNT (an sg_account_key part) try to log in from SOURCE
 * (a prefix text, or NULL for no source / trusted source)? When allowed and
 * APP_DIGEST (or NULL) matches one of the account's active app passwords,
 * that is a successful login, recorded here (last use, failures cleared).
 * Changes no lockout state otherwise; refusals are counted in the
 * statistics. Returns SG_OK and fills OUT, or SG_ESTORE.
 */
int sg_store_check(struct sg_store *s, const struct sg_store_attempt *a,
                   struct sg_store_state *out);

/*
 * report a success without waiting for the reply: sent now, its reply is
 * read before the next command on the connection. A login's answer does not
 * depend on it, so a successful login waits for one round trip (check), not
 * two. The first report of a connection is made the ordinary way, which
 * loads report.lua into the server.
 */
int sg_store_report_deferred(struct sg_store *s, const struct sg_store_attempt *a,
                             const char *stat);

/* peek: the same answer as check, counting nothing (for admin tools).
 * ACCOUNT may be NULL to ask about SOURCE alone. */
int sg_store_peek(struct sg_store *s, const char *account, const char *source,
                  struct sg_store_state *out);

/* peek at ACCOUNT as a login from one of its familiar sources would see it
 * (the separate familiar counter and lock). */
int sg_store_peek_familiar(struct sg_store *s, const char *account, struct sg_store_state *out);

/*
 * report: count a failure for ACCOUNT and SOURCE (locking/blocking at the
 * thresholds), or on success clear ACCOUNT's failures; count STAT (a result
 * name, or NULL) in the statistics. OUT receives the state after the
 * report (state != ALLOWED when this failure locked).
 */
int sg_store_report(struct sg_store *s, const struct sg_store_attempt *a,
                    enum sg_report_kind kind, const char *stat, struct sg_store_state *out);

#endif
