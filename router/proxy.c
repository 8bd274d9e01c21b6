#include "router/proxy.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/syserr.h"
#include "router/accesslog.h"
#include "router/backend.h"
#include "router/buf.h"
#include "router/conn.h"
#include "router/queue.h"
#include "router/request.h"
#include "router/route.h"
#include "router/tunnel.h"
#include "router/upstream.h"
#include "router/worker.h"

/* Data flow. Both directions move bytes the same way: they are read into
 * the source side's buffer, parsed only far enough to know where the
 * message ends, and written from that same buffer to the other socket. The
 * rewritten head is copied over the tail of the original head (the buffer
 * keeps BUF_HEADROOM free in front for what rewriting adds), so head and
 * first body bytes leave in one send(2).
 *
 *   c->in:   [start ............ req_fwd .......... end)
 *             to the backend      next pipelined request / unparsed
 *   up->in:  [start ............ resp_fwd ......... end)
 *             to the client       (nothing: a reusable upstream sends no more)
 */

static const struct conf *req_conf(const struct request *req)
{
    return req->table->cref->conf;
}

static bool idempotent(uint8_t method)
{
    switch (method) {
    case HTTP_GET:
    case HTTP_HEAD:
    case HTTP_PUT:
    case HTTP_DELETE:
    case HTTP_OPTIONS:
    case HTTP_TRACE:
        return true;
    default:
        return false;
    }
}

static void fail(struct conn *c, int status, const char *reason);
static void connect_backend(struct conn *c);
static void client_readable(struct conn *c);
static void client_writable(struct conn *c);
static void proxy_timeout(struct conn *c);
static void upstream_connected(struct upstream *up, int err);
static void upstream_readable(struct upstream *up);
static void upstream_writable(struct upstream *up);

static const struct conn_ops proxy_client_ops = {client_readable, client_writable, proxy_timeout};
static const struct upstream_ops proxy_upstream_ops = {upstream_connected, upstream_readable,
                                                       upstream_writable};

/* Waits for a backend under its max_inflight: 503 at once when the route's
 * queue is full. */
static void enqueue(struct conn *c)
{
    struct request *req = c->req;
    char why[256];

    if (queue_enter(&c->w->queue, c, req_conf(req)->limits.max_queue) < 0) {
        snprintf(why, sizeof(why),
                 "every backend of route %s is at max_inflight and its queue is full",
                 req->route->label);
        fail(c, 503, why);
        return;
    }
    conn_set_timeout(c, T_QUEUE);
}

void proxy_place(struct conn *c)
{
    connect_backend(c);
}

static void attach(struct conn *c, struct upstream *up)
{
    c->up = up;
    up->c = c;
    up->ops = &proxy_upstream_ops;
}

static void backend_failed(struct conn *c, struct backend *be, const char *what, int err)
{
    int64_t now = worker_now_ms(c->w);
    int64_t hold = req_conf(c->req)->health.interval_ms;

    counter_add(&be->slot[c->w->id].failures, 1);
    if (now >= atomic_load_explicit(&be->down_until_ms, memory_order_relaxed))
        log_warn("backend %s: %s: %s; skipping it for %lldms", be->name, what, strerror(err),
                 (long long)hold);
    backend_mark_failed(be, now, hold);
}

LOG_LIMIT(local_limit, "connects failing on drover's own limits", 10.0);

/* A connect that failed with err, when err is drover's own trouble (out of
 * descriptors, ports, memory): 503 at once, the backend not blamed, since
 * any other backend would fail the same way. False for a backend's fault. */
static bool local_connect_error(struct conn *c, int err)
{
    char why[160];

    if (!syserr_local(err))
        return false;
    log_limited(&local_limit, LOG_WARN,
                "cannot connect to backend %s: %s (drover's own limit: the backend is not marked down)",
                c->req->be->name, strerror(err));
    snprintf(why, sizeof(why), "drover cannot open a connection to a backend: %s", strerror(err));
    request_detach_upstream(c, false);
    request_unbind_backend(c);
    fail(c, 503, why);
    return true;
}

