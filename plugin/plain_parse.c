/*
 * NAME
 *	plain_parse - split PLAIN messages and check LOGIN answers
 * SYNOPSIS
 *	#include "plain_parse.h"
 *
 *	enum sg_parse sg_plain_parse(msg, len, &out)
 *	enum sg_parse sg_login_field_check(field, len, max, empty)
 *	const char *sg_parse_str(status)
 * DESCRIPTION
 *	The client's bytes are scanned once, left to right, never past LEN
 *	and never assuming a terminating NUL. The total length is checked
 *	before any scan, so a hostile message costs at most
 *	SG_PLAIN_MSG_MAX steps.
 * DIAGNOSTICS
 *	A status other than SG_PARSE_OK; the SASL mechanisms answer
 *	SASL_BADPROT for all of them.
 */
#include <string.h>

#include "plain_parse.h"

enum sg_parse sg_plain_parse(const char *msg, size_t len, struct sg_plain_msg *out)
{
    const char *nul1, *nul2, *pw;
    size_t pwlen;

    memset(out, 0, sizeof *out);
    if (!msg || len == 0)
        return SG_PARSE_MISSING_NUL;
    if (len > SG_PLAIN_MSG_MAX)
        return SG_PARSE_TOO_LONG;
    if (!(nul1 = memchr(msg, '\0', len)))
        return SG_PARSE_MISSING_NUL;
    if (!(nul2 = memchr(nul1 + 1, '\0', len - (size_t)(nul1 + 1 - msg))))
        return SG_PARSE_MISSING_NUL;
    pw = nul2 + 1;
    pwlen = len - (size_t)(pw - msg);
    if (memchr(pw, '\0', pwlen))
        return SG_PARSE_EXTRA_NUL;
    if ((size_t)(nul1 - msg) > SG_SASL_ID_MAX || (size_t)(nul2 - nul1 - 1) > SG_SASL_ID_MAX
        || pwlen > SG_SASL_PASSWORD_MAX)
        return SG_PARSE_TOO_LONG;
    if (nul2 == nul1 + 1)
        return SG_PARSE_EMPTY_AUTHCID;
    if (pwlen == 0)
        return SG_PARSE_EMPTY_PASSWORD;

    out->authzid = msg;
    out->authzid_len = (size_t)(nul1 - msg);
    out->authcid = nul1 + 1;
    out->authcid_len = (size_t)(nul2 - nul1 - 1);
    out->password = pw;
    out->password_len = pwlen;
    return SG_PARSE_OK;
}

enum sg_parse sg_login_field_check(const char *field, size_t len, size_t max,
                                   enum sg_parse empty)
{
    if (!field || len == 0)
        return empty;
    if (len > max)
        return SG_PARSE_TOO_LONG;
    if (memchr(field, '\0', len))
        return SG_PARSE_EXTRA_NUL;
    return SG_PARSE_OK;
}

const char *sg_parse_str(enum sg_parse status)
{
    switch (status) {
    case SG_PARSE_OK: return "ok";
    case SG_PARSE_TOO_LONG: return "field too long";
    case SG_PARSE_MISSING_NUL: return "malformed message: missing NUL separator";
    case SG_PARSE_EXTRA_NUL: return "malformed message: NUL inside a field";
    case SG_PARSE_EMPTY_AUTHCID: return "empty user name";
    case SG_PARSE_EMPTY_PASSWORD: return "empty password";
    }
    return "malformed message";
}
