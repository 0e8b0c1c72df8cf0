/*
 * NAME
 *	bench_login - cost per SMTP AUTH login: stock Cyrus SASL against
 *	saslguard, and Redis itself
 * SYNOPSIS
 *	bench_login [-B builddir] [-n logins] [-t seconds] [-d seconds]
 *		    [-m distinct] [-M seconds] [-o case] [-p same|split] [-k]
 * DESCRIPTION
 *	One run, everything private: a redis-server on a unix socket in a
 *	temporary directory (stopped by PID), a sasldb made with saslpasswd2,
 *	two plugin directories of symlinks (the stock libplain + libsasldb;
 *	the same plus the built libsaslguard.so), the SASL config through
 *	SASL_CB_GETCONFPATH / SASL_CB_GETPATH, an HMAC secret (mode 0600) and
 *	an app password (made with the built `saslguard app-password add`,
 *	or with the core library when the command is missing or fails).
 *	Nothing needs root.
 *
 *	Every login is what an MTA does for one client: sasl_server_new,
 *	sasl_server_start("PLAIN", initial response), sasl_dispose. Each case
 *	runs in a process of its own (fork; sasl_server_init once, like one
 *	Postfix smtpd), after a warm-up, and is bounded by -n logins and -t
 *	seconds. Printed side by side:
 *
 *	1 stock libplain + sasldb; 2 saslguard PLAIN verifying through
 *	sasldb; 3 saslguard with an app password (check.lua verifies it);
 *	4 a locked account (refused before verification): logins/s, p50,
 *	p99, the difference to case 1 in Redis round trips (PING over hiredis
 *	on the same socket, measured in this run), how often the password
 *	verifier ran, and the Redis commands per login (INFO commandstats
 *	before/after, top level and inside the scripts).
 *
 *	The four cases run twice, pinned (see "CPU placement" below): login
 *	process and redis-server on one CPU, then on two, each with its own
 *	RTT (-p same / -p split: only one of them).
 *
 *	Verifier calls are counted exactly: libsasl's checkpass first calls
 *	the application's SASL_CB_SERVER_USERDB_CHECKPASS callback, and goes
 *	on to pwcheck_method (sasldb) when it does not answer SASL_OK. The
 *	bench installs one that counts and answers SASL_NOUSER. For case 4 a
 *	second proof: the sasldb file is renamed away during the locked
 *	attempts (chmod 000 would not stop root), and a control login of an
 *	unlocked account then fails, while the locked ones still answer
 *	SASL_TRYAGAIN; a third: no command of report.lua's failure path ran.
 *
 *	Then case 1 and case 2 from 2 and 8 processes at once (-d seconds
 *	each) next to redis-benchmark's EVALSHA rate of the real check.lua
 *	with case 2's keys and arguments at the same concurrency (clients on
 *	CPU 0, Redis on CPU 1); and Redis memory per tracked attacking source
 *	and per attacked account (-m distinct of each, one sg_store_report
 *	per failure as the engine makes it, INFO memory before/after, at most
 *	-M seconds each), and the keys left without a TTL.
 *
 *	-o CASE runs only that case (1-4), for profiling:
 *	  valgrind --tool=callgrind --toggle-collect=measure_logins \
 *	      bench/bench_login -o 2 -n 500 -p same
 *	-k keeps the temporary directory.
 *
 *	Targets are reported, never asserted.
 * EXIT STATUS
 *	0 when every case gave the expected answers, 1 when one did not
 *	(figures are then not comparable), 2 on a setup error.
 */
#define _GNU_SOURCE   /* nftw, sched_setaffinity */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <sasl/sasl.h>
#include <sasl/saslplug.h>

#include "account_key.h"
#include "addr.h"
#include "app_admin.h"
#include "app_password.h"
#include "lua_scripts.h"
#include "outcome.h"
#include "policy.h"
#include "secret.h"
#include "status.h"
#include "store.h"

#ifndef REDIS_SERVER
#define REDIS_SERVER "redis-server"
#endif
#define SYS_PLUGDIR "/usr/lib/x86_64-linux-gnu/sasl2"
#define REALM "example.test"
#define PASSWORD "Corr3ct-horse-battery"
#define MAX_PROCS 8
#define LAT_MAX 200000          /* latencies kept per process */
#define WARMUP 50
#define KEYLEN 900

/* ------------------------------------------------------------ options */

static const char *opt_builddir;
static long opt_logins = 2000;
static double opt_seconds = 3.0;
static double opt_conc_seconds = 2.0;
static long opt_distinct = 100000;
static double opt_mem_seconds = 20.0;
static int opt_only;
static int opt_keep;
static int opt_placements = 3;   /* bit 1: same CPU, bit 2: separate CPUs */

/* ------------------------------------------------------------ state */

static char tmpdir[256];
static char sock[320], sasldb[320], sasldb_hidden[330], policy_path[320], secret_path[320];
static char plug_stock[320], plug_guard[320], confdir[320];
static pid_t redis_pid;
static redisContext *rc;             /* the bench's own control connection */
static struct sg_policy *policy;
static char sha_check[64];

/* per child: which plugin dir the SASL library loads from */
static const char *child_plugdir;
static long verifier_calls;           /* in a child */
static long log_lines[8];             /* by SASL_LOG_ level, in a child */

static void cleanup(void);

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;

    fputs("bench_login: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    cleanup();
    exit(2);
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    nanosleep(&ts, NULL);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    size_t len = strlen(text);

    if (fd < 0 || write(fd, text, len) != (ssize_t)len || close(fd) != 0)
        die("cannot write %s: %s", path, strerror(errno));
}

/* ------------------------------------------------------------ redis */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    remove(path);
    return 0;
}

static void cleanup(void)
{
    if (rc) {
        redisFree(rc);
        rc = NULL;
    }
    if (redis_pid > 0) {
        int status;

        kill(redis_pid, SIGTERM);
        for (int i = 0; i < 250; i++) {
            if (waitpid(redis_pid, &status, WNOHANG) == redis_pid)
                break;
            sleep_ms(20);
            if (i == 249) {
                kill(redis_pid, SIGKILL);
                waitpid(redis_pid, &status, 0);
            }
        }
        redis_pid = 0;
    }
    if (tmpdir[0] && !opt_keep)
        nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    else if (tmpdir[0])
        fprintf(stderr, "bench_login: kept %s\n", tmpdir);
    tmpdir[0] = '\0';
}

static void on_signal(int sig)
{
    (void)sig;
    if (redis_pid > 0)
        kill(redis_pid, SIGTERM);
    _exit(130);
}

static void start_redis(void)
{
    char logfile[340];
    struct timeval tv = { 2, 0 };

    snprintf(logfile, sizeof logfile, "%s/redis.log", tmpdir);
    redis_pid = fork();
    if (redis_pid < 0)
        die("fork: %s", strerror(errno));
    if (redis_pid == 0) {
        int null = open("/dev/null", O_RDWR);

        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
        }
        setpgid(0, 0);   /* a ^C to the bench reaches it through our handler */
        execlp(REDIS_SERVER, REDIS_SERVER, "--port", "0", "--unixsocket", sock,
               "--unixsocketperm", "700", "--save", "", "--appendonly", "no",
               "--daemonize", "no", "--logfile", logfile, "--dir", tmpdir, (char *)NULL);
        fprintf(stderr, "bench_login: exec %s: %s\n", REDIS_SERVER, strerror(errno));
        _exit(127);
    }
    for (int i = 0; i < 200; i++) {
        redisReply *r;

        if (!rc) {
            rc = redisConnectUnixWithTimeout(sock, tv);
            if (rc && rc->err) {
                redisFree(rc);
                rc = NULL;
            }
        }
        if (rc && (r = redisCommand(rc, "PING"))) {
            int ok = r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0;

            freeReplyObject(r);
            if (ok)
                return;
        }
        if (waitpid(redis_pid, NULL, WNOHANG) == redis_pid) {
            redis_pid = 0;
            die("redis-server exited at start (see %s)", logfile);
        }
        sleep_ms(25);
    }
    die("redis-server did not answer PING within 5 s");
}

static redisReply *cmd(const char *fmt, ...)
{
    va_list ap;
    redisReply *r;

    va_start(ap, fmt);
    r = redisvCommand(rc, fmt, ap);
    va_end(ap);
    if (!r)
        die("redis: %s", rc->errstr);
    if (r->type == REDIS_REPLY_ERROR)
        die("redis: %s", r->str);
    return r;
}

static redisReply *cmd_argv(int argc, const char **argv)
{
    redisReply *r = redisCommandArgv(rc, argc, argv, NULL);

    if (!r)
        die("redis: %s", rc->errstr);
    if (r->type == REDIS_REPLY_ERROR)
        die("redis: %s: %s", argv[0], r->str);
    return r;
}

/* A field of an INFO section ("used_memory"), as a number. */
static long long info_field(const char *section, const char *field)
{
    redisReply *r = cmd("INFO %s", section);
    size_t fl = strlen(field);
    long long v = -1;

    for (const char *p = r->str; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, field, fl) == 0 && p[fl] == ':') {
            v = strtoll(p + fl + 1, NULL, 10);
            break;
        }
    freeReplyObject(r);
    return v;
}

static double info_double(const char *section, const char *field)
{
    char buf[64];
    redisReply *r = cmd("INFO %s", section);
    size_t fl = strlen(field);
    double v = -1;

    for (const char *p = r->str; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, field, fl) == 0 && p[fl] == ':') {
            snprintf(buf, sizeof buf, "%.*s", (int)strcspn(p + fl + 1, "\r\n"), p + fl + 1);
            v = strtod(buf, NULL);
            break;
        }
    freeReplyObject(r);
    return v;
}

