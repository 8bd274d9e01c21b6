/* The admin API server without a running drover: the pure decisions
 * (route, auth, rendering), then the real server on a loop thread answered
 * by a stub of control.c, talked to with raw sockets. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* The units under test, static functions included. */
#include "control/admin.c"

/* ---- a stub of control.c ------------------------------------------------ */

struct control {
    const char *token;
    int reload_status;          /* 200 or 422 */
    bool stop_admin_in_reload;  /* admin_stop from inside control_reload */
    struct admin *admin;
    int scale_calls, process_calls, reload_calls;
    char last_type[64], last_action[16];
    char scale_seen[256];
};

static struct control ctl = {.reload_status = 200};

int control_health(struct control *c, struct sbuf *out)
{
    (void)c;
    sbuf_puts(out, "{\"status\":\"ok\"}");
    return 200;
}

int control_ready(struct control *c, struct sbuf *out)
{
    (void)c;
    sbuf_puts(out, "{\"status\":\"not ready\",\"routes\":[\"/api/\"]}");
    return 503;
}

static const char status_doc[] =
    "{\"drover\":{\"pid\":4242,\"version\":\"0.1.0\",\"uptime_s\":3723.9,\"draining\":false},"
    "\"router\":{\"connections\":3,\"requests\":1000},"
    "\"processes\":["
    "{\"type\":\"web\",\"wanted\":2,\"stopped\":false,\"instances\":["
    "{\"name\":\"web.1\",\"pid\":101,\"port\":5000,\"state\":\"ready\",\"restarts\":0,"
    "\"uptime_s\":192.4,\"rss_bytes\":12897484,\"inflight\":1,\"requests\":420},"
    "{\"name\":\"web.2\",\"pid\":102,\"port\":5001,\"state\":\"ready\",\"restarts\":2,"
    "\"uptime_s\":45,\"rss_bytes\":1048576,\"inflight\":0,\"requests\":410}]},"
    "{\"type\":\"worker\",\"wanted\":1,\"stopped\":false,\"instances\":["
    "{\"name\":\"worker.1\",\"pid\":null,\"port\":5100,\"state\":\"backoff\",\"restarts\":7,"
    "\"uptime_s\":null,\"rss_bytes\":null}]},"
    "{\"type\":\"clock\",\"wanted\":0,\"stopped\":true,\"instances\":[]}],"
    "\"backends\":["
    "{\"name\":\"web.1\",\"process\":\"web\",\"address\":\"127.0.0.1:5000\",\"up\":true,"
    "\"inflight\":1,\"requests\":420,\"failures\":0},"
    "{\"name\":\"10.0.0.5:80\",\"address\":\"10.0.0.5:80\",\"route\":\"/api/\",\"up\":false,"
    "\"inflight\":0,\"requests\":17,\"failures\":3}]}";

int control_status(struct control *c, struct sbuf *out)
{
    (void)c;
    sbuf_puts(out, status_doc);
    return 200;
}

int control_scale(struct control *c, const struct json_value *body, struct sbuf *out)
{
    struct jsonw w;

    c->scale_calls++;
    c->scale_seen[0] = '\0';
    for (size_t i = 0; i < body->nchildren; i++) {
        const struct json_value *v = &body->children[i];

        if (strcmp(v->key, "web") != 0 && strcmp(v->key, "worker") != 0) {
            sbuf_printf(out, "{\"error\":\"no process type \\\"%s\\\"\"}", v->key);
            return 404;
        }
        if (v->type != JSON_NUMBER || !v->integer || v->intval < 0 || v->intval > 1000) {
            sbuf_printf(out, "{\"error\":\"%s: the count must be an integer from 0 to 1000\"}",
                        v->key);
            return 400;
        }
        snprintf(c->scale_seen + strlen(c->scale_seen), sizeof(c->scale_seen) - strlen(c->scale_seen),
                 "%s=%lld;", v->key, v->intval);
    }
    jsonw_init(&w, out);
    jsonw_object_begin(&w);
    jsonw_key(&w, "formation");
    jsonw_object_begin(&w);
    for (size_t i = 0; i < body->nchildren; i++) {
        jsonw_key(&w, body->children[i].key);
        jsonw_int(&w, body->children[i].intval);
    }
    jsonw_object_end(&w);
    jsonw_object_end(&w);
    return 200;
}

int control_process(struct control *c, const char *type, const char *action, struct sbuf *out)
{
    c->process_calls++;
    snprintf(c->last_type, sizeof(c->last_type), "%s", type);
    snprintf(c->last_action, sizeof(c->last_action), "%s", action);
    if (strcmp(type, "web") != 0 && strcmp(type, "worker") != 0) {
        sbuf_printf(out, "{\"error\":\"no process type \\\"%s\\\"\"}", type);
        return 404;
    }
    sbuf_printf(out, "{\"type\":\"%s\",\"action\":\"%s\"}", type, action);
    return 202;
}

