/* A proxied request, from its parsed head to the last response byte: route,
 * pick a backend, rewrite and send the head, stream the body, read and
 * rewrite the response head, stream the response back, then reuse or close
 * both connections. While it proxies, the client connection's events come
 * through c->ops and the upstream's through up->ops, both set here; a 101
 * hands both to tunnel.c. The request's end is request_end()'s. */
#ifndef DROVER_ROUTER_PROXY_H
#define DROVER_ROUTER_PROXY_H

struct conn;
struct upstream;
struct http_head;

/* The client's request head h (parsed at c->in->start) is complete. */
void proxy_start(struct conn *c, struct http_head *h);

/* A request that waited in the queue may go to a backend now. */
void proxy_place(struct conn *c);

#endif
