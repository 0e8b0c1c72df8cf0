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
 *	accepted. Every key has one row in the key table below: its setter,
 *	its range and its default, written as the text a user would write.
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
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy.h"
#include "status.h"

#define LINE_MAX_BYTES 4096             /* per line, without the line end */
#define FILE_MAX_BYTES (1024 * 1024)    /* a policy is a few hundred bytes */
#define DURATION_MAX (3650ULL * 86400000ULL)   /* 10 years: callers may add and double */
#define QUOTE_MAX 64                    /* bytes of a bad value echoed back */
#define DIAG_MAX 8192
#define UNITS_HINT "ms, s, m, h, d, w"

#ifdef __GNUC__
#define SG_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define SG_PRINTF(f, a)
#endif

/* Index into the key table. */
enum key_id {
    K_REDIS, K_REDIS_PASSWORD_FILE, K_REDIS_DB, K_REDIS_TIMEOUT,
    K_ACCOUNT_FAILURES, K_ACCOUNT_WINDOW, K_ACCOUNT_LOCK, K_ACCOUNT_LOCK_MAX,
    K_SOURCE_FAILURES, K_SOURCE_WINDOW, K_SOURCE_BLOCK,
    K_IPV4_PREFIX, K_IPV6_PREFIX, K_SPRAY_ACCOUNTS, K_TRUSTED_NETWORKS,
    K_FAMILIAR_SOURCES, K_STORE_FAILURE, K_APP_PASSWORDS, K_KEY_PREFIX,
    K_PASSWORD_SOURCE, K_SECRET_FILE, K_MFA_PRIMARY_PASSWORD,
    K_COUNT
};

/* One parse run: where we are and what we have seen. */
struct parser {
    const char *name;             /* file name for diagnostics */
    sg_diag_fn diag;
    void *diag_ctx;
    unsigned errors;
    unsigned seen[K_COUNT];       /* line a key was set on; 0: not set */
    unsigned char bad[K_COUNT];   /* that line was rejected */
};

/* One "key = value" being applied. */
struct item {
    struct parser *ps;
    enum key_id key;
    unsigned line;
    const char *value;
};

typedef int (*setter_fn)(const struct item *it, struct sg_policy *p);

#define KEY_EMPTY_OK 1                  /* an empty value means "none" */

struct key_def {
    const char *name;
    setter_fn set;
    size_t offset;                      /* field, for the generic setters */
    uint64_t min, max;                  /* range, for numbers and durations */
    const char *def;                    /* default, as a user writes it */
    unsigned flags;
};

/* ---------------------------------------------------------------- reporting */

/* Bounded copy of untrusted text for a log line: control and non-ASCII
 * bytes become '?', more than QUOTE_MAX bytes end in "...". */
