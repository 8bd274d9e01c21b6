/* A formation that survives a restart: app.state_file keeps `drover scale`
 * and `drover stop` for the next drover, until the config changes that
 * type's count (a stop: until `drover start`); a corrupt state file is
 * reported and ignored. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/e2e/client.h"
#include "tests/e2e/harness.h"

static char *output_of(const char *name)
{
    char *text = e2e_read_file(e2e_fmt("%s/%s.log", e2e_dir(), name), NULL);

    return text != NULL ? text : e2e_fmt("%s", "");
}

/* `drover CMD [ARG] --admin ADDR`: its exit code, its output in *out. */
static int drover_cmd(const char *admin, char **out, const char *cmd, const char *arg)
{
    static int n;
    const char *name = e2e_fmt("cmd%d", n++);
    char *argv[] = {(char *)e2e_drover_bin, (char *)cmd, "--admin", (char *)admin, (char *)arg,
                    NULL};
    int code = e2e_run(name, argv, 15000);

    *out = output_of(name);
    e2e_log("drover %s %s → %d:\n%s", cmd, arg ? arg : "", code, *out);
    return code;
}

/* The app: web (routed) and a worker, its state file beside drover.yaml. */
static char *app(int dp, const char *admin, int base, int web_instances)
{
    return e2e_app_dir(e2e_fmt("web: %s\nworker: exec sleep 3101\n", e2e_backend_bin),
                       e2e_fmt("listen: 127.0.0.1:%d\nadmin: {listen: %s}\nlog: {access: off}\n"
                               "app: {base_port: %d, state_file: run/state.json}\n"
                               "processes:\n  web:\n    instances: %d\n    ready: {path: /}\n"
                               "  worker:\n    stop_timeout: 0\n",
                               dp, admin, base, web_instances));
}

/* Polls /status until it has needle; fails after 10 s. */
static void wait_status(const char *admin, const char *needle)
{
    long long deadline = e2e_now_ms() + 10000;

    for (;;) {
        struct http_resp r;
        bool found;

        http_get(admin, "/status", &r);
        found = r.status == 200 && strstr(r.body, needle) != NULL;
        if (!found && e2e_now_ms() > deadline)
            e2e_fail(__FILE__, __LINE__, "/status never had %s: %s", needle, r.body);
        resp_free(&r);
        if (found)
            return;
        e2e_sleep_ms(50);
    }
}

/* Instances of type in state up, from /status. */
static int up_count(const char *admin, const char *type)
{
    struct http_resp r;
    const char *p, *end;
    int n = 0;

    http_get(admin, "/status", &r);
    p = strstr(r.body, e2e_fmt("{\"type\":\"%s\"", type));
    end = p != NULL ? strstr(p + 1, "{\"type\":") : NULL;
    for (const char *q = p != NULL ? strstr(p, "\"state\":\"up\"") : NULL;
         q != NULL && (end == NULL || q < end); q = strstr(q + 1, "\"state\":\"up\""))
        n++;
    resp_free(&r);
    return n;
}

