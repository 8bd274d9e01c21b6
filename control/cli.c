/* The control commands: a blocking HTTP/1.1 client of the admin API and
 * the rendering of its answers. Everything a command prints is built in a
 * buffer first (cli_exec), so unit tests see exactly what a user would.
 *
 * The /status document this renders (README "Admin API"); members the
 * table does not show are ignored, missing ones print "-":
 *
 *   {"drover":  {"pid":1, "uptime_s":12.5, "draining":false, ...},
 *    "router":  {"connections":3, ...},
 *    "processes": [{"type":"web", "stopped":false, "instances": [
 *        {"name":"web.1", "pid":2, "port":5000, "state":"ready", "restarts":0,
 *         "uptime_s":12.1, "rss_bytes":1234567, "inflight":0, "requests":42}]}],
 *    "backends": [{"address":"10.0.0.5:80", "route":"/api/", "state":"up",
 *        "inflight":0, "requests":10, "failures":0}]}
 *
 * A few spellings are accepted for the same thing ("uptime"/"uptime_s",
 * "rss"/"rss_bytes", "in_flight"/"inflight", "name"/"instance", ...); an
 * instance without its own counters takes them from the backends entry of
 * the same name; backends entries that belong to a process ("process" set)
 * are shown in the instance rows, not again as static backends. The
 * BACKEND column of a static backend is its "route" (or "routes", joined
 * with commas), else its "name". */
#include "control/cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "conf/config.h"
#include "lib/json.h"
#include "llhttp.h"
#include "router/http.h"

#define CLI_DEFAULT_ADMIN "127.0.0.1:8081"
#define CLI_MAX_ANSWER (16u << 20)
#define CLI_CELL 64
#define CLI_TYPE_MAX 63

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

/* How long one command may wait for the admin API (connect, send and the
 * whole answer). A variable so unit tests can shorten it. */
static int cli_timeout_ms = 5000;

struct cli_opts {
    const char *cmd;
    const char *admin;
    const char *config;
    const char *dir;
    bool json;
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

static void cli_usage(FILE *out)
{
    fputs("usage: drover status [--json]            processes, instances and backends\n"
          "       drover scale TYPE=N [TYPE=N ...]  change the formation (also TYPE=N,TYPE=N)\n"
          "       drover restart TYPE               rolling restart of one process type\n"
          "       drover stop TYPE | start TYPE     disable / enable one process type\n"
          "       drover reload                     re-read the config (like SIGHUP)\n"
          "options:\n"
          "  --admin ADDR   the admin API: host:port, [v6]:port or unix:/path\n"
          "                 (default: admin.listen of the config, else " CLI_DEFAULT_ADMIN ")\n"
          "  -c FILE        the config (default: DIR/drover.yaml)\n"
          "  -d DIR         the app directory (default: .)\n"
          "  --json         print the answer as JSON\n"
          "environment: DROVER_ADMIN_TOKEN, the bearer token (default: admin.token of the config)\n",
          out);
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

/* The POST /scale body for "web=4" "worker=1,clock=0" ...: {"web":4,...}.
 * CLI_OK, or CLI_USAGE with err. */
static int cli_scale_body(char **args, int nargs, struct sbuf *out, char *err, size_t errlen)
{
    const char *seen[256];
    size_t seenlen[256], nseen = 0;
    struct jsonw w;

    jsonw_init(&w, out);
    jsonw_object_begin(&w);
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
                return CLI_USAGE;
            }
            for (size_t k = 0; k < nseen; k++) {
                if (seenlen[k] == tlen && memcmp(seen[k], s, tlen) == 0) {
                    snprintf(err, errlen, "%.*s is given twice", (int)tlen, s);
                    return CLI_USAGE;
                }
            }
            if (nseen == sizeof(seen) / sizeof(seen[0])) {
                snprintf(err, errlen, "too many process types");
                return CLI_USAGE;
            }
            seen[nseen] = s;
            seenlen[nseen++] = tlen;
            for (size_t k = 0; k < nlen; k++)
                n = n * 10 + (eq[1 + k] - '0');
            memcpy(type, s, tlen);
            type[tlen] = '\0';
            jsonw_key(&w, type);
            jsonw_int(&w, n);
            if (end == NULL)
                break;
            s = end + 1;
        }
    }
    jsonw_object_end(&w);
    return CLI_OK;
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

