/*
 * NAME
 *	sasl_plain - the PLAIN mechanism (RFC 4616), server side
 * SYNOPSIS
 *	#include "sasl_plugin.h"
 *
 *	sasl_server_plug_t sg_sasl_plain_plug
 * DESCRIPTION
 *	One client message: [authzid] NUL authcid NUL passwd. It is split by
 *	plain_parse.c within fixed bounds and handed to the common tail
 *	(sasl_auth.c). Client-first, and an authorization id other than the
 *	authentication id is allowed (proxy authorization), as in the stock
 *	mechanism; libsasl's proxy policy then decides whether it may be used.
 * DIAGNOSTICS
 *	A malformed message is SASL_BADPROT, with a short reason set through
 *	seterror that never echoes the client's bytes.
 */
#include "sasl_plugin.h"

static int plain_step(void *conn_context, sasl_server_params_t *sp,
                      const char *clientin, unsigned clientinlen,
                      const char **serverout, unsigned *serveroutlen,
                      sasl_out_params_t *oparams)
{
    struct sg_sasl_conn *c = conn_context;
    struct sg_plain_msg m;
    enum sg_parse st;

    *serverout = NULL;
    *serveroutlen = 0;
    if (!c)
        return SASL_BADPARAM;
    if (c->state != 1) {
        sp->utils->seterror(sp->utils->conn, 0, "%s", "PLAIN: unexpected extra step");
        return SASL_BADPROT;
    }
    c->state = 2;
    if ((st = sg_plain_parse(clientin, clientinlen, &m)) != SG_PARSE_OK) {
        sp->utils->seterror(sp->utils->conn, 0, "PLAIN: %s", sg_parse_str(st));
        return SASL_BADPROT;
    }
    return sg_sasl_authenticate(c->glob, sp, oparams, "PLAIN", m.authzid, m.authzid_len,
                                m.authcid, m.authcid_len, m.password, m.password_len);
}

sasl_server_plug_t sg_sasl_plain_plug = {
    .mech_name = "PLAIN",
    .max_ssf = 0,
    .security_flags = SG_SASL_SECURITY_FLAGS,
    .features = SASL_FEAT_WANT_CLIENT_FIRST | SASL_FEAT_ALLOWS_PROXY,
    .mech_new = sg_sasl_conn_new,
    .mech_step = plain_step,
    .mech_dispose = sg_sasl_conn_dispose,
    .mech_free = sg_sasl_mech_free,
};
