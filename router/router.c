#include "router/router.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "lib/log.h"
#include "router/activation.h"
#include "router/health.h"
#include "router/listener.h"
#include "router/tls.h"
#include "router/resolver.h"
#include "router/worker.h"

static uint64_t publish_tables(struct router *r);
static int sync_resolver(struct router *r, const struct conf *conf, char *err, size_t errlen);

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
    r->access_path = strdup(dest);
    return 0;
}

int router_reopen_access_log(struct router *r, char *err, size_t errlen)
{
    int fd;

    if (!r->access_fd_owned || r->access_path == NULL)
        return 0;
    fd = open(r->access_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "cannot reopen access log %s: %s", r->access_path, strerror(errno));
        return -1;
    }
    /* dup3 keeps close-on-exec; the number the workers write to stays. */
    if (dup3(fd, r->access_fd, O_CLOEXEC) < 0) {
        snprintf(err, errlen, "cannot reopen access log %s: %s", r->access_path, strerror(errno));
        close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

/* Listening sockets for addr, one per worker (unix sockets: one, shared).
 * fds[] gets them; -1 with err when addr cannot be bound. */
static int bind_addr(struct router *r, const struct conf_addr *addr, int *fds, char *err,
                     size_t errlen)
{
    for (unsigned k = 0; k < r->nworkers; k++) {
        if (addr->ss.ss_family == AF_UNIX && k > 0)
            fds[k] = fcntl(fds[0], F_DUPFD_CLOEXEC, 0);
        else
            fds[k] = listener_bind(addr, r->nworkers > 1, err, errlen);
        if (fds[k] < 0) {
            if (err[0] == '\0')
                snprintf(err, errlen, "%s: %s", addr->text, strerror(errno));
            while (k-- > 0)
                close(fds[k]);
            return -1;
        }
    }
    return 0;
}

/* The sockets of listen entry addr: one for an address drover binds
 * (every worker its own with SO_REUSEPORT for TCP, so the kernel balances
 * accepts without a shared lock; a unix socket cannot be bound twice, so
 * the workers share one), each one the entry names for a socket systemd
 * passed (shared by the workers). fds[s * nworkers + k] is socket s of
 * worker k, addrs[s] its address; fds has room for ACTIVATION_MAX per
 * worker. Returns the number of sockets, or -1 with err and nothing left
 * open. */
static int open_entry(struct router *r, const struct conf_addr *addr, int *fds, struct conf_addr *addrs,
                      char *err, size_t errlen)
{
    unsigned nw = r->nworkers;
    int base[ACTIVATION_MAX], n;

    if (!addr->systemd) {
        addrs[0] = *addr;
        return bind_addr(r, addr, fds, err, errlen) < 0 ? -1 : 1;
    }
    n = activation_dup(addr, base, addrs, ACTIVATION_MAX, err, errlen);
    for (int s = 0; s < n; s++) {
        listener_set_nodelay(base[s]);
        fds[(unsigned)s * nw] = base[s];
        for (unsigned k = 1; k < nw; k++) {
            size_t at = (unsigned)s * nw + k;

            fds[at] = fcntl(base[s], F_DUPFD_CLOEXEC, 0);
            if (fds[at] < 0) {
                snprintf(err, errlen, "%s: %s", addr->text, strerror(errno));
                while (at-- > 0)
                    close(fds[at]);
                for (int t = s + 1; t < n; t++)
                    close(base[t]);
                return -1;
            }
        }
    }
    return n;
}

/* "listening on systemd:web: 127.0.0.1:8080 (passed by systemd)" */
static void log_passed(const struct conf_addr *addr)
{
    char text[160];

    log_info("listening on %s: %s (passed by systemd)", addr->text,
             activation_describe(addr, text, sizeof(text)));
}

static int bind_listeners(struct router *r, const struct conf *conf, char *err, size_t errlen)
{
    unsigned nw = r->nworkers;
    int *fds = calloc((size_t)ACTIVATION_MAX * nw, sizeof(*fds));
    struct conf_addr *addrs = calloc(ACTIVATION_MAX, sizeof(*addrs));
    int status = -1;

    if (fds == NULL || addrs == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < conf->nlisten; i++) {
        const struct conf_addr *addr = &conf->listen[i];
        int n = open_entry(r, addr, fds, addrs, err, errlen);

        if (n < 0)
            goto out;
        for (size_t at = 0; at < (size_t)n * nw; at++) {
            const struct conf_addr *a = &addrs[at / nw];
            unsigned k = (unsigned)(at % nw);

            if (addr->systemd && k == 0)
                log_passed(a);
            if (worker_add_listener(&r->workers[k], a, fds[at], k == 0 && !addr->systemd) == NULL) {
                while (at < (size_t)n * nw)
                    close(fds[at++]);
                snprintf(err, errlen, "out of memory");
                goto out;
            }
        }
    }
    status = 0;
out:
    free(fds);
    free(addrs);
    return status;
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

static void log_tick_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop;
    (void)t;
    (void)revents;
    log_limit_tick();
}

static void drain_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct router *r = t->data;

    (void)loop;
    (void)revents;
    log_warn("drain budget (timeouts.drain) spent: closing the remaining connections");
    router_stop_now(r);
}

