/*
 * addr.c - client addresses and source prefixes.
 *
 * SYNOPSIS
 *	#include "addr.h"
 *
 * DESCRIPTION
 *	sg_addr_parse() reads the client address an MTA hands over:
 *	"192.0.2.7;40000" and "2001:db8::1;40000" (Cyrus ipremoteport),
 *	bare "192.0.2.7" / "2001:db8::1", "[2001:db8::1]:25", "[2001:db8::1]"
 *	and "192.0.2.7:25". The port is checked (decimal, 0..65535) and
 *	dropped: a source is an address, never an address and port.
 *	IPv4-mapped IPv6 ("::ffff:192.0.2.7") becomes plain IPv4, so one
 *	client is one source whichever socket family the MTA listens on.
 *
 *	sg_addr_to_prefix() reduces an address to its source prefix.
 *	sg_prefix_parse() reads "192.0.2.0/24", "2001:db8::/32" or a bare
 *	address (full length); host bits set in the text are cleared, as
 *	admins often write "192.0.2.1/24". "::ffff:10.0.0.0/104" is the IPv4
 *	prefix 10.0.0.0/8. sg_prefix_contains() matches one address.
 *
 *	Parsing uses inet_pton() only: no name is ever resolved.
 *
 * DIAGNOSTICS
 *	SG_EINVAL for an empty, over-long (> 128 bytes) or malformed text,
 *	a zone id ("fe80::1%eth0": a zone names a local link, so it cannot
 *	identify a remote source), a bad port, prefix length out of range, an
 *	IPv4-mapped prefix shorter than /96 (it would span non-IPv4 space), or
 *	an output buffer that is too small (which then holds "").
 *	On error, *out is left untouched.
 */
#include "addr.h"
#include "status.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* Longest input accepted: far above any real address, bounds all copies. */
#define SG_ADDR_TEXT_MAX 128

static const uint8_t v4mapped_head[12] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/* Length of TEXT, or SG_ADDR_TEXT_MAX + 1 if it is longer than allowed. */
static size_t bounded_len(const char *text)
{
    return strnlen(text, SG_ADDR_TEXT_MAX + 1);
}

static int is_v4mapped(const uint8_t bytes[16])
{
    return memcmp(bytes, v4mapped_head, sizeof(v4mapped_head)) == 0;
}

/*
 * Parse exactly LEN bytes of TEXT as a decimal number in 0..MAX. No sign,
 * no spaces, at most 5 digits: strtoul() would accept all of those.
 */
static int parse_decimal(const char *text, size_t len, unsigned max, unsigned *out)
{
    unsigned value = 0;

    if (len == 0 || len > 5)
        return SG_EINVAL;
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return SG_EINVAL;
        value = value * 10 + (unsigned)(text[i] - '0');
    }
    if (value > max)
        return SG_EINVAL;
    *out = value;
    return SG_OK;
}

#define SG_ALLOW_V4 1
#define SG_ALLOW_V6 2

/*
 * Parse LEN bytes of TEXT as a bare IPv4 or IPv6 address (ALLOW is a
 * bitmask of which). The copy makes the text NUL-terminated for inet_pton.
 * Mapped IPv6 is kept as IPv6 here; callers decide how to fold it.
 */
static int parse_host(const char *text, size_t len, int allow, struct sg_addr *out)
{
    char buf[SG_ADDR_TEXT_MAX + 1];
    struct sg_addr addr;

    if (len == 0 || len > SG_ADDR_TEXT_MAX)
        return SG_EINVAL;
    memcpy(buf, text, len);
    buf[len] = '\0';
    /* glibc's inet_pton rejects zones already; say it here on purpose. */
    if (strchr(buf, '%') != NULL)
        return SG_EINVAL;

    memset(&addr, 0, sizeof(addr));
    if ((allow & SG_ALLOW_V4) && inet_pton(AF_INET, buf, addr.bytes) == 1) {
        addr.family = AF_INET;
    } else if ((allow & SG_ALLOW_V6) && inet_pton(AF_INET6, buf, addr.bytes) == 1) {
        addr.family = AF_INET6;
    } else {
        return SG_EINVAL;
    }
    *out = addr;
    return SG_OK;
}

