/* Counters written by one thread and read by others: the owner adds with a
 * plain load and store (no locked instruction on the request path), a
 * reader sees a value that is at most a little behind, never torn. */
#ifndef DROVER_LIB_COUNTER_H
#define DROVER_LIB_COUNTER_H

#include <stdatomic.h>
#include <stdint.h>

typedef atomic_uint_fast64_t counter_t;

static inline void counter_add(counter_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

static inline void counter_set(counter_t *c, uint64_t v)
{
    atomic_store_explicit(c, v, memory_order_relaxed);
}

static inline uint64_t counter_get(const counter_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

#endif
