/* router/stats.c: the log-linear buckets, quantiles on known data, the
 * minute window rolling, young keys, slot reuse, the seqlock, the workers'
 * windows merged. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>

#include "router/stats.c"

#define T0 1000000.0            /* a round second of the clock */

static struct stats *s;

static void setup(void)
{
    s = stats_new();
    cr_assert_not_null(s);
}

static void teardown(void)
{
    stats_free(s);
}

TestSuite(stats, .init = setup, .fini = teardown);

Test(stats, every_duration_falls_in_its_bucket_and_buckets_are_narrow)
{
    for (double us = 0.5; us < 70e6; us *= 1.013) {
        unsigned b = stats_bucket(us / 1e6);
        double lo, hi;

        cr_assert_lt(b, STATS_BUCKETS);
        stats_bucket_range(b, &lo, &hi);
        if (b == STATS_BUCKETS - 1) {
            cr_assert_geq(us, lo, "%g us in the last bucket from %g", us, lo);
            continue;
        }
        cr_assert(us >= lo && us < hi, "%g us in bucket %u [%g, %g)", us, b, lo, hi);
        if (lo >= STATS_SUB * STATS_UNIT_US)
            cr_assert_leq((hi - lo) / lo, 1.0 / STATS_SUB + 1e-9, "bucket %u [%g, %g)", b, lo, hi);
    }
    cr_assert_eq(stats_bucket(0), 0);
    cr_assert_eq(stats_bucket(-1), 0);
    cr_assert_eq(stats_bucket(3600), STATS_BUCKETS - 1);
}

Test(stats, quantiles_of_uniform_durations)
{
    struct stats_key *k = stats_key(s, "/", T0);
    struct stats_window w;

    /* 1 ms, 2 ms ... 1000 ms, all in the same second. */
    for (int i = 1; i <= 1000; i++)
        stats_observe(k, T0 + 0.5, i / 1000.0, false);
    stats_window_init(&w);
    stats_window_add(&w, k, T0 + 0.9);
    cr_assert_eq(w.count, 1000);
    cr_assert_float_eq(stats_window_quantile(&w, 0.5), 0.500, 0.500 / STATS_SUB);
    cr_assert_float_eq(stats_window_quantile(&w, 0.95), 0.950, 0.950 / STATS_SUB);
    cr_assert_float_eq(stats_window_quantile(&w, 0.99), 0.990, 0.990 / STATS_SUB);
    cr_assert_eq(w.total, 1000);
    cr_assert_eq(w.sum_us, 500500000ull);
}

Test(stats, quantiles_of_a_constant_and_of_two_groups)
{
    struct stats_key *k = stats_key(s, "web.1", T0);
    struct stats_window w;
    double p50, p99;

    for (int i = 0; i < 90; i++)
        stats_observe(k, T0 + 0.1, 0.020, false);
    for (int i = 0; i < 10; i++)
        stats_observe(k, T0 + 0.1, 0.300, false);
    stats_window_init(&w);
    stats_window_add(&w, k, T0 + 0.2);
    p50 = stats_window_quantile(&w, 0.5);
    p99 = stats_window_quantile(&w, 0.99);
    cr_assert(p50 >= 0.020 * (1 - 1.0 / STATS_SUB) && p50 <= 0.020 * (1 + 1.0 / STATS_SUB),
              "p50 %g for 20 ms", p50);
    cr_assert(p99 >= 0.300 * (1 - 1.0 / STATS_SUB) && p99 <= 0.300 * (1 + 1.0 / STATS_SUB),
              "p99 %g for 300 ms", p99);
    cr_assert_lt(stats_window_quantile(&w, 0.9), 0.025);
}

Test(stats, an_empty_window_has_no_quantile_and_no_rate)
{
    struct stats_window w;

    stats_window_init(&w);
    cr_assert(isnan(stats_window_quantile(&w, 0.5)));
    cr_assert_float_eq(stats_window_rate(&w), 0.0, 1e-12);
}

Test(stats, the_minute_window_rolls)
{
    struct stats_key *k = stats_key(s, "/", T0);
    struct stats_window w;

    /* One request a second for 120 seconds, 5xx every tenth. */
    for (int i = 0; i < 120; i++)
        stats_observe(k, T0 + i + 0.5, 0.001, i % 10 == 0);
    stats_window_init(&w);
    stats_window_add(&w, k, T0 + 119.75);
    cr_assert_eq(w.count, 60, "%llu in the last minute", (unsigned long long)w.count);
    cr_assert_eq(w.errors, 6);
    cr_assert_eq(w.total, 120);
    cr_assert_eq(w.errors_total, 12);
    cr_assert_float_eq(w.span, 59.75, 1e-9);
    cr_assert_float_eq(stats_window_rate(&w), 60 / 59.75, 1e-9);

    /* Thirty seconds later, half of them have left the window. */
    stats_window_init(&w);
    stats_window_add(&w, k, T0 + 149.5);
    cr_assert_eq(w.count, 30);
    /* Two minutes of silence: nothing is left in it. */
    stats_window_init(&w);
    stats_window_add(&w, k, T0 + 240.0);
    cr_assert_eq(w.count, 0);
    cr_assert(isnan(stats_window_quantile(&w, 0.99)));
    cr_assert_eq(w.total, 120);
}

