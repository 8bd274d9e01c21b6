#include "router/conn.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/log.h"
#include "router/buf.h"
#include "router/metrics.h"
#include "router/proxy_protocol.h"
#include "router/request.h"
#include "router/route.h"
#include "router/tls.h"
#include "router/worker.h"

#define LINGER_SECONDS 2.0
/* A first request in flight watches its client (a reset aborts it: 499)
 * once it has waited this long: a quicker answer never costs the socket
 * an epoll registration. */
#define CLIENT_WATCH_DELAY 0.01
#define FREE_CONNS_MAX 1024

static void read_cb(struct ev_loop *loop, ev_io *io, int revents);
static void write_cb(struct ev_loop *loop, ev_io *io, int revents);
static void timer_cb(struct ev_loop *loop, ev_timer *t, int revents);
static void parse_head(struct conn *c, uint32_t scan_from);
static void self_readable(struct conn *c);
static void self_writable(struct conn *c);
static void self_timeout(struct conn *c);

/* The states a connection serves itself: idle, reading a head, writing its
 * own answer, lingering. */
static const struct conn_ops self_ops = {self_readable, self_writable, self_timeout};

static ssize_t plain_read(struct conn *c, char *p, size_t len)
{
    return read(c->fd, p, len);
}

static ssize_t plain_write(struct conn *c, const char *p, size_t len)
{
    return send(c->fd, p, len, MSG_NOSIGNAL);
}

static void plain_shutdown(struct conn *c)
{
    shutdown(c->fd, SHUT_WR);
}

static bool plain_pending(const struct conn *c)
{
    (void)c;
    return false;
}

static void plain_close(struct conn *c)
{
    (void)c;
}

const struct conn_io conn_plain_io = {plain_read, plain_write, plain_shutdown, plain_pending, plain_close};

/* The config that governs c: its request's, so a reload does not change the
 * rules under a request in flight, else the worker's current one. */
static const struct conf *conn_conf(const struct conn *c)
{
    return c->req != NULL ? c->req->table->cref->conf : c->w->table->cref->conf;
}

static double timeout_seconds(const struct conn *c, enum conn_timeout kind)
{
    const struct conf_timeouts *t = &conn_conf(c)->timeouts;
    int64_t ms;

    switch (kind) {
    case T_HEADER:
        ms = t->client_header_ms;
        break;
    case T_BODY:
        ms = t->client_body_ms;
        break;
    case T_CONNECT:
        ms = t->connect_ms;
        break;
    case T_UPSTREAM:
        ms = t->upstream_ms;
        break;
    case T_LINGER:
        return LINGER_SECONDS;
    case T_TUNNEL:
        ms = t->tunnel_ms;
        break;
    case T_QUEUE:
        ms = t->queue_ms;
        break;
    case T_IDLE:
    case T_SEND:
    default:
        ms = t->idle_ms;
        break;
    }
    return (double)ms / 1000.0;
}

/* The timer only moves when the deadline comes earlier than it is set for;
 * a later deadline is noticed when it fires, so busy connections do not
 * touch the timer heap on every read. */
void conn_set_timeout(struct conn *c, enum conn_timeout kind)
{
    struct ev_loop *loop = c->w->loop;

    c->tkind = (uint8_t)kind;
    c->deadline = ev_now(loop) + timeout_seconds(c, kind);
    if (ev_is_active(&c->timer) && c->timer_at <= c->deadline)
        return;
    ev_timer_stop(loop, &c->timer);
    ev_timer_set(&c->timer, c->deadline - ev_now(loop), 0.);
    ev_timer_start(loop, &c->timer);
    c->timer_at = c->deadline;
}

void conn_touch(struct conn *c, enum conn_timeout kind)
{
    if (c->tkind == kind)
        c->deadline = ev_now(c->w->loop) + timeout_seconds(c, kind);
}

static void timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct conn *c = t->data;
    double now = ev_now(loop);

    (void)revents;
    if (c->watch_soon) {
        c->watch_soon = false;
        if (c->state == CS_PROXY)
            conn_read_start(c);
    }
    if (now < c->deadline - 0.0005) {
        ev_timer_set(t, c->deadline - now, 0.);
        ev_timer_start(loop, t);
        c->timer_at = c->deadline;
        return;
    }
    c->timed_out = true;
    c->ops->timeout(c);
}