static const char *quote(const char *s, char *buf, size_t len)
{
    size_t i = 0;

    for (; *s != '\0' && i + 4 < len && i < QUOTE_MAX; s++)
        buf[i++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
    if (*s != '\0' && i + 4 <= len) {
        memcpy(buf + i, "...", 3);
        i += 3;
    }
    buf[i] = '\0';
    return buf;
}

SG_PRINTF(4, 5)
static void report(struct parser *ps, unsigned line, const char *key,
                   const char *fmt, ...)
{
    char problem[512];
    char msg[DIAG_MAX];
    va_list ap;

    ps->errors++;
    if (ps->diag == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(problem, sizeof(problem), fmt, ap);
    va_end(ap);
    if (line != 0 && key != NULL)
        snprintf(msg, sizeof(msg), "%s:%u: %s: %s", ps->name, line, key, problem);
    else if (line != 0)
        snprintf(msg, sizeof(msg), "%s:%u: %s", ps->name, line, problem);
    else
        snprintf(msg, sizeof(msg), "%s: %s", ps->name, problem);
    ps->diag(ps->diag_ctx, msg);
}

static const struct key_def keys[K_COUNT];

/* Report a bad value of the item's key; returns SG_ECONFIG for the setter. */
#define item_error(it, ...) \
    (report((it)->ps, (it)->line, keys[(it)->key].name, __VA_ARGS__), SG_ECONFIG)

/* ---------------------------------------------------------------- durations */

static const struct unit {
    const char *name;
    uint64_t ms;
} units[] = {   /* largest first, for sg_duration_format */
    { "w", 604800000 }, { "d", 86400000 }, { "h", 3600000 },
    { "m", 60000 }, { "s", 1000 }, { "ms", 1 },
};

/* Parse a duration; on failure WHY says what is wrong. */
static int duration_parse(const char *text, uint64_t *ms, char *why, size_t wlen)
{
    char q[QUOTE_MAX + 4];
    const char *s = text;
    uint64_t n = 0;
    size_t i;

    if (*s < '0' || *s > '9') {
        snprintf(why, wlen, "'%s' is not a duration (e.g. 30s, 15m, 2h)",
                 quote(text, q, sizeof(q)));
        return SG_EINVAL;
    }
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');

        if (n > (UINT64_MAX - d) / 10)
            goto too_large;
        n = n * 10 + d;
    }
    if (*s == '\0') {
        if (n == 0) {
            *ms = 0;
            return SG_OK;
        }
        snprintf(why, wlen, "a unit is required (" UNITS_HINT ")");
        return SG_EINVAL;
    }
    for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(s, units[i].name) != 0)
            continue;
        if (n > UINT64_MAX / units[i].ms)
            goto too_large;
        *ms = n * units[i].ms;
        return SG_OK;
    }
    snprintf(why, wlen, "unknown unit '%s' (use " UNITS_HINT ")", quote(s, q, sizeof(q)));
    return SG_EINVAL;

too_large:
    snprintf(why, wlen, "'%s' is too large", quote(text, q, sizeof(q)));
    return SG_EINVAL;
}

int sg_duration_parse(const char *text, uint64_t *ms)
{
    char why[160];

    if (text == NULL || ms == NULL)
        return SG_EINVAL;
    return duration_parse(text, ms, why, sizeof(why));
}

void sg_duration_format(uint64_t ms, char *buf, size_t len)
{
    size_t i;

    if (buf == NULL || len == 0)
        return;
    if (ms == 0) {
        snprintf(buf, len, "0");
        return;
    }
    for (i = 0; ms % units[i].ms != 0; i++)
        ;   /* terminates: the last unit is 1 ms */
    snprintf(buf, len, "%" PRIu64 "%s", ms / units[i].ms, units[i].name);
}

/* ---------------------------------------------------------------- setters */

#define FIELD(p, type, off) ((type *)(void *)((char *)(p) + (off)))

static int set_duration(const struct item *it, struct sg_policy *p)
{
    const struct key_def *k = &keys[it->key];
    char why[160], lim[32];
    uint64_t ms;

    if (duration_parse(it->value, &ms, why, sizeof(why)) != SG_OK)
        return item_error(it, "%s", why);
    if (ms < k->min) {
        if (k->min == 1)
            return item_error(it, "must be greater than 0");
        sg_duration_format(k->min, lim, sizeof(lim));
        return item_error(it, "must be at least %s", lim);
    }
    if (ms > k->max) {
        sg_duration_format(k->max, lim, sizeof(lim));
        return item_error(it, "must be at most %s", lim);
    }
    *FIELD(p, uint64_t, k->offset) = ms;
    return SG_OK;
}

/* Plain decimal in the key's range: no sign, no spaces, no other base. */
static int number(const struct item *it, uint64_t *out)
{
    const struct key_def *k = &keys[it->key];
    const char *s = it->value;
    char q[QUOTE_MAX + 4];
    uint64_t n = 0;

    for (; *s >= '0' && *s <= '9'; s++) {
        n = n * 10 + (uint64_t)(*s - '0');
        if (n > k->max)
            break;      /* also stops before any overflow */
    }
    if (s == it->value || *s != '\0' || n < k->min)
        return item_error(it, "'%s' is not an integer from %" PRIu64 " to %" PRIu64,
                          quote(it->value, q, sizeof(q)), k->min, k->max);
    *out = n;
    return SG_OK;
}

