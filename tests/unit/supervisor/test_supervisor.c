/* supervisor/: the lifecycle of instances, with real child processes and a
 * fake table of pool functions that records every join, leave and release.
 *
 * Each test writes a Procfile and a drover.yaml to a fresh temp directory
 * and builds the plan with the real parsers: "web" (routed) runs the repo's
 * backend on $PORT, so the ready probe (GET /) passes once it listens;
 * "worker" (not routed) runs `exec sleep 30`. The instances run under the
 * built drover's shim (supervisor_set_shim), found beside this test binary:
 * <build>/tests/unit/supervisor/test_supervisor → <build>/drover, so the
 * sanitizer build uses its own drover and backend (`make unit` builds both).
 * Ports are a free block away from the ephemeral range.
 *
 * Tests run the default loop (child watchers live there) one iteration at
 * a time until what they wait for has happened, within a deadline of a few
 * seconds, then assert what the pools were told and in which order. The
 * fixture always stops the supervisor at once and waits for every child to
 * be reaped; the shim takes the app down with it should the test process
 * die first. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ev.h>

#include "tests/unit/spin.h"
#include "conf/config.h"
#include "lib/log.h"
#include "lib/sbuf.h"
#include "conf/formation.h"
#include "supervisor/supervisor.h"

#define DEADLINE 8.0 /* seconds; an instance starts and is ready in well under one */

static struct ev_loop *loop;
static struct supervisor *sv;
static char dir[PATH_MAX];
static char bindir[PATH_MAX];   /* where drover and backend were built */
static int base_port;

/* ---- the fake pools ---------------------------------------------------- */

enum { P_JOIN, P_LEAVE, P_RELEASE };

struct member {
    char type[32], name[32];
    int port;
    unsigned max_inflight;
    bool reachable;             /* its port accepted a connection when it joined */
    bool left, released;
};

static struct pools {
    struct member m[32];
    int nm;
    struct {
        int kind;
        struct member *m;
    } ev[128];
    int nev;
    uint64_t gen;
    bool drained;               /* what drained() answers */
    int drained_calls;
    bool misuse;                /* a leave or release after release, or a double release */
} pl;