/* ---- the HTTP client ---------------------------------------------------- */

struct cli_answer {
    int status;
    struct sbuf body;
    bool complete;
    bool too_large;
};

static int cli_on_body(llhttp_t *p, const char *at, size_t len)
{
    struct cli_answer *a = p->data;

    if (a->body.len + len > CLI_MAX_ANSWER) {
        a->too_large = true;
        return -1;
    }
    sbuf_put(&a->body, at, len);
    return a->body.oom ? -1 : 0;
}

static int cli_on_message_complete(llhttp_t *p)
{
    struct cli_answer *a = p->data;

    if (llhttp_get_status_code(p) < 200)
        return 0; /* an interim answer: the real one follows */
    a->complete = true;
    a->status = llhttp_get_status_code(p);
    return HPE_PAUSED;
}

static const llhttp_settings_t cli_http_settings = {
    .on_body = cli_on_body,
    .on_message_complete = cli_on_message_complete,
};

static long long cli_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_timeout(int fd, int opt, long long ms)
{
    struct timeval tv;

    if (ms < 1)
        ms = 1;
    tv.tv_sec = (time_t)(ms / 1000);
    tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
    setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv));
}

static void timeout_text(char *buf, size_t len)
{
    if (cli_timeout_ms % 1000 == 0)
        snprintf(buf, len, "%ds", cli_timeout_ms / 1000);
    else
        snprintf(buf, len, "%dms", cli_timeout_ms);
}

/* One request on a new connection (Connection: close), the whole answer
 * read into ans (ans->body initialised by the caller). Returns 0, or -1
 * with err: not reachable, timed out, closed early, not HTTP. */
static int cli_request(const struct conf_addr *addr, const char *method, const char *path,
                       const char *token, const char *body, size_t bodylen,
                       struct cli_answer *ans, char *err, size_t errlen)
{
    long long deadline = cli_now_ms() + cli_timeout_ms;
    struct sbuf req;
    llhttp_t parser;
    size_t off = 0;
    char tmo[16];
    int fd = -1, rc = -1;

    timeout_text(tmo, sizeof(tmo));
    sbuf_init(&req);
    sbuf_printf(&req, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: drover-cli\r\n"
                      "Accept: application/json\r\nConnection: close\r\n",
                method, path, addr->ss.ss_family == AF_UNIX ? "localhost" : addr->text);
    if (token != NULL)
        sbuf_printf(&req, "Authorization: Bearer %s\r\n", token);
    if (body != NULL)
        sbuf_puts(&req, "Content-Type: application/json\r\n");
    if (body != NULL || strcmp(method, "POST") == 0)
        sbuf_printf(&req, "Content-Length: %zu\r\n", bodylen);
    sbuf_puts(&req, "\r\n");
    if (body != NULL)
        sbuf_put(&req, body, bodylen);
    if (req.oom) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }

    fd = socket(addr->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "cannot reach the admin API at %s: %s (is drover running?)",
                 addr->text, strerror(errno));
        goto out;
    }
    set_timeout(fd, SO_SNDTIMEO, cli_timeout_ms);
    set_timeout(fd, SO_RCVTIMEO, cli_timeout_ms);
    while (connect(fd, (const struct sockaddr *)&addr->ss, addr->len) < 0) {
        int e = errno;

        if (e == EINTR)
            continue;
        /* SO_SNDTIMEO also bounds connect: it ends with EINPROGRESS. */
        if (e == EINPROGRESS || e == EAGAIN)
            e = ETIMEDOUT;
        snprintf(err, errlen, "cannot reach the admin API at %s: %s (is drover running?)",
                 addr->text, strerror(e));
        goto out;
    }
    while (off < req.len) {
        ssize_t n = send(fd, req.data + off, req.len - off, MSG_NOSIGNAL);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                snprintf(err, errlen, "the admin API at %s did not answer within %s", addr->text,
                         tmo);
            else
                snprintf(err, errlen, "the admin API at %s closed the connection: %s",
                         addr->text, strerror(errno));
            goto out;
        }
        off += (size_t)n;
    }

    llhttp_init(&parser, HTTP_RESPONSE, &cli_http_settings);
    parser.data = ans;
    ans->complete = false;
    ans->too_large = false;
    ans->status = 0;
    for (;;) {
        char buf[16384];
        long long left = deadline - cli_now_ms();
        llhttp_errno_t e;
        ssize_t n;

        if (left <= 0) {
            snprintf(err, errlen, "the admin API at %s did not answer within %s", addr->text, tmo);
            goto out;
        }
        set_timeout(fd, SO_RCVTIMEO, left);
        n = recv(fd, buf, sizeof(buf), 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                snprintf(err, errlen, "the admin API at %s did not answer within %s", addr->text,
                         tmo);
            else
                snprintf(err, errlen, "the admin API at %s closed the connection: %s",
                         addr->text, strerror(errno));
            goto out;
        }
        e = n == 0 ? llhttp_finish(&parser) : llhttp_execute(&parser, buf, (size_t)n);
        if (ans->complete) {
            rc = 0;
            goto out;
        }
        if (e != HPE_OK) {
            if (ans->too_large)
                snprintf(err, errlen, "the admin API at %s sent an answer over %u MiB",
                         addr->text, CLI_MAX_ANSWER >> 20);
            else
                snprintf(err, errlen, "the admin API at %s sent an invalid answer (%s)",
                         addr->text, llhttp_get_error_reason(&parser));
            goto out;
        }
        if (n == 0) {
            snprintf(err, errlen, "the admin API at %s closed the connection before answering",
                     addr->text);
            goto out;
        }
    }
