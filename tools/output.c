/*
 * output.c - how saslguard prints: a small JSON writer and text helpers.
 *
 * SYNOPSIS
 *	#include "cli.h"
 *
 * DESCRIPTION
 *	cli_json_*() write one compact JSON document to a stream, keeping
 *	track of commas per nesting level; the caller opens and closes
 *	objects and arrays in order. Strings may hold any bytes (account
 *	names come from the network): well-formed UTF-8 is copied, '"', '\'
 *	and the usual controls get their short escapes, and every other
 *	control byte, DEL, and each byte that is not part of a well-formed
 *	UTF-8 sequence (overlong forms, surrogates and code points above
 *	U+10FFFF included) is written as \u00XX, so the output is always
 *	valid JSON and valid UTF-8.
 *
 *	The text helpers format times (ISO-8601, UTC) and spans, and render
 *	account key parts for people.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "status.h"
#include "store_admin.h"

/* Length of the well-formed UTF-8 sequence at S (at most LEN bytes), or 0. */
static size_t utf8_len(const unsigned char *s, size_t len)
{
    unsigned char c = s[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xbf;   /* range of the second byte */

    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4;
    else
        return 0;
    if (c == 0xe0)
        lo = 0xa0;          /* no overlong 3-byte forms */
    else if (c == 0xed)
        hi = 0x9f;          /* no surrogates */
    else if (c == 0xf0)
        lo = 0x90;          /* no overlong 4-byte forms */
    else if (c == 0xf4)
        hi = 0x8f;          /* nothing above U+10FFFF */
    if (len < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return n;
}

void cli_json_string(FILE *f, const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;

    putc('"', f);
    while (i < len) {
        unsigned char c = s[i];
        size_t n;

        switch (c) {
        case '"': fputs("\\\"", f); i++; continue;
        case '\\': fputs("\\\\", f); i++; continue;
        case '\b': fputs("\\b", f); i++; continue;
        case '\f': fputs("\\f", f); i++; continue;
        case '\n': fputs("\\n", f); i++; continue;
        case '\r': fputs("\\r", f); i++; continue;
        case '\t': fputs("\\t", f); i++; continue;
        default: break;
        }
        if (c >= 0x20 && c < 0x7f) {
            putc(c, f);
            i++;
        } else if (c >= 0x80 && (n = utf8_len(s + i, len - i)) > 0) {
            fwrite(s + i, 1, n, f);
            i += n;
        } else {
            fprintf(f, "\\u%04x", c);
            i++;
        }
    }
    putc('"', f);
}

void cli_json_init(struct cli_json *j, FILE *f)
{
    memset(j, 0, sizeof *j);
    j->f = f;
}

/* Comma and key before a value at the current level. */
static void lead(struct cli_json *j, const char *key)
{
    if (j->depth > 0 && j->depth <= CLI_JSON_DEPTH) {
        if (j->comma[j->depth - 1])
            putc(',', j->f);
        j->comma[j->depth - 1] = 1;
    }
    if (key) {
        cli_json_string(j->f, key, strlen(key));
        putc(':', j->f);
    }
}

static void open_level(struct cli_json *j, const char *key, int array)
{
    lead(j, key);
    putc(array ? '[' : '{', j->f);
    if (j->depth < CLI_JSON_DEPTH) {
        j->comma[j->depth] = 0;
        j->array[j->depth] = (unsigned char)array;
    }
    j->depth++;
}

void cli_json_object(struct cli_json *j, const char *key)
{
    open_level(j, key, 0);
}

void cli_json_array(struct cli_json *j, const char *key)
{
    open_level(j, key, 1);
}

void cli_json_end(struct cli_json *j)
{
    if (j->depth <= 0)
        return;
    j->depth--;
    putc(j->depth < CLI_JSON_DEPTH && j->array[j->depth] ? ']' : '}', j->f);
    if (j->depth == 0)
        putc('\n', j->f);
}

void cli_json_str(struct cli_json *j, const char *key, const char *s)
{
    if (!s) {
        cli_json_null(j, key);
        return;
    }
    cli_json_strn(j, key, s, strlen(s));
}

void cli_json_strn(struct cli_json *j, const char *key, const char *s, size_t len)
{
    lead(j, key);
    cli_json_string(j->f, s, len);
}

void cli_json_int(struct cli_json *j, const char *key, long long v)
{
    lead(j, key);
    fprintf(j->f, "%lld", v);
}

void cli_json_bool(struct cli_json *j, const char *key, int v)
{
    lead(j, key);
    fputs(v ? "true" : "false", j->f);
}

void cli_json_null(struct cli_json *j, const char *key)
{
    lead(j, key);
    fputs("null", j->f);
}

void cli_json_time(struct cli_json *j, const char *key, int64_t ms)
{
    char buf[40];

    if (ms <= 0) {
        cli_json_null(j, key);
        return;
    }
    cli_iso_time(ms, buf, sizeof buf);
    cli_json_str(j, key, buf);
}

void cli_iso_time(int64_t ms, char *buf, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(buf, len, "%lld", (long long)ms);
}

void cli_span(int64_t ms, char *buf, size_t len)
{
    static const struct { const char *unit; int64_t ms; } u[] = {
        { "d", 86400000 }, { "h", 3600000 }, { "m", 60000 }, { "s", 1000 },
    };
    int64_t s = ms < 0 ? 0 : (ms + 999) / 1000 * 1000;   /* whole seconds, up */

    for (size_t i = 0; i < 4; i++) {
        if (s >= u[i].ms || i == 3) {
            int64_t a = s / u[i].ms, rest = (s % u[i].ms) / (i < 3 ? u[i + 1].ms : 1);

            if (i < 3 && rest)
                snprintf(buf, len, "%lld%s %lld%s", (long long)a, u[i].unit,
                         (long long)rest, u[i + 1].unit);
            else
                snprintf(buf, len, "%lld%s", (long long)a, u[i].unit);
            return;
        }
    }
}

long cli_account_name(const char *part, char *name, size_t len)
{
    size_t used;

    if (len)
        name[0] = '\0';
    if (sg_admin_is_hashed_part(part))
        return 0;
    if (sg_account_key_decode(part, name, len, &used) != SG_OK)
        return -1;
    return (long)used;
}

void cli_account_text(const char *part, char *buf, size_t len)
{
    char name[SG_ACCOUNT_MAX + 1];
    long n = cli_account_name(part, name, sizeof name);

    if (n > 0)
        sg_account_printable(name, (size_t)n, buf, len);
    else if (n == 0)
        snprintf(buf, len, "(long name) %s", part);
    else
        snprintf(buf, len, "(invalid key part)");
}

void cli_json_account(struct cli_json *j, const char *part)
{
    char name[SG_ACCOUNT_MAX + 1];
    long n = cli_account_name(part, name, sizeof name);

    if (n > 0)
        cli_json_strn(j, "account", name, (size_t)n);
    else
        cli_json_null(j, "account");
    cli_json_str(j, "key", part);
}
