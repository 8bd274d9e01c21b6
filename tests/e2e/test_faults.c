/* Faults from outside (SPEC "Faults, overload and limits"): processes
 * killed by someone else, ports taken by someone else. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/e2e/client.h"
#include "tests/e2e/harness.h"

static char *addr_of(int port)
{
    return e2e_fmt("127.0.0.1:%d", port);
}

/* The pid and pgid /status gives for instance name (0 when it has none). */
static void status_pids(int ap, const char *name, int *pid, int *pgid)
{
    struct http_resp r;
    const char *p;

    http_get(addr_of(ap), "/status", &r);
    ASSERT(r.status == 200, "/status: %d", r.status);
    p = strstr(r.body, e2e_fmt("\"name\":\"%s\"", name));
    ASSERT(p != NULL, "%s not in /status: %s", name, r.body);
    *pid = *pgid = 0;
    p = strstr(p, "\"pid\":");
    if (p != NULL)
        *pid = atoi(p + 6);
    p = p != NULL ? strstr(p, "\"pgid\":") : NULL;
    if (p != NULL)
        *pgid = atoi(p + 7);
    resp_free(&r);
}

/* /proc/PID/cmdline with spaces for NULs ("" when gone). */
static char *cmdline_of(int pid)
{
    size_t len = 0;
    char *s = e2e_read_file(e2e_fmt("/proc/%d/cmdline", pid), &len);

    if (s == NULL)
        return "";
    for (size_t i = 0; i + 1 < len; i++)
        if (s[i] == '\0')
            s[i] = ' ';
    return s;
}

/* The pid to signal is the app's, the group is the shim's; kill -9 of the
 * shim (what an operator testing crash recovery does to the group leader)
 * leaves nothing of the instance behind, and a replacement serves within
 * the back-off, while no request through drover fails. */
E2E_TEST(killed_shim_leaves_no_orphan_and_the_instance_comes_back, 60)
{
    int base = e2e_free_base(1, 2), dp = e2e_free_port(), ap = e2e_free_port();
    const char *names[2] = {"web.1", "web.2"};
    struct e2e_proc *d, *load;
    int pid, pgid, pid2, pgid2;
    long ok, bad, errors;
    long long t0, gone_ms;
    char *dir;

    dir = e2e_app_dir(e2e_fmt("web: %s -q\n", e2e_backend_bin),
                      e2e_fmt("listen: 127.0.0.1:%d\nadmin: {listen: 127.0.0.1:%d}\n"
                              "log: {access: off}\napp: {base_port: %d}\n"
                              "processes:\n  web:\n    instances: 2\n    ready: {path: /}\n"
                              "    restart: {min: 100ms, max: 2s}\n",
                              dp, ap, base));
    d = e2e_drover_in(dir, NULL, addr_of(dp));
    e2e_until_all_answer(addr_of(dp), names, 2, 10000);
    status_pids(ap, "web.1", &pid, &pgid);
    ASSERT(pid > 0 && pgid > 0 && pid != pgid, "pid %d pgid %d", pid, pgid);
    ASSERT(strncmp(cmdline_of(pid), e2e_backend_bin, strlen(e2e_backend_bin)) == 0,
           "pid %d is not the app: %s", pid, cmdline_of(pid));
    ASSERT(strstr(cmdline_of(pgid), "__instance") != NULL, "pgid %d is not the shim: %s", pgid,
           cmdline_of(pgid));
    ASSERT(getpgid(pid) == pgid, "the app is not in the shim's group");

    load = e2e_load_start(addr_of(dp), "/", 8, 3000);
    e2e_sleep_ms(500);
    kill(pgid, SIGKILL);
    t0 = e2e_now_ms();
    /* The orphaned app is stopped, not left holding the port. */
    while (kill(pid, 0) == 0 && e2e_now_ms() - t0 < 5000)
        e2e_sleep_ms(20);
    gone_ms = e2e_now_ms() - t0;
    ASSERT(kill(pid, 0) != 0, "the app outlived its shim by %lldms", gone_ms);
    ASSERT(kill(-pgid, 0) != 0, "something of group %d is still alive", pgid);
    e2e_wait_log(d, e2e_fmt("web.1: its process group %d outlived its shim", pgid), 2000);
    e2e_wait_log(d, "web.1 ready on port", 5000);
    e2e_load_result(load, &ok, &bad, &errors);
    e2e_log("%ld ok, %ld bad, %ld errors; the app was gone %lldms after the kill", ok, bad, errors,
            gone_ms);
    ASSERT(ok > 0 && bad == 0 && errors == 0, "%ld bad, %ld errors", bad, errors);
    e2e_until_all_answer(addr_of(dp), names, 2, 10000);
    status_pids(ap, "web.1", &pid2, &pgid2);
    ASSERT(pid2 > 0 && pid2 != pid && pgid2 != pgid, "web.1 was not replaced");
    e2e_drover_stop(d);
    ASSERT(e2e_procs_gone(e2e_backend_bin, 3000), "an app outlived drover");
}

