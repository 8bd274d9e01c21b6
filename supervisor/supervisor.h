/* The embedded supervisor: runs the plan's instances, routes to the ready
 * ones, restarts crashed ones with back-off, replaces those over their
 * memory limit, and stops them all on shutdown. Runs on the main (default)
 * loop; everything here is main-thread only.
 *
 * One instance's life: spawn (fork, its own process group, the shim, then
 * /bin/sh -c command) → ready probe (routed types) → joins its routes'
 * pools → exits → leaves the pools → back-off → spawn again; or, when it is
 * stopped: leaves the pools → its requests in flight finish → SIGTERM to the
 * group → SIGKILL after stop_timeout → reaped. */
#ifndef DROVER_SUPERVISOR_SUPERVISOR_H
#define DROVER_SUPERVISOR_SUPERVISOR_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#include "conf/formation.h"

struct supervisor;

/* How the supervisor reaches the pools that route to its instances. The
 * composition root hands it in; the supervisor never names the router. A
 * member is the pool's handle for one instance, held from join until
 * release. */
struct pool_member;
struct pool_ops {
    /* The instance joins the pools of the routes naming type; NULL on
     * allocation failure. */
    struct pool_member *(*join)(void *ctx, const char *type, const char *name, int port,
                                unsigned max_inflight);
    /* Out of the pools at once; requests in flight finish. Returns the
     * generation of the tables without it (see drained). */
    uint64_t (*leave)(void *ctx, struct pool_member *m);
    /* Every worker has left tables older than generation, and m has no
     * request in flight: it can be stopped without failing one. */
    bool (*drained)(void *ctx, struct pool_member *m, uint64_t generation);
    /* Requests at once on one instance (reload changes it). */
    void (*set_max_inflight)(struct pool_member *m, unsigned max_inflight);
    /* It passes its health checks (a member starts healthy). */
    bool (*healthy)(const struct pool_member *m);
    /* Requests in flight on it now, and served by it so far. */
    long (*inflight)(const struct pool_member *m);
    uint64_t (*requests)(const struct pool_member *m);
    /* The supervisor's hold on m ends (after leave). */
    void (*release)(struct pool_member *m);
};

/* A supervisor for plan (malloc'd; taken over, freed with the supervisor)
 * on loop, which must be the default loop (child watchers live there),
 * handing ready instances to the pools through pools (ctx passed back).
 * NULL on allocation failure. */
struct supervisor *supervisor_new(struct ev_loop *loop, const struct pool_ops *pools, void *ctx,
                                  struct plan *plan);

/* The program every instance runs under as its shim: by default this very
 * binary (/proc/self/exe), re-executed as `__instance PARENT GRACE_MS
 * COMMAND` (shim.h). Any binary whose main() hands that command to
 * shim_main() will do; a unit test, which is not drover, points it at the
 * built drover. Applies to instances spawned from then on. 0, or -1 when
 * path is too long (nothing changes). */
int supervisor_set_shim(struct supervisor *sv, const char *path);

/* Spawns every instance of the plan. */
void supervisor_start(struct supervisor *sv);

/* Stops every instance: each leaves its pools, its process group gets
 * SIGTERM, then SIGKILL after its stop_timeout (now: SIGKILL at once).
 * done(arg) runs once every instance has been reaped (at once when there
 * is none). Calling it again with now=true escalates. */
void supervisor_stop(struct supervisor *sv, bool now, void (*done)(void *), void *arg);

/* Frees everything (after done ran). */
void supervisor_free(struct supervisor *sv);

/* The longest a retired instance waits for its requests in flight before
 * it is stopped anyway (timeouts.drain). */
void supervisor_set_drain_limit(struct supervisor *sv, double seconds);

/* Lines kept of each instance's output (log.keep, log.keep_bytes), for
 * every instance from now on. The store of them, for /logs (logstore.h). */
void supervisor_set_log_keep(struct supervisor *sv, size_t keep, size_t keep_bytes);
struct logstore;
struct logstore *supervisor_logs(struct supervisor *sv);

/* app.state_file: from now on `scale`, `stop` and `start` are written to
 * path (NULL: nowhere). With apply (at start, before supervisor_start),
 * what path holds is applied first: a scale whose type the config still
 * gives the count it was made against, and stops; the rest is logged. An
 * unreadable or corrupt file is logged with its path and ignored. */