static int set_unsigned(const struct item *it, struct sg_policy *p)
{
    uint64_t n;

    if (number(it, &n) != SG_OK)
        return SG_ECONFIG;
    *FIELD(p, unsigned, keys[it->key].offset) = (unsigned)n;
    return SG_OK;
}

static int set_int(const struct item *it, struct sg_policy *p)
{
    uint64_t n;

    if (number(it, &n) != SG_OK)
        return SG_ECONFIG;
    *FIELD(p, int, keys[it->key].offset) = (int)n;
    return SG_OK;
}

/* Replace *SLOT with a copy of the first LEN bytes of S (S NULL: none). */
static int replace(char **slot, const char *s, size_t len)
{
    char *copy = NULL;

    if (s != NULL) {
        if ((copy = malloc(len + 1)) == NULL)
            return SG_ENOMEM;
        memcpy(copy, s, len);
        copy[len] = '\0';
    }
    free(*slot);
    *slot = copy;
    return SG_OK;
}

/* An absolute path: relative ones would depend on the MTA's cwd or chroot. */
static int set_path(const struct item *it, struct sg_policy *p)
{
    char **slot = FIELD(p, char *, keys[it->key].offset);
    char q[QUOTE_MAX + 4];

    if (*it->value == '\0')
        return replace(slot, NULL, 0);
    if (*it->value != '/')
        return item_error(it, "'%s' is not an absolute path", quote(it->value, q, sizeof(q)));
    return replace(slot, it->value, strlen(it->value));
}

/* Host part of tcp://HOST:PORT without brackets; names are DNS-like. */
static int valid_host(const char *h, size_t len, int bracketed)
{
    char v6[INET6_ADDRSTRLEN];
    struct in6_addr a;
    size_t i;

    if (bracketed) {
        if (len == 0 || len >= sizeof(v6))
            return 0;
        memcpy(v6, h, len);
        v6[len] = '\0';
        return inet_pton(AF_INET6, v6, &a) == 1;
    }
    if (len == 0 || len > 253)
        return 0;
    for (i = 0; i < len; i++)
        if (!((h[i] >= 'a' && h[i] <= 'z') || (h[i] >= 'A' && h[i] <= 'Z')
              || (h[i] >= '0' && h[i] <= '9') || h[i] == '.' || h[i] == '-'
              || h[i] == '_'))
            return 0;
    return 1;
}

static int set_redis_tcp(const struct item *it, struct sg_policy *p, const char *hp)
{
    const char *host = hp, *end, *port;
    char q[QUOTE_MAX + 4];
    int bracketed = (*hp == '[');
    long n = 0;
    int rc;

    if (bracketed) {
        host = hp + 1;
        if ((end = strchr(host, ']')) == NULL)
            return item_error(it, "missing ']' after the IPv6 address");
        port = end + 1;
    } else {
        if ((end = strrchr(hp, ':')) == NULL)
            return item_error(it, "missing port (tcp://HOST:PORT)");
        if (memchr(hp, ':', (size_t)(end - hp)) != NULL)
            return item_error(it, "put an IPv6 address in brackets (tcp://[::1]:6379)");
        port = end;
    }
    if (!valid_host(host, (size_t)(end - host), bracketed))
        return item_error(it, "'%s' is not a valid host", quote(hp, q, sizeof(q)));
    if (*port != ':' || port[1] == '\0')
        return item_error(it, "missing port (tcp://HOST:PORT)");
    for (port++; *port >= '0' && *port <= '9' && n <= 65535; port++)
        n = n * 10 + (*port - '0');
    if (*port != '\0' || n < 1 || n > 65535)
        return item_error(it, "port must be a number from 1 to 65535");
    if ((rc = replace(&p->redis_host, host, (size_t)(end - host))) != SG_OK)
        return rc;
    p->redis_kind = SG_REDIS_TCP;
    p->redis_port = (int)n;
    return replace(&p->redis_path, NULL, 0);
}

