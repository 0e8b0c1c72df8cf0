/*
 * passwd_file_write.c - change the password file, and make new hashes
 * (sg_passwd_file_set/_delete, sg_passwd_hash; see passwd_file.h).
 *
 * A change never shows a partial file to a reader (the mail servers read
 * it at any moment): the new content is written to a temporary file in
 * the same directory, synced, and renamed over the old one; the directory
 * is synced so the rename survives a crash. Writers are serialised by an
 * exclusive flock() on "PATH.lock" (left in place, like /etc/.pwd.lock),
 * so two admins cannot lose each other's change. Every line but the one
 * changed is kept byte for byte, comments included.
 *
 * DIAGNOSTICS
 *	One sentence in ERR naming the file (and FILE:LINE for a file that
 *	does not load). Hashes and passwords never appear in it.
 */
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "passwd_db.h"
#include "passwd_file.h"
#include "secret.h"
#include "status.h"

/* ------------------------------------------------------------ new hashes */

static const struct {
    const char *name, *prefix;
    unsigned long count;     /* crypt_gensalt cost; 0: libxcrypt's default */
} schemes[] = {
    [SG_PWS_YESCRYPT] = { "yescrypt", "$y$", 0 },
    [SG_PWS_BCRYPT] = { "bcrypt", "$2b$", 10 },
    [SG_PWS_SHA512] = { "sha512", "$6$", 0 },
};

int sg_passwd_scheme_parse(const char *name, enum sg_passwd_scheme *out)
{
    for (size_t i = 0; i < sizeof schemes / sizeof *schemes; i++)
        if (strcmp(name, schemes[i].name) == 0) {
            *out = (enum sg_passwd_scheme)i;
            return SG_OK;
        }
    if (strcmp(name, "sha-512") == 0) {
        *out = SG_PWS_SHA512;
        return SG_OK;
    }
    return SG_EINVAL;
}

const char *sg_passwd_scheme_name(enum sg_passwd_scheme s)
{
    return (size_t)s < sizeof schemes / sizeof *schemes ? schemes[s].name : "?";
}

int sg_passwd_hash(enum sg_passwd_scheme s, const char *password, size_t plen,
                   char out[SG_PASSWD_HASH_MAX])
{
    char salt[CRYPT_GENSALT_OUTPUT_SIZE], phrase[CRYPT_MAX_PASSPHRASE_SIZE];
    struct crypt_data *cd;
    const char *h;
    int rc = SG_EIO;

    out[0] = '\0';
    if ((size_t)s >= sizeof schemes / sizeof *schemes || plen == 0
        || plen >= sizeof phrase || memchr(password, '\0', plen))
        return SG_EINVAL;
    if (!crypt_gensalt_rn(schemes[s].prefix, schemes[s].count, NULL, 0, salt, sizeof salt))
        return SG_EIO;
    if (!(cd = calloc(1, sizeof *cd)))
        return SG_ENOMEM;
    memcpy(phrase, password, plen);
    phrase[plen] = '\0';
    h = crypt_rn(phrase, salt, cd, (int)sizeof *cd);
    if (h && h[0] != '*' && strlen(h) < SG_PASSWD_HASH_MAX) {
        memcpy(out, h, strlen(h) + 1);
        rc = SG_OK;
    }
    sg_secret_wipe_buffer(phrase, sizeof phrase);
    sg_secret_wipe_buffer(cd, sizeof *cd);
    free(cd);
    return rc;
}

/* ------------------------------------------------------------ rewriting */

struct first_diag {
    char *buf;
    size_t len;
    int set;
};

static void keep_first(void *ctx, const char *msg)
{
    struct first_diag *f = ctx;

    if (!f->set++)
        snprintf(f->buf, f->len, "%s", msg);
}

/* "PATH.SUFFIX" into BUF; 0 if it does not fit. */
static int sibling(char *buf, size_t len, const char *path, const char *suffix)
{
    return (size_t)snprintf(buf, len, "%s%s", path, suffix) < len;
}