void supervisor_set_state_file(struct supervisor *sv, const char *path, bool apply);

/* Watch mode: with all (drover run --watch) every type watches its
 * directory, and each type its processes.TYPE.watch paths; a burst of
 * changes there rolls the type (a rolling restart). Builds the watches
 * again from the plan in force: call it before supervisor_start and after
 * each reload. Paths that cannot be watched are logged. */
void supervisor_watch(struct supervisor *sv, bool all);

/* Operations on one process type; each returns 0, or -1 when the type is
 * unknown (or the count negative). The work goes on in the background. Scale: instances start on
 * free slots and join the pools once ready; surplus ones (not-ready ones
 * and the highest slots first) leave their pools, finish their requests
 * and stop. Restart: rolling, ceil(N/4) at a time, each old instance
 * retired only once its replacement is ready. Stop: every instance
 * retired; the type stays stopped (across reloads) until start. */
bool supervisor_has_type(struct supervisor *sv, const char *type);
int supervisor_scale(struct supervisor *sv, const char *type, int count);
int supervisor_restart(struct supervisor *sv, const char *type);
int supervisor_stop_type(struct supervisor *sv, const char *type);
int supervisor_start_type(struct supervisor *sv, const char *type);

/* processes.TYPE.cpu / memory_max: the cgroups the types of plan (NULL:
 * the plan in force) ask for are made ready (drover's own directory in
 * each hierarchy, see lib/cgroup.h), before supervisor_start and before
 * a reload's plan is taken. 0, or -1 with err saying which type asked,
 * which path failed and why: drover does not start, a reload is refused. */
int supervisor_prepare_limits(struct supervisor *sv, const struct plan *plan, char *err, size_t errlen);
/* What `drover check` can tell of that without making anything (lib/cgroup.h's
 * cgroup_can_make): 0, or -1 with err. */
int supervisor_check_limits(const struct plan *plan, char *err, size_t errlen);

/* Reload: plan (malloc'd, taken over) is the new formation. New types
 * start, removed ones drain and stop, changed command/env/routing rolls
 * instance by instance, changed counts scale; one line per change is
 * appended to notes. */
struct sbuf;
void supervisor_reload(struct supervisor *sv, struct plan *plan, struct sbuf *notes);

/* What the process types look like now, for /status, /scale and /metrics
 * (rendered by the caller). One block: free it with free(). States are
 * inst_state_names[]; pid and uptime are 0 for an instance with no process,
 * rss_bytes is -1 when /proc did not tell. */
#define SV_STATES 5
struct sv_instance_view {
    const char *name;
    int pid;                    /* the app's own process (what an operator signals) */
    int pgid;                   /* its process group: the shim's pid */
    int port;
    const char *state;
    unsigned restarts;
    double uptime_s;
    long long rss_bytes;
    long inflight;
    uint64_t requests;
    unsigned generation;        /* the type's rollout that started it: 1, 2 after a restart... */
    double exit_at;             /* wall clock of its last run's exit; 0: none yet */
    int exit_code;              /* that run's exit code, -1 when it was killed */
    int exit_signal;            /* the signal that killed it, 0 when it exited */
    const char *exit_how;       /* how its last run ended, as logged; NULL before one did */
    double exit_how_ago_s;      /* how long ago */
};
struct sv_type_view {
    const char *type;
    const char *command;
    bool routed, stopped, removed, rolling;
    int want;                   /* instances wanted (0 while stopped in the formation) */
    uint64_t restarts;
    unsigned by_state[SV_STATES];
    size_t ninstances;
    struct sv_instance_view *instances;
    int configured;             /* what the config (and -m) asks for */
    unsigned generation;        /* its current rollout: 1, one more at each rolling restart */
};
struct sv_snapshot {
    size_t ntypes;
    struct sv_type_view *types;
};
extern const char *const inst_state_names[SV_STATES];

/* A snapshot (malloc'd, strings copied into the same block), or NULL on
 * allocation failure. */
struct sv_snapshot *supervisor_snapshot(struct supervisor *sv);

#endif
