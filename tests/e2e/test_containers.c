/* drover in a container, and under an orchestrator: GET /live, the
 * drain_delay sequence Kubernetes needs, `workers: auto` in a cgroup with
 * a CPU quota the test sets, and drover as PID 1 of its own PID namespace
 * reaping orphans it never started. The last two need root; they say
 * SKIPPED and pass without it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/e2e/client.h"
#include "tests/e2e/harness.h"

static char *addr_of(int port)
{
    return e2e_fmt("127.0.0.1:%d", port);
}

/* A drover on dp in front of a backend on bp, its admin API on ap (token
 * "secret"), with extra config lines. */
static struct e2e_proc *static_drover(int dp, int ap, int bp, const char *extra)
{
    struct e2e_proc *d;

    e2e_backend("a", bp);
    d = e2e_drover(e2e_fmt("listen: 127.0.0.1:%d\nadmin: {listen: 127.0.0.1:%d, token: secret}\n"
                           "log: {access: off}\nroutes:\n  - path: /\n    backends: [127.0.0.1:%d]\n%s",
                           dp, ap, bp, extra),
                   addr_of(dp));
    /* The admin listener opens after the router's (slower under ASan). */
    e2e_wait_listening(addr_of(ap), 5000, d);
    return d;
}

static int get_status(const char *addr, const char *path)
{
    struct http_resp r;
    int status;

    http_get(addr, path, &r);
    status = r.status;
    resp_free(&r);
    return status;
}

/* /live answers without the token; it is answered by the main loop, so a
 * drover whose loop does not turn (stopped here) leaves it unanswered. */
E2E_TEST(live_is_answered_by_the_event_loop, 20)
{
    int bp = e2e_free_port(), dp = e2e_free_port(), ap = e2e_free_port();
    struct e2e_proc *d = static_drover(dp, ap, bp, "");
    struct http_resp r;
    struct client *c;

    http_get(addr_of(ap), "/live", &r);
    ASSERT(r.status == 200 && strncmp(r.body, "{\"status\":\"live\"}", 17) == 0, "%d %s", r.status, r.body);
    resp_free(&r);
    ASSERT(get_status(addr_of(ap), "/status") == 401, "the token guards the rest");

    kill(d->pid, SIGSTOP);
    c = client_open(addr_of(ap));
    client_send_str(c, "GET /live HTTP/1.1\r\nHost: admin\r\n\r\n");
    ASSERT(client_read(c, &r, false, 800) != 0, "answered while the loop was stopped");
    kill(d->pid, SIGCONT);
    ASSERT(client_read(c, &r, false, 3000) == 0 && r.status == 200, "no answer once the loop turned again");
    resp_free(&r);
    client_close(c);
    e2e_drover_stop(d);
}

/* timeouts.drain_delay: from SIGTERM on /ready is 503 (and /live 200),
 * new connections are accepted and served for the delay, then refused
 * while the request in flight finishes, and drover exits 0. */
