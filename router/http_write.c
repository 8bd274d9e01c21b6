/* Writing heads: the upstream request and the client's response rewritten
 * in one pass, and drover's own small answers. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "router/http.h"
#include "router/http_syntax.h"

struct out {
    char *p;
    size_t len, cap;
    bool overflow;
};

static inline __attribute__((always_inline)) void put(struct out *o, const char *s, size_t n)
{
    if (o->overflow || n > o->cap - o->len) {
        o->overflow = true;
        return;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
}

/* Inlined so that strlen of a literal folds to a constant. */
static inline __attribute__((always_inline)) void puts_(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

static void put_uint(struct out *o, unsigned long long v)
{
    char tmp[24];
    size_t i = sizeof(tmp);

    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    put(o, tmp + i, sizeof(tmp) - i);
}

/* Where header i's line ends (its CRLF included): the next line starts
 * there, or the head's final CRLF does. */
static uint32_t line_end(const struct http_head *h, unsigned i)
{
    return i + 1 < h->nhdr ? h->hdr[i + 1].name.off : h->len - 2;
}

/* Origin-form target with the route's prefix stripped; the query is kept. */
static void put_target(struct out *o, const struct http_head *h, size_t strip)
{
    const char *s = http_str(h, h->target);
    size_t n = h->target.len;
    struct target_split t;
    const char *path;
    size_t pathlen;

    if (n == 1 && s[0] == '*') {
        put(o, "*", 1);
        return;
    }
    t = http_split_target(s, n);
    path = s + t.path;
    pathlen = t.query - t.path;
    if (strip > pathlen)
        strip = pathlen;
    path += strip;
    pathlen -= strip;
    if (pathlen == 0 || path[0] != '/')
        put(o, "/", 1);
    put(o, path, pathlen);
    put(o, s + t.query, n - t.query);
}

/* Hop-by-hop headers are dropped in both directions; Connection and Upgrade
 * survive only on a tunnel (WebSocket) handshake. Trailer is not one (RFC
 * 9110 6.6.2): it announces the trailer fields that go through with the
 * chunked body. */
static bool hop_by_hop(const struct http_header *hd, bool tunnel)
{
    switch ((enum http_hdr_kind)hd->kind) {
    case H_CONNECTION:
    case H_UPGRADE:
        return !tunnel;
    case H_KEEP_ALIVE:
    case H_PROXY_CONNECTION:
    case H_TE:
        return true;
    default:
        return hd->drop;
    }
}

/* Copies the original bytes of a run of kept header lines [from, to). */
static void put_run(struct out *o, const struct http_head *h, uint32_t *run, uint32_t to)
{
    if (*run != UINT32_MAX)
        put(o, h->base + *run, to - *run);
    *run = UINT32_MAX;
}

size_t http_write_request(const struct http_head *h, const struct http_request_rewrite *rw,
                          char *out, size_t cap)
{
    struct out o = {out, 0, cap, false};
    const char *target = http_str(h, h->target);
    struct target_split t = http_split_target(target, h->target.len);
    uint32_t run = UINT32_MAX;
    /* RFC 9110 7.6.2: only OPTIONS and TRACE count hops; at 0 drover
     * answers itself and never gets here. */
    int max_forwards =
        h->method == HTTP_OPTIONS || h->method == HTTP_TRACE ? http_max_forwards(h) : -1;

    puts_(&o, llhttp_method_name((llhttp_method_t)h->method));
    put(&o, " ", 1);
    put_target(&o, h, rw->strip);
    put(&o, " HTTP/1.1\r\n", 11);
    /* Header lines drover keeps go out as they came, a run at a time. */
    for (unsigned i = 0; i < h->nhdr; i++) {
        const struct http_header *hd = &h->hdr[i];

        switch ((enum http_hdr_kind)hd->kind) {
        case H_X_FORWARDED_FOR:
        case H_X_FORWARDED_PROTO:
        case H_X_FORWARDED_PORT:
        case H_X_REQUEST_START:
        case H_X_REQUEST_ID:
            put_run(&o, h, &run, hd->name.off);
            continue; /* set below */
        case H_CONNECTION:
            put_run(&o, h, &run, hd->name.off);
            if (rw->tunnel)
                puts_(&o, "Connection: upgrade\r\n");
            continue;
        case H_MAX_FORWARDS:
            if (max_forwards < 0)
                break;
            put_run(&o, h, &run, hd->name.off);
            continue; /* decremented below */
        case H_EXPECT:
            /* RFC 9110 10.1.1: a 100-continue from HTTP/1.0 is ignored;
             * upstream it would be read as HTTP/1.1's. */
            if (h->minor != 0)
                break;
            put_run(&o, h, &run, hd->name.off);
            continue;
        case H_HOST:
            /* RFC 9112 3.2.2: an absolute-form target's authority replaces
             * Host, so the backend sees the host drover routed on. */
            if (t.authlen > 0) {
                put_run(&o, h, &run, hd->name.off);
                puts_(&o, "Host: ");
                put(&o, target + t.auth, t.authlen);
                put(&o, "\r\n", 2);
                continue;
            }
            break;
        default:
            break;
        }
        if (hop_by_hop(hd, rw->tunnel)) {
            put_run(&o, h, &run, hd->name.off);
            continue;
        }
        if (run == UINT32_MAX)
            run = hd->name.off;
    }
    if (h->nhdr > 0)
        put_run(&o, h, &run, line_end(h, h->nhdr - 1));
    if (h->count[H_HOST] == 0 && t.authlen > 0) {
        puts_(&o, "Host: ");
        put(&o, target + t.auth, t.authlen);
        put(&o, "\r\n", 2);
    } else if (h->count[H_HOST] == 0 && rw->host != NULL) {
        puts_(&o, "Host: ");
        puts_(&o, rw->host);
        put(&o, "\r\n", 2);
    }
    /* Every X-Forwarded-For the client sent merged into one, the client last. */
    puts_(&o, "X-Forwarded-For: ");
    for (unsigned i = 0; i < h->nhdr; i++) {
        const struct http_header *hd = &h->hdr[i];

        if (hd->kind != H_X_FORWARDED_FOR || hd->value.len == 0)
            continue;
        put(&o, http_str(h, hd->value), hd->value.len);
        put(&o, ", ", 2);
    }
    puts_(&o, rw->client_ip);
    puts_(&o, rw->https ? "\r\nX-Forwarded-Proto: https\r\n" : "\r\nX-Forwarded-Proto: http\r\n");
    if (rw->listen_port != 0) {
        puts_(&o, "X-Forwarded-Port: ");
        put_uint(&o, rw->listen_port);
        put(&o, "\r\n", 2);
    }
    if (max_forwards > 0) {
        puts_(&o, "Max-Forwards: ");
        put_uint(&o, (unsigned)max_forwards - 1);
        put(&o, "\r\n", 2);
    }
    /* RFC 9110 7.6.3: a gateway MUST send Via inbound, after any the
     * client's request carried, with the protocol it was received in. */
    puts_(&o, h->minor == 0 ? "Via: 1.0 drover\r\n" : "Via: 1.1 drover\r\n");
    puts_(&o, "X-Request-Start: t=");
    put_uint(&o, (unsigned long long)rw->start_ms);
    puts_(&o, "\r\nX-Request-Id: ");
    put(&o, rw->request_id, rw->request_id_len);
    put(&o, "\r\n\r\n", 4);
    return o.overflow ? 0 : o.len;
}

size_t http_write_response(const struct http_head *h, const struct http_response_rewrite *rw,
                           char *out, size_t cap)
{
    struct out o = {out, 0, cap, false};
    uint32_t run = UINT32_MAX;

    puts_(&o, "HTTP/1.1 ");
    put_uint(&o, h->status);
    put(&o, " ", 1);
    if (h->target.len > 0)
        put(&o, http_str(h, h->target), h->target.len);
    else
        puts_(&o, http_status_phrase(h->status));
    put(&o, "\r\n", 2);
    /* RFC 9110 8.6, RFC 9112 6.1: no framing headers on a 1xx or a 204. */
    bool no_framing = rw->interim || h->status == 204;

    for (unsigned i = 0; i < h->nhdr; i++) {
        const struct http_header *hd = &h->hdr[i];

        if (hop_by_hop(hd, rw->tunnel) ||
            (rw->dechunk && (hd->kind == H_TRANSFER_ENCODING || hd->kind == H_TRAILER)) ||
            (no_framing && (hd->kind == H_CONTENT_LENGTH || hd->kind == H_TRANSFER_ENCODING))) {
            put_run(&o, h, &run, hd->name.off);
            continue;
        }
        if (hd->kind == H_CONNECTION) {
            put_run(&o, h, &run, hd->name.off);
            puts_(&o, "Connection: upgrade\r\n");
            continue;
        }
        if (run == UINT32_MAX)
            run = hd->name.off;
    }
    if (h->nhdr > 0)
        put_run(&o, h, &run, line_end(h, h->nhdr - 1));
    if (h->count[H_X_REQUEST_ID] == 0 && rw->request_id != NULL) {
        puts_(&o, "X-Request-Id: ");
        put(&o, rw->request_id, rw->request_id_len);
        put(&o, "\r\n", 2);
    }
    /* RFC 9110 6.6.1: a recipient with a clock adds the Date it lacks. */
    if (h->count[H_DATE] == 0 && rw->date != NULL && !rw->interim) {
        puts_(&o, "Date: ");
        puts_(&o, rw->date);
        put(&o, "\r\n", 2);
    }
    if (!rw->tunnel && rw->connection == HTTP_CONN_CLOSE)
        puts_(&o, "Connection: close\r\n");
    else if (!rw->tunnel && rw->connection == HTTP_CONN_KEEP_ALIVE)
        puts_(&o, "Connection: keep-alive\r\n");
    put(&o, "\r\n", 2);
    return o.overflow ? 0 : o.len;
}

const char *http_status_phrase(int status)
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
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

const char *http_date_now(void)
{
    static __thread char date[HTTP_DATE_LEN + 1];
    static __thread time_t at;
    time_t now = time(NULL);
    struct tm tm;

    if (now != at || date[0] == '\0') {
        gmtime_r(&now, &tm);
        strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        at = now;
    }
    return date;
}

static void put_reply_head(struct out *o, int status, const char *headers, size_t blen,
                           const char *request_id, enum http_conn_header connection)
{
    puts_(o, "HTTP/1.1 ");
    put_uint(o, (unsigned)status);
    put(o, " ", 1);
    puts_(o, http_status_phrase(status));
    puts_(o, "\r\nDate: ");
    puts_(o, http_date_now());
    put(o, "\r\n", 2);
    puts_(o, headers);
    puts_(o, "Content-Length: ");
    put_uint(o, blen);
    put(o, "\r\n", 2);
    if (request_id != NULL) {
        puts_(o, "X-Request-Id: ");
        puts_(o, request_id);
        put(o, "\r\n", 2);
    }
    if (connection == HTTP_CONN_CLOSE)
        puts_(o, "Connection: close\r\n");
    else if (connection == HTTP_CONN_KEEP_ALIVE)
        puts_(o, "Connection: keep-alive\r\n");
    put(o, "\r\n", 2);
}

size_t http_write_reply(int status, const char *headers, const char *body, size_t blen,
                        const char *request_id, enum http_conn_header connection, char *out,
                        size_t cap)
{
    struct out o = {out, 0, cap, false};

    put_reply_head(&o, status, headers, blen, request_id, connection);
    put(&o, body, blen);
    return o.overflow ? 0 : o.len;
}

size_t http_write_error(int status, const char *reason, const char *request_id,
                        enum http_conn_header connection, char *out, size_t cap)
{
    char body[512];
    int blen;

    blen = snprintf(body, sizeof(body), "%d %s: %s\n%s%s%s", status, http_status_phrase(status),
                    reason, request_id != NULL ? "request id: " : "",
                    request_id != NULL ? request_id : "", request_id != NULL ? "\n" : "");
    if (blen < 0)
        return 0;
    if ((size_t)blen >= sizeof(body))
        blen = sizeof(body) - 1;
    return http_write_reply(status, "Content-Type: text/plain; charset=utf-8\r\n", body,
                            (size_t)blen, request_id, connection, out, cap);
}

/* Fields a TRACE echo leaves out (RFC 9110 9.3.8: likely sensitive). */
static bool trace_hides(const struct http_head *h, const struct http_header *hd)
{
    static const char *const hidden[] = {"authorization", "proxy-authorization", "cookie"};
    const char *name = http_str(h, hd->name);

    for (size_t i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++)
        if (strlen(hidden[i]) == hd->name.len && strncasecmp(name, hidden[i], hd->name.len) == 0)
            return true;
    return false;
}

size_t http_write_trace(const struct http_head *h, const char *request_id,
                        enum http_conn_header connection, char *out, size_t cap)
{
    char head[512];
    struct out o = {head, 0, sizeof(head), false}, body;
    uint32_t run = 0;

    if (cap <= sizeof(head))
        return 0;
    /* The echo first, where it will not be in the head's way. */
    body = (struct out){out + sizeof(head), 0, cap - sizeof(head), false};
    for (unsigned i = 0; i < h->nhdr; i++) {
        if (!trace_hides(h, &h->hdr[i]))
            continue;
        put_run(&body, h, &run, h->hdr[i].name.off);
        run = line_end(h, i);
    }
    put_run(&body, h, &run, h->len);
    put_reply_head(&o, 200, "Content-Type: message/http\r\n", body.len, request_id, connection);
    if (o.overflow || body.overflow || o.len + body.len > cap)
        return 0;
    memmove(out + o.len, body.p, body.len);
    memcpy(out, head, o.len);
    return o.len + body.len;
}
