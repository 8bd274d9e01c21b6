/* One instance's life: spawn (fork, own process group, the shim), ready
 * probe, pool membership, exit and back-off, draining, stopping. */
#include "supervisor/proc.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/cgroup.h"
#include "lib/log.h"
#include "supervisor/logs.h"
#include "supervisor/logstore.h"
#include "supervisor/shim.h"

extern char **environ;

/* An instance that ran this long has its earlier crashes forgiven: the next
 * crash restarts after restart.min again. */
#define BACKOFF_RESET_AFTER 10.0
#define DRAIN_POLL 0.05

const char *const inst_state_names[SV_STATES] = {"starting", "up", "draining", "stopping", "backoff"};


static double seconds(int64_t ms)
{
    return (double)ms / 1000.0;
}

static const struct conf_process *settings(const struct instance *in)
{
    return &in->type->pt->settings;
}

/* ---- pool membership ---- */

static void join_pools(struct instance *in)
{
    struct supervisor *sv = in->type->sv;

    if (!in->type->pt->routed || in->be != NULL)
        return;
    in->be = sv->pools->join(sv->pools_ctx, in->type->pt->name, in->name, in->port,
                             settings(in)->max_inflight);
    if (in->be == NULL)
        log_error("%s: out of memory: not routed to", in->name);
    in->pooled = in->be != NULL;
}

/* Out of the pools at once; new requests go elsewhere. Returns the route
 * table generation without it (0 when it was in none). */
static uint64_t leave_pools(struct instance *in)
{
    uint64_t gen = 0;

    if (in->pooled)
        gen = in->type->sv->pools->leave(in->type->sv->pools_ctx, in->be);
    in->pooled = false;
    return gen;
}

/* Out of the pools, and our reference dropped (it has stopped). */
static void drop_backend(struct instance *in)
{
    leave_pools(in);
    if (in->be != NULL)
        in->type->sv->pools->release(in->be);
    in->be = NULL;
}

/* ---- life and death ---- */

struct instance *instance_new(struct ptype *t, int slot)
{
    struct instance *in = calloc(1, sizeof(*in));
    struct instance **tail = &t->instances;

    if (in == NULL)
        return NULL;
    in->type = t;
    in->slot = slot;
    in->port = plan_port(&t->hold->plan, t->pt, slot);
    snprintf(in->name, sizeof(in->name), "%s.%d", t->pt->name, slot + 1);
    /* The lines of the instance that had the slot before go now. */
    if (t->sv->logs != NULL)
        logstore_reuse(t->sv->logs, in->name);
    ev_init(&in->timer, NULL);
    in->timer.data = in;
    ready_init(in);
    while (*tail != NULL && (*tail)->slot < slot)
        tail = &(*tail)->next;
    in->next = *tail;
    *tail = in;
    return in;
}

void instance_free(struct instance *in)
{
    struct ptype *t = in->type;
    struct supervisor *sv = t->sv;

    for (struct instance **p = &t->instances; *p != NULL; p = &(*p)->next) {
        if (*p == in) {
            *p = in->next;
            break;
        }
    }
    /* Whoever was replacing this one has nothing left to stop. */
    for (struct ptype *u = sv->types; u != NULL; u = u->next)
        for (struct instance *o = u->instances; o != NULL; o = o->next)
            if (o->replaces == in)
                o->replaces = NULL;
    if (in->replaces != NULL)
        rolling_abandoned(in);
    ev_timer_stop(sv->loop, &in->timer);
    ready_stop(in);
    if (in->pid > 0)
        ev_child_stop(sv->loop, &in->child);
    drop_backend(in);
    logpipe_release(in->log);
    logpipe_release(in->log_err);
    limits_release(in);
    free(in);
}

static void describe_exit(int status, char *buf, size_t len)
{
    if (WIFEXITED(status))
        snprintf(buf, len, "exited with code %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, len, "killed by signal %d (SIG%s)", WTERMSIG(status),
                 sigabbrev_np(WTERMSIG(status)) ? sigabbrev_np(WTERMSIG(status)) : "?");
    else
        snprintf(buf, len, "stopped (status %#x)", status);
}

