/* The admin HTTP server: see admin.h for what it answers.
 *
 * A connection keeps the bytes of the request being read in in[]. The head
 * is parsed by http_parse_head over all of them (again when more arrive),
 * then decided at once: limits, route, auth, before any body byte is kept.
 * The body, if any, is parsed (and de-chunked in place) by
 * http_parse_body. The handler answers in the same callback; only when the
 * socket does not take the whole answer does the connection wait for
 * writability, with reading stopped, so requests are answered strictly
 * one at a time. A connection is freed at the end of its own callback,
 * never while a caller up the stack may still use it. */
#include "control/admin.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/utf8.h"
#include "llhttp.h"
#include "router/http.h"
#include "router/listener.h"

#define ADMIN_MAX_HEAD (16 * 1024)
#define ADMIN_MAX_BODY (64 * 1024)
#define ADMIN_MAX_TARGET 2048
#define ADMIN_IDLE_S 10.0
#define ADMIN_LINGER_S 2.0
#define ADMIN_JSON "application/json"

/* What the head decided. */
enum admin_verdict {
    ADMIN_OK,                   /* route is set */
    ADMIN_UNAUTHORIZED,         /* 401 */
    ADMIN_NOT_FOUND,            /* 404 */
    ADMIN_WRONG_METHOD,         /* 405, with the methods the path has */
};

enum { ALLOW_GET = 1, ALLOW_POST = 2 };

enum admin_conn_state { AC_READ, AC_WRITE, AC_LINGER, AC_CLOSED };

struct admin_conn {
    struct admin *a;
    struct admin_conn *prev, *next;
    int fd;
    enum admin_conn_state state;
    bool in_body;              /* the head is done: reading its body */
    ev_io io;
    ev_timer timer;
    char peer[INET6_ADDRSTRLEN];
    llhttp_t parser;
    struct http_head head;
    struct http_body bodyp;

    /* Bytes read and not yet used: the head being read, body bytes, or
     * the next pipelined request. */
    size_t inlen;
    char in[ADMIN_MAX_HEAD];

    /* The request, as decided from its head. */
    uint8_t method, minor;
    bool keep_alive;
    enum admin_verdict verdict;
    unsigned allow;
    const struct admin_route *route;
    char param[ADMIN_PARAM_MAX + 1];
    char target[ADMIN_MAX_TARGET + 1]; /* for the log */
    char path[ADMIN_MAX_TARGET + 1];
    size_t path_len;
    struct sbuf body;          /* de-chunked, for the handler */

    /* The answer. */
    struct sbuf out;
    size_t out_off;
    bool close_after;
    bool linger;               /* the client may still be sending */
};

struct admin {
    struct ev_loop *loop;
    struct admin_api api;
    double idle_s;
    struct conf_addr addr;
    int fd;
    bool owns_path;
    ev_io io;
    ev_timer pause;            /* accepting paused after EMFILE and the like */
    struct admin_conn *conns;
    unsigned nconns;
    struct admin_conn *current; /* inside a handler for this one */
    bool stopping;             /* admin_stop came during that call */
};

/* ---- decisions (pure functions) ---------------------------------------- */

bool admin_token_equal(const char *given, size_t glen, const char *token, size_t tlen)
{
    size_t n = glen > tlen ? glen : tlen;
    volatile unsigned char diff = glen != tlen;

    for (size_t i = 0; i < n; i++) {
        unsigned char x = i < glen ? (unsigned char)given[i] : 0;
        unsigned char y = i < tlen ? (unsigned char)token[i] : 0;

        diff |= (unsigned char)(x ^ y);
    }
    return diff == 0;
}

/* True when auth (the Authorization value, NULL when there was none) is
 * "Bearer <token>" (scheme in any case, RFC 7235). */
static bool admin_bearer_ok(const char *auth, size_t authlen, const char *token)
{
    const char *given = "";
    size_t glen = 0;

    if (auth != NULL && authlen > 6 && strncasecmp(auth, "Bearer", 6) == 0 &&
        (auth[6] == ' ' || auth[6] == '\t')) {
        given = auth + 6;
        glen = authlen - 6;
        while (glen > 0 && (*given == ' ' || *given == '\t')) {
            given++;
            glen--;
        }
        while (glen > 0 && (given[glen - 1] == ' ' || given[glen - 1] == '\t'))
            glen--;
    }
    /* Compared even when the header is missing, so both take as long. */
    return admin_token_equal(given, glen, token, strlen(token)) && auth != NULL;
}

