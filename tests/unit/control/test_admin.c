/* control/admin: the admin HTTP server with a handler table of the test's
 * own, running on a loop thread and talked to with raw sockets: routing,
 * the token, methods, bodies, limits, keep-alive, malformed input, the
 * listener. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control/admin.h"
#include "router/http.h"

/* ---- the handlers ------------------------------------------------------- */

/* What the handlers were given (written on the loop thread before the
 * answer goes out, read by the test after it came). */
static struct {
    int calls;
    char path[256];
    char param[ADMIN_PARAM_MAX + 1];
    bool had_param;
    char body[70000];
    size_t body_len;
} seen;

static struct {
    struct ev_loop *loop;
    ev_async stop;
    pthread_t thread;
    bool running;
    struct admin *admin;
    const char *token;
    char addr[128];
} live;

static void record(const struct admin_request *req)
{
    seen.calls++;
    snprintf(seen.path, sizeof(seen.path), "%.*s", (int)req->path_len, req->path);
    seen.had_param = req->param != NULL;
    snprintf(seen.param, sizeof(seen.param), "%s", req->param != NULL ? req->param : "");
    seen.body_len = req->body_len < sizeof(seen.body) ? req->body_len : sizeof(seen.body) - 1;
    memcpy(seen.body, req->body, seen.body_len);
    seen.body[seen.body_len] = '\0';
}

static void h_hello(void *ctx, const struct admin_request *req, struct admin_answer *ans)
{
    (void)ctx;
    record(req);
    sbuf_puts(&ans->body, "{\"hello\":true}");
}

static void h_secret(void *ctx, const struct admin_request *req, struct admin_answer *ans)
{
    (void)ctx;
    record(req);
    ans->status = 203;
    sbuf_puts(&ans->body, "{\"secret\":1}");
}

static void h_text(void *ctx, const struct admin_request *req, struct admin_answer *ans)
{
    (void)ctx;
    record(req);
    ans->content_type = "text/plain; version=0.0.4";
    sbuf_puts(&ans->body, "m 1\n");
}

/* The body's length and bytes back. */
static void h_echo(void *ctx, const struct admin_request *req, struct admin_answer *ans)
{
    (void)ctx;
    record(req);
    ans->status = 201;
    sbuf_printf(&ans->body, "%zu:%s", req->body_len, req->body);
}

static void h_poke(void *ctx, const struct admin_request *req, struct admin_answer *ans)
{
    (void)ctx;
    record(req);
    ans->status = 202;
    sbuf_printf(&ans->body, "{\"item\":\"%s\"}", req->param);
}

static void h_oom(void *ctx, const struct admin_request *req, struct admin_answer *ans)
{
    (void)ctx;
    record(req);
    sbuf_puts(&ans->body, "{\"half\":");
    ans->body.oom = true;
}

static void h_refuse(void *ctx, const struct admin_request *req, struct admin_answer *ans)
{
    (void)ctx;
    record(req);
    admin_error(ans, 422, "bad \"%s\"\tthere \xff", "thing");
}

static void h_stop_admin(void *ctx, const struct admin_request *req, struct admin_answer *ans)
{
    (void)ctx;
    record(req);
    admin_stop(live.admin);
    live.admin = NULL;
    sbuf_puts(&ans->body, "{\"stopped\":true}");
}

static const struct admin_route routes[] = {
    {ADMIN_GET, "/hello", false, h_hello},
    {ADMIN_GET, "/secret", true, h_secret},
    {ADMIN_GET, "/text", true, h_text},
    {ADMIN_POST, "/echo", true, h_echo},
    {ADMIN_POST, "/items/*/poke", true, h_poke},
    {ADMIN_GET, "/both", true, h_hello},
    {ADMIN_POST, "/both", true, h_echo},
    {ADMIN_GET, "/oom", false, h_oom},
    {ADMIN_POST, "/refuse", false, h_refuse},
    {ADMIN_POST, "/stop-admin", false, h_stop_admin},
};

static const char *token_of(void *ctx)
{
    (void)ctx;
    return live.token;
}

/* ---- the server on a loop thread ----------------------------------------- */

static void live_stop_cb(struct ev_loop *loop, ev_async *w, int revents)
{
    (void)w;
    (void)revents;
    admin_stop(live.admin);
    live.admin = NULL;
    ev_break(loop, EVBREAK_ALL);
}

