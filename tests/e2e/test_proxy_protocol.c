/* PROXY protocol listeners behind a real HAProxy in TCP mode
 * (send-proxy and send-proxy-v2): the client, bound to 127.0.0.5, is who
 * the backend and the access log see. Peers outside proxy_trusted, and
 * connections without a header, are closed and counted. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/e2e/http11.h"

#define HAPROXY "/usr/sbin/haproxy"

static bool have_haproxy(void)
{
    if (access(HAPROXY, X_OK) == 0)
        return true;
    e2e_log("SKIP: %s is not installed (scripts/deps.sh installs it)", HAPROXY);
    return false;
}

/* HAProxy in TCP mode: fv1 → drover with a v1 header, fv2 → with v2. */
static struct e2e_proc *haproxy_in_front(int fv1, int fv2, int dp)
{
    char *cfg = e2e_write_file("haproxy.cfg",
                               e2e_fmt("global\n  maxconn 200\n"
                                       "defaults\n  mode tcp\n  timeout connect 2s\n"
                                       "  timeout client 10s\n  timeout server 10s\n"
                                       "frontend v1\n  bind 127.0.0.1:%d\n  default_backend v1\n"
                                       "frontend v2\n  bind 127.0.0.1:%d\n  default_backend v2\n"
                                       "backend v1\n  server d 127.0.0.1:%d send-proxy\n"
                                       "backend v2\n  server d 127.0.0.1:%d send-proxy-v2\n",
                                       fv1, fv2, dp, dp));
    char *argv[] = {HAPROXY, "-db", "-f", cfg, NULL};
    struct e2e_proc *h = e2e_spawn("haproxy", argv, NULL);

    e2e_wait_listening(addr_of(fv1), 5000, h);
    e2e_wait_listening(addr_of(fv2), 5000, h);
    return h;
}

/* One GET through addr from 127.0.0.5; the backend's raw log then holds it. */
static void get_from_5(const char *addr, const char *path)
{
    struct client *c = client_try_open_from(addr, "127.0.0.5");
    struct http_resp r;

    ASSERT(c != NULL, "cannot connect to %s from 127.0.0.5", addr);
    client_send_str(c, e2e_fmt("GET %s HTTP/1.1\r\nHost: t\r\n\r\n", path));
    ASSERT(client_read(c, &r, false, 3000) == 0, "%s: no answer through HAProxy", path);
    ASSERT(r.status == 200, "%s: %d %s", path, r.status, first_line(r.body));
    resp_free(&r);
    client_close(c);
}

/* The value of one sample line of drover's /metrics on admin port ap. */
static long metric(int ap, const char *sample)
{
    struct http_resp r;
    const char *at;
    long v;

    http_get(addr_of(ap), "/metrics", &r);
    at = strstr(r.body, sample);
    ASSERT(at != NULL, "no %s in: %s", sample, r.body);
    v = strtol(at + strlen(sample), NULL, 10);
    resp_free(&r);
    return v;
}