static bool admin_param_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '-';
}

/* path[0..len) against a route's pattern (admin.h); the '*' segment's
 * text goes to param. */
static bool admin_path_match(const char *pattern, const char *path, size_t len, char *param)
{
    const char *end = path + len;

    for (const char *p = pattern;; p++) {
        if (*p == '*') {
            size_t n = 0;

            while (path + n < end && admin_param_char(path[n]))
                n++;
            if (n == 0 || n > ADMIN_PARAM_MAX)
                return false;
            memcpy(param, path, n);
            param[n] = '\0';
            path += n;
        } else if (*p == '\0') {
            return path == end;
        } else if (path == end || *path != *p) {
            return false;
        } else {
            path++;
        }
    }
}

/* The route for (method, path), unless the token (when one is in force) is
 * missing or wrong. The token check follows the route the method selects,
 * else the first one for the path; an unknown path always needs it. */
static enum admin_verdict admin_decide(const struct admin *a, int method, const char *path,
                                       size_t plen, const char *auth, size_t authlen,
                                       struct admin_conn *c)
{
    const char *token = a->api.token != NULL ? a->api.token(a->api.ctx) : NULL;
    const struct admin_route *hit = NULL, *first = NULL;
    bool needs;

    c->allow = 0;
    for (size_t i = 0; i < a->api.nroutes; i++) {
        const struct admin_route *r = &a->api.routes[i];
        bool get = r->method == ADMIN_GET;

        if (!admin_path_match(r->path, path, plen, c->param))
            continue;
        if (first == NULL)
            first = r;
        c->allow |= get ? ALLOW_GET : ALLOW_POST;
        if (hit == NULL && (get ? method == HTTP_GET || method == HTTP_HEAD : method == HTTP_POST))
            hit = r;
    }
    needs = hit != NULL ? hit->needs_token : first != NULL ? first->needs_token : true;
    if (needs && token != NULL && *token != '\0' && !admin_bearer_ok(auth, authlen, token))
        return ADMIN_UNAUTHORIZED;
    if (first == NULL)
        return ADMIN_NOT_FOUND;
    if (hit == NULL)
        return ADMIN_WRONG_METHOD;
    c->param[0] = '\0';
    admin_path_match(hit->path, path, plen, c->param); /* hit's own '*', if any */
    c->route = hit;
    return ADMIN_OK;
}

enum admin_connection_header { ADMIN_CONN_NONE, ADMIN_CONN_CLOSE, ADMIN_CONN_KEEP_ALIVE };

/* A whole answer into out: status line, Content-Type, Content-Length,
 * Cache-Control: no-store, Date, extra (complete header lines, or NULL), the
 * Connection header, then the body and a final newline (added unless the
 * body has one). A HEAD answer has the same headers and no body. */
static void admin_render(struct sbuf *out, int status, const char *body, size_t len,
                         const char *ctype, const char *extra, bool head,
                         enum admin_connection_header conn)
{
    bool nl = len == 0 || body[len - 1] != '\n';

    sbuf_printf(out,
                "HTTP/1.1 %d %s\r\n"
                "Content-Type: %s\r\n"
                "Content-Length: %zu\r\n"
                "Cache-Control: no-store\r\n"
                "Date: %s\r\n",
                status, http_status_phrase(status), ctype, len + (nl ? 1 : 0), http_date_now());
    if (extra != NULL)
        sbuf_puts(out, extra);
    if (conn == ADMIN_CONN_CLOSE)
        sbuf_puts(out, "Connection: close\r\n");
    else if (conn == ADMIN_CONN_KEEP_ALIVE)
        sbuf_puts(out, "Connection: keep-alive\r\n");
    sbuf_puts(out, "\r\n");
    if (!head) {
        sbuf_put(out, body, len);
        if (nl)
            sbuf_put(out, "\n", 1);
    }
}

json_t *admin_string(const char *s)
{
    struct sbuf fixed;
    json_t *j;

    if (s == NULL)
        return json_null();
    if ((j = json_string(s)) != NULL)
        return j;
    sbuf_init(&fixed);
    utf8_repair(s, strlen(s), &fixed);
    j = fixed.oom ? NULL : json_string(fixed.data);
    sbuf_free(&fixed);
    return j;
}