/* The request failed before any response byte reached the client: answer
 * it ourselves. The connection stays open only when the client's request
 * was read to its end. */
static void fail(struct conn *c, int status, const char *reason)
{
    struct request *req = c->req;
    bool keep = req->req_done && req->client_keep_alive;

    request_detach_upstream(c, false);
    request_unbind_backend(c);
    if (keep)
        c->in->start = req->req_fwd; /* skip what the backend did not take */
    conn_reply_error(c, status, reason, keep);
}

/* Something broke after the response started: nothing sensible can be said
 * to the client any more, so both connections close (request_end lets the
 * upstream go). */
static void abort_both(struct conn *c)
{
    conn_close(c);
}

static void send_request(struct conn *c);

static void bad_gateway(struct conn *c, const char *reason)
{
    struct request *req = c->req;

    if (req->be != NULL)
        counter_add(&req->be->slot[c->w->id].failures, 1);
    if (req->resp_started)
        abort_both(c);
    else
        fail(c, 502, reason);
}

/* Parses request body bytes from req_fwd on and moves req_fwd past those
 * that belong to this request. Returns false when the request failed. */
static bool parse_request_body(struct conn *c)
{
    struct request *req = c->req;
    struct buf *b = c->in;
    const struct conf *conf = req_conf(req);
    bool done;
    long n;

    if (req->req_done || b->end == req->req_fwd)
        return true;
    n = http_parse_body(&c->parser, b->data + req->req_fwd, b->end - req->req_fwd, &done);
    if (n < 0) {
        if (req->resp_started)
            abort_both(c);
        else
            fail(c, req->req_parse.err_status, req->req_parse.err_reason);
        return false;
    }
    req->req_fwd += (uint32_t)n;
    req->req_done = done;
    if (conf->limits.max_body_bytes != 0 && req->req_parse.bytes > conf->limits.max_body_bytes) {
        if (req->resp_started)
            abort_both(c);
        else
            fail(c, 413, "request body larger than limits.max_body_bytes");
        return false;
    }
    return true;
}

void proxy_start(struct conn *c, struct http_head *h)
{
    struct worker *w = c->w;
    struct request *req = c->req;
    struct buf *b = c->in;
    const struct conf *conf = req_conf(req);
    struct http_request_rewrite rw;
    const char *host, *path, *authority;
    size_t hostlen, pathlen, authlen, len;
    uint32_t head_end = b->start + h->len;
    struct route_rt *r;

    req->client_keep_alive = h->minor == 1 ? !h->conn_close : h->conn_keep_alive && !h->conn_close;
    req->req_body = (uint8_t)http_request_body_kind(&c->parser);
    req->req_done = req->req_body == BODY_NONE;
    req->req_fwd = head_end;
    if (req->req_body == BODY_LENGTH && conf->limits.max_body_bytes != 0 &&
        c->parser.content_length > conf->limits.max_body_bytes) {
        conn_reply_error(c, 413, "request body larger than limits.max_body_bytes", false);
        return;
    }

    /* RFC 9110 7.6.2: an OPTIONS or TRACE with no hop left is answered
     * here, as its final recipient, whatever the route. */
    if ((h->method == HTTP_OPTIONS || h->method == HTTP_TRACE) && http_max_forwards(h) == 0) {
        if (req->req_body != BODY_NONE) {
            conn_reply_error(c, 400, "a request answered at Max-Forwards: 0 has no body", false);
            return;
        }
        b->start = head_end;
        conn_reply_final(c, h, true);
        return;
    }
    host = http_header_value(h, H_HOST, &hostlen);
    http_target_parts(h, &path, &pathlen, &authority, &authlen);
    if (authority != NULL) {
        host = authority;
        hostlen = authlen;
    }
    r = route_match(req->table, host, hostlen, path, pathlen);
    if (r == NULL) {
        b->start = head_end; /* a request without body ends at its head */
        conn_reply_error(c, 404, "no route for this host and path", req->req_done);
        return;
    }
    req->route = r;

    rw.client_ip = c->ip;
    rw.listen_port = c->listen_port;
    rw.https = c->io != &conn_plain_io;
    rw.request_id = req->id;
    rw.request_id_len = req->idlen;
    rw.start_ms = req->start_ms;
    rw.strip = route_strip_len(r, pathlen);
    rw.host = ""; /* RFC 9112 3.2: an empty Host when the client gave none */
    /* Connection: upgrade and Upgrade go up only when both are there. */
    /* RFC 9110 7.8: an Upgrade in an HTTP/1.0 request is ignored. */
    req->upgrade = h->conn_upgrade && h->count[H_UPGRADE] > 0 && h->minor == 1;
    rw.tunnel = req->upgrade;
    len = http_write_request(h, &rw, w->scratch, w->ubufs.cap);
    if (len == 0 || len > head_end) {
        conn_reply_error(c, 431, "request head too large", false);
        return;
    }
    req->out_start = head_end - (uint32_t)len;
    memcpy(b->data + req->out_start, w->scratch, len);
    b->start = req->out_start;
    req->rewindable = true;
    c->state = CS_PROXY;
    c->ops = &proxy_client_ops;

    if (!req->req_done) {
        llhttp_resume(&c->parser);
        http_body_init(&c->parser, &req->req_parse, (uint32_t)conf->limits.max_header_bytes);
        if (!parse_request_body(c))
            return;
    }
    connect_backend(c);
}

