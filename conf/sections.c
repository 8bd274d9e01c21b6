/* conf/sections.c: the top level of drover.yaml and its small sections
 * (listen, workers, admin, app, balance, health, retries, timeouts,
 * limits, log); processes.c and routes.c read the two large ones. */
#include "conf/config.h"

#include <stdio.h>
#include <string.h>

#include "conf/internal.h"
#include "lib/cpus.h"

/* listen: "systemd" takes every passed socket, so a "systemd:NAME" beside
 * it would take one of them twice. */
static void check_systemd_listen(struct loader *ld)
{
    const struct conf *c = ld->conf;
    const struct conf_addr *all = NULL;

    for (size_t i = 0; i < c->nlisten && all == NULL; i++)
        if (c->listen[i].systemd && conf_addr_fdname(&c->listen[i]) == NULL)
            all = &c->listen[i];
    for (size_t i = 0; all != NULL && i < c->nlisten; i++)
        if (c->listen[i].systemd && conf_addr_fdname(&c->listen[i]) != NULL)
            schema_fail_at(ld, c->listen[i].line, c->listen[i].col,
                           "listen: %s is taken already by \"systemd\" (every passed socket, at %d:%d)",
                           c->listen[i].text, all->line, all->col);
}

/* A number of event loops, or "auto": one per CPU the affinity mask and
 * the cgroup quota allow (at most 256). */
static void load_workers(struct loader *ld, const yaml_node_t *n)
{
    long long v;
    const char *s;

    if (n == NULL || (s = value_text(ld, n, "workers", "an integer or \"auto\"")) == NULL)
        return;
    if (strcmp(s, "auto") != 0 && !conf_all_digits(s)) {
        schema_fail(ld, n, "workers: expected an integer or \"auto\", got \"%.60s\"", s);
        return;
    }
    if (strcmp(s, "auto") == 0) {
        int cpus = cpus_usable("");

        ld->conf->workers = cpus > 256 ? 256 : cpus;
        return;
    }
    if (value_int_from_text(ld, n, s, "workers", 1, 256, &v))
        ld->conf->workers = (int)v;
}

static void load_admin(struct loader *ld, const yaml_node_t *n)
{
    static const char *const keys[] = {"listen", "token", "dashboard"};
    struct conf *c = ld->conf;
    yaml_node_t *v[3];
    char *s;

    if (!schema_keys(ld, n, "admin", keys, 3, v))
        return;
    value_set_bool(ld, v[2], "admin.dashboard", &c->admin.dashboard);
    if (v[1] != NULL && (s = value_text(ld, v[1], "admin.token", "a string")) != NULL)
        c->admin.token = *s != '\0' ? s : NULL;
    if (v[0] == NULL || (s = value_text(ld, v[0], "admin.listen", "an address or off")) == NULL)
        return;
    if (strcmp(s, "off") == 0 || strcmp(s, "false") == 0 || strcmp(s, "no") == 0) {
        c->admin.enabled = false;
        return;
    }
    if (!value_addr_from_text(ld, v[0], s, "admin.listen", false, &c->admin.listen))
        return;
    /* The admin API can scale and stop processes: open to the network only
     * behind a token. */
    if (c->admin.token == NULL && !conf_addr_is_loopback(&c->admin.listen))
        schema_fail(ld, v[0], "admin.listen: %s is not a loopback address; set admin.token to expose it",
                    c->admin.listen.text);
}

static void load_app(struct loader *ld, const yaml_node_t *n)
{
    static const char *const keys[] = {"dir", "procfile", "env_file", "base_port", "state_file"};
    struct conf *c = ld->conf;
    yaml_node_t *v[5];

    if (!schema_keys(ld, n, "app", keys, 5, v))
        return;
    value_set_file(ld, v[0], "app.dir", false, &c->app.dir);
    value_set_file(ld, v[1], "app.procfile", true, &c->app.procfile);
    value_set_file(ld, v[2], "app.env_file", true, &c->app.env_file);
    value_set_int(ld, v[3], "app.base_port", 1, 65535, &c->app.base_port);
    value_set_file(ld, v[4], "app.state_file", true, &c->app.state_file);
}

static void load_health(struct loader *ld, const yaml_node_t *n)
{
    static const char *const keys[] = {"path", "interval", "timeout", "rise", "fall"};
    struct conf *c = ld->conf;
    yaml_node_t *v[5];

    if (!schema_keys(ld, n, "health", keys, 5, v))
        return;
    value_set_http_path(ld, v[0], "health.path", &c->health.path);
    value_set_duration(ld, v[1], "health.interval", false, &c->health.interval_ms);
    value_set_duration(ld, v[2], "health.timeout", false, &c->health.timeout_ms);
    value_set_int(ld, v[3], "health.rise", 1, 100, &c->health.rise);
    value_set_int(ld, v[4], "health.fall", 1, 100, &c->health.fall);
}

