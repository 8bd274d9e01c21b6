#include "router/health.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/rng.h"
#include "router/backend.h"

struct probe {
    struct health *h;
    struct backend *be;             /* reference held */
    struct probe *next;
    ev_timer timer;                 /* next check, or the check's timeout */
    ev_io io;
    int fd;
    bool checking;
    bool seen;                      /* still in the registry (health_sync) */
    int good, bad;                  /* consecutive results */
    size_t len;
    char buf[16];
    char why[96];                   /* the last failure */
};

struct health {
    struct ev_loop *loop;
    struct probe *probes;
    uint64_t rng;
    /* The settings in force (copied: a reload frees the old conf). */
    char path[1024];
    bool has_path;
    double interval, timeout;
    int rise, fall;
};

static void check_start(struct probe *p);

static void schedule(struct probe *p, double after)
{
    ev_timer_stop(p->h->loop, &p->timer);
    ev_timer_set(&p->timer, after, 0.);
    ev_timer_start(p->h->loop, &p->timer);
}

static void check_end(struct probe *p)
{
    struct ev_loop *loop = p->h->loop;

    ev_io_stop(loop, &p->io);
    if (p->fd >= 0)
        close(p->fd);
    p->fd = -1;
    p->checking = false;
    schedule(p, p->h->interval);
}

static void result(struct probe *p, bool ok, const char *why)
{
    struct backend *be = p->be;
    bool up = atomic_load(&be->up);

    if (ok) {
        p->bad = 0;
        p->good++;
        if (!up && p->good >= p->h->rise) {
            atomic_store(&be->up, true);
            log_info("backend %s is up again (%d good checks)", be->name, p->good);
        }
    } else {
        p->good = 0;
        p->bad++;
        snprintf(p->why, sizeof(p->why), "%s", why);
        if (up && p->bad >= p->h->fall) {
            atomic_store(&be->up, false);
            log_warn("backend %s is down: %d failed checks (%s)", be->name, p->bad, why);
        }
    }
    check_end(p);
}

static void read_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct probe *p = io->data;
    ssize_t n;

    (void)loop;
    (void)revents;
    n = read(p->fd, p->buf + p->len, sizeof(p->buf) - p->len);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n > 0)
        p->len += (size_t)n;
    if (p->len >= 12) {
        char why[64];

        /* "HTTP/1.1 200" */
        if (strncmp(p->buf, "HTTP/1.", 7) == 0 && (p->buf[9] == '2' || p->buf[9] == '3')) {
            result(p, true, NULL);
            return;
        }
        snprintf(why, sizeof(why), "answered %.3s", p->buf + 9);
        result(p, false, why);
        return;
    }
    if (n <= 0)
        result(p, false, n == 0 ? "closed without answering" : strerror(errno));
}

static void connected_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct probe *p = io->data;
    socklen_t len = sizeof(int);
    char req[1200];
    int err = 0, n;

    (void)revents;
    ev_io_stop(loop, io);
    if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    if (err != 0) {
        result(p, false, strerror(err));
        return;
    }
    if (!p->h->has_path) {
        result(p, true, NULL);
        return;
    }
    n = snprintf(req, sizeof(req),
                 "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: drover-health\r\nConnection: close\r\n\r\n",
                 p->h->path, p->be->addr.port != 0 ? p->be->addr.text : "localhost");
    if (n <= 0 || (size_t)n >= sizeof(req) || send(p->fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
        result(p, false, "cannot send the check");
        return;
    }
    p->len = 0;
    ev_io_init(&p->io, read_cb, p->fd, EV_READ);
    p->io.data = p;
    ev_io_start(loop, &p->io);
}

static void timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct probe *p = t->data;

    (void)loop;
    (void)revents;
    if (p->checking) {
        result(p, false, "no answer within health.timeout");
        return;
    }
    check_start(p);
}

static void check_start(struct probe *p)
{
    const struct conf_addr *a = &p->be->addr;

    p->checking = true;
    schedule(p, p->h->timeout);
    p->fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (p->fd < 0) {
        result(p, false, strerror(errno));
        return;
    }
    if (connect(p->fd, (const struct sockaddr *)&a->ss, a->len) < 0 && errno != EINPROGRESS) {
        result(p, false, strerror(errno));
        return;
    }
    ev_io_init(&p->io, connected_cb, p->fd, EV_WRITE);
    p->io.data = p;
    ev_io_start(p->h->loop, &p->io);
}

static void probe_free(struct probe *p)
{
    ev_timer_stop(p->h->loop, &p->timer);
    ev_io_stop(p->h->loop, &p->io);
    if (p->fd >= 0)
        close(p->fd);
    backend_unref(p->be);
    free(p);
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
    struct probe **pp;

    if (h == NULL)
        return;
    h->has_path = conf->health.path != NULL;
    snprintf(h->path, sizeof(h->path), "%s", h->has_path ? conf->health.path : "");
    h->interval = (double)conf->health.interval_ms / 1000.0;
    h->timeout = (double)conf->health.timeout_ms / 1000.0;
    h->rise = conf->health.rise;
    h->fall = conf->health.fall;
    for (struct probe *p = h->probes; p != NULL; p = p->next)
        p->seen = false;
    for (struct backend *be = reg->head; be != NULL; be = be->reg_next) {
        struct probe *p;

        for (p = h->probes; p != NULL && p->be != be; p = p->next) {
        }
        if (p != NULL) {
            p->seen = true;
            continue;
        }
        p = calloc(1, sizeof(*p));
        if (p == NULL) {
            log_error("out of memory: backend %s is not health checked", be->name);
            continue;
        }
        p->h = h;
        p->be = be;
        backend_ref(be);
        p->fd = -1;
        p->seen = true;
        ev_init(&p->timer, timer_cb);
        p->timer.data = p;
        ev_init(&p->io, connected_cb);
        p->next = h->probes;
        h->probes = p;
        /* Spread the first checks over an interval: no thundering herd. */
        schedule(p, h->interval * (double)(rng_next(&h->rng) % 1000) / 1000.0);
    }
    for (pp = &h->probes; *pp != NULL;) {
        struct probe *p = *pp;

        if (p->seen) {
            pp = &p->next;
            continue;
        }
        *pp = p->next;
        probe_free(p);
    }
}

void health_free(struct health *h)
{
    if (h == NULL)
        return;
    while (h->probes != NULL) {
        struct probe *p = h->probes;

        h->probes = p->next;
        probe_free(p);
    }
    free(h);
}
