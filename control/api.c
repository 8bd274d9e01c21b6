/* drover's admin API: the handlers handed to admin.c and the answers they
 * render from a view (see api.h). Documents are built with jansson in the
 * order the README shows their members (jansson keeps insertion order);
 * any allocation that fails voids the whole document, which is then
 * answered 500. */
#include "control/api.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/api_live.h"
#include "control/dashboard.h"
#include "control/api_logs.h"
#include "control/internal.h"
#include "router/metrics.h"
#include "supervisor/supervisor.h"

#define API_METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define API_MAX_COUNT 1000

/* ---- building documents ------------------------------------------------- */

/* obj with key: value added (value's reference taken), or NULL when obj
 * is NULL or the member could not be added (obj is released then). */
static json_t *put(json_t *obj, const char *key, json_t *value)
{
    if (obj == NULL) {
        json_decref(value);
        return NULL;
    }
    if (json_object_set_new(obj, key, value) < 0) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

/* The same for an array element. */
static json_t *add(json_t *arr, json_t *value)
{
    if (arr == NULL) {
        json_decref(value);
        return NULL;
    }
    if (json_array_append_new(arr, value) < 0) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

static json_t *count(uint64_t n)
{
    return json_integer(n > (uint64_t)INT64_MAX ? (json_int_t)INT64_MAX : (json_int_t)n);
}

/* Seconds to the millisecond ("2.521"), null when not finite. */
static json_t *seconds(double s)
{
    return isfinite(s) ? json_real(round(s * 1000.0) / 1000.0) : json_null();
}

/* doc (taken) as the answer, with status; a NULL doc is 500. Reals are
 * printed with 15 significant digits, so a millisecond value reads as it
 * was rounded ("2.521", not "2.5209999999999999"). */
static void reply(struct admin_answer *ans, int status, json_t *doc)
{
    char *text = doc != NULL ? json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;

    json_decref(doc);
    if (text == NULL) {
        admin_error(ans, 500, "out of memory");
        return;
    }
    ans->status = status;
    sbuf_puts(&ans->body, text);
    free(text);
}

/* A list of strings. */
static json_t *strings(const char *const *s, size_t n)
{
    json_t *list = json_array();

    for (size_t i = 0; i < n; i++)
        list = add(list, admin_string(s[i]));
    return list;
}

/* ---- the answers ---------------------------------------------------------- */

void api_health(const struct api_view *v, struct admin_answer *ans)
{
    json_t *doc = put(json_object(), "status", json_string(v->draining ? "draining" : "ok"));

    reply(ans, v->draining ? 503 : 200, doc);
}

void api_live(struct admin_answer *ans)
{
    reply(ans, 200, put(json_object(), "status", json_string("live")));
}

void api_ready(const struct api_view *v, struct admin_answer *ans)
{
    bool ready = !v->draining && v->nunready == 0;
    json_t *doc = put(json_object(), "status",
                      json_string(ready ? "ready" : v->draining ? "draining" : "not ready"));

    if (!ready)
        doc = put(doc, "routes", strings(v->unready, v->nunready));
    reply(ans, ready ? 200 : 503, doc);
}

/* The members below are packed by json_pack, which takes the references
 * of its "o" values, also when it fails (a NULL "o", out of memory, fails
 * it: the document is then voided). */

static json_t *status_drover(const struct api_view *v)
{
    return json_pack("{s:s, s:i, s:o, s:b, s:o, s:I, s:{s:o, s:o}, s:o}", "version",
                     DROVER_VERSION, "pid", v->pid, "uptime_s", seconds(v->uptime_s), "draining",
                     v->draining, "config", admin_string(v->config), "workers",
                     (json_int_t)v->workers, "reloads", "ok", count(v->reloads_ok), "failed",
                     count(v->reloads_failed), "state_file", admin_string(v->state_file));
}

static json_t *status_router(const struct api_view *v)
{
    return json_pack("{s:o, s:o, s:o, s:o}", "connections", count(v->connections),
                     "upstream_connections", count(v->upstream_connections), "requests",
                     count(v->requests), "listen", strings(v->listen, v->nlisten));
}

/* pid and uptime_s are null for an instance without a process, rss_bytes
 * when /proc did not tell. */
static json_t *status_instance(const struct api_view *v, const struct sv_instance_view *in)
{
    bool running = in->pid > 0;
    json_t *doc = json_pack("{s:o, s:o, s:o, s:i, s:o, s:I, s:o, s:o, s:I, s:o}", "name",
                     admin_string(in->name), "pid", running ? json_integer(in->pid) : json_null(),
                     "pgid", running ? json_integer(in->pgid) : json_null(), "port", in->port, "state", admin_string(in->state), "restarts",
                     (json_int_t)in->restarts, "uptime_s",
                     running ? seconds(in->uptime_s) : json_null(), "rss_bytes",
                     in->rss_bytes >= 0 ? json_integer(in->rss_bytes) : json_null(), "inflight",
                     (json_int_t)in->inflight, "requests", count(in->requests));

    doc = put(doc, "generation", json_integer(in->generation));
    doc = put(doc, "last_exit", api_live_exit(v, in));
    return put(doc, "live", api_live_json(v, in->name));
}

/* Requests queued for the routes to type. */
static long type_queued(const struct api_view *v, const char *type)
{
    long n = 0;

    for (size_t i = 0; i < v->nroutes; i++)
        if (v->routes[i].process != NULL && strcmp(v->routes[i].process, type) == 0)
            n += api_live_queued(v, v->routes[i].name);
    return n;
}

static json_t *status_type(const struct api_view *v, const struct sv_type_view *t)
{
    json_t *insts = json_array(), *doc;

    for (size_t k = 0; k < t->ninstances; k++)
        insts = add(insts, status_instance(v, &t->instances[k]));
    doc = json_pack("{s:o, s:b, s:b, s:b, s:i, s:i, s:b, s:o, s:o, s:o}", "type",
                     admin_string(t->type), "routed", t->routed, "stopped", t->stopped, "removed",
                     t->removed, "want", t->want, "configured", t->configured, "rolling",
                     t->rolling, "restarts", count(t->restarts), "command",
                     admin_string(t->command), "instances", insts);
    doc = put(doc, "generation", json_integer(t->generation));
    return put(doc, "queued", json_integer(type_queued(v, t->type)));
}

static json_t *status_route(const struct api_view *v, const struct api_route *r)
{
    return json_pack("{s:s, s:o, s:I, s:o}", "route", r->name, "process", admin_string(r->process),
                     "queued", (json_int_t)api_live_queued(v, r->name), "live",
                     api_live_json(v, r->name));
}

static json_t *status_backend(const struct api_view *v, const struct api_backend *b)
{
    json_t *doc = json_pack("{s:o, s:o, s:o, s:o, s:b, s:I, s:o, s:o, s:o}", "name", admin_string(b->name),
                     "address", admin_string(b->address), "process", admin_string(b->process),
                     "dns", admin_string(b->dns),
                     "up", b->up, "inflight", (json_int_t)b->inflight, "requests",
                     count(b->requests), "failures", count(b->failures), "connections",
                     count(b->connections));

    return put(doc, "live", api_live_json(v, b->name));
}

void api_status(const struct api_view *v, struct admin_answer *ans)
{
    json_t *procs = json_array(), *backends = json_array(), *routes = json_array();

    for (size_t i = 0; i < v->nroutes; i++)
        routes = add(routes, status_route(v, &v->routes[i]));
    for (size_t i = 0; v->sv != NULL && i < v->sv->ntypes; i++)
        procs = add(procs, status_type(v, &v->sv->types[i]));
    for (size_t i = 0; i < v->nbackends; i++)
        backends = add(backends, status_backend(v, &v->backends[i]));
    reply(ans, 200, json_pack("{s:o, s:o, s:o, s:o, s:o}", "drover", status_drover(v), "router",
                              status_router(v), "routes", routes, "processes", procs, "backends",
                              backends));
}

void api_formation(const struct api_view *v, struct admin_answer *ans)
{
    json_t *f = json_object();

    for (size_t i = 0; v->sv != NULL && i < v->sv->ntypes; i++)
        if (!v->sv->types[i].removed)
            f = put(f, v->sv->types[i].type, json_integer(v->sv->types[i].want));
    reply(ans, 200, put(json_object(), "formation", f));
}

void api_action(const char *type, const char *action, struct admin_answer *ans)
{
    json_t *doc = put(json_object(), "type", admin_string(type));

    reply(ans, 202, put(doc, "action", admin_string(action)));
}

void api_changes(const char *lines, struct admin_answer *ans)
{
    json_t *list = json_array();

    for (const char *s = lines != NULL ? lines : ""; *s != '\0';) {
        size_t len = strcspn(s, "\n");
        char *line = strndup(s, len);

        if (len > 0)
            list = add(list, line != NULL ? admin_string(line) : NULL);
        free(line);
        s += len + (s[len] == '\n');
    }
    reply(ans, 200, put(json_object(), "changes", list));
}

/* "# HELP name help\n# TYPE name type\n" */
static void metric_head(struct sbuf *out, const char *name, const char *type, const char *help)
{
    sbuf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* "name{label=\"value\"} " with value escaped; the caller adds the rest. */
static void metric_series(struct sbuf *out, const char *name, const char *label, const char *value)
{
    sbuf_printf(out, "%s{%s=", name, label);
    metrics_label(out, value);
}

static void metrics_processes(const struct sv_snapshot *snap, struct sbuf *out)
{
    metric_head(out, "drover_instance_restarts_total", "counter",
                "Crash restarts of a process type's instances.");
    for (size_t i = 0; i < snap->ntypes; i++) {
        metric_series(out, "drover_instance_restarts_total", "type", snap->types[i].type);
        sbuf_printf(out, "} %llu\n", (unsigned long long)snap->types[i].restarts);
    }
    metric_head(out, "drover_instances", "gauge", "Instances of a process type, by state.");
    for (size_t i = 0; i < snap->ntypes; i++) {
        for (int st = 0; st < SV_STATES; st++) {
            metric_series(out, "drover_instances", "type", snap->types[i].type);
            sbuf_printf(out, ",state=\"%s\"} %u\n", inst_state_names[st],
                        snap->types[i].by_state[st]);
        }
    }
}

void api_metrics(const struct api_view *v, struct admin_answer *ans)
{
    struct sbuf *out = &ans->body;

    metric_head(out, "drover_build_info", "gauge", "drover's version.");
    sbuf_printf(out, "drover_build_info{version=\"%s\"} 1\n", DROVER_VERSION);
    metric_head(out, "drover_draining", "gauge", "1 from the first stop signal on.");
    sbuf_printf(out, "drover_draining %d\n", v->draining ? 1 : 0);
    metric_head(out, "drover_reloads_total", "counter", "Configuration reloads, by outcome.");
    sbuf_printf(out, "drover_reloads_total{result=\"ok\"} %llu\n"
                     "drover_reloads_total{result=\"error\"} %llu\n",
                (unsigned long long)v->reloads_ok, (unsigned long long)v->reloads_failed);
    metric_head(out, "drover_log_dropped_total", "counter",
                "Output lines dropped: a full disk, a stdout gone or not read.");
    sbuf_printf(out, "drover_log_dropped_total %llu\n", (unsigned long long)v->log_dropped);
    metric_head(out, "drover_client_connections", "gauge", "Client connections open.");
    sbuf_printf(out, "drover_client_connections %llu\n", (unsigned long long)v->connections);
    metric_head(out, "drover_upstream_connections", "gauge",
                "Connections to backends open (busy and pooled).");
    sbuf_printf(out, "drover_upstream_connections %llu\n",
                (unsigned long long)v->upstream_connections);
    metrics_render(v->metrics, v->nmetrics, out);
    metric_head(out, "drover_backend_up", "gauge", "1 when the backend passes its health checks.");
    for (size_t i = 0; i < v->nbackends; i++) {
        metric_series(out, "drover_backend_up", "backend", v->backends[i].name);
        sbuf_printf(out, "} %d\n", v->backends[i].up ? 1 : 0);
    }
    metric_head(out, "drover_backend_inflight", "gauge", "Requests in flight on the backend.");
    for (size_t i = 0; i < v->nbackends; i++) {
        metric_series(out, "drover_backend_inflight", "backend", v->backends[i].name);
        sbuf_printf(out, "} %ld\n", v->backends[i].inflight);
    }
    if (v->sv != NULL)
        metrics_processes(v->sv, out);
    api_live_metrics(v, out);
    ans->status = 200;
    ans->content_type = API_METRICS_TYPE;
}

/* ---- POST /scale ------------------------------------------------------------ */

json_t *api_scale_body(const char *body, size_t len, struct admin_answer *ans)
{
    json_error_t e;
    json_t *doc;

    /* RFC 8259 8.1: a parser may ignore a byte order mark. */
    if (len >= 3 && memcmp(body, "\xef\xbb\xbf", 3) == 0) {
        body += 3;
        len -= 3;
    }
    if (len == 0) {
        admin_error(ans, 400, "body: empty; send a JSON object like {\"web\": 4}");
        return NULL;
    }
    doc = json_loadb(body, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &e);
    if (doc == NULL) {
        admin_error(ans, 400, "body: line %d column %d: %s", e.line, e.column, e.text);
        return NULL;
    }
    if (!json_is_object(doc)) {
        json_decref(doc);
        admin_error(ans, 400, "body: not a JSON object; send one like {\"web\": 4}");
        return NULL;
    }
    return doc;
}

int api_scale_check(const json_t *counts, bool (*known)(void *ctx, const char *type), void *ctx,
                    struct admin_answer *ans)
{
    const char *type;
    json_t *n;

    if (json_object_size(counts) == 0) {
        admin_error(ans, 400, "body: expected an object of TYPE: count, like {\"web\": 4}");
        return -1;
    }
    json_object_foreach((json_t *)counts, type, n) {
        if (!json_is_integer(n) || json_integer_value(n) < 0 ||
            json_integer_value(n) > API_MAX_COUNT) {
            admin_error(ans, 400, "%s: the count must be an integer from 0 to %d", type,
                        API_MAX_COUNT);
            return -1;
        }
        if (!known(ctx, type)) {
            admin_error(ans, 404, "unknown process type \"%s\"", type);
            return -1;
        }
    }
    return 0;
}

/* ---- the handlers ------------------------------------------------------------ */

/* A view of ctl with parts, rendered by answer into ans. */
static void answer_view(struct control *ctl, unsigned parts, struct admin_answer *ans,
                        void (*answer)(const struct api_view *, struct admin_answer *))
{
    struct api_view v;

    view_take(ctl, parts, &v);
    answer(&v, ans);
    view_release(&v);
}

static void get_health(void *ctx, const struct admin_request *req, struct admin_answer *ans)
{
    (void)req;
    answer_view(ctx, 0, ans, api_health);
}

/* Answered by the main loop itself, like everything admin.c serves: a
 * loop that no longer turns leaves the probe without an answer. */
static void get_live(void *ctx, const struct admin_request *req, struct admin_answer *ans)
{
    (void)ctx;
    (void)req;
    api_live(ans);
}

static void get_ready(void *ctx, const struct admin_request *req, struct admin_answer *ans)
{
    (void)req;
    answer_view(ctx, VIEW_READY, ans, api_ready);
}

static void get_status(void *ctx, const struct admin_request *req, struct admin_answer *ans)
{
    (void)req;
    answer_view(ctx, VIEW_DROVER | VIEW_ROUTER | VIEW_PROCESSES, ans, api_status);
}

static void get_metrics(void *ctx, const struct admin_request *req, struct admin_answer *ans)
{
    (void)req;
    answer_view(ctx, VIEW_DROVER | VIEW_ROUTER | VIEW_PROCESSES, ans, api_metrics);
}

static bool has_type(void *ctx, const char *type)
{
    return supervisor_has_type(ctx, type);
}

static void post_scale(void *ctx, const struct admin_request *req, struct admin_answer *ans)
{
    struct control *ctl = ctx;
    json_t *counts = api_scale_body(req->body, req->body_len, ans), *n;
    const char *type;

    if (counts == NULL)
        return;
    if (ctl->sv == NULL)
        admin_error(ans, 404, "drover runs no process formation here");
    else if (api_scale_check(counts, has_type, ctl->sv, ans) == 0) {
        /* Everything was checked before anything changes. */
        json_object_foreach(counts, type, n)
            supervisor_scale(ctl->sv, type, (int)json_integer_value(n));
        answer_view(ctl, VIEW_PROCESSES, ans, api_formation);
    }
    json_decref(counts);
}

/* POST /processes/TYPE/ACTION: the work goes on in the background. */
static void process_action(struct control *ctl, const char *type, const char *action,
                           int (*act)(struct supervisor *, const char *), struct admin_answer *ans)
{
    if (ctl->sv == NULL)
        admin_error(ans, 404, "drover runs no process formation here");
    else if (act(ctl->sv, type) < 0)
        admin_error(ans, 404, "unknown process type \"%s\"", type);
    else
        api_action(type, action, ans);
}

static void post_restart(void *ctx, const struct admin_request *req, struct admin_answer *ans)
{
    process_action(ctx, req->param, "restart", supervisor_restart, ans);
}

static void post_stop(void *ctx, const struct admin_request *req, struct admin_answer *ans)
{
    process_action(ctx, req->param, "stop", supervisor_stop_type, ans);
}

static void post_start(void *ctx, const struct admin_request *req, struct admin_answer *ans)
{
    process_action(ctx, req->param, "start", supervisor_start_type, ans);
}

static void post_reload(void *ctx, const struct admin_request *req, struct admin_answer *ans)
{
    struct control *ctl = ctx;
    struct sbuf changes;
    char err[8192];

    (void)req;
    sbuf_init(&changes);
    if (control_reload(ctl, &changes, err, sizeof(err)) < 0)
        admin_error(ans, ctl->draining ? 409 : 422, "%s", err);
    else
        api_changes(changes.data, ans);
    sbuf_free(&changes);
}

static const struct admin_route api_routes[] = {
    {ADMIN_GET, "/", false, dashboard_get},
    {ADMIN_GET, "/dashboard.css", false, dashboard_get},
    {ADMIN_GET, "/dashboard.js", false, dashboard_get},
    {ADMIN_GET, "/health", false, get_health},
    {ADMIN_GET, "/ready", false, get_ready},
    {ADMIN_GET, "/live", false, get_live},
    {ADMIN_GET, "/status", true, get_status},
    {ADMIN_GET, "/metrics", true, get_metrics},
    {ADMIN_GET, "/logs", true, api_get_logs},
    {ADMIN_POST, "/reload", true, post_reload},
    {ADMIN_POST, "/scale", true, post_scale},
    {ADMIN_POST, "/processes/*/restart", true, post_restart},
    {ADMIN_POST, "/processes/*/stop", true, post_stop},
    {ADMIN_POST, "/processes/*/start", true, post_start},
};

static const char *api_token(void *ctx)
{
    struct control *ctl = ctx;

    return ctl->router.cref->conf->admin.token;
}

void api_init(struct admin_api *api, struct control *ctl)
{
    memset(api, 0, sizeof(*api));
    api->routes = api_routes;
    api->nroutes = sizeof(api_routes) / sizeof(api_routes[0]);
    api->token = api_token;
    api->ctx = ctl;
}