/* CPU seconds redis-server has used (user + system, all threads). */
static double redis_cpu_seconds(void)
{
    return info_double("cpu", "used_cpu_user") + info_double("cpu", "used_cpu_sys");
}

static char *info_string(const char *section, const char *field, char *buf, size_t len)
{
    redisReply *r = cmd("INFO %s", section);
    size_t fl = strlen(field);

    snprintf(buf, len, "?");
    for (const char *p = r->str; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, field, fl) == 0 && p[fl] == ':') {
            size_t n = strcspn(p + fl + 1, "\r\n");

            snprintf(buf, len, "%.*s", (int)n, p + fl + 1);
            break;
        }
    freeReplyObject(r);
    return buf;
}

/* ------------------------------------------------------------ commandstats */

#define MAX_CMDS 64
struct cmdstats {
    int n;
    struct { char name[32]; long long calls, usec; } c[MAX_CMDS];
};

static void cmdstats_get(struct cmdstats *s)
{
    redisReply *r = cmd("INFO commandstats");

    s->n = 0;
    for (const char *p = r->str; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        const char *colon;
        size_t nl;

        if (strncmp(p, "cmdstat_", 8) != 0 || !(colon = strchr(p, ':')) || s->n >= MAX_CMDS)
            continue;
        nl = (size_t)(colon - (p + 8));
        if (nl >= sizeof s->c[0].name)
            continue;
        memcpy(s->c[s->n].name, p + 8, nl);
        s->c[s->n].name[nl] = '\0';
        if (sscanf(colon + 1, "calls=%lld,usec=%lld", &s->c[s->n].calls, &s->c[s->n].usec) == 2)
            s->n++;
    }
    freeReplyObject(r);
}

static void cmdstats_lookup(const struct cmdstats *s, const char *name, long long *calls,
                            long long *usec)
{
    *calls = *usec = 0;
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->c[i].name, name) == 0) {
            *calls = s->c[i].calls;
            *usec = s->c[i].usec;
        }
}

/* Commands a client sends (round trips); everything else ran inside a script. */
static int top_level(const char *name)
{
    return !strcmp(name, "evalsha") || !strcmp(name, "eval") || !strncmp(name, "script", 6)
           || !strcmp(name, "auth") || !strcmp(name, "select") || !strcmp(name, "hello");
}

/* The bench's own commands between two snapshots: not the plugin's. */
static int control(const char *name)
{
    return !strcmp(name, "info") || !strcmp(name, "ping");
}

struct cmd_delta {
    double round_trips;       /* per login */
    double inner;             /* per login */
    double script_usec;       /* server time in evalsha/eval, per login */
    char detail[600];         /* "evalsha 2.00; inside: time 2.00 hmget 2.00 ..." */
};

static void cmdstats_delta(const struct cmdstats *a, const struct cmdstats *b, long logins,
                           struct cmd_delta *d)
{
    char top[200] = "", inner[400] = "";
    size_t nt = 0, ni = 0;
    double per = logins > 0 ? 1.0 / (double)logins : 0;

    memset(d, 0, sizeof *d);
    for (int i = 0; i < b->n; i++) {
        long long c0, u0, dc, du;

        if (control(b->c[i].name))
            continue;
        cmdstats_lookup(a, b->c[i].name, &c0, &u0);
        dc = b->c[i].calls - c0;
        du = b->c[i].usec - u0;
        if (dc <= 0)
            continue;
        if (top_level(b->c[i].name)) {
            d->round_trips += (double)dc * per;
            if (!strcmp(b->c[i].name, "evalsha") || !strcmp(b->c[i].name, "eval"))
                d->script_usec += (double)du * per;
            if (nt < sizeof top)
                nt += (size_t)snprintf(top + nt, sizeof top - nt, "%s%s %.2f", nt ? " " : "",
                                       b->c[i].name, (double)dc * per);
        } else {
            d->inner += (double)dc * per;
            if (ni < sizeof inner)
                ni += (size_t)snprintf(inner + ni, sizeof inner - ni, "%s%s %.2f",
                                       ni ? " " : "", b->c[i].name, (double)dc * per);
        }
    }
    snprintf(d->detail, sizeof d->detail, "%s%s%s%s", nt ? top : "none",
             ni ? " | inside the scripts: " : "", ni ? inner : "", "");
}

/* ------------------------------------------------------------ SASL, in a child */

static int cb_log(void *ctx, int level, const char *message)
{
    (void)ctx;
    if (level >= 0 && level < 8)
        log_lines[level]++;
    /* like Postfix: ERR shown; WARN/FAIL would be logged (the locked
     * case's decision lines): counted, not printed */
    if (level == SASL_LOG_ERR && log_lines[level] <= 3)
        fprintf(stderr, "bench_login: sasl log: %s\n", message ? message : "");
    return SASL_OK;
}

static int cb_getpath(void *ctx, const char **path)
{
    (void)ctx;
    *path = child_plugdir;
    return SASL_OK;
}

static int cb_getconfpath(void *ctx, char **path)
{
    (void)ctx;
    *path = confdir;
    return SASL_OK;
}

/* libsasl's checkpass calls this first and goes on to pwcheck_method
 * (sasldb) when it does not answer SASL_OK: an exact verifier counter. */
static int cb_checkpass(sasl_conn_t *conn, void *ctx, const char *user, const char *pass,
                        unsigned passlen, struct propctx *propctx)
{
    (void)conn; (void)ctx; (void)user; (void)pass; (void)passlen; (void)propctx;
    verifier_calls++;
    return SASL_NOUSER;
}

#define CB(f) ((int (*)(void))(void (*)(void))(f))
static sasl_callback_t callbacks[] = {
    { SASL_CB_LOG, CB(cb_log), NULL },
    { SASL_CB_GETPATH, CB(cb_getpath), NULL },
    { SASL_CB_GETCONFPATH, CB(cb_getconfpath), NULL },
    { SASL_CB_SERVER_USERDB_CHECKPASS, CB(cb_checkpass), NULL },
    { SASL_CB_LIST_END, NULL, NULL },
};

struct login {
    char user[64];
    char pass[64];
    char remote[64];        /* "192.0.2.7;40000" */
    char msg[200];          /* PLAIN initial response */
    unsigned msglen;
};

static void login_set(struct login *l, const char *user, const char *pass, const char *ip)
{
    snprintf(l->user, sizeof l->user, "%s", user);
    snprintf(l->pass, sizeof l->pass, "%s", pass);
    snprintf(l->remote, sizeof l->remote, "%s;40000", ip);
    l->msg[0] = '\0';
    l->msglen = (unsigned)(1 + strlen(user) + 1 + strlen(pass));
    memcpy(l->msg + 1, user, strlen(user));
    l->msg[1 + strlen(user)] = '\0';
    memcpy(l->msg + 2 + strlen(user), pass, strlen(pass));
}

/* One client: a fresh SASL connection, AUTH PLAIN with an initial response. */
static int one_login(const struct login *l)
{
    static const sasl_security_properties_t props = {
        .min_ssf = 0, .max_ssf = 0, .maxbufsize = 0,
        .security_flags = SASL_SEC_NOANONYMOUS,
    };
    sasl_conn_t *conn = NULL;
    const char *out = NULL;
    unsigned outlen = 0;
    int r;

    r = sasl_server_new("smtp", "mx.example.test", NULL, "192.0.2.1;25", l->remote, NULL, 0,
                        &conn);
    if (r != SASL_OK)
        return r;
    sasl_setprop(conn, SASL_SEC_PROPS, &props);
    r = sasl_server_start(conn, "PLAIN", l->msg, l->msglen, &out, &outlen);
    sasl_dispose(&conn);
    return r;
}

static const char *code_name(int code)
{
    switch (code) {
#define C(x) case x: return #x
    C(SASL_CONTINUE); C(SASL_OK); C(SASL_FAIL); C(SASL_NOMEM); C(SASL_NOMECH);
    C(SASL_BADPROT); C(SASL_BADPARAM); C(SASL_TRYAGAIN); C(SASL_NOTINIT);
    C(SASL_BADAUTH); C(SASL_NOAUTHZ); C(SASL_DISABLED); C(SASL_NOUSER);
    C(SASL_UNAVAIL); C(SASL_NOVERIFY); C(SASL_NOUSERPASS);
#undef C
    }
    return "SASL_other";
}

/* ------------------------------------------------------------ cases */

struct child_result {
    int setup_ok;
    char err[240];
    long count;                 /* measured logins */
    long expected;              /* ... with the expected answer */
    int other_code;             /* first other answer */
    long verifier_calls;        /* during the measured logins */
    long warn_lines;            /* WARN/FAIL log lines during them */
    double t_start, t_end;
    int post_code;              /* case 4: the control login */
    long post_verifier_calls;
    int post_locked_code;       /* case 4: a locked attempt after the control */
};

struct case_spec {
    const char *name;
    int guard;                  /* plugin dir with libsaslguard.so */
    int nproc;
    struct login login[MAX_PROCS];
    int expect;                 /* expected SASL answer */
    long max_count;             /* per process */
    double max_seconds;
    void (*setup)(const struct case_spec *cs, struct child_result *r);
    void (*post)(const struct case_spec *cs, struct child_result *r);
    void (*parent_go)(void);    /* after every child is ready, before go */
    void (*parent_done)(void);  /* after the measurement, before post */
};