E2E_TEST(proxy_protocol_v1_and_v2_behind_haproxy, 60)
{
    static const char answer[] = "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok";
    int bp = e2e_free_port(), dp = e2e_free_port(), fv1 = e2e_free_port(), fv2 = e2e_free_port();
    int ap = e2e_free_port();
    struct e2e_proc *raw, *d, *h;
    char *log;
    long missing;

    if (!have_haproxy())
        return;
    raw = e2e_raw_server("raw", bp, answer, strlen(answer));
    d = e2e_drover(e2e_fmt("listen:\n"
                           "  - address: 127.0.0.1:%d\n"
                           "    proxy_protocol: true\n"
                           "    proxy_trusted: [127.0.0.1/32]\n"
                           "admin:\n  listen: 127.0.0.1:%d\n"
                           "log:\n  access: %s/access.log\n"
                           "routes:\n  - path: /\n    backends: [127.0.0.1:%d]\n",
                           dp, ap, e2e_dir(), bp),
                   addr_of(dp));
    h = haproxy_in_front(fv1, fv2, dp);
    get_from_5(addr_of(fv1), "/v1");
    e2e_wait_log(raw, "GET /v1 HTTP/1.1\\r\\nHost: t\\r\\nX-Forwarded-For: 127.0.0.5\\r\\n", 3000);
    get_from_5(addr_of(fv2), "/v2");
    e2e_wait_log(raw, "GET /v2 HTTP/1.1\\r\\nHost: t\\r\\nX-Forwarded-For: 127.0.0.5\\r\\n", 3000);
    /* The access log names the client too. */
    for (long long t = e2e_now_ms();; e2e_sleep_ms(20)) {
        log = e2e_read_file(e2e_fmt("%s/access.log", e2e_dir()), NULL);
        if (log != NULL && strstr(log, "/v2") != NULL)
            break;
        free(log);
        ASSERT(e2e_now_ms() - t < 3000, "no access log line for /v2");
    }
    ASSERT(strncmp(log, "127.0.0.5 ", 10) == 0, "access log: %s", log);
    free(log);

    /* Straight to drover, no header: closed without an answer, and counted. */
    missing = metric(ap, "drover_proxy_protocol_rejected_total{reason=\"missing\"} ");
    {
        struct client *c = client_open(addr_of(dp));
        char buf[64];

        client_send_str(c, GET_OK);
        ASSERT(client_read_raw(c, buf, sizeof(buf), 3000) == 0, "an answer without a PROXY header");
        client_close(c);
    }
    ASSERT(metric(ap, "drover_proxy_protocol_rejected_total{reason=\"missing\"} ") == missing + 1,
           "the connection without a header was not counted once");
    e2e_stop(h, SIGTERM, 3000);
    e2e_drover_stop(d);
}

/* A peer outside proxy_trusted is closed at accept, whatever it sends: it
 * could claim any address. */
E2E_TEST(proxy_protocol_from_an_untrusted_peer_is_closed, 30)
{
    int bp, dp = e2e_free_port(), ap = e2e_free_port();
    struct e2e_proc *d;
    struct client *c;
    struct http_resp r;
    char buf[64];
    long before;

    bp = e2e_free_port();
    e2e_backend("a", bp);
    d = e2e_drover(e2e_fmt("listen:\n"
                           "  - address: 127.0.0.1:%d\n"
                           "    proxy_protocol: true\n"
                           "    proxy_trusted: [127.0.0.5/32]\n"
                           "admin:\n  listen: 127.0.0.1:%d\n"
                           "log:\n  access: off\n"
                           "routes:\n  - path: /\n    backends: [127.0.0.1:%d]\n",
                           dp, ap, bp),
                   addr_of(dp));
    /* (drover's start-up was probed from 127.0.0.1 too: count from here.) */
    before = metric(ap, "drover_proxy_protocol_rejected_total{reason=\"untrusted\"} ");
    c = client_open(addr_of(dp)); /* from 127.0.0.1 */
    client_send_str(c, "PROXY TCP4 203.0.113.9 127.0.0.1 1234 80\r\n" GET_OK);
    ASSERT(client_read_raw(c, buf, sizeof(buf), 3000) == 0, "an untrusted peer was answered");
    client_close(c);
    /* From 127.0.0.5, trusted, the same bytes are served. */
    c = client_try_open_from(addr_of(dp), "127.0.0.5");
    ASSERT(c != NULL, "connect from 127.0.0.5");
    client_send_str(c, "PROXY TCP4 203.0.113.9 127.0.0.1 1234 80\r\n" GET_OK);
    ASSERT(client_read(c, &r, false, 3000) == 0 && r.status == 200, "trusted peer: no 200");
    resp_free(&r);
    client_close(c);
    ASSERT(metric(ap, "drover_proxy_protocol_rejected_total{reason=\"untrusted\"} ") == before + 1,
           "the untrusted peer was not counted once");
    /* A reload turns it off on the same socket: plain HTTP from anyone. */
    e2e_write_file(e2e_fmt("%s.yaml", d->name),
                   e2e_fmt("listen: 127.0.0.1:%d\nadmin:\n  listen: 127.0.0.1:%d\nlog:\n  access: off\n"
                           "routes:\n  - path: /\n    backends: [127.0.0.1:%d]\n",
                           dp, ap, bp));
    kill(d->pid, SIGHUP);
    e2e_wait_log(d, "listen 127.0.0.1:", 5000);
    e2e_wait_log(d, "PROXY protocol off for new connections", 5000);
    c = client_open(addr_of(dp));
    get_ok(c, "plain HTTP after the reload", 3000);
    client_close(c);
    e2e_drover_stop(d);
}
