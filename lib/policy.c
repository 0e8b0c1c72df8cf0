/*
 * NAME
 *	policy - the security-policy file, saslguard.conf(5)
 * SYNOPSIS
 *	#include "policy.h"
 *
 *	int sg_policy_load(path, &policy, diag, diag_ctx)
 *	int sg_policy_load_string(name, text, &policy, diag, diag_ctx)
 *	int sg_policy_defaults(&policy)
 *	void sg_policy_free(policy)
 *	int sg_duration_parse(text, &ms)
 *	void sg_duration_format(ms, buf, len)
 *	int sg_policy_is_trusted(policy, addr)
 * DESCRIPTION
 *	The file is a list of "key = value" lines. A '#' at the start of a
 *	line or after a space or tab starts a comment; blank lines are
 *	ignored; leading and trailing blanks are trimmed; CRLF line ends are
 *	accepted. Every key has one row in the key table below: its setter
 *	(policy_values.c, which also holds sg_duration_parse/format), its
 *	range and its default, written as the text a user would write.
 *	sg_policy_defaults() runs every default through its setter, so the
 *	defaults obey the same checks as the file.
 *
 *	Loading starts from the defaults and applies the file line by line.
 *	A policy is either complete and valid or not returned at all.
 *	sg_policy_load() reads SG_DEFAULT_CONFIG when PATH is NULL. The path
 *	of a policy from sg_policy_defaults() is "(defaults)".
 * DIAGNOSTICS
 *	Each problem is passed to the caller's diag callback as
 *	"FILE:LINE: KEY: problem", "FILE:LINE: problem" (no key on the line)
 *	or "FILE: problem" (the file itself), and parsing goes on so that the
 *	admin sees every mistake at once. Then SG_ECONFIG is returned and no
 *	policy. Values are echoed bounded and with control bytes masked.
 *	SG_ENOMEM stops at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy_internal.h"

/* ---------------------------------------------------------------- key table */

/* Defaults are written as a user would write them; saslguard.conf(5) and
 * etc/saslguard.conf document the same values. */
#define OFF(f) offsetof(struct sg_policy, f)
#define DUR(f, lo, hi, d) \
    .set = sg_policy_set_duration, .offset = OFF(f), .min = (lo), .max = (hi), .def = (d)
#define NUM(fn, f, lo, hi, d) .set = fn, .offset = OFF(f), .min = (lo), .max = (hi), .def = (d)

