/*
 * test_passwd_file.c - the password file (password_source = file:PATH):
 * every hash scheme with vectors made at test time by mkpasswd (Debian
 * package whois) or, without it, Python's crypt module; Dovecot scheme
 * prefixes and {PLAIN}; parse errors with FILE:LINE; permissions; reload
 * on change and the last good copy kept; the dummy verification of
 * unknown accounts; atomic rewrites under concurrent readers and writers;
 * 100k accounts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "passwd_db.h"
#include "passwd_file.h"
#include "status.h"

static char dir[64];        /* scratch directory of the run */
static char path[128];      /* DIR/passwd */

/* Vectors, made once per run: hashes of PW with each scheme. */
#define PW "C0rrect-h0rse"
static char h_yescrypt[SG_PASSWD_HASH_MAX], h_bcrypt[SG_PASSWD_HASH_MAX];
static char h_sha512[SG_PASSWD_HASH_MAX], h_sha256[SG_PASSWD_HASH_MAX];

/* ------------------------------------------------------------ helpers */

static char logs[64][1400];
static int nlogs;

static void capture(void *ctx, enum sg_log_level lvl, const char *line)
{
    (void)ctx;
    (void)lvl;
    if (nlogs < 64)
        snprintf(logs[nlogs++], sizeof logs[0], "%s", line);
}

static int logged(const char *needle)
{
    int n = 0;

    for (int i = 0; i < nlogs; i++)
        n += strstr(logs[i], needle) != NULL;
    return n;
}

static void dump_logs(void)
{
    for (int i = 0; i < nlogs; i++)
        fprintf(stderr, "# log: %s\n", logs[i]);
}

/* A crypt(3) hash of PW made by mkpasswd -m METHOD, else by Python's crypt
 * module with SETTING_PY (a Python expression for the salt). */
static void vector(const char *method, const char *setting_py, const char *prefix, char *out)
{
    char cmd[800];
    FILE *f;
    size_t n;

    snprintf(cmd, sizeof cmd,
             "{ printf '%%s\\n' '%s' | mkpasswd -s -m %s; } 2>/dev/null || "
             "python3 -W ignore -c 'import crypt, random, string; "
             "r = \"\".join(random.choice(\"./\" + string.ascii_letters + string.digits) "
             "for _ in range(22)); print(crypt.crypt(\"%s\", %s))'",
             PW, method, PW, setting_py);
    assert_non_null(f = popen(cmd, "r"));
    assert_non_null(fgets(out, SG_PASSWD_HASH_MAX, f));
    assert_int_equal(pclose(f), 0);
    n = strcspn(out, "\r\n");
    out[n] = '\0';
    if (strncmp(out, prefix, strlen(prefix)) != 0)
        fail_msg("%s vector '%s' does not start with %s", method, out, prefix);
}

