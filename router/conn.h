/* One client connection: its socket, buffer, timer and state.
 *
 * The connection's state says what it waits for; one timer per connection
 * enforces whichever timeout applies to that state (a deadline that is only
 * re-armed when it moves earlier, see "Be smart about timeouts" in ev(3)).
 * Its events go to whoever serves it now through c->ops: conn.c itself
 * while it reads a head or writes its own answer, proxy.c while a request
 * is proxied, tunnel.c after a 101. A complete head goes to the worker's
 * serve function; conn.c names nothing above it. A closed connection is
 * only unlinked and queued: the worker frees it after the callbacks of the
 * current loop iteration have run. */
#ifndef DROVER_ROUTER_CONN_H
#define DROVER_ROUTER_CONN_H

#include <arpa/inet.h>
#include <ev.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

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

/* What serves a connection's events now. */
struct conn;
struct conn_ops {
    void (*readable)(struct conn *c);   /* the client socket can be read */
    void (*writable)(struct conn *c);   /* ... written (only while wio is on) */
    void (*timeout)(struct conn *c);    /* the governing timeout (c->tkind) passed */
};

/* How the client's bytes move: plain socket calls, or TLS (router/tls.c),
 * so the HTTP code never knows which. read and write return the bytes
 * moved, 0 (read only: the client closed its side), or -1 with errno
 * (EAGAIN: nothing now, a watcher fires when there is). */
struct conn_io {
    ssize_t (*read)(struct conn *c, char *p, size_t len);
    ssize_t (*write)(struct conn *c, const char *p, size_t len);
    void (*shutdown)(struct conn *c);       /* no more bytes from us (SHUT_WR) */
    bool (*pending)(const struct conn *c);  /* bytes already taken off the socket wait */
    void (*close)(struct conn *c);          /* before the socket is closed */
};

extern const struct conn_io conn_plain_io;

struct ssl_st;
struct conf_ref;

struct conn {
    struct worker *w;
    const struct conn_ops *ops;
    const struct conn_io *io;
    struct conn *next, *prev;       /* worker's list; next = free/dead list link */
    int fd;
    uint8_t state;                  /* enum conn_state */
    uint8_t tkind;                  /* enum conn_timeout */
    bool rd_eof;                    /* the client shut down its sending side */
    bool reading;                   /* rio started */
    bool watch_soon;                /* start rio when the timer fires (conn_accept) */
    bool await_proxy;               /* a PROXY protocol header comes first */
    uint16_t listen_port;           /* 0 on a unix socket */
    ev_io rio, wio;
    ev_timer timer;
    double deadline;                /* when the current timeout expires */
    double timer_at;                /* when the timer is set to fire */
    double t_first;                 /* first byte of the current request */
    double idle_since;              /* CS_IDLE after a request: since when */
    unsigned served;                /* requests answered on it (keep-alive) */
    struct buf *in;                 /* client bytes: heads and bodies */
    struct buf *reply;              /* a response drover made itself */
    llhttp_t parser;
    struct request *req;
    struct upstream *up;
    struct conn *qnext, *qprev;     /* the worker's queue (queue.c only) */
    bool queued;
    bool timed_out;                 /* its timer fired (tells why a handshake ended) */
    /* TLS (router/tls.c) */
    bool tls_done;                  /* the handshake is over */
    bool tls_failed;                /* ... and failed: counted */
    bool tls_peeked;                /* its first byte was looked at (plain HTTP?) */
    struct ssl_st *ssl;
    struct conf_ref *tls_cref;      /* the config whose certificates the handshake uses */
    ev_io tio;                      /* a TLS read that must write first (or the reverse) */
    const char *refuse;             /* answer the first request 400 with this and close */
    char ip[INET6_ADDRSTRLEN];
};

/* Takes ownership of an accepted socket. await_proxy: its first bytes are
 * a PROXY protocol header (from a trusted peer), whose address replaces
 * the peer's. tls: its bytes are TLS with these certificates (NULL: plain). */
void conn_accept(struct worker *w, int fd, const struct sockaddr *peer, uint16_t listen_port,
                 bool await_proxy, const struct conf_tls *tls);

/* The client socket through c->io. */
static inline ssize_t conn_recv(struct conn *c, char *p, size_t len)
{
    return c->io->read(c, p, len);
}

static inline ssize_t conn_send(struct conn *c, const char *p, size_t len)
{
    return c->io->write(c, p, len);
}

/* Closes the socket now; the memory goes when the loop iteration ends. */
void conn_close(struct conn *c);

/* Sets the timeout that governs the connection from now on. */
void conn_set_timeout(struct conn *c, enum conn_timeout kind);
/* Pushes the deadline forward after I/O, when kind is the timeout that
 * governs the connection now (an inactivity timeout, not a budget). */
void conn_touch(struct conn *c, enum conn_timeout kind);

void conn_read_start(struct conn *c);
void conn_read_stop(struct conn *c);

/* Reads what the client sent into c->in (taking a buffer if it has none).
 * Returns the bytes read, 0 when the client shut down its side, or -1 when
 * there is nothing to read now, no room (reading stops: back-pressure), or
 * the connection broke (then it is closed). */
long conn_fill(struct conn *c);

/* Answers the current request (or the connection) with a small error
 * response and then closes the connection or keeps it, per keep_alive. */
void conn_reply_error(struct conn *c, int status, const char *reason, bool keep_alive);

/* drover as the final recipient of an OPTIONS or TRACE whose Max-Forwards
 * reached 0 (RFC 9110 7.6.2): 200 with Allow, or the TRACE echo. */
void conn_reply_final(struct conn *c, const struct http_head *h, bool keep_alive);

/* Ends the current request (request_end), then waits for the next request
 * when keep_alive, else closes. A next request already read ahead is
 * parsed from the loop (a fed read event), never from inside this call, so
 * answers to pipelined requests do not recurse. */
void conn_request_done(struct conn *c, bool keep_alive);

/* Frees the connections closed during this loop iteration (the reaper). */
void conn_reap(struct worker *w);
/* Closes every connection and frees the worker's free lists. */
void conn_free_all(struct worker *w);

#endif
