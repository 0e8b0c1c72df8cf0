/*
 * account_key.c - map untrusted account names to Redis key parts.
 *
 * SYNOPSIS
 *	#include "account_key.h"
 *
 * DESCRIPTION
 *	sg_account_key() folds ASCII A-Z to a-z, then keeps [a-z0-9.@_+-]
 *	and writes every other byte as %XX (upper-case hex). This is
 *	percent-encoding with '%' itself escaped, so it is injective on the
 *	folded name. Names longer than SG_ACCOUNT_MAX bytes become "~" + the
 *	lower-case hex SHA-256 of the folded name; '~' is not in the kept
 *	alphabet, so no encoded name can look like a hashed one.
 *
 *	sg_account_key_decode() is the exact inverse on what sg_account_key()
 *	produces and rejects everything else, including non-canonical forms
 *	("%3a", "%61", "A"): a part that decodes is the one and only key of
 *	its name. OUT receives the folded bytes plus a terminating NUL, so it
 *	needs decoded length + 1 bytes (SG_ACCOUNT_MAX + 1 always suffices).
 *
 *	sg_account_printable() renders a name for a log line. The output is
 *	never longer than 64 * 4 + 3 bytes plus NUL ("\xHH" per byte, then
 *	"..."); a smaller buffer truncates at an escape boundary.
 *
 * DIAGNOSTICS
 *	SG_EINVAL for an empty name, NULL arguments, an output buffer that is
 *	too small (which then holds ""), or a part that is not a canonical
 *	encoding. SG_ENOMEM if OpenSSL cannot allocate a digest context.
 */
#include "account_key.h"
#include "status.h"

#include <openssl/evp.h>
#include <string.h>

/* Hashed form: '~' + 64 hex digits. */
#define SG_HASH_PART_LEN (1 + 2 * 32)
/* sg_account_printable shows at most this many input bytes. */
#define SG_PRINTABLE_MAX 64

static const char hex_upper[] = "0123456789ABCDEF";
static const char hex_lower[] = "0123456789abcdef";

static unsigned char fold(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

/* Bytes written literally; everything else is %XX. Never '~', '{', '}', ':'. */
static int is_kept(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
        || c == '.' || c == '@' || c == '_' || c == '+' || c == '-';
}

/* "~" + hex(SHA-256(folded name)), streamed so no copy of the name is made. */
static int hash_name(const unsigned char *name, size_t len, char *out, size_t outlen)
{
    unsigned char chunk[256], digest[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    EVP_MD_CTX *ctx;
    int ok;

    if (outlen < SG_HASH_PART_LEN + 1)
        return SG_EINVAL;
    ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        return SG_ENOMEM;
    ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    for (size_t done = 0; ok && done < len;) {
        size_t n = len - done < sizeof(chunk) ? len - done : sizeof(chunk);

        for (size_t i = 0; i < n; i++)
            chunk[i] = fold(name[done + i]);
        ok = EVP_DigestUpdate(ctx, chunk, n);
        done += n;
    }
    ok = ok && EVP_DigestFinal_ex(ctx, digest, &dlen);
    EVP_MD_CTX_free(ctx);
    if (!ok || dlen != 32)
        return SG_ENOMEM;  /* only an allocation inside OpenSSL can fail here */

    out[0] = '~';
    for (unsigned i = 0; i < dlen; i++) {
        out[1 + 2 * i] = hex_lower[digest[i] >> 4];
        out[2 + 2 * i] = hex_lower[digest[i] & 0x0f];
    }
    out[SG_HASH_PART_LEN] = '\0';
    return SG_OK;
}

static size_t encoded_len(const unsigned char *name, size_t len)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++)
        n += is_kept(fold(name[i])) ? 1 : 3;
    return n;
}

static int encode_name(const unsigned char *name, size_t len, char *out, size_t outlen)
{
    size_t pos = 0;

    /* Check the whole length first: never leave a half-written key behind. */
    if (encoded_len(name, len) >= outlen)
        return SG_EINVAL;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = fold(name[i]);

        if (is_kept(c)) {
            out[pos++] = (char)c;
        } else {
            out[pos++] = '%';
            out[pos++] = hex_upper[c >> 4];
            out[pos++] = hex_upper[c & 0x0f];
        }
    }
    out[pos] = '\0';
    return SG_OK;
}

