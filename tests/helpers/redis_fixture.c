/*
 * redis_fixture.c - start, stop and query a private redis-server (see .h).
 */
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "redis_fixture.h"

#ifndef REDIS_SERVER
#define REDIS_SERVER "redis-server"
#endif

static const char *server_path(void)
{
    const char *p = getenv("REDIS_SERVER");
    return p && *p ? p : REDIS_SERVER;
}

static void nap_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static int ping(const struct sg_redis_fixture *f)
{
    redisContext *c = sg_redis_connect(f);
    redisReply *r;
    int ok = 0;

    if (!c)
        return 0;
    r = redisCommand(c, "PING");
    ok = r && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0;
    if (r)
        freeReplyObject(r);
    redisFree(c);
    return ok;
}

/* A port on 127.0.0.1 nobody listens on right now. */
static int free_port(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0
        && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static void exec_server(const struct sg_redis_fixture *f, const char *logfile)
{
    char port[16], master[16], conf[320];
    const char *argv[32];
    int n = 0;

    snprintf(port, sizeof port, "%d", f->port);
    snprintf(master, sizeof master, "%d", f->replica_of);
    snprintf(conf, sizeof conf, "%s/sentinel.conf", f->dir);
    argv[n++] = server_path();
    if (f->sentinel) {
        argv[n++] = conf;
        argv[n++] = "--sentinel";
    } else {
        argv[n++] = "--port";
        argv[n++] = port;
        if (f->port) {
            argv[n++] = "--bind";
            argv[n++] = "127.0.0.1";
        }
        argv[n++] = "--unixsocket";
        argv[n++] = f->socket;
        argv[n++] = "--unixsocketperm";
        argv[n++] = "700";
        argv[n++] = "--save";
        argv[n++] = "";
        argv[n++] = "--appendonly";
        argv[n++] = "no";
        argv[n++] = "--daemonize";
        argv[n++] = "no";
        argv[n++] = "--dir";
        argv[n++] = f->dir;
        argv[n++] = "--logfile";
        argv[n++] = logfile;
        if (f->port) {      /* replication without waits, for the Sentinel tests */
            argv[n++] = "--repl-diskless-sync-delay";
            argv[n++] = "0";
            argv[n++] = "--shutdown-timeout";
            argv[n++] = "0";
        }
        if (f->replica_of) {
            argv[n++] = "--replicaof";
            argv[n++] = "127.0.0.1";
            argv[n++] = master;
        }
    }
    argv[n] = NULL;
    execv(server_path(), (char *const *)argv);
    fprintf(stderr, "redis_fixture: cannot exec %s: %s\n", server_path(), strerror(errno));
    _exit(127);
}

static int spawn(struct sg_redis_fixture *f)
{
    char logfile[320];
    pid_t pid;

    snprintf(logfile, sizeof logfile, "%s/redis.log", f->dir);
    pid = fork();
    if (pid < 0) {
        perror("fork");
        return -1;
    }
    if (pid == 0)
        exec_server(f, logfile);
    f->pid = pid;
    for (int i = 0; i < 500; i++) {   /* up to 5 s */
        int status;

        if (waitpid(pid, &status, WNOHANG) == pid) {
            fprintf(stderr, "redis_fixture: %s exited at start (see %s)\n", server_path(), logfile);
            f->pid = 0;
            return -1;
        }
        if (ping(f))
            return 0;
        nap_ms(10);
    }
    fprintf(stderr, "redis_fixture: %s did not answer PING in 5 s\n", server_path());
    sg_redis_stop(f);
    return -1;
}

static int make_dir(struct sg_redis_fixture *f)
{
    const char *tmp = getenv("TMPDIR");

    memset(f, 0, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "%s/sgtest-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(f->dir)) {
        perror("mkdtemp");
        return -1;
    }
    return 0;
}

int sg_redis_start(struct sg_redis_fixture *f)
{
    if (make_dir(f) != 0)
        return -1;
    snprintf(f->socket, sizeof f->socket, "%s/redis.sock", f->dir);
    return spawn(f);
}

/* Spawn F on a free TCP port, writing its configuration first with CONF
 * (may be NULL); a port taken by someone else in the meantime makes the
 * server exit at start: then another port, three tries. */
static int spawn_on_free_port(struct sg_redis_fixture *f,
                              int (*conf)(const struct sg_redis_fixture *, const void *),
                              const void *arg)
{
    for (int tries = 0; tries < 3; tries++) {
        if ((f->port = free_port()) <= 0) {
            fprintf(stderr, "redis_fixture: no free port\n");
            return -1;
        }
        if (conf && conf(f, arg) != 0)
            return -1;
        if (spawn(f) == 0)
            return 0;
    }
    return -1;
}

int sg_redis_start_tcp(struct sg_redis_fixture *f, int replica_of)
{
    if (make_dir(f) != 0)
        return -1;
    snprintf(f->socket, sizeof f->socket, "%s/redis.sock", f->dir);
    f->replica_of = replica_of;
    return spawn_on_free_port(f, NULL, NULL);
}

struct sentinel_args {
    int master_port;
    const char *name;
};

static int write_sentinel_conf(const struct sg_redis_fixture *f, const void *arg)
{
    const struct sentinel_args *a = arg;
    char conf[320];
    FILE *out;

    snprintf(conf, sizeof conf, "%s/sentinel.conf", f->dir);
    if (!(out = fopen(conf, "w"))) {
        perror(conf);
        return -1;
    }
    fprintf(out, "port %d\nbind 127.0.0.1\ndaemonize no\ndir %s\nlogfile %s/redis.log\n"
                 "sentinel monitor %s 127.0.0.1 %d 1\n"
                 "sentinel down-after-milliseconds %s 500\n"
                 "sentinel failover-timeout %s 5000\n",
            f->port, f->dir, f->dir, a->name, a->master_port, a->name, a->name);
    if (f->password[0])
        fprintf(out, "requirepass %s\n", f->password);
    if (fclose(out) != 0) {
        perror(conf);
        return -1;
    }
    return 0;
}

int sg_sentinel_start(struct sg_redis_fixture *f, int master_port, const char *name,
                      const char *password)
{
    struct sentinel_args a = { master_port, name };

    if (make_dir(f) != 0)
        return -1;
    f->sentinel = 1;
    snprintf(f->password, sizeof f->password, "%s", password ? password : "");
    return spawn_on_free_port(f, write_sentinel_conf, &a);
}

int sg_redis_restart(struct sg_redis_fixture *f)
{
    sg_redis_stop(f);
    return spawn(f);
}

void sg_redis_stop(struct sg_redis_fixture *f)
{
    if (f->pid <= 0)
        return;
    kill(f->pid, SIGCONT);
    kill(f->pid, SIGTERM);
    waitpid(f->pid, NULL, 0);
    f->pid = 0;
    if (f->socket[0])
        unlink(f->socket);
}

void sg_redis_pause(struct sg_redis_fixture *f)
{
    if (f->pid > 0)
        kill(f->pid, SIGSTOP);
}

void sg_redis_resume(struct sg_redis_fixture *f)
{
    if (f->pid > 0)
        kill(f->pid, SIGCONT);
}

void sg_redis_destroy(struct sg_redis_fixture *f)
{
    char path[600];
    DIR *d;
    struct dirent *e;

    sg_redis_stop(f);
    if (!f->dir[0] || !(d = opendir(f->dir)))
        return;
    while ((e = readdir(d)) != NULL)     /* the log, a Sentinel's config, RDB files */
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            snprintf(path, sizeof path, "%s/%s", f->dir, e->d_name);
            unlink(path);
        }
    closedir(d);
    rmdir(f->dir);
}

