/* A worker: one event loop with its own listening sockets, client and
 * upstream connections, buffers and route table. Worker 0 runs on the main
 * thread's default loop; with `workers: N` the others run on threads of
 * their own. Nothing on the request path is shared between workers except
 * the backends' atomics, so it takes no lock. */
#ifndef DROVER_ROUTER_WORKER_H
#define DROVER_ROUTER_WORKER_H

#include <ev.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "conf/config.h"
#include "lib/counter.h"
#include "router/buf.h"
#include "router/http.h"
#include "router/queue.h"

struct router;
struct route_table;
struct listener;
struct conn;
struct upstream;
struct request;
struct accesslog;
struct stats;
struct listener_change;

/* What a worker is set up with by the router that runs it. */
struct backend_registry;
struct conf_ref;
struct worker_setup {
    struct conf_ref *cref;          /* the config in force */
    struct backend_registry *reg;   /* backends, for the first route table */
    unsigned nworkers;              /* limits.max_connections is shared among them */
    unsigned conn_cap;              /* no more connections than this in all (descriptors) */
    int access_fd;                  /* the access log, or -1 */
    void (*on_finished)(void *ctx); /* a stopping worker closed its last connection (any thread) */
    void *ctx;
};

struct worker {
    unsigned id;
    unsigned nworkers;
    unsigned conn_cap;              /* this worker's share of what the descriptors allow */
    void (*on_finished)(void *ctx);
    void *on_finished_ctx;
    struct ev_loop *loop;
    pthread_t thread;
    bool threaded;                  /* has a loop of its own (not the main one) */
    bool thread_started;

    struct route_table *table;      /* routes for new requests */
    struct listener *listeners;
    unsigned max_conns;             /* this worker's share of limits.max_connections */
    unsigned nconns;
    unsigned nups;                  /* upstream connections open */
    counter_t g_conns, g_upstreams; /* nconns and nups, for other threads to read */
    struct metrics *metrics;        /* this worker's request counters */
    struct stats *stats;            /* this worker's last minute (router/stats.h) */
    struct metric_series *noroute_series[6]; /* requests answered without a route */
    struct metric_hist *noroute_hist;
    bool accept_paused;

    struct conn *conns;             /* every open client connection, newest first */
    struct conn *conns_tail;        /* the oldest */
    counter_t evicted;              /* closed to admit new clients (table full) */
    struct conn *free_conns;
    unsigned nfree_conns;
    struct conn *dead_conns;        /* closed in a callback, freed by the reaper */
    struct upstream *free_ups;
    struct upstream *dead_ups;
    struct request *free_reqs;
    struct buf_pool bufs;           /* client side: request heads and bodies, our own answers */
    struct buf_pool ubufs;          /* upstream side: responses (twice as large: a 16 KiB page
                                       and its head arrive in one read) */
    uint64_t rng;

    struct accesslog *alog;
    ev_check reaper;
    ev_prepare flush;               /* access log: one write per loop iteration */
    ev_async wake;                  /* commands from the main thread */
    atomic_uint cmd;                /* WORKER_* bits, read by the wake callback */
    _Atomic(struct route_table *) next_table;
    atomic_uint_fast64_t table_gen; /* generation of the table in use (router_tables_current) */
    _Atomic(struct listener_change *) next_listeners;
    ev_timer accept_timer;          /* accepting paused after EMFILE */
    struct queue queue;             /* requests waiting for a backend under max_inflight */
    /* Where a complete request head goes (proxy_start): conn.c hands it on
     * without naming the proxy. */
    void (*serve)(struct conn *c, struct http_head *h);
    bool stopping;                  /* draining: no new connections, no keep-alive */
    bool parting;                   /* drain_delay: still accepting, but no keep-alive */
    bool finished;

    /* One head is parsed and rewritten at a time per worker. */
    struct http_head head;
    char *scratch;                  /* ubufs.cap bytes to build a rewritten head in */
};

enum { WORKER_DRAIN = 1, WORKER_STOP_NOW = 2, WORKER_TABLE = 4, WORKER_LISTENERS = 8, WORKER_PART = 16 };

/* Listening sockets a reload adds to or removes from a worker. */
struct listener_change {
    size_t nadd, nremove;
    struct listener_add {
        struct conf_addr addr;
        int fd;
        bool owns_path;
    } *add;
    char (*remove)[128];            /* conf_addr texts */
};

/* Hands w listener changes (taken over); safe from any thread. */
void worker_post_listeners(struct worker *w, struct listener_change *lc);
void listener_change_free(struct listener_change *lc);

/* Sets up w (its loop is loop) from setup. */
int worker_init(struct worker *w, const struct worker_setup *setup, unsigned id,
                struct ev_loop *loop);

/* Adds a listener on fd (taken over) to w; it accepts once started. */
struct listener *worker_add_listener(struct worker *w, const struct conf_addr *addr, int fd,
                                     bool owns_path);
/* Posts WORKER_* commands to w; safe from any thread. */
void worker_post(struct worker *w, unsigned cmd);
/* Hands w a new route table for new requests (WORKER_TABLE). */
void worker_post_table(struct worker *w, struct route_table *t);
/* Runs worker w on a thread of its own (w->loop must be a new loop). */
int worker_start_thread(struct worker *w);
void worker_join(struct worker *w);
void worker_destroy(struct worker *w);

/* The request clock: ev_now() of the worker's loop in milliseconds. */
static inline int64_t worker_now_ms(struct worker *w)
{
    return (int64_t)(ev_now(w->loop) * 1000.0);
}

/* Pauses accepting when the worker is at max_conns or after EMFILE; the
 * kernel backlog holds new connections meanwhile. */
void worker_accept_pause(struct worker *w, double seconds);
void worker_accept_resume(struct worker *w);

/* A stopping worker has closed its last connection. */
void worker_finished(struct worker *w);

#endif