/* Picks a backend and gets a connection to it: a pooled one when there is
 * one, else a new one. Connect failures try the next backend, up to
 * `retries` more. */
static void connect_backend(struct conn *c)
{
    struct worker *w = c->w;
    struct request *req = c->req;
    struct route_rt *r = req->route;
    const struct conf *conf = req_conf(req);
    char why[256], d[32];

    for (;;) {
        struct backend *be;
        struct upstream *up;
        int idx;

        if (req->pick.ntried > (unsigned)conf->retries || req->pick.ntried == BALANCE_MAX_TRIED) {
            idx = -1;
        } else {
            req->pick.now_ms = worker_now_ms(w);
            req->pick.rng = &w->rng;
            idx = r->bal->pick(r->be, r->nbe, &r->cursor, &req->pick);
        }
        if (idx < 0) {
            if (req->pick.ntried == 0 && queue_worth_waiting(r, worker_now_ms(w))) {
                enqueue(c);
            } else if (req->pick.ntried == 0) {
                snprintf(why, sizeof(why), "no healthy backend for route %s", r->label);
                fail(c, 503, why);
            } else if (req->response_timed_out) {
                snprintf(why, sizeof(why), "backend did not respond within %s",
                         conf_format_duration(conf->timeouts.upstream_ms, d, sizeof(d)));
                fail(c, 504, why);
            } else if (req->lost) {
                fail(c, 502, "backend closed the connection without responding");
            } else if (req->connect_timed_out) {
                fail(c, 504, "could not connect to a backend within timeouts.connect");
            } else {
                snprintf(why, sizeof(why), "no backend could be reached (%u tried)",
                         req->pick.ntried);
                fail(c, 503, why);
            }
            return;
        }
        req->pick.tried[req->pick.ntried++] = (unsigned)idx;
        be = r->be[idx];
        request_bind_backend(c, be);
        up = upstream_take_idle(w, be);
        if (up == NULL) {
            up = upstream_connect(w, be);
            if (up == NULL) {
                int err = errno;

                if (local_connect_error(c, err))
                    return;
                backend_failed(c, be, "connect", err);
                request_unbind_backend(c);
                continue;
            }
        }
        attach(c, up);
        if (up->state == US_CONNECTING) {
            conn_set_timeout(c, T_CONNECT);
            return;
        }
        send_request(c);
        return;
    }
}

/* After a stale pooled connection: the same backend again, on a new
 * connection, from the first byte of the rewritten head. */
static void retry_fresh(struct conn *c)
{
    struct request *req = c->req;
    struct upstream *up;

    req->retried_fresh = true;
    request_detach_upstream(c, false);
    c->in->start = req->out_start;
    up = upstream_connect(c->w, req->be);
    if (up == NULL) {
        int err = errno;

        if (local_connect_error(c, err))
            return;
        backend_failed(c, req->be, "connect", err);
        request_unbind_backend(c);
        connect_backend(c);
        return;
    }
    attach(c, up);
    if (up->state == US_CONNECTING) {
        conn_set_timeout(c, T_CONNECT);
        return;
    }
    send_request(c);
}

