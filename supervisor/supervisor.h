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

#include "supervisor/formation.h"

struct router;
struct supervisor;

/* A supervisor for plan (malloc'd; taken over, freed with the supervisor)
 * on loop, which must be the default loop (child watchers live there),
 * handing ready instances to router. NULL on allocation failure. */
struct supervisor *supervisor_new(struct ev_loop *loop, struct router *router, struct plan *plan);

/* Spawns every instance of the plan. */
void supervisor_start(struct supervisor *sv);

/* Stops every instance: each leaves its pools, its process group gets
 * SIGTERM, then SIGKILL after its stop_timeout (now: SIGKILL at once).
 * done(arg) runs once every instance has been reaped (at once when there
 * is none). Calling it again with now=true escalates. */
void supervisor_stop(struct supervisor *sv, bool now, void (*done)(void *), void *arg);

/* Frees everything (after done ran). */
void supervisor_free(struct supervisor *sv);

#endif