int control_reload(struct control *c, struct sbuf *out)
{
    c->reload_calls++;
    if (c->stop_admin_in_reload) {
        admin_stop(c->admin);
        c->admin = NULL;
    }
    if (c->reload_status == 422) {
        sbuf_puts(out, "{\"error\":\"/app/drover.yaml:3:5: unknown key \\\"lisen\\\"\"}");
        return 422;
    }
    sbuf_puts(out, "{\"changes\":[\"web: 2 → 3 instances\",\"timeouts.connect: 3s → 1s\"]}");
    return 200;
}

int control_metrics(struct control *c, struct sbuf *out)
{
    (void)c;
    sbuf_puts(out, "# TYPE drover_up gauge\ndrover_up 1\n");
    return 200;
}

const char *control_token(struct control *c)
{
    return c->token;
}

/* ---- decisions ------------------------------------------------------------ */

Test(admin_auth, token_compare)
{
    cr_assert(admin_token_equal("secret", 6, "secret", 6));
    cr_assert(!admin_token_equal("secreT", 6, "secret", 6));
    cr_assert(!admin_token_equal("secre", 5, "secret", 6));
    cr_assert(!admin_token_equal("secrets", 7, "secret", 6));
    cr_assert(!admin_token_equal("", 0, "secret", 6));
    cr_assert(!admin_token_equal("secret\0", 7, "secret", 6));
    cr_assert(admin_token_equal("", 0, "", 0));
}

Test(admin_auth, bearer_header)
{
    const char *t = "s3cret";

#define OK(h) admin_bearer_ok((h), strlen(h), t)
    cr_assert(OK("Bearer s3cret"));
    cr_assert(OK("bearer s3cret"), "the scheme is case-insensitive");
    cr_assert(OK("BEARER   s3cret  "), "extra spaces around the token");
    cr_assert(!OK("Bearer S3cret"), "the token is case-sensitive");
    cr_assert(!OK("Bearer s3cre"));
    cr_assert(!OK("Bearer s3crett"));
    cr_assert(!OK("Bearer"));
    cr_assert(!OK("Bearer "));
    cr_assert(!OK("Bearers3cret"));
    cr_assert(!OK("Basic s3cret"));
    cr_assert(!OK("s3cret"));
#undef OK
    cr_assert(!admin_bearer_ok(NULL, 0, t));
}

static enum admin_action route(int method, const char *target, const char *auth, const char *token)
{
    struct admin_route r;

    admin_route(method, target, strlen(target), auth, auth ? strlen(auth) : 0, token, &r);
    return r.action;
}

Test(admin_route, endpoints_and_methods_without_a_token)
{
    cr_assert_eq(route(HTTP_GET, "/health", NULL, NULL), ADMIN_HEALTH);
    cr_assert_eq(route(HTTP_HEAD, "/health", NULL, ""), ADMIN_HEALTH);
    cr_assert_eq(route(HTTP_GET, "/ready", NULL, NULL), ADMIN_READY);
    cr_assert_eq(route(HTTP_GET, "/status", NULL, NULL), ADMIN_STATUS);
    cr_assert_eq(route(HTTP_GET, "/metrics", NULL, NULL), ADMIN_METRICS);
    cr_assert_eq(route(HTTP_POST, "/reload", NULL, NULL), ADMIN_RELOAD);
    cr_assert_eq(route(HTTP_POST, "/scale", NULL, NULL), ADMIN_SCALE);
    cr_assert_eq(route(HTTP_POST, "/processes/web/restart", NULL, NULL), ADMIN_PROCESS);
    cr_assert_eq(route(HTTP_POST, "/health", NULL, NULL), ADMIN_USE_GET);
    cr_assert_eq(route(HTTP_DELETE, "/status", NULL, NULL), ADMIN_USE_GET);
    cr_assert_eq(route(HTTP_GET, "/reload", NULL, NULL), ADMIN_USE_POST);
    cr_assert_eq(route(HTTP_HEAD, "/scale", NULL, NULL), ADMIN_USE_POST);
    cr_assert_eq(route(HTTP_PUT, "/processes/web/stop", NULL, NULL), ADMIN_USE_POST);
    cr_assert_eq(route(HTTP_GET, "/nope", NULL, NULL), ADMIN_NOT_FOUND);
    cr_assert_eq(route(HTTP_POST, "/nope", NULL, NULL), ADMIN_NOT_FOUND);
}

