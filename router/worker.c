#include "router/worker.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/rng.h"
#include "router/accesslog.h"
#include "router/conn.h"
#include "router/listener.h"
#include "router/metrics.h"
#include "router/proxy.h"
#include "router/proxy_protocol.h"
#include "router/route.h"
#include "router/stats.h"
#include "router/upstream.h"

#define BUF_MIN_DATA (16u * 1024u)
#define UBUF_MIN_DATA (32u * 1024u)
#define FREE_BUFS_MAX 1024

static void reaper_cb(struct ev_loop *loop, ev_check *w_, int revents)
{
    struct worker *w = w_->data;

    (void)loop;
    (void)revents;
    if (w->dead_conns != NULL) {
        conn_reap(w);
        /* Connections closed: room for new ones, or the last one gone. */
        if (w->accept_paused && !w->stopping && w->nconns < w->max_conns)
            worker_accept_resume(w);
        if (w->stopping && w->nconns == 0)
            worker_finished(w);
    }
    if (w->dead_ups != NULL)
        upstream_reap(w);
    if (w->queue.kicked)
        queue_run(&w->queue);
}

static void flush_cb(struct ev_loop *loop, ev_prepare *p, int revents)
{
    struct worker *w = p->data;

    (void)loop;
    (void)revents;
    if (w->alog->len > 0)
        accesslog_flush(w->alog);
}

static void close_idle_upstreams(struct worker *w, struct route_table *t)
{
    for (unsigned i = 0; i < t->nroutes; i++)
        for (unsigned k = 0; k < t->routes[i].nbe; k++)
            upstream_close_idle(w, t->routes[i].be[k]);
}

static void close_listeners(struct worker *w)
{
    struct listener *l;

    while ((l = w->listeners) != NULL) {
        w->listeners = l->next;
        listener_close(l);
        free(l);
    }
    ev_timer_stop(w->loop, &w->accept_timer);
}

void worker_finished(struct worker *w)
{
    if (w->finished)
        return;
    w->finished = true;
    close_idle_upstreams(w, w->table);
    if (w->threaded)
        ev_break(w->loop, EVBREAK_ALL);
    w->on_finished(w->on_finished_ctx);
}

/* Graceful: stop accepting, close idle connections; busy ones close after
 * their response (w->stopping turns keep-alive off). */
static void drain(struct worker *w)
{
    struct conn *c, *next;

    if (w->stopping)
        return;
    w->stopping = true;
    close_listeners(w);
    for (c = w->conns; c != NULL; c = next) {
        next = c->next;
        if (c->state == CS_IDLE || (c->state == CS_HEAD && buf_len_or_zero(c->in) == 0))
            conn_close(c);
    }
    close_idle_upstreams(w, w->table);
    if (w->nconns == 0)
        worker_finished(w);
}

static void stop_now(struct worker *w)
{
    w->stopping = true;
    close_listeners(w);
    while (w->conns != NULL)
        conn_close(w->conns);
    worker_finished(w);
}

/* This worker's share of limits.max_connections, within what the
 * descriptor limit allows. */
static unsigned share(const struct conf *conf, const struct worker *w)
{
    unsigned n = (unsigned)(conf->limits.max_connections / w->nworkers);

    if (w->conn_cap != 0 && n > w->conn_cap)
        n = w->conn_cap;
    return n > 0 ? n : 1;
}

static void swap_table(struct worker *w)
{
    struct route_table *t = atomic_exchange(&w->next_table, NULL);
    struct route_table *old = w->table;

    if (t == NULL)
        return;
    w->table = t;
    w->max_conns = share(t->cref->conf, w);
    if (w->accept_paused && !w->stopping && w->nconns < w->max_conns)
        worker_accept_resume(w);
    atomic_store_explicit(&w->table_gen, t->generation, memory_order_release);
    /* Idle connections to backends that left the config go now; busy ones
     * are closed instead of pooled when their request ends. */
    for (unsigned i = 0; i < old->nroutes; i++)
        for (unsigned k = 0; k < old->routes[i].nbe; k++)
            if (atomic_load(&old->routes[i].be[k]->retired))
                upstream_close_idle(w, old->routes[i].be[k]);
    route_table_put(old);
}

