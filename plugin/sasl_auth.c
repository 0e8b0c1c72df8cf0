/*
 * NAME
 *	sasl_auth - the common tail of the PLAIN and LOGIN mechanisms
 * SYNOPSIS
 *	#include "sasl_plugin.h"
 *
 *	int sg_sasl_authenticate(glob, sparams, oparams, mech,
 *				 authzid, authzid_len, authcid, authcid_len,
 *				 password, password_len)
 * DESCRIPTION
 *	Does what the stock plain.c does around the password check, with the
 *	decision engine in the middle:
 *
 *	1. canonicalise the authentication id (and the authorization id with
 *	   it when that is empty or the same name), so that the engine counts
 *	   and the backend verifies the canonical name (oparams->authid);
 *	2. let the engine decide: refuse a locked account or a throttled
 *	   source before any password check, else verify through the site's
 *	   pwcheck_method (sasl_verify.c) and report the outcome;
 *	3. on success, canonicalise a distinct authorization id (after
 *	   dropping the properties checkpass fetched for the authid) and set
 *	   the out-parameters like the stock mechanisms.
 *
 *	The answer is the engine's SASL code, which libsasl hands to the MTA
 *	unchanged: it selects the client's reply (DESIGN.md).
 *
 *	The password is copied once, to NUL-terminate it for libsasl's
 *	verifiers, and the copy is wiped before returning.
 * DIAGNOSTICS
 *	The engine logs one decision line per attempt. A refusal also sets
 *	a short reason with seterror (SASL_NOLOG: the decision line already
 *	said it), which MTAs log; it never holds a password.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "sasl_plugin.h"

/* The detail behind the SASL code, for sasl_errdetail(). */
static const char *refusal_text(enum sg_result r)
{
    switch (r) {
    case SG_RESULT_SUCCESS: break;
    case SG_RESULT_BAD_CREDENTIALS: return "Password verification failed";
    case SG_RESULT_LOCKED: return "saslguard: account temporarily locked";
    case SG_RESULT_THROTTLED: return "saslguard: client temporarily blocked";
    case SG_RESULT_DISABLED: return "saslguard: account locked by an administrator";
    case SG_RESULT_APP_PASSWORD_REQUIRED: return "saslguard: application password required";
    case SG_RESULT_REVOKED_CREDENTIAL: return "saslguard: revoked or expired credential";
    case SG_RESULT_STORE_UNAVAILABLE: return "saslguard: failure store unavailable";
    case SG_RESULT_STORE_CLOSED: return "saslguard: failure store unavailable (store_failure = closed)";
    case SG_RESULT_BACKEND_UNAVAILABLE: return "saslguard: password backend unavailable";
    case SG_RESULT_CONFIG_ERROR: return "saslguard: policy file not loaded";
    case SG_RESULT_ERROR: case SG_RESULT_COUNT: break;
    }
    return "saslguard: internal error";
}

/* checkpass() may have fetched authorization-id properties for the authid:
 * drop them before the real authorization id is canonicalised (plain.c). */
static int erase_authzid_props(sasl_server_params_t *sp)
{
    const struct propval *pr = sp->utils->prop_get(sp->propctx);

    if (!pr)
        return SASL_FAIL;
    for (int i = 0; pr[i].name; i++)
        if (pr[i].name[0] != '*' && pr[i].values)
            sp->utils->prop_erase(sp->propctx, pr[i].name);
    return SASL_OK;
}

int sg_sasl_authenticate(struct sg_sasl_glob *g, sasl_server_params_t *sp,
                         sasl_out_params_t *op, const char *mech,
                         const char *authzid, size_t authzid_len,
                         const char *authcid, size_t authcid_len,
                         const char *password, size_t password_len)
{
    const sasl_utils_t *u = sp->utils;
    char pw[SG_SASL_PASSWORD_MAX + 1];
    struct sg_attempt a;
    struct sg_decision d;
    unsigned authzid_flag = 0;  /* SASL_CU_AUTHZID: one name for both ids */
    int rc;

    /* The parsers guarantee this; a zero length means strlen() to libsasl. */
    if (authcid_len == 0 || authcid_len > SG_SASL_ID_MAX || authzid_len > SG_SASL_ID_MAX
        || password_len == 0 || password_len > SG_SASL_PASSWORD_MAX)
        return SASL_BADPROT;

    if (authzid_len == 0
        || (authzid_len == authcid_len && memcmp(authzid, authcid, authcid_len) == 0))
        authzid_flag = SASL_CU_AUTHZID;
    rc = sp->canon_user(u->conn, authcid, (unsigned)authcid_len,
                        SASL_CU_AUTHID | authzid_flag | SASL_CU_EXTERNALLY_VERIFIED, op);
    if (rc != SASL_OK)
        return rc;

    memcpy(pw, password, password_len);
    pw[password_len] = '\0';
    memset(&a, 0, sizeof a);
    a.account = op->authid;
    a.account_len = op->alen;
    a.password = pw;
    a.password_len = password_len;
    a.client = sp->ipremoteport;
    a.mech = mech;
    sg_sasl_decide(g, u, &a, sg_sasl_verify, sp, &d);
    OPENSSL_cleanse(pw, sizeof pw);

    if (d.sasl_code != SASL_OK) {
        u->seterror(u->conn, SASL_NOLOG, "%s", refusal_text(d.result));
        return d.sasl_code;
    }

    if (!authzid_flag) {
        if ((rc = erase_authzid_props(sp)) != SASL_OK)
            return rc;
        if ((rc = sp->canon_user(u->conn, authzid, (unsigned)authzid_len,
                                 SASL_CU_AUTHZID, op)) != SASL_OK)
            return rc;
    }

    op->doneflag = 1;
    op->mech_ssf = 0;
    op->maxoutbuf = 0;
    op->encode_context = NULL;
    op->encode = NULL;
    op->decode_context = NULL;
    op->decode = NULL;
    op->param_version = 0;
    return SASL_OK;
}
