/* The admin API server: see admin.h for what it answers.
 *
 * One connection reads with llhttp, which pauses twice per request: when
 * the head is complete (to decide the route, the auth and the limits
 * before any body byte is kept) and when the message is complete (to
 * answer). The answer is computed at once by control.c and written in the
 * same callback; only when the socket does not take it all does the
 * connection wait for writability, with reading stopped, so requests are
 * answered strictly one at a time. A connection is freed at the end of its
 * own callback, never while a caller up the stack may still use it. */
#include "control/admin.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/json.h"
#include "lib/log.h"
#include "llhttp.h"
#include "control/control.h"
#include "router/http.h"
#include "router/listener.h"

#define ADMIN_MAX_HEAD (16 * 1024)
#define ADMIN_MAX_BODY (64 * 1024)
#define ADMIN_MAX_TARGET 2048
#define ADMIN_LINGER_S 2.0
#define ADMIN_MAX_CONNS 64
#define ADMIN_TYPE_MAX 63
#define ADMIN_JSON "application/json"
#define ADMIN_METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* What a request asks for, decided from its head alone. */
enum admin_action {
    ADMIN_HEALTH,
    ADMIN_READY,
    ADMIN_STATUS,
    ADMIN_METRICS,
    ADMIN_RELOAD,
    ADMIN_SCALE,
    ADMIN_PROCESS,
    ADMIN_NOT_FOUND,    /* 404 */
    ADMIN_UNAUTHORIZED, /* 401 */
    ADMIN_USE_GET,      /* 405, Allow: GET, HEAD */
    ADMIN_USE_POST,     /* 405, Allow: POST */
};

struct admin_route {
    enum admin_action action;
    char type[ADMIN_TYPE_MAX + 1]; /* ADMIN_PROCESS: the process type */
    const char *verb;              /* ADMIN_PROCESS: "restart", "stop" or "start" */
};

/* How long a connection may take to send a whole request (from the
 * previous answer, or the accept), and an answer may stall. A variable so
 * unit tests can shorten it. */
static double admin_idle_s = 10.0;

enum admin_conn_state { AC_READ, AC_WRITE, AC_LINGER, AC_CLOSED };
enum admin_pause { PAUSE_NONE, PAUSE_HEAD, PAUSE_DONE };
enum admin_hdr { HDR_OTHER, HDR_AUTH, HDR_HOST, HDR_EXPECT };

struct admin_conn {
    struct admin *a;
    struct admin_conn *prev, *next;
    int fd;
    enum admin_conn_state state;
    ev_io io;
    ev_timer timer;
    char peer[INET6_ADDRSTRLEN];
    llhttp_t parser;
    enum admin_pause pause;

    /* Bytes read and not yet parsed: only pipelined requests wait here. */
    size_t inlen;
    char in[ADMIN_MAX_HEAD];

    /* The request being read. */
    size_t head_bytes;
    bool head_done;
    char target[ADMIN_MAX_TARGET];
    size_t target_len;
    bool target_too_long;
    char field[16];
    size_t field_len;          /* > sizeof(field): a name we do not look at */
    enum admin_hdr cur;
    struct sbuf auth;          /* the Authorization value */
    int nauth, nhost;
    char expect[24];
    size_t expect_len;
    bool expect_continue;
    uint64_t body_bytes;
    bool body_too_large;
    struct sbuf body;          /* kept only for POST /scale */
    uint8_t method, minor;
    struct admin_route route;

    /* The answer. */
    struct sbuf out;
    size_t out_off;
    bool close_after;
    bool linger;               /* the client may still be sending */
};

struct admin {
    struct ev_loop *loop;
    struct control *ctl;
    struct conf_addr addr;
    int fd;
    bool owns_path;
    ev_io io;
    ev_timer pause;            /* accepting paused after EMFILE and the like */
    struct admin_conn *conns;
    unsigned nconns;
    struct admin_conn *current; /* inside a control_* call for this one */
    bool stopping;             /* admin_stop came during that call */
};

/* ---- decisions (pure functions) ---------------------------------------- */

/* Equal without an early exit: every byte of the longer of the two is
 * looked at whatever the content, so the time depends on the lengths only
 * (and on the token's only when the guess is shorter). */
static bool admin_token_equal(const char *given, size_t glen, const char *token, size_t tlen)
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

