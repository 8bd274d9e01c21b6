/* The admin HTTP server: a small HTTP/1.1 server on the main loop that
 * answers from a table of handlers it is given (api.c gives drover's, see
 * SPEC "Admin API"). It is not the request path: one request at a time per
 * connection, answered in the callback that completes it (every handler
 * returns at once). Heads and bodies are parsed with router/http.
 *
 * A request is matched against the table by path (the query is ignored)
 * and method. With a token in force, a route that needs it answers 401
 * without "Authorization: Bearer <token>" (compared in constant time), and
 * so does every unknown path, so an unauthenticated client learns nothing;
 * then a path known for another method is 405 with Allow, an unknown one
 * 404. Every answer has Content-Length and Cache-Control: no-store; the
 * server's own refusals are {"error":"<reason>"}.
 *
 * Limits: request head 16 KiB (431), target 2 KiB (414), body 64 KiB
 * (413), 10 s for a request to arrive or an answer to drain (then the
 * connection closes), 64 connections at once (the rest wait in the accept
 * backlog). Malformed requests get 400 and the connection closes. */
#ifndef DROVER_CONTROL_ADMIN_H
#define DROVER_CONTROL_ADMIN_H

#include <ev.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "conf/config.h"
#include "lib/sbuf.h"

#define ADMIN_PARAM_MAX 63
#define ADMIN_MAX_CONNS 64

struct admin;

/* What a handler is given: the path (without the query; not
 * NUL-terminated), the segment the route's '*' matched (NUL-terminated;
 * NULL for a route without one) and the body, de-chunked (NUL-terminated;
 * "" when there was none). Valid during the call only. */
struct admin_request {
    const char *path;
    size_t path_len;
    const char *param;
    const char *body;
    size_t body_len;
    const char *query;          /* after the '?' (not decoded; "" when none) */
    size_t query_len;
    int minor;                  /* HTTP/1.minor */
    bool head;                  /* a HEAD request: the answer's body is not sent */
};

/* What a handler answers: status (200 unless it sets one), the body it
 * appends to, and its Content-Type (NULL: application/json). A body that
 * ran out of memory (body.oom) is answered 500. */
struct admin_answer {
    int status;
    struct sbuf body;
    const char *content_type;
    const char *headers;        /* more header lines, each ending in CRLF (NULL: none) */
    /* A handler that streams its answer (GET /logs) sets takeover instead
     * of an answer: the server then forgets the connection (bytes that
     * came after the request are dropped) and hands its socket over:
     * takeover(arg, fd) owns fd from then on, and answers on it. */
    void (*takeover)(void *arg, int fd);
    void *takeover_arg;
};

typedef void admin_handler(void *ctx, const struct admin_request *req, struct admin_answer *ans);

enum admin_method {
    ADMIN_GET,                  /* GET and HEAD (the same answer without its body) */
    ADMIN_POST,
};

/* One endpoint. path is exact ("/status"), or one of its segments is a
 * lone '*', which matches 1 to ADMIN_PARAM_MAX letters, digits, '_' and
 * '-': "/processes/" "*" "/restart". */
struct admin_route {
    enum admin_method method;
    const char *path;
    bool needs_token;
    admin_handler *handler;
};

/* What the server answers from: routes (kept, not copied: they must live
 * as long as the server), the token in force, asked for each request
 * (NULL function, NULL or "": none), the ctx every call is given, and how
 * long a request may take to arrive or an answer to drain (0: 10 s). */
struct admin_api {
    const struct admin_route *routes;
    size_t nroutes;
    const char *(*token)(void *ctx);
    void *ctx;
    double idle_s;
};

/* Listens on addr (host:port, [v6]:port or unix:/path; non-blocking,
 * close-on-exec, bound by listener_bind, so a stale unix socket file is
 * removed and a live one refused) on loop, answering from api (copied).
 * Port 0 picks a free port (see admin_addr). Returns NULL with err filled
 * ("cannot listen on 127.0.0.1:8081: Address already in use"). */
struct admin *admin_start(struct ev_loop *loop, const struct conf_addr *addr,
                          const struct admin_api *api, char *err, size_t errlen);

/* The address listened on (with the port the kernel chose for port 0). */
const struct conf_addr *admin_addr(const struct admin *a);

/* Stops listening (a unix socket file is removed), closes every admin
 * connection and frees a. NULL is fine. May be called from inside a
 * handler this admin called: the answer to that request is still sent, as
 * far as the socket takes it at once, with Connection: close, then
 * everything is freed before the handler's callback returns. Either way a
 * is gone on return for the caller. */
void admin_stop(struct admin *a);

/* given[0..glen) equals token[0..tlen), in a time that depends on the
 * lengths only (every byte of the longer is looked at whatever the
 * content), so a guess tells nothing about how much of it was right. */
bool admin_token_equal(const char *given, size_t glen, const char *token, size_t tlen);

/* A JSON string for s (NULL: null). Bytes that are not well-formed UTF-8
 * are read as Latin-1 (utf8_repair), so an answer is always valid JSON. */
json_t *admin_string(const char *s);

/* Sets ans to status with the body {"error":"<message>"}. */
void admin_error(struct admin_answer *ans, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
