/* The control commands: argv, where the admin API is and with which
 * token, the request for each command, and what is printed (see cli.h).
 * Everything a command prints is built in buffers first (cli_run), so unit
 * tests see exactly what a user would. */
#include "control/cli.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf/config.h"
#include "control/client.h"
#include "control/table.h"
#include "router/http.h"

#define CLI_DEFAULT_ADMIN "127.0.0.1:8081"
#define CLI_TIMEOUT_MS 5000         /* connect, send and the whole answer */
#define CLI_TYPE_MAX 63
#define CLI_WATCH_S 1               /* status --watch: seconds between frames */

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

struct cli_opts {
    const char *cmd;
    const char *admin;
    const char *config;
    const char *dir;
    bool json;
    bool watch;                     /* status --watch */
    bool help;
    char **args;
    int nargs;
};

static const struct cli_cmd {
    const char *name;
    int min_args, max_args;
} cli_cmds[] = {
    {"status", 0, 0},  {"scale", 1, INT_MAX}, {"restart", 1, 1},
    {"stop", 1, 1},    {"start", 1, 1},       {"reload", 0, 0},
};

static void cli_usage(struct sbuf *out)
{
    sbuf_puts(out,
              "usage: drover status [--json] [--watch]  processes, instances, routes and backends\n"
              "       drover scale TYPE=N [TYPE=N ...]  change the formation (also TYPE=N,TYPE=N)\n"
              "       drover restart TYPE               rolling restart of one process type\n"
              "       drover stop TYPE | start TYPE     disable / enable one process type\n"
              "       drover reload                     re-read the config (like SIGHUP)\n"
              "       drover logs [TYPE|INSTANCE ...] [-n N] [-f] [--json]   the instances' output\n"
              "options:\n"
              "  --admin ADDR   the admin API: host:port, [v6]:port or unix:/path\n"
              "                 (default: admin.listen of the config, else " CLI_DEFAULT_ADMIN ")\n"
              "  -c FILE        the config (default: DIR/drover.yaml)\n"
              "  -d DIR         the app directory (default: .)\n"
              "  --json         print the answer as JSON\n"
              "  --watch        status: the table again every second, in place, until Ctrl-C\n"
              "environment: DROVER_ADMIN_TOKEN, the bearer token (default: admin.token of the config)\n");
}

static const struct cli_cmd *cli_find_cmd(const char *name)
{
    for (size_t i = 0; i < sizeof(cli_cmds) / sizeof(cli_cmds[0]); i++)
        if (strcmp(cli_cmds[i].name, name) == 0)
            return &cli_cmds[i];
    return NULL;
}

