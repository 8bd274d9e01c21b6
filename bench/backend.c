/*
 * bench/backend.c: the HTTP/1.1 backend behind drover in tests, benchmarks
 * and the example app.
 *
 *   backend [-l ADDR] [-n NAME] [-b BYTES] [-q]
 *
 * One thread, one libev loop. Each connection owns a fixed input buffer and
 * a fixed output buffer; nothing is allocated per request. Requests on a
 * connection are handled strictly one at a time, in order, which is what
 * makes pipelining trivially correct: the next head is not parsed until the
 * current response has been queued completely.
 *
 * A request goes HEAD -> [DELAY] -> START -> [BODY] -> (complete) ->
 * [STREAM] -> HEAD again, or CLOSING. The head is only parsed once it is
 * entirely in the input buffer, so every span llhttp reports is contiguous
 * and the raw head can be echoed (head=1) without copying it elsewhere.
 * Responses are built into the output buffer and flushed with one write()
 * per batch; large bodies are generated as the socket drains.
 *
 * Query parameters (any path, combinable): status=CODE size=N chunked=1
 * delay=MS echo=1 head=1 sum=1 close=N drop=1 drop_on=NAME (drop only if we
 * are NAME) stats=1 alloc=MB (the process grows by MB of touched memory,
 * kept until it exits) eof=1 (no length: the body ends at the close)
 * sethealth=up|down and health=1 (200 while up, else 503). The body comes from
 * the first of echo, head, sum, stats, size, default that is set. Generated
 * bodies (size=N, -b) are 'x' bytes. head=1 echoes the head without its
 * blank line. close=N does not announce "Connection: close": it plays a
 * backend that dies. delay=MS starts when the head has been parsed.
 *
 * Timeouts: 60s without progress closes a connection (not while delay=MS
 * runs); after our FIN we linger up to 2s for the peer's.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <ev.h>
#include <llhttp.h>

/* The whole return vocabulary. ERR means "close this connection now". */
enum { OK = 0, ERR = -1, AGAIN = 1 };

enum {
    IN_SIZE = 32 * 1024,   /* also the largest request head accepted */
    OUT_SIZE = 64 * 1024,  /* must exceed IN_SIZE + RESERVE (head=1) */
    OUT_HIGH = 32 * 1024,  /* stop reading while this much is unsent */
    RESERVE = 2048,        /* room for a response head and a small body */
    CHUNK = 8192,          /* chunk size of generated chunked bodies */
    NAME_MAX_LEN = 128,
    UPGRADE_MAX = 256,
    POOL_MAX = 256,        /* idle struct conns kept for reuse */
    ACCEPT_BATCH = 64,
    FLUSH_ROUNDS = 16,     /* fill+write rounds per event: 1 MiB at most */
};

#define IDLE_TIMEOUT 60.0
#define LINGER_TIMEOUT 2.0
#define ACCEPT_PAUSE 0.1

#define PUTS(p, lit) put((p), (lit), sizeof(lit) - 1)

enum conn_state {
    ST_HEAD,    /* waiting for a complete request head */
    ST_DELAY,   /* head parsed, delay=MS timer running */
    ST_START,   /* head parsed, begin the response (or tunnel, or drop) */
    ST_BODY,    /* feeding the request body to llhttp */
    ST_STREAM,  /* generating a response body as the socket drains */
    ST_TUNNEL,  /* after 101/CONNECT: echo raw bytes until EOF */
    ST_CLOSING, /* flush output, then shut down and linger until EOF */
    ST_DEAD,    /* closed; freed by the reaper before the loop blocks */
};

/* Where the response body comes from. */
enum body_mode { M_DEFAULT, M_ECHO, M_HEAD, M_SUM, M_STATS, M_SIZE };

enum { CB_NONE, CB_FIELD, CB_VALUE };

/* One request. Offsets are relative to the head's first byte, which stays
 * at c->in + c->in_off until the response has started. */
struct req {
    /* query string */
    unsigned status;        /* 0: default (200) */
    unsigned delay_ms;
    uint64_t size;
    uint64_t cap;           /* body bytes we may still send (close=N) */
    unsigned alloc_mb;      /* alloc=MB: grow the process by that much, for good */
    uint8_t sethealth;      /* sethealth=up (1) or down (2) */
    bool health;            /* health=1: 200 while healthy, else 503 */
    bool eof;               /* eof=1: no length, the body ends with the connection */
    bool has_size, has_close, chunked, echo, head, sum, drop, stats;
    bool plain;             /* no query string at all: the fast path */
    bool bad;               /* bad query value or oversized Upgrade */
    enum body_mode mode;
    /* head */
    bool headers_done, msg_done, is_head, keep_alive, http10;
    bool has_body, req_chunked, expect, upgrade, connect;
    uint8_t cb;
    uint32_t head_len;      /* including the blank line */
    uint32_t raw_len;       /* up to the blank line: the head=1 body */
    uint32_t url_off, url_len, fld_off, fld_len, val_off, val_len;
    uint32_t upg_off, upg_len;
    uint64_t req_len;       /* request Content-Length */
    /* body and response */
    uint64_t body_len, fnv;
    bool started, body_ok, cut, overflow;
};

struct conn {
    ev_io rio, wio;
    ev_timer idle;          /* keep-alive, stall and linger timeout */
    ev_timer delay;
    llhttp_t parser;
    struct conn *prev, *next;  /* live list, or pool / dead list */
    int fd;
    enum conn_state state;
    bool eof, shut;
    uint8_t seq_len;
    char seq[24];           /* "N\r\n" for X-Backend-Conn */
    ev_tstamp last;         /* last read or write progress */
    uint64_t gen_left;      /* generated body bytes still to queue */
    struct req r;
    uint32_t in_off, in_len, scan;
    uint32_t out_off, out_len;
    char in[IN_SIZE];
    char out[OUT_SIZE];
};