void admin_error(struct admin_answer *ans, int status, const char *fmt, ...)
{
    char msg[1024], *text;
    json_t *doc;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ans->status = status;
    ans->content_type = NULL;
    ans->headers = NULL;
    ans->body.len = 0;
    doc = json_object();
    json_object_set_new(doc, "error", admin_string(msg));
    text = json_dumps(doc, JSON_COMPACT);
    if (text != NULL)
        sbuf_puts(&ans->body, text);
    else
        ans->body.oom = true;
    free(text);
    json_decref(doc);
}

/* The server's own answer for a refused request (401, 404, 405). */
static void admin_refusal(enum admin_verdict v, unsigned allow, struct admin_answer *ans,
                          const char **extra)
{
    static const char *const allow_header[] = {NULL, "Allow: GET, HEAD\r\n", "Allow: POST\r\n",
                                               "Allow: GET, HEAD, POST\r\n"};
    static const char *const use[] = {NULL, "use GET or HEAD", "use POST",
                                      "use GET, HEAD or POST"};

    *extra = NULL;
    if (v == ADMIN_UNAUTHORIZED) {
        *extra = "WWW-Authenticate: Bearer\r\n";
        admin_error(ans, 401, "missing or wrong bearer token");
    } else if (v == ADMIN_WRONG_METHOD) {
        *extra = allow_header[allow & 3];
        admin_error(ans, 405, "%s", use[allow & 3]);
    } else {
        admin_error(ans, 404, "no such endpoint");
    }
}

/* ---- connections -------------------------------------------------------- */

static void admin_conn_io_cb(struct ev_loop *loop, ev_io *io, int revents);
static void admin_conn_timer_cb(struct ev_loop *loop, ev_timer *t, int revents);
static void admin_free(struct admin *a);

static void admin_conn_watch(struct admin_conn *c, int events)
{
    struct ev_loop *loop = c->a->loop;

    if (ev_is_active(&c->io) && (c->io.events & (EV_READ | EV_WRITE)) == events)
        return;
    ev_io_stop(loop, &c->io);
    ev_io_set(&c->io, c->fd, events);
    ev_io_start(loop, &c->io);
}

static void admin_conn_timeout(struct admin_conn *c, double seconds)
{
    c->timer.repeat = seconds;
    ev_timer_again(c->a->loop, &c->timer);
}

/* Closes c (not freed: whoever owns the current callback frees it). */
static void admin_conn_close(struct admin_conn *c)
{
    struct admin *a = c->a;

    if (c->state == AC_CLOSED)
        return;
    ev_io_stop(a->loop, &c->io);
    ev_timer_stop(a->loop, &c->timer);
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->state = AC_CLOSED;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        a->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    a->nconns--;
    sbuf_free(&c->out);
    sbuf_free(&c->body);
    if (!a->stopping && a->fd >= 0 && !ev_is_active(&a->io) && !ev_is_active(&a->pause))
        ev_io_start(a->loop, &a->io);
}

static void admin_conn_req_reset(struct admin_conn *c)
{
    c->in_body = false;
    c->method = HTTP_GET;
    c->minor = 1;
    c->keep_alive = true;
    c->verdict = ADMIN_NOT_FOUND;
    c->allow = 0;
    c->route = NULL;
    c->param[0] = '\0';
    c->target[0] = '\0';
    c->path_len = 0;
    c->body.len = 0;
    c->close_after = false;
    c->linger = false;
}

/* Drops the first n bytes of in[]. */
static void admin_conn_consume(struct admin_conn *c, size_t n)
{
    memmove(c->in, c->in + n, c->inlen - n);
    c->inlen -= n;
}

/* Shuts our side and reads what the client still sends for a moment, so
 * our answer is not destroyed by a reset for unread bytes. */
static void admin_conn_linger(struct admin_conn *c)
{
    shutdown(c->fd, SHUT_WR);
    c->state = AC_LINGER;
    c->inlen = 0;
    admin_conn_watch(c, EV_READ);
    admin_conn_timeout(c, ADMIN_LINGER_S);
}

/* Writes what is left of the answer. When all of it went: closes (or
 * lingers) after a closing answer, else gets ready for the next request. */
