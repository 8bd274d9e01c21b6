/* router/queue.c: the max_inflight queue of one worker. Connections here are
 * bare structs (a struct conn whose request is routed to a struct route_rt
 * with real backends from backend.c); place() only records the order in
 * which requests leave the queue. */
#include <criterion/criterion.h>
#include <string.h>

#include <ev.h>

#include "conf/config.h"
#include "router/backend.h"
#include "router/conn.h"
#include "router/queue.h"
#include "router/request.h"
#include "router/route.h"

#define NCONN 6

static struct ev_loop *loop;
static struct queue q;
static struct backend *be_a, *be_b;
static struct backend *list_a[1], *list_b[1];
static struct route_rt route_a, route_b;
static struct conn conns[NCONN];
static struct request reqs[NCONN];

static struct conn *placed[NCONN * 2];
static int nplaced;

static void place(struct conn *c)
{
    cr_assert_not(c->queued, "placed while still in the queue");
    cr_assert_lt(nplaced, NCONN * 2);
    placed[nplaced++] = c;
}

static struct backend *backend(const char *text)
{
    struct conf_addr addr;
    char err[256];
    struct backend *be;

    memset(&addr, 0, sizeof(addr));
    cr_assert_eq(conf_parse_addr(text, &addr, err, sizeof(err)), 0, "%s", err);
    be = backend_new(&addr, NULL, NULL, 1);
    cr_assert_not_null(be);
    return be;
}

static void setup(void)
{
    loop = ev_loop_new(EVFLAG_AUTO);
    cr_assert_not_null(loop);
    queue_init(&q, loop, place);
    be_a = backend("127.0.0.1:9001");
    be_b = backend("127.0.0.1:9002");
    list_a[0] = be_a;
    list_b[0] = be_b;
    memset(&route_a, 0, sizeof(route_a));
    memset(&route_b, 0, sizeof(route_b));
    route_a.be = list_a;
    route_a.nbe = 1;
    route_b.be = list_b;
    route_b.nbe = 1;
    memset(conns, 0, sizeof(conns));
    memset(reqs, 0, sizeof(reqs));
    for (int i = 0; i < NCONN; i++) {
        conns[i].req = &reqs[i];
        reqs[i].route = &route_a;
    }
    nplaced = 0;
}

static void teardown(void)
{
    queue_destroy(&q);
    backend_unref(be_a);
    backend_unref(be_b);
    ev_loop_destroy(loop);
}

TestSuite(queue, .init = setup, .fini = teardown, .timeout = 10);

static int64_t now_ms(void)
{
    return (int64_t)(ev_now(loop) * 1000.0);
}

/* be at its max_inflight of max (or under it by one when full is false). */
static void at_max(struct backend *be, unsigned max, bool full)
{
    atomic_store(&be->max_inflight, max);
    atomic_store(&be->inflight, (int)(full ? max : max - 1));
}

/* The queue from head to tail, checked against its back links. */
static int order(struct conn **outv, int max)
{
    int n = 0;

    for (struct conn *c = q.head, *prev = NULL; c != NULL; prev = c, c = c->qnext) {
        cr_assert_eq(c->qprev, prev, "broken back link");
        cr_assert(c->queued);
        cr_assert_lt(n, max);
        outv[n++] = c;
    }
    if (n == 0)
        cr_assert_null(q.tail);
    else
        cr_assert_eq(q.tail, outv[n - 1]);
    return n;
}

/* ---- entering and leaving ------------------------------------------- */

Test(queue, run_places_oldest_first)
{
    for (int i = 0; i < 4; i++)
        cr_assert_eq(queue_enter(&q, &conns[i], 100), 0);
    cr_assert_eq(route_a.nqueued, 4);
    queue_run(&q);
    cr_assert_eq(nplaced, 4);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(placed[i], &conns[i], "placed[%d] is not the %d-th to enter", i, i);
    cr_assert_null(q.head);
    cr_assert_null(q.tail);
    cr_assert_eq(route_a.nqueued, 0);
}

Test(queue, enter_refuses_past_the_routes_max)
{
    cr_assert_eq(queue_enter(&q, &conns[0], 2), 0);
    cr_assert_eq(queue_enter(&q, &conns[1], 2), 0);
    cr_assert_eq(queue_enter(&q, &conns[2], 2), -1);
    cr_assert_not(conns[2].queued);
    cr_assert_eq(route_a.nqueued, 2);
    /* The cap is per route: another route's requests still get in. */
    reqs[3].route = &route_b;
    cr_assert_eq(queue_enter(&q, &conns[3], 2), 0);
    cr_assert_eq(route_b.nqueued, 1);
    /* One leaves: room for one more on route_a. */
    queue_leave(&q, &conns[0]);
    cr_assert_eq(queue_enter(&q, &conns[2], 2), 0);
    cr_assert_eq(route_a.nqueued, 2);
}