/* SIGTERM to an instance's group, and SIGCONT so that a stopped
 * (SIGSTOPped, hung) process gets it too. */
static void signal_stop(pid_t pgid)
{
    /* SIGCONT first: sent after SIGTERM it can reach a process that is
     * already exiting and being ptrace-attached (LeakSanitizer does that
     * at exit), discarding the attach's SIGSTOP, and both wait forever. */
    kill(-pgid, SIGCONT);
    kill(-pgid, SIGTERM);
}

/* How a stop drover asked for ended: "stopped (SIGTERM)", or with what
 * the app did instead of dying of it. */
static void describe_stop(const struct instance *in, int status, char *buf, size_t len)
{
    const char *sent = in->killed ? "SIGKILL after stop_timeout" : "SIGTERM";
    char how[64];

    if ((WIFSIGNALED(status) && (WTERMSIG(status) == SIGTERM || WTERMSIG(status) == SIGKILL)) ||
        (WIFEXITED(status) && (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 128 + SIGTERM))) {
        snprintf(buf, len, "stopped (%s)", sent);
        return;
    }
    describe_exit(status, how, sizeof(how));
    snprintf(buf, len, "stopped (%s; %s)", sent, how);
}

/* Whatever the instance's shim left behind (its group, or processes
 * adopted from it) gets sig. True when something is left. */
static bool leftovers_signal(struct instance *in, pid_t pgid, int sig)
{
    pid_t known[1024];
    size_t n = supervisor_pids(in->type->sv, known, 1024);
    bool left = false;

    if (family_alive(pgid)) {
        left = true;
        if (sig == SIGTERM)
            signal_stop(pgid);
        else if (sig != 0)
            kill(-pgid, sig);
    }
    if (family_signal_orphans(known, n, sig) > 0)
        left = true;
    return left;
}

#define LEFTOVER_POLL 0.05

/* The back-off is over: start again once nothing of the last run is left
 * (SIGKILL when it outlives stop_timeout) and the port is free. */
static void backoff_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct instance *in = t->data;
    double retry = seconds(settings(in)->restart_min_ms) > 1 ? seconds(settings(in)->restart_min_ms)
                                                             : 1.0;
    char who[96];

    (void)revents;
    if (in->leftover_pgid != 0) {
        if (leftovers_signal(in, in->leftover_pgid, 0)) {
            if (ev_now(loop) >= in->leftover_until && !in->leftover_killed) {
                log_warn("%s: what its last run left did not stop within %lldms of SIGTERM: SIGKILL",
                         in->name, (long long)settings(in)->stop_timeout_ms);
                leftovers_signal(in, in->leftover_pgid, SIGKILL);
                in->leftover_killed = true;
            }
            ev_timer_set(t, LEFTOVER_POLL, 0.);
            ev_timer_start(loop, t);
            return;
        }
        in->leftover_pgid = 0;
    }
    if (family_port_taken(in->port, who, sizeof(who))) {
        if (!in->port_warned)
            log_warn("%s cannot start: port %d is taken by %s; trying again every %.1fs", in->name,
                     in->port, who, retry);
        in->port_warned = true;
        ev_timer_set(t, retry, 0.);
        ev_timer_start(loop, t);
        return;
    }
    if (in->port_warned)
        log_info("%s: port %d is free again", in->name, in->port);
    in->port_warned = false;
    instance_spawn(in);
}