static void admin_conn_flush(struct admin_conn *c)
{
    while (c->out_off < c->out.len) {
        ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                c->state = AC_WRITE;
                admin_conn_watch(c, EV_WRITE);
                return;
            }
            admin_conn_close(c);
            return;
        }
        c->out_off += (size_t)n;
        if (c->state == AC_WRITE)
            admin_conn_timeout(c, c->a->idle_s); /* progress */
    }
    if (c->out.cap > 256 * 1024)
        sbuf_free(&c->out); /* a big /metrics answer: do not keep it */
    c->out.len = 0;
    c->out_off = 0;
    if (c->close_after) {
        if (c->linger || c->inlen > 0)
            admin_conn_linger(c);
        else
            admin_conn_close(c);
        return;
    }
    admin_conn_req_reset(c);
    c->state = AC_READ;
    admin_conn_watch(c, EV_READ);
    admin_conn_timeout(c, c->a->idle_s);
}

/* Queues the answer and starts writing it. */
static void admin_conn_reply(struct admin_conn *c, struct admin_answer *ans, const char *extra)
{
    enum admin_connection_header hdr = ADMIN_CONN_NONE;

    if (ans->body.oom) {
        sbuf_free(&ans->body);
        admin_error(ans, 500, "out of memory");
        extra = NULL;
    }
    if (c->close_after)
        hdr = ADMIN_CONN_CLOSE;
    else if (c->minor == 0)
        hdr = ADMIN_CONN_KEEP_ALIVE;
    c->out.len = 0;
    c->out_off = 0;
    admin_render(&c->out, ans->status, ans->body.data != NULL ? ans->body.data : "", ans->body.len,
                 ans->content_type != NULL ? ans->content_type : ADMIN_JSON,
                 extra != NULL ? extra : ans->headers, c->method == HTTP_HEAD, hdr);
    log_debug("admin: %s %s from %s: %d", llhttp_method_name((llhttp_method_t)c->method),
              c->target, c->peer, ans->status);
    if (c->out.oom) {
        admin_conn_close(c);
        return;
    }
    admin_conn_timeout(c, c->a->idle_s); /* the answer gets the whole delay to drain */
    admin_conn_flush(c);
}

/* An answer that ends the connection: malformed requests, limits, and
 * refusals that come before their body. */
static void admin_conn_fail(struct admin_conn *c, struct admin_answer *ans, const char *extra)
{
    c->close_after = true;
    c->linger = true;
    admin_conn_reply(c, ans, extra);
    sbuf_free(&ans->body);
}

static void admin_conn_fail_with(struct admin_conn *c, int status, const char *reason)
{
    struct admin_answer ans;

    sbuf_init(&ans.body);
    admin_error(&ans, status, "%s", reason);
    admin_conn_fail(c, &ans, NULL);
}

/* The Authorization value (NULL when absent) and how many there were. */
static const char *admin_auth_header(const struct http_head *h, size_t *len, int *count)
{
    const char *v = NULL;

    *len = 0;
    *count = 0;
    for (unsigned i = 0; i < h->nhdr; i++) {
        const struct http_header *hd = &h->hdr[i];

        if (hd->name.len == 13 && strncasecmp(http_str(h, hd->name), "authorization", 13) == 0 &&
            (*count)++ == 0) {
            v = http_str(h, hd->value);
            *len = hd->value.len;
        }
    }
    return v;
}

/* "Expect: 100-continue" (RFC 9110 10.1.1). */
static bool admin_expects_continue(const struct http_head *h)
{
    size_t n;
    const char *v = http_header_value(h, H_EXPECT, &n);

    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    return v != NULL && n == 12 && strncasecmp(v, "100-continue", 12) == 0;
}

/* The head is complete (in c->head): limits, then the route. Returns false
 * when the connection was answered (and is closing) already. */
