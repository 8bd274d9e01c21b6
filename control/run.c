/* A running drover: the wiring of the router, the supervisor (reaching the
 * pools through router_pools) and the admin API, the signals, the drain
 * and the stop, and the main loop. Main thread only. */
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "conf/config.h"
#include "control/admin.h"
#include "control/api.h"
#include "control/internal.h"
#include "lib/log.h"
#include "router/activation.h"
#include "router/backend.h"
#include "router/router.h"
#include "conf/formation.h"
#include "supervisor/supervisor.h"

#define ADMIN_REBIND_DELAY 0.2

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

static bool pool_healthy(const struct pool_member *m)
{
    return atomic_load(&((const struct backend *)m)->up);
}

static long pool_inflight(const struct pool_member *m)
{
    return backend_inflight((struct backend *)m);
}

static uint64_t pool_requests(const struct pool_member *m)
{
    return view_backend_sum((const struct backend *)m, offsetof(struct backend_slot, requests));
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
    .healthy = pool_healthy,
    .inflight = pool_inflight,
    .requests = pool_requests,
    .release = pool_release,
};

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

/* Listeners close, requests in flight finish, then the instances stop;
 * timeouts.drain bounds it all. */
static void start_drain(struct control *ctl)
{
    const struct conf *conf = ctl->router.cref->conf;

    ev_timer_set(&ctl->deadline, (double)conf->timeouts.drain_ms / 1000.0, 0.);
    ev_timer_start(ctl->loop, &ctl->deadline);
    router_drain(&ctl->router, router_stopped, ctl);
}

static void drain_delay_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct control *ctl = t->data;

    (void)loop;
    (void)revents;
    ctl->delaying = false;
    log_info("timeouts.drain_delay passed: draining (new connections are refused)");
    start_drain(ctl);
}

/* The first stop signal: /health and /ready answer 503 from now on. With
 * timeouts.drain_delay drover goes on accepting and serving that long
 * first, since an orchestrator takes the endpoint out of its load
 * balancers while the signal is on its way (Kubernetes does both at
 * once). A second signal stops at once, in the delay too. */
static void stop_signal_cb(struct ev_loop *loop, ev_signal *s, int revents)
{
    struct control *ctl = s->data;
    const struct conf *conf = ctl->router.cref->conf;
    char delay[32];

    (void)revents;
    if (ctl->stops++ == 0) {
        ctl->draining = true;
        control_notify_stopping(ctl);
        if (conf->timeouts.drain_delay_ms > 0) {
            log_info("%s: /ready answers 503; serving on for timeouts.drain_delay (%s) with Connection: "
                     "close on every answer, then draining (a second signal stops at once)",
                     strsignal(s->signum), conf_format_duration(conf->timeouts.drain_delay_ms, delay, sizeof(delay)));
            ctl->delaying = true;
            /* Keep-alive clients leave one answer at a time, to the nodes
             * the balancer still sends to, before the listeners close. */
            router_part(&ctl->router);
            ev_timer_set(&ctl->drain_delay, (double)conf->timeouts.drain_delay_ms / 1000.0, 0.);
            ev_timer_start(loop, &ctl->drain_delay);
            return;
        }
        log_info("%s: draining (a second signal stops at once)", strsignal(s->signum));
        start_drain(ctl);
    } else {
        log_info("%s again: stopping now", strsignal(s->signum));
        ev_timer_stop(loop, &ctl->drain_delay);
        ctl->delaying = false;
        stop_now(ctl);
    }
}

/* SIGUSR1: logrotate has moved the access log away; write a new one. */
static void usr1_cb(struct ev_loop *loop, ev_signal *s, int revents)
{
    struct control *ctl = s->data;
    char err[512];

    (void)loop;
    (void)revents;
    if (router_reopen_access_log(&ctl->router, err, sizeof(err)) < 0)
        log_error("SIGUSR1: %s; still writing to the old file", err);
    else if (ctl->router.access_path != NULL)
        log_info("SIGUSR1: access log %s reopened", ctl->router.access_path);
}

static void hup_cb(struct ev_loop *loop, ev_signal *s, int revents)
{
    struct control *ctl = s->data;
    struct sbuf changes;
    char err[8192];

    (void)loop;
    (void)revents;
    sbuf_init(&changes);
    log_info("SIGHUP: reloading");
    control_reload(ctl, &changes, err, sizeof(err)); /* it logs the outcome */
    sbuf_free(&changes);
}

