/* The live stats in the admin API's answers: the last minute of each
 * route, instance and backend (router/stats.h), merged over the workers
 * when /status or /metrics is asked for.
 *
 *   "live": {"rps": 41.5, "p50_ms": 1.9, "p95_ms": 4.1, "p99_ms": 7.8,
 *            "requests_1m": 2490, "5xx_1m": 0, "5xx": 3, "window_s": 60}
 *
 * rps and the counts are over the last minute (or since the name was first
 * counted, when that is less); the quantiles are null without a request in
 * it; "5xx" is every 5xx answer since drover started. */
#ifndef DROVER_CONTROL_API_LIVE_H
#define DROVER_CONTROL_API_LIVE_H

#include <jansson.h>

#include "control/api.h"
#include "lib/sbuf.h"

struct sv_instance_view;

/* The "live" object for name (a route, an instance, a backend). */
json_t *api_live_json(const struct api_view *v, const char *name);

/* Requests waiting in the workers' queues for route name now. */
long api_live_queued(const struct api_view *v, const char *name);

/* {"code": 1, "signal": null, "at": "2026-12-02T05:01:02Z", "ago_s": 12.5},
 * or null when the instance has not exited. */
json_t *api_live_exit(const struct api_view *v, const struct sv_instance_view *in);

/* The Prometheus series of the live stats: per route and per instance the
 * rate, the quantiles as a summary (with cumulative _sum and _count), 5xx,
 * queue depth; per instance in-flight, generation and last exit; and the
 * requests no name was left for in the workers' tables. */
void api_live_metrics(const struct api_view *v, struct sbuf *out);

#endif
