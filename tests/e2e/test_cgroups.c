/* processes.TYPE.cpu and memory_max: the real kernel limits an instance
 * (its CPU share measured from /proc, a kill by the memory limit told as
 * such), its cgroup lives exactly as long as it runs, and a type asking
 * for limits drover cannot apply stops the start. They need root and the
 * cgroup cpu and memory controllers: without them each test says SKIPPED
 * and why, and passes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client.h"
#include "harness.h"
#include "http11.h"

/* The mount point of the hierarchy with controller ctl ("cpu", "memory"):
 * a v1 mount with it, else cgroup v2's (*v2 set). NULL when none. */
static char *mount_of(const char *ctl, bool *v2)
{
    char *info = e2e_read_file("/proc/self/mountinfo", NULL), *line, *save = NULL, *found = NULL;
    char *v2_at = NULL;

    *v2 = false;
    for (line = info != NULL ? strtok_r(info, "\n", &save) : NULL; line != NULL && found == NULL;
         line = strtok_r(NULL, "\n", &save)) {
        char point[512], fstype[32], opts[512];
        const char *dash = strstr(line, " - ");

        if (dash == NULL || sscanf(line, "%*s %*s %*s %*s %511s", point) != 1 ||
            sscanf(dash + 3, "%31s %*s %511s", fstype, opts) != 2)
            continue;
        if (strcmp(fstype, "cgroup") == 0) {
            char *words = e2e_fmt(",%s,", opts);

            if (strstr(words, e2e_fmt(",%s,", ctl)) != NULL)
                found = e2e_fmt("%s", point);
        } else if (strcmp(fstype, "cgroup2") == 0) {
            char *ctls = e2e_read_file(e2e_fmt("%s/cgroup.controllers", point), NULL);

            if (ctls != NULL && strstr(e2e_fmt(" %s", ctls), e2e_fmt(" %s", ctl)) != NULL)
                v2_at = e2e_fmt("%s", point);
            free(ctls);
        }
    }
    free(info);
    if (found == NULL && v2_at != NULL) {
        *v2 = true;
        found = v2_at;
    }
    return found;
}

/* Process pid's cgroup path in the hierarchy of ctl ("" when unknown). */
static char *cgroup_of(pid_t pid, const char *ctl, bool v2)
{
    char *text = e2e_read_file(e2e_fmt("/proc/%d/cgroup", (int)pid), NULL), *line, *save = NULL;
    char *out = e2e_fmt("%s", "");

    for (line = text != NULL ? strtok_r(text, "\n", &save) : NULL; line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        char *a = strchr(line, ':'), *b = a != NULL ? strchr(a + 1, ':') : NULL;

        if (b == NULL)
            continue;
        *b = '\0';
        if (v2 ? strcmp(line, "0:") == 0 : strstr(e2e_fmt(",%s,", a + 1), e2e_fmt(",%s,", ctl)) != NULL) {
            out = e2e_fmt("%s", b + 1);
            break;
        }
    }
    free(text);
    return out;
}

/* True when this machine can run the tests; else logs SKIPPED and why. */
static bool cgroups_here(void)
{
    bool v2;
    char *cpu, *mem;

    if (geteuid() != 0) {
        e2e_log("SKIPPED: making cgroups needs root");
        return false;
    }
    cpu = mount_of("cpu", &v2);
    mem = mount_of("memory", &v2);
    if (cpu == NULL || mem == NULL) {
        e2e_log("SKIPPED: no cgroup %s controller mounted (v1) or enabled (v2 cgroup.controllers)",
                cpu == NULL ? "cpu" : "memory");
        return false;
    }
    if (access(e2e_fmt("%s%s", mem, cgroup_of(getpid(), "memory", v2)), W_OK) < 0) {
        e2e_log("SKIPPED: this process's memory cgroup is not writable: %s", strerror(errno));
        return false;
    }
    /* What a drover the harness had to SIGKILL (a failed run) left: the
     * empty cgroups of drovers no longer running. */
    for (int i = 0; i < 2; i++) {
        const char *ctl = i == 0 ? "cpu" : "memory";
        char *own = e2e_fmt("%s%s", i == 0 ? cpu : mem, cgroup_of(getpid(), ctl, v2));

        e2e_run("rmdir-stale",
                (char *[]){"/bin/sh", "-c",
                           e2e_fmt("for d in '%s'/drover-*; do [ -d \"$d\" ] || continue; "
                                   "kill -0 \"${d##*-}\" 2>/dev/null && continue; "
                                   "for c in \"$d\"/*/; do [ -d \"$c\" ] && rmdir \"$c\"; done; rmdir \"$d\"; done; true",
                                   own),
                           NULL},
                5000);
    }
    return true;
}