/* ---- the admin listener ---- */

/* The admin API on addr, answering from api.c. NULL with err. */
static struct admin *admin_open(struct control *ctl, const struct conf_addr *addr, char *err,
                                size_t errlen)
{
    struct admin_api api;

    api_init(&api, ctl);
    return admin_start(ctl->loop, addr, &api, err, errlen);
}

/* At start: the admin API where conf says (nothing when it is off). 0, or
 * -1 with err. */
static int admin_first_open(struct control *ctl, const struct conf *conf, char *err, size_t errlen)
{
    if (!conf->admin.enabled) {
        ctl->admin_addr.text[0] = '\0';
        return 0;
    }
    ctl->admin = admin_open(ctl, &conf->admin.listen, err, errlen);
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
        next = admin_open(ctl, &ctl->admin_next, err, sizeof(err));
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

void control_admin_follow(struct control *ctl, const struct conf *conf)
{
    bool moved = conf->admin.enabled != (ctl->admin_addr.text[0] != '\0') ||
                 (conf->admin.enabled && strcmp(conf->admin.listen.text, ctl->admin_addr.text) != 0);

    if (!moved)
        return;
    ctl->admin_next = conf->admin.listen;
    if (!conf->admin.enabled)
        ctl->admin_next.text[0] = '\0';
    ev_timer_stop(ctl->loop, &ctl->admin_rebind);
    ev_timer_set(&ctl->admin_rebind, ADMIN_REBIND_DELAY, 0.);
    ev_timer_start(ctl->loop, &ctl->admin_rebind);
}

/* ---- running ---- */

static void log_plan(const struct conf *conf)
{
    for (size_t i = 0; i < conf->nlisten; i++)
        if (!conf->listen[i].systemd) /* the router names what systemd passed */
            log_info("listening on %s", conf->listen[i].text);
    for (size_t i = 0; i < conf->nroutes; i++) {
        const struct conf_route *r = &conf->routes[i];
        char backends[512] = "", name[512];
        size_t len = 0;

        for (size_t k = 0; k < r->nbackends && len < sizeof(backends); k++)
            len += (size_t)snprintf(backends + len, sizeof(backends) - len, "%s%s", k ? ", " : "",
                                    r->backends[k].text);
        view_route_name(r, name, sizeof(name));
        log_info("route %s → %s%s (%s)", name, r->process != NULL ? "process " : "",
                 r->process != NULL ? r->process : backends, conf_balance_name(r->balance));
    }
}

/* The supervisor for plan (taken over), created before the first log line
 * so every name lines up; logs where the formation came from. -1 when out
 * of memory. */
static int start_supervisor(struct control *ctl, struct plan *plan, const struct conf *conf)
{
    char from[4096], ignored[4096];

    snprintf(from, sizeof(from), "%s", plan->formation_file);
    snprintf(ignored, sizeof(ignored), "%s", plan->ignored_file != NULL ? plan->ignored_file : "");
    ctl->sv = supervisor_new(ctl->loop, &router_pools, &ctl->router, plan);
    if (ctl->sv == NULL)
        return -1;
    supervisor_set_drain_limit(ctl->sv, (double)conf->timeouts.drain_ms / 1000.0);
    log_info("drover %s starting (pid %d, %d worker%s)", DROVER_VERSION, (int)getpid(),
             conf->workers, conf->workers == 1 ? "" : "s");
    log_info("formation from %s", from);
    if (ignored[0] != '\0')
        log_info("ignoring %s: the Procfile wins", ignored);
    return 0;
}

/* Stopped: a late signal must not kill the cleanup (the exit code of a
 * clean stop is 0). libev restores the default action, or unblocks a
 * signalfd signal, when its watcher stops: ignore first, block around. */
static void stop_signals(struct control *ctl)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGUSR1, SIG_IGN);
    sigprocmask(SIG_BLOCK, &set, NULL);
    ev_signal_stop(ctl->loop, &ctl->term);
    ev_signal_stop(ctl->loop, &ctl->intr);
    ev_signal_stop(ctl->loop, &ctl->hup);
    ev_signal_stop(ctl->loop, &ctl->usr1);
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGUSR1, SIG_IGN);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
}

