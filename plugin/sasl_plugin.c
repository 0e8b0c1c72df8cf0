/*
 * NAME
 *	sasl_plugin - entry point and shared state of the SASL plugin
 * SYNOPSIS
 *	int sasl_server_plug_init(utils, max_version, &out_version,
 *				  &pluglist, &plugcount)
 *
 *	#include "sasl_plugin.h"
 *
 *	void sg_sasl_decide(glob, utils, attempt, verify, verify_ctx, &decision)
 *	void sg_sasl_mech_free(glob, utils)
 *	int sg_sasl_conn_new(glob, sparams, challenge, challen, &conn_context)
 *	void sg_sasl_conn_dispose(conn_context, utils)
 * DESCRIPTION
 *	libsasl calls sasl_server_plug_init once per load of the plugin and
 *	gets the PLAIN and LOGIN mechanism tables, both pointing at the one
 *	per-process state below. The state holds one reference per mechanism
 *	handed out; libsasl's mech_free of each mechanism drops one, and the
 *	last drop frees the engine and its Redis connection.
 *
 *	The engine is made when libsasl loads the plugin (sasl_server_init).
 *	MTAs do that as root, before they chroot and drop privileges (Postfix
 *	smtpd in its pre-jail phase, Sendmail in the daemon before it forks),
 *	so the policy file and the HMAC secret may stay readable by root
 *	alone. The policy file is named by the option "saslguard_config" in
 *	the application's SASL configuration (Postfix: smtpd.conf, Sendmail:
 *	Sendmail.conf), which libsasl has read by then; default
 *	SG_DEFAULT_CONFIG. Redis is only contacted on the first attempt, by
 *	the process that authenticates (the store connects lazily), and that
 *	connection then serves every later SASL connection of the process.
 *
 *	A broken policy never means no protection: every attempt is refused
 *	with SASL_UNAVAIL (a temporary 454), every problem is logged with its
 *	file and line, and the load is tried again on a later attempt, at
 *	most every SG_SASL_RETRY_SECONDS, so a fixed file is picked up
 *	without a restart. Such a late load runs with the MTA's privileges
 *	and root directory at that time.
 * DIAGNOSTICS
 *	Through libsasl's log, as preformatted lines (libsasl's formatter has
 *	no width or precision): SG_LOG_ERR as SASL_LOG_ERR, WARN as
 *	SASL_LOG_WARN, NOTICE as SASL_LOG_NOTE, DEBUG as SASL_LOG_DEBUG.
 *	During an attempt the lines go to the connection's log callback (the
 *	MTA's log); while libsasl loads the plugin there is no connection,
 *	and libsasl sends them to syslog (facility auth).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "account_key.h"
#include "sasl_plugin.h"
#include "status.h"

#define SG_CONFIG_OPTION "saslguard_config"
#define SG_PATH_MAX 4096

struct sg_sasl_glob {
    pthread_mutex_t lock;         /* one engine, one store connection */
    unsigned refs;                /* mechanisms handed to libsasl */
    const sasl_utils_t *utils;    /* libsasl's global utils (log sink) */
    const sasl_utils_t *call_utils; /* the current attempt's utils */
    struct sg_engine *engine;     /* NULL until loaded, or while broken */
    int tried;                    /* a load has failed ... */
    time_t last_try;              /* ... at this monotonic second */
};

static struct sg_sasl_glob sg_glob = { .lock = PTHREAD_MUTEX_INITIALIZER };

sasl_server_plug_init_t sasl_server_plug_init;

static int sasl_level(enum sg_log_level level)
{
    switch (level) {
    case SG_LOG_ERR: return SASL_LOG_ERR;
    case SG_LOG_WARN: return SASL_LOG_WARN;
    case SG_LOG_NOTICE: return SASL_LOG_NOTE;
    case SG_LOG_DEBUG: break;
    }
    return SASL_LOG_DEBUG;
}

/* The engine's log sink. Called with the lock held. */
static void log_line(void *ctx, enum sg_log_level level, const char *line)
{
    struct sg_sasl_glob *g = ctx;
    const sasl_utils_t *u = g->call_utils ? g->call_utils : g->utils;

    if (u && u->log)
        u->log(g->call_utils ? u->conn : NULL, sasl_level(level), "%s", line);
}

static time_t now_seconds(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return ts.tv_sec;
}

/* The policy path from the application's SASL config, or the default. */
static void config_path(const sasl_utils_t *u, char *buf, size_t len)
{
    const char *v = NULL;
    unsigned vlen = 0;

    if (u->getopt && u->getopt(u->getopt_context, "saslguard", SG_CONFIG_OPTION, &v, &vlen)
                         == SASL_OK && v && *v) {
        if (vlen == 0 || vlen > strlen(v))
            vlen = (unsigned)strlen(v);
        snprintf(buf, len, "%.*s", (int)(vlen < len ? vlen : len - 1), v);
        return;
    }
    snprintf(buf, len, "%s", SG_DEFAULT_CONFIG);
}