/* The upstream connection broke. Before any response byte came back, an
 * idempotent request is sent again (RFC 9110 9.2.2): once more on a fresh
 * connection to the same backend when a pooled connection had gone stale,
 * else on another backend, within `retries`. The backend is not marked
 * down for it: one closed connection says less than a refused connect. */
static void upstream_lost(struct conn *c, int err)
{
    struct request *req = c->req;
    struct upstream *up = c->up;
    bool replayable = !req->resp_started && buf_len_or_zero(up->in) == 0 && req->rewindable &&
                      idempotent(req->method);

    if (replayable && up->reused && !req->retried_fresh) {
        retry_fresh(c);
        return;
    }
    if (replayable) {
        req->lost = true;
        counter_add(&req->be->slot[c->w->id].failures, 1);
        request_detach_upstream(c, false);
        request_unbind_backend(c);
        c->in->start = req->out_start;
        connect_backend(c);
        return;
    }
    if (req->resp_started) {
        abort_both(c);
        return;
    }
    if (err == 0)
        bad_gateway(c, buf_len_or_zero(up->in) == 0
                           ? "backend closed the connection without responding"
                           : "backend closed the connection in the middle of the response head");
    else
        bad_gateway(c, err == ECONNRESET ? "backend reset the connection"
                                         : "error on the backend connection");
}

static void upstream_connected(struct upstream *up, int err)
{
    struct conn *c = up->c;
    struct request *req = c->req;

    if (err != 0) {
        if (local_connect_error(c, err))
            return;
        backend_failed(c, req->be, "connect", err);
        request_detach_upstream(c, false);
        request_unbind_backend(c);
        connect_backend(c);
        return;
    }
    send_request(c);
}

/* Writes the request bytes that are ready. */
static void send_request(struct conn *c)
{
    struct request *req = c->req;
    struct upstream *up = c->up;
    struct buf *b = c->in;

    while (b->start < req->req_fwd) {
        ssize_t n = send(up->fd, b->data + b->start, req->req_fwd - b->start, MSG_NOSIGNAL);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                /* The backend is not reading: back-pressure on the client. */
                ev_io_start(c->w->loop, &up->wio);
                conn_read_stop(c);
                if (!req->resp_started)
                    conn_set_timeout(c, T_UPSTREAM);
                return;
            }
            upstream_lost(c, errno);
            return;
        }
        b->start += (uint32_t)n;
    }
    ev_io_stop(c->w->loop, &up->wio);
    upstream_read_start(up);
    if (req->req_done) {
        if (!req->resp_started)
            conn_set_timeout(c, T_UPSTREAM);
        return;
    }
    /* More body to come: reuse the whole buffer for it. */
    if (b->start == b->end) {
        b->start = b->end = BUF_HEADROOM;
        req->req_fwd = BUF_HEADROOM;
        req->rewindable = false;
    }
    conn_set_timeout(c, T_BODY);
    conn_read_start(c);
}

static void upstream_writable(struct upstream *up)
{
    send_request(up->c);
}

static void client_eof(struct conn *c);

static void client_readable(struct conn *c)
{
    struct request *req = c->req;
    struct upstream *up = c->up;
    long n = conn_fill(c);

    if (n < 0)
        return;
    if (n == 0) {
        client_eof(c);
        return;
    }
    if (!req->req_done) {
        if (!parse_request_body(c))
            return;
        conn_touch(c, T_BODY);
        if (up != NULL && up->state == US_BUSY && !ev_is_active(&up->wio))
            send_request(c);
        else if (buf_room(c->in) == 0)
            conn_read_stop(c);
        return;
    }
    /* Read-ahead of the next pipelined request: kept until this one ends. */
    if (buf_room(c->in) == 0)
        conn_read_stop(c);
}

