/*
 * plain_parse.h - bounded parsing of the client's PLAIN and LOGIN messages.
 *
 * Pure functions over bytes from the network: no allocation, no libsasl,
 * so every malformed form can be unit tested. Results point into the
 * caller's buffer and are NOT NUL-terminated.
 *
 * Limits: RFC 4616 says servers MUST accept identities and passwords of
 * up to 255 octets. Identities are account names (they become store keys
 * and log tokens), so they stop there. Passwords may be longer (generated
 * passphrases) and stop at SG_SASL_PASSWORD_MAX, as the stock LOGIN
 * mechanism does.
 */
#ifndef SG_PLAIN_PARSE_H
#define SG_PLAIN_PARSE_H

#include <stddef.h>

#define SG_SASL_ID_MAX 255
#define SG_SASL_PASSWORD_MAX 1024
/* Longest PLAIN message: authzid NUL authcid NUL passwd. */
#define SG_PLAIN_MSG_MAX (SG_SASL_ID_MAX + 1 + SG_SASL_ID_MAX + 1 + SG_SASL_PASSWORD_MAX)

enum sg_parse {
    SG_PARSE_OK = 0,
    SG_PARSE_TOO_LONG,        /* message or a field over its limit */
    SG_PARSE_MISSING_NUL,     /* fewer than two NUL separators */
    SG_PARSE_EXTRA_NUL,       /* a NUL inside the password (or a LOGIN field) */
    SG_PARSE_EMPTY_AUTHCID,
    SG_PARSE_EMPTY_PASSWORD
};

struct sg_plain_msg {
    const char *authzid;      /* may be empty: act as authcid */
    size_t authzid_len;
    const char *authcid;
    size_t authcid_len;
    const char *password;
    size_t password_len;
};

/* Split MSG (LEN bytes) per RFC 4616: [authzid] NUL authcid NUL passwd.
 * On any status but SG_PARSE_OK, OUT is left zeroed. */
enum sg_parse sg_plain_parse(const char *msg, size_t len, struct sg_plain_msg *out);

/* Check one LOGIN answer (a user name or a password): non-empty, no NUL,
 * at most MAX bytes. EMPTY is the status to return for an empty field. */
enum sg_parse sg_login_field_check(const char *field, size_t len, size_t max,
                                   enum sg_parse empty);

/* Short constant English text for seterror and logs (never echoes input). */
const char *sg_parse_str(enum sg_parse status);

#endif
