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

/* ---- admission when the connection table is full ---- */

static char *static_config(int dp, int bp, const char *extra)
{
    return e2e_fmt("listen: 127.0.0.1:%d\nadmin: {listen: off}\nlog: {access: off}\n"
                   "health: {path: /, interval: 200ms, timeout: 500ms, fall: 2}\n"
                   "routes:\n  - path: /\n    backends: [127.0.0.1:%d]\n%s",
                   dp, bp, extra);
}

/* True while the client's connection is still open (no EOF within ms). */
static bool still_open(struct client *c, int ms)
{
    return !client_wait_closed(c, ms);
}

/* A full table admits a new client by closing an idle keep-alive client
 * first, then the oldest connection that has not sent a whole head; a
 * connection with a request in flight is never closed. */
E2E_TEST(full_table_closes_idle_then_the_oldest_slow_head, 30)
{
    int bp = e2e_free_port(), dp = e2e_free_port();
    struct client *idle, *slow[7], *fresh, *fresh2;
    struct e2e_proc *d;
    struct http_resp r;

    e2e_backend("a", bp);
    d = e2e_drover(static_config(dp, bp, "limits: {max_connections: 8}\n"), addr_of(dp));
    idle = client_open(addr_of(dp));
    client_send_str(idle, "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT(client_read(idle, &r, false, 2000) == 0 && r.status == 200);
    resp_free(&r);
    for (int i = 0; i < 7; i++) {
        slow[i] = client_open(addr_of(dp));
        client_send_str(slow[i], "GET / HTTP/1.1\r\nHost: t\r\n"); /* never finished */
        e2e_sleep_ms(30); /* accepted in this order */
    }
    /* The keep-alive client has been idle for over a second now. */
    e2e_sleep_ms(1100);
    fresh = client_open(addr_of(dp));
    client_send_str(fresh, "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT(client_read(fresh, &r, false, 3000) == 0 && r.status == 200, "the new client was not served");
    resp_free(&r);
    ASSERT(client_wait_closed(idle, 2000), "the idle keep-alive client was not the first to go");
    for (int i = 0; i < 7; i++)
        ASSERT(still_open(slow[i], 50), "slow client %d was closed before the idle one", i);
    /* Now the slow heads go, oldest first. */
    fresh2 = client_open(addr_of(dp));
    client_send_str(fresh2, "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT(client_read(fresh2, &r, false, 3000) == 0 && r.status == 200);
    resp_free(&r);
    ASSERT(client_wait_closed(slow[0], 2000), "the oldest slow head was not closed");
    for (int i = 1; i < 7; i++)
        ASSERT(still_open(slow[i], 50), "slow client %d was closed out of order", i);
    e2e_wait_log(d, "connection table full (8)", 1000);
    client_close(fresh);
    client_close(fresh2);
    for (int i = 1; i < 7; i++)
        client_close(slow[i]);
    client_close(idle);
    e2e_drover_stop(d);
}

#define SLOW_HEAD "GET / HTTP/1.1\r\nHost: t\r\nX-a: b\r\n"
#define SLOW_LINE "X-b: c\r\n"

/* With few descriptors and a flood of clients that trickle their heads,
 * keep-alive clients are still served without an error, no healthy backend
 * is marked down for drover's own shortage, and the warnings stay few. */
E2E_TEST(slow_client_flood_at_a_low_descriptor_limit, 60)
{
    enum { FLOOD = 600 };
    int bp = e2e_free_port(), dp = e2e_free_port();
    struct client **flood = calloc(FLOOD, sizeof(*flood));
    struct e2e_proc *d, *load;
    long ok, bad, errors;
    char *log;

    ASSERT(flood != NULL);
    e2e_backend("a", bp);
    d = e2e_drover_nofile(static_config(dp, bp, ""), addr_of(dp), 512);
    e2e_wait_log(d, "limits.max_connections lowered from 10000 to", 2000);
    for (int i = 0; i < FLOOD; i++) {
        flood[i] = client_try_open(addr_of(dp));
        if (flood[i] != NULL)
            client_send_try(flood[i], SLOW_HEAD, strlen(SLOW_HEAD));
    }
    load = e2e_load_start(addr_of(dp), "/", 8, 3000);
    /* Keep trickling, as slowloris does. */
    for (int round = 0; round < 5; round++) {
        e2e_sleep_ms(400);
        for (int i = 0; i < FLOOD; i++)
            if (flood[i] != NULL && client_send_try(flood[i], SLOW_LINE, strlen(SLOW_LINE)) < 0) {
                client_close(flood[i]);
                flood[i] = client_try_open(addr_of(dp));
                if (flood[i] != NULL)
                    client_send_try(flood[i], SLOW_HEAD, strlen(SLOW_HEAD));
            }
    }
    e2e_load_result(load, &ok, &bad, &errors);
    e2e_log("beside %d slow clients: %ld ok, %ld bad, %ld errors", FLOOD, ok, bad, errors);
    ASSERT(ok > 100 && bad == 0 && errors == 0, "%ld ok, %ld bad, %ld errors", ok, bad, errors);
    log = e2e_log_of(d);
    ASSERT(strstr(log, "is down") == NULL, "a healthy backend was marked down:\n%s", log);
    {
        int n = 0;

        for (const char *p = strstr(log, "connection table full"); p != NULL;
             p = strstr(p + 1, "connection table full"))
            n++;
        ASSERT(n >= 1 && n <= 3, "%d table-full warnings", n);
    }
    for (int i = 0; i < FLOOD; i++)
        if (flood[i] != NULL)
            client_close(flood[i]);
    free(flood);
    e2e_drover_stop(d);
}

/* A hung instance (SIGSTOPped: it accepts but never answers) leaves the
 * pool through its health checks and, after restart_unhealthy, is
 * replaced: the replacement ready first, then the hung one stopped (it
 * gets SIGCONT with its SIGTERM). */
E2E_TEST(sigstopped_instance_is_replaced_after_restart_unhealthy, 60)
{
    int base = e2e_free_base(1, 3), dp = e2e_free_port(), ap = e2e_free_port(), pid, pgid;
    const char *names[2] = {"web.2", "web.3"};
    struct e2e_proc *d;
    char *dir;

    dir = e2e_app_dir(e2e_fmt("web: %s -q\n", e2e_backend_bin),
                      e2e_fmt("listen: 127.0.0.1:%d\nadmin: {listen: 127.0.0.1:%d}\n"
                              "log: {access: off}\napp: {base_port: %d}\n"
                              "health: {path: /, interval: 200ms, timeout: 300ms, fall: 2}\n"
                              "processes:\n  web:\n    instances: 2\n    ready: {path: /}\n"
                              "    restart_unhealthy: 1s\n    stop_timeout: 2s\n",
                              dp, ap, base));
    d = e2e_drover_in(dir, NULL, addr_of(dp));
    e2e_wait_log(d, "web.1 ready", 10000);
    e2e_wait_log(d, "web.2 ready", 10000);
    status_pids(ap, "web.1", &pid, &pgid);
    ASSERT(pid != pgid, "no app pid for web.1 (%d)", pid);
    ASSERT(kill(pid, SIGSTOP) == 0);
    e2e_wait_log(d, "backend web.1 is down", 5000);
    e2e_wait_log(d, "web.1 has failed its health checks for 1s (restart_unhealthy): replacing it "
                    "with web.3", 5000);
    e2e_wait_log(d, "web.3 ready", 10000);
    e2e_wait_log(d, "web.1 replaced by web.3: stopping it", 5000);
    e2e_wait_log(d, "web.1 stopped (SIGTERM) after", 5000);
    ASSERT(kill(pid, 0) != 0, "the hung app %d is still there", pid);
    {
        char *log = e2e_log_of(d);

        ASSERT(strstr(log, "web.3 ready") < strstr(log, "web.1 replaced by web.3"),
               "the hung instance was stopped before its replacement was ready");
    }
    e2e_until_all_answer(addr_of(dp), names, 2, 5000);
    e2e_drover_stop(d);
}

/* ---- log files and outputs ---- */

/* logrotate's way: the file is moved away, SIGUSR1, and new lines go to a
 * new file at the configured path while the moved one keeps the old. */
E2E_TEST(sigusr1_reopens_the_access_log, 30)
{
    int bp = e2e_free_port(), dp = e2e_free_port();
    char *path = e2e_fmt("%s/access.log", e2e_dir()), *moved = e2e_fmt("%s.1", path);
    struct e2e_proc *d;
    struct http_resp r;
    char *old, *fresh;

    e2e_backend("a", bp);
    d = e2e_drover(e2e_fmt("listen: 127.0.0.1:%d\nadmin: {listen: off}\nlog: {access: %s}\n"
                           "routes:\n  - path: /\n    backends: [127.0.0.1:%d]\n",
                           dp, path, bp),
                   addr_of(dp));
    http_get(addr_of(dp), "/before", &r);
    resp_free(&r);
    for (long long t = e2e_now_ms(); (old = e2e_read_file(path, NULL)) == NULL || strstr(old, "/before") == NULL;
         e2e_sleep_ms(20))
        ASSERT(e2e_now_ms() - t < 3000, "the first line never reached the log");
    ASSERT(rename(path, moved) == 0);
    kill(d->pid, SIGUSR1);
    e2e_wait_log(d, "SIGUSR1: access log", 3000);
    http_get(addr_of(dp), "/after", &r);
    resp_free(&r);
    for (long long t = e2e_now_ms(); (fresh = e2e_read_file(path, NULL)) == NULL || strstr(fresh, "/after") == NULL;
         e2e_sleep_ms(20))
        ASSERT(e2e_now_ms() - t < 3000, "no new access log with the new line");
    old = e2e_read_file(moved, NULL);
    ASSERT(strstr(old, "/before") != NULL && strstr(old, "/after") == NULL, "moved file: %s", old);
    ASSERT(strstr(fresh, "/before") == NULL, "new file: %s", fresh);
    e2e_drover_stop(d);
}

/* stdout is a pipe whose reader has gone: drover and its instances keep
 * serving; the lines it could not write are counted. */
E2E_TEST(closed_stdout_does_not_stop_drover, 30)
{
    int base = e2e_free_base(1, 1), dp = e2e_free_port(), ap = e2e_free_port();
    const char *names[1] = {"web.1"};
    char *dir, *cmd;
    struct e2e_proc *sh;
    struct http_resp r;
    pid_t pids[4];
    long long dropped = -1;

    dir = e2e_app_dir(e2e_fmt("web: %s\n", e2e_backend_bin),
                      e2e_fmt("listen: 127.0.0.1:%d\nadmin: {listen: 127.0.0.1:%d}\n"
                              "app: {base_port: %d}\nprocesses:\n  web:\n    ready: {path: /}\n",
                              dp, ap, base));
    /* The reader (head -c 1) takes one byte and exits: the pipe is closed. */
    cmd = e2e_fmt("'%s' run -d '%s' 2>'%s/stderr.log' | head -c 1 >/dev/null; sleep 60",
                  e2e_drover_bin, dir, e2e_dir());
    sh = e2e_spawn("sh", (char *[]){"/bin/sh", "-c", cmd, NULL}, NULL);
    e2e_wait_listening(addr_of(dp), 10000, sh);
    e2e_until_all_answer(addr_of(dp), names, 1, 10000);
    for (int i = 0; i < 200; i++) {
        http_get(addr_of(dp), "/", &r);
        ASSERT(r.status == 200, "request %d: %d", i, r.status);
        resp_free(&r);
    }
    http_get(addr_of(ap), "/metrics", &r);
    {
        const char *m = strstr(r.body, "\ndrover_log_dropped_total ");

        if (m != NULL)
            dropped = atoll(m + 26);
    }
    resp_free(&r);
    e2e_log("%lld lines dropped", dropped);
    ASSERT(dropped > 0, "no dropped lines counted");
    ASSERT(e2e_find_procs(e2e_fmt("%s run", e2e_drover_bin), pids, 4) == 1, "drover is gone");
    kill(pids[0], SIGTERM);
    ASSERT(e2e_procs_gone(e2e_fmt("%s run", e2e_drover_bin), 10000), "drover did not stop");
    ASSERT(e2e_procs_gone(e2e_backend_bin, 3000), "an instance outlived drover");
    e2e_stop(sh, SIGKILL, 2000);
}

/* stdout is a pipe nobody reads (a stuck log shipper): once it is full,
 * lines are dropped; requests are not held up behind it. */
E2E_TEST(stuck_stdout_reader_does_not_block_the_router, 60)
{
    int bp = e2e_free_port(), dp = e2e_free_port();
    char *cfg, *cmd;
    struct e2e_proc *sh;
    pid_t pids[4];
    long ok, bad, errors;

    e2e_backend("a", bp);
    cfg = e2e_write_file("stuck.yaml",
                         e2e_fmt("listen: 127.0.0.1:%d\nadmin: {listen: off}\n"
                                 "routes:\n  - path: /\n    backends: [127.0.0.1:%d]\n",
                                 dp, bp));
    cmd = e2e_fmt("'%s' run -c '%s' 2>'%s/stderr.log' | sleep 60", e2e_drover_bin, cfg, e2e_dir());
    sh = e2e_spawn("sh", (char *[]){"/bin/sh", "-c", cmd, NULL}, NULL);
    e2e_wait_listening(addr_of(dp), 10000, sh);
    /* Far more access log lines than a pipe holds (64 KiB). */
    e2e_load_result(e2e_load_start(addr_of(dp), "/", 4, 2000), &ok, &bad, &errors);
    e2e_log("%ld requests with a stuck stdout", ok);
    ASSERT(ok > 2000 && bad == 0 && errors == 0, "%ld ok, %ld bad, %ld errors", ok, bad, errors);
    ASSERT(e2e_find_procs(e2e_fmt("%s run", e2e_drover_bin), pids, 4) == 1, "drover is gone");
    kill(pids[0], SIGTERM);
    ASSERT(e2e_procs_gone(e2e_fmt("%s run", e2e_drover_bin), 10000), "drover did not stop");
    e2e_stop(sh, SIGKILL, 2000);
}