static struct {
    struct ev_loop *loop;
    int lfd;
    bool tcp;
    char unix_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    ev_io lio;
    ev_timer accept_pause;
    ev_signal sigterm, sigint;
    ev_prepare reaper;
    llhttp_settings_t settings;
    const char *name;
    size_t name_len;
    long pid;
    uint64_t conns, reqs;
    struct conn *live, *dead, *pool;
    unsigned pool_len;
    bool have_b;
    bool unhealthy;         /* sethealth=down: health=1 answers 503 */
    uint64_t body_b;
    char hello[NAME_MAX_LEN + 64];
    size_t hello_len;
    char ident[NAME_MAX_LEN + 96];  /* X-Backend, -Pid, "X-Backend-Conn: " */
    size_t ident_len;
    char fast[NAME_MAX_LEN + 192];  /* default 200 head up to the conn number */
    size_t fast_len;
} g;

static char *put(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

static char *put_u64(char *p, uint64_t v)
{
    char tmp[20];
    int n = 0;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0)
        *p++ = tmp[--n];
    return p;
}

static char *put_hex(char *p, uint64_t v)
{
    char tmp[16];
    int n = 0;

    do {
        tmp[n++] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v != 0);
    while (n > 0)
        *p++ = tmp[--n];
    return p;
}

static const char *reason(unsigned status)
{
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "Content Too Large";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default:  return "Status";
    }
}

/* 1xx, 204 and 304 never carry a body or framing headers. */
static bool status_bodiless(unsigned status)
{
    return status < 200 || status == 204 || status == 304;
}

static unsigned req_status(const struct req *r)
{
    if (r->health && g.unhealthy)
        return 503;
    return r->status != 0 ? r->status : 200;
}

/* ---- output buffer ---- */

static size_t out_pending(const struct conn *c)
{
    return c->out_len - c->out_off;
}

/* Returns the free space at the tail of the output buffer after moving the
 * unsent bytes to the front, so that all free space is contiguous. */
static size_t out_room(struct conn *c)
{
    if (c->out_off > 0) {
        size_t n = out_pending(c);

        memmove(c->out, c->out + c->out_off, n);
        c->out_off = 0;
        c->out_len = (uint32_t)n;
    }
    return OUT_SIZE - c->out_len;
}

static char *out_tail(struct conn *c)
{
    return c->out + c->out_len;
}

static void out_commit(struct conn *c, const char *end)
{
    c->out_len = (uint32_t)(end - c->out);
}

/* Writes as much pending output as the socket takes. Returns OK (possibly
 * with output left: the caller arms EV_WRITE) or ERR. */