static void self_timeout(struct conn *c)
{
    if (c->state == CS_HEAD && c->in != NULL && buf_len(c->in) > 0) {
        char why[96], d[32];

        snprintf(why, sizeof(why), "request head not received within %s",
                 conf_format_duration(conn_conf(c)->timeouts.client_header_ms, d, sizeof(d)));
        conn_reply_error(c, 408, why, false);
        return;
    }
    conn_close(c);
}

/* Arms the timer for CLIENT_WATCH_DELAY if it would fire later. */
static void watch_soon(struct conn *c)
{
    struct ev_loop *loop = c->w->loop;
    double at = ev_now(loop) + CLIENT_WATCH_DELAY;

    c->watch_soon = true;
    if (ev_is_active(&c->timer) && c->timer_at <= at)
        return;
    ev_timer_stop(loop, &c->timer);
    ev_timer_set(&c->timer, CLIENT_WATCH_DELAY, 0.);
    ev_timer_start(loop, &c->timer);
    c->timer_at = at;
}

void conn_read_start(struct conn *c)
{
    c->watch_soon = false;
    if (!c->reading && !c->rd_eof) {
        ev_io_start(c->w->loop, &c->rio);
        c->reading = true;
        /* TLS may hold decrypted bytes the socket will not announce. */
        if (c->io->pending(c))
            ev_feed_event(c->w->loop, &c->rio, EV_READ);
    }
}

void conn_read_stop(struct conn *c)
{
    c->watch_soon = false;
    if (c->reading) {
        ev_io_stop(c->w->loop, &c->rio);
        c->reading = false;
    }
}

static void set_ip(struct conn *c, const struct sockaddr *peer)
{
    if (peer->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)peer)->sin_addr, c->ip, sizeof(c->ip));
    else if (peer->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)peer)->sin6_addr, c->ip, sizeof(c->ip));
    else
        strcpy(c->ip, "unix");
}

void conn_accept(struct worker *w, int fd, const struct sockaddr *peer, uint16_t listen_port,
                 bool await_proxy, const struct conf_tls *tls)
{
    struct conn *c = w->free_conns;

    if (c != NULL) {
        w->free_conns = c->next;
        w->nfree_conns--;
    } else if ((c = malloc(sizeof(*c))) == NULL) {
        close(fd);
        return;
    }
    memset(c, 0, sizeof(*c));
    c->w = w;
    c->ops = &self_ops;
    c->io = &conn_plain_io;
    c->fd = fd;
    c->listen_port = listen_port;
    c->await_proxy = await_proxy;
    set_ip(c, peer); /* TCP_NODELAY came from the listener */
    ev_io_init(&c->rio, read_cb, fd, EV_READ);
    c->rio.data = c;
    ev_io_init(&c->wio, write_cb, fd, EV_WRITE);
    c->wio.data = c;
    ev_init(&c->timer, timer_cb);
    c->timer.data = c;
    c->next = w->conns;
    if (w->conns != NULL)
        w->conns->prev = c;
    else
        w->conns_tail = c;
    w->conns = c;
    counter_set(&w->g_conns, ++w->nconns);
    if (tls != NULL && tls_start(c, tls) < 0) {
        conn_close(c);
        return;
    }
    /* A new connection has client_header to send its first request (and
     * to finish its TLS handshake before). */
    c->state = CS_IDLE;
    conn_set_timeout(c, T_HEADER);
    /* The first request is usually there already: read it now, not after
     * a trip through epoll. One that went upstream complete is watched
     * only if its answer is slow (watch_soon): a `Connection: close`
     * client answered quickly never joins epoll at all. */
    self_readable(c);
    if (c->state == CS_IDLE || c->state == CS_HEAD)
        conn_read_start(c);
    else if (c->state == CS_PROXY && !c->reading && !c->rd_eof)
        watch_soon(c);
}

void conn_close(struct conn *c)
{
    struct worker *w = c->w;

    if (c->state == CS_CLOSED)
        return;
    request_end(c, false);
    ev_io_stop(w->loop, &c->rio);
    ev_io_stop(w->loop, &c->wio);
    ev_timer_stop(w->loop, &c->timer);
    c->io->close(c);
    close(c->fd);
    c->fd = -1;
    buf_put(&w->bufs, c->in);
    buf_put(&w->bufs, c->reply);
    c->in = c->reply = NULL;
    c->state = CS_CLOSED;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    else
        w->conns_tail = c->prev;
    c->prev = NULL;
    c->next = w->dead_conns;
    w->dead_conns = c;
    counter_set(&w->g_conns, --w->nconns);
}

