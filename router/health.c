#include "router/health.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/probe.h"
#include "lib/rng.h"
#include "router/backend.h"

/* One backend's checks. */
struct check {
    struct health *h;
    struct backend *be;             /* reference held */
    struct check *next;
    ev_timer timer;                 /* the next check */
    struct probe probe;
    bool seen;                      /* still in the registry (health_sync) */
    int good, bad;                  /* consecutive results */
};

struct health {
    struct ev_loop *loop;
    struct check *checks;
    uint64_t rng;
    /* The settings in force (copied: a reload frees the old conf). */
    char path[1024];
    bool has_path;
    double interval, timeout;
    int rise, fall;
};

LOG_LIMIT(local_limit, "health checks skipped for drover's own limits", 10.0);

static void schedule(struct check *k, double after)
{
    ev_timer_stop(k->h->loop, &k->timer);
    ev_timer_set(&k->timer, after, 0.);
    ev_timer_start(k->h->loop, &k->timer);
}

static void result(struct probe *p, bool ok, const char *why)
{
    struct check *k = p->data;
    struct backend *be = k->be;
    bool up = atomic_load(&be->up);

    /* drover's own shortage (descriptors) says nothing about the backend. */
    if (!ok && p->local) {
        log_limited(&local_limit, LOG_WARN, "health check of %s skipped: %s", be->name, why);
        schedule(k, k->h->interval);
        return;
    }
    if (ok) {
        k->bad = 0;
        k->good++;
        if (!up && k->good >= k->h->rise) {
            atomic_store(&be->up, true);
            log_info("backend %s is up again (%d good checks)", be->name, k->good);
        }
    } else {
        k->good = 0;
        k->bad++;
        if (up && k->bad >= k->h->fall) {
            atomic_store(&be->up, false);
            log_warn("backend %s is down: %d failed checks (%s)", be->name, k->bad, why);
        }
    }
    schedule(k, k->h->interval);
}

static void timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct check *k = t->data;
    const struct conf_addr *a = &k->be->addr;

    (void)loop;
    (void)revents;
    probe_run(&k->probe, (const struct sockaddr *)&a->ss, a->len, k->h->has_path ? k->h->path : NULL,
              a->port != 0 ? a->text : "localhost", "drover-health", k->h->timeout,
              "health.timeout");
}

static void check_free(struct check *k)
{
    ev_timer_stop(k->h->loop, &k->timer);
    probe_cancel(&k->probe);
    backend_unref(k->be);
    free(k);
}

struct health *health_new(struct ev_loop *loop)
{
    struct health *h = calloc(1, sizeof(*h));

    if (h == NULL)
        return NULL;
    h->loop = loop;
    h->rng = rng_seed();
    return h;
}

void health_sync(struct health *h, struct backend_registry *reg, const struct conf *conf)
{
    struct check **pp;

    if (h == NULL)
        return;
    h->has_path = conf->health.path != NULL;
    snprintf(h->path, sizeof(h->path), "%s", h->has_path ? conf->health.path : "");
    h->interval = (double)conf->health.interval_ms / 1000.0;
    h->timeout = (double)conf->health.timeout_ms / 1000.0;
    h->rise = conf->health.rise;
    h->fall = conf->health.fall;
    for (struct check *k = h->checks; k != NULL; k = k->next)
        k->seen = false;
    for (struct backend *be = reg->head; be != NULL; be = be->reg_next) {
        struct check *k;

        for (k = h->checks; k != NULL && k->be != be; k = k->next) {
        }
        if (k != NULL) {
            k->seen = true;
            continue;
        }
        k = calloc(1, sizeof(*k));
        if (k == NULL) {
            log_error("out of memory: backend %s is not health checked", be->name);
            continue;
        }
        k->h = h;
        k->be = be;
        backend_ref(be);
        k->seen = true;
        ev_init(&k->timer, timer_cb);
        k->timer.data = k;
        probe_init(&k->probe, h->loop, result, k);
        k->next = h->checks;
        h->checks = k;
        /* Spread the first checks over an interval: no thundering herd. */
        schedule(k, h->interval * (double)(rng_next(&h->rng) % 1000) / 1000.0);
    }
    for (pp = &h->checks; *pp != NULL;) {
        struct check *k = *pp;

        if (k->seen) {
            pp = &k->next;
            continue;
        }
        *pp = k->next;
        check_free(k);
    }
}

void health_free(struct health *h)
{
    if (h == NULL)
        return;
    while (h->checks != NULL) {
        struct check *k = h->checks;

        h->checks = k->next;
        check_free(k);
    }
    free(h);
}
