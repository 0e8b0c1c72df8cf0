/*
 * app_view.c - app passwords and two-factor accounts as the admin sees
 * them: shared by "app-password", "mfa", "status", "explain" and "check".
 *
 * DESCRIPTION
 *	Reads an account's app-password records (app_admin.c), words each
 *	one for text and JSON output, loads the HMAC secret with a message
 *	that says how to fix it, and names the reply a correct primary
 *	password gets on an account that needs an app password. Whether a
 *	record is active, expired or revoked, and whether an account needs
 *	an app password, is the core's answer (sg_app_record_state,
 *	sg_app_needed); this file only words it. Never a digest, never a
 *	password.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "outcome.h"
#include "status.h"

int cli_app_records(struct cli *c, const char *key, struct sg_app_record **recs, size_t *n)
{
    int rc;

    *n = 0;
    if (!(*recs = calloc(CLI_APP_RECORDS, sizeof **recs))) {
        fputs("saslguard: out of memory\n", stderr);
        return CLI_ERROR;
    }
    if ((rc = sg_app_list(c->store, key, *recs, CLI_APP_RECORDS, n)) != SG_OK) {
        free(*recs);
        *recs = NULL;
        return cli_store_failed(c, rc);
    }
    return CLI_OK;
}

size_t cli_app_count(const struct sg_app_record *recs, size_t n, int64_t now_ms,
                     enum sg_app_state st)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++)
        k += sg_app_record_state(&recs[i], now_ms) == st;
    return k;
}

void cli_app_json(struct cli_json *j, const struct sg_app_record *r, int64_t now_ms)
{
    cli_json_object(j, NULL);
    cli_json_str(j, "label", r->label);
    cli_json_str(j, "state", sg_app_state_name(sg_app_record_state(r, now_ms)));
    cli_json_time(j, "created", r->created_ms);
    cli_json_time(j, "expires", r->expires_ms);
    cli_json_time(j, "revoked", r->revoked_ms);
    cli_json_time(j, "last_use", r->last_use_ms);
    cli_json_str(j, "last_source", r->last_source[0] ? r->last_source : NULL);
    cli_json_end(j);
}

/* "2026-11-30T10:15:00Z from 192.0.2.0/24", or "never". */
void cli_app_last_use(const struct sg_app_record *r, char *buf, size_t len)
{
    char t[40];

    if (r->last_use_ms <= 0) {
        snprintf(buf, len, "never");
        return;
    }
    cli_iso_time(r->last_use_ms, t, sizeof t);
    if (r->last_source[0])
        snprintf(buf, len, "%s from %s", t, r->last_source);
    else
        snprintf(buf, len, "%s", t);
}

void cli_app_text(const struct sg_app_record *r, int64_t now_ms, char *buf, size_t len)
{
    char created[40], end[40], last[100], use[120];
    enum sg_app_state st = sg_app_record_state(r, now_ms);

    cli_iso_time(r->created_ms, created, sizeof created);
    cli_app_last_use(r, last, sizeof last);
    snprintf(use, sizeof use, "%s%s", r->last_use_ms > 0 ? "last used " : "",
             r->last_use_ms > 0 ? last : "never used");
    if (st == SG_APP_STATE_REVOKED) {
        cli_iso_time(r->revoked_ms, end, sizeof end);
        snprintf(buf, len, "revoked %s, created %s, %s", end, created, use);
    } else if (st == SG_APP_STATE_EXPIRED) {
        cli_iso_time(r->expires_ms, end, sizeof end);
        snprintf(buf, len, "expired %s, created %s, %s", end, created, use);
    } else if (r->expires_ms > 0) {
        cli_iso_time(r->expires_ms, end, sizeof end);
        snprintf(buf, len, "created %s, expires %s, %s", created, end, use);
    } else {
        snprintf(buf, len, "created %s, never expires, %s", created, use);
    }
}

int cli_app_primary_code(const struct sg_policy *p)
{
    return p->mfa_primary_password == SG_MFA_REFUSE
           ? sg_result_sasl_code(SG_RESULT_BAD_CREDENTIALS)
           : sg_result_sasl_code(SG_RESULT_APP_PASSWORD_REQUIRED);
}

const char *cli_app_need_text(enum sg_app_need need)
{
    switch (need) {
    case SG_APP_NEED_MFA: return "two-factor account";
    case SG_APP_NEED_POLICY: return "app_passwords = required";
    case SG_APP_NEED_NONE: break;
    }
    return "no";
}

int cli_secret_load(const struct cli *c, struct sg_secret *s)
{
    const char *path = c->policy->secret_file;
    char err[600];
    struct stat st;
    int rc;

    if (lstat(path, &st) != 0 && errno == ENOENT) {
        fprintf(stderr, "saslguard: the secret file %s does not exist (secret_file in %s);\n"
                "saslguard: create it with: saslguard secret init\n", path, c->config);
        return CLI_USAGE;
    }
    rc = sg_secret_load(path, s, err, sizeof err);
    if (rc == SG_OK)
        return CLI_OK;
    fprintf(stderr, "saslguard: %s\n", err);
    return rc == SG_ECONFIG ? CLI_USAGE : CLI_ERROR;
}