static int conn_flush(struct conn *c)
{
    while (c->out_off < c->out_len) {
        size_t want = c->out_len - c->out_off;
        ssize_t n = write(c->fd, c->out + c->out_off, want);

        if (n > 0) {
            c->out_off += (uint32_t)n;
            c->last = ev_now(g.loop);
            if ((size_t)n < want)
                break;  /* socket buffer full: the next try would EAGAIN */
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        return ERR;
    }
    if (c->out_off == c->out_len)
        c->out_off = c->out_len = 0;
    return OK;
}

/* ---- response building ---- */

/* Queues a response head. len is announced as Content-Length unless the
 * response is chunked or bodiless. The caller has made RESERVE bytes of
 * room. Counts the request as answered. */
static void resp_head(struct conn *c, unsigned status, const char *ctype, uint64_t len)
{
    struct req *r = &c->r;
    const char *why = reason(status);
    char *p = out_tail(c);

    p = PUTS(p, "HTTP/1.1 ");
    p = put_u64(p, status);
    *p++ = ' ';
    p = put(p, why, strlen(why));
    p = PUTS(p, "\r\n");
    if (r->eof) {
        /* HTTP/1.0 style: the body runs until the connection closes. */
        r->chunked = false;
        r->keep_alive = false;
    }
    if (!status_bodiless(status)) {
        p = PUTS(p, "Content-Type: ");
        p = put(p, ctype, strlen(ctype));
        if (r->eof) {
            p = PUTS(p, "\r\n");
        } else if (r->chunked) {
            p = PUTS(p, "\r\nTransfer-Encoding: chunked\r\n");
        } else {
            p = PUTS(p, "\r\nContent-Length: ");
            p = put_u64(p, len);
            p = PUTS(p, "\r\n");
        }
    }
    p = put(p, g.ident, g.ident_len);
    p = put(p, c->seq, c->seq_len);
    if (!r->keep_alive)
        p = PUTS(p, "Connection: close\r\n");
    else if (r->http10)
        p = PUTS(p, "Connection: keep-alive\r\n");
    p = PUTS(p, "\r\n");
    out_commit(c, p);
    r->started = true;
    r->body_ok = !r->is_head && !status_bodiless(status);
    g.reqs++;
}

/* Queues body bytes, as one chunk when chunked. close=N truncates: once the
 * budget is spent the rest is dropped and r->cut is set. The caller made
 * room for n plus 32 bytes of framing. */
static void body_put(struct conn *c, const char *s, size_t n)
{
    struct req *r = &c->r;
    char *p = out_tail(c);

    if (!r->body_ok || n == 0)
        return;
    if (n > r->cap) {
        n = (size_t)r->cap;
        r->cut = true;
        if (n == 0)
            return;
    }
    r->cap -= n;
    if (r->chunked) {
        p = put_hex(p, n);
        p = PUTS(p, "\r\n");
    }
    p = put(p, s, n);
    if (r->chunked)
        p = PUTS(p, "\r\n");
    out_commit(c, p);
}

/* The last-chunk of a complete chunked body (not of a truncated one). */
static void body_end(struct conn *c)
{
    struct req *r = &c->r;

    if (r->body_ok && r->chunked && !r->cut)
        out_commit(c, PUTS(out_tail(c), "0\r\n\r\n"));
}

/* ---- connection lifecycle ---- */

static void conn_close(struct conn *c);

/* Moves to CLOSING: flush what is queued, then shut down. */
static int conn_finish(struct conn *c)
{
    c->state = ST_CLOSING;
    return AGAIN;
}

/* Answers status with a short text body and closes. Returns ERR when there
 * is not even room for that (only possible in the middle of an echo). */
static int conn_error(struct conn *c, unsigned status)
{
    struct req *r = &c->r;
    const char *msg = status == 431 ? "request head too large\n" : "bad request\n";
    size_t n = strlen(msg);

    if (out_room(c) < RESERVE)
        return ERR;
    r->keep_alive = false;
    r->chunked = false;
    r->is_head = false;
    r->cap = UINT64_MAX;
    resp_head(c, status, "text/plain", n);
    body_put(c, msg, n);
    return conn_finish(c);
}

/* The response is fully queued and the request fully read. */
static int req_done(struct conn *c)
{
    struct req *r = &c->r;

    if (r->has_close || !r->keep_alive)
        return conn_finish(c);
    c->state = ST_HEAD;
    return OK;
}

/* Queues as much of a generated ('x') body as fits. Returns OK once the
 * whole body is queued, AGAIN while the socket must drain first. */
static int stream_fill(struct conn *c)
{
    struct req *r = &c->r;

    while (c->gen_left > 0) {
        size_t room = out_room(c), n;
        char *p;

        if (room < 64)
            return AGAIN;
        n = room - 32;
        if (r->chunked && n > CHUNK)
            n = CHUNK;
        if (n > c->gen_left)
            n = (size_t)c->gen_left;
        p = out_tail(c);
        if (r->chunked) {
            p = put_hex(p, n);
            p = PUTS(p, "\r\n");
        }
        memset(p, 'x', n);
        p += n;
        if (r->chunked)
            p = PUTS(p, "\r\n");
        out_commit(c, p);
        c->gen_left -= n;
    }
    if (out_room(c) < 8)
        return AGAIN;
    body_end(c);
    return req_done(c);
}

/* Starts a generated body of total bytes after its head is queued. */
static int body_stream(struct conn *c, uint64_t total)
{
    struct req *r = &c->r;

    c->gen_left = r->body_ok ? total : 0;
    if (c->gen_left > r->cap) {
        c->gen_left = r->cap;
        r->cut = true;
    }
    c->state = ST_STREAM;
    return OK;
}

/* The default 200: a prebuilt head, the connection number, one memcpy of
 * the body. This is what wrk measures. */
static int resp_fast(struct conn *c)
{
    struct req *r = &c->r;
    char *p = out_tail(c);

    p = put(p, g.fast, g.fast_len);
    p = put(p, c->seq, c->seq_len);
    if (!r->keep_alive)
        p = PUTS(p, "Connection: close\r\n");
    else if (r->http10)
        p = PUTS(p, "Connection: keep-alive\r\n");
    p = PUTS(p, "\r\n");
    r->started = r->body_ok = true;
    g.reqs++;
    if (g.have_b) {
        out_commit(c, p);
        return body_stream(c, g.body_b);
    }
    out_commit(c, put(p, g.hello, g.hello_len));
    return req_done(c);
}

/* The request has been read completely: answer it, unless echo or head=1
 * already did. Room: RESERVE was free when the head was parsed and only a
 * 100 Continue has been queued since. */
static int req_complete(struct conn *c)
{
    struct req *r = &c->r;
    unsigned status = req_status(r);
    char buf[NAME_MAX_LEN + 128];
    int n;

    if (r->started) {
        if (r->mode == M_ECHO)
            body_end(c);
        return req_done(c);
    }
    switch (r->mode) {
    case M_STATS:
        n = snprintf(buf, sizeof(buf),
                     "{\"name\":\"%s\",\"pid\":%ld,\"connections\":%" PRIu64
                     ",\"requests\":%" PRIu64 "}\n",
                     g.name, g.pid, g.conns, g.reqs + 1);
        resp_head(c, status, "application/json", (size_t)n);
        body_put(c, buf, (size_t)n);
        body_end(c);
        return req_done(c);
    case M_SUM:
        n = snprintf(buf, sizeof(buf), "bytes=%" PRIu64 " fnv=%016" PRIx64 "\n",
                     r->body_len, r->fnv);
        resp_head(c, status, "text/plain", (size_t)n);
        body_put(c, buf, (size_t)n);
        body_end(c);
        return req_done(c);
    case M_SIZE:
        resp_head(c, status, "text/plain", r->size);
        return body_stream(c, r->size);
    default:
        if (r->plain && !r->is_head)
            return resp_fast(c);
        if (g.have_b) {
            resp_head(c, status, "text/plain", g.body_b);
            return body_stream(c, g.body_b);
        }
        resp_head(c, status, "text/plain", g.hello_len);
        body_put(c, g.hello, g.hello_len);
        body_end(c);
        return req_done(c);
    }
}

/* 101 (or 200 for CONNECT), then everything received is echoed raw. */
static int tunnel_start(struct conn *c)
{
    struct req *r = &c->r;
    char *p = out_tail(c);

    if (r->connect) {
        p = PUTS(p, "HTTP/1.1 200 Connection Established\r\n");
    } else {
        p = PUTS(p, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: ");
        p = put(p, c->in + c->in_off + r->upg_off, r->upg_len);
        p = PUTS(p, "\r\nConnection: Upgrade\r\n");
    }
    p = put(p, g.ident, g.ident_len);
    p = put(p, c->seq, c->seq_len);
    p = PUTS(p, "\r\n");
    out_commit(c, p);
    r->started = true;
    g.reqs++;
    c->in_off += r->head_len;
    c->state = ST_TUNNEL;
    return OK;
}

/* alloc=MB: memory that is touched and never given back, so a supervisor's
 * memory_limit can be tested against a real resident size. */
static void grow(unsigned mb)
{
    static char **blocks;
    static size_t nblocks;
    char **more = realloc(blocks, (nblocks + mb) * sizeof(*blocks));

    if (more == NULL)
        return;
    blocks = more;
    for (unsigned i = 0; i < mb; i++) {
        char *b = malloc(1u << 20);

        if (b == NULL)
            return;
        memset(b, (int)(i & 0x7f) + 1, 1u << 20);
        blocks[nblocks++] = b;
    }
}

/* The head is parsed (and any delay is over): drop, tunnel, or begin the
 * response if it does not wait for the body (echo, head=1). The head is
 * consumed from the input buffer here. */
static int req_start(struct conn *c)
{
    struct req *r = &c->r;
    unsigned status = req_status(r);

    if (r->drop)
        return conn_finish(c);
    if (r->alloc_mb > 0)
        grow(r->alloc_mb);
    if (r->sethealth != 0)
        g.unhealthy = r->sethealth == 2;
    if (r->upgrade && r->msg_done && (r->status == 0 || r->status == 101))
        return tunnel_start(c);
    if (r->upgrade)
        r->keep_alive = false;  /* refused upgrade: the peer may talk raw next */
    if (r->expect && r->has_body && !r->msg_done)
        out_commit(c, PUTS(out_tail(c), "HTTP/1.1 100 Continue\r\n\r\n"));
    if (r->mode == M_ECHO) {
        r->chunked = r->chunked || r->req_chunked;
        resp_head(c, status, "application/octet-stream", r->req_len);
    } else if (r->mode == M_HEAD) {
        resp_head(c, status, "text/plain", r->raw_len);
        body_put(c, c->in + c->in_off, r->raw_len);
        body_end(c);
    }
    c->in_off += r->head_len;
    if (!r->msg_done) {
        c->state = ST_BODY;
        return OK;
    }
    return req_complete(c);
}

/* Finds the end of the request head in p[0..len): returns the head length
 * including the blank line, or 0 if the blank line has not arrived yet.
 * *raw gets the length without the blank line; *from keeps the search
 * position across reads. */
static uint32_t head_scan(const char *p, uint32_t len, uint32_t *from, uint32_t *raw)
{
    uint32_t i = *from;

    while (i < len) {
        const char *lf = memchr(p + i, '\n', len - i);
        uint32_t j;

        if (lf == NULL) {
            i = len;
            break;
        }
        j = (uint32_t)(lf - p);
        if (j + 1 < len && p[j + 1] == '\n') {
            *raw = j + 1;
            return j + 2;
        }
        if (j + 2 < len && p[j + 1] == '\r' && p[j + 2] == '\n') {
            *raw = j + 1;
            return j + 3;
        }
        if (j + 1 >= len || (j + 2 >= len && p[j + 1] == '\r')) {
            i = j;  /* the blank line may still be arriving */
            break;
        }
        i = j + 1;
    }
    *from = i;
    return 0;
}

static void req_reset(struct conn *c)
{
    memset(&c->r, 0, sizeof(c->r));
    c->r.cap = UINT64_MAX;
    c->r.fnv = 0xcbf29ce484222325ULL;
    c->gen_left = 0;
}

/* Waits for a complete head, then runs llhttp over exactly the head. */
static int conn_head(struct conn *c)
{
    struct req *r = &c->r;
    uint32_t avail, hl, raw = 0;
    llhttp_errno_t err;

    /* Stray CRLFs between requests are tolerated (RFC 9112 2.2). */
    if (c->scan == 0)
        while (c->in_off < c->in_len && (c->in[c->in_off] == '\r' || c->in[c->in_off] == '\n'))
            c->in_off++;
    avail = c->in_len - c->in_off;
    if (avail == 0)
        return c->eof ? conn_finish(c) : AGAIN;
    hl = head_scan(c->in + c->in_off, avail, &c->scan, &raw);
    if (hl == 0) {
        if (c->eof)
            return conn_finish(c);
        if (avail < IN_SIZE)
            return AGAIN;
        if (out_room(c) < RESERVE)
            return AGAIN;
        req_reset(c);
        return conn_error(c, 431);
    }
    if (out_room(c) < RESERVE + raw)
        return AGAIN;  /* the previous responses must drain first */
    c->scan = 0;
    req_reset(c);
    r->head_len = hl;
    r->raw_len = raw;
    llhttp_reset(&c->parser);
    err = llhttp_execute(&c->parser, c->in + c->in_off, hl);
    if (!r->headers_done || r->bad ||
        (err != HPE_OK && !(r->msg_done && (err == HPE_PAUSED || err == HPE_PAUSED_UPGRADE))))
        return conn_error(c, 400);
    if (r->delay_ms > 0) {
        ev_timer_set(&c->delay, r->delay_ms / 1000.0, 0.);
        ev_timer_start(g.loop, &c->delay);
        c->state = ST_DELAY;
        return AGAIN;
    }
    c->state = ST_START;
    return OK;
}

/* Feeds buffered body bytes to llhttp. An echo is limited to what the
 * output buffer can take, which is the back-pressure towards the client. */
static int conn_body(struct conn *c)
{
    struct req *r = &c->r;
    size_t avail = c->in_len - c->in_off;
    llhttp_errno_t err;

    if (avail == 0)
        return c->eof ? conn_finish(c) : AGAIN;
    if (r->mode == M_ECHO && r->body_ok) {
        size_t room = out_room(c);

        /* Each on_body call may add a chunk header; llhttp reports at most
         * one partial chunk at each end of a buffer, the rest of the input's
         * own framing is at least as large as ours. */
        if (room < 256)
            return AGAIN;
        if (avail > room - 128)
            avail = room - 128;
    }
    err = llhttp_execute(&c->parser, c->in + c->in_off, avail);
    if (err == HPE_OK) {
        c->in_off += (uint32_t)avail;
        return OK;
    }
    if (r->msg_done && (err == HPE_PAUSED || err == HPE_PAUSED_UPGRADE)) {
        c->in_off = (uint32_t)(llhttp_get_error_pos(&c->parser) - c->in);
        return req_complete(c);
    }
    if (r->cut)
        return conn_finish(c);  /* close=N budget spent in the middle of an echo */
    if (r->started || r->overflow)
        return ERR;             /* too late for a 400 */
    return conn_error(c, 400);
}

static int conn_tunnel(struct conn *c)
{
    size_t avail = c->in_len - c->in_off, room;

    if (avail == 0)
        return c->eof ? conn_finish(c) : AGAIN;
    room = out_room(c);
    if (room == 0)
        return AGAIN;
    if (avail > room)
        avail = room;
    out_commit(c, put(out_tail(c), c->in + c->in_off, avail));
    c->in_off += (uint32_t)avail;
    return OK;
}

/* Runs the state machine until it needs input, output room or a timer. */
static int conn_step(struct conn *c)
{
    int rc;

    do {
        switch (c->state) {
        case ST_HEAD:   rc = conn_head(c); break;
        case ST_START:  rc = req_start(c); break;
        case ST_BODY:   rc = conn_body(c); break;
        case ST_STREAM: rc = stream_fill(c); break;
        case ST_TUNNEL: rc = conn_tunnel(c); break;
        default:        rc = AGAIN; break;
        }
    } while (rc == OK);
    return rc;
}

/* After the last byte is flushed: FIN, then read and discard until the peer
 * closes, so that unread input does not turn our close into an RST that
 * could destroy the response in flight. Returns ERR to close right away. */
static int conn_linger(struct conn *c)
{
    if (c->eof)
        return ERR;
    if (!c->shut) {
        shutdown(c->fd, SHUT_WR);
        c->shut = true;
        c->last = ev_now(g.loop);
        c->idle.repeat = LINGER_TIMEOUT;
        ev_timer_again(g.loop, &c->idle);
    }
    return OK;
}

static void conn_arm(struct conn *c)
{
    bool want_r, want_w = out_pending(c) > 0;

    if (c->state == ST_CLOSING)
        want_r = c->shut;
    else
        want_r = !c->eof && c->in_len - c->in_off < IN_SIZE && out_pending(c) < OUT_HIGH;
    if (want_r != (bool)ev_is_active(&c->rio)) {
        if (want_r)
            ev_io_start(g.loop, &c->rio);
        else
            ev_io_stop(g.loop, &c->rio);
    }
    if (want_w != (bool)ev_is_active(&c->wio)) {
        if (want_w)
            ev_io_start(g.loop, &c->wio);
        else
            ev_io_stop(g.loop, &c->wio);
    }
}

/* Processes, writes, repeats while the socket takes everything (streams),
 * then arms the watchers for whatever is still wanted. */
static void conn_run(struct conn *c)
{
    int round;

    if (c->state == ST_DEAD)
        return;
    for (round = 0;; round++) {
        if (conn_step(c) == ERR)
            goto fail;
        if (out_pending(c) == 0 || round == FLUSH_ROUNDS)
            break;
        if (conn_flush(c) == ERR)
            goto fail;
        if (out_pending(c) > 0)
            break;
    }
    if (c->state == ST_CLOSING && out_pending(c) == 0 && conn_linger(c) == ERR)
        goto fail;
    conn_arm(c);
    return;
fail:
    conn_close(c);
}

/* ---- llhttp callbacks: they only record; the state machine acts ---- */

static uint32_t head_off(const struct conn *c, const char *at)
{
    return (uint32_t)(at - (c->in + c->in_off));
}

static int on_url(llhttp_t *p, const char *at, size_t len)
{
    struct conn *c = p->data;

    if (c->r.url_len == 0)
        c->r.url_off = head_off(c, at);
    c->r.url_len += (uint32_t)len;
    return 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t len)
{
    struct conn *c = p->data;
    struct req *r = &c->r;

    if (r->cb != CB_FIELD) {
        r->fld_off = head_off(c, at);
        r->fld_len = 0;
        r->val_len = 0;
        r->cb = CB_FIELD;
    }
    r->fld_len += (uint32_t)len;
    return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t len)
{
    struct conn *c = p->data;
    struct req *r = &c->r;

    if (r->cb != CB_VALUE) {
        r->val_off = head_off(c, at);
        r->val_len = 0;
        r->cb = CB_VALUE;
    }
    r->val_len += (uint32_t)len;
    return 0;
}

static bool span_is(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && strncasecmp(s, lit, n) == 0;
}

static int on_header_value_complete(llhttp_t *p)
{
    struct conn *c = p->data;
    struct req *r = &c->r;
    const char *name = c->in + c->in_off + r->fld_off;
    const char *val = c->in + c->in_off + r->val_off;
    size_t vlen = r->val_len;

    while (vlen > 0 && (val[vlen - 1] == ' ' || val[vlen - 1] == '\t'))
        vlen--;
    if (span_is(name, r->fld_len, "expect")) {
        r->expect = span_is(val, vlen, "100-continue");
    } else if (span_is(name, r->fld_len, "upgrade")) {
        if (vlen > UPGRADE_MAX)
            r->bad = true;
        r->upg_off = r->val_off;
        r->upg_len = (uint32_t)vlen;
    }
    r->cb = CB_NONE;
    return 0;
}

static bool query_flag(const char *v, size_t n)
{
    return !span_is(v, n, "0") && !span_is(v, n, "false") && !span_is(v, n, "no");
}

static bool query_num(const char *v, size_t n, uint64_t max, uint64_t *out)
{
    uint64_t x = 0;
    size_t i;

    if (n == 0 || n > 18)
        return false;
    for (i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return false;
        x = x * 10 + (uint64_t)(v[i] - '0');
    }
    if (x > max)
        return false;
    *out = x;
    return true;
}

/* One key=value. Unknown keys are ignored (cache busters); a known key with
 * a bad value makes the request a 400 so that typos in tests show up. */
static void query_param(struct req *r, const char *k, size_t kn, const char *v, size_t vn)
{
    uint64_t x;

    if (span_is(k, kn, "status")) {
        if (query_num(v, vn, 999, &x) && x >= 100)
            r->status = (unsigned)x;
        else
            r->bad = true;
    } else if (span_is(k, kn, "size")) {
        r->has_size = query_num(v, vn, (uint64_t)1 << 50, &r->size);
        r->bad |= !r->has_size;
    } else if (span_is(k, kn, "delay")) {
        if (query_num(v, vn, 3600 * 1000, &x))
            r->delay_ms = (unsigned)x;
        else
            r->bad = true;
    } else if (span_is(k, kn, "close")) {
        r->has_close = query_num(v, vn, UINT64_MAX / 16, &r->cap);
        r->bad |= !r->has_close;
    } else if (span_is(k, kn, "chunked")) {
        r->chunked = query_flag(v, vn);
    } else if (span_is(k, kn, "echo")) {
        r->echo = query_flag(v, vn);
    } else if (span_is(k, kn, "head")) {
        r->head = query_flag(v, vn);
    } else if (span_is(k, kn, "sum")) {
        r->sum = query_flag(v, vn);
    } else if (span_is(k, kn, "drop")) {
        r->drop = query_flag(v, vn);
    } else if (span_is(k, kn, "drop_on")) {
        /* drop_on=NAME: only the backend called NAME drops the request. */
        r->drop = r->drop || span_is(v, vn, g.name);
    } else if (span_is(k, kn, "stats")) {
        r->stats = query_flag(v, vn);
    } else if (span_is(k, kn, "sethealth")) {
        if (span_is(v, vn, "up") || span_is(v, vn, "down"))
            r->sethealth = span_is(v, vn, "up") ? 1 : 2;
        else
            r->bad = true;
    } else if (span_is(k, kn, "health")) {
        r->health = query_flag(v, vn);
    } else if (span_is(k, kn, "eof")) {
        r->eof = query_flag(v, vn);
    } else if (span_is(k, kn, "alloc")) {
        if (query_num(v, vn, 4096, &x))
            r->alloc_mb = (unsigned)x;
        else
            r->bad = true;
    }
}

static void query_parse(struct req *r, const char *url, size_t n)
{
    const char *end = url + n, *q = memchr(url, '?', n);

    if (q == NULL) {
        r->plain = true;
        return;
    }
    for (q++; q < end;) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        const char *stop = amp != NULL ? amp : end;
        const char *eq = memchr(q, '=', (size_t)(stop - q));
        const char *v = eq != NULL ? eq + 1 : stop;

        query_param(r, q, (size_t)((eq != NULL ? eq : stop) - q), v, (size_t)(stop - v));
        q = stop + 1;
    }
}

static int on_headers_complete(llhttp_t *p)
{
    struct conn *c = p->data;
    struct req *r = &c->r;

    r->headers_done = true;
    r->is_head = p->method == HTTP_HEAD;
    r->connect = p->method == HTTP_CONNECT;
    r->keep_alive = llhttp_should_keep_alive(p);
    r->http10 = p->http_major == 1 && p->http_minor == 0;
    r->req_chunked = (p->flags & F_CHUNKED) != 0;
    r->req_len = r->req_chunked ? 0 : p->content_length;
    r->has_body = r->req_chunked || p->content_length > 0;
    r->upgrade = p->upgrade;
    query_parse(r, c->in + c->in_off + r->url_off, r->url_len);
    if (r->echo)
        r->mode = M_ECHO;
    else if (r->head)
        r->mode = M_HEAD;
    else if (r->sum)
        r->mode = M_SUM;
    else if (r->stats)
        r->mode = M_STATS;
    else if (r->has_size)
        r->mode = M_SIZE;
    return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t len)
{
    struct conn *c = p->data;
    struct req *r = &c->r;

    r->body_len += len;
    if (r->mode == M_SUM) {
        uint64_t h = r->fnv;
        size_t i;

        for (i = 0; i < len; i++)
            h = (h ^ (unsigned char)at[i]) * 0x100000001b3ULL;
        r->fnv = h;
    } else if (r->mode == M_ECHO && r->body_ok) {
        if (out_room(c) < len + 32) {
            r->overflow = true;  /* conn_body's bound was wrong: never expected */
            return HPE_USER;
        }
        body_put(c, at, len);
        if (r->cut)
            return HPE_USER;
    }
    return 0;
}

/* Pausing here stops llhttp right after this message, so the next head is
 * left in the buffer for conn_head. */
static int on_message_complete(llhttp_t *p)
{
    struct conn *c = p->data;

    c->r.msg_done = true;
    return HPE_PAUSED;
}

/* ---- watchers ---- */

static void on_read(EV_P_ ev_io *w, int revents)
{
    struct conn *c = w->data;
    ssize_t n;

    (void)revents;
    if (c->state == ST_CLOSING) {
        /* lingering: discard until EOF */
        for (;;) {
            n = read(c->fd, c->in, IN_SIZE);
            if (n > 0)
                continue;
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return;
            conn_close(c);
            return;
        }
    }
    if (c->in_off == c->in_len) {
        c->in_off = c->in_len = 0;
    } else if (c->in_off > 0) {
        memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
        c->in_len -= c->in_off;
        c->in_off = 0;
    }
    n = read(c->fd, c->in + c->in_len, IN_SIZE - c->in_len);
    if (n > 0) {
        c->in_len += (uint32_t)n;
        c->last = ev_now(EV_A);
    } else if (n == 0) {
        c->eof = true;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        return;
    } else {
        conn_close(c);
        return;
    }
    conn_run(c);
}

static void on_write(EV_P_ ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    conn_run(w->data);
}

static void on_delay(EV_P_ ev_timer *w, int revents)
{
    struct conn *c = w->data;

    (void)revents;
    c->last = ev_now(EV_A);
    c->state = ST_START;
    conn_run(c);
}

/* One timer per connection, re-armed lazily from c->last ("Be smart about
 * timeouts" in ev(3)): activity only stores a timestamp. */
static void on_idle(EV_P_ ev_timer *w, int revents)
{
    struct conn *c = w->data;
    ev_tstamp timeout = c->shut ? LINGER_TIMEOUT : IDLE_TIMEOUT;
    ev_tstamp left = c->last + timeout - ev_now(EV_A);

    (void)revents;
    if (c->state == ST_DELAY)
        left = timeout;  /* waiting on our own timer is not idleness */
    if (left > 0.001) {
        w->repeat = left;
        ev_timer_again(EV_A_ w);
        return;
    }
    conn_close(c);
}

/* Stops everything and queues c for the reaper: callers up the stack may
 * still look at c, so it is not freed here. */
static void conn_close(struct conn *c)
{
    if (c->state == ST_DEAD)
        return;
    ev_io_stop(g.loop, &c->rio);
    ev_io_stop(g.loop, &c->wio);
    ev_timer_stop(g.loop, &c->idle);
    ev_timer_stop(g.loop, &c->delay);
    close(c->fd);
    c->fd = -1;
    c->state = ST_DEAD;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        g.live = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    c->prev = NULL;
    c->next = g.dead;
    g.dead = c;
    ev_prepare_start(g.loop, &g.reaper);
}

/* Runs before the loop blocks, when no callback holds a connection. */
static void on_reap(EV_P_ ev_prepare *w, int revents)
{
    (void)revents;
    while (g.dead != NULL) {
        struct conn *c = g.dead;

        g.dead = c->next;
        if (g.pool_len < POOL_MAX) {
            c->next = g.pool;
            g.pool = c;
            g.pool_len++;
        } else {
            free(c);
        }
    }
    ev_prepare_stop(EV_A_ w);
}

static void conn_new(int fd)
{
    struct conn *c = g.pool;
    char *p;

    if (c != NULL) {
        g.pool = c->next;
        g.pool_len--;
    } else if ((c = malloc(sizeof(*c))) == NULL) {
        close(fd);
        return;
    }
    memset(c, 0, offsetof(struct conn, in));
    c->fd = fd;
    c->state = ST_HEAD;
    p = put_u64(c->seq, ++g.conns);
    p = PUTS(p, "\r\n");
    c->seq_len = (uint8_t)(p - c->seq);
    llhttp_init(&c->parser, HTTP_REQUEST, &g.settings);
    c->parser.data = c;
    ev_io_init(&c->rio, on_read, fd, EV_READ);
    ev_io_init(&c->wio, on_write, fd, EV_WRITE);
    ev_init(&c->idle, on_idle);
    ev_timer_init(&c->delay, on_delay, 0., 0.);
    c->rio.data = c->wio.data = c->idle.data = c->delay.data = c;
    c->last = ev_now(g.loop);
    c->idle.repeat = IDLE_TIMEOUT;
    ev_timer_again(g.loop, &c->idle);
    ev_io_start(g.loop, &c->rio);
    c->next = g.live;
    if (g.live != NULL)
        g.live->prev = c;
    g.live = c;
}

static void on_accept(EV_P_ ev_io *w, int revents)
{
    int i, one = 1;

    (void)revents;
    for (i = 0; i < ACCEPT_BATCH; i++) {
        int fd = accept4(g.lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* Out of descriptors: level-triggered accept would spin. */
                fprintf(stderr, "backend %s: accept: %s (pausing)\n", g.name, strerror(errno));
                ev_io_stop(EV_A_ w);
                ev_timer_start(EV_A_ &g.accept_pause);
            }
            return;
        }
        if (g.tcp)
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        conn_new(fd);
    }
}

