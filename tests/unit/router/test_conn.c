/* router/conn.c: one client connection's state machine, over a socketpair,
 * with a real worker (a config loaded from YAML, its route table, buffers
 * and reaper) whose serve function is the test's own: it records every head
 * it is handed and answers it as the test says, the way proxy.c would (the
 * client's keep-alive decided, the head consumed, then drover's own answer
 * or the request ended). The client's end of the pair is read by a watcher
 * on the same loop; each test runs the loop until the outcome it waits for
 * (or a deadline of a few seconds), then asserts what the client got and
 * what serve saw, in which order. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ev.h>

#include "tests/unit/spin.h"
#include "conf/config.h"
#include "router/backend.h"
#include "router/buf.h"
#include "router/conn.h"
#include "router/http.h"
#include "router/metrics.h"
#include "router/request.h"
#include "router/route.h"
#include "router/worker.h"

#define DEADLINE 5.0
#define MAX_SERVED 8

static struct ev_loop *loop;
static struct backend_registry reg;
static struct conf_ref *cref;
static struct worker w;
static bool await_proxy;        /* the next start() is on a proxy_protocol listener */

/* ---- the client's end ------------------------------------------------- */

static struct client {
    int fd;
    ev_io io;
    bool eof;
    size_t len;
    char buf[64 * 1024];
} cl = {.fd = -1};

static void client_cb(struct ev_loop *l, ev_io *io, int revents)
{
    (void)revents;
    for (;;) {
        ssize_t n = read(cl.fd, cl.buf + cl.len, sizeof(cl.buf) - 1 - cl.len);

        if (n > 0) {
            cl.len += (size_t)n;
            cl.buf[cl.len] = '\0';
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        cl.eof = true; /* EOF (or a reset: the connection is over either way) */
        ev_io_stop(l, io);
        return;
    }
}

static void client_send(const char *data, size_t len)
{
    cr_assert_eq(send(cl.fd, data, len, MSG_NOSIGNAL), (ssize_t)len);
}

static void client_puts(const char *s)
{
    client_send(s, strlen(s));
}

static void client_close(void)
{
    ev_io_stop(loop, &cl.io);
    if (cl.fd >= 0)
        close(cl.fd);
    cl.fd = -1;
}

/* Complete responses in what the client got (drover's own answers always
 * carry a Content-Length); *first_len is the length of the first. */
static int responses(size_t *first_len)
{
    const char *p = cl.buf, *end = cl.buf + cl.len;
    int n = 0;

    while (p < end) {
        const char *head_end = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
        const char *cls;
        long body;

        if (head_end == NULL)
            break;
        cls = memmem(p, (size_t)(head_end - p), "Content-Length: ", 16);
        cr_assert_not_null(cls, "a response without Content-Length: %s", p);
        body = strtol(cls + 16, NULL, 10);
        if (head_end + 4 + body > end)
            break;
        if (n == 0 && first_len != NULL)
            *first_len = (size_t)(head_end + 4 + body - p);
        p = head_end + 4 + body;
        n++;
    }
    return n;
}

/* ---- the worker's serve function -------------------------------------- */

enum serve_mode {
    REPLY_KEEP,     /* conn_reply_error(c, 200, "served <target>", true) */
    REPLY_404_CLOSE,/* conn_reply_error(c, 404, ..., false) */
    WRITE_AND_DONE, /* its own response straight to the socket, then conn_request_done */
    HOLD,           /* answered later by the test (a request being proxied) */
};

static struct served {
    int n;
    int depth, max_depth;
    bool parsed_inside;         /* a head was served before the answer call returned */
    enum serve_mode mode;
    struct conn *held;
    struct {
        uint8_t method;
        uint8_t minor;
        char target[128];
        size_t client_had;      /* response bytes the client could read by then */
        char ip[64];            /* the connection's client address then */
    } h[MAX_SERVED];
} sv;

static void held_readable(struct conn *c)
{
    conn_read_stop(c);
}

static void held_writable(struct conn *c)
{
    ev_io_stop(c->w->loop, &c->wio);
}

static void held_timeout(struct conn *c)
{
    conn_close(c);
}

static const struct conn_ops held_ops = {held_readable, held_writable, held_timeout};

static void fake_serve(struct conn *c, struct http_head *h)
{
    struct request *req = c->req;
    int i = sv.n++;
    int pending = 0;
    char reason[160];

    cr_assert_lt(i, MAX_SERVED);
    sv.depth++;
    if (sv.depth > sv.max_depth)
        sv.max_depth = sv.depth;
    sv.h[i].method = h->method;
    sv.h[i].minor = h->minor;
    snprintf(sv.h[i].target, sizeof(sv.h[i].target), "%.*s", (int)h->target.len,
             http_str(h, h->target));
    snprintf(sv.h[i].ip, sizeof(sv.h[i].ip), "%s", c->ip);
    ioctl(cl.fd, FIONREAD, &pending);
    sv.h[i].client_had = cl.len + (size_t)pending;

    /* What proxy_start does with a request without a body. */
    req->client_keep_alive = h->minor == 1 ? !h->conn_close : h->conn_keep_alive && !h->conn_close;
    req->req_done = true;
    c->in->start += h->len;

    snprintf(reason, sizeof(reason), "served %s", sv.h[i].target);
    switch (sv.mode) {
    case REPLY_KEEP:
        conn_reply_error(c, 200, reason, true);
        break;
    case REPLY_404_CLOSE:
        conn_reply_error(c, 404, "no route here", false);
        break;
    case WRITE_AND_DONE: {
        char resp[256];
        int n = snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n%s",
                         strlen(reason), reason);

        cr_assert_eq(send(c->fd, resp, (size_t)n, MSG_NOSIGNAL), n);
        req->status = 200;
        conn_request_done(c, req->client_keep_alive);
        break;
    }
    case HOLD:
        cr_assert_null(sv.held, "a second head while the first is unanswered");
        sv.held = c;
        c->state = CS_PROXY;
        c->ops = &held_ops;
        conn_read_stop(c);
        conn_set_timeout(c, T_UPSTREAM);
        break;
    }
    /* conn_request_done parses a buffered head from the loop, never from
     * inside the call that ended the request before it. */
    if (sv.n != i + 1)
        sv.parsed_inside = true;
    sv.depth--;
}