int control_run(const struct run_options *o)
{
    struct control *ctl = calloc(1, sizeof(*ctl));
    struct plan *plan = NULL;
    struct conf *conf;
    char err[8192];

    if (ctl == NULL)
        return 1;
    /* The environment's sockets first, and nothing of systemd's for the
     * instances: they would read LISTEN_FDS and NOTIFY_SOCKET as theirs. */
    activation_take();
    if (notify_open(&ctl->notify, getenv("NOTIFY_SOCKET"), err, sizeof(err)) < 0)
        fprintf(stderr, "drover: %s; not notifying systemd\n", err);
    unsetenv("NOTIFY_SOCKET");
    ctl->opts = *o;
    if (control_load(o, &conf, &plan, err, sizeof(err)) < 0) {
        fprintf(stderr, "%s\n", err);
        notify_close(&ctl->notify);
        free(ctl);
        return 1;
    }
    operate_log_layout(conf);
    control_log_warnings(conf);
    signal(SIGPIPE, SIG_IGN);
    log_stdout_nonblocking();
    ctl->loop = ev_default_loop(EVBACKEND_EPOLL);
    if (ctl->loop == NULL) {
        fprintf(stderr, "drover: cannot create the event loop (epoll)\n");
        goto fail_conf;
    }
    ctl->started = ev_now(ctl->loop);
    if (plan != NULL) {
        struct plan *p = plan;

        plan = NULL; /* the supervisor's, even when it fails */
        if (start_supervisor(ctl, p, conf) < 0) {
            fprintf(stderr, "drover: out of memory\n");
            goto fail_conf;
        }
        /* A limit drover cannot apply is not dropped in silence. */
        if (supervisor_prepare_limits(ctl->sv, NULL, err, sizeof(err)) < 0) {
            log_error("%s", err);
            fprintf(stderr, "drover: %s\n", err);
            supervisor_free(ctl->sv);
            ev_loop_destroy(ctl->loop);
            goto fail_conf;
        }
    } else {
        log_info("drover %s starting (pid %d, %d worker%s)", DROVER_VERSION, (int)getpid(),
                 conf->workers, conf->workers == 1 ? "" : "s");
    }
    log_plan(conf);
    ev_init(&ctl->admin_rebind, admin_rebind_cb);
    ctl->admin_rebind.data = ctl;
    ev_init(&ctl->deadline, deadline_cb);
    ctl->deadline.data = ctl;
    ev_init(&ctl->drain_delay, drain_delay_cb);
    ctl->drain_delay.data = ctl;
    /* Caught from before the first listener opens: a SIGTERM that comes
     * as soon as the port accepts must drain, not kill (libev runs the
     * callbacks in ev_run, once everything below is up). */
    ev_signal_init(&ctl->term, stop_signal_cb, SIGTERM);
    ev_signal_init(&ctl->intr, stop_signal_cb, SIGINT);
    ev_signal_init(&ctl->hup, hup_cb, SIGHUP);
    ev_signal_init(&ctl->usr1, usr1_cb, SIGUSR1);
    ctl->term.data = ctl->intr.data = ctl->hup.data = ctl->usr1.data = ctl;
    ev_signal_start(ctl->loop, &ctl->usr1);
    ev_signal_start(ctl->loop, &ctl->term);
    ev_signal_start(ctl->loop, &ctl->intr);
    ev_signal_start(ctl->loop, &ctl->hup);
    /* The router takes conf over, even when it fails. */
    if (router_start(&ctl->router, ctl->loop, conf, err, sizeof(err)) < 0 ||
        admin_first_open(ctl, conf, err, sizeof(err)) < 0) {
        log_error("%s", err);
        fprintf(stderr, "drover: %s\n", err);
        stop_signals(ctl);
        router_destroy(&ctl->router);
        supervisor_free(ctl->sv);
        ev_loop_destroy(ctl->loop);
        notify_close(&ctl->notify);
        free(ctl);
        return 1;
    }
    operate_apply(ctl, ctl->router.cref->conf, true);
    if (ctl->sv != NULL)
        supervisor_start(ctl->sv);
    control_notify_start(ctl);

    ev_run(ctl->loop, 0);

    stop_signals(ctl);
    control_notify_stop(ctl);
    ev_timer_stop(ctl->loop, &ctl->drain_delay);
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
    notify_close(&ctl->notify);
    free(ctl);
    return 1;
}
