/* lib/probe.c: one HTTP GET or TCP connect check on a libev loop.
 *
 * Every test owns a loopback listener (127.0.0.1, a port the kernel picks)
 * answered from the same loop as the probe: it accepts, reads the check's
 * request and answers as the test says (or never, or closes at once). A
 * test starts one check, runs the loop until done has been called or a
 * generous deadline passed, then asserts what done got and how often. At
 * the end the test's own watchers stop and the loop is run to completion:
 * it only returns when the probe left nothing running, and a deadline the
 * probe forgot would call done a second time there. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ev.h>

#include "tests/unit/spin.h"
#include "lib/probe.h"

#define DEADLINE 5.0 /* seconds: far more than any check here needs */

/* ---- the server the probe checks ------------------------------------ */

enum answer_mode {
    ANSWER,         /* send answer once the request head is in, then close */
    ANSWER_SPLIT,   /* the same in two writes, the second 20ms later */
    NEVER,          /* read the request, never answer */
    HANG_UP,        /* read the request, then close without a word */
};

struct server {
    struct ev_loop *loop;
    int lfd, cfd;
    int port;
    enum answer_mode mode;
    const char *answer;
    ev_io accept_io, conn_io;
    ev_timer split;
    int accepted;
    bool answered;
    bool peer_closed;   /* read 0 from the probe: it closed its socket */
    size_t gotlen;
    char got[2048];     /* every byte the probe sent */
};

static struct ev_loop *loop;
static struct server srv, srv2;
static struct probe probe;

static struct outcome {
    int calls;
    bool ok;
    bool why_null;
    char why[128];
    bool after_run;     /* probe_run had returned when done ran */
    bool busy;          /* probe_busy() inside done */
    int fd;             /* p->fd inside done */
} out;

static bool run_returned;

static void server_close_conn(struct server *s)
{
    ev_io_stop(s->loop, &s->conn_io);
    ev_timer_stop(s->loop, &s->split);
    if (s->cfd >= 0)
        close(s->cfd);
    s->cfd = -1;
}

static void split_cb(struct ev_loop *l, ev_timer *t, int revents)
{
    struct server *s = t->data;
    size_t first = 10;

    (void)l;
    (void)revents;
    cr_assert_eq(send(s->cfd, s->answer + first, strlen(s->answer) - first, MSG_NOSIGNAL),
                 (ssize_t)(strlen(s->answer) - first));
    s->answered = true;
    server_close_conn(s);
}

static void conn_cb(struct ev_loop *l, ev_io *io, int revents)
{
    struct server *s = io->data;
    ssize_t n;

    (void)l;
    (void)revents;
    n = read(s->cfd, s->got + s->gotlen, sizeof(s->got) - 1 - s->gotlen);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        s->peer_closed = true;
        server_close_conn(s);
        return;
    }
    s->gotlen += (size_t)n;
    s->got[s->gotlen] = '\0';
    if (s->answered || strstr(s->got, "\r\n\r\n") == NULL)
        return;
    if (s->mode == HANG_UP) {
        s->answered = true;
        server_close_conn(s);
    } else if (s->mode == ANSWER) {
        cr_assert_eq(send(s->cfd, s->answer, strlen(s->answer), MSG_NOSIGNAL),
                     (ssize_t)strlen(s->answer));
        s->answered = true;
        server_close_conn(s);
    } else if (s->mode == ANSWER_SPLIT && !ev_is_active(&s->split)) {
        cr_assert_eq(send(s->cfd, s->answer, 10, MSG_NOSIGNAL), 10);
        ev_timer_set(&s->split, 0.02, 0.);
        ev_timer_start(s->loop, &s->split);
    }
}

static void accept_cb(struct ev_loop *l, ev_io *io, int revents)
{
    struct server *s = io->data;
    int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

    (void)revents;
    if (fd < 0)
        return;
    s->accepted++;
    cr_assert_lt(s->cfd, 0, "one connection at a time");
    s->cfd = fd;
    ev_io_init(&s->conn_io, conn_cb, fd, EV_READ);
    s->conn_io.data = s;
    ev_io_start(l, &s->conn_io);
}

/* A socket bound to 127.0.0.1 on a port of the kernel's choosing. */
static int bound_socket(int *port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sin);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    cr_assert_geq(fd, 0);
    cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0, "bind: %s", strerror(errno));
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
    *port = ntohs(sin.sin_port);
    return fd;
}

static void server_start(struct server *s, enum answer_mode mode, const char *answer)
{
    memset(s, 0, sizeof(*s));
    s->loop = loop;
    s->cfd = -1;
    s->mode = mode;
    s->answer = answer;
    s->lfd = bound_socket(&s->port);
    cr_assert_eq(listen(s->lfd, 16), 0);
    ev_io_init(&s->accept_io, accept_cb, s->lfd, EV_READ);
    s->accept_io.data = s;
    ev_io_start(loop, &s->accept_io);
    ev_init(&s->split, split_cb);
    s->split.data = s;
}