redisContext *sg_redis_connect(const struct sg_redis_fixture *f)
{
    struct timeval tv = { 2, 0 };
    redisContext *c = f->socket[0] ? redisConnectUnixWithTimeout(f->socket, tv)
                                   : redisConnectWithTimeout("127.0.0.1", f->port, tv);
    redisReply *r;

    if (!c || c->err) {
        if (c)
            redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv);
    if (f->password[0]) {
        r = redisCommand(c, "AUTH %s", f->password);
        if (!r || r->type == REDIS_REPLY_ERROR) {
            if (r)
                freeReplyObject(r);
            redisFree(c);
            return NULL;
        }
        freeReplyObject(r);
    }
    return c;
}

static redisReply *vcommand(const struct sg_redis_fixture *f, const char *fmt, va_list ap)
{
    redisContext *c = sg_redis_connect(f);
    redisReply *r;

    if (!c)
        return NULL;
    r = redisvCommand(c, fmt, ap);
    redisFree(c);
    return r;
}

long long sg_redis_int(const struct sg_redis_fixture *f, const char *fmt, ...)
{
    va_list ap;
    redisReply *r;
    long long v = -1;

    va_start(ap, fmt);
    r = vcommand(f, fmt, ap);
    va_end(ap);
    if (r && r->type == REDIS_REPLY_INTEGER)
        v = r->integer;
    else if (r && r->type == REDIS_REPLY_STRING)
        v = atoll(r->str);
    if (r)
        freeReplyObject(r);
    return v;
}

char *sg_redis_str(const struct sg_redis_fixture *f, const char *fmt, ...)
{
    va_list ap;
    redisReply *r;
    char *s = NULL;

    va_start(ap, fmt);
    r = vcommand(f, fmt, ap);
    va_end(ap);
    if (r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS))
        s = strdup(r->str);
    if (r)
        freeReplyObject(r);
    return s;
}

void sg_redis_flush(const struct sg_redis_fixture *f)
{
    redisContext *c = sg_redis_connect(f);
    redisReply *r;

    if (!c)
        return;
    r = redisCommand(c, "FLUSHALL");
    if (r)
        freeReplyObject(r);
    redisFree(c);
}

#include "policy.h"
#include "store.h"

static void print_diag(void *ctx, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "policy: %s\n", msg);
}

struct sg_policy *sg_fixture_policy(const struct sg_redis_fixture *f, const char *extra)
{
    char text[4096];
    struct sg_policy *p = NULL;

    /* a generous default timeout unless the test sets its own */
    snprintf(text, sizeof text, "redis = unix:%s\n%s%s\n", f->socket,
             extra && strstr(extra, "redis_timeout") ? "" : "redis_timeout = 300ms\n",
             extra ? extra : "");
    if (sg_policy_load_string("test-policy", text, &p, print_diag, NULL) != 0)
        return NULL;
    return p;
}

struct sg_fixture_store *sg_fixture_store_open(const struct sg_redis_fixture *f,
                                               const char *extra)
{
    struct sg_fixture_store *c = calloc(1, sizeof *c);

    if (!c)
        return NULL;
    sg_redis_flush(f);
    if (!(c->policy = sg_fixture_policy(f, extra)) || sg_store_open(c->policy, &c->store) != 0) {
        fprintf(stderr, "redis_fixture: cannot open a store\n");
        sg_fixture_store_close(c);
        return NULL;
    }
    return c;
}

void sg_fixture_store_close(struct sg_fixture_store *c)
{
    if (!c)
        return;
    sg_store_close(c->store);
    sg_policy_free(c->policy);
    free(c);
}

void sg_sleep_ms(long ms)
{
    nap_ms(ms);
}
