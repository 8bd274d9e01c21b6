/* The admin API's surface (auth, methods, errors) and the control commands
 * (`drover status|scale|restart|stop|start|reload`) against a real drover. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "tests/e2e/client.h"
#include "tests/e2e/harness.h"

static char *addr_of(int port)
{
    return e2e_fmt("127.0.0.1:%d", port);
}

/* Room for 8 instances of web (replacements take new slots). */
static int base_port(void)
{
    return e2e_free_base(1, 8);
}

/* An app dir whose web type is the test backend (two instances, ready on
 * GET /), drover on dp, the admin API on ap with token "secret". */
static char *admin_app(int dp, int ap, int instances)
{
    return e2e_app_dir(e2e_fmt("web: %s\n", e2e_backend_bin),
                       e2e_fmt("listen: 127.0.0.1:%d\n"
                               "admin: {listen: 127.0.0.1:%d, token: secret}\n"
                               "log: {access: off}\n"
                               "app: {base_port: %d}\n"
                               "processes:\n  web:\n    instances: %d\n    ready: {path: /}\n",
                               dp, ap, base_port(), instances));
}

/* One admin request on a new connection; auth is the whole Authorization
 * value or NULL. */
static void admin_req(int ap, const char *method, const char *path, const char *auth,
                      const char *body, struct http_resp *r)
{
    http_exchange(addr_of(ap),
                  e2e_fmt("%s %s HTTP/1.1\r\nHost: admin\r\n%s%s%s"
                          "Content-Length: %zu\r\n\r\n%s",
                          method, path, auth ? "Authorization: " : "", auth ? auth : "",
                          auth ? "\r\n" : "", body ? strlen(body) : 0, body ? body : ""),
                  r, 5000);
}

/* Runs `drover ARGS...` (NULL-terminated) with extra environment to
 * completion; returns its exit code and sets *out to what it printed
 * (stdout and stderr). */
static int drover_cmd(char *const env[], char **out, ...)
{
    static int n;
    char *argv[16];
    int argc = 0;
    va_list ap;
    struct e2e_proc *p;
    long long deadline;
    const char *name = e2e_fmt("cli%d", n++);

    argv[argc++] = (char *)e2e_drover_bin;
    va_start(ap, out);
    while (argc < 15 && (argv[argc] = va_arg(ap, char *)) != NULL)
        argc++;
    va_end(ap);
    argv[argc] = NULL;
    p = e2e_spawn(name, argv, env);
    deadline = e2e_now_ms() + 15000;
    while (!e2e_exited(p)) {
        if (e2e_now_ms() > deadline) {
            e2e_stop(p, SIGKILL, 1000);
            e2e_fail(__FILE__, __LINE__, "%s did not finish within 15s", name);
        }
        e2e_sleep_ms(5);
    }
    e2e_check_sanitizer(p);
    *out = e2e_log_of(p);
    e2e_log("drover %s%s%s → %d: %s", argv[1], argc > 2 ? " " : "", argc > 2 ? argv[2] : "",
            WIFEXITED(p->status) ? WEXITSTATUS(p->status) : -1, *out);
    return WIFEXITED(p->status) ? WEXITSTATUS(p->status) : -1;
}

static int count_lines(const char *s)
{
    int n = 0;

    for (; *s; s++)
        if (*s == '\n')
            n++;
    return n;
}

