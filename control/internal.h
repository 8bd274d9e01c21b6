/* The composition root's own header: the running drover (struct control)
 * and the calls between its files, run.c (wiring, signals, drain, the
 * admin listener), load.c, reload.c, view.c and api.c. Not for other
 * rooms. Main thread only. */
#ifndef DROVER_CONTROL_INTERNAL_H
#define DROVER_CONTROL_INTERNAL_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#include "conf/config.h"
#include "control/control.h"
#include "control/notify.h"
#include "lib/sbuf.h"
#include "router/router.h"

struct admin;
struct api_view;
struct backend;
struct supervisor;

struct control {
    struct run_options opts;
    struct ev_loop *loop;
    struct router router;
    struct supervisor *sv;          /* NULL: no formation */
    struct admin *admin;
    struct conf_addr admin_addr;    /* what admin listens on ("" text: disabled) */
    struct conf_addr admin_next;    /* a reload moved it: rebound after the answer */
    ev_timer admin_rebind;
    ev_signal term, intr, hup, usr1;
    ev_timer deadline;              /* timeouts.drain for the whole stop */
    ev_timer drain_delay;           /* timeouts.drain_delay: serving on before the drain */
    struct notifier notify;         /* systemd's NOTIFY_SOCKET */
    int stops;
    bool draining;                  /* a stop signal came: /health and /ready 503 */
    bool delaying;                  /* ... and drain_delay has not passed yet */
    double started;
    uint64_t reloads_ok, reloads_failed;
};

/* reload.c: POST /reload and SIGHUP. Loads and validates the config and
 * the formation the way drover was started, and applies the difference:
 * the router's, the supervisor's, and (after the answer) the admin
 * listener's. Returns 0 with the changes appended to changes, one a line
 * (none: nothing changed), or -1 with the reason in err and the running
 * configuration unchanged (also while draining). */
int control_reload(struct control *ctl, struct sbuf *changes, char *err, size_t errlen);

/* run.c: conf (now in force) may have moved or turned off admin.listen;
 * if so the listener is rebound shortly, after the current answer. */
void control_admin_follow(struct control *ctl, const struct conf *conf);

/* operate.c: the layout of the output (log.timestamps, log.lines) from
 * conf, first thing at start; then, with the supervisor made and before it
 * starts (starting: the state file is applied) and after each reload, the
 * rest: log.keep, log.keep_bytes, app.state_file. */
void operate_log_layout(const struct conf *conf);
void operate_apply(struct control *ctl, const struct conf *conf, bool starting);

/* view.c: the parts of v the answers need, taken from ctl now. Free with
 * view_release; strings point into ctl's config, backends and snapshot
 * until the loop runs again. */
enum {
    VIEW_DROVER = 1,            /* pid, uptime, draining, config, reloads */
    VIEW_ROUTER = 2,            /* counters, listen addresses, backends, request tables */
    VIEW_READY = 4,             /* routes without a healthy backend */
    VIEW_PROCESSES = 8,         /* the supervisor's snapshot */
};
void view_take(struct control *ctl, unsigned parts, struct api_view *v);
void view_release(struct api_view *v);

/* The sum over be's per-worker slots of the counter at offset (offsetof
 * struct backend_slot). */
uint64_t view_backend_sum(const struct backend *be, size_t offset);

/* "*.example.com/api/": how a route is named in logs and in /ready. */
void view_route_name(const struct conf_route *cr, char *buf, size_t len);

#endif
