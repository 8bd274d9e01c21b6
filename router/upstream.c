#include "router/upstream.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "router/backend.h"
#include "router/buf.h"
#include "router/worker.h"

static void idle_unlink(struct upstream *up)
{
    struct backend_slot *slot = &up->be->slot[up->w->id];

    if (up->prev != NULL)
        up->prev->next = up->next;
    else
        slot->idle = up->next;
    if (up->next != NULL)
        up->next->prev = up->prev;
    up->next = up->prev = NULL;
    slot->nidle--;
}

void upstream_read_start(struct upstream *up)
{
    if (!up->reading) {
        ev_io_start(up->w->loop, &up->rio);
        up->reading = true;
    }
}

void upstream_read_stop(struct upstream *up)
{
    if (up->reading) {
        ev_io_stop(up->w->loop, &up->rio);
        up->reading = false;
    }
}

static void read_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct upstream *up = io->data;
    char byte;
    ssize_t n;

    (void)loop;
    (void)revents;
    if (up->state == US_BUSY) {
        up->ops->readable(up);
        return;
    }
    /* Idle: the backend closed the connection, or sent bytes nobody asked
     * for. Either way it cannot carry another request. */
    n = recv(up->fd, &byte, 1, MSG_PEEK);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    upstream_close(up);
}

static void write_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct upstream *up = io->data;
    int err = 0;
    socklen_t len = sizeof(err);

    (void)revents;
    if (up->state == US_CONNECTING) {
        ev_io_stop(loop, &up->wio);
        if (getsockopt(up->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
            err = errno;
        if (err == 0) {
            up->state = US_BUSY;
            upstream_read_start(up);
        }
        up->ops->connected(up, err);
        return;
    }
    if (up->state == US_BUSY)
        up->ops->writable(up);
    else
        ev_io_stop(loop, &up->wio);
}

/* A repeating timer per connection instead of one started and stopped per
 * request: while busy it does nothing, while idle it closes the connection
 * once it has been idle long enough. */
static void idle_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct upstream *up = t->data;
    double left;

    (void)revents;
    if (up->state != US_IDLE) {
        t->repeat = UPSTREAM_POOL_IDLE;
        ev_timer_again(loop, t);
        return;
    }
    left = up->idle_since + UPSTREAM_POOL_IDLE - ev_now(loop);
    if (left <= 0.001) {
        upstream_close(up);
        return;
    }
    t->repeat = left;
    ev_timer_again(loop, t);
}

static struct upstream *upstream_alloc(struct worker *w)
{
    struct upstream *up = w->free_ups;

    if (up != NULL)
        w->free_ups = up->next;
    else
        up = malloc(sizeof(*up));
    if (up != NULL)
        memset(up, 0, sizeof(*up));
    return up;
}

struct upstream *upstream_connect(struct worker *w, struct backend *be)
{
    const struct conf_addr *addr = &be->addr;
    struct upstream *up;
    int fd, one = 1, r;

    fd = socket(addr->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return NULL;
    if (addr->ss.ss_family != AF_UNIX)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    r = connect(fd, (const struct sockaddr *)&addr->ss, addr->len);
    if (r < 0 && errno != EINPROGRESS) {
        int saved = errno;

        close(fd);
        errno = saved;
        return NULL;
    }
    up = upstream_alloc(w);
    if (up == NULL) {
        close(fd);
        errno = ENOMEM;
        return NULL;
    }
    up->w = w;
    up->be = be;
    backend_ref(be);
    counter_add(&be->slot[w->id].connects, 1);
    counter_add(&be->slot[w->id].conns, 1);
    counter_set(&w->g_upstreams, ++w->nups);
    up->fd = fd;
    ev_io_init(&up->rio, read_cb, fd, EV_READ);
    up->rio.data = up;
    ev_io_init(&up->wio, write_cb, fd, EV_WRITE);
    up->wio.data = up;
    ev_timer_init(&up->idle_timer, idle_timer_cb, UPSTREAM_POOL_IDLE, UPSTREAM_POOL_IDLE);
    up->idle_timer.data = up;
    ev_timer_start(w->loop, &up->idle_timer);
    if (r == 0) {
        up->state = US_BUSY;
        upstream_read_start(up);
    } else {
        up->state = US_CONNECTING;
        ev_io_start(w->loop, &up->wio);
    }
    return up;
}

struct upstream *upstream_take_idle(struct worker *w, struct backend *be)
{
    struct upstream *up = be->slot[w->id].idle;

    if (up == NULL)
        return NULL;
    idle_unlink(up);
    up->state = US_BUSY;
    return up;
}

void upstream_release(struct upstream *up, bool reusable)
{
    struct worker *w = up->w;
    struct backend_slot *slot = &up->be->slot[w->id];

    up->c = NULL;
    up->ops = NULL;
    buf_put(&w->ubufs, up->in);
    up->in = NULL;
    if (!reusable || w->stopping || slot->nidle >= UPSTREAM_POOL_MAX ||
        atomic_load_explicit(&up->be->retired, memory_order_relaxed)) {
        upstream_close(up);
        return;
    }
    ev_io_stop(w->loop, &up->wio);
    /* The read watcher stays on: it notices the backend closing. */
    upstream_read_start(up);
    up->state = US_IDLE;
    up->reused = true;
    up->idle_since = ev_now(w->loop);
    up->prev = NULL;
    up->next = slot->idle;
    if (up->next != NULL)
        up->next->prev = up;
    slot->idle = up;
    slot->nidle++;
}

void upstream_close(struct upstream *up)
{
    struct worker *w = up->w;

    if (up->state == US_CLOSED)
        return;
    if (up->state == US_IDLE)
        idle_unlink(up);
    ev_io_stop(w->loop, &up->rio);
    ev_io_stop(w->loop, &up->wio);
    ev_timer_stop(w->loop, &up->idle_timer);
    close(up->fd);
    up->fd = -1;
    counter_set(&up->be->slot[w->id].conns, counter_get(&up->be->slot[w->id].conns) - 1);
    counter_set(&w->g_upstreams, --w->nups);
    buf_put(&w->ubufs, up->in);
    up->in = NULL;
    up->state = US_CLOSED;
    up->c = NULL;
    /* Freed by the worker's reaper: a callback up the stack may still look. */
    up->next = w->dead_ups;
    w->dead_ups = up;
}

void upstream_close_idle(struct worker *w, struct backend *be)
{
    struct backend_slot *slot = &be->slot[w->id];

    while (slot->idle != NULL)
        upstream_close(slot->idle);
}

void upstream_reap(struct worker *w)
{
    struct upstream *up;

    while ((up = w->dead_ups) != NULL) {
        w->dead_ups = up->next;
        backend_unref(up->be);
        up->next = w->free_ups;
        w->free_ups = up;
    }
}

void upstream_free_all(struct worker *w)
{
    struct upstream *up;

    upstream_reap(w);
    while ((up = w->free_ups) != NULL) {
        w->free_ups = up->next;
        free(up);
    }
}