E2E_TEST(admin_auth_methods_and_errors, 40)
{
    int dp = e2e_free_port(), ap = e2e_free_port();
    char *dir = admin_app(dp, ap, 1);
    struct e2e_proc *d = e2e_drover_in(dir, NULL, addr_of(ap));
    struct http_resp r;

    /* /health and /ready answer without the token. */
    admin_req(ap, "GET", "/health", NULL, NULL, &r);
    ASSERT(r.status == 200, "got %d", r.status);
    ASSERT(strcmp(r.body, "{\"status\":\"ok\"}\n") == 0, "body %s", r.body);
    ASSERT(resp_header(&r, "Content-Type") && strcmp(resp_header(&r, "Content-Type"),
                                                     "application/json") == 0);
    ASSERT(resp_header(&r, "Cache-Control") &&
           strcmp(resp_header(&r, "Cache-Control"), "no-store") == 0);
    resp_free(&r);
    admin_req(ap, "GET", "/ready", NULL, NULL, &r);
    ASSERT(r.status == 200 || r.status == 503, "got %d", r.status);
    resp_free(&r);

    /* Everything else needs it. */
    admin_req(ap, "GET", "/status", NULL, NULL, &r);
    ASSERT(r.status == 401, "got %d", r.status);
    ASSERT(resp_header(&r, "WWW-Authenticate") != NULL &&
           strncmp(resp_header(&r, "WWW-Authenticate"), "Bearer", 6) == 0);
    ASSERT(strstr(r.body, "\"error\"") != NULL, "body %s", r.body);
    resp_free(&r);
    admin_req(ap, "GET", "/status", "Bearer wrong", NULL, &r);
    ASSERT(r.status == 401, "got %d", r.status);
    resp_free(&r);
    admin_req(ap, "GET", "/status", "Bearer secretx", NULL, &r);
    ASSERT(r.status == 401, "a longer token is wrong too: %d", r.status);
    resp_free(&r);
    admin_req(ap, "GET", "/metrics", NULL, NULL, &r);
    ASSERT(r.status == 401, "got %d", r.status);
    resp_free(&r);
    admin_req(ap, "POST", "/reload", NULL, NULL, &r);
    ASSERT(r.status == 401, "got %d", r.status);
    resp_free(&r);

    admin_req(ap, "GET", "/status", "Bearer secret", NULL, &r);
    ASSERT(r.status == 200, "got %d", r.status);
    ASSERT(r.body[0] == '{' && strstr(r.body, "\"processes\"") != NULL, "body %s", r.body);
    resp_free(&r);
    admin_req(ap, "GET", "/metrics", "Bearer secret", NULL, &r);
    ASSERT(r.status == 200, "got %d", r.status);
    ASSERT(resp_header(&r, "Content-Type") &&
           strncmp(resp_header(&r, "Content-Type"), "text/plain; version=0.0.4", 25) == 0);
    resp_free(&r);

    /* Wrong method: 405 with Allow. */
    admin_req(ap, "GET", "/reload", "Bearer secret", NULL, &r);
    ASSERT(r.status == 405, "got %d", r.status);
    ASSERT(resp_header(&r, "Allow") && strcmp(resp_header(&r, "Allow"), "POST") == 0);
    resp_free(&r);
    admin_req(ap, "DELETE", "/status", "Bearer secret", NULL, &r);
    ASSERT(r.status == 405, "got %d", r.status);
    ASSERT(resp_header(&r, "Allow") && strcmp(resp_header(&r, "Allow"), "GET, HEAD") == 0);
    resp_free(&r);

    /* Bad bodies and unknown endpoints. */
    admin_req(ap, "POST", "/scale", "Bearer secret", "not json", &r);
    ASSERT(r.status == 400, "got %d", r.status);
    ASSERT(strstr(r.body, "\"error\":\"body: ") != NULL, "body %s", r.body);
    resp_free(&r);
    admin_req(ap, "POST", "/scale", "Bearer secret", "[1,2]", &r);
    ASSERT(r.status == 400, "got %d", r.status);
    resp_free(&r);
    admin_req(ap, "GET", "/nope", "Bearer secret", NULL, &r);
    ASSERT(r.status == 404, "got %d", r.status);
    ASSERT(strcmp(r.body, "{\"error\":\"no such endpoint\"}\n") == 0, "body %s", r.body);
    resp_free(&r);
    admin_req(ap, "POST", "/processes/nosuchtype/restart", "Bearer secret", NULL, &r);
    ASSERT(r.status == 404, "got %d", r.status);
    resp_free(&r);
    e2e_drover_stop(d);
}