static void write_file(const char *p, const char *text, mode_t mode)
{
    char tmp[200];
    int fd;

    /* replaced by rename, as an editor or saslguard passwd would */
    snprintf(tmp, sizeof tmp, "%s.new", p);
    assert_true((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    assert_int_equal(fchmod(fd, mode), 0);
    assert_int_equal(close(fd), 0);
    assert_int_equal(rename(tmp, p), 0);
}

static char *read_all(const char *p)
{
    static char buf[1 << 16];
    FILE *f = fopen(p, "r");
    size_t n;

    assert_non_null(f);
    n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static struct sg_passwd_file *open_ok(const char *text)
{
    struct sg_passwd_file *pf = NULL;

    write_file(path, text, 0640);
    nlogs = 0;
    if (sg_passwd_file_open(path, capture, NULL, &pf) != SG_OK) {
        dump_logs();
        fail_msg("open failed");
    }
    return pf;
}

static enum sg_verify verify(struct sg_passwd_file *pf, const char *user, const char *pw)
{
    return sg_passwd_file_verify(pf, user, strlen(user), pw, strlen(pw), NULL);
}

/* Open TEXT expecting SG_ECONFIG and a log line holding WANT. */
static void open_fails(const char *text, mode_t mode, const char *want)
{
    struct sg_passwd_file *pf = (struct sg_passwd_file *)1;

    write_file(path, text, mode);
    nlogs = 0;
    assert_int_equal(sg_passwd_file_open(path, capture, NULL, &pf), SG_ECONFIG);
    assert_null(pf);
    if (!logged(want)) {
        dump_logs();
        fail_msg("no log line with '%s'", want);
    }
}

static void rm_tree(const char *d)
{
    DIR *dh = opendir(d);
    struct dirent *e;
    char p[512];

    if (!dh)
        return;
    while ((e = readdir(dh))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", d, e->d_name);
        unlink(p);
    }
    closedir(dh);
    rmdir(d);
}

static int group_setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/test_passwd_file.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/passwd", dir);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    rm_tree(dir);
    return 0;
}

/* ------------------------------------------------------------ schemes */

static void test_vectors_each_scheme(void **state)
{
    static const char *const users[] = { "yes", "blf", "sha512", "sha256" };
    char text[4 * SG_PASSWD_HASH_MAX + 100];
    struct sg_passwd_file *pf;
    unsigned flags = 99;

    (void)state;
    vector("yescrypt", "\"$y$j9T$\" + r", "$y$j9T$", h_yescrypt);
    vector("bcrypt", "crypt.mksalt(crypt.METHOD_BLOWFISH)", "$2b$", h_bcrypt);
    vector("sha-512", "crypt.mksalt(crypt.METHOD_SHA512)", "$6$", h_sha512);
    vector("sha-256", "crypt.mksalt(crypt.METHOD_SHA256)", "$5$", h_sha256);
    snprintf(text, sizeof text, "# one account per scheme\nyes:%s\nblf:%s\n\nsha512:%s\nsha256:%s\n",
             h_yescrypt, h_bcrypt, h_sha512, h_sha256);
    pf = open_ok(text);
    assert_int_equal(sg_passwd_file_count(pf), 4);
    for (size_t i = 0; i < 4; i++) {
        const char *user = users[i];

        assert_int_equal(sg_passwd_file_verify(pf, user, strlen(user), PW, strlen(PW), &flags),
                         SG_VERIFY_OK);
        assert_int_equal(flags, 0);
        assert_int_equal(verify(pf, user, "C0rrect-h0rs"), SG_VERIFY_BAD);    /* prefix */
        assert_int_equal(verify(pf, user, PW "e"), SG_VERIFY_BAD);            /* longer */
        assert_int_equal(verify(pf, user, ""), SG_VERIFY_BAD);
        assert_int_equal(verify(pf, "nobody", PW), SG_VERIFY_BAD);
    }
    /* names are matched byte for byte */
    assert_int_equal(verify(pf, "YES", PW), SG_VERIFY_BAD);
    /* a NUL inside the password: never a match, even with the right prefix */
    assert_int_equal(sg_passwd_file_verify(pf, "sha512", 6, PW "\0x", sizeof PW + 1, NULL),
                     SG_VERIFY_BAD);
    assert_int_equal(nlogs, 0);
    sg_passwd_file_close(pf);
}

static void test_dovecot_prefixes(void **state)
{
    char text[5 * SG_PASSWD_HASH_MAX + 200];
    struct sg_passwd_file *pf;

    (void)state;
    snprintf(text, sizeof text, "a:{SHA512-CRYPT}%s\nb:{SHA256-CRYPT}%s\nc:{BLF-CRYPT}%s\n"
             "d:{CRYPT}%s\ne:{sha512-crypt}%s\n", h_sha512, h_sha256, h_bcrypt, h_yescrypt,
             h_sha512);
    pf = open_ok(text);
    for (const char *u = "abcde"; *u; u++) {
        assert_int_equal(sg_passwd_file_verify(pf, u, 1, PW, strlen(PW), NULL), SG_VERIFY_OK);
        assert_int_equal(sg_passwd_file_verify(pf, u, 1, "wrong", 5, NULL), SG_VERIFY_BAD);
    }
    sg_passwd_file_close(pf);

    snprintf(text, sizeof text, "a:{SHA512-CRYPT}%s\n", h_sha256);
    open_fails(text, 0640, ":1: the hash does not match its scheme prefix (want $6$...)");
    snprintf(text, sizeof text, "a:{BLF-CRYPT}%s\n", h_yescrypt);
    open_fails(text, 0640, ":1: the hash does not match its scheme prefix (want $2...)");
}

static void test_plain_with_warning(void **state)
{
    struct sg_passwd_file *pf;

    (void)state;
    /* "new": a known-answer vector, mkpasswd -m sha-512 -S sEk34tCLDeuUg39I pw */
    pf = open_ok("# legacy\nold:{PLAIN}s3cret\nolder:{plain}pa ss\nnew:{SHA512-CRYPT}"
                 "$6$sEk34tCLDeuUg39I$jN7uEWUvOY.5hQP15RxtdmjRCY8UOthlDa9aiftA2/OskjcrFz9CZ."
                 "qd1Zlt7tp/tB/wi6DS6kuFWIZf8hODl1\n");
    assert_int_equal(logged("2 accounts with a cleartext {PLAIN} password (first at line 2)"), 1);
    assert_int_equal(nlogs, 1);
    assert_int_equal(verify(pf, "old", "s3cret"), SG_VERIFY_OK);
    assert_int_equal(verify(pf, "older", "pa ss"), SG_VERIFY_OK);
    assert_int_equal(verify(pf, "old", "s3cre"), SG_VERIFY_BAD);
    assert_int_equal(verify(pf, "old", "s3cret "), SG_VERIFY_BAD);
    assert_int_equal(verify(pf, "new", "pw"), SG_VERIFY_OK);
    assert_int_equal(nlogs, 1);                                /* once per load */
    write_file(path, "old:{PLAIN}other\n", 0640);
    assert_int_equal(sg_passwd_file_reload(pf), SG_OK);
    assert_int_equal(logged("1 account with a cleartext {PLAIN} password (first at line 1)"), 1);
    assert_int_equal(verify(pf, "old", "other"), SG_VERIFY_OK);
    assert_int_equal(logged("other"), 0);                      /* never a password */
    sg_passwd_file_close(pf);
    open_fails("a:{PLAIN}\n", 0640, ":1: empty {PLAIN} password");
}

/* ------------------------------------------------------------ parsing */

static void test_parse_errors_name_file_and_line(void **state)
{
    static const struct { const char *text, *want; } cases[] = {
        { "alice\n", ":1: no ':' (lines are ACCOUNT:HASH[:FLAG]...)" },
        { "# c\n\n   \nalice:cleartext\n", ":4: unsupported hash scheme" },
        { "alice:$1$abcdefgh$0123456789012345678901\n", ":1: unsupported hash scheme" },
        { "alice:{SSHA}abc\n", ":1: unsupported scheme {SSHA}" },
        { "alice:{SHA512-CRYPT\n", ":1: '{' without '}'" },
        { "alice:$6$salt$short\n", ":1: malformed or truncated $6$s hash" },
        { "alice:$y$j9T$salt$tooshort\n", ":1: malformed or truncated $y$j hash" },
        { "alice:$2b$10$tooshort\n", ":1: malformed or truncated $2b$ hash" },
        { "alice:\n", ":1: empty hash" },
        { ":{PLAIN}x\n", ":1: empty account name" },
        { "al ice:{PLAIN}x\n", ":1: account name with a blank" },
        { " alice:{PLAIN}x\n", ":1: account name with a blank" },
        { "al\tice:{PLAIN}x\n", ":1: account name with a blank" },
        { "al\x01ice:{PLAIN}x\n", ":1: account name with a control byte" },
        { "alice:{PLAIN}x:admin\n", ":1: unknown flag 'admin' (known: mfa)" },
        { "bob:{PLAIN}x\nalice:{PLAIN}y\n#\nalice:{PLAIN}z\n", ":4: account alice again (first at line 2)" },
    };
    char want[300];

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        snprintf(want, sizeof want, "saslguard: config error: %s%s", path, cases[i].want);
        open_fails(cases[i].text, 0640, want);
    }
}

static void test_many_errors_are_bounded_count(void **state)
{
    struct sg_passwd_file *pf = NULL;
    char text[4000] = "";

    (void)state;
    for (int i = 0; i < 30; i++)
        strcat(text, "broken line\n");
    write_file(path, text, 0640);
    nlogs = 0;
    assert_int_equal(sg_passwd_file_open(path, capture, NULL, &pf), SG_ECONFIG);
    assert_int_equal(logged("no ':'"), 10);
    assert_int_equal(logged(": 20 more problems not shown"), 1);
}

static void test_flags_and_crlf(void **state)
{
    char text[2 * SG_PASSWD_HASH_MAX + 100];
    struct sg_passwd_file *pf;
    unsigned flags = 0;

    (void)state;
    snprintf(text, sizeof text, "two:%s:mfa\r\nplain:%s::\nlast:{PLAIN}x:mfa", h_sha256, h_sha512);
    pf = open_ok(text);
    assert_int_equal(sg_passwd_file_verify(pf, "two", 3, PW, strlen(PW), &flags), SG_VERIFY_OK);
    assert_int_equal(flags, SG_PWF_MFA);
    assert_int_equal(sg_passwd_file_verify(pf, "two", 3, "no", 2, &flags), SG_VERIFY_BAD);
    assert_int_equal(flags, 0);
    assert_int_equal(sg_passwd_file_verify(pf, "plain", 5, PW, strlen(PW), &flags), SG_VERIFY_OK);
    assert_int_equal(flags, 0);
    assert_int_equal(sg_passwd_file_verify(pf, "last", 4, "x", 1, &flags), SG_VERIFY_OK);
    assert_int_equal(flags, SG_PWF_MFA);
    sg_passwd_file_close(pf);
}

static void test_permissions_and_file_type(void **state)
{
    char want[600], link[200];
    struct sg_passwd_file *pf;

    (void)state;
    snprintf(want, sizeof want, "%s: mode 0644 is too open: the password file must not be "
             "writable by its group nor accessible by others (chmod 640 %s)", path, path);
    open_fails("a:{PLAIN}x\n", 0644, want);
    open_fails("a:{PLAIN}x\n", 0660, "mode 0660 is too open");
    open_fails("a:{PLAIN}x\n", 0604, "mode 0604 is too open");
    open_fails("a:{PLAIN}x\n", 0641, "mode 0641 is too open");
    for (size_t i = 0; i < 4; i++) {
        write_file(path, "a:{PLAIN}x\n", (mode_t[]){ 0400, 0440, 0600, 0640 }[i]);
        assert_int_equal(sg_passwd_file_open(path, NULL, NULL, &pf), SG_OK);
        sg_passwd_file_close(pf);
    }

    snprintf(link, sizeof link, "%s/link", dir);
    assert_int_equal(symlink(path, link), 0);
    nlogs = 0;
    assert_int_equal(sg_passwd_file_open(link, capture, NULL, &pf), SG_ECONFIG);
    assert_int_equal(logged("is a symbolic link: give the path of the file itself"), 1);
    unlink(link);

    nlogs = 0;
    assert_int_equal(sg_passwd_file_open(dir, capture, NULL, &pf), SG_ECONFIG);
    assert_int_equal(logged(": not a regular file"), 1);
    snprintf(want, sizeof want, "saslguard: config error: %s/missing: cannot open: No such file", dir);
    snprintf(link, sizeof link, "%s/missing", dir);
    nlogs = 0;
    assert_int_equal(sg_passwd_file_open(link, capture, NULL, &pf), SG_ECONFIG);
    assert_int_equal(logged(want), 1);
}

/* ------------------------------------------------------------ reload */

static void test_reload_on_change(void **state)
{
    char text[SG_PASSWD_HASH_MAX + 100];
    struct sg_passwd_file_stats st;
    struct sg_passwd_file *pf;

    (void)state;
    pf = open_ok("alice:{PLAIN}first\n");
    assert_int_equal(verify(pf, "alice", "first"), SG_VERIFY_OK);
    assert_int_equal(sg_passwd_file_reload(pf), SG_OK);        /* unchanged: no load */
    sg_passwd_file_stats(pf, &st);
    assert_int_equal(st.loads, 1);

    snprintf(text, sizeof text, "alice:%s\nbob:{PLAIN}b\n", h_sha512);
    write_file(path, text, 0640);
    assert_int_equal(sg_passwd_file_reload(pf), SG_OK);
    assert_int_equal(sg_passwd_file_count(pf), 2);
    assert_int_equal(verify(pf, "alice", PW), SG_VERIFY_OK);
    assert_int_equal(verify(pf, "alice", "first"), SG_VERIFY_BAD);
    assert_int_equal(logged("reloaded: 2 accounts"), 1);

    /* without an explicit reload: verify looks again after a second */
    write_file(path, "alice:{PLAIN}third\n", 0640);
    sleep(1);
    usleep(100 * 1000);
    assert_int_equal(verify(pf, "alice", "third"), SG_VERIFY_OK);
    sg_passwd_file_stats(pf, &st);
    assert_int_equal(st.loads, 3);
    sg_passwd_file_close(pf);
}

static void test_malformed_edit_keeps_last_good_copy(void **state)
{
    struct sg_passwd_file *pf;
    char want[300];
    int n;

    (void)state;
    pf = open_ok("alice:{PLAIN}good\nbob:{PLAIN}b\n");
    write_file(path, "alice:{PLAIN}new\nbob:$6$broken\n", 0640);
    assert_int_equal(sg_passwd_file_reload(pf), SG_ECONFIG);
    snprintf(want, sizeof want, "saslguard: password file error: %s:2: malformed", path);
    assert_int_equal(logged(want), 1);
    assert_int_equal(logged("not reloaded: the copy loaded before stays in force (2 accounts)"), 1);
    assert_int_equal(verify(pf, "alice", "good"), SG_VERIFY_OK);
    assert_int_equal(verify(pf, "alice", "new"), SG_VERIFY_BAD);
    n = nlogs;
    assert_int_equal(sg_passwd_file_reload(pf), SG_ECONFIG);   /* same copy: said once */
    assert_int_equal(nlogs, n);

    /* loose permissions on a new copy: refused the same way */
    write_file(path, "alice:{PLAIN}new\n", 0666);
    assert_int_equal(sg_passwd_file_reload(pf), SG_ECONFIG);
    assert_int_equal(logged("mode 0666 is too open"), 1);
    assert_int_equal(verify(pf, "alice", "good"), SG_VERIFY_OK);

    /* the file gone: the copy in force stays, said once */
    unlink(path);
    n = nlogs;
    assert_int_equal(sg_passwd_file_reload(pf), SG_EIO);
    assert_int_equal(sg_passwd_file_reload(pf), SG_EIO);
    assert_int_equal(nlogs, n + 1);
    assert_int_equal(logged("No such file or directory; the copy loaded before stays in force"), 1);
    assert_int_equal(verify(pf, "bob", "b"), SG_VERIFY_OK);

    write_file(path, "alice:{PLAIN}fixed\n", 0640);
    assert_int_equal(sg_passwd_file_reload(pf), SG_OK);
    assert_int_equal(verify(pf, "alice", "fixed"), SG_VERIFY_OK);
    assert_int_equal(verify(pf, "bob", "b"), SG_VERIFY_BAD);
    sg_passwd_file_close(pf);
}

/* ------------------------------------------------------------ unknown accounts */

static void test_unknown_account_runs_a_dummy_hash(void **state)
{
    char text[4 * SG_PASSWD_HASH_MAX + 100], huge[10000];
    struct sg_passwd_file_stats st;
    struct sg_passwd_file *pf;

    (void)state;
    snprintf(text, sizeof text, "a:%s\nb:%s\nc:%s\n", h_yescrypt, h_sha512, h_yescrypt);
    pf = open_ok(text);
    assert_int_equal(verify(pf, "a", PW), SG_VERIFY_OK);
    assert_int_equal(verify(pf, "nobody", PW), SG_VERIFY_BAD);
    assert_int_equal(verify(pf, "", PW), SG_VERIFY_BAD);
    memset(huge, 'x', sizeof huge);
    assert_int_equal(sg_passwd_file_verify(pf, huge, sizeof huge, PW, strlen(PW), NULL),
                     SG_VERIFY_BAD);
    assert_int_equal(sg_passwd_file_verify(pf, NULL, 0, NULL, 0, NULL), SG_VERIFY_BAD);
    sg_passwd_file_stats(pf, &st);
    assert_int_equal(st.hashes, 5);       /* one per attempt, known or not */
    assert_int_equal(st.dummies, 4);
    assert_true(st.hash_cpu_ns > 0);
    sg_passwd_file_close(pf);
}

/* The dummy has the most common setting: algorithm and cost. */
static void test_dummy_is_the_most_common_setting(void **state)
{
    char text[6 * SG_PASSWD_HASH_MAX + 100];
    struct sg_pw_db db;
    char *buf;

    (void)state;
    snprintf(text, sizeof text, "a:%s\nb:%s\nc:%s\nd:$6$rounds=9999$abc$%.86s\n",
             h_sha512, h_yescrypt, h_sha512, h_sha512 + 20);
    assert_non_null(buf = strdup(text));
    assert_int_equal(sg_pw_db_parse("t", buf, strlen(buf), &db, NULL, NULL), SG_OK);
    assert_int_equal(db.dummy_kind, SG_PWK_CRYPT);
    assert_string_equal(db.dummy, h_sha512);      /* $6$ default rounds, twice */
    sg_pw_db_free(&db);

    snprintf(text, sizeof text, "a:%s\nb:%s\nc:%s\n", h_sha512, h_yescrypt, h_yescrypt);
    assert_non_null(buf = strdup(text));
    assert_int_equal(sg_pw_db_parse("t", buf, strlen(buf), &db, NULL, NULL), SG_OK);
    assert_string_equal(db.dummy, h_yescrypt);
    sg_pw_db_free(&db);

    assert_non_null(buf = strdup("# none\n"));
    assert_int_equal(sg_pw_db_parse("t", buf, strlen(buf), &db, NULL, NULL), SG_OK);
    assert_int_equal(strncmp(db.dummy, "$y$j9T$", 7), 0);       /* an empty file still costs */
    sg_pw_db_free(&db);

    snprintf(text, sizeof text, "a:{PLAIN}x\nb:%s\nc:{PLAIN}y\n", h_yescrypt);
    assert_non_null(buf = strdup(text));
    assert_int_equal(sg_pw_db_parse("t", buf, strlen(buf), &db, NULL, NULL), SG_OK);
    assert_int_equal(db.dummy_kind, SG_PWK_PLAIN);
    assert_int_equal(strlen(db.dummy), 32);         /* random: never one of theirs */
    sg_pw_db_free(&db);
}

/* ------------------------------------------------------------ writing */

static void test_set_and_delete_keep_the_rest(void **state)
{
    char err[600], want[3 * SG_PASSWD_HASH_MAX + 200], h[SG_PASSWD_HASH_MAX];
    struct sg_passwd_file *pf;
    struct stat st;
    int added = -1;

    (void)state;
    write_file(path, "# site accounts\nalice:{PLAIN}a:mfa\n\n# bob next\nbob:{PLAIN}b\n", 0600);
    if (geteuid() == 0)
        assert_int_equal(chown(path, 0, 1), 0);
    assert_int_equal(sg_passwd_file_set(path, "alice", h_sha256, &added, err, sizeof err), SG_OK);
    assert_int_equal(added, 0);
    snprintf(want, sizeof want, "# site accounts\nalice:%s:mfa\n\n# bob next\nbob:{PLAIN}b\n",
             h_sha256);
    assert_string_equal(read_all(path), want);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);                 /* mode kept */
    if (geteuid() == 0)
        assert_int_equal(st.st_gid, 1);                         /* owner kept */

    assert_int_equal(sg_passwd_hash(SG_PWS_YESCRYPT, "n3w", 3, h), SG_OK);
    assert_int_equal(strncmp(h, "$y$", 3), 0);
    assert_int_equal(sg_passwd_file_set(path, "carol", h, &added, err, sizeof err), SG_OK);
    assert_int_equal(added, 1);
    assert_int_equal(sg_passwd_file_delete(path, "bob", err, sizeof err), SG_OK);
    snprintf(want, sizeof want, "# site accounts\nalice:%s:mfa\n\n# bob next\ncarol:%s\n",
             h_sha256, h);
    assert_string_equal(read_all(path), want);
    assert_int_equal(sg_passwd_file_delete(path, "bob", err, sizeof err), SG_ENOTFOUND);

    assert_int_equal(sg_passwd_file_open(path, NULL, NULL, &pf), SG_OK);
    assert_int_equal(verify(pf, "carol", "n3w"), SG_VERIFY_OK);
    assert_int_equal(verify(pf, "alice", PW), SG_VERIFY_OK);
    sg_passwd_file_close(pf);

    /* refused: bad names and hashes, a file that does not load (unchanged) */
    assert_int_equal(sg_passwd_file_set(path, "a:b", h, NULL, err, sizeof err), SG_EINVAL);
    assert_int_equal(sg_passwd_file_set(path, "dave", "secret", NULL, err, sizeof err), SG_EINVAL);
    assert_int_equal(sg_passwd_file_set(path, "dave", "{PLAIN}a:b", NULL, err, sizeof err),
                     SG_EINVAL);
    write_file(path, "alice:{PLAIN}a\nbroken\n", 0640);
    assert_int_equal(sg_passwd_file_set(path, "alice", h, NULL, err, sizeof err), SG_ECONFIG);
    snprintf(want, sizeof want, "%s:2: no ':'", path);
    assert_non_null(strstr(err, want));
    assert_string_equal(read_all(path), "alice:{PLAIN}a\nbroken\n");
    write_file(path, "alice:{PLAIN}a\n", 0644);
    assert_int_equal(sg_passwd_file_set(path, "alice", h, NULL, err, sizeof err), SG_ECONFIG);
    assert_non_null(strstr(err, "mode 0644 is too open"));
}

