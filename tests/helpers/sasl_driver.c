/*
 * NAME
 *	sasl_driver - run one server-side SASL exchange with raw client messages
 * SYNOPSIS
 *	sasl_driver [-a app] [-P plugin_path] [-C conf_path] [-s service]
 *		    [-l iplocalport] [-r ipremoteport] [-n repeat] [-w ms] [-L]
 *		    mech [message...]
 * DESCRIPTION
 *	A libsasl2 server, as an MTA would be, to test the saslguard plugin
 *	in-process and without a network: sasl_server_init(app) reads
 *	APP.conf from conf_path (SASL_CB_GETCONFPATH) and loads plugins from
 *	plugin_path (SASL_CB_GETPATH, a colon list); sasl_server_new(service)
 *	gets iplocalport/ipremoteport as given (e.g. "192.0.2.7;40000"), so
 *	any client address can be tested.
 *
 *	The first message is the initial response to sasl_server_start, the
 *	others answer the server's challenges through sasl_server_step. A
 *	message is written as:
 *	  none       no initial response (NULL; first message only)
 *	  str:TEXT   TEXT with escapes \0 \n \r \t \\ \xHH
 *	  hex:HEX    bytes in hex
 *	  file:PATH  the bytes of a file (at most 1 MiB)
 *	Without messages the exchange starts with no initial response.
 *
 *	-n runs the whole exchange REPEAT times in one process (a fresh SASL
 *	connection each time, like an MTA process serving many clients),
 *	waiting -w milliseconds between two runs.
 *	-L prints the mechanism list the server offers first.
 *
 *	Output on stdout, one line each: "challenge: <escaped bytes>" for each
 *	challenge, then "result: SASL_XXX (N): <sasl_errstring>", and for
 *	SASL_OK "user: <SASL_USERNAME>". libsasl's log lines go to stderr as
 *	"log[LEVEL]: line". Client messages are never printed.
 * DIAGNOSTICS
 *	Exit 0 if the last exchange ended in SASL_OK, 1 on any other SASL
 *	result, 2 on a usage or setup error.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sasl/sasl.h>

#define MSG_FILE_MAX (1024 * 1024)
#define MAX_MESSAGES 16

struct message {
    char *bytes;     /* NULL: no initial response */
    unsigned len;
};

static const char *plugin_path = "";
static const char *conf_path = "";

static void usage(void)
{
    fprintf(stderr, "usage: sasl_driver [-a app] [-P plugin_path] [-C conf_path] [-s service]\n"
                    "       [-l iplocalport] [-r ipremoteport] [-n repeat] [-w ms] [-L]\n"
                    "       mech [message...]\n"
                    "message: none | str:TEXT | hex:HEX | file:PATH\n");
    exit(2);
}

static void die(const char *what)
{
    fprintf(stderr, "sasl_driver: %s\n", what);
    exit(2);
}

static const char *code_name(int code)
{
    switch (code) {
#define C(x) case x: return #x
    C(SASL_CONTINUE); C(SASL_OK); C(SASL_FAIL); C(SASL_NOMEM); C(SASL_BUFOVER);
    C(SASL_NOMECH); C(SASL_BADPROT); C(SASL_NOTDONE); C(SASL_BADPARAM);
    C(SASL_TRYAGAIN); C(SASL_BADMAC); C(SASL_NOTINIT); C(SASL_INTERACT);
    C(SASL_BADSERV); C(SASL_WRONGMECH); C(SASL_BADAUTH); C(SASL_NOAUTHZ);
    C(SASL_TOOWEAK); C(SASL_ENCRYPT); C(SASL_TRANS); C(SASL_EXPIRED);
    C(SASL_DISABLED); C(SASL_NOUSER); C(SASL_BADVERS); C(SASL_UNAVAIL);
    C(SASL_NOVERIFY); C(SASL_PWLOCK); C(SASL_NOCHANGE); C(SASL_WEAKPASS);
    C(SASL_NOUSERPASS); C(SASL_NEED_OLD_PASSWD); C(SASL_CONSTRAINT_VIOLAT);
    C(SASL_BADBINDING);
#undef C
    }
    return "SASL_UNKNOWN";
}