static bool admin_conn_head_done(struct admin_conn *c)
{
    struct http_head *h = &c->head;
    llhttp_t *p = &c->parser;
    enum body_kind body = http_request_body_kind(p);
    const char *path, *authority, *auth;
    size_t plen, alen, authlen;
    int nauth;

    c->method = h->method;
    c->minor = h->minor;
    snprintf(c->target, sizeof(c->target), "%.*s", (int)h->target.len, http_str(h, h->target));
    if (h->target.len > ADMIN_MAX_TARGET) {
        admin_conn_fail_with(c, 414, "request target longer than 2 KiB");
        return false;
    }
    auth = admin_auth_header(h, &authlen, &nauth);
    if (nauth > 1) {
        admin_conn_fail_with(c, 400, "more than one Authorization header");
        return false;
    }
    if (body == BODY_LENGTH && p->content_length > ADMIN_MAX_BODY) {
        admin_conn_fail_with(c, 413, "request body larger than 64 KiB");
        return false;
    }
    c->keep_alive = (c->minor == 1 ? !h->conn_close : h->conn_keep_alive && !h->conn_close) &&
                    !(h->conn_upgrade && h->count[H_UPGRADE] > 0);
    http_target_parts(h, &path, &plen, &authority, &alen);
    memcpy(c->path, path, plen);
    c->path_len = plen;
    c->verdict = admin_decide(c->a, c->method, path, plen, auth, authlen, c);
    if (body != BODY_NONE && c->verdict != ADMIN_OK) {
        /* Refused before its body came: answer now rather than read it. */
        struct admin_answer ans;
        const char *extra;

        sbuf_init(&ans.body);
        admin_refusal(c->verdict, c->allow, &ans, &extra);
        admin_conn_fail(c, &ans, extra);
        return false;
    }
    if (body != BODY_NONE && c->minor >= 1 && admin_expects_continue(h)) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

        /* Into an idle socket's empty buffer: it fits, or the peer is gone. */
        if (send(c->fd, cont, sizeof(cont) - 1, MSG_NOSIGNAL) != (ssize_t)sizeof(cont) - 1) {
            admin_conn_close(c);
            return false;
        }
    }
    if (body != BODY_NONE) {
        llhttp_resume(p);
        http_body_init(p, &c->bodyp, ADMIN_MAX_HEAD);
        c->in_body = true;
    }
    return true;
}

/* The request is complete: the handler (or the refusal) answers. Returns
 * false when admin_stop came during the handler: c and its admin are
 * freed. */
static bool admin_conn_dispatch(struct admin_conn *c)
{
    struct admin *a = c->a;
    const char *q = memchr(c->target, '?', strlen(c->target));
    struct admin_request req = {c->path, c->path_len, c->param[0] != '\0' ? c->param : NULL,
                                c->body.data != NULL ? c->body.data : "", c->body.len,
                                q != NULL ? q + 1 : "", q != NULL ? strlen(q + 1) : 0,
                                c->minor, c->method == HTTP_HEAD};
    struct admin_answer ans = {.status = 200};
    const char *extra = NULL;

    c->close_after = !c->keep_alive;
    sbuf_init(&ans.body);
    if (c->verdict == ADMIN_OK) {
        a->current = c;
        c->route->handler(a->api.ctx, &req, &ans);
        a->current = NULL;
    } else {
        admin_refusal(c->verdict, c->allow, &ans, &extra);
    }
    if (a->stopping) {
        /* admin_stop was called by the handler (a reload that moved
         * admin.listen): answer once, as far as the socket takes it, then
         * everything goes. */
        c->close_after = true;
        admin_conn_reply(c, &ans, extra);
        sbuf_free(&ans.body);
        admin_conn_close(c);
        free(c);
        admin_free(a);
        return false;
    }
    if (ans.takeover != NULL) {
        /* The handler answers on the socket itself, from now on. */
        int fd = c->fd;

        c->fd = -1;
        admin_conn_close(c);
        sbuf_free(&ans.body);
        ans.takeover(ans.takeover_arg, fd);
        return true;
    }
    admin_conn_reply(c, &ans, extra);
    sbuf_free(&ans.body);
    return true;
}

/* Reads as much of the head in in[] as is there. Returns false when the
 * head is not complete yet or the connection was answered. */