out:
    if (fd >= 0)
        close(fd);
    sbuf_free(&req);
    return rc;
}

/* ---- rendering ---------------------------------------------------------- */

/* The first of names that obj has (and is not null), or NULL. */
static const struct json_value *jfield(const struct json_value *obj, const char *const *names)
{
    for (; *names != NULL; names++) {
        const struct json_value *v = json_get(obj, *names);

        if (v != NULL && v->type != JSON_NULL)
            return v;
    }
    return NULL;
}

#define FIELD(obj, ...) jfield((obj), (const char *const[]){__VA_ARGS__, NULL})

/* "45s", "3m12s", "2h05m", "3d4h". */
static void cli_fmt_duration(double seconds, char *buf, size_t len)
{
    long long s = seconds > 0 ? (long long)seconds : 0;

    if (s < 60)
        snprintf(buf, len, "%llds", s);
    else if (s < 3600)
        snprintf(buf, len, "%lldm%02llds", s / 60, s % 60);
    else if (s < 86400)
        snprintf(buf, len, "%lldh%02lldm", s / 3600, s % 3600 / 60);
    else
        snprintf(buf, len, "%lldd%lldh", s / 86400, s % 86400 / 3600);
}

/* "512B", "980.5K", "12.3M", "1.5G" (1024-based). */
static void cli_fmt_bytes(double b, char *buf, size_t len)
{
    if (b < 1024)
        snprintf(buf, len, "%.0fB", b < 0 ? 0 : b);
    else if (b < 1024.0 * 1024)
        snprintf(buf, len, "%.1fK", b / 1024);
    else if (b < 1024.0 * 1024 * 1024)
        snprintf(buf, len, "%.1fM", b / (1024.0 * 1024));
    else
        snprintf(buf, len, "%.1fG", b / (1024.0 * 1024 * 1024));
}

static void cell_str(char *cell, const struct json_value *v)
{
    if (v == NULL)
        snprintf(cell, CLI_CELL, "-");
    else if (v->type == JSON_STRING)
        snprintf(cell, CLI_CELL, "%s", *v->string ? v->string : "-");
    else if (v->type == JSON_NUMBER && v->integer)
        snprintf(cell, CLI_CELL, "%lld", v->intval);
    else if (v->type == JSON_NUMBER)
        snprintf(cell, CLI_CELL, "%g", v->number);
    else if (v->type == JSON_BOOL)
        snprintf(cell, CLI_CELL, "%s", v->boolean ? "yes" : "no");
    else
        snprintf(cell, CLI_CELL, "-");
}

/* A count; zero_is_none: 0 means "not there" (a pid, a port). */
static void cell_count(char *cell, const struct json_value *v, bool zero_is_none)
{
    if (v == NULL || v->type != JSON_NUMBER || (zero_is_none && v->number == 0))
        snprintf(cell, CLI_CELL, "-");
    else
        snprintf(cell, CLI_CELL, "%.0f", v->number);
}

