/* A running drover: config and plan loading, start, the lifecycle (drain,
 * stop, reload on SIGHUP), and everything the admin API asks of it. Main
 * thread only. */
#include "control/control.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ev.h>

#include "conf/config.h"
#include "lib/log.h"
#include "control/admin.h"
#include "router/backend.h"
#include "router/metrics.h"
#include "router/router.h"
#include "router/worker.h"
#include "conf/formation.h"
#include "supervisor/supervisor.h"

#define ADMIN_REBIND_DELAY 0.2

struct control {
    struct run_options opts;
    struct ev_loop *loop;
    struct router router;
    struct supervisor *sv;
    struct admin *admin;
    struct conf_addr admin_addr;    /* what admin listens on ("" text: disabled) */
    struct conf_addr admin_next;    /* a reload moved it: rebound after the answer */
    ev_timer admin_rebind;
    ev_signal term, intr, hup;
    ev_timer deadline;              /* timeouts.drain for the whole stop */
    int stops;
    bool draining;
    double started;
    uint64_t reloads_ok, reloads_failed;
};

/* ---- the supervisor's way into the pools ---- */

static struct pool_member *pool_join(void *ctx, const char *type, const char *name, int port,
                                     unsigned max_inflight)
{
    return (struct pool_member *)router_add_instance(ctx, type, name, port, max_inflight);
}

static uint64_t pool_leave(void *ctx, struct pool_member *m)
{
    return router_remove_instance(ctx, (struct backend *)m);
}

static bool pool_drained(void *ctx, struct pool_member *m, uint64_t generation)
{
    return router_tables_current(ctx, generation) && backend_inflight((struct backend *)m) == 0;
}

static void pool_set_max_inflight(struct pool_member *m, unsigned max_inflight)
{
    atomic_store(&((struct backend *)m)->max_inflight, max_inflight);
}

static long pool_inflight(const struct pool_member *m)
{
    return backend_inflight((struct backend *)m);
}

static uint64_t sum_slots(const struct backend *be, size_t offset);

static uint64_t pool_requests(const struct pool_member *m)
{
    return sum_slots((const struct backend *)m, offsetof(struct backend_slot, requests));
}

static void pool_release(struct pool_member *m)
{
    backend_unref((struct backend *)m);
}

static const struct pool_ops router_pools = {
    .join = pool_join,
    .leave = pool_leave,
    .drained = pool_drained,
    .set_max_inflight = pool_set_max_inflight,
    .inflight = pool_inflight,
    .requests = pool_requests,
    .release = pool_release,
};

/* ---- loading ---- */

/* -c FILE, else APPDIR/drover.yaml when it exists, else the defaults. */
static struct conf *load_config(const struct run_options *o, char *err, size_t errlen)
{
    char path[4096];
    struct stat st;

    if (o->config != NULL)
        return conf_load(o->config, err, errlen);
    snprintf(path, sizeof(path), "%s/drover.yaml", o->appdir != NULL ? o->appdir : ".");
    if (stat(path, &st) == 0)
        return conf_load(path, err, errlen);
    return conf_default(o->appdir != NULL ? o->appdir : ".", err, errlen);
}

/* -p PORT: the router listens on 0.0.0.0:PORT instead of `listen`. */
static int apply_port(struct conf *conf, const char *port, char *err, size_t errlen)
{
    char text[64], why[256];

    snprintf(text, sizeof(text), "0.0.0.0:%s", port);
    if (conf_parse_addr(text, &conf->listen[0], why, sizeof(why)) < 0) {
        snprintf(err, errlen, "-p %s: %s", port, why);
        return -1;
    }
    conf->nlisten = 1;
    return 0;
}

/* Whether drover supervises an app: whenever a formation file exists, and
 * necessarily when a route sends traffic to a process type. */
static bool wants_formation(const struct conf *conf)
{
    for (size_t i = 0; i < conf->nroutes; i++)
        if (conf->routes[i].process != NULL)
            return true;
    return conf->nprocesses > 0;
}

static bool formation_exists(const struct conf *conf)
{
    char path[4096];
    struct stat st;

    if (conf->app.procfile != NULL)
        return true; /* named explicitly: it must load */
    snprintf(path, sizeof(path), "%s/Procfile", conf->app.dir);
    if (stat(path, &st) == 0)
        return true;
    snprintf(path, sizeof(path), "%s/app_desc.yaml", conf->app.dir);
    return stat(path, &st) == 0;
}