static void on_accept_pause(EV_P_ ev_timer *w, int revents)
{
    (void)w;
    (void)revents;
    ev_io_start(EV_A_ &g.lio);
}

static void on_signal(EV_P_ ev_signal *w, int revents)
{
    (void)w;
    (void)revents;
    ev_break(EV_A_ EVBREAK_ALL);
}

/* ---- startup ---- */

/* Parses ADDR (host:port, [v6]:port, unix:/path) into ss. Returns 0, or -1
 * with a message in err: a usage error. */
static int addr_parse(const char *addr, struct sockaddr_storage *ssp, socklen_t *lenp,
                      char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    char host[256];
    const char *port;

    memset(&ss, 0, sizeof(ss));
    if (strncmp(addr, "unix:", 5) == 0) {
        struct sockaddr_un *su = (struct sockaddr_un *)&ss;
        size_t n = strlen(addr + 5);

        if (n == 0 || n >= sizeof(su->sun_path)) {
            snprintf(err, errlen, "bad unix socket path '%s'", addr + 5);
            return -1;
        }
        su->sun_family = AF_UNIX;
        memcpy(su->sun_path, addr + 5, n + 1);
        sslen = (socklen_t)sizeof(*su);
        memcpy(g.unix_path, su->sun_path, n + 1);
    } else {
        struct addrinfo hints, *res = NULL;
        const char *colon;
        size_t hlen;
        int rc;

        if (addr[0] == '[') {
            const char *close_br = strchr(addr, ']');

            if (close_br == NULL || close_br[1] != ':') {
                snprintf(err, errlen, "bad address '%s' (want [v6]:port)", addr);
                return -1;
            }
            hlen = (size_t)(close_br - addr - 1);
            memcpy(host, addr + 1, hlen < sizeof(host) ? hlen : 0);
            port = close_br + 2;
        } else {
            colon = strrchr(addr, ':');
            if (colon == NULL) {
                snprintf(err, errlen, "bad address '%s' (want host:port)", addr);
                return -1;
            }
            hlen = (size_t)(colon - addr);
            memcpy(host, addr, hlen < sizeof(host) ? hlen : 0);
            port = colon + 1;
        }
        if (hlen >= sizeof(host) || *port == '\0' || strspn(port, "0123456789") != strlen(port) ||
            atol(port) > 65535) {
            snprintf(err, errlen, "bad address '%s'", addr);
            return -1;
        }
        host[hlen] = '\0';
        memset(&hints, 0, sizeof(hints));
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
        if (strcmp(host, "*") == 0 || host[0] == '\0')
            strcpy(host, "0.0.0.0");
        rc = getaddrinfo(host, port, &hints, &res);
        if (rc != 0) {
            snprintf(err, errlen, "%s: %s", addr, gai_strerror(rc));
            return -1;
        }
        memcpy(&ss, res->ai_addr, res->ai_addrlen);
        sslen = res->ai_addrlen;
        freeaddrinfo(res);
        g.tcp = true;
    }
    *ssp = ss;
    *lenp = sslen;
    return 0;
}