static void cell_duration(char *cell, const struct json_value *v)
{
    if (v == NULL || v->type != JSON_NUMBER)
        snprintf(cell, CLI_CELL, "-");
    else
        cli_fmt_duration(v->number, cell, CLI_CELL);
}

static void cell_bytes(char *cell, const struct json_value *v)
{
    if (v == NULL || v->type != JSON_NUMBER || v->number <= 0)
        snprintf(cell, CLI_CELL, "-");
    else
        cli_fmt_bytes(v->number, cell, CLI_CELL);
}

/* Rows of cells printed in columns two spaces apart, left-aligned. */
struct cli_table {
    int ncols;
    size_t nrows, cap;
    char (*cells)[CLI_CELL];
};

static void table_init(struct cli_table *t, int ncols)
{
    memset(t, 0, sizeof(*t));
    t->ncols = ncols;
}

static void table_add(struct cli_table *t, char (*row)[CLI_CELL])
{
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        char (*cells)[CLI_CELL] = realloc(t->cells, cap * (size_t)t->ncols * CLI_CELL);

        if (cells == NULL)
            return;
        t->cells = cells;
        t->cap = cap;
    }
    memcpy(t->cells[t->nrows * (size_t)t->ncols], row, (size_t)t->ncols * CLI_CELL);
    t->nrows++;
}

static void table_print(const struct cli_table *t, struct sbuf *out)
{
    size_t width[16] = {0};

    for (size_t r = 0; r < t->nrows; r++)
        for (int c = 0; c < t->ncols && c < 16; c++) {
            size_t n = strlen(t->cells[r * (size_t)t->ncols + (size_t)c]);

            if (n > width[c])
                width[c] = n;
        }
    for (size_t r = 0; r < t->nrows; r++) {
        for (int c = 0; c < t->ncols && c < 16; c++) {
            const char *cell = t->cells[r * (size_t)t->ncols + (size_t)c];

            if (c == t->ncols - 1)
                sbuf_printf(out, "%s\n", cell);
            else
                sbuf_printf(out, "%-*s  ", (int)width[c], cell);
        }
    }
}

static void table_free(struct cli_table *t)
{
    free(t->cells);
    t->cells = NULL;
}

static bool is_instance_backend(const struct json_value *b)
{
    const struct json_value *p = FIELD(b, "process");

    return p != NULL && p->type == JSON_STRING && *p->string != '\0';
}

/* The backends entry named name, for an instance without counters. */
static const struct json_value *backend_named(const struct json_value *backends, const char *name)
{
    for (size_t i = 0; backends != NULL && backends->type == JSON_ARRAY && i < backends->nchildren;
         i++) {
        const struct json_value *n = FIELD(&backends->children[i], "name", "instance");

        if (n != NULL && n->type == JSON_STRING && strcmp(n->string, name) == 0)
            return &backends->children[i];
    }
    return NULL;
}

enum { COL_TYPE, COL_INSTANCE, COL_PID, COL_PORT, COL_STATE, COL_RESTARTS, COL_UPTIME, COL_RSS,
       COL_INFLIGHT, COL_REQUESTS, NCOLS_INSTANCE };

static void instance_row(struct cli_table *t, const struct json_value *type,
                         const struct json_value *inst, const struct json_value *backends)
{
    char row[NCOLS_INSTANCE][CLI_CELL];
    const struct json_value *name = FIELD(inst, "name", "instance");
    const struct json_value *inflight = FIELD(inst, "inflight", "in_flight", "active");
    const struct json_value *requests = FIELD(inst, "requests");

    if (type == NULL)
        type = FIELD(inst, "type", "process");
    if ((inflight == NULL || requests == NULL) && name != NULL && name->type == JSON_STRING) {
        const struct json_value *be = backend_named(backends, name->string);

        if (inflight == NULL)
            inflight = FIELD(be, "inflight", "in_flight", "active");
        if (requests == NULL)
            requests = FIELD(be, "requests");
    }
    cell_str(row[COL_TYPE], type);
    cell_str(row[COL_INSTANCE], name);
    cell_count(row[COL_PID], FIELD(inst, "pid"), true);
    cell_count(row[COL_PORT], FIELD(inst, "port"), true);
    cell_str(row[COL_STATE], FIELD(inst, "state", "status"));
    cell_count(row[COL_RESTARTS], FIELD(inst, "restarts"), false);
    cell_duration(row[COL_UPTIME], FIELD(inst, "uptime_s", "uptime"));
    cell_bytes(row[COL_RSS], FIELD(inst, "rss_bytes", "rss"));
    cell_count(row[COL_INFLIGHT], inflight, false);
    cell_count(row[COL_REQUESTS], requests, false);
    table_add(t, row);
}