/* The number a file in the app's dir holds (the pid an app wrote), once
 * it is there. */
static pid_t read_pid(const char *path)
{
    long long deadline = e2e_now_ms() + 10000;

    for (;;) {
        char *text = e2e_read_file(path, NULL);
        int pid = text != NULL ? atoi(text) : 0;

        free(text);
        if (pid > 0)
            return pid;
        if (e2e_now_ms() > deadline)
            e2e_fail(__FILE__, __LINE__, "%s never got a pid", path);
        e2e_sleep_ms(20);
    }
}

static bool gone_within(const char *dir, int ms)
{
    long long deadline = e2e_now_ms() + ms;

    while (access(dir, F_OK) == 0) {
        if (e2e_now_ms() > deadline)
            return false;
        e2e_sleep_ms(20);
    }
    return true;
}

/* `cpu: 0.2`: a process spinning flat out gets about a fifth of a CPU. */
E2E_TEST(cpu_limit_holds_a_spinning_instance_to_its_share, 30)
{
    int ap = e2e_free_port();
    char *dir, *admin = addr_of(ap), *cpu_at, *stat, *load, *at;
    struct e2e_proc *d;
    long cpu0, cpu1, throttled;
    bool v2;
    long long t0, t1;
    double share;
    pid_t spin;

    if (!cgroups_here())
        return;
    dir = e2e_app_dir("spin: exec sh -c 'echo $$ > spin.pid; while :; do :; done'\n",
                      e2e_fmt("listen: 127.0.0.1:%d\nadmin: {listen: %s}\nlog: {access: off}\napp: {base_port: %d}\n"
                              "processes:\n  spin: {cpu: 0.2, stop_timeout: 0}\n",
                              e2e_free_port(), admin, e2e_free_base(1, 1)));
    d = e2e_drover_in(dir, NULL, admin);
    spin = read_pid(e2e_fmt("%s/spin.pid", dir));
    e2e_sleep_ms(300);
    cpu0 = e2e_cpu_ms(spin);
    t0 = e2e_now_ms();
    e2e_sleep_ms(2000);
    cpu1 = e2e_cpu_ms(spin);
    t1 = e2e_now_ms();
    ASSERT(cpu0 >= 0 && cpu1 >= 0, "the spinning process is gone");
    share = (double)(cpu1 - cpu0) / (double)(t1 - t0);
    cpu_at = mount_of("cpu", &v2);
    stat = e2e_read_file(e2e_fmt("%s%s/cpu.stat", cpu_at, cgroup_of(spin, "cpu", v2)), NULL);
    load = e2e_read_file("/proc/loadavg", NULL);
    throttled = stat != NULL && (at = strstr(stat, "nr_throttled ")) != NULL ? atol(at + 13) : -1;
    e2e_log("cpu: 0.2 → %.1f%% of a CPU over %lldms, throttled %ld times (load %.14s)", share * 100, t1 - t0,
            throttled, load != NULL ? load : "?");
    /* The quota is a ceiling: on a busy machine the share can be lower,
     * never higher; the throttling shows the quota is what held it. */
    ASSERT(share >= 0.05 && share <= 0.35, "%.1f%% of a CPU, not about 20%%", share * 100);
    ASSERT(throttled > 0, "the CPU quota never throttled it: %s", stat != NULL ? stat : "no cpu.stat");
    free(stat);
    free(load);
    e2e_drover_stop(d);
}

/* The cgroup: the app (and what it starts) in it from before its exec,
 * with the limits; gone when the instance stops, drover's own directory
 * gone when drover exits. */