/* Binds and listens on ss. Returns the fd, or -1 with a message in err. */
static int listen_on(const char *addr, const struct sockaddr_storage *ss, socklen_t sslen,
                     char *err, size_t errlen)
{
    struct stat st;
    int fd = -1, one = 1;

    /* A stale socket from a killed run would make bind fail. */
    if (g.unix_path[0] != '\0' && lstat(g.unix_path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(g.unix_path);
    fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto fail;
    if (g.tcp && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
        goto fail;
    if (bind(fd, (const struct sockaddr *)ss, sslen) < 0 || listen(fd, 4096) < 0)
        goto fail;
    return fd;
fail:
    snprintf(err, errlen, "%s: %s", addr, strerror(errno));
    if (fd >= 0)
        close(fd);
    g.unix_path[0] = '\0';
    return -1;
}

/* The bound address, for the startup line (port 0 shows the real port). */
static void local_name(int fd, char *buf, size_t len)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char host[INET6_ADDRSTRLEN];

    if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
        snprintf(buf, len, "?");
    } else if (ss.ss_family == AF_INET) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

        inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
        snprintf(buf, len, "%s:%u", host, ntohs(s4->sin_port));
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

        inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
        snprintf(buf, len, "[%s]:%u", host, ntohs(s6->sin6_port));
    } else {
        snprintf(buf, len, "unix:%s", g.unix_path);
    }
}

