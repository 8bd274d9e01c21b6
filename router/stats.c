/* Live stats: see stats.h. */
#include "router/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct stats *stats_new(void)
{
    return calloc(1, sizeof(struct stats));
}

void stats_free(struct stats *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < STATS_MAX_KEYS; i++)
        free(atomic_load(&s->keys[i]));
    free(s);
}

static uint32_t hash_name(const char *s)
{
    uint32_t h = 2166136261u;

    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return h;
}

struct stats_key *stats_key(struct stats *s, const char *name, double now)
{
    uint32_t h = hash_name(name);

    for (size_t k = 0; k < STATS_MAX_KEYS; k++) {
        _Atomic(struct stats_key *) *cell = &s->keys[(h + k) % STATS_MAX_KEYS];
        struct stats_key *key = atomic_load_explicit(cell, memory_order_relaxed);

        if (key == NULL) {
            /* One cell is always left empty, so a lookup ends. */
            if (s->nkeys + 1 >= STATS_MAX_KEYS || (key = calloc(1, sizeof(*key))) == NULL)
                return NULL;
            s->nkeys++;
            strncpy(key->name, name, STATS_NAME_MAX - 1);
            key->hash = h;
            key->born = now;
            for (size_t i = 0; i < STATS_SLOTS; i++)
                atomic_init(&key->slot[i].sec, -1);
            /* Readers see the fields only after this. */
            atomic_store_explicit(cell, key, memory_order_release);
            return key;
        }
        if (key->hash == h && strncmp(key->name, name, STATS_NAME_MAX - 1) == 0)
            return key;
    }
    return NULL;
}

const struct stats_key *stats_find(const struct stats *s, const char *name)
{
    uint32_t h = hash_name(name);

    for (size_t k = 0; k < STATS_MAX_KEYS; k++) {
        const struct stats_key *key =
            atomic_load_explicit(&s->keys[(h + k) % STATS_MAX_KEYS], memory_order_acquire);

        if (key == NULL)
            return NULL;
        if (key->hash == h && strncmp(key->name, name, STATS_NAME_MAX - 1) == 0)
            return key;
    }
    return NULL;
}

unsigned stats_bucket(double seconds)
{
    double us = seconds * 1e6;
    uint64_t v;
    unsigned e;

    if (!(us > 0))
        return 0;
    if (us >= (double)((uint64_t)STATS_UNIT_US * STATS_SUB << STATS_OCTAVES))
        return STATS_BUCKETS - 1;
    v = (uint64_t)us / STATS_UNIT_US;
    if (v < STATS_SUB)
        return (unsigned)v;
    e = 63u - (unsigned)__builtin_clzll(v); /* v in [2^e, 2^(e+1)), e >= STATS_SUB_BITS */
    return STATS_SUB + (e - STATS_SUB_BITS) * STATS_SUB +
           (unsigned)((v >> (e - STATS_SUB_BITS)) & (STATS_SUB - 1));
}

void stats_bucket_range(unsigned b, double *lo_us, double *hi_us)
{
    unsigned e, sub;

    if (b < STATS_SUB) {
        *lo_us = (double)b * STATS_UNIT_US;
        *hi_us = *lo_us + STATS_UNIT_US;
        return;
    }
    if (b >= STATS_BUCKETS - 1) {
        *lo_us = *hi_us = (double)((uint64_t)STATS_UNIT_US * STATS_SUB << STATS_OCTAVES);
        return;
    }
    e = (b - STATS_SUB) / STATS_SUB; /* the octave above the exact buckets */
    sub = (b - STATS_SUB) % STATS_SUB;
    *lo_us = (double)(((uint64_t)STATS_SUB + sub) << e) * STATS_UNIT_US;
    *hi_us = *lo_us + (double)((uint64_t)1 << e) * STATS_UNIT_US;
}

static inline void bump(atomic_uint *c)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