/* The path of a request target: origin-form up to '?', or the path of an
 * absolute-form target ("http://host/status" → "/status"). */
static void admin_target_path(const char *t, size_t len, const char **path, size_t *plen)
{
    const char *end = t + len, *q;

    if (len > 7 && (strncasecmp(t, "http://", 7) == 0 || strncasecmp(t, "https://", 8) == 0)) {
        const char *auth = memchr(t, ':', len) + 3;

        q = auth;
        while (q < end && *q != '/' && *q != '?')
            q++;
        if (q == end || *q == '?') {
            *path = "/";
            *plen = 1;
            return;
        }
        t = q;
    }
    for (q = t; q < end && *q != '?' && *q != '#'; q++) {
    }
    *path = t;
    *plen = (size_t)(q - t);
}

static bool path_is(const char *path, size_t len, const char *want)
{
    return len == strlen(want) && memcmp(path, want, len) == 0;
}

/* "/processes/TYPE/VERB" → type and verb; false if path is not that. */
static bool admin_process_path(const char *path, size_t len, struct admin_route *r)
{
    static const char *const verbs[] = {"restart", "stop", "start"};
    static const char prefix[] = "/processes/";
    const char *type, *slash, *verb, *end = path + len;
    size_t tlen, vlen;

    if (len <= sizeof(prefix) - 1 || memcmp(path, prefix, sizeof(prefix) - 1) != 0)
        return false;
    type = path + sizeof(prefix) - 1;
    slash = memchr(type, '/', (size_t)(end - type));
    if (slash == NULL)
        return false;
    tlen = (size_t)(slash - type);
    if (tlen == 0 || tlen > ADMIN_TYPE_MAX)
        return false;
    for (size_t i = 0; i < tlen; i++) {
        char ch = type[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-'))
            return false;
    }
    verb = slash + 1;
    vlen = (size_t)(end - verb);
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
        if (vlen == strlen(verbs[i]) && memcmp(verb, verbs[i], vlen) == 0) {
            memcpy(r->type, type, tlen);
            r->type[tlen] = '\0';
            r->verb = verbs[i];
            return true;
        }
    }
    return false;
}

/* Maps a request head to what to do: the endpoint, unless the token (when
 * one is in force, token non-empty) is missing or wrong, or the method is
 * not the endpoint's. auth is the Authorization value, NULL when absent.
 * Order: public endpoints need no token; everything else, unknown paths
 * included, is 401 without the right one; then 405 for a wrong method;
 * then 404 for an unknown path. */
static void admin_route(int method, const char *target, size_t len, const char *auth,
                        size_t authlen, const char *token, struct admin_route *r)
{
    static const struct {
        const char *path;
        enum admin_action action;
        bool public, post;
    } endpoints[] = {
        {"/health", ADMIN_HEALTH, true, false},   {"/ready", ADMIN_READY, true, false},
        {"/status", ADMIN_STATUS, false, false},  {"/metrics", ADMIN_METRICS, false, false},
        {"/reload", ADMIN_RELOAD, false, true},   {"/scale", ADMIN_SCALE, false, true},
    };
    const char *path;
    size_t plen;
    bool public = false, post = true, known = false;

    memset(r, 0, sizeof(*r));
    r->action = ADMIN_NOT_FOUND;
    admin_target_path(target, len, &path, &plen);
    for (size_t i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]) && !known; i++) {
        if (path_is(path, plen, endpoints[i].path)) {
            known = true;
            r->action = endpoints[i].action;
            public = endpoints[i].public;
            post = endpoints[i].post;
        }
    }
    if (!known && admin_process_path(path, plen, r)) {
        known = true;
        r->action = ADMIN_PROCESS;
    }
    if (!public && token != NULL && *token != '\0' && !admin_bearer_ok(auth, authlen, token)) {
        r->action = ADMIN_UNAUTHORIZED;
        return;
    }
    if (!known) {
        r->action = ADMIN_NOT_FOUND;
        return;
    }
    if (post && method != HTTP_POST)
        r->action = ADMIN_USE_POST;
    else if (!post && method != HTTP_GET && method != HTTP_HEAD)
        r->action = ADMIN_USE_GET;
}

static bool admin_action_is_error(enum admin_action a)
{
    return a >= ADMIN_NOT_FOUND;
}