static void child_cb(struct ev_loop *loop, ev_child *c, int revents)
{
    struct instance *in = c->data;
    struct ptype *t = in->type;
    struct supervisor *sv = t->sv;
    const struct conf_process *s = settings(in);
    double now = ev_now(loop), up = now - in->started, delay;
    bool on_purpose = sv->stopping || in->retire || t->stopped || t->removed;
    pid_t pgid = in->pid;
    char how[128];

    (void)revents;
    ev_child_stop(loop, c);
    ev_timer_stop(loop, &in->timer);
    ready_stop(in);
    drop_backend(in);
    logpipe_release(in->log);
    logpipe_release(in->log_err);
    in->log = in->log_err = NULL;
    if (on_purpose && in->state == INST_STOPPING)
        describe_stop(in, c->rstatus, how, sizeof(how));
    else
        describe_exit(c->rstatus, how, sizeof(how));
    limits_exited(in, c->rstatus, how, sizeof(how));
    snprintf(in->exit_how, sizeof(in->exit_how), "%s", how);
    in->exit_how_at = now;
    in->pid = 0;
    in->exit_status = c->rstatus;
    in->exit_at = ev_time();
    if (on_purpose) {
        log_info("%s %s after %.1fs", in->name, how, up);
        /* The shim stops what the app leaves; a shim killed from outside
         * cannot: nothing of the instance outlives it here. */
        if (leftovers_signal(in, pgid, SIGKILL) && !in->killed)
            log_warn("%s: its shim was gone before its processes: killed them", in->name);
        instance_free(in);
        rolling_step(t);
        supervisor_check_stopped(sv);
        return;
    }
    /* A crash: back off exponentially, forgiven after a good long run. */
    if (in->state == INST_UP && now - in->up_since >= BACKOFF_RESET_AFTER)
        in->crashes = 0;
    delay = seconds(s->restart_min_ms);
    for (unsigned i = 0; i < in->crashes && delay < seconds(s->restart_max_ms); i++)
        delay *= 2;
    if (delay > seconds(s->restart_max_ms))
        delay = seconds(s->restart_max_ms);
    in->crashes++;
    in->restarts++;
    counter_add(&t->restarts, 1);
    log_warn("%s %s after %.1fs; restart %u in %.0fms", in->name, how, up, in->restarts,
             delay * 1000.0);
    /* Its shim died before the app (killed from outside): stop the rest
     * before a new run needs the port. */
    if (leftovers_signal(in, pgid, SIGTERM)) {
        log_warn("%s: its process group %d outlived its shim: SIGTERM, then SIGKILL after %lldms",
                 in->name, (int)pgid, (long long)s->stop_timeout_ms);
        in->leftover_pgid = pgid;
        in->leftover_until = now + seconds(s->stop_timeout_ms);
        in->leftover_killed = false;
    }
    in->state = INST_BACKOFF;
    ev_timer_set(&in->timer, delay, 0.);
    in->timer.cb = backoff_cb;
    ev_timer_start(loop, &in->timer);
}

static void ready_timeout_cb(struct ev_loop *loop, ev_timer *t, int revents);

/* Starts in's process: fork, own process group, output into a log pipe,
 * then the shim (see shim.c) runs /bin/sh -c command in the app's dir. */
