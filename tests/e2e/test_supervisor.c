/* The embedded supervisor: formation, spawning, logs, readiness, crash
 * recovery, stopping, memory limit. */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/e2e/client.h"
#include "tests/e2e/harness.h"

static char *addr_of(int port)
{
    return e2e_fmt("127.0.0.1:%d", port);
}


static int count_in(const char *text, const char *needle)
{
    int n = 0;

    for (const char *p = strstr(text, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}




E2E_TEST(instances_get_their_ports_env_and_log_prefixes, 40)
{
    int base = e2e_free_base(2, 3), dp = e2e_free_port();
    const char *names[3] = {"web.1", "web.2", "web.3"};
    char *dir, *text;
    struct e2e_proc *d;
    struct http_resp r;

    dir = e2e_app_dir(e2e_fmt("# comment\n"
                          "web: %s\n"
                          "env: echo \"PORT=$PORT PS=$PS P=$DROVER_PROCESS I=$DROVER_INSTANCE "
                          "FOO=$FOO BAR=$BAR\"; sleep 600\n",
                          e2e_backend_bin),
                  e2e_fmt("listen: 127.0.0.1:%d\nadmin: {listen: off}\nlog: {access: off}\n"
                          "app: {base_port: %d}\n"
                          "processes:\n  web:\n    instances: 3\n    ready: {path: /}\n"
                          "  env:\n    env: {BAR: from-config}\n",
                          dp, base));
    e2e_write_file("app/.env", "# the app's .env\nexport FOO='from dotenv'\nBAR=overridden\n");
    d = e2e_drover_in(dir, NULL, addr_of(dp));
    e2e_until_all_answer(addr_of(dp), names, 3, 10000);
    /* Each instance on base_port + slot, answering as itself. */
    for (int i = 0; i < 3; i++) {
        http_get(addr_of(base + i), "/", &r);
        ASSERT(r.status == 200 && strcmp(resp_header(&r, "X-Backend"), names[i]) == 0,
               "port %d answered as %s", base + i, resp_header(&r, "X-Backend"));
        resp_free(&r);
    }
    e2e_wait_log(d, "FOO=", 5000);
    text = e2e_log_of(d);
    e2e_log("%s", text);
    /* The second type's ports start 100 higher; .env < processes.env. */
    ASSERT(strstr(text, e2e_fmt(" env.1  | PORT=%d PS=env.1 P=env I=env.1 FOO=from dotenv "
                                "BAR=from-config\n",
                                base + 100)) != NULL,
           "env line missing");
    {
        /* "HH:MM:SS name   | " with names padded alike (web.4 is the widest). */
        regex_t re;

        ASSERT(regcomp(&re, "^[0-9]{2}:[0-9]{2}:[0-9]{2} drover \\| ", REG_EXTENDED | REG_NEWLINE) == 0);
        ASSERT(regexec(&re, text, 0, NULL, 0) == 0, "drover's own lines are not prefixed");
        regfree(&re);
        ASSERT(regcomp(&re, "^[0-9]{2}:[0-9]{2}:[0-9]{2} env\\.1  \\| PORT=", REG_EXTENDED | REG_NEWLINE) == 0);
        ASSERT(regexec(&re, text, 0, NULL, 0) == 0, "instance lines are not prefixed and padded");
        regfree(&re);
    }
    free(text);
    e2e_drover_stop(d);
    ASSERT(e2e_procs_gone("sleep 600", 3000), "env.1's sleep outlived drover");
}

E2E_TEST(no_descriptor_leaks_into_instances, 30)
{
    char *dir = e2e_app_dir("idle: sleep 3101\n",
                        e2e_fmt("listen: 127.0.0.1:%d\nadmin: {listen: off}\n"
                                "routes: [{path: /, backends: [127.0.0.1:1]}]\n",
                                e2e_free_port()));
    struct e2e_proc *d = e2e_drover_in(dir, NULL, NULL);
    pid_t pids[4];
    long long deadline = e2e_now_ms() + 5000;
    char *fds = NULL;

    (void)d;
    while (e2e_find_procs("sleep 3101", pids, 4) == 0) {
        ASSERT(e2e_now_ms() < deadline, "the instance never started");
        e2e_sleep_ms(20);
    }
    {
        DIR *fd_dir = opendir(e2e_fmt("/proc/%d/fd", (int)pids[0]));
        struct dirent *de;

        ASSERT(fd_dir != NULL);
        while ((de = readdir(fd_dir)) != NULL)
            if (de->d_name[0] != '.')
                fds = e2e_fmt("%s%s%s", fds ? fds : "", fds ? " " : "", de->d_name);
        closedir(fd_dir);
    }
    e2e_log("open descriptors of the instance: %s", fds);
    ASSERT(fds != NULL && strcmp(fds, "0 1 2") == 0, "instance inherited descriptors: %s", fds);
    e2e_drover_stop(d);
}

/* Keep-alive clients hammer drover while one instance is SIGKILLed: not
 * one request may fail, and a replacement must answer within the back-off. */
E2E_TEST(killed_instance_is_replaced_without_a_failed_request, 60)
{
    int base = e2e_free_base(1, 3), dp = e2e_free_port();
    const char *names[3] = {"web.1", "web.2", "web.3"};
    struct client *c[4];
    struct e2e_proc *d;
    struct http_resp r;
    long long t_end, killed_at = 0, back_at = 0;
    int ok = 0, victim_pid;
    char *dir;

    dir = e2e_app_dir(e2e_fmt("web: %s\n", e2e_backend_bin),
                  e2e_fmt("listen: 127.0.0.1:%d\nadmin: {listen: off}\nlog: {access: off}\n"
                          "app: {base_port: %d}\n"
                          "processes:\n  web:\n    instances: 3\n    ready: {path: /}\n"
                          "    restart: {min: 100ms, max: 2s}\n",
                          dp, base));
    d = e2e_drover_in(dir, NULL, addr_of(dp));
    e2e_until_all_answer(addr_of(dp), names, 3, 10000);
    http_get(addr_of(base + 1), "/", &r);
    victim_pid = atoi(resp_header(&r, "X-Backend-Pid"));
    resp_free(&r);
    for (int i = 0; i < 4; i++)
        c[i] = client_open(addr_of(dp));
    t_end = e2e_now_ms() + 3000;
    while (e2e_now_ms() < t_end) {
        /* Each request takes 10ms at the backend: the kill lands while
         * one is in flight on web.2. */
        for (int i = 0; i < 4; i++)
            client_send_str(c[i], "GET /?delay=10 HTTP/1.1\r\nHost: t\r\n\r\n");
        if (killed_at == 0 && t_end - e2e_now_ms() < 2500) {
            e2e_sleep_ms(3);
            kill(victim_pid, SIGKILL);
            killed_at = e2e_now_ms();
        }
        for (int i = 0; i < 4; i++) {
            ASSERT(client_read(c[i], &r, false, 5000) == 0, "a request got no answer");
            ASSERT(r.status == 200, "a request failed with %d: %s", r.status, r.body);
            if (killed_at > 0 && back_at == 0 && strcmp(resp_header(&r, "X-Backend"), "web.2") == 0)
                back_at = e2e_now_ms();
            resp_free(&r);
            ok++;
        }
    }
    for (int i = 0; i < 4; i++)
        client_close(c[i]);
    e2e_log("%d requests, all 200; web.2 back %lldms after kill -9", ok, back_at - killed_at);
    ASSERT(back_at > 0, "web.2 never came back");
    ASSERT(back_at - killed_at < 1500, "web.2 took %lldms to come back", back_at - killed_at);
    http_get(addr_of(base + 1), "/", &r);
    ASSERT(atoi(resp_header(&r, "X-Backend-Pid")) != victim_pid, "web.2 was not replaced");
    resp_free(&r);
    e2e_wait_log(d, "web.2 exited with code 137", 1000);
    e2e_wait_log(d, "restart 1 in 100ms", 1000);
    e2e_drover_stop(d);
}

/* An instance that keeps crashing is restarted with a doubling delay, not
 * in a tight loop. */
E2E_TEST(crash_loop_backs_off, 30)
{
    char *dir = e2e_app_dir("crash: echo boom; exit 3\n",
                        e2e_fmt("listen: 127.0.0.1:%d\nadmin: {listen: off}\n"
                                "routes: [{path: /, backends: [127.0.0.1:1]}]\n"
                                "processes:\n  crash:\n    restart: {min: 50ms, max: 400ms}\n",
                                e2e_free_port()));
    struct e2e_proc *d = e2e_drover_in(dir, NULL, NULL);
    const char *expect[] = {"restart 1 in 50ms", "restart 2 in 100ms", "restart 3 in 200ms",
                            "restart 4 in 400ms", "restart 5 in 400ms", "restart 6 in 400ms"};
    char *text;
    int restarts;

    long long t0 = e2e_now_ms(), took;
    const char *at = NULL;

    /* Poll until the 6th restart is announced: a loaded machine is slower,
     * never faster, so only a lower bound on the time is asserted. */
    e2e_wait_log(d, "restart 6 in 400ms", 15000);
    took = e2e_now_ms() - t0;
    text = e2e_log_of(d);
    restarts = count_in(text, "crash.1 exited with code 3");
    e2e_log("restart 6 announced after %lldms, %d exits", took, restarts);
    for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
        const char *p = strstr(text, expect[i]);

        ASSERT(p != NULL, "no \"%s\" in the log", expect[i]);
        ASSERT(at == NULL || p > at, "\"%s\" came out of order", expect[i]);
        at = p;
    }
    /* Back-offs before the 6th exit: 50+100+200+400+400 = 1150ms. A tight
     * loop would be there in a few milliseconds. */
    ASSERT(took >= 1000, "6 restarts within %lldms: no back-off", took);
    ASSERT(count_in(text, "crash.1 | boom") >= 5, "the instance's output is not logged");
    free(text);
    e2e_drover_stop(d);
}

/* SIGTERM: every group gets SIGTERM, a stubborn one SIGKILL after its
 * stop_timeout, grandchildren die too, drover exits 0. */
E2E_TEST(sigterm_stops_every_instance_and_grandchild, 30)
{
    int dp = e2e_free_port(), base = e2e_free_base(3, 1);
    char *dir = e2e_app_dir(e2e_fmt("web: %s\n"
                                "tree: sh -c 'sleep 3201' & sleep 3202\n"
                                "stubborn: trap '' TERM; while true; do sleep 0.05; done\n",
                                e2e_backend_bin),
                        e2e_fmt("listen: 127.0.0.1:%d\nadmin: {listen: off}\nlog: {access: off}\n"
                                "app: {base_port: %d}\n"
                                "processes:\n  stubborn:\n    stop_timeout: 500ms\n",
                                dp, base));
    struct e2e_proc *d = e2e_drover_in(dir, NULL, addr_of(dp));
    pid_t pids[8];
    long long t0;
    int status;

    const char *names[1] = {"web.1"};
    e2e_until_all_answer(addr_of(dp), names, 1, 10000);
    ASSERT(e2e_find_procs("sleep 3201", pids, 8) == 1 && e2e_find_procs("sleep 3202", pids, 8) == 1);
    t0 = e2e_now_ms();
    status = e2e_stop(d, SIGTERM, 10000);
    e2e_check_sanitizer(d);
    ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
    e2e_log("drover stopped in %lldms", e2e_now_ms() - t0);
    ASSERT(e2e_now_ms() - t0 >= 450, "the stubborn instance was not given its stop_timeout");
    ASSERT(e2e_procs_gone("sleep 3201", 500) && e2e_procs_gone("sleep 3202", 500), "a grandchild survived");
    e2e_wait_log(d, "stubborn.1 did not stop within 500ms of SIGTERM: SIGKILL", 100);
    e2e_wait_log(d, "stubborn.1 stopped (SIGKILL after stop_timeout) after", 100);
    e2e_wait_log(d, "web.1 stopped (SIGTERM) after", 100);
}

/* If drover itself is SIGKILLed, no instance (nor its children) lingers. */
E2E_TEST(sigkill_of_drover_leaves_no_child_behind, 30)
{
    int dp = e2e_free_port(), base = e2e_free_base(2, 2);
    char *dir = e2e_app_dir(e2e_fmt("web: %s\n"
                                "tree: sh -c 'sleep 3301' & sleep 3302\n",
                                e2e_backend_bin),
                        e2e_fmt("listen: 127.0.0.1:%d\nadmin: {listen: off}\nlog: {access: off}\n"
                                "app: {base_port: %d}\n"
                                "processes:\n  web: {instances: 2, stop_timeout: 1s}\n"
                                "  tree: {stop_timeout: 1s}\n",
                                dp, base));
    struct e2e_proc *d = e2e_drover_in(dir, NULL, addr_of(dp));
    const char *names[2] = {"web.1", "web.2"};
    pid_t pids[8];

    e2e_until_all_answer(addr_of(dp), names, 2, 10000);
    /* The tree has no readiness check: wait for its processes to be there. */
    for (long long t = e2e_now_ms();
         e2e_find_procs("sleep 3301", pids, 8) != 1 || e2e_find_procs("sleep 3302", pids, 8) != 1;
         e2e_sleep_ms(20))
        ASSERT(e2e_now_ms() - t < 5000, "the tree's two sleeps did not start");
    ASSERT(e2e_find_procs(e2e_backend_bin, pids, 8) == 2, "two web backends");
    e2e_stop(d, SIGKILL, 2000);
    ASSERT(e2e_procs_gone("sleep 3301", 3000) && e2e_procs_gone("sleep 3302", 3000), "the tree outlived drover");
    ASSERT(e2e_procs_gone(e2e_backend_bin, 3000), "a web instance outlived drover");
    ASSERT(e2e_procs_gone(e2e_fmt("%s __instance", e2e_drover_bin), 3000), "an instance shim outlived drover");
}

/* An instance that never becomes ready is stopped and started again after
 * ready.timeout, and gets no traffic meanwhile. */
E2E_TEST(instance_not_ready_in_time_is_restarted, 30)
{
    int dp = e2e_free_port(), base = e2e_free_base(1, 1);
    char *dir = e2e_app_dir("web: exec sleep 3401\n",
                        e2e_fmt("listen: 127.0.0.1:%d\nadmin: {listen: off}\nlog: {access: off}\n"
                                "app: {base_port: %d}\n"
                                "processes:\n  web:\n    ready: {timeout: 300ms}\n"
                                "    restart: {min: 50ms, max: 50ms}\n",
                                dp, base));
    struct e2e_proc *d = e2e_drover_in(dir, NULL, addr_of(dp));
    struct http_resp r;

    http_get(addr_of(dp), "/", &r);
    ASSERT(r.status == 503, "an unready instance got traffic: %d", r.status);
    ASSERT(strstr(r.body, "no healthy backend") != NULL, "%s", r.body);
    resp_free(&r);
    e2e_wait_log(d, "web.1 not ready within 300ms: stopping it to start again", 3000);
    e2e_wait_log(d, "restart 2 in 50ms", 3000);
    e2e_drover_stop(d);
}

/* Over memory_limit: a replacement starts on a free slot, becomes ready,
 * takes the traffic, and only then is the old one stopped. */
E2E_TEST(memory_limit_replaces_the_instance, 60)
{
    int dp = e2e_free_port(), base = e2e_free_base(1, 2);
    char *dir = e2e_app_dir(e2e_fmt("web: %s\n", e2e_backend_bin),
                        e2e_fmt("listen: 127.0.0.1:%d\nadmin: {listen: off}\nlog: {access: off}\n"
                                "app: {base_port: %d}\n"
                                "processes:\n  web:\n    memory_limit: 48M\n    ready: {path: /}\n",
                                dp, base));
    struct e2e_proc *d = e2e_drover_in(dir, NULL, addr_of(dp));
    const char *names[1] = {"web.1"};
    const char *names2[1] = {"web.2"};
    struct http_resp r;
    char *text;
    int requests;

    e2e_until_all_answer(addr_of(dp), names, 1, 10000);
    http_get(addr_of(dp), "/?alloc=96", &r);
    ASSERT(r.status == 200);
    resp_free(&r);
    e2e_wait_log(d, "web.1 uses ", 8000);
    requests = e2e_until_all_answer(addr_of(dp), names2, 1, 10000);
    e2e_wait_log(d, "web.1 replaced by web.2: stopping it", 5000);
    e2e_wait_log(d, "web.1 stopped (SIGTERM) after", 5000);
    text = e2e_log_of(d);
    e2e_log("moved to web.2 after %d requests", requests);
    ASSERT(strstr(text, "over its memory_limit of 48.0M: replacing it with web.2") != NULL);
    free(text);
    /* From now on only web.2 answers. */
    for (int i = 0; i < 20; i++) {
        http_get(addr_of(dp), "/", &r);
        ASSERT(r.status == 200 && strcmp(resp_header(&r, "X-Backend"), "web.2") == 0);
        resp_free(&r);
    }
    e2e_drover_stop(d);
}

E2E_TEST(procfile_wins_over_app_desc_and_check_prints_the_formation, 30)
{
    char *dir = e2e_app_dir("web: bin/web --port $PORT\nworker: bin/work\n", NULL);
    char *argv[] = {(char *)e2e_drover_bin, "check", "-d", dir, "-m", "web=2", NULL};
    char *out;

    e2e_write_file("app/app_desc.yaml", "spec_version: 2\nmodule:\n  processes:\n"
                                        "    web:\n      command: other\n");
    ASSERT(e2e_run("check", argv, 10000) == 0);
    out = e2e_read_file(e2e_fmt("%s/check.log", e2e_dir()), NULL);
    e2e_log("%s", out);
    ASSERT(strstr(out, "app_desc.yaml") != NULL, "the ignored file is not named");
    ASSERT(strstr(out, "web.1") && strstr(out, "web.2") && strstr(out, "worker.1"));
    ASSERT(strstr(out, "5000") && strstr(out, "5001") && strstr(out, "5100"), "ports");
    ASSERT(strstr(out, "bin/web --port $PORT") && strstr(out, "bin/work"));
    ASSERT(strstr(out, "other") == NULL, "the app_desc.yaml command was used");
}

/* No drover.yaml and no Procfile: an app_desc.yaml (version 3) runs like
 * `foreman start`, web routed on $PORT, with the module's env. */
E2E_TEST(foreman_mode_with_app_desc_v3, 30)
{
    int dp = e2e_free_port();
    char *dir = e2e_app_dir(NULL, NULL);
    const char *names[2] = {"web.1", "web.2"};
    char *argv[] = {(char *)e2e_drover_bin, "run", "-d", dir, NULL};
    char *env[] = {e2e_fmt("PORT=%d", dp), e2e_fmt("PATH=%s:/usr/bin:/bin", e2e_fmt("%.*s",
                   (int)(strrchr(e2e_backend_bin, '/') - e2e_backend_bin), e2e_backend_bin)),
                   NULL};
    struct e2e_proc *d;

    e2e_write_file("app/app_desc.yaml",
                   "specVersion: 3\n"
                   "appVersion: \"1.0.0\"\n"
                   "modules:\n"
                   "  - name: default\n"
                   "    isDefault: true\n"
                   "    language: Go\n"
                   "    spec:\n"
                   "      processes:\n"
                   "        - name: web\n"
                   "          procCommand: \"echo greeting=$GREETING; exec backend\"\n"
                   "          replicas: 2\n"
                   "      configuration:\n"
                   "        env:\n"
                   "          - name: GREETING\n"
                   "            value: hi\n");
    d = e2e_spawn("drover", argv, env);
    e2e_wait_listening(e2e_fmt("0.0.0.0:%d", dp), 10000, d);
    e2e_until_all_answer(addr_of(dp), names, 2, 10000);
    e2e_wait_log(d, "| greeting=hi", 2000);
    for (long long t = e2e_now_ms(); count_in(e2e_log_of(d), "| greeting=hi") < 2; e2e_sleep_ms(20))
        ASSERT(e2e_now_ms() - t < 2000, "the module env did not reach both instances");
    e2e_drover_stop(d);
}

/* A 40000-byte line without a newline, then exit: split at 16 KiB, and the
 * partial rest flushed when the instance is gone; short lines around it
 * stay whole. */
E2E_TEST(long_and_partial_lines_are_split_and_flushed, 30)
{
    char *dir = e2e_app_dir("long: echo before; head -c 40000 /dev/zero | tr '\\0' x; sleep 0.2; "
                        "printf 'tail-without-newline'; exit 0\n",
                        e2e_fmt("listen: 127.0.0.1:%d\nadmin: {listen: off}\n"
                                "routes: [{path: /, backends: [127.0.0.1:1]}]\n"
                                "processes:\n  long:\n    restart: {min: 10s, max: 10s}\n",
                                e2e_free_port()));
    struct e2e_proc *d = e2e_drover_in(dir, NULL, NULL);
    char *text, *p;
    size_t xs[4];
    int n = 0;

    e2e_wait_log(d, "long.1 exited with code 0", 5000);
    e2e_wait_log(d, "tail-without-newline", 5000);
    text = e2e_log_of(d);
    ASSERT(strstr(text, " long.1 | before\n") != NULL);
    /* The x run comes out as lines of 16384, 16384, then 7232 + the tail. */
    for (p = strstr(text, " long.1 | x"); p != NULL && n < 4; p = strstr(p + 1, " long.1 | x")) {
        size_t len = strspn(p + 10, "x");

        xs[n++] = len;
    }
    ASSERT(n == 3, "%d x lines", n);
    ASSERT(xs[0] == 16384 && xs[1] == 16384 && xs[2] == 40000 - 32768, "lines of %zu, %zu, %zu",
           xs[0], xs[1], xs[2]);
    ASSERT(strstr(text, "xtail-without-newline\n") != NULL, "the partial line was not flushed");
    free(text);
    e2e_drover_stop(d);
}

/* An instance writing as fast as it can must not starve the router. */
E2E_TEST(flooding_instance_does_not_starve_the_router, 60)
{
    int dp = e2e_free_port(), base = e2e_free_base(2, 1);
    char *dir = e2e_app_dir(e2e_fmt("web: %s\nflood: yes 'flooding the log with a longish line'\n",
                                e2e_backend_bin),
                        e2e_fmt("listen: 127.0.0.1:%d\nadmin: {listen: off}\nlog: {access: off}\n"
                                "app: {base_port: %d}\n",
                                dp, base));
    struct e2e_proc *d = e2e_drover_in(dir, NULL, addr_of(dp));
    const char *names[1] = {"web.1"};
    long long t0, worst = 0;
    struct client *c;

    e2e_until_all_answer(addr_of(dp), names, 1, 10000);
    e2e_wait_log(d, "flood.1 | flooding", 5000);
    c = client_open(addr_of(dp));
    t0 = e2e_now_ms();
    for (int i = 0; i < 300; i++) {
        struct http_resp r;
        long long t = e2e_now_ms();

        client_send_str(c, "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
        ASSERT(client_read(c, &r, false, 5000) == 0 && r.status == 200);
        resp_free(&r);
        if (e2e_now_ms() - t > worst)
            worst = e2e_now_ms() - t;
    }
    e2e_log("300 requests in %lldms beside the flood, slowest %lldms", e2e_now_ms() - t0, worst);
    ASSERT(worst < 500, "a request waited %lldms behind the log flood", worst);
    client_close(c);
    e2e_drover_stop(d);
}

/* The back-off starts over after a run of more than 10 s: three quick
 * crashes double it, then a long run and a crash restart it at the
 * minimum. */
E2E_TEST(crash_backoff_resets_after_a_long_run, 40)
{
    char *dir = e2e_app_dir("crash: n=$(cat count 2>/dev/null || echo 0); echo $((n + 1)) > count; "
                            "if [ $n -ge 3 ]; then sleep 10.5; fi; exit 3\n",
                            e2e_fmt("listen: 127.0.0.1:%d\nadmin: {listen: off}\n"
                                    "routes: [{path: /, backends: [127.0.0.1:1]}]\n"
                                    "processes:\n  crash:\n    restart: {min: 50ms, max: 1s}\n",
                                    e2e_free_port()));
    struct e2e_proc *d = e2e_drover_in(dir, NULL, NULL);
    char *text, *long_run;

    e2e_wait_log(d, "restart 3 in 200ms", 5000);
    e2e_wait_log(d, "restart 4 in", 20000);
    text = e2e_log_of(d);
    long_run = strstr(text, "restart 4 in");
    ASSERT(strncmp(long_run, "restart 4 in 50ms", 17) == 0, "after a long run: %.30s", long_run);
    free(text);
    e2e_drover_stop(d);
}
