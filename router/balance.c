#include "router/balance.h"

#include <stdbool.h>

#include "lib/rng.h"

static bool tried(const struct balance_pick *p, unsigned i)
{
    for (unsigned k = 0; k < p->ntried; k++)
        if (p->tried[k] == i)
            return true;
    return false;
}

static bool candidate(struct backend *const *be, unsigned i, const struct balance_pick *p)
{
    return !tried(p, i) && backend_usable(be[i], p->now_ms);
}

static int inflight(struct backend *be)
{
    return atomic_load_explicit(&be->inflight, memory_order_relaxed);
}

/* Next usable backend after the cursor: N healthy backends get 1/N each, and
 * a down one's turns pass to the next rather than doubling one neighbour. */
static int pick_round_robin(struct backend *const *be, unsigned n, unsigned *cursor,
                            const struct balance_pick *p)
{
    for (unsigned k = 0; k < n; k++) {
        unsigned i = (*cursor + k) % n;

        if (candidate(be, i, p)) {
            *cursor = (i + 1) % n;
            return (int)i;
        }
    }
    return -1;
}

/* Fewest requests in flight; ties go round robin so an idle pool still
 * spreads evenly. */
static int pick_least_conn(struct backend *const *be, unsigned n, unsigned *cursor,
                           const struct balance_pick *p)
{
    int best = -1, best_load = 0;

    for (unsigned k = 0; k < n; k++) {
        unsigned i = (*cursor + k) % n;
        int load;

        if (!candidate(be, i, p))
            continue;
        load = inflight(be[i]);
        if (best < 0 || load < best_load) {
            best = (int)i;
            best_load = load;
        }
    }
    if (best >= 0)
        *cursor = ((unsigned)best + 1) % n;
    return best;
}

static int nth_candidate(struct backend *const *be, unsigned n, const struct balance_pick *p,
                         unsigned rank)
{
    for (unsigned i = 0; i < n; i++)
        if (candidate(be, i, p) && rank-- == 0)
            return (int)i;
    return -1;
}

/* Power of two choices: two distinct random candidates, the less loaded
 * wins. Nearly as good as least_conn without scanning every backend's load. */
static int pick_random2(struct backend *const *be, unsigned n, unsigned *cursor,
                        const struct balance_pick *p)
{
    unsigned m = 0, r1, r2;
    int a, b;

    (void)cursor;
    for (unsigned i = 0; i < n; i++)
        if (candidate(be, i, p))
            m++;
    if (m == 0)
        return -1;
    if (m == 1)
        return nth_candidate(be, n, p, 0);
    r1 = (unsigned)(rng_next(p->rng) % m);
    r2 = (unsigned)(rng_next(p->rng) % (m - 1));
    if (r2 >= r1)
        r2++;
    a = nth_candidate(be, n, p, r1);
    b = nth_candidate(be, n, p, r2);
    return inflight(be[b]) < inflight(be[a]) ? b : a;
}

static const struct balancer balancers[] = {
    [BALANCE_ROUND_ROBIN] = {"round_robin", pick_round_robin},
    [BALANCE_LEAST_CONN] = {"least_conn", pick_least_conn},
    [BALANCE_RANDOM2] = {"random2", pick_random2},
};

const struct balancer *balancer_for(enum balance_kind kind)
{
    if ((unsigned)kind >= sizeof(balancers) / sizeof(balancers[0]))
        return &balancers[BALANCE_ROUND_ROBIN];
    return &balancers[kind];
}
