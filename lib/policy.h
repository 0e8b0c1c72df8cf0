/*
 * policy.h - the security-policy file (saslguard.conf(5)).
 *
 * One file of "key = value" lines, '#' comments, durations with units
 * (ms s m h d w), CIDR lists and enums. Every key has a default. Loading is
 * all or nothing: any unknown key, bad value or duplicate key is reported as
 * "FILE:LINE: KEY: problem" through the diagnostic callback, and the caller
 * gets SG_ECONFIG and no policy.
 */
#ifndef SG_POLICY_H
#define SG_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include "addr.h"

#define SG_DEFAULT_CONFIG "/etc/saslguard/saslguard.conf"
#define SG_KEY_PREFIX_MAX 32
#define SG_TRUSTED_MAX 64

enum sg_redis_kind { SG_REDIS_UNIX, SG_REDIS_TCP, SG_REDIS_SENTINEL };
#define SG_SENTINELS_MAX 8
#define SG_SENTINEL_NAME_MAX 64

/* A TCP endpoint: host name or address (IPv6 without brackets), port. */
struct sg_redis_node {
    char *host;
    int port;
};
enum sg_store_failure { SG_FAIL_TEMPFAIL, SG_FAIL_OPEN, SG_FAIL_CLOSED };
enum sg_app_passwords { SG_APP_PER_ACCOUNT, SG_APP_REQUIRED, SG_APP_OFF };
enum sg_password_source { SG_PWSRC_SASL, SG_PWSRC_FILE };
/* The reply to a correct primary password on an account that needs an app
 * password: say so (SASL_NOUSERPASS), or a plain authentication failure. */
enum sg_mfa_reply { SG_MFA_EXPLAIN, SG_MFA_REFUSE };

/* Durations are kept in milliseconds. */
struct sg_policy {
    /* where the Redis store is */
    enum sg_redis_kind redis_kind;
    char *redis_path;            /* unix socket path (SG_REDIS_UNIX) */
    char *redis_host;            /* host (SG_REDIS_TCP) */
    int redis_port;              /* port (SG_REDIS_TCP) */
    /* SG_REDIS_SENTINEL: the Sentinels to ask, in order, for the address
     * of the master named redis_master */
    struct sg_redis_node redis_sentinels[SG_SENTINELS_MAX];
    size_t redis_sentinel_count;
    char *redis_master;
    char *redis_sentinel_password_file;  /* NULL: Sentinels without AUTH */
    char *redis_password_file;   /* NULL: no AUTH */
    int redis_db;                /* SELECT this db when != 0 */
    uint64_t redis_timeout_ms;   /* connect and per-command timeout */

    /* account lockout */
    unsigned account_failures;
    uint64_t account_window_ms;
    uint64_t account_lock_ms;
    uint64_t account_lock_max_ms;

    /* source throttling */
    unsigned source_failures;
    uint64_t source_window_ms;
    uint64_t source_block_ms;
    unsigned ipv4_prefix;
    unsigned ipv6_prefix;
    unsigned spray_accounts;
    struct sg_prefix trusted[SG_TRUSTED_MAX];
    size_t trusted_count;
    uint64_t familiar_sources_ms;

    enum sg_store_failure store_failure;
    enum sg_app_passwords app_passwords;
    char key_prefix[SG_KEY_PREFIX_MAX + 1];
    enum sg_password_source password_source;
    char *password_file;         /* SG_PWSRC_FILE */
    char *secret_file;
    enum sg_mfa_reply mfa_primary_password;

    char *path;                  /* the file this policy came from */
};

/* Receives one human-readable diagnostic ("FILE:LINE: KEY: problem"). */
typedef void (*sg_diag_fn)(void *ctx, const char *msg);

/*
 * Parse PATH. On success *out is a new policy (free with sg_policy_free)
 * and SG_OK is returned. On failure every problem found is passed to DIAG
 * (may be NULL), *out is NULL and SG_ECONFIG (or SG_ENOMEM) is returned.
 */
int sg_policy_load(const char *path, struct sg_policy **out,
                   sg_diag_fn diag, void *diag_ctx);

/* Same, from a NUL-terminated buffer; NAME is used in diagnostics. */
int sg_policy_load_string(const char *name, const char *text,
                          struct sg_policy **out, sg_diag_fn diag, void *diag_ctx);

/* A policy with every key at its default (for tools and tests). */
int sg_policy_defaults(struct sg_policy **out);

void sg_policy_free(struct sg_policy *p);

/* "15m" -> 900000. Units: ms s m h d w; "0" alone is allowed. */
int sg_duration_parse(const char *text, uint64_t *ms);

/* 900000 -> "15m" (largest exact unit). */
void sg_duration_format(uint64_t ms, char *buf, size_t len);

/* Is ADDR inside one of the policy's trusted_networks? */
int sg_policy_is_trusted(const struct sg_policy *p, const struct sg_addr *addr);

#endif
