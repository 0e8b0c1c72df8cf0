/*
 * passwd_db.c - read, check and parse the password file into one copy
 * (see passwd_db.h; the format is in passwd_file.h).
 *
 * The whole file is read into one buffer; the entries point into it and
 * are sorted by name, so a lookup is a bsearch (100k accounts: 17
 * comparisons). A copy is complete or refused: all or nothing.
 *
 * DIAGNOSTICS
 *	"FILE:LINE: problem" for a malformed line, "FILE: problem" for the
 *	file itself (permissions, type, size). At most 10 problems are shown,
 *	then their number. Neither a password nor a hash is ever logged.
 */
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "account_key.h"
#include "passwd_db.h"
#include "secret.h"
#include "status.h"

#define SG_PW_DIAG_MAX 10
#define SG_LINE_MAX 1200

/* Used when the file holds no crypt hash at all: an unknown account still
 * costs one yescrypt computation at libxcrypt's default cost. */
static const char default_dummy[] = "$y$j9T$2ZOwuqQ8x0M5CuXJ/ePrS/";

/* ------------------------------------------------------------ diagnostics */

struct diags {
    const char *name;
    sg_diag_fn fn;
    void *ctx;
    unsigned count;
};

static void diag(struct diags *d, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void diag(struct diags *d, unsigned line, const char *fmt, ...)
{
    char what[600], msg[SG_LINE_MAX];
    va_list ap;

    if (d->count++ >= SG_PW_DIAG_MAX || !d->fn)
        return;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (line)
        snprintf(msg, sizeof msg, "%s:%u: %s", d->name, line, what);
    else
        snprintf(msg, sizeof msg, "%s: %s", d->name, what);
    d->fn(d->ctx, msg);
}

/* ------------------------------------------------------------ validation */

int sg_pw_db_name_ok(const char *name, size_t len, char *why, size_t wlen)
{
    if (len == 0) {
        snprintf(why, wlen, "empty account name");
        return 0;
    }
    if (len > SG_ACCOUNT_MAX) {
        snprintf(why, wlen, "account name longer than %d bytes", SG_ACCOUNT_MAX);
        return 0;
    }
    if (name[0] == '#') {
        snprintf(why, wlen, "an account name cannot start with '#' (a comment)");
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];

        if (c == ':' || c <= ' ' || c == 0x7f) {
            snprintf(why, wlen, "account name with a %s", c == ':' ? "':'"
                     : c == ' ' || c == '\t' ? "blank" : "control byte");
            return 0;
        }
    }
    return 1;
}

static int is_crypt_byte(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
           || c == '.' || c == '/' || c == '$' || c == '=' || c == ',';
}

/* A crypt(3) string of one of the accepted schemes, complete (setting and
 * hash), that libxcrypt takes. Checked by shape: a full verification of
 * 100k slow hashes at load would take hours. */
static int crypt_ok(const char *h, size_t len, const char *want, char *why, size_t wlen)
{
    char copy[SG_PASSWD_HASH_MAX];
    size_t dollars = 0, last = 0, tail;
    int ok, rc;

    if (len == 0) {
        snprintf(why, wlen, "empty hash");
        return 0;
    }
    if (len >= sizeof copy) {
        snprintf(why, wlen, "hash longer than %d bytes", SG_PASSWD_HASH_MAX - 1);
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        if (!is_crypt_byte(h[i])) {
            snprintf(why, wlen, "unexpected byte in a crypt(3) hash (cleartext needs {PLAIN})");
            return 0;
        }
        if (h[i] == '$') {
            dollars++;
            last = i;
        }
    }
    if (want && strncmp(h, want, strlen(want)) != 0) {
        snprintf(why, wlen, "the hash does not match its scheme prefix (want %s...)", want);
        return 0;
    }
    tail = len - last - 1;
    if (strncmp(h, "$y$", 3) == 0)
        ok = dollars == 4 && tail == 43;
    else if (strncmp(h, "$2a$", 4) == 0 || strncmp(h, "$2b$", 4) == 0
             || strncmp(h, "$2y$", 4) == 0)
        ok = len == 60 && dollars == 3 && h[4] >= '0' && h[4] <= '3'
             && h[5] >= '0' && h[5] <= '9' && h[6] == '$';
    else if (strncmp(h, "$6$", 3) == 0 || strncmp(h, "$5$", 3) == 0)
        ok = (dollars == 3 || (dollars == 4 && strncmp(h + 3, "rounds=", 7) == 0))
             && tail == (h[1] == '6' ? 86u : 43u);
    else {
        snprintf(why, wlen, "unsupported hash scheme: use yescrypt ($y$), bcrypt ($2b$), "
                 "SHA-512 ($6$) or SHA-256 ($5$); set a new one with saslguard passwd");
        return 0;
    }
    memcpy(copy, h, len);
    copy[len] = '\0';
    /* libxcrypt calls $5$ "legacy": still accepted, as the format promises */
    rc = ok ? crypt_checksalt(copy) : CRYPT_SALT_INVALID;
    if (rc == CRYPT_SALT_INVALID || rc == CRYPT_SALT_METHOD_DISABLED) {
        snprintf(why, wlen, "malformed or truncated %.4s hash", h);
        return 0;
    }
    return 1;
}

