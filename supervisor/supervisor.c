/* The supervisor as a whole: its process types, scaling, stopping and
 * starting types, reloading the formation, memory checks, status and
 * metrics. One instance's life is proc.c's; replacements are rolling.c's. */
#include "supervisor/proc.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "router/backend.h"
#include "router/metrics.h"
#include "router/router.h"
#include "supervisor/logs.h"

#define MEMORY_CHECK_INTERVAL 3.0
#define DEFAULT_DRAIN_LIMIT 30.0

static struct plan_hold *hold_new(struct plan *plan)
{
    struct plan_hold *h = malloc(sizeof(*h));

    if (h == NULL)
        return NULL;
    h->plan = *plan;
    h->refs = 1;
    free(plan);
    return h;
}

static void hold_put(struct plan_hold *h)
{
    if (h != NULL && --h->refs == 0) {
        plan_free(&h->plan);
        free(h);
    }
}

static struct ptype *ptype_new(struct supervisor *sv, struct plan_hold *hold,
                               const struct plan_type *pt)
{
    struct ptype *t = calloc(1, sizeof(*t)), **tail = &sv->types;

    if (t == NULL)
        return NULL;
    t->sv = sv;
    t->hold = hold;
    hold->refs++;
    t->pt = pt;
    t->want = pt->count;
    while (*tail != NULL)
        tail = &(*tail)->next;
    *tail = t;
    return t;
}

static void ptype_unlink_free(struct ptype *t)
{
    struct supervisor *sv = t->sv;

    for (struct ptype **p = &sv->types; *p != NULL; p = &(*p)->next) {
        if (*p == t) {
            *p = t->next;
            break;
        }
    }
    hold_put(t->hold);
    free(t);
}

struct ptype *supervisor_find(struct supervisor *sv, const char *name)
{
    for (struct ptype *t = sv->types; t != NULL; t = t->next)
        if (!t->removed && strcmp(t->pt->name, name) == 0)
            return t;
    return NULL;
}

void supervisor_check_stopped(struct supervisor *sv)
{
    void (*done)(void *) = sv->done;
    struct ptype *t, *next;
    bool any = false;

    /* A type that left the formation goes with its last instance. */
    for (t = sv->types; t != NULL; t = next) {
        next = t->next;
        if (t->removed && t->instances == NULL)
            ptype_unlink_free(t);
    }
    for (t = sv->types; t != NULL && !any; t = t->next)
        any = t->instances != NULL;
    if (!sv->stopping || done == NULL || any)
        return;
    sv->done = NULL;
    done(sv->done_arg);
}

int supervisor_free_slot(const struct ptype *t)
{
    for (int slot = 0;; slot++) {
        int port = plan_port(&t->hold->plan, t->pt, slot);
        bool used = false;

        for (const struct ptype *u = t->sv->types; u != NULL && !used; u = u->next)
            for (const struct instance *in = u->instances; in != NULL && !used; in = in->next)
                used = (u == t && in->slot == slot) || in->port == port;
        if (!used)
            return slot;
    }
}

/* Instances that count towards want: not on their way out. */
static int live_count(const struct ptype *t)
{
    int n = 0;

    for (const struct instance *in = t->instances; in != NULL; in = in->next)
        n += !in->retire && !in->being_replaced;
    return n;
}

/* Starts or retires instances until the live ones are as many as wanted;
 * the highest slots go first, those not up before those that are. */
static void scale_apply(struct ptype *t)
{
    int live;

    if (t->stopped || t->removed || t->sv->stopping)
        return;
    for (live = live_count(t); live < t->want; live++) {
        struct instance *in = instance_new(t, supervisor_free_slot(t));

        if (in == NULL) {
            log_error("out of memory starting %s", t->pt->name);
            return;
        }
        instance_spawn(in);
    }
    for (; live > t->want; live--) {
        struct instance *victim = NULL;

        for (struct instance *in = t->instances; in != NULL; in = in->next) {
            if (in->retire || in->being_replaced)
                continue;
            if (victim == NULL || (victim->state == INST_UP && in->state != INST_UP) ||
                ((victim->state == INST_UP) == (in->state == INST_UP) && in->slot > victim->slot))
                victim = in;
        }
        if (victim == NULL)
            return;
        log_info("%s: scaling down, stopping %s", t->pt->name, victim->name);
        instance_retire(victim);
    }
}

