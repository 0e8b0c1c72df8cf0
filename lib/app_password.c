/*
 * app_password.c - app-specific passwords (see app_password.h).
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "app_password.h"
#include "status.h"

#define INPUT_MAX 256
/* The largest multiple of 26 that fits a byte: bytes at or above it are
 * drawn again, so every letter has exactly 9 of the 234 accepted values. */
#define ACCEPT_BELOW 234

char sg_app_password_letter(unsigned char byte)
{
    return byte < ACCEPT_BELOW ? (char)('a' + byte % 26) : 0;
}

int sg_app_password_generate(char out[SG_APP_PASSWORD_LEN + 1])
{
    unsigned char pool[64];
    size_t have = 0, used = 0;
    int n = 0;

    while (n < SG_APP_PASSWORD_LEN) {
        if (used == have) {
            if (RAND_bytes(pool, sizeof pool) != 1) {
                OPENSSL_cleanse(out, SG_APP_PASSWORD_LEN + 1);
                return SG_EIO;
            }
            have = sizeof pool;
            used = 0;
        }
        char c = sg_app_password_letter(pool[used++]);
        if (c)
            out[n++] = c;
    }
    out[SG_APP_PASSWORD_LEN] = '\0';
    OPENSSL_cleanse(pool, sizeof pool);
    return SG_OK;
}

void sg_app_password_show(const char pw[SG_APP_PASSWORD_LEN], char out[SG_APP_PASSWORD_SHOWN])
{
    size_t o = 0;

    for (int i = 0; i < SG_APP_PASSWORD_LEN; i++) {
        if (i > 0 && i % 4 == 0)
            out[o++] = ' ';
        out[o++] = pw[i];
    }
    out[o] = '\0';
}

int sg_app_password_normalize(const char *input, size_t len, char out[SG_APP_PASSWORD_LEN + 1])
{
    int n = 0;

    if (len > INPUT_MAX)
        return SG_EINVAL;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)input[i];

        if (c == ' ' || c == '\t' || c == '-')
            continue;
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        if (c < 'a' || c > 'z' || n == SG_APP_PASSWORD_LEN) {
            OPENSSL_cleanse(out, SG_APP_PASSWORD_LEN + 1);
            return SG_EINVAL;
        }
        out[n++] = (char)c;
    }
    if (n != SG_APP_PASSWORD_LEN) {
        OPENSSL_cleanse(out, SG_APP_PASSWORD_LEN + 1);
        return SG_EINVAL;
    }
    out[n] = '\0';
    return SG_OK;
}

int sg_app_password_digest(const struct sg_secret *s, const char *account_key,
                           const char letters[SG_APP_PASSWORD_LEN], char hex[SG_DIGEST_HEX])
{
    return sg_secret_hmac(s, "app-password", account_key, strlen(account_key),
                          letters, SG_APP_PASSWORD_LEN, hex);
}

int sg_app_label_valid(const char *label)
{
    size_t n = strlen(label);

    if (n == 0 || n > SG_APP_LABEL_MAX)
        return 0;
    return strspn(label, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}