Test(admin_route, paths)
{
    cr_assert_eq(route(HTTP_GET, "/status?verbose=1", NULL, NULL), ADMIN_STATUS);
    cr_assert_eq(route(HTTP_GET, "http://localhost:8081/status", NULL, NULL), ADMIN_STATUS);
    cr_assert_eq(route(HTTP_GET, "http://localhost:8081", NULL, NULL), ADMIN_NOT_FOUND);
    cr_assert_eq(route(HTTP_GET, "/status/", NULL, NULL), ADMIN_NOT_FOUND);
    cr_assert_eq(route(HTTP_GET, "/STATUS", NULL, NULL), ADMIN_NOT_FOUND);
    cr_assert_eq(route(HTTP_GET, "/", NULL, NULL), ADMIN_NOT_FOUND);
    cr_assert_eq(route(HTTP_GET, "*", NULL, NULL), ADMIN_NOT_FOUND);
    cr_assert_eq(route(HTTP_GET, "/healthz", NULL, NULL), ADMIN_NOT_FOUND);
}

Test(admin_route, process_paths)
{
    struct admin_route r;
    const char *t = "/processes/my_worker-2/stop?x";

    admin_route(HTTP_POST, t, strlen(t), NULL, 0, NULL, &r);
    cr_assert_eq(r.action, ADMIN_PROCESS);
    cr_assert_str_eq(r.type, "my_worker-2");
    cr_assert_str_eq(r.verb, "stop");
    cr_assert_eq(route(HTTP_POST, "/processes/web/start", NULL, NULL), ADMIN_PROCESS);
    cr_assert_eq(route(HTTP_POST, "/processes/web/kill", NULL, NULL), ADMIN_NOT_FOUND);
    cr_assert_eq(route(HTTP_POST, "/processes/web/restart/now", NULL, NULL), ADMIN_NOT_FOUND);
    cr_assert_eq(route(HTTP_POST, "/processes//restart", NULL, NULL), ADMIN_NOT_FOUND);
    cr_assert_eq(route(HTTP_POST, "/processes/web", NULL, NULL), ADMIN_NOT_FOUND);
    cr_assert_eq(route(HTTP_POST, "/processes/", NULL, NULL), ADMIN_NOT_FOUND);
    cr_assert_eq(route(HTTP_POST, "/processes/w%20b/restart", NULL, NULL), ADMIN_NOT_FOUND);
    cr_assert_eq(route(HTTP_POST, "/processes/../restart", NULL, NULL), ADMIN_NOT_FOUND);
    cr_assert_eq(route(HTTP_POST,
                       "/processes/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/stop",
                       NULL, NULL),
                 ADMIN_NOT_FOUND, "64 characters is one too many");
}

Test(admin_route, token_guards_all_but_health_and_ready)
{
    const char *tok = "s3cret", *good = "Bearer s3cret", *bad = "Bearer nope";

    cr_assert_eq(route(HTTP_GET, "/health", NULL, tok), ADMIN_HEALTH);
    cr_assert_eq(route(HTTP_GET, "/ready", bad, tok), ADMIN_READY);
    cr_assert_eq(route(HTTP_POST, "/health", NULL, tok), ADMIN_USE_GET);
    cr_assert_eq(route(HTTP_GET, "/status", NULL, tok), ADMIN_UNAUTHORIZED);
    cr_assert_eq(route(HTTP_GET, "/status", bad, tok), ADMIN_UNAUTHORIZED);
    cr_assert_eq(route(HTTP_GET, "/status", good, tok), ADMIN_STATUS);
    cr_assert_eq(route(HTTP_GET, "/metrics", NULL, tok), ADMIN_UNAUTHORIZED);
    /* Auth before the method: a GET /reload without the token is 401. */
    cr_assert_eq(route(HTTP_GET, "/reload", NULL, tok), ADMIN_UNAUTHORIZED);
    cr_assert_eq(route(HTTP_GET, "/reload", good, tok), ADMIN_USE_POST);
    cr_assert_eq(route(HTTP_POST, "/reload", good, tok), ADMIN_RELOAD);
    cr_assert_eq(route(HTTP_POST, "/scale", bad, tok), ADMIN_UNAUTHORIZED);
    cr_assert_eq(route(HTTP_POST, "/processes/web/restart", NULL, tok), ADMIN_UNAUTHORIZED);
    cr_assert_eq(route(HTTP_POST, "/processes/web/restart", good, tok), ADMIN_PROCESS);
    /* Unknown paths reveal nothing without the token. */
    cr_assert_eq(route(HTTP_GET, "/nope", NULL, tok), ADMIN_UNAUTHORIZED);
    cr_assert_eq(route(HTTP_GET, "/nope", good, tok), ADMIN_NOT_FOUND);
    /* An empty token is no token. */
    cr_assert_eq(route(HTTP_GET, "/status", NULL, ""), ADMIN_STATUS);
}

