/* Live stats: the last minute of requests per route and per backend (a
 * supervised instance is a backend), for /status, /metrics and the
 * dashboard: requests per second, p50/p95/p99 latency, 5xx, queue depth.
 *
 * Each worker has its own table of keys and is the only writer of it (no
 * lock, no locked instruction). A key is a ring of STATS_SLOTS one-second
 * slots; each slot is a fixed-bucket log-linear latency histogram
 * (STATS_SUB buckets per power of two from 8 µs to about 67 s, so a
 * quantile is off by at most one bucket's width, 12.5 %) and its 5xx
 * count. The main thread reads slots with
 * relaxed atomics; a slot recycled for a new second is guarded by a
 * sequence number (a seqlock), so a reader never merges half of an old
 * second with the start of a new one, and merges the workers' windows.
 *
 * A key costs sizeof(struct stats_key) (about 42 KiB), allocated when its
 * worker first counts for that name; keys are never removed (names are
 * instance names like web.1, route labels and backend addresses). */
#ifndef DROVER_ROUTER_STATS_H
#define DROVER_ROUTER_STATS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/counter.h"

#define STATS_SLOTS 60              /* seconds in the window */
#define STATS_SUB_BITS 3
#define STATS_SUB (1 << STATS_SUB_BITS) /* buckets per power of two */
#define STATS_UNIT_US 8             /* the first buckets' width */
#define STATS_OCTAVES 20            /* 8 * 8 µs << 20: about 67 s */
#define STATS_BUCKETS (STATS_SUB + STATS_OCTAVES * STATS_SUB + 1) /* the last: longer */
#define STATS_MAX_KEYS 1024
#define STATS_NAME_MAX 160

struct stats_slot {
    atomic_uint seq;                /* odd while the writer recycles the slot */
    atomic_llong sec;               /* the second (ev_now) it counts */
    atomic_uint errors;             /* 5xx answers */
    atomic_uint count[STATS_BUCKETS];
};

struct stats_key {
    char name[STATS_NAME_MAX];
    uint32_t hash;
    double born;                    /* when the worker made it: a young key's window is shorter */
    counter_t total;                /* every request ever, for counters */
    counter_t errors_total;         /* 5xx ever */
    counter_t sum_us;               /* their durations */
    counter_t queued;               /* waiting in the worker's queue now (a gauge) */
    struct stats_slot slot[STATS_SLOTS];
};

struct stats {
    _Atomic(struct stats_key *) keys[STATS_MAX_KEYS];
    unsigned nkeys;                 /* the owner's: a full table is not searched again */
    counter_t dropped;              /* requests no key was left for */
};

struct stats *stats_new(void);
void stats_free(struct stats *s);

/* The key for name in s, made on first use (by the owning worker only, now
 * is its ev_now); NULL when the table is full (at once: a full table is
 * not searched for a new name) or out of memory. */
struct stats_key *stats_key(struct stats *s, const char *name, double now);

/* The same through a cache pointer the worker keeps (route, backend). */
static inline struct stats_key *stats_cached(struct stats *s, struct stats_key **cache,
                                             const char *name, double now)
{
    if (*cache == NULL)
        *cache = stats_key(s, name, now);
    return *cache;
}

/* One answered request at now (ev_now), taking seconds; error: a 5xx. */
void stats_observe(struct stats_key *k, double now, double seconds, bool error);

/* A waiting request in or out of the queue (delta +1 or -1). */
static inline void stats_queue(struct stats_key *k, int delta)
{
    if (k != NULL)
        counter_add(&k->queued, (uint64_t)(int64_t)delta);
}

/* The histogram bucket of a duration, and the range [lo, hi) of one, in
 * microseconds (the last bucket's hi is its lo). */
unsigned stats_bucket(double seconds);
void stats_bucket_range(unsigned b, double *lo_us, double *hi_us);

/* Any thread: the key for name in s, or NULL. */
const struct stats_key *stats_find(const struct stats *s, const char *name);

/* The last minute of one name, merged over the workers' keys. */
struct stats_window {
    double span;                    /* seconds the window covers (0: nothing seen) */
    uint64_t count, errors;         /* requests and 5xx in it */
    uint64_t hist[STATS_BUCKETS];
    uint64_t total, errors_total, sum_us; /* ever */
    long queued;
};

/* w cleared; then k's last minute at now (ev_time) added to w. */
void stats_window_init(struct stats_window *w);
void stats_window_add(struct stats_window *w, const struct stats_key *k, double now);
/* Over n workers' tables. */
void stats_window_of(struct stats_window *w, struct stats *const *s, unsigned n, const char *name,
                     double now);

/* Requests per second over the window (0 when it saw nothing). */
double stats_window_rate(const struct stats_window *w);

/* The q quantile (0 < q <= 1) of the window's durations in seconds,
 * interpolated within its bucket; NaN when the window is empty. */
double stats_window_quantile(const struct stats_window *w, double q);

#endif