static void client_eof(struct conn *c)
{
    struct request *req = c->req;

    c->rd_eof = true;
    conn_read_stop(c);
    if (!req->req_done)
        abort_both(c); /* the client gave up in the middle of its request */
}

static void send_response(struct conn *c);
static bool parse_response_body(struct conn *c);

/* The response is complete and delivered: release the upstream, and reuse
 * the client connection when both sides allow it. */
static void finish(struct conn *c)
{
    struct request *req = c->req;
    struct upstream *up = c->up;
    bool req_sent = req->req_done && c->in->start >= req->req_fwd;
    bool reusable = req->upstream_reusable && req_sent && buf_len(up->in) == 0;

    request_detach_upstream(c, reusable);
    request_unbind_backend(c);
    conn_request_done(c, req->keep_alive && req_sent);
}

/* Forwards a 1xx interim response (100 Continue) as it is and drops it from
 * the buffer; the final response follows on the same connection. */
static bool forward_interim(struct conn *c, struct http_head *h)
{
    struct upstream *up = c->up;
    struct http_response_rewrite rw = {NULL, 0, HTTP_CONN_NONE, false, false, true};
    size_t len = http_write_response(h, &rw, c->w->scratch, c->w->ubufs.cap);
    ssize_t n;

    if (len == 0)
        return false;
    n = conn_send(c, c->w->scratch, len);
    /* An interim head is tiny and the client socket idle: a short write
     * means the client is gone or stuck. */
    if (n != (ssize_t)len)
        return false;
    up->in->start += h->len;
    buf_compact(up->in);
    return true;
}

static void response_head(struct conn *c, uint32_t scan_from)
{
    struct worker *w = c->w;
    struct request *req = c->req;
    struct upstream *up = c->up;
    struct buf *b = up->in;
    struct http_head *h = &w->head;
    struct http_response_rewrite rw;
    enum http_conn_header connhdr;
    uint32_t head_end;
    size_t len;
    int r;

again:
    if (scan_from > b->start && memchr(b->data + scan_from, '\n', b->end - scan_from) == NULL)
        return;
    r = http_parse_head(&up->parser, HTTP_RESPONSE, h, b->data + b->start, buf_len(b));
    if (r == HTTP_HEAD_AGAIN) {
        if (buf_room(b) == 0)
            bad_gateway(c, "response head from the backend is too large");
        return;
    }
    if (r == HTTP_HEAD_BAD) {
        bad_gateway(c, "invalid response from the backend");
        return;
    }
    if (h->status >= 100 && h->status < 200 && h->status != 101) {
        /* RFC 9110 15.2: no 1xx to an HTTP/1.0 client; the request went up
         * as HTTP/1.1, so the backend may send one. */
        if (req->minor == 0) {
            b->start += h->len;
            buf_compact(b);
        } else if (!forward_interim(c, h)) {
            abort_both(c);
            return;
        }
        if (buf_len(b) == 0)
            return;
        scan_from = b->start;
        goto again;
    }
    if (h->status == 101) {
        if (!req->upgrade) {
            bad_gateway(c, "backend switched protocols without being asked to");
            return;
        }
        rw.request_id = req->id;
        rw.request_id_len = req->idlen;
        rw.connection = HTTP_CONN_NONE;
        rw.tunnel = true;
        rw.dechunk = false;
        rw.interim = false;
        rw.date = NULL;
        len = http_write_response(h, &rw, w->scratch, w->ubufs.cap);
        head_end = b->start + h->len;
        if (len == 0 || len > head_end) {
            bad_gateway(c, "response head from the backend is too large");
            return;
        }
        b->start = head_end - (uint32_t)len;
        memcpy(b->data + b->start, w->scratch, len);
        req->status = 101;
        req->resp_started = true;
        req->resp_head_left = (uint32_t)len;
        req->upstream_reusable = false;
        tunnel_start(c);
        return;
    }

    req->resp_body =
        (uint8_t)http_response_body_kind(&up->parser, req->method == HTTP_HEAD, h->status);
    /* RFC 9112 6.1: Transfer-Encoding in an HTTP/1.0 message is faulty
     * framing; the connection closes after it. */
    req->upstream_reusable = req->resp_body != BODY_EOF && !h->conn_close &&
                             (h->minor == 1 || h->conn_keep_alive) &&
                             !(h->minor == 0 && h->count[H_TRANSFER_ENCODING] > 0);
    /* An HTTP/1.0 client cannot read chunked framing; it gets the bytes as
     * they come and the end of the response is the end of the connection.
     * The request body may still be streaming (an echo answers as it
     * reads): keep-alive is promised here, and finish() closes instead if
     * the response ends before the request did. */
    req->keep_alive = req->client_keep_alive && !w->stopping && !w->parting && req->resp_body != BODY_EOF &&
                      !(req->minor == 0 && req->resp_body == BODY_CHUNKED);
    /* RFC 9110 10.1.1: an answer that is all here while the request body is
     * not (an early 413) says the connection will close, as it will. */
    if (!req->req_done &&
        (req->resp_body == BODY_NONE ||
         (req->resp_body == BODY_LENGTH &&
          up->parser.content_length <= (uint64_t)(b->end - (b->start + h->len)))))
        req->keep_alive = false;
    if (!req->keep_alive)
        connhdr = HTTP_CONN_CLOSE;
    else
        connhdr = req->minor == 0 ? HTTP_CONN_KEEP_ALIVE : HTTP_CONN_NONE;
    /* An HTTP/1.0 client gets the payload without chunk framing, delimited
     * by the close. */
    req->dechunk = req->minor == 0 && req->resp_body == BODY_CHUNKED;
    rw.request_id = req->id;
    rw.request_id_len = req->idlen;
    rw.connection = connhdr;
    rw.tunnel = false;
    rw.dechunk = req->dechunk;
    rw.interim = false;
    rw.date = http_date_now();
    len = http_write_response(h, &rw, w->scratch, w->ubufs.cap);
    head_end = b->start + h->len;
    if (len == 0 || len > head_end) {
        bad_gateway(c, "response head from the backend is too large");
        return;
    }
    b->start = head_end - (uint32_t)len;
    memcpy(b->data + b->start, w->scratch, len);
    req->status = h->status;
    req->resp_started = true;
    req->resp_head_left = (uint32_t)len;
    req->resp_fwd = head_end;
    if (req->resp_body == BODY_NONE) {
        req->resp_done = true;
    } else {
        llhttp_resume(&up->parser);
        http_body_init(&up->parser, &req->resp_parse,
                       (uint32_t)req_conf(req)->limits.max_header_bytes);
        if (!parse_response_body(c))
            return;
    }
    send_response(c);
}

