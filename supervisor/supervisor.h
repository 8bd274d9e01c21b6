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

/* The longest a retired instance waits for its requests in flight before
 * it is stopped anyway (timeouts.drain). */
void supervisor_set_drain_limit(struct supervisor *sv, double seconds);

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

/* Reload: plan (malloc'd, taken over) is the new formation. New types
 * start, removed ones drain and stop, changed command/env/routing rolls
 * instance by instance, changed counts scale; one line per change is
 * appended to notes. */
struct sbuf;
void supervisor_reload(struct supervisor *sv, struct plan *plan, struct sbuf *notes);

/* /status's "processes" array, /scale's formation object, /metrics'
 * instance series. */
struct jsonw;
void supervisor_status(struct supervisor *sv, struct jsonw *w);
void supervisor_formation(struct supervisor *sv, struct jsonw *w);
void supervisor_metrics(struct supervisor *sv, struct sbuf *out);

#endif
