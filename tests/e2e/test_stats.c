/* Live stats against a known load: N requests at a known rate give that
 * many requests and that rate in /status and /metrics, a backend path
 * that sleeps a known time gives a p50 near it, 5xx are counted, requests
 * waiting under max_inflight show as the queue depth; an instance killed
 * from outside shows its last exit, a rolling restart a new generation. */
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "tests/e2e/client.h"
#include "tests/e2e/harness.h"

static json_t *get_json(const char *admin, const char *path)
{
    struct http_resp r;
    json_error_t e;
    json_t *doc;

    http_get(admin, path, &r);
    ASSERT(r.status == 200, "GET %s: %d %s", path, r.status, r.body);
    doc = json_loads(r.body, 0, &e);
    ASSERT(doc != NULL, "GET %s: not JSON: %s", path, e.text);
    resp_free(&r);
    return doc;
}

/* The member of array whose key is value. */
static json_t *named(json_t *array, const char *key, const char *value)
{
    size_t i;
    json_t *x;

    json_array_foreach(array, i, x) {
        const char *v = json_string_value(json_object_get(x, key));

        if (v != NULL && strcmp(v, value) == 0)
            return x;
    }
    return NULL;
}

static json_t *route_live(json_t *status, const char *route)
{
    json_t *r = named(json_object_get(status, "routes"), "route", route);

    ASSERT(r != NULL, "no route %s in /status", route);
    return json_object_get(r, "live");
}

static json_t *instance(json_t *status, const char *type, const char *name)
{
    json_t *t = named(json_object_get(status, "processes"), "type", type);
    json_t *in = t != NULL ? named(json_object_get(t, "instances"), "name", name) : NULL;

    ASSERT(in != NULL, "no instance %s in /status", name);
    return in;
}

static double num(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);

    ASSERT(json_is_number(v), "%s is not a number", key);
    return json_number_value(v);
}

/* n GETs of path on one keep-alive connection, one every period_ms. */
static void paced(const char *addr, const char *path, int n, int period_ms)
{
    struct client *c = client_open(addr);
    long long start = e2e_now_ms();
    char *req = e2e_fmt("GET %s HTTP/1.1\r\nHost: test\r\n\r\n", path);

    for (int i = 0; i < n; i++) {
        struct http_resp r;
        long long next = start + (long long)(i + 1) * period_ms;

        client_send_str(c, req);
        ASSERT(client_read(c, &r, false, 10000) == 0, "request %d of %s", i, path);
        resp_free(&r);
        if (next > e2e_now_ms())
            e2e_sleep_ms((int)(next - e2e_now_ms()));
    }
    client_close(c);
}

/* The value of the first /metrics line that starts with series. */
static double metric(const char *admin, const char *series)
{
    struct http_resp r;
    const char *p;
    double v;

    http_get(admin, "/metrics", &r);
    ASSERT(r.status == 200);
    p = strstr(r.body, series);
    ASSERT(p != NULL, "no %s in /metrics", series);
    v = strtod(p + strlen(series), NULL);
    resp_free(&r);
    return v;
}

