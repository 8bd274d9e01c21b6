/* The proxy path over static backends: what a client sees through drover. */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include "tests/e2e/client.h"
#include "tests/e2e/harness.h"

/* The config every test starts from: loopback only, no admin listener, no
 * access log unless the test asks for one. */
static char *config(int port, const char *rest)
{
    return e2e_fmt("listen: 127.0.0.1:%d\n"
                   "admin:\n  listen: off\n"
                   "log:\n  access: off\n"
                   "%s",
                   port, rest);
}

static char *addr_of(int port)
{
    return e2e_fmt("127.0.0.1:%d", port);
}

static bool is_hex_id(const char *s)
{
    if (s == NULL || strlen(s) != 32)
        return false;
    for (const char *p = s; *p; p++)
        if (!isxdigit((unsigned char)*p))
            return false;
    return true;
}

/* The backend's own count of accepted connections (asked directly). */
static long backend_connections(int port)
{
    struct http_resp r;
    const char *p;
    long n;

    http_get(addr_of(port), "/?stats=1", &r);
    ASSERT(r.status == 200, "stats answered %d", r.status);
    p = strstr(r.body, "\"connections\":");
    ASSERT(p != NULL, "no connections in %s", r.body);
    n = strtol(p + 14, NULL, 10);
    resp_free(&r);
    return n - 2; /* not counting the readiness probe and the stats connection */
}

E2E_TEST(proxy_get_and_head, 30)
{
    int bp = e2e_free_port(), dp = e2e_free_port();
    struct e2e_proc *d;
    struct http_resp r;

    e2e_backend("a", bp);
    d = e2e_drover(config(dp, e2e_fmt("routes:\n  - path: /\n    backends: [127.0.0.1:%d]\n", bp)),
                   addr_of(dp));
    http_get(addr_of(dp), "/", &r);
    ASSERT(r.status == 200, "got %d", r.status);
    ASSERT(strncmp(r.body, "hello from a (pid ", 18) == 0, "body %s", r.body);
    ASSERT(resp_header(&r, "X-Backend") && strcmp(resp_header(&r, "X-Backend"), "a") == 0);
    ASSERT(is_hex_id(resp_header(&r, "X-Request-Id")), "request id %s",
           resp_header(&r, "X-Request-Id"));
    ASSERT(r.keep_alive, "HTTP/1.1 response should allow keep-alive");
    resp_free(&r);

    http_exchange(addr_of(dp), "HEAD / HTTP/1.1\r\nHost: t\r\n\r\n", &r, 5000);
    ASSERT(r.status == 200 && r.body_len == 0, "HEAD: %d with %zu body bytes", r.status,
           r.body_len);
    ASSERT(resp_header(&r, "Content-Length") != NULL, "HEAD keeps Content-Length");
    resp_free(&r);
    e2e_drover_stop(d);
}

E2E_TEST(proxy_post_bodies, 60)
{
    int bp = e2e_free_port(), dp = e2e_free_port();
    size_t len = 3 * 1024 * 1024 + 17;
    char *body = malloc(len);
    struct e2e_proc *d;
    struct http_resp r;
    struct client *c;
    char *head;

    for (size_t i = 0; i < len; i++)
        body[i] = (char)('a' + (i * 7 + i / 13) % 26);
    e2e_backend("a", bp);
    d = e2e_drover(config(dp, e2e_fmt("routes:\n  - path: /\n    backends: [127.0.0.1:%d]\n", bp)),
                   addr_of(dp));
    c = client_open(addr_of(dp));
    /* Echoed back as it streams through, both ways at once. */
    head = e2e_fmt("POST /up?echo=1 HTTP/1.1\r\nHost: t\r\nContent-Length: %zu\r\n\r\n", len);
    client_send_str(c, head);
    client_send(c, body, len);
    ASSERT(client_read(c, &r, false, 20000) == 0, "no echo response");
    ASSERT(r.status == 200 && r.body_len == len, "status %d, %zu of %zu bytes", r.status,
           r.body_len, len);
    ASSERT(r.body_fnv == fnv1a(body, len, FNV_INIT), "echoed body differs");
    ASSERT(r.keep_alive, "a response that streamed beside its request keeps the connection");
    resp_free(&r);
    /* The same connection carries a small POST next. */
    client_send_str(c, "POST /?sum=1 HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello");
    ASSERT(client_read(c, &r, false, 5000) == 0);
    ASSERT(r.status == 200, "got %d", r.status);
    ASSERT(strncmp(r.body, "bytes=5 ", 8) == 0, "body %s", r.body);
    resp_free(&r);
    client_close(c);
    free(body);
    e2e_drover_stop(d);
}