/* Closes after a response when the client may still be sending: our FIN
 * goes out, and what the client sends is read and dropped for a moment, so
 * the kernel does not answer it with a reset that could destroy the
 * response before the client read it. */
static void close_lingering(struct conn *c)
{
    if (c->rd_eof) {
        conn_close(c);
        return;
    }
    c->io->shutdown(c);
    c->state = CS_LINGER;
    conn_set_timeout(c, T_LINGER);
    conn_read_start(c);
}

void conn_request_done(struct conn *c, bool keep_alive)
{
    struct worker *w = c->w;
    struct request *req = c->req;
    struct buf *b = c->in;
    bool body_pending = req != NULL && !req->req_done;

    request_end(c, true);
    c->ops = &self_ops;
    if (!keep_alive || w->stopping || w->parting || c->rd_eof) {
        if (body_pending || buf_len_or_zero(b) > 0)
            close_lingering(c);
        else
            conn_close(c);
        return;
    }
    if (b != NULL && buf_len(b) > 0) {
        /* The next request is already here (pipelining). */
        buf_compact(b);
        c->state = CS_HEAD;
        c->t_first = ev_now(w->loop);
        conn_set_timeout(c, T_HEADER);
        conn_read_start(c);
        ev_feed_event(w->loop, &c->rio, EV_CUSTOM);
        return;
    }
    buf_put(&w->bufs, b);
    c->in = NULL;
    c->state = CS_IDLE;
    c->served++;
    c->idle_since = ev_now(w->loop);
    conn_set_timeout(c, T_IDLE);
    conn_read_start(c);
}

static void reply_write(struct conn *c)
{
    struct buf *b = c->reply;

    while (buf_len(b) > 0) {
        ssize_t n = conn_send(c, b->data + b->start, buf_len(b));

        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                ev_io_start(c->w->loop, &c->wio);
                conn_set_timeout(c, T_SEND);
                return;
            }
            conn_close(c);
            return;
        }
        b->start += (uint32_t)n;
    }
    ev_io_stop(c->w->loop, &c->wio);
    buf_put(&c->w->bufs, b);
    c->reply = NULL;
    conn_request_done(c, c->req != NULL && c->req->keep_alive);
}

/* RFC 9112 6.3: an answer to HEAD ends with its head; a client would read
 * a body as the next response. A refused head counts once its request line
 * starts with the HEAD token. */
static bool answers_head(const struct conn *c, const struct request *req)
{
    const struct buf *b = c->in;

    if (req->has_method)
        return req->method == HTTP_HEAD;
    return b != NULL && buf_len(b) >= 5 && memcmp(b->data + b->start, "HEAD ", 5) == 0;
}

/* Takes a reply buffer and decides the connection's fate; NULL (and the
 * connection closed) when out of memory. */
static struct request *reply_begin(struct conn *c, bool *keep_alive, enum http_conn_header *hdr)
{
    struct worker *w = c->w;
    struct request *req = c->req != NULL ? c->req : request_begin(c);

    if (req == NULL || (c->reply = buf_get(&w->bufs)) == NULL) {
        conn_close(c);
        return NULL;
    }
    *keep_alive = *keep_alive && req->client_keep_alive && !w->stopping && !w->parting && !c->rd_eof;
    req->keep_alive = *keep_alive;
    if (!*keep_alive)
        *hdr = HTTP_CONN_CLOSE;
    else
        *hdr = req->minor == 0 ? HTTP_CONN_KEEP_ALIVE : HTTP_CONN_NONE;
    return req;
}

/* Sends the len bytes written at c->reply->start. */
static void reply_send(struct conn *c, struct request *req, int status, size_t len, bool keep_alive)
{
    char *head_end;

    c->reply->end = c->reply->start + (uint32_t)len;
    head_end = memmem(c->reply->data + c->reply->start, len, "\r\n\r\n", 4);
    req->status = status;
    req->body_out = head_end != NULL ? len - (size_t)(head_end + 4 - (c->reply->data + c->reply->start)) : 0;
    if (answers_head(c, req)) {
        c->reply->end -= (uint32_t)req->body_out;
        req->body_out = 0;
    }
    c->state = CS_REPLY;
    c->ops = &self_ops;
    if (!keep_alive)
        conn_read_stop(c);
    reply_write(c);
}