enum admin_connection_header { ADMIN_CONN_NONE, ADMIN_CONN_CLOSE, ADMIN_CONN_KEEP_ALIVE };

/* A whole answer into out: status line, Content-Type, Content-Length,
 * Cache-Control: no-store, extra (complete header lines, or NULL), the
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
                "Cache-Control: no-store\r\n",
                status, http_status_phrase(status), ctype, len + (nl ? 1 : 0));
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

/* {"error":"<reason>"} */
static void admin_error_doc(struct sbuf *out, const char *reason)
{
    struct jsonw w;

    jsonw_init(&w, out);
    jsonw_object_begin(&w);
    jsonw_key(&w, "error");
    jsonw_string(&w, reason);
    jsonw_object_end(&w);
}

/* ---- connections -------------------------------------------------------- */

static void conn_io_cb(struct ev_loop *loop, ev_io *io, int revents);
static void conn_timer_cb(struct ev_loop *loop, ev_timer *t, int revents);
static void admin_free(struct admin *a);

static void conn_watch(struct admin_conn *c, int events)
{
    struct ev_loop *loop = c->a->loop;

    if (ev_is_active(&c->io) && (c->io.events & (EV_READ | EV_WRITE)) == events)
        return;
    ev_io_stop(loop, &c->io);
    ev_io_set(&c->io, c->fd, events);
    ev_io_start(loop, &c->io);
}

static void conn_timeout(struct admin_conn *c, double seconds)
{
    c->timer.repeat = seconds;
    ev_timer_again(c->a->loop, &c->timer);
}

/* Closes c (not freed: whoever owns the current callback frees it). */
static void conn_close(struct admin_conn *c)
{
    struct admin *a = c->a;

    if (c->state == AC_CLOSED)
        return;
    ev_io_stop(a->loop, &c->io);
    ev_timer_stop(a->loop, &c->timer);
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
    sbuf_free(&c->auth);
    sbuf_free(&c->body);
    if (!a->stopping && a->fd >= 0 && !ev_is_active(&a->io) && !ev_is_active(&a->pause))
        ev_io_start(a->loop, &a->io);
}

static void conn_req_reset(struct admin_conn *c)
{
    c->pause = PAUSE_NONE;
    c->head_bytes = 0;
    c->head_done = false;
    c->target_len = 0;
    c->target_too_long = false;
    c->field_len = 0;
    c->cur = HDR_OTHER;
    c->auth.len = 0;
    c->nauth = c->nhost = 0;
    c->expect_len = 0;
    c->expect_continue = false;
    c->body_bytes = 0;
    c->body_too_large = false;
    c->body.len = 0;
    c->method = HTTP_GET;
    c->minor = 1;
    memset(&c->route, 0, sizeof(c->route));
    c->close_after = false;
    c->linger = false;
}

/* Shuts our side and reads what the client still sends for a moment, so
 * our answer is not destroyed by a reset for unread bytes. */
static void conn_linger(struct admin_conn *c)
{
    shutdown(c->fd, SHUT_WR);
    c->state = AC_LINGER;
    c->inlen = 0;
    conn_watch(c, EV_READ);
    conn_timeout(c, ADMIN_LINGER_S);
}

/* Writes what is left of the answer. When all of it went: closes (or
 * lingers) after a closing answer, else gets ready for the next request. */
static void conn_flush(struct admin_conn *c)
{
    while (c->out_off < c->out.len) {
        ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                c->state = AC_WRITE;
                conn_watch(c, EV_WRITE);
                return;
            }
            conn_close(c);
            return;
        }
        c->out_off += (size_t)n;
        if (c->state == AC_WRITE)
            conn_timeout(c, admin_idle_s); /* progress */
    }
    if (c->out.cap > 256 * 1024)
        sbuf_free(&c->out); /* a big /metrics answer: do not keep it */
    c->out.len = 0;
    c->out_off = 0;
    if (c->close_after) {
        if (c->linger || c->inlen > 0)
            conn_linger(c);
        else
            conn_close(c);
        return;
    }
    conn_req_reset(c);
    llhttp_resume(&c->parser);
    c->state = AC_READ;
    conn_watch(c, EV_READ);
    conn_timeout(c, admin_idle_s);
}

