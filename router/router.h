/* The router as a whole: the config in force, the backends, the workers and
 * the access log sink. Owned and changed by the main thread only; workers
 * read what they were given when their table was built. */
#ifndef DROVER_ROUTER_ROUTER_H
#define DROVER_ROUTER_ROUTER_H

#include <ev.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "conf/config.h"
#include "router/backend.h"
#include "router/route.h"

struct worker;

struct router {
    struct ev_loop *loop;           /* the main thread's (default) loop */
    struct conf_ref *cref;          /* config for new requests */
    struct backend_registry reg;
    struct worker *workers;
    unsigned nworkers;
    int access_fd;                  /* -1: access log off */
    bool access_fd_owned;
    atomic_uint running;            /* workers that have not finished */
    atomic_bool draining;
    ev_async worker_done;
    ev_timer drain_timer;
};

/* Binds every listener, builds the tables and starts the workers. On error
 * returns -1 with the reason in err (the address that could not be bound...). */
int router_start(struct router *r, struct ev_loop *loop, struct conf *conf, char *err,
                 size_t errlen);

/* Graceful stop: listeners close at once, idle connections close, busy ones
 * finish their request (with Connection: close) within timeouts.drain. The
 * main loop is broken when every worker is done. */
void router_drain(struct router *r);
/* Immediate stop: every connection is closed now. */
void router_stop_now(struct router *r);

/* Called by a worker (any thread) when it has no connection left. */
void router_worker_finished(struct router *r);

/* After the main loop returned: joins the threads and frees everything. */
void router_destroy(struct router *r);

#endif
