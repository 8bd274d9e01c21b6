/* xorshift64*: a fast per-thread random stream for balancing and request
 * ids. Not for secrets. The state must never be zero. */
#ifndef DROVER_LIB_RNG_H
#define DROVER_LIB_RNG_H

#include <stdint.h>

static inline uint64_t rng_next(uint64_t *state)
{
    uint64_t x = *state;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* A non-zero seed from getrandom(2), falling back to time and address. */
uint64_t rng_seed(void);

#endif
