/*
 * passwd_file.h - saslguard's own password store (password_source = file:PATH).
 *
 * FORMAT
 *	One account per line, "ACCOUNT:HASH[:FLAG]...". Blank lines and lines
 *	whose first non-blank byte is '#' are ignored. ACCOUNT is matched
 *	byte for byte (no case folding), at most SG_ACCOUNT_MAX bytes, without
 *	':', blanks or control bytes. HASH is a crypt(3) string of libxcrypt:
 *	yescrypt "$y$", bcrypt "$2b$" ("$2a$", "$2y$"), SHA-512 "$6$", SHA-256
 *	"$5$", optionally behind a Dovecot scheme prefix ({SHA512-CRYPT},
 *	{SHA256-CRYPT}, {BLF-CRYPT}, {CRYPT}); or a cleartext password behind
 *	an explicit {PLAIN} (accepted with a warning). FLAGs: "mfa" marks a
 *	two-factor account (the engine treats it like the Redis mfa flag);
 *	empty flag fields are ignored, any other word is an error.
 *
 * LOADING
 *	All or nothing: any malformed line is an error "FILE:LINE: problem".
 *	The file must be a regular file (not a symlink), not writable by its
 *	group and not accessible by others (0640 or stricter). It is re-read
 *	when its inode, size, mtime or ctime change, checked at most once a
 *	second by sg_passwd_file_verify(); a new copy that does not load is
 *	logged and the last good copy stays in force.
 *
 * VERIFYING
 *	crypt_rn() and a constant-time comparison. An unknown account costs
 *	the same: a dummy verification with the file's most common hash
 *	setting (same algorithm and cost). Not thread-safe: one caller at a
 *	time per handle, as for the engine.
 *
 * WRITING
 *	sg_passwd_file_set/_delete rewrite the file atomically (temporary
 *	file in the same directory, fsync, rename, fsync of the directory),
 *	keeping its mode and owner, serialised by flock() on "PATH.lock".
 */
#ifndef SG_PASSWD_FILE_H
#define SG_PASSWD_FILE_H

#include <stddef.h>
#include <stdint.h>
#include "engine.h"
#include "log.h"

/* Account flags (trailing fields). */
#define SG_PWF_MFA 0x1u   /* "mfa": two-factor account, app passwords only */

/* A crypt(3) string and its terminating NUL fit in this (CRYPT_OUTPUT_SIZE). */
#define SG_PASSWD_HASH_MAX 384

struct sg_passwd_file;

/*
 * Load PATH. Every problem is logged through LOG at SG_LOG_ERR as
 * "saslguard: config error: FILE[:LINE]: problem"; then SG_ECONFIG (or
 * SG_ENOMEM) is returned and *out is NULL.
 */
int sg_passwd_file_open(const char *path, sg_log_fn log, void *log_ctx,
                        struct sg_passwd_file **out);

void sg_passwd_file_close(struct sg_passwd_file *pf);

/*
 * Verify PASSWORD for ACCOUNT (both may hold any bytes). Reloads the file
 * first when it changed (at most one check a second). SG_VERIFY_OK or
 * SG_VERIFY_BAD (wrong password, unknown account, a password with a NUL
 * byte or too long for crypt). *FLAGS (may be NULL) receives the
 * account's SG_PWF_* flags on success, else 0.
 */
enum sg_verify sg_passwd_file_verify(struct sg_passwd_file *pf, const char *account, size_t alen,
                                     const char *password, size_t plen, unsigned *flags);

/* Check the file now (not waiting for the second to pass) and reload it if
 * it changed. SG_OK: the copy in force is current; otherwise the error of
 * the new copy (logged), and the last good copy stays in force. */
int sg_passwd_file_reload(struct sg_passwd_file *pf);

/* Accounts in the copy in force. */
size_t sg_passwd_file_count(const struct sg_passwd_file *pf);

/* What the handle did, for tests and benchmarks. */
struct sg_passwd_file_stats {
    unsigned long hashes;     /* crypt_rn() (or {PLAIN} digest) computations */
    unsigned long dummies;    /* ... of them for unknown accounts */
    uint64_t hash_cpu_ns;     /* thread CPU time spent in them */
    unsigned long loads;      /* successful loads, the first one included */
};
void sg_passwd_file_stats(const struct sg_passwd_file *pf, struct sg_passwd_file_stats *out);

/*
 * Set ACCOUNT's hash in PATH to HASH (a line's hash field, as above: it is
 * validated), keeping its flags, or add the account at the end (*ADDED = 1,
 * may be NULL). Creates PATH (mode 0640) if missing. Refuses a file that
 * does not load (the reason, with FILE:LINE, in ERR). SG_OK, SG_EINVAL
 * (bad account or hash), SG_ECONFIG (file refused), SG_EIO, SG_ENOMEM.
 */
int sg_passwd_file_set(const char *path, const char *account, const char *hash, int *added,
                       char *err, size_t errlen);

/* May NAME be an account of the file? 1, or 0 with the reason in WHY. */
int sg_passwd_file_account_ok(const char *name, char *why, size_t wlen);

/* Remove ACCOUNT's line from PATH. SG_ENOTFOUND when it has none. */
int sg_passwd_file_delete(const char *path, const char *account, char *err, size_t errlen);

/* Hash schemes saslguard writes (sg_passwd_hash). */
enum sg_passwd_scheme {
    SG_PWS_YESCRYPT,   /* "$y$", libxcrypt's default cost */
    SG_PWS_BCRYPT,     /* "$2b$", cost 10 */
    SG_PWS_SHA512      /* "$6$", 5000 rounds */
};

/* "yescrypt", "bcrypt", "sha512" (also "sha-512"). SG_OK or SG_EINVAL. */
int sg_passwd_scheme_parse(const char *name, enum sg_passwd_scheme *out);
const char *sg_passwd_scheme_name(enum sg_passwd_scheme s);

/* A new crypt(3) hash of PASSWORD with a fresh random salt, into OUT
 * (SG_PASSWD_HASH_MAX). SG_EINVAL for a password with a NUL byte, empty,
 * or longer than crypt accepts (511 bytes); SG_EIO if libxcrypt fails. */
int sg_passwd_hash(enum sg_passwd_scheme s, const char *password, size_t plen,
                   char out[SG_PASSWD_HASH_MAX]);

#endif