void conn_reply_error(struct conn *c, int status, const char *reason, bool keep_alive)
{
    enum http_conn_header hdr;
    struct request *req = reply_begin(c, &keep_alive, &hdr);
    size_t len;

    if (req == NULL)
        return;
    len = http_write_error(status, reason, req->id, hdr, c->reply->data + c->reply->start,
                           c->reply->cap - c->reply->start);
    reply_send(c, req, status, len, keep_alive);
}

void conn_reply_final(struct conn *c, const struct http_head *h, bool keep_alive)
{
    enum http_conn_header hdr;
    struct request *req = reply_begin(c, &keep_alive, &hdr);
    char *out;
    size_t cap, len;

    if (req == NULL)
        return;
    out = c->reply->data + c->reply->start;
    cap = c->reply->cap - c->reply->start;
    if (h->method == HTTP_TRACE)
        len = http_write_trace(h, req->id, hdr, out, cap);
    else
        len = http_write_reply(200, "Allow: " HTTP_ALLOW "\r\n", "", 0, req->id, hdr, out, cap);
    if (len == 0) {
        buf_put(&c->w->bufs, c->reply);
        c->reply = NULL;
        conn_reply_error(c, 431, "request head too large to echo", false);
        return;
    }
    reply_send(c, req, 200, len, keep_alive);
}

LOG_LIMIT(proxy_refused, "PROXY protocol refusals", 10.0);
LOG_LIMIT(tls_on_plain, "TLS handshakes on plain ports", 60.0);

/* Takes the PROXY header off the front of c->in: true once it is gone and
 * HTTP may follow, false while more is needed or when the connection was
 * closed for a bad one. Before anything else: a v2 header starts with the
 * CRLFs that are skipped before a request line. */
static bool take_proxy_header(struct conn *c)
{
    struct buf *b = c->in;
    struct pp_header pp;
    const char *why;
    long n = pp_parse(b->data + b->start, buf_len(b), &pp, &why);

    if (n == 0)
        return false;
    if (n < 0) {
        counter_add(&c->w->metrics->proxy_rejected[strcmp(why, "no PROXY protocol header") == 0
                                                       ? PP_MISSING
                                                       : PP_MALFORMED],
                    1);
        log_limited(&proxy_refused, LOG_WARN, "connection from %s closed: %s", c->ip, why);
        conn_close(c);
        return false;
    }
    b->start += (uint32_t)n;
    c->await_proxy = false;
    if (!pp.local)
        set_ip(c, (const struct sockaddr *)&pp.src);
    return true;
}

/* Parses the head at c->in->start once a line has ended since scan_from
 * (or at once on a connection's first bytes, so garbage is answered
 * without waiting for a newline that may never come). */
static void parse_head(struct conn *c, uint32_t scan_from)
{
    struct worker *w = c->w;
    struct buf *b = c->in;
    struct http_head *h = &w->head;
    const struct conf *conf = conn_conf(c);
    int r;

    if (c->await_proxy && !take_proxy_header(c))
        return;
    if (c->refuse != NULL) {
        conn_reply_error(c, 400, c->refuse, false);
        return;
    }
    if (c->served == 0 && c->io == &conn_plain_io && buf_len(b) >= 3 && b->data[b->start] == 0x16 &&
        b->data[b->start + 1] == 0x03)
        log_limited(&tls_on_plain, LOG_WARN, "a TLS handshake from %s on plain HTTP port %u",
                    c->ip, (unsigned)c->listen_port);

    /* RFC 9112 2.2: empty lines before a request line are ignored (some
     * clients send a CRLF after a POST body). */
    while (buf_len(b) >= 2 && b->data[b->start] == '\r' && b->data[b->start + 1] == '\n')
        b->start += 2;
    if (buf_len(b) == 0 || (buf_len(b) == 1 && b->data[b->start] == '\r'))
        return;
    if (scan_from < b->start)
        scan_from = b->start;
    if (scan_from > b->start && memchr(b->data + scan_from, '\n', b->end - scan_from) == NULL) {
        r = HTTP_HEAD_AGAIN;
    } else {
        r = http_parse_head(&c->parser, HTTP_REQUEST, h, b->data + b->start, buf_len(b));
    }
    if (r == HTTP_HEAD_AGAIN) {
        if (buf_len(b) >= conf->limits.max_header_bytes || buf_room(b) == 0) {
            const char *eol = memchr(b->data + b->start, '\n', buf_len(b));

            /* Still in the request line: it is the target that is too long. */
            if (eol == NULL || eol - (b->data + b->start) > HTTP_MAX_TARGET)
                conn_reply_error(c, 414, "request target longer than 8 KiB", false);
            else
                conn_reply_error(c, 431, "request head larger than limits.max_header_bytes", false);
        }
        return;
    }
    if (r == HTTP_HEAD_BAD) {
        conn_reply_error(c, h->err_status, h->err_reason, false);
        return;
    }
    if (h->len > conf->limits.max_header_bytes) {
        conn_reply_error(c, 431, "request head larger than limits.max_header_bytes", false);
        return;
    }
    if (request_begin_head(c, h) == NULL) {
        conn_close(c);
        return;
    }
    w->serve(c, h);
}

