/* `drover logs`: see cli.h. The answer is printed line by line as it
 * streams in, flushed after every read, so `-f` shows a line as soon as
 * drover has it. */
#include "control/cli.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"

#define LOGS_CONNECT_MS 5000
#define LOGS_NAME_MAX 63
#define LOGS_LINE_MAX (1u << 20)

enum { LOGS_OK = 0, LOGS_FAIL = 1, LOGS_USAGE = 2 };

static void logs_usage(FILE *out)
{
    fprintf(out,
            "usage: drover logs [TYPE|INSTANCE ...] [-n N] [-f] [--json] [--admin ADDR] [-c FILE] [-d DIR]\n"
            "  the instances' recent output (log.keep lines each), merged in time order\n"
            "  TYPE|INSTANCE  only these (web, web.1); default: every instance\n"
            "  -n N           the last N lines (default: all kept)\n"
            "  -f, --follow   then print new lines as they come, until interrupted\n"
            "  --json         one JSON object a line: time, instance, stream, line\n");
}

static bool name_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > LOGS_NAME_MAX)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-' || *s == '.'))
            return false;
    return true;
}

/* "web.1": a type, a dot and an instance number. */
static bool is_instance(const char *s)
{
    const char *dot = strrchr(s, '.');

    return dot != NULL && dot > s && dot[1] != '\0' && strspn(dot + 1, "0123456789") == strlen(dot + 1);
}

int cli_logs_target(char **names, int nnames, long n, bool follow, struct sbuf *target, char *err,
                    size_t errlen)
{
    const char *sep[2] = {"", ""};

    sbuf_puts(target, "/logs");
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < nnames; i++) {
            if (!name_ok(names[i])) {
                snprintf(err, errlen, "\"%.60s\" is not a process type or instance (web, web.1)",
                         names[i]);
                return -1;
            }
            if (is_instance(names[i]) != (pass == 1))
                continue;
            if (sep[pass][0] == '\0') {
                sbuf_printf(target, "%s%s=", target->len > 5 ? "&" : "?",
                            pass ? "instance" : "process");
                sep[pass] = ",";
            } else {
                sbuf_puts(target, ",");
            }
            sbuf_puts(target, names[i]);
        }
    }
    if (n >= 0)
        sbuf_printf(target, "%sn=%ld", target->len > 5 ? "&" : "?", n);
    if (follow)
        sbuf_printf(target, "%sfollow=1", target->len > 5 ? "&" : "?");
    return 0;
}

/* "2026-12-01T19:30:46.123Z" as seconds since the epoch; -1 when it is
 * not that. */
static double parse_time(const char *s)
{
    struct tm tm;
    int ms = 0;
    char *end;

    memset(&tm, 0, sizeof(tm));
    end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (end == NULL)
        return -1;
    if (*end == '.')
        ms = atoi(end + 1);
    return (double)timegm(&tm) + ms / 1000.0;
}

int cli_logs_print(const char *line, size_t len, bool json, int *width, struct sbuf *out,
                   struct sbuf *err)
{
    json_t *doc = json_loadb(line, len, JSON_ALLOW_NUL, NULL);
    const json_t *e = json_object_get(doc, "error");
    const char *inst = json_string_value(json_object_get(doc, "instance"));
    const char *text = json_string_value(json_object_get(doc, "line"));
    const char *stream = json_string_value(json_object_get(doc, "stream"));
    const char *when = json_string_value(json_object_get(doc, "time"));
    char clock[16] = "--:--:--";
    double t;
    int rc = 0;

    if (json_is_string(e)) {
        sbuf_printf(err, "drover: logs: %s\n", json_string_value(e));
        rc = -1;
    } else if (inst == NULL || text == NULL) {
        sbuf_printf(err, "drover: logs: the admin API sent a line that is not a log line: %.80s\n",
                    line);
        rc = -1;
    } else if (json) {
        sbuf_put(out, line, len);
        sbuf_puts(out, "\n");
    } else {
        if ((int)strlen(inst) > *width)
            *width = (int)strlen(inst);
        if (when != NULL && (t = parse_time(when)) >= 0)
            log_clock_time(t, clock);
        clock[8] = '\0';
        sbuf_printf(out, "%s %-*s %c ", clock, *width, inst,
                    stream != NULL && strcmp(stream, "stderr") == 0 ? '!' : '|');
        /* The text as it was written (json_string_value stops at a NUL). */
        sbuf_put(out, text, json_string_length(json_object_get(doc, "line")));
        sbuf_puts(out, "\n");
    }
    json_decref(doc);
    return rc;
}