Test(stats, a_slot_used_again_a_minute_later_starts_empty)
{
    struct stats_key *k = stats_key(s, "/", T0);
    struct stats_window w;

    for (int i = 0; i < 50; i++)
        stats_observe(k, T0 + 0.5, 1.0, true);
    stats_observe(k, T0 + STATS_SLOTS + 0.5, 0.002, false); /* the same slot */
    stats_window_init(&w);
    stats_window_add(&w, k, T0 + STATS_SLOTS + 0.6);
    cr_assert_eq(w.count, 1);
    cr_assert_eq(w.errors, 0);
    cr_assert_lt(stats_window_quantile(&w, 0.99), 0.003);
}

Test(stats, a_young_key_rates_over_its_own_life)
{
    struct stats_key *k = stats_key(s, "/", T0 + 0.25);
    struct stats_window w;

    /* 100 requests a second for 3 seconds, from T0 + 0.25 on. */
    for (int i = 0; i < 300; i++)
        stats_observe(k, T0 + 0.25 + i / 100.0, 0.001, false);
    stats_window_init(&w);
    stats_window_add(&w, k, T0 + 3.25);
    cr_assert_eq(w.count, 300);
    cr_assert_float_eq(stats_window_rate(&w), 100.0, 0.5);
}

Test(stats, a_slot_being_cleared_is_not_read)
{
    struct stats_key *k = stats_key(s, "/", T0);
    struct stats_window w;

    for (int i = 0; i < 10; i++)
        stats_observe(k, T0 + 0.5, 0.001, false);
    /* What a reader sees while the writer clears the slot for a new
     * second: an odd sequence number. */
    atomic_fetch_add(&k->slot[(long long)T0 % STATS_SLOTS].seq, 1);
    stats_window_init(&w);
    stats_window_add(&w, k, T0 + 0.9);
    cr_assert_eq(w.count, 0);
    atomic_fetch_add(&k->slot[(long long)T0 % STATS_SLOTS].seq, 1);
    stats_window_init(&w);
    stats_window_add(&w, k, T0 + 0.9);
    cr_assert_eq(w.count, 10);
}

Test(stats, workers_windows_merge_by_name)
{
    struct stats *other = stats_new();
    struct stats *both[2] = {s, other};
    struct stats_window w;

    for (int i = 0; i < 30; i++)
        stats_observe(stats_key(s, "web.1", T0), T0 + 1.5, 0.010, false);
    for (int i = 0; i < 10; i++)
        stats_observe(stats_key(other, "web.1", T0 + 1), T0 + 1.5, 0.010, i < 2);
    stats_observe(stats_key(other, "web.2", T0), T0 + 1.5, 0.010, false);
    stats_queue(stats_key(other, "/", T0), +1);
    stats_queue(stats_key(other, "/", T0), +1);
    stats_queue(stats_key(s, "/", T0), +1);
    stats_queue(stats_key(other, "/", T0), -1);
    stats_window_of(&w, both, 2, "web.1", T0 + 2.0);
    cr_assert_eq(w.count, 40);
    cr_assert_eq(w.errors, 2);
    cr_assert_float_eq(w.span, 2.0, 1e-9, "the older key's span");
    cr_assert_float_eq(stats_window_rate(&w), 20.0, 1e-9);
    stats_window_of(&w, both, 2, "/", T0 + 2.0);
    cr_assert_eq(w.queued, 2);
    stats_window_of(&w, both, 2, "nobody", T0 + 2.0);
    cr_assert_eq(w.count, 0);
    cr_assert_float_eq(w.span, 0.0, 1e-12);
    stats_free(other);
}

Test(stats, keys_are_found_by_name_until_the_table_is_full)
{
    char name[32];

    cr_assert_eq(stats_key(s, "web.1", T0), stats_key(s, "web.1", T0 + 5));
    cr_assert_eq(stats_find(s, "web.1"), stats_key(s, "web.1", T0));
    cr_assert_null(stats_find(s, "web.2"));
    /* One cell stays empty: a search always ends. */
    for (int i = 1; i < STATS_MAX_KEYS - 1; i++) {
        snprintf(name, sizeof(name), "k%d", i);
        cr_assert_not_null(stats_key(s, name, T0));
    }
    cr_assert_null(stats_key(s, "one too many", T0));
    cr_assert_null(stats_find(s, "one too many"));
    cr_assert_not_null(stats_find(s, "k77"));
    cr_assert_eq(stats_key(s, "k77", T0), stats_find(s, "k77"), "a name it has is still found");
}