void stats_observe(struct stats_key *k, double now, double seconds, bool error)
{
    long long sec = (long long)now;
    struct stats_slot *s = &k->slot[(unsigned long long)sec % STATS_SLOTS];

    if (atomic_load_explicit(&s->sec, memory_order_relaxed) != sec) {
        /* A new second in an old slot: odd while it is cleared. */
        unsigned seq = atomic_load_explicit(&s->seq, memory_order_relaxed);

        atomic_store_explicit(&s->seq, seq + 1, memory_order_relaxed);
        atomic_thread_fence(memory_order_release);
        for (size_t b = 0; b < STATS_BUCKETS; b++)
            atomic_store_explicit(&s->count[b], 0, memory_order_relaxed);
        atomic_store_explicit(&s->errors, 0, memory_order_relaxed);
        atomic_store_explicit(&s->sec, sec, memory_order_relaxed);
        atomic_store_explicit(&s->seq, seq + 2, memory_order_release);
    }
    bump(&s->count[stats_bucket(seconds)]);
    if (error) {
        bump(&s->errors);
        counter_add(&k->errors_total, 1);
    }
    counter_add(&k->total, 1);
    counter_add(&k->sum_us, seconds > 0 ? (uint64_t)(seconds * 1e6) : 0);
}

void stats_window_init(struct stats_window *w)
{
    memset(w, 0, sizeof(*w));
}

/* One slot's counts into w when it is a second of the window [first,
 * last]; a slot recycled meanwhile is read again (it is then a new
 * second, counted if it is in the window). */
static void add_slot(struct stats_window *w, const struct stats_slot *s, long long first,
                     long long last)
{
    uint32_t counts[STATS_BUCKETS];

    for (int tries = 0; tries < 4; tries++) {
        unsigned seq = atomic_load_explicit(&s->seq, memory_order_acquire), errors;
        long long sec;

        if (seq & 1)
            continue;
        sec = atomic_load_explicit(&s->sec, memory_order_relaxed);
        if (sec < first || sec > last)
            return;
        errors = atomic_load_explicit(&s->errors, memory_order_relaxed);
        for (size_t b = 0; b < STATS_BUCKETS; b++)
            counts[b] = atomic_load_explicit(&s->count[b], memory_order_relaxed);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&s->seq, memory_order_relaxed) != seq)
            continue;
        for (size_t b = 0; b < STATS_BUCKETS; b++) {
            w->hist[b] += counts[b];
            w->count += counts[b];
        }
        w->errors += errors;
        return;
    }
}

void stats_window_add(struct stats_window *w, const struct stats_key *k, double now)
{
    long long last = (long long)now, first = last - (STATS_SLOTS - 1);
    double start = (double)first > k->born ? (double)first : k->born;
    double span = now - start;

    /* A worker's clock (ev_now) can be a moment ahead of ours: its
     * current second counts too. */
    for (size_t i = 0; i < STATS_SLOTS; i++)
        add_slot(w, &k->slot[i], first, last + 1);
    if (span < 1.0)
        span = 1.0;
    if (span > w->span)
        w->span = span;
    w->total += counter_get(&k->total);
    w->errors_total += counter_get(&k->errors_total);
    w->sum_us += counter_get(&k->sum_us);
    w->queued += (long)(int64_t)counter_get(&k->queued);
}

void stats_window_of(struct stats_window *w, struct stats *const *s, unsigned n, const char *name,
                     double now)
{
    stats_window_init(w);
    for (unsigned i = 0; i < n; i++) {
        const struct stats_key *k = s[i] != NULL ? stats_find(s[i], name) : NULL;

        if (k != NULL)
            stats_window_add(w, k, now);
    }
}

double stats_window_rate(const struct stats_window *w)
{
    return w->span > 0 ? (double)w->count / w->span : 0.0;
}

double stats_window_quantile(const struct stats_window *w, double q)
{
    double rank, seen = 0, lo, hi;

    if (w->count == 0)
        return NAN;
    rank = q * (double)w->count;
    if (rank < 1)
        rank = 1;
    for (unsigned b = 0; b < STATS_BUCKETS; b++) {
        if (w->hist[b] == 0)
            continue;
        if (seen + (double)w->hist[b] >= rank) {
            stats_bucket_range(b, &lo, &hi);
            /* Spread evenly over the bucket: the rank-th of its counts. */
            return (lo + (hi - lo) * (rank - seen) / (double)w->hist[b]) / 1e6;
        }
        seen += (double)w->hist[b];
    }
    stats_bucket_range(STATS_BUCKETS - 1, &lo, &hi);
    return lo / 1e6;
}
