/*
 * cmd_config.c - "saslguard config check": validate the policy file.
 *
 * DESCRIPTION
 *	Loads the policy file with the same parser the plugin and the PAM
 *	module use (sg_policy_load) and reports every error it finds, each
 *	as FILE:LINE: KEY: problem.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "status.h"

#define MAX_REPORTED 200

static const struct cli_help config_help = {
    "config check [-c PATH] [--json]",
    "Check the policy file (-c PATH, $SASLGUARD_CONF, else the default) with\n"
    "the parser the plugin and the PAM module use. Every error is reported as\n"
    "FILE:LINE: KEY: problem, on standard error (or in \"errors\" with --json);\n"
    "a valid file prints \"PATH: OK\". Redis is not contacted.\n"
    "\n"
    "exit status: 0 valid; 2 invalid (or usage error); 4 out of memory.\n",
};

struct diags {
    char *msg[MAX_REPORTED];
    size_t n, more;
};

static void collect(void *ctx, const char *msg)
{
    struct diags *d = ctx;

    if (d->n < MAX_REPORTED && (d->msg[d->n] = strdup(msg)) != NULL)
        d->n++;
    else
        d->more++;
}

int cmd_config(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = { CLI_COMMON_LONG, { NULL, 0, NULL, 0 } };
    struct diags d = { { NULL }, 0, 0 };
    struct sg_policy *p = NULL;
    struct cli_json j;
    int ch, rc;

    while ((ch = getopt_long(argc, argv, ":" CLI_COMMON_SHORT, opts, NULL)) != -1)
        if ((rc = cli_common_option(c, ch, argv, &config_help)) >= 0)
            return rc;
    if (argc - optind != 1 || strcmp(argv[optind], "check") != 0)
        return cli_usage_error(&config_help, "the config command is \"config check\"");
    rc = sg_policy_load(c->config, &p, collect, &d);
    sg_policy_free(p);
    if (c->json) {
        cli_json_init(&j, stdout);
        cli_json_object(&j, NULL);
        cli_json_str(&j, "path", c->config);
        cli_json_bool(&j, "valid", rc == SG_OK);
        cli_json_array(&j, "errors");
        for (size_t i = 0; i < d.n; i++)
            cli_json_str(&j, NULL, d.msg[i]);
        cli_json_end(&j);
        cli_json_int(&j, "errors_not_shown", (long long)d.more);
        cli_json_end(&j);
    } else {
        for (size_t i = 0; i < d.n; i++)
            fprintf(stderr, "saslguard: %s\n", d.msg[i]);
        if (d.more)
            fprintf(stderr, "saslguard: ... and %zu more\n", d.more);
        if (rc == SG_OK)
            printf("%s: OK\n", c->config);
        else
            fprintf(stderr, "saslguard: %s: invalid (%zu error%s)\n", c->config,
                    d.n + d.more, d.n + d.more == 1 ? "" : "s");
    }
    for (size_t i = 0; i < d.n; i++)
        free(d.msg[i]);
    if (rc == SG_ENOMEM)
        return CLI_ERROR;
    return rc == SG_OK ? CLI_OK : CLI_USAGE;
}
