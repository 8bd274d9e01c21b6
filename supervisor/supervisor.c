/* The supervisor as a whole: its process types, scaling, stopping and
 * starting types, reloading the formation, memory checks, status and
 * metrics. One instance's life is proc.c's; replacements are rolling.c's. */
#include "supervisor/proc.h"

#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/sbuf.h"
#include "supervisor/logs.h"
#include "supervisor/logstore.h"
#include "supervisor/state.h"
#include "supervisor/watch.h"

#define MEMORY_CHECK_INTERVAL 3.0
#define DEFAULT_DRAIN_LIMIT 30.0
#define DEFAULT_LOG_KEEP 1000
#define DEFAULT_LOG_KEEP_BYTES (1024 * 1024)

static void state_cb(struct ev_loop *loop, ev_timer *timer, int revents);
static void state_changed(struct supervisor *sv);

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
    t->generation = 1;
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

/* processes.TYPE.restart_unhealthy: an instance that has failed its health
 * checks that long (hung, SIGSTOPped) is replaced like a rolling restart
 * replaces it: the new one ready first, then the hung one stopped. */
static void health_cb(struct ev_loop *loop, ev_timer *timer, int revents)
{
    struct supervisor *sv = timer->data;
    double now = ev_now(loop);

    (void)revents;
    if (sv->stopping)
        return;
    for (struct ptype *t = sv->types; t != NULL; t = t->next) {
        double limit = (double)t->pt->settings.restart_unhealthy_ms / 1000.0;

        for (struct instance *in = t->instances; in != NULL; in = in->next) {
            struct instance *fresh;

            if (in->state != INST_UP || !in->pooled || in->being_replaced || in->retire ||
                sv->pools->healthy(in->be)) {
                in->unhealthy_since = 0;
                continue;
            }
            if (in->unhealthy_since == 0)
                in->unhealthy_since = now;
            if (limit <= 0 || now - in->unhealthy_since < limit)
                continue;
            fresh = rolling_replace(in);
            log_warn("%s has failed its health checks for %.0fs (restart_unhealthy): replacing it "
                     "with %s",
                     in->name, now - in->unhealthy_since,
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

struct supervisor *supervisor_new(struct ev_loop *loop, const struct pool_ops *pools, void *ctx,
                                  struct plan *plan)
{
    struct supervisor *sv = calloc(1, sizeof(*sv));
    ssize_t n;
    int width = 6;

    if (sv == NULL)
        return NULL;
    sv->loop = loop;
    sv->pools = pools;
    sv->pools_ctx = ctx;
    sv->drain_limit = DEFAULT_DRAIN_LIMIT;
    n = readlink("/proc/self/exe", sv->self, sizeof(sv->self) - 1);
    sv->hold = n > 0 ? hold_new(plan) : NULL;
    sv->logs = logstore_new(DEFAULT_LOG_KEEP, DEFAULT_LOG_KEEP_BYTES);
    if (sv->hold == NULL || sv->logs == NULL) {
        if (sv->hold != NULL)
            hold_put(sv->hold);
        logstore_free(sv->logs);
        free(sv);
        return NULL;
    }
    sv->self[n] = '\0';
    /* Orphans of an instance whose shim was killed come to us, not to init,
     * so they can be stopped (and as PID 1 we reap them anyway). */
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
        log_warn("cannot become a child subreaper: %s", strerror(errno));
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
    ev_timer_init(&sv->health_timer, health_cb, 0.25, 0.25);
    sv->health_timer.data = sv;
    ev_timer_init(&sv->state_timer, state_cb, 0., 0.);
    sv->state_timer.data = sv;
    limits_init(sv);
    return sv;
}

int supervisor_set_shim(struct supervisor *sv, const char *path)
{
    size_t len = strlen(path);

    if (len >= sizeof(sv->self))
        return -1;
    memcpy(sv->self, path, len + 1);
    return 0;
}

void supervisor_start(struct supervisor *sv)
{
    sv->started = true;
    supervisor_watch(sv, sv->watch_all);
    for (struct ptype *t = sv->types; t != NULL; t = t->next)
        scale_apply(t);
    ev_timer_start(sv->loop, &sv->memory_timer);
    ev_timer_start(sv->loop, &sv->health_timer);
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
    watch_free(sv->watch); /* nothing rolls while stopping */
    sv->watch = NULL;
    ev_timer_stop(sv->loop, &sv->memory_timer);
    ev_timer_stop(sv->loop, &sv->health_timer);
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
    if (ev_is_active(&sv->state_timer))
        state_cb(sv->loop, &sv->state_timer, 0); /* a change not written yet */
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
    ev_timer_stop(sv->loop, &sv->health_timer);
    ev_child_stop(sv->loop, &sv->any);
    limits_free(sv);
    watch_free(sv->watch);
    logs_close_all();
    logstore_free(sv->logs);
    free(sv->state_file);
    hold_put(sv->hold);
    free(sv);
}

/* ---- what outlives a restart: log rings, the state file ---- */

void supervisor_set_log_keep(struct supervisor *sv, size_t keep, size_t keep_bytes)
{
    logstore_set_limits(sv->logs, keep, keep_bytes);
}

struct logstore *supervisor_logs(struct supervisor *sv)
{
    return sv->logs;
}

/* Writes the state file: what each type runs that its config does not. */
static void state_cb(struct ev_loop *loop, ev_timer *timer, int revents)
{
    struct supervisor *sv = timer->data;
    struct state st = {NULL, 0};
    char err[1024];
    bool oom = false;

    (void)revents;
    ev_timer_stop(loop, timer);
    if (sv->state_file == NULL)
        return;
    for (struct ptype *t = sv->types; t != NULL; t = t->next)
        if (!t->removed &&
            state_set(&st, t->pt->name, t->want != t->pt->count ? t->want : -1, t->pt->count,
                      t->stopped) < 0)
            oom = true;
    if (oom)
        log_warn("state file %s not written: out of memory", sv->state_file);
    else if (state_save(sv->state_file, &st, err, sizeof(err)) < 0)
        log_warn("state file not written: %s", err);
    state_free(&st);
}

/* Scale, stop, start or a reload changed what runs: the file is written
 * once this loop iteration is over (one write for many changes). */
static void state_changed(struct supervisor *sv)
{
    if (sv->state_file != NULL && !ev_is_active(&sv->state_timer)) {
        ev_timer_set(&sv->state_timer, 0., 0.);
        ev_timer_start(sv->loop, &sv->state_timer);
    }
}

/* What the state file says, applied to every type before it starts. */
static void state_apply(struct supervisor *sv)
{
    struct state st = {NULL, 0};
    char err[1024];
    bool stale = false;

    if (state_load(sv->state_file, &st, err, sizeof(err)) < 0) {
        log_warn("state file %s; ignored", err);
        return;
    }
    for (struct ptype *t = sv->types; t != NULL; t = t->next) {
        struct state_verdict v;

        state_lookup(&st, t->pt->name, t->pt->count, &v);
        if (v.instances >= 0 && v.instances != t->want) {
            log_info("state file %s: %s runs %d instance%s, not %d (drover scale)", sv->state_file,
                     t->pt->name, v.instances, v.instances == 1 ? "" : "s", t->want);
            t->want = v.instances;
        }
        if (v.stale >= 0) {
            log_info("state file %s: %s's scale to %d no longer holds: the config's count changed "
                     "from %d to %d",
                     sv->state_file, t->pt->name, v.stale, v.stale_config, t->pt->count);
            stale = true;
        }
        if (v.stopped) {
            log_info("state file %s: %s stays stopped (drover start %s starts it)", sv->state_file,
                     t->pt->name, t->pt->name);
            t->stopped = true;
        }
    }
    state_free(&st);
    if (stale)
        state_changed(sv);
}

void supervisor_set_state_file(struct supervisor *sv, const char *path, bool apply)
{
    free(sv->state_file);
    sv->state_file = path != NULL ? strdup(path) : NULL;
    if (path != NULL && sv->state_file == NULL)
        log_error("state file %s: out of memory: not used", path);
    if (apply && sv->state_file != NULL)
        state_apply(sv);
    else
        state_changed(sv); /* a reload: the file (maybe a new one) gets what runs now */
}

/* ---- watch mode ---- */

/* A burst of changes under a type's watched paths: it rolls. */
static void watched_change(void *ctx, const char *key, unsigned n, const char *path)
{
    struct supervisor *sv = ctx;
    struct ptype *t = supervisor_find(sv, key);

    if (t == NULL || t->stopped || sv->stopping)
        return;
    log_info("%s: %u change%s under its watched paths (%s): rolling restart", key, n,
             n == 1 ? "" : "s", path);
    rolling_start(t);
}

void supervisor_watch(struct supervisor *sv, bool all)
{
    char err[1024];
    size_t npaths = 0;

    sv->watch_all = all;
    if (!sv->started || sv->stopping)
        return;
    watch_free(sv->watch);
    sv->watch = NULL;
    for (struct ptype *t = sv->types; t != NULL; t = t->next) {
        const struct conf_process *s = &t->pt->settings;

        if (t->removed || (!all && s->nwatch == 0))
            continue;
        if (sv->watch == NULL) {
            sv->watch = watch_new(sv->loop, WATCH_DEBOUNCE, WATCH_MAX_DELAY, watched_change, sv, err,
                                  sizeof(err));
            if (sv->watch == NULL) {
                log_warn("watch mode is off: %s", err);
                return;
            }
            if (sv->state_file != NULL)
                watch_skip(sv->watch, sv->state_file);
        }
        for (size_t i = 0; i <= s->nwatch; i++) {
            const char *path = i < s->nwatch ? s->watch[i] : all ? t->pt->dir : NULL;

            if (path == NULL)
                continue;
            if (watch_add(sv->watch, t->pt->name, path, err, sizeof(err)) < 0)
                log_warn("%s: cannot watch %s", t->pt->name, err);
            else
                npaths++;
        }
    }
    if (sv->watch != NULL)
        log_info("watch mode: %zu path%s, %zu director%s watched for changes", npaths,
                 npaths == 1 ? "" : "s", watch_count(sv->watch), watch_count(sv->watch) == 1 ? "y" : "ies");
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
    state_changed(sv);
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
    state_changed(sv);
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
    state_changed(sv);
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

static bool watch_equal(const struct conf_process *a, const struct conf_process *b)
{
    if (a->nwatch != b->nwatch)
        return false;
    for (size_t i = 0; i < a->nwatch; i++)
        if (strcmp(a->watch[i], b->watch[i]) != 0)
            return false;
    return true;
}

static bool settings_equal(const struct conf_process *a, const struct conf_process *b)
{
    return str_equal(a->ready_path, b->ready_path) && a->ready_timeout_ms == b->ready_timeout_ms &&
           a->stop_timeout_ms == b->stop_timeout_ms && a->memory_limit == b->memory_limit &&
           a->restart_min_ms == b->restart_min_ms && a->restart_max_ms == b->restart_max_ms &&
           a->max_inflight == b->max_inflight && a->restart_unhealthy_ms == b->restart_unhealthy_ms &&
           watch_equal(a, b) && a->cpu_milli == b->cpu_milli && a->memory_max == b->memory_max;
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
        if (old->settings.cpu_milli != pt->settings.cpu_milli ||
            old->settings.memory_max != pt->settings.memory_max)
            sbuf_printf(notes, "%s: cpu or memory_max changed: new instances get the new limits; "
                               "`drover restart %s` applies them to the running ones\n",
                        pt->name, pt->name);
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
                sv->pools->set_max_inflight(in->be, pt->settings.max_inflight);
        if (routed && !pt->routed) {
            for (struct instance *in = t->instances; in != NULL; in = in->next) {
                if (in->pooled)
                    sv->pools->leave(sv->pools_ctx, in->be);
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
    state_changed(sv);
}

size_t supervisor_pids(struct supervisor *sv, pid_t *out, size_t max)
{
    size_t n = 0;

    for (struct ptype *t = sv->types; t != NULL; t = t->next)
        for (struct instance *in = t->instances; in != NULL && n < max; in = in->next)
            if (in->pid > 0)
                out[n++] = in->pid;
    return n;
}

/* ---- what it looks like ---- */

struct sv_snapshot *supervisor_snapshot(struct supervisor *sv)
{
    double now = ev_now(sv->loop);
    size_t ntypes = 0, ninst = 0, strbytes = 0, size;
    struct sv_snapshot *snap;
    struct sv_instance_view *iv;
    char *str;

    for (struct ptype *t = sv->types; t != NULL; t = t->next, ntypes++) {
        strbytes += strlen(t->pt->name) + strlen(t->pt->command) + 2;
        for (struct instance *in = t->instances; in != NULL; in = in->next, ninst++)
            strbytes += strlen(in->name) + strlen(in->exit_how) + 2;
    }
    size = sizeof(*snap) + ntypes * sizeof(struct sv_type_view) +
           ninst * sizeof(struct sv_instance_view) + strbytes;
    snap = calloc(1, size);
    if (snap == NULL)
        return NULL;
    snap->ntypes = ntypes;
    snap->types = (struct sv_type_view *)(snap + 1);
    iv = (struct sv_instance_view *)(snap->types + ntypes);
    str = (char *)(iv + ninst);

    size_t k = 0;
    for (struct ptype *t = sv->types; t != NULL; t = t->next, k++) {
        struct sv_type_view *tv = &snap->types[k];
        pid_t pgids[1024];
        unsigned long long rss[1024];
        size_t n = 0;

        for (struct instance *in = t->instances; in != NULL && n < 1024; in = in->next)
            pgids[n++] = in->pid;
        instance_rss(pgids, rss, n);
        tv->type = strcpy(str, t->pt->name);
        str += strlen(str) + 1;
        tv->command = strcpy(str, t->pt->command);
        str += strlen(str) + 1;
        tv->routed = t->pt->routed;
        tv->stopped = t->stopped;
        tv->removed = t->removed;
        tv->rolling = t->rolling;
        tv->want = t->stopped ? 0 : t->want;
        tv->configured = t->pt->count;
        tv->restarts = counter_get(&t->restarts);
        tv->generation = t->generation;
        tv->instances = iv;
        size_t j = 0;
        for (struct instance *in = t->instances; in != NULL; in = in->next, j++) {
            struct sv_instance_view *v = &iv[tv->ninstances++];

            v->name = strcpy(str, in->name);
            str += strlen(str) + 1;
            v->pgid = in->pid > 0 ? in->pid : 0;
            v->pid = in->pid > 0 ? family_app_pid(in->pid) : 0;
            if (v->pid == 0)
                v->pid = v->pgid;
            v->port = in->port;
            v->state = inst_state_names[in->state];
            v->restarts = in->restarts;
            v->uptime_s = in->pid > 0 ? now - in->started : 0;
            v->rss_bytes = in->pid > 0 && j < n ? (long long)rss[j] : -1;
            v->inflight = in->be != NULL ? sv->pools->inflight(in->be) : 0;
            v->requests = in->be != NULL ? sv->pools->requests(in->be) : 0;
            v->exit_how = NULL;
            if (in->exit_how[0] != '\0') {
                v->exit_how = strcpy(str, in->exit_how);
                str += strlen(str) + 1;
                v->exit_how_ago_s = now - in->exit_how_at;
            }
            v->generation = in->generation;
            v->exit_at = in->exit_at;
            v->exit_code = -1;
            if (in->exit_at > 0 && WIFEXITED(in->exit_status))
                v->exit_code = WEXITSTATUS(in->exit_status);
            if (in->exit_at > 0 && WIFSIGNALED(in->exit_status))
                v->exit_signal = WTERMSIG(in->exit_status);
            tv->by_state[in->state]++;
        }
        iv += tv->ninstances;
    }
    return snap;
}
