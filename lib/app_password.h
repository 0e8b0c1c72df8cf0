/*
 * app_password.h - app-specific passwords: generate, normalise, digest.
 *
 * An app password is 16 random lower-case letters (75 bits), shown once as
 * four groups of four ("abcd efgh ijkl mnop"). On input, spaces, tabs and
 * dashes are ignored and case is folded, so whatever a user types from the
 * screen works. Only a keyed digest is stored:
 *   HMAC-SHA-256(secret, "app-password" NUL account NUL letters)
 * bound to the account, so the same letters never match another account.
 * High entropy makes a fast keyed hash safe here: no slow hashing needed.
 */
#ifndef SG_APP_PASSWORD_H
#define SG_APP_PASSWORD_H

#include <stddef.h>
#include "secret.h"

#define SG_APP_PASSWORD_LEN 16
#define SG_APP_PASSWORD_SHOWN 20   /* 4 groups + 3 spaces + NUL */
#define SG_APP_LABEL_MAX 32

/* Fill OUT with 16 uniformly random letters and a NUL (OpenSSL RAND_bytes,
 * rejection sampling: no modulo bias). */
int sg_app_password_generate(char out[SG_APP_PASSWORD_LEN + 1]);

/* The letter one random byte stands for, or 0 when the byte is rejected
 * and another must be drawn: every letter has exactly 9 of the 234
 * accepted byte values. Exposed so a test can prove the mapping unbiased
 * over all 256 bytes. */
char sg_app_password_letter(unsigned char byte);

/* "abcdefghijklmnop" -> "abcd efgh ijkl mnop". */
void sg_app_password_show(const char pw[SG_APP_PASSWORD_LEN], char out[SG_APP_PASSWORD_SHOWN]);

/* Strip blanks and dashes, fold case; SG_OK only if exactly 16 letters
 * remain (then OUT holds them and a NUL), SG_EINVAL otherwise. INPUT is at
 * most a few hundred bytes of user input; longer is SG_EINVAL at once. */
int sg_app_password_normalize(const char *input, size_t len, char out[SG_APP_PASSWORD_LEN + 1]);

/* The stored digest for ACCOUNT (its sg_account_key form) and the letters. */
int sg_app_password_digest(const struct sg_secret *s, const char *account_key,
                           const char letters[SG_APP_PASSWORD_LEN], char hex[SG_DIGEST_HEX]);

/* A label names a device: 1..32 of [A-Za-z0-9._-]. */
int sg_app_label_valid(const char *label);

#endif