/* Names go into headers and JSON unescaped, so keep them tame. */
static bool name_ok(const char *s)
{
    size_t n = strlen(s), i;

    if (n == 0 || n > NAME_MAX_LEN)
        return false;
    for (i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f || s[i] == '"' || s[i] == '\\')
            return false;
    return true;
}

/* BYTES: digits with an optional k/m/g (binary) suffix. */
static bool parse_bytes(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (*s < '0' || *s > '9')
        return false;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0)
        return false;
    switch (*end) {
    case 'k': case 'K': v <<= 10; end++; break;
    case 'm': case 'M': v <<= 20; end++; break;
    case 'g': case 'G': v <<= 30; end++; break;
    default: break;
    }
    if (*end != '\0' || v > (1ULL << 50))
        return false;
    *out = v;
    return true;
}

static void build_responses(void)
{
    char *p;
    uint64_t len;

    g.hello_len = (size_t)snprintf(g.hello, sizeof(g.hello), "hello from %s (pid %ld)\n",
                                   g.name, g.pid);
    g.ident_len = (size_t)snprintf(g.ident, sizeof(g.ident),
                                   "X-Backend: %s\r\nX-Backend-Pid: %ld\r\nX-Backend-Conn: ",
                                   g.name, g.pid);
    len = g.have_b ? g.body_b : g.hello_len;
    p = PUTS(g.fast, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ");
    p = put_u64(p, len);
    p = PUTS(p, "\r\n");
    p = put(p, g.ident, g.ident_len);
    g.fast_len = (size_t)(p - g.fast);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: backend [-l ADDR] [-n NAME] [-b BYTES] [-q]\n"
            "  -l ADDR   host:port, [v6]:port or unix:/path (default 0.0.0.0:$PORT)\n"
            "  -n NAME   instance name (default $DROVER_INSTANCE, else \"backend\")\n"
            "  -b BYTES  body size of plain responses (default: a hello line)\n"
            "  -q        no startup line\n");
}