/* Queues the answer and starts writing it. body NULL: an empty body. */
static void conn_reply(struct admin_conn *c, int status, const struct sbuf *body, const char *ctype,
                       const char *extra)
{
    enum admin_connection_header hdr = ADMIN_CONN_NONE;
    struct sbuf err;
    bool head = c->method == HTTP_HEAD;

    sbuf_init(&err);
    if (body != NULL && body->oom) {
        status = 500;
        admin_error_doc(&err, "out of memory");
        body = &err;
        ctype = ADMIN_JSON;
        extra = NULL;
    }
    if (c->close_after)
        hdr = ADMIN_CONN_CLOSE;
    else if (c->minor == 0)
        hdr = ADMIN_CONN_KEEP_ALIVE;
    c->out.len = 0;
    c->out_off = 0;
    admin_render(&c->out, status, body != NULL ? body->data : "", body != NULL ? body->len : 0,
                 ctype, extra, head, hdr);
    sbuf_free(&err);
    log_debug("admin: %s %.*s from %s: %d", llhttp_method_name((llhttp_method_t)c->method),
              (int)c->target_len, c->target, c->peer, status);
    if (c->out.oom) {
        conn_close(c);
        return;
    }
    conn_timeout(c, admin_idle_s); /* the answer gets the whole delay to drain */
    conn_flush(c);
}

/* An error answer that ends the connection (malformed request, limits). */
static void conn_fail(struct admin_conn *c, int status, const char *reason)
{
    struct sbuf body;

    sbuf_init(&body);
    admin_error_doc(&body, reason);
    c->close_after = true;
    c->linger = true;
    conn_reply(c, status, &body, ADMIN_JSON, NULL);
    sbuf_free(&body);
}

/* The answer for an error action (401, 404, 405). */
static int admin_error_answer(enum admin_action action, struct sbuf *body, const char **extra)
{
    switch (action) {
    case ADMIN_UNAUTHORIZED:
        *extra = "WWW-Authenticate: Bearer\r\n";
        admin_error_doc(body, "missing or wrong bearer token");
        return 401;
    case ADMIN_USE_GET:
        *extra = "Allow: GET, HEAD\r\n";
        admin_error_doc(body, "use GET or HEAD");
        return 405;
    case ADMIN_USE_POST:
        *extra = "Allow: POST\r\n";
        admin_error_doc(body, "use POST");
        return 405;
    default:
        *extra = NULL;
        admin_error_doc(body, "no such endpoint");
        return 404;
    }
}

/* The head is complete: limits, then the route. Returns false when the
 * connection was answered (and is closing) already. */
static bool conn_head_done(struct admin_conn *c)
{
    llhttp_t *p = &c->parser;
    bool has_body = (p->flags & F_CHUNKED) || ((p->flags & F_CONTENT_LENGTH) && p->content_length > 0);
    const char *token = control_token(c->a->ctl);

    c->method = llhttp_get_method(p);
    c->minor = llhttp_get_http_minor(p);
    if (c->head_bytes > ADMIN_MAX_HEAD) {
        conn_fail(c, 431, "request head larger than 16 KiB");
        return false;
    }
    if (llhttp_get_http_major(p) != 1) {
        c->minor = 1;
        conn_fail(c, 505, "only HTTP/1.0 and HTTP/1.1 are supported");
        return false;
    }
    if (c->target_too_long) {
        conn_fail(c, 414, "request target longer than 2 KiB");
        return false;
    }
    if (c->nhost > 1 || (c->nhost == 0 && c->minor >= 1)) {
        conn_fail(c, 400, c->nhost > 1 ? "more than one Host header" : "HTTP/1.1 request without Host");
        return false;
    }
    if (c->nauth > 1) {
        conn_fail(c, 400, "more than one Authorization header");
        return false;
    }
    if ((p->flags & F_CONTENT_LENGTH) && p->content_length > ADMIN_MAX_BODY) {
        conn_fail(c, 413, "request body larger than 64 KiB");
        return false;
    }
    admin_route(c->method, c->target, c->target_len, c->nauth ? c->auth.data : NULL, c->auth.len,
                token, &c->route);
    if (has_body && admin_action_is_error(c->route.action)) {
        /* Refused before its body came: answer now rather than read it. */
        struct sbuf body;
        const char *extra;
        int status;

        sbuf_init(&body);
        status = admin_error_answer(c->route.action, &body, &extra);
        c->close_after = true;
        c->linger = true;
        conn_reply(c, status, &body, ADMIN_JSON, extra);
        sbuf_free(&body);
        return false;
    }
    if (has_body && c->expect_continue && c->minor >= 1) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

        /* Into an idle socket's empty buffer: it fits, or the peer is gone. */
        if (send(c->fd, cont, sizeof(cont) - 1, MSG_NOSIGNAL) != (ssize_t)sizeof(cont) - 1) {
            conn_close(c);
            return false;
        }
    }
    return true;
}

