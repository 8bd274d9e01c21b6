/* Headless Chromium through chromedriver: see webdriver.h. Each command is
 * one HTTP request on a new connection (client.h), its JSON parsed with
 * jansson. */
#include "tests/e2e/webdriver.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/e2e/client.h"
#include "tests/e2e/harness.h"

#define WD_CHROMEDRIVER "/usr/bin/chromedriver"
#define WD_CHROMIUM "/usr/bin/chromium"
#define WD_TIMEOUT_MS 30000
#define WD_ELEMENT "element-6066-11e4-a52e-4f735466cecf"

struct wd {
    struct e2e_proc *driver;
    char addr[64];
    char session[128];
    char profile[600];
};

/* method path [body] to chromedriver: the answer's "value" (a new
 * reference); a status other than 200 fails the test, unless soft (then
 * NULL). */
static json_t *wd_call(struct wd *w, const char *method, const char *path, json_t *body, bool soft)
{
    char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
    struct http_resp r;
    json_error_t e;
    json_t *doc, *value;

    json_decref(body);
    http_exchange(w->addr,
                  e2e_fmt("%s %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                          "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                          method, path, text != NULL ? strlen(text) : 0, text != NULL ? text : ""),
                  &r, WD_TIMEOUT_MS);
    free(text);
    doc = json_loads(r.body != NULL ? r.body : "", 0, &e);
    if (r.status != 200 && soft) {
        resp_free(&r);
        json_decref(doc);
        return NULL;
    }
    ASSERT(r.status == 200 && doc != NULL, "webdriver %s %s: %d %.600s", method, path, r.status,
           r.body != NULL ? r.body : "");
    resp_free(&r);
    value = json_incref(json_object_get(doc, "value"));
    json_decref(doc);
    return value != NULL ? value : json_null();
}

static char *wd_path(struct wd *w, const char *rest)
{
    return e2e_fmt("/session/%s%s", w->session, rest);
}

struct wd *wd_open(int width, int height)
{
    struct wd *w = calloc(1, sizeof(*w));
    int port = e2e_free_port();
    char *argv[] = {WD_CHROMEDRIVER, e2e_fmt("--port=%d", port), NULL};
    json_t *caps, *v;

    ASSERT(w != NULL);
    ASSERT(access(WD_CHROMEDRIVER, X_OK) == 0 && access(WD_CHROMIUM, X_OK) == 0,
           "needs chromium and chromium-driver (scripts/deps.sh installs them)");
    snprintf(w->addr, sizeof(w->addr), "127.0.0.1:%d", port);
    snprintf(w->profile, sizeof(w->profile), "%s/chromium-profile-%d", e2e_dir(), port);
    w->driver = e2e_spawn("chromedriver", argv, NULL);
    e2e_wait_listening(w->addr, 10000, w->driver);
    caps = json_pack("{s:{s:{s:{s:s, s:[s,s,s,s,s,s,s,s]}}}}", "capabilities", "alwaysMatch",
                     "goog:chromeOptions", "binary", WD_CHROMIUM, "args", "--headless=new",
                     "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--no-first-run", "--disable-extensions",
                     e2e_fmt("--user-data-dir=%s", w->profile),
                     e2e_fmt("--window-size=%d,%d", width, height));
    ASSERT(caps != NULL);
    v = wd_call(w, "POST", "/session", caps, false);
    ASSERT(json_is_string(json_object_get(v, "sessionId")), "no session from chromedriver");
    snprintf(w->session, sizeof(w->session), "%s", json_string_value(json_object_get(v, "sessionId")));
    json_decref(v);
    return w;
}

/* Browser processes of w's profile still running (their pids). */
static int profile_procs(const struct wd *w, pid_t *out, int max)
{
    return e2e_find_procs_naming(w->profile, out, max);
}

