#include "lib/probe.h"
#include "lib/syserr.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void finish(struct probe *p, bool ok, const char *why)
{
    probe_cancel(p);
    if (ok)
        p->local = false;
    p->done(p, ok, why);
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
        /* "HTTP/1.1 200" */
        if (strncmp(p->buf, "HTTP/1.", 7) == 0 && (p->buf[9] == '2' || p->buf[9] == '3')) {
            finish(p, true, NULL);
            return;
        }
        snprintf(p->why, sizeof(p->why), "answered %.3s", p->buf + 9);
        finish(p, false, p->why);
        return;
    }
    if (n <= 0) {
        snprintf(p->why, sizeof(p->why), "%s",
                 n == 0 ? "closed without answering" : strerror(errno));
        finish(p, false, p->why);
    }
}

static void connected_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct probe *p = io->data;
    socklen_t len = sizeof(int);
    int err = 0;

    (void)revents;
    ev_io_stop(loop, io);
    if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    if (err != 0) {
        p->local = syserr_local(err);
        snprintf(p->why, sizeof(p->why), "%s", strerror(err));
        finish(p, false, p->why);
        return;
    }
    if (p->reqlen == 0) {
        finish(p, true, NULL);
        return;
    }
    if (send(p->fd, p->req, p->reqlen, MSG_NOSIGNAL) != (ssize_t)p->reqlen) {
        finish(p, false, "cannot send the check");
        return;
    }
    p->len = 0;
    ev_io_init(&p->io, read_cb, p->fd, EV_READ);
    p->io.data = p;
    ev_io_start(loop, &p->io);
}

static void deadline_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct probe *p = t->data;

    (void)loop;
    (void)revents;
    finish(p, false, p->why);
}

/* A failure found before the loop ran: reported from the loop (a timer
 * due at once), so done never runs inside probe_run. */
static void fail_soon(struct probe *p, const char *why)
{
    snprintf(p->why, sizeof(p->why), "%s", why);
    ev_timer_stop(p->loop, &p->deadline);
    ev_timer_set(&p->deadline, 0., 0.);
    ev_timer_start(p->loop, &p->deadline);
}

void probe_init(struct probe *p, struct ev_loop *loop,
                void (*done)(struct probe *p, bool ok, const char *why), void *data)
{
    memset(p, 0, sizeof(*p));
    p->loop = loop;
    p->done = done;
    p->data = data;
    p->fd = -1;
    ev_init(&p->io, connected_cb);
    ev_init(&p->deadline, deadline_cb);
    p->deadline.data = p;
}

void probe_run(struct probe *p, const struct sockaddr *addr, socklen_t addrlen, const char *path,
               const char *host, const char *agent, double timeout, const char *what)
{
    int n = 0;

    probe_cancel(p);
    p->busy = true;
    p->local = false;
    p->reqlen = 0;
    if (path != NULL) {
        n = snprintf(p->req, sizeof(p->req),
                     "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nConnection: close\r\n\r\n",
                     path, host, agent);
        if (n <= 0 || (size_t)n >= sizeof(p->req)) {
            fail_soon(p, "cannot send the check");
            return;
        }
        p->reqlen = (size_t)n;
    }
    if (timeout > 0) {
        snprintf(p->why, sizeof(p->why), "no answer within %s", what);
        ev_timer_set(&p->deadline, timeout, 0.);
        ev_timer_start(p->loop, &p->deadline);
    }
    p->fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (p->fd < 0 || (connect(p->fd, addr, addrlen) < 0 && errno != EINPROGRESS)) {
        p->local = syserr_local(errno);
        fail_soon(p, strerror(errno));
        return;
    }
    ev_io_init(&p->io, connected_cb, p->fd, EV_WRITE);
    p->io.data = p;
    ev_io_start(p->loop, &p->io);
}

void probe_cancel(struct probe *p)
{
    ev_io_stop(p->loop, &p->io);
    ev_timer_stop(p->loop, &p->deadline);
    if (p->fd >= 0)
        close(p->fd);
    p->fd = -1;
    p->busy = false;
}
