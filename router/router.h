/* The router as a whole: the config in force, the backends, the workers and
 * the access log sink. Owned and changed by the main thread only; workers
 * read what they were given when their table was built. */
#ifndef DROVER_ROUTER_ROUTER_H
#define DROVER_ROUTER_ROUTER_H

#include <ev.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "conf/config.h"
#include "lib/sbuf.h"
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
    char *access_path;              /* the file it writes to (owned fd only), for reopening */
    atomic_uint running;            /* workers that have not finished */
    atomic_bool draining;
    ev_async worker_done;
    ev_timer drain_timer;
    unsigned conn_cap;              /* client connections the descriptor limit allows */
    ev_timer log_tick;              /* summaries of rate-limited warnings */
    struct health *health;          /* active checks, on the main loop */
    struct resolver *resolver;      /* DNS backends; NULL until a config has one */
    uint64_t generation;            /* of the tables last published */
    void (*on_stopped)(void *);     /* every worker is done (main loop) */
    void *on_stopped_arg;
};

/* Binds every listener, builds the tables and starts the workers. On error
 * returns -1 with the reason in err (the address that could not be bound...). */
int router_start(struct router *r, struct ev_loop *loop, struct conf *conf, char *err,
                 size_t errlen);

/* Graceful stop: listeners close at once, idle connections close, busy ones
 * finish their request (with Connection: close) within timeouts.drain.
 * stopped(arg) runs on the main loop when every worker is done (without
 * one, the main loop is broken then). */
void router_drain(struct router *r, void (*stopped)(void *), void *arg);
/* The start of a drain that waits (timeouts.drain_delay): listeners stay
 * open and requests are served, but every answer from now on says
 * Connection: close, so keep-alive clients move to other nodes one request
 * at a time before the listeners close. */
void router_part(struct router *r);
/* Immediate stop: every connection is closed now. */
void router_stop_now(struct router *r);

/* Supervisor hooks (main thread). A ready instance of a process type on
 * 127.0.0.1:port joins the pools of the routes naming that type; every
 * worker gets a new route table for its new requests. The caller gets a
 * reference of its own (backend_unref when done with it); NULL on
 * allocation failure. */
struct backend *router_add_instance(struct router *r, const char *process, const char *name,
                                    int port, unsigned max_inflight);
/* The instance leaves its pools at once; requests in flight on it finish
 * (watch backend_inflight(be) to know when). The caller's reference stays.
 * Returns the generation of the tables without it: until
 * router_tables_current() says every worker has it, a worker may still
 * pick the instance for a new request. */
uint64_t router_remove_instance(struct router *r, struct backend *be);

/* Every worker has swapped in tables of this generation or a later one. */
bool router_tables_current(struct router *r, uint64_t generation);

/* Reload: conf (taken over on success) becomes the config for new requests.
 * New listen addresses are bound first (failing that, nothing changes and
 * -1 comes back with err); then routes, balancing, timeouts, limits and
 * health settings apply to new requests, removed addresses stop accepting,
 * static backends no route names any more are dropped. Requests in flight
 * finish under the config they started with. Changes that need a restart
 * (workers, access log) are noted in notes, one per line. */
int router_reload(struct router *r, struct conf *conf, struct sbuf *notes, char *err,
                  size_t errlen);

/* SIGUSR1 (logrotate): the access log file is opened again at its path and
 * takes the place of the old one (dup2: the workers' descriptor stays the
 * same), so lines go to the new file from now on. 0 (also when the log is
 * not a file), or -1 with err filled and the old file kept. */
int router_reopen_access_log(struct router *r, char *err, size_t errlen);

/* After the main loop returned: joins the threads and frees everything. */
void router_destroy(struct router *r);

#endif