/* What a streaming answer is printed through. */
struct printer {
    bool json;
    int width;
    struct sbuf line;           /* a partial line, waiting for its newline */
    bool failed;
};

static int on_body(void *ctx, const char *data, size_t len)
{
    struct printer *p = ctx;
    struct sbuf out, err;

    sbuf_init(&out);
    sbuf_init(&err);
    while (len > 0) {
        const char *nl = memchr(data, '\n', len);
        size_t n = nl != NULL ? (size_t)(nl - data) : len;

        sbuf_put(&p->line, data, n);
        if (nl == NULL)
            break;
        if (p->line.len > 0 && cli_logs_print(p->line.data, p->line.len, p->json, &p->width, &out,
                                              &err) < 0)
            p->failed = true;
        p->line.len = 0;
        data += n + 1;
        len -= n + 1;
    }
    fwrite(out.data != NULL ? out.data : "", 1, out.len, stdout);
    fflush(stdout);
    fwrite(err.data != NULL ? err.data : "", 1, err.len, stderr);
    sbuf_free(&out);
    sbuf_free(&err);
    return p->line.len > LOGS_LINE_MAX || p->line.oom ? -1 : 0;
}

int cli_logs_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"admin", required_argument, NULL, 'a'}, {"json", no_argument, NULL, 'j'},
        {"follow", no_argument, NULL, 'f'},      {"config", required_argument, NULL, 'c'},
        {"dir", required_argument, NULL, 'd'},   {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *admin = NULL, *config = NULL, *dir = NULL;
    struct printer p = {.width = 6};
    struct client_answer ans;
    struct conf_addr addr;
    struct sbuf target, errout;
    char err[4096], *token = NULL, *end;
    bool follow = false;
    long n = -1;
    int ch, rc;

    optind = 0;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":n:fc:d:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'a': admin = optarg; break;
        case 'j': p.json = true; break;
        case 'f': follow = true; break;
        case 'c': config = optarg; break;
        case 'd': dir = optarg; break;
        case 'h':
            logs_usage(stdout);
            return LOGS_OK;
        case 'n':
            n = strtol(optarg, &end, 10);
            if (optarg[0] < '0' || optarg[0] > '9' || *end != '\0' || n > 10000000) {
                fprintf(stderr, "drover logs: -n %s: expected a number of lines\n", optarg);
                logs_usage(stderr);
                return LOGS_USAGE;
            }
            break;
        case ':':
            fprintf(stderr, "drover logs: option %s needs a value\n", argv[optind - 1]);
            logs_usage(stderr);
            return LOGS_USAGE;
        default:
            fprintf(stderr, "drover logs: unknown option %s\n", argv[optind - 1]);
            logs_usage(stderr);
            return LOGS_USAGE;
        }
    }
    sbuf_init(&target);
    if (cli_logs_target(argv + optind, argc - optind, n, follow, &target, err, sizeof(err)) < 0) {
        fprintf(stderr, "drover logs: %s\n", err);
        logs_usage(stderr);
        sbuf_free(&target);
        return LOGS_USAGE;
    }
    rc = cli_admin(admin, config, dir, &addr, &token, err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr, "drover: %s\n", err);
        sbuf_free(&target);
        return rc;
    }
    sbuf_init(&p.line);
    sbuf_init(&errout);
    rc = LOGS_FAIL;
    if (client_stream(&addr, target.data, token, LOGS_CONNECT_MS, on_body, &p, &ans, err,
                      sizeof(err)) < 0) {
        fprintf(stderr, "drover: %s\n", err);
    } else if (ans.status < 200 || ans.status > 299) {
        cli_refusal(&addr, &ans, token != NULL, &errout);
        fprintf(stderr, "drover: %s", errout.data != NULL ? errout.data : "\n");
    } else {
        if (p.line.len > 0)
            on_body(&p, "\n", 1); /* a last line without its newline */
        rc = p.failed ? LOGS_FAIL : LOGS_OK;
    }
    sbuf_free(&ans.body);
    sbuf_free(&errout);
    sbuf_free(&p.line);
    sbuf_free(&target);
    free(token);
    return rc;
}
