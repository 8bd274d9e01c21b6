/* What the admin API (admin.c) and the signals can ask of a running drover:
 * status, scaling, per-type actions, reload, metrics, health. Implemented
 * by control.c over the router and the supervisor; main thread only.
 *
 * Every function that answers writes a JSON document (or Prometheus text
 * for metrics) into out and returns the HTTP status to answer with; on a
 * refusal the document is {"error": "<one line>"}. */
#ifndef DROVER_CONTROL_CONTROL_H
#define DROVER_CONTROL_CONTROL_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/json.h"

#define DROVER_VERSION "0.1.0"

struct control;
struct conf;
struct plan;

/* How `drover run` and `drover check` were asked to start: -c, -d, -m, -p.
 * A reload loads the same way again. */
struct run_options {
    const char *config;         /* -c FILE, or NULL */
    const char *appdir;         /* -d DIR, or NULL for "." */
    const char *formation;      /* -m web=4,worker=1, or NULL */
    const char *port;           /* -p PORT, or NULL */
};

/* The config (-c FILE, else APPDIR/drover.yaml, else the defaults, with -p
 * applied) and the plan of instances (NULL when there is nothing to
 * supervise). 0, or -1 with the reason (file:line:col) in err. */
int control_load(const struct run_options *o, struct conf **conf, struct plan **plan, char *err,
                 size_t errlen);

/* `drover run`: starts everything and runs until stopped. The exit code. */
int control_run(const struct run_options *o);

/* GET /health: 200 {"status":"ok"}, or 503 {"status":"draining"} from the
 * first stop signal on. */
int control_health(struct control *ctl, struct sbuf *out);

/* GET /ready: 200 {"status":"ready"} when every route has at least one
 * healthy backend, else 503 {"status":"not ready","routes":["/api/", ...]}
 * naming those without one. */
int control_ready(struct control *ctl, struct sbuf *out);

/* GET /status: 200 with the document described in README "Admin API":
 * {"drover":{...},"router":{...},"processes":[...],"backends":[...]}. */
int control_status(struct control *ctl, struct sbuf *out);

/* POST /scale with body {"web":4,...}: 200 {"formation":{"web":4,...}}
 * with the counts now wanted; 404 for an unknown type; 400 for a count
 * that is not an integer in 0..1000 or a body that is not an object of
 * them. Instances start and stop in the background. */
int control_scale(struct control *ctl, const struct json_value *body, struct sbuf *out);

/* POST /processes/TYPE/ACTION, ACTION one of restart, stop, start: 202
 * {"type":"web","action":"restart"} (the work continues in the
 * background); 404 for an unknown type or action. */
int control_process(struct control *ctl, const char *type, const char *action, struct sbuf *out);

/* POST /reload (and SIGHUP): 200 {"changes":["...", ...]} (an empty list
 * when nothing changed), or 422 {"error":"file:line:col: message"} with
 * the old config kept running. */
int control_reload(struct control *ctl, struct sbuf *out);

/* GET /metrics: 200 with the Prometheus text exposition format (version
 * 0.0.4) in out. */
int control_metrics(struct control *ctl, struct sbuf *out);

/* The bearer token in force ("" or NULL: none). */
const char *control_token(struct control *ctl);

#endif
