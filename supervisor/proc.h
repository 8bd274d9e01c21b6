/* The supervisor's insides, shared by proc.c (one instance's life),
 * rolling.c (replacing instances) and supervisor.c (process types,
 * scaling, reload, status). Main thread only. */
#ifndef DROVER_SUPERVISOR_PROC_H
#define DROVER_SUPERVISOR_PROC_H

#include <ev.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/counter.h"
#include "conf/formation.h"
#include "lib/probe.h"
#include "supervisor/supervisor.h"

struct cgroup;
struct cgroup_base;
struct cgroup_left;
struct logpipe;
struct logstore;
struct watch;

enum inst_state {
    INST_STARTING,  /* spawned; a routed type waits for its ready probe */
    INST_UP,        /* running (routed: ready and in its pools) */
    INST_DRAINING,  /* out of its pools, its requests in flight finishing */
    INST_STOPPING,  /* SIGTERM sent to the group; SIGKILL when stop_timeout passes */
    INST_BACKOFF,   /* exited; spawned again when the back-off passes */
};


/* A plan shared by the process types that point into it: a reload brings
 * a new one, and the old lives on while a removed type still drains. */
struct plan_hold {
    struct plan plan;
    unsigned refs;
};

struct ptype;

struct instance {
    struct ptype *type;
    struct instance *next;
    int slot;                   /* web.1 is slot 0; its port is the slot's port */
    char name[64];
    int port;
    pid_t pid;                  /* the shim, leader of the instance's process group; 0 if none */
    enum inst_state state;
    bool retire;                /* stopped on purpose: not restarted when it exits */
    bool killed;                /* SIGKILL already sent */
    bool roll;                  /* to be replaced by the rolling restart under way */
    bool being_replaced;        /* a replacement is starting for it */
    double started;             /* ev_now at spawn */
    double up_since;
    double drain_until;         /* DRAINING: stop anyway after this */
    uint64_t drain_gen;         /* DRAINING: tables without it (pool_ops.drained) */
    unsigned restarts;
    unsigned crashes;           /* since the back-off was last reset */
    unsigned generation;        /* its type's rollout its current run started under */
    int exit_status;            /* of its last run (wait status), when exit_at is set */
    double exit_at;             /* wall clock of that exit; 0: it has not exited */
    ev_timer timer;             /* ready deadline, drain poll, stop → kill, or back-off */
    ev_timer probe_timer;       /* the next ready probe (ready.c) */
    struct probe probe;
    double probe_delay;
    ev_child child;
    struct logpipe *log;        /* its stdout */
    struct logpipe *log_err;    /* its stderr */
    struct pool_member *be;     /* our hold, from joining the pools until it stopped */
    bool pooled;                /* in its routes' pools now */
    struct instance *replaces;  /* a replacement: the instance to stop once this is ready */
    pid_t leftover_pgid;        /* BACKOFF: the last run's group, until it is gone */
    double leftover_until;      /* then SIGKILL */
    bool leftover_killed;
    bool port_warned;           /* "port taken" said once until it is free */
    double unhealthy_since;     /* UP, failing its health checks since (0: healthy) */
    struct cgroup *cg;          /* its cgroup (cpu, memory_max) while it runs; NULL: none */
    char exit_how[160];         /* how its last run ended, as logged ("" before one did) */
    double exit_how_at;         /* when (ev_now) */
};

struct ptype {
    struct supervisor *sv;
    struct ptype *next;
    struct plan_hold *hold;     /* reference held: pt points into it */
    const struct plan_type *pt;
    struct instance *instances; /* by slot */
    int want;                   /* instances wanted (the plan's count, or `scale`) */
    bool stopped;               /* `drover stop TYPE`: kept stopped across reloads */
    bool removed;               /* gone from the formation: freed with its last instance */
    bool rolling;               /* a rolling restart is under way */
    bool stepping;              /* in rolling_step (it recurses through ready instances) */
    unsigned roll_batch;        /* replacements at once: ceil(N/4) */
    unsigned generation;        /* 1, and one more at each rolling restart */
    counter_t restarts;         /* crash restarts of every instance ever */
};