static int load_plan(const struct conf *conf, const struct run_options *o, struct plan **plan,
                     char *err, size_t errlen)
{
    struct scale_entry m[64];
    struct formation f;
    size_t nm = 0;
    int r;

    *plan = NULL;
    if (o->formation != NULL &&
        formation_parse_scale(o->formation, m, sizeof(m) / sizeof(m[0]), &nm, err, errlen) < 0) {
        char why[512];

        snprintf(why, sizeof(why), "%s", err);
        snprintf(err, errlen, "-m: %s", why);
        return -1;
    }
    if (!formation_exists(conf)) {
        if (!wants_formation(conf) && o->formation == NULL)
            return 0;
        snprintf(err, errlen, "no Procfile or app_desc.yaml in %s (%s)", conf->app.dir,
                 o->formation != NULL ? "-m needs a formation"
                                      : "a route sends traffic to a process type");
        return -1;
    }
    memset(&f, 0, sizeof(f));
    if (formation_load(conf->app.dir, conf->app.procfile, &f, err, errlen) < 0)
        return -1;
    *plan = calloc(1, sizeof(**plan));
    if (*plan == NULL) {
        formation_free(&f);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    r = plan_build(conf, &f, m, nm, *plan, err, errlen);
    formation_free(&f);
    if (r < 0) {
        free(*plan);
        *plan = NULL;
    }
    return r;
}

int control_load(const struct run_options *o, struct conf **conf, struct plan **plan, char *err,
                 size_t errlen)
{
    *plan = NULL;
    *conf = load_config(o, err, errlen);
    if (*conf == NULL)
        return -1;
    if ((o->port != NULL && apply_port(*conf, o->port, err, errlen) < 0) ||
        load_plan(*conf, o, plan, err, errlen) < 0) {
        conf_free(*conf);
        *conf = NULL;
        return -1;
    }
    return 0;
}

/* ---- stopping ---- */

static void stopped(void *arg)
{
    struct control *ctl = arg;

    ev_break(ctl->loop, EVBREAK_ALL);
}

/* The router has let its last connection go: now the instances. */
static void router_stopped(void *arg)
{
    struct control *ctl = arg;

    if (ctl->sv == NULL) {
        stopped(ctl);
        return;
    }
    log_info("stopping the app's instances");
    supervisor_stop(ctl->sv, ctl->stops > 1, stopped, ctl);
}

static void stop_now(struct control *ctl)
{
    router_stop_now(&ctl->router);
    if (ctl->sv != NULL)
        supervisor_stop(ctl->sv, true, stopped, ctl);
}

static void deadline_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct control *ctl = t->data;

    (void)loop;
    (void)revents;
    log_warn("timeouts.drain spent: stopping everything now");
    ctl->stops = 2;
    stop_now(ctl);
}

static void stop_signal_cb(struct ev_loop *loop, ev_signal *s, int revents)
{
    struct control *ctl = s->data;
    const struct conf *conf = ctl->router.cref->conf;

    (void)revents;
    if (ctl->stops++ == 0) {
        log_info("%s: draining (a second signal stops at once)", strsignal(s->signum));
        ctl->draining = true;
        ev_timer_set(&ctl->deadline, (double)conf->timeouts.drain_ms / 1000.0, 0.);
        ev_timer_start(loop, &ctl->deadline);
        router_drain(&ctl->router, router_stopped, ctl);
    } else {
        log_info("%s again: stopping now", strsignal(s->signum));
        stop_now(ctl);
    }
}

static void hup_cb(struct ev_loop *loop, ev_signal *s, int revents)
{
    struct control *ctl = s->data;
    struct sbuf out;

    (void)loop;
    (void)revents;
    sbuf_init(&out);
    log_info("SIGHUP: reloading");
    control_reload(ctl, &out);
    sbuf_free(&out);
}

/* ---- the admin listener ---- */

static int admin_open(struct control *ctl, const struct conf *conf, char *err, size_t errlen)
{
    if (!conf->admin.enabled) {
        ctl->admin_addr.text[0] = '\0';
        return 0;
    }
    ctl->admin = admin_start(ctl->loop, &conf->admin.listen, ctl, err, errlen);
    if (ctl->admin == NULL)
        return -1;
    ctl->admin_addr = conf->admin.listen;
    log_info("admin API on %s%s", conf->admin.listen.text,
             conf->admin.token != NULL && conf->admin.token[0] != '\0' ? " (token required)" : "");
    return 0;
}

/* A reload moved the admin listener: the old one is closed only after the
 * answer to the reload has gone out. */
static void admin_rebind_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct control *ctl = t->data;
    struct admin *next = NULL;
    char err[512];

    (void)loop;
    (void)revents;
    if (ctl->admin_next.text[0] != '\0') {
        next = admin_start(ctl->loop, &ctl->admin_next, ctl, err, sizeof(err));
        if (next == NULL) {
            log_error("admin API: %s; staying on %s", err,
                      ctl->admin_addr.text[0] ? ctl->admin_addr.text : "nothing");
            return;
        }
    }
    admin_stop(ctl->admin);
    ctl->admin = next;
    ctl->admin_addr = ctl->admin_next;
    log_info("admin API %s%s", next != NULL ? "now on " : "disabled",
             next != NULL ? ctl->admin_addr.text : "");
}