static bool admin_conn_parse_head(struct admin_conn *c)
{
    int r;

    /* RFC 9112 2.2: empty lines before a request line are ignored. */
    while (c->inlen >= 2 && c->in[0] == '\r' && c->in[1] == '\n')
        admin_conn_consume(c, 2);
    if (c->inlen == 0)
        return false;
    r = http_parse_head(&c->parser, HTTP_REQUEST, &c->head, c->in, c->inlen);
    if (r == HTTP_HEAD_AGAIN) {
        if (c->inlen == sizeof(c->in))
            admin_conn_fail_with(c, 431, "request head larger than 16 KiB");
        return false;
    }
    if (r == HTTP_HEAD_BAD) {
        int status = c->head.err_status;

        admin_conn_fail_with(c, status, status == 414 ? "request target longer than 2 KiB"
                                                      : c->head.err_reason);
        return false;
    }
    if (!admin_conn_head_done(c))
        return false;
    admin_conn_consume(c, c->head.len);
    return true;
}

/* Reads as much of the body in in[] as is there (de-chunked in place).
 * Returns true when the body is complete. */
static bool admin_conn_parse_body(struct admin_conn *c)
{
    bool done;
    long n;

    c->bodyp.w = c->in;
    n = http_parse_body(&c->parser, c->in, c->inlen, &done);
    if (n < 0) {
        admin_conn_fail_with(c, c->bodyp.err_status, c->bodyp.err_reason);
        return false;
    }
    if (c->bodyp.bytes > ADMIN_MAX_BODY) {
        admin_conn_fail_with(c, 413, "request body larger than 64 KiB");
        return false;
    }
    sbuf_put(&c->body, c->in, (size_t)(c->bodyp.w - c->in));
    if (c->body.oom) {
        admin_conn_fail_with(c, 500, "out of memory");
        return false;
    }
    admin_conn_consume(c, (size_t)n);
    if (done)
        c->in_body = false;
    return done;
}

/* Parses what in[] holds, answering each complete request in turn.
 * Returns false when the admin is gone (see admin_conn_dispatch). */
static bool admin_conn_process(struct admin_conn *c)
{
    while (c->state == AC_READ) {
        if (!c->in_body && !admin_conn_parse_head(c))
            return true;
        if (c->in_body && (c->inlen == 0 || !admin_conn_parse_body(c)))
            return true;
        if (!admin_conn_dispatch(c))
            return false;
    }
    return true;
}

/* Returns false when the admin is gone. */
static bool admin_conn_read(struct admin_conn *c)
{
    ssize_t n;

    if (c->state == AC_LINGER) {
        char drop[4096];

        n = read(c->fd, drop, sizeof(drop));
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
            admin_conn_close(c);
        return true;
    }
    /* Never full here: every byte read is parsed at once, and a full
     * buffer without a complete head was answered 431. */
    n = read(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen);
    if (n < 0) {
        if (errno != EAGAIN && errno != EINTR)
            admin_conn_close(c);
        return true;
    }
    if (n == 0) {
        admin_conn_close(c);
        return true;
    }
    c->inlen += (size_t)n;
    return admin_conn_process(c);
}

static void admin_conn_io_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct admin_conn *c = io->data;

    (void)loop;
    (void)revents;
    if (c->state == AC_WRITE) {
        admin_conn_flush(c);
        if (c->state == AC_READ && !admin_conn_process(c))
            return;
    } else if (!admin_conn_read(c)) {
        return;
    }
    if (c->state == AC_CLOSED)
        free(c);
}

static void admin_conn_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct admin_conn *c = t->data;

    (void)loop;
    (void)revents;
    admin_conn_close(c);
    free(c);
}

/* ---- listening ----------------------------------------------------------- */

static void admin_conn_new(struct admin *a, int fd, const struct sockaddr_storage *peer)
{
    struct admin_conn *c = calloc(1, sizeof(*c));
    int one = 1;

    if (c == NULL) {
        close(fd);
        return;
    }
    c->a = a;
    c->fd = fd;
    if (peer->ss_family == AF_INET) {
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        inet_ntop(AF_INET, &((const struct sockaddr_in *)peer)->sin_addr, c->peer, sizeof(c->peer));
    } else if (peer->ss_family == AF_INET6) {
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)peer)->sin6_addr, c->peer,
                  sizeof(c->peer));
    } else {
        strcpy(c->peer, "unix");
    }
    sbuf_init(&c->body);
    sbuf_init(&c->out);
    admin_conn_req_reset(c);
    c->state = AC_READ;
    ev_io_init(&c->io, admin_conn_io_cb, fd, EV_READ);
    c->io.data = c;
    ev_init(&c->timer, admin_conn_timer_cb);
    c->timer.data = c;
    c->next = a->conns;
    if (a->conns != NULL)
        a->conns->prev = c;
    a->conns = c;
    a->nconns++;
    ev_io_start(a->loop, &c->io);
    admin_conn_timeout(c, a->idle_s);
}

