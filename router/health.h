/* Active health checks: every backend in the registry (static backends and
 * ready instances) is probed every health.interval on the main loop, with
 * an HTTP GET of health.path (2xx or 3xx is good) or, without a path, a TCP
 * connect; no answer within health.timeout is a failure. After health.fall
 * failures in a row a backend is marked down (be->up, read by every
 * worker's balancer), after health.rise successes up again. A backend
 * starts up: the ready probe, or the operator, vouched for it. */
#ifndef DROVER_ROUTER_HEALTH_H
#define DROVER_ROUTER_HEALTH_H

#include <ev.h>

#include "conf/config.h"

struct health;
struct backend_registry;

struct health *health_new(struct ev_loop *loop);

/* Starts probes for backends that joined the registry, stops those of
 * backends that left it; settings are taken from conf (a reload passes the
 * new one). Main thread only. */
void health_sync(struct health *h, struct backend_registry *reg, const struct conf *conf);

void health_free(struct health *h);

#endif