/* ---- the admin API ---- */

const char *control_token(struct control *ctl)
{
    return ctl->router.cref->conf->admin.token;
}

static int answer_error(struct sbuf *out, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int answer_error(struct sbuf *out, int status, const char *fmt, ...)
{
    char msg[1024];
    struct jsonw w;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    jsonw_init(&w, out);
    jsonw_object_begin(&w);
    jsonw_key(&w, "error");
    jsonw_string(&w, msg);
    jsonw_object_end(&w);
    return status;
}

int control_health(struct control *ctl, struct sbuf *out)
{
    sbuf_puts(out, ctl->draining ? "{\"status\":\"draining\"}" : "{\"status\":\"ok\"}");
    return ctl->draining ? 503 : 200;
}

/* A route has a backend that is up (and, for a process route, ready). */
static bool route_served(const struct router *r, const struct conf_route *cr)
{
    for (const struct backend *be = r->reg.head; be != NULL; be = be->reg_next) {
        bool mine = false;

        if (!atomic_load(&be->up) || atomic_load(&be->retired))
            continue;
        if (cr->process != NULL) {
            mine = strcmp(be->process, cr->process) == 0;
        } else {
            for (size_t k = 0; k < cr->nbackends && !mine; k++)
                mine = be->process[0] == '\0' && strcmp(be->addr.text, cr->backends[k].text) == 0;
        }
        if (mine)
            return true;
    }
    return false;
}

static void route_name(const struct conf_route *cr, char *buf, size_t len)
{
    snprintf(buf, len, "%s%s%s", cr->host_match == HOST_SUFFIX ? "*" : "",
             cr->host != NULL ? cr->host : "", cr->path);
}

int control_ready(struct control *ctl, struct sbuf *out)
{
    const struct conf *conf = ctl->router.cref->conf;
    struct jsonw w;
    bool ready = !ctl->draining;

    for (size_t i = 0; i < conf->nroutes; i++)
        ready = ready && route_served(&ctl->router, &conf->routes[i]);
    jsonw_init(&w, out);
    jsonw_object_begin(&w);
    jsonw_key(&w, "status");
    jsonw_string(&w, ready ? "ready" : ctl->draining ? "draining" : "not ready");
    if (!ready) {
        jsonw_key(&w, "routes");
        jsonw_array_begin(&w);
        for (size_t i = 0; i < conf->nroutes; i++) {
            char name[512];

            if (route_served(&ctl->router, &conf->routes[i]))
                continue;
            route_name(&conf->routes[i], name, sizeof(name));
            jsonw_string(&w, name);
        }
        jsonw_array_end(&w);
    }
    jsonw_object_end(&w);
    return ready ? 200 : 503;
}

static uint64_t sum_slots(const struct backend *be, size_t offset)
{
    uint64_t n = 0;

    for (unsigned i = 0; i < be->nslots; i++)
        n += counter_get((const counter_t *)((const char *)&be->slot[i] + offset));
    return n;
}

static uint64_t total_requests(struct control *ctl)
{
    uint64_t n = 0;

    for (unsigned i = 0; i < ctl->router.nworkers; i++) {
        const struct metrics *m = ctl->router.workers[i].metrics;

        for (size_t k = 0; m != NULL && k < METRICS_MAX_SERIES; k++)
            if (atomic_load_explicit(&m->series[k].used, memory_order_acquire))
                n += counter_get(&m->series[k].count);
    }
    return n;
}

static uint64_t gauge_sum(struct control *ctl, bool upstreams)
{
    uint64_t n = 0;

    for (unsigned i = 0; i < ctl->router.nworkers; i++)
        n += counter_get(upstreams ? &ctl->router.workers[i].g_upstreams
                                   : &ctl->router.workers[i].g_conns);
    return n;
}

static void status_processes(struct control *ctl, struct jsonw *w)
{
    struct sv_snapshot *snap = ctl->sv != NULL ? supervisor_snapshot(ctl->sv) : NULL;

    jsonw_array_begin(w);
    for (size_t i = 0; snap != NULL && i < snap->ntypes; i++) {
        const struct sv_type_view *t = &snap->types[i];

        jsonw_object_begin(w);
        jsonw_key(w, "type");
        jsonw_string(w, t->type);
        jsonw_key(w, "routed");
        jsonw_bool(w, t->routed);
        jsonw_key(w, "stopped");
        jsonw_bool(w, t->stopped);
        jsonw_key(w, "removed");
        jsonw_bool(w, t->removed);
        jsonw_key(w, "want");
        jsonw_int(w, t->want);
        jsonw_key(w, "rolling");
        jsonw_bool(w, t->rolling);
        jsonw_key(w, "restarts");
        jsonw_uint(w, t->restarts);
        jsonw_key(w, "command");
        jsonw_string(w, t->command);
        jsonw_key(w, "instances");
        jsonw_array_begin(w);
        for (size_t k = 0; k < t->ninstances; k++) {
            const struct sv_instance_view *in = &t->instances[k];

            jsonw_object_begin(w);
            jsonw_key(w, "name");
            jsonw_string(w, in->name);
            jsonw_key(w, "pid");
            if (in->pid > 0)
                jsonw_int(w, in->pid);
            else
                jsonw_null(w);
            jsonw_key(w, "pgid");
            if (in->pgid > 0)
                jsonw_int(w, in->pgid);
            else
                jsonw_null(w);
            jsonw_key(w, "port");
            jsonw_int(w, in->port);
            jsonw_key(w, "state");
            jsonw_string(w, in->state);
            jsonw_key(w, "restarts");
            jsonw_uint(w, in->restarts);
            jsonw_key(w, "uptime_s");
            if (in->pid > 0)
                jsonw_double(w, in->uptime_s);
            else
                jsonw_null(w);
            jsonw_key(w, "rss_bytes");
            if (in->rss_bytes >= 0)
                jsonw_uint(w, (uint64_t)in->rss_bytes);
            else
                jsonw_null(w);
            jsonw_key(w, "inflight");
            jsonw_int(w, in->inflight);
            jsonw_key(w, "requests");
            jsonw_uint(w, in->requests);
            jsonw_object_end(w);
        }
        jsonw_array_end(w);
        jsonw_object_end(w);
    }
    jsonw_array_end(w);
    free(snap);
}

/* {"web":4,...}: the counts wanted, 0 for a stopped type. */
static void status_formation(struct control *ctl, struct jsonw *w)
{
    struct sv_snapshot *snap = supervisor_snapshot(ctl->sv);

    jsonw_object_begin(w);
    for (size_t i = 0; snap != NULL && i < snap->ntypes; i++) {
        if (snap->types[i].removed)
            continue;
        jsonw_key(w, snap->types[i].type);
        jsonw_int(w, snap->types[i].want);
    }
    jsonw_object_end(w);
    free(snap);
}

static void metrics_processes(struct control *ctl, struct sbuf *out)
{
    struct sv_snapshot *snap = supervisor_snapshot(ctl->sv);

    if (snap == NULL)
        return;
    sbuf_puts(out, "# HELP drover_instance_restarts_total Crash restarts of a process type's instances.\n"
                   "# TYPE drover_instance_restarts_total counter\n");
    for (size_t i = 0; i < snap->ntypes; i++) {
        sbuf_puts(out, "drover_instance_restarts_total{type=");
        metrics_label(out, snap->types[i].type);
        sbuf_printf(out, "} %llu\n", (unsigned long long)snap->types[i].restarts);
    }
    sbuf_puts(out, "# HELP drover_instances Instances of a process type, by state.\n"
                   "# TYPE drover_instances gauge\n");
    for (size_t i = 0; i < snap->ntypes; i++) {
        for (int st = 0; st < SV_STATES; st++) {
            sbuf_puts(out, "drover_instances{type=");
            metrics_label(out, snap->types[i].type);
            sbuf_printf(out, ",state=\"%s\"} %u\n", inst_state_names[st], snap->types[i].by_state[st]);
        }
    }
    free(snap);
}

int control_status(struct control *ctl, struct sbuf *out)
{
    const struct conf *conf = ctl->router.cref->conf;
    struct jsonw w;

    jsonw_init(&w, out);
    jsonw_object_begin(&w);
    jsonw_key(&w, "drover");
    jsonw_object_begin(&w);
    jsonw_key(&w, "version");
    jsonw_string(&w, DROVER_VERSION);
    jsonw_key(&w, "pid");
    jsonw_int(&w, getpid());
    jsonw_key(&w, "uptime_s");
    jsonw_double(&w, ev_now(ctl->loop) - ctl->started);
    jsonw_key(&w, "draining");
    jsonw_bool(&w, ctl->draining);
    jsonw_key(&w, "config");
    if (conf->file != NULL)
        jsonw_string(&w, conf->file);
    else
        jsonw_null(&w);
    jsonw_key(&w, "workers");
    jsonw_uint(&w, ctl->router.nworkers);
    jsonw_key(&w, "reloads");
    jsonw_object_begin(&w);
    jsonw_key(&w, "ok");
    jsonw_uint(&w, ctl->reloads_ok);
    jsonw_key(&w, "failed");
    jsonw_uint(&w, ctl->reloads_failed);
    jsonw_object_end(&w);
    jsonw_object_end(&w);

    jsonw_key(&w, "router");
    jsonw_object_begin(&w);
    jsonw_key(&w, "connections");
    jsonw_uint(&w, gauge_sum(ctl, false));
    jsonw_key(&w, "upstream_connections");
    jsonw_uint(&w, gauge_sum(ctl, true));
    jsonw_key(&w, "requests");
    jsonw_uint(&w, total_requests(ctl));
    jsonw_key(&w, "listen");
    jsonw_array_begin(&w);
    for (size_t i = 0; i < conf->nlisten; i++)
        jsonw_string(&w, conf->listen[i].text);
    jsonw_array_end(&w);
    jsonw_object_end(&w);

    jsonw_key(&w, "processes");
    status_processes(ctl, &w);

    jsonw_key(&w, "backends");
    jsonw_array_begin(&w);
    for (struct backend *be = ctl->router.reg.head; be != NULL; be = be->reg_next) {
        jsonw_object_begin(&w);
        jsonw_key(&w, "name");
        jsonw_string(&w, be->name);
        jsonw_key(&w, "address");
        jsonw_string(&w, be->addr.text);
        jsonw_key(&w, "process");
        if (be->process[0] != '\0')
            jsonw_string(&w, be->process);
        else
            jsonw_null(&w);
        jsonw_key(&w, "up");
        jsonw_bool(&w, atomic_load(&be->up));
        jsonw_key(&w, "inflight");
        jsonw_int(&w, backend_inflight(be));
        jsonw_key(&w, "requests");
        jsonw_uint(&w, sum_slots(be, offsetof(struct backend_slot, requests)));
        jsonw_key(&w, "failures");
        jsonw_uint(&w, sum_slots(be, offsetof(struct backend_slot, failures)));
        jsonw_key(&w, "connections");
        jsonw_uint(&w, sum_slots(be, offsetof(struct backend_slot, conns)));
        jsonw_object_end(&w);
    }
    jsonw_array_end(&w);
    jsonw_object_end(&w);
    return 200;
}

int control_scale(struct control *ctl, const struct json_value *body, struct sbuf *out)
{
    struct jsonw w;

    if (ctl->sv == NULL)
        return answer_error(out, 404, "drover runs no process formation here");
    if (body == NULL || body->type != JSON_OBJECT || body->nchildren == 0)
        return answer_error(out, 400, "body: expected an object of TYPE: count, like {\"web\": 4}");
    /* Everything is checked before anything changes. */
    for (size_t i = 0; i < body->nchildren; i++) {
        const struct json_value *v = &body->children[i];

        if (v->type != JSON_NUMBER || !v->integer || v->intval < 0 || v->intval > 1000)
            return answer_error(out, 400, "%s: the count must be an integer from 0 to 1000", v->key);
        if (!supervisor_has_type(ctl->sv, v->key))
            return answer_error(out, 404, "unknown process type \"%s\"", v->key);
    }
    for (size_t i = 0; i < body->nchildren; i++)
        supervisor_scale(ctl->sv, body->children[i].key, (int)body->children[i].intval);
    jsonw_init(&w, out);
    jsonw_object_begin(&w);
    jsonw_key(&w, "formation");
    status_formation(ctl, &w);
    jsonw_object_end(&w);
    return 200;
}

int control_process(struct control *ctl, const char *type, const char *action, struct sbuf *out)
{
    struct jsonw w;
    int r;

    if (ctl->sv == NULL)
        return answer_error(out, 404, "drover runs no process formation here");
    if (strcmp(action, "restart") == 0)
        r = supervisor_restart(ctl->sv, type);
    else if (strcmp(action, "stop") == 0)
        r = supervisor_stop_type(ctl->sv, type);
    else if (strcmp(action, "start") == 0)
        r = supervisor_start_type(ctl->sv, type);
    else
        return answer_error(out, 404, "unknown action \"%s\": use restart, stop or start", action);
    if (r < 0)
        return answer_error(out, 404, "unknown process type \"%s\"", type);
    jsonw_init(&w, out);
    jsonw_object_begin(&w);
    jsonw_key(&w, "type");
    jsonw_string(&w, type);
    jsonw_key(&w, "action");
    jsonw_string(&w, action);
    jsonw_object_end(&w);
    return 202;
}

/* ---- reload ---- */

struct plan_line {
    char key[384];              /* group (64) + " " + first word (256) */
    char value[512];
};

/* conf_print_plan as (key, value) lines: "timeouts connect" → "3s". A line
 * that starts blank belongs to the group named above it. */
static size_t plan_lines(const struct conf *conf, struct plan_line *lines, size_t max)
{
    char *text = NULL, *save = NULL, group[64] = "";
    size_t len = 0, n = 0;
    FILE *f = open_memstream(&text, &len);

    if (f == NULL)
        return 0;
    conf_print_plan(conf, f);
    fclose(f);
    for (char *line = strtok_r(text, "\n", &save); line != NULL && n < max;
         line = strtok_r(NULL, "\n", &save)) {
        char first[256] = "", rest[512] = "";
        const char *p = line;
        bool starts_group = line[0] != ' ';

        if (starts_group) {
            sscanf(line, "%63s", group);
            p = line + strlen(group);
        }
        while (*p == ' ')
            p++;
        sscanf(p, "%255s", first);
        p += strlen(first);
        while (*p == ' ')
            p++;
        snprintf(rest, sizeof(rest), "%s", p);
        /* Collapse runs of blanks: the layout is not the value. */
        for (char *q = rest; *q; q++)
            while (q[0] == ' ' && q[1] == ' ')
                memmove(q, q + 1, strlen(q));
        if (starts_group && rest[0] == '\0') {
            /* "balance  round_robin": the group's one value. */
            snprintf(lines[n].key, sizeof(lines[n].key), "%s", group);
            snprintf(lines[n].value, sizeof(lines[n].value), "%s", first);
        } else {
            snprintf(lines[n].key, sizeof(lines[n].key), "%s%s%s", group, first[0] ? " " : "", first);
            snprintf(lines[n].value, sizeof(lines[n].value), "%s", rest);
        }
        n++;
    }
    free(text);
    return n;
}

static const struct plan_line *find_line(const struct plan_line *lines, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(lines[i].key, key) == 0)
            return &lines[i];
    return NULL;
}

