/*
 * secret.c - load, create and use the site's HMAC key (see secret.h).
 *
 * The key is checked for permissions before it is read: a secret others
 * can read is no secret, and the admin gets a message naming the fix.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "secret.h"
#include "status.h"

int sg_secret_load(const char *path, struct sg_secret *out, char *err, size_t errlen)
{
    struct stat st;
    ssize_t n;
    size_t got = 0;
    int fd;

    memset(out, 0, sizeof *out);
    if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)) < 0) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return SG_EIO;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        snprintf(err, errlen, "%s: not a regular file", path);
        return SG_ECONFIG;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        close(fd);
        snprintf(err, errlen, "%s: mode %04o is too open: the secret must be mode 0600 or "
                 "stricter (chmod 600 %s)", path, (unsigned)(st.st_mode & 07777), path);
        return SG_ECONFIG;
    }
    while (got < sizeof out->key
           && (n = read(fd, out->key + got, sizeof out->key - got)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            close(fd);
            sg_secret_wipe(out);
            snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
            return SG_EIO;
        }
        got += (size_t)n;
    }
    close(fd);
    while (got > 0 && (out->key[got - 1] == '\n' || out->key[got - 1] == '\r'))
        got--;
    if (got < SG_SECRET_MIN) {
        sg_secret_wipe(out);
        snprintf(err, errlen, "%s: too short: at least %d bytes are needed "
                 "(create one with: saslguard secret init)", path, SG_SECRET_MIN);
        return SG_ECONFIG;
    }
    out->len = got;
    /* kept with the secret, not in a global: a PAM module is unloaded at
     * pam_end, and a process-wide cache would leak at every unload */
    out->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    return SG_OK;
}

int sg_secret_create(const char *path, uid_t owner, gid_t group, char *err, size_t errlen)
{
    unsigned char raw[48];
    char hex[2 * sizeof raw + 2];
    int fd, ok;

    if (RAND_bytes(raw, sizeof raw) != 1) {
        snprintf(err, errlen, "no random bytes from OpenSSL");
        return SG_EIO;
    }
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(hex + 2 * i, 3, "%02x", raw[i]);
    hex[2 * sizeof raw] = '\n';
    OPENSSL_cleanse(raw, sizeof raw);
    if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
        OPENSSL_cleanse(hex, sizeof hex);
        snprintf(err, errlen, "%s: cannot create: %s", path, strerror(errno));
        return SG_EIO;
    }
    ok = fchmod(fd, 0600) == 0
         && write(fd, hex, 2 * sizeof raw + 1) == (ssize_t)(2 * sizeof raw + 1)
         && (owner == (uid_t)-1 && group == (gid_t)-1 ? 1 : fchown(fd, owner, group) == 0)
         && fsync(fd) == 0;
    OPENSSL_cleanse(hex, sizeof hex);
    if (close(fd) != 0 || !ok) {
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
        unlink(path);
        return SG_EIO;
    }
    return SG_OK;
}

static void to_hex(const unsigned char *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

int sg_secret_hmac(const struct sg_secret *s, const char *domain,
                   const void *part1, size_t len1, const void *part2, size_t len2,
                   char hex[SG_DIGEST_HEX])
{
    static const unsigned char nul = 0;
    unsigned char md[EVP_MAX_MD_SIZE];
    size_t mdlen = 0;
    OSSL_PARAM params[2];
    EVP_MAC *mac;
    EVP_MAC_CTX *ctx = NULL;
    int ok;

    if (!s || s->len < SG_SECRET_MIN)
        return SG_EINVAL;
    /* a fetch walks OpenSSL's provider tables, which costs more than the
     * MAC itself (BENCHMARKS.md): load fetched it once for this secret */
    if (!(mac = s->mac ? s->mac : EVP_MAC_fetch(NULL, "HMAC", NULL)))
        return SG_ENOMEM;
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();
    ok = (ctx = EVP_MAC_CTX_new(mac)) != NULL
         && EVP_MAC_init(ctx, s->key, s->len, params)
         && EVP_MAC_update(ctx, (const unsigned char *)domain, strlen(domain))
         && EVP_MAC_update(ctx, &nul, 1)
         && EVP_MAC_update(ctx, part1, len1)
         && EVP_MAC_update(ctx, &nul, 1)
         && EVP_MAC_update(ctx, part2, len2)
         && EVP_MAC_final(ctx, md, &mdlen, sizeof md) && mdlen == 32;
    EVP_MAC_CTX_free(ctx);
    if (mac != s->mac)
        EVP_MAC_free(mac);
    if (!ok)
        return SG_ENOMEM;
    to_hex(md, mdlen, hex);
    OPENSSL_cleanse(md, sizeof md);
    return SG_OK;
}

int sg_secret_equal(const void *a, const void *b, size_t len)
{
    return CRYPTO_memcmp(a, b, len) == 0;
}

void sg_secret_wipe(struct sg_secret *s)
{
    EVP_MAC_free(s->mac);
    OPENSSL_cleanse(s, sizeof *s);
}

void sg_secret_wipe_buffer(void *buf, size_t len)
{
    OPENSSL_cleanse(buf, len);
}
