/* Control plane and lifecycle under load: reload, scale, rolling restart,
 * stop/start of a type, drain, metrics. Every test that changes something
 * while traffic flows counts every non-2xx answer and broken connection
 * (there must be none). */
#include <ctype.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/e2e/client.h"
#include "tests/e2e/harness.h"

static char *addr_of(int port)
{
    return e2e_fmt("127.0.0.1:%d", port);
}

/* An admin request with the token; returns the response (caller frees). */
static void admin(int port, const char *method, const char *path, const char *body,
                  struct http_resp *r)
{
    http_exchange(addr_of(port),
                  e2e_fmt("%s %s HTTP/1.1\r\nHost: admin\r\nAuthorization: Bearer secret\r\n"
                          "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                          method, path, body != NULL ? strlen(body) : 0, body != NULL ? body : ""),
                  r, 10000);
}

/* A Procfile of web instances (the test backend) and a drover.yaml. */
static char *web_app(int dp, int ap, int base, int instances, const char *extra)
{
    /* Each instance says which RELEASE it runs (an env change rolls them). */
    return e2e_app_dir(e2e_fmt("web: echo release=${RELEASE:-none}; exec %s\n", e2e_backend_bin),
                       e2e_fmt("listen: 127.0.0.1:%d\n"
                               "admin: {listen: 127.0.0.1:%d, token: secret}\n"
                               "log: {access: off}\n"
                               "app: {base_port: %d}\n"
                               "processes:\n  web:\n    instances: %d\n    ready: {path: /}\n%s",
                               dp, ap, base, instances, extra));
}

/* Room for 2 types of 8 instances each (replacements take new slots). */
static int base_port(void)
{
    return e2e_free_base(2, 8);
}

static int count_in(const char *text, const char *needle)
{
    int n = 0;

    for (const char *p = strstr(text, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

E2E_TEST(sighup_with_changed_env_rolls_every_instance_without_a_failure, 60)
{
    int dp = e2e_free_port(), ap = e2e_free_port(), base = base_port();
    const char *names[3] = {"web.1", "web.2", "web.3"};
    char *dir = web_app(dp, ap, base, 3, "    env: {RELEASE: one}\n");
    struct e2e_proc *d = e2e_drover_in(dir, NULL, addr_of(dp)), *load;
    char *text;

    e2e_until_all_answer(addr_of(dp), names, 3, 10000);
    load = e2e_load_start(addr_of(dp), "/", 4, 4000);
    e2e_sleep_ms(500);
    web_app(dp, ap, base, 3, "    env: {RELEASE: two}\n");
    kill(d->pid, SIGHUP);
    e2e_wait_log(d, "web: rolling restart done", 20000);
    e2e_load_assert_clean(load);
    text = e2e_log_of(d);
    ASSERT(strstr(text, "reload: web: command or environment changed: rolling restart") != NULL);
    for (int i = 1; i <= 3; i++)
        ASSERT(strstr(text, e2e_fmt("web.%d replaced by web.", i)) != NULL, "web.%d was not replaced",
               i);
    ASSERT(count_in(text, "| release=one") == 3 && count_in(text, "| release=two") == 3,
           "%d instances ran RELEASE=one and %d RELEASE=two", count_in(text, "| release=one"),
           count_in(text, "| release=two"));
    free(text);
    e2e_drover_stop(d);
}

E2E_TEST(broken_config_on_reload_is_refused_and_traffic_is_untouched, 40)
{
    int dp = e2e_free_port(), ap = e2e_free_port(), bp = e2e_free_port(), bp2 = e2e_free_port();
    char *file = e2e_fmt("%s/drover.yaml", e2e_dir());
    const char *good = "listen: 127.0.0.1:%d\nadmin: {listen: 127.0.0.1:%d, token: secret}\n"
                       "log: {access: off}\nroutes:\n  - path: /\n    backends: [127.0.0.1:%d]\n";
    struct e2e_proc *d, *load;
    struct http_resp r;
    char *argv[] = {(char *)e2e_drover_bin, "run", "-c", file, NULL};

    e2e_backend("a", bp);
    e2e_backend("b", bp2);
    e2e_write_file("drover.yaml", e2e_fmt(good, dp, ap, bp));
    d = e2e_spawn("drover", argv, NULL);
    e2e_wait_listening(addr_of(dp), 10000, d);
    load = e2e_load_start(addr_of(dp), "/", 4, 2500);
    e2e_sleep_ms(300);
    e2e_write_file("drover.yaml", e2e_fmt("listen: 127.0.0.1:%d\nadmin: {listen: 127.0.0.1:%d, token: secret}\n"
                                          "log: {access: off}\nroutes:\n  - path: /\n"
                                          "    backendz: [127.0.0.1:%d]\n",
                                          dp, ap, bp2));
    admin(ap, "POST", "/reload", NULL, &r);
    e2e_log("%d %s", r.status, r.body);
    ASSERT(r.status == 422, "got %d", r.status);
    ASSERT(strstr(r.body, e2e_fmt("%s:6:5: ", file)) != NULL, "no file:line:col: %s", r.body);
    ASSERT(strstr(r.body, "did you mean \\\"backends\\\"") != NULL, "no hint: %s", r.body);
    resp_free(&r);
    kill(d->pid, SIGHUP);
    e2e_wait_log(d, "reload failed, the running configuration is unchanged", 3000);
    e2e_wait_log(d, e2e_fmt("%s:6:5: unknown key", file), 100);
    e2e_load_assert_clean(load);
    /* Still the old config: a. Then a good one takes effect: b. */
    http_get(addr_of(dp), "/", &r);
    ASSERT(r.status == 200 && strcmp(resp_header(&r, "X-Backend"), "a") == 0);
    resp_free(&r);
    e2e_write_file("drover.yaml", e2e_fmt(good, dp, ap, bp2));
    admin(ap, "POST", "/reload", NULL, &r);
    ASSERT(r.status == 200, "got %d: %s", r.status, r.body);
    ASSERT(strstr(r.body, e2e_fmt("127.0.0.1:%d", bp2)) != NULL, "the change is not named: %s", r.body);
    resp_free(&r);
    http_get(addr_of(dp), "/", &r);
    ASSERT(r.status == 200 && strcmp(resp_header(&r, "X-Backend"), "b") == 0);
    resp_free(&r);
    e2e_drover_stop(d);
}

E2E_TEST(scale_up_then_down_without_a_failure, 60)
{
    int dp = e2e_free_port(), ap = e2e_free_port(), base = base_port();
    const char *four[4] = {"web.1", "web.2", "web.3", "web.4"};
    char *dir = web_app(dp, ap, base, 1, "");
    struct e2e_proc *d = e2e_drover_in(dir, NULL, addr_of(dp)), *load;
    struct http_resp r;

    e2e_until_all_answer(addr_of(dp), four, 1, 10000);
    load = e2e_load_start(addr_of(dp), "/", 4, 5000);
    admin(ap, "POST", "/scale", "{\"web\": 4}", &r);
    ASSERT(r.status == 200 && strstr(r.body, "\"formation\":{\"web\":4}") != NULL, "%d %s", r.status,
           r.body);
    resp_free(&r);
    e2e_until_all_answer(addr_of(dp), four, 4, 10000);
    admin(ap, "POST", "/scale", "{\"web\": 1}", &r);
    ASSERT(r.status == 200 && strstr(r.body, "\"formation\":{\"web\":1}") != NULL, "%d %s", r.status,
           r.body);
    resp_free(&r);
    e2e_wait_log(d, "web.4 stopped (SIGTERM) after", 10000);
    e2e_wait_log(d, "web.2 stopped (SIGTERM) after", 10000);
    e2e_wait_log(d, "web.3 stopped (SIGTERM) after", 10000);
    e2e_load_assert_clean(load);
    for (int i = 0; i < 10; i++) {
        http_get(addr_of(dp), "/", &r);
        ASSERT(r.status == 200 && strcmp(resp_header(&r, "X-Backend"), "web.1") == 0);
        resp_free(&r);
    }
    admin(ap, "POST", "/scale", "{\"wbe\": 2}", &r);
    ASSERT(r.status == 404 && strstr(r.body, "unknown process type") != NULL, "%d %s", r.status, r.body);
    resp_free(&r);
    admin(ap, "POST", "/scale", "{\"web\": -1}", &r);
    ASSERT(r.status == 400, "%d %s", r.status, r.body);
    resp_free(&r);
    e2e_drover_stop(d);
}

/* The pids that answer through drover, after n requests. */
static void answering_pids(int dp, int n, int *pids, int *npids)
{
    *npids = 0;
    for (int i = 0; i < n; i++) {
        struct http_resp r;
        int pid, k;

        http_get(addr_of(dp), "/", &r);
        ASSERT(r.status == 200);
        pid = atoi(resp_header(&r, "X-Backend-Pid"));
        for (k = 0; k < *npids && pids[k] != pid; k++) {
        }
        if (k == *npids && *npids < 16)
            pids[(*npids)++] = pid;
        resp_free(&r);
    }
}

E2E_TEST(rolling_restart_replaces_every_pid_without_a_failure, 60)
{
    int dp = e2e_free_port(), ap = e2e_free_port(), base = base_port();
    const char *names[2] = {"web.1", "web.2"};
    char *dir = web_app(dp, ap, base, 2, "");
    struct e2e_proc *d = e2e_drover_in(dir, NULL, addr_of(dp)), *load;
    int before[16], after[16], nb, na;
    struct http_resp r;

    e2e_until_all_answer(addr_of(dp), names, 2, 10000);
    answering_pids(dp, 10, before, &nb);
    ASSERT(nb == 2, "%d pids", nb);
    load = e2e_load_start(addr_of(dp), "/", 4, 4000);
    e2e_sleep_ms(300);
    admin(ap, "POST", "/processes/web/restart", NULL, &r);
    ASSERT(r.status == 202, "got %d %s", r.status, r.body);
    resp_free(&r);
    e2e_wait_log(d, "web: rolling restart done", 20000);
    e2e_load_assert_clean(load);
    answering_pids(dp, 10, after, &na);
    ASSERT(na == 2, "%d pids answer after the restart", na);
    for (int i = 0; i < na; i++)
        for (int k = 0; k < nb; k++)
            ASSERT(after[i] != before[k], "pid %d still answers", after[i]);
    admin(ap, "POST", "/processes/nosuch/restart", NULL, &r);
    ASSERT(r.status == 404, "got %d", r.status);
    resp_free(&r);
    e2e_drover_stop(d);
}

E2E_TEST(stopped_type_stays_stopped_across_reload_until_started, 60)
{
    int dp = e2e_free_port(), ap = e2e_free_port(), base = base_port();
    const char *names[1] = {"web.1"};
    char *dir = e2e_app_dir(e2e_fmt("web: %s\nworker: while true; do echo tick; sleep 0.1; done\n",
                                    e2e_backend_bin),
                            e2e_fmt("listen: 127.0.0.1:%d\nadmin: {listen: 127.0.0.1:%d, token: secret}\n"
                                    "log: {access: off}\napp: {base_port: %d}\n",
                                    dp, ap, base));
    struct e2e_proc *d = e2e_drover_in(dir, NULL, addr_of(dp));
    struct http_resp r;
    char *text;
    int ticks;

    e2e_until_all_answer(addr_of(dp), names, 1, 10000);
    e2e_wait_log(d, "worker.1 | tick", 5000);
    admin(ap, "POST", "/processes/worker/stop", NULL, &r);
    ASSERT(r.status == 202, "got %d", r.status);
    resp_free(&r);
    e2e_wait_log(d, "worker.1 stopped (SIGTERM) after", 5000);
    kill(d->pid, SIGHUP);
    e2e_wait_log(d, "reload: no changes", 5000);
    text = e2e_log_of(d);
    ticks = count_in(text, "| tick");
    free(text);
    e2e_sleep_ms(500);
    text = e2e_log_of(d);
    ASSERT(count_in(text, "| tick") == ticks, "the stopped worker runs again after a reload");
    free(text);
    admin(ap, "GET", "/status", NULL, &r);
    ASSERT(r.status == 200 && strstr(r.body, "\"type\":\"worker\"") != NULL);
    ASSERT(strstr(r.body, "\"stopped\":true") != NULL, "%s", r.body);
    resp_free(&r);
    admin(ap, "POST", "/processes/worker/start", NULL, &r);
    ASSERT(r.status == 202);
    resp_free(&r);
    /* Started again: a second start line, and new ticks. */
    for (long long t = e2e_now_ms();; e2e_sleep_ms(20)) {
        text = e2e_log_of(d);
        if (count_in(text, "worker.1 started") >= 2 && count_in(text, "| tick") > ticks)
            break;
        ASSERT(e2e_now_ms() - t < 5000, "worker did not start again: %d start lines, %d ticks",
               count_in(text, "worker.1 started"), count_in(text, "| tick"));
        free(text);
    }
    free(text);
    e2e_drover_stop(d);
}

E2E_TEST(websocket_tunnel_survives_a_reload, 30)
{
    int dp = e2e_free_port(), ap = e2e_free_port(), bp = e2e_free_port();
    char *file = e2e_fmt("%s/drover.yaml", e2e_dir());
    const char *yaml = "listen: 127.0.0.1:%d\nadmin: {listen: 127.0.0.1:%d, token: secret}\n"
                       "log: {access: off}\ntimeouts: {upstream: %s}\n"
                       "routes:\n  - path: /\n    backends: [127.0.0.1:%d]\n";
    char *argv[] = {(char *)e2e_drover_bin, "run", "-c", file, NULL};
    struct e2e_proc *d;
    struct http_resp r;
    struct client *ws;
    char buf[64];

    e2e_backend("a", bp);
    e2e_write_file("drover.yaml", e2e_fmt(yaml, dp, ap, "30s", bp));
    d = e2e_spawn("drover", argv, NULL);
    e2e_wait_listening(addr_of(dp), 10000, d);
    ws = client_open(addr_of(dp));
    client_send_str(ws, "GET /ws HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
    ASSERT(client_read_any(ws, &r, false, 5000) == 0 && r.status == 101, "no 101");
    resp_free(&r);
    client_send_str(ws, "before");
    ASSERT(client_read_raw(ws, buf, 6, 2000) == 6 && memcmp(buf, "before", 6) == 0);
    e2e_write_file("drover.yaml", e2e_fmt(yaml, dp, ap, "20s", bp));
    admin(ap, "POST", "/reload", NULL, &r);
    ASSERT(r.status == 200 && strstr(r.body, "upstream: 30s → 20s") != NULL, "%d %s", r.status,
           r.body);
    resp_free(&r);
    client_send_str(ws, "after!");
    ASSERT(client_read_raw(ws, buf, 6, 2000) == 6 && memcmp(buf, "after!", 6) == 0,
           "the tunnel broke on reload");
    client_close(ws);
    e2e_drover_stop(d);
}

E2E_TEST(reload_adds_and_removes_listeners, 30)
{
    int dp = e2e_free_port(), dp2 = e2e_free_port(), ap = e2e_free_port(), bp = e2e_free_port();
    char *file = e2e_fmt("%s/drover.yaml", e2e_dir());
    const char *yaml = "listen: [%s]\nadmin: {listen: 127.0.0.1:%d, token: secret}\n"
                       "log: {access: off}\nroutes:\n  - path: /\n    backends: [127.0.0.1:%d]\n";
    char *argv[] = {(char *)e2e_drover_bin, "run", "-c", file, NULL};
    struct e2e_proc *d;
    struct http_resp r;
    struct client *kept;

    e2e_backend("a", bp);
    e2e_write_file("drover.yaml", e2e_fmt(yaml, addr_of(dp), ap, bp));
    d = e2e_spawn("drover", argv, NULL);
    e2e_wait_listening(addr_of(dp), 10000, d);
    kept = client_open(addr_of(dp));
    client_send_str(kept, "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT(client_read(kept, &r, false, 5000) == 0 && r.status == 200);
    resp_free(&r);
    /* Add a second address. */
    e2e_write_file("drover.yaml", e2e_fmt(yaml, e2e_fmt("%s, %s", addr_of(dp), addr_of(dp2)), ap, bp));
    admin(ap, "POST", "/reload", NULL, &r);
    ASSERT(r.status == 200, "%d %s", r.status, r.body);
    resp_free(&r);
    e2e_wait_listening(addr_of(dp2), 2000, d);
    http_get(addr_of(dp2), "/", &r);
    ASSERT(r.status == 200);
    resp_free(&r);
    /* Remove the first: refused from then on, but the established
     * connection still serves its next request. */
    e2e_write_file("drover.yaml", e2e_fmt(yaml, addr_of(dp2), ap, bp));
    admin(ap, "POST", "/reload", NULL, &r);
    ASSERT(r.status == 200, "%d %s", r.status, r.body);
    resp_free(&r);
    for (long long t = e2e_now_ms();; e2e_sleep_ms(20)) {
        struct client *probe = client_try_open(addr_of(dp));

        if (probe == NULL)
            break;
        client_close(probe);
        ASSERT(e2e_now_ms() - t < 3000, "the removed address still accepts");
    }
    client_send_str(kept, "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT(client_read(kept, &r, false, 5000) == 0 && r.status == 200, "the kept connection broke");
    resp_free(&r);
    client_close(kept);
    /* An address that cannot be bound refuses the whole reload. */
    e2e_write_file("drover.yaml", e2e_fmt(yaml, e2e_fmt("%s, %s", addr_of(dp2), addr_of(bp)), ap, bp));
    admin(ap, "POST", "/reload", NULL, &r);
    ASSERT(r.status == 422 && strstr(r.body, "in use") != NULL, "%d %s", r.status, r.body);
    resp_free(&r);
    e2e_drover_stop(d);
}

E2E_TEST(drain_finishes_inflight_refuses_new_and_exits_0, 40)
{
    int dp = e2e_free_port(), ap = e2e_free_port(), base = base_port();
    const char *names[1] = {"web.1"};
    char *dir = web_app(dp, ap, base, 1, "");
    struct e2e_proc *d = e2e_drover_in(dir, NULL, addr_of(dp));
    struct http_resp r;
    struct client *c;
    long long t0;
    int status;

    e2e_until_all_answer(addr_of(dp), names, 1, 10000);
    c = client_open(addr_of(dp));
    client_send_str(c, "GET /?delay=1500 HTTP/1.1\r\nHost: t\r\n\r\n");
    e2e_sleep_ms(200);
    t0 = e2e_now_ms();
    kill(d->pid, SIGTERM);
    /* /health says draining at once; new connections are refused. */
    for (long long t = e2e_now_ms();; e2e_sleep_ms(20)) {
        http_get(addr_of(ap), "/health", &r);
        if (r.status == 503)
            break;
        ASSERT(e2e_now_ms() - t < 3000, "/health still %d after SIGTERM", r.status);
        resp_free(&r);
    }
    ASSERT(strstr(r.body, "draining") != NULL, "%d %s", r.status, r.body);
    resp_free(&r);
    /* The workers close their listeners when they get the drain, which
     * can come a moment after /health says so on a busy machine. */
    for (long long t = e2e_now_ms();; e2e_sleep_ms(10)) {
        struct client *late = client_try_open(addr_of(dp));

        if (late == NULL)
            break;
        client_close(late);
        ASSERT(e2e_now_ms() - t < 1000, "new connections still accepted 1s into the drain");
    }
    /* The request in flight completes, and says the connection closes. */
    ASSERT(client_read(c, &r, false, 5000) == 0, "the in-flight request was lost");
    ASSERT(r.status == 200 && !r.keep_alive, "status %d keep-alive %d", r.status, r.keep_alive);
    resp_free(&r);
    client_close(c);
    status = e2e_stop(d, 0, 10000);
    e2e_check_sanitizer(d);
    ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
    e2e_log("drover exited %lldms after SIGTERM", e2e_now_ms() - t0);
    ASSERT(e2e_now_ms() - t0 >= 1200, "exited before the request in flight was done");
    /* The instance was stopped after the drain, not before it. */
    {
        char *log = e2e_log_of(d), *stop = strstr(log, "web.1 stopped (SIGTERM) after");

        ASSERT(stop != NULL, "web.1 was not stopped");
        ASSERT(strstr(log, "draining (a second signal") != NULL && strstr(log, "draining (a second signal") < stop,
               "web.1 stopped before the drain began");
        free(log);
    }
}

E2E_TEST(second_sigterm_stops_at_once, 30)
{
    int dp = e2e_free_port(), ap = e2e_free_port(), base = base_port();
    const char *names[1] = {"web.1"};
    char *dir = web_app(dp, ap, base, 1, "");
    struct e2e_proc *d = e2e_drover_in(dir, NULL, addr_of(dp));
    struct client *c;
    long long t0;
    int status;

    e2e_until_all_answer(addr_of(dp), names, 1, 10000);
    c = client_open(addr_of(dp));
    client_send_str(c, "GET /?delay=20000 HTTP/1.1\r\nHost: t\r\n\r\n");
    e2e_sleep_ms(200);
    kill(d->pid, SIGTERM);
    e2e_sleep_ms(200);
    t0 = e2e_now_ms();
    kill(d->pid, SIGTERM);
    status = e2e_stop(d, 0, 5000);
    e2e_check_sanitizer(d);
    e2e_log("exited %lldms after the second SIGTERM", e2e_now_ms() - t0);
    ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
    ASSERT(e2e_now_ms() - t0 < 1500, "the second signal did not stop drover at once");
    ASSERT(client_wait_closed(c, 1000));
    client_close(c);
}

/* Prometheus text format, line by line (exposition format 0.0.4). */
static void check_prometheus(const char *text)
{
    regex_t help, type, sample;
    char *copy = e2e_fmt("%s", text), *save = NULL;
    int lines = 0;

    ASSERT(regcomp(&help, "^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .+$", REG_EXTENDED) == 0);
    ASSERT(regcomp(&type, "^# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped)$",
                   REG_EXTENDED) == 0);
    ASSERT(regcomp(&sample,
                   "^[a-zA-Z_:][a-zA-Z0-9_:]*"
                   "(\\{[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]|\\\\.)*\""
                   "(,[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]|\\\\.)*\")*\\})? "
                   "-?([0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?|\\+Inf|-Inf|NaN)$",
                   REG_EXTENDED) == 0);
    for (char *line = strtok_r(copy, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        bool ok = line[0] == '#' ? regexec(&help, line, 0, NULL, 0) == 0 ||
                                       regexec(&type, line, 0, NULL, 0) == 0
                                 : regexec(&sample, line, 0, NULL, 0) == 0;

        ASSERT(ok, "not Prometheus text: %s", line);
        lines++;
    }
    ASSERT(lines > 20);
    regfree(&help);
    regfree(&type);
    regfree(&sample);
}

E2E_TEST(metrics_are_prometheus_text_and_count_the_requests, 30)
{
    int dp = e2e_free_port(), ap = e2e_free_port(), bp = e2e_free_port();
    struct e2e_proc *d;
    struct http_resp r;
    const char *line;

    e2e_backend("a", bp);
    d = e2e_drover(e2e_fmt("listen: 127.0.0.1:%d\nadmin: {listen: 127.0.0.1:%d, token: secret}\n"
                           "log: {access: off}\nroutes:\n  - path: /app/\n    backends: [127.0.0.1:%d]\n",
                           dp, ap, bp),
                   addr_of(dp));
    for (int i = 0; i < 37; i++) {
        http_get(addr_of(dp), "/app/x", &r);
        ASSERT(r.status == 200);
        resp_free(&r);
    }
    for (int i = 0; i < 3; i++) {
        http_get(addr_of(dp), "/nowhere", &r);
        ASSERT(r.status == 404);
        resp_free(&r);
    }
    admin(ap, "GET", "/metrics", NULL, &r);
    ASSERT(r.status == 200);
    ASSERT(strncmp(resp_header(&r, "Content-Type"), "text/plain; version=0.0.4", 25) == 0);
    check_prometheus(r.body);
    ASSERT(strstr(r.body, e2e_fmt("drover_requests_total{route=\"/app/\",backend=\"127.0.0.1:%d\","
                                  "code=\"2xx\"} 37\n",
                                  bp)) != NULL,
           "request counter: %s", r.body);
    ASSERT(strstr(r.body, "drover_requests_total{route=\"-\",backend=\"-\",code=\"4xx\"} 3\n") != NULL);
    ASSERT(strstr(r.body, "drover_request_duration_seconds_count{route=\"/app/\"} 37\n") != NULL);
    {
        const char *inf = "drover_request_duration_seconds_bucket{route=\"/app/\",le=\"+Inf\"} ";

        line = strstr(r.body, inf);
        ASSERT(line != NULL && atoi(line + strlen(inf)) == 37, "histogram +Inf bucket");
    }
    ASSERT(strstr(r.body, e2e_fmt("drover_backend_up{backend=\"127.0.0.1:%d\"} 1\n", bp)) != NULL);
    ASSERT(strstr(r.body, "drover_client_connections ") != NULL);
    ASSERT(strstr(r.body, "drover_reloads_total{result=\"ok\"} 0\n") != NULL);
    resp_free(&r);
    kill(d->pid, SIGHUP);
    e2e_wait_log(d, "reload: no changes", 3000);
    admin(ap, "GET", "/metrics", NULL, &r);
    ASSERT(strstr(r.body, "drover_reloads_total{result=\"ok\"} 1\n") != NULL);
    resp_free(&r);
    e2e_drover_stop(d);
}

/* SIGTERM: an idle keep-alive client is closed at once, while a request in
 * flight on another connection finishes, with Connection: close. */
E2E_TEST(sigterm_closes_idle_keepalive_clients_at_once, 30)
{
    int bp = e2e_free_port(), dp = e2e_free_port();
    struct client *idle, *busy;
    struct http_resp r;
    struct e2e_proc *d;
    long long t0;
    int status;

    e2e_backend("a", bp);
    d = e2e_drover(e2e_fmt("listen: 127.0.0.1:%d\nadmin: {listen: off}\nlog: {access: off}\n"
                           "routes:\n  - path: /\n    backends: [127.0.0.1:%d]\n",
                           dp, bp),
                   addr_of(dp));
    idle = client_open(addr_of(dp));
    client_send_str(idle, "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT(client_read(idle, &r, false, 2000) == 0 && r.status == 200);
    resp_free(&r);
    busy = client_open(addr_of(dp));
    client_send_str(busy, "GET /?delay=1500 HTTP/1.1\r\nHost: t\r\n\r\n");
    e2e_sleep_ms(200); /* in flight */
    t0 = e2e_now_ms();
    kill(d->pid, SIGTERM);
    ASSERT(client_wait_closed(idle, 700), "the idle keep-alive client was not closed at once");
    e2e_log("idle client closed %lldms after SIGTERM", e2e_now_ms() - t0);
    ASSERT(client_read(busy, &r, false, 3000) == 0 && r.status == 200, "the request in flight was lost");
    ASSERT(resp_header(&r, "Connection") != NULL && strcasecmp(resp_header(&r, "Connection"), "close") == 0,
           "no Connection: close on the drained answer");
    resp_free(&r);
    status = e2e_stop(d, SIGTERM, 5000);
    ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
    e2e_check_sanitizer(d);
    client_close(idle);
    client_close(busy);
}

/* SIGINT (Ctrl-C) drains like SIGTERM: the request in flight finishes and
 * drover exits 0. */
E2E_TEST(sigint_drains_like_sigterm, 30)
{
    int bp = e2e_free_port(), dp = e2e_free_port();
    struct e2e_proc *d;
    struct client *c;
    struct http_resp r;
    int status;

    e2e_backend("a", bp);
    d = e2e_drover(e2e_fmt("listen: 127.0.0.1:%d\nadmin: {listen: off}\nlog: {access: off}\n"
                           "routes:\n  - path: /\n    backends: [127.0.0.1:%d]\n",
                           dp, bp),
                   addr_of(dp));
    c = client_open(addr_of(dp));
    client_send_str(c, "GET /?delay=800 HTTP/1.1\r\nHost: t\r\n\r\n");
    e2e_sleep_ms(200); /* in flight */
    kill(d->pid, SIGINT);
    e2e_wait_log(d, "Interrupt: draining", 2000);
    ASSERT(client_read(c, &r, false, 3000) == 0 && r.status == 200, "the request in flight was lost");
    resp_free(&r);
    status = e2e_stop(d, 0, 5000);
    ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
    e2e_check_sanitizer(d);
    client_close(c);
}

/* timeouts.drain bounds the whole stop: an open WebSocket tunnel does not
 * keep drover alive past it. */
E2E_TEST(drain_budget_bounds_the_stop_with_an_open_tunnel, 30)
{
    int bp = e2e_free_port(), dp = e2e_free_port();
    struct e2e_proc *d;
    struct client *c;
    struct http_resp r;
    long long t0;
    int status;

    e2e_backend("a", bp);
    d = e2e_drover(e2e_fmt("listen: 127.0.0.1:%d\nadmin: {listen: off}\nlog: {access: off}\n"
                           "timeouts: {drain: 1s}\n"
                           "routes:\n  - path: /\n    backends: [127.0.0.1:%d]\n",
                           dp, bp),
                   addr_of(dp));
    c = client_open(addr_of(dp));
    client_send_str(c, "GET /ws HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
    ASSERT(client_read_any(c, &r, false, 3000) == 0 && r.status == 101, "no tunnel");
    resp_free(&r);
    t0 = e2e_now_ms();
    kill(d->pid, SIGTERM);
    status = e2e_stop(d, 0, 10000);
    e2e_log("drover exited %lldms after SIGTERM with a tunnel open", e2e_now_ms() - t0);
    ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
    ASSERT(e2e_now_ms() - t0 >= 900, "exited before timeouts.drain: the tunnel was not waited for");
    ASSERT(e2e_now_ms() - t0 < 6000, "the open tunnel held drover %lldms past a 1s drain",
           e2e_now_ms() - t0);
    e2e_wait_log(d, "drain budget (timeouts.drain) spent", 100);
    e2e_check_sanitizer(d);
    client_close(c);
}

/* A process type added to drover.yaml starts on reload; removed, it is
 * stopped. */
E2E_TEST(reload_adds_and_removes_a_process_type, 40)
{
    int dp = e2e_free_port(), ap = e2e_free_port(), base = base_port();
    const char *names[1] = {"web.1"};
    char *dir = web_app(dp, ap, base, 1, "");
    struct e2e_proc *d = e2e_drover_in(dir, NULL, addr_of(dp));
    struct http_resp r;

    e2e_until_all_answer(addr_of(dp), names, 1, 10000);
    web_app(dp, ap, base, 1, "  extra:\n    command: \"while true; do echo extra-tick; sleep 0.1; done\"\n");
    admin(ap, "POST", "/reload", NULL, &r);
    ASSERT(r.status == 200 && strstr(r.body, "extra: new process type") != NULL, "%d %s", r.status, r.body);
    resp_free(&r);
    e2e_wait_log(d, "| extra-tick", 5000);
    web_app(dp, ap, base, 1, "");
    admin(ap, "POST", "/reload", NULL, &r);
    ASSERT(r.status == 200 && strstr(r.body, "extra: no longer in the formation") != NULL, "%d %s",
           r.status, r.body);
    resp_free(&r);
    e2e_wait_log(d, "extra.1 stopped (SIGTERM) after", 5000);
    e2e_until_all_answer(addr_of(dp), names, 1, 5000);
    e2e_drover_stop(d);
}

/* A rolling restart whose replacement never gets ready leaves the old
 * instance serving: it is retired only once its replacement is ready. */
E2E_TEST(replacement_never_ready_leaves_the_old_one_serving, 40)
{
    int dp = e2e_free_port(), ap = e2e_free_port(), base = base_port();
    const char *names[1] = {"web.1"};
    const char *yaml = "listen: 127.0.0.1:%d\nadmin: {listen: 127.0.0.1:%d, token: secret}\n"
                       "log: {access: off}\napp: {base_port: %d}\nprocesses:\n  web:\n"
                       "    ready: {path: /, timeout: 500ms}\n%s";
    char *dir = e2e_app_dir(e2e_fmt("web: exec %s\n", e2e_backend_bin), e2e_fmt(yaml, dp, ap, base, ""));
    struct e2e_proc *d = e2e_drover_in(dir, NULL, addr_of(dp)), *load;
    struct http_resp r;

    e2e_until_all_answer(addr_of(dp), names, 1, 10000);
    /* The new command never listens. */
    e2e_app_dir(e2e_fmt("web: exec %s\n", e2e_backend_bin),
                e2e_fmt(yaml, dp, ap, base, "    command: \"sleep 1000\"\n"));
    load = e2e_load_start(addr_of(dp), "/", 2, 2500);
    admin(ap, "POST", "/reload", NULL, &r);
    ASSERT(r.status == 200 && strstr(r.body, "rolling restart") != NULL, "%d %s", r.status, r.body);
    resp_free(&r);
    e2e_wait_log(d, "not ready within 500ms", 5000);
    e2e_load_assert_clean(load);
    http_get(addr_of(dp), "/", &r);
    ASSERT(r.status == 200 && strcmp(resp_header(&r, "X-Backend"), "web.1") == 0,
           "the old instance stopped serving: %d", r.status);
    resp_free(&r);
    e2e_drover_stop(d);
}

/* A rolling restart replaces ceil(N/4) instances at a time: with 4, each
 * replacement is ready and its old instance retired before the next one
 * starts. */
E2E_TEST(rolling_restart_goes_one_quarter_at_a_time, 60)
{
    int dp = e2e_free_port(), ap = e2e_free_port(), base = base_port();
    const char *names[4] = {"web.1", "web.2", "web.3", "web.4"};
    char *dir = web_app(dp, ap, base, 4, "");
    struct e2e_proc *d = e2e_drover_in(dir, NULL, addr_of(dp));
    struct http_resp r;
    char *text, *p;
    int started = 0, replaced = 0;

    e2e_until_all_answer(addr_of(dp), names, 4, 10000);
    admin(ap, "POST", "/processes/web/restart", NULL, &r);
    ASSERT(r.status == 202, "got %d", r.status);
    resp_free(&r);
    e2e_wait_log(d, "web: rolling restart done", 20000);
    text = e2e_log_of(d);
    p = strstr(text, "rolling restart of 4 instances");
    ASSERT(p != NULL, "no rolling restart line");
    /* From there on: started, replaced, started, replaced, ... */
    for (char *line = p; (line = strchr(line, '\n')) != NULL && replaced < 4; line++) {
        if (strncmp(line + 1 + 9, "drover", 6) != 0)
            continue;
        if (strstr(line, " started on port") != NULL && strstr(line, " started on port") < strchr(line + 1, '\n')) {
            started++;
            ASSERT(started == replaced + 1, "a second replacement started before the first was done");
        } else if (strstr(line, " replaced by ") != NULL && strstr(line, " replaced by ") < strchr(line + 1, '\n')) {
            replaced++;
        }
    }
    ASSERT(started == 4 && replaced == 4, "%d started, %d replaced", started, replaced);
    free(text);
    e2e_drover_stop(d);
}

/* With two process types configured, a reload compares each type's
 * settings with its own: an unchanged file reloads with no change, and a
 * change names its type. */
E2E_TEST(reload_diff_names_the_process_type, 30)
{
    int dp = e2e_free_port(), ap = e2e_free_port(), base = base_port();
    const char *yaml = "listen: 127.0.0.1:%d\nadmin: {listen: 127.0.0.1:%d, token: secret}\n"
                       "log: {access: off}\napp: {base_port: %d}\nprocesses:\n"
                       "  web: {ready: {path: /}}\n  worker: {stop_timeout: %s}\n";
    char *dir = e2e_app_dir(e2e_fmt("web: exec %s\nworker: sleep 1000\n", e2e_backend_bin),
                            e2e_fmt(yaml, dp, ap, base, "2s"));
    struct e2e_proc *d = e2e_drover_in(dir, NULL, addr_of(dp));
    struct http_resp r;

    admin(ap, "POST", "/reload", NULL, &r);
    ASSERT(r.status == 200 && strcmp(r.body, "{\"changes\":[]}\n") == 0, "%d %s", r.status, r.body);
    resp_free(&r);
    e2e_app_dir(e2e_fmt("web: exec %s\nworker: sleep 1000\n", e2e_backend_bin),
                e2e_fmt(yaml, dp, ap, base, "3s"));
    admin(ap, "POST", "/reload", NULL, &r);
    ASSERT(r.status == 200 && strstr(r.body, "processes worker stop_timeout: 2s → 3s") != NULL, "%s",
           r.body);
    resp_free(&r);
    e2e_drover_stop(d);
}
