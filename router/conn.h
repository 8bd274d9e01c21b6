/* One client connection and the request it is serving.
 *
 * The connection's state says what it waits for; one timer per connection
 * enforces whichever timeout applies to that state (a deadline that is only
 * re-armed when it moves earlier, see "Be smart about timeouts" in ev(3)).
 * A closed connection is only unlinked and queued: the worker frees it after
 * the callbacks of the current loop iteration have run. */
#ifndef DROVER_ROUTER_CONN_H
#define DROVER_ROUTER_CONN_H

#include <arpa/inet.h>
#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#include "llhttp.h"
#include "router/balance.h"
#include "router/http.h"

struct worker;
struct upstream;
struct route_table;
struct route_rt;
struct backend;

enum conn_state {
    CS_IDLE,        /* keep-alive: waiting for the next request */
    CS_HEAD,        /* reading a request head */
    CS_PROXY,       /* a request is being proxied */
    CS_REPLY,       /* writing a response drover made itself */
    CS_LINGER,      /* response sent: draining the client's bytes before close */
    CS_TUNNEL,      /* after a 101: bytes relayed both ways (tunnel.c) */
    CS_CLOSED,
};

enum conn_timeout {
    T_IDLE,         /* timeouts.idle between requests */
    T_HEADER,       /* timeouts.client_header for the whole head */
    T_BODY,         /* timeouts.client_body between body reads */
    T_CONNECT,      /* timeouts.connect to the backend */
    T_UPSTREAM,     /* timeouts.upstream for the backend's bytes */
    T_SEND,         /* timeouts.idle for a client that does not read */
    T_LINGER,
    T_TUNNEL,       /* timeouts.tunnel without a byte either way */
    T_QUEUE,        /* timeouts.queue waiting for a backend under max_inflight */
};

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

struct conn {
    struct worker *w;
    struct conn *next, *prev;       /* worker's list; next = free/dead list link */
    int fd;
    uint8_t state;                  /* enum conn_state */
    uint8_t tkind;                  /* enum conn_timeout */
    bool rd_eof;                    /* the client shut down its sending side */
    bool reading;                   /* rio started */
    uint16_t listen_port;           /* 0 on a unix socket */
    ev_io rio, wio;
    ev_timer timer;
    double deadline;                /* when the current timeout expires */
    double timer_at;                /* when the timer is set to fire */
    double t_first;                 /* first byte of the current request */
    struct buf *in;                 /* client bytes: heads and bodies */
    struct buf *reply;              /* a response drover made itself */
    llhttp_t parser;
    struct request *req;
    struct upstream *up;
    struct conn *qnext, *qprev;     /* the worker's queue (max_inflight) */
    bool queued;
    char ip[INET6_ADDRSTRLEN];
};

/* Takes ownership of an accepted socket. */
void conn_accept(struct worker *w, int fd, const struct sockaddr *peer, uint16_t listen_port);

/* Closes the socket now; the memory goes when the loop iteration ends. */
void conn_close(struct conn *c);

/* Sets the timeout that governs the connection from now on. */
void conn_set_timeout(struct conn *c, enum conn_timeout kind);
/* Pushes the deadline forward after I/O, when kind is the timeout that
 * governs the connection now (an inactivity timeout, not a budget). */
void conn_touch(struct conn *c, enum conn_timeout kind);

void conn_read_start(struct conn *c);
void conn_read_stop(struct conn *c);

/* Answers the current request (or the connection) with a small error
 * response and then closes the connection or keeps it, per keep_alive. */
void conn_reply_error(struct conn *c, int status, const char *reason, bool keep_alive);

/* Ends the current request: logs it, then waits for the next request (and
 * starts on one already pipelined) when keep_alive, else closes. */
void conn_request_done(struct conn *c, bool keep_alive);

/* Frees the connections closed during this loop iteration (the reaper). */
void conn_reap(struct worker *w);
/* Closes every connection and frees the worker's free lists. */
void conn_free_all(struct worker *w);

#endif