/* What changed between two configs, one line each, into notes. */
static void diff_configs(const struct conf *old, const struct conf *new, struct sbuf *notes)
{
    enum { MAX_LINES = 512 };
    struct plan_line *a = calloc(MAX_LINES, sizeof(*a)), *b = calloc(MAX_LINES, sizeof(*b));
    size_t na, nb;

    if (a == NULL || b == NULL)
        goto out;
    na = plan_lines(old, a, MAX_LINES);
    nb = plan_lines(new, b, MAX_LINES);
    for (size_t i = 0; i < nb; i++) {
        const struct plan_line *o = find_line(a, na, b[i].key);

        if (strncmp(b[i].key, "config", 6) == 0)
            continue;
        if (o == NULL)
            sbuf_printf(notes, "+ %s %s\n", b[i].key, b[i].value);
        else if (strcmp(o->value, b[i].value) != 0)
            sbuf_printf(notes, "%s: %s → %s\n", b[i].key, o->value, b[i].value);
    }
    for (size_t i = 0; i < na; i++)
        if (find_line(b, nb, a[i].key) == NULL)
            sbuf_printf(notes, "- %s %s\n", a[i].key, a[i].value);
out:
    free(a);
    free(b);
}

int control_reload(struct control *ctl, struct sbuf *out)
{
    char err[8192];
    struct conf *conf;
    struct plan *plan;
    struct sbuf notes;
    struct jsonw w;
    const struct conf *old = ctl->router.cref->conf;
    bool admin_moved;

    if (ctl->draining)
        return answer_error(out, 409, "drover is draining: no reload");
    if (control_load(&ctl->opts, &conf, &plan, err, sizeof(err)) < 0) {
        ctl->reloads_failed++;
        log_error("reload failed, the running configuration is unchanged: %s", err);
        return answer_error(out, 422, "%s", err);
    }
    if (plan != NULL && ctl->sv == NULL) {
        plan_free(plan);
        free(plan);
        conf_free(conf);
        ctl->reloads_failed++;
        snprintf(err, sizeof(err), "a formation appeared: supervising an app needs a restart");
        log_error("reload failed, the running configuration is unchanged: %s", err);
        return answer_error(out, 422, "%s", err);
    }
    sbuf_init(&notes);
    diff_configs(old, conf, &notes);
    admin_moved = conf->admin.enabled != (ctl->admin_addr.text[0] != '\0') ||
                  (conf->admin.enabled && strcmp(conf->admin.listen.text, ctl->admin_addr.text) != 0);
    if (router_reload(&ctl->router, conf, &notes, err, sizeof(err)) < 0) {
        sbuf_free(&notes);
        if (plan != NULL) {
            plan_free(plan);
            free(plan);
        }
        conf_free(conf);
        ctl->reloads_failed++;
        log_error("reload failed, the running configuration is unchanged: %s", err);
        return answer_error(out, 422, "%s", err);
    }
    /* conf is the router's now (old may be gone: do not touch it). */
    if (ctl->sv != NULL) {
        if (plan == NULL)
            plan = calloc(1, sizeof(*plan)); /* no formation any more: every type goes */
        if (plan != NULL)
            supervisor_reload(ctl->sv, plan, &notes);
        supervisor_set_drain_limit(ctl->sv, (double)conf->timeouts.drain_ms / 1000.0);
    }
    if (admin_moved) {
        ctl->admin_next = conf->admin.listen;
        if (!conf->admin.enabled)
            ctl->admin_next.text[0] = '\0';
        ev_timer_stop(ctl->loop, &ctl->admin_rebind);
        ev_timer_set(&ctl->admin_rebind, ADMIN_REBIND_DELAY, 0.);
        ev_timer_start(ctl->loop, &ctl->admin_rebind);
    }
    ctl->reloads_ok++;
    jsonw_init(&w, out);
    jsonw_object_begin(&w);
    jsonw_key(&w, "changes");
    jsonw_array_begin(&w);
    {
        char *save = NULL;
        size_t n = 0;

        sbuf_put(&notes, "", 1); /* NUL-terminate */
        for (char *line = notes.data != NULL ? strtok_r(notes.data, "\n", &save) : NULL;
             line != NULL; line = strtok_r(NULL, "\n", &save), n++) {
            log_info("reload: %s", line);
            jsonw_string(&w, line);
        }
        if (n == 0)
            log_info("reload: no changes");
    }
    jsonw_array_end(&w);
    jsonw_object_end(&w);
    sbuf_free(&notes);
    return 200;
}