static int set_redis(const struct item *it, struct sg_policy *p)
{
    const char *v = it->value;
    int rc;

    if (strncmp(v, "tcp://", 6) == 0)
        return set_redis_tcp(it, p, v + 6);
    if (strncmp(v, "unix:", 5) != 0)
        return item_error(it, "expected unix:/PATH or tcp://HOST:PORT");
    if (v[5] != '/')
        return item_error(it, "the socket path must be absolute (unix:/PATH)");
    if ((rc = replace(&p->redis_path, v + 5, strlen(v + 5))) != SG_OK)
        return rc;
    p->redis_kind = SG_REDIS_UNIX;
    p->redis_port = 0;
    return replace(&p->redis_host, NULL, 0);
}

/* Space and/or comma separated CIDR prefixes or bare addresses. */
static int set_trusted(const struct item *it, struct sg_policy *p)
{
    const char *s = it->value;
    char tok[SG_PREFIX_STRLEN + 2], q[QUOTE_MAX + 4];   /* +1: room to see "too long" */
    size_t n, len, count = 0;
    int rc = SG_OK;

    for (;;) {
        s += strspn(s, " \t,");
        if ((n = strcspn(s, " \t,")) == 0)
            break;
        if (count == SG_TRUSTED_MAX) {
            rc = item_error(it, "more than %d networks", SG_TRUSTED_MAX);
            break;
        }
        len = n < sizeof(tok) - 1 ? n : sizeof(tok) - 1;
        memcpy(tok, s, len);
        tok[len] = '\0';
        if (n > SG_PREFIX_STRLEN || sg_prefix_parse(tok, &p->trusted[count]) != SG_OK)
            rc = item_error(it, "'%s' is not an address or CIDR prefix",
                            quote(tok, q, sizeof(q)));
        else
            count++;
        s += n;
    }
    p->trusted_count = count;
    return rc;
}

struct choice {
    const char *name;
    int value;
};

static int choose(const struct item *it, const struct choice *c, size_t n,
                  const char *hint, int *out)
{
    char q[QUOTE_MAX + 4];
    size_t i;

    for (i = 0; i < n; i++) {
        if (strcmp(it->value, c[i].name) == 0) {
            *out = c[i].value;
            return SG_OK;
        }
    }
    return item_error(it, "unknown value '%s' (use %s)", quote(it->value, q, sizeof(q)), hint);
}

static int set_store_failure(const struct item *it, struct sg_policy *p)
{
    static const struct choice c[] = {
        { "tempfail", SG_FAIL_TEMPFAIL }, { "open", SG_FAIL_OPEN },
        { "closed", SG_FAIL_CLOSED },
    };
    int v;

    if (choose(it, c, 3, "tempfail, open or closed", &v) != SG_OK)
        return SG_ECONFIG;
    p->store_failure = (enum sg_store_failure)v;
    return SG_OK;
}

static int set_app_passwords(const struct item *it, struct sg_policy *p)
{
    static const struct choice c[] = {
        { "per-account", SG_APP_PER_ACCOUNT }, { "required", SG_APP_REQUIRED },
        { "off", SG_APP_OFF },
    };
    int v;

    if (choose(it, c, 3, "per-account, required or off", &v) != SG_OK)
        return SG_ECONFIG;
    p->app_passwords = (enum sg_app_passwords)v;
    return SG_OK;
}

static int set_mfa_primary_password(const struct item *it, struct sg_policy *p)
{
    static const struct choice c[] = {
        { "explain", SG_MFA_EXPLAIN }, { "refuse", SG_MFA_REFUSE },
    };
    int v;

    if (choose(it, c, 2, "explain or refuse", &v) != SG_OK)
        return SG_ECONFIG;
    p->mfa_primary_password = (enum sg_mfa_reply)v;
    return SG_OK;
}

