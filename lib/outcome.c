/*
 * outcome.c - DESIGN.md's reply table: result -> log name, SASL and PAM code.
 *
 * Postfix answers 454 4.7.0 for SASL_FAIL, NOMEM, TRYAGAIN and UNAVAIL and
 * 535 5.7.8 for every other failure, with sasl_errstring() as the text; so
 * choosing the code here chooses the client's reply.
 */
#include <string.h>

#include <sasl/sasl.h>
#include <security/pam_appl.h>

#include "engine.h"
#include "outcome.h"

struct row {
    const char *name;
    int sasl;
    int pam;
};

static const struct row table[SG_RESULT_COUNT] = {
    [SG_RESULT_SUCCESS] = { "success", SASL_OK, PAM_SUCCESS },
    [SG_RESULT_BAD_CREDENTIALS] = { "bad_credentials", SASL_BADAUTH, PAM_AUTH_ERR },
    [SG_RESULT_LOCKED] = { "locked", SASL_TRYAGAIN, PAM_MAXTRIES },
    [SG_RESULT_THROTTLED] = { "throttled", SASL_TRYAGAIN, PAM_MAXTRIES },
    [SG_RESULT_DISABLED] = { "disabled", SASL_DISABLED, PAM_PERM_DENIED },
    [SG_RESULT_APP_PASSWORD_REQUIRED] = { "app_password_required", SASL_NOUSERPASS, PAM_AUTH_ERR },
    [SG_RESULT_REVOKED_CREDENTIAL] = { "revoked_credential", SASL_BADAUTH, PAM_AUTH_ERR },
    [SG_RESULT_STORE_UNAVAILABLE] = { "store_unavailable", SASL_UNAVAIL, PAM_AUTHINFO_UNAVAIL },
    [SG_RESULT_STORE_CLOSED] = { "store_closed", SASL_BADAUTH, PAM_AUTH_ERR },
    [SG_RESULT_BACKEND_UNAVAILABLE] = { "backend_unavailable", SASL_UNAVAIL, PAM_AUTHINFO_UNAVAIL },
    [SG_RESULT_CONFIG_ERROR] = { "config_error", SASL_UNAVAIL, PAM_SERVICE_ERR },
    [SG_RESULT_ERROR] = { "error", SASL_FAIL, PAM_SERVICE_ERR },
};

static const struct row *row_of(enum sg_result r)
{
    return (unsigned)r < SG_RESULT_COUNT ? &table[r] : &table[SG_RESULT_ERROR];
}

const char *sg_result_name(enum sg_result r)
{
    return row_of(r)->name;
}

int sg_result_sasl_code(enum sg_result r)
{
    return row_of(r)->sasl;
}

int sg_result_pam_code(enum sg_result r)
{
    return row_of(r)->pam;
}

int sg_result_from_name(const char *name)
{
    for (int i = 0; i < SG_RESULT_COUNT; i++)
        if (strcmp(table[i].name, name) == 0)
            return i;
    return -1;
}

enum sg_verify sg_verify_from_sasl(int sasl_code)
{
    switch (sasl_code) {
    case SASL_OK:
        return SG_VERIFY_OK;
    case SASL_BADAUTH:
    case SASL_NOUSER:
    case SASL_NOVERIFY:
    case SASL_DISABLED:
    case SASL_EXPIRED:
    case SASL_PWLOCK:
    case SASL_NOUSERPASS:
    case SASL_NOAUTHZ:
        return SG_VERIFY_BAD;
    default:            /* SASL_FAIL, NOMEM, TRYAGAIN, UNAVAIL, NOMECH, ... */
        return SG_VERIFY_UNAVAIL;
    }
}