static bool port_accepts(int port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool ok;

    sin.sin_port = htons((uint16_t)port);
    ok = fd >= 0 && connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

static void record(int kind, struct member *m)
{
    cr_assert_lt(pl.nev, 128);
    pl.ev[pl.nev].kind = kind;
    pl.ev[pl.nev].m = m;
    pl.nev++;
}

static struct pool_member *fake_join(void *ctx, const char *type, const char *name, int port,
                                     unsigned max_inflight)
{
    struct member *m;

    cr_assert_eq(ctx, &pl);
    cr_assert_lt(pl.nm, 32);
    m = &pl.m[pl.nm++];
    snprintf(m->type, sizeof(m->type), "%s", type);
    snprintf(m->name, sizeof(m->name), "%s", name);
    m->port = port;
    m->max_inflight = max_inflight;
    m->reachable = port_accepts(port);
    record(P_JOIN, m);
    return (struct pool_member *)m;
}

static uint64_t fake_leave(void *ctx, struct pool_member *pm)
{
    struct member *m = (struct member *)pm;

    cr_assert_eq(ctx, &pl);
    if (m->released || m->left)
        pl.misuse = true;
    m->left = true;
    record(P_LEAVE, m);
    return ++pl.gen;
}

static bool fake_drained(void *ctx, struct pool_member *pm, uint64_t generation)
{
    (void)ctx;
    (void)pm;
    (void)generation;
    pl.drained_calls++;
    return pl.drained;
}

static void fake_set_max_inflight(struct pool_member *pm, unsigned max_inflight)
{
    ((struct member *)pm)->max_inflight = max_inflight;
}

/* Every member passes its health checks (restart_unhealthy asks every
 * 0.25 s: without this a test that runs that long called NULL). */
static bool fake_healthy(const struct pool_member *pm)
{
    (void)pm;
    return true;
}

static long fake_inflight(const struct pool_member *pm)
{
    (void)pm;
    return 0;
}

static uint64_t fake_requests(const struct pool_member *pm)
{
    (void)pm;
    return 0;
}

static void fake_release(struct pool_member *pm)
{
    struct member *m = (struct member *)pm;

    if (m->released)
        pl.misuse = true;
    m->released = true;
    record(P_RELEASE, m);
}

static const struct pool_ops fake_pools = {
    .join = fake_join,
    .leave = fake_leave,
    .drained = fake_drained,
    .set_max_inflight = fake_set_max_inflight,
    .healthy = fake_healthy,
    .inflight = fake_inflight,
    .requests = fake_requests,
    .release = fake_release,
};

/* Calls of one kind (for one instance name, or any when name is NULL). */
static int calls(int kind, const char *name)
{
    int n = 0;

    for (int i = 0; i < pl.nev; i++)
        n += pl.ev[i].kind == kind && (name == NULL || strcmp(pl.ev[i].m->name, name) == 0);
    return n;
}

/* The kinds of the calls for name, in order, as a string: "JLR" ... */
static const char *history(const char *name)
{
    static char s[129];
    size_t n = 0;

    for (int i = 0; i < pl.nev; i++)
        if (strcmp(pl.ev[i].m->name, name) == 0)
            s[n++] = "JLR"[pl.ev[i].kind];
    s[n] = '\0';
    return s;
}

/* The most recent member that joined under name. */
static struct member *last_join(const char *name)
{
    for (int i = pl.nev - 1; i >= 0; i--)
        if (pl.ev[i].kind == P_JOIN && strcmp(pl.ev[i].m->name, name) == 0)
            return pl.ev[i].m;
    return NULL;
}

/* ---- snapshots --------------------------------------------------------- */

struct inst {
    bool found;
    int pid, port;                  /* pid: the shim (the snapshot's pgid) */
    int app;                        /* the snapshot's pid: the app under the shim */
    char state[16];
    unsigned restarts;
};

struct typeinfo {
    bool found, stopped;
    int want;
    size_t ninstances;
    uint64_t restarts;
};

static struct typeinfo type_info(const char *type)
{
    struct sv_snapshot *snap = supervisor_snapshot(sv);
    struct typeinfo ti = {0};

    cr_assert_not_null(snap);
    for (size_t i = 0; i < snap->ntypes; i++) {
        const struct sv_type_view *t = &snap->types[i];

        if (strcmp(t->type, type) != 0)
            continue;
        ti.found = true;
        ti.stopped = t->stopped;
        ti.want = t->want;
        ti.ninstances = t->ninstances;
        ti.restarts = t->restarts;
    }
    free(snap);
    cr_assert(ti.found, "no type %s in the snapshot", type);
    return ti;
}

static struct inst inst_info(const char *name)
{
    struct sv_snapshot *snap = supervisor_snapshot(sv);
    struct inst in = {0};

    cr_assert_not_null(snap);
    for (size_t i = 0; i < snap->ntypes; i++) {
        for (size_t k = 0; k < snap->types[i].ninstances; k++) {
            const struct sv_instance_view *v = &snap->types[i].instances[k];

            if (strcmp(v->name, name) != 0)
                continue;
            in.found = true;
            in.pid = v->pgid;
            in.app = v->pid;
            in.port = v->port;
            in.restarts = v->restarts;
            snprintf(in.state, sizeof(in.state), "%s", v->state);
        }
    }
    free(snap);
    return in;
}

/* A process group that is entirely gone (reaped, nothing left in it). */
static bool group_gone(int pgid)
{
    return kill(-pgid, 0) < 0 && errno == ESRCH;
}

/* No process of the group runs any more: it may still hold zombies, the
 * app of a group that got SIGKILL all at once, orphaned with its shim and
 * left for init to reap. */
static bool group_dead(int pgid)
{
    DIR *d = opendir("/proc");
    struct dirent *de;
    bool dead = true;

    cr_assert_not_null(d);
    while (dead && (de = readdir(d)) != NULL) {
        char path[288], buf[512], state;
        const char *p;
        long pgrp;
        FILE *fp;
        size_t n;

        if (de->d_name[0] < '1' || de->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
        if ((fp = fopen(path, "r")) == NULL)
            continue;
        n = fread(buf, 1, sizeof(buf) - 1, fp);
        fclose(fp);
        buf[n] = '\0';
        p = strrchr(buf, ')');
        if (p != NULL && sscanf(p + 2, "%c %*d %ld", &state, &pgrp) == 2 && pgrp == pgid &&
            state != 'Z')
            dead = false;
    }
    closedir(d);
    return dead;
}

/* The app the shim (pid) runs: its only child. 0 when there is none. */
static int app_of(int shim)
{
    char path[64];
    FILE *fp;
    int pid = 0;

    snprintf(path, sizeof(path), "/proc/%d/task/%d/children", shim, shim);
    fp = fopen(path, "r");
    if (fp == NULL)
        return 0;
    if (fscanf(fp, "%d", &pid) != 1)
        pid = 0;
    fclose(fp);
    return pid;
}

/* ---- the loop --------------------------------------------------------- */

static int want_n;
static const char *want_name;

static bool spin(bool (*pred)(void))
{
    return spin_until(loop, DEADLINE, pred);
}

static int gone_pgids[2];

static bool both_gone(void)
{
    return group_gone(gone_pgids[0]) && group_gone(gone_pgids[1]);
}

static bool first_gone(void)
{
    return group_gone(gone_pgids[0]);
}

/* The group's last members may be zombies the loop has yet to reap (a
 * busy machine shows it): it is gone once they are. */
static bool wait_group_gone(int pgid)
{
    gone_pgids[0] = pgid;
    return spin(first_gone);
}

static bool joined(void)
{
    return calls(P_JOIN, want_name) >= want_n;
}

static bool released(void)
{
    return calls(P_RELEASE, want_name) >= want_n;
}

/* want_n calls of join for want_name, within the deadline. */
static bool wait_joins(const char *name, int n)
{
    want_name = name;
    want_n = n;
    return spin(joined);
}

static bool wait_releases(const char *name, int n)
{
    want_name = name;
    want_n = n;
    return spin(released);
}

static bool has_n_instances(void)
{
    return type_info(want_name).ninstances == (size_t)want_n;
}

static bool wait_instances(const char *type, int n)
{
    want_name = type;
    want_n = n;
    return spin(has_n_instances);
}

static bool drained_asked_thrice(void)
{
    return pl.drained_calls >= 3;
}

static int done_calls;
static bool done_seen(void)
{
    return done_calls > 0;
}

static void done_cb(void *arg)
{
    cr_assert_eq(arg, &done_calls);
    done_calls++;
}

/* ---- set-up ------------------------------------------------------------ */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void put(const char *name, const char *text)
{
    char path[PATH_MAX + 64];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fp = fopen(path, "w");
    cr_assert_not_null(fp, "fopen %s", path);
    cr_assert_eq(fputs(text, fp) >= 0, true);
    fclose(fp);
}

static bool port_free(int port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool ok;

    sin.sin_port = htons((uint16_t)port);
    ok = fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

/* A base port whose web slots (base..base+2) and worker slots (base+100..)
 * nobody uses, below the ephemeral range so no outgoing connection takes
 * one meanwhile. */
static int pick_base_port(void)
{
    unsigned seed = (unsigned)getpid() * 2654435761u ^ (unsigned)(ev_time() * 1000.0);

    for (int tries = 0; tries < 200; tries++) {
        int p = 20000 + (int)((seed + (unsigned)tries * 7919u) % 9000u);
        bool ok = true;

        for (int k = 0; k < 3 && ok; k++)
            ok = port_free(p + k) && port_free(p + 100 + k);
        if (ok)
            return p;
    }
    cr_assert_fail("no free block of ports");
    return -1;
}

/* The directory the build put drover and backend in. */
static void find_build(void)
{
    char self[PATH_MAX], path[PATH_MAX + 16];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

    cr_assert_gt(n, 0);
    self[n] = '\0';
    /* <build>/tests/unit/supervisor/test_supervisor */
    for (int up = 0; up < 4; up++) {
        char *slash = strrchr(self, '/');

        cr_assert_not_null(slash);
        *slash = '\0';
    }
    snprintf(bindir, sizeof(bindir), "%s", self);
    snprintf(path, sizeof(path), "%s/drover", bindir);
    cr_assert_eq(access(path, X_OK), 0, "%s not built (make unit builds it)", path);
    snprintf(path, sizeof(path), "%s/backend", bindir);
    cr_assert_eq(access(path, X_OK), 0, "%s not built (make unit builds it)", path);
}

/* A supervisor for the Procfile and config of this test (web and worker,
 * counts from -m scale when not NULL), not started yet. */
static void make_supervisor(const char *scale)
{
    char text[PATH_MAX + 512], err[4096], path[PATH_MAX + 64], shim[PATH_MAX + 16];
    struct formation f;
    struct scale_entry e[8];
    size_t ne = 0;
    struct plan *plan;
    struct conf *conf;

    snprintf(text, sizeof(text), "web: exec %s/backend -q\nworker: exec sleep 30\n", bindir);
    put("Procfile", text);
    snprintf(text, sizeof(text),
             "admin:\n  listen: \"off\"\n"
             "app:\n  base_port: %d\n"
             "processes:\n"
             "  web:\n"
             "    ready:\n      path: /\n      timeout: 10s\n"
             "    stop_timeout: 2s\n"
             "    restart:\n      min: 100ms\n      max: 200ms\n"
             "  worker:\n"
             "    stop_timeout: 2s\n"
             "    restart:\n      min: 100ms\n      max: 200ms\n"
             "routes:\n  - path: /\n    process: web\n",
             base_port);
    put("drover.yaml", text);
    snprintf(path, sizeof(path), "%s/drover.yaml", dir);
    conf = conf_load(path, err, sizeof(err));
    cr_assert_not_null(conf, "config: %s", err);
    memset(&f, 0, sizeof(f));
    cr_assert_eq(formation_load(conf->app.dir, NULL, &f, err, sizeof(err)), 0, "%s", err);
    if (scale != NULL)
        cr_assert_eq(formation_parse_scale(scale, e, 8, &ne, err, sizeof(err)), 0, "%s", err);
    plan = calloc(1, sizeof(*plan));
    cr_assert_not_null(plan);
    cr_assert_eq(plan_build(conf, &f, e, ne, plan, err, sizeof(err)), 0, "plan: %s", err);
    formation_free(&f);
    conf_free(conf);
    sv = supervisor_new(loop, &fake_pools, &pl, plan);
    cr_assert_not_null(sv);
    snprintf(shim, sizeof(shim), "%s/drover", bindir);
    cr_assert_eq(supervisor_set_shim(sv, shim), 0);
}

static void start(void)
{
    make_supervisor(NULL);
    supervisor_start(sv);
}

/* web.1 is up and in the pools. */
static void start_and_wait_ready(void)
{
    start();
    cr_assert(wait_joins("web.1", 1), "web.1 never joined its pools");
}

static void setup(void)
{
    char tmpl[] = "/tmp/drover-supervisor-XXXXXX";

    log_set_level(LOG_WARN);
    cr_assert_not_null(mkdtemp(tmpl));
    cr_assert_not_null(realpath(tmpl, dir));
    find_build();
    base_port = pick_base_port();
    loop = ev_default_loop(0);
    cr_assert_not_null(loop);
    memset(&pl, 0, sizeof(pl));
    pl.drained = true;
    done_calls = 0;
    sv = NULL;
}

static void teardown(void)
{
    if (sv != NULL) {
        supervisor_stop(sv, true, done_cb, &done_calls);
        spin(done_seen);
        supervisor_free(sv);
        sv = NULL;
    }
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(supervisor, .init = setup, .fini = teardown, .timeout = 60);

/* ---- readiness --------------------------------------------------------- */

Test(supervisor, a_routed_instance_joins_its_pools_once_ready)
{
    struct member *m;
    struct inst web, worker;

    start();
    /* Spawned; the routed one waits for its probe, the other is up. */
    web = inst_info("web.1");
    cr_assert(web.found);
    cr_assert_str_eq(web.state, "starting");
    cr_assert_gt(web.pid, 0);
    cr_assert_eq(web.port, base_port);
    worker = inst_info("worker.1");
    cr_assert_str_eq(worker.state, "up");
    cr_assert_eq(worker.port, base_port + 100);
    cr_assert_eq(pl.nev, 0, "joined before its ready probe ran");

    cr_assert(wait_joins("web.1", 1), "web.1 never joined its pools");
    m = last_join("web.1");
    cr_assert_str_eq(m->type, "web");
    cr_assert_eq(m->port, base_port);
    cr_assert_eq(m->max_inflight, 0);
    cr_assert(m->reachable, "joined before it listened");
    cr_assert_str_eq(inst_info("web.1").state, "up");
    cr_assert_eq(inst_info("web.1").pid, web.pid);
    /* Only routed types go into pools. */
    cr_assert_eq(calls(P_JOIN, "worker.1"), 0);
    cr_assert_eq(calls(P_JOIN, NULL), 1);
}

/* ---- crashes ----------------------------------------------------------- */

Test(supervisor, a_killed_app_leaves_its_pools_and_joins_again_after_the_backoff)
{
    struct inst before, during, after;
    int app;

    start_and_wait_ready();
    before = inst_info("web.1");
    app = app_of(before.pid);
    cr_assert_gt(app, 0, "no app under the shim %d", before.pid);
    cr_assert_eq(before.app, app, "the snapshot's pid is not the app's");
    cr_assert_eq(kill(app, SIGKILL), 0);

    cr_assert(wait_releases("web.1", 1), "web.1 stayed in its pools");
    cr_assert_str_eq(history("web.1"), "JLR");
    during = inst_info("web.1");
    cr_assert_str_eq(during.state, "backoff");
    cr_assert_eq(during.pid, 0);
    cr_assert_eq(during.restarts, 1);
    cr_assert(wait_group_gone(before.pid));

    cr_assert(wait_joins("web.1", 2), "web.1 did not come back");
    cr_assert_str_eq(history("web.1"), "JLRJ");
    cr_assert_eq(last_join("web.1")->port, base_port);
    cr_assert(last_join("web.1")->reachable);
    after = inst_info("web.1");
    cr_assert_str_eq(after.state, "up");
    cr_assert_gt(after.pid, 0);
    cr_assert_neq(after.pid, before.pid);
    cr_assert_eq(type_info("web").restarts, 1);
    cr_assert_not(pl.misuse);
}

static int old_pid;

static bool worker_back(void)
{
    struct inst in = inst_info("worker.1");

    return in.pid > 0 && in.pid != old_pid && strcmp(in.state, "up") == 0;
}

Test(supervisor, a_crashed_worker_is_restarted_without_pools)
{
    start_and_wait_ready();
    old_pid = inst_info("worker.1").pid;
    cr_assert_gt(old_pid, 0);
    cr_assert_eq(kill(-old_pid, SIGKILL), 0);
    cr_assert(spin(worker_back), "worker.1 did not come back");
    cr_assert_eq(inst_info("worker.1").restarts, 1);
    cr_assert_eq(type_info("worker").restarts, 1);
    cr_assert(group_dead(old_pid));
    cr_assert_eq(calls(P_JOIN, "worker.1") + calls(P_LEAVE, "worker.1"), 0);
    /* web.1 was not touched. */
    cr_assert_str_eq(history("web.1"), "J");
}

/* ---- stopping everything ----------------------------------------------- */

Test(supervisor, stop_takes_every_instance_out_and_calls_done_once_all_are_reaped)
{
    int web_pid, worker_pid;

    start_and_wait_ready();
    web_pid = inst_info("web.1").pid;
    worker_pid = inst_info("worker.1").pid;
    supervisor_stop(sv, false, done_cb, &done_calls);
    cr_assert_eq(done_calls, 0, "done before the children were reaped");
    /* Out of the pools at once, before anything exited. */
    cr_assert_eq(calls(P_LEAVE, "web.1"), 1);
    cr_assert_str_eq(inst_info("web.1").state, "stopping");
    cr_assert(spin(done_seen), "done not called within %.0fs", DEADLINE);
    cr_assert_eq(done_calls, 1);
    cr_assert_str_eq(history("web.1"), "JLR");
    /* What a SIGKILL left is reaped from the loop (we are its subreaper). */
    gone_pgids[0] = web_pid;
    gone_pgids[1] = worker_pid;
    cr_assert(spin(both_gone), "web.1's or worker.1's processes are still there");
    cr_assert_eq(type_info("web").ninstances, 0);
    cr_assert_eq(type_info("worker").ninstances, 0);
    /* Nothing comes back, and done is not called again. */
    for (int i = 0; i < 5; i++)
        ev_run(loop, EVRUN_NOWAIT);
    supervisor_stop(sv, false, NULL, NULL);
    cr_assert_eq(done_calls, 1);
    cr_assert_eq(calls(P_JOIN, NULL), 1);
    cr_assert_not(pl.misuse);
}

Test(supervisor, stop_with_nothing_running_calls_done_at_once)
{
    make_supervisor("web=0,worker=0");
    supervisor_start(sv);
    cr_assert_eq(type_info("web").ninstances, 0);
    supervisor_stop(sv, false, done_cb, &done_calls);
    cr_assert_eq(done_calls, 1);
}

Test(supervisor, stop_now_kills_at_once_and_still_reaps_before_done)
{
    int web_pid;

    start_and_wait_ready();
    web_pid = inst_info("web.1").pid;
    supervisor_stop(sv, true, done_cb, &done_calls);
    cr_assert_eq(done_calls, 0);
    cr_assert(spin(done_seen));
    cr_assert_eq(done_calls, 1);
    cr_assert_str_eq(history("web.1"), "JLR");
    cr_assert(group_dead(web_pid));
}

/* ---- scaling ----------------------------------------------------------- */

Test(supervisor, scale_up_starts_and_pools_a_new_instance)
{
    struct typeinfo t;

    start_and_wait_ready();
    cr_assert_eq(supervisor_scale(sv, "web", 2), 0);
    t = type_info("web");
    cr_assert_eq(t.want, 2);
    cr_assert_eq(t.ninstances, 2);
    cr_assert_str_eq(inst_info("web.2").state, "starting");
    cr_assert_eq(inst_info("web.2").port, base_port + 1);
    cr_assert(wait_joins("web.2", 1), "web.2 never joined");
    cr_assert_eq(last_join("web.2")->port, base_port + 1);
    cr_assert(last_join("web.2")->reachable);
    cr_assert_str_eq(inst_info("web.2").state, "up");
    cr_assert_str_eq(history("web.1"), "J", "web.1 was disturbed");
}

Test(supervisor, scale_down_retires_the_highest_slot)
{
    int pid2;

    make_supervisor("web=2");
    supervisor_start(sv);
    cr_assert(wait_joins("web.1", 1));
    cr_assert(wait_joins("web.2", 1));
    pid2 = inst_info("web.2").pid;
    cr_assert_eq(supervisor_scale(sv, "web", 1), 0);
    cr_assert_eq(type_info("web").want, 1);
    cr_assert(wait_releases("web.2", 1), "web.2 was not stopped");
    cr_assert_str_eq(history("web.2"), "JLR");
    cr_assert(wait_instances("web", 1));
    cr_assert(wait_group_gone(pid2));
    cr_assert_str_eq(history("web.1"), "J");
    cr_assert_str_eq(inst_info("web.1").state, "up");
    cr_assert_not(inst_info("web.2").found);
}

Test(supervisor, scale_a_type_to_zero_and_back)
{
    int old;

    start_and_wait_ready();
    old = inst_info("worker.1").pid;
    cr_assert_eq(supervisor_scale(sv, "worker", 0), 0);
    cr_assert(wait_instances("worker", 0));
    cr_assert(wait_group_gone(old));
    cr_assert_eq(type_info("worker").want, 0);
    cr_assert_eq(supervisor_scale(sv, "worker", 1), 0);
    cr_assert_eq(type_info("worker").ninstances, 1);
    cr_assert_str_eq(inst_info("worker.1").state, "up");
    cr_assert_neq(inst_info("worker.1").pid, old);
}

Test(supervisor, scale_refuses_an_unknown_type_or_a_negative_count)
{
    make_supervisor(NULL);
    cr_assert_eq(supervisor_scale(sv, "nope", 1), -1);
    cr_assert_eq(supervisor_scale(sv, "web", -1), -1);
    cr_assert_eq(type_info("web").want, 1);
    cr_assert_not(supervisor_has_type(sv, "nope"));
    cr_assert(supervisor_has_type(sv, "web"));
}

/* ---- stopping and starting one type ------------------------------------ */

Test(supervisor, stop_type_then_start_type_brings_a_new_process)
{
    struct typeinfo t;
    int old;

    start_and_wait_ready();
    old = inst_info("web.1").pid;
    cr_assert_eq(supervisor_stop_type(sv, "web"), 0);
    t = type_info("web");
    cr_assert(t.stopped);
    cr_assert_eq(t.want, 0);
    cr_assert_eq(calls(P_LEAVE, "web.1"), 1, "still in the pools after stop");
    cr_assert(wait_releases("web.1", 1));
    cr_assert(wait_instances("web", 0));
    cr_assert(wait_group_gone(old));
    /* Stopping a stopped type changes nothing. */
    cr_assert_eq(supervisor_stop_type(sv, "web"), 0);
    cr_assert_str_eq(history("web.1"), "JLR");
    /* The rest of the formation goes on. */
    cr_assert_str_eq(inst_info("worker.1").state, "up");

    cr_assert_eq(supervisor_start_type(sv, "web"), 0);
    t = type_info("web");
    cr_assert_not(t.stopped);
    cr_assert_eq(t.want, 1);
    cr_assert_eq(t.ninstances, 1);
    cr_assert_str_eq(inst_info("web.1").state, "starting");
    cr_assert(wait_joins("web.1", 2), "web.1 did not join again");
    cr_assert_str_eq(history("web.1"), "JLRJ");
    cr_assert_str_eq(inst_info("web.1").state, "up");
    cr_assert_neq(inst_info("web.1").pid, old);
    cr_assert_gt(inst_info("web.1").pid, 0);
    /* Starting a running type changes nothing. */
    cr_assert_eq(supervisor_start_type(sv, "web"), 0);
    cr_assert_eq(type_info("web").ninstances, 1);
}

Test(supervisor, a_stopped_type_stays_stopped_when_scaled)
{
    start_and_wait_ready();
    cr_assert_eq(supervisor_stop_type(sv, "worker"), 0);
    cr_assert(wait_instances("worker", 0));
    cr_assert_eq(supervisor_scale(sv, "worker", 3), 0);
    cr_assert_eq(type_info("worker").ninstances, 0, "a stopped type started on scale");
    cr_assert_eq(supervisor_start_type(sv, "worker"), 0);
    cr_assert_eq(type_info("worker").ninstances, 3);
}

Test(supervisor, stop_and_start_refuse_an_unknown_type)
{
    make_supervisor(NULL);
    cr_assert_eq(supervisor_stop_type(sv, "nope"), -1);
    cr_assert_eq(supervisor_start_type(sv, "nope"), -1);
}

/* ---- draining ---------------------------------------------------------- */

Test(supervisor, a_retired_instance_waits_until_its_pools_are_drained)
{
    int old;

    start_and_wait_ready();
    old = inst_info("web.1").pid;
    pl.drained = false;
    cr_assert_eq(supervisor_stop_type(sv, "web"), 0);
    cr_assert_str_eq(inst_info("web.1").state, "draining");
    cr_assert(spin(drained_asked_thrice));
    /* Asked again and again, and still running all the while. */
    cr_assert_str_eq(inst_info("web.1").state, "draining");
    cr_assert_eq(kill(old, 0), 0, "stopped before its pools were drained");
    cr_assert_eq(calls(P_RELEASE, "web.1"), 0);
    pl.drained = true;
    cr_assert(wait_releases("web.1", 1));
    cr_assert(wait_instances("web", 0));
    cr_assert(wait_group_gone(old));
}

Test(supervisor, a_retired_instance_is_stopped_anyway_after_the_drain_limit)
{
    start_and_wait_ready();
    supervisor_set_drain_limit(sv, 0.3);
    pl.drained = false;
    cr_assert_eq(supervisor_stop_type(sv, "web"), 0);
    cr_assert(wait_releases("web.1", 1), "never stopped");
    cr_assert_gt(pl.drained_calls, 0);
}

/* ---- the seam ---------------------------------------------------------- */

Test(supervisor, set_shim_refuses_a_path_too_long)
{
    char longpath[PATH_MAX + 8];

    make_supervisor(NULL);
    memset(longpath, 'a', sizeof(longpath) - 1);
    longpath[sizeof(longpath) - 1] = '\0';
    cr_assert_eq(supervisor_set_shim(sv, longpath), -1);
}