Test(admin_render, answers)
{
    struct sbuf out;

    sbuf_init(&out);
    admin_render(&out, 200, "{\"a\":1}", 7, ADMIN_JSON, NULL, false, ADMIN_CONN_NONE);
    cr_assert_str_eq(out.data, "HTTP/1.1 200 OK\r\n"
                               "Content-Type: application/json\r\n"
                               "Content-Length: 8\r\n"
                               "Cache-Control: no-store\r\n"
                               "\r\n"
                               "{\"a\":1}\n");
    out.len = 0;
    admin_render(&out, 401, "{}", 2, ADMIN_JSON, "WWW-Authenticate: Bearer\r\n", true,
                 ADMIN_CONN_CLOSE);
    cr_assert_str_eq(out.data, "HTTP/1.1 401 Unauthorized\r\n"
                               "Content-Type: application/json\r\n"
                               "Content-Length: 3\r\n"
                               "Cache-Control: no-store\r\n"
                               "WWW-Authenticate: Bearer\r\n"
                               "Connection: close\r\n"
                               "\r\n");
    out.len = 0;
    admin_render(&out, 200, "m 1\n", 4, ADMIN_METRICS_TYPE, NULL, false, ADMIN_CONN_KEEP_ALIVE);
    cr_assert_str_eq(out.data, "HTTP/1.1 200 OK\r\n"
                               "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
                               "Content-Length: 4\r\n"
                               "Cache-Control: no-store\r\n"
                               "Connection: keep-alive\r\n"
                               "\r\n"
                               "m 1\n");
    sbuf_free(&out);
}

Test(admin_render, scale_body_errors)
{
    struct sbuf in, out;

    sbuf_init(&in);
    sbuf_init(&out);
    cr_assert_eq(admin_scale(&ctl, &in, &out), 400);
    cr_assert_str_eq(out.data, "{\"error\":\"body: empty; send a JSON object like {\\\"web\\\": 4}\"}");
    out.len = 0;
    sbuf_puts(&in, "not json");
    cr_assert_eq(admin_scale(&ctl, &in, &out), 400);
    cr_assert_str_eq(out.data,
                     "{\"error\":\"body: line 1 column 1: unexpected 'n'; expected a value\"}");
    out.len = in.len = 0;
    sbuf_puts(&in, "[1]");
    cr_assert_eq(admin_scale(&ctl, &in, &out), 400);
    cr_assert(strstr(out.data, "body: not a JSON object") != NULL, "%s", out.data);
    out.len = in.len = 0;
    sbuf_puts(&in, "{\"web\":3}");
    cr_assert_eq(admin_scale(&ctl, &in, &out), 200);
    cr_assert_str_eq(out.data, "{\"formation\":{\"web\":3}}");
    cr_assert_eq(ctl.scale_calls, 1);
    sbuf_free(&in);
    sbuf_free(&out);
}

/* ---- the server, live on a loop thread ------------------------------------ */

static struct {
    struct ev_loop *loop;
    ev_async stop;
    pthread_t thread;
    bool running;
    char addr[128];
} live;

static void live_stop_cb(struct ev_loop *loop, ev_async *w, int revents)
{
    (void)w;
    (void)revents;
    admin_stop(ctl.admin);
    ctl.admin = NULL;
    ev_break(loop, EVBREAK_ALL);
}

static void *live_main(void *arg)
{
    (void)arg;
    ev_run(live.loop, 0);
    return NULL;
}

/* admin_start on a loop of its own, run by a thread until the test ends. */
static void live_start(const char *addrtext, const char *token)
{
    struct conf_addr addr;
    char err[256];

    ctl.token = token;
    if (strcmp(addrtext, "127.0.0.1:0") == 0) {
        /* The config refuses port 0; admin_start takes it (any free port). */
        cr_assert_eq(conf_parse_addr("127.0.0.1:1", &addr, err, sizeof(err)), 0, "%s", err);
        ((struct sockaddr_in *)&addr.ss)->sin_port = 0;
        addr.port = 0;
        snprintf(addr.text, sizeof(addr.text), "127.0.0.1:0");
    } else {
        cr_assert_eq(conf_parse_addr(addrtext, &addr, err, sizeof(err)), 0, "%s", err);
    }
    live.loop = ev_loop_new(EVFLAG_AUTO);
    ctl.admin = admin_start(live.loop, &addr, &ctl, err, sizeof(err));
    cr_assert_not_null(ctl.admin, "%s", err);
    snprintf(live.addr, sizeof(live.addr), "%s", admin_addr(ctl.admin)->text);
    ev_async_init(&live.stop, live_stop_cb);
    ev_async_start(live.loop, &live.stop);
    cr_assert_eq(pthread_create(&live.thread, NULL, live_main, NULL), 0);
    live.running = true;
}

