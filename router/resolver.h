/* Backends found by DNS: every "dns:NAME:PORT" and "srv:NAME" of the
 * config is looked up with c-ares on the main loop, again when its answer's
 * TTL runs out (within resolver.refresh), and the addresses it gives are
 * handed to on_members. A name that stops resolving keeps its last good
 * answer for resolver.hold, then has no members. */
#ifndef DROVER_ROUTER_RESOLVER_H
#define DROVER_ROUTER_RESOLVER_H

#include <ev.h>
#include <stddef.h>

#include "conf/config.h"

struct resolver;

/* The members of key ("dns:app:8080") are now these n addresses (sorted,
 * no duplicates). Called on the main loop whenever they change. */
typedef void (*resolver_members_fn)(void *ctx, const char *key, const struct conf_addr *members,
                                    size_t n);

/* NULL with err filled when c-ares cannot start (bad resolver.servers...). */
struct resolver *resolver_new(struct ev_loop *loop, resolver_members_fn on_members, void *ctx,
                              char *err, size_t errlen);

/* Follows conf: its names are looked up (new ones at once), names it no
 * longer has are dropped (their members handed over as none); the servers
 * and refresh bounds in force become conf's. -1 with err when the servers
 * cannot be used (the old ones stay). */
int resolver_sync(struct resolver *res, const struct conf *conf, char *err, size_t errlen);

void resolver_free(struct resolver *res);

#endif
