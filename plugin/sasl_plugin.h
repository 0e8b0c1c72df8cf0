/*
 * sasl_plugin.h - the pieces of the Cyrus SASL mechanism plugin.
 *
 * libsaslguard.so offers PLAIN and LOGIN. Both mechanisms share one
 * per-process state (sasl_plugin.c): one decision engine, created when
 * libsasl loads the plugin, from the option "saslguard_config", with one
 * Redis connection reused by every SASL connection of the process. The
 * mechanisms only take the client's messages apart; the common tail
 * (canonicalise, decide, answer) is sasl_auth.c, and the password is
 * checked by the site's pwcheck_method through sasl_verify.c.
 */
#ifndef SG_SASL_PLUGIN_H
#define SG_SASL_PLUGIN_H

#include <stddef.h>

#include <sasl/sasl.h>
#include <sasl/saslplug.h>

#include "engine.h"
#include "plain_parse.h"

/* Both mechanisms sort before the stock PLAIN and LOGIN with the same
 * flags, whatever the load order: libsasl compares the hash strength
 * last, and the stock plugins leave it at 0 (DESIGN.md). */
#define SG_SASL_SECURITY_FLAGS \
    (SASL_SEC_NOANONYMOUS | SASL_SEC_PASS_CREDENTIALS | SASL_SET_HASH_STRENGTH_BITS(8))

/* Longest canonical name libsasl makes (its CANON_BUF_SIZE). */
#define SG_SASL_CANON_MAX 1024

/* How long a process waits before loading a broken policy again. */
#define SG_SASL_RETRY_SECONDS 5

struct sg_sasl_glob;

/* sasl_plugin.c: decide attempt A with the process's engine; if its
 * policy could not be loaded yet, try again first (the file named by the
 * option saslguard_config, read through UTILS). While the policy is
 * broken every attempt is refused
 * (SG_RESULT_CONFIG_ERROR, i.e. SASL_UNAVAIL) and the load is retried at
 * most every SG_SASL_RETRY_SECONDS. Serialised: one store connection. */
void sg_sasl_decide(struct sg_sasl_glob *g, const sasl_utils_t *utils,
                    const struct sg_attempt *a, sg_verify_fn verify, void *verify_ctx,
                    struct sg_decision *out);
/* The mechanisms' mech_free: drops one reference to the shared state. */
void sg_sasl_mech_free(void *glob_context, const sasl_utils_t *utils);

/* sasl_auth.c: canonicalise the names, decide, fill OPARAMS on success.
 * Returns the SASL code to answer. */
int sg_sasl_authenticate(struct sg_sasl_glob *g, sasl_server_params_t *sparams,
                         sasl_out_params_t *oparams, const char *mech,
                         const char *authzid, size_t authzid_len,
                         const char *authcid, size_t authcid_len,
                         const char *password, size_t password_len);

/* sasl_verify.c: the engine's verifier; CTX is the sasl_server_params_t. */
enum sg_verify sg_sasl_verify(void *ctx, const char *account, size_t account_len,
                              const char *password, size_t password_len);

/* sasl_plain.c, sasl_login.c: the two mechanism tables. */
extern sasl_server_plug_t sg_sasl_plain_plug;
extern sasl_server_plug_t sg_sasl_login_plug;

/* Per-SASL-connection state of both mechanisms. */
struct sg_sasl_conn {
    struct sg_sasl_glob *glob;
    int state;                        /* LOGIN: 1 want name, 2 name, 3 password */
    char username[SG_SASL_ID_MAX];    /* LOGIN: the name of step 2 */
    size_t username_len;
};

int sg_sasl_conn_new(void *glob_context, sasl_server_params_t *sparams,
                     const char *challenge, unsigned challen, void **conn_context);
void sg_sasl_conn_dispose(void *conn_context, const sasl_utils_t *utils);

#endif