long conn_fill(struct conn *c)
{
    struct buf *b;
    ssize_t n;

    if (c->in == NULL && (c->in = buf_get(&c->w->bufs)) == NULL) {
        conn_close(c);
        return -1;
    }
    b = c->in;
    if (buf_room(b) == 0) {
        conn_read_stop(c);
        return -1;
    }
    n = conn_recv(c, b->data + b->end, buf_room(b));
    if (n < 0) {
        if (errno != EAGAIN && errno != EINTR)
            conn_close(c);
        return -1;
    }
    b->end += (uint32_t)n;
    return n;
}

static void self_readable(struct conn *c)
{
    long n;

    if (c->state == CS_LINGER && c->in != NULL)
        c->in->start = c->in->end = BUF_HEADROOM; /* drop what the client still sends */
    n = conn_fill(c);
    if (n < 0) {
        /* A TLS handshake's reads bring no request bytes: an idle
         * connection holds no buffer. */
        if (c->state == CS_IDLE && c->in != NULL && buf_len(c->in) == 0) {
            buf_put(&c->w->bufs, c->in);
            c->in = NULL;
        }
        return;
    }
    if (n == 0) {
        if (c->state == CS_REPLY) {
            c->rd_eof = true;
            conn_read_stop(c);
            return;
        }
        conn_close(c);
        return;
    }
    switch (c->state) {
    case CS_IDLE:
        c->state = CS_HEAD;
        c->t_first = ev_now(c->w->loop);
        conn_set_timeout(c, T_HEADER);
        parse_head(c, c->in->start);
        return;
    case CS_HEAD:
        parse_head(c, c->in->end - (uint32_t)n);
        return;
    case CS_REPLY:
        /* The next request, read ahead; parsed once the reply is out. */
        if (buf_room(c->in) == 0)
            conn_read_stop(c);
        return;
    default:
        return;
    }
}

static void self_writable(struct conn *c)
{
    if (c->state == CS_REPLY)
        reply_write(c);
    else
        ev_io_stop(c->w->loop, &c->wio);
}

static void read_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct conn *c = io->data;

    (void)loop;
    /* Fed by conn_request_done: a pipelined head is already buffered. */
    if (revents & EV_CUSTOM) {
        if (c->state == CS_HEAD && c->in != NULL)
            parse_head(c, c->in->start);
        return;
    }
    c->ops->readable(c);
}

static void write_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct conn *c = io->data;

    (void)loop;
    (void)revents;
    c->ops->writable(c);
}

void conn_reap(struct worker *w)
{
    struct conn *c;

    while ((c = w->dead_conns) != NULL) {
        w->dead_conns = c->next;
        if (w->nfree_conns < FREE_CONNS_MAX) {
            c->next = w->free_conns;
            w->free_conns = c;
            w->nfree_conns++;
        } else {
            free(c);
        }
    }
}

void conn_free_all(struct worker *w)
{
    struct conn *c;

    while (w->conns != NULL)
        conn_close(w->conns);
    conn_reap(w);
    while ((c = w->free_conns) != NULL) {
        w->free_conns = c->next;
        free(c);
    }
    w->nfree_conns = 0;
    request_free_all(w);
}
