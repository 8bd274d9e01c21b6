/* Connections to backends and the keep-alive pool.
 *
 * Each worker keeps its idle connections per backend in the backend's slot
 * for that worker, most recently used first, so a warm connection is found
 * in O(1) and the pool stays as small as the concurrency needs. An idle
 * connection is closed when the backend closes it, sends anything, or has
 * been idle for UPSTREAM_POOL_IDLE (shorter than the usual app keep-alive,
 * so drover closes first rather than racing the app). */
#ifndef DROVER_ROUTER_UPSTREAM_H
#define DROVER_ROUTER_UPSTREAM_H

#include <ev.h>
#include <stdbool.h>

#include "llhttp.h"

#define UPSTREAM_POOL_IDLE 1.0      /* seconds */
#define UPSTREAM_POOL_MAX 512       /* idle connections per backend and worker */

struct worker;
struct backend;
struct conn;
struct buf;

enum upstream_state { US_CONNECTING, US_BUSY, US_IDLE, US_CLOSED };

struct upstream;

/* What serves a busy upstream connection's events: the proxy, or a tunnel
 * after a 101. upstream.c handles idle (pooled) connections itself. */
struct upstream_ops {
    void (*connected)(struct upstream *up, int err);    /* err: 0 or the connect's errno */
    void (*readable)(struct upstream *up);
    void (*writable)(struct upstream *up);
};

struct upstream {
    struct worker *w;
    struct backend *be;             /* reference held */
    struct upstream *next, *prev;   /* idle list; next = free/dead list link */
    int fd;
    uint8_t state;
    bool reused;                    /* served a request before this one */
    bool reading;
    ev_io rio, wio;
    ev_timer idle_timer;
    double idle_since;
    const struct upstream_ops *ops; /* set by whoever took it (BUSY) */
    struct conn *c;                 /* the client connection it serves (BUSY) */
    struct buf *in;                 /* response bytes */
    llhttp_t parser;
};

/* A pooled connection to be, or NULL when the pool is empty. */
struct upstream *upstream_take_idle(struct worker *w, struct backend *be);

/* A new connection to be, being established (US_CONNECTING: wait for
 * writability) or already connected (US_BUSY). NULL with errno when the
 * connect failed at once. */
struct upstream *upstream_connect(struct worker *w, struct backend *be);

/* The exchange is over: back to the pool if reusable, else closed. */
void upstream_release(struct upstream *up, bool reusable);

void upstream_close(struct upstream *up);

void upstream_read_start(struct upstream *up);
void upstream_read_stop(struct upstream *up);

/* Closes the worker's idle connections (to one backend, or all if NULL). */
void upstream_close_idle(struct worker *w, struct backend *be);

/* Frees the connections closed during this loop iteration (the reaper). */
void upstream_reap(struct worker *w);
void upstream_free_all(struct worker *w);

#endif
