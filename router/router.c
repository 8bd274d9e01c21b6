#include "router/router.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "router/health.h"
#include "router/listener.h"
#include "router/worker.h"

static int open_access_log(struct router *r, const struct conf *conf, char *err, size_t errlen)
{
    const char *dest = conf->log.access;

    r->access_fd = -1;
    r->access_fd_owned = false;
    if (dest == NULL || strcmp(dest, "off") == 0)
        return 0;
    if (strcmp(dest, "stdout") == 0) {
        r->access_fd = STDOUT_FILENO;
        return 0;
    }
    if (strcmp(dest, "stderr") == 0) {
        r->access_fd = STDERR_FILENO;
        return 0;
    }
    r->access_fd = open(dest, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (r->access_fd < 0) {
        snprintf(err, errlen, "cannot open access log %s: %s", dest, strerror(errno));
        return -1;
    }
    r->access_fd_owned = true;
    return 0;
}

/* Every worker gets a socket per listen address: its own with SO_REUSEPORT
 * for TCP, so the kernel balances accepts without a shared lock; a unix
 * socket cannot be bound twice, so the workers share one. */
static int bind_listeners(struct router *r, const struct conf *conf, char *err, size_t errlen)
{
    for (size_t i = 0; i < conf->nlisten; i++) {
        const struct conf_addr *addr = &conf->listen[i];
        int shared = -1;

        for (unsigned k = 0; k < r->nworkers; k++) {
            int fd;

            if (addr->ss.ss_family == AF_UNIX && shared >= 0)
                fd = fcntl(shared, F_DUPFD_CLOEXEC, 0);
            else
                fd = listener_bind(addr, r->nworkers > 1, err, errlen);
            if (fd < 0) {
                if (err[0] == '\0')
                    snprintf(err, errlen, "%s: %s", addr->text, strerror(errno));
                return -1;
            }
            if (shared < 0)
                shared = fd;
            if (listener_add(&r->workers[k], addr, fd, k == 0) == NULL) {
                close(fd);
                snprintf(err, errlen, "out of memory");
                return -1;
            }
        }
    }
    return 0;
}

static void worker_done_cb(struct ev_loop *loop, ev_async *a, int revents)
{
    struct router *r = a->data;

    (void)revents;
    if (atomic_load(&r->running) != 0)
        return;
    ev_timer_stop(loop, &r->drain_timer);
    if (r->on_stopped != NULL)
        r->on_stopped(r->on_stopped_arg);
    else
        ev_break(loop, EVBREAK_ALL);
}

static void drain_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct router *r = t->data;

    (void)loop;
    (void)revents;
    log_warn("drain budget (timeouts.drain) spent: closing the remaining connections");
    router_stop_now(r);
}

