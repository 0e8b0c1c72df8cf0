/*
 * policy_values.c - the values of saslguard.conf(5): durations with units,
 * bounded integers, absolute paths, the Redis endpoint, CIDR lists and the
 * enumerations, one setter per kind of key (see the key table in policy.c),
 * and the diagnostics they report.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_internal.h"

/* ---------------------------------------------------------------- reporting */

/* Bounded copy of untrusted text for a log line: control and non-ASCII
 * bytes become '?', more than QUOTE_MAX bytes end in "...". */
const char *sg_policy_quote(const char *s, char *buf, size_t len)
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

void sg_policy_report(struct parser *ps, unsigned line, const char *key,
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
                 sg_policy_quote(text, q, sizeof(q)));
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
    snprintf(why, wlen, "unknown unit '%s' (use " UNITS_HINT ")", sg_policy_quote(s, q, sizeof(q)));
    return SG_EINVAL;

too_large:
    snprintf(why, wlen, "'%s' is too large", sg_policy_quote(text, q, sizeof(q)));
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

int sg_policy_set_duration(const struct item *it, struct sg_policy *p)
{
    const struct key_def *k = &sg_policy_keys[it->key];
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
    const struct key_def *k = &sg_policy_keys[it->key];
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
                          sg_policy_quote(it->value, q, sizeof(q)), k->min, k->max);
    *out = n;
    return SG_OK;
}

int sg_policy_set_unsigned(const struct item *it, struct sg_policy *p)
{
    uint64_t n;

    if (number(it, &n) != SG_OK)
        return SG_ECONFIG;
    *FIELD(p, unsigned, sg_policy_keys[it->key].offset) = (unsigned)n;
    return SG_OK;
}

int sg_policy_set_int(const struct item *it, struct sg_policy *p)
{
    uint64_t n;

    if (number(it, &n) != SG_OK)
        return SG_ECONFIG;
    *FIELD(p, int, sg_policy_keys[it->key].offset) = (int)n;
    return SG_OK;
}

/* Replace *SLOT with a copy of the first LEN bytes of S (S NULL: none). */
int sg_policy_replace(char **slot, const char *s, size_t len)
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
int sg_policy_set_path(const struct item *it, struct sg_policy *p)
{
    char **slot = FIELD(p, char *, sg_policy_keys[it->key].offset);
    char q[QUOTE_MAX + 4];

    if (*it->value == '\0')
        return sg_policy_replace(slot, NULL, 0);
    if (*it->value != '/')
        return item_error(it, "'%s' is not an absolute path", sg_policy_quote(it->value, q, sizeof(q)));
    return sg_policy_replace(slot, it->value, strlen(it->value));
}

/* "HOST:PORT" or "[V6]:PORT", the first LEN bytes of HP, into *HOST and
 * *PORT; FORM names the whole value's shape in messages. */
static int host_port(const struct item *it, const char *hp, size_t len, const char *form,
                     char **host_out, int *port_out)
{
    const char *host = hp, *end, *port, *stop = hp + len;
    char q[QUOTE_MAX + 4], text[300];
    int bracketed = (len > 0 && *hp == '[');
    long n = 0;

    if (len >= sizeof text)
        return item_error(it, "'%s' is too long", sg_policy_quote(it->value, q, sizeof(q)));
    memcpy(text, hp, len);
    text[len] = '\0';
    if (bracketed) {
        host = hp + 1;
        if ((end = memchr(host, ']', (size_t)(stop - host))) == NULL)
            return item_error(it, "missing ']' after the IPv6 address");
        port = end + 1;
    } else {
        for (end = stop; end > hp && end[-1] != ':'; end--)
            ;
        if (end == hp)
            return item_error(it, "missing port (%s)", form);
        end--;
        if (memchr(hp, ':', (size_t)(end - hp)) != NULL)
            return item_error(it, "put an IPv6 address in brackets ([::1]:6379)");
        port = end;
    }
    if (!sg_host_valid(host, (size_t)(end - host)) || bracketed != (memchr(host, ':', (size_t)(end - host)) != NULL))
        return item_error(it, "'%s' is not a valid host", sg_policy_quote(text, q, sizeof(q)));
    if (port >= stop || *port != ':' || port + 1 == stop)
        return item_error(it, "missing port (%s)", form);
    for (port++; port < stop && *port >= '0' && *port <= '9' && n <= 65535; port++)
        n = n * 10 + (*port - '0');
    if (port != stop || n < 1 || n > 65535)
        return item_error(it, "port must be a number from 1 to 65535");
    *port_out = (int)n;
    return sg_policy_replace(host_out, host, (size_t)(end - host));
}

/* Forget the place the store was before: REDIS is being set again. */
static void clear_redis(struct sg_policy *p)
{
    for (size_t i = 0; i < p->redis_sentinel_count; i++)
        sg_policy_replace(&p->redis_sentinels[i].host, NULL, 0);
    p->redis_sentinel_count = 0;
    sg_policy_replace(&p->redis_master, NULL, 0);
    sg_policy_replace(&p->redis_path, NULL, 0);
    sg_policy_replace(&p->redis_host, NULL, 0);
    p->redis_port = 0;
}

