/* router/balance.c: each strategy, with down, busy and already-tried
 * backends. */
#include <criterion/criterion.h>
#include <string.h>

#include "router/backend.h"
#include "router/balance.h"

#define N 3

static struct backend *be[N];
static uint64_t rng = 12345;
static struct balance_pick pick;

static void setup(void)
{
    for (int i = 0; i < N; i++) {
        struct conf_addr a;

        memset(&a, 0, sizeof(a));
        snprintf(a.text, sizeof(a.text), "127.0.0.1:%d", 9000 + i);
        be[i] = backend_new(&a, NULL, NULL, 1);
        cr_assert_not_null(be[i]);
    }
    memset(&pick, 0, sizeof(pick));
    pick.now_ms = 1000;
    pick.rng = &rng;
}

static void teardown(void)
{
    for (int i = 0; i < N; i++)
        backend_unref(be[i]);
}

static int pick_with(enum balance_kind kind, unsigned *cursor)
{
    return balancer_for(kind)->pick(be, N, cursor, &pick);
}

TestSuite(balance, .init = setup, .fini = teardown);

Test(balance, round_robin_is_exactly_even)
{
    unsigned cursor = 0;
    int count[N] = {0};

    for (int i = 0; i < 3000; i++)
        count[pick_with(BALANCE_ROUND_ROBIN, &cursor)]++;
    for (int i = 0; i < N; i++)
        cr_assert_eq(count[i], 1000, "backend %d got %d", i, count[i]);
}

Test(balance, round_robin_skips_down_backend_evenly)
{
    unsigned cursor = 0;
    int count[N] = {0};

    backend_mark_failed(be[1], pick.now_ms, 500);
    for (int i = 0; i < 1000; i++)
        count[pick_with(BALANCE_ROUND_ROBIN, &cursor)]++;
    cr_assert_eq(count[1], 0);
    cr_assert_eq(count[0], 500);
    cr_assert_eq(count[2], 500);
    /* The passive mark expires. */
    pick.now_ms += 500;
    cr_assert(backend_usable(be[1], pick.now_ms));
}

Test(balance, health_down_and_all_down)
{
    unsigned cursor = 0;

    atomic_store(&be[0]->up, false);
    for (int i = 0; i < 10; i++)
        cr_assert_neq(pick_with(BALANCE_ROUND_ROBIN, &cursor), 0);
    atomic_store(&be[1]->up, false);
    atomic_store(&be[2]->up, false);
    cr_assert_eq(pick_with(BALANCE_ROUND_ROBIN, &cursor), -1);
    cr_assert_eq(pick_with(BALANCE_LEAST_CONN, &cursor), -1);
    cr_assert_eq(pick_with(BALANCE_RANDOM2, &cursor), -1);
}

Test(balance, tried_backends_are_not_picked_again)
{
    unsigned cursor = 0;
    int a, b, c;

    a = pick_with(BALANCE_ROUND_ROBIN, &cursor);
    pick.tried[pick.ntried++] = (unsigned)a;
    b = pick_with(BALANCE_LEAST_CONN, &cursor);
    pick.tried[pick.ntried++] = (unsigned)b;
    c = pick_with(BALANCE_RANDOM2, &cursor);
    pick.tried[pick.ntried++] = (unsigned)c;
    cr_assert(a != b && b != c && a != c, "%d %d %d", a, b, c);
    cr_assert_eq(pick_with(BALANCE_ROUND_ROBIN, &cursor), -1);
}

Test(balance, max_inflight_makes_a_backend_unusable)
{
    unsigned cursor = 0;

    atomic_store(&be[2]->max_inflight, 2);
    atomic_store(&be[2]->inflight, 2);
    for (int i = 0; i < 10; i++)
        cr_assert_neq(pick_with(BALANCE_ROUND_ROBIN, &cursor), 2);
    atomic_store(&be[2]->inflight, 1);
    cr_assert(backend_usable(be[2], pick.now_ms));
}

Test(balance, least_conn_picks_the_least_busy)
{
    unsigned cursor = 0;

    atomic_store(&be[0]->inflight, 5);
    atomic_store(&be[1]->inflight, 1);
    atomic_store(&be[2]->inflight, 3);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(pick_with(BALANCE_LEAST_CONN, &cursor), 1);
}

Test(balance, least_conn_ties_rotate)
{
    unsigned cursor = 0;
    int count[N] = {0};

    for (int i = 0; i < 300; i++)
        count[pick_with(BALANCE_LEAST_CONN, &cursor)]++;
    for (int i = 0; i < N; i++)
        cr_assert_eq(count[i], 100, "backend %d got %d", i, count[i]);
}

Test(balance, random2_spreads_and_prefers_the_less_busy)
{
    unsigned cursor = 0;
    int count[N] = {0};

    for (int i = 0; i < 3000; i++)
        count[pick_with(BALANCE_RANDOM2, &cursor)]++;
    for (int i = 0; i < N; i++)
        cr_assert(count[i] > 800 && count[i] < 1200, "backend %d got %d", i, count[i]);

    /* With one backend far busier, it only wins when both choices are it,
     * which two distinct choices never are. */
    memset(count, 0, sizeof(count));
    atomic_store(&be[0]->inflight, 100);
    for (int i = 0; i < 3000; i++)
        count[pick_with(BALANCE_RANDOM2, &cursor)]++;
    cr_assert_eq(count[0], 0, "the busy backend was picked %d times", count[0]);
}

Test(balance, random2_with_one_candidate)
{
    unsigned cursor = 0;

    atomic_store(&be[0]->up, false);
    atomic_store(&be[2]->up, false);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(pick_with(BALANCE_RANDOM2, &cursor), 1);
}

Test(balance, names)
{
    cr_assert_str_eq(balancer_for(BALANCE_ROUND_ROBIN)->name, "round_robin");
    cr_assert_str_eq(balancer_for(BALANCE_LEAST_CONN)->name, "least_conn");
    cr_assert_str_eq(balancer_for(BALANCE_RANDOM2)->name, "random2");
}