static void worker_finished_cb(void *ctx);

/* Descriptors kept apart from client connections (listeners, the admin
 * API, health checks, instance log pipes, the access log, files): a
 * quarter of the limit, at most this many. */
#define FD_RESERVE 256

/* How many client connections fit the descriptor limit: the soft
 * RLIMIT_NOFILE is raised to the hard one first; each connection may need
 * two descriptors (the client's and its upstream's) beside the reserve.
 * Says so once when limits.max_connections does not fit. */
static unsigned connections_that_fit(const struct conf *conf, unsigned nworkers)
{
    struct rlimit rl;
    unsigned long want = conf->limits.max_connections, fit, reserve;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return (unsigned)want;
    if (rl.rlim_cur < rl.rlim_max) {
        struct rlimit raised = {rl.rlim_max, rl.rlim_max};

        if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
            rl = raised;
    }
    if (rl.rlim_cur == RLIM_INFINITY)
        return (unsigned)want;
    reserve = rl.rlim_cur / 4 < FD_RESERVE ? rl.rlim_cur / 4 : FD_RESERVE;
    reserve += conf->nlisten * nworkers;
    fit = rl.rlim_cur > reserve ? (rl.rlim_cur - reserve) / 2 : 1;
    if (fit < nworkers)
        fit = nworkers;
    if (fit >= want)
        return (unsigned)want;
    log_warn("limits.max_connections lowered from %lu to %lu: the descriptor limit is %llu "
             "(2 per connection, %lu kept for listeners, checks and logs)",
             want, fit, (unsigned long long)rl.rlim_cur, reserve);
    return (unsigned)fit;
}