int main(int argc, char **argv)
{
    const char *addr = NULL, *env;
    char addrbuf[320], err[512];
    struct sockaddr_storage ss;
    socklen_t sslen;
    bool quiet = false;
    int opt;

    g.name = getenv("DROVER_INSTANCE");
    if (g.name == NULL || g.name[0] == '\0')
        g.name = "backend";
    while ((opt = getopt(argc, argv, "l:n:b:qh")) != -1) {
        switch (opt) {
        case 'l': addr = optarg; break;
        case 'n': g.name = optarg; break;
        case 'q': quiet = true; break;
        case 'b':
            if (!parse_bytes(optarg, &g.body_b)) {
                fprintf(stderr, "backend: bad -b '%s'\n", optarg);
                return 2;
            }
            g.have_b = true;
            break;
        case 'h': usage(); return 0;
        default: usage(); return 2;
        }
    }
    if (optind != argc) {
        usage();
        return 2;
    }
    if (!name_ok(g.name)) {
        fprintf(stderr, "backend: bad name '%s' (1-%d printable characters, no quotes)\n",
                g.name, NAME_MAX_LEN);
        return 2;
    }
    if (addr == NULL) {
        env = getenv("PORT");
        if (env == NULL || env[0] == '\0') {
            fprintf(stderr, "backend: no -l ADDR and no $PORT\n");
            return 2;
        }
        snprintf(addrbuf, sizeof(addrbuf), "0.0.0.0:%s", env);
        addr = addrbuf;
    }
    signal(SIGPIPE, SIG_IGN);
    g.pid = (long)getpid();
    build_responses();

    if (addr_parse(addr, &ss, &sslen, err, sizeof(err)) < 0) {
        fprintf(stderr, "backend: %s\n", err);
        return 2;
    }
    g.lfd = listen_on(addr, &ss, sslen, err, sizeof(err));
    if (g.lfd < 0) {
        fprintf(stderr, "backend %s: listen %s\n", g.name, err);
        return 1;
    }
    g.loop = ev_default_loop(EVFLAG_AUTO);
    if (g.loop == NULL) {
        fprintf(stderr, "backend: no event loop\n");
        return 1;
    }
    llhttp_settings_init(&g.settings);
    g.settings.on_url = on_url;
    g.settings.on_header_field = on_header_field;
    g.settings.on_header_value = on_header_value;
    g.settings.on_header_value_complete = on_header_value_complete;
    g.settings.on_headers_complete = on_headers_complete;
    g.settings.on_body = on_body;
    g.settings.on_message_complete = on_message_complete;

    ev_io_init(&g.lio, on_accept, g.lfd, EV_READ);
    ev_io_start(g.loop, &g.lio);
    ev_timer_init(&g.accept_pause, on_accept_pause, ACCEPT_PAUSE, 0.);
    ev_prepare_init(&g.reaper, on_reap);
    ev_signal_init(&g.sigterm, on_signal, SIGTERM);
    ev_signal_start(g.loop, &g.sigterm);
    ev_signal_init(&g.sigint, on_signal, SIGINT);
    ev_signal_start(g.loop, &g.sigint);

    if (!quiet) {
        local_name(g.lfd, addrbuf, sizeof(addrbuf));
        printf("backend %s listening on %s (pid %ld)\n", g.name, addrbuf, g.pid);
        fflush(stdout);
    }
    ev_run(g.loop, 0);

    /* SIGTERM/SIGINT: stop accepting, drop connections, go. */
    ev_io_stop(g.loop, &g.lio);
    close(g.lfd);
    if (g.unix_path[0] != '\0')
        unlink(g.unix_path);
    while (g.live != NULL)
        conn_close(g.live);
    on_reap(g.loop, &g.reaper, 0);
    while (g.pool != NULL) {
        struct conn *c = g.pool;

        g.pool = c->next;
        free(c);
    }
    ev_loop_destroy(g.loop);
    return 0;
}
