/* An Upgrade tunnel (WebSocket and the like): after the backend's 101, the
 * client and upstream connections are joined and bytes flow both ways as
 * they are, with back-pressure, until both sides have closed or the tunnel
 * was idle for timeouts.tunnel. */
#ifndef DROVER_ROUTER_TUNNEL_H
#define DROVER_ROUTER_TUNNEL_H

struct conn;

/* The 101 head (rewritten) is at c->up->in->start; what follows it there is
 * the backend's first tunnel bytes, and c->in from its start holds the
 * client's. Switches c to CS_TUNNEL and starts moving bytes. */
void tunnel_start(struct conn *c);

#endif