E2E_TEST(cgroup_lives_as_long_as_its_instance, 30)
{
    int ap = e2e_free_port();
    char *dir, *admin = addr_of(ap), *out, *cpu_at, *mem_at, *path, *text;
    struct e2e_proc *d;
    bool cpu_v2, mem_v2;
    pid_t app, child;

    if (!cgroups_here())
        return;
    cpu_at = mount_of("cpu", &cpu_v2);
    mem_at = mount_of("memory", &mem_v2);
    dir = e2e_app_dir("work: exec sh -c 'echo $$ > work.pid; sleep 3201 & echo $! > child.pid; wait'\n",
                      e2e_fmt("listen: 127.0.0.1:%d\nadmin: {listen: %s}\nlog: {access: off}\napp: {base_port: %d}\n"
                              "processes:\n  work: {cpu: 0.5, memory_max: 96M, stop_timeout: 2s}\n",
                              e2e_free_port(), admin, e2e_free_base(1, 1)));
    d = e2e_drover_in(dir, NULL, admin);
    app = read_pid(e2e_fmt("%s/work.pid", dir));
    child = read_pid(e2e_fmt("%s/child.pid", dir));
    path = cgroup_of(app, "cpu", cpu_v2);
    e2e_log("work.1's cgroup: %s (cpu), %s (memory)", path, cgroup_of(app, "memory", mem_v2));
    ASSERT(strstr(path, e2e_fmt("/drover-%d/work.1-", (int)d->pid)) != NULL, "%s", path);
    ASSERT(strcmp(cgroup_of(child, "cpu", cpu_v2), path) == 0, "its child is in it too");
    text = e2e_read_file(e2e_fmt("%s%s/%s", cpu_at, path, cpu_v2 ? "cpu.max" : "cpu.cfs_quota_us"), NULL);
    ASSERT(text != NULL && strncmp(text, cpu_v2 ? "50000 100000" : "50000", 5) == 0, "%s", text);
    free(text);
    text = e2e_read_file(e2e_fmt("%s%s/%s", mem_at, cgroup_of(app, "memory", mem_v2),
                                 mem_v2 ? "memory.max" : "memory.limit_in_bytes"),
                         NULL);
    ASSERT(text != NULL && atoll(text) == 96LL << 20, "%s", text);
    free(text);
    {
        char *cpu_dir = e2e_fmt("%s%s", cpu_at, path);
        char *mem_dir = e2e_fmt("%s%s", mem_at, cgroup_of(app, "memory", mem_v2));
        char *base = e2e_fmt("%.*s", (int)(strrchr(cpu_dir, '/') - cpu_dir), cpu_dir);
        char *argv[] = {(char *)e2e_drover_bin, "stop", "work", "--admin", admin, NULL};

        ASSERT(access(cpu_dir, F_OK) == 0 && access(mem_dir, F_OK) == 0);
        ASSERT(e2e_run("stop", argv, 10000) == 0);
        e2e_wait_log(d, "work.1 stopped", 5000);
        ASSERT(gone_within(cpu_dir, 2000), "%s is still there after work.1 stopped", cpu_dir);
        ASSERT(gone_within(mem_dir, 2000), "%s is still there after work.1 stopped", mem_dir);
        ASSERT(access(base, F_OK) == 0, "drover's own %s stays while it runs", base);
        e2e_drover_stop(d);
        ASSERT(access(base, F_OK) < 0, "%s is still there after drover exited", base);
        out = e2e_fmt("%.*s", (int)(strrchr(mem_dir, '/') - mem_dir), mem_dir);
        ASSERT(access(out, F_OK) < 0, "%s is still there after drover exited", out);
    }
}

/* Past memory_max the kernel kills it: told as such in the log and in
 * /status's last exit, and it is restarted. */
