/*
 * redis_connect.c - one connection to the Redis the policy names (see
 * redis_connect.h): a unix socket, a TCP address, or the master a Redis
 * Sentinel names; then AUTH and SELECT.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "addr.h"
#include "redis_connect.h"

#define SG_REDIS_PASSWORD_MAX 512
#define SG_HOST_MAX 253            /* sg_host_valid's longest */

/* Give up on C (may be NULL) with ERR already filled. */
static redisContext *give_up(redisContext *c)
{
    if (c)
        redisFree(c);
    return NULL;
}

static redisContext *failed(redisContext *c, struct sg_redis_error *err, const char *step,
                            const char *fmt, ...)
{
    va_list ap;

    err->step = step;
    va_start(ap, fmt);
    vsnprintf(err->detail, sizeof err->detail, fmt, ap);
    va_end(ap);
    return give_up(c);
}

static struct timeval timeout(const struct sg_policy *p)
{
    struct timeval tv = { (time_t)(p->redis_timeout_ms / 1000),
                          (suseconds_t)(p->redis_timeout_ms % 1000) * 1000 };
    return tv;
}

/* A socket (PATH) or HOST:PORT, with the connect and command timeouts. */
static redisContext *open_endpoint(const struct sg_policy *p, const char *path,
                                   const char *host, int port, struct sg_redis_error *err)
{
    struct timeval tv = timeout(p);
    redisContext *c = path ? redisConnectUnixWithTimeout(path, tv)
                           : redisConnectWithTimeout(host, port, tv);

    if (!c)
        return failed(NULL, err, "connect", "out of memory");
    if (c->err)
        return failed(c, err, "connect", "%s", c->errstr);
    if (redisSetTimeout(c, tv) != REDIS_OK)
        return failed(c, err, "connect", "cannot set timeout");
    return c;
}

/* Read a password: one line, from a file nobody else can read. */
static int read_password(const char *path, char *buf, size_t len, struct sg_redis_error *err)
{
    struct stat st;
    ssize_t n;
    int fd;

    err->step = "password file";
    if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
        snprintf(err->detail, sizeof err->detail, "%s", strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) < 0 || (st.st_mode & S_IRWXO)) {
        close(fd);
        snprintf(err->detail, sizeof err->detail, "readable by others: chmod o-rwx it");
        return -1;
    }
    n = read(fd, buf, len - 1);
    close(fd);
    if (n < 0) {
        snprintf(err->detail, sizeof err->detail, "%s", strerror(errno));
        return -1;
    }
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    if (!buf[0]) {
        snprintf(err->detail, sizeof err->detail, "empty");
        return -1;
    }
    return 0;
}

