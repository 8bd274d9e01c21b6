#include "router/queue.h"

#include <stddef.h>

#include "router/backend.h"
#include "router/conn.h"
#include "router/request.h"
#include "router/route.h"
#include "router/stats.h"

#define QUEUE_POLL 0.02 /* seconds: slots freed by other workers are seen this late */

static void poll_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct queue *q = t->data;

    (void)revents;
    if (q->head == NULL) {
        ev_timer_stop(loop, t);
        return;
    }
    queue_run(q);
}

void queue_init(struct queue *q, struct ev_loop *loop, void (*place)(struct conn *c))
{
    q->loop = loop;
    q->head = q->tail = NULL;
    q->kicked = false;
    q->place = place;
    q->stats = NULL;
    ev_timer_init(&q->poll, poll_cb, QUEUE_POLL, QUEUE_POLL);
    q->poll.data = q;
}

void queue_destroy(struct queue *q)
{
    ev_timer_stop(q->loop, &q->poll);
}

bool queue_worth_waiting(const struct route_rt *r, int64_t now_ms)
{
    for (unsigned i = 0; i < r->nbe; i++) {
        struct backend *be = r->be[i];
        unsigned max = backend_max_inflight(be);

        if (max != 0 && atomic_load_explicit(&be->up, memory_order_relaxed) &&
            now_ms >= atomic_load_explicit(&be->down_until_ms, memory_order_relaxed) &&
            (unsigned)backend_inflight(be) >= max)
            return true;
    }
    return false;
}

static bool route_has_room(const struct route_rt *r, int64_t now_ms)
{
    for (unsigned i = 0; i < r->nbe; i++)
        if (backend_usable(r->be[i], now_ms))
            return true;
    return false;
}

int queue_enter(struct queue *q, struct conn *c, unsigned max)
{
    struct route_rt *r = c->req->route;

    if (r->nqueued >= max)
        return -1;
    c->queued = true;
    c->qnext = NULL;
    c->qprev = q->tail;
    if (q->tail != NULL)
        q->tail->qnext = c;
    else
        q->head = c;
    q->tail = c;
    r->nqueued++;
    if (q->stats != NULL)
        stats_queue(stats_cached(q->stats, &r->stats, r->label, ev_now(q->loop)), +1);
    if (!ev_is_active(&q->poll))
        ev_timer_again(q->loop, &q->poll);
    return 0;
}

void queue_leave(struct queue *q, struct conn *c)
{
    if (!c->queued)
        return;
    if (c->qprev != NULL)
        c->qprev->qnext = c->qnext;
    else
        q->head = c->qnext;
    if (c->qnext != NULL)
        c->qnext->qprev = c->qprev;
    else
        q->tail = c->qprev;
    c->qnext = c->qprev = NULL;
    c->queued = false;
    c->req->route->nqueued--;
    stats_queue(c->req->route->stats, -1);
}

void queue_run(struct queue *q)
{
    int64_t now = (int64_t)(ev_now(q->loop) * 1000.0);
    struct conn *c, *next;

    q->kicked = false;
    for (c = q->head; c != NULL; c = next) {
        next = c->qnext;
        if (!route_has_room(c->req->route, now))
            continue;
        queue_leave(q, c);
        q->place(c);
    }
}