E2E_TEST(live_stats_match_a_known_load, 60)
{
    int lp = e2e_free_port(), ap = e2e_free_port();
    char *listen = e2e_fmt("127.0.0.1:%d", lp), *admin = e2e_fmt("127.0.0.1:%d", ap);
    char *dir = e2e_app_dir(
        e2e_fmt("web: exec %s -l 127.0.0.1:$PORT -q\n", e2e_backend_bin),
        e2e_fmt("listen: %s\nadmin: {listen: %s}\nlog: {access: off}\napp: {base_port: %d}\n"
                "processes: {web: {instances: 1, max_inflight: 1}}\n"
                "routes: [{path: /slow/, process: web}, {path: /err/, process: web},"
                " {path: /, process: web}]\n",
                listen, admin, e2e_free_base(1, 1)));
    struct e2e_proc *d = e2e_drover_in(dir, NULL, admin);
    struct client *wait[4];
    json_t *st, *live, *web;
    double rps, p50;
    long long t0;

    e2e_wait_listening(listen, 10000, d);
    e2e_sleep_ms(300); /* the instance ready and in its pool */

    /* 100 requests at 50 a second. */
    t0 = e2e_now_ms();
    paced(listen, "/", 100, 20);
    st = get_json(admin, "/status");
    live = route_live(st, "/");
    rps = num(live, "rps");
    e2e_log("100 requests in %lld ms: /status says %.2f req/s over %.1f s", e2e_now_ms() - t0, rps,
            num(live, "window_s"));
    ASSERT(num(live, "requests_1m") == 100, "requests_1m %.0f", num(live, "requests_1m"));
    ASSERT(fabs(rps - 50) < 50 * 0.15, "req/s %.2f for 50 a second", rps);
    web = json_object_get(instance(st, "web", "web.1"), "live");
    ASSERT(num(web, "requests_1m") == 100, "the instance's count %.0f", num(web, "requests_1m"));
    ASSERT(num(json_object_get(instance(st, "web", "web.1"), "live"), "5xx") == 0);
    json_decref(st);
    rps = metric(admin, "drover_route_requests_per_second{route=\"/\"} ");
    ASSERT(fabs(rps - 50) < 50 * 0.15, "/metrics req/s %.2f", rps);
    ASSERT(metric(admin, "drover_route_latency_seconds_count{route=\"/\"} ") == 100);

    /* A path whose backend sleeps 40 ms. */
    paced(listen, "/slow/?delay=40", 20, 0);
    st = get_json(admin, "/status");
    live = route_live(st, "/slow/");
    p50 = num(live, "p50_ms");
    e2e_log("40 ms backend: p50 %.2f ms, p95 %.2f ms, p99 %.2f ms", p50, num(live, "p95_ms"),
            num(live, "p99_ms"));
    ASSERT(p50 >= 40 * 0.875 && p50 <= 40 * 1.3, "p50 %.2f ms for a 40 ms backend", p50);
    ASSERT(num(live, "p99_ms") >= p50);
    json_decref(st);
    p50 = metric(admin, "drover_route_latency_seconds{route=\"/slow/\",quantile=\"0.5\"} ");
    ASSERT(p50 >= 0.035 && p50 <= 0.052, "/metrics p50 %.4f s", p50);

    /* 5xx from the app are counted on the route and the instance. */
    paced(listen, "/err/?status=503", 7, 0);
    paced(listen, "/err/?status=404", 3, 0);
    st = get_json(admin, "/status");
    live = route_live(st, "/err/");
    ASSERT(num(live, "5xx_1m") == 7 && num(live, "5xx") == 7 && num(live, "requests_1m") == 10,
           "5xx %.0f of %.0f", num(live, "5xx_1m"), num(live, "requests_1m"));
    ASSERT(num(json_object_get(instance(st, "web", "web.1"), "live"), "5xx") == 7);
    json_decref(st);
    ASSERT(metric(admin, "drover_instance_responses_5xx_total{type=\"web\",instance=\"web.1\"} ") == 7);

    /* max_inflight 1: one request in the instance, three queued. */
    for (int i = 0; i < 4; i++) {
        wait[i] = client_open(listen);
        client_send_str(wait[i], "GET /slow/?delay=600 HTTP/1.1\r\nHost: test\r\n\r\n");
    }
    e2e_sleep_ms(300);
    st = get_json(admin, "/status");
    ASSERT(json_integer_value(json_object_get(named(json_object_get(st, "routes"), "route", "/slow/"),
                                              "queued")) == 3,
           "the route's queue");
    ASSERT(json_integer_value(json_object_get(named(json_object_get(st, "processes"), "type", "web"),
                                              "queued")) == 3,
           "the type's queue");
    ASSERT(json_integer_value(json_object_get(instance(st, "web", "web.1"), "inflight")) == 1);
    json_decref(st);
    ASSERT(metric(admin, "drover_route_queued{route=\"/slow/\"} ") == 3);
    for (int i = 0; i < 4; i++) {
        struct http_resp r;

        ASSERT(client_read(wait[i], &r, false, 15000) == 0 && r.status == 200);
        resp_free(&r);
        client_close(wait[i]);
    }
    ASSERT(metric(admin, "drover_route_queued{route=\"/slow/\"} ") == 0);
    e2e_drover_stop(d);
}