/* Every Redis key starts with it: keep it short and free of separators. */
static int set_key_prefix(const struct item *it, struct sg_policy *p)
{
    size_t len = strlen(it->value);
    char q[QUOTE_MAX + 4];

    if (len > SG_KEY_PREFIX_MAX)
        return item_error(it, "longer than %d characters", SG_KEY_PREFIX_MAX);
    if (strspn(it->value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
               "0123456789_.-") != len)
        return item_error(it, "'%s' may contain only letters, digits, '_', '.' and '-'",
                          quote(it->value, q, sizeof(q)));
    memcpy(p->key_prefix, it->value, len + 1);
    return SG_OK;
}

static int set_password_source(const struct item *it, struct sg_policy *p)
{
    const char *v = it->value;
    char q[QUOTE_MAX + 4];
    int rc;

    if (strcmp(v, "sasl") == 0) {
        p->password_source = SG_PWSRC_SASL;
        return replace(&p->password_file, NULL, 0);
    }
    if (strncmp(v, "file:", 5) != 0)
        return item_error(it, "unknown value '%s' (use sasl or file:/PATH)",
                          quote(v, q, sizeof(q)));
    if (v[5] != '/')
        return item_error(it, "the password file must be an absolute path (file:/PATH)");
    if ((rc = replace(&p->password_file, v + 5, strlen(v + 5))) != SG_OK)
        return rc;
    p->password_source = SG_PWSRC_FILE;
    return SG_OK;
}

/* ---------------------------------------------------------------- key table */

/* Defaults are written as a user would write them; saslguard.conf(5) and
 * etc/saslguard.conf document the same values. */
#define OFF(f) offsetof(struct sg_policy, f)
#define DUR(f, lo, hi, d) \
    .set = set_duration, .offset = OFF(f), .min = (lo), .max = (hi), .def = (d)
#define NUM(fn, f, lo, hi, d) .set = fn, .offset = OFF(f), .min = (lo), .max = (hi), .def = (d)