/* The test answers the held request, as the proxy would once the backend
 * has. Called from outside any callback. */
static void answer_held(const char *reason)
{
    struct conn *c = sv.held;

    cr_assert_not_null(c);
    sv.held = NULL;
    conn_reply_error(c, 200, reason, true);
}

/* ---- the loop --------------------------------------------------------- */

static bool spin(bool (*pred)(void))
{
    return spin_until(loop, DEADLINE, pred);
}

/* A few iterations that do not wait: whatever the bytes already read can
 * set off happens in them. */
static void turn(int n)
{
    for (int i = 0; i < n; i++)
        ev_run(loop, EVRUN_NOWAIT);
}

static bool client_eof(void)
{
    return cl.eof;
}

static bool one_response(void)
{
    return responses(NULL) >= 1;
}

static bool two_responses(void)
{
    return responses(NULL) >= 2;
}

static bool three_responses(void)
{
    return responses(NULL) >= 3;
}

static bool no_connections(void)
{
    return w.nconns == 0 && w.dead_conns == NULL;
}

static bool served_one(void)
{
    return sv.n >= 1;
}

static bool served_two(void)
{
    return sv.n >= 2;
}

/* ---- set-up ------------------------------------------------------------ */

static void finished(void *ctx)
{
    (void)ctx;
}

/* A worker for a config of these timeouts and limits, and one client
 * connection to it, accepted from a made-up IPv4 peer. */
