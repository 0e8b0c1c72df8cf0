/*
 * reply.c - what the client is told: the SMTP reply Postfix sends for a
 * SASL code, and the names of SASL and PAM codes.
 *
 * DESCRIPTION
 *	Postfix 3.7 (smtpd_sasl_type = cyrus) answers "454 4.7.0 Temporary
 *	authentication failure: TEXT" for SASL_FAIL, NOMEM, TRYAGAIN and
 *	UNAVAIL, and "535 5.7.8 Error: authentication failed: TEXT" for every
 *	other failure, TEXT being sasl_errstring() of the code (NOUSER shown
 *	as BADAUTH); see DESIGN.md and reference/mta-replies.md. The codes
 *	themselves come from the core's table (outcome.h); this file only
 *	words them.
 */
#include <stdio.h>

#include <sasl/sasl.h>
#include <security/pam_appl.h>

#include "cli.h"

static int temporary(int code)
{
    return code == SASL_FAIL || code == SASL_NOMEM || code == SASL_TRYAGAIN
        || code == SASL_UNAVAIL;
}

const char *cli_postfix_code(int code)
{
    if (code == SASL_OK)
        return "235 2.7.0";
    return temporary(code) ? "454 4.7.0" : "535 5.7.8";
}

void cli_postfix_reply(int code, char *buf, size_t len)
{
    if (code == SASL_OK)
        snprintf(buf, len, "235 2.7.0 Authentication successful");
    else if (temporary(code))
        snprintf(buf, len, "454 4.7.0 Temporary authentication failure: %s",
                 sasl_errstring(code, NULL, NULL));
    else
        snprintf(buf, len, "535 5.7.8 Error: authentication failed: %s",
                 sasl_errstring(code == SASL_NOUSER ? SASL_BADAUTH : code, NULL, NULL));
}

const char *cli_sasl_name(int code)
{
    switch (code) {
    case SASL_OK: return "SASL_OK";
    case SASL_FAIL: return "SASL_FAIL";
    case SASL_NOMEM: return "SASL_NOMEM";
    case SASL_TRYAGAIN: return "SASL_TRYAGAIN";
    case SASL_BADAUTH: return "SASL_BADAUTH";
    case SASL_DISABLED: return "SASL_DISABLED";
    case SASL_NOUSER: return "SASL_NOUSER";
    case SASL_UNAVAIL: return "SASL_UNAVAIL";
    case SASL_NOUSERPASS: return "SASL_NOUSERPASS";
    case SASL_EXPIRED: return "SASL_EXPIRED";
    case SASL_PWLOCK: return "SASL_PWLOCK";
    }
    return "SASL_?";
}

const char *cli_pam_name(int code)
{
    switch (code) {
    case PAM_SUCCESS: return "PAM_SUCCESS";
    case PAM_AUTH_ERR: return "PAM_AUTH_ERR";
    case PAM_MAXTRIES: return "PAM_MAXTRIES";
    case PAM_PERM_DENIED: return "PAM_PERM_DENIED";
    case PAM_AUTHINFO_UNAVAIL: return "PAM_AUTHINFO_UNAVAIL";
    case PAM_SERVICE_ERR: return "PAM_SERVICE_ERR";
    case PAM_USER_UNKNOWN: return "PAM_USER_UNKNOWN";
    }
    return "PAM_?";
}
