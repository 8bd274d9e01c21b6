/* Active health checks: HTTP (health.path) and TCP, marking down after
 * fall failures and up after rise successes, as a client sees it. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/e2e/client.h"
#include "tests/e2e/harness.h"

static char *addr_of(int port)
{
    return e2e_fmt("127.0.0.1:%d", port);
}

/* Two backends a and b behind drover, round robin, with the given health
 * section; route_path is the route's prefix. */
static struct e2e_proc *two_backends(int pa, int pb, int dp, const char *health,
                                     const char *route_path)
{
    return e2e_drover(e2e_fmt("listen: 127.0.0.1:%d\n"
                              "admin:\n  listen: off\n"
                              "log:\n  access: off\n"
                              "balance: round_robin\n"
                              "health:\n%s"
                              "routes:\n  - path: %s\n"
                              "    backends: [127.0.0.1:%d, 127.0.0.1:%d]\n",
                              dp, health, route_path, pa, pb),
                      addr_of(dp));
}

#define HTTP_HEALTH                                                                              \
    "  path: \"/?health=1\"\n  interval: 100ms\n  timeout: 200ms\n  rise: 2\n  fall: 2\n"
#define TCP_HEALTH "  interval: 100ms\n  timeout: 200ms\n  rise: 2\n  fall: 2\n"

/* One GET on the keep-alive client *c (reopened when drover closed it):
 * the answering backend's name, or NULL with *status set when it was not a
 * 200 (0: no response). */
static const char *one_request(struct client **c, const char *dp, const char *path, int *status)
{
    static char name[64];
    char *req = e2e_fmt("GET %s HTTP/1.1\r\nHost: t\r\n\r\n", path);
    struct http_resp r;

    *status = 0;
    if (client_send_try(*c, req, strlen(req)) < 0 ||
        client_read(*c, &r, false, 3000) < 0) {
        client_close(*c);
        *c = client_open(dp);
        return NULL;
    }
    *status = r.status;
    snprintf(name, sizeof(name), "%s",
             resp_header(&r, "X-Backend") ? resp_header(&r, "X-Backend") : "");
    if (!r.keep_alive) {
        client_close(*c);
        *c = client_open(dp);
    }
    resp_free(&r);
    return *status == 200 ? name : NULL;
}

static void set_health(int port, const char *state)
{
    struct http_resp r;

    http_get(addr_of(port), e2e_fmt("/?sethealth=%s", state), &r);
    ASSERT(r.status == 200, "sethealth=%s answered %d", state, r.status);
    resp_free(&r);
}

/* Both backends take traffic (asserted over 10 requests). */
static void both_serve(struct client **c, const char *dp, const char *path)
{
    int seen_a = 0, seen_b = 0, status;

    for (int i = 0; i < 10; i++) {
        const char *be = one_request(c, dp, path, &status);

        ASSERT(be != NULL, "request %d: status %d", i, status);
        seen_a += strcmp(be, "a") == 0;
        seen_b += strcmp(be, "b") == 0;
    }
    ASSERT(seen_a > 0 && seen_b > 0, "a got %d, b got %d of 10", seen_a, seen_b);
}

E2E_TEST(health_path_marks_down_then_up, 30)
{
    int pa = e2e_free_port(), pb = e2e_free_port(), dp = e2e_free_port(), status, streak = 0;
    struct e2e_proc *d;
    struct client *c;
    long long t0, streak_start = 0;

    e2e_backend("a", pa);
    e2e_backend("b", pb);
    d = two_backends(pa, pb, dp, HTTP_HEALTH, "/");
    c = client_open(addr_of(dp));
    both_serve(&c, addr_of(dp), "/");

    /* a's health check answers 503 from now on: within ~1s, only b. */
    set_health(pa, "down");
    t0 = e2e_now_ms();
    while (streak < 20) {
        const char *be = one_request(&c, addr_of(dp), "/", &status);

        ASSERT(be != NULL, "status %d while a was being marked down", status);
        if (strcmp(be, "b") == 0) {
            if (streak++ == 0)
                streak_start = e2e_now_ms();
        } else {
            streak = 0;
        }
        ASSERT(e2e_now_ms() - t0 < 3000, "a still gets traffic 3s after its health check failed");
        e2e_sleep_ms(5);
    }
    e2e_log("only b from %lldms after a's check turned 503", streak_start - t0);
    ASSERT(streak_start - t0 <= 1000, "a got traffic until %lldms after its check failed "
           "(interval 100ms, fall 2)", streak_start - t0);

    /* Healthy again: a is back within ~1s. */
    set_health(pa, "up");
    t0 = e2e_now_ms();
    for (;;) {
        const char *be = one_request(&c, addr_of(dp), "/", &status);

        ASSERT(be != NULL, "status %d while a was coming back", status);
        if (strcmp(be, "a") == 0)
            break;
        ASSERT(e2e_now_ms() - t0 < 1000, "a got no traffic within 1s of its check passing again "
               "(rise 2)");
        e2e_sleep_ms(5);
    }
    e2e_log("a back after %lldms", e2e_now_ms() - t0);
    client_close(c);
    e2e_drover_stop(d);
}

