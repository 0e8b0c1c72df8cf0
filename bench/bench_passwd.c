/*
 * NAME
 *	bench_passwd - "yescrypt store under attack": the hashing a locked
 *	account costs with password_source = file:
 * SYNOPSIS
 *	bench_passwd [-n attempts] [-t seconds] [-s yescrypt|bcrypt|sha512]
 * DESCRIPTION
 *	Everything private: a redis-server on a unix socket in a temporary
 *	directory (tests/helpers/redis_fixture.c), a password file holding one
 *	account hashed with -s (default yescrypt at libxcrypt's default cost),
 *	and a policy with password_source = file: and an empty
 *	trusted_networks. An attacker sends N (-n, default 1000) distinct
 *	wrong guesses for that account from one address:
 *
 *	without saslguard: every guess is verified against the hash, as any
 *	hashed store does without a check in front (the password file's own
 *	verifier, i.e. crypt_rn and a constant-time compare); bounded by -t
 *	seconds (default 10), the rest extrapolated;
 *
 *	saslguard: the decision engine the SASL plugin and the PAM module run
 *	(sg_engine_decide), after account_failures guesses have locked the
 *	account: every further guess is refused by the check round trip.
 *
 *	Reported per 1000 attempts: hashes computed and CPU seconds spent in
 *	them (the password file's counters: thread CPU time around each
 *	crypt_rn), and the process CPU time in all (engine, hiredis, Redis
 *	client side; Redis itself runs in its own process).
 *
 *	Targets are reported, never asserted, except the point of the case:
 *	a refused attempt must never hash.
 * EXIT STATUS
 *	0; 1 when an answer was not the expected one or a locked attempt
 *	was hashed; 2 on a setup error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "passwd_file.h"
#include "policy.h"
#include "redis_fixture.h"
#include "status.h"

#define ACCOUNT "erin@example.test"
#define PASSWORD "Corr3ct-horse-battery"
#define CLIENT "198.51.100.10;40000"

static long opt_attempts = 1000;
static double opt_seconds = 10.0;
static enum sg_passwd_scheme opt_scheme = SG_PWS_YESCRYPT;

static struct sg_redis_fixture redis;
static char dir[256], pwfile[300];

static double cpu_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void cleanup(void)
{
    char p[340];

    sg_redis_destroy(&redis);
    if (!dir[0])
        return;
    unlink(pwfile);
    snprintf(p, sizeof p, "%s.lock", pwfile);
    unlink(p);
    rmdir(dir);
}

static void quiet(void *ctx, enum sg_log_level lvl, const char *line)
{
    (void)ctx;
    (void)lvl;
    (void)line;
}

/* The front end's verifier: with password_source = file: never called. */
static long frontend_calls;

static enum sg_verify frontend(void *ctx, const char *account, size_t alen,
                               const char *password, size_t plen)
{
    (void)ctx;
    (void)account;
    (void)alen;
    (void)password;
    (void)plen;
    frontend_calls++;
    return SG_VERIFY_UNAVAIL;
}

static enum sg_result guess(struct sg_engine *e, long i)
{
    struct sg_attempt a;
    struct sg_decision d;
    char pw[40];

    snprintf(pw, sizeof pw, "guess-%ld", i);
    a = (struct sg_attempt){ ACCOUNT, strlen(ACCOUNT), pw, strlen(pw), CLIENT, "PLAIN" };
    return sg_engine_decide(e, &a, frontend, NULL, &d);
}

struct run {
    long attempts;          /* measured */
    long wrong;             /* attempts without the expected answer */
    struct sg_passwd_file_stats hs;   /* hashing during them */
    double cpu, wall;       /* process CPU and wall time for them */
};

static void delta(const struct sg_passwd_file_stats *a, const struct sg_passwd_file_stats *b,
                  struct sg_passwd_file_stats *out)
{
    out->hashes = b->hashes - a->hashes;
    out->dummies = b->dummies - a->dummies;
    out->hash_cpu_ns = b->hash_cpu_ns - a->hash_cpu_ns;
    out->loads = b->loads - a->loads;
}