int sg_pw_db_hash_ok(const char *text, size_t len, enum sg_pw_kind *kind, size_t *skip,
                  char *why, size_t wlen)
{
    static const struct { const char *name, *want; } schemes[] = {
        { "SHA512-CRYPT", "$6$" }, { "SHA256-CRYPT", "$5$" }, { "BLF-CRYPT", "$2" },
        { "CRYPT", NULL },
    };
    const char *close;
    size_t slen;

    *kind = SG_PWK_CRYPT;
    *skip = 0;
    if (len == 0 || text[0] != '{')
        return crypt_ok(text, len, NULL, why, wlen);
    if (!(close = memchr(text, '}', len))) {
        snprintf(why, wlen, "'{' without '}': a scheme prefix is written {NAME}");
        return 0;
    }
    slen = (size_t)(close - text) - 1;
    *skip = slen + 2;
    if (slen == 5 && strncasecmp(text + 1, "PLAIN", 5) == 0) {
        *kind = SG_PWK_PLAIN;
        if (len == *skip) {
            snprintf(why, wlen, "empty {PLAIN} password");
            return 0;
        }
        return 1;
    }
    for (size_t i = 0; i < sizeof schemes / sizeof *schemes; i++)
        if (strlen(schemes[i].name) == slen && strncasecmp(text + 1, schemes[i].name, slen) == 0)
            return crypt_ok(text + *skip, len - *skip, schemes[i].want, why, wlen);
    snprintf(why, wlen, "unsupported scheme {%.*s}: use {SHA512-CRYPT}, {SHA256-CRYPT}, "
             "{BLF-CRYPT}, {CRYPT} or {PLAIN}", (int)(slen > 40 ? 40 : slen), text + 1);
    return 0;
}

/* ------------------------------------------------------------ parsing */

static int name_cmp(const char *a, size_t al, const char *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);

    return c ? c : (al > bl) - (al < bl);
}

static int entry_cmp(const void *pa, const void *pb)
{
    const struct sg_pw_entry *a = pa, *b = pb;
    int c = name_cmp(a->name, a->nlen, b->name, b->nlen);

    return c ? c : (a->line > b->line) - (a->line < b->line);
}

/* Parse one non-comment line [P, END) into E. 1, or 0 after a diagnostic. */
static int parse_line(struct diags *d, const char *buf, size_t p, size_t end,
                      struct sg_pw_entry *e)
{
    const char *line = buf + p, *colon, *f, *next;
    size_t len = end - p, skip;
    enum sg_pw_kind kind;
    char why[300];

    if (memchr(line, '\0', len)) {
        diag(d, e->line, "NUL byte in the line");
        return 0;
    }
    if (!(colon = memchr(line, ':', len))) {
        diag(d, e->line, "no ':' (lines are ACCOUNT:HASH[:FLAG]...)");
        return 0;
    }
    e->name = line;
    e->nlen = (size_t)(colon - line);
    if (!sg_pw_db_name_ok(e->name, e->nlen, why, sizeof why)) {
        diag(d, e->line, "%s", why);
        return 0;
    }
    f = colon + 1;
    next = memchr(f, ':', (size_t)(line + len - f));
    e->field = (size_t)(f - buf);
    e->field_end = next ? (size_t)(next - buf) : end;
    if (!sg_pw_db_hash_ok(f, e->field_end - e->field, &kind, &skip, why, sizeof why)) {
        diag(d, e->line, "%s", why);
        return 0;
    }
    e->kind = (unsigned char)kind;
    e->hash = f + skip;
    e->hlen = e->field_end - e->field - skip;
    while (next) {          /* flags */
        f = next + 1;
        next = memchr(f, ':', (size_t)(line + len - f));
        size_t flen = (size_t)((next ? next : line + len) - f);

        if (flen == 3 && memcmp(f, "mfa", 3) == 0) {
            e->flags |= SG_PWF_MFA;
        } else if (flen != 0) {
            diag(d, e->line, "unknown flag '%.*s' (known: mfa)", (int)(flen > 40 ? 40 : flen), f);
            return 0;
        }
    }
    return 1;
}