const struct key_def sg_policy_keys[K_COUNT] = {
    [K_REDIS] = { "redis", .set = sg_policy_set_redis, .def = "unix:/run/redis/redis.sock" },
    [K_REDIS_PASSWORD_FILE] = { "redis_password_file", .set = sg_policy_set_path,
        .offset = OFF(redis_password_file), .def = "", .flags = KEY_EMPTY_OK },
    [K_REDIS_SENTINEL_PASSWORD_FILE] = { "redis_sentinel_password_file",
        .set = sg_policy_set_path, .offset = OFF(redis_sentinel_password_file), .def = "",
        .flags = KEY_EMPTY_OK },
    [K_REDIS_DB] = { "redis_db", NUM(sg_policy_set_int, redis_db, 0, 1000000, "0") },
    [K_REDIS_TIMEOUT] = { "redis_timeout", DUR(redis_timeout_ms, 1, 60000, "100ms") },
    [K_ACCOUNT_FAILURES] = { "account_failures",
        NUM(sg_policy_set_unsigned, account_failures, 1, 1000000, "5") },
    [K_ACCOUNT_WINDOW] = { "account_window", DUR(account_window_ms, 1, DURATION_MAX, "15m") },
    [K_ACCOUNT_LOCK] = { "account_lock", DUR(account_lock_ms, 1, DURATION_MAX, "15m") },
    [K_ACCOUNT_LOCK_MAX] = { "account_lock_max",
        DUR(account_lock_max_ms, 1, DURATION_MAX, "24h") },
    [K_SOURCE_FAILURES] = { "source_failures",
        NUM(sg_policy_set_unsigned, source_failures, 1, 1000000, "20") },
    [K_SOURCE_WINDOW] = { "source_window", DUR(source_window_ms, 1, DURATION_MAX, "10m") },
    [K_SOURCE_BLOCK] = { "source_block", DUR(source_block_ms, 1, DURATION_MAX, "1h") },
    [K_IPV4_PREFIX] = { "ipv4_prefix", NUM(sg_policy_set_unsigned, ipv4_prefix, 8, 32, "32") },
    [K_IPV6_PREFIX] = { "ipv6_prefix", NUM(sg_policy_set_unsigned, ipv6_prefix, 16, 128, "64") },
    [K_SPRAY_ACCOUNTS] = { "spray_accounts",
        NUM(sg_policy_set_unsigned, spray_accounts, 1, 100000, "10") },
    [K_TRUSTED_NETWORKS] = { "trusted_networks", .set = sg_policy_set_trusted,
        .def = "127.0.0.0/8 ::1/128", .flags = KEY_EMPTY_OK },
    [K_FAMILIAR_SOURCES] = { "familiar_sources",
        DUR(familiar_sources_ms, 1, DURATION_MAX, "30d") },
    [K_STORE_FAILURE] = { "store_failure", .set = sg_policy_set_store_failure, .def = "tempfail" },
    [K_APP_PASSWORDS] = { "app_passwords", .set = sg_policy_set_app_passwords, .def = "per-account" },
    [K_KEY_PREFIX] = { "key_prefix", .set = sg_policy_set_key_prefix, .def = "sg" },
    [K_PASSWORD_SOURCE] = { "password_source", .set = sg_policy_set_password_source, .def = "sasl" },
    [K_SECRET_FILE] = { "secret_file", .set = sg_policy_set_path, .offset = OFF(secret_file),
        .def = "/etc/saslguard/secret" },
    [K_MFA_PRIMARY_PASSWORD] = { "mfa_primary_password", .set = sg_policy_set_mfa_primary_password,
        .def = "explain" },
};

/* ---------------------------------------------------------------- parsing */

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static char *trim(char *s)
{
    char *end;

    while (is_blank(*s))
        s++;
    end = s + strlen(s);
    while (end > s && is_blank(end[-1]))
        end--;
    *end = '\0';
    return s;
}

/* '#' starts a comment at the start of a line or after a blank only, so
 * that '#' can still appear inside a value such as a path. */
static void strip_comment(char *s)
{
    char *c;

    for (c = s; *c != '\0'; c++) {
        if (*c == '#' && (c == s || is_blank(c[-1]))) {
            *c = '\0';
            return;
        }
    }
}

static int apply(struct parser *ps, unsigned line, const char *key,
                 const char *value, struct sg_policy *p)
{
    char q[QUOTE_MAX + 4];
    struct item it;
    int k, rc;

    for (k = 0; k < K_COUNT && strcmp(sg_policy_keys[k].name, key) != 0; k++)
        ;
    if (k == K_COUNT) {
        sg_policy_report(ps, line, sg_policy_quote(key, q, sizeof(q)), "unknown key");
        return SG_OK;
    }
    if (ps->seen[k] != 0) {
        sg_policy_report(ps, line, key, "duplicate key (first set on line %u)", ps->seen[k]);
        return SG_OK;
    }
    ps->seen[k] = line;
    it.ps = ps;
    it.key = (enum key_id)k;
    it.line = line;
    it.value = value;
    if (*value == '\0' && !(sg_policy_keys[k].flags & KEY_EMPTY_OK))
        rc = item_error(&it, "missing value");
    else
        rc = sg_policy_keys[k].set(&it, p);
    if (rc == SG_ECONFIG)
        ps->bad[k] = 1;
    return rc == SG_ENOMEM ? rc : SG_OK;
}

static int parse_line(struct parser *ps, unsigned line, const char *raw, size_t n,
                      struct sg_policy *p)
{
    char buf[LINE_MAX_BYTES + 1];
    char *s, *eq, *key;