static void live_end(void)
{
    if (!live.running)
        return;
    ev_async_send(live.loop, &live.stop);
    pthread_join(live.thread, NULL);
    ev_loop_destroy(live.loop);
    live.running = false;
}

TestSuite(live, .fini = live_end);

static int live_connect_to(const char *text)
{
    struct conf_addr addr;
    char err[256];
    int fd;

    cr_assert_eq(conf_parse_addr(text, &addr, err, sizeof(err)), 0, "%s", err);
    fd = socket(addr.ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert(fd >= 0);
    if (connect(fd, (struct sockaddr *)&addr.ss, addr.len) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int live_connect(void)
{
    int fd = live_connect_to(live.addr);

    cr_assert(fd >= 0, "connect %s: %s", live.addr, strerror(errno));
    return fd;
}

static void send_str(int fd, const char *s)
{
    size_t n = strlen(s), off = 0;

    while (off < n) {
        ssize_t w = send(fd, s + off, n - off, MSG_NOSIGNAL);

        cr_assert(w > 0, "send: %s", strerror(errno));
        off += (size_t)w;
    }
}

/* One byte within 3 s: 1, 0 at EOF (or reset), -1 on timeout. */
static int read_byte(int fd, char *c)
{
    struct pollfd p = {fd, POLLIN, 0};
    ssize_t n;

    if (poll(&p, 1, 3000) != 1)
        return -1;
    n = read(fd, c, 1);
    return n == 1 ? 1 : 0;
}

struct resp {
    int status;
    char head[8192];
    char *body;
    size_t body_len;
};

/* The value of header name in r's head, or NULL (a static copy). */
static const char *hdr(const struct resp *r, const char *name)
{
    static char value[512];
    const char *p = r->head;
    size_t n = strlen(name);

    while ((p = strstr(p, "\r\n")) != NULL) {
        p += 2;
        if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 1, *end = strstr(v, "\r\n");

            while (*v == ' ')
                v++;
            snprintf(value, sizeof(value), "%.*s", (int)(end - v), v);
            return value;
        }
    }
    return NULL;
}

/* Reads one response (no body for HEAD); fails the test on timeout. */
static void read_resp(int fd, struct resp *r, bool head_req)
{
    size_t n = 0;
    const char *cl;
    char c;

    memset(r, 0, sizeof(*r));
    while (n < 4 || memcmp(r->head + n - 4, "\r\n\r\n", 4) != 0) {
        cr_assert(n < sizeof(r->head) - 1, "head too long");
        cr_assert_eq(read_byte(fd, &c), 1, "no complete answer head (got %zu bytes: %.*s)", n,
                     (int)n, r->head);
        r->head[n++] = c;
    }
    r->head[n] = '\0';
    cr_assert(sscanf(r->head, "HTTP/1.1 %d ", &r->status) == 1, "status line: %s", r->head);
    cl = hdr(r, "Content-Length");
    cr_assert_not_null(cl, "no Content-Length in %s", r->head);
    r->body_len = head_req || r->status < 200 ? 0 : strtoul(cl, NULL, 10);
    r->body = calloc(1, r->body_len + 1);
    for (size_t i = 0; i < r->body_len; i++)
        cr_assert_eq(read_byte(fd, &r->body[i]), 1, "short body");
}

static bool closed_soon(int fd)
{
    char c;

    for (;;) {
        int r = read_byte(fd, &c);

        if (r == 0)
            return true;
        if (r < 0)
            return false;
    }
}

/* Still open: nothing arrives and no EOF within 200 ms. */
static bool still_open(int fd)
{
    struct pollfd p = {fd, POLLIN, 0};

    return poll(&p, 1, 200) == 0;
}

static void exchange(const char *req, struct resp *r)
{
    int fd = live_connect();

    send_str(fd, req);
    read_resp(fd, r, strncmp(req, "HEAD ", 5) == 0);
    close(fd);
}

Test(live, health_ready_and_the_common_headers)
{
    struct resp r;
    int fd;

    live_start("127.0.0.1:0", NULL);
    fd = live_connect();
    send_str(fd, "GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
    read_resp(fd, &r, false);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(hdr(&r, "Content-Type"), "application/json");
    cr_assert_str_eq(hdr(&r, "Cache-Control"), "no-store");
    cr_assert_str_eq(r.body, "{\"status\":\"ok\"}\n");
    cr_assert_null(hdr(&r, "Connection"), "HTTP/1.1 keep-alive is the default");
    free(r.body);
    /* Same connection. */
    send_str(fd, "GET /ready HTTP/1.1\r\nHost: t\r\n\r\n");
    read_resp(fd, &r, false);
    cr_assert_eq(r.status, 503);
    cr_assert(strstr(r.head, "HTTP/1.1 503 Service Unavailable\r\n") == r.head);
    cr_assert_str_eq(r.body, "{\"status\":\"not ready\",\"routes\":[\"/api/\"]}\n");
    free(r.body);
    cr_assert(still_open(fd));
    close(fd);
}

Test(live, token_method_and_unknown_paths)
{
    struct resp r;

    live_start("127.0.0.1:0", "s3cret");
    exchange("GET /health HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    cr_assert_eq(r.status, 200, "/health needs no token");
    free(r.body);
    exchange("GET /status HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    cr_assert_eq(r.status, 401);
    cr_assert_str_eq(hdr(&r, "WWW-Authenticate"), "Bearer");
    cr_assert_str_eq(r.body, "{\"error\":\"missing or wrong bearer token\"}\n");
    free(r.body);
    exchange("GET /status HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer wrong\r\n\r\n", &r);
    cr_assert_eq(r.status, 401);
    free(r.body);
    exchange("GET /status HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer s3cret\r\n\r\n", &r);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(r.body_len, strlen(status_doc) + 1);
    cr_assert(strncmp(r.body, status_doc, strlen(status_doc)) == 0);
    free(r.body);
    exchange("GET /reload HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    cr_assert_eq(r.status, 401, "auth comes before the method");
    free(r.body);
    exchange("GET /reload HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer s3cret\r\n\r\n", &r);
    cr_assert_eq(r.status, 405);
    cr_assert_str_eq(hdr(&r, "Allow"), "POST");
    cr_assert_str_eq(r.body, "{\"error\":\"use POST\"}\n");
    free(r.body);
    exchange("POST /status HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer s3cret\r\n"
             "Content-Length: 0\r\n\r\n",
             &r);
    cr_assert_eq(r.status, 405);
    cr_assert_str_eq(hdr(&r, "Allow"), "GET, HEAD");
    free(r.body);
    exchange("GET /nope HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer s3cret\r\n\r\n", &r);
    cr_assert_eq(r.status, 404);
    cr_assert_str_eq(r.body, "{\"error\":\"no such endpoint\"}\n");
    free(r.body);
    cr_assert_eq(ctl.reload_calls, 0);
}

Test(live, head_has_the_headers_and_no_body)
{
    struct resp r;
    int fd;

    live_start("127.0.0.1:0", NULL);
    fd = live_connect();
    send_str(fd, "HEAD /status HTTP/1.1\r\nHost: t\r\n\r\n");
    read_resp(fd, &r, true);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(strtoul(hdr(&r, "Content-Length"), NULL, 10), strlen(status_doc) + 1);
    free(r.body);
    /* Had a body been sent, it would be read as this answer's head. */
    send_str(fd, "GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
    read_resp(fd, &r, false);
    cr_assert_eq(r.status, 200);
    free(r.body);
    close(fd);
}

Test(live, pipelined_requests_answered_in_order_then_close)
{
    struct resp r;
    int fd;

    live_start("127.0.0.1:0", NULL);
    fd = live_connect();
    send_str(fd, "GET /health HTTP/1.1\r\nHost: t\r\n\r\n"
                 "POST /processes/web/restart HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n"
                 "GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    read_resp(fd, &r, false);
    cr_assert_eq(r.status, 200);
    free(r.body);
    read_resp(fd, &r, false);
    cr_assert_eq(r.status, 202);
    cr_assert_str_eq(r.body, "{\"type\":\"web\",\"action\":\"restart\"}\n");
    free(r.body);
    read_resp(fd, &r, false);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(hdr(&r, "Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    cr_assert_str_eq(hdr(&r, "Connection"), "close");
    cr_assert_str_eq(r.body, "# TYPE drover_up gauge\ndrover_up 1\n");
    free(r.body);
    cr_assert(closed_soon(fd));
    close(fd);
    cr_assert_eq(ctl.process_calls, 1);
    cr_assert_str_eq(ctl.last_action, "restart");
}

Test(live, scale_bodies)
{
    struct resp r;
    int fd;

    live_start("127.0.0.1:0", NULL);
    exchange("POST /scale HTTP/1.1\r\nHost: t\r\nContent-Length: 8\r\n\r\nnot json", &r);
    cr_assert_eq(r.status, 400);
    cr_assert_str_eq(r.body,
                     "{\"error\":\"body: line 1 column 1: unexpected 'n'; expected a value\"}\n");
    free(r.body);
    exchange("POST /scale HTTP/1.1\r\nHost: t\r\nContent-Length: 21\r\n\r\n{\"web\":3, \"worker\":0}",
             &r);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(r.body, "{\"formation\":{\"web\":3,\"worker\":0}}\n");
    free(r.body);
    cr_assert_str_eq(ctl.scale_seen, "web=3;worker=0;");
    exchange("POST /scale HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
             "5\r\n{\"web\r\n4\r\n\":7}\r\n0\r\n\r\n",
             &r);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(r.body, "{\"formation\":{\"web\":7}}\n");
    free(r.body);
    exchange("POST /scale HTTP/1.1\r\nHost: t\r\nContent-Length: 12\r\n\r\n{\"nope\":1}  ", &r);
    cr_assert_eq(r.status, 404);
    free(r.body);

    /* Expect: 100-continue gets its interim answer before the body is sent. */
    fd = live_connect();
    send_str(fd, "POST /scale HTTP/1.1\r\nHost: t\r\nContent-Length: 9\r\nExpect: 100-continue\r\n\r\n");
    {
        char got[26] = {0};

        for (size_t i = 0; i < 25; i++)
            cr_assert_eq(read_byte(fd, &got[i]), 1);
        cr_assert_str_eq(got, "HTTP/1.1 100 Continue\r\n\r\n");
    }
    send_str(fd, "{\"web\":1}");
    read_resp(fd, &r, false);
    cr_assert_eq(r.status, 200);
    free(r.body);
    close(fd);
}

Test(live, limits_and_malformed_requests_close)
{
    struct resp r;
    char *big = malloc(20000);
    int fd;

    live_start("127.0.0.1:0", NULL);
    /* Body over 64 KiB by Content-Length: refused at once, unread. */
    fd = live_connect();
    send_str(fd, "POST /scale HTTP/1.1\r\nHost: t\r\nContent-Length: 70000\r\n\r\n");
    read_resp(fd, &r, false);
    cr_assert_eq(r.status, 413);
    cr_assert_str_eq(hdr(&r, "Connection"), "close");
    free(r.body);
    cr_assert(closed_soon(fd));
    close(fd);

    /* Chunked over 64 KiB. */
    fd = live_connect();
    send_str(fd, "POST /scale HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
    memset(big, 'a', 16384);
    big[16384] = '\0';
    for (int i = 0; i < 5; i++) {
        send_str(fd, "4000\r\n");
        if (send(fd, big, 16384, MSG_NOSIGNAL) < 0 || send(fd, "\r\n", 2, MSG_NOSIGNAL) < 0)
            break;
    }
    read_resp(fd, &r, false);
    cr_assert_eq(r.status, 413);
    free(r.body);
    close(fd);

    /* Head over 16 KiB. */
    fd = live_connect();
    memset(big, 'x', 17000);
    big[17000] = '\0';
    send_str(fd, "GET /health HTTP/1.1\r\nHost: t\r\nX-Big: ");
    send(fd, big, 17000, MSG_NOSIGNAL);
    read_resp(fd, &r, false);
    cr_assert_eq(r.status, 431);
    free(r.body);
    close(fd);

    fd = live_connect();
    send_str(fd, "\x16\x03\x01 garbage\r\n\r\n");
    read_resp(fd, &r, false);
    cr_assert_eq(r.status, 400);
    cr_assert(strstr(r.body, "malformed request") != NULL, "%s", r.body);
    free(r.body);
    cr_assert(closed_soon(fd));
    close(fd);

    exchange("GET /health HTTP/1.1\r\n\r\n", &r);
    cr_assert_eq(r.status, 400);
    cr_assert_str_eq(r.body, "{\"error\":\"HTTP/1.1 request without Host\"}\n");
    free(r.body);
    exchange("GET /status HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer a\r\n"
             "Authorization: Bearer b\r\n\r\n",
             &r);
    cr_assert_eq(r.status, 400);
    free(r.body);
    exchange("GET /health HTTP/2.0\r\nHost: t\r\n\r\n", &r);
    cr_assert_eq(r.status, 505);
    free(r.body);
    free(big);
}

Test(live, http10_keep_alive_rules)
{
    struct resp r;
    int fd;

    live_start("127.0.0.1:0", NULL);
    fd = live_connect();
    send_str(fd, "GET /health HTTP/1.0\r\n\r\n");
    read_resp(fd, &r, false);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(hdr(&r, "Connection"), "close");
    free(r.body);
    cr_assert(closed_soon(fd));
    close(fd);
    fd = live_connect();
    send_str(fd, "GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    read_resp(fd, &r, false);
    cr_assert_str_eq(hdr(&r, "Connection"), "keep-alive");
    free(r.body);
    cr_assert(still_open(fd));
    close(fd);
}

Test(live, refused_before_the_body_is_read)
{
    struct resp r;
    int fd;

    live_start("127.0.0.1:0", "s3cret");
    fd = live_connect();
    send_str(fd, "POST /scale HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n");
    read_resp(fd, &r, false);
    cr_assert_eq(r.status, 401);
    cr_assert_str_eq(hdr(&r, "Connection"), "close");
    free(r.body);
    close(fd);
    cr_assert_eq(ctl.scale_calls, 0);
}

Test(live, admin_stop_inside_a_control_call_still_answers)
{
    struct resp r;
    int idle, fd;

    live_start("127.0.0.1:0", NULL);
    idle = live_connect();
    ctl.stop_admin_in_reload = true;
    fd = live_connect();
    send_str(fd, "POST /reload HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
    read_resp(fd, &r, false);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(hdr(&r, "Connection"), "close");
    free(r.body);
    cr_assert(closed_soon(fd));
    cr_assert(closed_soon(idle), "other connections are closed too");
    close(fd);
    close(idle);
    cr_assert_lt(live_connect_to(live.addr), 0, "still listening");
    cr_assert_null(ctl.admin);
}

Test(live, unix_socket_stale_file_live_file_and_cleanup)
{
    char path[96], text[128], err[256];
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    struct conf_addr addr;
    struct ev_loop *other;
    struct stat st;
    int fd;

    snprintf(path, sizeof(path), "/tmp/drover-admin-test-%d.sock", (int)getpid());
    snprintf(text, sizeof(text), "unix:%s", path);
    /* A stale socket file: bound, then its listener gone. */
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    unlink(path);
    cr_assert_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
    close(fd);
    cr_assert_eq(stat(path, &st), 0);

    live_start(text, NULL);
    /* A second admin on the same live path is refused, and leaves it be. */
    other = ev_loop_new(EVFLAG_AUTO);
    cr_assert_eq(conf_parse_addr(text, &addr, err, sizeof(err)), 0);
    cr_assert_null(admin_start(other, &addr, &ctl, err, sizeof(err)));
    cr_assert(strstr(err, "another process accepts connections there") != NULL, "%s", err);
    ev_loop_destroy(other);

    {
        struct resp r;
        int c = live_connect();

        send_str(c, "POST /processes/web/restart HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
        read_resp(c, &r, false);
        cr_assert_eq(r.status, 202);
        free(r.body);
        close(c);
    }

    live_end();
    cr_assert_neq(stat(path, &st), 0, "admin_stop removes the socket file");
}

Test(live, address_in_use)
{
    struct conf_addr addr;
    char err[256], want[256];
    struct ev_loop *other;

    live_start("127.0.0.1:0", NULL);
    other = ev_loop_new(EVFLAG_AUTO);
    cr_assert_eq(conf_parse_addr(live.addr, &addr, err, sizeof(err)), 0);
    cr_assert_null(admin_start(other, &addr, &ctl, err, sizeof(err)));
    snprintf(want, sizeof(want), "cannot listen on %s: Address already in use", live.addr);
    cr_assert_str_eq(err, want);
    ev_loop_destroy(other);
}

Test(live, idle_and_slow_requests_are_closed)
{
    struct resp r;
    int idle, slow, used;
    long long t0;

    admin_idle_s = 0.3;
    live_start("127.0.0.1:0", NULL);
    idle = live_connect();
    slow = live_connect();
    used = live_connect();
    send_str(used, "GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
    read_resp(used, &r, false);
    free(r.body);
    /* A head trickled byte by byte does not push the deadline back. */
    t0 = (long long)(ev_time() * 1000);
    for (const char *s = "GET /health HTTP/1.1\r\nHost: t\r\n"; *s; s++) {
        if (send(slow, s, 1, MSG_NOSIGNAL) < 0)
            break;
        usleep(50 * 1000);
    }
    cr_assert(closed_soon(idle));
    cr_assert(closed_soon(slow));
    cr_assert(closed_soon(used), "idle after an answer");
    cr_assert_lt((long long)(ev_time() * 1000) - t0, 2000);
    close(idle);
    close(slow);
    close(used);
}

Test(live, connections_beyond_the_cap_wait_in_the_backlog)
{
    int fds[ADMIN_MAX_CONNS], extra;
    struct resp r;

    live_start("127.0.0.1:0", NULL);
    for (int i = 0; i < ADMIN_MAX_CONNS; i++)
        fds[i] = live_connect();
    /* Make sure every one of them was accepted. */
    send_str(fds[ADMIN_MAX_CONNS - 1], "GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
    read_resp(fds[ADMIN_MAX_CONNS - 1], &r, false);
    free(r.body);
    extra = live_connect();
    send_str(extra, "GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
    cr_assert(still_open(extra), "answered beyond the cap");
    close(fds[0]);
    read_resp(extra, &r, false);
    cr_assert_eq(r.status, 200);
    free(r.body);
    close(extra);
    for (int i = 1; i < ADMIN_MAX_CONNS; i++)
        close(fds[i]);
}
