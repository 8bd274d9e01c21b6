/* A backend: one address requests can be sent to, either a static one from
 * the config or a supervised app instance. Backends are shared by all worker
 * threads: health and in-flight counts are atomics, and everything a worker
 * owns alone (its idle upstream connections, its counters) lives in its own
 * cache-line-sized slot, so the request path takes no lock.
 *
 * Lifetime: reference counted. The registry holds one reference while the
 * backend is configured, each route table one, each upstream connection one.
 * A backend taken out of the config is marked retired: its idle connections
 * are closed and busy ones are not pooled again. */
#ifndef DROVER_ROUTER_BACKEND_H
#define DROVER_ROUTER_BACKEND_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "conf/config.h"
#include "lib/counter.h"

struct upstream;
struct stats_key;

struct backend_slot {
    struct upstream *idle;      /* idle pooled connections, most recent first */
    unsigned nidle;
    counter_t requests;         /* requests sent by this worker */
    counter_t failures;         /* connect errors, resets, bad responses */
    counter_t connects;         /* connections opened by this worker */
    counter_t conns;            /* this worker's connections to it now */
    struct stats_key *stats;    /* this worker's live stats of it (router/stats.h) */
} __attribute__((aligned(64)));

struct backend {
    atomic_uint refs;
    struct conf_addr addr;
    char name[128];             /* the address text, or "web.1" for an instance */
    char process[272];          /* process type of a supervised instance, the key of a DNS
                                 * entry ("dns:NAME:PORT") for its members, "" if static */
    atomic_uint max_inflight;   /* 0 = unlimited; a reload may change it */
    atomic_int inflight;        /* requests in progress, all workers */
    atomic_bool up;             /* verdict of the active health check */
    atomic_llong down_until_ms; /* passive marking: skipped until then (ev_now ms) */
    atomic_bool retired;
    struct backend *reg_next;   /* registry list, main thread only */
    unsigned nslots;
    struct backend_slot slot[];
};

struct backend *backend_new(const struct conf_addr *addr, const char *name,
                            const char *process, unsigned nworkers);
void backend_ref(struct backend *be);
void backend_unref(struct backend *be);

/* Usable for a new request at now_ms: up, not passively marked down, and
 * below its max_inflight. */
static inline bool backend_usable(struct backend *be, int64_t now_ms)
{
    if (!atomic_load_explicit(&be->up, memory_order_relaxed))
        return false;
    if (now_ms < atomic_load_explicit(&be->down_until_ms, memory_order_relaxed))
        return false;
    unsigned max = atomic_load_explicit(&be->max_inflight, memory_order_relaxed);

    if (max != 0 && (unsigned)atomic_load_explicit(&be->inflight, memory_order_relaxed) >= max)
        return false;
    return true;
}

/* A connect error or reset: skip the backend for hold_ms. */
void backend_mark_failed(struct backend *be, int64_t now_ms, int64_t hold_ms);

/* The set of configured backends, owned by the main thread. Static backends
 * are found by address so a reload keeps their pools and health. */
struct backend_registry {
    struct backend *head;
    unsigned nworkers;
};

void backend_registry_init(struct backend_registry *reg, unsigned nworkers);
/* The static backend for addr, created on first use. The registry keeps its
 * reference; the caller takes none. NULL on allocation failure. */
struct backend *backend_registry_static(struct backend_registry *reg, const struct conf_addr *addr,
                                        unsigned max_inflight);
/* A supervised instance (named "web.1", process type process) joins the
 * registry, which keeps the reference; NULL on allocation failure. */
struct backend *backend_registry_add_instance(struct backend_registry *reg,
                                              const struct conf_addr *addr, const char *name,
                                              const char *process, unsigned max_inflight);
/* Takes be out of the registry and marks it retired: route tables built
 * from now on leave it out, requests in flight keep it alive. */
void backend_registry_remove(struct backend_registry *reg, struct backend *be);
/* Drops the static backends that no route of conf names any more. */
void backend_registry_sweep_static(struct backend_registry *reg, const struct conf *conf);
/* Drops every backend (the registry's references). */
void backend_registry_clear(struct backend_registry *reg);

static inline unsigned backend_max_inflight(struct backend *be)
{
    return atomic_load_explicit(&be->max_inflight, memory_order_relaxed);
}

/* Requests in flight on be, over all workers. */
static inline int backend_inflight(struct backend *be)
{
    return atomic_load_explicit(&be->inflight, memory_order_relaxed);
}

#endif
