/*
 * passwd_file.c - the password file in force: reload on change, verify
 * (see passwd_file.h for the format and the guarantees).
 *
 * A reload builds a complete new copy (passwd_db.c) before it replaces
 * the one in force, so a malformed edit never leaves a half-loaded state;
 * a copy that did not load is remembered by its identity and not parsed
 * again every second, and each problem is logged once.
 *
 * DIAGNOSTICS
 *	First load: "saslguard: config error: FILE[:LINE]: problem" (the
 *	engine then refuses to start). Reload: "saslguard: password file
 *	error: ..." and "... not reloaded: the copy loaded before stays in
 *	force". Neither a password nor a hash is ever logged.
 */
#include <crypt.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/evp.h>

#include "passwd_db.h"
#include "passwd_file.h"
#include "secret.h"
#include "status.h"

#define SG_LINE_MAX 1200

struct sg_passwd_file {
    char *path;
    sg_log_fn log;
    void *log_ctx;
    struct sg_pw_db db;          /* the copy in force */
    int64_t checked_ms;          /* last look at the file (monotonic) */
    struct sg_pw_id failed;      /* a copy that did not load: not parsed again */
    int failed_set;
    int stat_errno;              /* the stat() error last logged, 0 if none */
    const char *prefix;          /* of error lines: first load, or reload */
    struct sg_passwd_file_stats stats;
    struct crypt_data cd;        /* scratch for crypt_rn, wiped after use */
    char phrase[CRYPT_MAX_PASSPHRASE_SIZE];
    char setting[SG_PASSWD_HASH_MAX];
};