static bool cli_type_ok(const char *s, size_t n)
{
    if (n == 0 || n > CLI_TYPE_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* argv[0] is the command. Options may come anywhere after it (argv is
 * permuted, as GNU getopt does). Returns CLI_OK or CLI_USAGE with err. */
static int cli_parse_args(int argc, char **argv, struct cli_opts *o, char *err, size_t errlen)
{
    static const struct option longopts[] = {
        {"admin", required_argument, NULL, 'a'},
        {"json", no_argument, NULL, 'j'},
        {"watch", no_argument, NULL, 'w'},
        {"config", required_argument, NULL, 'c'},
        {"dir", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const struct cli_cmd *cmd;
    int ch;

    memset(o, 0, sizeof(*o));
    o->cmd = argc > 0 ? argv[0] : "";
    o->dir = ".";
    optind = 0; /* a full re-initialisation (GNU): cli_main may run more than once */
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":c:d:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'a':
            o->admin = optarg;
            break;
        case 'j':
            o->json = true;
            break;
        case 'w':
            o->watch = true;
            break;
        case 'c':
            o->config = optarg;
            break;
        case 'd':
            o->dir = optarg;
            break;
        case 'h':
            o->help = true;
            break;
        case ':':
            snprintf(err, errlen, "option %s needs a value", argv[optind - 1]);
            return CLI_USAGE;
        default:
            if (optopt != 0)
                snprintf(err, errlen, "unknown option -%c", optopt);
            else
                snprintf(err, errlen, "unknown option %s", argv[optind - 1]);
            return CLI_USAGE;
        }
    }
    o->args = argv + optind;
    o->nargs = argc - optind;
    if (o->help)
        return CLI_OK;
    cmd = cli_find_cmd(o->cmd);
    if (cmd == NULL) {
        snprintf(err, errlen, "unknown command \"%s\"", o->cmd);
        return CLI_USAGE;
    }
    if (o->nargs < cmd->min_args) {
        snprintf(err, errlen, "%s", cmd->max_args == 1 ? "which process type?" : "TYPE=N expected");
        return CLI_USAGE;
    }
    if (o->watch && strcmp(o->cmd, "status") != 0) {
        snprintf(err, errlen, "--watch is for drover status");
        return CLI_USAGE;
    }
    if (o->nargs > cmd->max_args) {
        snprintf(err, errlen, "unexpected argument \"%s\"", o->args[cmd->max_args]);
        return CLI_USAGE;
    }
    if (cmd->max_args == 1 && !cli_type_ok(o->args[0], strlen(o->args[0]))) {
        snprintf(err, errlen, "\"%s\" is not a process type name (letters, digits, _ and -)",
                 o->args[0]);
        return CLI_USAGE;
    }
    return CLI_OK;
}

/* The POST /scale body for "web=4" "worker=1,clock=0" ...: {"web":4,...}
 * in the order given (malloc'd). CLI_OK, or CLI_USAGE with err. */
static int cli_scale_body(char **args, int nargs, char **out, char *err, size_t errlen)
{
    json_t *obj = json_object();
    int rc = CLI_USAGE;

    *out = NULL;
    if (obj == NULL) {
        snprintf(err, errlen, "out of memory");
        return CLI_FAIL;
    }
    for (int i = 0; i < nargs; i++) {
        const char *s = args[i];

        for (;;) {
            const char *end = strchr(s, ',');
            size_t len = end != NULL ? (size_t)(end - s) : strlen(s);
            const char *eq = memchr(s, '=', len);
            size_t tlen = eq != NULL ? (size_t)(eq - s) : 0, nlen = eq != NULL ? len - tlen - 1 : 0;
            char type[CLI_TYPE_MAX + 1];
            long n = 0;

            if (eq == NULL || !cli_type_ok(s, tlen) || nlen == 0 || nlen > 6 ||
                strspn(eq + 1, "0123456789") < nlen) {
                snprintf(err, errlen, "\"%.*s\" is not TYPE=N (like web=4)", (int)len, s);
                goto out;
            }
            memcpy(type, s, tlen);
            type[tlen] = '\0';
            if (json_object_get(obj, type) != NULL) {
                snprintf(err, errlen, "%s is given twice", type);
                goto out;
            }
            for (size_t k = 0; k < nlen; k++)
                n = n * 10 + (eq[1 + k] - '0');
            if (json_object_set_new(obj, type, json_integer(n)) < 0) {
                snprintf(err, errlen, "out of memory");
                rc = CLI_FAIL;
                goto out;
            }
            if (end == NULL)
                break;
            s = end + 1;
        }
    }
    *out = json_dumps(obj, JSON_COMPACT);
    rc = *out != NULL ? CLI_OK : CLI_FAIL;
    if (rc != CLI_OK)
        snprintf(err, errlen, "out of memory");
out:
    json_decref(obj);
    return rc;
}

/* ---- the address and the token ------------------------------------------ */

static bool token_sane(const char *t)
{
    for (; *t; t++)
        if ((unsigned char)*t < 0x20 || *t == 0x7f)
            return false;
    return true;
}

/* Where to connect and with which token (malloc'd, NULL for none). Returns
 * CLI_OK, or CLI_FAIL / CLI_USAGE with err. */
static int cli_resolve(const struct cli_opts *o, struct conf_addr *addr, char **token, char *err,
                       size_t errlen)
{
    const char *env = getenv("DROVER_ADMIN_TOKEN");
    const char *file = NULL;
    struct conf *conf = NULL;
    char path[4096], reason[256];

    *token = NULL;
    if (o->admin != NULL && conf_parse_addr(o->admin, addr, reason, sizeof(reason)) < 0) {
        snprintf(err, errlen, "--admin %s: %s", o->admin, reason);
        return CLI_USAGE;
    }
    if (env != NULL && *env != '\0' && (*token = strdup(env)) == NULL) {
        snprintf(err, errlen, "out of memory");
        return CLI_FAIL;
    }
    /* The config is read for the address, and for the token when the
     * environment has none. */
    if (o->admin == NULL || *token == NULL) {
        if (o->config != NULL) {
            file = o->config;
        } else {
            snprintf(path, sizeof(path), "%s/drover.yaml", o->dir);
            if (access(path, F_OK) == 0)
                file = path;
        }
        if (file != NULL && (conf = conf_load(file, err, errlen)) == NULL) {
            size_t n = strlen(err);

            while (n > 0 && err[n - 1] == '\n')
                err[--n] = '\0';
            goto fail;
        }
    }
    if (o->admin == NULL) {
        if (conf != NULL && !conf->admin.enabled) {
            snprintf(err, errlen, "admin API disabled in %.1024s (admin.listen: off); use --admin ADDR",
                     file);
            goto fail;
        }
        if (conf != NULL) {
            *addr = conf->admin.listen;
        } else if (conf_parse_addr(CLI_DEFAULT_ADMIN, addr, reason, sizeof(reason)) < 0) {
            snprintf(err, errlen, "%s: %s", CLI_DEFAULT_ADMIN, reason);
            goto fail;
        }
    }
    if (*token == NULL && conf != NULL && conf->admin.token != NULL && *conf->admin.token != '\0' &&
        (*token = strdup(conf->admin.token)) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    conf_free(conf);
    if (*token != NULL && !token_sane(*token)) {
        snprintf(err, errlen, "the admin token holds a control character");
        free(*token);
        *token = NULL;
        return CLI_FAIL;
    }
    return CLI_OK;
fail:
    conf_free(conf);
    free(*token);
    *token = NULL;
    return CLI_FAIL;
}

int cli_admin(const char *admin, const char *config, const char *dir, struct conf_addr *addr,
              char **token, char *err, size_t errlen)
{
    struct cli_opts o = {.admin = admin, .config = config, .dir = dir != NULL ? dir : "."};

    return cli_resolve(&o, addr, token, err, errlen);
}

/* ---- the request and its answer ------------------------------------------ */

void cli_refusal(const struct conf_addr *addr, const struct client_answer *ans, bool sent_token,
                 struct sbuf *errout)
{
    json_t *doc = NULL, *e = NULL;

    if (ans->status == 401) {
        sbuf_printf(errout, "the admin API at %s %s (set DROVER_ADMIN_TOKEN)\n", addr->text,
                    sent_token ? "refused the token" : "needs a token");
        return;
    }
    if (ans->body.len > 0)
        doc = json_loadb(ans->body.data, ans->body.len, JSON_DECODE_ANY, NULL);
    e = json_object_get(doc, "error");
    if (json_is_string(e)) {
        /* One line, whatever the server put in it. */
        for (const char *s = json_string_value(e); *s; s++)
            sbuf_put(errout, *s == '\n' || *s == '\r' ? " " : s, 1);
        sbuf_puts(errout, "\n");
    } else {
        sbuf_printf(errout, "the admin API at %s answered %d %s\n", addr->text, ans->status,
                    http_status_phrase(ans->status));
    }
    json_decref(doc);
}

/* Runs a parsed command: what it prints goes to out, a failure's one line
 * (without the "drover: " prefix) to errout. Returns the exit code. */
static int cli_exec(const struct cli_opts *o, struct sbuf *out, struct sbuf *errout)
{
    struct conf_addr addr;
    struct client_answer ans;
    struct sbuf path;
    json_error_t jerr;
    json_t *doc;
    const char *method = "POST";
    char *token = NULL, *body = NULL;
    char err[4096];
    int rc;

    sbuf_init(&path);
    sbuf_init(&ans.body);
    if (strcmp(o->cmd, "status") == 0) {
        method = "GET";
        sbuf_puts(&path, "/status");
    } else if (strcmp(o->cmd, "reload") == 0) {
        sbuf_puts(&path, "/reload");
    } else if (strcmp(o->cmd, "scale") == 0) {
        sbuf_puts(&path, "/scale");
        rc = cli_scale_body(o->args, o->nargs, &body, err, sizeof(err));
        if (rc != CLI_OK) {
            sbuf_printf(errout, "%s\n", err);
            goto out;
        }
    } else {
        sbuf_printf(&path, "/processes/%s/%s", o->args[0], o->cmd);
    }
    rc = cli_resolve(o, &addr, &token, err, sizeof(err));
    if (rc != CLI_OK) {
        sbuf_printf(errout, "%s\n", err);
        goto out;
    }
    rc = CLI_FAIL;
    if (client_request(&addr, method, path.data, token, body, body != NULL ? strlen(body) : 0,
                       CLI_TIMEOUT_MS, &ans, err, sizeof(err)) < 0) {
        sbuf_printf(errout, "%s\n", err);
        goto out;
    }
    if (ans.status < 200 || ans.status > 299) {
        cli_refusal(&addr, &ans, token != NULL, errout);
        goto out;
    }
    if (o->json) {
        sbuf_put(out, ans.body.data != NULL ? ans.body.data : "", ans.body.len);
        if (ans.body.len == 0 || ans.body.data[ans.body.len - 1] != '\n')
            sbuf_puts(out, "\n");
        rc = CLI_OK;
        goto out;
    }
    doc = json_loadb(ans.body.data != NULL ? ans.body.data : "", ans.body.len, JSON_DECODE_ANY,
                     &jerr);
    if (doc == NULL) {
        sbuf_printf(errout, "the admin API at %s sent invalid JSON: line %d column %d: %s\n",
                    addr.text, jerr.line, jerr.column, jerr.text);
        goto out;
    }
    if (strcmp(o->cmd, "status") == 0)
        table_status(doc, out);
    else
        table_answer(o->cmd, o->nargs > 0 ? o->args[0] : "", doc, out);
    json_decref(doc);
    rc = CLI_OK;
out:
    free(token);
    free(body);
    sbuf_free(&ans.body);
    sbuf_free(&path);
    return rc;
}

static volatile sig_atomic_t cli_interrupted;

static void cli_on_signal(int sig)
{
    (void)sig;
    cli_interrupted = 1;
}

static void cli_write(const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(STDOUT_FILENO, s, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

/* drover status --watch: the table again every CLI_WATCH_S, in place (the
 * screen cleared, the cursor home, like watch(1)), until SIGINT or
 * SIGTERM. Each frame is built whole, then written to stdout in one go,
 * so it never flickers half-drawn; a failure is shown in the frame and
 * the next one tries again. */
static int cli_watch(const struct cli_opts *o)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = cli_on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    cli_interrupted = 0;
    while (!cli_interrupted) {
        struct sbuf frame, body, errout;
        struct timespec ts = {CLI_WATCH_S, 0};
        char stamp[16];
        time_t now = time(NULL);
        struct tm tm;

        sbuf_init(&frame);
        sbuf_init(&body);
        sbuf_init(&errout);
        cli_exec(o, &body, &errout);
        localtime_r(&now, &tm);
        strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
        sbuf_printf(&frame, "\033[H\033[2JEvery %ds: drover status%*s\n\n", CLI_WATCH_S, 40, stamp);
        sbuf_put(&frame, body.data != NULL ? body.data : "", body.len);
        if (errout.len > 0)
            sbuf_printf(&frame, "drover: %s", errout.data);
        if (!frame.oom)
            cli_write(frame.data, frame.len);
        sbuf_free(&frame);
        sbuf_free(&body);
        sbuf_free(&errout);
        while (!cli_interrupted && nanosleep(&ts, &ts) < 0 && errno == EINTR)
            ;
    }
    cli_write("\n", 1);
    return CLI_OK;
}

int cli_run(int argc, char **argv, struct sbuf *out, struct sbuf *err)
{
    struct cli_opts o;
    struct sbuf errout;
    char why[512];
    int rc;

    if (cli_parse_args(argc, argv, &o, why, sizeof(why)) != CLI_OK) {
        sbuf_printf(err, "drover %s: %s\n", o.cmd, why);
        cli_usage(err);
        return CLI_USAGE;
    }
    if (o.help) {
        cli_usage(out);
        return CLI_OK;
    }
    if (o.watch)
        return cli_watch(&o);
    sbuf_init(&errout);
    rc = cli_exec(&o, out, &errout);
    if (errout.len > 0 && rc == CLI_USAGE) {
        sbuf_printf(err, "drover %s: %s", o.cmd, errout.data);
        cli_usage(err);
    } else if (errout.len > 0) {
        sbuf_printf(err, "drover: %s", errout.data);
    }
    sbuf_free(&errout);
    return rc;
}

int cli_main(int argc, char **argv)
{
    struct sbuf out, err;
    int rc;

    sbuf_init(&out);
    sbuf_init(&err);
    rc = cli_run(argc, argv, &out, &err);
    if (out.len > 0)
        fwrite(out.data, 1, out.len, stdout);
    fflush(stdout);
    if (err.len > 0)
        fwrite(err.data, 1, err.len, stderr);
    sbuf_free(&out);
    sbuf_free(&err);
    return rc;
}
