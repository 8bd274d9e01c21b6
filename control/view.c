/* The view the admin API's answers are rendered from (struct api_view):
 * counters summed over the workers, the backend registry, which routes
 * are served, and the supervisor's snapshot, read on the main thread. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control/api.h"
#include "control/internal.h"
#include "lib/log.h"
#include "router/backend.h"
#include "router/metrics.h"
#include "router/worker.h"
#include "supervisor/supervisor.h"

#define VIEW_MAX_WORKERS 256

uint64_t view_backend_sum(const struct backend *be, size_t offset)
{
    uint64_t n = 0;

    for (unsigned i = 0; i < be->nslots; i++)
        n += counter_get((const counter_t *)((const char *)&be->slot[i] + offset));
    return n;
}

void view_route_name(const struct conf_route *cr, char *buf, size_t len)
{
    snprintf(buf, len, "%s%s%s", cr->host_match == HOST_SUFFIX ? "*" : "",
             cr->host != NULL ? cr->host : "", cr->path);
}

/* A route has a backend that is up (and, for a process route, ready). */
static bool route_served(const struct router *r, const struct conf_route *cr)
{
    for (const struct backend *be = r->reg.head; be != NULL; be = be->reg_next) {
        bool mine = false;

        if (!atomic_load(&be->up) || atomic_load(&be->retired))
            continue;
        if (cr->process != NULL) {
            mine = strcmp(be->process, cr->process) == 0;
        } else {
            for (size_t k = 0; k < cr->nbackends && !mine; k++)
                mine = be->process[0] == '\0' && strcmp(be->addr.text, cr->backends[k].text) == 0;
            for (size_t k = 0; k < cr->ndns && !mine; k++)
                mine = strcmp(be->process, cr->dns[k].key) == 0;
        }
        if (mine)
            return true;
    }
    return false;
}

/* Requests answered, over every worker's series. */
static uint64_t total_requests(const struct router *r)
{
    uint64_t n = 0;

    for (unsigned i = 0; i < r->nworkers; i++) {
        const struct metrics *m = r->workers[i].metrics;

        for (size_t k = 0; m != NULL && k < METRICS_MAX_SERIES; k++)
            if (atomic_load_explicit(&m->series[k].used, memory_order_acquire))
                n += counter_get(&m->series[k].count);
    }
    return n;
}

/* Counters summed over the workers, the listen addresses, the backends
 * and the workers' request tables. A list that cannot be allocated is
 * left empty. */
static void view_router(struct control *ctl, struct api_view *v)
{
    const struct router *r = &ctl->router;
    const struct conf *conf = r->cref->conf;
    struct metrics **m;
    struct stats **st;
    const char **listen;
    size_t nb = 0;

    for (unsigned i = 0; i < r->nworkers; i++) {
        v->connections += counter_get(&r->workers[i].g_conns);
        v->upstream_connections += counter_get(&r->workers[i].g_upstreams);
    }
    v->requests = total_requests(r);
    listen = calloc(conf->nlisten + 1, sizeof(*listen));
    for (size_t i = 0; listen != NULL && i < conf->nlisten; i++)
        listen[v->nlisten++] = conf->listen[i].text;
    v->listen = listen;
    for (const struct backend *be = r->reg.head; be != NULL; be = be->reg_next)
        nb++;
    v->backends = calloc(nb + 1, sizeof(*v->backends));
    for (struct backend *be = r->reg.head; v->backends != NULL && be != NULL; be = be->reg_next) {
        struct api_backend *b = &v->backends[v->nbackends++];

        b->name = be->name;
        b->address = be->addr.text;
        b->dns = strncmp(be->process, "dns:", 4) == 0 || strncmp(be->process, "srv:", 4) == 0
                     ? be->process
                     : NULL;
        b->process = be->process[0] != '\0' && b->dns == NULL ? be->process : NULL;
        b->up = atomic_load(&be->up);
        b->inflight = backend_inflight(be);
        b->requests = view_backend_sum(be, offsetof(struct backend_slot, requests));
        b->failures = view_backend_sum(be, offsetof(struct backend_slot, failures));
        b->connections = view_backend_sum(be, offsetof(struct backend_slot, conns));
    }
    v->nmetrics = r->nworkers < VIEW_MAX_WORKERS ? r->nworkers : VIEW_MAX_WORKERS;
    m = calloc(v->nmetrics + 1, sizeof(*m));
    for (unsigned i = 0; m != NULL && i < v->nmetrics; i++)
        m[i] = r->workers[i].metrics;
    v->metrics = m;
    if (m == NULL)
        v->nmetrics = 0;
    st = calloc(v->nmetrics + 1, sizeof(*st));
    for (unsigned i = 0; st != NULL && i < v->nmetrics; i++)
        st[i] = r->workers[i].stats;
    v->stats = st;
    v->nstats = st != NULL ? v->nmetrics : 0;
    v->routes = calloc(conf->nroutes + 1, sizeof(*v->routes));
    for (size_t i = 0; v->routes != NULL && i < conf->nroutes; i++) {
        struct api_route *ar = &v->routes[v->nroutes++];

        view_route_name(&conf->routes[i], ar->name, sizeof(ar->name));
        ar->process = conf->routes[i].process;
    }
}

/* The names of the routes no healthy backend serves (malloc'd, each). */
static void view_ready(struct control *ctl, struct api_view *v)
{
    const struct conf *conf = ctl->router.cref->conf;
    char **names = calloc(conf->nroutes + 1, sizeof(*names));

    for (size_t i = 0; names != NULL && i < conf->nroutes; i++) {
        char name[512];

        if (route_served(&ctl->router, &conf->routes[i]))
            continue;
        view_route_name(&conf->routes[i], name, sizeof(name));
        if ((names[v->nunready] = strdup(name)) != NULL)
            v->nunready++;
    }
    v->unready = (const char *const *)names;
}

void view_take(struct control *ctl, unsigned parts, struct api_view *v)
{
    const struct conf *conf = ctl->router.cref->conf;

    memset(v, 0, sizeof(*v));
    v->draining = ctl->draining;
    v->now = ev_time();
    if (parts & VIEW_DROVER) {
        v->pid = (int)getpid();
        v->uptime_s = ev_now(ctl->loop) - ctl->started;
        v->config = conf->file;
        v->workers = ctl->router.nworkers;
        v->reloads_ok = ctl->reloads_ok;
        v->reloads_failed = ctl->reloads_failed;
        v->log_dropped = log_dropped();
        v->state_file = conf->app.state_file;
    }
    if (parts & VIEW_ROUTER)
        view_router(ctl, v);
    if (parts & VIEW_READY)
        view_ready(ctl, v);
    if ((parts & VIEW_PROCESSES) && ctl->sv != NULL)
        v->sv = supervisor_snapshot(ctl->sv);
}

void view_release(struct api_view *v)
{
    for (size_t i = 0; i < v->nunready; i++)
        free((void *)v->unready[i]);
    free((void *)v->unready);
    free((void *)v->listen);
    free(v->backends);
    free((void *)v->metrics);
    free((void *)v->stats);
    free(v->routes);
    free((void *)v->sv);
    memset(v, 0, sizeof(*v));
}