static const struct key_def keys[K_COUNT] = {
    [K_REDIS] = { "redis", .set = set_redis, .def = "unix:/run/redis/redis.sock" },
    [K_REDIS_PASSWORD_FILE] = { "redis_password_file", .set = set_path,
        .offset = OFF(redis_password_file), .def = "", .flags = KEY_EMPTY_OK },
    [K_REDIS_DB] = { "redis_db", NUM(set_int, redis_db, 0, 1000000, "0") },
    [K_REDIS_TIMEOUT] = { "redis_timeout", DUR(redis_timeout_ms, 1, 60000, "100ms") },
    [K_ACCOUNT_FAILURES] = { "account_failures",
        NUM(set_unsigned, account_failures, 1, 1000000, "5") },
    [K_ACCOUNT_WINDOW] = { "account_window", DUR(account_window_ms, 1, DURATION_MAX, "15m") },
    [K_ACCOUNT_LOCK] = { "account_lock", DUR(account_lock_ms, 1, DURATION_MAX, "15m") },
    [K_ACCOUNT_LOCK_MAX] = { "account_lock_max",
        DUR(account_lock_max_ms, 1, DURATION_MAX, "24h") },
    [K_SOURCE_FAILURES] = { "source_failures",
        NUM(set_unsigned, source_failures, 1, 1000000, "20") },
    [K_SOURCE_WINDOW] = { "source_window", DUR(source_window_ms, 1, DURATION_MAX, "10m") },
    [K_SOURCE_BLOCK] = { "source_block", DUR(source_block_ms, 1, DURATION_MAX, "1h") },
    [K_IPV4_PREFIX] = { "ipv4_prefix", NUM(set_unsigned, ipv4_prefix, 8, 32, "32") },
    [K_IPV6_PREFIX] = { "ipv6_prefix", NUM(set_unsigned, ipv6_prefix, 16, 128, "64") },
    [K_SPRAY_ACCOUNTS] = { "spray_accounts",
        NUM(set_unsigned, spray_accounts, 1, 100000, "10") },
    [K_TRUSTED_NETWORKS] = { "trusted_networks", .set = set_trusted,
        .def = "127.0.0.0/8 ::1/128", .flags = KEY_EMPTY_OK },
    [K_FAMILIAR_SOURCES] = { "familiar_sources",
        DUR(familiar_sources_ms, 1, DURATION_MAX, "30d") },
    [K_STORE_FAILURE] = { "store_failure", .set = set_store_failure, .def = "tempfail" },
    [K_APP_PASSWORDS] = { "app_passwords", .set = set_app_passwords, .def = "per-account" },
    [K_KEY_PREFIX] = { "key_prefix", .set = set_key_prefix, .def = "sg" },
    [K_PASSWORD_SOURCE] = { "password_source", .set = set_password_source, .def = "sasl" },
    [K_SECRET_FILE] = { "secret_file", .set = set_path, .offset = OFF(secret_file),
        .def = "/etc/saslguard/secret" },
    [K_MFA_PRIMARY_PASSWORD] = { "mfa_primary_password", .set = set_mfa_primary_password,
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

    for (k = 0; k < K_COUNT && strcmp(keys[k].name, key) != 0; k++)
        ;
    if (k == K_COUNT) {
        report(ps, line, quote(key, q, sizeof(q)), "unknown key");
        return SG_OK;
    }
    if (ps->seen[k] != 0) {
        report(ps, line, key, "duplicate key (first set on line %u)", ps->seen[k]);
        return SG_OK;
    }
    ps->seen[k] = line;
    it.ps = ps;
    it.key = (enum key_id)k;
    it.line = line;
    it.value = value;
    if (*value == '\0' && !(keys[k].flags & KEY_EMPTY_OK))
        rc = item_error(&it, "missing value");
    else
        rc = keys[k].set(&it, p);
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
        report(ps, line, NULL, "line too long (limit %d bytes)", LINE_MAX_BYTES);
        return SG_OK;
    }
    if (memchr(raw, '\0', n) != NULL) {
        report(ps, line, NULL, "NUL byte in line");
        return SG_OK;
    }
    memcpy(buf, raw, n);
    buf[n] = '\0';
    strip_comment(buf);
    s = trim(buf);
    if (*s == '\0')
        return SG_OK;
    if ((eq = strchr(s, '=')) == NULL || eq == s) {
        report(ps, line, NULL, "expected 'key = value'");
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
        return keys[k].def;
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
        report(ps, ps->seen[K_ACCOUNT_LOCK_MAX], "account_lock_max",
               "%s is shorter than account_lock (%s%s)", max, lock,
               ps->seen[K_ACCOUNT_LOCK] != 0 ? "" : ", the default");
    else
        report(ps, ps->seen[K_ACCOUNT_LOCK], "account_lock",
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
    if ((rc = replace(&p->path, ps->name, strlen(ps->name))) != SG_OK)
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
            report(ps, 0, NULL, "file too large (limit %d bytes)", FILE_MAX_BYTES);
            return SG_ECONFIG;
        }
    }
    if (r < 0) {
        char err[128];

        if (strerror_r(errno, err, sizeof(err)) != 0)
            snprintf(err, sizeof(err), "error %d", errno);
        free(b);
        report(ps, 0, NULL, "cannot read: %s", err);
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
        report(&ps, 0, NULL, "cannot open: %s", err);
        return SG_ECONFIG;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        report(&ps, 0, NULL, "not a regular file");
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
        it.value = keys[k].def;
        if ((rc = keys[k].set(&it, p)) != SG_OK) {
            sg_policy_free(p);
            return rc == SG_ENOMEM ? rc : SG_EINVAL;   /* a bad default is a bug */
        }
    }
    if ((rc = replace(&p->path, "(defaults)", 10)) != SG_OK) {
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
