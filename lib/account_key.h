/*
 * account_key.h - map untrusted account names to Redis key parts.
 *
 * Account names are bytes from the network. A name is folded to ASCII lower
 * case (so "Alice" and "alice" share one counter: case games cannot dodge
 * the lockout) and then written with [a-z0-9.@_+-] kept as they are and
 * every other byte as %XX. The result never holds '{', '}', ':', spaces or
 * control bytes, so it cannot reach another key or another Cluster hash
 * slot, and distinct names map to distinct parts (encoding is injective on
 * the folded name). Names longer than SG_ACCOUNT_MAX bytes are mapped to
 * "~" + hex(SHA-256(folded name)), a form the encoding never produces.
 */
#ifndef SG_ACCOUNT_KEY_H
#define SG_ACCOUNT_KEY_H

#include <stddef.h>

#define SG_ACCOUNT_MAX 256
/* Worst case: every byte as %XX, plus NUL. */
#define SG_ACCOUNT_KEY_LEN (SG_ACCOUNT_MAX * 3 + 1)

/* Encode NAME (LEN bytes, may contain NUL) into OUT (SG_ACCOUNT_KEY_LEN). */
int sg_account_key(const char *name, size_t len, char *out, size_t outlen);

/* Decode a key part made by sg_account_key back to the folded name.
 * Hashed ("~...") parts cannot be decoded: SG_EINVAL. */
int sg_account_key_decode(const char *part, char *out, size_t outlen, size_t *outlen_used);

#define SG_ACCOUNT_PRINTABLE_LEN 260

/* Printable, bounded copy of NAME for logs: non-printables and spaces become
 * \xHH, at most 64 input bytes are shown, then "..." */
void sg_account_printable(const char *name, size_t len, char *out, size_t outlen);

#endif
