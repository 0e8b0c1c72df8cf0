/*
 * cmd_stats.c - "saslguard stats": decisions by result (PREFIX:stats).
 *
 * DESCRIPTION
 *	Text, JSON, or the Prometheus text format of node_exporter's textfile
 *	collector. --output writes a file atomically (a temporary file in the
 *	same directory, then rename), so the collector never reads half of
 *	one; when Redis cannot be read the old file is left alone.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "outcome.h"
#include "status.h"
#include "store_admin.h"

static const struct cli_help stats_help = {
    "stats [--prometheus] [--output FILE] [-c PATH] [--json]",
    "Show the login decisions counted by result (success, bad_credentials,\n"
    "locked, throttled, disabled, ...) in the Redis hash PREFIX:stats, shared\n"
    "by every mail server of the site; counted since the hash was created.\n"
    "\n"
    "  --prometheus   Prometheus text format (saslguard_decisions_total)\n"
    "  --output FILE  write to FILE atomically (temporary file + rename), as\n"
    "                 node_exporter's textfile collector needs, e.g.\n"
    "                 --output /var/lib/node_exporter/textfile/saslguard.prom\n"
    "\n"
    "exit status: 0 written; 2 usage or configuration error; 3 Redis\n"
    "unavailable (FILE is left as it was); 4 FILE cannot be written.\n",
};

static void write_stats(const struct cli *c, FILE *f, int prometheus, const char *key,
                        const struct sg_admin_stats *st)
{
    struct cli_json j;

    if (prometheus) {
        fprintf(f, "# HELP saslguard_decisions_total Login decisions by result, "
                   "counted in Redis (%s).\n", key);
        fputs("# TYPE saslguard_decisions_total counter\n", f);
        for (int r = 0; r < SG_RESULT_COUNT; r++)
            fprintf(f, "saslguard_decisions_total{result=\"%s\"} %lld\n",
                    sg_result_name((enum sg_result)r), st->count[r]);
        return;
    }
    if (c->json) {
        cli_json_init(&j, f);
        cli_json_object(&j, NULL);
        cli_json_str(&j, "key", key);
        cli_json_object(&j, "decisions");
        for (int r = 0; r < SG_RESULT_COUNT; r++)
            cli_json_int(&j, sg_result_name((enum sg_result)r), st->count[r]);
        cli_json_end(&j);
        cli_json_int(&j, "total", st->total);
        cli_json_end(&j);
        return;
    }
    fprintf(f, "decisions (%s):\n", key);
    for (int r = 0; r < SG_RESULT_COUNT; r++)
        fprintf(f, "  %-24s %12lld\n", sg_result_name((enum sg_result)r), st->count[r]);
    fprintf(f, "  %-24s %12lld\n", "total", st->total);
}

/* Write through a temporary file next to PATH, then rename it into place. */
static int write_atomically(const struct cli *c, const char *path, int prometheus,
                            const char *key, const struct sg_admin_stats *st)
{
    size_t len = strlen(path);
    char *tmp = malloc(len + 8);
    FILE *f = NULL;
    int fd, ok = 0;

    if (!tmp) {
        fputs("saslguard: out of memory\n", stderr);
        return CLI_ERROR;
    }
    memcpy(tmp, path, len);
    memcpy(tmp + len, ".XXXXXX", 8);
    if ((fd = mkstemp(tmp)) >= 0 && (f = fdopen(fd, "w")) != NULL) {
        write_stats(c, f, prometheus, key, st);
        ok = fflush(f) == 0 && !ferror(f) && fchmod(fd, 0644) == 0 && fsync(fd) == 0;
        ok = (fclose(f) == 0) && ok;
        ok = ok && rename(tmp, path) == 0;
    } else if (fd >= 0) {
        close(fd);
    }
    if (!ok) {
        perror("saslguard: --output");
        fprintf(stderr, "saslguard: cannot write %s\n", path);
        if (fd >= 0)
            unlink(tmp);
    }
    free(tmp);
    return ok ? CLI_OK : CLI_ERROR;
}

int cmd_stats(struct cli *c, int argc, char **argv)
{
    enum { OPT_PROMETHEUS = 256, OPT_OUTPUT };
    static const struct option opts[] = {
        CLI_COMMON_LONG, { "prometheus", 0, NULL, OPT_PROMETHEUS },
        { "output", 1, NULL, OPT_OUTPUT }, { NULL, 0, NULL, 0 },
    };
    const char *output = NULL;
    struct sg_admin_stats st;
    char key[SG_KEY_PREFIX_MAX + 8];
    int ch, rc, prometheus = 0;

    while ((ch = getopt_long(argc, argv, ":" CLI_COMMON_SHORT, opts, NULL)) != -1) {
        if (ch == OPT_PROMETHEUS)
            prometheus = 1;
        else if (ch == OPT_OUTPUT)
            output = optarg;
        else if ((rc = cli_common_option(c, ch, argv, &stats_help)) >= 0)
            return rc;
    }
    if (optind != argc)
        return cli_usage_error(&stats_help, "stats takes no operands");
    if (prometheus && c->json)
        return cli_usage_error(&stats_help, "--prometheus and --json exclude each other");
    if (output && !output[0])
        return cli_usage_error(&stats_help, "--output needs a file name");
    if ((rc = cli_open(c, 1)) != CLI_OK)
        return rc;
    if ((rc = sg_admin_stats(c->store, &st)) != SG_OK)
        return cli_store_failed(c, rc);
    snprintf(key, sizeof key, "%s:stats", c->policy->key_prefix);
    if (output)
        return write_atomically(c, output, prometheus, key, &st);
    write_stats(c, stdout, prometheus, key, &st);
    return CLI_OK;
}