/* Parses response bytes from resp_fwd on; false when the response broke. */
static bool parse_response_body(struct conn *c)
{
    struct request *req = c->req;
    struct buf *b = c->up->in;
    bool done;
    long n;

    if (req->resp_done || b->end == req->resp_fwd)
        return true;
    if (req->dechunk)
        req->resp_parse.w = b->data + req->resp_fwd;
    n = http_parse_body(&c->up->parser, b->data + req->resp_fwd, b->end - req->resp_fwd, &done);
    if (n < 0) {
        /* The head has gone out: this cuts both connections (the client
         * sees the body end early) and counts against the backend. */
        bad_gateway(c, req->resp_parse.err_reason);
        return false;
    }
    if (req->dechunk) {
        /* The payload now sits at [resp_fwd, w): close the gap the framing left. */
        uint32_t parsed_end = req->resp_fwd + (uint32_t)n;
        uint32_t w = (uint32_t)(req->resp_parse.w - b->data);

        memmove(b->data + w, b->data + parsed_end, b->end - parsed_end);
        b->end -= parsed_end - w;
        req->resp_fwd = w;
    } else {
        req->resp_fwd += (uint32_t)n;
    }
    req->resp_done = done;
    return true;
}

static void upstream_readable(struct upstream *up)
{
    struct conn *c = up->c;
    struct request *req = c->req;
    struct buf *b;
    uint32_t old_end;
    ssize_t n;

    if (up->in == NULL && (up->in = buf_get(&c->w->ubufs)) == NULL) {
        abort_both(c);
        return;
    }
    b = up->in;
    if (buf_room(b) == 0) {
        upstream_read_stop(up);
        return;
    }
    n = read(up->fd, b->data + b->end, buf_room(b));
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR)
            return;
        upstream_lost(c, errno);
        return;
    }
    if (n == 0) {
        if (req->resp_started && req->resp_body == BODY_EOF) {
            req->resp_done = true;
            req->upstream_reusable = false;
            upstream_read_stop(up);
            if (b->start == req->resp_fwd)
                finish(c);
            return;
        }
        upstream_lost(c, 0);
        return;
    }
    old_end = b->end;
    b->end += (uint32_t)n;
    conn_touch(c, T_UPSTREAM);
    if (!req->resp_started) {
        response_head(c, old_end == b->start ? b->start : old_end);
        return;
    }
    if (!parse_response_body(c))
        return;
    send_response(c);
}

