#include "router/tunnel.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/log.h"
#include "router/buf.h"
#include "router/conn.h"
#include "router/request.h"
#include "router/upstream.h"
#include "router/worker.h"

/* Reads and writes per direction per event: a busy tunnel cannot starve
 * the other connections of the worker. */
#define ROUNDS 16

enum { TO_BACKEND, TO_CLIENT };

static void client_event(struct conn *c);
static void tunnel_timeout(struct conn *c);
static void upstream_connected(struct upstream *up, int err);
static void upstream_event(struct upstream *up);

static const struct conn_ops tunnel_client_ops = {client_event, client_event, tunnel_timeout};
static const struct upstream_ops tunnel_upstream_ops = {upstream_connected, upstream_event,
                                                        upstream_event};

/* One direction's view of the two connections. */
struct way {
    struct buf **buf;
    struct buf_pool *pool;
    bool *src_eof, *dst_shut;
};

static struct way way_of(struct conn *c, int dir)
{
    struct request *req = c->req;

    if (dir == TO_BACKEND)
        return (struct way){&c->in, &c->w->bufs, &req->tun_client_eof, &req->tun_backend_shut};
    return (struct way){&c->up->in, &c->w->ubufs, &req->tun_backend_eof, &req->tun_client_shut};
}

/* The client's side goes through its conn_io (TLS or not); the backend's
 * is a plain socket. */
static ssize_t src_recv(struct conn *c, int dir, char *p, size_t len)
{
    return dir == TO_BACKEND ? conn_recv(c, p, len) : read(c->up->fd, p, len);
}

static ssize_t dst_send(struct conn *c, int dir, const char *p, size_t len)
{
    return dir == TO_BACKEND ? send(c->up->fd, p, len, MSG_NOSIGNAL) : conn_send(c, p, len);
}

static void dst_shutdown(struct conn *c, int dir)
{
    if (dir == TO_BACKEND)
        shutdown(c->up->fd, SHUT_WR);
    else
        c->io->shutdown(c);
}

static void src_read(struct conn *c, int dir, bool on)
{
    if (dir == TO_BACKEND)
        on ? conn_read_start(c) : conn_read_stop(c);
    else
        on ? upstream_read_start(c->up) : upstream_read_stop(c->up);
}

static void dst_write(struct conn *c, int dir, bool on)
{
    ev_io *wio = dir == TO_BACKEND ? &c->up->wio : &c->wio;

    if (on)
        ev_io_start(c->w->loop, wio);
    else
        ev_io_stop(c->w->loop, wio);
}

/* Moves what it can in one direction. Returns -1 when the tunnel broke. */
static int flow(struct conn *c, int dir)
{
    struct request *req = c->req;
    struct way wy = way_of(c, dir);

    for (int round = 0; round < ROUNDS; round++) {
        struct buf *b = *wy.buf;
        ssize_t n;

        if (b != NULL && buf_len(b) > 0) {
            n = dst_send(c, dir, b->data + b->start, buf_len(b));
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                if (errno != EAGAIN)
                    return -1;
                /* Back-pressure: stop reading until the other side drains. */
                dst_write(c, dir, true);
                src_read(c, dir, false);
                return 0;
            }
            if (dir == TO_CLIENT) {
                uint32_t head = (uint32_t)n < req->resp_head_left ? (uint32_t)n : req->resp_head_left;

                req->resp_head_left -= head;
                req->body_out += (uint64_t)n - head;
            }
            b->start += (uint32_t)n;
            conn_touch(c, T_TUNNEL);
            continue;
        }
        dst_write(c, dir, false);
        if (*wy.src_eof) {
            if (!*wy.dst_shut) {
                dst_shutdown(c, dir);
                *wy.dst_shut = true;
            }
            return 0;
        }
        if (b == NULL && (b = *wy.buf = buf_get(wy.pool)) == NULL)
            return -1;
        b->start = b->end = BUF_HEADROOM;
        n = src_recv(c, dir, b->data + b->end, buf_room(b));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN)
                return -1;
            /* Nothing to move: an idle tunnel holds no buffer. */
            buf_put(wy.pool, b);
            *wy.buf = NULL;
            src_read(c, dir, true);
            return 0;
        }
        if (n == 0) {
            *wy.src_eof = true;
            src_read(c, dir, false);
            continue;
        }
        b->end += (uint32_t)n;
        conn_touch(c, T_TUNNEL);
    }
    /* Out of rounds: come back on the next readiness. */
    if (*wy.buf != NULL && buf_len(*wy.buf) > 0)
        dst_write(c, dir, true);
    else if (!*wy.src_eof)
        src_read(c, dir, true);
    return 0;
}

/* Any readiness on either socket. */
static void client_event(struct conn *c)
{
    struct request *req = c->req;

    if (flow(c, TO_BACKEND) < 0 || flow(c, TO_CLIENT) < 0) {
        conn_close(c);
        return;
    }
    /* Both ways closed and passed on: the tunnel is over. */
    if (req->tun_client_shut && req->tun_backend_shut)
        conn_close(c);
}

static void upstream_event(struct upstream *up)
{
    client_event(up->c);
}

/* A tunnel's upstream is connected long before: never called. */
static void upstream_connected(struct upstream *up, int err)
{
    (void)err;
    conn_close(up->c);
}

void tunnel_start(struct conn *c)
{
    c->state = CS_TUNNEL;
    c->ops = &tunnel_client_ops;
    c->up->ops = &tunnel_upstream_ops;
    c->rd_eof = false;
    conn_set_timeout(c, T_TUNNEL);
    client_event(c);
}

static void tunnel_timeout(struct conn *c)
{
    log_debug("tunnel of %s idle for timeouts.tunnel: closed", c->ip);
    conn_close(c);
}