/* POST /scale: the body must be a JSON object. */
static int admin_scale(struct control *ctl, const struct sbuf *in, struct sbuf *out)
{
    struct json_doc doc;
    char err[160], msg[200];
    int status;

    if (in->len == 0) {
        admin_error_doc(out, "body: empty; send a JSON object like {\"web\": 4}");
        return 400;
    }
    if (json_parse(in->data, in->len, &doc, err, sizeof(err)) < 0) {
        snprintf(msg, sizeof(msg), "body: %s", err);
        admin_error_doc(out, msg);
        return 400;
    }
    if (doc.root->type != JSON_OBJECT) {
        json_free(&doc);
        admin_error_doc(out, "body: not a JSON object; send one like {\"web\": 4}");
        return 400;
    }
    status = control_scale(ctl, doc.root, out);
    json_free(&doc);
    return status;
}

/* The message is complete: ask control.c and answer. Returns false when
 * admin_stop came during the control call: c and its admin are freed. */
static bool conn_dispatch(struct admin_conn *c)
{
    struct admin *a = c->a;
    struct control *ctl = a->ctl;
    const char *ctype = ADMIN_JSON, *extra = NULL;
    struct sbuf body;
    int status;

    c->close_after = !llhttp_should_keep_alive(&c->parser) || llhttp_get_upgrade(&c->parser);
    sbuf_init(&body);
    a->current = c;
    switch (c->route.action) {
    case ADMIN_HEALTH:
        status = control_health(ctl, &body);
        break;
    case ADMIN_READY:
        status = control_ready(ctl, &body);
        break;
    case ADMIN_STATUS:
        status = control_status(ctl, &body);
        break;
    case ADMIN_METRICS:
        status = control_metrics(ctl, &body);
        if (status == 200)
            ctype = ADMIN_METRICS_TYPE;
        break;
    case ADMIN_RELOAD:
        status = control_reload(ctl, &body);
        break;
    case ADMIN_SCALE:
        status = admin_scale(ctl, &c->body, &body);
        break;
    case ADMIN_PROCESS:
        status = control_process(ctl, c->route.type, c->route.verb, &body);
        break;
    default:
        status = admin_error_answer(c->route.action, &body, &extra);
        break;
    }
    a->current = NULL;
    if (a->stopping) {
        /* admin_stop was called by the control function (a reload that
         * moved admin.listen): answer once, as far as the socket takes it,
         * then everything goes. */
        c->close_after = true;
        conn_reply(c, status, &body, ctype, extra);
        sbuf_free(&body);
        conn_close(c);
        free(c);
        admin_free(a);
        return false;
    }
    conn_reply(c, status, &body, ctype, extra);
    sbuf_free(&body);
    return true;
}

/* Runs the parser over the bytes read, answering each complete request in
 * turn. Returns false when the admin is gone (see conn_dispatch). */
static bool conn_process(struct admin_conn *c)
{
    bool resumed = false;

    /* After the head pause the parser runs again even without new bytes:
     * a request without a body completes there. */
    while (c->state == AC_READ && (c->inlen > 0 || resumed)) {
        llhttp_errno_t e = llhttp_execute(&c->parser, c->in, c->inlen);
        size_t used = c->inlen;

        resumed = false;

        if (e == HPE_PAUSED || e == HPE_PAUSED_UPGRADE) {
            used = (size_t)(llhttp_get_error_pos(&c->parser) - c->in);
        } else if (e != HPE_OK) {
            if (c->body_too_large)
                conn_fail(c, 413, "request body larger than 64 KiB");
            else if (e == HPE_INVALID_VERSION)
                conn_fail(c, 505, "only HTTP/1.0 and HTTP/1.1 are supported");
            else {
                char why[160];

                snprintf(why, sizeof(why), "malformed request (%s)",
                         llhttp_get_error_reason(&c->parser));
                conn_fail(c, 400, why);
            }
            return true;
        }
        if (!c->head_done || c->pause == PAUSE_HEAD)
            c->head_bytes += used;
        memmove(c->in, c->in + used, c->inlen - used);
        c->inlen -= used;
        if (e == HPE_OK) {
            if (!c->head_done && c->head_bytes > ADMIN_MAX_HEAD)
                conn_fail(c, 431, "request head larger than 16 KiB");
            return true;
        }
        if (e == HPE_PAUSED_UPGRADE || c->pause == PAUSE_DONE) {
            c->pause = PAUSE_NONE;
            if (!conn_dispatch(c))
                return false;
            continue; /* the next pipelined request, if the answer went out */
        }
        c->pause = PAUSE_NONE;
        if (!conn_head_done(c))
            return true;
        llhttp_resume(&c->parser);
        resumed = true;
    }
    return true;
}

