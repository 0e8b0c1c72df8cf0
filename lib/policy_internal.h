/*
 * policy_internal.h - what policy.c (the file and its key table) and
 * policy_values.c (the value parsers, one setter per kind of key) share.
 * Not for use outside the policy module.
 */
#ifndef SG_POLICY_INTERNAL_H
#define SG_POLICY_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "status.h"

#define LINE_MAX_BYTES 4096             /* per line, without the line end */
#define FILE_MAX_BYTES (1024 * 1024)    /* a policy is a few hundred bytes */
#define DURATION_MAX (3650ULL * 86400000ULL)   /* 10 years: callers may add and double */
#define QUOTE_MAX 64                    /* bytes of a bad value echoed back */
#define DIAG_MAX 8192
#define UNITS_HINT "ms, s, m, h, d, w"

#ifdef __GNUC__
#define SG_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define SG_PRINTF(f, a)
#endif

/* Index into the key table. */
enum key_id {
    K_REDIS, K_REDIS_PASSWORD_FILE, K_REDIS_SENTINEL_PASSWORD_FILE, K_REDIS_DB, K_REDIS_TIMEOUT,
    K_ACCOUNT_FAILURES, K_ACCOUNT_WINDOW, K_ACCOUNT_LOCK, K_ACCOUNT_LOCK_MAX,
    K_SOURCE_FAILURES, K_SOURCE_WINDOW, K_SOURCE_BLOCK,
    K_IPV4_PREFIX, K_IPV6_PREFIX, K_SPRAY_ACCOUNTS, K_TRUSTED_NETWORKS,
    K_FAMILIAR_SOURCES, K_STORE_FAILURE, K_APP_PASSWORDS, K_KEY_PREFIX,
    K_PASSWORD_SOURCE, K_SECRET_FILE, K_MFA_PRIMARY_PASSWORD,
    K_COUNT
};

/* One parse run: where we are and what we have seen. */
struct parser {
    const char *name;             /* file name for diagnostics */
    sg_diag_fn diag;
    void *diag_ctx;
    unsigned errors;
    unsigned seen[K_COUNT];       /* line a key was set on; 0: not set */
    unsigned char bad[K_COUNT];   /* that line was rejected */
};

/* One "key = value" being applied. */
struct item {
    struct parser *ps;
    enum key_id key;
    unsigned line;
    const char *value;
};

typedef int (*setter_fn)(const struct item *it, struct sg_policy *p);

#define KEY_EMPTY_OK 1                  /* an empty value means "none" */

struct key_def {
    const char *name;
    setter_fn set;
    size_t offset;                      /* field, for the generic setters */
    uint64_t min, max;                  /* range, for numbers and durations */
    const char *def;                    /* default, as a user writes it */
    unsigned flags;
};

/* The key table, in policy.c. */
extern const struct key_def sg_policy_keys[K_COUNT];

/* Bounded copy of untrusted text for a diagnostic. */
const char *sg_policy_quote(const char *s, char *buf, size_t len);

/* Count and report one problem as FILE:LINE: KEY: problem. */
SG_PRINTF(4, 5)
void sg_policy_report(struct parser *ps, unsigned line, const char *key, const char *fmt, ...);

/* Report a bad value of the item's key; returns SG_ECONFIG for the setter. */
#define item_error(it, ...) \
    (sg_policy_report((it)->ps, (it)->line, sg_policy_keys[(it)->key].name, __VA_ARGS__), SG_ECONFIG)

/* Set *SLOT to a copy of S (LEN bytes), or to NULL when S is NULL. */
int sg_policy_replace(char **slot, const char *s, size_t len);

/* The setters of the key table (policy_values.c). */
int sg_policy_set_duration(const struct item *it, struct sg_policy *p);
int sg_policy_set_unsigned(const struct item *it, struct sg_policy *p);
int sg_policy_set_int(const struct item *it, struct sg_policy *p);
int sg_policy_set_path(const struct item *it, struct sg_policy *p);
int sg_policy_set_redis(const struct item *it, struct sg_policy *p);
int sg_policy_set_trusted(const struct item *it, struct sg_policy *p);
int sg_policy_set_store_failure(const struct item *it, struct sg_policy *p);
int sg_policy_set_app_passwords(const struct item *it, struct sg_policy *p);
int sg_policy_set_mfa_primary_password(const struct item *it, struct sg_policy *p);
int sg_policy_set_key_prefix(const struct item *it, struct sg_policy *p);
int sg_policy_set_password_source(const struct item *it, struct sg_policy *p);

#endif