E2E_TEST(drain_delay_serves_then_refuses, 30)
{
    int bp = e2e_free_port(), dp = e2e_free_port(), ap = e2e_free_port(), served = 0;
    struct e2e_proc *d = static_drover(dp, ap, bp, "timeouts: {drain_delay: 2s, drain: 10s}\n");
    long long t0, refused_at = -1, ready_at;
    struct client *slow = client_open(addr_of(dp));
    struct http_resp r;
    int status;

    client_send_str(slow, "GET /?delay=4000 HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT(get_status(addr_of(ap), "/ready") == 200);
    e2e_sleep_ms(200);
    t0 = e2e_now_ms();
    kill(d->pid, SIGTERM);
    e2e_wait_log(d, "serving on for timeouts.drain_delay (2s)", 2000);
    ASSERT(get_status(addr_of(ap), "/ready") == 503, "/ready must turn 503 at once");
    ready_at = e2e_now_ms() - t0;
    ASSERT(get_status(addr_of(ap), "/live") == 200);
    while (e2e_now_ms() - t0 < 3500) {
        struct client *c = client_try_open(addr_of(dp));
        long long at;

        if (c == NULL) {
            refused_at = e2e_now_ms() - t0;
            break;
        }
        client_send_str(c, "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
        if (client_read(c, &r, false, 2000) != 0) {
            /* Accepted by the kernel just as the listener closed. */
            at = e2e_now_ms() - t0;
            client_close(c);
            ASSERT(at >= 1900, "a connection failed %lldms into the 2s delay", at);
            continue;
        }
        ASSERT(r.status == 200, "status %d during the delay", r.status);
        resp_free(&r);
        client_close(c);
        served++;
        e2e_sleep_ms(100);
    }
    e2e_log("/ready 503 after %lldms; %d requests served in the delay; refused %lldms after SIGTERM", ready_at,
            served, refused_at);
    ASSERT(refused_at >= 1900 && refused_at <= 3000, "refused at %lldms, not after the 2s delay", refused_at);
    ASSERT(served >= 10, "only %d new connections served in the delay", served);
    ASSERT(!e2e_exited(d), "drover should still drain the request in flight");
    ASSERT(get_status(addr_of(ap), "/ready") == 503);
    ASSERT(client_read(slow, &r, false, 5000) == 0 && r.status == 200, "the request in flight was lost");
    resp_free(&r);
    client_close(slow);
    status = e2e_stop(d, 0, 5000);
    ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
    e2e_check_sanitizer(d);
}

/* A second SIGTERM during the delay stops at once, as during a drain. */
E2E_TEST(second_sigterm_in_the_drain_delay_stops_at_once, 20)
{
    int bp = e2e_free_port(), dp = e2e_free_port(), ap = e2e_free_port();
    struct e2e_proc *d = static_drover(dp, ap, bp, "timeouts: {drain_delay: 20s}\n");
    long long t0;
    int status;

    kill(d->pid, SIGTERM);
    e2e_wait_log(d, "serving on for timeouts.drain_delay", 2000);
    ASSERT(get_status(addr_of(dp), "/") == 200, "still serving in the delay");
    t0 = e2e_now_ms();
    kill(d->pid, SIGTERM);
    status = e2e_stop(d, 0, 5000);
    e2e_log("exited %lldms after the second SIGTERM", e2e_now_ms() - t0);
    ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
    ASSERT(e2e_now_ms() - t0 < 1500, "the second signal did not stop drover at once");
    e2e_check_sanitizer(d);
}

/* ---- workers: auto in a cgroup ---- */

static bool write_text(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? write(fd, text, strlen(text)) : -1;

    if (fd >= 0)
        close(fd);
    return n == (ssize_t)strlen(text);
}

/* A new cgroup allowing half a CPU: cgroup v1's cpu controller, else
 * cgroup v2 with the cpu controller. NULL (with the reason logged) when
 * neither can be made here. */
static char *half_cpu_cgroup(void)
{
    char *dir, *ctl = e2e_read_file("/sys/fs/cgroup/cgroup.controllers", NULL);

    if (geteuid() != 0) {
        e2e_log("SKIPPED: making a cgroup needs root");
        return NULL;
    }
    if (access("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", F_OK) == 0) {
        /* Those a failed run left: of tests no longer running, and empty. */
        e2e_run("rmdir-stale",
                (char *[]){"/bin/sh", "-c",
                           "for d in /sys/fs/cgroup/cpu/drover-e2e-*; do kill -0 \"${d##*-}\" 2>/dev/null || "
                           "rmdir \"$d\" 2>/dev/null; done; true",
                           NULL},
                5000);
        dir = e2e_fmt("/sys/fs/cgroup/cpu/drover-e2e-%d", (int)getpid());
        if ((mkdir(dir, 0755) == 0 || errno == EEXIST) &&
            write_text(e2e_fmt("%s/cpu.cfs_period_us", dir), "100000") &&
            write_text(e2e_fmt("%s/cpu.cfs_quota_us", dir), "50000"))
            return dir;
    } else if (ctl != NULL && strstr(ctl, "cpu") != NULL) {
        write_text("/sys/fs/cgroup/cgroup.subtree_control", "+cpu");
        dir = e2e_fmt("/sys/fs/cgroup/drover-e2e-%d", (int)getpid());
        if ((mkdir(dir, 0755) == 0 || errno == EEXIST) && write_text(e2e_fmt("%s/cpu.max", dir), "50000 100000"))
            return dir;
    } else {
        e2e_log("SKIPPED: no cgroup cpu controller (v1 /sys/fs/cgroup/cpu, or v2 cgroup.controllers)");
        return NULL;
    }
    e2e_log("SKIPPED: cannot set up a cgroup with a CPU quota: %s", strerror(errno));
    return NULL;
}

/* drover run with `workers: auto`, started by sh after the command before
 * (which may move the shell into a cgroup) under wrapper (taskset); the
 * workers it counted. */
static int auto_workers(const char *name, const char *before, const char *wrapper)
{
    int bp = e2e_free_port(), dp = e2e_free_port();
    char *file = e2e_write_file(e2e_fmt("%s.yaml", name),
                                e2e_fmt("listen: 127.0.0.1:%d\nworkers: auto\nadmin: {listen: off}\n"
                                        "log: {access: off}\nroutes:\n  - path: /\n    backends: [127.0.0.1:%d]\n",
                                        dp, bp));
    char *argv[] = {"/bin/sh", "-c", e2e_fmt("%s exec %s %s run -c %s", before, wrapper, e2e_drover_bin, file), NULL};
    struct e2e_proc *d = e2e_spawn(name, argv, NULL);
    const char *log, *at;
    int n = -1;

    e2e_wait_listening(addr_of(dp), 10000, d);
    log = e2e_log_of(d);
    at = strstr(log, "starting (pid ");
    ASSERT(at != NULL && sscanf(strchr(at, ',') + 1, " %d worker", &n) == 1, "%s", log);
    e2e_drover_stop(d);
    return n;
}

E2E_TEST(workers_auto_counts_the_cgroup_quota_and_the_affinity, 40)
{
    cpu_set_t set;
    char *cg = half_cpu_cgroup();
    int n, cpus;

    ASSERT(sched_getaffinity(0, sizeof(set), &set) == 0);
    cpus = CPU_COUNT(&set);
    if (cg != NULL) {
        n = auto_workers("quota", e2e_fmt("echo $$ > %s/cgroup.procs &&", cg), "");
        e2e_log("in %s (0.5 CPU): %d worker(s)", cg, n);
        ASSERT(n == 1, "half a CPU gave %d workers", n);
        for (int i = 0; i < 50 && rmdir(cg) < 0 && errno == EBUSY; i++)
            e2e_sleep_ms(100);
    }
    n = auto_workers("plain", "", "");
    ASSERT(n == (cpus > 256 ? 256 : cpus), "%d CPUs in the mask, %d workers", cpus, n);
    if (cpus >= 2 && access("/usr/bin/taskset", X_OK) == 0) {
        n = auto_workers("pinned", "", "taskset -c 0");
        ASSERT(n == 1, "pinned to one CPU, %d workers", n);
    }
}

/* ---- PID 1 ---- */

/* Processes whose parent is ppid: how many, and how many are zombies. */
static void children_of(pid_t ppid, const char *comm, int *alive, int *zombies)
{
    DIR *proc = opendir("/proc");
    struct dirent *e;

    *alive = *zombies = 0;
    while (proc != NULL && (e = readdir(proc)) != NULL) {
        char *stat = e->d_name[0] >= '1' && e->d_name[0] <= '9'
                         ? e2e_read_file(e2e_fmt("/proc/%s/stat", e->d_name), NULL)
                         : NULL;
        char name[64], state;
        int pid, parent;

        if (stat == NULL || sscanf(stat, "%d (%63[^)]) %c %d", &pid, name, &state, &parent) != 4 ||
            parent != ppid)
            continue;
        if (state == 'Z')
            (*zombies)++;
        else if (strcmp(name, comm) == 0)
            (*alive)++;
    }
    if (proc != NULL)
        closedir(proc);
}

/* drover as PID 1 of a new PID namespace (`unshare --pid --fork`, as a
 * container runtime starts its entry point): processes that enter the
 * namespace from outside (`docker exec` does what nsenter does here) and
 * leave orphans hand them to drover, which reaps them when they exit. */
E2E_TEST(pid1_reaps_the_orphans_it_inherits, 30)
{
    int bp = e2e_free_port(), dp = e2e_free_port(), alive = 0, zombies = 0;
    char *file, *children, *status_text, *argv[9];
    struct e2e_proc *d;
    pid_t pid1;

    if (geteuid() != 0 || access("/usr/bin/unshare", X_OK) != 0 || access("/usr/bin/nsenter", X_OK) != 0) {
        e2e_log("SKIPPED: a PID namespace needs root, unshare and nsenter (util-linux)");
        return;
    }
    e2e_backend("a", bp);
    file = e2e_write_file("drover.yaml", e2e_fmt("listen: 127.0.0.1:%d\nadmin: {listen: off}\nlog: {access: off}\n"
                                                 "routes:\n  - path: /\n    backends: [127.0.0.1:%d]\n",
                                                 dp, bp));
    argv[0] = "/usr/bin/unshare";
    argv[1] = "--pid";
    argv[2] = "--fork";
    argv[3] = "--mount-proc";
    argv[4] = (char *)e2e_drover_bin;
    argv[5] = "run";
    argv[6] = "-c";
    argv[7] = file;
    argv[8] = NULL;
    d = e2e_spawn("drover", argv, NULL);
    e2e_wait_listening(addr_of(dp), 10000, d);
    children = e2e_read_file(e2e_fmt("/proc/%d/task/%d/children", (int)d->pid, (int)d->pid), NULL);
    ASSERT(children != NULL && (pid1 = (pid_t)atoi(children)) > 0, "unshare's child: %s", children);
    status_text = e2e_read_file(e2e_fmt("/proc/%d/status", (int)pid1), NULL);
    ASSERT(status_text != NULL && strstr(status_text, e2e_fmt("NSpid:\t%d\t1\n", (int)pid1)) != NULL,
           "drover is not PID 1 of its namespace: %s", status_text);

    char *enter[] = {"/usr/bin/nsenter", "-t", e2e_fmt("%d", (int)pid1), "-p", "--", "/bin/sh", "-c",
                     "sleep 1.5 & sleep 1.5 & exit 0", NULL};
    ASSERT(e2e_run("nsenter", enter, 5000) == 0);
    /* A forked child may not have exec'd sleep yet when its shell exits. */
    for (long long t = e2e_now_ms(); children_of(pid1, "sleep", &alive, &zombies), alive < 2; e2e_sleep_ms(20))
        if (e2e_now_ms() - t > 1000)
            break;
    ASSERT(alive == 2, "the orphans went to drover: %d of 2", alive);
    for (int i = 0; i < 40 && (alive > 0 || zombies > 0); i++) {
        e2e_sleep_ms(100);
        children_of(pid1, "sleep", &alive, &zombies);
    }
    e2e_log("after the orphans exited: %d left, %d zombies", alive, zombies);
    ASSERT(alive == 0 && zombies == 0, "%d zombies left under PID 1", zombies);
    ASSERT(get_status(addr_of(dp), "/") == 200);
    e2e_drover_stop(d);
}

/* In the drain delay a keep-alive client's next answer says Connection:
 * close and the connection ends after it, so the client reconnects, to a
 * node its balancer still sends to, before the listeners close. */
E2E_TEST(drain_delay_moves_keepalive_clients_off, 20)
{
    int bp = e2e_free_port(), dp = e2e_free_port(), ap = e2e_free_port();
    struct e2e_proc *d = static_drover(dp, ap, bp, "timeouts: {drain_delay: 3s}\n");
    struct client *c = client_open(addr_of(dp));
    struct http_resp r;

    client_send_str(c, "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT(client_read(c, &r, false, 2000) == 0 && r.status == 200 && r.keep_alive, "before: not kept alive");
    resp_free(&r);
    kill(d->pid, SIGTERM);
    e2e_wait_log(d, "serving on for timeouts.drain_delay", 2000);
    client_send_str(c, "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT(client_read(c, &r, false, 2000) == 0 && r.status == 200, "no answer in the delay");
    ASSERT(resp_header(&r, "Connection") != NULL && strcmp(resp_header(&r, "Connection"), "close") == 0,
           "the answer in the delay did not say Connection: close");
    resp_free(&r);
    ASSERT(client_wait_closed(c, 2000), "the connection stayed open in the delay");
    client_close(c);
    kill(d->pid, SIGTERM);
    e2e_stop(d, 0, 5000);
}