/* The part of a hash that names algorithm and cost, salt left out:
 * "$y$j9T$", "$2b$10$", "$6$rounds=N$", "$6$". */
static size_t setting_len(const struct sg_pw_entry *e)
{
    size_t last = 0, prev = 0;

    if (e->kind == SG_PWK_PLAIN)
        return 0;
    if (e->hash[1] == '2')
        return 7;
    for (size_t i = 0; i < e->hlen; i++)
        if (e->hash[i] == '$') {
            prev = last;
            last = i;
        }
    return prev + 1;
}

/* The dummy for unknown accounts: the most common setting (algorithm and
 * cost) among the entries; ties go to the earliest. At most 16 distinct
 * settings are counted (files hold few). */
static void choose_dummy(struct sg_pw_db *db, const struct sg_pw_entry *ent, size_t n)
{
    struct setting { const struct sg_pw_entry *e; size_t len, count; } seen[16];
    size_t nseen = 0, best = 0, k;
    unsigned char rnd[16];

    for (size_t i = 0; i < n; i++) {
        size_t len = setting_len(&ent[i]);

        for (k = 0; k < nseen; k++)
            if (seen[k].e->kind == ent[i].kind && seen[k].len == len
                && memcmp(seen[k].e->hash, ent[i].hash, len) == 0)
                break;
        if (k == nseen) {
            if (nseen == sizeof seen / sizeof *seen)
                continue;
            seen[nseen++] = (struct setting){ &ent[i], len, 0 };
        }
        seen[k].count++;
    }
    for (k = 1; k < nseen; k++)
        if (seen[k].count > seen[best].count)
            best = k;
    db->dummy_kind = nseen ? seen[best].e->kind : SG_PWK_CRYPT;
    if (nseen == 0) {
        memcpy(db->dummy, default_dummy, sizeof default_dummy);
    } else if (db->dummy_kind == SG_PWK_CRYPT) {
        memcpy(db->dummy, seen[best].e->hash, seen[best].e->hlen);
        db->dummy[seen[best].e->hlen] = '\0';
    } else {
        /* a cleartext no one can know: the comparison fails, as it must */
        if (RAND_bytes(rnd, sizeof rnd) != 1)
            memset(rnd, 0x5a, sizeof rnd);
        for (size_t i = 0; i < sizeof rnd; i++)
            snprintf(db->dummy + 2 * i, 3, "%02x", rnd[i]);
    }
}

int sg_pw_db_parse(const char *name, char *buf, size_t len, struct sg_pw_db *db,
                   sg_diag_fn diag_fn, void *diag_ctx)
{
    struct diags d = { name, diag_fn, diag_ctx, 0 };
    struct sg_pw_entry *ent;
    size_t lines = 1, n = 0, p = 0;
    unsigned lineno = 0;

    memset(db, 0, sizeof *db);
    for (size_t i = 0; i < len; i++)
        lines += buf[i] == '\n';
    if (!(ent = calloc(lines, sizeof *ent))) {
        sg_secret_wipe_buffer(buf, len);
        free(buf);
        return SG_ENOMEM;
    }
    while (p < len) {
        const char *nl = memchr(buf + p, '\n', len - p);
        size_t eol = nl ? (size_t)(nl - buf) : len, end = eol, q = p;

        lineno++;
        if (end > p && buf[end - 1] == '\r')
            end--;
        while (q < end && (buf[q] == ' ' || buf[q] == '\t'))
            q++;
        if (end - p > SG_PW_LINE_MAX) {
            diag(&d, lineno, "line longer than %d bytes", SG_PW_LINE_MAX);
        } else if (q < end && buf[q] != '#') {
            ent[n] = (struct sg_pw_entry){ .line = lineno, .start = p,
                                           .end = nl ? eol + 1 : eol };
            if (parse_line(&d, buf, p, end, &ent[n])) {
                if (ent[n].kind == SG_PWK_PLAIN && db->plain++ == 0)
                    db->plain_line = lineno;
                n++;
            }
        }
        p = nl ? eol + 1 : len;
    }
    qsort(ent, n, sizeof *ent, entry_cmp);
    for (size_t i = 1; i < n; i++) {
        if (name_cmp(ent[i - 1].name, ent[i - 1].nlen, ent[i].name, ent[i].nlen) == 0) {
            char shown[SG_ACCOUNT_PRINTABLE_LEN];

            sg_account_printable(ent[i].name, ent[i].nlen, shown, sizeof shown);
            diag(&d, ent[i].line, "account %s again (first at line %u)", shown, ent[i - 1].line);
        }
    }
    if (d.count > SG_PW_DIAG_MAX && diag_fn) {
        char msg[SG_LINE_MAX];

        snprintf(msg, sizeof msg, "%s: %u more problems not shown", name,
                 d.count - SG_PW_DIAG_MAX);
        diag_fn(diag_ctx, msg);
    }
    db->buf = buf;
    db->len = len;
    db->ent = ent;
    db->n = n;
    if (d.count) {
        sg_pw_db_free(db);
        return SG_ECONFIG;
    }
    choose_dummy(db, ent, n);
    return SG_OK;
}