void listener_change_free(struct listener_change *lc)
{
    if (lc == NULL)
        return;
    for (size_t i = 0; i < lc->nadd; i++)
        if (lc->add[i].fd >= 0)
            close(lc->add[i].fd);
    free(lc->add);
    free(lc->remove);
    free(lc);
}

static void change_listeners(struct worker *w)
{
    struct listener_change *lc = atomic_exchange(&w->next_listeners, NULL);

    if (lc == NULL)
        return;
    /* Every listener of a removed entry: "systemd" may have several. */
    for (size_t i = 0; i < lc->nremove; i++) {
        for (struct listener **pl = &w->listeners; *pl != NULL;) {
            struct listener *l = *pl;

            if (strcmp(l->addr.text, lc->remove[i]) != 0) {
                pl = &l->next;
                continue;
            }
            *pl = l->next;
            listener_close(l);
            free(l);
        }
    }
    for (size_t i = 0; i < lc->nadd && !w->stopping; i++) {
        struct listener *l = worker_add_listener(w, &lc->add[i].addr, lc->add[i].fd,
                                                 lc->add[i].owns_path);

        if (l == NULL)
            continue;
        lc->add[i].fd = -1; /* the listener has it */
        if (!w->accept_paused)
            listener_start(l);
    }
    listener_change_free(lc);
}

void worker_post_listeners(struct worker *w, struct listener_change *lc)
{
    struct listener_change *old = atomic_exchange(&w->next_listeners, lc);

    listener_change_free(old); /* never picked up: replaced by the newer change */
    worker_post(w, WORKER_LISTENERS);
}

static void wake_cb(struct ev_loop *loop, ev_async *a, int revents)
{
    struct worker *w = a->data;
    unsigned cmd = atomic_exchange(&w->cmd, 0);

    (void)loop;
    (void)revents;
    if (cmd & WORKER_TABLE)
        swap_table(w);
    if (cmd & WORKER_LISTENERS)
        change_listeners(w);
    if (cmd & WORKER_PART)
        w->parting = true;
    if (cmd & WORKER_STOP_NOW)
        stop_now(w);
    else if (cmd & WORKER_DRAIN)
        drain(w);
}

void worker_post(struct worker *w, unsigned cmd)
{
    atomic_fetch_or(&w->cmd, cmd);
    ev_async_send(w->loop, &w->wake);
}

void worker_post_table(struct worker *w, struct route_table *t)
{
    struct route_table *old = atomic_exchange(&w->next_table, t);

    /* Not yet picked up: the newer table replaces it. Only the main thread
     * posts, and the worker only takes, so old is no longer seen by w. */
    if (old != NULL)
        route_table_put(old);
    worker_post(w, WORKER_TABLE);
}

static void accept_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct worker *w = t->data;

    (void)loop;
    (void)revents;
    /* accept_ready looks again (and pauses again while nothing can go). */
    worker_accept_resume(w);
}

#define ACCEPT_BATCH 64
#define ADMIT_IDLE_MIN 1.0      /* seconds idle before a keep-alive client goes first */
#define ADMIT_SCAN 1024         /* connections looked at, oldest first, per admission */
#define ADMIT_RETRY 0.05        /* seconds between looks while every connection is busy */

LOG_LIMIT(table_full, "connection table full", 10.0);

/* The table is full: closes one connection to admit a new client (SPEC
 * "Faults, overload and limits"), looking at the oldest first: one that was
 * answered and lingers, or a keep-alive client idle for ADMIT_IDLE_MIN,
 * else the oldest one that has not sent a
 * whole request head (slowloris), else any idle keep-alive client. Busy
 * connections are never closed. False when nothing could go. */
static bool make_room(struct worker *w)
{
    double now = ev_now(w->loop);
    struct conn *victim = NULL, *slow = NULL, *idle = NULL;
    int seen = 0;

    for (struct conn *c = w->conns_tail; c != NULL && seen < ADMIT_SCAN; c = c->prev, seen++) {
        bool keepalive = c->state == CS_IDLE && c->served > 0;

        /* Answered already, only draining what the client still sends. */
        if (c->state == CS_LINGER || (keepalive && now - c->idle_since >= ADMIT_IDLE_MIN)) {
            victim = c;
            break;
        }
        if (keepalive && idle == NULL)
            idle = c;
        else if (!keepalive && slow == NULL && (c->state == CS_HEAD || c->state == CS_IDLE))
            slow = c;
    }
    if (victim == NULL)
        victim = slow != NULL ? slow : idle;
    if (victim == NULL)
        return false;
    log_limited(&table_full, LOG_WARN,
                "connection table full (%u): closing idle and incomplete connections to admit new "
                "ones", w->max_conns);
    counter_add(&w->evicted, 1);
    conn_close(victim);
    return true;
}

