/* drover as a program: loading the config and the plan, and running them
 * (the composition root: run.c wires the router, the supervisor and the
 * admin API together). Main thread only. */
#ifndef DROVER_CONTROL_CONTROL_H
#define DROVER_CONTROL_CONTROL_H

#include <stdbool.h>
#include <stddef.h>

#define DROVER_VERSION "0.1.0"

struct conf;
struct plan;

/* How `drover run` and `drover check` were asked to start: -c, -d, -m, -p.
 * A reload loads the same way again. */
struct run_options {
    const char *config;         /* -c FILE, or NULL */
    const char *appdir;         /* -d DIR, or NULL for "." */
    const char *formation;      /* -m web=4,worker=1, or NULL */
    const char *port;           /* -p PORT, or NULL */
    bool watch;                 /* --watch: a change under a type's directory rolls it */
};

/* The config (-c FILE, else APPDIR/drover.yaml, else the defaults, with -p
 * applied) and the plan of instances (NULL when there is nothing to
 * supervise). 0, or -1 with the reason (file:line:col) in err. */
int control_load(const struct run_options *o, struct conf **conf, struct plan **plan, char *err,
                 size_t errlen);

/* Calls fn with each line of conf->warnings (an expired certificate...). */
void control_each_warning(const struct conf *conf, void (*fn)(const char *line, void *ctx), void *ctx);
/* Logs them (at a start and a reload). */
void control_log_warnings(const struct conf *conf);

/* `drover run`: starts everything and runs until stopped. The exit code. */
int control_run(const struct run_options *o);

#endif