int sg_account_key(const char *name, size_t len, char *out, size_t outlen)
{
    int rc;

    if (out == NULL || outlen == 0)
        return SG_EINVAL;
    out[0] = '\0';
    if (name == NULL || len == 0)
        return SG_EINVAL;
    if (len > SG_ACCOUNT_MAX)
        rc = hash_name((const unsigned char *)name, len, out, outlen);
    else
        rc = encode_name((const unsigned char *)name, len, out, outlen);
    if (rc != SG_OK)
        out[0] = '\0';
    return rc;
}

/* Value of an upper-case hex digit, or -1: the encoder writes no other. */
static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * Decode the %XX at P. Bytes the encoder writes literally, and A-Z (which
 * it folds), are rejected here so that every name has exactly one key.
 */
static int decode_escape(const char *p, unsigned char *byte)
{
    int hi = hex_value(p[0]);
    int lo = hi < 0 ? -1 : hex_value(p[1]);
    unsigned char c;

    if (hi < 0 || lo < 0)
        return SG_EINVAL;
    c = (unsigned char)(hi << 4 | lo);
    if (is_kept(c) || fold(c) != c)
        return SG_EINVAL;
    *byte = c;
    return SG_OK;
}

int sg_account_key_decode(const char *part, char *out, size_t outlen, size_t *outlen_used)
{
    size_t n = 0;

    if (outlen_used != NULL)
        *outlen_used = 0;
    if (out == NULL || outlen == 0)
        return SG_EINVAL;
    out[0] = '\0';
    if (part == NULL || part[0] == '\0')
        return SG_EINVAL;

    for (const char *p = part; *p != '\0'; n++) {
        unsigned char c = (unsigned char)*p;

        if (c == '%') {
            if (decode_escape(p + 1, &c) != SG_OK)
                goto invalid;
            p += 3;
        } else if (is_kept(c)) {
            p++;
        } else {
            goto invalid;  /* includes '~': hashed parts are one-way */
        }
        /* Longer names are hashed, never encoded; and keep room for NUL. */
        if (n >= SG_ACCOUNT_MAX || n + 1 >= outlen)
            goto invalid;
        out[n] = (char)c;
    }
    out[n] = '\0';
    if (outlen_used != NULL)
        *outlen_used = n;
    return SG_OK;

invalid:
    out[0] = '\0';
    return SG_EINVAL;
}

/* Shown as is in a log line: no space, quote, backslash or '=' (key=value logs). */
static int is_plain_printable(unsigned char c)
{
    return c > 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '=';
}

/* Write byte C as shown in a log into UNIT; return its length (1 or 4). */
static size_t render_byte(unsigned char c, char unit[4])
{
    if (is_plain_printable(c)) {
        unit[0] = (char)c;
        return 1;
    }
    unit[0] = '\\';
    unit[1] = 'x';
    unit[2] = hex_lower[c >> 4];
    unit[3] = hex_lower[c & 0x0f];
    return 4;
}

static size_t rendered_len(const unsigned char *name, size_t len)
{
    char unit[4];
    size_t n = 0;

    for (size_t i = 0; i < len; i++)
        n += render_byte(name[i], unit);
    return n;
}

void sg_account_printable(const char *name, size_t len, char *out, size_t outlen)
{
    const unsigned char *bytes = (const unsigned char *)name;
    size_t shown = len > SG_PRINTABLE_MAX ? SG_PRINTABLE_MAX : len;
    int truncated = len > SG_PRINTABLE_MAX;
    size_t room, pos = 0;

    if (out == NULL || outlen == 0)
        return;
    if (bytes == NULL)
        shown = 0, truncated = 0;
    /* A buffer too small for everything gets whole units, then "...". */
    if (rendered_len(bytes, shown) + (truncated ? 3 : 0) + 1 > outlen)
        truncated = 1;
    room = outlen - 1;
    if (truncated && room >= 3)
        room -= 3;

    for (size_t i = 0; i < shown; i++) {
        char unit[4];
        size_t ulen = render_byte(bytes[i], unit);

        if (pos + ulen > room)
            break;
        memcpy(out + pos, unit, ulen);
        pos += ulen;
    }
    if (truncated && pos + 3 + 1 <= outlen) {
        memcpy(out + pos, "...", 3);
        pos += 3;
    }
    out[pos] = '\0';
}
