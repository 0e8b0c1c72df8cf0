/*
 * NAME
 *	sasl_verify - check a primary password with the site's pwcheck_method
 * SYNOPSIS
 *	#include "sasl_plugin.h"
 *
 *	enum sg_verify sg_sasl_verify(sparams, account, account_len,
 *				      password, password_len)
 * DESCRIPTION
 *	The engine's verifier for the SASL plugin: sparams->utils->checkpass,
 *	i.e. whatever the application's SASL config sets up (auxprop with
 *	sasldb/sql/ldapdb, saslauthd, ...). Existing user databases keep
 *	working unchanged.
 *
 *	libsasl's verifiers ignore the lengths and read NUL-terminated
 *	strings, so both strings must end in a NUL at their lengths; anything
 *	else is refused as a wrong password without calling the backend.
 *
 *	The verdict is three-valued (sg_verify_from_sasl(), in the core). A wrong password, an unknown user, or an
 *	account the backend refuses is SG_VERIFY_BAD: the client's doing, so
 *	it counts towards the lockout (an unknown user is counted like a
 *	known one). Every other failure is the server's (backend down, out of
 *	memory, misconfiguration): SG_VERIFY_UNAVAIL, a temporary failure that
 *	is not counted.
 */
#include <string.h>

#include "sasl_plugin.h"

enum sg_verify sg_sasl_verify(void *ctx, const char *account, size_t account_len,
                              const char *password, size_t password_len)
{
    sasl_server_params_t *sp = ctx;

    if (!account || !password || account_len == 0 || password_len == 0
        || account_len > SG_SASL_CANON_MAX || password_len > SG_SASL_PASSWORD_MAX
        || account[account_len] != '\0' || password[password_len] != '\0'
        || memchr(account, '\0', account_len) || memchr(password, '\0', password_len))
        return SG_VERIFY_BAD;
    return sg_verify_from_sasl(sp->utils->checkpass(sp->utils->conn, account,
                                                    (unsigned)account_len, password,
                                                    (unsigned)password_len));
}