int router_start(struct router *r, struct ev_loop *loop, struct conf *conf, char *err,
                 size_t errlen)
{
    unsigned n = conf->workers > 0 ? (unsigned)conf->workers : 1;

    memset(r, 0, sizeof(*r));
    err[0] = '\0';
    r->loop = loop;
    r->access_fd = -1;
    r->cref = conf_ref_new(conf);
    if (r->cref == NULL) {
        conf_free(conf);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    r->nworkers = n;
    backend_registry_init(&r->reg, n);
    atomic_init(&r->running, n);
    atomic_init(&r->draining, false);
    ev_async_init(&r->worker_done, worker_done_cb);
    r->worker_done.data = r;
    ev_async_start(loop, &r->worker_done);
    ev_init(&r->drain_timer, drain_timer_cb);
    r->drain_timer.data = r;
    if (open_access_log(r, conf, err, errlen) < 0)
        return -1;
    r->workers = calloc(n, sizeof(*r->workers));
    if (r->workers == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (unsigned i = 0; i < n; i++) {
        struct ev_loop *wl = i == 0 ? loop : ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOSIGMASK);

        if (wl == NULL) {
            snprintf(err, errlen, "cannot create the event loop of worker %u", i);
            return -1;
        }
        if (worker_init(&r->workers[i], r, i, wl) < 0) {
            r->workers[i].threaded = i > 0; /* so destroy frees its loop */
            snprintf(err, errlen, "cannot set up worker %u", i);
            return -1;
        }
        r->workers[i].threaded = i > 0;
    }
    if (bind_listeners(r, conf, err, errlen) < 0)
        return -1;
    /* The workers' tables have put every static backend in the registry. */
    r->health = health_new(loop);
    if (r->health == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    health_sync(r->health, &r->reg, conf);
    for (unsigned i = 0; i < n; i++) {
        struct worker *w = &r->workers[i];

        for (struct listener *l = w->listeners; l != NULL; l = l->next)
            listener_start(l);
        if (i > 0 && worker_start_thread(w) < 0) {
            snprintf(err, errlen, "cannot start worker thread %u", i);
            return -1;
        }
    }
    return 0;
}

/* Hands every worker a table built from the registry as it is now. */
static void publish_tables(struct router *r)
{
    if (r->workers == NULL)
        return; /* destroyed already: nobody to hand a table to */
    for (unsigned i = 0; i < r->nworkers; i++) {
        struct route_table *t = route_table_build(r->cref, &r->reg);

        if (t == NULL) {
            log_error("out of memory building the route table of worker %u", i);
            continue;
        }
        worker_post_table(&r->workers[i], t);
    }
}

struct backend *router_add_instance(struct router *r, const char *process, const char *name,
                                    int port, unsigned max_inflight)
{
    char text[32], err[128];
    struct conf_addr addr;
    struct backend *be;

    snprintf(text, sizeof(text), "127.0.0.1:%d", port);
    if (conf_parse_addr(text, &addr, err, sizeof(err)) < 0) {
        log_error("instance %s: %s", name, err);
        return NULL;
    }
    be = backend_registry_add_instance(&r->reg, &addr, name, process, max_inflight);
    if (be == NULL)
        return NULL;
    backend_ref(be); /* the caller's */
    publish_tables(r);
    health_sync(r->health, &r->reg, r->cref->conf);
    return be;
}

void router_remove_instance(struct router *r, struct backend *be)
{
    backend_registry_remove(&r->reg, be);
    publish_tables(r);
    health_sync(r->health, &r->reg, r->cref->conf);
}

void router_drain(struct router *r, void (*stopped)(void *), void *arg)
{
    r->on_stopped = stopped;
    r->on_stopped_arg = arg;
    if (atomic_exchange(&r->draining, true))
        return;
    for (unsigned i = 0; i < r->nworkers; i++)
        worker_post(&r->workers[i], WORKER_DRAIN);
    ev_timer_set(&r->drain_timer, (double)r->cref->conf->timeouts.drain_ms / 1000.0, 0.);
    ev_timer_start(r->loop, &r->drain_timer);
}

void router_stop_now(struct router *r)
{
    atomic_store(&r->draining, true);
    for (unsigned i = 0; i < r->nworkers; i++)
        worker_post(&r->workers[i], WORKER_STOP_NOW);
}

void router_worker_finished(struct router *r)
{
    if (atomic_fetch_sub(&r->running, 1) == 1)
        ev_async_send(r->loop, &r->worker_done);
}

void router_destroy(struct router *r)
{
    if (r->workers != NULL) {
        for (unsigned i = 1; i < r->nworkers; i++)
            worker_join(&r->workers[i]);
        for (unsigned i = 0; i < r->nworkers; i++)
            if (r->workers[i].loop != NULL)
                worker_destroy(&r->workers[i]);
        free(r->workers);
        r->workers = NULL;
    }
    ev_async_stop(r->loop, &r->worker_done);
    ev_timer_stop(r->loop, &r->drain_timer);
    health_free(r->health);
    r->health = NULL;
    backend_registry_clear(&r->reg);
    conf_ref_put(r->cref);
    r->cref = NULL;
    if (r->access_fd_owned)
        close(r->access_fd);
    r->access_fd = -1;
}