static void server_stop(struct server *s)
{
    server_close_conn(s);
    ev_io_stop(loop, &s->accept_io);
    if (s->lfd >= 0)
        close(s->lfd);
    s->lfd = -1;
}

/* ---- the probe's side ------------------------------------------------ */

static void done_cb(struct probe *p, bool ok, const char *why)
{
    struct outcome *o = p->data;

    o->calls++;
    o->ok = ok;
    o->why_null = why == NULL;
    snprintf(o->why, sizeof(o->why), "%s", why != NULL ? why : "");
    o->after_run = run_returned;
    o->busy = probe_busy(p);
    o->fd = p->fd;
}

/* Starts a check of 127.0.0.1:port; done must not have run inside. */
static void check(int port, const char *path, double timeout, const char *what)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    char host[32];
    int before = out.calls;

    sin.sin_port = htons((uint16_t)port);
    snprintf(host, sizeof(host), "127.0.0.1:%d", port);
    run_returned = false;
    probe_run(&probe, (struct sockaddr *)&sin, sizeof(sin), path, host, "drover-test/1", timeout,
              what);
    run_returned = true;
    cr_assert_eq(out.calls, before, "done ran inside probe_run");
    cr_assert(probe_busy(&probe));
}

static bool spin(bool (*pred)(void))
{
    return spin_until(loop, DEADLINE, pred);
}

static bool reported(void)
{
    return out.calls > 0;
}

static bool reported_twice(void)
{
    return out.calls > 1;
}

static bool request_in(void)
{
    return strstr(srv.got, "\r\n\r\n") != NULL;
}

static bool slow_asked(void)
{
    return strstr(srv2.got, "\r\n\r\n") != NULL;
}

static bool probe_hung_up(void)
{
    return srv.peer_closed;
}

/* The servers go; the loop then runs until nothing is active. It returns
 * at once unless the probe left a watcher running. */
static void settle(void)
{
    server_stop(&srv);
    server_stop(&srv2);
    ev_run(loop, 0);
    cr_assert_not(probe_busy(&probe));
}

static void setup(void)
{
    loop = ev_loop_new(EVFLAG_AUTO);
    cr_assert_not_null(loop);
    memset(&out, 0, sizeof(out));
    srv.loop = srv2.loop = loop;
    srv.lfd = srv.cfd = srv2.lfd = srv2.cfd = -1;
    probe_init(&probe, loop, done_cb, &out);
}

static void teardown(void)
{
    probe_cancel(&probe);
    server_stop(&srv);
    server_stop(&srv2);
    ev_loop_destroy(loop);
}

TestSuite(probe, .init = setup, .fini = teardown, .timeout = 20);

/* What every finished check shares: done ran once, from the loop (not
 * inside probe_run), with the probe idle and its socket closed. Called
 * after settle(), so a second report would have been counted. */
static void assert_reported_once(void)
{
    cr_assert_eq(out.calls, 1);
    cr_assert(out.after_run, "done ran inside probe_run");
    cr_assert_not(out.busy, "the probe was still busy in done");
    cr_assert_eq(out.fd, -1, "the socket was still open in done");
}

static void run_against(enum answer_mode mode, const char *answer, const char *path)
{
    server_start(&srv, mode, answer);
    check(srv.port, path, 2.0, "health.timeout");
    cr_assert(spin(reported), "done not called within %.0fs", DEADLINE);
}

/* ---- verdicts --------------------------------------------------------- */

Test(probe, http_200_is_ok)
{
    run_against(ANSWER, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "/health");
    cr_assert(out.ok, "why: %s", out.why);
    cr_assert(out.why_null);
    settle();
    assert_reported_once();
}

Test(probe, http_302_is_ok)
{
    run_against(ANSWER, "HTTP/1.1 302 Found\r\nLocation: /login\r\nContent-Length: 0\r\n\r\n", "/");
    cr_assert(out.ok, "why: %s", out.why);
    settle();
    assert_reported_once();
}

Test(probe, http_1_0_status_line_counts_too)
{
    run_against(ANSWER, "HTTP/1.0 204 No Content\r\n\r\n", "/");
    cr_assert(out.ok, "why: %s", out.why);
    settle();
    assert_reported_once();
}

