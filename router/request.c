#include "router/request.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "router/accesslog.h"
#include "router/backend.h"
#include "router/conn.h"
#include "router/metrics.h"
#include "router/queue.h"
#include "router/route.h"
#include "router/stats.h"
#include "router/upstream.h"
#include "router/worker.h"

static struct request *request_new(struct worker *w)
{
    struct request *req = w->free_reqs;

    if (req != NULL)
        w->free_reqs = req->next;
    else if ((req = malloc(sizeof(*req))) == NULL)
        return NULL;
    /* Everything but the meta[] copies, which the lengths delimit. */
    memset(req, 0, offsetof(struct request, meta));
    return req;
}

struct request *request_begin(struct conn *c)
{
    struct worker *w = c->w;
    struct request *req = request_new(w);

    if (req == NULL)
        return NULL;
    req->table = w->table;
    route_table_get(req->table);
    req->start = c->t_first;
    req->start_ms = (int64_t)(c->t_first * 1000.0);
    req->minor = 1;
    http_request_id_generate(&w->rng, req->id);
    req->idlen = 32;
    c->req = req;
    return req;
}

struct request *request_begin_head(struct conn *c, const struct http_head *h)
{
    struct request *req = request_begin(c);
    const char *id;
    size_t idlen;

    if (req == NULL)
        return NULL;
    req->method = h->method;
    req->minor = h->minor;
    req->has_method = true;
    id = http_header_value(h, H_X_REQUEST_ID, &idlen);
    if (id != NULL && h->count[H_X_REQUEST_ID] == 1 && http_request_id_sane(id, idlen)) {
        memcpy(req->id, id, idlen);
        req->id[idlen] = '\0';
        req->idlen = idlen;
    }
    if (c->w->alog != NULL)
        accesslog_capture(req, h);
    return req;
}

void request_bind_backend(struct conn *c, struct backend *be)
{
    struct request *req = c->req;

    req->be = be;
    req->inflight = true;
    atomic_fetch_add_explicit(&be->inflight, 1, memory_order_relaxed);
    counter_add(&be->slot[c->w->id].requests, 1);
}

void request_unbind_backend(struct conn *c)
{
    struct request *req = c->req;

    if (req->be != NULL && req->inflight) {
        atomic_fetch_sub_explicit(&req->be->inflight, 1, memory_order_relaxed);
        req->inflight = false;
        if (backend_max_inflight(req->be) != 0)
            queue_kick(&c->w->queue);
    }
}

void request_detach_upstream(struct conn *c, bool reusable)
{
    struct upstream *up = c->up;

    if (up == NULL)
        return;
    c->up = NULL;
    upstream_release(up, reusable);
}

/* Counts an answered request for /metrics: by route, backend and status
 * class, and its duration per route. */
static void count_request(struct worker *w, const struct request *req, double now)
{
    struct route_rt *r = req->route;
    int cls = metrics_class(req->status);
    struct metric_series **series;
    struct metric_hist **hist;

    if (r != NULL) {
        unsigned bi = req->be != NULL && req->pick.ntried > 0 ? req->pick.tried[req->pick.ntried - 1]
                                                              : r->nbe;

        series = &r->series[bi * METRICS_CLASSES + (unsigned)cls];
        hist = &r->hist;
    } else {
        series = &w->noroute_series[cls];
        hist = &w->noroute_hist;
    }
    if (*series == NULL)
        *series = metrics_series(w->metrics, r != NULL ? r->label : "-",
                                 req->be != NULL ? req->be->name : "-", req->status);
    if (*series != NULL)
        counter_add(&(*series)->count, 1);
    else
        counter_add(&w->metrics->dropped, 1);
    if (*hist == NULL)
        *hist = metrics_hist(w->metrics, r != NULL ? r->label : "-");
    if (*hist != NULL)
        metrics_observe(*hist, now - req->start);
}

/* The last minute's live stats: the route's, and the backend's that
 * answered (an instance's). */
static void count_live(struct worker *w, const struct request *req, double now)
{
    struct stats_key *k;
    bool error = metrics_class(req->status) == 5;

    if (req->route != NULL) {
        if ((k = stats_cached(w->stats, &req->route->stats, req->route->label, now)) != NULL)
            stats_observe(k, now, now - req->start, error);
        else
            counter_add(&w->stats->dropped, 1);
    }
    if (req->be != NULL) {
        if ((k = stats_cached(w->stats, &req->be->slot[w->id].stats, req->be->name, now)) != NULL)
            stats_observe(k, now, now - req->start, error);
        else
            counter_add(&w->stats->dropped, 1);
    }
}

void request_end(struct conn *c, bool answered)
{
    struct worker *w = c->w;
    struct request *req = c->req;
    double now = ev_now(w->loop);

    if (req == NULL)
        return;
    queue_leave(&w->queue, c);
    request_detach_upstream(c, false);
    request_unbind_backend(c);
    if (req->status == 0)
        req->status = 499;
    if (answered || req->has_method) {
        count_request(w, req, now);
        count_live(w, req, now);
        if (w->alog != NULL)
            accesslog_request(w->alog, c, req, now);
    }
    route_table_put(req->table);
    req->next = w->free_reqs;
    w->free_reqs = req;
    c->req = NULL;
}

void request_free_all(struct worker *w)
{
    struct request *req;

    while ((req = w->free_reqs) != NULL) {
        w->free_reqs = req->next;
        free(req);
    }
}