static void test_set_creates_the_file(void **state)
{
    char err[600], p[200], h[SG_PASSWD_HASH_MAX];
    struct stat st;
    int added = 0;

    (void)state;
    snprintf(p, sizeof p, "%s/new-passwd", dir);
    assert_int_equal(sg_passwd_file_delete(p, "x", err, sizeof err), SG_ENOTFOUND);
    assert_int_equal(sg_passwd_hash(SG_PWS_BCRYPT, "pw", 2, h), SG_OK);
    assert_int_equal(strncmp(h, "$2b$10$", 7), 0);
    assert_int_equal(sg_passwd_file_set(p, "x", h, &added, err, sizeof err), SG_OK);
    assert_int_equal(added, 1);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640);
    assert_int_equal(sg_passwd_hash(SG_PWS_SHA512, "pw", 2, h), SG_OK);
    assert_int_equal(strncmp(h, "$6$", 3), 0);
    assert_int_equal(sg_passwd_hash(SG_PWS_SHA512, "p\0w", 3, h), SG_EINVAL);
    assert_int_equal(sg_passwd_hash(SG_PWS_SHA512, "", 0, h), SG_EINVAL);
}

/* Readers open and parse the file again and again while two writers
 * rewrite it 200 times: no reader ever sees a partial file, and no
 * writer's change is lost (the lock serialises them). */
