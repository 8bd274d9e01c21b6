/* The dashboard in a real headless Chromium (webdriver.h): the page loads
 * and lists the instances, a scale click changes the formation (checked
 * through /status), a line an instance prints appears in the log pane as
 * it comes, HTML an instance prints shows as text and runs nothing, a
 * wrong token is refused and the right one is kept nowhere but the page.
 * Without a browser: the page's headers (CSP, nosniff), and
 * admin.dashboard: false. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/e2e/client.h"
#include "tests/e2e/harness.h"
#include "tests/e2e/webdriver.h"

/* Lines with HTML in them: either would set window.__pwned if it ran. */
#define TALK                                                                                       \
    "talk: echo hello-from-talk; echo '<img src=x onerror=\"window.__pwned=1\">'; "               \
    "echo '<script>window.__pwned=2</script>' >&2; "                                              \
    "while [ ! -f go ]; do sleep 0.05; done; echo late-line-after-load; sleep 600\n"

static struct e2e_proc *start(const char *extra_admin, char **listen, char **admin)
{
    int lp = e2e_free_port(), ap = e2e_free_port();
    char *dir;
    struct e2e_proc *d;

    *listen = e2e_fmt("127.0.0.1:%d", lp);
    *admin = e2e_fmt("127.0.0.1:%d", ap);
    dir = e2e_app_dir(e2e_fmt("web: exec %s -l 127.0.0.1:$PORT -q\n" TALK, e2e_backend_bin),
                      e2e_fmt("listen: %s\nadmin: {listen: %s%s}\nlog: {access: off}\n"
                              "app: {base_port: %d}\n"
                              "processes: {web: {instances: 2}, talk: {instances: 1}}\n",
                              *listen, *admin, extra_admin, e2e_free_base(2, 4)));
    d = e2e_drover_in(dir, NULL, *admin);
    e2e_wait_log(d, "talk.1 ! <script>", 10000);
    return d;
}

/* The number of web instances /status reports, and how many are up. */
static void web_count(const char *admin, const char *token, int *want, int *up)
{
    struct http_resp r;
    json_t *doc, *t, *x;
    size_t i;

    http_exchange(admin,
                  e2e_fmt("GET /status HTTP/1.1\r\nHost: a\r\n%s%s%s\r\n", token ? "Authorization: Bearer " : "",
                          token ? token : "", token ? "\r\n" : ""),
                  &r, 5000);
    ASSERT(r.status == 200);
    doc = json_loads(r.body, 0, NULL);
    resp_free(&r);
    *want = *up = 0;
    json_array_foreach(json_object_get(doc, "processes"), i, t) {
        size_t k;

        if (strcmp(json_string_value(json_object_get(t, "type")), "web") != 0)
            continue;
        *want = (int)json_integer_value(json_object_get(t, "want"));
        json_array_foreach(json_object_get(t, "instances"), k, x)
            *up += strcmp(json_string_value(json_object_get(x, "state")), "up") == 0;
    }
    json_decref(doc);
}

/* A screenshot in the test dir, and under $DROVER_SCREENSHOTS (docs/)
 * when that is set. */
static void shot(struct wd *w, const char *name)
{
    const char *docs = getenv("DROVER_SCREENSHOTS");

    wd_screenshot(w, e2e_fmt("%s/%s", e2e_dir(), name));
    if (docs != NULL && *docs != '\0')
        wd_screenshot(w, e2e_fmt("%s/%s", docs, name));
}