/* A Sentinel master name: 1..64 of [A-Za-z0-9._-], the characters of a
 * host name. */
static int valid_master(const char *name, size_t len)
{
    return len <= SG_SENTINEL_NAME_MAX && !memchr(name, ':', len) && sg_host_valid(name, len);
}

/* sentinel://HOST:PORT[,HOST:PORT...]/MASTER */
static int set_redis_sentinel(const struct item *it, struct sg_policy *p, const char *v)
{
    static const char form[] = "sentinel://HOST:PORT[,HOST:PORT...]/MASTER";
    const char *slash = strrchr(v, '/'), *at = v;
    char q[QUOTE_MAX + 4];
    int rc;

    if (!slash || slash == v)
        return item_error(it, "expected %s", form);
    if (!valid_master(slash + 1, strlen(slash + 1)))
        return item_error(it, "'%s' is not a Sentinel master name (1 to %d of A-Z a-z 0-9 . _ -)",
                          sg_policy_quote(slash + 1, q, sizeof(q)), SG_SENTINEL_NAME_MAX);
    while (at < slash) {
        const char *comma = memchr(at, ',', (size_t)(slash - at));
        const char *stop = comma ? comma : slash;
        struct sg_redis_node *n;

        if (p->redis_sentinel_count == SG_SENTINELS_MAX)
            return item_error(it, "at most %d Sentinels", SG_SENTINELS_MAX);
        n = &p->redis_sentinels[p->redis_sentinel_count];
        if ((rc = host_port(it, at, (size_t)(stop - at), form, &n->host, &n->port)) != SG_OK)
            return rc;
        p->redis_sentinel_count++;
        at = comma ? comma + 1 : slash;
        if (comma && at == slash)
            return item_error(it, "expected %s", form);
    }
    if ((rc = sg_policy_replace(&p->redis_master, slash + 1, strlen(slash + 1))) != SG_OK)
        return rc;
    p->redis_kind = SG_REDIS_SENTINEL;
    return SG_OK;
}

int sg_policy_set_redis(const struct item *it, struct sg_policy *p)
{
    const char *v = it->value;
    int rc;

    clear_redis(p);
    if (strncmp(v, "tcp://", 6) == 0) {
        if ((rc = host_port(it, v + 6, strlen(v + 6), "tcp://HOST:PORT", &p->redis_host,
                            &p->redis_port)) != SG_OK)
            return rc;
        p->redis_kind = SG_REDIS_TCP;
        return SG_OK;
    }
    if (strncmp(v, "sentinel://", 11) == 0)
        return set_redis_sentinel(it, p, v + 11);
    if (strncmp(v, "unix:", 5) != 0)
        return item_error(it, "expected unix:/PATH, tcp://HOST:PORT or "
                              "sentinel://HOST:PORT[,HOST:PORT...]/MASTER");
    if (v[5] != '/')
        return item_error(it, "the socket path must be absolute (unix:/PATH)");
    if ((rc = sg_policy_replace(&p->redis_path, v + 5, strlen(v + 5))) != SG_OK)
        return rc;
    p->redis_kind = SG_REDIS_UNIX;
    return SG_OK;
}

/* Space and/or comma separated CIDR prefixes or bare addresses. */
int sg_policy_set_trusted(const struct item *it, struct sg_policy *p)
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
                            sg_policy_quote(tok, q, sizeof(q)));
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
    return item_error(it, "unknown value '%s' (use %s)", sg_policy_quote(it->value, q, sizeof(q)), hint);
}

int sg_policy_set_store_failure(const struct item *it, struct sg_policy *p)
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

int sg_policy_set_app_passwords(const struct item *it, struct sg_policy *p)
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

int sg_policy_set_mfa_primary_password(const struct item *it, struct sg_policy *p)
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
int sg_policy_set_key_prefix(const struct item *it, struct sg_policy *p)
{
    size_t len = strlen(it->value);
    char q[QUOTE_MAX + 4];

    if (len > SG_KEY_PREFIX_MAX)
        return item_error(it, "longer than %d characters", SG_KEY_PREFIX_MAX);
    if (strspn(it->value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
               "0123456789_.-") != len)
        return item_error(it, "'%s' may contain only letters, digits, '_', '.' and '-'",
                          sg_policy_quote(it->value, q, sizeof(q)));
    memcpy(p->key_prefix, it->value, len + 1);
    return SG_OK;
}

int sg_policy_set_password_source(const struct item *it, struct sg_policy *p)
{
    const char *v = it->value;
    char q[QUOTE_MAX + 4];
    int rc;

    if (strcmp(v, "sasl") == 0) {
        p->password_source = SG_PWSRC_SASL;
        return sg_policy_replace(&p->password_file, NULL, 0);
    }
    if (strncmp(v, "file:", 5) != 0)
        return item_error(it, "unknown value '%s' (use sasl or file:/PATH)",
                          sg_policy_quote(v, q, sizeof(q)));
    if (v[5] != '/')
        return item_error(it, "the password file must be an absolute path (file:/PATH)");
    if ((rc = sg_policy_replace(&p->password_file, v + 5, strlen(v + 5))) != SG_OK)
        return rc;
    p->password_source = SG_PWSRC_FILE;
    return SG_OK;
}
