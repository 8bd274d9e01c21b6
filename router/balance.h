/* Balancing strategies: a const table of pick functions, one per
 * `balance` value. Each worker keeps its own cursor per route, so picking
 * takes no lock; in-flight counts are the backends' shared atomics. */
#ifndef DROVER_ROUTER_BALANCE_H
#define DROVER_ROUTER_BALANCE_H

#include <stdint.h>

#include "conf/config.h"
#include "router/backend.h"

#define BALANCE_MAX_TRIED 16

/* What a pick must avoid: backends already tried for this request. */
struct balance_pick {
    int64_t now_ms;
    uint64_t *rng;              /* the worker's random state (random2) */
    unsigned ntried;
    unsigned tried[BALANCE_MAX_TRIED];
};

struct balancer {
    const char *name;
    /* Index into be[] of a usable backend not in p->tried, or -1 if none.
     * *cursor is the route's per-worker state. */
    int (*pick)(struct backend *const *be, unsigned n, unsigned *cursor,
                const struct balance_pick *p);
};

const struct balancer *balancer_for(enum balance_kind kind);

#endif