/* Print LEN bytes with non-printables escaped as \xHH. */
static void print_escaped(FILE *f, const char *s, unsigned len)
{
    for (unsigned i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c >= 0x20 && c < 0x7f && c != '\\')
            fputc(c, f);
        else
            fprintf(f, "\\x%02x", c);
    }
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static void parse_str(const char *s, struct message *m)
{
    size_t n = strlen(s), o = 0;

    if (!(m->bytes = malloc(n + 1)))
        die("out of memory");
    for (size_t i = 0; i < n; i++) {
        char c = s[i];

        if (c == '\\' && i + 1 < n) {
            char e = s[++i];

            switch (e) {
            case '0': c = '\0'; break;
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case '\\': c = '\\'; break;
            case 'x':
                if (i + 2 >= n || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0)
                    die("bad \\x escape");
                c = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
                i += 2;
                break;
            default:
                die("unknown escape");
            }
        }
        m->bytes[o++] = c;
    }
    m->len = (unsigned)o;
}

static void parse_hex(const char *s, struct message *m)
{
    size_t n = strlen(s);

    if (n % 2)
        die("odd number of hex digits");
    if (!(m->bytes = malloc(n / 2 + 1)))
        die("out of memory");
    for (size_t i = 0; i < n; i += 2) {
        int hi = hexval(s[i]), lo = hexval(s[i + 1]);

        if (hi < 0 || lo < 0)
            die("bad hex digit");
        m->bytes[i / 2] = (char)(hi * 16 + lo);
    }
    m->len = (unsigned)(n / 2);
}

static void parse_file(const char *path, struct message *m)
{
    FILE *f = fopen(path, "rb");
    size_t n;

    if (!f)
        die(strerror(errno));
    if (!(m->bytes = malloc(MSG_FILE_MAX + 1)))
        die("out of memory");
    n = fread(m->bytes, 1, MSG_FILE_MAX + 1, f);
    fclose(f);
    if (n > MSG_FILE_MAX)
        die("message file too large");
    m->len = (unsigned)n;
}

static void parse_message(const char *arg, struct message *m, int first)
{
    m->bytes = NULL;
    m->len = 0;
    if (strcmp(arg, "none") == 0) {
        if (!first)
            die("\"none\" is only for the initial response");
    } else if (strncmp(arg, "str:", 4) == 0) {
        parse_str(arg + 4, m);
    } else if (strncmp(arg, "hex:", 4) == 0) {
        parse_hex(arg + 4, m);
    } else if (strncmp(arg, "file:", 5) == 0) {
        parse_file(arg + 5, m);
    } else {
        usage();
    }
}

static int cb_log(void *ctx, int level, const char *message)
{
    (void)ctx;
    fprintf(stderr, "log[%d]: %s\n", level, message ? message : "");
    return SASL_OK;
}

static int cb_getpath(void *ctx, const char **path)
{
    (void)ctx;
    *path = plugin_path;
    return SASL_OK;
}

static int cb_getconfpath(void *ctx, char **path)
{
    (void)ctx;
    *path = (char *)conf_path;
    return SASL_OK;
}

static void report(int rc)
{
    printf("result: %s (%d): %s\n", code_name(rc), rc, sasl_errstring(rc, NULL, NULL));
}

