/*
 * addr.h - client addresses and source prefixes.
 *
 * Parses what MTAs hand over ("192.0.2.7;40000", "2001:db8::1;40000",
 * bare addresses, "[2001:db8::1]:25"), folds IPv4-mapped IPv6 into IPv4,
 * reduces an address to its source prefix and matches CIDR lists; and
 * says whether a text is a host to connect to (policy, Sentinel replies).
 */
#ifndef SG_ADDR_H
#define SG_ADDR_H

#include <stddef.h>
#include <stdint.h>

/* Longest text form of a prefix: "ffff:...:ffff/128". */
#define SG_PREFIX_STRLEN 64

struct sg_addr {
    int family;          /* AF_INET or AF_INET6 */
    uint8_t bytes[16];   /* network order; IPv4 uses bytes[0..3] */
};

struct sg_prefix {
    struct sg_addr addr; /* host bits are zero */
    unsigned bits;       /* 0..32 or 0..128 */
};

/* Parse an address with an optional ";port" / ":port" suffix. SG_EINVAL if bad. */
int sg_addr_parse(const char *text, struct sg_addr *out);

/* Reduce ADDR to its prefix: V4BITS for IPv4, V6BITS for IPv6. */
void sg_addr_to_prefix(const struct sg_addr *addr, unsigned v4bits,
                       unsigned v6bits, struct sg_prefix *out);

/* Parse "192.0.2.0/24", "2001:db8::/32" or a bare address (full length). */
int sg_prefix_parse(const char *text, struct sg_prefix *out);

/* Is ADDR inside PREFIX? Families must match. */
int sg_prefix_contains(const struct sg_prefix *prefix, const struct sg_addr *addr);

/* "192.0.2.0/24"; BUF should hold SG_PREFIX_STRLEN bytes. */
int sg_prefix_format(const struct sg_prefix *prefix, char *buf, size_t len);

/* "192.0.2.7" / "2001:db8::1". */
int sg_addr_format(const struct sg_addr *addr, char *buf, size_t len);

/* Is the first LEN bytes of H a host to connect to: an IPv6 address (it
 * has a ':'; no brackets), or a name or IPv4 address of 1 to 253 of
 * A-Z a-z 0-9 . - _ ? */
int sg_host_valid(const char *h, size_t len);

#endif