static void test_atomic_rewrite_under_concurrent_readers(void **state)
{
    enum { WRITES = 100, BASE = 50 };
    char text[64 * BASE], line[64], err[600], h1[SG_PASSWD_HASH_MAX], h2[SG_PASSWD_HASH_MAX];
    int stop[2], status;
    pid_t reader, writer;
    struct sg_pw_db db;

    (void)state;
    text[0] = '\0';
    for (int i = 0; i < BASE; i++) {
        snprintf(line, sizeof line, "base%02d:{PLAIN}p%d\n", i, i);
        strcat(text, line);
    }
    write_file(path, text, 0640);
    assert_int_equal(sg_passwd_hash(SG_PWS_SHA512, "one", 3, h1), SG_OK);
    assert_int_equal(sg_passwd_hash(SG_PWS_SHA512, "two", 3, h2), SG_OK);
    assert_int_equal(pipe(stop), 0);

    if ((reader = fork()) == 0) {
        long reads = 0, bad = 0;
        char c;

        close(stop[1]);
        fcntl(stop[0], F_SETFL, O_NONBLOCK);
        while (read(stop[0], &c, 1) < 0 && errno == EAGAIN) {
            if (sg_pw_db_load(path, &db, NULL, NULL) != SG_OK || db.n < BASE
                || !sg_pw_db_find(&db, "base49", 6))
                bad++;
            sg_pw_db_free(&db);
            reads++;
        }
        fprintf(stderr, "# reader: %ld reads, %ld partial or missing\n", reads, bad);
        _exit(bad == 0 && reads > 0 ? 0 : 1);
    }
    close(stop[0]);
    if ((writer = fork()) == 0) {       /* second writer: accounts w2-N */
        for (int i = 0; i < WRITES; i++) {
            snprintf(line, sizeof line, "w2-%d", i);
            if (sg_passwd_file_set(path, line, h2, NULL, err, sizeof err) != SG_OK)
                _exit(1);
        }
        _exit(0);
    }
    for (int i = 0; i < WRITES; i++) {
        snprintf(line, sizeof line, "w1-%d", i);
        assert_int_equal(sg_passwd_file_set(path, line, h1, NULL, err, sizeof err), SG_OK);
        if (i % 10 == 0)                /* a change of an existing line */
            assert_int_equal(sg_passwd_file_set(path, "base00", i % 20 ? h1 : h2, NULL,
                                                err, sizeof err), SG_OK);
    }
    assert_int_equal(waitpid(writer, &status, 0), writer);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(stop[1]);
    assert_int_equal(waitpid(reader, &status, 0), reader);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    assert_int_equal(sg_pw_db_load(path, &db, NULL, NULL), SG_OK);
    assert_int_equal(db.n, BASE + 2 * WRITES);      /* no lost update */
    sg_pw_db_free(&db);
}

