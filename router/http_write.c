/* Writing heads: the upstream request and the client's response rewritten
 * in one pass, and drover's own small answers. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "router/http.h"
#include "router/http_syntax.h"

struct out {
    char *p;
    size_t len, cap;
    bool overflow;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->overflow || n > o->cap - o->len) {
        o->overflow = true;
        return;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
}

static void puts_(struct out *o, const char *s)
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
 * survive only on a tunnel (WebSocket) handshake. */
static bool hop_by_hop(const struct http_header *hd, bool tunnel)
{
    switch ((enum http_hdr_kind)hd->kind) {
    case H_CONNECTION:
    case H_UPGRADE:
        return !tunnel;
    case H_KEEP_ALIVE:
    case H_PROXY_CONNECTION:
    case H_TE:
    case H_TRAILER:
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
    puts_(&o, "\r\nX-Forwarded-Proto: http\r\n");
    if (rw->listen_port != 0) {
        puts_(&o, "X-Forwarded-Port: ");
        put_uint(&o, rw->listen_port);
        put(&o, "\r\n", 2);
    }
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
    for (unsigned i = 0; i < h->nhdr; i++) {
        const struct http_header *hd = &h->hdr[i];

        if (hop_by_hop(hd, rw->tunnel) || (hd->kind == H_TRANSFER_ENCODING && rw->dechunk) ||
            (rw->interim && (hd->kind == H_CONTENT_LENGTH || hd->kind == H_TRANSFER_ENCODING))) {
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

size_t http_write_error(int status, const char *reason, const char *request_id,
                        enum http_conn_header connection, char *out, size_t cap)
{
    char body[512];
    int blen, n;

    blen = snprintf(body, sizeof(body), "%d %s: %s\n%s%s%s", status, http_status_phrase(status),
                    reason, request_id != NULL ? "request id: " : "",
                    request_id != NULL ? request_id : "", request_id != NULL ? "\n" : "");
    if (blen < 0)
        return 0;
    if ((size_t)blen >= sizeof(body))
        blen = sizeof(body) - 1;
    n = snprintf(out, cap,
                 "HTTP/1.1 %d %s\r\n"
                 "Content-Type: text/plain; charset=utf-8\r\n"
                 "Content-Length: %d\r\n"
                 "%s%s%s"
                 "%s"
                 "\r\n"
                 "%.*s",
                 status, http_status_phrase(status), blen,
                 request_id != NULL ? "X-Request-Id: " : "", request_id != NULL ? request_id : "",
                 request_id != NULL ? "\r\n" : "",
                 connection == HTTP_CONN_CLOSE        ? "Connection: close\r\n"
                 : connection == HTTP_CONN_KEEP_ALIVE ? "Connection: keep-alive\r\n"
                                                      : "",
                 blen, body);
    if (n < 0 || (size_t)n >= cap)
        return 0;
    return (size_t)n;
}