void instance_spawn(struct instance *in)
{
    struct supervisor *sv = in->type->sv;
    const struct plan_type *pt = in->type->pt;
    char parent[16], grace[24];
    struct envb env = {NULL, 0, 0};
    int fds[2] = {-1, -1}, efds[2] = {-1, -1};
    struct logsrc *src;
    char *argv[6], why[1024];
    pid_t pid;

    snprintf(parent, sizeof(parent), "%d", (int)getpid());
    snprintf(grace, sizeof(grace), "%lld", (long long)settings(in)->stop_timeout_ms);
    /* This run starts under the type's rollout now in force (a crash
     * restart after a rolling restart runs the new config too). */
    in->generation = in->type->generation;
    argv[0] = sv->self;
    argv[1] = SHIM_COMMAND;
    argv[2] = parent;
    argv[3] = grace;
    argv[4] = (char *)pt->command;
    argv[5] = NULL;
    if (env_build(in, &env) < 0 || pipe2(fds, O_CLOEXEC) < 0 || pipe2(efds, O_CLOEXEC) < 0) {
        log_error("%s: cannot start: %s", in->name, strerror(errno));
        goto fail;
    }
    if (limits_create(in, why, sizeof(why)) < 0) {
        log_error("%s: cannot start: %s", in->name, why);
        goto fail;
    }
    pid = fork();
    if (pid < 0) {
        log_error("%s: fork: %s", in->name, strerror(errno));
        goto fail;
    }
    if (pid == 0) {
        /* Only async-signal-safe calls from here: other threads may hold locks. */
        sigset_t none;
        const char *failed = "";
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

        setpgid(0, 0);
        /* In its cgroup before the exec: the shim, the app and all it
         * starts are limited from their first instruction. */
        if (in->cg != NULL && cgroup_enter(in->cg, &failed) < 0) {
            static const char msg[] = "drover: cannot join the instance's cgroup ";

            if (write(efds[1], msg, sizeof(msg) - 1) < 0 || write(efds[1], failed, strlen(failed)) < 0 ||
                write(efds[1], "\n", 1) < 0) {
            }
            _exit(126);
        }
        if (null >= 0)
            dup2(null, STDIN_FILENO);
        dup2(fds[1], STDOUT_FILENO);
        dup2(efds[1], STDERR_FILENO);
        /* drover's own descriptors are close-on-exec; these are whatever
         * drover inherited from its parent, which the app has no use for. */
        if (close_range(3, ~0U, 0) < 0)
            for (int fd = 3; fd < 1024; fd++)
                close(fd);
        signal(SIGPIPE, SIG_DFL);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (chdir(pt->dir) < 0) {
            static const char msg[] = "drover: cannot enter the app directory\n";

            if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
            }
            _exit(126);
        }
        execve(sv->self, argv, env.v);
        _exit(127);
    }
    /* Both sides set the group, so signals reach it whichever runs first. */
    setpgid(pid, pid);
    if (in->cg != NULL)
        cgroup_close_procs(in->cg);
    close(fds[1]);
    close(efds[1]);
    fds[1] = efds[1] = -1;
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    fcntl(efds[0], F_SETFL, O_NONBLOCK);
    env_free(&env);
    src = sv->logs != NULL ? logstore_source(sv->logs, in->name, pt->name) : NULL;
    in->log = logpipe_new(sv->loop, fds[0], in->name, pt->index, LOG_STDOUT, sv->logs, src);
    in->log_err = logpipe_new(sv->loop, efds[0], in->name, pt->index, LOG_STDERR, sv->logs, src);
    in->pid = pid;
    in->started = ev_now(sv->loop);
    in->killed = false;
    ev_child_init(&in->child, child_cb, pid, 0);
    in->child.data = in;
    ev_child_start(sv->loop, &in->child);
    log_info("%s started on port %d (pid %d)", in->name, in->port, (int)pid);
    if (pt->routed) {
        in->state = INST_STARTING;
        ev_timer_set(&in->timer, seconds(settings(in)->ready_timeout_ms), 0.);
        in->timer.cb = ready_timeout_cb;
        ev_timer_start(sv->loop, &in->timer);
        ready_start(in);
    } else {
        in->state = INST_UP;
        in->up_since = in->started;
    }
    return;
fail:
    env_free(&env);
    limits_release(in);
    if (fds[0] >= 0)
        close(fds[0]);
    if (fds[1] >= 0)
        close(fds[1]);
    if (efds[0] >= 0)
        close(efds[0]);
    if (efds[1] >= 0)
        close(efds[1]);
    /* Try again later, like a crash. */
    in->state = INST_BACKOFF;
    in->restarts++;
    ev_timer_set(&in->timer, seconds(settings(in)->restart_max_ms), 0.);
    in->timer.cb = backoff_cb;
    ev_timer_start(sv->loop, &in->timer);
}

/* ---- stopping ---- */

static void kill_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct instance *in = t->data;

    (void)loop;
    (void)revents;
    if (in->pid > 0 && !in->killed) {
        log_warn("%s did not stop within %lldms of SIGTERM: SIGKILL", in->name,
                 (long long)settings(in)->stop_timeout_ms);
        kill(-in->pid, SIGKILL);
        in->killed = true;
    }
}