/* ---- metrics ---- */

int control_metrics(struct control *ctl, struct sbuf *out)
{
    struct metrics *m[256];
    unsigned n = ctl->router.nworkers < 256 ? ctl->router.nworkers : 256;

    for (unsigned i = 0; i < n; i++)
        m[i] = ctl->router.workers[i].metrics;
    sbuf_printf(out, "# HELP drover_build_info drover's version.\n"
                     "# TYPE drover_build_info gauge\n"
                     "drover_build_info{version=\"%s\"} 1\n"
                     "# HELP drover_draining 1 from the first stop signal on.\n"
                     "# TYPE drover_draining gauge\n"
                     "drover_draining %d\n"
                     "# HELP drover_reloads_total Configuration reloads, by outcome.\n"
                     "# TYPE drover_reloads_total counter\n"
                     "drover_reloads_total{result=\"ok\"} %llu\n"
                     "drover_reloads_total{result=\"error\"} %llu\n"
                     "# HELP drover_client_connections Client connections open.\n"
                     "# TYPE drover_client_connections gauge\n"
                     "drover_client_connections %llu\n"
                     "# HELP drover_upstream_connections Connections to backends open (busy and pooled).\n"
                     "# TYPE drover_upstream_connections gauge\n"
                     "drover_upstream_connections %llu\n",
                DROVER_VERSION, ctl->draining ? 1 : 0, (unsigned long long)ctl->reloads_ok,
                (unsigned long long)ctl->reloads_failed, (unsigned long long)gauge_sum(ctl, false),
                (unsigned long long)gauge_sum(ctl, true));
    metrics_render(m, n, out);
    sbuf_puts(out, "# HELP drover_backend_up 1 when the backend passes its health checks.\n"
                   "# TYPE drover_backend_up gauge\n");
    for (struct backend *be = ctl->router.reg.head; be != NULL; be = be->reg_next) {
        sbuf_puts(out, "drover_backend_up{backend=");
        metrics_label(out, be->name);
        sbuf_printf(out, "} %d\n", atomic_load(&be->up) ? 1 : 0);
    }
    sbuf_puts(out, "# HELP drover_backend_inflight Requests in flight on the backend.\n"
                   "# TYPE drover_backend_inflight gauge\n");
    for (struct backend *be = ctl->router.reg.head; be != NULL; be = be->reg_next) {
        sbuf_puts(out, "drover_backend_inflight{backend=");
        metrics_label(out, be->name);
        sbuf_printf(out, "} %d\n", backend_inflight(be));
    }
    if (ctl->sv != NULL)
        metrics_processes(ctl, out);
    return 200;
}

