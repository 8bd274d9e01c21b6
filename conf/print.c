/* conf/print.c: what `drover check` prints: the resolved config, in the
 * order drover.yaml is documented. */
#include "conf/config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "conf/internal.h"

#define PLAN_COL 16 /* where values start */
#define PLAN_KEY 18 /* width of the keys inside a section */

static void plan_line(FILE *out, const char *label, const char *key, const char *fmt, va_list ap)
{
    if (key != NULL)
        fprintf(out, "%-*s%-*s", PLAN_COL, label, PLAN_KEY, key);
    else
        fprintf(out, "%-*s", PLAN_COL, label);
    vfprintf(out, fmt, ap);
    fputc('\n', out);
}

/* "label           value": values line up across sections. */
__attribute__((format(printf, 3, 4)))
static void plan_row(FILE *out, const char *label, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    plan_line(out, label, NULL, fmt, ap);
    va_end(ap);
}

/* "label           key               value", inside a section. */
__attribute__((format(printf, 4, 5)))
static void plan_sub(FILE *out, const char *label, const char *key, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    plan_line(out, label, key, fmt, ap);
    va_end(ap);
}

static void route_label(const struct conf_route *r, char *buf, size_t len)
{
    if (r->host_match == HOST_EXACT)
        snprintf(buf, len, "%s%s", r->host, r->path);
    else if (r->host_match == HOST_SUFFIX)
        snprintf(buf, len, "*%s%s", r->host, r->path);
    else
        snprintf(buf, len, "%s", r->path);
}

static void print_process(const struct conf_process *p, FILE *out)
{
    char a[32], b[32];
    char label[PLAN_COL + 64];

    snprintf(label, sizeof(label), "  %s", p->name);
    if (p->instances < 0)
        plan_sub(out, label, "instances", "default (1, or -m)");
    else
        plan_sub(out, label, "instances", "%d", p->instances);
    plan_sub(out, "", "command", "%s", p->command != NULL ? p->command : "from the Procfile");
    if (p->ready_path != NULL)
        plan_sub(out, "", "ready", "GET %s within %s", p->ready_path,
                 conf_format_duration(p->ready_timeout_ms, a, sizeof(a)));
    else
        plan_sub(out, "", "ready", "TCP connect within %s", conf_format_duration(p->ready_timeout_ms, a, sizeof(a)));
    plan_sub(out, "", "stop_timeout", "%s", conf_format_duration(p->stop_timeout_ms, a, sizeof(a)));
    plan_sub(out, "", "memory_limit", "%s",
             p->memory_limit > 0 ? conf_format_size(p->memory_limit, a, sizeof(a)) : "none");
    plan_sub(out, "", "restart", "back-off %s .. %s", conf_format_duration(p->restart_min_ms, a, sizeof(a)),
             conf_format_duration(p->restart_max_ms, b, sizeof(b)));
    if (p->max_inflight > 0)
        plan_sub(out, "", "max_inflight", "%u per instance", p->max_inflight);
    else
        plan_sub(out, "", "max_inflight", "unlimited");
    if (p->nenv > 0) {
        /* Names only: values are often secrets. */
        fprintf(out, "%-*s%-*s", PLAN_COL, "", PLAN_KEY, "env");
        for (size_t i = 0; i < p->nenv; i++)
            fprintf(out, "%s%s", i > 0 ? ", " : "", p->env[i].key);
        fputc('\n', out);
    }
}