/* ------------------------------------------------------------ size */

static void test_100k_accounts(void **state)
{
    enum { N = 100000 };
    size_t cap = (size_t)N * 120, n = 0;
    char *text = malloc(cap), name[32];
    struct sg_passwd_file *pf;
    FILE *f;

    (void)state;
    assert_non_null(text);
    for (int i = 0; i < N; i++)     /* in no particular order */
        n += (size_t)snprintf(text + n, cap - n, "user%06d@example.test:%s\n",
                              (i * 7919) % N, h_sha256);
    assert_non_null(f = fopen(path, "w"));
    assert_int_equal(fwrite(text, 1, n, f), n);
    fclose(f);
    free(text);
    chmod(path, 0640);
    assert_int_equal(sg_passwd_file_open(path, NULL, NULL, &pf), SG_OK);
    assert_int_equal(sg_passwd_file_count(pf), N);
    for (int i = 0; i < N; i += N / 4 - 1) {
        snprintf(name, sizeof name, "user%06d@example.test", i);
        assert_int_equal(verify(pf, name, PW), SG_VERIFY_OK);
    }
    assert_int_equal(verify(pf, "user100000@example.test", PW), SG_VERIFY_BAD);
    sg_passwd_file_close(pf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors_each_scheme),     /* first: makes the vectors */
        cmocka_unit_test(test_dovecot_prefixes),
        cmocka_unit_test(test_plain_with_warning),
        cmocka_unit_test(test_parse_errors_name_file_and_line),
        cmocka_unit_test(test_many_errors_are_bounded_count),
        cmocka_unit_test(test_flags_and_crlf),
        cmocka_unit_test(test_permissions_and_file_type),
        cmocka_unit_test(test_reload_on_change),
        cmocka_unit_test(test_malformed_edit_keeps_last_good_copy),
        cmocka_unit_test(test_unknown_account_runs_a_dummy_hash),
        cmocka_unit_test(test_dummy_is_the_most_common_setting),
        cmocka_unit_test(test_set_and_delete_keep_the_rest),
        cmocka_unit_test(test_set_creates_the_file),
        cmocka_unit_test(test_atomic_rewrite_under_concurrent_readers),
        cmocka_unit_test(test_100k_accounts),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
