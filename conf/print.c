/* conf/print.c: what `drover check` prints: the resolved config in the
 * order drover.yaml is documented (conf_print_plan), then the plan of
 * process types and instances (plan_print), values in one column. */
#include "conf/config.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "conf/formation.h"
#include "conf/internal.h"
#include "lib/path.h"

#define PLAN_COL 16 /* where values start, in both tables */
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

/* "A, B, C" and a line end: names only, as values are often secrets. */
static void print_env_names(const struct conf_kv *env, size_t n, FILE *out)
{
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s%s", i > 0 ? ", " : "", env[i].key);
    fputc('\n', out);
}

/* "host/path", "*.suffix/path" or "/path", as the routes table shows it. */
static void route_label(const struct conf_route *r, char *buf, size_t len)
{
    if (r->host_match == HOST_EXACT)
        snprintf(buf, len, "%s%s", r->host, r->path);
    else if (r->host_match == HOST_SUFFIX)
        snprintf(buf, len, "*%s%s", r->host, r->path);
    else
        snprintf(buf, len, "%s", r->path);
}

/* One processes.<type> entry: what drover.yaml set, or the default. */
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
    plan_sub(out, "", "cpu", "%s", p->cpu_milli > 0 ? conf_format_cpus(p->cpu_milli, a, sizeof(a)) : "no limit");
    plan_sub(out, "", "memory_max", "%s",
             p->memory_max > 0 ? conf_format_size(p->memory_max, a, sizeof(a)) : "no limit");
    plan_sub(out, "", "restart", "back-off %s .. %s", conf_format_duration(p->restart_min_ms, a, sizeof(a)),
             conf_format_duration(p->restart_max_ms, b, sizeof(b)));
    if (p->max_inflight > 0)
        plan_sub(out, "", "max_inflight", "%u per instance", p->max_inflight);
    else
        plan_sub(out, "", "max_inflight", "unlimited");
    if (p->nenv > 0) {
        fprintf(out, "%-*s%-*s", PLAN_COL, "", PLAN_KEY, "env");
        print_env_names(p->env, p->nenv, out);
    }
    if (p->nwatch > 0) {
        fprintf(out, "%-*s%-*s", PLAN_COL, "", PLAN_KEY, "watch");
        for (size_t i = 0; i < p->nwatch; i++)
            fprintf(out, "%s%s", i > 0 ? ", " : "", p->watch[i]);
        fputc('\n', out);
    }
}

/* One line per route, the arrows lined up after the widest label. */
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
    static const char *const tnames[] = {"connect", "client_header", "client_body", "upstream", "idle",
                                         "queue",   "drain",         "drain_delay", "tunnel"};
    const struct conf_timeouts *t = &c->timeouts;
    const int64_t tvals[] = {t->connect_ms, t->client_header_ms, t->client_body_ms, t->upstream_ms, t->idle_ms,
                             t->queue_ms,   t->drain_ms,         t->drain_delay_ms, t->tunnel_ms};
    char a[32], b[32];

    if (c->file != NULL)
        plan_row(out, "config", "%s (dir %s)", c->file, c->dir);
    else
        plan_row(out, "config", "none: defaults");
    for (size_t i = 0; i < c->nlisten; i++) {
        const struct conf_listen_opts *o = &c->listen[i].opts;
        char trusted[CONF_MAX_TRUSTED * (INET6_ADDRSTRLEN + 6)];
        size_t n = 0;

        trusted[0] = '\0';
        for (unsigned k = 0; k < o->ntrusted && n < sizeof(trusted); k++) {
            char ip[INET6_ADDRSTRLEN];

            inet_ntop(o->trusted[k].family, o->trusted[k].addr, ip, sizeof(ip));
            n += (size_t)snprintf(trusted + n, sizeof(trusted) - n, "%s%s/%u", k > 0 ? ", " : "", ip,
                                  o->trusted[k].bits);
        }
        if (o->proxy_protocol)
            plan_row(out, i == 0 ? "listen" : "", "%s (PROXY protocol from %s)", c->listen[i].text,
                     trusted);
        else if (o->tls != NULL)
            plan_row(out, i == 0 ? "listen" : "", "%s (TLS %s to %s)", c->listen[i].text,
                     o->tls->min_version == CONF_TLS_V13 ? "1.3" : "1.2",
                     o->tls->max_version == CONF_TLS_V13 ? "1.3" : "1.2");
        else
            plan_row(out, i == 0 ? "listen" : "", "%s%s", c->listen[i].text,
                     c->listen[i].systemd ? " (sockets passed by systemd)" : "");
        for (size_t k = 0; o->tls != NULL && k < o->tls->ncerts; k++) {
            const struct conf_tls_cert *ct = &o->tls->certs[k];
            char names[256];
            size_t m = 0;

            names[0] = '\0';
            for (size_t j = 0; j < ct->nnames && m < sizeof(names); j++)
                m += (size_t)snprintf(names + m, sizeof(names) - m, "%s%s", j > 0 ? " " : "", ct->names[j]);
            /* Keyed by its path: a reload's diff tells one certificate from another. */
            plan_row(out, "", "  %s: %s%s", ct->cert, ct->nnames > 0 ? names : "no DNS names",
                     k == 0 ? " (default)" : "");
        }
    }
    plan_row(out, "workers", "%d", c->workers);
    if (!c->admin.enabled)
        plan_row(out, "admin", "off");
    else
        plan_row(out, "admin", "%s (%s%s)", c->admin.listen.text,
                 c->admin.token != NULL && *c->admin.token != '\0' ? "bearer token required" : "no token",
                 c->admin.dashboard ? "; dashboard at /" : "");
    plan_sub(out, "app", "dir", "%s", c->app.dir);
    plan_sub(out, "", "procfile", "%s",
             c->app.procfile != NULL ? c->app.procfile : "auto: Procfile, else app_desc.yaml");
    plan_sub(out, "", "env_file", "%s", c->app.env_file != NULL ? c->app.env_file : "none");
    plan_sub(out, "", "base_port", "%d", c->app.base_port);
    plan_sub(out, "", "state_file", "%s", c->app.state_file != NULL ? c->app.state_file : "none");
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
    for (size_t i = 0; i < 9; i++)
        plan_sub(out, i == 0 ? "timeouts" : "", tnames[i], "%s", conf_format_duration(tvals[i], a, sizeof(a)));
    plan_sub(out, "limits", "max_connections", "%u", c->limits.max_connections);
    plan_sub(out, "", "max_header_bytes", "%s", conf_format_size(c->limits.max_header_bytes, a, sizeof(a)));
    plan_sub(out, "", "max_body_bytes", "%s",
             c->limits.max_body_bytes > 0 ? conf_format_size(c->limits.max_body_bytes, b, sizeof(b)) : "unlimited");
    plan_sub(out, "", "max_queue", "%u", c->limits.max_queue);
    plan_sub(out, "log", "access", "%s", c->log.access);
    plan_sub(out, "", "format", "%s", c->log.format == LOG_FORMAT_JSON ? "json" : "text");
    plan_sub(out, "", "keep", "%u lines, %s per instance", c->log.keep,
             conf_format_size(c->log.keep_bytes, a, sizeof(a)));
    plan_sub(out, "", "timestamps", "%s", c->log.timestamps ? "yes" : "no");
    plan_sub(out, "", "lines", "%s", c->log.json_lines ? "json" : "text");
}