/* A type with no instance (stopped, or scaled to 0) still gets a row. */
static void empty_type_row(struct cli_table *t, const struct json_value *p)
{
    char row[NCOLS_INSTANCE][CLI_CELL];
    const struct json_value *stopped = FIELD(p, "stopped");

    for (int c = 0; c < NCOLS_INSTANCE; c++)
        snprintf(row[c], CLI_CELL, "-");
    cell_str(row[COL_TYPE], FIELD(p, "type", "name"));
    snprintf(row[COL_STATE], CLI_CELL, "%s",
             stopped != NULL && stopped->type == JSON_BOOL && stopped->boolean ? "stopped" : "none");
    table_add(t, row);
}

enum { BCOL_BACKEND, BCOL_ADDRESS, BCOL_STATE, BCOL_INFLIGHT, BCOL_REQUESTS, BCOL_FAILURES,
       NCOLS_BACKEND };

static void backend_row(struct cli_table *t, const struct json_value *b)
{
    char row[NCOLS_BACKEND][CLI_CELL];
    const struct json_value *route = FIELD(b, "route", "routes");
    const struct json_value *state = FIELD(b, "state", "health");
    const struct json_value *up = FIELD(b, "up", "healthy");

    if (route != NULL && route->type == JSON_ARRAY) {
        size_t n = 0;

        row[BCOL_BACKEND][0] = '\0';
        for (size_t i = 0; i < route->nchildren && n < CLI_CELL; i++)
            if (route->children[i].type == JSON_STRING)
                n += (size_t)snprintf(row[BCOL_BACKEND] + n, CLI_CELL - n, "%s%s", n ? "," : "",
                                      route->children[i].string);
        if (n == 0)
            snprintf(row[BCOL_BACKEND], CLI_CELL, "-");
    } else {
        cell_str(row[BCOL_BACKEND], route != NULL ? route : FIELD(b, "name"));
    }
    cell_str(row[BCOL_ADDRESS], FIELD(b, "address", "addr", "name"));
    if (state != NULL && state->type == JSON_STRING)
        cell_str(row[BCOL_STATE], state);
    else if (up != NULL && up->type == JSON_BOOL)
        snprintf(row[BCOL_STATE], CLI_CELL, "%s", up->boolean ? "up" : "down");
    else
        snprintf(row[BCOL_STATE], CLI_CELL, "-");
    cell_count(row[BCOL_INFLIGHT], FIELD(b, "inflight", "in_flight", "active"), false);
    cell_count(row[BCOL_REQUESTS], FIELD(b, "requests"), false);
    cell_count(row[BCOL_FAILURES], FIELD(b, "failures", "errors"), false);
    table_add(t, row);
}

static bool draining(const struct json_value *d, const struct json_value *r)
{
    const struct json_value *v = FIELD(d, "draining");
    const struct json_value *state = FIELD(d, "state");

    if (v == NULL)
        v = FIELD(r, "draining");
    if (v != NULL && v->type == JSON_BOOL)
        return v->boolean;
    return state != NULL && state->type == JSON_STRING && strcmp(state->string, "draining") == 0;
}

/* The /status document as `drover status` prints it: the instance table,
 * the static backends (if any), then a summary line. */
