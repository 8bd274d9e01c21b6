/* Unit tests that run a libev loop: turn it until a condition holds or a
 * deadline passes (libuv's habit: run the loop, then assert the counts). */
#ifndef DROVER_TESTS_UNIT_SPIN_H
#define DROVER_TESTS_UNIT_SPIN_H

#include <ev.h>
#include <stdbool.h>

static void spin_guard_cb(struct ev_loop *l, ev_timer *t, int revents)
{
    (void)l;
    (void)t;
    (void)revents;
}

/* Runs loop until pred() holds or seconds passed; returns pred(). A short
 * repeating timer keeps each EVRUN_ONCE from blocking for long. */
static inline bool spin_until(struct ev_loop *loop, double seconds, bool (*pred)(void))
{
    double end = ev_time() + seconds;
    ev_timer guard;

    ev_timer_init(&guard, spin_guard_cb, 0.05, 0.05);
    ev_timer_start(loop, &guard);
    while (!pred() && ev_time() < end)
        ev_run(loop, EVRUN_ONCE);
    ev_timer_stop(loop, &guard);
    return pred();
}

#endif
