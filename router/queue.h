/* The max_inflight queue of one worker: requests whose route has a backend
 * up but at its max_inflight wait here, oldest first, until one has room
 * (a request ending on it kicks the queue; a poll catches slots freed by
 * other workers) or timeouts.queue passes (the request's own timer).
 * At most limits.max_queue requests wait per route. */
#ifndef DROVER_ROUTER_QUEUE_H
#define DROVER_ROUTER_QUEUE_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

struct conn;
struct route_rt;

struct queue {
    struct ev_loop *loop;
    struct conn *head, *tail;
    bool kicked;                    /* a slot opened: try the queue at the next safe point */
    ev_timer poll;
    void (*place)(struct conn *c);  /* a queued request may go to a backend now */
    struct stats *stats;            /* the worker's live stats: queue depth per route (or NULL) */
};

/* place(c) gets each request that leaves the queue because a backend of its
 * route has room. */
void queue_init(struct queue *q, struct ev_loop *loop, void (*place)(struct conn *c));
void queue_destroy(struct queue *q);

/* Some backend of r is up but at its max_inflight: worth waiting for. */
bool queue_worth_waiting(const struct route_rt *r, int64_t now_ms);

/* c (its request routed to c->req->route) waits. -1 when the route's
 * queue already holds max requests. */
int queue_enter(struct queue *q, struct conn *c, unsigned max);
/* c leaves the queue (no-op when it is not in it). */
void queue_leave(struct queue *q, struct conn *c);

/* A backend slot opened: the queue is tried at the worker's next check. */
static inline void queue_kick(struct queue *q)
{
    if (q->head != NULL)
        q->kicked = true;
}

/* Places every queued request whose route has room, oldest first. */
void queue_run(struct queue *q);

#endif
