/*
 * cli.h - the saslguard admin command: what its modules share.
 *
 * main.c parses the global options and dispatches to one cmd_*.c function
 * per subcommand; each parses its own options (plus the common ones, see
 * cli_common_option), asks the core (lib/) for everything it reports, and
 * prints text or, with --json, one JSON object (output.c). Nothing here
 * decides about a login: that stays in the core.
 */
#ifndef SG_CLI_H
#define SG_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "account_key.h"
#include "addr.h"
#include "app_admin.h"
#include "policy.h"
#include "secret.h"
#include "store.h"

/* Exit codes (saslguard(8), EXIT STATUS). */
enum cli_exit {
    CLI_OK = 0,         /* done */
    CLI_NOTHING = 1,    /* nothing there / nothing to do / check refused */
    CLI_USAGE = 2,      /* bad usage, bad argument, broken policy file */
    CLI_STORE = 3,      /* Redis unreachable or failing */
    CLI_ERROR = 4       /* anything else: out of memory, cannot write */
};

/* The state of one invocation (no globals). */
struct cli {
    const char *config;         /* -c, $SASLGUARD_CONF or SG_DEFAULT_CONFIG */
    int json;                   /* --json */
    int verbose;                /* -v: copy syslog lines to stderr */
    struct sg_policy *policy;   /* after cli_open */
    struct sg_store *store;     /* after cli_open(.., 1) */
};

/* A subcommand's help: synopsis line(s) and description. */
struct cli_help {
    const char *usage;          /* "status ACCOUNT [--json]" */
    const char *text;           /* the rest of --help */
};

/* ---- main.c ---- */

/* getopt_long entries and short options every subcommand accepts. */
#define CLI_COMMON_SHORT "c:vh"
#define CLI_COMMON_LONG \
    { "config", 1, NULL, 'c' }, { "json", 0, NULL, 'j' }, \
    { "verbose", 0, NULL, 'v' }, { "help", 0, NULL, 'h' }

/* Handle what getopt_long returned as CH, for a common option or an error
 * (optstring starts with ':'). Returns -1 when handled and parsing goes
 * on; otherwise the exit code to return now (CLI_OK after --help). */
int cli_common_option(struct cli *c, int ch, char **argv, const struct cli_help *h);