static void admin_accept_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct admin *a = io->data;

    (void)revents;
    for (int i = 0; i < 16; i++) {
        struct sockaddr_storage peer;
        socklen_t len = sizeof(peer);
        bool exhausted;
        int fd;

        if (a->nconns >= ADMIN_MAX_CONNS) {
            ev_io_stop(loop, &a->io); /* resumed when one closes */
            return;
        }
        fd = listener_accept(a->fd, &peer, &len, &exhausted);
        if (fd < 0) {
            if (exhausted) {
                log_warn("admin: accept on %s: %s; pausing for 100ms", a->addr.text,
                         strerror(errno));
                ev_io_stop(loop, &a->io);
                ev_timer_set(&a->pause, 0.1, 0.);
                ev_timer_start(loop, &a->pause);
            }
            return;
        }
        admin_conn_new(a, fd, &peer);
    }
}

static void admin_pause_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct admin *a = t->data;

    (void)revents;
    if (a->fd >= 0 && a->nconns < ADMIN_MAX_CONNS)
        ev_io_start(loop, &a->io);
}

/* A listening socket for a->addr; port 0 is replaced by the one chosen. */
static int admin_bind(struct admin *a, char *err, size_t errlen)
{
    struct conf_addr *addr = &a->addr;
    int family = addr->ss.ss_family, fd;

    fd = listener_bind(addr, false, err, errlen);
    if (fd < 0)
        return -1;
    a->owns_path = family == AF_UNIX;
    if (family != AF_UNIX && addr->port == 0) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        char *colon = strrchr(addr->text, ':');

        if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0) {
            addr->ss = ss;
            addr->len = len;
            addr->port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                                 : ((struct sockaddr_in6 *)&ss)->sin6_port);
            if (colon != NULL)
                snprintf(colon + 1, sizeof(addr->text) - (size_t)(colon + 1 - addr->text), "%d",
                         addr->port);
        }
    }
    return fd;
}

struct admin *admin_start(struct ev_loop *loop, const struct conf_addr *addr,
                          const struct admin_api *api, char *err, size_t errlen)
{
    struct admin *a = calloc(1, sizeof(*a));

    if (a == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    a->loop = loop;
    a->api = *api;
    a->idle_s = api->idle_s > 0 ? api->idle_s : ADMIN_IDLE_S;
    a->addr = *addr;
    a->fd = admin_bind(a, err, errlen);
    if (a->fd < 0) {
        free(a);
        return NULL;
    }
    ev_io_init(&a->io, admin_accept_cb, a->fd, EV_READ);
    a->io.data = a;
    ev_init(&a->pause, admin_pause_cb);
    a->pause.data = a;
    ev_io_start(loop, &a->io);
    return a;
}

const struct conf_addr *admin_addr(const struct admin *a)
{
    return &a->addr;
}

/* Closes the listening socket (and removes its unix path). */
static void admin_stop_listening(struct admin *a)
{
    ev_io_stop(a->loop, &a->io);
    ev_timer_stop(a->loop, &a->pause);
    if (a->fd >= 0) {
        close(a->fd);
        a->fd = -1;
        if (a->owns_path)
            unlink(((const struct sockaddr_un *)&a->addr.ss)->sun_path);
    }
}

static void admin_free(struct admin *a)
{
    admin_stop_listening(a);
    while (a->conns != NULL) {
        struct admin_conn *c = a->conns;

        admin_conn_close(c);
        free(c);
    }
    free(a);
}

void admin_stop(struct admin *a)
{
    if (a == NULL)
        return;
    if (a->current == NULL) {
        admin_free(a);
        return;
    }
    /* Called from the handler admin_conn_dispatch is in: close the rest
     * now, and leave that connection and the struct to dispatch. */
    a->stopping = true;
    admin_stop_listening(a);
    for (struct admin_conn *c = a->conns, *next; c != NULL; c = next) {
        next = c->next;
        if (c != a->current) {
            admin_conn_close(c);
            free(c);
        }
    }
}
