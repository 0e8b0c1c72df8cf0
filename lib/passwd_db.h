/*
 * passwd_db.h - the parsed password file, shared by the reader
 * (passwd_file.c) and the writer (passwd_file_write.c). Not a public API.
 */
#ifndef SG_PASSWD_FILE_INTERNAL_H
#define SG_PASSWD_FILE_INTERNAL_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "passwd_file.h"
#include "policy.h"

enum sg_pw_kind { SG_PWK_CRYPT, SG_PWK_PLAIN };

/* One account line; pointers and offsets into sg_pw_db.buf. */
struct sg_pw_entry {
    const char *name;         /* the account name (not NUL-terminated) */
    size_t nlen;
    const char *hash;         /* the crypt string or cleartext, after any {SCHEME} */
    size_t hlen;
    size_t field, field_end;  /* the whole hash field, {SCHEME} included */
    size_t start, end;        /* the line, its '\n' included */
    unsigned line;
    unsigned char kind;       /* enum sg_pw_kind */
    unsigned char flags;      /* SG_PWF_* */
};

/* File identity: a change of any of these means "read it again". */
struct sg_pw_id {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtim, ctim;
};

struct sg_pw_db {
    char *buf;                  /* the file's bytes (wiped when freed) */
    size_t len;
    struct sg_pw_entry *ent;    /* sorted by name, for bsearch */
    size_t n;
    size_t plain;               /* {PLAIN} entries */
    unsigned plain_line;        /* the first one's line */
    /* For unknown accounts: the most common hash setting's full hash
     * (crypt) or a random text ({PLAIN} most common). */
    char dummy[SG_PASSWD_HASH_MAX];
    unsigned char dummy_kind;
    struct sg_pw_id id;         /* of the file it came from */
    mode_t mode;                /* permission bits */
    uid_t uid;
    gid_t gid;
};

/* Longest line accepted, and largest file. */
#define SG_PW_LINE_MAX 4096
#define SG_PW_FILE_MAX (256UL << 20)

/* Open, permission-check, read and parse PATH into DB. Problems go to DIAG
 * as "PATH[:LINE]: problem" (at most 10, then a count). SG_OK, SG_ECONFIG
 * (malformed, refused), SG_EIO (cannot open or read: errno kept), SG_ENOMEM. */
int sg_pw_db_load(const char *path, struct sg_pw_db *db, sg_diag_fn diag, void *diag_ctx);

/* Parse LEN bytes at BUF (taken over: freed with DB, or at once on error).
 * NAME is used in diagnostics. */
int sg_pw_db_parse(const char *name, char *buf, size_t len, struct sg_pw_db *db,
                   sg_diag_fn diag, void *diag_ctx);

const struct sg_pw_entry *sg_pw_db_find(const struct sg_pw_db *db, const char *name, size_t len);

void sg_pw_db_free(struct sg_pw_db *db);

/* Is NAME a valid account name for the file? 1, or 0 with the reason in WHY. */
int sg_pw_db_name_ok(const char *name, size_t len, char *why, size_t wlen);

/* Is TEXT a valid hash field? 1 (KIND and the offset of the hash after any
 * {SCHEME} set), or 0 with the reason in WHY. */
int sg_pw_db_hash_ok(const char *text, size_t len, enum sg_pw_kind *kind, size_t *skip,
                  char *why, size_t wlen);

/* The identity of ST. */
void sg_pw_db_id_of(const struct stat *st, struct sg_pw_id *id);

#endif