struct case_result {
    long count;
    double rate;                /* logins/s (aggregate) */
    double p50_us, p99_us, mean_us;
    double verifier_per_login;
    struct cmd_delta cmds;
    long wrong;                 /* logins without the expected answer */
    int other_code;
    struct child_result first;  /* process 0's record (case 4 proofs) */
    int valid;
    double redis_cpu;           /* redis-server CPU / wall time of the run */
    double client_cpu;          /* login processes' CPU / wall time */
};

static struct child_result *shm_res;
static uint32_t *shm_lat;       /* MAX_PROCS * LAT_MAX, nanoseconds */

/* The measured loop, a function of its own for callgrind --toggle-collect. */
__attribute__((noinline))
static void measure_logins(const struct case_spec *cs, const struct login *l,
                           struct child_result *r, uint32_t *lat)
{
    double deadline;
    long v0 = verifier_calls, w0 = log_lines[SASL_LOG_WARN] + log_lines[SASL_LOG_FAIL];

    r->t_start = now_s();
    deadline = r->t_start + cs->max_seconds;
    for (long i = 0; i < cs->max_count; i++) {
        uint64_t t0 = now_ns();
        int code = one_login(l);
        uint64_t dt = now_ns() - t0;

        if (r->count < LAT_MAX)
            lat[r->count] = dt > UINT32_MAX ? UINT32_MAX : (uint32_t)dt;
        r->count++;
        if (code == cs->expect)
            r->expected++;
        else if (r->other_code == 0 || r->other_code == cs->expect)
            r->other_code = code;
        if ((i & 15) == 15 && now_s() >= deadline)
            break;
    }
    r->t_end = now_s();
    r->verifier_calls = verifier_calls - v0;
    r->warn_lines = log_lines[SASL_LOG_WARN] + log_lines[SASL_LOG_FAIL] - w0;
}

static void xwrite(int fd, char c)
{
    while (write(fd, &c, 1) < 0 && errno == EINTR)
        ;
}

static char xread(int fd)
{
    char c = 0;
    ssize_t n;

    while ((n = read(fd, &c, 1)) < 0 && errno == EINTR)
        ;
    return n == 1 ? c : 0;
}