/* Turn ::ffff:a.b.c.d into a.b.c.d; leave everything else alone. */
static void fold_v4mapped(struct sg_addr *addr)
{
    if (addr->family != AF_INET6 || !is_v4mapped(addr->bytes))
        return;
    memmove(addr->bytes, addr->bytes + 12, 4);
    memset(addr->bytes + 4, 0, 12);
    addr->family = AF_INET;
}

static int check_port(const char *text, size_t len)
{
    unsigned port;

    return parse_decimal(text, len, 65535, &port);
}

/* "[v6]", "[v6]:port" or "[v6];port". */
static int parse_bracketed(const char *text, size_t len, struct sg_addr *out)
{
    const char *close = memchr(text, ']', len);
    size_t rest;

    if (close == NULL)
        return SG_EINVAL;
    rest = len - (size_t)(close + 1 - text);
    if (rest > 0 && (close[1] != ':' && close[1] != ';'))
        return SG_EINVAL;
    if (rest > 0 && check_port(close + 2, rest - 1) != SG_OK)
        return SG_EINVAL;
    return parse_host(text + 1, (size_t)(close - text - 1), SG_ALLOW_V6, out);
}

/*
 * Split TEXT into host and port and parse the host. ';' always separates
 * a port (Cyrus). Otherwise a single ':' can only be IPv4 ":port", since
 * an IPv6 address has at least two colons; two or more means bare IPv6
 * ("2001:db8::1:25" is an address, not a port: unbracketed IPv6 can't carry one).
 */
static int parse_unbracketed(const char *text, size_t len, struct sg_addr *out)
{
    const char *semi = memchr(text, ';', len);
    const char *colon = memchr(text, ':', len);

    if (semi != NULL) {
        size_t hostlen = (size_t)(semi - text);

        if (check_port(semi + 1, len - hostlen - 1) != SG_OK)
            return SG_EINVAL;
        return parse_host(text, hostlen, SG_ALLOW_V4 | SG_ALLOW_V6, out);
    }
    if (colon != NULL && memchr(colon + 1, ':', len - (size_t)(colon + 1 - text)) == NULL) {
        size_t hostlen = (size_t)(colon - text);

        if (check_port(colon + 1, len - hostlen - 1) != SG_OK)
            return SG_EINVAL;
        return parse_host(text, hostlen, SG_ALLOW_V4, out);
    }
    return parse_host(text, len, SG_ALLOW_V4 | SG_ALLOW_V6, out);
}

int sg_addr_parse(const char *text, struct sg_addr *out)
{
    struct sg_addr addr;
    size_t len;
    int rc;

    if (text == NULL || out == NULL)
        return SG_EINVAL;
    len = bounded_len(text);
    if (len == 0 || len > SG_ADDR_TEXT_MAX)
        return SG_EINVAL;
    if (text[0] == '[')
        rc = parse_bracketed(text, len, &addr);
    else
        rc = parse_unbracketed(text, len, &addr);
    if (rc != SG_OK)
        return rc;
    fold_v4mapped(&addr);
    *out = addr;
    return SG_OK;
}

static unsigned family_bits(int family)
{
    return family == AF_INET ? 32 : 128;
}

/* Clear every bit after the first BITS of BYTES (16 bytes). */
static void mask_bytes(uint8_t bytes[16], unsigned bits)
{
    for (unsigned i = 0; i < 16; i++) {
        if (bits >= 8) {
            bits -= 8;
        } else {
            bytes[i] &= (uint8_t)(0xff00u >> bits);
            bits = 0;
        }
    }
}

void sg_addr_to_prefix(const struct sg_addr *addr, unsigned v4bits,
                       unsigned v6bits, struct sg_prefix *out)
{
    unsigned bits = addr->family == AF_INET ? v4bits : v6bits;
    unsigned max = family_bits(addr->family);

    memset(out, 0, sizeof(*out));
    out->addr = *addr;
    out->bits = bits > max ? max : bits;
    mask_bytes(out->addr.bytes, out->bits);
}

/*
 * A mapped address names IPv4, so its prefix becomes IPv4 too; but only
 * from /96 on, as a shorter one also covers real IPv6 space and the admin's
 * intent is unclear. Runs before masking, which could erase the ::ffff head.
 */
static int fold_v4mapped_prefix(struct sg_prefix *prefix)
{
    if (prefix->addr.family != AF_INET6 || !is_v4mapped(prefix->addr.bytes))
        return SG_OK;
    if (prefix->bits < 96)
        return SG_EINVAL;
    fold_v4mapped(&prefix->addr);
    prefix->bits -= 96;
    return SG_OK;
}