E2E_TEST(dashboard_in_chromium_lists_scales_follows_logs_and_shows_html_as_text, 120)
{
    char *listen, *admin, *text, *el;
    struct e2e_proc *d = start("", &listen, &admin);
    struct wd *w = wd_open(1400, 1300);
    int want, up;
    long long deadline;
    json_t *v;

    for (int i = 0; i < 30; i++) {
        struct http_resp r;

        http_get(listen, "/?delay=2", &r);
        resp_free(&r);
    }
    wd_go(w, e2e_fmt("http://%s/", admin));
    ASSERT(wd_wait_true(w, "return document.querySelectorAll('tr[data-instance]').length === 3;", 15000),
           "the page lists web.1, web.2 and talk.1");
    text = wd_exec_str(w, "return document.querySelector('tr[data-instance=\"web.1\"]').textContent;");
    ASSERT(strstr(text, "web.1") != NULL && strstr(text, "up") != NULL, "web.1's row: %s", text);
    ASSERT(wd_wait_true(w, "return document.querySelector('#routes tbody tr') !== null;", 5000),
           "the routes' table");

    /* The log pane: lines printed before the page opened, then one after. */
    ASSERT(wd_wait_true(w, "return document.getElementById('log').textContent.includes('hello-from-talk');",
                        10000),
           "a line talk.1 printed is in the log pane");
    e2e_write_file("app/go", "");
    ASSERT(wd_wait_true(w, "return document.getElementById('log').textContent.includes('late-line-after-load');",
                        10000),
           "a line printed after the page loaded appears in the log pane");

    /* HTML from an instance is text: it is there, and nothing ran. */
    text = wd_exec_str(w, "return document.getElementById('log').textContent;");
    ASSERT(strstr(text, "<img src=x onerror=\"window.__pwned=1\">") != NULL, "the <img> line as text");
    ASSERT(strstr(text, "<script>window.__pwned=2</script>") != NULL, "the <script> line as text");
    v = wd_exec(w, "return [typeof window.__pwned, document.querySelectorAll('#log img, #log script').length];");
    ASSERT(json_is_array(v) && strcmp(json_string_value(json_array_get(v, 0)), "undefined") == 0 &&
               json_integer_value(json_array_get(v, 1)) == 0,
           "the payload ran or became elements");
    json_decref(v);

    /* scale +: web 2 → 3, seen by /status and in the page. */
    shot(w, "dashboard.png");
    el = wd_wait_find(w, "button[data-action=\"scale-up\"][data-type=\"web\"]", 5000);
    wd_click(w, el);
    free(el);
    deadline = e2e_now_ms() + 15000;
    for (;;) {
        web_count(admin, NULL, &want, &up);
        if (want == 3 && up == 3)
            break;
        ASSERT(e2e_now_ms() < deadline, "web never reached 3 up instances (want %d, up %d)", want, up);
        e2e_sleep_ms(100);
    }
    ASSERT(wd_wait_true(w, "return document.querySelector('tr[data-instance=\"web.3\"]') !== null;", 5000),
           "the page shows web.3");
    text = wd_exec_str(w, "return document.getElementById('answer').textContent;");
    ASSERT(strstr(text, "scale web=3") != NULL && strstr(text, "200") != NULL &&
               strstr(text, "\"web\":3") != NULL,
           "the action's answer is shown: %s", text);

    /* A number typed in: web 3 → 1. */
    el = wd_wait_find(w, "input[data-type=\"web\"]", 5000);
    json_decref(wd_exec(w, "const i = document.querySelector('input[data-type=\"web\"]'); i.value = ''; return 0;"));
    wd_type(w, el, "1");
    free(el);
    el = wd_wait_find(w, "button[data-action=\"scale-set\"][data-type=\"web\"]", 5000);
    wd_click(w, el);
    free(el);
    deadline = e2e_now_ms() + 15000;
    for (;;) {
        web_count(admin, NULL, &want, &up);
        if (want == 1 && up == 1)
            break;
        ASSERT(e2e_now_ms() < deadline, "web never came down to 1 (want %d, up %d)", want, up);
        e2e_sleep_ms(100);
    }
    wd_close(w);
    e2e_drover_stop(d);
}