int router_start(struct router *r, struct ev_loop *loop, struct conf *conf, char *err,
                 size_t errlen)
{
    unsigned n = conf->workers > 0 ? (unsigned)conf->workers : 1;

    memset(r, 0, sizeof(*r));
    err[0] = '\0';
    r->loop = loop;
    r->access_fd = -1;
    if (tls_prepare(conf, err, errlen) < 0) {
        conf_free(conf);
        return -1;
    }
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
    ev_timer_init(&r->log_tick, log_tick_cb, 1., 1.);
    ev_timer_start(loop, &r->log_tick);
    ev_unref(loop); /* it does not keep the loop running */
    if (open_access_log(r, conf, err, errlen) < 0)
        return -1;
    r->workers = calloc(n, sizeof(*r->workers));
    if (r->workers == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    r->conn_cap = connections_that_fit(conf, n);
    struct worker_setup setup = {.cref = r->cref, .reg = &r->reg, .nworkers = n, .conn_cap = r->conn_cap,
                                 .access_fd = r->access_fd, .on_finished = worker_finished_cb, .ctx = r};
    for (unsigned i = 0; i < n; i++) {
        struct ev_loop *wl = i == 0 ? loop : ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOSIGMASK);

        if (wl == NULL) {
            snprintf(err, errlen, "cannot create the event loop of worker %u", i);
            return -1;
        }
        if (worker_init(&r->workers[i], &setup, i, wl) < 0) {
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
    if (sync_resolver(r, conf, err, errlen) < 0)
        return -1;
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


/* The first route naming key: its max_inflight applies to the members. */
static unsigned dns_max_inflight(const struct conf *conf, const char *key)
{
    for (size_t i = 0; i < conf->nroutes; i++)
        for (size_t k = 0; k < conf->routes[i].ndns; k++)
            if (strcmp(conf->routes[i].dns[k].key, key) == 0)
                return conf->routes[i].max_inflight;
    return 0;
}

/* The resolver's answer for key: members that stay keep their backend
 * (pools, health); new ones join, gone ones are retired (requests in
 * flight finish, idle connections close). */
static void dns_members(void *ctx, const char *key, const struct conf_addr *members, size_t n)
{
    struct router *r = ctx;
    struct backend *be, *next;
    bool changed = false;

    for (be = r->reg.head; be != NULL; be = next) {
        bool stays = false;

        next = be->reg_next;
        if (strcmp(be->process, key) != 0)
            continue;
        for (size_t i = 0; i < n && !stays; i++)
            stays = strcmp(members[i].text, be->addr.text) == 0;
        if (!stays) {
            log_info("%s: %s left", key, be->addr.text);
            backend_registry_remove(&r->reg, be);
            changed = true;
        }
    }
    for (size_t i = 0; i < n; i++) {
        bool known = false;

        for (be = r->reg.head; be != NULL && !known; be = be->reg_next)
            known = strcmp(be->process, key) == 0 && strcmp(be->addr.text, members[i].text) == 0;
        if (known)
            continue;
        if (backend_registry_add_instance(&r->reg, &members[i], members[i].text, key,
                                          dns_max_inflight(r->cref->conf, key)) == NULL) {
            log_error("%s: out of memory adding %s", key, members[i].text);
            continue;
        }
        log_info("%s: %s joined", key, members[i].text);
        changed = true;
    }
    if (!changed)
        return;
    publish_tables(r);
    health_sync(r->health, &r->reg, r->cref->conf);
}

static bool has_dns(const struct conf *conf)
{
    for (size_t i = 0; i < conf->nroutes; i++)
        if (conf->routes[i].ndns > 0)
            return true;
    return false;
}

/* The resolver follows conf's DNS entries (started on the first config
 * that has one). */
static int sync_resolver(struct router *r, const struct conf *conf, char *err, size_t errlen)
{
    if (r->resolver == NULL && !has_dns(conf))
        return 0;
    if (r->resolver == NULL && (r->resolver = resolver_new(r->loop, dns_members, r, err, errlen)) == NULL)
        return -1;
    return resolver_sync(r->resolver, conf, err, errlen);
}

/* Hands every worker a table built from the registry as it is now.
 * Returns the tables' generation (see router_tables_current). */
static uint64_t publish_tables(struct router *r)
{
    uint64_t gen = ++r->generation;

    if (r->workers == NULL)
        return gen; /* destroyed already: nobody to hand a table to */
    for (unsigned i = 0; i < r->nworkers; i++) {
        struct route_table *t = route_table_build(r->cref, &r->reg);

        if (t == NULL) {
            log_error("out of memory building the route table of worker %u", i);
            continue;
        }
        t->generation = gen;
        worker_post_table(&r->workers[i], t);
    }
    return gen;
}

bool router_tables_current(struct router *r, uint64_t generation)
{
    for (unsigned i = 0; i < r->nworkers; i++)
        if (atomic_load_explicit(&r->workers[i].table_gen, memory_order_acquire) < generation)
            return false;
    return true;
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

uint64_t router_remove_instance(struct router *r, struct backend *be)
{
    uint64_t gen;

    backend_registry_remove(&r->reg, be);
    gen = publish_tables(r);
    health_sync(r->health, &r->reg, r->cref->conf);
    return gen;
}

static bool addr_listed(const struct conf *conf, const struct conf_addr *addr)
{
    for (size_t i = 0; i < conf->nlisten; i++)
        if (strcmp(conf->listen[i].text, addr->text) == 0)
            return true;
    return false;
}

int router_reload(struct router *r, struct conf *conf, struct sbuf *notes, char *err,
                  size_t errlen)
{
    const struct conf *old = r->cref->conf;
    struct listener_change **lc = calloc(r->nworkers, sizeof(*lc));
    int *fds = calloc((size_t)ACTIVATION_MAX * r->nworkers, sizeof(*fds));
    struct conf_addr *addrs = calloc(ACTIVATION_MAX, sizeof(*addrs));
    struct conf_ref *cref;
    size_t nadd = 0, nremove = 0;
    int status = -1;

    err[0] = '\0';
    if (lc == NULL || fds == NULL || addrs == NULL)
        goto oom;
    /* Sockets per worker: a systemd entry has one for each it names. */
    for (size_t i = 0; i < conf->nlisten; i++)
        if (!addr_listed(old, &conf->listen[i]))
            nadd += conf->listen[i].systemd ? activation_count(&conf->listen[i]) : 1;
    for (size_t i = 0; i < old->nlisten; i++)
        nremove += !addr_listed(conf, &old->listen[i]);
    for (unsigned k = 0; k < r->nworkers; k++) {
        lc[k] = calloc(1, sizeof(**lc));
        if (lc[k] == NULL || (nadd > 0 && (lc[k]->add = calloc(nadd, sizeof(*lc[k]->add))) == NULL) ||
            (nremove > 0 && (lc[k]->remove = calloc(nremove, sizeof(*lc[k]->remove))) == NULL))
            goto oom;
    }
    /* New addresses are bound (and passed sockets taken) before anything
     * changes: one that cannot be refuses the whole reload. */
    for (size_t i = 0; i < conf->nlisten; i++) {
        const struct conf_addr *addr = &conf->listen[i];
        int n;

        if (addr_listed(old, addr))
            continue;
        if ((n = open_entry(r, addr, fds, addrs, err, errlen)) < 0)
            goto fail;
        for (size_t at = 0; at < (size_t)n * r->nworkers; at++) {
            unsigned k = (unsigned)(at % r->nworkers);
            struct listener_add *a = &lc[k]->add[lc[k]->nadd++];

            a->addr = addrs[at / r->nworkers];
            a->fd = fds[at];
            a->owns_path = k == 0 && !addr->systemd;
            if (addr->systemd && k == 0)
                log_passed(&a->addr);
        }
    }
    for (size_t i = 0; i < old->nlisten; i++) {
        if (addr_listed(conf, &old->listen[i]))
            continue;
        for (unsigned k = 0; k < r->nworkers; k++)
            snprintf(lc[k]->remove[lc[k]->nremove++], sizeof(lc[k]->remove[0]), "%s",
                     old->listen[i].text);
    }
    if (tls_prepare(conf, err, errlen) < 0)
        goto fail;
    cref = conf_ref_new(conf);
    if (cref == NULL)
        goto oom;

    /* Committed from here on. */
    if (conf->workers != (int)r->nworkers)
        sbuf_printf(notes, "workers: %d → %d needs a restart (still %u)\n", (int)r->nworkers,
                    conf->workers, r->nworkers);
    if (strcmp(old->log.access, conf->log.access) != 0 || old->log.format != conf->log.format)
        sbuf_printf(notes, "log: access log changes need a restart (still %s)\n", old->log.access);
    /* A kept socket takes its entry's new options with the new table. */
    for (size_t i = 0; i < conf->nlisten; i++) {
        const struct conf_listen_opts *o = &conf->listen[i].opts;

        for (size_t j = 0; j < old->nlisten; j++) {
            const struct conf_listen_opts *p = &old->listen[j].opts;

            if (strcmp(conf->listen[i].text, old->listen[j].text) != 0)
                continue;
            if (o->proxy_protocol != p->proxy_protocol || o->ntrusted != p->ntrusted ||
                memcmp(o->trusted, p->trusted, sizeof(o->trusted)) != 0)
                sbuf_printf(notes, "listen %s: PROXY protocol %s for new connections\n",
                            conf->listen[i].text,
                            o->proxy_protocol ? "on (trusted ranges as configured)" : "off");
            if (o->tls != NULL || p->tls != NULL)
                sbuf_printf(notes, "listen %s: %s for new connections\n", conf->listen[i].text,
                            o->tls == NULL   ? "TLS off"
                            : p->tls == NULL ? "TLS on"
                                             : "certificates re-read");
        }
    }
    conf_ref_put(r->cref);
    r->cref = cref;
    /* Static backends no route names any more leave (retired, so workers
     * close their idle connections when they swap tables); the rest keep
     * their pools and health. */
    backend_registry_sweep_static(&r->reg, conf);
    publish_tables(r);
    health_sync(r->health, &r->reg, conf);
    if (sync_resolver(r, conf, err, errlen) < 0) {
        /* The servers were checked at load: this is c-ares failing. */
        log_error("reload: %s; DNS backends keep their members", err);
        err[0] = '\0';
    }
    for (unsigned k = 0; k < r->nworkers; k++) {
        if (nadd > 0 || nremove > 0)
            worker_post_listeners(&r->workers[k], lc[k]);
        else
            listener_change_free(lc[k]);
        lc[k] = NULL;
    }
    status = 0;
    goto out;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    for (unsigned k = 0; lc != NULL && k < r->nworkers; k++)
        listener_change_free(lc[k]);
out:
    free(lc);
    free(fds);
    free(addrs);
    return status;
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

void router_part(struct router *r)
{
    for (unsigned i = 0; i < r->nworkers; i++)
        worker_post(&r->workers[i], WORKER_PART);
}

void router_stop_now(struct router *r)
{
    atomic_store(&r->draining, true);
    for (unsigned i = 0; i < r->nworkers; i++)
        worker_post(&r->workers[i], WORKER_STOP_NOW);
}

static void worker_finished_cb(void *ctx)
{
    struct router *r = ctx;

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
    if (ev_is_active(&r->log_tick)) {
        ev_ref(r->loop);
        ev_timer_stop(r->loop, &r->log_tick);
    }
    health_free(r->health);
    r->health = NULL;
    resolver_free(r->resolver);
    r->resolver = NULL;
    backend_registry_clear(&r->reg);
    conf_ref_put(r->cref);
    r->cref = NULL;
    if (r->access_fd_owned)
        close(r->access_fd);
    r->access_fd = -1;
    free(r->access_path);
    r->access_path = NULL;
}