/* Run a setup command (AUTH, SELECT) and insist on +OK. */
static int setup_command(redisContext *c, const char *step, int argc, const char **argv,
                         struct sg_redis_error *err)
{
    redisReply *r = redisCommandArgv(c, argc, argv, NULL);
    int ok = r && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "OK") == 0;

    if (!ok) {
        err->step = step;
        snprintf(err->detail, sizeof err->detail, "%s",
                 !r ? c->errstr : (r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply"));
    }
    if (r)
        freeReplyObject(r);
    return ok ? 0 : -1;
}

/* AUTH with the password in PATH (none: nothing to do). */
static int authenticate(redisContext *c, const char *path, struct sg_redis_error *err)
{
    char pw[SG_REDIS_PASSWORD_MAX];
    const char *argv[2] = { "AUTH", pw };
    int rc;

    if (!path)
        return 0;
    rc = read_password(path, pw, sizeof pw, err);
    if (rc == 0)
        rc = setup_command(c, "AUTH", 2, argv, err);
    OPENSSL_cleanse(pw, sizeof pw);
    return rc;
}

/* The Sentinel's answer: ["HOST", "PORT"], or nil for an unknown master. */
static int parse_master(const redisReply *r, char host[SG_HOST_MAX + 1], int *port,
                        struct sg_redis_error *err)
{
    const redisReply *h, *pt;
    long n = 0;

    if (r->type == REDIS_REPLY_NIL) {
        snprintf(err->detail, sizeof err->detail, "does not know the master");
        return -1;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        snprintf(err->detail, sizeof err->detail, "%.150s", r->str);
        return -1;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2
        || (h = r->element[0])->type != REDIS_REPLY_STRING
        || (pt = r->element[1])->type != REDIS_REPLY_STRING
        || !sg_host_valid(h->str, h->len) || pt->len == 0 || pt->len > 5) {
        snprintf(err->detail, sizeof err->detail, "unexpected reply");
        return -1;
    }
    for (size_t i = 0; i < pt->len; i++) {
        if (pt->str[i] < '0' || pt->str[i] > '9') {
            snprintf(err->detail, sizeof err->detail, "unexpected reply");
            return -1;
        }
        n = n * 10 + (pt->str[i] - '0');
    }
    if (n < 1 || n > 65535) {
        snprintf(err->detail, sizeof err->detail, "unexpected reply");
        return -1;
    }
    memcpy(host, h->str, h->len);
    host[h->len] = '\0';
    *port = (int)n;
    return 0;
}

/* Ask the Sentinels in turn where the master is. */
static int sentinel_master(const struct sg_policy *p, size_t *next, char host[SG_HOST_MAX + 1],
                           int *port, struct sg_redis_error *err)
{
    const char *argv[3] = { "SENTINEL", "get-master-addr-by-name", p->redis_master };
    char why[sizeof err->detail] = "no Sentinel";
    size_t count = p->redis_sentinel_count;

    for (size_t k = 0; k < count; k++) {
        size_t i = (*next + k) % count;
        const struct sg_redis_node *n = &p->redis_sentinels[i];
        int v6 = strchr(n->host, ':') != NULL, ok = -1;
        redisContext *c = open_endpoint(p, NULL, n->host, n->port, err);
        redisReply *r = NULL;

        if (c && authenticate(c, p->redis_sentinel_password_file, err) == 0) {
            if ((r = redisCommandArgv(c, 3, argv, NULL)) == NULL)
                snprintf(err->detail, sizeof err->detail, "%s", c->errstr);
            else
                ok = parse_master(r, host, port, err);
        }
        if (r)
            freeReplyObject(r);
        if (c)
            redisFree(c);
        if (ok == 0) {
            *next = i;
            return 0;
        }
        snprintf(why, sizeof why, "%s%.60s%s:%d: %.80s", v6 ? "[" : "", n->host, v6 ? "]" : "",
                 n->port, err->detail);
    }
    err->step = "sentinel";
    snprintf(err->detail, sizeof err->detail, "no Sentinel named master '%.40s' (last: %.120s)",
             p->redis_master, why);
    return -1;
}

/* The server must say it is a master: a demoted one answers "slave". */
static int is_master(redisContext *c, const char *host, int port, struct sg_redis_error *err)
{
    redisReply *r = redisCommand(c, "ROLE");
    int ok = r && r->type == REDIS_REPLY_ARRAY && r->elements > 0
             && r->element[0]->type == REDIS_REPLY_STRING
             && strcmp(r->element[0]->str, "master") == 0;

    if (!ok) {
        err->step = "sentinel";
        snprintf(err->detail, sizeof err->detail, "%.80s:%d is not a master: %.80s", host, port,
                 !r ? c->errstr : r->type == REDIS_REPLY_ERROR ? r->str : "it says it is a replica");
    }
    if (r)
        freeReplyObject(r);
    return ok ? 0 : -1;
}

redisContext *sg_redis_connect_policy(const struct sg_policy *p, size_t *next_sentinel,
                                      struct sg_redis_error *err)
{
    char host[SG_HOST_MAX + 1];
    int port = 0;
    redisContext *c;

    switch (p->redis_kind) {
    case SG_REDIS_UNIX:
        c = open_endpoint(p, p->redis_path, NULL, 0, err);
        break;
    case SG_REDIS_TCP:
        c = open_endpoint(p, NULL, p->redis_host, p->redis_port, err);
        break;
    case SG_REDIS_SENTINEL:
    default:
        if (sentinel_master(p, next_sentinel, host, &port, err) != 0)
            return NULL;
        if ((c = open_endpoint(p, NULL, host, port, err)) == NULL) {
            char why[sizeof err->detail];

            snprintf(why, sizeof why, "%s", err->detail);
            snprintf(err->detail, sizeof err->detail, "master %.60s:%d (named by a Sentinel): %.80s",
                     host, port, why);
        }
        break;
    }
    if (!c)
        return NULL;
    if (authenticate(c, p->redis_password_file, err) != 0)
        return give_up(c);
    if (p->redis_kind == SG_REDIS_SENTINEL && is_master(c, host, port, err) != 0)
        return give_up(c);
    if (p->redis_db != 0) {
        char db[16];
        const char *argv[2] = { "SELECT", db };

        snprintf(db, sizeof db, "%d", p->redis_db);
        if (setup_command(c, "SELECT", 2, argv, err) != 0)
            return give_up(c);
    }
    return c;
}