E2E_TEST(dashboard_asks_for_the_token_refuses_a_wrong_one_and_keeps_it_nowhere, 90)
{
    char *listen, *admin, *el, *text;
    struct e2e_proc *d = start(", token: s3cret-t0ken", &listen, &admin);
    struct wd *w = wd_open(1200, 900);
    json_t *v;

    wd_go(w, e2e_fmt("http://%s/", admin));
    ASSERT(wd_wait_true(w, "return !document.getElementById('login').hidden;", 10000),
           "the page asks for the token");
    el = wd_wait_find(w, "#token", 5000);
    wd_type(w, el, "wrong");
    free(el);
    el = wd_wait_find(w, "#login-go", 5000);
    wd_click(w, el);
    free(el);
    ASSERT(wd_wait_true(w, "return document.getElementById('login-error').textContent.includes('wrong token');",
                        10000),
           "a wrong token is refused");
    ASSERT(wd_wait_true(w, "return document.getElementById('app').hidden && "
                           "document.querySelectorAll('tr[data-instance]').length === 0;", 1000),
           "nothing is shown with a wrong token");
    shot(w, "dashboard-token.png");

    el = wd_wait_find(w, "#token", 5000);
    wd_type(w, el, "s3cret-t0ken");
    free(el);
    el = wd_wait_find(w, "#login-go", 5000);
    wd_click(w, el);
    free(el);
    ASSERT(wd_wait_true(w, "return document.querySelectorAll('tr[data-instance]').length === 3;", 15000),
           "the right token opens the page");
    ASSERT(wd_wait_true(w, "return document.getElementById('log').textContent.includes('hello-from-talk');",
                        10000),
           "the log stream is sent the token too");
    v = wd_exec(w, "return [document.cookie, localStorage.length, sessionStorage.length, location.href];");
    text = json_dumps(v, JSON_COMPACT);
    e2e_log("cookie, localStorage, sessionStorage, URL: %s", text);
    ASSERT(strstr(text, "s3cret") == NULL && json_integer_value(json_array_get(v, 1)) == 0 &&
               json_integer_value(json_array_get(v, 2)) == 0 &&
               strcmp(json_string_value(json_array_get(v, 0)), "") == 0,
           "the token is kept in the page's memory only: %s", text);
    free(text);
    json_decref(v);
    wd_close(w);
    e2e_drover_stop(d);
}

static void get(const char *admin, const char *path, struct http_resp *r)
{
    http_get(admin, path, r);
}

E2E_TEST(dashboard_headers_token_and_admin_dashboard_false, 30)
{
    int lp = e2e_free_port(), ap = e2e_free_port();
    char *admin = e2e_fmt("127.0.0.1:%d", ap);
    char *yaml = e2e_fmt("listen: 127.0.0.1:%d\nadmin: {listen: %s, token: tok%%s}\n"
                         "log: {access: off}\nroutes: [{path: /, backends: [127.0.0.1:1]}]\n",
                         lp, admin);
    struct e2e_proc *d = e2e_drover(e2e_fmt(yaml, ""), admin);
    struct http_resp r;
    const char *csp;

    get(admin, "/", &r);
    ASSERT(r.status == 200, "GET / needs no token: %d", r.status);
    ASSERT(strncmp(resp_header(&r, "Content-Type"), "text/html", 9) == 0);
    csp = resp_header(&r, "Content-Security-Policy");
    ASSERT(csp != NULL && strstr(csp, "default-src 'none'") && strstr(csp, "script-src 'self'") &&
               strstr(csp, "style-src 'self'") && strstr(csp, "connect-src 'self'") &&
               strstr(csp, "unsafe") == NULL,
           "CSP: %s", csp ? csp : "(none)");
    ASSERT(strcmp(resp_header(&r, "X-Content-Type-Options"), "nosniff") == 0);
    ASSERT(strstr(r.body, "<script src=\"/dashboard.js\"") != NULL);
    ASSERT(strstr(r.body, "<script>") == NULL && strstr(r.body, "onclick") == NULL &&
               strstr(r.body, "<style") == NULL,
           "no inline script, style or handler in the page");
    resp_free(&r);
    get(admin, "/dashboard.js", &r);
    ASSERT(r.status == 200 && strncmp(resp_header(&r, "Content-Type"), "text/javascript", 15) == 0);
    ASSERT(strstr(r.body, "innerHTML") == NULL, "the script never writes HTML");
    ASSERT(resp_header(&r, "Content-Security-Policy") != NULL);
    resp_free(&r);
    get(admin, "/dashboard.css", &r);
    ASSERT(r.status == 200 && strncmp(resp_header(&r, "Content-Type"), "text/css", 8) == 0);
    resp_free(&r);
    get(admin, "/status", &r);
    ASSERT(r.status == 401, "what the page calls still needs the token");
    resp_free(&r);
    e2e_drover_stop(d);

    d = e2e_drover(e2e_fmt(yaml, ", dashboard: false"), admin);
    get(admin, "/", &r);
    ASSERT(r.status == 404 && strstr(r.body, "admin.dashboard: false") != NULL, "%d %s", r.status, r.body);
    resp_free(&r);
    get(admin, "/dashboard.js", &r);
    ASSERT(r.status == 404);
    resp_free(&r);
    e2e_drover_stop(d);
}