/* ---- running ---- */

static void log_plan(const struct conf *conf)
{
    for (size_t i = 0; i < conf->nlisten; i++)
        log_info("listening on %s", conf->listen[i].text);
    for (size_t i = 0; i < conf->nroutes; i++) {
        const struct conf_route *r = &conf->routes[i];
        char backends[512] = "", name[512];
        size_t len = 0;

        for (size_t k = 0; k < r->nbackends && len < sizeof(backends); k++)
            len += (size_t)snprintf(backends + len, sizeof(backends) - len, "%s%s", k ? ", " : "",
                                    r->backends[k].text);
        route_name(r, name, sizeof(name));
        log_info("route %s → %s%s (%s)", name, r->process != NULL ? "process " : "",
                 r->process != NULL ? r->process : backends, conf_balance_name(r->balance));
    }
}

int control_run(const struct run_options *o)
{
    struct control *ctl = calloc(1, sizeof(*ctl));
    struct plan *plan = NULL;
    struct conf *conf;
    char err[8192];
    int status = 1;

    if (ctl == NULL)
        return 1;
    ctl->opts = *o;
    if (control_load(o, &conf, &plan, err, sizeof(err)) < 0) {
        fprintf(stderr, "%s\n", err);
        free(ctl);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    ctl->loop = ev_default_loop(EVBACKEND_EPOLL);
    if (ctl->loop == NULL) {
        fprintf(stderr, "drover: cannot create the event loop (epoll)\n");
        goto fail_conf;
    }
    ctl->started = ev_now(ctl->loop);
    if (plan != NULL) {
        char from[4096], ignored[4096];

        snprintf(from, sizeof(from), "%s", plan->formation_file);
        snprintf(ignored, sizeof(ignored), "%s", plan->ignored_file != NULL ? plan->ignored_file : "");
        /* Before the first log line, so every name lines up. */
        ctl->sv = supervisor_new(ctl->loop, &router_pools, &ctl->router, plan);
        plan = NULL;
        if (ctl->sv == NULL) {
            fprintf(stderr, "drover: out of memory\n");
            goto fail_conf;
        }
        supervisor_set_drain_limit(ctl->sv, (double)conf->timeouts.drain_ms / 1000.0);
        log_info("drover %s starting (pid %d, %d worker%s)", DROVER_VERSION, (int)getpid(),
                 conf->workers, conf->workers == 1 ? "" : "s");
        log_info("formation from %s", from);
        if (ignored[0] != '\0')
            log_info("ignoring %s: the Procfile wins", ignored);
    } else {
        log_info("drover %s starting (pid %d, %d worker%s)", DROVER_VERSION, (int)getpid(),
                 conf->workers, conf->workers == 1 ? "" : "s");
    }
    log_plan(conf);
    ev_init(&ctl->admin_rebind, admin_rebind_cb);
    ctl->admin_rebind.data = ctl;
    ev_init(&ctl->deadline, deadline_cb);
    ctl->deadline.data = ctl;
    /* The router takes conf over, even when it fails. */
    if (router_start(&ctl->router, ctl->loop, conf, err, sizeof(err)) < 0 ||
        admin_open(ctl, conf, err, sizeof(err)) < 0) {
        log_error("%s", err);
        fprintf(stderr, "drover: %s\n", err);
        router_destroy(&ctl->router);
        supervisor_free(ctl->sv);
        ev_loop_destroy(ctl->loop);
        free(ctl);
        return 1;
    }
    ev_signal_init(&ctl->term, stop_signal_cb, SIGTERM);
    ev_signal_init(&ctl->intr, stop_signal_cb, SIGINT);
    ev_signal_init(&ctl->hup, hup_cb, SIGHUP);
    ctl->term.data = ctl->intr.data = ctl->hup.data = ctl;
    ev_signal_start(ctl->loop, &ctl->term);
    ev_signal_start(ctl->loop, &ctl->intr);
    ev_signal_start(ctl->loop, &ctl->hup);
    if (ctl->sv != NULL)
        supervisor_start(ctl->sv);

    ev_run(ctl->loop, 0);

    /* Stopped: a late signal must not kill the cleanup (the exit code of a
     * clean stop is 0). libev restores the default action, or unblocks a
     * signalfd signal, when its watcher stops: ignore first, block around. */
    {
        sigset_t set;

        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGHUP);
        signal(SIGTERM, SIG_IGN);
        signal(SIGINT, SIG_IGN);
        signal(SIGHUP, SIG_IGN);
        sigprocmask(SIG_BLOCK, &set, NULL);
        ev_signal_stop(ctl->loop, &ctl->term);
        ev_signal_stop(ctl->loop, &ctl->intr);
        ev_signal_stop(ctl->loop, &ctl->hup);
        signal(SIGTERM, SIG_IGN);
        signal(SIGINT, SIG_IGN);
        signal(SIGHUP, SIG_IGN);
        sigprocmask(SIG_UNBLOCK, &set, NULL);
    }
    ev_timer_stop(ctl->loop, &ctl->deadline);
    ev_timer_stop(ctl->loop, &ctl->admin_rebind);
    admin_stop(ctl->admin);
    router_destroy(&ctl->router);
    supervisor_free(ctl->sv);
    ev_loop_destroy(ctl->loop);
    free(ctl);
    log_info("stopped");
    return 0;
fail_conf:
    if (plan != NULL) {
        plan_free(plan);
        free(plan);
    }
    conf_free(conf);
    free(ctl);
    return status;
}