void instance_terminate(struct instance *in)
{
    struct supervisor *sv = in->type->sv;

    ev_timer_stop(sv->loop, &in->timer);
    ready_stop(in);
    leave_pools(in);
    if (in->pid <= 0) {
        struct ptype *t = in->type;

        instance_free(in); /* backing off: nothing runs */
        rolling_step(t);
        supervisor_check_stopped(sv);
        return;
    }
    in->state = INST_STOPPING;
    if (sv->stop_now || settings(in)->stop_timeout_ms == 0) {
        kill(-in->pid, SIGKILL);
        in->killed = true;
        return;
    }
    signal_stop(in->pid);
    ev_timer_set(&in->timer, seconds(settings(in)->stop_timeout_ms), 0.);
    in->timer.cb = kill_cb;
    ev_timer_start(sv->loop, &in->timer);
}

static void drain_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct instance *in = t->data;
    struct supervisor *sv = in->type->sv;

    (void)revents;
    /* Until every worker has tables without it, one may still pick it. */
    if (ev_now(loop) < in->drain_until &&
        (in->be == NULL ? false : !sv->pools->drained(sv->pools_ctx, in->be, in->drain_gen)))
        return; /* repeating: look again */
    instance_terminate(in);
}

void instance_retire(struct instance *in)
{
    struct supervisor *sv = in->type->sv;

    in->retire = true;
    in->roll = false;
    if (in->state == INST_DRAINING || in->state == INST_STOPPING)
        return;
    if (!in->pooled || sv->stop_now) {
        instance_terminate(in);
        return;
    }
    /* Out of the pools; our reference stays to watch its in-flight count. */
    in->drain_gen = leave_pools(in);
    in->drain_until = ev_now(sv->loop) + sv->drain_limit;
    in->state = INST_DRAINING;
    ready_stop(in);
    ev_timer_stop(sv->loop, &in->timer);
    ev_timer_set(&in->timer, DRAIN_POLL, DRAIN_POLL);
    in->timer.cb = drain_cb;
    ev_timer_start(sv->loop, &in->timer);
}

/* ---- readiness ---- */

void instance_ready(struct instance *in)
{
    struct supervisor *sv = in->type->sv;

    ev_timer_stop(sv->loop, &in->timer);
    in->state = INST_UP;
    in->up_since = ev_now(sv->loop);
    join_pools(in);
    log_info("%s ready on port %d after %.2fs", in->name, in->port, in->up_since - in->started);
    rolling_ready(in);
}

static void ready_timeout_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct instance *in = t->data;

    (void)loop;
    (void)revents;
    log_warn("%s not ready within %lldms: stopping it to start again", in->name,
             (long long)settings(in)->ready_timeout_ms);
    ready_stop(in);
    /* Its exit counts as a crash: restarted with back-off. */
    in->state = INST_STOPPING;
    signal_stop(in->pid);
    ev_timer_set(&in->timer, seconds(settings(in)->stop_timeout_ms), 0.);
    in->timer.cb = kill_cb;
    ev_timer_start(in->type->sv->loop, &in->timer);
}

/* Resident bytes of every process in pgid's group except the shim itself. */
void instance_rss(const pid_t *pgids, unsigned long long *rss, size_t n)
{
    DIR *d = opendir("/proc");
    struct dirent *de;
    long page = sysconf(_SC_PAGESIZE);

    for (size_t i = 0; i < n; i++)
        rss[i] = 0;
    if (d == NULL || n == 0) {
        if (d != NULL)
            closedir(d);
        return;
    }
    while ((de = readdir(d)) != NULL) {
        char path[288], buf[1024];
        const char *p;
        long pgrp = 0, pages = 0;
        ssize_t len;
        int fd, pid;

        if (de->d_name[0] < '1' || de->d_name[0] > '9')
            continue;
        pid = atoi(de->d_name);
        snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        len = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (len <= 0)
            continue;
        buf[len] = '\0';
        /* After "(comm)": state ppid pgrp ... rss is field 24 of the line. */
        p = strrchr(buf, ')');
        if (p == NULL ||
            sscanf(p + 2, "%*c %*d %ld %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d "
                          "%*d %*u %*u %ld",
                   &pgrp, &pages) != 2)
            continue;
        for (size_t i = 0; i < n; i++)
            if (pgrp == pgids[i] && pid != pgids[i] && pages > 0)
                rss[i] += (unsigned long long)pages * (unsigned long long)page;
    }
    closedir(d);
}