E2E_TEST(last_exit_and_generation_per_instance, 60)
{
    int lp = e2e_free_port(), ap = e2e_free_port();
    char *listen = e2e_fmt("127.0.0.1:%d", lp), *admin = e2e_fmt("127.0.0.1:%d", ap);
    char *dir = e2e_app_dir(
        e2e_fmt("web: exec %s -l 127.0.0.1:$PORT -q\n", e2e_backend_bin),
        e2e_fmt("listen: %s\nadmin: {listen: %s}\nlog: {access: off}\napp: {base_port: %d}\n"
                "processes: {web: {instances: 2, restart: {min: 100ms}}}\n",
                listen, admin, e2e_free_base(1, 2)));
    struct e2e_proc *d = e2e_drover_in(dir, NULL, admin);
    json_t *st, *in, *ex;
    struct http_resp r;
    long long deadline;
    pid_t pid;

    e2e_wait_listening(listen, 10000, d);
    e2e_sleep_ms(300);
    st = get_json(admin, "/status");
    in = instance(st, "web", "web.1");
    ASSERT(json_is_null(json_object_get(in, "last_exit")), "no exit yet");
    ASSERT(json_integer_value(json_object_get(in, "generation")) == 1);
    pid = (pid_t)json_integer_value(json_object_get(in, "pid"));
    json_decref(st);
    ASSERT(pid > 0 && kill(pid, SIGKILL) == 0);
    e2e_wait_log(d, "web.1 killed by signal 9", 5000);
    st = get_json(admin, "/status");
    ex = json_object_get(instance(st, "web", "web.1"), "last_exit");
    ASSERT(json_is_object(ex), "web.1 has a last exit");
    ASSERT(strcmp(json_string_value(json_object_get(ex, "signal")), "SIGKILL") == 0);
    ASSERT(json_is_null(json_object_get(ex, "code")));
    ASSERT(num(ex, "ago_s") >= 0 && num(ex, "ago_s") < 5);
    ASSERT(json_is_null(json_object_get(instance(st, "web", "web.2"), "last_exit")));
    json_decref(st);
    ASSERT(metric(admin, "drover_instance_last_exit_timestamp_seconds{type=\"web\",instance=\"web.1\","
                         "signal=\"SIGKILL\"} ") > 1e9);

    /* A rolling restart: every new instance is of generation 2. */
    http_exchange(admin, "POST /processes/web/restart HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
                  &r, 5000);
    ASSERT(r.status == 202);
    resp_free(&r);
    deadline = e2e_now_ms() + 20000;
    for (;;) {
        json_t *t, *x;
        size_t i, n2 = 0, n = 0;

        st = get_json(admin, "/status");
        t = named(json_object_get(st, "processes"), "type", "web");
        json_array_foreach(json_object_get(t, "instances"), i, x) {
            n++;
            n2 += json_integer_value(json_object_get(x, "generation")) == 2 &&
                  strcmp(json_string_value(json_object_get(x, "state")), "up") == 0;
        }
        if (n == 2 && n2 == 2 && !json_is_true(json_object_get(t, "rolling"))) {
            ASSERT(json_integer_value(json_object_get(t, "generation")) == 2);
            json_decref(st);
            break;
        }
        json_decref(st);
        ASSERT(e2e_now_ms() < deadline, "the restart never finished");
        e2e_sleep_ms(100);
    }
    e2e_drover_stop(d);
}

/* drover status --watch draws the table again every second, in place,
 * until Ctrl-C, and then exits 0. */
E2E_TEST(status_watch_refreshes_in_place_until_interrupted, 30)
{
    int lp = e2e_free_port(), ap = e2e_free_port();
    char *admin = e2e_fmt("127.0.0.1:%d", ap);
    char *dir = e2e_app_dir(
        e2e_fmt("web: exec %s -l 127.0.0.1:$PORT -q\n", e2e_backend_bin),
        e2e_fmt("listen: 127.0.0.1:%d\nadmin: {listen: %s}\nlog: {access: off}\napp: {base_port: %d}\n",
                lp, admin, e2e_free_base(1, 1)));
    struct e2e_proc *d = e2e_drover_in(dir, NULL, admin), *w;
    char *argv[] = {(char *)e2e_drover_bin, "status", "--watch", "--admin", admin, NULL};
    char *out;
    int frames = 0, status;

    e2e_sleep_ms(300);
    w = e2e_spawn("watch", argv, NULL);
    e2e_sleep_ms(2600);
    ASSERT(!e2e_exited(w), "status --watch keeps going");
    status = e2e_stop(w, SIGINT, 3000);
    ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "Ctrl-C ends it with 0 (status %#x)", status);
    out = e2e_log_of(w);
    for (const char *p = strstr(out, "\033[H\033[2J"); p != NULL; p = strstr(p + 1, "\033[H\033[2J"))
        frames++;
    e2e_log("%d frames in 2.6 s", frames);
    ASSERT(frames >= 2 && frames <= 4, "%d frames in 2.6 s, one a second", frames);
    ASSERT(strstr(out, "Every 1s: drover status") != NULL && strstr(out, "web.1") != NULL &&
               strstr(out, "REQ/S") != NULL && strstr(out, "ROUTE") != NULL,
           "each frame is the table: %s", out);
    e2e_drover_stop(d);
}