/*
 * The engine, loaded now if need be. Called with the lock held.
 * AT_INIT: libsasl's global log has no application callback and goes to
 * syslog, where an MTA's admin may not look; so a failure there is not
 * counted as a try: the first attempt loads again, and its errors reach
 * the MTA's own log through the connection.
 */
static struct sg_engine *engine_get(struct sg_sasl_glob *g, const sasl_utils_t *u, int at_init)
{
    char path[SG_PATH_MAX], line[SG_PATH_MAX + 160];
    time_t now;
    int rc;

    if (g->engine)
        return g->engine;
    now = now_seconds();
    if (g->tried && now - g->last_try < SG_SASL_RETRY_SECONDS)
        return NULL;
    config_path(u, path, sizeof path);
    rc = sg_engine_new(path, log_line, g, &g->engine);
    if (rc == SG_OK) {
        if (g->tried) {
            snprintf(line, sizeof line, "saslguard: policy %s loaded", path);
            log_line(g, SG_LOG_NOTICE, line);
        }
        g->tried = 0;
        return g->engine;
    }
    g->tried = !at_init;
    g->last_try = now;
    snprintf(line, sizeof line,
             "saslguard: cannot use policy %s (%s): refusing every login with a "
             "temporary failure; next try in %d s",
             path, sg_status_str(rc), SG_SASL_RETRY_SECONDS);
    log_line(g, SG_LOG_ERR, line);
    return NULL;
}

void sg_sasl_decide(struct sg_sasl_glob *g, const sasl_utils_t *utils,
                    const struct sg_attempt *a, sg_verify_fn verify, void *verify_ctx,
                    struct sg_decision *out)
{
    struct sg_engine *e;

    pthread_mutex_lock(&g->lock);
    g->call_utils = utils;
    e = engine_get(g, utils, 0);
    sg_engine_decide(e, a, verify, verify_ctx, out);
    if (!e) {
        /* The engine logs nothing without a policy: say why we refuse. */
        char name[SG_ACCOUNT_MAX], line[SG_ACCOUNT_MAX + 128];

        sg_account_printable(a->account, a->account_len, name, sizeof name);
        snprintf(line, sizeof line,
                 "saslguard: result=%s account=%s mech=%s detail=policy_not_loaded",
                 sg_result_name(out->result), name, a->mech ? a->mech : "-");
        log_line(g, SG_LOG_ERR, line);
    }
    g->call_utils = NULL;
    pthread_mutex_unlock(&g->lock);
}

void sg_sasl_mech_free(void *glob_context, const sasl_utils_t *utils)
{
    struct sg_sasl_glob *g = glob_context;

    (void)utils;
    if (!g)
        return;
    pthread_mutex_lock(&g->lock);
    if (g->refs > 0 && --g->refs == 0) {
        sg_engine_free(g->engine);
        g->engine = NULL;
        g->tried = 0;
        g->utils = NULL;
    }
    pthread_mutex_unlock(&g->lock);
}

int sg_sasl_conn_new(void *glob_context, sasl_server_params_t *sparams,
                     const char *challenge, unsigned challen, void **conn_context)
{
    struct sg_sasl_conn *c;

    (void)challenge;
    (void)challen;
    if (!conn_context)
        return SASL_BADPARAM;
    *conn_context = NULL;
    if (!(c = sparams->utils->malloc(sizeof *c)))
        return SASL_NOMEM;
    memset(c, 0, sizeof *c);
    c->glob = glob_context;
    c->state = 1;
    *conn_context = c;
    return SASL_OK;
}

void sg_sasl_conn_dispose(void *conn_context, const sasl_utils_t *utils)
{
    struct sg_sasl_conn *c = conn_context;

    if (!c)
        return;
    memset(c, 0, sizeof *c);
    utils->free(c);
}

int sasl_server_plug_init(const sasl_utils_t *utils, int max_version, int *out_version,
                          sasl_server_plug_t **pluglist, int *plugcount)
{
    static sasl_server_plug_t plugs[2];
    struct sg_sasl_glob *g = &sg_glob;

    if (max_version < SASL_SERVER_PLUG_VERSION) {
        if (utils && utils->seterror)
            utils->seterror(utils->conn, 0, "%s",
                            "saslguard: libsasl too old (server plugin API < 4)");
        return SASL_BADVERS;
    }
    pthread_mutex_lock(&g->lock);
    plugs[0] = sg_sasl_plain_plug;
    plugs[1] = sg_sasl_login_plug;
    plugs[0].glob_context = plugs[1].glob_context = g;
    g->refs += 2;
    g->utils = utils;
    engine_get(g, utils, 1);    /* now, while the host is still privileged */
    pthread_mutex_unlock(&g->lock);

    *out_version = SASL_SERVER_PLUG_VERSION;
    *pluglist = plugs;
    *plugcount = 2;
    return SASL_OK;
}