static int fsync_dir(const char *path)
{
    char dir[4096];
    char *slash;
    int fd, rc;

    snprintf(dir, sizeof dir, "%s", path);
    if (!(slash = strrchr(dir, '/')))
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, p, len);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Replace PATH with the LEN bytes at DATA, mode MODE, owner UID:GID
 * ((uid_t)-1: the writer's). */
static int replace_file(const char *path, const char *data, size_t len, mode_t mode,
                        uid_t uid, gid_t gid, char *err, size_t errlen)
{
    char tmp[4200];
    struct stat st;
    int fd, e;

    if (!sibling(tmp, sizeof tmp, path, ".tmp.XXXXXX")) {
        snprintf(err, errlen, "%s: path too long", path);
        return SG_EINVAL;
    }
    if ((fd = mkstemp(tmp)) < 0) {
        snprintf(err, errlen, "%s: cannot create a temporary file next to it: %s", path,
                 strerror(errno));
        return SG_EIO;
    }
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    if (fchmod(fd, mode) != 0 || fstat(fd, &st) != 0
        || (uid != (uid_t)-1 && (st.st_uid != uid || st.st_gid != gid)
            && fchown(fd, uid, gid) != 0)) {
        e = errno;
        snprintf(err, errlen, "%s: cannot give the new copy the mode %04o and owner %lu:%lu "
                 "of the old one: %s", path, (unsigned)mode, (unsigned long)uid,
                 (unsigned long)gid, strerror(e));
        goto fail;
    }
    if (write_all(fd, data, len) != 0 || fsync(fd) != 0) {
        e = errno;
        snprintf(err, errlen, "%s: cannot write %s: %s", path, tmp, strerror(e));
        goto fail;
    }
    if (close(fd) != 0) {
        fd = -1;
        e = errno;
        snprintf(err, errlen, "%s: cannot write %s: %s", path, tmp, strerror(e));
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        e = errno;
        snprintf(err, errlen, "%s: cannot rename %s over it: %s", path, tmp, strerror(e));
        goto fail;
    }
    if (fsync_dir(path) != 0) {
        snprintf(err, errlen, "%s: written, but its directory cannot be synced: %s", path,
                 strerror(errno));
        return SG_EIO;
    }
    return SG_OK;
fail:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return SG_EIO;
}

/* Take the writers' lock on PATH.lock: its fd, or -1 (ERR set). */
static int lock_writers(const char *path, char *err, size_t errlen)
{
    char lock[4200];
    int fd;

    if (!sibling(lock, sizeof lock, path, ".lock")) {
        snprintf(err, errlen, "%s: path too long", path);
        return -1;
    }
    if ((fd = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
        snprintf(err, errlen, "%s: cannot open the lock file %s: %s", path, lock,
                 strerror(errno));
        return -1;
    }
    while (flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            snprintf(err, errlen, "%s: cannot lock %s: %s", path, lock, strerror(errno));
            close(fd);
            return -1;
        }
    }
    return fd;
}

enum edit { EDIT_SET, EDIT_DELETE };

/* Load PATH (under the lock), apply the edit, write it back. */
static int edit(const char *path, enum edit op, const char *account, const char *hash,
                int *added, char *err, size_t errlen)
{
    struct first_diag first = { err, errlen, 0 };
    const struct sg_pw_entry *e;
    struct sg_pw_db db;
    size_t alen = strlen(account), hlen = hash ? strlen(hash) : 0, cap, n = 0;
    mode_t mode = 0640;
    uid_t uid = (uid_t)-1;
    gid_t gid = (gid_t)-1;
    char *out;
    int rc, lock;

    if ((lock = lock_writers(path, err, errlen)) < 0)
        return SG_EIO;
    rc = sg_pw_db_load(path, &db, keep_first, &first);
    if (rc == SG_EIO && errno == ENOENT && op == EDIT_SET) {
        char *empty = calloc(1, 1);                 /* a new file */

        rc = empty ? sg_pw_db_parse(path, empty, 0, &db, NULL, NULL) : SG_ENOMEM;
        err[0] = '\0';
    } else if (rc == SG_EIO && errno == ENOENT) {
        rc = SG_ENOTFOUND;
    } else if (rc == SG_OK) {
        mode = db.mode;
        uid = db.uid;
        gid = db.gid;
    } else if (rc == SG_ECONFIG) {
        snprintf(err + strlen(err), errlen - strlen(err), " (fix the file first: it is not "
                 "changed while it does not load)");
    }
    if (rc != SG_OK) {
        close(lock);
        return rc;
    }

    e = sg_pw_db_find(&db, account, alen);
    if (op == EDIT_DELETE && !e) {
        snprintf(err, errlen, "%s: no account %s", path, account);
        rc = SG_ENOTFOUND;
        goto done;
    }
    cap = db.len + alen + hlen + 3;
    if (!(out = malloc(cap))) {
        rc = SG_ENOMEM;
        goto done;
    }
#define PUT(p, l) do { memcpy(out + n, (p), (l)); n += (l); } while (0)
    if (e && op == EDIT_SET) {          /* the hash field changes, flags stay */
        PUT(db.buf, e->field);
        PUT(hash, hlen);
        PUT(db.buf + e->field_end, db.len - e->field_end);
    } else if (e) {                     /* delete the line */
        PUT(db.buf, e->start);
        PUT(db.buf + e->end, db.len - e->end);
    } else {                            /* append */
        PUT(db.buf, db.len);
        if (db.len > 0 && db.buf[db.len - 1] != '\n')
            PUT("\n", 1);
        PUT(account, alen);
        PUT(":", 1);
        PUT(hash, hlen);
        PUT("\n", 1);
    }
#undef PUT
    if (added)
        *added = !e;
    rc = replace_file(path, out, n, mode, uid, gid, err, errlen);
    sg_secret_wipe_buffer(out, cap);
    free(out);
done:
    sg_pw_db_free(&db);
    close(lock);
    return rc;
}

int sg_passwd_file_account_ok(const char *name, char *why, size_t wlen)
{
    return sg_pw_db_name_ok(name, strlen(name), why, wlen);
}

int sg_passwd_file_set(const char *path, const char *account, const char *hash, int *added,
                       char *err, size_t errlen)
{
    enum sg_pw_kind kind;
    size_t skip;
    char why[300];

    err[0] = '\0';
    if (!sg_pw_db_name_ok(account, strlen(account), why, sizeof why)) {
        snprintf(err, errlen, "%s", why);
        return SG_EINVAL;
    }
    if (strchr(hash, ':') || strchr(hash, '\n')
        || !sg_pw_db_hash_ok(hash, strlen(hash), &kind, &skip, why, sizeof why)) {
        snprintf(err, errlen, "%s", strchr(hash, ':') || strchr(hash, '\n')
                 ? "a hash cannot hold ':' or a line break" : why);
        return SG_EINVAL;
    }
    return edit(path, EDIT_SET, account, hash, added, err, errlen);
}

int sg_passwd_file_delete(const char *path, const char *account, char *err, size_t errlen)
{
    char why[300];

    err[0] = '\0';
    if (!sg_pw_db_name_ok(account, strlen(account), why, sizeof why)) {
        snprintf(err, errlen, "%s", why);
        return SG_EINVAL;
    }
    return edit(path, EDIT_DELETE, account, NULL, NULL, err, errlen);
}