static void child_main(const struct case_spec *cs, int idx, int to_parent, int from_parent)
{
    struct child_result *r = &shm_res[idx];
    const struct login *l = &cs->login[idx];
    int code;

    memset(r, 0, sizeof *r);
    child_plugdir = cs->guard ? plug_guard : plug_stock;
    if ((code = sasl_server_init(callbacks, "smtpd")) != SASL_OK) {
        snprintf(r->err, sizeof r->err, "sasl_server_init: %s", code_name(code));
        xwrite(to_parent, 'R');
        _exit(1);
    }
    r->setup_ok = 1;
    if (cs->setup)
        cs->setup(cs, r);
    /* warm-up: plugins, Redis connection, scripts cached, sasldb pages */
    for (int i = 0; i < WARMUP && r->setup_ok; i++)
        if ((code = one_login(l)) != cs->expect) {
            snprintf(r->err, sizeof r->err, "warm-up login of %s answered %s, not %s",
                     l->user, code_name(code), code_name(cs->expect));
            r->setup_ok = 0;
        }
    xwrite(to_parent, 'R');
    if (xread(from_parent) != 'G' || !r->setup_ok)
        _exit(1);
    measure_logins(cs, l, r, shm_lat + (size_t)idx * LAT_MAX);
    xwrite(to_parent, 'D');
    if (xread(from_parent) != 'C')
        _exit(1);
    if (cs->post)
        cs->post(cs, r);
    sasl_server_done();
    _exit(0);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted V (N > 0). */
static double pct(const uint32_t *v, size_t n, double p)
{
    size_t k = (size_t)(p / 100.0 * (double)n + 0.999999);

    if (k < 1)
        k = 1;
    if (k > n)
        k = n;
    return (double)v[k - 1];
}

static void run_case(const struct case_spec *cs, struct case_result *out)
{
    int up[MAX_PROCS][2], down[MAX_PROCS][2];
    pid_t pid[MAX_PROCS];
    struct cmdstats before, after;
    uint32_t *all;
    size_t nlat = 0;
    double t0 = 1e300, t1 = 0, sum = 0, rcpu0, rcpu1, ccpu = 0;
    long verif = 0;
    int ready = 1;

    memset(out, 0, sizeof *out);
    fflush(stdout);
    fflush(stderr);
    for (int i = 0; i < cs->nproc; i++) {
        if (pipe(up[i]) || pipe(down[i]))
            die("pipe: %s", strerror(errno));
        if ((pid[i] = fork()) < 0)
            die("fork: %s", strerror(errno));
        if (pid[i] == 0) {
            redis_pid = 0;          /* not ours to stop */
            tmpdir[0] = '\0';
            for (int j = 0; j < i; j++) {   /* the earlier siblings' pipes */
                close(up[j][0]);
                close(down[j][1]);
            }
            close(up[i][0]);
            close(down[i][1]);
            child_main(cs, i, up[i][1], down[i][0]);
        }
        close(up[i][1]);
        close(down[i][0]);
    }
    for (int i = 0; i < cs->nproc; i++)
        if (xread(up[i][0]) != 'R' || !shm_res[i].setup_ok) {
            fprintf(stderr, "bench_login: %s: process %d: %s\n", cs->name, i,
                    shm_res[i].err[0] ? shm_res[i].err : "died during setup");
            ready = 0;
        }
    if (ready && cs->parent_go)
        cs->parent_go();
    cmdstats_get(&before);
    rcpu0 = redis_cpu_seconds();
    for (int i = 0; i < cs->nproc; i++)
        xwrite(down[i][1], ready ? 'G' : 'X');
    for (int i = 0; i < cs->nproc; i++)
        if (ready && xread(up[i][0]) != 'D')
            ready = 0;
    cmdstats_get(&after);
    rcpu1 = redis_cpu_seconds();
    if (ready && cs->parent_done)
        cs->parent_done();
    for (int i = 0; i < cs->nproc; i++) {
        xwrite(down[i][1], 'C');
        close(down[i][1]);
    }
    for (int i = 0; i < cs->nproc; i++) {
        struct rusage ru;
        int st;

        if (wait4(pid[i], &st, 0, &ru) == pid[i])
            ccpu += (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6
                    + (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
        close(up[i][0]);
    }
    if (!ready)
        die("%s: could not run (see above)", cs->name);

    for (int i = 0; i < cs->nproc; i++) {
        const struct child_result *r = &shm_res[i];

        out->count += r->count;
        out->wrong += r->count - r->expected;
        if (!out->other_code && r->other_code && r->other_code != cs->expect)
            out->other_code = r->other_code;
        verif += r->verifier_calls;
        if (r->t_start < t0)
            t0 = r->t_start;
        if (r->t_end > t1)
            t1 = r->t_end;
        nlat += (size_t)(r->count < LAT_MAX ? r->count : LAT_MAX);
    }
    out->first = shm_res[0];
    out->rate = t1 > t0 ? (double)out->count / (t1 - t0) : 0;
    /* the children's CPU includes their setup and warm-up: an upper bound */
    out->client_cpu = t1 > t0 ? ccpu / (t1 - t0) : 0;
    out->redis_cpu = t1 > t0 ? (rcpu1 - rcpu0) / (t1 - t0) : 0;
    out->verifier_per_login = out->count ? (double)verif / (double)out->count : 0;
    cmdstats_delta(&before, &after, out->count, &out->cmds);
    if (!(all = malloc(nlat * sizeof *all + 1)))
        die("out of memory");
    nlat = 0;
    for (int i = 0; i < cs->nproc; i++) {
        size_t n = (size_t)(shm_res[i].count < LAT_MAX ? shm_res[i].count : LAT_MAX);

        memcpy(all + nlat, shm_lat + (size_t)i * LAT_MAX, n * sizeof *all);
        nlat += n;
    }
    qsort(all, nlat, sizeof *all, cmp_u32);
    for (size_t i = 0; i < nlat; i++)
        sum += all[i];
    if (nlat) {
        out->p50_us = pct(all, nlat, 50) / 1000.0;
        out->p99_us = pct(all, nlat, 99) / 1000.0;
        out->mean_us = sum / (double)nlat / 1000.0;
    }
    free(all);
    out->valid = out->count > 0 && out->wrong == 0;
}

/* ------------------------------------------------------------ case 4 */

#define LOCK_IP "198.51.100.9"

/* Lock bob: account_failures distinct wrong passwords (the same one again
 * would count once), through the plugin, from the attacker's address. */
static void setup_lock(const struct case_spec *cs, struct child_result *r)
{
    struct login l;
    char pw[32];
    int code = SASL_OK;

    (void)cs;
    login_set(&l, "bob@" REALM, PASSWORD, LOCK_IP);
    if (one_login(&l) == SASL_TRYAGAIN)
        return;     /* locked by an earlier run of this case */
    for (unsigned i = 0; i < policy->account_failures; i++) {
        snprintf(pw, sizeof pw, "wrong-guess-%u", i);
        login_set(&l, "bob@" REALM, pw, LOCK_IP);
        if ((code = one_login(&l)) != SASL_BADAUTH) {
            snprintf(r->err, sizeof r->err, "locking: wrong password %u answered %s", i,
                     code_name(code));
            r->setup_ok = 0;
            return;
        }
    }
    login_set(&l, "bob@" REALM, PASSWORD, LOCK_IP);
    if ((code = one_login(&l)) != SASL_TRYAGAIN) {
        snprintf(r->err, sizeof r->err, "bob not locked after %u failures: %s",
                 policy->account_failures, code_name(code));
        r->setup_ok = 0;
    }
}

static void hide_sasldb(void)
{
    if (rename(sasldb, sasldb_hidden) != 0)
        die("rename %s: %s", sasldb, strerror(errno));
}

static void restore_sasldb(void)
{
    if (rename(sasldb_hidden, sasldb) != 0)
        die("rename %s: %s", sasldb_hidden, strerror(errno));
}

/* Still without the sasldb file: an unlocked account's correct password
 * must now fail (the verifier would have noticed), the locked account
 * still gets TRYAGAIN. */
static void post_control(const struct case_spec *cs, struct child_result *r)
{
    struct login l;
    long v0 = verifier_calls;

    login_set(&l, "dave@" REALM, PASSWORD, "192.0.2.99");
    r->post_code = one_login(&l);
    r->post_verifier_calls = verifier_calls - v0;
    r->post_locked_code = one_login(&cs->login[0]);
}

/* ------------------------------------------------------------ setup */

static void run_program(char *const argv[], const char *input, char *output, size_t outlen,
                        double max_seconds)
{
    int in[2], out[2], st;
    pid_t pid;
    size_t got = 0;
    double deadline = now_s() + max_seconds;

    if (pipe(in) || pipe(out))
        die("pipe: %s", strerror(errno));
    fflush(stdout);
    if ((pid = fork()) < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[0]); close(in[1]); close(out[0]); close(out[1]);
        execvp(argv[0], argv);
        fprintf(stderr, "bench_login: exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    if (input) {
        size_t len = strlen(input);

        if (write(in[1], input, len) != (ssize_t)len)
            fprintf(stderr, "bench_login: %s: short write\n", argv[0]);
    }
    close(in[1]);
    if (output && outlen)
        output[0] = '\0';
    for (;;) {
        struct pollfd p = { out[0], POLLIN, 0 };
        char buf[4096];
        ssize_t n;
        int left = (int)((deadline - now_s()) * 1000);

        if (left <= 0) {
            kill(pid, SIGKILL);
            fprintf(stderr, "bench_login: %s: killed after %.0f s\n", argv[0], max_seconds);
            break;
        }
        if (poll(&p, 1, left) <= 0)
            continue;
        if ((n = read(out[0], buf, sizeof buf)) <= 0)
            break;
        if (output && got + 1 < outlen) {
            size_t take = (size_t)n < outlen - 1 - got ? (size_t)n : outlen - 1 - got;

            memcpy(output + got, buf, take);
            got += take;
            output[got] = '\0';
        }
    }
    close(out[0]);
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        die("%s failed (exit %d)", argv[0], WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

static int run_program_rc(char *const argv[], char *output, size_t outlen)
{
    int out[2], st;
    pid_t pid;
    size_t got = 0;
    ssize_t n;

    if (pipe(out))
        return -1;
    fflush(stdout);
    if ((pid = fork()) < 0)
        return -1;
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);

        dup2(null, 0);
        dup2(out[1], 1);
        dup2(null, 2);
        close(out[0]); close(out[1]);
        alarm(20);
        execv(argv[0], argv);
        _exit(127);
    }
    close(out[1]);
    output[0] = '\0';
    while ((n = read(out[0], output + got, outlen - 1 - got)) > 0) {
        got += (size_t)n;
        output[got] = '\0';
        if (got + 1 >= outlen)
            break;
    }
    close(out[0]);
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void add_user(const char *user)
{
    char pw[80];
    const char *prog = access("/usr/sbin/saslpasswd2", X_OK) == 0 ? "/usr/sbin/saslpasswd2"
                                                                  : "saslpasswd2";
    char *argv[] = { (char *)prog, "-p", "-c", "-f", sasldb, "-u", REALM, (char *)user, NULL };

    snprintf(pw, sizeof pw, "%s\n", PASSWORD);
    run_program(argv, pw, NULL, 0, 10);
}

static void symlink_matching(const char *dir, const char *prefix)
{
    static const char *const suffixes[] = { ".so", ".so.2", ".so.2.0.25", ".so.3" };
    char from[400], to[400];

    for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
        snprintf(from, sizeof from, "%s/%s%s", SYS_PLUGDIR, prefix, suffixes[i]);
        snprintf(to, sizeof to, "%s/%s%s", dir, prefix, suffixes[i]);
        if (access(from, R_OK) == 0 && symlink(from, to) != 0)
            die("symlink %s: %s", to, strerror(errno));
    }
    snprintf(from, sizeof from, "%s/%s.so", SYS_PLUGDIR, prefix);
    if (access(from, R_OK) != 0)
        die("%s missing: apt-get install libsasl2-modules (sasldb: libsasl2-modules-db)", from);
}

/* The store's key for TYPE and PART, as store_redis.c builds it. */
static void key(char *buf, size_t len, const char *type, const char *part)
{
    if (part)
        snprintf(buf, len, "%s:%s:%s", policy->key_prefix, type, part);
    else
        snprintf(buf, len, "%s:%s", policy->key_prefix, type);
}

static void account_part(const char *name, char out[SG_ACCOUNT_KEY_LEN])
{
    if (sg_account_key(name, strlen(name), out, SG_ACCOUNT_KEY_LEN) != SG_OK)
        die("sg_account_key(%s) failed", name);
}

static void source_part(const char *ip, char out[SG_PREFIX_STRLEN])
{
    struct sg_addr a;
    struct sg_prefix p;

    if (sg_addr_parse(ip, &a) != SG_OK)
        die("bad address %s", ip);
    sg_addr_to_prefix(&a, policy->ipv4_prefix, policy->ipv6_prefix, &p);
    if (sg_prefix_format(&p, out, SG_PREFIX_STRLEN) != SG_OK)
        die("sg_prefix_format failed");
}

static void script_load(const char *text, char *sha, size_t len)
{
    redisReply *r = cmd("SCRIPT LOAD %s", text);

    if (r->type != REDIS_REPLY_STRING)
        die("SCRIPT LOAD: unexpected reply");
    snprintf(sha, len, "%s", r->str);
    freeReplyObject(r);
}

/* An app password for carol: the CLI if it is there, else the library. */
static char app_via[80];
static void make_app_password(char *out, size_t outlen)
{
    char exe[400], outbuf[2048], key_part[SG_ACCOUNT_KEY_LEN];
    char *argv[12];
    int st;

    snprintf(exe, sizeof exe, "%s/tools/saslguard", opt_builddir);
    if (access(exe, X_OK) == 0) {
        char *mfa[] = { exe, "-c", policy_path, "mfa", "on", "carol@" REALM, NULL };
        int i = 0;

        argv[i++] = exe; argv[i++] = "-c"; argv[i++] = policy_path; argv[i++] = "--json";
        argv[i++] = "app-password"; argv[i++] = "add"; argv[i++] = "carol@" REALM;
        argv[i++] = "--label"; argv[i++] = "bench-phone"; argv[i] = NULL;
        st = run_program_rc(argv, outbuf, sizeof outbuf);
        if (st == 0) {
            const char *p = strstr(outbuf, "\"password\"");

            if (p && (p = strchr(p + 10, '"'))) {
                size_t n = strcspn(p + 1, "\"");

                if (n > 0 && n < outlen) {
                    snprintf(out, outlen, "%.*s", (int)n, p + 1);
                    st = run_program_rc(mfa, outbuf, sizeof outbuf);
                    snprintf(app_via, sizeof app_via, "saslguard app-password add%s",
                             st == 0 ? " + mfa on" : " (mfa on failed)");
                    return;
                }
            }
        }
        fprintf(stderr, "bench_login: %s app-password add failed (exit %d): using the "
                "core library instead\n", exe, st);
    }
    {
        struct sg_store *s;
        struct sg_secret sec;
        struct sg_store_state now;
        char letters[SG_APP_PASSWORD_LEN + 1], shown[SG_APP_PASSWORD_SHOWN];
        char digest[SG_DIGEST_HEX], err[200];
        int exists = 0, full = 0;

        account_part("carol@" REALM, key_part);
        if (sg_secret_load(secret_path, &sec, err, sizeof err) != SG_OK)
            die("secret: %s", err);
        if (sg_store_open(policy, &s) != SG_OK || sg_store_peek(s, key_part, NULL, &now) != SG_OK)
            die("store: cannot read Redis time");
        if (sg_app_password_generate(letters) != SG_OK
            || sg_app_password_digest(&sec, key_part, letters, digest) != SG_OK
            || sg_app_add(s, key_part, "bench-phone", digest, now.now_ms, 0, &exists, &full)
                   != SG_OK
            || sg_app_mfa_set(s, key_part, 1) != SG_OK)
            die("cannot store an app password (%s)", sg_store_error(s));
        sg_app_password_show(letters, shown);
        snprintf(out, outlen, "%s", shown);
        sg_secret_wipe(&sec);
        sg_store_close(s);
        snprintf(app_via, sizeof app_via, "core library (sg_app_add, sg_app_mfa_set)");
    }
}

static void setup_files(void)
{
    char text[2048], err[256];
    const char *t = getenv("TMPDIR");

    snprintf(tmpdir, sizeof tmpdir, "%s/saslguard-bench.XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(tmpdir))
        die("mkdtemp: %s", strerror(errno));
    snprintf(sock, sizeof sock, "%s/redis.sock", tmpdir);
    snprintf(sasldb, sizeof sasldb, "%s/sasldb2", tmpdir);
    snprintf(sasldb_hidden, sizeof sasldb_hidden, "%s/sasldb2.hidden", tmpdir);
    snprintf(policy_path, sizeof policy_path, "%s/saslguard.conf", tmpdir);
    snprintf(secret_path, sizeof secret_path, "%s/secret", tmpdir);
    snprintf(plug_stock, sizeof plug_stock, "%s/plugins-stock", tmpdir);
    snprintf(plug_guard, sizeof plug_guard, "%s/plugins-saslguard", tmpdir);
    snprintf(confdir, sizeof confdir, "%s/sasl", tmpdir);

    if (mkdir(plug_stock, 0755) || mkdir(plug_guard, 0755) || mkdir(confdir, 0755))
        die("mkdir: %s", strerror(errno));
    symlink_matching(plug_stock, "libplain");
    symlink_matching(plug_stock, "libsasldb");
    symlink_matching(plug_guard, "libplain");
    symlink_matching(plug_guard, "libsasldb");
    {
        char so[400], link[400];

        snprintf(so, sizeof so, "%s/plugin/.libs/libsaslguard.so", opt_builddir);
        snprintf(link, sizeof link, "%s/libsaslguard.so", plug_guard);
        if (access(so, R_OK) != 0)
            die("%s not built (run make first)", so);
        if (symlink(so, link) != 0)
            die("symlink %s: %s", link, strerror(errno));
    }

    if (sg_secret_create(secret_path, (uid_t)-1, (gid_t)-1, err, sizeof err) != SG_OK)
        die("secret: %s", err);
    /* the defaults, except where Redis is and the secret; an empty
     * trusted_networks so that every test address is a counted source */
    snprintf(text, sizeof text,
             "# written by bench_login\n"
             "redis = unix:%s\n"
             "secret_file = %s\n"
             "trusted_networks =\n", sock, secret_path);
    write_file(policy_path, text, 0644);
    if (sg_policy_load(policy_path, &policy, NULL, NULL) != SG_OK)
        die("cannot load the policy %s", policy_path);

    snprintf(text, sizeof text,
             "pwcheck_method: auxprop\n"
             "auxprop_plugin: sasldb\n"
             "mech_list: PLAIN\n"
             "sasldb_path: %s\n"
             "saslguard_config: %s\n", sasldb, policy_path);
    if (snprintf(err, sizeof err, "%s/smtpd.conf", confdir) >= (int)sizeof err)
        die("path too long: %s", confdir);
    write_file(err, text, 0644);

    {
        static const char *const users[] = { "alice", "bob", "carol", "dave" };
        char u[32];

        for (size_t i = 0; i < sizeof users / sizeof *users; i++)
            add_user(users[i]);
        for (int i = 0; i < MAX_PROCS; i++) {
            snprintf(u, sizeof u, "user%d", i);
            add_user(u);
        }
    }
}

/* ------------------------------------------------------------ RTT */

struct rtt { double p50, mean, p99, server_us; long n; };

/* N round-trip times in ns (sorted here) as p50, p99 and mean in us. */
static void summarize(uint32_t *lat, long n, struct rtt *out)
{
    double sum = 0;

    qsort(lat, (size_t)n, sizeof *lat, cmp_u32);
    for (long i = 0; i < n; i++)
        sum += lat[i];
    out->n = n;
    out->p50 = pct(lat, (size_t)n, 50) / 1000.0;
    out->p99 = pct(lat, (size_t)n, 99) / 1000.0;
    out->mean = n ? sum / (double)n / 1000.0 : 0;
}

static void measure_rtt(struct rtt *out)
{
    static uint32_t lat[5000];
    double deadline = now_s() + opt_seconds;
    long n = 0;

    for (int i = 0; i < 200; i++)
        freeReplyObject(cmd("PING"));
    while (n < (long)(sizeof lat / sizeof *lat) && n < opt_logins && now_s() < deadline) {
        uint64_t t0 = now_ns();
        redisReply *r = redisCommand(rc, "PING");

        lat[n++] = (uint32_t)(now_ns() - t0);
        if (!r)
            die("PING: %s", rc->errstr);
        freeReplyObject(r);
    }
    summarize(lat, n, out);
}

/* check.lua's KEYS and ARGV for LOGIN as sg_store_check sends them from
 * sg_engine_decide (ARGV[9] "1": a clean success may skip its report). */
struct check_args {
    char k[5][KEYLEN];
    char a[9][64];
    const char *argv[3 + 14];
    int argc;
};

static void check_args(const char *user, const char *ip, struct check_args *c)
{
    char acc[SG_ACCOUNT_KEY_LEN], src[SG_PREFIX_STRLEN];

    account_part(user, acc);
    source_part(ip, src);
    key(c->k[0], KEYLEN, "a", acc);
    key(c->k[1], KEYLEN, "stats", NULL);
    key(c->k[2], KEYLEN, "u", acc);
    key(c->k[3], KEYLEN, "f", acc);
    key(c->k[4], KEYLEN, "s", src);
    snprintf(c->a[0], 64, "%llu", (unsigned long long)policy->account_window_ms);
    snprintf(c->a[1], 64, "%llu", (unsigned long long)policy->source_window_ms);
    snprintf(c->a[2], 64, "1");
    c->a[3][0] = '\0';
    snprintf(c->a[4], 64, "%s", src);
    snprintf(c->a[5], 64, "%llu", (unsigned long long)SG_REVOKED_KEEP_MS);
    snprintf(c->a[6], 64, "%llu", (unsigned long long)policy->familiar_sources_ms);
    snprintf(c->a[7], 64, "0");
    snprintf(c->a[8], 64, "1");
    c->argc = 0;
    c->argv[c->argc++] = "EVALSHA";
    c->argv[c->argc++] = sha_check;
    c->argv[c->argc++] = "5";
    for (int i = 0; i < 5; i++)
        c->argv[c->argc++] = c->k[i];
    for (int i = 0; i < 9; i++)
        c->argv[c->argc++] = c->a[i];
}

/* One EVALSHA check.lua round trip, measured from here (no SASL). */
static void measure_evalsha(const char *user, const char *ip, struct rtt *out)
{
    static uint32_t lat[5000];
    struct check_args c;
    double deadline = now_s() + opt_seconds;
    long n = 0;

    struct cmdstats before, after;
    long long c0, u0, c1, u1;

    check_args(user, ip, &c);
    for (int i = 0; i < 100; i++)
        freeReplyObject(cmd_argv(c.argc, c.argv));
    cmdstats_get(&before);
    while (n < (long)(sizeof lat / sizeof *lat) && n < opt_logins && now_s() < deadline) {
        uint64_t t0 = now_ns();
        redisReply *r = cmd_argv(c.argc, c.argv);

        lat[n++] = (uint32_t)(now_ns() - t0);
        freeReplyObject(r);
    }
    cmdstats_get(&after);
    cmdstats_lookup(&before, "evalsha", &c0, &u0);
    cmdstats_lookup(&after, "evalsha", &c1, &u1);
    out->server_us = c1 > c0 ? (double)(u1 - u0) / (double)(c1 - c0) : 0;
    summarize(lat, n, out);
}

/* ------------------------------------------------------------ redis-benchmark */

static double redis_benchmark(int clients, long requests, char *cmdline, size_t cmdlen)
{
    struct check_args c;
    char cs[16], ns[24], out[4096];
    char *argv[40];
    int i = 0;
    const char *prog = "redis-benchmark";

    check_args("alice@" REALM, "192.0.2.7", &c);
    snprintf(cs, sizeof cs, "%d", clients);
    snprintf(ns, sizeof ns, "%ld", requests);
    argv[i++] = (char *)prog; argv[i++] = "-s"; argv[i++] = sock;
    argv[i++] = "-c"; argv[i++] = cs; argv[i++] = "-n"; argv[i++] = ns; argv[i++] = "--csv";
    for (int j = 0; j < c.argc; j++)
        argv[i++] = (char *)c.argv[j];
    argv[i] = NULL;
    if (snprintf(cmdline, cmdlen, "redis-benchmark -s SOCK -c %d -n %ld --csv EVALSHA <check.lua> 5 "
             "%s %s %s %s %s %s %s %s '' %s %s %s %s %s", clients, requests, c.k[0], c.k[1],
             c.k[2], c.k[3], c.k[4], c.a[0], c.a[1], c.a[2], c.a[4], c.a[5], c.a[6], c.a[7],
             c.a[8]) >= (int)cmdlen)
        cmdline[cmdlen - 1] = '\0';
    run_program(argv, NULL, out, sizeof out, 30);
    /* "test","rps",...\n"EVALSHA ...","12345.67",... */
    {
        const char *l = strchr(out, '\n'), *p;

        if (!l || !(p = strstr(l, "\",\"")))
            die("redis-benchmark: unexpected output: %.200s", out);
        return strtod(p + 3, NULL);
    }
}

/* ------------------------------------------------------------ memory */

typedef void (*gen_fn)(long i, char *account, size_t alen, char *ip, size_t iplen, char *fp);

/* N failures from GEN through the store's own call (sg_store_report, as
 * the engine makes it for a wrong password: stat "bad_credentials", a
 * fingerprint); stops at MAX_SECONDS. Returns how many ran. */
static long report_failures(long n, gen_fn gen, double max_seconds)
{
    static struct sg_store *store;
    double deadline = now_s() + max_seconds;
    long done = 0;

    if (!store && sg_store_open(policy, &store) != SG_OK)
        die("sg_store_open failed");
    while (done < n && (done % 256 != 0 || now_s() < deadline)) {
        char account[128], ip[64], fp[24], acc[SG_ACCOUNT_KEY_LEN], src[SG_PREFIX_STRLEN];
        struct sg_store_attempt a = { .account = acc, .source = src, .source_counted = 1,
                                      .fingerprint = fp };
        struct sg_store_state st;

        gen(done, account, sizeof account, ip, sizeof ip, fp);
        account_part(account, acc);
        source_part(ip, src);
        if (sg_store_report(store, &a, SG_REPORT_FAILURE,
                            sg_result_name(SG_RESULT_BAD_CREDENTIALS), &st) != SG_OK)
            die("sg_store_report: %s", sg_store_error(store));
        done++;
    }
    return done;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

#define POOL 100
static void fp_random(char *fp)
{
    snprintf(fp, 17, "%016llx", (unsigned long long)rng());
}

/* pool accounts: their fingerprint sets filled to the cap beforehand */
static void gen_pool_fill(long i, char *account, size_t alen, char *ip, size_t iplen, char *fp)
{
    snprintf(account, alen, "victim%03ld@" REALM, i % POOL);
    snprintf(ip, iplen, "203.0.113.%ld", 1 + i % 200);
    fp_random(fp);
}

/* attacking source i (distinct), against a random pool account */
static void gen_sources(long i, char *account, size_t alen, char *ip, size_t iplen, char *fp)
{
    long a = (long)(rng() % POOL);

    snprintf(account, alen, "victim%03ld@" REALM, a);
    snprintf(ip, iplen, "10.%ld.%ld.%ld", (i >> 16) & 255, (i >> 8) & 255, i & 255);
    fp_random(fp);
}

/* pool sources: their spray sets filled to the cap beforehand */
static void gen_spray_fill(long i, char *account, size_t alen, char *ip, size_t iplen, char *fp)
{
    snprintf(account, alen, "prefill%04ld@" REALM, i);
    snprintf(ip, iplen, "198.18.0.%ld", 1 + i % POOL);
    fp_random(fp);
}

/* attacked account i (distinct), from a random pool source */
static void gen_accounts(long i, char *account, size_t alen, char *ip, size_t iplen, char *fp)
{
    snprintf(account, alen, "target%07ld@" REALM, i);
    snprintf(ip, iplen, "198.18.0.%ld", 1 + (long)(rng() % POOL));
    fp_random(fp);
}

struct mem_result {
    long n;
    long long before, after;
    double per_item;
    double seconds;
};

static void measure_memory(gen_fn fill, long nfill, gen_fn gen, long n, struct mem_result *m)
{
    double t0;

    if (fill)
        report_failures(nfill, fill, opt_mem_seconds);
    m->before = info_field("memory", "used_memory");
    t0 = now_s();
    m->n = report_failures(n, gen, opt_mem_seconds);
    m->seconds = now_s() - t0;
    m->after = info_field("memory", "used_memory");
    m->per_item = m->n ? (double)(m->after - m->before) / (double)m->n : 0;
}

/* Every key: how many have no TTL (PTTL -1), by type; MEMORY USAGE of a
 * sample of each type. */
#define NTYPES 9
static const char *const type_names[NTYPES] = { "a", "f", "w", "s", "sa", "u", "stats", "other",
                                                "" };
struct ttl_scan {
    long keys, no_ttl, no_ttl_allowed, no_ttl_bad;
    long by_type[NTYPES], mem_n[NTYPES];
    double mem_sum[NTYPES];
    char bad_example[200];
    int complete;
};

static int key_type(const char *k)
{
    size_t pl = strlen(policy->key_prefix);
    const char *rest;

    if (strncmp(k, policy->key_prefix, pl) != 0 || k[pl] != ':')
        return 7;
    rest = k + pl + 1;
    if (!strcmp(rest, "stats"))
        return 6;
    for (int t = 0; t < 6; t++) {
        size_t tl = strlen(type_names[t]);

        if (!strncmp(rest, type_names[t], tl) && rest[tl] == ':')
            return t;
    }
    return 7;
}

static void scan_ttls(struct ttl_scan *s, double max_seconds)
{
    char cursor[32] = "0";
    double deadline = now_s() + max_seconds;
    long queued[NTYPES] = { 0 };
    char *sampled = NULL;

    memset(s, 0, sizeof *s);
    do {
        redisReply *r = cmd("SCAN %s COUNT 1000", cursor), *keys;

        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2)
            die("SCAN: unexpected reply");
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        keys = r->element[1];
        if (!(sampled = realloc(sampled, keys->elements + 1)))
            die("out of memory");
        for (size_t i = 0; i < keys->elements; i++) {
            int t = key_type(keys->element[i]->str);

            redisAppendCommand(rc, "PTTL %b", keys->element[i]->str, keys->element[i]->len);
            sampled[i] = queued[t] < 200;
            if (sampled[i]) {
                queued[t]++;
                redisAppendCommand(rc, "MEMORY USAGE %b SAMPLES 0", keys->element[i]->str,
                                   keys->element[i]->len);
            }
        }
        for (size_t i = 0; i < keys->elements; i++) {
            const char *k = keys->element[i]->str;
            int t = key_type(k);
            redisReply *p;

            if (redisGetReply(rc, (void **)&p) != REDIS_OK || !p)
                die("redis: %s", rc->errstr);
            s->keys++;
            s->by_type[t]++;
            if (p->type == REDIS_REPLY_INTEGER && p->integer == -1) {
                s->no_ttl++;
                if (t == 5 || t == 6) {
                    s->no_ttl_allowed++;
                } else {
                    s->no_ttl_bad++;
                    if (!s->bad_example[0])
                        snprintf(s->bad_example, sizeof s->bad_example, "%s", k);
                }
            }
            freeReplyObject(p);
            if (sampled[i]) {
                if (redisGetReply(rc, (void **)&p) != REDIS_OK || !p)
                    die("redis: %s", rc->errstr);
                if (p->type == REDIS_REPLY_INTEGER) {
                    s->mem_sum[t] += (double)p->integer;
                    s->mem_n[t]++;
                }
                freeReplyObject(p);
            }
        }
        freeReplyObject(r);
        if (now_s() > deadline)
            break;
    } while (strcmp(cursor, "0") != 0);
    free(sampled);
    s->complete = strcmp(cursor, "0") == 0;
}

/* ------------------------------------------------------------ CPU placement */

/*
 * Where the login processes and redis-server run matters more than
 * anything else here: a round trip between two processes on one CPU is a
 * pair of context switches, between two CPUs a pair of cross-CPU wake-ups,
 * which in a virtual machine cost tens of microseconds each. Left alone,
 * the scheduler moves redis-server between the two as it likes, and a run
 * mixes both. So the single-process cases run twice, pinned: "same CPU"
 * (everything on CPU 0) and "separate CPUs" (logins on CPU 0, redis-server
 * on CPU 1), each with its own RTT, measured the same way.
 */
enum placement { PL_FREE = 0, PL_SAME = 1, PL_SPLIT = 2 };
static const char *const placement_names[] = {
    "unpinned (the scheduler places every process)",
    "same CPU: login process and redis-server pinned to CPU 0",
    "separate CPUs: login process on CPU 0, redis-server on CPU 1",
};

static void set_affinity(pid_t pid, int cpu)
{
    char dir[64];
    cpu_set_t set;
    DIR *d;
    struct dirent *e;

    CPU_ZERO(&set);
    for (int i = 0; i < CPU_SETSIZE; i++)
        if (cpu < 0 ? i < sysconf(_SC_NPROCESSORS_ONLN) : i == cpu)
            CPU_SET(i, &set);
    if (pid == 0) {
        if (sched_setaffinity(0, sizeof set, &set) != 0)
            die("sched_setaffinity: %s", strerror(errno));
        return;
    }
    /* every thread of redis-server (it has background threads) */
    snprintf(dir, sizeof dir, "/proc/%ld/task", (long)pid);
    if (!(d = opendir(dir)))
        die("%s: %s", dir, strerror(errno));
    while ((e = readdir(d)))
        if (e->d_name[0] != '.' && sched_setaffinity((pid_t)atol(e->d_name), sizeof set, &set))
            die("sched_setaffinity(redis-server): %s", strerror(errno));
    closedir(d);
}

static void set_placement(enum placement pl)
{
    set_affinity(0, pl == PL_FREE ? -1 : 0);
    set_affinity(redis_pid, pl == PL_FREE ? -1 : pl == PL_SAME ? 0 : 1);
}

/* ------------------------------------------------------------ output */

static const char *met(int ok)
{
    return ok ? "MET" : "MISSED";
}

static void print_case_row(int n, const char *name, const struct case_result *r,
                           const struct case_result *base, double rtt)
{
    char vs[64] = "-";

    if (base && base != r)
        snprintf(vs, sizeof vs, "%+.1f us = %+.2f RTT", r->p50_us - base->p50_us,
                 (r->p50_us - base->p50_us) / rtt);
    printf("%d %-34s %9.0f %8.1f %8.1f  %-22s %6.2f %7.2f %9.1f  %ld/%ld %s\n", n, name,
           r->rate, r->p50_us, r->p99_us, vs, r->verifier_per_login, r->cmds.round_trips,
           r->cmds.script_usec, r->count - r->wrong, r->count,
           r->valid ? "ok" : code_name(r->other_code));
}

static void usage(void)
{
    fputs("usage: bench_login [-B builddir] [-n logins] [-t seconds] [-d seconds]\n"
          "                   [-m distinct] [-M seconds] [-o case] [-p same|split] [-k]\n",
          stderr);
    exit(2);
}

static const char *self_builddir(void)
{
    static char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    char *s;

    if (n <= 0)
        return ".";
    buf[n] = '\0';
    for (int i = 0; i < 2 && (s = strrchr(buf, '/')); i++)
        *s = '\0';   /* .../bench/bench_login -> ... */
    return buf;
}

/* One placement's results of the four single-process cases. */
struct placement_run {
    enum placement pl;
    struct rtt rtt, rtt_after, evalsha;
    double unit;                /* RTT for the targets: mean of the two p50s */
    struct case_result res[5];
    int proven;
};

static int run_placement(struct case_spec *cases, struct placement_run *pr, int print_proof)
{
    struct case_result *res = pr->res;
    const struct rtt *rtt = &pr->rtt;
    int bad = 0;

    set_placement(pr->pl);
    printf("---- %s\n", placement_names[pr->pl]);
    measure_rtt(&pr->rtt);
    measure_evalsha("alice@" REALM, "192.0.2.7", &pr->evalsha);
    printf("Redis RTT, PING over hiredis on the same socket: p50 %.1f us, mean %.1f us, "
           "p99 %.1f us (%ld round trips)\n", rtt->p50, rtt->mean, rtt->p99, rtt->n);
    printf("EVALSHA check.lua (case 2's keys) over hiredis:   p50 %.1f us, mean %.1f us, "
           "p99 %.1f us (%ld round trips), of which %.1f us inside Redis\n",
           pr->evalsha.p50, pr->evalsha.mean, pr->evalsha.p99, pr->evalsha.n,
           pr->evalsha.server_us);

    memset(res, 0, sizeof pr->res);
    for (int i = 1; i <= 4; i++) {
        if (opt_only && opt_only != i)
            continue;
        run_case(&cases[i], &res[i]);
        if (i == 4)
            restore_sasldb();
        if (!res[i].valid)
            bad = 1;
    }
    measure_rtt(&pr->rtt_after);
    pr->unit = (pr->rtt.p50 + pr->rtt_after.p50) / 2;

    printf("\n%-36s %9s %8s %8s  %-22s %6s %7s %9s  %s\n", "case", "logins/s", "p50 us",
           "p99 us", "p50 vs case 1", "verif", "Redis", "Redis us", "expected answers");
    printf("%-36s %9s %8s %8s  %-22s %6s %7s %9s\n", "", "", "", "", "(in Redis RTT p50)",
           "/login", "RT/login", "/login");
    for (int i = 1; i <= 4; i++)
        if (!opt_only || opt_only == i)
            print_case_row(i, cases[i].name, &res[i], opt_only ? NULL : &res[1], pr->unit);
    printf("(verif/login: password verifier calls per login, counted by a "
           "SASL_CB_SERVER_USERDB_CHECKPASS callback; Redis RT: client commands per login; "
           "Redis us: server time inside EVALSHA per login, INFO commandstats)\n");
    printf("RTT re-measured after the cases: p50 %.1f us, mean %.1f us; the RTT unit above "
           "is the mean of the two p50s: %.1f us\n\n", pr->rtt_after.p50, pr->rtt_after.mean,
           pr->unit);

    printf("Redis commands per login (INFO commandstats, after - before, / logins):\n");
    for (int i = 1; i <= 4; i++)
        if (!opt_only || opt_only == i)
            printf("  %d %-28s %s\n", i, cases[i].name, res[i].cmds.detail);
    printf("\n");

    if (!opt_only || opt_only == 4) {
        const struct child_result *c = &res[4].first;
        /* commands only report.lua's failure path runs */
        static const char *const fail_only[] = { " hset ", " sismember ", " sadd ",
                                                 " scard ", " pexpire " };
        char padded[640];
        int seen = 0;

        snprintf(padded, sizeof padded, " %s ", res[4].cmds.detail);
        for (size_t i = 0; i < sizeof fail_only / sizeof *fail_only; i++)
            if (strstr(padded, fail_only[i]))
                seen = 1;
        pr->proven = !seen && c->verifier_calls == 0 && c->post_code != SASL_OK
                     && c->post_locked_code == SASL_TRYAGAIN && res[4].valid;
        if (print_proof) {
            printf("Case 4 proof that the verifier was not called:\n");
            printf("  a) verifier calls during the %ld locked attempts: %ld (cases 1 and 2: "
                   "one per login)\n", res[4].count, c->verifier_calls);
            printf("  b) the sasldb file was renamed away before the locked attempts and "
                   "restored after them;\n     the %ld locked attempts answered %s %ld times "
                   "(never SASL_FAIL or SASL_BADAUTH);\n", res[4].count,
                   code_name(SASL_TRYAGAIN), res[4].count - res[4].wrong);
            printf("     control, still without the file: unlocked dave with his correct "
                   "password -> %s (%ld verifier call),\n     then bob again -> %s\n",
                   code_name(c->post_code), c->post_verifier_calls,
                   code_name(c->post_locked_code));
            printf("  c) %.2f EVALSHA per locked attempt, and none of HSET SISMEMBER SADD "
                   "SCARD PEXPIRE (report.lua's failure path) ran inside Redis: %s\n",
                   res[4].cmds.round_trips, seen ? "NO, some did" : "yes, none did");
        }
        printf("Case 4 refused before verification: %s (verifier calls %ld; control "
               "without sasldb %s; locked %s)\n\n", pr->proven ? "proven" : "NOT proven",
               c->verifier_calls, code_name(c->post_code), code_name(c->post_locked_code));
        if (!pr->proven)
            bad = 1;
    }

    if (!opt_only) {
        double diff = res[2].p50_us - res[1].p50_us;
        double transport = res[2].cmds.round_trips * pr->unit;
        double server = res[2].cmds.script_usec;

        printf("Where case 2's extra time goes (p50 difference): %+.1f us = %.2f RTT = %.1f us "
               "inside Redis (check.lua %.1f + report.lua %.1f)\n"
               "  + %.1f us transport (%.0f round trips x RTT) + %.1f us left for the client "
               "process (plugin, engine, hiredis, scheduling)\n",
               diff, diff / pr->unit, server, pr->evalsha.server_us,
               server - pr->evalsha.server_us, transport, res[2].cmds.round_trips,
               diff - server - transport);
        printf("In units of one EVALSHA check.lua round trip (p50 %.1f us): case 2 %+.2f, "
               "case 3 %+.2f, case 4 %+.2f\n\n", pr->evalsha.p50,
               (res[2].p50_us - res[1].p50_us) / pr->evalsha.p50,
               (res[3].p50_us - res[1].p50_us) / pr->evalsha.p50,
               (res[4].p50_us - res[1].p50_us) / pr->evalsha.p50);
    }
    return bad;
}

int main(int argc, char **argv)
{
    static struct case_spec cases[5];
    static struct placement_run runs[2];
    struct case_result conc_stock[2], conc_guard[2];
    static const int conc[2] = { 2, 8 };
    double ebench[2] = { 0, 0 };
    char ecmd[2][1400];
    struct mem_result mem_src, mem_acc;
    struct ttl_scan scan;
    char app_pw[64], redis_version[32], sasl_version[64], cpu_model[128] = "?";
    int opt, bad = 0, nruns = 0;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    const char *impl;
    int vmajor, vminor, vstep, vpatch;

    while ((opt = getopt(argc, argv, "B:n:t:d:m:M:o:kp:")) != -1) {
        switch (opt) {
        case 'B': opt_builddir = optarg; break;
        case 'n': opt_logins = atol(optarg); break;
        case 't': opt_seconds = atof(optarg); break;
        case 'd': opt_conc_seconds = atof(optarg); break;
        case 'm': opt_distinct = atol(optarg); break;
        case 'M': opt_mem_seconds = atof(optarg); break;
        case 'o': opt_only = atoi(optarg); break;
        case 'k': opt_keep = 1; break;
        case 'p':
            if (!strcmp(optarg, "same"))
                opt_placements = 1;
            else if (!strcmp(optarg, "split"))
                opt_placements = 2;
            else
                usage();
            break;
        default: usage();
        }
    }
    if (optind != argc || opt_logins < 1 || opt_logins > LAT_MAX || opt_seconds <= 0
        || opt_seconds > 60 || opt_conc_seconds <= 0 || opt_conc_seconds > 60
        || opt_distinct < 1 || opt_distinct > 10000000 || opt_mem_seconds <= 0
        || opt_mem_seconds > 600 || opt_only < 0 || opt_only > 4)
        usage();
    if (ncpu < 2)
        opt_placements &= 1;        /* one CPU: nothing to separate */
    if (!opt_placements)
        die("-p split needs two CPUs");
    if (!opt_builddir)
        opt_builddir = self_builddir();
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    setvbuf(stdout, NULL, _IOLBF, 0);

    shm_res = mmap(NULL, sizeof *shm_res * MAX_PROCS, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    shm_lat = mmap(NULL, sizeof *shm_lat * MAX_PROCS * LAT_MAX, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shm_res == MAP_FAILED || shm_lat == MAP_FAILED)
        die("mmap: %s", strerror(errno));

    setup_files();
    start_redis();
    script_load(sg_lua_check, sha_check, sizeof sha_check);
    make_app_password(app_pw, sizeof app_pw);
    sasl_version_info(&impl, NULL, &vmajor, &vminor, &vstep, &vpatch);
    snprintf(sasl_version, sizeof sasl_version, "%s %d.%d.%d", impl ? impl : "?", vmajor,
             vminor, vstep);
    info_string("server", "redis_version", redis_version, sizeof redis_version);
    {
        FILE *f = fopen("/proc/cpuinfo", "r");
        char line[256];

        while (f && fgets(line, sizeof line, f))
            if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
                snprintf(cpu_model, sizeof cpu_model, "%s", strchr(line, ':') + 2);
                cpu_model[strcspn(cpu_model, "\n")] = '\0';
                break;
            }
        if (f)
            fclose(f);
    }

    /* ---- the four cases */
    memset(cases, 0, sizeof cases);
    cases[1].name = "stock PLAIN + sasldb";
    cases[1].guard = 0;
    login_set(&cases[1].login[0], "alice@" REALM, PASSWORD, "192.0.2.7");
    cases[1].expect = SASL_OK;
    cases[2] = cases[1];
    cases[2].name = "saslguard PLAIN -> sasldb";
    cases[2].guard = 1;
    cases[3] = cases[2];
    cases[3].name = "saslguard, app password";
    login_set(&cases[3].login[0], "carol@" REALM, app_pw, "192.0.2.8");
    cases[4] = cases[2];
    cases[4].name = "saslguard, locked account";
    login_set(&cases[4].login[0], "bob@" REALM, PASSWORD, LOCK_IP);
    cases[4].expect = SASL_TRYAGAIN;
    cases[4].setup = setup_lock;
    cases[4].parent_go = hide_sasldb;
    cases[4].post = post_control;
    for (int i = 1; i <= 4; i++) {
        cases[i].nproc = 1;
        cases[i].max_count = opt_logins;
        cases[i].max_seconds = opt_seconds;
    }

    printf("saslguard bench_login: one SASL connection per login (sasl_server_new, "
           "sasl_server_start PLAIN with an initial response, sasl_dispose), one process "
           "per case (fork, sasl_server_init once), %d warm-up logins, then at most %ld "
           "logins or %.1f s\n", WARMUP, opt_logins, opt_seconds);
    printf("%ld CPUs (%s), libsasl2 %s, Redis %s (unix socket, private server), app "
           "password made with %s\n\n", ncpu, cpu_model, sasl_version, redis_version,
           app_via);

    for (int pl = PL_SAME; pl <= PL_SPLIT; pl++) {
        if (!(opt_placements & pl))
            continue;
        runs[nruns].pl = (enum placement)pl;
        bad |= run_placement(cases, &runs[nruns], nruns == 0);
        nruns++;
    }

    if (!opt_only) {
        /* ---- concurrency: the clients (login processes, or redis-benchmark)
         * share one CPU, Redis has the other, as on a server where Redis
         * has a core of its own; one CPU: everything on it */
        enum placement cpl = ncpu >= 2 ? PL_SPLIT : PL_SAME;

        set_placement(cpl);
        printf("---- %s\n", ncpu >= 2 ? "separate CPUs: every login process (or "
               "redis-benchmark) on CPU 0, redis-server on CPU 1" : placement_names[cpl]);
        printf("Concurrent processes (each its own account and source, %.1f s each; "
               "aggregate = logins / wall time):\n", opt_conc_seconds);
        printf("  %-6s %14s %14s %14s %14s %14s %20s  %s\n", "procs", "stock logins/s",
               "guard logins/s", "EVALSHA req/s", "stock/EVALSHA", "guard/EVALSHA",
               "guard CPU: Redis/logins", "guard answers");
        for (int k = 0; k < 2; k++) {
            struct case_spec s1 = cases[1], s2 = cases[2];
            char user[64], ip[32];

            s1.nproc = s2.nproc = conc[k];
            s1.max_count = s2.max_count = LAT_MAX;
            s1.max_seconds = s2.max_seconds = opt_conc_seconds;
            for (int p = 0; p < conc[k]; p++) {
                snprintf(user, sizeof user, "user%d@" REALM, p);
                snprintf(ip, sizeof ip, "192.0.2.%d", 10 + p);
                login_set(&s1.login[p], user, PASSWORD, ip);
                s2.login[p] = s1.login[p];
            }
            run_case(&s1, &conc_stock[k]);
            run_case(&s2, &conc_guard[k]);
            ebench[k] = redis_benchmark(conc[k], (long)(conc[k] == 2 ? 60000 : 120000),
                                        ecmd[k], sizeof ecmd[k]);
            if (!conc_stock[k].valid || !conc_guard[k].valid)
                bad = 1;
            printf("  %-6d %14.0f %14.0f %14.0f %14.3f %14.3f %10.0f%% / %5.0f%%   "
                   "%ld/%ld %s (%.2f EVALSHA/login)\n",
                   conc[k], conc_stock[k].rate, conc_guard[k].rate, ebench[k],
                   conc_stock[k].rate / ebench[k], conc_guard[k].rate / ebench[k],
                   100 * conc_guard[k].redis_cpu, 100 * conc_guard[k].client_cpu,
                   conc_guard[k].count - conc_guard[k].wrong,
                   conc_guard[k].count, conc_guard[k].valid ? "ok" : "WRONG",
                   conc_guard[k].cmds.round_trips);
        }
        printf("  (CPU: redis-server's CPU time, and the login processes' (setup and warm-up "
               "included), over the run's wall time; 100%% = one CPU)\n");
        printf("  redis-benchmark: %s\n\n", ecmd[0]);
        /* ---- memory: one report after another, on one CPU (short round trips) */
        set_placement(PL_SAME);
        printf("Redis memory (sg_store_report for each failure, as the engine makes it; "
               "default policy; INFO memory used_memory after - before):\n");
        measure_memory(gen_pool_fill, (long)POOL * 40, gen_sources, opt_distinct, &mem_src);
        printf("  %ld distinct attacking sources, one failure each against one of %d "
               "accounts (their fingerprint sets already full):\n    %lld -> %lld bytes = "
               "%.1f bytes per tracked source (%.1f s)\n", mem_src.n, POOL, mem_src.before,
               mem_src.after, mem_src.per_item, mem_src.seconds);
        measure_memory(gen_spray_fill, (long)POOL * ((long)policy->spray_accounts + 2),
                       gen_accounts, opt_distinct, &mem_acc);
        printf("  %ld distinct attacked accounts, one failure each from one of %d sources "
               "(their spray sets already full):\n    %lld -> %lld bytes = %.1f bytes per "
               "attacked account (%.1f s)\n", mem_acc.n, POOL, mem_acc.before, mem_acc.after,
               mem_acc.per_item, mem_acc.seconds);
        if (mem_src.n < opt_distinct || mem_acc.n < opt_distinct)
            printf("  (time limit -M %.0f s reached: divided by the number that ran)\n",
                   opt_mem_seconds);
        set_placement(PL_FREE);
        scan_ttls(&scan, 30);
        printf("  keys: %ld%s; without a TTL: %ld (%ld allowed: %s:stats and %s:u:*; "
               "%ld counters%s%s)\n", scan.keys, scan.complete ? "" : " (scan cut at 30 s)",
               scan.no_ttl, scan.no_ttl_allowed, policy->key_prefix, policy->key_prefix,
               scan.no_ttl_bad, scan.no_ttl_bad ? ", e.g. " : "", scan.bad_example);
        printf("  MEMORY USAGE by key type (mean of up to 200 keys each):");
        for (int t = 0; t < 8; t++)
            if (scan.by_type[t] && scan.mem_n[t])
                printf(" %s:%s %ld keys %.0f B;", policy->key_prefix, type_names[t],
                       scan.by_type[t], scan.mem_sum[t] / (double)scan.mem_n[t]);
        printf("\n\n");

        /* ---- targets */
        printf("Targets (reported, not asserted; RTT = PING p50 of the same placement, mean of "
               "before and after the cases):\n");
        for (int r = 0; r < nruns; r++) {
            const struct case_result *res = runs[r].res;
            double rt = runs[r].unit;
            double d2 = (res[2].p50_us - res[1].p50_us) / rt;
            double d3 = (res[3].p50_us - res[1].p50_us) / rt;
            double d4 = (res[4].p50_us - res[1].p50_us) / rt;

            printf("  [%s, RTT %.1f us]\n", runs[r].pl == PL_SAME ? "same CPU"
                   : "separate CPUs", rt);
            printf("  case 2 at most 2 RTT above case 1:    %+7.2f RTT   %s\n", d2,
                   met(d2 <= 2.0));
            printf("  case 3 at most 1 RTT above case 1:    %+7.2f RTT   %s\n", d3,
                   met(d3 <= 1.0));
            printf("  case 4 at most 1 RTT above case 1:    %+7.2f RTT   %s\n", d4,
                   met(d4 <= 1.0));
        }
        printf("  [%s]\n", ncpu >= 2 ? "clients on CPU 0, Redis on CPU 1" : "one CPU");
        for (int k = 0; k < 2; k++)
            printf("  %d processes >= 0.8 x EVALSHA rate:    %7.3f       %s\n", conc[k],
                   conc_guard[k].rate / ebench[k], met(conc_guard[k].rate >= 0.8 * ebench[k]));
        printf("  <= 256 bytes per tracked attacker:    %7.1f B     %s\n",
               mem_src.per_item, met(mem_src.per_item <= 256));
        printf("  (per attacked account: %.1f B; counter keys without a TTL: %ld   %s)\n",
               mem_acc.per_item, scan.no_ttl_bad, met(scan.no_ttl_bad == 0 && scan.complete));
    }
    cleanup();
    if (bad)
        printf("\nbench_login: some answers were not the expected ones: the figures are not "
               "comparable\n");
    return bad;
}