    if (n > 0 && raw[n - 1] == '\r')
        n--;
    if (n > LINE_MAX_BYTES) {
        sg_policy_report(ps, line, NULL, "line too long (limit %d bytes)", LINE_MAX_BYTES);
        return SG_OK;
    }
    if (memchr(raw, '\0', n) != NULL) {
        sg_policy_report(ps, line, NULL, "NUL byte in line");
        return SG_OK;
    }
    memcpy(buf, raw, n);
    buf[n] = '\0';
    strip_comment(buf);
    s = trim(buf);
    if (*s == '\0')
        return SG_OK;
    if ((eq = strchr(s, '=')) == NULL || eq == s) {
        sg_policy_report(ps, line, NULL, "expected 'key = value'");
        return SG_OK;
    }
    *eq = '\0';
    key = trim(s);
    return apply(ps, line, key, trim(eq + 1), p);
}

/* A key's value for a message: as the file had it set, or its default. */
static const char *shown(const struct parser *ps, enum key_id k, uint64_t ms,
                         char *buf, size_t len)
{
    if (ps->seen[k] == 0)
        return sg_policy_keys[k].def;
    sg_duration_format(ms, buf, len);
    return buf;
}

/* Checks that involve more than one key, once every line is read. */
static void check_keys(struct parser *ps, const struct sg_policy *p)
{
    char a[32], b[32];
    const char *lock, *max;

    if (ps->bad[K_ACCOUNT_LOCK] || ps->bad[K_ACCOUNT_LOCK_MAX])
        return;
    if (p->account_lock_max_ms >= p->account_lock_ms)
        return;
    lock = shown(ps, K_ACCOUNT_LOCK, p->account_lock_ms, a, sizeof(a));
    max = shown(ps, K_ACCOUNT_LOCK_MAX, p->account_lock_max_ms, b, sizeof(b));
    if (ps->seen[K_ACCOUNT_LOCK_MAX] != 0)
        sg_policy_report(ps, ps->seen[K_ACCOUNT_LOCK_MAX], "account_lock_max",
               "%s is shorter than account_lock (%s%s)", max, lock,
               ps->seen[K_ACCOUNT_LOCK] != 0 ? "" : ", the default");
    else
        sg_policy_report(ps, ps->seen[K_ACCOUNT_LOCK], "account_lock",
               "%s is longer than account_lock_max (%s, the default)", lock, max);
}

static int parse_buffer(struct parser *ps, const char *text, size_t len,
                        struct sg_policy **out)
{
    struct sg_policy *p;
    unsigned line = 0;
    size_t pos = 0;
    int rc;

    if ((rc = sg_policy_defaults(&p)) != SG_OK)
        return rc;
    if ((rc = sg_policy_replace(&p->path, ps->name, strlen(ps->name))) != SG_OK)
        goto fail;
    while (pos < len) {
        const char *start = text + pos;
        const char *nl = memchr(start, '\n', len - pos);
        size_t n = nl != NULL ? (size_t)(nl - start) : len - pos;

        pos += n + (nl != NULL);
        if ((rc = parse_line(ps, ++line, start, n, p)) != SG_OK)
            goto fail;
    }
    check_keys(ps, p);
    if (ps->errors == 0) {
        *out = p;
        return SG_OK;
    }
    rc = SG_ECONFIG;
fail:
    sg_policy_free(p);
    return rc;
}

static void parser_init(struct parser *ps, const char *name, sg_diag_fn diag, void *ctx)
{
    memset(ps, 0, sizeof(*ps));
    ps->name = name;
    ps->diag = diag;
    ps->diag_ctx = ctx;
}

/* The whole file into *BUF; it is small, and NUL bytes must be seen. */
static int read_file(struct parser *ps, int fd, char **buf, size_t *len)
{
    size_t cap = 4096, used = 0;
    char *b = NULL, *nb;
    ssize_t r = 0;

    for (;;) {
        if (used == cap || b == NULL) {
            if (b != NULL)
                cap *= 2;
            if ((nb = realloc(b, cap)) == NULL) {
                free(b);
                return SG_ENOMEM;
            }
            b = nb;
        }
        r = read(fd, b + used, cap - used);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        used += (size_t)r;
        if (used > FILE_MAX_BYTES) {
            free(b);
            sg_policy_report(ps, 0, NULL, "file too large (limit %d bytes)", FILE_MAX_BYTES);
            return SG_ECONFIG;
        }
    }
    if (r < 0) {
        char err[128];

        if (strerror_r(errno, err, sizeof(err)) != 0)
            snprintf(err, sizeof(err), "error %d", errno);
        free(b);
        sg_policy_report(ps, 0, NULL, "cannot read: %s", err);
        return SG_ECONFIG;
    }
    *buf = b;
    *len = used;
    return SG_OK;
}