static void *live_main(void *arg)
{
    (void)arg;
    ev_run(live.loop, 0);
    return NULL;
}

static struct conf_addr parse_addr(const char *text)
{
    struct conf_addr addr;
    char err[256];

    if (strcmp(text, "127.0.0.1:0") == 0) {
        /* The config refuses port 0; admin_start takes it (any free port). */
        cr_assert_eq(conf_parse_addr("127.0.0.1:1", &addr, err, sizeof(err)), 0, "%s", err);
        ((struct sockaddr_in *)&addr.ss)->sin_port = 0;
        addr.port = 0;
        snprintf(addr.text, sizeof(addr.text), "127.0.0.1:0");
    } else {
        cr_assert_eq(conf_parse_addr(text, &addr, err, sizeof(err)), 0, "%s", err);
    }
    return addr;
}

/* admin_start on a loop of its own, run by a thread until the test ends. */
static void live_start_idle(const char *addrtext, const char *token, double idle_s)
{
    struct conf_addr addr = parse_addr(addrtext);
    struct admin_api api = {routes, sizeof(routes) / sizeof(routes[0]), token_of, NULL, idle_s};
    char err[256];

    live.token = token;
    live.loop = ev_loop_new(EVFLAG_AUTO);
    live.admin = admin_start(live.loop, &addr, &api, err, sizeof(err));
    cr_assert_not_null(live.admin, "%s", err);
    snprintf(live.addr, sizeof(live.addr), "%s", admin_addr(live.admin)->text);
    ev_async_init(&live.stop, live_stop_cb);
    ev_async_start(live.loop, &live.stop);
    cr_assert_eq(pthread_create(&live.thread, NULL, live_main, NULL), 0);
    live.running = true;
}

static void live_start(const char *addrtext, const char *token)
{
    live_start_idle(addrtext, token, 0);
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

TestSuite(admin, .fini = live_end);

static int connect_to(const char *text)
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
    int fd = connect_to(live.addr);

    cr_assert(fd >= 0, "connect %s: %s", live.addr, strerror(errno));
    return fd;
}

static void send_bytes(int fd, const char *s, size_t n)
{
    size_t off = 0;

    while (off < n) {
        ssize_t w = send(fd, s + off, n - off, MSG_NOSIGNAL);

        cr_assert(w > 0, "send: %s", strerror(errno));
        off += (size_t)w;
    }
}

static void send_str(int fd, const char *s)
{
    send_bytes(fd, s, strlen(s));
}