static void memory_cb(struct ev_loop *loop, ev_timer *timer, int revents)
{
    struct supervisor *sv = timer->data;

    (void)loop;
    (void)revents;
    if (sv->stopping)
        return;
    for (struct ptype *t = sv->types; t != NULL; t = t->next) {
        uint64_t limit = t->pt->settings.memory_limit;
        struct instance *list[256];
        pid_t pgids[256];
        unsigned long long rss[256];
        size_t n = 0;

        if (limit == 0)
            continue;
        for (struct instance *in = t->instances; in != NULL && n < 256; in = in->next) {
            if (in->state != INST_UP || in->being_replaced || in->retire || in->pid <= 0)
                continue;
            list[n] = in;
            pgids[n++] = in->pid;
        }
        instance_rss(pgids, rss, n);
        for (size_t i = 0; i < n; i++) {
            struct instance *fresh;
            char name[64];

            if (rss[i] <= limit)
                continue;
            snprintf(name, sizeof(name), "%s", list[i]->name);
            fresh = rolling_replace(list[i]);
            log_warn("%s uses %.1fM, over its memory_limit of %.1fM: replacing it with %s", name,
                     (double)rss[i] / 1048576.0, (double)limit / 1048576.0,
                     fresh != NULL ? fresh->name : "nothing (out of memory)");
        }
    }
}

static void any_child_cb(struct ev_loop *loop, ev_child *c, int revents)
{
    (void)loop;
    (void)revents;
    /* libev has reaped it already; instances have their own watchers. */
    log_debug("reaped child %d (status %#x)", c->rpid, c->rstatus);
}

struct supervisor *supervisor_new(struct ev_loop *loop, struct router *router, struct plan *plan)
{
    struct supervisor *sv = calloc(1, sizeof(*sv));
    ssize_t n;
    int width = 6;

    if (sv == NULL)
        return NULL;
    sv->loop = loop;
    sv->router = router;
    sv->drain_limit = DEFAULT_DRAIN_LIMIT;
    n = readlink("/proc/self/exe", sv->self, sizeof(sv->self) - 1);
    sv->hold = n > 0 ? hold_new(plan) : NULL;
    if (sv->hold == NULL) {
        free(sv);
        return NULL;
    }
    sv->self[n] = '\0';
    for (size_t i = 0; i < sv->hold->plan.ntypes; i++) {
        const struct plan_type *pt = &sv->hold->plan.types[i];
        char name[80];
        int w;

        if (ptype_new(sv, sv->hold, pt) == NULL) {
            supervisor_free(sv);
            return NULL;
        }
        /* Room for a replacement's number too (web.4 → web.5). */
        w = snprintf(name, sizeof(name), "%s.%d", pt->name, pt->count + 1);
        if (w > width)
            width = w;
    }
    log_set_name_width(width);
    logs_init();
    ev_child_init(&sv->any, any_child_cb, 0, 0);
    ev_child_start(loop, &sv->any);
    ev_timer_init(&sv->memory_timer, memory_cb, MEMORY_CHECK_INTERVAL, MEMORY_CHECK_INTERVAL);
    sv->memory_timer.data = sv;
    return sv;
}

void supervisor_start(struct supervisor *sv)
{
    for (struct ptype *t = sv->types; t != NULL; t = t->next)
        scale_apply(t);
    ev_timer_start(sv->loop, &sv->memory_timer);
}

void supervisor_set_drain_limit(struct supervisor *sv, double seconds)
{
    sv->drain_limit = seconds;
}

void supervisor_stop(struct supervisor *sv, bool now, void (*done)(void *), void *arg)
{
    bool escalate = sv->stopping && now && !sv->stop_now;

    if (done != NULL) {
        sv->done = done;
        sv->done_arg = arg;
    }
    if (sv->stopping && !escalate) {
        supervisor_check_stopped(sv);
        return;
    }
    sv->stopping = true;
    sv->stop_now = now;
    ev_timer_stop(sv->loop, &sv->memory_timer);
    for (struct ptype *t = sv->types; t != NULL; t = t->next) {
        struct instance *in, *next;

        t->rolling = false;
        for (in = t->instances; in != NULL; in = next) {
            next = in->next;
            if (escalate && in->pid > 0) {
                kill(-in->pid, SIGKILL);
                in->killed = true;
            } else if (!escalate) {
                in->retire = true;
                instance_terminate(in);
            }
        }
    }
    supervisor_check_stopped(sv);
}

void supervisor_free(struct supervisor *sv)
{
    if (sv == NULL)
        return;
    while (sv->types != NULL) {
        struct ptype *t = sv->types;

        while (t->instances != NULL) {
            struct instance *in = t->instances;

            if (in->pid > 0)
                kill(-in->pid, SIGKILL);
            instance_free(in);
        }
        ptype_unlink_free(t);
    }
    ev_timer_stop(sv->loop, &sv->memory_timer);
    ev_child_stop(sv->loop, &sv->any);
    logs_close_all();
    hold_put(sv->hold);
    free(sv);
}

/* ---- operations ---- */

bool supervisor_has_type(struct supervisor *sv, const char *type)
{
    return supervisor_find(sv, type) != NULL;
}