LOG_LIMIT(accept_paused, "accept paused", 10.0);
LOG_LIMIT(proxy_untrusted, "untrusted PROXY peers", 10.0);

/* The options of the listen entry addr in the config now in use: a reload
 * may change them while the socket stays. */
static const struct conf_listen_opts *listen_opts(const struct worker *w, const struct conf_addr *addr)
{
    const struct conf *conf = w->table != NULL ? w->table->cref->conf : NULL;

    for (size_t i = 0; conf != NULL && i < conf->nlisten; i++)
        if (strcmp(conf->listen[i].text, addr->text) == 0)
            return &conf->listen[i].opts;
    return NULL;
}

/* Connections wait on l: accepted up to ACCEPT_BATCH at a time while the
 * worker is under max_conns. Out of descriptors or memory, accepting pauses
 * for 100ms instead of spinning. */
static void accept_ready(struct listener *l)
{
    struct worker *w = l->data;

    for (int i = 0; i < ACCEPT_BATCH; i++) {
        struct sockaddr_storage peer;
        socklen_t len = sizeof(peer);
        const struct conf_listen_opts *opts;
        bool exhausted;
        int fd;

        if (w->nconns >= w->max_conns) {
            /* Readiness says one waits; after an accept nobody may: the
             * listener fires again if one does. */
            if (i > 0)
                return;
            if (!make_room(w)) {
                /* Every connection is busy: the rest wait in the kernel
                 * backlog until one ends or turns idle (looked at again
                 * every ADMIT_RETRY). */
                worker_accept_pause(w, ADMIT_RETRY);
                return;
            }
        }
        fd = listener_accept(l->fd, &peer, &len, &exhausted);
        if (fd < 0) {
            if (exhausted) {
                log_limited(&accept_paused, LOG_WARN, "accept on %s: %s; pausing accepts for 100ms",
                            l->addr.text, strerror(errno));
                worker_accept_pause(w, 0.1);
            }
            return; /* EAGAIN and the like */
        }
        opts = listen_opts(w, &l->addr);
        if (opts != NULL && opts->proxy_protocol &&
            !pp_trusted(opts->trusted, opts->ntrusted, (struct sockaddr *)&peer)) {
            counter_add(&w->metrics->proxy_rejected[PP_UNTRUSTED], 1);
            log_limited(&proxy_untrusted, LOG_WARN,
                        "%s: a connection from outside proxy_trusted closed", l->addr.text);
            close(fd);
            continue;
        }
        conn_accept(w, fd, (struct sockaddr *)&peer,
                    peer.ss_family == AF_UNIX ? 0 : (uint16_t)l->addr.port,
                    opts != NULL && opts->proxy_protocol, opts != NULL ? opts->tls : NULL);
    }
}

struct listener *worker_add_listener(struct worker *w, const struct conf_addr *addr, int fd,
                                     bool owns_path)
{
    struct listener *l = listener_new(w->loop, addr, fd, owns_path, accept_ready, w);

    if (l == NULL)
        return NULL;
    l->next = w->listeners;
    w->listeners = l;
    return l;
}

void worker_accept_pause(struct worker *w, double seconds)
{
    for (struct listener *l = w->listeners; l != NULL; l = l->next)
        listener_stop(l);
    w->accept_paused = true;
    if (seconds > 0) {
        ev_timer_stop(w->loop, &w->accept_timer);
        ev_timer_set(&w->accept_timer, seconds, 0.);
        ev_timer_start(w->loop, &w->accept_timer);
    }
}

void worker_accept_resume(struct worker *w)
{
    if (w->stopping || ev_is_active(&w->accept_timer))
        return;
    w->accept_paused = false;
    for (struct listener *l = w->listeners; l != NULL; l = l->next)
        listener_start(l);
}