Test(queue, max_zero_takes_nobody)
{
    cr_assert_eq(queue_enter(&q, &conns[0], 0), -1);
    cr_assert_null(q.head);
    cr_assert_eq(route_a.nqueued, 0);
}

Test(queue, leave_from_the_middle_keeps_the_order)
{
    struct conn *v[NCONN];

    for (int i = 0; i < 3; i++)
        queue_enter(&q, &conns[i], 100);
    queue_leave(&q, &conns[1]);
    cr_assert_not(conns[1].queued);
    cr_assert_null(conns[1].qnext);
    cr_assert_null(conns[1].qprev);
    cr_assert_eq(route_a.nqueued, 2);
    cr_assert_eq(order(v, NCONN), 2);
    cr_assert_eq(v[0], &conns[0]);
    cr_assert_eq(v[1], &conns[2]);
    queue_run(&q);
    cr_assert_eq(nplaced, 2);
    cr_assert_eq(placed[0], &conns[0]);
    cr_assert_eq(placed[1], &conns[2]);
}

Test(queue, leave_from_the_head_and_the_tail)
{
    struct conn *v[NCONN];

    for (int i = 0; i < 4; i++)
        queue_enter(&q, &conns[i], 100);
    queue_leave(&q, &conns[0]);
    cr_assert_eq(q.head, &conns[1]);
    queue_leave(&q, &conns[3]);
    cr_assert_eq(q.tail, &conns[2]);
    cr_assert_eq(order(v, NCONN), 2);
    cr_assert_eq(v[0], &conns[1]);
    cr_assert_eq(v[1], &conns[2]);
    queue_leave(&q, &conns[1]);
    queue_leave(&q, &conns[2]);
    cr_assert_eq(order(v, NCONN), 0);
    cr_assert_null(q.head);
    cr_assert_eq(route_a.nqueued, 0);
}

Test(queue, leave_when_not_queued_changes_nothing)
{
    queue_enter(&q, &conns[0], 100);
    queue_leave(&q, &conns[1]);
    queue_leave(&q, &conns[0]);
    queue_leave(&q, &conns[0]);
    cr_assert_null(q.head);
    cr_assert_eq(route_a.nqueued, 0, "a second leave counted again");
}

Test(queue, a_request_that_left_can_enter_again_at_the_tail)
{
    struct conn *v[NCONN];

    for (int i = 0; i < 3; i++)
        queue_enter(&q, &conns[i], 100);
    queue_leave(&q, &conns[0]);
    queue_enter(&q, &conns[0], 100);
    cr_assert_eq(order(v, NCONN), 3);
    cr_assert_eq(v[0], &conns[1]);
    cr_assert_eq(v[1], &conns[2]);
    cr_assert_eq(v[2], &conns[0]);
}

/* ---- running the queue ---------------------------------------------- */

Test(queue, run_places_only_requests_whose_route_has_room)
{
    struct conn *v[NCONN];

    at_max(be_a, 1, true);
    reqs[1].route = &route_b;
    queue_enter(&q, &conns[0], 100); /* route_a: its backend is full */
    queue_enter(&q, &conns[1], 100); /* route_b: room */
    queue_enter(&q, &conns[2], 100); /* route_a */
    queue_run(&q);
    cr_assert_eq(nplaced, 1);
    cr_assert_eq(placed[0], &conns[1]);
    cr_assert_eq(order(v, NCONN), 2);
    cr_assert_eq(v[0], &conns[0]);
    cr_assert_eq(v[1], &conns[2]);
    /* A slot opens on route_a: both go, oldest first. */
    atomic_store(&be_a->inflight, 0);
    queue_run(&q);
    cr_assert_eq(nplaced, 3);
    cr_assert_eq(placed[1], &conns[0]);
    cr_assert_eq(placed[2], &conns[2]);
    cr_assert_null(q.head);
}