Test(probe, http_503_is_not_ok_and_names_the_status)
{
    run_against(ANSWER, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n", "/health");
    cr_assert_not(out.ok);
    cr_assert_str_eq(out.why, "answered 503");
    settle();
    assert_reported_once();
}

Test(probe, http_404_is_not_ok)
{
    run_against(ANSWER, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", "/missing");
    cr_assert_not(out.ok);
    cr_assert_str_eq(out.why, "answered 404");
    settle();
    assert_reported_once();
}

Test(probe, status_line_in_two_pieces_is_put_together)
{
    run_against(ANSWER_SPLIT, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "/");
    cr_assert(out.ok, "why: %s", out.why);
    settle();
    assert_reported_once();
}

Test(probe, server_that_closes_without_answering_is_not_ok)
{
    run_against(HANG_UP, NULL, "/");
    cr_assert_not(out.ok);
    cr_assert_str_eq(out.why, "closed without answering");
    cr_assert_eq(srv.accepted, 1);
    settle();
    assert_reported_once();
}

Test(probe, tcp_check_against_a_listener_is_ok_and_sends_nothing)
{
    run_against(NEVER, NULL, NULL);
    cr_assert(out.ok, "why: %s", out.why);
    /* The connection reaches the server and ends without a byte. */
    cr_assert(spin(probe_hung_up));
    cr_assert_eq(srv.accepted, 1);
    cr_assert_eq(srv.gotlen, 0, "sent: %s", srv.got);
    settle();
    assert_reported_once();
}

Test(probe, closed_port_is_refused)
{
    int port, fd = bound_socket(&port); /* bound, never listening: refused, and nobody takes it */

    check(port, "/health", 2.0, "health.timeout");
    cr_assert(spin(reported));
    cr_assert_not(out.ok);
    cr_assert_str_eq(out.why, strerror(ECONNREFUSED));
    settle();
    assert_reported_once();
    close(fd);
}

Test(probe, tcp_check_of_a_closed_port_is_refused)
{
    int port, fd = bound_socket(&port);

    check(port, NULL, 0, NULL);
    cr_assert(spin(reported));
    cr_assert_not(out.ok);
    cr_assert_str_eq(out.why, strerror(ECONNREFUSED));
    settle();
    assert_reported_once();
    close(fd);
}

Test(probe, server_that_never_answers_times_out_naming_the_setting)
{
    server_start(&srv, NEVER, NULL);
    check(srv.port, "/health", 0.2, "ready.timeout");
    cr_assert(spin(reported));
    cr_assert_not(out.ok);
    cr_assert_str_eq(out.why, "no answer within ready.timeout");
    /* It had asked, and it hangs up when it gives up. */
    cr_assert(request_in());
    cr_assert(spin(probe_hung_up));
    settle();
    assert_reported_once();
}

Test(probe, request_too_long_to_build_fails_from_the_loop)
{
    char path[1400];

    memset(path, 'a', sizeof(path) - 1);
    path[0] = '/';
    path[sizeof(path) - 1] = '\0';
    run_against(NEVER, NULL, path);
    cr_assert_not(out.ok);
    cr_assert_str_eq(out.why, "cannot send the check");
    cr_assert_eq(srv.gotlen, 0);
    settle();
    assert_reported_once();
}

/* ---- what the server sees --------------------------------------------- */

Test(probe, request_is_a_get_with_host_and_user_agent)
{
    char want[256];

    run_against(ANSWER, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "/healthz?deep=1");
    cr_assert(out.ok, "why: %s", out.why);
    snprintf(want, sizeof(want),
             "GET /healthz?deep=1 HTTP/1.1\r\n"
             "Host: 127.0.0.1:%d\r\n"
             "User-Agent: drover-test/1\r\n"
             "Connection: close\r\n"
             "\r\n",
             srv.port);
    cr_assert_str_eq(srv.got, want);
    settle();
    assert_reported_once();
}

/* ---- cancelling and reusing ------------------------------------------- */

Test(probe, cancel_stops_a_check_without_done)
{
    server_start(&srv, NEVER, NULL);
    check(srv.port, "/health", 0.3, "health.timeout");
    /* Under way: the request is in, the answer will never come. */
    cr_assert(spin(request_in));
    probe_cancel(&probe);
    cr_assert_not(probe_busy(&probe));
    /* Its socket is closed, */
    cr_assert(spin(probe_hung_up));
    /* and its deadline (0.3s) never fires: the loop runs dry without done. */
    settle();
    cr_assert_eq(out.calls, 0);
}

Test(probe, a_new_check_cancels_the_running_one)
{
    /* srv2 never answers: a check of it only ends by its 0.3s deadline. */
    server_start(&srv2, NEVER, NULL);
    check(srv2.port, "/health", 0.3, "health.timeout");
    cr_assert(spin(slow_asked));
    server_start(&srv, ANSWER, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    check(srv.port, "/", 2.0, "health.timeout");
    cr_assert(spin(reported));
    cr_assert(out.ok, "the first check reported: %s", out.why);
    /* srv2's listener stays open until settle: the first check's deadline
     * would report there if it had not been cancelled. */
    settle();
    assert_reported_once();
}

Test(probe, a_probe_is_reused_for_the_next_check)
{
    run_against(ANSWER, "HTTP/1.1 503 Service Unavailable\r\n\r\n", "/");
    cr_assert_not(out.ok);
    cr_assert_str_eq(out.why, "answered 503");
    server_stop(&srv);

    server_start(&srv, ANSWER, "HTTP/1.1 200 OK\r\n\r\n");
    check(srv.port, "/", 2.0, "health.timeout");
    cr_assert(spin(reported_twice));
    cr_assert(out.ok, "why: %s", out.why);
    cr_assert(out.why_null);
    settle();
    cr_assert_eq(out.calls, 2);
}