/* Complain about usage (printf-style) and point at --help: CLI_USAGE. */
int cli_usage_error(const struct cli_help *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Load the policy (every error as FILE:LINE on stderr) and, if STORE, open
 * the store (it connects on first use). Returns CLI_OK or an exit code. */
int cli_open(struct cli *c, int store);

/* Report a failed store call RC ("cannot reach Redis at ..."); exit code. */
int cli_store_failed(struct cli *c, int rc);

/* "unix:/run/redis/redis.sock", "tcp://[::1]:6379" */
void cli_endpoint(const struct sg_policy *p, char *buf, size_t len);

/* ACCOUNT argument -> key part. "~" + 64 hex (as list shows long names)
 * is taken as the hashed part itself. CLI_OK or CLI_USAGE (message given). */
int cli_account_key(const char *arg, char key[SG_ACCOUNT_KEY_LEN]);

/* Syslog (LOG_AUTHPRIV) an admin action: "saslguard: admin=USER
 * [sudo_user=U] action=..." with FMT's text appended. */
void cli_audit(const struct cli *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Send LINE to syslog (LOG_AUTHPRIV, ident "saslguard"); with -v also to
 * stderr. */
void cli_syslog(const struct cli *c, int priority, const char *line);

/* ---- output.c ---- */

/* JSON writer: compact, one object per run, closed with a newline. */
#define CLI_JSON_DEPTH 16
struct cli_json {
    FILE *f;
    int depth;
    unsigned char comma[CLI_JSON_DEPTH];   /* a value was written at this level */
    unsigned char array[CLI_JSON_DEPTH];   /* this level is an array */
};

void cli_json_init(struct cli_json *j, FILE *f);
/* KEY is NULL at the top level and inside arrays. */
void cli_json_object(struct cli_json *j, const char *key);
void cli_json_array(struct cli_json *j, const char *key);
void cli_json_end(struct cli_json *j);
void cli_json_str(struct cli_json *j, const char *key, const char *s);   /* NULL: null */
void cli_json_strn(struct cli_json *j, const char *key, const char *s, size_t len);
void cli_json_int(struct cli_json *j, const char *key, long long v);
void cli_json_bool(struct cli_json *j, const char *key, int v);
void cli_json_null(struct cli_json *j, const char *key);
/* ISO-8601 text of MS, or null when MS <= 0. */
void cli_json_time(struct cli_json *j, const char *key, int64_t ms);

/* Write S (LEN bytes, any bytes) as a quoted JSON string: control bytes and
 * bytes that are not well-formed UTF-8 become \u00XX. */
void cli_json_string(FILE *f, const char *s, size_t len);

/* "2026-11-30T10:15:00Z" */
void cli_iso_time(int64_t ms, char *buf, size_t len);
/* A span for people: "14m 58s", "2h 5m", "3d 4h", "0s". */
void cli_span(int64_t ms, char *buf, size_t len);
/* Display form of an account key part: the decoded name made printable,
 * or "(long name) ~hash". */
void cli_account_text(const char *part, char *buf, size_t len);
/* Decoded name of a key part into NAME (SG_ACCOUNT_MAX + 1); 0 for a
 * hashed part (NAME = ""). Returns the length, or -1. */
long cli_account_name(const char *part, char *name, size_t len);
/* The fields "account" (the decoded name, null if hashed) and "key". */
void cli_json_account(struct cli_json *j, const char *part);

/* ---- reply.c ---- */

/* What Postfix answers for SASL_CODE: "454 4.7.0 Temporary authentication
 * failure: transient failure (e.g., weak key)", "235 2.7.0 ...". */
void cli_postfix_reply(int sasl_code, char *buf, size_t len);
/* Just the status and enhanced code: "454 4.7.0". */
const char *cli_postfix_code(int sasl_code);
const char *cli_sasl_name(int sasl_code);   /* "SASL_TRYAGAIN" */
const char *cli_pam_name(int pam_code);     /* "PAM_MAXTRIES" */

/* ---- app_view.c: app passwords and two-factor accounts, worded ---- */

/* Records read per account (active ones are at most SG_APP_MAX_ACTIVE;
 * revoked ones are kept 90 days). */
#define CLI_APP_RECORDS 256

/* ACCOUNT's records into a new array *RECS (free() it) of *N, active
 * first. CLI_OK or an exit code (message given). */
int cli_app_records(struct cli *c, const char *key, struct sg_app_record **recs, size_t *n);
/* How many of RECS are in state ST at NOW_MS. */
size_t cli_app_count(const struct sg_app_record *recs, size_t n, int64_t now_ms,
                     enum sg_app_state st);
/* One record as a JSON object: label, state, times, last source. */
void cli_app_json(struct cli_json *j, const struct sg_app_record *r, int64_t now_ms);
/* "2026-11-30T10:15:00Z from 192.0.2.7/32" (no " from" without a source),
 * or "never". */
void cli_app_last_use(const struct sg_app_record *r, char *buf, size_t len);
/* "created T, expires T, last used T from S" / "revoked T, ..." */
void cli_app_text(const struct sg_app_record *r, int64_t now_ms, char *buf, size_t len);
/* The SASL code a correct primary password gets when an app password is
 * needed (mfa_primary_password: NOUSERPASS, or BADAUTH with "refuse"). */
int cli_app_primary_code(const struct sg_policy *p);
/* "two-factor account", "app_passwords = required", "no". */
const char *cli_app_need_text(enum sg_app_need need);
/* Load the policy's secret_file into S; a missing file, a loose mode or an
 * unreadable file is explained on stderr (with the fix). CLI_OK, CLI_USAGE
 * (missing, too open, too short) or CLI_ERROR. */
int cli_secret_load(const struct cli *c, struct sg_secret *s);

/* ---- subcommands (cmd_*.c) ---- */
int cmd_status(struct cli *c, int argc, char **argv);
int cmd_explain(struct cli *c, int argc, char **argv);
int cmd_list(struct cli *c, int argc, char **argv);
int cmd_lock(struct cli *c, int argc, char **argv);
int cmd_unlock(struct cli *c, int argc, char **argv);
int cmd_unblock(struct cli *c, int argc, char **argv);
int cmd_check(struct cli *c, int argc, char **argv);
int cmd_stats(struct cli *c, int argc, char **argv);
int cmd_config(struct cli *c, int argc, char **argv);
int cmd_mfa(struct cli *c, int argc, char **argv);
int cmd_app_password(struct cli *c, int argc, char **argv);
int cmd_secret(struct cli *c, int argc, char **argv);
int cmd_passwd(struct cli *c, int argc, char **argv);

/* ---- prompt.c ---- */

/* A password: one line from stdin when it is not a terminal, else typed at
 * PROMPT without echo. Its length, -1 on a read error, -2 if longer than
 * CAP - 1 bytes. The caller wipes BUF. */
long cli_read_password(const char *prompt, char *buf, size_t cap);

#endif