E2E_TEST(memory_max_kill_is_reported_and_the_instance_restarted, 40)
{
    int ap = e2e_free_port();
    char *dir, *admin = addr_of(ap), *text;
    struct e2e_proc *d;
    const char *first;
    struct http_resp r;

    if (!cgroups_here())
        return;
    if (access("/usr/bin/python3", X_OK) < 0) {
        e2e_log("SKIPPED: the allocating app is /usr/bin/python3");
        return;
    }
    dir = e2e_app_dir("hog: exec /usr/bin/python3 -c 'import time; a = b\"x\" * (200 << 20); "
                      "print(\"allocated\", flush=True); time.sleep(100)'\n",
                      e2e_fmt("listen: 127.0.0.1:%d\nadmin: {listen: %s}\nlog: {access: off}\napp: {base_port: %d}\n"
                              "processes:\n  hog: {memory_max: 64M, stop_timeout: 0, restart: {min: 300ms}}\n",
                              e2e_free_port(), admin, e2e_free_base(1, 1)));
    d = e2e_drover_in(dir, NULL, admin);
    e2e_wait_log(d, "hog.1 killed by the memory limit (64M) after", 15000);
    text = e2e_log_of(d);
    first = strstr(text, "hog.1 killed by the memory limit (64M) after");
    ASSERT(strstr(first, "restart 1 in 300ms") != NULL, "%s", text);
    ASSERT(strstr(text, "allocated") == NULL, "it got its 200M: %s", text);
    free(text);
    http_get(admin, "/status", &r);
    ASSERT(r.status == 200 && strstr(r.body, "\"how\":\"killed by the memory limit (64M)\"") != NULL, "%s",
           r.body);
    resp_free(&r);
    /* Replaced: the restart runs (and is killed) again. */
    {
        long long deadline = e2e_now_ms() + 15000;
        int kills = 0;

        while (kills < 2 && e2e_now_ms() < deadline) {
            text = e2e_log_of(d);
            kills = 0;
            for (const char *p = text; (p = strstr(p, "killed by the memory limit (64M)")) != NULL; p++)
                kills++;
            free(text);
            e2e_sleep_ms(50);
        }
        ASSERT(kills >= 2, "restarted and killed again: %d kills", kills);
    }
    e2e_drover_stop(d);
}

/* A read-only cgroup filesystem (a mount namespace of its own): `drover
 * check` says so and `drover run` does not start, naming the path and
 * errno; without limits the same drover starts. */
E2E_TEST(limits_drover_cannot_apply_stop_the_start, 30)
{
    char *dir, *mem_at, *yaml, *log;
    bool v2;
    int code;

    if (!cgroups_here())
        return;
    if (access("/usr/bin/unshare", X_OK) < 0) {
        e2e_log("SKIPPED: needs unshare (util-linux) for a mount namespace");
        return;
    }
    mem_at = mount_of("memory", &v2);
    yaml = e2e_fmt("listen: 127.0.0.1:%d\nadmin: {listen: off}\nlog: {access: off}\napp: {base_port: %d}\n"
                   "processes:\n  hog: {memory_max: 64M}\n",
                   e2e_free_port(), e2e_free_base(1, 1));
    dir = e2e_app_dir("hog: exec sleep 3301\n", yaml);
    {
        char *script = e2e_fmt("mount -o bind,remount,ro %s || exit 99; %s check -d %s; echo check=$?; "
                               "exec %s run -d %s",
                               mem_at, e2e_drover_bin, dir, e2e_drover_bin, dir);
        char *argv[] = {"/usr/bin/unshare", "-m", "/bin/sh", "-c", script, NULL};

        code = e2e_run("ro", argv, 10000);
    }
    log = e2e_read_file(e2e_fmt("%s/ro.log", e2e_dir()), NULL);
    ASSERT(log != NULL);
    e2e_log("exit %d:\n%s", code, log);
    if (code == 99) {
        e2e_log("SKIPPED: cannot remount %s read-only in a mount namespace", mem_at);
        return;
    }
    ASSERT(strstr(log, "processes.hog asks for cpu or memory_max limits, but cannot create cgroups in ") != NULL &&
               strstr(log, "Read-only file system: `drover run` would not start") != NULL && strstr(log, "check=1") != NULL,
           "drover check did not tell");
    ASSERT(code == 1, "drover run started anyway");
    ASSERT(strstr(log, e2e_fmt("drover: processes.hog asks for cpu or memory_max limits, but cannot create the "
                               "cgroup %s",
                               mem_at)) != NULL &&
               strstr(log, "(for the memory controller): Read-only file system") != NULL,
           "run's error does not name the path and errno");
    ASSERT(strstr(log, "hog.1 started") == NULL, "an instance started without its limit");
    free(log);
    {
        char *plain = e2e_app_dir("hog: exec sleep 3301\n",
                                  e2e_fmt("listen: 127.0.0.1:%d\nadmin: {listen: off}\nlog: {access: off}\napp: {base_port: %d}\n",
                                          e2e_free_port(), e2e_free_base(1, 1)));
        char *argv[] = {"/usr/bin/unshare", "-m", "/bin/sh", "-c",
                        e2e_fmt("mount -o bind,remount,ro %s && exec %s check -d %s", mem_at, e2e_drover_bin, plain),
                        NULL};

        ASSERT(e2e_run("ro-plain", argv, 10000) == 0, "without limits the read-only cgroups do not matter");
    }
}