E2E_TEST(admin_keep_alive_and_malformed_requests, 40)
{
    int dp = e2e_free_port(), ap = e2e_free_port();
    char *dir = admin_app(dp, ap, 1);
    struct e2e_proc *d = e2e_drover_in(dir, NULL, addr_of(ap));
    struct client *c;
    struct http_resp r;

    /* Two requests on one connection, then Connection: close is honoured. */
    c = client_open(addr_of(ap));
    client_send_str(c, "GET /health HTTP/1.1\r\nHost: a\r\n\r\n");
    ASSERT(client_read(c, &r, false, 5000) == 0);
    ASSERT(r.status == 200 && r.keep_alive);
    resp_free(&r);
    client_send_str(c, "HEAD /status HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer secret\r\n"
                       "Connection: close\r\n\r\n");
    ASSERT(client_read(c, &r, true, 5000) == 0);
    ASSERT(r.status == 200 && r.body_len == 0, "HEAD: %d, %zu body bytes", r.status, r.body_len);
    ASSERT(resp_header(&r, "Content-Length") && atoi(resp_header(&r, "Content-Length")) > 10);
    resp_free(&r);
    ASSERT(client_wait_closed(c, 3000), "Connection: close not honoured");
    client_close(c);

    /* Garbage: 400 and the connection closes. */
    c = client_open(addr_of(ap));
    client_send_str(c, "BLAH\x01 / HTTP/1.1\r\n\r\n");
    ASSERT(client_read(c, &r, false, 5000) == 0);
    ASSERT(r.status == 400, "got %d", r.status);
    resp_free(&r);
    ASSERT(client_wait_closed(c, 3000));
    client_close(c);

    /* A body over 64 KiB: 413 before it is sent. */
    c = client_open(addr_of(ap));
    client_send_str(c, "POST /scale HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer secret\r\n"
                       "Content-Length: 100000\r\n\r\n");
    ASSERT(client_read(c, &r, false, 5000) == 0);
    ASSERT(r.status == 413, "got %d", r.status);
    resp_free(&r);
    client_close(c);

    /* drover is fine afterwards. */
    admin_req(ap, "GET", "/health", NULL, NULL, &r);
    ASSERT(r.status == 200);
    resp_free(&r);
    e2e_drover_stop(d);
}

E2E_TEST(cli_status_table_json_and_config_lookup, 60)
{
    int dp = e2e_free_port(), ap = e2e_free_port();
    char *dir = admin_app(dp, ap, 2);
    struct e2e_proc *d = e2e_drover_in(dir, NULL, addr_of(ap));
    char *env_ok[] = {"DROVER_ADMIN_TOKEN=secret", NULL};
    char *env_none[] = {"DROVER_ADMIN_TOKEN=", NULL};
    char *out;

    e2e_wait_log(d, "web.2 ready", 15000);
    ASSERT(drover_cmd(env_ok, &out, "status", "--admin", addr_of(ap), NULL) == 0, "%s", out);
    ASSERT(strstr(out, "TYPE") && strstr(out, "INSTANCE") && strstr(out, "UPTIME"), "%s", out);
    ASSERT(strstr(out, "web.1") && strstr(out, "web.2"), "instances missing: %s", out);
    ASSERT(strstr(out, " up ") || strstr(out, " ready "), "state missing: %s", out);
    ASSERT(strstr(out, "serving"), "summary missing: %s", out);

    ASSERT(drover_cmd(env_ok, &out, "status", "--json", "--admin", addr_of(ap), NULL) == 0);
    ASSERT(out[0] == '{' && strstr(out, "\"processes\"") && strstr(out, "\"web.2\""), "%s", out);

    /* No --admin and no token in the environment: both from -d DIR's config. */
    ASSERT(drover_cmd(env_none, &out, "status", "-d", dir, NULL) == 0, "%s", out);
    ASSERT(strstr(out, "web.1") != NULL, "%s", out);
    e2e_drover_stop(d);
}