/* Returns false when the admin is gone. */
static bool conn_read(struct admin_conn *c)
{
    size_t room = sizeof(c->in) - c->inlen;
    ssize_t n;

    if (c->state == AC_LINGER) {
        char drop[4096];

        n = read(c->fd, drop, sizeof(drop));
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
            conn_close(c);
        return true;
    }
    if (room == 0) {
        /* Not reached: every byte read is parsed at once while reading. */
        conn_fail(c, 431, "request head larger than 16 KiB");
        return true;
    }
    n = read(c->fd, c->in + c->inlen, room);
    if (n < 0) {
        if (errno != EAGAIN && errno != EINTR)
            conn_close(c);
        return true;
    }
    if (n == 0) {
        conn_close(c);
        return true;
    }
    c->inlen += (size_t)n;
    return conn_process(c);
}

static void conn_io_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct admin_conn *c = io->data;

    (void)loop;
    (void)revents;
    if (c->state == AC_WRITE) {
        conn_flush(c);
        if (c->state == AC_READ && !conn_process(c))
            return;
    } else if (!conn_read(c)) {
        return;
    }
    if (c->state == AC_CLOSED)
        free(c);
}

static void conn_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct admin_conn *c = t->data;

    (void)loop;
    (void)revents;
    conn_close(c);
    free(c);
}

/* ---- llhttp callbacks --------------------------------------------------- */

static int on_url(llhttp_t *p, const char *at, size_t len)
{
    struct admin_conn *c = p->data;

    if (c->target_too_long || len > sizeof(c->target) - c->target_len) {
        c->target_too_long = true;
        return 0;
    }
    memcpy(c->target + c->target_len, at, len);
    c->target_len += len;
    return 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t len)
{
    struct admin_conn *c = p->data;

    if (c->field_len + len <= sizeof(c->field))
        memcpy(c->field + c->field_len, at, len);
    c->field_len += len;
    return 0;
}

static bool field_is(const struct admin_conn *c, const char *name)
{
    return c->field_len == strlen(name) && strncasecmp(c->field, name, c->field_len) == 0;
}

static int on_header_field_complete(llhttp_t *p)
{
    struct admin_conn *c = p->data;

    c->cur = HDR_OTHER;
    if (field_is(c, "authorization")) {
        c->cur = HDR_AUTH;
        if (c->nauth++ == 0)
            c->auth.len = 0;
    } else if (field_is(c, "host")) {
        c->nhost++;
    } else if (field_is(c, "expect")) {
        c->cur = HDR_EXPECT;
        c->expect_len = 0;
    }
    c->field_len = 0;
    return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t len)
{
    struct admin_conn *c = p->data;

    if (c->cur == HDR_AUTH && c->nauth == 1) {
        sbuf_put(&c->auth, at, len);
    } else if (c->cur == HDR_EXPECT) {
        if (c->expect_len + len <= sizeof(c->expect))
            memcpy(c->expect + c->expect_len, at, len);
        c->expect_len += len;
    }
    return 0;
}

static int on_header_value_complete(llhttp_t *p)
{
    struct admin_conn *c = p->data;

    if (c->cur == HDR_AUTH && c->auth.oom)
        return -1;
    if (c->cur == HDR_EXPECT) {
        size_t n = c->expect_len;

        while (n > 0 && (c->expect[n - 1] == ' ' || c->expect[n - 1] == '\t'))
            n--;
        if (n == 12 && strncasecmp(c->expect, "100-continue", 12) == 0)
            c->expect_continue = true;
    }
    c->cur = HDR_OTHER;
    return 0;
}