static void start(const char *client_header, const char *max_header_bytes, enum serve_mode mode)
{
    char yaml[512], path[] = "/tmp/drover-conn-XXXXXX", err[4096];
    struct sockaddr_in peer = {.sin_family = AF_INET};
    struct conf *conf;
    int fd = mkstemp(path), sp[2];
    int n;

    n = snprintf(yaml, sizeof(yaml),
                 "timeouts:\n  client_header: %s\n  idle: 10s\n  upstream: 10s\n"
                 "limits:\n  max_header_bytes: %s\n"
                 "routes:\n  - path: /\n    backends: [127.0.0.1:9]\n",
                 client_header, max_header_bytes);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, yaml, (size_t)n), n);
    close(fd);
    conf = conf_load(path, err, sizeof(err));
    unlink(path);
    cr_assert_not_null(conf, "config: %s", err);
    loop = ev_loop_new(EVFLAG_AUTO);
    cr_assert_not_null(loop);
    cref = conf_ref_new(conf);
    cr_assert_not_null(cref);
    backend_registry_init(&reg, 1);
    struct worker_setup ws = {.cref = cref, .reg = &reg, .nworkers = 1, .access_fd = -1, .on_finished = finished};
    cr_assert_eq(worker_init(&w, &ws, 0, loop), 0);
    w.serve = fake_serve;
    memset(&sv, 0, sizeof(sv));
    sv.mode = mode;

    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sp), 0);
    memset(&cl, 0, sizeof(cl));
    cl.fd = sp[1];
    ev_io_init(&cl.io, client_cb, cl.fd, EV_READ);
    ev_io_start(loop, &cl.io);
    inet_pton(AF_INET, "192.0.2.7", &peer.sin_addr);
    peer.sin_port = htons(40000);
    conn_accept(&w, sp[0], (struct sockaddr *)&peer, 8080, await_proxy, NULL);
    cr_assert_eq(w.nconns, 1);
    cr_assert_not_null(w.conns);
    cr_assert_str_eq(w.conns->ip, "192.0.2.7");
}

static void start_default(enum serve_mode mode)
{
    start("5s", "16k", mode);
}

static void teardown(void)
{
    client_close();
    if (loop == NULL)
        return;
    conn_free_all(&w);
    cr_assert_eq(w.nconns, 0);
    worker_destroy(&w);
    backend_registry_clear(&reg);
    conf_ref_put(cref);
    ev_loop_destroy(loop);
    loop = NULL;
    await_proxy = false;
}

TestSuite(conn, .fini = teardown, .timeout = 20);

static void assert_response(const char *status_line)
{
    cr_assert(strncmp(cl.buf, status_line, strlen(status_line)) == 0, "the client got: %s", cl.buf);
}

static void assert_has(const char *s)
{
    cr_assert_not_null(strstr(cl.buf, s), "no \"%s\" in: %s", s, cl.buf);
}

/* ---- heads ------------------------------------------------------------- */

Test(conn, a_complete_head_is_served_once)
{
    start_default(REPLY_KEEP);
    client_puts("GET /a/b?c=1 HTTP/1.1\r\nHost: example.test\r\n\r\n");
    cr_assert(spin(one_response));
    turn(5);
    cr_assert_eq(sv.n, 1);
    cr_assert_eq(sv.h[0].method, HTTP_GET);
    cr_assert_eq(sv.h[0].minor, 1);
    cr_assert_str_eq(sv.h[0].target, "/a/b?c=1");
    assert_response("HTTP/1.1 200 OK\r\n");
    assert_has("served /a/b?c=1");
    cr_assert_null(strstr(cl.buf, "Connection: close"));
    /* Kept for the next request. */
    cr_assert_not(cl.eof);
    cr_assert_eq(w.nconns, 1);
    cr_assert_eq(w.conns->state, CS_IDLE);
    cr_assert_eq(responses(NULL), 1);
}

Test(conn, a_head_in_pieces_is_served_once_it_is_complete)
{
    start_default(REPLY_KEEP);
    client_puts("POST /sl");
    turn(5);
    client_puts("ow HTTP/1.1\r\nHost: x\r\n");
    turn(5);
    cr_assert_eq(sv.n, 0, "served before the head was complete");
    client_puts("Content-Length: 0\r\n\r\n");
    cr_assert(spin(served_one));
    cr_assert_eq(sv.h[0].method, HTTP_POST);
    cr_assert_str_eq(sv.h[0].target, "/slow");
}