/* Writes the response bytes that are ready to the client. */
static void send_response(struct conn *c)
{
    struct request *req = c->req;
    struct upstream *up = c->up;
    struct buf *b = up->in;

    while (b->start < req->resp_fwd) {
        ssize_t n = conn_send(c, b->data + b->start, req->resp_fwd - b->start);
        uint32_t head;

        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                ev_io_start(c->w->loop, &c->wio);
                upstream_read_stop(up);
                conn_set_timeout(c, T_SEND);
                return;
            }
            abort_both(c); /* the client went away */
            return;
        }
        head = (uint32_t)n < req->resp_head_left ? (uint32_t)n : req->resp_head_left;
        req->resp_head_left -= head;
        req->body_out += (uint64_t)n - head;
        b->start += (uint32_t)n;
    }
    ev_io_stop(c->w->loop, &c->wio);
    if (req->resp_done) {
        finish(c);
        return;
    }
    if (b->start == b->end) {
        b->start = b->end = BUF_HEADROOM;
        req->resp_fwd = BUF_HEADROOM;
    }
    upstream_read_start(up);
    conn_set_timeout(c, req->req_done ? T_UPSTREAM : T_BODY);
}

static void client_writable(struct conn *c)
{
    send_response(c);
}

static void proxy_timeout(struct conn *c)
{
    struct request *req = c->req;
    const struct conf *conf = req_conf(req);
    char why[256], d[32];

    switch ((enum conn_timeout)c->tkind) {
    case T_QUEUE:
        queue_leave(&c->w->queue, c);
        snprintf(why, sizeof(why), "no backend of route %s had room within timeouts.queue (%s)",
                 req->route->label, conf_format_duration(conf->timeouts.queue_ms, d, sizeof(d)));
        fail(c, 503, why);
        return;
    case T_CONNECT:
        req->connect_timed_out = true;
        backend_failed(c, req->be, "connect", ETIMEDOUT);
        request_detach_upstream(c, false);
        request_unbind_backend(c);
        connect_backend(c);
        return;
    case T_UPSTREAM:
        if (req->resp_started) {
            abort_both(c);
            return;
        }
        /* A hung backend: an idempotent request it has not answered at all
         * goes to another one (within `retries`), and this one is skipped
         * for health.interval, as after a refused connect. */
        if (req->req_done && req->rewindable && idempotent(req->method)) {
            req->response_timed_out = true;
            backend_failed(c, req->be, "no response head within timeouts.upstream", ETIMEDOUT);
            request_detach_upstream(c, false);
            request_unbind_backend(c);
            c->in->start = req->out_start;
            connect_backend(c);
            return;
        }
        snprintf(why, sizeof(why), "backend did not respond within %s",
                 conf_format_duration(conf->timeouts.upstream_ms, d, sizeof(d)));
        fail(c, 504, why);
        return;
    case T_BODY:
        if (req->resp_started) {
            abort_both(c);
            return;
        }
        req->req_done = false; /* the connection cannot be reused */
        snprintf(why, sizeof(why), "request body not received within %s",
                 conf_format_duration(conf->timeouts.client_body_ms, d, sizeof(d)));
        fail(c, 408, why);
        return;
    default:
        abort_both(c);
        return;
    }
}