int supervisor_scale(struct supervisor *sv, const char *type, int count)
{
    struct ptype *t = supervisor_find(sv, type);

    if (t == NULL || count < 0)
        return -1;
    if (t->want != count)
        log_info("%s: scaling %d → %d", type, t->want, count);
    t->want = count;
    scale_apply(t);
    return 0;
}

int supervisor_restart(struct supervisor *sv, const char *type)
{
    struct ptype *t = supervisor_find(sv, type);

    if (t == NULL)
        return -1;
    if (!t->stopped)
        rolling_start(t);
    return 0;
}

int supervisor_stop_type(struct supervisor *sv, const char *type)
{
    struct ptype *t = supervisor_find(sv, type);

    if (t == NULL)
        return -1;
    if (t->stopped)
        return 0;
    log_info("%s: stopping every instance (stays stopped until start)", type);
    t->stopped = true;
    t->rolling = false;
    for (struct instance *in = t->instances, *next; in != NULL; in = next) {
        next = in->next;
        instance_retire(in);
    }
    return 0;
}

int supervisor_start_type(struct supervisor *sv, const char *type)
{
    struct ptype *t = supervisor_find(sv, type);

    if (t == NULL)
        return -1;
    if (!t->stopped)
        return 0;
    log_info("%s: starting %d instance%s", type, t->want, t->want == 1 ? "" : "s");
    t->stopped = false;
    scale_apply(t);
    return 0;
}

static bool env_equal(const struct plan_type *a, const struct plan_type *b)
{
    if (a->nenv != b->nenv)
        return false;
    for (size_t i = 0; i < a->nenv; i++)
        if (strcmp(a->env[i].key, b->env[i].key) != 0 || strcmp(a->env[i].value, b->env[i].value) != 0)
            return false;
    return true;
}