Test(conn, empty_lines_before_the_request_line_are_skipped)
{
    start_default(REPLY_KEEP);
    client_puts("\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\n\r\n");
    cr_assert(spin(one_response));
    cr_assert_eq(sv.n, 1);
    cr_assert_str_eq(sv.h[0].target, "/after");
}

/* ---- pipelining -------------------------------------------------------- */

Test(conn, pipelined_requests_are_served_in_order_without_recursion)
{
    size_t first_len = 0;

    start_default(REPLY_KEEP);
    client_puts("GET /one HTTP/1.1\r\nHost: x\r\n\r\nGET /two HTTP/1.1\r\nHost: x\r\n\r\n");
    cr_assert(spin(two_responses));
    turn(5);
    cr_assert_eq(sv.n, 2);
    cr_assert_str_eq(sv.h[0].target, "/one");
    cr_assert_str_eq(sv.h[1].target, "/two");
    cr_assert_eq(sv.max_depth, 1, "serve was entered again from inside itself");
    cr_assert_not(sv.parsed_inside);
    /* The second head was parsed once the first answer had gone out. */
    cr_assert_eq(responses(&first_len), 2);
    cr_assert_eq(sv.h[0].client_had, 0);
    cr_assert_geq(sv.h[1].client_had, first_len, "the second was served before the first's answer");
    cr_assert_lt(strstr(cl.buf, "served /one"), strstr(cl.buf, "served /two"));
    cr_assert_not(cl.eof);
    cr_assert_eq(w.conns->state, CS_IDLE);
}

Test(conn, pipelined_requests_ended_by_request_done_are_served_in_order)
{
    start_default(WRITE_AND_DONE);
    client_puts("GET /1 HTTP/1.1\r\nHost: x\r\n\r\n"
                "GET /2 HTTP/1.1\r\nHost: x\r\n\r\n"
                "GET /3 HTTP/1.1\r\nHost: x\r\n\r\n");
    cr_assert(spin(three_responses));
    turn(5);
    cr_assert_eq(sv.n, 3);
    cr_assert_eq(sv.max_depth, 1);
    cr_assert_not(sv.parsed_inside);
    for (int i = 0; i < 3; i++) {
        char want[16];

        snprintf(want, sizeof(want), "/%d", i + 1);
        cr_assert_str_eq(sv.h[i].target, want);
    }
    cr_assert_lt(strstr(cl.buf, "served /1"), strstr(cl.buf, "served /2"));
    cr_assert_lt(strstr(cl.buf, "served /2"), strstr(cl.buf, "served /3"));
}

Test(conn, a_pipelined_head_waits_for_the_answer_before_it)
{
    start_default(HOLD);
    client_puts("GET /first HTTP/1.1\r\nHost: x\r\n\r\nGET /second HTTP/1.1\r\nHost: x\r\n\r\n");
    cr_assert(spin(served_one));
    /* Both heads were read at once; the second is not parsed while the
     * first is unanswered. */
    turn(10);
    cr_assert_eq(sv.n, 1);
    cr_assert_str_eq(sv.h[0].target, "/first");
    cr_assert_eq(cl.len, 0);
    answer_held("first done");
    cr_assert(spin(served_two));
    cr_assert_str_eq(sv.h[1].target, "/second");
    cr_assert(spin(one_response));
    cr_assert_eq(responses(NULL), 1, "the second was answered before the test did");
    answer_held("second done");
    cr_assert(spin(two_responses));
    cr_assert_lt(strstr(cl.buf, "first done"), strstr(cl.buf, "second done"));
    cr_assert_eq(sv.max_depth, 1);
}

/* ---- drover's own errors ---------------------------------------------- */

