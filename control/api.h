/* drover's admin API (SPEC "Admin API", README "Admin API"): the endpoint
 * table handed to the admin server, and the answers, rendered as JSON
 * (jansson) or Prometheus text from a view of the running program taken
 * at the moment of the request (view.c). Main thread only.
 *
 *   GET  /health                  200 {"status":"ok"} | 503 {"status":"draining"}
 *   GET  /ready                   200 {"status":"ready"} | 503 {..., "routes":[...]}
 *   GET  /live                    200 {"status":"live"} while the main loop turns
 *   GET  /                        200 the dashboard (dashboard.h), unless admin.dashboard is false
 *   GET  /status                  200 {"drover":{...},"router":{...},"routes":[...],"processes":[...],"backends":[...]}
 *   GET  /metrics                 200 Prometheus text 0.0.4
 *   POST /scale                   200 {"formation":{...}} | 400 | 404
 *   POST /processes/TYPE/ACTION   202 {"type":...,"action":...} | 404
 *   POST /reload                  200 {"changes":[...]} | 409 | 422
 *
 * Every endpoint but /health, /ready and /live needs the token in force. A
 * refusal is {"error":"<one line>"}. */
#ifndef DROVER_CONTROL_API_H
#define DROVER_CONTROL_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control/admin.h"
#include "lib/sbuf.h"

struct control;
struct metrics;
struct stats;
struct sv_snapshot;

/* One backend as /status and /metrics show it. */
struct api_backend {
    const char *name;
    const char *address;
    const char *process;            /* NULL for a static backend */
    const char *dns;                /* the "dns:"/"srv:" entry that found it, else NULL */
    bool up;
    long inflight;
    uint64_t requests, failures, connections;
};

/* One route as /status and /metrics show it: its live stats are found by
 * name in the workers' stats tables. */
struct api_route {
    char name[512];                 /* "*.example.com/api/" (view_route_name) */
    const char *process;            /* the type it routes to, NULL for backends */
};

/* What the answers are rendered from: drover, the router and the
 * supervisor at one moment. Filled by view_take (only the parts asked
 * for), or by hand in tests. Strings are borrowed. */
struct api_view {
    /* drover */
    int pid;
    double uptime_s;
    bool draining;
    const char *config;             /* the config file, NULL when running on defaults */
    unsigned workers;
    uint64_t reloads_ok, reloads_failed;
    uint64_t log_dropped;           /* output lines dropped (full disk, stdout gone or stuck) */
    const char *state_file;         /* app.state_file, NULL when none */
    /* the router */
    uint64_t connections, upstream_connections, requests;
    const char *const *listen;
    size_t nlisten;
    struct api_backend *backends;
    size_t nbackends;
    const char *const *unready;     /* routes with no healthy backend, by name */
    size_t nunready;
    struct metrics *const *metrics; /* the workers' request tables */
    unsigned nmetrics;
    struct api_route *routes;       /* the config's, in order */
    size_t nroutes;
    struct stats *const *stats;     /* the workers' last minute (router/stats.h) */
    unsigned nstats;
    double now;                     /* the wall clock the windows end at */
    /* the supervisor */
    const struct sv_snapshot *sv;   /* NULL: no formation (or out of memory) */
};

/* The admin server's table for ctl: the endpoints above, the token of the
 * config in force. */
void api_init(struct admin_api *api, struct control *ctl);

/* The answers, from a view: each sets ans (status, body, type). */
void api_health(const struct api_view *v, struct admin_answer *ans);
void api_ready(const struct api_view *v, struct admin_answer *ans);
void api_live(struct admin_answer *ans);
void api_status(const struct api_view *v, struct admin_answer *ans);
void api_metrics(const struct api_view *v, struct admin_answer *ans);
/* {"formation":{"web":4,...}}: the counts wanted, types removed by a
 * reload left out. */
void api_formation(const struct api_view *v, struct admin_answer *ans);
/* 202 {"type":"web","action":"restart"} */
void api_action(const char *type, const char *action, struct admin_answer *ans);
/* 200 {"changes":[...]}, one per non-empty line of lines (NULL: none). */
void api_changes(const char *lines, struct admin_answer *ans);

/* POST /scale, in the order its checks answer: the body is parsed (a
 * UTF-8 byte order mark is ignored, a member given twice is refused) into
 * the object it must be; NULL with ans set to 400 and the reason when it
 * is empty, not JSON ("body: line 1 column 3: ...") or not an object. */
json_t *api_scale_body(const char *body, size_t len, struct admin_answer *ans);

/* Then each member in order: an integer count from 0 to 1000 (else 400),
 * of a type known says exists (else 404); an empty object is 400. Returns
 * 0, or -1 with ans set to the refusal of the first member at fault. */
int api_scale_check(const json_t *counts, bool (*known)(void *ctx, const char *type), void *ctx,
                    struct admin_answer *ans);

#endif