static int id_equal(const struct sg_pw_id *a, const struct sg_pw_id *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size
           && a->mtim.tv_sec == b->mtim.tv_sec && a->mtim.tv_nsec == b->mtim.tv_nsec
           && a->ctim.tv_sec == b->ctim.tv_sec && a->ctim.tv_nsec == b->ctim.tv_nsec;
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t cpu_ns(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void say(const struct sg_passwd_file *pf, enum sg_log_level lvl, const char *line)
{
    if (pf->log)
        pf->log(pf->log_ctx, lvl, line);
}

static void load_diag(void *ctx, const char *msg)
{
    struct sg_passwd_file *pf = ctx;
    char line[SG_LINE_MAX + 64];

    snprintf(line, sizeof line, "saslguard: %s: %s", pf->prefix, msg);
    say(pf, SG_LOG_ERR, line);
}

/* Once per load: cleartext passwords are accepted, not silently. */
static void warn_plain(const struct sg_passwd_file *pf)
{
    char line[SG_LINE_MAX];

    if (!pf->db.plain)
        return;
    snprintf(line, sizeof line, "saslguard: password file %s: %zu account%s with a cleartext "
             "{PLAIN} password (first at line %u): replace with hashes (saslguard passwd)",
             pf->path, pf->db.plain, pf->db.plain == 1 ? "" : "s", pf->db.plain_line);
    say(pf, SG_LOG_WARN, line);
}

int sg_passwd_file_open(const char *path, sg_log_fn log, void *log_ctx,
                        struct sg_passwd_file **out)
{
    struct sg_passwd_file *pf;
    int rc;

    *out = NULL;
    if (!(pf = calloc(1, sizeof *pf)) || !(pf->path = strdup(path))) {
        free(pf);
        return SG_ENOMEM;
    }
    pf->log = log;
    pf->log_ctx = log_ctx;
    pf->prefix = "config error";
    if ((rc = sg_pw_db_load(path, &pf->db, load_diag, pf)) != SG_OK) {
        sg_passwd_file_close(pf);
        return rc == SG_ENOMEM ? rc : SG_ECONFIG;
    }
    pf->prefix = "password file error";
    pf->checked_ms = now_ms();
    pf->stats.loads = 1;
    warn_plain(pf);
    *out = pf;
    return SG_OK;
}

void sg_passwd_file_close(struct sg_passwd_file *pf)
{
    if (!pf)
        return;
    sg_pw_db_free(&pf->db);
    free(pf->path);
    sg_secret_wipe_buffer(pf, sizeof *pf);
    free(pf);
}

int sg_passwd_file_reload(struct sg_passwd_file *pf)
{
    char line[SG_LINE_MAX];
    struct sg_pw_db db;
    struct sg_pw_id id;
    struct stat st;
    int rc;

    pf->checked_ms = now_ms();
    if (lstat(pf->path, &st) != 0) {
        rc = errno;
        /* Said once, and only as a notice: a chrooted smtpd (Debian's
         * default) cannot see the file at all, and new processes, which
         * read it as root before the chroot, report real trouble loudly. */
        if (rc != pf->stat_errno) {
            snprintf(line, sizeof line, "saslguard: password file %s: %s; the copy "
                     "loaded before stays in force (%zu accounts)", pf->path, strerror(rc),
                     pf->db.n);
            say(pf, SG_LOG_NOTICE, line);
        }
        pf->stat_errno = rc;
        return SG_EIO;
    }
    pf->stat_errno = 0;
    sg_pw_db_id_of(&st, &id);
    if (id_equal(&id, &pf->db.id))
        return SG_OK;
    if (pf->failed_set && id_equal(&id, &pf->failed))
        return SG_ECONFIG;              /* that copy was refused already */
    if ((rc = sg_pw_db_load(pf->path, &db, load_diag, pf)) != SG_OK) {
        pf->failed = id;
        pf->failed_set = 1;
        snprintf(line, sizeof line, "saslguard: password file %s not reloaded: the copy "
                 "loaded before stays in force (%zu accounts)", pf->path, pf->db.n);
        say(pf, SG_LOG_ERR, line);
        return rc;
    }
    sg_pw_db_free(&pf->db);
    pf->db = db;
    pf->failed_set = 0;
    pf->stats.loads++;
    snprintf(line, sizeof line, "saslguard: password file %s reloaded: %zu accounts",
             pf->path, pf->db.n);
    say(pf, SG_LOG_NOTICE, line);
    warn_plain(pf);
    return SG_OK;
}

/* SHA-256 of both sides, compared in constant time: the time taken says
 * nothing about how much of a cleartext matched, nor about its length. */
static int plain_equal(const char *stored, size_t slen, const char *pw, size_t plen)
{
    unsigned char a[EVP_MAX_MD_SIZE], b[EVP_MAX_MD_SIZE];
    unsigned alen = 0, blen = 0;
    int r;

    if (!EVP_Digest(stored, slen, a, &alen, EVP_sha256(), NULL)
        || !EVP_Digest(pw, plen, b, &blen, EVP_sha256(), NULL) || alen != blen)
        return -1;
    r = sg_secret_equal(a, b, alen);
    sg_secret_wipe_buffer(a, sizeof a);
    sg_secret_wipe_buffer(b, sizeof b);
    return r;
}

/* Does PW match HASH? 1, 0, or -1 when the computation itself failed.
 * The work done does not depend on whether PW is usable: a password crypt
 * cannot take (NUL byte, too long) is hashed truncated and then refused. */
static int matches(struct sg_passwd_file *pf, int kind, const char *hash, size_t hlen,
                   const char *pw, size_t plen)
{
    int usable = pw && plen < sizeof pf->phrase && (plen == 0 || !memchr(pw, '\0', plen));
    size_t n = !pw ? 0 : plen < sizeof pf->phrase ? plen : sizeof pf->phrase - 1;
    uint64_t t0 = cpu_ns();
    const char *out;
    int r;

    if (kind == SG_PWK_PLAIN) {
        r = plain_equal(hash, hlen, pw ? pw : "", n);
    } else {
        memcpy(pf->phrase, pw ? pw : "", n);
        pf->phrase[n] = '\0';
        memcpy(pf->setting, hash, hlen);
        pf->setting[hlen] = '\0';
        out = crypt_rn(pf->phrase, pf->setting, &pf->cd, (int)sizeof pf->cd);
        if (!out || out[0] == '*')
            r = -1;
        else
            r = strlen(out) == hlen && sg_secret_equal(out, pf->setting, hlen);
        sg_secret_wipe_buffer(&pf->cd, sizeof pf->cd);
        sg_secret_wipe_buffer(pf->phrase, sizeof pf->phrase);
    }
    pf->stats.hashes++;
    pf->stats.hash_cpu_ns += cpu_ns() - t0;
    return r < 0 ? -1 : r && usable;
}

enum sg_verify sg_passwd_file_verify(struct sg_passwd_file *pf, const char *account, size_t alen,
                                     const char *password, size_t plen, unsigned *flags)
{
    const struct sg_pw_entry *e;
    int r;

    if (flags)
        *flags = 0;
    if (now_ms() - pf->checked_ms >= 1000)
        (void)sg_passwd_file_reload(pf);    /* errors logged; the copy in force stays */
    e = account ? sg_pw_db_find(&pf->db, account, alen) : NULL;
    if (e) {
        r = matches(pf, e->kind, e->hash, e->hlen, password, plen);
    } else {
        pf->stats.dummies++;
        r = matches(pf, pf->db.dummy_kind, pf->db.dummy, strlen(pf->db.dummy), password, plen);
        r = r < 0 ? -1 : 0;
    }
    if (r < 0)
        return SG_VERIFY_UNAVAIL;   /* libxcrypt failed (memory): not the client's fault */
    if (r == 0)
        return SG_VERIFY_BAD;
    if (flags)
        *flags = e->flags;
    return SG_VERIFY_OK;
}

size_t sg_passwd_file_count(const struct sg_passwd_file *pf)
{
    return pf->db.n;
}

void sg_passwd_file_stats(const struct sg_passwd_file *pf, struct sg_passwd_file_stats *out)
{
    *out = pf->stats;
}
