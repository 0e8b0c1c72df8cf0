/*
 * redis_fixture.h - a private redis-server for one test program.
 *
 * Starts redis-server (REDIS_SERVER in the environment, else the path found
 * by configure) on a unix socket in a fresh temporary directory, with no
 * TCP port and no persistence, waits until it answers PING, and stops it by
 * PID. A server that cannot start is a test failure, never a skip.
 */
#ifndef SG_REDIS_FIXTURE_H
#define SG_REDIS_FIXTURE_H

#include <sys/types.h>
#include <hiredis/hiredis.h>

struct sg_redis_fixture {
    char dir[256];      /* temporary directory */
    char socket[300];   /* unix socket path ("" for a Sentinel) */
    pid_t pid;          /* running server, 0 when stopped */
    int port;           /* also on 127.0.0.1:port (TCP), 0 for none */
    int replica_of;     /* a replica of the server on this port, 0 for none */
    int sentinel;       /* a Sentinel (TCP only) */
    char password[64];  /* a Sentinel's requirepass, "" for none */
};

/* Start a server. Returns 0, or -1 after printing why to stderr. */
int sg_redis_start(struct sg_redis_fixture *f);
/* Start a server that also listens on 127.0.0.1 (a free port, in
 * f->port), as a replica of the server on REPLICA_OF when not 0. */
int sg_redis_start_tcp(struct sg_redis_fixture *f, int replica_of);
/* Start a Sentinel on a free port of 127.0.0.1 watching the master on
 * MASTER_PORT as NAME: quorum 1, down after 500 ms, so that it fails over
 * by itself; PASSWORD (or NULL) is its requirepass. */
int sg_sentinel_start(struct sg_redis_fixture *f, int master_port, const char *name,
                      const char *password);
/* Start again on the same socket (after sg_redis_stop). */
int sg_redis_restart(struct sg_redis_fixture *f);
/* Stop the server (SIGTERM, wait). Safe to call twice. */
void sg_redis_stop(struct sg_redis_fixture *f);
/* Pause / resume the server (SIGSTOP / SIGCONT): a "slow" Redis. */
void sg_redis_pause(struct sg_redis_fixture *f);
void sg_redis_resume(struct sg_redis_fixture *f);
/* Stop and remove the directory and what the server wrote there. */
void sg_redis_destroy(struct sg_redis_fixture *f);

/* A direct connection for assertions (the unix socket, or TCP for a
 * Sentinel, authenticated); NULL on failure. */
redisContext *sg_redis_connect(const struct sg_redis_fixture *f);
/* Run a command, return its integer / string reply (caller frees string). */
long long sg_redis_int(const struct sg_redis_fixture *f, const char *fmt, ...);
char *sg_redis_str(const struct sg_redis_fixture *f, const char *fmt, ...);
/* FLUSHALL between tests. */
void sg_redis_flush(const struct sg_redis_fixture *f);

#endif

#ifndef SG_REDIS_FIXTURE_POLICY
#define SG_REDIS_FIXTURE_POLICY
struct sg_policy;
/* A policy pointing at the fixture's server: "redis = unix:SOCKET" followed
 * by EXTRA (more "key = value" lines). NULL (after printing the parser's
 * diagnostics) if it does not parse. */
struct sg_policy *sg_fixture_policy(const struct sg_redis_fixture *f, const char *extra);

/* A store on such a policy, after FLUSHALL: what most store tests start
 * from. NULL (after printing why) on failure. */
struct sg_store;
struct sg_fixture_store {
    struct sg_policy *policy;
    struct sg_store *store;
};
struct sg_fixture_store *sg_fixture_store_open(const struct sg_redis_fixture *f,
                                               const char *extra);
void sg_fixture_store_close(struct sg_fixture_store *c);
#endif

/* The one private server of a cmocka test program, started and stopped by
 * these group set-up and tear-down functions. */
extern struct sg_redis_fixture sg_redis;
int sg_redis_group_setup(void **state);
int sg_redis_group_teardown(void **state);
/* sg_fixture_store_open on sg_redis; a failure fails the test. */
struct sg_fixture_store *sg_fixture_store_must(const char *extra);

/* Sleep MS milliseconds (windows and locks of the test policies). */
void sg_sleep_ms(long ms);