E2E_TEST(the_state_file_keeps_scale_and_stop_across_a_restart, 120)
{
    int dp = e2e_free_port(), ap = e2e_free_port(), base = e2e_free_base(2, 4);
    char *admin = e2e_fmt("127.0.0.1:%d", ap), *dir = app(dp, admin, base, 1), *out, *state;
    char *state_path = e2e_fmt("%s/run/state.json", dir);
    struct e2e_proc *d;
    pid_t pids[4];

    mkdir(e2e_fmt("%s/run", dir), 0755);
    d = e2e_drover_in(dir, NULL, admin);
    wait_status(admin, "\"type\":\"worker\",\"routed\":false,\"stopped\":false,\"removed\":false,"
                       "\"want\":1,\"configured\":1");
    ASSERT(drover_cmd(admin, &out, "scale", "web=3") == 0);
    ASSERT(drover_cmd(admin, &out, "stop", "worker") == 0);
    wait_status(admin, "\"type\":\"worker\",\"routed\":false,\"stopped\":true");
    e2e_drover_stop(d);
    state = e2e_read_file(state_path, NULL);
    e2e_log("%s:\n%s", state_path, state ? state : "(none)");
    ASSERT(state != NULL && strstr(state, "\"drover_state\": 1") != NULL);
    ASSERT(e2e_find_procs("sleep 3101", pids, 4) == 0);

    /* A new drover: web runs 3 (the config still says 1), the worker stays stopped. */
    {
        char *argv[] = {(char *)e2e_drover_bin, "check", "-d", dir, NULL};

        ASSERT(e2e_run("check", argv, 10000) == 0);
        out = output_of("check");
        ASSERT(strstr(out, e2e_fmt("state file      %s: web runs 3 instances, not 1 (drover scale)",
                                   state_path)) != NULL, "check: %s", out);
        ASSERT(strstr(out, e2e_fmt("%s: worker stays stopped", state_path)) != NULL, "check: %s", out);
    }
    d = e2e_drover_in(dir, NULL, admin);
    e2e_wait_log(d, e2e_fmt("state file %s: web runs 3 instances, not 1", state_path), 5000);
    wait_status(admin, "\"type\":\"web\",\"routed\":true,\"stopped\":false,\"removed\":false,"
                       "\"want\":3,\"configured\":1");
    {
        long long deadline = e2e_now_ms() + 10000;

        while (up_count(admin, "web") < 3) {
            ASSERT(e2e_now_ms() < deadline, "web never ran 3 instances");
            e2e_sleep_ms(50);
        }
    }
    e2e_sleep_ms(300);
    ASSERT(e2e_find_procs("sleep 3101", pids, 4) == 0, "the stopped worker was started");
    ASSERT(drover_cmd(admin, &out, "status", NULL) == 0);
    ASSERT(strstr(out, e2e_fmt("web runs 3 instances, the config says 1 (drover scale; kept in the "
                               "state file %s)", state_path)) != NULL);
    ASSERT(strstr(out, e2e_fmt("worker is stopped (drover start worker starts it; kept in the state "
                               "file %s)", state_path)) != NULL);
    e2e_drover_stop(d);

    /* The config now says 2: the scale made against 1 no longer holds; the stop does. */
    app(dp, admin, base, 2);
    d = e2e_drover_in(dir, NULL, admin);
    e2e_wait_log(d, "web's scale to 3 no longer holds: the config's count changed from 1 to 2", 5000);
    wait_status(admin, "\"want\":2,\"configured\":2");
    ASSERT(drover_cmd(admin, &out, "start", "worker") == 0);
    wait_status(admin, "\"type\":\"worker\",\"routed\":false,\"stopped\":false");
    e2e_sleep_ms(200);
    state = e2e_read_file(state_path, NULL);
    e2e_log("%s:\n%s", state_path, state ? state : "(none)");
    ASSERT(state != NULL && strstr(state, "stopped") == NULL && strstr(state, "instances") == NULL,
           "nothing is left to keep");
    e2e_drover_stop(d);
}

E2E_TEST(a_corrupt_state_file_is_reported_and_ignored, 60)
{
    int dp = e2e_free_port(), ap = e2e_free_port(), base = e2e_free_base(2, 2);
    char *admin = e2e_fmt("127.0.0.1:%d", ap), *dir = app(dp, admin, base, 2);
    char *state_path = e2e_fmt("%s/run/state.json", dir);
    struct e2e_proc *d;

    mkdir(e2e_fmt("%s/run", dir), 0755);
    e2e_write_file("app/run/state.json", "{\"drover_state\": 1, \"types\": {\"web\": {\"inst");
    d = e2e_drover_in(dir, NULL, admin);
    e2e_wait_log(d, e2e_fmt("warning: state file %s: not JSON: line 1", state_path), 5000);
    e2e_wait_log(d, "; ignored", 1000);
    wait_status(admin, "\"type\":\"web\",\"routed\":true,\"stopped\":false,\"removed\":false,"
                       "\"want\":2,\"configured\":2");
    wait_status(admin, "\"type\":\"worker\",\"routed\":false,\"stopped\":false");
    e2e_drover_stop(d);
}