int sg_prefix_parse(const char *text, struct sg_prefix *out)
{
    struct sg_prefix prefix;
    const char *slash;
    size_t len, hostlen;

    if (text == NULL || out == NULL)
        return SG_EINVAL;
    len = bounded_len(text);
    if (len == 0 || len > SG_ADDR_TEXT_MAX)
        return SG_EINVAL;

    memset(&prefix, 0, sizeof(prefix));
    slash = memchr(text, '/', len);
    hostlen = slash != NULL ? (size_t)(slash - text) : len;
    if (parse_host(text, hostlen, SG_ALLOW_V4 | SG_ALLOW_V6, &prefix.addr) != SG_OK)
        return SG_EINVAL;
    prefix.bits = family_bits(prefix.addr.family);
    if (slash != NULL
        && parse_decimal(slash + 1, len - hostlen - 1, prefix.bits, &prefix.bits) != SG_OK)
        return SG_EINVAL;
    if (fold_v4mapped_prefix(&prefix) != SG_OK)
        return SG_EINVAL;
    mask_bytes(prefix.addr.bytes, prefix.bits);
    *out = prefix;
    return SG_OK;
}

/* Do A and B agree on their first BITS bits (BITS <= 128)? */
static int leading_bits_equal(const uint8_t a[16], const uint8_t b[16], unsigned bits)
{
    size_t whole = bits / 8;
    unsigned rest = bits % 8;

    if (memcmp(a, b, whole) != 0)
        return 0;
    if (rest == 0)
        return 1;
    return ((a[whole] ^ b[whole]) & (uint8_t)(0xff00u >> rest)) == 0;
}

int sg_prefix_contains(const struct sg_prefix *prefix, const struct sg_addr *addr)
{
    unsigned max;

    if (prefix == NULL || addr == NULL || prefix->addr.family != addr->family)
        return 0;
    if (addr->family != AF_INET && addr->family != AF_INET6)
        return 0;
    /* Only the leading bits count, so a hand-built prefix with host bits still works. */
    max = family_bits(addr->family);
    return leading_bits_equal(prefix->addr.bytes, addr->bytes,
                              prefix->bits > max ? max : prefix->bits);
}

/* Text of ADDR into BUF; on any failure BUF holds "". */
int sg_addr_format(const struct sg_addr *addr, char *buf, size_t len)
{
    if (buf == NULL || len == 0)
        return SG_EINVAL;
    buf[0] = '\0';
    if (addr == NULL || (addr->family != AF_INET && addr->family != AF_INET6))
        return SG_EINVAL;
    if (len > (size_t)INET6_ADDRSTRLEN)
        len = INET6_ADDRSTRLEN;
    if (inet_ntop(addr->family, addr->bytes, buf, (socklen_t)len) == NULL) {
        buf[0] = '\0';
        return SG_EINVAL;
    }
    return SG_OK;
}

int sg_prefix_format(const struct sg_prefix *prefix, char *buf, size_t len)
{
    char host[INET6_ADDRSTRLEN];
    int n;

    if (buf == NULL || len == 0)
        return SG_EINVAL;
    buf[0] = '\0';
    if (prefix == NULL || prefix->bits > family_bits(prefix->addr.family))
        return SG_EINVAL;
    if (sg_addr_format(&prefix->addr, host, sizeof(host)) != SG_OK)
        return SG_EINVAL;
    n = snprintf(buf, len, "%s/%u", host, prefix->bits);
    if (n < 0 || (size_t)n >= len) {
        buf[0] = '\0';
        return SG_EINVAL;
    }
    return SG_OK;
}

int sg_host_valid(const char *h, size_t len)
{
    char v6[INET6_ADDRSTRLEN];
    struct in6_addr a;

    if (len == 0)
        return 0;
    if (memchr(h, ':', len)) {
        if (len >= sizeof v6)
            return 0;
        memcpy(v6, h, len);
        v6[len] = '\0';
        return inet_pton(AF_INET6, v6, &a) == 1;
    }
    if (len > 253)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!((h[i] >= 'a' && h[i] <= 'z') || (h[i] >= 'A' && h[i] <= 'Z')
              || (h[i] >= '0' && h[i] <= '9') || h[i] == '.' || h[i] == '-'
              || h[i] == '_'))
            return 0;
    return 1;
}