E2E_TEST(cli_refusals_are_one_line_and_exit_1, 60)
{
    int dp = e2e_free_port(), ap = e2e_free_port(), closed = e2e_free_port();
    char *dir = admin_app(dp, ap, 1);
    struct e2e_proc *d = e2e_drover_in(dir, NULL, addr_of(ap));
    char *env_ok[] = {"DROVER_ADMIN_TOKEN=secret", NULL};
    char *env_wrong[] = {"DROVER_ADMIN_TOKEN=wrong", NULL};
    char *out;

    ASSERT(drover_cmd(env_wrong, &out, "status", "--admin", addr_of(ap), NULL) == 1);
    ASSERT(strcmp(out, e2e_fmt("drover: the admin API at 127.0.0.1:%d refused the token "
                               "(set DROVER_ADMIN_TOKEN)\n",
                               ap)) == 0,
           "%s", out);

    ASSERT(drover_cmd(env_ok, &out, "status", "--admin", addr_of(closed), NULL) == 1);
    ASSERT(strncmp(out, e2e_fmt("drover: cannot reach the admin API at 127.0.0.1:%d: ", closed),
                   strlen(e2e_fmt("drover: cannot reach the admin API at 127.0.0.1:%d: ", closed))) == 0,
           "%s", out);
    ASSERT(strstr(out, "(is drover running?)") != NULL && count_lines(out) == 1, "%s", out);

    ASSERT(drover_cmd(env_ok, &out, "restart", "nosuchtype", "--admin", addr_of(ap), NULL) == 1);
    ASSERT(strncmp(out, "drover: ", 8) == 0 && strstr(out, "nosuchtype") != NULL &&
               count_lines(out) == 1,
           "%s", out);

    ASSERT(drover_cmd(env_ok, &out, "scale", "nosuchtype=2", "--admin", addr_of(ap), NULL) == 1);
    ASSERT(strncmp(out, "drover: ", 8) == 0 && count_lines(out) == 1, "%s", out);

    /* Usage errors: 2. */
    ASSERT(drover_cmd(env_ok, &out, "scale", "web", "--admin", addr_of(ap), NULL) == 2, "%s", out);
    ASSERT(drover_cmd(env_ok, &out, "restart", NULL) == 2, "%s", out);
    ASSERT(drover_cmd(env_ok, &out, "status", "--frob", NULL) == 2, "%s", out);
    e2e_drover_stop(d);
}

E2E_TEST(cli_scale_restart_stop_start_reload, 90)
{
    int dp = e2e_free_port(), ap = e2e_free_port();
    char *dir = admin_app(dp, ap, 1);
    struct e2e_proc *d = e2e_drover_in(dir, NULL, addr_of(ap));
    char *env[] = {"DROVER_ADMIN_TOKEN=secret", NULL};
    char *admin = addr_of(ap);
    char *out;

    e2e_wait_log(d, "web.1 ready", 15000);
    ASSERT(drover_cmd(env, &out, "scale", "web=2", "--admin", admin, NULL) == 0, "%s", out);
    ASSERT(strcmp(out, "web=2\n") == 0, "%s", out);
    e2e_wait_log(d, "web.2 ready", 15000);

    ASSERT(drover_cmd(env, &out, "restart", "web", "--admin", admin, NULL) == 0, "%s", out);
    ASSERT(strcmp(out, "restarting web (rolling, in the background)\n") == 0, "%s", out);

    ASSERT(drover_cmd(env, &out, "stop", "web", "--admin", admin, NULL) == 0, "%s", out);
    ASSERT(strcmp(out, "stopping web (in the background)\n") == 0, "%s", out);
    ASSERT(drover_cmd(env, &out, "start", "web", "--admin", admin, NULL) == 0, "%s", out);
    ASSERT(strcmp(out, "starting web (in the background)\n") == 0, "%s", out);

    ASSERT(drover_cmd(env, &out, "reload", "--admin", admin, NULL) == 0, "%s", out);
    ASSERT(count_lines(out) >= 1, "%s", out);

    /* A broken config: drover keeps running and the command says why. */
    e2e_write_file("app/drover.yaml", "listen: 127.0.0.1:1\ntimeouts:\n  conect: 3s\n");
    ASSERT(drover_cmd(env, &out, "reload", "--admin", admin, NULL) == 1, "%s", out);
    ASSERT(strncmp(out, "drover: ", 8) == 0 && strstr(out, "drover.yaml:") != NULL, "%s", out);
    ASSERT(drover_cmd(env, &out, "status", "--admin", admin, NULL) == 0, "%s", out);
    e2e_drover_stop(d);
}