/* One byte within 3 s: 1, 0 at EOF (or reset), -1 on timeout. */
static int read_byte(int fd, char *c)
{
    struct pollfd p = {fd, POLLIN, 0};

    if (poll(&p, 1, 3000) != 1)
        return -1;
    return read(fd, c, 1) == 1 ? 1 : 0;
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

/* One request on a connection of its own; the answer's status. */
static int exchange(const char *req, struct resp *r)
{
    int fd = live_connect();

    send_str(fd, req);
    read_resp(fd, r, strncmp(req, "HEAD ", 5) == 0);
    close(fd);
    return r->status;
}

/* exchange, with the body checked and freed. */
static void expect(const char *req, int status, const char *body)
{
    struct resp r;

    cr_assert_eq(exchange(req, &r), status, "%s → %d %s", req, r.status, r.body);
    if (body != NULL)
        cr_assert_str_eq(r.body, body, "%s", req);
    free(r.body);
}

#define GET(path, extra) "GET " path " HTTP/1.1\r\nHost: t\r\n" extra "\r\n"
#define POST(path, extra) "POST " path " HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n" extra "\r\n"
#define AUTH "Authorization: Bearer s3cret\r\n"

/* ---- pure functions ------------------------------------------------------- */

Test(admin, token_compare)
{
    cr_assert(admin_token_equal("secret", 6, "secret", 6));
    cr_assert(!admin_token_equal("secreT", 6, "secret", 6));
    cr_assert(!admin_token_equal("secre", 5, "secret", 6));
    cr_assert(!admin_token_equal("secrets", 7, "secret", 6));
    cr_assert(!admin_token_equal("", 0, "secret", 6));
    cr_assert(!admin_token_equal("secret\0", 7, "secret", 6));
    cr_assert(!admin_token_equal("xecret", 6, "secret", 6), "the first byte counts too");
    cr_assert(admin_token_equal("", 0, "", 0));
}

Test(admin, error_documents_are_valid_json_whatever_the_message)
{
    struct admin_answer ans = {.status = 200};
    json_t *s;

    sbuf_init(&ans.body);
    sbuf_puts(&ans.body, "{\"partial\":");
    admin_error(&ans, 409, "drover is draining: no %s", "reload");
    cr_assert_eq(ans.status, 409);
    cr_assert_str_eq(ans.body.data, "{\"error\":\"drover is draining: no reload\"}",
                     "what the handler wrote before is replaced");
    admin_error(&ans, 400, "a \"quoted\"\nline with a \\ and caf\xc3\xa9 and \xe9");
    cr_assert_str_eq(ans.body.data,
                     "{\"error\":\"a \\\"quoted\\\"\\nline with a \\\\ and caf\xc3\xa9 and "
                     "\xc3\xa9\"}",
                     "a stray byte is read as Latin-1: %s", ans.body.data);
    sbuf_free(&ans.body);
    s = admin_string("\xff");
    cr_assert_str_eq(json_string_value(s), "\xc3\xbf");
    json_decref(s);
    s = admin_string(NULL);
    cr_assert(json_is_null(s));
    json_decref(s);
}

/* ---- answers and routing ----------------------------------------------------- */

Test(admin, answers_have_the_common_headers_and_keep_alive)
{
    struct resp r;
    int fd;

    live_start("127.0.0.1:0", NULL);
    fd = live_connect();
    send_str(fd, GET("/hello", ""));
    read_resp(fd, &r, false);
    cr_assert_eq(r.status, 200);
    cr_assert(strncmp(r.head, "HTTP/1.1 200 OK\r\n", 17) == 0);
    cr_assert_str_eq(hdr(&r, "Content-Type"), "application/json");
    cr_assert_str_eq(hdr(&r, "Cache-Control"), "no-store");
    cr_assert_not_null(hdr(&r, "Date"), "RFC 9110 6.6.1: an origin with a clock sends Date");
    cr_assert_eq(strlen(hdr(&r, "Date")), (size_t)HTTP_DATE_LEN);
    cr_assert_str_eq(hdr(&r, "Content-Length"), "15");
    cr_assert_str_eq(r.body, "{\"hello\":true}\n", "a final newline is added");
    cr_assert_null(hdr(&r, "Connection"), "HTTP/1.1 keep-alive is the default");
    free(r.body);
    send_str(fd, GET("/text", ""));
    read_resp(fd, &r, false);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(hdr(&r, "Content-Type"), "text/plain; version=0.0.4");
    cr_assert_str_eq(r.body, "m 1\n", "no second newline");
    free(r.body);
    cr_assert(still_open(fd));
    close(fd);
    cr_assert_eq(seen.calls, 2);
}

Test(admin, handler_statuses_refusals_and_out_of_memory)
{
    live_start("127.0.0.1:0", NULL);
    expect(GET("/secret", ""), 203, "{\"secret\":1}\n");
    expect(POST("/refuse", ""), 422, "{\"error\":\"bad \\\"thing\\\"\\tthere \xc3\xbf\"}\n");
    expect(GET("/oom", ""), 500, "{\"error\":\"out of memory\"}\n");
}

Test(admin, the_token_guards_the_routes_that_need_it)
{
    struct resp r;

    live_start("127.0.0.1:0", "s3cret");
    cr_assert_eq(exchange(GET("/secret", ""), &r), 401);
    cr_assert_str_eq(hdr(&r, "WWW-Authenticate"), "Bearer");
    cr_assert_str_eq(r.body, "{\"error\":\"missing or wrong bearer token\"}\n");
    free(r.body);
    expect(GET("/secret", AUTH), 203, "{\"secret\":1}\n");
    expect(GET("/secret", "Authorization: bearer s3cret\r\n"), 203, NULL);
    expect(GET("/secret", "Authorization: BEARER   s3cret  \r\n"), 203, NULL);
    expect(GET("/secret", "Authorization: Bearer S3cret\r\n"), 401, NULL);
    expect(GET("/secret", "Authorization: Bearer s3cre\r\n"), 401, NULL);
    expect(GET("/secret", "Authorization: Bearer s3crett\r\n"), 401, NULL);
    expect(GET("/secret", "Authorization: Bearer\r\n"), 401, NULL);
    expect(GET("/secret", "Authorization: Bearers3cret\r\n"), 401, NULL);
    expect(GET("/secret", "Authorization: Basic s3cret\r\n"), 401, NULL);
    expect(GET("/secret", "Authorization: s3cret\r\n"), 401, NULL);
    /* A public route needs none, and a wrong one does not hurt. */
    expect(GET("/hello", ""), 200, NULL);
    expect(GET("/hello", "Authorization: Bearer nope\r\n"), 200, NULL);
}

Test(admin, no_token_in_force_opens_every_route)
{
    live_start("127.0.0.1:0", "");
    expect(GET("/secret", ""), 203, NULL);
    expect(GET("/secret", "Authorization: Bearer anything\r\n"), 203, NULL);
}

Test(admin, auth_then_method_then_path)
{
    struct resp r;

    live_start("127.0.0.1:0", "s3cret");
    /* Without the token a wrong method and an unknown path are both 401. */
    expect(GET("/echo", ""), 401, NULL);
    expect(GET("/nope", ""), 401, NULL);
    expect(POST("/nope", ""), 401, NULL);
    cr_assert_eq(exchange(GET("/echo", AUTH), &r), 405);
    cr_assert_str_eq(hdr(&r, "Allow"), "POST");
    cr_assert_str_eq(r.body, "{\"error\":\"use POST\"}\n");
    free(r.body);
    /* A public path: 405 without a token. */
    cr_assert_eq(exchange(POST("/hello", ""), &r), 405);
    cr_assert_str_eq(hdr(&r, "Allow"), "GET, HEAD");
    cr_assert_str_eq(r.body, "{\"error\":\"use GET or HEAD\"}\n");
    free(r.body);
    cr_assert_eq(exchange("DELETE /both HTTP/1.1\r\nHost: t\r\n" AUTH "\r\n", &r), 405);
    cr_assert_str_eq(hdr(&r, "Allow"), "GET, HEAD, POST");
    free(r.body);
    expect(GET("/nope", AUTH), 404, "{\"error\":\"no such endpoint\"}\n");
    /* One path, two methods, two handlers. */
    expect(GET("/both", AUTH), 200, "{\"hello\":true}\n");
    expect(POST("/both", AUTH), 201, "0:\n");
    cr_assert_eq(seen.calls, 2);
}

Test(admin, routes_match_the_path_only)
{
    live_start("127.0.0.1:0", NULL);
    expect(GET("/hello?verbose=1&x=/secret", ""), 200, NULL);
    cr_assert_str_eq(seen.path, "/hello", "the handler sees the path without the query");
    cr_assert(!seen.had_param);
    expect("GET http://localhost:8081/hello HTTP/1.1\r\nHost: localhost:8081\r\n\r\n", 200, NULL);
    expect("GET http://localhost:8081 HTTP/1.1\r\nHost: localhost:8081\r\n\r\n", 404, NULL);
    expect(GET("/hello/", ""), 404, NULL);
    expect(GET("/HELLO", ""), 404, NULL);
    expect(GET("/", ""), 404, NULL);
    expect(GET("/hellox", ""), 404, NULL);
    cr_assert_eq(seen.calls, 2);
}

Test(admin, a_pattern_passes_its_segment)
{
    char req[256], seg[65];

    live_start("127.0.0.1:0", NULL);
    expect(POST("/items/my_worker-2/poke?x", ""), 202, "{\"item\":\"my_worker-2\"}\n");
    cr_assert(seen.had_param);
    cr_assert_str_eq(seen.param, "my_worker-2");
    cr_assert_str_eq(seen.path, "/items/my_worker-2/poke");
    expect(POST("/items//poke", ""), 404, NULL);
    expect(POST("/items/a%20b/poke", ""), 404, NULL);
    expect(POST("/items/../poke", ""), 404, NULL);
    expect(POST("/items/a.b/poke", ""), 404, NULL);
    expect(POST("/items/web/poke/now", ""), 404, NULL);
    expect(POST("/items/web", ""), 404, NULL);
    memset(seg, 'a', 64);
    seg[64] = '\0';
    snprintf(req, sizeof(req), POST("/items/%s/poke", ""), seg);
    expect(req, 404, NULL); /* 64 characters: one too many */
    seg[63] = '\0';
    snprintf(req, sizeof(req), POST("/items/%s/poke", ""), seg);
    expect(req, 202, NULL);
    cr_assert_eq(strlen(seen.param), 63);
}

Test(admin, head_has_the_headers_and_no_body)
{
    struct resp r;
    int fd;

    live_start("127.0.0.1:0", NULL);
    fd = live_connect();
    send_str(fd, "HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\n");
    read_resp(fd, &r, true);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(hdr(&r, "Content-Length"), "15");
    free(r.body);
    /* Had a body been sent, it would be read as this answer's head. */
    send_str(fd, GET("/hello", ""));
    read_resp(fd, &r, false);
    cr_assert_eq(r.status, 200);
    free(r.body);
    close(fd);
}

Test(admin, pipelined_requests_answered_in_order_then_close)
{
    struct resp r;
    int fd;

    live_start("127.0.0.1:0", NULL);
    fd = live_connect();
    send_str(fd, GET("/hello", "")
                 "\r\n" /* a stray empty line between requests is ignored */
                 "POST /items/web/poke HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc"
                 "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "2\r\nhi\r\n0\r\n\r\n"
                 "GET /text HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    read_resp(fd, &r, false);
    cr_assert_eq(r.status, 200);
    free(r.body);
    read_resp(fd, &r, false);
    cr_assert_eq(r.status, 202);
    cr_assert_str_eq(r.body, "{\"item\":\"web\"}\n");
    free(r.body);
    read_resp(fd, &r, false);
    cr_assert_eq(r.status, 201);
    cr_assert_str_eq(r.body, "2:hi\n");
    free(r.body);
    read_resp(fd, &r, false);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(hdr(&r, "Connection"), "close");
    cr_assert_str_eq(r.body, "m 1\n");
    free(r.body);
    cr_assert(closed_soon(fd));
    close(fd);
    cr_assert_eq(seen.calls, 4);
}

Test(admin, bodies_reach_the_handler_whole)
{
    struct resp r;
    char *big = malloc(65536 + 256), want[32];
    int fd;

    live_start("127.0.0.1:0", NULL);
    expect("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 9\r\n\r\n{\"web\":3}", 201,
           "9:{\"web\":3}\n");
    /* Chunked, in pieces: de-chunked for the handler. */
    fd = live_connect();
    send_str(fd, "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"we");
    usleep(50 * 1000);
    send_str(fd, "b\r\n4\r\n\":7}\r\n0\r\n\r\n");
    read_resp(fd, &r, false);
    cr_assert_str_eq(r.body, "9:{\"web\":7}\n");
    free(r.body);
    close(fd);
    /* Exactly 64 KiB, larger than the read buffer. */
    memset(big, 'x', 65536);
    fd = live_connect();
    send_str(fd, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 65536\r\n\r\n");
    send_bytes(fd, big, 65536);
    read_resp(fd, &r, false);
    snprintf(want, sizeof(want), "65536:xxxx");
    cr_assert(strncmp(r.body, want, strlen(want)) == 0);
    cr_assert_eq(seen.body_len, 65536);
    free(r.body);
    close(fd);
    free(big);
}

Test(admin, expect_100_continue_gets_its_interim_answer)
{
    struct resp r;
    char got[26] = {0};
    int fd;

    live_start("127.0.0.1:0", NULL);
    fd = live_connect();
    send_str(fd, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n");
    for (size_t i = 0; i < 25; i++)
        cr_assert_eq(read_byte(fd, &got[i]), 1);
    cr_assert_str_eq(got, "HTTP/1.1 100 Continue\r\n\r\n");
    send_str(fd, "ok");
    read_resp(fd, &r, false);
    cr_assert_eq(r.status, 201);
    cr_assert_str_eq(r.body, "2:ok\n");
    free(r.body);
    close(fd);
}

Test(admin, limits_413_431_414)
{
    struct resp r;
    char *big = malloc(20000);
    int fd;

    live_start("127.0.0.1:0", NULL);
    /* Body over 64 KiB by Content-Length: refused at once, unread. */
    fd = live_connect();
    send_str(fd, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 65537\r\n\r\n");
    read_resp(fd, &r, false);
    cr_assert_eq(r.status, 413);
    cr_assert_str_eq(hdr(&r, "Connection"), "close");
    cr_assert_str_eq(r.body, "{\"error\":\"request body larger than 64 KiB\"}\n");
    free(r.body);
    cr_assert(closed_soon(fd));
    close(fd);

    /* Chunked over 64 KiB. */
    fd = live_connect();
    send_str(fd, "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
    memset(big, 'a', 16384);
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
    send_str(fd, "GET /hello HTTP/1.1\r\nHost: t\r\nX-Big: ");
    send_bytes(fd, big, 17000);
    read_resp(fd, &r, false);
    cr_assert_eq(r.status, 431);
    cr_assert_str_eq(r.body, "{\"error\":\"request head larger than 16 KiB\"}\n");
    free(r.body);
    close(fd);

    /* A target over 2 KiB, and over the router's own 8 KiB. */
    for (size_t len = 2100; len <= 9000; len += 6900) {
        char *req = malloc(len + 64);

        memset(big, 'p', len);
        snprintf(req, len + 64, "GET /%.*s HTTP/1.1\r\nHost: t\r\n\r\n", (int)len, big);
        expect(req, 414, "{\"error\":\"request target longer than 2 KiB\"}\n");
        free(req);
    }
    cr_assert_eq(seen.calls, 0);
    free(big);
}

Test(admin, malformed_requests_get_400_and_close)
{
    struct resp r;
    int fd;

    live_start("127.0.0.1:0", NULL);
    fd = live_connect();
    send_str(fd, "\x16\x03\x01 garbage\r\n\r\n");
    read_resp(fd, &r, false);
    cr_assert_eq(r.status, 400);
    cr_assert_str_eq(hdr(&r, "Connection"), "close");
    free(r.body);
    cr_assert(closed_soon(fd));
    close(fd);

    expect("GET /hello HTTP/1.1\r\n\r\n", 400, "{\"error\":\"missing Host header\"}\n");
    expect("GET /hello HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400,
           "{\"error\":\"more than one Host header\"}\n");
    expect("GET /secret HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer a\r\n"
           "Authorization: Bearer b\r\n\r\n",
           400, "{\"error\":\"more than one Authorization header\"}\n");
    expect("GET /hello HTTP/1.1\nHost: t\n\n", 400, NULL);
    expect("GET /hello HTTP/1.1\r\nHost: t\r\n folded\r\n\r\n", 400, NULL);
    expect("GET /hello HTTP/2.0\r\nHost: t\r\n\r\n", 505,
           "{\"error\":\"only HTTP/1.0 and HTTP/1.1 are supported\"}\n");
    expect("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400,
           NULL);
    expect("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
           400, NULL);
    cr_assert_eq(seen.calls, 0);
}

Test(admin, http10_keep_alive_rules)
{
    struct resp r;
    int fd;

    live_start("127.0.0.1:0", NULL);
    fd = live_connect();
    send_str(fd, "GET /hello HTTP/1.0\r\n\r\n");
    read_resp(fd, &r, false);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(hdr(&r, "Connection"), "close");
    free(r.body);
    cr_assert(closed_soon(fd));
    close(fd);
    fd = live_connect();
    send_str(fd, "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    read_resp(fd, &r, false);
    cr_assert_str_eq(hdr(&r, "Connection"), "keep-alive");
    free(r.body);
    cr_assert(still_open(fd));
    close(fd);
}

Test(admin, refused_before_the_body_is_read)
{
    struct resp r;
    int fd;

    live_start("127.0.0.1:0", "s3cret");
    fd = live_connect();
    send_str(fd, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n");
    read_resp(fd, &r, false);
    cr_assert_eq(r.status, 401);
    cr_assert_str_eq(hdr(&r, "Connection"), "close");
    free(r.body);
    close(fd);
    fd = live_connect();
    send_str(fd, "POST /nope HTTP/1.1\r\nHost: t\r\n" AUTH "Content-Length: 10\r\n\r\n");
    read_resp(fd, &r, false);
    cr_assert_eq(r.status, 404);
    free(r.body);
    close(fd);
    cr_assert_eq(seen.calls, 0);
}

Test(admin, admin_stop_inside_a_handler_still_answers)
{
    struct resp r;
    int idle, fd;

    live_start("127.0.0.1:0", NULL);
    idle = live_connect();
    fd = live_connect();
    send_str(fd, POST("/stop-admin", ""));
    read_resp(fd, &r, false);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(hdr(&r, "Connection"), "close");
    cr_assert_str_eq(r.body, "{\"stopped\":true}\n");
    free(r.body);
    cr_assert(closed_soon(fd));
    cr_assert(closed_soon(idle), "other connections are closed too");
    close(fd);
    close(idle);
    cr_assert_lt(connect_to(live.addr), 0, "still listening");
    cr_assert_null(live.admin);
}

/* ---- the listener --------------------------------------------------------- */

Test(admin, unix_socket_stale_file_live_file_and_cleanup)
{
    char path[96], text[128], err[256], want[256];
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    struct admin_api api = {routes, sizeof(routes) / sizeof(routes[0]), NULL, NULL, 0};
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
    addr = parse_addr(text);
    cr_assert_null(admin_start(other, &addr, &api, err, sizeof(err)));
    snprintf(want, sizeof(want), "cannot listen on %s: another process accepts connections there",
             text);
    cr_assert_str_eq(err, want);
    ev_loop_destroy(other);
    expect(GET("/hello", ""), 200, NULL);

    live_end();
    cr_assert_neq(stat(path, &st), 0, "admin_stop removes the socket file");
}

Test(admin, address_in_use_and_port_0)
{
    struct admin_api api = {routes, sizeof(routes) / sizeof(routes[0]), NULL, NULL, 0};
    struct conf_addr addr;
    char err[256], want[256];
    struct ev_loop *other;

    live_start("127.0.0.1:0", NULL);
    cr_assert(strncmp(live.addr, "127.0.0.1:", 10) == 0 && atoi(live.addr + 10) > 0,
              "admin_addr has the port the kernel chose: %s", live.addr);
    other = ev_loop_new(EVFLAG_AUTO);
    addr = parse_addr(live.addr);
    cr_assert_null(admin_start(other, &addr, &api, err, sizeof(err)));
    snprintf(want, sizeof(want), "cannot listen on %s: Address already in use", live.addr);
    cr_assert_str_eq(err, want);
    ev_loop_destroy(other);
}

Test(admin, idle_and_slow_requests_are_closed)
{
    struct resp r;
    int idle, slow, used;
    long long t0;

    live_start_idle("127.0.0.1:0", NULL, 0.3);
    idle = live_connect();
    slow = live_connect();
    used = live_connect();
    send_str(used, GET("/hello", ""));
    read_resp(used, &r, false);
    free(r.body);
    /* A head trickled byte by byte does not push the deadline back: the
     * connection closes about idle_s (0.3 s) after the first byte, long
     * before the 31 bytes x 50 ms have gone. */
    t0 = (long long)(ev_time() * 1000);
    long long closed_at = -1;
    for (const char *s = "GET /hello HTTP/1.1\r\nHost: t\r\n"; *s && closed_at < 0; s++) {
        struct pollfd p = {slow, POLLIN, 0};

        if (send(slow, s, 1, MSG_NOSIGNAL) < 0 || poll(&p, 1, 50) > 0)
            closed_at = (long long)(ev_time() * 1000) - t0;
    }
    cr_assert(closed_at >= 0, "a trickled head kept the connection open for 1.5 s");
    cr_assert_lt(closed_at, 1000, "closed %lld ms after the first byte: the deadline slid", closed_at);
    cr_assert(closed_soon(slow));
    cr_assert(closed_soon(idle));
    cr_assert(closed_soon(used), "idle after an answer");
    close(idle);
    close(slow);
    close(used);
}

Test(admin, connections_beyond_the_cap_wait_in_the_backlog)
{
    int fds[ADMIN_MAX_CONNS], extra;
    struct resp r;

    live_start("127.0.0.1:0", NULL);
    for (int i = 0; i < ADMIN_MAX_CONNS; i++)
        fds[i] = live_connect();
    /* Make sure every one of them was accepted. */
    send_str(fds[ADMIN_MAX_CONNS - 1], GET("/hello", ""));
    read_resp(fds[ADMIN_MAX_CONNS - 1], &r, false);
    free(r.body);
    extra = live_connect();
    send_str(extra, GET("/hello", ""));
    cr_assert(still_open(extra), "answered beyond the cap");
    close(fds[0]);
    read_resp(extra, &r, false);
    cr_assert_eq(r.status, 200);
    free(r.body);
    close(extra);
    for (int i = 1; i < ADMIN_MAX_CONNS; i++)
        close(fds[i]);
}
