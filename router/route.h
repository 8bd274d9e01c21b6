/* Route tables: host/path → a route with its backends and balancer.
 *
 * A table is immutable apart from its balancer cursors, and each worker has
 * its own, so matching and picking take no lock. A reload or a change of a
 * process type's ready instances builds new tables and hands one to each
 * worker; requests in flight keep the table (and config) they started with
 * through a reference that only their worker touches. */
#ifndef DROVER_ROUTER_ROUTE_H
#define DROVER_ROUTER_ROUTE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/config.h"
#include "router/backend.h"
#include "router/balance.h"

/* A loaded config shared by every worker's table. */
struct conf_ref {
    atomic_uint refs;
    struct conf *conf;
};

struct conf_ref *conf_ref_new(struct conf *conf);
void conf_ref_get(struct conf_ref *ref);
void conf_ref_put(struct conf_ref *ref);

struct metric_series;
struct metric_hist;
struct stats_key;

struct route_rt {
    const struct conf_route *conf;
    const struct balancer *bal;
    struct backend **be;
    unsigned nbe;
    unsigned cursor;            /* balancer state, this worker only */
    unsigned nqueued;           /* this worker's requests waiting for this route */
    /* Metric series cache (this worker only): [backend index or nbe for
     * none][status class], and the route's duration histogram. */
    struct metric_series **series;
    struct metric_hist *hist;
    struct stats_key *stats;    /* the route's live stats (this worker's) */
    size_t path_len;
    char label[160];            /* "*.example.test/api/": for logs */
};

struct route_table {
    unsigned refs;              /* the worker's own + its requests' */
    uint64_t generation;        /* set when published; a worker acknowledges it on swap */
    struct conf_ref *cref;
    unsigned nroutes;
    struct route_rt routes[];
};

/* Builds a worker's table for cref->conf. Static backends come from reg;
 * process routes get the ready instances reg holds for their type. NULL on
 * allocation failure. */
struct route_table *route_table_build(struct conf_ref *cref, struct backend_registry *reg);
void route_table_get(struct route_table *t);
void route_table_put(struct route_table *t);

/* The route for a request: first by host (an exact host beats the longest
 * matching "*.suffix", which beats routes without a host), then, among the
 * routes of that host, the longest path prefix; on a full tie the first
 * written wins. Only routes whose path matches take part, so a request for a
 * known host whose paths do not match falls through to host-less routes.
 * A route path ending in '/' also matches that path without the slash
 * ("/api" for "/api/"). host is the Host value (any case, port allowed),
 * path excludes the query. Returns NULL when nothing matches. */
struct route_rt *route_match(struct route_table *t, const char *host, size_t hostlen,
                             const char *path, size_t pathlen);

/* Length of the part of path the route strips (0 if it does not strip). */
size_t route_strip_len(const struct route_rt *r, size_t pathlen);

#endif