static void cli_render_status(const struct json_value *root, struct sbuf *out)
{
    static const char *const ihead[NCOLS_INSTANCE] = {"TYPE", "INSTANCE", "PID", "PORT", "STATE",
                                                      "RESTARTS", "UPTIME", "RSS", "IN-FLIGHT",
                                                      "REQUESTS"};
    static const char *const bhead[NCOLS_BACKEND] = {"BACKEND", "ADDRESS", "STATE",
                                                     "IN-FLIGHT", "REQUESTS", "FAILURES"};
    const struct json_value *procs = FIELD(root, "processes");
    const struct json_value *backends = FIELD(root, "backends");
    const struct json_value *d = FIELD(root, "drover"), *r = FIELD(root, "router");
    const struct json_value *v;
    struct cli_table t;
    char row[NCOLS_INSTANCE][CLI_CELL], cell[CLI_CELL];
    size_t nstatic = 0;

    table_init(&t, NCOLS_INSTANCE);
    for (int c = 0; c < NCOLS_INSTANCE; c++)
        snprintf(row[c], CLI_CELL, "%s", ihead[c]);
    table_add(&t, row);
    for (size_t i = 0; procs != NULL && procs->type == JSON_ARRAY && i < procs->nchildren; i++) {
        const struct json_value *p = &procs->children[i];
        const struct json_value *insts = FIELD(p, "instances");

        if (insts == NULL || insts->type != JSON_ARRAY) {
            instance_row(&t, NULL, p, backends); /* a flat list of instances */
        } else if (insts->nchildren == 0) {
            empty_type_row(&t, p);
        } else {
            for (size_t k = 0; k < insts->nchildren; k++)
                instance_row(&t, FIELD(p, "type", "name"), &insts->children[k], backends);
        }
    }
    if (t.nrows > 1)
        table_print(&t, out);
    else
        sbuf_puts(out, "no processes\n");
    table_free(&t);

    for (size_t i = 0; backends != NULL && backends->type == JSON_ARRAY && i < backends->nchildren;
         i++)
        if (!is_instance_backend(&backends->children[i]))
            nstatic++;
    if (nstatic > 0) {
        table_init(&t, NCOLS_BACKEND);
        for (int c = 0; c < NCOLS_BACKEND; c++)
            snprintf(row[c], CLI_CELL, "%s", bhead[c]);
        table_add(&t, row);
        for (size_t i = 0; i < backends->nchildren; i++)
            if (!is_instance_backend(&backends->children[i]))
                backend_row(&t, &backends->children[i]);
        sbuf_puts(out, "\n");
        table_print(&t, out);
        table_free(&t);
    }

    sbuf_puts(out, "\ndrover");
    if ((v = FIELD(d, "pid")) != NULL && v->type == JSON_NUMBER)
        sbuf_printf(out, " pid %.0f", v->number);
    if ((v = FIELD(d, "uptime_s", "uptime")) != NULL && v->type == JSON_NUMBER) {
        cli_fmt_duration(v->number, cell, sizeof(cell));
        sbuf_printf(out, ", up %s", cell);
    }
    v = FIELD(r, "connections", "active_connections");
    if (v == NULL)
        v = FIELD(d, "connections");
    if (v != NULL && v->type == JSON_NUMBER)
        sbuf_printf(out, ", %.0f connection%s", v->number, v->number == 1 ? "" : "s");
    sbuf_printf(out, ", %s\n", draining(d, r) ? "draining" : "serving");
}

/* What scale, restart/stop/start and reload print on success. */
static void cli_render_answer(const char *cmd, const char *type, const struct json_value *root,
                              struct sbuf *out)
{
    if (strcmp(cmd, "scale") == 0) {
        const struct json_value *f = FIELD(root, "formation");

        if (f == NULL || f->type != JSON_OBJECT) {
            sbuf_puts(out, "scaled\n");
            return;
        }
        for (size_t i = 0; i < f->nchildren; i++) {
            char cell[CLI_CELL];

            cell_str(cell, &f->children[i]);
            sbuf_printf(out, "%s%s=%s", i ? " " : "", f->children[i].key, cell);
        }
        sbuf_puts(out, "\n");
    } else if (strcmp(cmd, "reload") == 0) {
        const struct json_value *ch = FIELD(root, "changes");
        size_t n = 0;

        for (size_t i = 0; ch != NULL && ch->type == JSON_ARRAY && i < ch->nchildren; i++) {
            if (ch->children[i].type == JSON_STRING) {
                sbuf_printf(out, "%s\n", ch->children[i].string);
                n++;
            }
        }
        if (n == 0)
            sbuf_puts(out, "no changes\n");
    } else if (strcmp(cmd, "restart") == 0) {
        sbuf_printf(out, "restarting %s (rolling, in the background)\n", type);
    } else if (strcmp(cmd, "stop") == 0) {
        sbuf_printf(out, "stopping %s (in the background)\n", type);
    } else if (strcmp(cmd, "start") == 0) {
        sbuf_printf(out, "starting %s (in the background)\n", type);
    }
}