void sg_pw_db_id_of(const struct stat *st, struct sg_pw_id *id)
{
    memset(id, 0, sizeof *id);
    id->dev = st->st_dev;
    id->ino = st->st_ino;
    id->size = st->st_size;
    id->mtim = st->st_mtim;
    id->ctim = st->st_ctim;
}

int sg_pw_db_load(const char *path, struct sg_pw_db *db, sg_diag_fn diag_fn, void *diag_ctx)
{
    struct diags d = { path, diag_fn, diag_ctx, 0 };
    struct stat st;
    size_t len = 0, cap;
    char *buf, *bigger;
    ssize_t r;
    int fd, rc, err;

    memset(db, 0, sizeof *db);
    if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)) < 0) {
        err = errno;
        if (err == ELOOP)
            diag(&d, 0, "is a symbolic link: give the path of the file itself");
        else
            diag(&d, 0, "cannot open: %s", strerror(err));
        errno = err;
        return err == ELOOP ? SG_ECONFIG : SG_EIO;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        diag(&d, 0, "not a regular file");
        return SG_ECONFIG;
    }
    if (st.st_mode & (S_IWGRP | S_IRWXO)) {
        close(fd);
        diag(&d, 0, "mode %04o is too open: the password file must not be writable by its "
             "group nor accessible by others (chmod 640 %s)", (unsigned)(st.st_mode & 07777), path);
        return SG_ECONFIG;
    }
    if ((unsigned long long)st.st_size > SG_PW_FILE_MAX) {
        close(fd);
        diag(&d, 0, "larger than %lu MiB", SG_PW_FILE_MAX >> 20);
        return SG_ECONFIG;
    }
    cap = (size_t)st.st_size + 1;
    if (!(buf = malloc(cap))) {
        close(fd);
        return SG_ENOMEM;
    }
    for (;;) {
        if (len == cap) {       /* it grew while we read: read on, bounded */
            if (cap > SG_PW_FILE_MAX || !(bigger = realloc(buf, cap * 2))) {
                sg_secret_wipe_buffer(buf, len);
                free(buf);
                close(fd);
                diag(&d, 0, "keeps growing while read, or out of memory");
                return SG_ECONFIG;
            }
            buf = bigger;
            cap *= 2;
        }
        if ((r = read(fd, buf + len, cap - len)) == 0)
            break;
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            err = errno;
            sg_secret_wipe_buffer(buf, len);
            free(buf);
            close(fd);
            diag(&d, 0, "cannot read: %s", strerror(err));
            return SG_EIO;
        }
        len += (size_t)r;
    }
    close(fd);
    if ((rc = sg_pw_db_parse(path, buf, len, db, diag_fn, diag_ctx)) != SG_OK)
        return rc;
    sg_pw_db_id_of(&st, &db->id);
    db->mode = st.st_mode & 07777;
    db->uid = st.st_uid;
    db->gid = st.st_gid;
    return SG_OK;
}

const struct sg_pw_entry *sg_pw_db_find(const struct sg_pw_db *db, const char *name, size_t len)
{
    size_t lo = 0, hi = db->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = name_cmp(name, len, db->ent[mid].name, db->ent[mid].nlen);

        if (c == 0)
            return &db->ent[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

void sg_pw_db_free(struct sg_pw_db *db)
{
    if (db->buf)
        sg_secret_wipe_buffer(db->buf, db->len);
    sg_secret_wipe_buffer(db->dummy, sizeof db->dummy);
    free(db->buf);
    free(db->ent);
    memset(db, 0, sizeof *db);
}

