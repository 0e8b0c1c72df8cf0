/*
 * secret.h - the site's HMAC key (policy key secret_file).
 *
 * One file of at least SG_SECRET_MIN bytes, mode 0600 or stricter, keys
 * every HMAC saslguard stores: app-password digests and wrong-password
 * fingerprints. Nothing in Redis or a log can be turned back into a
 * password without it. `saslguard secret init` creates it.
 */
#ifndef SG_SECRET_H
#define SG_SECRET_H

#include <stddef.h>
#include <sys/types.h>

#define SG_SECRET_MIN 32
#define SG_SECRET_MAX 512
#define SG_DIGEST_HEX 65   /* HMAC-SHA-256 as hex, with NUL */

struct evp_mac_st;

struct sg_secret {
    unsigned char key[SG_SECRET_MAX];
    size_t len;
    struct evp_mac_st *mac;     /* OpenSSL's HMAC, fetched once by load
                                 * (NULL: fetched per call); freed by wipe */
};

/*
 * Load PATH into OUT. Refuses (SG_ECONFIG, with the reason in ERR) a file
 * that is not a regular file, is readable or writable by group or others,
 * or holds fewer than SG_SECRET_MIN bytes (a trailing newline is ignored).
 * SG_EIO when it cannot be opened or read. OUT is overwritten: wipe a
 * secret loaded before with sg_secret_wipe() first.
 */
int sg_secret_load(const char *path, struct sg_secret *out, char *err, size_t errlen);

/* Create PATH (must not exist) with fresh random bytes, mode 0600, owned
 * by OWNER/GROUP (-1: unchanged). */
int sg_secret_create(const char *path, uid_t owner, gid_t group, char *err, size_t errlen);

/* HMAC-SHA-256 over DOMAIN NUL PART1 NUL PART2 (domain-separated, so one
 * key serves several uses), as lower-case hex. */
int sg_secret_hmac(const struct sg_secret *s, const char *domain,
                   const void *part1, size_t len1, const void *part2, size_t len2,
                   char hex[SG_DIGEST_HEX]);

/* Compare two equal-length secrets in constant time: 1 if equal. */
int sg_secret_equal(const void *a, const void *b, size_t len);

/* Wipe the key from memory and release what load took. */
void sg_secret_wipe(struct sg_secret *s);

/* Wipe any buffer that held a secret or password (not optimised away). */
void sg_secret_wipe_buffer(void *buf, size_t len);

#endif