static void load_timeouts(struct loader *ld, const yaml_node_t *n)
{
    static const char *const keys[] = {"connect", "client_header", "client_body", "upstream", "idle",
                                       "queue",   "drain",         "drain_delay", "tunnel"};
    struct conf_timeouts *t = &ld->conf->timeouts;
    int64_t *fields[] = {&t->connect_ms, &t->client_header_ms, &t->client_body_ms, &t->upstream_ms, &t->idle_ms,
                         &t->queue_ms,   &t->drain_ms,         &t->drain_delay_ms, &t->tunnel_ms};
    yaml_node_t *v[9];
    char path[32];

    if (!schema_keys(ld, n, "timeouts", keys, 9, v))
        return;
    for (size_t i = 0; i < 9; i++) {
        bool zero_ok = fields[i] == &t->drain_ms || fields[i] == &t->drain_delay_ms;

        snprintf(path, sizeof(path), "timeouts.%s", keys[i]);
        /* drain and drain_delay: 0 means at once; every other timeout
         * needs time to pass. */
        value_set_duration(ld, v[i], path, zero_ok, fields[i]);
    }
}

static void load_limits(struct loader *ld, const yaml_node_t *n)
{
    static const char *const keys[] = {"max_connections", "max_header_bytes", "max_body_bytes", "max_queue"};
    struct conf *c = ld->conf;
    yaml_node_t *v[4];

    if (!schema_keys(ld, n, "limits", keys, 4, v))
        return;
    value_set_uint(ld, v[0], "limits.max_connections", 1, &c->limits.max_connections);
    value_set_size(ld, v[1], "limits.max_header_bytes", 1024, 1024 * 1024, &c->limits.max_header_bytes);
    value_set_size(ld, v[2], "limits.max_body_bytes", 0, UINT64_MAX, &c->limits.max_body_bytes);
    value_set_uint(ld, v[3], "limits.max_queue", 0, &c->limits.max_queue);
}

static void load_log(struct loader *ld, const yaml_node_t *n)
{
    static const char *const keys[] = {"access", "format", "keep", "keep_bytes", "timestamps", "lines"};
    static const char *const formats[] = {"text", "json"}; /* enum log_format order */
    struct conf *c = ld->conf;
    yaml_node_t *v[6];
    char *s;
    int f, keep;

    if (!schema_keys(ld, n, "log", keys, 6, v))
        return;
    keep = (int)c->log.keep;
    value_set_int(ld, v[2], "log.keep", 0, 1000000, &keep);
    c->log.keep = (unsigned)keep;
    value_set_size(ld, v[3], "log.keep_bytes", 0, 1024 * 1024 * 1024, &c->log.keep_bytes);
    value_set_bool(ld, v[4], "log.timestamps", &c->log.timestamps);
    if (v[5] != NULL && value_enum(ld, v[5], "log.lines", formats, 2, &f))
        c->log.json_lines = f == 1;
    if (v[0] != NULL && (s = value_text(ld, v[0], "log.access", "stdout, stderr, off or a path")) != NULL) {
        if (strcmp(s, "stdout") == 0 || strcmp(s, "stderr") == 0 || strcmp(s, "off") == 0)
            c->log.access = s;
        else
            value_file_from_text(ld, v[0], s, "log.access", false, &c->log.access);
    }
    if (v[1] != NULL && value_enum(ld, v[1], "log.format", formats, 2, &f))
        c->log.format = (enum log_format)f;
}

/* The sections are read in an order of their own, whatever the file's:
 * routes last, so they can inherit the top-level balance. */
void sections_load(struct loader *ld, const yaml_node_t *root)
{
    static const char *const keys[] = {"listen",  "workers", "admin",   "app",      "processes",
                                       "routes",  "balance", "health",  "retries",  "timeouts",
                                       "limits",  "log",     "resolver"};
    enum { LISTEN, WORKERS, ADMIN, APP, PROCESSES, ROUTES, BALANCE, HEALTH, RETRIES, TIMEOUTS, LIMITS, LOG,
           RESOLVER, NKEYS };
    struct conf *c = ld->conf;
    yaml_node_t *v[NKEYS];

    if (!schema_keys(ld, root, NULL, keys, NKEYS, v))
        return;
    value_set_balance(ld, v[BALANCE], "balance", &c->balance); /* before routes inherit it */
    if (v[LISTEN] != NULL && value_addr_list(ld, v[LISTEN], "listen", true, &c->listen, &c->nlisten, NULL))
        check_systemd_listen(ld);
    load_workers(ld, v[WORKERS]);
    load_admin(ld, v[ADMIN]);
    load_app(ld, v[APP]);
    processes_load(ld, v[PROCESSES]);
    load_health(ld, v[HEALTH]);
    value_set_int(ld, v[RETRIES], "retries", 0, 16, &c->retries);
    load_timeouts(ld, v[TIMEOUTS]);
    load_limits(ld, v[LIMITS]);
    load_log(ld, v[LOG]);
    resolver_load(ld, v[RESOLVER]);
    routes_load(ld, v[ROUTES]);
}