/* Without a pre-check: every guess is hashed. */
static int run_unguarded(struct run *r)
{
    struct sg_passwd_file_stats s0, s1;
    struct sg_passwd_file *pf;
    double c0, w0, deadline;
    char pw[40];

    memset(r, 0, sizeof *r);
    if (sg_passwd_file_open(pwfile, NULL, NULL, &pf) != SG_OK)
        return -1;
    sg_passwd_file_stats(pf, &s0);
    c0 = cpu_s();
    w0 = wall_s();
    deadline = w0 + opt_seconds;
    while (r->attempts < opt_attempts && (r->attempts < 3 || wall_s() < deadline)) {
        snprintf(pw, sizeof pw, "guess-%ld", r->attempts);
        if (sg_passwd_file_verify(pf, ACCOUNT, strlen(ACCOUNT), pw, strlen(pw), NULL)
            != SG_VERIFY_BAD)
            r->wrong++;
        r->attempts++;
    }
    r->cpu = cpu_s() - c0;
    r->wall = wall_s() - w0;
    sg_passwd_file_stats(pf, &s1);
    delta(&s0, &s1, &r->hs);
    sg_passwd_file_close(pf);
    return 0;
}

/* saslguard: lock the account with wrong guesses (LOCKING: the ones
 * answered bad_credentials), then N more. */
static int run_guarded(struct run *locking, struct run *r)
{
    struct sg_passwd_file_stats s0, s1;
    struct sg_policy *p;
    struct sg_engine *e;
    char extra[400];
    double c0, w0;
    long i = 0;

    memset(locking, 0, sizeof *locking);
    memset(r, 0, sizeof *r);
    snprintf(extra, sizeof extra, "password_source = file:%s\ntrusted_networks =\n", pwfile);
    if (!(p = sg_fixture_policy(&redis, extra)))
        return -1;
    if (sg_engine_new_from_policy(p, quiet, NULL, &e) != SG_OK)
        return -1;

    sg_passwd_file_stats(sg_engine_passwd_file(e), &s0);
    c0 = cpu_s();
    w0 = wall_s();
    for (; i < 1000 && guess(e, i) == SG_RESULT_BAD_CREDENTIALS; i++)
        locking->attempts++;
    i++;                                /* the guess that found the lock */
    locking->cpu = cpu_s() - c0;
    locking->wall = wall_s() - w0;
    sg_passwd_file_stats(sg_engine_passwd_file(e), &s1);
    delta(&s0, &s1, &locking->hs);

    s0 = s1;
    c0 = cpu_s();
    w0 = wall_s();
    for (long k = 0; k < opt_attempts; k++, i++) {
        if (guess(e, i) != SG_RESULT_LOCKED)
            r->wrong++;
        r->attempts++;
    }
    r->cpu = cpu_s() - c0;
    r->wall = wall_s() - w0;
    sg_passwd_file_stats(sg_engine_passwd_file(e), &s1);
    delta(&s0, &s1, &r->hs);
    sg_engine_free(e);
    return 0;
}

static void row(const char *name, const struct run *r)
{
    double per = r->attempts ? 1000.0 / (double)r->attempts : 0;

    printf("%-44s %8.0f %13.4f %13.4f %12.1f   %ld/%ld\n", name, (double)r->hs.hashes * per,
           (double)r->hs.hash_cpu_ns / 1e9 * per, r->cpu * per,
           r->attempts ? r->wall / (double)r->attempts * 1e6 : 0, r->attempts - r->wrong,
           r->attempts);
}

/* "$y$j9T$", "$2b$10$", "$6$": algorithm and cost, salt and hash left out. */
static void cost_of(const char *hash, char *out, size_t len)
{
    size_t last = 0, prev = 0;

    for (size_t i = 0; hash[i]; i++)
        if (hash[i] == '$') {
            prev = last;
            last = i;
        }
    snprintf(out, len, "%.*s", hash[1] == '2' ? 7 : (int)prev + 1, hash);
}