/* TCP checks: a backend whose process is gone stops getting traffic without
 * one failed request (idempotent requests lost with it are replayed), and
 * gets traffic again once a process listens on its port. */
E2E_TEST(health_tcp_backend_gone_and_back, 30)
{
    int pa = e2e_free_port(), pb = e2e_free_port(), dp = e2e_free_port(), status, failed = 0;
    struct e2e_proc *a, *d;
    struct client *c, *inflight[2];
    long long t0;
    int n = 0;

    a = e2e_backend("a", pa);
    e2e_backend("b", pb);
    d = two_backends(pa, pb, dp, TCP_HEALTH, "/");
    c = client_open(addr_of(dp));
    both_serve(&c, addr_of(dp), "/");

    /* Two slow requests, one on each backend; a dies under its one. */
    for (int i = 0; i < 2; i++) {
        inflight[i] = client_open(addr_of(dp));
        client_send_str(inflight[i], "GET /?delay=200 HTTP/1.1\r\nHost: t\r\n\r\n");
    }
    e2e_sleep_ms(50); /* both are with their backends (they take 200ms) */
    e2e_stop(a, SIGKILL, 2000);
    for (int i = 0; i < 2; i++) {
        struct http_resp r;

        ASSERT(client_read(inflight[i], &r, false, 3000) == 0, "in-flight request %d lost", i);
        ASSERT(r.status == 200, "in-flight request %d: %d %s", i, r.status, r.body);
        ASSERT(strcmp(resp_header(&r, "X-Backend"), "b") == 0);
        resp_free(&r);
        client_close(inflight[i]);
    }
    /* A client in a loop for 1s sees nothing of it. */
    t0 = e2e_now_ms();
    while (e2e_now_ms() - t0 < 1000) {
        const char *be = one_request(&c, addr_of(dp), "/", &status);

        n++;
        if (be == NULL || strcmp(be, "b") != 0) {
            failed++;
            e2e_log("request %d after a died: status %d from %s", n, status, be ? be : "drover");
        }
        e2e_sleep_ms(2);
    }
    ASSERT(failed == 0, "%d of %d requests failed or went to a dead backend", failed, n);

    /* a again, on the same port: it gets traffic within ~1s. */
    e2e_backend("a", pa);
    t0 = e2e_now_ms();
    for (;;) {
        const char *be = one_request(&c, addr_of(dp), "/", &status);

        ASSERT(be != NULL, "status %d while a came back", status);
        if (strcmp(be, "a") == 0)
            break;
        ASSERT(e2e_now_ms() - t0 < 1500, "restarted a got no traffic within 1.5s");
        e2e_sleep_ms(5);
    }
    e2e_log("a back after %lldms", e2e_now_ms() - t0);
    client_close(c);
    e2e_drover_stop(d);
}

/* Every backend failing its check: a fast 503 that names the route. */
E2E_TEST(health_all_down_503_fast, 30)
{
    int pa = e2e_free_port(), pb = e2e_free_port(), dp = e2e_free_port(), status;
    struct e2e_proc *d;
    struct client *c;
    long long t0;

    e2e_backend("a", pa);
    e2e_backend("b", pb);
    d = two_backends(pa, pb, dp, HTTP_HEALTH, "/svc/");
    c = client_open(addr_of(dp));
    both_serve(&c, addr_of(dp), "/svc/x");
    set_health(pa, "down");
    set_health(pb, "down");
    t0 = e2e_now_ms();
    do {
        ASSERT(e2e_now_ms() - t0 < 2000, "no 503 within 2s of both checks failing");
        e2e_sleep_ms(5);
    } while (one_request(&c, addr_of(dp), "/svc/x", &status) != NULL || status != 503);
    e2e_log("503 after %lldms", e2e_now_ms() - t0);
    for (int i = 0; i < 5; i++) {
        struct http_resp r;
        const char *id;

        t0 = e2e_now_ms();
        client_send_str(c, "GET /svc/x HTTP/1.1\r\nHost: t\r\n\r\n");
        ASSERT(client_read(c, &r, false, 2000) == 0, "no response");
        /* At once: not after a connect attempt to a backend known down. */
        ASSERT(e2e_now_ms() - t0 < 1000, "the 503 took %lldms", e2e_now_ms() - t0);
        ASSERT(r.status == 503 && resp_header(&r, "X-Backend") == NULL, "got %d from %s",
               r.status, resp_header(&r, "X-Backend"));
        id = resp_header(&r, "X-Request-Id");
        ASSERT(id != NULL && strstr(r.body, id) != NULL, "body without the request id: %s", r.body);
        ASSERT(strstr(r.body, "/svc/") != NULL, "the 503 does not name the route: %s", r.body);
        if (i == 0)
            e2e_log("%s", r.body);
        if (!r.keep_alive) {
            client_close(c);
            c = client_open(addr_of(dp));
        }
        resp_free(&r);
    }
    client_close(c);
    e2e_drover_stop(d);
}