static void print_routes(const struct conf *c, FILE *out)
{
    char label[320];
    int width = 0;

    for (size_t i = 0; i < c->nroutes; i++) {
        route_label(&c->routes[i], label, sizeof(label));
        if ((int)strlen(label) > width)
            width = (int)strlen(label);
    }
    fprintf(out, "routes\n");
    for (size_t i = 0; i < c->nroutes; i++) {
        const struct conf_route *r = &c->routes[i];

        route_label(r, label, sizeof(label));
        fprintf(out, "  %-*s  -> ", width, label);
        if (r->process != NULL) {
            fprintf(out, "process %s", r->process);
        } else {
            for (size_t k = 0; k < r->nbackends; k++)
                fprintf(out, "%s%s", k > 0 ? ", " : "", r->backends[k].text);
        }
        fprintf(out, "  (%s", conf_balance_name(r->balance));
        if (r->strip_prefix)
            fprintf(out, ", strip_prefix");
        if (r->process == NULL && r->max_inflight > 0)
            fprintf(out, ", max_inflight %u per backend", r->max_inflight);
        fprintf(out, ")\n");
    }
}

void conf_print_plan(const struct conf *c, FILE *out)
{
    static const char *const tnames[] = {"connect", "client_header", "client_body", "upstream",
                                         "idle",    "queue",         "drain",       "tunnel"};
    const struct conf_timeouts *t = &c->timeouts;
    const int64_t tvals[] = {t->connect_ms, t->client_header_ms, t->client_body_ms, t->upstream_ms,
                             t->idle_ms,    t->queue_ms,         t->drain_ms,       t->tunnel_ms};
    char a[32], b[32];

    if (c->file != NULL)
        plan_row(out, "config", "%s (dir %s)", c->file, c->dir);
    else
        plan_row(out, "config", "none: defaults");
    for (size_t i = 0; i < c->nlisten; i++)
        plan_row(out, i == 0 ? "listen" : "", "%s", c->listen[i].text);
    plan_row(out, "workers", "%d", c->workers);
    if (!c->admin.enabled)
        plan_row(out, "admin", "off");
    else
        plan_row(out, "admin", "%s (%s)", c->admin.listen.text,
                 c->admin.token != NULL && *c->admin.token != '\0' ? "bearer token required" : "no token");
    plan_sub(out, "app", "dir", "%s", c->app.dir);
    plan_sub(out, "", "procfile", "%s", c->app.procfile != NULL ? c->app.procfile : "auto: Procfile, else app_desc.yaml");
    plan_sub(out, "", "env_file", "%s", c->app.env_file != NULL ? c->app.env_file : "none");
    plan_sub(out, "", "base_port", "%d", c->app.base_port);
    if (c->nprocesses == 0)
        plan_row(out, "processes", "defaults for every type");
    else
        fprintf(out, "processes\n");
    for (size_t i = 0; i < c->nprocesses; i++)
        print_process(&c->processes[i], out);
    print_routes(c, out);
    plan_row(out, "balance", "%s", conf_balance_name(c->balance));
    if (c->health.path != NULL)
        plan_sub(out, "health", "check", "GET %s", c->health.path);
    else
        plan_sub(out, "health", "check", "TCP connect");
    plan_sub(out, "", "interval", "%s", conf_format_duration(c->health.interval_ms, a, sizeof(a)));
    plan_sub(out, "", "timeout", "%s", conf_format_duration(c->health.timeout_ms, a, sizeof(a)));
    plan_sub(out, "", "rise, fall", "%d, %d", c->health.rise, c->health.fall);
    plan_row(out, "retries", "%d", c->retries);
    for (size_t i = 0; i < 8; i++)
        plan_sub(out, i == 0 ? "timeouts" : "", tnames[i], "%s", conf_format_duration(tvals[i], a, sizeof(a)));
    plan_sub(out, "limits", "max_connections", "%u", c->limits.max_connections);
    plan_sub(out, "", "max_header_bytes", "%s", conf_format_size(c->limits.max_header_bytes, a, sizeof(a)));
    plan_sub(out, "", "max_body_bytes", "%s",
             c->limits.max_body_bytes > 0 ? conf_format_size(c->limits.max_body_bytes, b, sizeof(b)) : "unlimited");
    plan_sub(out, "", "max_queue", "%u", c->limits.max_queue);
    plan_sub(out, "log", "access", "%s", c->log.access);
    plan_sub(out, "", "format", "%s", c->log.format == LOG_FORMAT_JSON ? "json" : "text");
}
