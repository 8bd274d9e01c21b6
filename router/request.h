/* One request, from its first byte to its log line: the request object and
 * its single owner. request_begin() starts it (an id, a reference to the
 * route table in force); request_end() ends it exactly once, whoever ends
 * it (a finished exchange, drover's own answer, a closed connection): out
 * of the queue, the upstream connection let go, the backend's in-flight
 * count dropped, then counted in the metrics, written to the access log,
 * and freed. */
#ifndef DROVER_ROUTER_REQUEST_H
#define DROVER_ROUTER_REQUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "router/balance.h"
#include "router/http.h"

struct conn;
struct worker;
struct route_table;
struct route_rt;
struct backend;

#define REQUEST_META_MAX 2048

/* What one request needs from its head to its log line. Taken from the
 * worker's free list when the head is complete, returned when it ends. */
struct request {
    struct request *next;           /* free list */
    struct route_table *table;      /* reference held for the request */
    struct route_rt *route;
    struct backend *be;             /* counted in be->inflight while set */
    double start;                   /* ev_now at the first byte of the head */
    int64_t start_ms;
    uint8_t method;
    uint8_t minor;
    bool client_keep_alive;         /* the client allows another request */
    bool keep_alive;                /* decided: the connection is reused after this one */
    uint8_t req_body;               /* enum body_kind */
    uint8_t resp_body;
    bool req_done;                  /* every request byte parsed */
    bool resp_started;              /* response head sent to the client */
    bool resp_done;                 /* every response byte parsed */
    bool rewindable;                /* the request can be sent again from out_start */
    bool retried_fresh;             /* a stale pooled connection was retried once */
    bool upstream_reusable;
    bool inflight;                  /* counted in be->inflight */
    bool connect_timed_out;         /* the last connect failed by timing out */
    bool response_timed_out;        /* a backend gave no response head within timeouts.upstream */
    bool lost;                      /* a backend closed on it without answering */
    bool dechunk;                   /* chunked response to an HTTP/1.0 client: framing removed */
    bool upgrade;                   /* the client asked for a protocol upgrade */
    bool tun_client_eof, tun_backend_eof;   /* tunnel: that side sent its FIN */
    bool tun_client_shut, tun_backend_shut; /* tunnel: we passed a FIN on to that side */
    struct http_body req_parse;     /* the request body's parser state */
    struct http_body resp_parse;    /* the response body's */
    bool has_method;                /* the head got far enough to name it */
    uint32_t out_start;             /* rewritten head in c->in */
    uint32_t req_fwd;               /* end of the request bytes ready to send */
    uint32_t resp_fwd;              /* end of the response bytes ready to send */
    uint64_t body_out;              /* response body bytes sent to the client */
    uint32_t resp_head_left;        /* rewritten response head bytes not yet sent */
    int status;                     /* sent to the client (for the log) */
    struct balance_pick pick;
    char id[HTTP_REQUEST_ID_MAX + 1];
    size_t idlen;
    /* Copies for the access log, NUL-separated in meta[] (truncated). */
    uint16_t uri_len, host_len, ua_len, referer_len;
    bool has_host, has_ua, has_referer;
    char meta[REQUEST_META_MAX];
};

/* A request object for c (c->req), even when its head never parsed, so
 * every answer gets a request id and a log line. NULL when out of memory. */
struct request *request_begin(struct conn *c);

/* The same for a parsed head h: its method and version, the client's
 * X-Request-Id when it is sane, the fields the access log keeps. */
struct request *request_begin_head(struct conn *c, const struct http_head *h);

/* The request counts against be (its in-flight count and requests). */
void request_bind_backend(struct conn *c, struct backend *be);
/* ... and no longer (idempotent). A freed slot under max_inflight kicks the
 * worker's queue. */
void request_unbind_backend(struct conn *c);
/* Lets go of c's upstream connection: back to the pool when reusable (a
 * clean exchange), else closed (idempotent). */
void request_detach_upstream(struct conn *c, bool reusable);

/* Ends c's request (no-op without one). A request that got no answer is
 * logged with 499 (nginx's "client closed"). It is counted and logged when
 * answered is true or its head named a method. */
void request_end(struct conn *c, bool answered);

/* Frees the worker's spare request objects. */
void request_free_all(struct worker *w);

#endif