/* An app that daemonizes (a child in a session of its own, out of the
 * group) is contained too: killing its shim stops the daemon, and so does
 * stopping drover. */
E2E_TEST(daemonized_child_is_stopped_with_its_instance, 60)
{
    int base = e2e_free_base(1, 1), ap = e2e_free_port(), dp = e2e_free_port(), pid, pgid;
    pid_t pids[4], daemon;
    struct e2e_proc *d;
    char *dir;

    dir = e2e_app_dir("worker: setsid sleep 3411 & exec sleep 3412\n",
                      e2e_fmt("admin: {listen: 127.0.0.1:%d}\nlisten: 127.0.0.1:%d\n"
                              "routes: [{path: /, backends: [127.0.0.1:1]}]\n"
                              "app: {base_port: %d}\nprocesses:\n  worker:\n"
                              "    restart: {min: 100ms, max: 1s}\n    stop_timeout: 1s\n",
                              ap, dp, base));
    d = e2e_drover_in(dir, NULL, addr_of(ap));
    e2e_wait_log(d, "worker.1 started", 5000);
    for (long long t = e2e_now_ms(); e2e_find_procs("sleep 3411", pids, 4) == 0;) {
        ASSERT(e2e_now_ms() - t < 5000, "the daemon never started");
        e2e_sleep_ms(20);
    }
    daemon = pids[0];
    ASSERT(getsid(daemon) == daemon, "the daemon did not leave the session");
    status_pids(ap, "worker.1", &pid, &pgid);
    ASSERT(getsid(daemon) != pgid && getpgid(daemon) != pgid, "the daemon is still in the group");
    kill(pgid, SIGKILL);
    for (long long t = e2e_now_ms(); kill(daemon, 0) == 0; e2e_sleep_ms(20))
        ASSERT(e2e_now_ms() - t < 5000, "the daemon outlived its shim");
    e2e_wait_log(d, "worker.1 killed by signal 9 (SIGKILL)", 3000);
    /* The replacement runs a daemon of its own. */
    for (long long t = e2e_now_ms(); e2e_find_procs("sleep 3411", pids, 4) != 1 || pids[0] == daemon;
         e2e_sleep_ms(20))
        ASSERT(e2e_now_ms() - t < 8000, "no new daemon");
    e2e_drover_stop(d);
    ASSERT(e2e_procs_gone("sleep 3411", 3000), "the daemon outlived drover");
    ASSERT(e2e_procs_gone("sleep 3412", 3000), "the app outlived drover");
}

/* A port held by someone else: the restart says so once, names the holder,
 * and the instance starts as soon as the port is free. */
E2E_TEST(restart_on_a_taken_port_names_the_holder, 60)
{
    int base = e2e_free_base(1, 1), dp = e2e_free_port();
    const char *names[1] = {"web.1"};
    struct e2e_proc *squatter, *d;
    char *dir, *log;

    squatter = e2e_raw_server("squatter", base, "HTTP/1.1 503 X\r\nContent-Length: 0\r\n\r\n", 38);
    dir = e2e_app_dir(e2e_fmt("web: %s -q\n", e2e_backend_bin),
                      e2e_fmt("listen: 127.0.0.1:%d\nadmin: {listen: off}\nlog: {access: off}\n"
                              "app: {base_port: %d}\n"
                              "processes:\n  web:\n    ready: {path: /}\n"
                              "    restart: {min: 100ms, max: 500ms}\n",
                              dp, base));
    d = e2e_drover_in(dir, NULL, NULL);
    e2e_wait_log(d, e2e_fmt("web.1 cannot start: port %d is taken by pid %d", base, squatter->pid),
                 10000);
    e2e_sleep_ms(1500);
    log = e2e_log_of(d);
    ASSERT(strstr(strstr(log, "cannot start: port") + 1, "cannot start: port") == NULL,
           "said more than once:\n%s", log);
    e2e_stop(squatter, SIGKILL, 2000);
    e2e_wait_log(d, e2e_fmt("web.1: port %d is free again", base), 5000);
    e2e_until_all_answer(addr_of(dp), names, 1, 10000);
    e2e_drover_stop(d);
}