static void usage(void)
{
    fputs("usage: bench_passwd [-n attempts] [-t seconds] [-s yescrypt|bcrypt|sha512]\n",
          stderr);
    exit(2);
}

int main(int argc, char **argv)
{
    char hash[SG_PASSWD_HASH_MAX], text[SG_PASSWD_HASH_MAX + 100], setting[40];
    struct run plain, locking, guarded;
    const char *t = getenv("TMPDIR");
    int opt, bad = 0;
    FILE *f;

    while ((opt = getopt(argc, argv, "n:t:s:")) != -1) {
        switch (opt) {
        case 'n': opt_attempts = atol(optarg); break;
        case 't': opt_seconds = atof(optarg); break;
        case 's':
            if (sg_passwd_scheme_parse(optarg, &opt_scheme) != SG_OK)
                usage();
            break;
        default: usage();
        }
    }
    if (optind != argc || opt_attempts < 1 || opt_attempts > 10000000 || opt_seconds <= 0)
        usage();
    setvbuf(stdout, NULL, _IOLBF, 0);

    snprintf(dir, sizeof dir, "%s/saslguard-bench-passwd.XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(dir)) {
        fprintf(stderr, "bench_passwd: mkdtemp: %s\n", strerror(errno));
        return 2;
    }
    snprintf(pwfile, sizeof pwfile, "%s/passwd", dir);
    if (sg_passwd_hash(opt_scheme, PASSWORD, strlen(PASSWORD), hash) != SG_OK) {
        fprintf(stderr, "bench_passwd: cannot hash with %s\n", sg_passwd_scheme_name(opt_scheme));
        cleanup();
        return 2;
    }
    snprintf(text, sizeof text, "%s:%s\n", ACCOUNT, hash);
    if (!(f = fopen(pwfile, "w")) || fputs(text, f) < 0 || fclose(f) != 0
        || chmod(pwfile, 0640) != 0) {
        fprintf(stderr, "bench_passwd: %s: cannot write\n", pwfile);
        cleanup();
        return 2;
    }
    cost_of(hash, setting, sizeof setting);
    if (sg_redis_start(&redis) != 0) {
        cleanup();
        return 2;
    }

    printf("saslguard bench_passwd: yescrypt store under attack: %ld distinct wrong guesses "
           "for one account from one address, password_source = file: with %s (%s...)\n",
           opt_attempts, sg_passwd_scheme_name(opt_scheme), setting);
    if (run_unguarded(&plain) != 0 || run_guarded(&locking, &guarded) != 0) {
        fprintf(stderr, "bench_passwd: setup failed (see above)\n");
        cleanup();
        return 2;
    }
    printf("\n%-44s %8s %13s %13s %12s   %s\n", "case (per 1000 attempts)", "hashes",
           "CPU s hashing", "CPU s in all", "us/attempt", "expected answers");
    row("without saslguard: every guess hashed", &plain);
    row("saslguard, account locked: refused first", &guarded);
    printf("(without saslguard: %ld attempts measured in %.1f s, scaled to 1000; locking the "
           "account took %ld guesses, %lu hashes, %.3f CPU s hashing)\n", plain.attempts,
           plain.wall, locking.attempts, locking.hs.hashes, (double)locking.hs.hash_cpu_ns / 1e9);
    printf("front end verifier calls: %ld (password_source = file: verifies in the core)\n",
           frontend_calls);
    printf("=> hashing under attack once locked: %.4f CPU s per 1000 attempts against %.2f "
           "without saslguard (target ~0: %s)\n",
           (double)guarded.hs.hash_cpu_ns / 1e9 * 1000.0 / (double)guarded.attempts,
           (double)plain.hs.hash_cpu_ns / 1e9 * 1000.0 / (double)plain.attempts,
           guarded.hs.hashes == 0 ? "MET" : "MISSED");
    if (plain.wrong || guarded.wrong || guarded.hs.hashes != 0 || frontend_calls != 0
        || locking.attempts < 1)
        bad = 1;
    cleanup();
    return bad;
}