/* One exchange on a fresh connection; returns the final SASL code. */
static int exchange(const char *service, const char *local, const char *remote,
                    const char *mech, const struct message *msgs, int nmsgs, int list)
{
    sasl_security_properties_t props = {
        .min_ssf = 0, .max_ssf = 0, .maxbufsize = 0,
        .security_flags = SASL_SEC_NOANONYMOUS,
    };
    sasl_conn_t *conn = NULL;
    const char *out = NULL;
    unsigned outlen = 0;
    int rc, i;

    rc = sasl_server_new(service, "lab.example.test", NULL, local, remote, NULL, 0, &conn);
    if (rc != SASL_OK) {
        report(rc);
        return rc;
    }
    sasl_setprop(conn, SASL_SEC_PROPS, &props);
    if (list) {
        const char *mechs = NULL;

        if (sasl_listmech(conn, NULL, "", " ", "", &mechs, NULL, NULL) == SASL_OK)
            printf("mechs: %s\n", mechs);
    }
    rc = sasl_server_start(conn, mech, nmsgs > 0 ? msgs[0].bytes : NULL,
                           nmsgs > 0 ? msgs[0].len : 0, &out, &outlen);
    for (i = 1; rc == SASL_CONTINUE; i++) {
        printf("challenge: ");
        print_escaped(stdout, out ? out : "", out ? outlen : 0);
        printf("\n");
        if (i >= nmsgs)
            break;
        rc = sasl_server_step(conn, msgs[i].bytes ? msgs[i].bytes : "", msgs[i].len,
                              &out, &outlen);
    }
    report(rc);
    if (rc != SASL_OK && rc != SASL_CONTINUE) {
        const char *detail = sasl_errdetail(conn);

        printf("detail: %s\n", detail ? detail : "");
    }
    if (rc == SASL_OK) {
        const void *user = NULL;

        if (sasl_getprop(conn, SASL_USERNAME, &user) == SASL_OK && user)
            printf("user: %s\n", (const char *)user);
    }
    sasl_dispose(&conn);
    return rc;
}

int main(int argc, char **argv)
{
    static sasl_callback_t callbacks[] = {
        { SASL_CB_LOG, (int (*)(void))(void (*)(void))cb_log, NULL },
        { SASL_CB_GETPATH, (int (*)(void))(void (*)(void))cb_getpath, NULL },
        { SASL_CB_GETCONFPATH, (int (*)(void))(void (*)(void))cb_getconfpath, NULL },
        { SASL_CB_LIST_END, NULL, NULL },
    };
    const char *app = "smtpd", *service = "smtp";
    const char *local = "127.0.0.1;25", *remote = "192.0.2.7;40000";
    struct message msgs[MAX_MESSAGES];
    int opt, repeat = 1, list = 0, nmsgs, rc = SASL_FAIL;
    long wait_ms = 0;

    /* a dropped Redis connection must not kill us (MTAs ignore SIGPIPE too) */
    signal(SIGPIPE, SIG_IGN);
    while ((opt = getopt(argc, argv, "a:P:C:s:l:r:n:w:L")) != -1) {
        switch (opt) {
        case 'a': app = optarg; break;
        case 'P': plugin_path = optarg; break;
        case 'C': conf_path = optarg; break;
        case 's': service = optarg; break;
        case 'l': local = optarg; break;
        case 'r': remote = *optarg ? optarg : NULL; break;
        case 'n': repeat = atoi(optarg); break;
        case 'w': wait_ms = atol(optarg); break;
        case 'L': list = 1; break;
        default: usage();
        }
    }
    if (optind >= argc || repeat < 1 || wait_ms < 0)
        usage();
    nmsgs = argc - optind - 1;
    if (nmsgs > MAX_MESSAGES)
        die("too many messages");
    for (int i = 0; i < nmsgs; i++)
        parse_message(argv[optind + 1 + i], &msgs[i], i == 0);

    if ((rc = sasl_server_init(callbacks, app)) != SASL_OK) {
        report(rc);
        return 2;
    }
    for (int i = 0; i < repeat; i++) {
        if (i > 0 && wait_ms > 0) {
            struct timespec ts = { wait_ms / 1000, (wait_ms % 1000) * 1000000L };

            fflush(stdout);
            nanosleep(&ts, NULL);
        }
        rc = exchange(service, local, remote, argv[optind], msgs, nmsgs, list);
    }
    sasl_server_done();
    for (int i = 0; i < nmsgs; i++)
        free(msgs[i].bytes);
    fflush(stdout);
    return rc == SASL_OK ? 0 : 1;
}