static int on_headers_complete(llhttp_t *p)
{
    struct admin_conn *c = p->data;

    c->head_done = true;
    c->pause = PAUSE_HEAD;
    return HPE_PAUSED;
}

static int on_body(llhttp_t *p, const char *at, size_t len)
{
    struct admin_conn *c = p->data;

    c->body_bytes += len;
    if (c->body_bytes > ADMIN_MAX_BODY) {
        c->body_too_large = true;
        return -1;
    }
    if (c->route.action == ADMIN_SCALE) {
        sbuf_put(&c->body, at, len);
        if (c->body.oom)
            return -1;
    }
    return 0;
}

static int on_message_complete(llhttp_t *p)
{
    struct admin_conn *c = p->data;

    c->pause = PAUSE_DONE;
    return HPE_PAUSED;
}

static const llhttp_settings_t admin_http_settings = {
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_field_complete = on_header_field_complete,
    .on_header_value = on_header_value,
    .on_header_value_complete = on_header_value_complete,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ---- listening ----------------------------------------------------------- */

static void conn_new(struct admin *a, int fd, const struct sockaddr_storage *peer)
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
    sbuf_init(&c->auth);
    sbuf_init(&c->body);
    sbuf_init(&c->out);
    conn_req_reset(c);
    llhttp_init(&c->parser, HTTP_REQUEST, &admin_http_settings);
    c->parser.data = c;
    c->state = AC_READ;
    ev_io_init(&c->io, conn_io_cb, fd, EV_READ);
    c->io.data = c;
    ev_init(&c->timer, conn_timer_cb);
    c->timer.data = c;
    c->next = a->conns;
    if (a->conns != NULL)
        a->conns->prev = c;
    a->conns = c;
    a->nconns++;
    ev_io_start(a->loop, &c->io);
    conn_timeout(c, admin_idle_s);
}

static void accept_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct admin *a = io->data;

    (void)revents;
    for (int i = 0; i < 16; i++) {
        struct sockaddr_storage peer;
        socklen_t len = sizeof(peer);
        int fd;

        if (a->nconns >= ADMIN_MAX_CONNS) {
            ev_io_stop(loop, &a->io); /* resumed when one closes */
            return;
        }
        fd = accept4(a->fd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            switch (errno) {
            case EINTR:
            case ECONNABORTED:
                continue;
            case EMFILE:
            case ENFILE:
            case ENOBUFS:
            case ENOMEM:
                log_warn("admin: accept on %s: %s; pausing for 100ms", a->addr.text,
                         strerror(errno));
                ev_io_stop(loop, &a->io);
                ev_timer_set(&a->pause, 0.1, 0.);
                ev_timer_start(loop, &a->pause);
                return;
            default:
                return;
            }
        }
        conn_new(a, fd, &peer);
    }
}

static void pause_cb(struct ev_loop *loop, ev_timer *t, int revents)
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

struct admin *admin_start(struct ev_loop *loop, const struct conf_addr *addr, struct control *ctl,
                          char *err, size_t errlen)
{
    struct admin *a = calloc(1, sizeof(*a));

    if (a == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    a->loop = loop;
    a->ctl = ctl;
    a->addr = *addr;
    a->fd = admin_bind(a, err, errlen);
    if (a->fd < 0) {
        free(a);
        return NULL;
    }
    ev_io_init(&a->io, accept_cb, a->fd, EV_READ);
    a->io.data = a;
    ev_init(&a->pause, pause_cb);
    a->pause.data = a;
    ev_io_start(loop, &a->io);
    return a;
}

const struct conf_addr *admin_addr(const struct admin *a)
{
    return &a->addr;
}

/* Closes the listening socket (and removes its unix path). */
static void stop_listening(struct admin *a)
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
    stop_listening(a);
    while (a->conns != NULL) {
        struct admin_conn *c = a->conns;

        conn_close(c);
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
    /* Called from the control function conn_dispatch is in: close the rest
     * now, and leave that connection and the struct to conn_dispatch. */
    a->stopping = true;
    stop_listening(a);
    for (struct admin_conn *c = a->conns, *next; c != NULL; c = next) {
        next = c->next;
        if (c != a->current) {
            conn_close(c);
            free(c);
        }
    }
}
