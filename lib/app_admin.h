/*
 * app_admin.h - manage two-factor flags and app passwords in the store.
 *
 * The records live in the account's settings hash PREFIX:u:ACCOUNT (see
 * store.h): "mfa" and one "p:LABEL" field per active app password. Revoking
 * moves a record to "r:LABEL:REVOKED_MS" (state r), where check.lua still
 * finds it for 90 days to say "revoked" instead of "wrong password", while
 * the label is free for a new device. Only digests are stored.
 *
 * ACCOUNT arguments are sg_account_key() parts.
 */
#ifndef SG_APP_ADMIN_H
#define SG_APP_ADMIN_H

#include <stddef.h>
#include <stdint.h>

#include "app_password.h"
#include "store.h"

/* At most this many active app passwords per account: check.lua reads them
 * all on every login that looks like an app password. */
#define SG_APP_MAX_ACTIVE 20

struct sg_app_record {
    char label[SG_APP_LABEL_MAX + 1];
    int revoked;                 /* 0 active, 1 revoked */
    int64_t created_ms;
    int64_t expires_ms;          /* 0: never */
    int64_t last_use_ms;         /* 0: never used */
    char last_source[64];        /* "" if never used */
    int64_t revoked_ms;          /* 0 unless revoked */
};

/* What a record means at NOW_MS (Redis time), as check.lua reads it. */
enum sg_app_state {
    SG_APP_STATE_ACTIVE = 0,     /* logs in */
    SG_APP_STATE_EXPIRED,        /* active record past its expiry */
    SG_APP_STATE_REVOKED         /* revoked by an admin */
};
enum sg_app_state sg_app_record_state(const struct sg_app_record *r, int64_t now_ms);
/* "active", "expired", "revoked" */
const char *sg_app_state_name(enum sg_app_state st);

/* Why an account needs an app password (the engine's rule, engine.c). */
enum sg_app_need {
    SG_APP_NEED_NONE = 0,        /* its primary password logs in */
    SG_APP_NEED_MFA,             /* app_passwords = per-account and its flag is on */
    SG_APP_NEED_POLICY           /* app_passwords = required */
};
enum sg_app_need sg_app_needed(const struct sg_policy *p, int mfa);

/* Turn the two-factor flag on or off. */
int sg_app_mfa_set(struct sg_store *s, const char *account, int on);
/* Read it: *on = 0 or 1. */
int sg_app_mfa_get(struct sg_store *s, const char *account, int *on);

/*
 * Store the digest of a new app password LABEL, created at NOW_MS, expiring
 * at EXPIRES_MS (0: never). SG_EINVAL for a bad label or digest; also
 * SG_EINVAL, with *exists = 1, when an active record (expired or not) has
 * that label, and with *full = 1 when SG_APP_MAX_ACTIVE records are active;
 * SG_ESTORE when Redis fails.
 */
int sg_app_add(struct sg_store *s, const char *account, const char *label,
               const char digest[SG_DIGEST_HEX], int64_t now_ms, int64_t expires_ms,
               int *exists, int *full);

/* The account's records, active first, then revoked; *count set. RECS has
 * room for MAX. Malformed records are skipped. */
int sg_app_list(struct sg_store *s, const char *account, struct sg_app_record *recs,
                size_t max, size_t *count);

/* Revoke LABEL, or every active app password when LABEL is NULL, at NOW_MS.
 * *revoked says how many; SG_ENOTFOUND when none was active. */
int sg_app_revoke(struct sg_store *s, const char *account, const char *label,
                  int64_t now_ms, size_t *revoked);

#endif