Test(conn, garbage_gets_400_and_the_connection_closes)
{
    start_default(REPLY_KEEP);
    client_puts("\x16\x03\x01\x02\x00 not http\r\n\r\n");
    cr_assert(spin(client_eof));
    assert_response("HTTP/1.1 400 ");
    assert_has("Connection: close\r\n");
    assert_has("X-Request-Id: ");
    cr_assert_eq(responses(NULL), 1);
    cr_assert_eq(sv.n, 0, "garbage reached serve");
    cr_assert(spin(no_connections));
}

Test(conn, a_head_over_max_header_bytes_gets_431)
{
    char head[3000];
    char big[2049];

    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    snprintf(head, sizeof(head), "GET / HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n", big);
    start("5s", "1k", REPLY_KEEP);
    client_puts(head);
    cr_assert(spin(client_eof));
    assert_response("HTTP/1.1 431 ");
    assert_has("limits.max_header_bytes");
    cr_assert_eq(sv.n, 0);
    cr_assert(spin(no_connections));
}

Test(conn, an_unfinished_head_over_max_header_bytes_gets_431_at_once)
{
    char head[3000];
    char big[2049];

    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    /* No blank line: the head never ends, it only grows. */
    snprintf(head, sizeof(head), "GET / HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n", big);
    start("5s", "1k", REPLY_KEEP);
    client_puts(head);
    cr_assert(spin(client_eof));
    assert_response("HTTP/1.1 431 ");
    cr_assert_eq(sv.n, 0);
}

Test(conn, a_request_line_over_the_limit_gets_414)
{
    char line[9000];

    memset(line, 'a', sizeof(line) - 1);
    memcpy(line, "GET /", 5);
    line[sizeof(line) - 1] = '\0';
    start("5s", "1k", REPLY_KEEP);
    client_puts(line);
    cr_assert(spin(client_eof));
    assert_response("HTTP/1.1 414 ");
    cr_assert_eq(sv.n, 0);
}

Test(conn, a_slow_head_gets_408_at_client_header)
{
    start("100ms", "16k", REPLY_KEEP);
    client_puts("GET / HTTP/1.1\r\nHost: x\r\n");
    cr_assert(spin(client_eof), "no answer within %.0fs", DEADLINE);
    assert_response("HTTP/1.1 408 ");
    assert_has("request head not received within 100ms");
    assert_has("Connection: close\r\n");
    cr_assert_eq(sv.n, 0);
    cr_assert(spin(no_connections));
}

Test(conn, a_silent_connection_closes_at_client_header_without_a_word)
{
    start("100ms", "16k", REPLY_KEEP);
    cr_assert(spin(client_eof), "still open after %.0fs", DEADLINE);
    cr_assert_eq(cl.len, 0, "the client got: %s", cl.buf);
    cr_assert(spin(no_connections));
}

Test(conn, serve_answering_without_keep_alive_closes)
{
    start_default(REPLY_404_CLOSE);
    client_puts("GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n");
    cr_assert(spin(client_eof));
    assert_response("HTTP/1.1 404 ");
    assert_has("Connection: close\r\n");
    cr_assert_eq(sv.n, 1);
    cr_assert(spin(no_connections));
}

/* ---- keep-alive and closing -------------------------------------------- */