void wd_close(struct wd *w)
{
    pid_t left[64];
    int n;
    long long deadline;

    if (w == NULL)
        return;
    if (w->session[0] != '\0') {
        json_decref(wd_call(w, "DELETE", wd_path(w, ""), NULL, true));
        w->session[0] = '\0';
    }
    e2e_stop(w->driver, SIGTERM, 3000);
    deadline = e2e_now_ms() + 3000;
    while ((n = profile_procs(w, left, 64)) > 0 && e2e_now_ms() < deadline) {
        for (int i = 0; i < n; i++)
            kill(left[i], e2e_now_ms() + 1500 < deadline ? SIGTERM : SIGKILL);
        e2e_sleep_ms(100);
    }
    n = profile_procs(w, left, 64);
    for (int i = 0; i < n; i++)
        kill(left[i], SIGKILL);
    free(w);
}

void wd_go(struct wd *w, const char *url)
{
    json_decref(wd_call(w, "POST", wd_path(w, "/url"), json_pack("{s:s}", "url", url), false));
}

char *wd_find(struct wd *w, const char *css)
{
    json_t *v = wd_call(w, "POST", wd_path(w, "/element"),
                        json_pack("{s:s, s:s}", "using", "css selector", "value", css), true);
    const char *id = json_string_value(json_object_get(v, WD_ELEMENT));
    char *out = id != NULL ? strdup(id) : NULL;

    json_decref(v);
    return out;
}

char *wd_wait_find(struct wd *w, const char *css, int timeout_ms)
{
    long long deadline = e2e_now_ms() + timeout_ms;
    char *id;

    while ((id = wd_find(w, css)) == NULL) {
        ASSERT(e2e_now_ms() < deadline, "no element %s in the page after %d ms", css, timeout_ms);
        e2e_sleep_ms(50);
    }
    return id;
}

void wd_click(struct wd *w, const char *elem)
{
    json_decref(wd_call(w, "POST", wd_path(w, e2e_fmt("/element/%s/click", elem)), json_object(),
                        false));
}

void wd_type(struct wd *w, const char *elem, const char *text)
{
    json_decref(wd_call(w, "POST", wd_path(w, e2e_fmt("/element/%s/value", elem)),
                        json_pack("{s:s}", "text", text), false));
}

json_t *wd_exec(struct wd *w, const char *script)
{
    return wd_call(w, "POST", wd_path(w, "/execute/sync"),
                   json_pack("{s:s, s:[]}", "script", script, "args"), false);
}

bool wd_wait_true(struct wd *w, const char *script, int timeout_ms)
{
    long long deadline = e2e_now_ms() + timeout_ms;

    for (;;) {
        json_t *v = wd_exec(w, script);
        bool yes = json_is_true(v);

        json_decref(v);
        if (yes)
            return true;
        if (e2e_now_ms() >= deadline)
            return false;
        e2e_sleep_ms(50);
    }
}

char *wd_exec_str(struct wd *w, const char *script)
{
    json_t *v = wd_exec(w, script);
    char *s = strdup(json_is_string(v) ? json_string_value(v) : "");

    json_decref(v);
    return s;
}

static int b64(char c)
{
    static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = c != '\0' ? strchr(set, c) : NULL;

    return p != NULL ? (int)(p - set) : -1;
}

void wd_screenshot(struct wd *w, const char *path)
{
    json_t *v = wd_call(w, "GET", wd_path(w, "/screenshot"), NULL, false);
    const char *s = json_string_value(v);
    size_t n = s != NULL ? strlen(s) : 0, len = 0;
    unsigned char *png = malloc(n / 4 * 3 + 3);
    unsigned bits = 0;
    int nbits = 0;
    FILE *f;

    ASSERT(s != NULL && png != NULL, "no screenshot");
    for (size_t i = 0; i < n; i++) {
        int x = b64(s[i]);

        if (x < 0)
            continue;
        bits = bits << 6 | (unsigned)x;
        nbits += 6;
        if (nbits >= 8) {
            nbits -= 8;
            png[len++] = (unsigned char)(bits >> nbits);
        }
    }
    f = fopen(path, "wb");
    ASSERT(f != NULL && fwrite(png, 1, len, f) == len && fclose(f) == 0, "cannot write %s", path);
    free(png);
    json_decref(v);
}