/* ---------------------------------------------------------------- public */

int sg_policy_load(const char *path, struct sg_policy **out,
                   sg_diag_fn diag, void *diag_ctx)
{
    struct parser ps;
    struct stat st;
    char *text = NULL;
    size_t len = 0;
    int fd, rc;

    if (out == NULL)
        return SG_EINVAL;
    *out = NULL;
    if (path == NULL)
        path = SG_DEFAULT_CONFIG;
    parser_init(&ps, path, diag, diag_ctx);
    /* O_NONBLOCK: a FIFO planted at PATH must not hang the MTA. */
    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0) {
        char err[128];

        if (strerror_r(errno, err, sizeof(err)) != 0)
            snprintf(err, sizeof(err), "error %d", errno);
        sg_policy_report(&ps, 0, NULL, "cannot open: %s", err);
        return SG_ECONFIG;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        sg_policy_report(&ps, 0, NULL, "not a regular file");
        return SG_ECONFIG;
    }
    rc = read_file(&ps, fd, &text, &len);
    close(fd);
    if (rc != SG_OK)
        return rc;
    rc = parse_buffer(&ps, text, len, out);
    free(text);
    return rc;
}

int sg_policy_load_string(const char *name, const char *text,
                          struct sg_policy **out, sg_diag_fn diag, void *diag_ctx)
{
    struct parser ps;

    if (out == NULL)
        return SG_EINVAL;
    *out = NULL;
    if (text == NULL)
        return SG_EINVAL;
    parser_init(&ps, name != NULL ? name : "(string)", diag, diag_ctx);
    return parse_buffer(&ps, text, strlen(text), out);
}

/* The defaults go through the setters: one table, one set of checks. */
int sg_policy_defaults(struct sg_policy **out)
{
    struct sg_policy *p;
    struct parser ps;
    struct item it;
    int k, rc;

    if (out == NULL)
        return SG_EINVAL;
    *out = NULL;
    if ((p = calloc(1, sizeof(*p))) == NULL)
        return SG_ENOMEM;
    parser_init(&ps, "(defaults)", NULL, NULL);
    it.ps = &ps;
    it.line = 0;
    for (k = 0; k < K_COUNT; k++) {
        it.key = (enum key_id)k;
        it.value = sg_policy_keys[k].def;
        if ((rc = sg_policy_keys[k].set(&it, p)) != SG_OK) {
            sg_policy_free(p);
            return rc == SG_ENOMEM ? rc : SG_EINVAL;   /* a bad default is a bug */
        }
    }
    if ((rc = sg_policy_replace(&p->path, "(defaults)", 10)) != SG_OK) {
        sg_policy_free(p);
        return rc;
    }
    *out = p;
    return SG_OK;
}

void sg_policy_free(struct sg_policy *p)
{
    if (p == NULL)
        return;
    free(p->redis_path);
    free(p->redis_host);
    for (size_t i = 0; i < p->redis_sentinel_count; i++)
        free(p->redis_sentinels[i].host);
    free(p->redis_master);
    free(p->redis_sentinel_password_file);
    free(p->redis_password_file);
    free(p->password_file);
    free(p->secret_file);
    free(p->path);
    free(p);
}

int sg_policy_is_trusted(const struct sg_policy *p, const struct sg_addr *addr)
{
    size_t i;

    if (p == NULL || addr == NULL)
        return 0;
    for (i = 0; i < p->trusted_count; i++)
        if (sg_prefix_contains(&p->trusted[i], addr) > 0)
            return 1;
    return 0;
}