E2E_TEST(cli_without_an_admin_api, 30)
{
    char *dir = e2e_app_dir(NULL, "admin:\n  listen: off\n");
    char *env[] = {"DROVER_ADMIN_TOKEN=", NULL};
    char *out;

    ASSERT(drover_cmd(env, &out, "status", "-d", dir, NULL) == 1, "%s", out);
    ASSERT(strcmp(out, e2e_fmt("drover: admin API disabled in %s/drover.yaml (admin.listen: off); "
                               "use --admin ADDR\n",
                               dir)) == 0,
           "%s", out);
    ASSERT(drover_cmd(env, &out, "status", "--admin", "unix:/nonexistent/admin.sock", NULL) == 1);
    ASSERT(strstr(out, "cannot reach the admin API at unix:/nonexistent/admin.sock") != NULL, "%s",
           out);
    ASSERT(drover_cmd(env, &out, "status", "--help", NULL) == 0, "%s", out);
    ASSERT(strstr(out, "usage: drover status") != NULL, "%s", out);
}

/* GET /ready: 503 naming the routes without a healthy backend, 200 once
 * every route has one. */
E2E_TEST(ready_names_routes_without_a_healthy_backend, 30)
{
    int dp = e2e_free_port(), ap = e2e_free_port(), up = e2e_free_port(), down = e2e_free_port();
    struct e2e_proc *d;
    struct http_resp r;
    long long t;

    e2e_backend("up", up);
    d = e2e_drover(e2e_fmt("listen: 127.0.0.1:%d\nadmin: {listen: 127.0.0.1:%d}\n"
                           "health: {interval: 100ms, timeout: 100ms, fall: 1, rise: 1}\n"
                           "routes:\n  - path: /api/\n    backends: [127.0.0.1:%d]\n"
                           "  - path: /\n    backends: [127.0.0.1:%d]\n",
                           dp, ap, down, up),
                   addr_of(dp));
    for (t = e2e_now_ms();; e2e_sleep_ms(50)) {
        admin_req(ap, "GET", "/ready", NULL, NULL, &r);
        if (r.status == 503)
            break;
        ASSERT(e2e_now_ms() - t < 5000, "still %d %s with /api/ down", r.status, r.body);
        resp_free(&r);
    }
    ASSERT(strcmp(r.body, "{\"status\":\"not ready\",\"routes\":[\"/api/\"]}\n") == 0, "body %s", r.body);
    resp_free(&r);
    e2e_backend("late", down);
    for (t = e2e_now_ms();; e2e_sleep_ms(50)) {
        admin_req(ap, "GET", "/ready", NULL, NULL, &r);
        if (r.status == 200)
            break;
        ASSERT(e2e_now_ms() - t < 5000, "still %d %s with every backend up", r.status, r.body);
        resp_free(&r);
    }
    ASSERT(strcmp(r.body, "{\"status\":\"ready\"}\n") == 0, "body %s", r.body);
    resp_free(&r);
    e2e_drover_stop(d);
}