static bool str_equal(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool settings_equal(const struct conf_process *a, const struct conf_process *b)
{
    return str_equal(a->ready_path, b->ready_path) && a->ready_timeout_ms == b->ready_timeout_ms &&
           a->stop_timeout_ms == b->stop_timeout_ms && a->memory_limit == b->memory_limit &&
           a->restart_min_ms == b->restart_min_ms && a->restart_max_ms == b->restart_max_ms &&
           a->max_inflight == b->max_inflight;
}

void supervisor_reload(struct supervisor *sv, struct plan *plan, struct sbuf *notes)
{
    struct plan_hold *hold = hold_new(plan);

    if (hold == NULL) {
        sbuf_puts(notes, "formation: out of memory, unchanged\n");
        return;
    }
    for (struct ptype *t = sv->types; t != NULL; t = t->next) {
        bool found = false;

        for (size_t i = 0; i < hold->plan.ntypes && !found; i++)
            found = strcmp(hold->plan.types[i].name, t->pt->name) == 0;
        if (found || t->removed)
            continue;
        sbuf_printf(notes, "%s: no longer in the formation: draining and stopping it\n", t->pt->name);
        t->removed = true;
        t->rolling = false;
        for (struct instance *in = t->instances, *next; in != NULL; in = next) {
            next = in->next;
            instance_retire(in);
        }
    }
    for (size_t i = 0; i < hold->plan.ntypes; i++) {
        const struct plan_type *pt = &hold->plan.types[i];
        struct ptype *t = supervisor_find(sv, pt->name);
        const struct plan_type *old;
        bool code, routed;

        if (t == NULL) {
            t = ptype_new(sv, hold, pt);
            if (t == NULL)
                continue;
            sbuf_printf(notes, "%s: new process type, %d instance%s\n", pt->name, pt->count,
                        pt->count == 1 ? "" : "s");
            scale_apply(t);
            continue;
        }
        old = t->pt;
        code = strcmp(old->command, pt->command) != 0 || strcmp(old->dir, pt->dir) != 0 ||
               !env_equal(old, pt);
        routed = old->routed != pt->routed;
        if (!settings_equal(&old->settings, &pt->settings))
            sbuf_printf(notes, "%s: settings changed (new instances and checks use them)\n",
                        pt->name);
        if (old->count != pt->count) {
            sbuf_printf(notes, "%s: instances %d → %d\n", pt->name, old->count, pt->count);
            t->want = pt->count;
        }
        /* From here on t runs from the new plan. */
        hold->refs++;
        hold_put(t->hold);
        t->hold = hold;
        t->pt = pt;
        for (struct instance *in = t->instances; in != NULL; in = in->next)
            if (in->be != NULL)
                atomic_store(&in->be->max_inflight, pt->settings.max_inflight);
        if (routed && !pt->routed) {
            for (struct instance *in = t->instances; in != NULL; in = in->next) {
                if (in->pooled)
                    router_remove_instance(sv->router, in->be);
                in->pooled = false;
            }
        }
        if ((code || (routed && pt->routed)) && !t->stopped) {
            sbuf_printf(notes, "%s: %s changed: rolling restart\n", pt->name,
                        code ? "command or environment" : "routing");
            rolling_start(t);
        }
        scale_apply(t);
    }
    hold_put(sv->hold);
    sv->hold = hold;
}

/* ---- what it looks like ---- */

static uint64_t backend_requests(const struct backend *be)
{
    uint64_t n = 0;

    for (unsigned i = 0; be != NULL && i < be->nslots; i++)
        n += counter_get(&be->slot[i].requests);
    return n;
}

void supervisor_status(struct supervisor *sv, struct jsonw *w)
{
    double now = ev_now(sv->loop);

    jsonw_array_begin(w);
    for (struct ptype *t = sv->types; t != NULL; t = t->next) {
        pid_t pgids[1024];
        unsigned long long rss[1024];
        size_t n = 0, k = 0;

        for (struct instance *in = t->instances; in != NULL && n < 1024; in = in->next)
            pgids[n++] = in->pid;
        instance_rss(pgids, rss, n);
        jsonw_object_begin(w);
        jsonw_key(w, "type");
        jsonw_string(w, t->pt->name);
        jsonw_key(w, "routed");
        jsonw_bool(w, t->pt->routed);
        jsonw_key(w, "stopped");
        jsonw_bool(w, t->stopped);
        jsonw_key(w, "removed");
        jsonw_bool(w, t->removed);
        jsonw_key(w, "want");
        jsonw_int(w, t->want);
        jsonw_key(w, "rolling");
        jsonw_bool(w, t->rolling);
        jsonw_key(w, "restarts");
        jsonw_uint(w, counter_get(&t->restarts));
        jsonw_key(w, "command");
        jsonw_string(w, t->pt->command);
        jsonw_key(w, "instances");
        jsonw_array_begin(w);
        for (struct instance *in = t->instances; in != NULL; in = in->next, k++) {
            jsonw_object_begin(w);
            jsonw_key(w, "name");
            jsonw_string(w, in->name);
            jsonw_key(w, "pid");
            if (in->pid > 0)
                jsonw_int(w, in->pid);
            else
                jsonw_null(w);
            jsonw_key(w, "port");
            jsonw_int(w, in->port);
            jsonw_key(w, "state");
            jsonw_string(w, inst_state_names[in->state]);
            jsonw_key(w, "restarts");
            jsonw_uint(w, in->restarts);
            jsonw_key(w, "uptime_s");
            if (in->pid > 0)
                jsonw_double(w, now - in->started);
            else
                jsonw_null(w);
            jsonw_key(w, "rss_bytes");
            if (in->pid > 0 && k < n)
                jsonw_uint(w, rss[k]);
            else
                jsonw_null(w);
            jsonw_key(w, "inflight");
            jsonw_int(w, in->be != NULL ? backend_inflight(in->be) : 0);
            jsonw_key(w, "requests");
            jsonw_uint(w, backend_requests(in->be));
            jsonw_object_end(w);
        }
        jsonw_array_end(w);
        jsonw_object_end(w);
    }
    jsonw_array_end(w);
}

void supervisor_formation(struct supervisor *sv, struct jsonw *w)
{
    jsonw_object_begin(w);
    for (struct ptype *t = sv->types; t != NULL; t = t->next) {
        if (t->removed)
            continue;
        jsonw_key(w, t->pt->name);
        jsonw_int(w, t->stopped ? 0 : t->want);
    }
    jsonw_object_end(w);
}

void supervisor_metrics(struct supervisor *sv, struct sbuf *out)
{
    sbuf_puts(out, "# HELP drover_instance_restarts_total Crash restarts of a process type's instances.\n"
                   "# TYPE drover_instance_restarts_total counter\n");
    for (struct ptype *t = sv->types; t != NULL; t = t->next) {
        sbuf_puts(out, "drover_instance_restarts_total{type=");
        metrics_label(out, t->pt->name);
        sbuf_printf(out, "} %llu\n", (unsigned long long)counter_get(&t->restarts));
    }
    sbuf_puts(out, "# HELP drover_instances Instances of a process type, by state.\n"
                   "# TYPE drover_instances gauge\n");
    for (struct ptype *t = sv->types; t != NULL; t = t->next) {
        unsigned by_state[5] = {0};

        for (struct instance *in = t->instances; in != NULL; in = in->next)
            by_state[in->state]++;
        for (int s = 0; s < 5; s++) {
            sbuf_puts(out, "drover_instances{type=");
            metrics_label(out, t->pt->name);
            sbuf_printf(out, ",state=\"%s\"} %u\n", inst_state_names[s], by_state[s]);
        }
    }
}
