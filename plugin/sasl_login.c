/*
 * NAME
 *	sasl_login - the LOGIN mechanism (draft-murchison-sasl-login), server side
 * SYNOPSIS
 *	#include "sasl_plugin.h"
 *
 *	sasl_server_plug_t sg_sasl_login_plug
 * DESCRIPTION
 *	The server asks "Username:" and then "Password:". A client may send
 *	the user name with the AUTH command (an initial response); then the
 *	first question is skipped. The name is kept in the connection context
 *	between the steps; the password is only passed on, never kept. LOGIN
 *	has no authorization id: it is the user name.
 *
 *	States: 1 nothing received yet, 2 "Username:" sent, 3 "Password:"
 *	sent, 4 done (any further step is a protocol error).
 * DIAGNOSTICS
 *	An empty, overlong or NUL-containing answer is SASL_BADPROT, with a
 *	short reason set through seterror.
 */
#include <string.h>

#include "sasl_plugin.h"

#define USERNAME_PROMPT "Username:"
#define PASSWORD_PROMPT "Password:"

static int refuse(sasl_server_params_t *sp, enum sg_parse st)
{
    sp->utils->seterror(sp->utils->conn, 0, "LOGIN: %s", sg_parse_str(st));
    return SASL_BADPROT;
}

static int login_step(void *conn_context, sasl_server_params_t *sp,
                      const char *clientin, unsigned clientinlen,
                      const char **serverout, unsigned *serveroutlen,
                      sasl_out_params_t *oparams)
{
    struct sg_sasl_conn *c = conn_context;
    enum sg_parse st;

    *serverout = NULL;
    *serveroutlen = 0;
    if (!c)
        return SASL_BADPARAM;

    switch (c->state) {
    case 1:
        c->state = 2;
        if (clientinlen == 0) {
            *serverout = USERNAME_PROMPT;
            *serveroutlen = (unsigned)strlen(USERNAME_PROMPT);
            return SASL_CONTINUE;
        }
        /* the user name came with the AUTH command */
        /* FALLTHROUGH */
    case 2:
        st = sg_login_field_check(clientin, clientinlen, SG_SASL_ID_MAX,
                                  SG_PARSE_EMPTY_AUTHCID);
        if (st != SG_PARSE_OK)
            return refuse(sp, st);
        memcpy(c->username, clientin, clientinlen);
        c->username_len = clientinlen;
        c->state = 3;
        *serverout = PASSWORD_PROMPT;
        *serveroutlen = (unsigned)strlen(PASSWORD_PROMPT);
        return SASL_CONTINUE;
    case 3:
        c->state = 4;
        st = sg_login_field_check(clientin, clientinlen, SG_SASL_PASSWORD_MAX,
                                  SG_PARSE_EMPTY_PASSWORD);
        if (st != SG_PARSE_OK)
            return refuse(sp, st);
        return sg_sasl_authenticate(c->glob, sp, oparams, "LOGIN", NULL, 0,
                                    c->username, c->username_len, clientin, clientinlen);
    default:
        sp->utils->seterror(sp->utils->conn, 0, "%s", "LOGIN: unexpected extra step");
        return SASL_BADPROT;
    }
}

sasl_server_plug_t sg_sasl_login_plug = {
    .mech_name = "LOGIN",
    .max_ssf = 0,
    .security_flags = SG_SASL_SECURITY_FLAGS,
    .features = 0,
    .mech_new = sg_sasl_conn_new,
    .mech_step = login_step,
    .mech_dispose = sg_sasl_conn_dispose,
    .mech_free = sg_sasl_mech_free,
};