E2E_TEST(request_head_rewritten, 30)
{
    int bp = e2e_free_port(), dp = e2e_free_port();
    struct e2e_proc *d;
    struct http_resp r;
    long long t, now_ms = (long long)time(NULL) * 1000;
    const char *p;

    e2e_backend("a", bp);
    d = e2e_drover(config(dp, e2e_fmt("routes:\n  - path: /\n    backends: [127.0.0.1:%d]\n", bp)),
                   addr_of(dp));
    http_exchange(addr_of(dp),
                  "GET /x?head=1 HTTP/1.1\r\n"
                  "Host: example.test\r\n"
                  "Connection: keep-alive, X-Secret\r\n"
                  "X-Secret: hop\r\n"
                  "Keep-Alive: timeout=5\r\n"
                  "Proxy-Connection: keep-alive\r\n"
                  "TE: trailers\r\n"
                  "Trailer: X-Sum\r\n"
                  "X-Forwarded-For: 10.0.0.1\r\n"
                  "X-Forwarded-Proto: https\r\n"
                  "X-Forwarded-Port: 1\r\n"
                  "X-Request-Start: t=1\r\n"
                  "X-Request-Id: my-id-123\r\n"
                  "X-Custom: kept\r\n"
                  "\r\n",
                  &r, 5000);
    ASSERT(r.status == 200, "got %d", r.status);
    e2e_log("upstream head:\n%s", r.body);
    ASSERT(strncmp(r.body, "GET /x?head=1 HTTP/1.1\r\n", 24) == 0);
    ASSERT(strstr(r.body, "\r\nHost: example.test\r\n") != NULL);
    ASSERT(strstr(r.body, "\r\nX-Custom: kept\r\n") != NULL);
    ASSERT(strstr(r.body, "\r\nX-Forwarded-For: 10.0.0.1, 127.0.0.1\r\n") != NULL);
    ASSERT(strstr(r.body, "\r\nX-Forwarded-Proto: http\r\n") != NULL);
    ASSERT(strstr(r.body, e2e_fmt("\r\nX-Forwarded-Port: %d\r\n", dp)) != NULL);
    ASSERT(strstr(r.body, "\r\nX-Request-Id: my-id-123\r\n") != NULL);
    p = strstr(r.body, "\r\nX-Request-Start: t=");
    ASSERT(p != NULL);
    t = strtoll(p + 21, NULL, 10);
    ASSERT(t > now_ms - 5000 && t < now_ms + 5000, "X-Request-Start t=%lld, now %lld", t, now_ms);
    /* Each set exactly once, hop-by-hop ones not at all. */
    for (const char *h = "X-Forwarded-For\0X-Forwarded-Proto\0X-Forwarded-Port\0X-Request-Start\0"
                         "X-Request-Id\0";
         *h; h += strlen(h) + 1) {
        const char *first = strstr(r.body, h);

        ASSERT(first != NULL && strstr(first + 1, h) == NULL, "%s not exactly once", h);
    }
    for (const char *h = "Connection:\0X-Secret\0Keep-Alive\0Proxy-Connection\0\r\nTE:\0";
         *h; h += strlen(h) + 1)
        ASSERT(strstr(r.body, h) == NULL, "%s was forwarded", h);
    /* Trailer is not hop-by-hop (RFC 9110 6.6.2). */
    ASSERT(strstr(r.body, "\r\nTrailer: X-Sum\r\n") != NULL, "Trailer was not forwarded");
    ASSERT(resp_header(&r, "X-Request-Id") && strcmp(resp_header(&r, "X-Request-Id"), "my-id-123") == 0,
           "the client's request id comes back");
    resp_free(&r);

    /* An unusable id is replaced, and the new one returned. */
    http_exchange(addr_of(dp), "GET /?head=1 HTTP/1.1\r\nHost: t\r\nX-Request-Id: a b\"c\r\n\r\n", &r,
                  5000);
    ASSERT(is_hex_id(resp_header(&r, "X-Request-Id")), "got %s", resp_header(&r, "X-Request-Id"));
    ASSERT(strstr(r.body, e2e_fmt("X-Request-Id: %s\r\n", resp_header(&r, "X-Request-Id"))) != NULL);
    resp_free(&r);
    e2e_drover_stop(d);
}