/* A command on one line: control characters shown escaped. */
static void print_command(const char *s, FILE *out)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '\n')
            fputs("\\n", out);
        else if (c == '\t')
            fputs("\\t", out);
        else if (c < 0x20 || c == 0x7f)
            fprintf(out, "\\x%02x", c);
        else
            fputc(c, out);
    }
    fputc('\n', out);
}

/* The formation, then per type a summary and per instance its port and
 * command; the first column widens for long type names. */
void plan_print(const struct plan *p, FILE *out)
{
    int w = PLAN_COL;
    char label[PLAN_COL + 96], a[32], b[32], c[32];

    /* Long type names push the column out for the whole table. */
    for (size_t i = 0; i < p->ntypes; i++) {
        int n = snprintf(label, sizeof(label), "  %s.%d", p->types[i].name, p->types[i].count) + 2;
        int m = snprintf(label, sizeof(label), "%s x%d", p->types[i].name, p->types[i].count) + 2;

        if (n > w)
            w = n;
        if (m > w)
            w = m;
    }
    if (p->formation_file == NULL)
        fprintf(out, "%-*snone\n", w, "formation");
    else if (p->ignored_file != NULL)
        fprintf(out, "%-*s%s (%s ignored: the %s wins)\n", w, "formation", p->formation_file,
                path_base(p->ignored_file), path_base(p->formation_file));
    else
        fprintf(out, "%-*s%s\n", w, "formation", p->formation_file);

    for (size_t i = 0; i < p->ntypes; i++) {
        const struct plan_type *t = &p->types[i];
        const struct conf_process *s = &t->settings;

        snprintf(label, sizeof(label), "%s x%d", t->name, t->count);
        fprintf(out, "%-*s", w, label);
        if (!t->routed)
            fprintf(out, "not routed");
        else if (s->ready_path != NULL)
            fprintf(out, "routed, ready: HTTP GET %s within %s", s->ready_path,
                    conf_format_duration(s->ready_timeout_ms, a, sizeof(a)));
        else
            fprintf(out, "routed, ready: TCP connect within %s",
                    conf_format_duration(s->ready_timeout_ms, a, sizeof(a)));
        if (s->command != NULL)
            fprintf(out, ", command from drover.yaml");
        fputc('\n', out);
        fprintf(out, "%-*sdir %s, stop_timeout %s, restart back-off %s..%s", w, "", t->dir != NULL ? t->dir : "?",
                conf_format_duration(s->stop_timeout_ms, a, sizeof(a)),
                conf_format_duration(s->restart_min_ms, b, sizeof(b)),
                conf_format_duration(s->restart_max_ms, c, sizeof(c)));
        if (s->memory_limit > 0)
            fprintf(out, ", memory_limit %s", conf_format_size(s->memory_limit, a, sizeof(a)));
        if (s->cpu_milli > 0)
            fprintf(out, ", cpu %s", conf_format_cpus(s->cpu_milli, a, sizeof(a)));
        if (s->memory_max > 0)
            fprintf(out, ", memory_max %s", conf_format_size(s->memory_max, a, sizeof(a)));
        if (s->max_inflight > 0)
            fprintf(out, ", max_inflight %u", s->max_inflight);
        if (s->restart_unhealthy_ms != 30000)
            fprintf(out, ", restart_unhealthy %s",
                    s->restart_unhealthy_ms > 0 ? conf_format_duration(s->restart_unhealthy_ms, a, sizeof(a))
                                                : "never");
        fputc('\n', out);
        if (t->nenv > 0) {
            fprintf(out, "%-*senv ", w, "");
            print_env_names(t->env, t->nenv, out);
        }
        for (int slot = 0; slot < t->count; slot++) {
            snprintf(label, sizeof(label), "  %s.%d", t->name, slot + 1);
            fprintf(out, "%-*sport %-5d  ", w, label, plan_port(p, t, slot));
            print_command(t->command != NULL ? t->command : "", out);
        }
    }
}