/* The app's pid of the first instance in /status (0 while none runs). */
static pid_t status_pid(const char *admin)
{
    struct http_resp r;
    const char *at;
    int pid = 0;

    http_get(admin, "/status", &r);
    at = r.status == 200 ? strstr(r.body, "\"instances\":[{") : NULL;
    at = at != NULL ? strstr(at, "\"pid\":") : NULL;
    if (at != NULL)
        pid = atoi(at + 6);
    resp_free(&r);
    return pid;
}

static bool is_sleep(pid_t pid)
{
    char *comm = e2e_read_file(e2e_fmt("/proc/%d/comm", (int)pid), NULL);
    bool yes = comm != NULL && strcmp(comm, "sleep\n") == 0;

    free(comm);
    return yes;
}

/* A reload that adds a limit: the running instance keeps running as it
 * was (said so in the reload's answer), the restarted one has the limit;
 * a reload asking for limits drover cannot apply is refused. */
E2E_TEST(reload_gives_new_limits_to_new_instances, 40)
{
    int ap = e2e_free_port(), dp = e2e_free_port(), base = e2e_free_base(1, 2);
    char *admin = addr_of(ap), *dir, *out, *path, *text, *cpu_at;
    const char *head = "listen: 127.0.0.1:%d\nadmin: {listen: %s}\nlog: {access: off}\napp: {base_port: %d}\n"
                       "processes:\n  work: {stop_timeout: 1s%s}\n";
    struct e2e_proc *d;
    pid_t before, after;
    long long deadline;
    bool v2;

    if (!cgroups_here())
        return;
    cpu_at = mount_of("cpu", &v2);
    dir = e2e_app_dir("work: exec sleep 3401\n", e2e_fmt(head, dp, admin, base, ""));
    d = e2e_drover_in(dir, NULL, admin);
    deadline = e2e_now_ms() + 5000;
    while (((before = status_pid(admin)) == 0 || !is_sleep(before)) && e2e_now_ms() < deadline)
        e2e_sleep_ms(20);
    ASSERT(before > 0);
    ASSERT(strstr(cgroup_of(before, "cpu", v2), "/drover-") == NULL, "no limit asked, no cgroup");
    e2e_write_file("app/drover.yaml", e2e_fmt(head, dp, admin, base, ", cpu: 0.3"));
    {
        char *argv[] = {(char *)e2e_drover_bin, "reload", "--admin", admin, NULL};

        ASSERT(e2e_run("reload", argv, 10000) == 0);
        out = e2e_read_file(e2e_fmt("%s/reload.log", e2e_dir()), NULL);
        ASSERT(out != NULL && strstr(out, "work: cpu or memory_max changed: new instances get the new limits; "
                                          "`drover restart work` applies them to the running ones") != NULL,
               "%s", out);
        free(out);
    }
    ASSERT(status_pid(admin) == before && strstr(cgroup_of(before, "cpu", v2), "/drover-") == NULL,
           "the running instance was left as it was");
    {
        char *argv[] = {(char *)e2e_drover_bin, "restart", "work", "--admin", admin, NULL};

        ASSERT(e2e_run("restart", argv, 10000) == 0);
    }
    e2e_wait_log(d, "work.1 stopped", 10000); /* its shim is not the new pid either */
    deadline = e2e_now_ms() + 10000;
    /* The app itself (sleep), not its shim before the exec. */
    while (((after = status_pid(admin)) == 0 || after == before || !is_sleep(after)) && e2e_now_ms() < deadline)
        e2e_sleep_ms(50);
    ASSERT(after > 0 && after != before, "never replaced");
    path = cgroup_of(after, "cpu", v2);
    ASSERT(strstr(path, e2e_fmt("/drover-%d/work.", (int)d->pid)) != NULL, "pid %d: %s", (int)after, path);
    text = e2e_read_file(e2e_fmt("%s%s/%s", cpu_at, path, v2 ? "cpu.max" : "cpu.cfs_quota_us"), NULL);
    ASSERT(text != NULL && strncmp(text, "30000", 5) == 0, "%s", text);
    free(text);
    e2e_drover_stop(d);
}