Test(queue, run_skips_a_route_whose_backends_are_down_or_marked)
{
    atomic_store(&be_a->up, false);
    reqs[1].route = &route_b;
    backend_mark_failed(be_b, now_ms(), 60000);
    queue_enter(&q, &conns[0], 100);
    queue_enter(&q, &conns[1], 100);
    queue_run(&q);
    cr_assert_eq(nplaced, 0);
    cr_assert_eq(route_a.nqueued, 1);
    cr_assert_eq(route_b.nqueued, 1);
    /* The mark has passed, the health check says up again. */
    atomic_store(&be_b->down_until_ms, 0);
    atomic_store(&be_a->up, true);
    queue_run(&q);
    cr_assert_eq(nplaced, 2);
    cr_assert_eq(placed[0], &conns[0]);
    cr_assert_eq(placed[1], &conns[1]);
}

Test(queue, any_usable_backend_of_the_route_is_room)
{
    struct backend *both[2] = {be_a, be_b};

    route_a.be = both;
    route_a.nbe = 2;
    at_max(be_a, 1, true);
    queue_enter(&q, &conns[0], 100);
    queue_run(&q);
    cr_assert_eq(nplaced, 1, "be_b had room");
    route_a.be = list_a;
    route_a.nbe = 1;
}

Test(queue, run_clears_the_kick)
{
    queue_enter(&q, &conns[0], 100);
    queue_kick(&q);
    cr_assert(q.kicked);
    queue_run(&q);
    cr_assert_not(q.kicked);
}

Test(queue, kick_marks_only_a_queue_with_requests)
{
    queue_kick(&q);
    cr_assert_not(q.kicked, "an empty queue was kicked");
    queue_enter(&q, &conns[0], 100);
    queue_kick(&q);
    cr_assert(q.kicked);
}

/* The poll catches a slot freed where no kick is seen (another worker):
 * entering starts it, the loop places the request once there is room,
 * and the poll stops by itself once the queue is empty. */
Test(queue, the_poll_places_requests_and_stops_when_empty)
{
    double end;

    at_max(be_a, 1, true);
    cr_assert_not(ev_is_active(&q.poll));
    queue_enter(&q, &conns[0], 100);
    cr_assert(ev_is_active(&q.poll));
    atomic_store(&be_a->inflight, 0); /* freed elsewhere: nobody kicks */
    end = ev_time() + 5.0;
    while (nplaced == 0 && ev_time() < end)
        ev_run(loop, EVRUN_ONCE);
    cr_assert_eq(nplaced, 1);
    cr_assert_eq(placed[0], &conns[0]);
    /* Only the poll was active: the loop runs dry once it stops itself. */
    ev_run(loop, 0);
    cr_assert_not(ev_is_active(&q.poll));
}

/* ---- worth waiting -------------------------------------------------- */

Test(queue, worth_waiting_for_an_up_backend_at_its_max)
{
    at_max(be_a, 2, true);
    cr_assert(queue_worth_waiting(&route_a, now_ms()));
}

Test(queue, not_worth_waiting_below_the_max)
{
    at_max(be_a, 2, false);
    cr_assert_not(queue_worth_waiting(&route_a, now_ms()));
}

Test(queue, not_worth_waiting_without_a_max)
{
    atomic_store(&be_a->max_inflight, 0);
    atomic_store(&be_a->inflight, 500);
    cr_assert_not(queue_worth_waiting(&route_a, now_ms()), "max 0 means no cap");
}

Test(queue, not_worth_waiting_for_a_backend_that_is_down)
{
    at_max(be_a, 2, true);
    atomic_store(&be_a->up, false);
    cr_assert_not(queue_worth_waiting(&route_a, now_ms()));
}

Test(queue, not_worth_waiting_for_a_backend_marked_failed)
{
    at_max(be_a, 2, true);
    backend_mark_failed(be_a, now_ms(), 60000);
    cr_assert_not(queue_worth_waiting(&route_a, now_ms()));
    /* Once the mark has passed it is worth it again. */
    cr_assert(queue_worth_waiting(&route_a, now_ms() + 60000));
}

Test(queue, worth_waiting_when_any_backend_qualifies)
{
    struct backend *both[2] = {be_a, be_b};

    route_a.be = both;
    route_a.nbe = 2;
    atomic_store(&be_a->up, false);
    at_max(be_b, 3, true);
    cr_assert(queue_worth_waiting(&route_a, now_ms()));
    at_max(be_b, 3, false);
    cr_assert_not(queue_worth_waiting(&route_a, now_ms()));
    route_a.be = list_a;
    route_a.nbe = 1;
}

Test(queue, not_worth_waiting_on_a_route_without_backends)
{
    route_a.nbe = 0;
    cr_assert_not(queue_worth_waiting(&route_a, now_ms()));
    route_a.nbe = 1;
}