struct supervisor {
    struct ev_loop *loop;
    const struct pool_ops *pools;
    void *pools_ctx;
    struct plan_hold *hold;     /* the plan in force */
    struct ptype *types;        /* formation order, then types added by reloads */
    char self[PATH_MAX];        /* this binary, re-executed as the shim */
    ev_child any;               /* reaps children drover did not start (PID 1) */
    ev_timer memory_timer;
    ev_timer health_timer;      /* restart_unhealthy */
    ev_timer state_timer;       /* the state file is written when it fires */
    double drain_limit;         /* longest wait for a retired instance's requests */
    struct logstore *logs;      /* every instance's recent output */
    char *state_file;           /* app.state_file (malloc'd), NULL: none */
    struct watch *watch;        /* watch mode: NULL when no type watches */
    bool watch_all;             /* drover run --watch */
    struct cgroup_base *cgroups; /* where instances' cgroups go; NULL until a type has limits */
    struct cgroup_left *cgroups_left; /* cgroups of ended instances, not empty yet */
    ev_timer cgroups_timer;     /* tries those again */
    unsigned long long cgroup_seq; /* numbers every instance cgroup: web.1-7 */
    bool started;
    bool stopping;
    bool stop_now;
    void (*done)(void *);
    void *done_arg;
};

/* proc.c */
struct instance *instance_new(struct ptype *t, int slot);
void instance_free(struct instance *in);
void instance_spawn(struct instance *in);
/* Not to come back: out of its pools, its requests in flight finish (every
 * worker off it first), then SIGTERM, SIGKILL after stop_timeout. */
void instance_retire(struct instance *in);
/* SIGTERM to the group now (or SIGKILL when stopping at once). */
void instance_terminate(struct instance *in);
/* Resident bytes of each process group in pgids (the shim itself not
 * counted), from one pass over /proc. */
void instance_rss(const pid_t *pgids, unsigned long long *rss, size_t n);
void supervisor_check_stopped(struct supervisor *sv);
/* The shims of every instance running now (up to max). */
size_t supervisor_pids(struct supervisor *sv, pid_t *out, size_t max);
/* The lowest slot of t whose port no live instance of any type uses. */
int supervisor_free_slot(const struct ptype *t);
struct ptype *supervisor_find(struct supervisor *sv, const char *name);

/* The ready probe passed: into the pools, go on with a rolling restart. */
void instance_ready(struct instance *in);

/* env.c: NAME=value strings, NULL-terminated, for execve. */
struct envb {
    char **v;
    size_t n, cap;
};
int env_build(const struct instance *in, struct envb *e);
void env_free(struct envb *e);

/* family.c */
/* Some process is left in process group pgid. */
bool family_alive(pid_t pgid);
/* Sends sig (0: none, just count) to every child of drover that is not in
 * known: processes adopted from a shim that died. Zombies are not counted.
 * Returns how many there are. */
int family_signal_orphans(const pid_t *known, size_t nknown, int sig);
/* The app's own pid under shim (what an operator would signal): the
 * command's process, below the /bin/sh that ran it. 0 when none. */
pid_t family_app_pid(pid_t shim);
/* Some process listens on TCP port (any address, v4 or v6); who names it
 * ("pid 812 (python3)") when /proc tells. */
bool family_port_taken(int port, char *who, size_t len);

/* limits.c */
#define LIMITS_RETRY 0.1
void limits_init(struct supervisor *sv);
/* in's cgroup for the spawn about to happen (in->cg; NULL when its type
 * has no limits). 0, or -1 with err. */
int limits_create(struct instance *in, char *err, size_t errlen);
/* in's run ended with wait status: a kill by the memory limit is told in
 * how (what describe_exit wrote); its cgroup is removed (tried again
 * later while processes are left in it). */
void limits_exited(struct instance *in, int status, char *how, size_t len);
/* in's cgroup goes now, or as soon as what is left in it is gone. */
void limits_release(struct instance *in);
/* Every cgroup drover made removed (at exit). */
void limits_free(struct supervisor *sv);

/* ready.c */
void ready_init(struct instance *in);
/* Probes until it answers (then instance_ready), or until ready_stop. */
void ready_start(struct instance *in);
void ready_stop(struct instance *in);

/* rolling.c */
/* A replacement for old on a free slot; old is retired once it is ready. */
struct instance *rolling_replace(struct instance *old);
/* A replacement became ready (called by proc.c): retire what it replaces,
 * go on with the rolling restart of its type. */
void rolling_ready(struct instance *in);
/* A replacement is gone before it was ready: its old instance is a
 * candidate again. */
void rolling_abandoned(struct instance *in);
void rolling_start(struct ptype *t);
void rolling_step(struct ptype *t);

#endif