int worker_init(struct worker *w, const struct worker_setup *r, unsigned id, struct ev_loop *loop)
{
    const struct conf *conf = r->cref->conf;
    uint32_t data = (uint32_t)conf->limits.max_header_bytes;

    memset(w, 0, sizeof(*w));
    w->id = id;
    w->nworkers = r->nworkers;
    w->on_finished = r->on_finished;
    w->on_finished_ctx = r->ctx;
    w->loop = loop;
    if (data < BUF_MIN_DATA)
        data = BUF_MIN_DATA;
    buf_pool_init(&w->bufs, BUF_HEADROOM + data, FREE_BUFS_MAX);
    buf_pool_init(&w->ubufs, BUF_HEADROOM + (data > UBUF_MIN_DATA ? data : UBUF_MIN_DATA),
                  FREE_BUFS_MAX);
    w->scratch = malloc(w->ubufs.cap);
    w->rng = rng_seed() ^ ((uint64_t)id << 32);
    if (w->rng == 0)
        w->rng = 1;
    w->conn_cap = r->conn_cap / r->nworkers;
    w->max_conns = share(conf, w);
    w->table = route_table_build(r->cref, r->reg);
    w->metrics = metrics_new();
    w->stats = stats_new();
    atomic_init(&w->cmd, 0);
    atomic_init(&w->next_table, NULL);
    atomic_init(&w->next_listeners, NULL);
    atomic_init(&w->table_gen, 0);
    if (r->access_fd >= 0)
        w->alog = accesslog_new(r->access_fd, conf->log.format);
    if (w->scratch == NULL || w->table == NULL || w->metrics == NULL || w->stats == NULL ||
        (r->access_fd >= 0 && w->alog == NULL))
        return -1;

    ev_check_init(&w->reaper, reaper_cb);
    w->reaper.data = w;
    ev_check_start(loop, &w->reaper);
    if (w->alog != NULL) {
        ev_prepare_init(&w->flush, flush_cb);
        w->flush.data = w;
        ev_prepare_start(loop, &w->flush);
    }
    ev_async_init(&w->wake, wake_cb);
    w->wake.data = w;
    ev_async_start(loop, &w->wake);
    ev_init(&w->accept_timer, accept_timer_cb);
    w->accept_timer.data = w;
    queue_init(&w->queue, loop, proxy_place);
    w->queue.stats = w->stats;
    w->serve = proxy_start;
    return 0;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    sigset_t set;

    /* Signals are the main thread's business. */
    sigfillset(&set);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    ev_run(w->loop, 0);
    return NULL;
}

int worker_start_thread(struct worker *w)
{
    w->threaded = true;
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
        return -1;
    w->thread_started = true;
    return 0;
}

void worker_join(struct worker *w)
{
    if (w->thread_started) {
        pthread_join(w->thread, NULL);
        w->thread_started = false;
    }
}

void worker_destroy(struct worker *w)
{
    w->finished = true; /* no more reports to the router */
    w->stopping = true;
    close_listeners(w);
    conn_free_all(w);
    if (w->table != NULL) {
        close_idle_upstreams(w, w->table);
        route_table_put(w->table);
        w->table = NULL;
    }
    if (atomic_load(&w->next_table) != NULL)
        route_table_put(atomic_exchange(&w->next_table, NULL));
    listener_change_free(atomic_exchange(&w->next_listeners, NULL));
    upstream_free_all(w);
    if (w->loop != NULL) {
        queue_destroy(&w->queue);
        ev_check_stop(w->loop, &w->reaper);
        if (w->alog != NULL)
            ev_prepare_stop(w->loop, &w->flush);
        ev_async_stop(w->loop, &w->wake);
    }
    accesslog_free(w->alog);
    w->alog = NULL;
    metrics_free(w->metrics);
    w->metrics = NULL;
    stats_free(w->stats);
    w->stats = NULL;
    buf_pool_destroy(&w->bufs);
    buf_pool_destroy(&w->ubufs);
    free(w->scratch);
    w->scratch = NULL;
    if (w->threaded && w->loop != NULL)
        ev_loop_destroy(w->loop);
    w->loop = NULL;
}