/* 10 keep-alive clients, 10 requests in flight at a time, 3000 in all. */
E2E_TEST(keepalive_pooling_and_even_spread, 60)
{
    int bp[3] = {e2e_free_port(), e2e_free_port(), e2e_free_port()}, dp = e2e_free_port();
    const char *names[3] = {"a", "b", "c"};
    struct client *c[10];
    long count[3] = {0, 0, 0}, conns = 0;
    struct e2e_proc *d;

    for (int i = 0; i < 3; i++)
        e2e_backend(names[i], bp[i]);
    d = e2e_drover(config(dp, e2e_fmt("balance: round_robin\n"
                                      "routes:\n  - path: /\n"
                                      "    backends: [127.0.0.1:%d, 127.0.0.1:%d, 127.0.0.1:%d]\n",
                                      bp[0], bp[1], bp[2])),
                   addr_of(dp));
    for (int i = 0; i < 10; i++)
        c[i] = client_open(addr_of(dp));
    for (int round = 0; round < 300; round++) {
        for (int i = 0; i < 10; i++)
            client_send_str(c[i], "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
        for (int i = 0; i < 10; i++) {
            struct http_resp r;
            const char *be;

            ASSERT(client_read(c[i], &r, false, 5000) == 0, "round %d client %d: no response",
                   round, i);
            ASSERT(r.status == 200, "round %d: status %d", round, r.status);
            ASSERT(r.keep_alive && resp_header(&r, "Connection") == NULL,
                   "round %d: drover closed a keep-alive client", round);
            be = resp_header(&r, "X-Backend");
            for (int k = 0; k < 3; k++)
                if (be != NULL && strcmp(be, names[k]) == 0)
                    count[k]++;
            resp_free(&r);
        }
    }
    for (int i = 0; i < 10; i++)
        client_close(c[i]);
    e2e_log("spread: a=%ld b=%ld c=%ld", count[0], count[1], count[2]);
    ASSERT(count[0] + count[1] + count[2] == 3000);
    for (int k = 0; k < 3; k++)
        ASSERT(count[k] >= 980 && count[k] <= 1020, "backend %s got %ld of 3000 (not within 2%%)",
               names[k], count[k]);
    for (int k = 0; k < 3; k++)
        conns += backend_connections(bp[k]);
    e2e_log("backend connections for 3000 requests: %ld", conns);
    ASSERT(conns <= 30, "backends saw %ld connections: the upstream pool is not reused", conns);
    e2e_drover_stop(d);
}

E2E_TEST(retry_on_a_live_backend_when_one_is_down, 30)
{
    int dead = e2e_free_port(), live = e2e_free_port(), dp = e2e_free_port();
    struct e2e_proc *d;

    e2e_backend("live", live);
    d = e2e_drover(config(dp, e2e_fmt("retries: 2\n"
                                      "routes:\n  - path: /\n"
                                      "    backends: [127.0.0.1:%d, 127.0.0.1:%d]\n",
                                      dead, live)),
                   addr_of(dp));
    for (int i = 0; i < 20; i++) {
        struct http_resp r;

        http_get(addr_of(dp), "/", &r);
        ASSERT(r.status == 200, "request %d: %d %s", i, r.status, r.body);
        ASSERT(strcmp(resp_header(&r, "X-Backend"), "live") == 0);
        resp_free(&r);
    }
    e2e_drover_stop(d);
}

E2E_TEST(all_backends_down_503, 30)
{
    int dp = e2e_free_port();
    struct e2e_proc *d;
    struct http_resp r;
    const char *id;

    d = e2e_drover(config(dp, e2e_fmt("routes:\n  - path: /\n"
                                      "    backends: [127.0.0.1:%d, 127.0.0.1:%d]\n",
                                      e2e_free_port(), e2e_free_port())),
                   addr_of(dp));
    for (int i = 0; i < 3; i++) {
        http_get(addr_of(dp), "/", &r);
        ASSERT(r.status == 503, "got %d", r.status);
        id = resp_header(&r, "X-Request-Id");
        ASSERT(is_hex_id(id));
        ASSERT(strstr(r.body, "503 Service Unavailable: ") == r.body, "body: %s", r.body);
        ASSERT(strstr(r.body, e2e_fmt("request id: %s", id)) != NULL, "body: %s", r.body);
        resp_free(&r);
    }
    e2e_drover_stop(d);
}

E2E_TEST(backend_closes_without_answer_502, 30)
{
    int bp = e2e_free_port(), dp = e2e_free_port();
    struct e2e_proc *d;
    struct http_resp r;
    struct client *c;

    e2e_backend("a", bp);
    d = e2e_drover(config(dp, e2e_fmt("routes:\n  - path: /\n    backends: [127.0.0.1:%d]\n", bp)),
                   addr_of(dp));
    c = client_open(addr_of(dp));
    client_send_str(c, "GET /?drop=1 HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT(client_read(c, &r, false, 5000) == 0);
    ASSERT(r.status == 502, "got %d", r.status);
    ASSERT(strstr(r.body, "502 Bad Gateway: backend closed the connection") == r.body, "body: %s",
           r.body);
    ASSERT(strstr(r.body, resp_header(&r, "X-Request-Id")) != NULL);
    resp_free(&r);
    /* The client's connection is still good for the next request. */
    client_send_str(c, "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT(client_read(c, &r, false, 5000) == 0);
    ASSERT(r.status == 200, "got %d", r.status);
    resp_free(&r);
    client_close(c);
    e2e_drover_stop(d);
}

E2E_TEST(backend_dies_mid_response_closes_client, 30)
{
    int bp = e2e_free_port(), dp = e2e_free_port();
    struct e2e_proc *d;
    struct http_resp r;
    struct client *c;

    e2e_backend("a", bp);
    d = e2e_drover(config(dp, e2e_fmt("routes:\n  - path: /\n    backends: [127.0.0.1:%d]\n", bp)),
                   addr_of(dp));
    c = client_open(addr_of(dp));
    client_send_str(c, "GET /?size=100000&close=1000 HTTP/1.1\r\nHost: t\r\n\r\n");
    /* The head already went out with its length: the truncation must be
     * visible as a short body and a closed connection, never as success. */
    ASSERT(client_read(c, &r, false, 5000) < 0, "a truncated response looked complete");
    ASSERT(r.status == 200 && r.body_len < 100000, "status %d, %zu bytes", r.status, r.body_len);
    ASSERT(client_wait_closed(c, 2000), "client connection left open");
    resp_free(&r);
    client_close(c);
    e2e_drover_stop(d);
}

E2E_TEST(upstream_timeout_504, 30)
{
    int bp = e2e_free_port(), dp = e2e_free_port();
    struct e2e_proc *d;
    struct http_resp r;
    long long t0;

    e2e_backend("a", bp);
    d = e2e_drover(config(dp, e2e_fmt("timeouts:\n  upstream: 300ms\n"
                                      "routes:\n  - path: /\n    backends: [127.0.0.1:%d]\n",
                                      bp)),
                   addr_of(dp));
    t0 = e2e_now_ms();
    http_get(addr_of(dp), "/?delay=3000", &r);
    ASSERT(r.status == 504, "got %d", r.status);
    ASSERT(e2e_now_ms() - t0 < 2000, "504 took %lldms", e2e_now_ms() - t0);
    ASSERT(strstr(r.body, "did not respond within 300ms") != NULL, "body: %s", r.body);
    resp_free(&r);
    e2e_drover_stop(d);
}

/* A backend that accepts and never answers (hung): an idempotent request
 * goes to another backend after timeouts.upstream, and the hung one is
 * skipped for a while; a POST is never sent twice. */
E2E_TEST(upstream_timeout_retries_an_idempotent_request_elsewhere, 30)
{
    int bp = e2e_free_port(), hp = e2e_free_port(), dp = e2e_free_port();
    struct e2e_proc *d;
    struct http_resp r;
    long long t0;

    e2e_backend("a", bp);
    struct e2e_proc *hung = e2e_raw_server("hung", hp, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nX-Backend: hung\r\n\r\nhung", 0);
    d = e2e_drover(config(dp, e2e_fmt("timeouts:\n  upstream: 300ms\nhealth: {interval: 5s}\n"
                                      "routes:\n  - path: /\n    balance: round_robin\n"
                                      "    backends: [127.0.0.1:%d, 127.0.0.1:%d]\n",
                                      hp, bp)),
                   addr_of(dp));
    t0 = e2e_now_ms();
    http_get(addr_of(dp), "/", &r);
    ASSERT(r.status == 200 && strcmp(resp_header(&r, "X-Backend"), "a") == 0, "got %d from %s", r.status,
           resp_header(&r, "X-Backend"));
    e2e_log("answered by a after %lldms", e2e_now_ms() - t0);
    resp_free(&r);
    /* Skipped now: no new connection reaches it. */
    for (int i = 0; i < 4; i++) {
        http_get(addr_of(dp), "/", &r);
        ASSERT(r.status == 200 && strcmp(resp_header(&r, "X-Backend"), "a") == 0);
        resp_free(&r);
    }
    /* Requests, not connections: an active check (a TCP connect, first
     * due anywhere in the 5s interval) may connect meanwhile. */
    ASSERT(strstr(e2e_log_of(hung), "in 2:") == NULL, "the hung backend was tried again:\n%s", e2e_log_of(hung));
    e2e_wait_log(d, "no response head within timeouts.upstream", 1000);
    e2e_drover_stop(d);
}

static char *wait_for_log_line(const char *path, const char *needle)
{
    for (int i = 0; i < 200; i++) {
        char *text = e2e_read_file(path, NULL);
        char *line;

        if (text != NULL && (line = strstr(text, needle)) != NULL) {
            while (line > text && line[-1] != '\n')
                line--;
            *strchrnul(line, '\n') = '\0';
            return line;
        }
        free(text);
        e2e_sleep_ms(10);
    }
    e2e_fail(__FILE__, __LINE__, "no line with %s in %s", needle, path);
}

E2E_TEST(access_log_text, 30)
{
    int bp = e2e_free_port(), dp = e2e_free_port();
    char *log = e2e_fmt("%s/access.log", e2e_dir());
    char date[32], rest[512], ip[64], method[16], uri[256], proto[16];
    int status, n = 0;
    unsigned long bytes;
    struct e2e_proc *d;
    struct http_resp r;
    char *line;

    e2e_backend("a", bp);
    d = e2e_drover(e2e_fmt("listen: 127.0.0.1:%d\nadmin:\n  listen: off\n"
                           "log:\n  access: %s\n  format: text\n"
                           "routes:\n  - path: /\n    backends: [127.0.0.1:%d]\n",
                           dp, log, bp),
                   addr_of(dp));
    http_exchange(addr_of(dp),
                  "GET /logged?q=1 HTTP/1.1\r\nHost: t\r\nUser-Agent: e2e \"agent\"\r\n"
                  "Referer: http://ref.test/\r\nX-Request-Id: log-1\r\n\r\n",
                  &r, 5000);
    ASSERT(r.status == 200);
    line = wait_for_log_line(log, "rid=log-1");
    e2e_log("%s", line);
    /* 127.0.0.1 - - [24/Nov/2026:10:11:12 +0000] "GET /logged?q=1 HTTP/1.1" 200 30
     * "http://ref.test/" "e2e \x22agent\x22" rt=0.001 backend=127.0.0.1:N route=/ rid=log-1 */
    ASSERT(sscanf(line, "%63s - - [%31[^]]] \"%15s %255s %15[^\"]\" %d %lu %n", ip, date, method,
                  uri, proto, &status, &bytes, &n) == 7 && n > 0,
           "unparsable line");
    ASSERT(strcmp(ip, "127.0.0.1") == 0 && strcmp(method, "GET") == 0 &&
           strcmp(uri, "/logged?q=1") == 0 && strcmp(proto, "HTTP/1.1") == 0 && status == 200);
    ASSERT(bytes == r.body_len, "logged %lu body bytes, sent %zu", bytes, r.body_len);
    ASSERT(strlen(date) == 26 && date[2] == '/' && strcmp(date + 20, " +0000") == 0, "date %s", date);
    snprintf(rest, sizeof(rest), "%s", line + n);
    ASSERT(strncmp(rest, "\"http://ref.test/\" \"e2e \\x22agent\\x22\" rt=0.", 41) == 0, "rest: %s",
           rest);
    ASSERT(strstr(rest, e2e_fmt(" backend=127.0.0.1:%d route=/ rid=log-1", bp)) != NULL, "rest: %s",
           rest);
    resp_free(&r);
    e2e_drover_stop(d);
}

E2E_TEST(access_log_json, 30)
{
    int bp = e2e_free_port(), dp = e2e_free_port();
    char *log = e2e_fmt("%s/access.json", e2e_dir());
    struct e2e_proc *d;
    struct http_resp r;
    char *line;

    e2e_backend("a", bp);
    d = e2e_drover(e2e_fmt("listen: 127.0.0.1:%d\nadmin:\n  listen: off\n"
                           "log:\n  access: %s\n  format: json\n"
                           "routes:\n  - path: /\n    backends: [127.0.0.1:%d]\n",
                           dp, log, bp),
                   addr_of(dp));
    http_exchange(addr_of(dp),
                  "GET /j?x=\"1\" HTTP/1.1\r\nHost: h.test\r\nX-Request-Id: log-2\r\n\r\n", &r, 5000);
    ASSERT(r.status == 200);
    line = wait_for_log_line(log, "\"request_id\":\"log-2\"");
    e2e_log("%s", line);
    ASSERT(line[0] == '{' && line[strlen(line) - 1] == '}');
    ASSERT(strncmp(line, "{\"time\":\"", 9) == 0 && line[9 + 23] == 'Z', "time: %.40s", line);
    ASSERT(strstr(line, "\"client\":\"127.0.0.1\",\"method\":\"GET\",\"uri\":\"/j?x=\\\"1\\\"\","
                        "\"proto\":\"HTTP/1.1\",\"host\":\"h.test\",\"status\":200,") != NULL);
    ASSERT(strstr(line, e2e_fmt("\"bytes\":%zu,\"duration_ms\":", r.body_len)) != NULL);
    ASSERT(strstr(line, e2e_fmt("\"backend\":\"127.0.0.1:%d\",\"route\":\"/\"", bp)) != NULL);
    ASSERT(strstr(line, "\"user_agent\":null,\"referer\":null}") != NULL);
    resp_free(&r);
    e2e_drover_stop(d);
}

static const char *backend_of(const char *dp, const char *host, const char *path, char **body)
{
    struct http_resp r;
    static char name[64];

    http_exchange(dp, e2e_fmt("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, host), &r, 5000);
    ASSERT(r.status == 200, "%s%s: %d", host, path, r.status);
    snprintf(name, sizeof(name), "%s", resp_header(&r, "X-Backend"));
    if (body != NULL)
        *body = e2e_fmt("%s", r.body);
    resp_free(&r);
    return name;
}

E2E_TEST(routes_by_host_then_path_with_strip_prefix, 30)
{
    int p[4] = {e2e_free_port(), e2e_free_port(), e2e_free_port(), e2e_free_port()};
    int dp = e2e_free_port();
    struct e2e_proc *d;
    char *dpa = addr_of(dp), *body;
    struct http_resp r;

    e2e_backend("exact", p[0]);
    e2e_backend("wild", p[1]);
    e2e_backend("api", p[2]);
    e2e_backend("default", p[3]);
    d = e2e_drover(config(dp, e2e_fmt("routes:\n"
                                      "  - path: /api/\n    strip_prefix: true\n"
                                      "    backends: [127.0.0.1:%d]\n"
                                      "  - host: a.test\n    backends: [127.0.0.1:%d]\n"
                                      "  - host: \"*.b.test\"\n    backends: [127.0.0.1:%d]\n"
                                      "  - path: /\n    backends: [127.0.0.1:%d]\n",
                                      p[2], p[0], p[1], p[3])),
                   dpa);
    ASSERT(strcmp(backend_of(dpa, "a.test", "/x", NULL), "exact") == 0);
    ASSERT(strcmp(backend_of(dpa, "A.Test:8080", "/x", NULL), "exact") == 0);
    /* The host decides before the path: /api/ on a known host stays there. */
    ASSERT(strcmp(backend_of(dpa, "x.b.test", "/api/y", NULL), "wild") == 0);
    ASSERT(strcmp(backend_of(dpa, "deep.x.b.test", "/", NULL), "wild") == 0);
    ASSERT(strcmp(backend_of(dpa, "b.test", "/", NULL), "default") == 0);
    ASSERT(strcmp(backend_of(dpa, "other", "/api/v1?head=1", &body), "api") == 0);
    ASSERT(strncmp(body, "GET /v1?head=1 HTTP/1.1\r\n", 25) == 0, "stripped: %.40s", body);
    ASSERT(strcmp(backend_of(dpa, "other", "/api?head=1", &body), "api") == 0);
    ASSERT(strncmp(body, "GET /?head=1 HTTP/1.1\r\n", 23) == 0, "stripped: %.40s", body);
    ASSERT(strcmp(backend_of(dpa, "other", "/apiary", NULL), "default") == 0);

    /* An absolute-form target names the host too. */
    http_exchange(dpa, "GET http://a.test/z HTTP/1.1\r\nHost: ignored\r\n\r\n", &r, 5000);
    ASSERT(r.status == 200 && strcmp(resp_header(&r, "X-Backend"), "exact") == 0);
    resp_free(&r);
    e2e_drover_stop(d);
}

E2E_TEST(no_route_404, 30)
{
    int bp = e2e_free_port(), dp = e2e_free_port();
    struct e2e_proc *d;
    struct http_resp r;

    e2e_backend("a", bp);
    d = e2e_drover(config(dp, e2e_fmt("routes:\n  - path: /only/\n    backends: [127.0.0.1:%d]\n",
                                      bp)),
                   addr_of(dp));
    http_get(addr_of(dp), "/elsewhere", &r);
    ASSERT(r.status == 404, "got %d", r.status);
    ASSERT(strstr(r.body, "404 Not Found: no route") == r.body, "body %s", r.body);
    resp_free(&r);
    e2e_drover_stop(d);
}

/* RFC 9112 6.3: drover's own answer to HEAD ends with its head, or a
 * client takes the body for the next response (found by fuzz_proxy). */
E2E_TEST(head_answered_by_drover_has_no_body, 30)
{
    int bp = e2e_free_port(), dp = e2e_free_port();
    struct e2e_proc *d;
    struct http_resp r;
    struct client *c;
    char rest[256];

    e2e_backend("a", bp);
    d = e2e_drover(config(dp, e2e_fmt("routes:\n  - path: /only/\n    backends: [127.0.0.1:%d]\n",
                                      bp)),
                   addr_of(dp));
    /* A 404 on a kept connection, then a GET whose 404 has its body. */
    c = client_open(addr_of(dp));
    client_send_str(c, "HEAD /elsewhere HTTP/1.1\r\nHost: t\r\n\r\n"
                       "GET /elsewhere HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT(client_read(c, &r, true, 5000) == 0, "no answer to HEAD");
    ASSERT(r.status == 404 && r.keep_alive, "HEAD got %d", r.status);
    ASSERT(resp_header(&r, "Content-Length") != NULL && atoi(resp_header(&r, "Content-Length")) > 0,
           "Content-Length should say what a GET would get");
    resp_free(&r);
    ASSERT(client_read(c, &r, false, 5000) == 0, "the GET's answer does not parse after HEAD's");
    ASSERT(r.status == 404 && strstr(r.body, "404 Not Found: no route") == r.body, "GET got %d %s",
           r.status, r.body);
    resp_free(&r);
    client_close(c);
    /* A refused HEAD (no Host): the head, then the close. */
    c = client_open(addr_of(dp));
    client_send_str(c, "HEAD /only/ HTTP/1.1\r\n\r\n");
    ASSERT(client_read(c, &r, true, 5000) == 0 && r.status == 400, "refused HEAD got %d", r.status);
    resp_free(&r);
    ASSERT(client_read_raw(c, rest, sizeof(rest), 3000) == 0, "bytes after the head of a 400 to HEAD");
    ASSERT(client_wait_closed(c, 3000), "a refused HEAD leaves the connection open");
    client_close(c);
    e2e_drover_stop(d);
}

E2E_TEST(client_keepalive_rules_http10_and_close, 30)
{
    int bp = e2e_free_port(), dp = e2e_free_port();
    struct e2e_proc *d;
    struct http_resp r;
    struct client *c;

    e2e_backend("a", bp);
    d = e2e_drover(config(dp, e2e_fmt("routes:\n  - path: /\n    backends: [127.0.0.1:%d]\n", bp)),
                   addr_of(dp));
    /* HTTP/1.0 without keep-alive: one request, then close. */
    c = client_open(addr_of(dp));
    client_send_str(c, "GET / HTTP/1.0\r\n\r\n");
    ASSERT(client_read(c, &r, false, 5000) == 0);
    ASSERT(r.status == 200 && !r.keep_alive);
    ASSERT(resp_header(&r, "Connection") && strcasecmp(resp_header(&r, "Connection"), "close") == 0);
    ASSERT(client_wait_closed(c, 2000), "HTTP/1.0 connection left open");
    resp_free(&r);
    client_close(c);
    /* HTTP/1.0 asking for keep-alive gets it, said explicitly. */
    c = client_open(addr_of(dp));
    for (int i = 0; i < 3; i++) {
        client_send_str(c, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        ASSERT(client_read(c, &r, false, 5000) == 0, "request %d", i);
        ASSERT(r.status == 200 && r.keep_alive);
        ASSERT(resp_header(&r, "Connection") &&
               strcasecmp(resp_header(&r, "Connection"), "keep-alive") == 0);
        resp_free(&r);
    }
    client_close(c);
    /* HTTP/1.1 with Connection: close. */
    c = client_open(addr_of(dp));
    client_send_str(c, "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    ASSERT(client_read(c, &r, false, 5000) == 0);
    ASSERT(r.status == 200 && !r.keep_alive);
    ASSERT(client_wait_closed(c, 2000));
    resp_free(&r);
    client_close(c);
    e2e_drover_stop(d);
}

E2E_TEST(client_timeouts_idle_and_header, 30)
{
    int bp = e2e_free_port(), dp = e2e_free_port();
    struct e2e_proc *d;
    struct http_resp r;
    struct client *c;
    long long t0;

    e2e_backend("a", bp);
    d = e2e_drover(config(dp, e2e_fmt("timeouts:\n  idle: 300ms\n  client_header: 400ms\n"
                                      "routes:\n  - path: /\n    backends: [127.0.0.1:%d]\n",
                                      bp)),
                   addr_of(dp));
    c = client_open(addr_of(dp));
    client_send_str(c, "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT(client_read(c, &r, false, 5000) == 0 && r.status == 200);
    resp_free(&r);
    t0 = e2e_now_ms();
    ASSERT(client_wait_closed(c, 3000), "idle keep-alive connection not closed");
    ASSERT(e2e_now_ms() - t0 >= 250, "closed after %lldms, before timeouts.idle",
           e2e_now_ms() - t0);
    client_close(c);

    /* A head that never ends gets 408 when client_header has passed. */
    c = client_open(addr_of(dp));
    t0 = e2e_now_ms();
    client_send_str(c, "GET / HTTP/1.1\r\nHost: t\r\n");
    ASSERT(client_read(c, &r, false, 3000) == 0, "no 408");
    ASSERT(r.status == 408, "got %d", r.status);
    ASSERT(e2e_now_ms() - t0 >= 350, "408 after %lldms", e2e_now_ms() - t0);
    ASSERT(client_wait_closed(c, 2000));
    resp_free(&r);
    client_close(c);
    e2e_drover_stop(d);
}

E2E_TEST(unix_and_ipv6_listeners_and_unix_backend, 30)
{
    int dp = e2e_free_port();
    char *bsock = e2e_fmt("unix:%s/b.sock", e2e_dir());
    char *dsock = e2e_fmt("unix:%s/d.sock", e2e_dir());
    char *v6 = e2e_fmt("[::1]:%d", dp);
    struct e2e_proc *d;
    struct http_resp r;

    e2e_backend_at("u", bsock);
    d = e2e_drover(e2e_fmt("listen: [\"%s\", \"%s\"]\nadmin:\n  listen: off\nlog:\n  access: off\n"
                           "routes:\n  - path: /\n    backends: [\"%s\"]\n",
                           v6, dsock, bsock),
                   v6);
    e2e_wait_listening(dsock, 5000, d);
    http_get(v6, "/?head=1", &r);
    ASSERT(r.status == 200 && strcmp(resp_header(&r, "X-Backend"), "u") == 0);
    ASSERT(strstr(r.body, "X-Forwarded-For: ::1\r\n") != NULL, "head: %s", r.body);
    ASSERT(strstr(r.body, e2e_fmt("X-Forwarded-Port: %d\r\n", dp)) != NULL, "head: %s", r.body);
    resp_free(&r);
    http_get(dsock, "/", &r);
    ASSERT(r.status == 200 && strcmp(resp_header(&r, "X-Backend"), "u") == 0);
    resp_free(&r);
    e2e_drover_stop(d);
}

E2E_TEST(balancers_least_conn_and_random2, 60)
{
    int bp[3] = {e2e_free_port(), e2e_free_port(), e2e_free_port()};
    const char *names[3] = {"a", "b", "c"};
    const char *kinds[2] = {"least_conn", "random2"};

    for (int i = 0; i < 3; i++)
        e2e_backend(names[i], bp[i]);
    for (int k = 0; k < 2; k++) {
        int dp = e2e_free_port();
        long count[3] = {0, 0, 0};
        struct e2e_proc *d;
        struct client *c;

        d = e2e_drover(config(dp, e2e_fmt("balance: %s\nroutes:\n  - path: /\n"
                                          "    backends: [127.0.0.1:%d, 127.0.0.1:%d, 127.0.0.1:%d]\n",
                                          kinds[k], bp[0], bp[1], bp[2])),
                       addr_of(dp));
        c = client_open(addr_of(dp));
        for (int i = 0; i < 600; i++) {
            struct http_resp r;

            client_send_str(c, "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
            ASSERT(client_read(c, &r, false, 5000) == 0 && r.status == 200);
            for (int b = 0; b < 3; b++)
                if (strcmp(resp_header(&r, "X-Backend"), names[b]) == 0)
                    count[b]++;
            resp_free(&r);
        }
        client_close(c);
        e2e_log("%s: a=%ld b=%ld c=%ld", kinds[k], count[0], count[1], count[2]);
        /* One request at a time ties every load: least_conn breaks ties in
         * turn (exactly even), random2 at random (each well above zero). */
        for (int b = 0; b < 3; b++)
            ASSERT(k == 0 ? count[b] == 200 : count[b] > 120, "%s gave %s %ld of 600", kinds[k],
                   names[b], count[b]);
        e2e_drover_stop(d);
    }
}

E2E_TEST(limits_body_413_and_garbage_400, 30)
{
    int bp = e2e_free_port(), dp = e2e_free_port();
    struct e2e_proc *d;
    struct http_resp r;
    struct client *c;

    e2e_backend("a", bp);
    d = e2e_drover(config(dp, e2e_fmt("limits:\n  max_body_bytes: 1k\n"
                                      "routes:\n  - path: /\n    backends: [127.0.0.1:%d]\n",
                                      bp)),
                   addr_of(dp));
    c = client_open(addr_of(dp));
    client_send_str(c, "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 2048\r\n\r\n");
    ASSERT(client_read(c, &r, false, 5000) == 0);
    ASSERT(r.status == 413, "got %d", r.status);
    ASSERT(client_wait_closed(c, 2000));
    resp_free(&r);
    client_close(c);

    c = client_open(addr_of(dp));
    client_send_str(c, "HELLO THERE\r\n\r\n");
    ASSERT(client_read(c, &r, false, 5000) == 0);
    ASSERT(r.status == 400, "got %d", r.status);
    ASSERT(client_wait_closed(c, 2000));
    resp_free(&r);
    client_close(c);
    e2e_drover_stop(d);
}

E2E_TEST(sigterm_lets_inflight_request_finish, 30)
{
    int bp = e2e_free_port(), dp = e2e_free_port();
    struct e2e_proc *d;
    struct http_resp r;
    struct client *c;

    e2e_backend("a", bp);
    d = e2e_drover(config(dp, e2e_fmt("routes:\n  - path: /\n    backends: [127.0.0.1:%d]\n", bp)),
                   addr_of(dp));
    c = client_open(addr_of(dp));
    client_send_str(c, "GET /?delay=500 HTTP/1.1\r\nHost: t\r\n\r\n");
    e2e_sleep_ms(100);
    kill(d->pid, SIGTERM);
    ASSERT(client_read(c, &r, false, 5000) == 0, "in-flight request lost on SIGTERM");
    ASSERT(r.status == 200 && !r.keep_alive, "status %d keep-alive %d", r.status, r.keep_alive);
    resp_free(&r);
    client_close(c);
    e2e_drover_stop(d);
}

/* A listener whose accept queue is full and never drained: Linux drops new
 * SYNs, so a connect to it hangs, as to a host that has gone away. */
static int blackhole(int *port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    socklen_t len = sizeof(sin);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT(fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 && listen(fd, 0) == 0);
    ASSERT(getsockname(fd, (struct sockaddr *)&sin, &len) == 0);
    *port = ntohs(sin.sin_port);
    for (int i = 0; i < 4; i++) {
        int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

        connect(c, (struct sockaddr *)&sin, sizeof(sin));
    }
    e2e_sleep_ms(50);
    return fd;
}

E2E_TEST(connect_timeout_tries_the_next_backend_then_504, 30)
{
    int hole, hole2, live = e2e_free_port(), dp = e2e_free_port();
    struct e2e_proc *d;
    struct http_resp r;
    long long t0;

    blackhole(&hole);
    blackhole(&hole2);
    e2e_backend("live", live);
    d = e2e_drover(config(dp, e2e_fmt("timeouts:\n  connect: 200ms\n"
                                      "routes:\n"
                                      "  - path: /both/\n    balance: round_robin\n"
                                      "    backends: [127.0.0.1:%d, 127.0.0.1:%d]\n"
                                      "  - path: /hole/\n    backends: [127.0.0.1:%d]\n",
                                      hole, live, hole2)),
                   addr_of(dp));
    /* The first pick is the black hole: after 200ms the live one answers. */
    t0 = e2e_now_ms();
    http_get(addr_of(dp), "/both/", &r);
    ASSERT(r.status == 200 && strcmp(resp_header(&r, "X-Backend"), "live") == 0, "got %d",
           r.status);
    ASSERT(e2e_now_ms() - t0 >= 150 && e2e_now_ms() - t0 < 2000, "took %lldms",
           e2e_now_ms() - t0);
    resp_free(&r);
    /* Alone, the black hole gives 504 after timeouts.connect. */
    t0 = e2e_now_ms();
    http_get(addr_of(dp), "/hole/", &r);
    ASSERT(r.status == 504, "got %d: %s", r.status, r.body);
    ASSERT(strstr(r.body, "within timeouts.connect") != NULL, "body: %s", r.body);
    ASSERT(e2e_now_ms() - t0 >= 150 && e2e_now_ms() - t0 < 2000, "took %lldms",
           e2e_now_ms() - t0);
    resp_free(&r);
    /* Having failed, it is skipped for a while: a fast 503, no new wait. */
    t0 = e2e_now_ms();
    http_get(addr_of(dp), "/hole/", &r);
    ASSERT(r.status == 503 && e2e_now_ms() - t0 < 150, "got %d after %lldms", r.status,
           e2e_now_ms() - t0);
    resp_free(&r);
    e2e_drover_stop(d);
}

/* A backend that closes a fresh connection without answering: an idempotent
 * request goes to another backend, a POST gets 502 (it may have had an
 * effect). */
E2E_TEST(lost_idempotent_request_is_replayed_elsewhere, 30)
{
    int a = e2e_free_port(), b = e2e_free_port(), dp = e2e_free_port();
    struct e2e_proc *d;
    struct http_resp r;
    int to_b = 0, posts_502 = 0;

    e2e_backend("a", a);
    e2e_backend("b", b);
    d = e2e_drover(config(dp, e2e_fmt("retries: 2\nroutes:\n  - path: /\n"
                                      "    backends: [127.0.0.1:%d, 127.0.0.1:%d]\n",
                                      a, b)),
                   addr_of(dp));
    for (int i = 0; i < 10; i++) {
        /* A new client connection each time; round robin tries a half the time. */
        http_get(addr_of(dp), "/?drop_on=a", &r);
        ASSERT(r.status == 200, "GET %d: %d %s", i, r.status, r.body);
        to_b += strcmp(resp_header(&r, "X-Backend"), "b") == 0;
        resp_free(&r);
    }
    ASSERT(to_b == 10, "only b can answer");
    for (int i = 0; i < 4; i++) {
        http_exchange(addr_of(dp), "POST /?drop_on=a HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi",
                      &r, 5000);
        ASSERT(r.status == 200 || r.status == 502, "POST: %d", r.status);
        if (r.status == 502) {
            posts_502++;
            ASSERT(strstr(r.body, "backend closed the connection without responding") != NULL);
        }
        resp_free(&r);
    }
    ASSERT(posts_502 == 2, "round robin sends every other POST to a: %d got 502", posts_502);
    e2e_drover_stop(d);
}

/* A 101 the client did not ask for (no Upgrade in its request) is a broken
 * backend: 502, never a tunnel. */
E2E_TEST(unsolicited_101_is_502, 30)
{
    static const char answer[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n"
                                 "Connection: upgrade\r\n\r\n";
    int bp = e2e_free_port(), dp = e2e_free_port();
    struct e2e_proc *d;
    struct http_resp r;

    e2e_raw_server("raw", bp, answer, sizeof(answer) - 1);
    d = e2e_drover(config(dp, e2e_fmt("routes:\n  - path: /\n    backends: [127.0.0.1:%d]\n", bp)),
                   addr_of(dp));
    http_get(addr_of(dp), "/", &r);
    ASSERT(r.status == 502, "got %d", r.status);
    ASSERT(strstr(r.body, "switched protocols without being asked to") != NULL, "body %s", r.body);
    resp_free(&r);
    e2e_drover_stop(d);
}

/* An idle pooled connection to a backend is closed after 1 s (before an
 * app's usual keep-alive timeout), so the next request opens a new one. */
E2E_TEST(idle_pooled_upstream_closed_after_a_second, 30)
{
    int bp = e2e_free_port(), dp = e2e_free_port();
    struct e2e_proc *d;
    struct http_resp r;
    char first[32], second[32], third[32];

    e2e_backend("a", bp);
    d = e2e_drover(config(dp, e2e_fmt("routes:\n  - path: /\n    backends: [127.0.0.1:%d]\n", bp)),
                   addr_of(dp));
    http_get(addr_of(dp), "/", &r);
    snprintf(first, sizeof(first), "%s", resp_header(&r, "X-Backend-Conn"));
    resp_free(&r);
    http_get(addr_of(dp), "/", &r);
    snprintf(second, sizeof(second), "%s", resp_header(&r, "X-Backend-Conn"));
    resp_free(&r);
    ASSERT(strcmp(first, second) == 0, "not pooled: connections %s then %s", first, second);
    e2e_sleep_ms(1600); /* the condition under test: idle for longer than 1 s */
    http_get(addr_of(dp), "/", &r);
    snprintf(third, sizeof(third), "%s", resp_header(&r, "X-Backend-Conn"));
    resp_free(&r);
    ASSERT(strcmp(second, third) != 0, "the idle pooled connection %s was kept past 1s", second);
    e2e_drover_stop(d);
}

/* A client that resets its connection before its answer is logged with
 * 499 (nginx's "client closed request"). A plain close is read as a
 * half-close: the answer is still sent, as HTTP allows. */
E2E_TEST(client_gone_before_the_answer_is_logged_499, 30)
{
    int bp = e2e_free_port(), dp = e2e_free_port();
    char *log = e2e_fmt("%s/access.log", e2e_dir()), *text = NULL;
    struct e2e_proc *d;
    struct client *c;

    e2e_backend("a", bp);
    d = e2e_drover(e2e_fmt("listen: 127.0.0.1:%d\nadmin: {listen: off}\nlog: {access: %s}\n"
                           "routes:\n  - path: /\n    backends: [127.0.0.1:%d]\n",
                           dp, log, bp),
                   addr_of(dp));
    c = client_open(addr_of(dp));
    client_send_str(c, "GET /gone?delay=3000 HTTP/1.1\r\nHost: t\r\n\r\n");
    e2e_sleep_ms(200); /* in flight */
    {
        struct linger hard = {1, 0}; /* close with a reset */

        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
    }
    client_close(c);
    for (long long t = e2e_now_ms(); (text = e2e_read_file(log, NULL)) == NULL || strstr(text, "/gone") == NULL;
         e2e_sleep_ms(50))
        ASSERT(e2e_now_ms() - t < 5000, "no access log line for the abandoned request");
    ASSERT(strstr(text, "\"GET /gone?delay=3000 HTTP/1.1\" 499 ") != NULL, "log: %s", text);
    e2e_drover_stop(d);
}