Test(conn, an_idle_connection_the_client_closes_is_gone)
{
    start_default(REPLY_KEEP);
    client_puts("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    cr_assert(spin(one_response));
    turn(3);
    cr_assert_eq(w.nconns, 1);
    cr_assert_eq(w.conns->state, CS_IDLE);
    client_close();
    cr_assert(spin(no_connections), "still %u connections", w.nconns);
    cr_assert_eq(sv.n, 1);
}

Test(conn, keep_alive_serves_the_next_request_on_the_same_connection)
{
    start_default(REPLY_KEEP);
    client_puts("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
    cr_assert(spin(one_response));
    client_puts("GET /b HTTP/1.1\r\nHost: x\r\n\r\n");
    cr_assert(spin(two_responses));
    cr_assert_eq(sv.n, 2);
    cr_assert_str_eq(sv.h[1].target, "/b");
    cr_assert_eq(w.nconns, 1);
}

Test(conn, http_1_0_without_keep_alive_closes_after_the_answer)
{
    start_default(REPLY_KEEP);
    client_puts("GET /old HTTP/1.0\r\n\r\n");
    cr_assert(spin(client_eof));
    cr_assert_eq(sv.n, 1);
    cr_assert_eq(sv.h[0].minor, 0);
    assert_response("HTTP/1.1 200 ");
    assert_has("Connection: close\r\n");
    cr_assert_eq(responses(NULL), 1);
    cr_assert(spin(no_connections));
}

Test(conn, http_1_0_with_keep_alive_stays_open_and_says_so)
{
    start_default(REPLY_KEEP);
    client_puts("GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    cr_assert(spin(one_response));
    turn(3);
    assert_has("Connection: keep-alive\r\n");
    cr_assert_not(cl.eof);
    cr_assert_eq(w.nconns, 1);
    cr_assert_eq(w.conns->state, CS_IDLE);
}

Test(conn, http_1_1_connection_close_closes_after_the_answer)
{
    start_default(REPLY_KEEP);
    client_puts("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    cr_assert(spin(client_eof));
    assert_response("HTTP/1.1 200 ");
    assert_has("Connection: close\r\n");
    cr_assert(spin(no_connections));
}

/* ---- PROXY protocol ---- */

Test(conn, a_proxy_header_gives_the_client_address_and_http_follows)
{
    await_proxy = true;
    start_default(REPLY_KEEP);
    /* In pieces: the header split, then the request in the same write as its end. */
    client_puts("PROXY TCP4 198.51.100.9 203.0.113.1 5");
    turn(5);
    cr_assert_eq(sv.n, 0);
    client_puts("1234 443\r\nGET /p HTTP/1.1\r\nHost: x\r\n\r\n");
    cr_assert(spin(one_response));
    cr_assert_eq(sv.n, 1);
    cr_assert_str_eq(sv.h[0].target, "/p");
    cr_assert_str_eq(sv.h[0].ip, "198.51.100.9");
    /* Only the first bytes of a connection: the next request is plain HTTP. */
    client_puts("GET /q HTTP/1.1\r\nHost: x\r\n\r\n");
    cr_assert(spin(two_responses));
    cr_assert_str_eq(sv.h[1].ip, "198.51.100.9");
}

Test(conn, a_v2_local_header_keeps_the_peer_address)
{
    /* LOCAL over TCP/IPv4, with addresses that are not a client's. */
    static const char local[28] = "\r\n\r\n\0\r\nQUIT\n\x20\x11\x00\x0c"
                                  "\xc6\x33\x64\x4d\x7f\x00\x00\x01\x04\xd2\x00\x50";
    static const char req[] = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
    char both[28 + sizeof(req)];

    memcpy(both, local, 28);
    memcpy(both + 28, req, sizeof(req) - 1);
    await_proxy = true;
    start_default(REPLY_KEEP);
    client_send(both, 28 + sizeof(req) - 1);
    cr_assert(spin(one_response));
    cr_assert_str_eq(sv.h[0].ip, "192.0.2.7");
}

Test(conn, no_or_a_bad_proxy_header_closes_without_an_answer)
{
    await_proxy = true;
    start_default(REPLY_KEEP);
    client_puts("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    cr_assert(spin(client_eof));
    cr_assert_eq(sv.n, 0);
    cr_assert_eq(cl.len, 0, "an answer went to a peer that sent no PROXY header: %s", cl.buf);
    cr_assert_eq(counter_get(&w.metrics->proxy_rejected[PP_MISSING]), 1);
}

Test(conn, a_malformed_proxy_header_is_counted_as_such)
{
    await_proxy = true;
    start_default(REPLY_KEEP);
    client_puts("PROXY TCP4 300.0.0.1 203.0.113.1 1 2\r\n");
    cr_assert(spin(client_eof));
    cr_assert_eq(sv.n, 0);
    cr_assert_eq(counter_get(&w.metrics->proxy_rejected[PP_MALFORMED]), 1);
}
