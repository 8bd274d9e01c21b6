/* A proxied request, from its parsed head to the last response byte: route,
 * pick a backend, rewrite and send the head, stream the body, read and
 * rewrite the response head, stream the response back, then reuse or close
 * both connections. conn.c feeds it client events, upstream.c backend ones. */
#ifndef DROVER_ROUTER_PROXY_H
#define DROVER_ROUTER_PROXY_H

struct conn;
struct upstream;
struct http_head;

/* The client's request head h (parsed at c->in->start) is complete. */
void proxy_start(struct conn *c, struct http_head *h);

/* New client bytes arrived while a request is being proxied. */
void proxy_client_readable(struct conn *c);
/* The client's socket can take more of the response. */
void proxy_client_writable(struct conn *c);
/* The client shut down its side. */
void proxy_client_eof(struct conn *c);

void proxy_upstream_connected(struct conn *c, int err);
void proxy_upstream_readable(struct conn *c);
void proxy_upstream_writable(struct conn *c);

/* The connection's timer expired in a proxying state. */
void proxy_timeout(struct conn *c);

/* Ends the request: releases the backend and upstream, leaves the queue. */
void proxy_end(struct conn *c);

/* Places queued requests (oldest first) on backends that have room under
 * their max_inflight again. */
struct worker;
void proxy_queue_run(struct worker *w);

#endif