/* The one-line reason for a refusal: the answer's "error", else its status. */
static void cli_refusal(const struct conf_addr *addr, const struct cli_answer *ans,
                        bool sent_token, struct sbuf *errout)
{
    struct json_doc doc;
    char jerr[128];
    const struct json_value *e = NULL;

    if (ans->status == 401) {
        if (sent_token)
            sbuf_printf(errout, "the admin API at %s refused the token (set DROVER_ADMIN_TOKEN)\n",
                        addr->text);
        else
            sbuf_printf(errout, "the admin API at %s needs a token (set DROVER_ADMIN_TOKEN)\n",
                        addr->text);
        return;
    }
    if (ans->body.len > 0 && json_parse(ans->body.data, ans->body.len, &doc, jerr, sizeof(jerr)) == 0) {
        e = FIELD(doc.root, "error");
        if (e != NULL && e->type == JSON_STRING) {
            /* One line, whatever the server put in it. */
            for (const char *s = e->string; *s; s++)
                sbuf_put(errout, *s == '\n' || *s == '\r' ? " " : s, 1);
            sbuf_puts(errout, "\n");
        } else {
            e = NULL;
        }
        json_free(&doc);
    }
    if (e == NULL)
        sbuf_printf(errout, "the admin API at %s answered %d %s\n", addr->text, ans->status,
                    http_status_phrase(ans->status));
}

/* Runs a parsed command: what it prints goes to out, a failure's one line
 * (without the "drover: " prefix) to errout. Returns the exit code. */
static int cli_exec(const struct cli_opts *o, struct sbuf *out, struct sbuf *errout)
{
    struct conf_addr addr;
    struct cli_answer ans;
    struct sbuf body, path;
    struct json_doc doc;
    const char *method = "POST";
    char *token = NULL;
    char err[4096];
    int rc;

    sbuf_init(&body);
    sbuf_init(&path);
    sbuf_init(&ans.body);
    if (strcmp(o->cmd, "status") == 0) {
        method = "GET";
        sbuf_puts(&path, "/status");
    } else if (strcmp(o->cmd, "reload") == 0) {
        sbuf_puts(&path, "/reload");
    } else if (strcmp(o->cmd, "scale") == 0) {
        sbuf_puts(&path, "/scale");
        if (cli_scale_body(o->args, o->nargs, &body, err, sizeof(err)) != CLI_OK) {
            sbuf_printf(errout, "%s\n", err);
            rc = CLI_USAGE;
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
    if (cli_request(&addr, method, path.data, token, body.len ? body.data : NULL, body.len, &ans,
                    err, sizeof(err)) < 0) {
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
    if (json_parse(ans.body.data != NULL ? ans.body.data : "", ans.body.len, &doc, err,
                   sizeof(err)) < 0) {
        sbuf_printf(errout, "the admin API at %s sent invalid JSON: %s\n", addr.text, err);
        goto out;
    }
    if (strcmp(o->cmd, "status") == 0)
        cli_render_status(doc.root, out);
    else
        cli_render_answer(o->cmd, o->nargs > 0 ? o->args[0] : "", doc.root, out);
    json_free(&doc);
    rc = CLI_OK;
out:
    free(token);
    sbuf_free(&ans.body);
    sbuf_free(&body);
    sbuf_free(&path);
    return rc;
}

int cli_main(int argc, char **argv)
{
    struct cli_opts o;
    struct sbuf out, errout;
    char err[512];
    int rc;

    if (cli_parse_args(argc, argv, &o, err, sizeof(err)) != CLI_OK) {
        fprintf(stderr, "drover %s: %s\n", o.cmd, err);
        cli_usage(stderr);
        return CLI_USAGE;
    }
    if (o.help) {
        cli_usage(stdout);
        return CLI_OK;
    }
    sbuf_init(&out);
    sbuf_init(&errout);
    rc = cli_exec(&o, &out, &errout);
    if (out.len > 0)
        fwrite(out.data, 1, out.len, stdout);
    fflush(stdout);
    if (errout.len > 0 && rc == CLI_USAGE) {
        fprintf(stderr, "drover %s: %s", o.cmd, errout.data);
        cli_usage(stderr);
    } else if (errout.len > 0) {
        fprintf(stderr, "drover: %s", errout.data);
    }
    sbuf_free(&out);
    sbuf_free(&errout);
    return rc;
}
