/* conf/processes.c: processes.<type>, the settings drover.yaml gives a
 * process type (instances, command, env, ready, stop_timeout,
 * memory_limit, restart, max_inflight, restart_unhealthy, watch, cpu,
 * memory_max). */
#include "conf/config.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "conf/internal.h"
#include "lib/arena.h"
#include "lib/path.h"
#include "lib/yamlnode.h"

/* processes.<type>.env: NAME: value pairs, a null value being "". */
static void load_env(struct loader *ld, const yaml_node_t *n, const char *path, struct conf_process *p)
{
    size_t total;
    char kpath[160];

    p->env = schema_array(ld, n, YAML_MAPPING_NODE, path, "a mapping of NAME: value", sizeof(*p->env), &total);
    if (p->env == NULL)
        return;
    for (yaml_node_pair_t *pair = n->data.mapping.pairs.start; pair < n->data.mapping.pairs.top; pair++) {
        const char *key = schema_pair_key(ld, n, pair, path);
        yaml_node_t *val = schema_node(ld, pair->value);
        char *s;

        if (key == NULL)
            continue;
        if (*key == '\0' || strchr(key, '=') != NULL) {
            schema_fail(ld, schema_node(ld, pair->key), "%s: bad variable name \"%.60s\"", path, key);
            continue;
        }
        snprintf(kpath, sizeof(kpath), "%.80s.%.60s", path, key);
        if (yaml_is_null(val))
            s = arena_strdup(ld->arena, "");
        else if ((s = value_text(ld, val, kpath, "a string")) == NULL)
            continue;
        /* The key belongs to the YAML document, freed after loading. */
        p->env[p->nenv].key = arena_strdup(ld->arena, key);
        p->env[p->nenv].value = s;
        if (p->env[p->nenv].key == NULL || s == NULL) {
            schema_oom(ld);
            return;
        }
        p->nenv++;
    }
}

/* processes.<type>.watch: a path or a list of them, relative to app.dir. */
static void load_watch(struct loader *ld, const yaml_node_t *n, const char *path, struct conf_process *p)
{
    size_t count;
    yaml_node_t *items[1];
    yaml_node_t **list = items;
    char sub[192], abs[PATH_MAX];

    if (n == NULL)
        return;
    if (n->type == YAML_SCALAR_NODE) {
        items[0] = (yaml_node_t *)n;
        count = 1;
    } else if (schema_expect(ld, n, YAML_SEQUENCE_NODE, path, "a path or a list of paths")) {
        count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
        list = NULL;
    } else {
        return;
    }
    p->watch = arena_alloc(ld->arena, (count + 1) * sizeof(*p->watch));
    if (p->watch == NULL) {
        schema_oom(ld);
        return;
    }
    for (size_t i = 0; i < count; i++) {
        const yaml_node_t *item = list != NULL ? list[i] : schema_node(ld, n->data.sequence.items.start[i]);
        const char *s;

        snprintf(sub, sizeof(sub), "%.120s[%zu]", path, i);
        if ((s = value_text(ld, item, sub, "a path")) == NULL)
            continue;
        if (*s == '\0') {
            schema_fail(ld, item, "%s: empty path", sub);
            continue;
        }
        if (path_abs(ld->conf->app.dir, s, abs, sizeof(abs)) < 0) {
            schema_fail(ld, item, "%s: path too long", sub);
            continue;
        }
        if ((p->watch[p->nwatch] = arena_strdup(ld->arena, abs)) == NULL) {
            schema_oom(ld);
            return;
        }
        p->nwatch++;
    }
}

/* processes.<type>.cpu: CPUs, a decimal above 0 (the cgroup's quota). */
static void load_cpu(struct loader *ld, const yaml_node_t *n, const char *path, struct conf_process *p)
{
    char reason[CONF_REASON_MAX];
    const char *s;

    if (n == NULL || (s = value_text(ld, n, path, "a number of CPUs")) == NULL)
        return;
    if (conf_parse_cpus(s, &p->cpu_milli, reason, sizeof(reason)) < 0)
        schema_fail(ld, n, "%s: %s", path, reason);
}

/* One processes.<type> mapping into P, which holds the defaults; the
 * restart back-off is checked as a pair (min at most max). */
static void load_process(struct loader *ld, const yaml_node_t *n, struct conf_process *p)
{
    static const char *const keys[] = {"instances",    "command",      "env",
                                       "ready",        "stop_timeout", "memory_limit",
                                       "restart",      "max_inflight", "restart_unhealthy",
                                       "watch",        "cpu",          "memory_max"};
    static const char *const ready_keys[] = {"path", "timeout"};
    static const char *const restart_keys[] = {"min", "max"};
    yaml_node_t *v[12], *r[2];
    char path[128], sub[160];
    const char *s;

    snprintf(path, sizeof(path), "processes.%s", p->name);
    if (!schema_keys(ld, n, path, keys, 12, v))
        return;
    snprintf(sub, sizeof(sub), "%s.instances", path);
    value_set_int(ld, v[0], sub, 0, 1000, &p->instances);
    snprintf(sub, sizeof(sub), "%s.command", path);
    if (v[1] != NULL && (s = value_text(ld, v[1], sub, "a command")) != NULL)
        p->command = *s != '\0' ? (char *)s : NULL;
    snprintf(sub, sizeof(sub), "%s.env", path);
    load_env(ld, v[2], sub, p);

    snprintf(sub, sizeof(sub), "%s.ready", path);
    if (schema_keys(ld, v[3], sub, ready_keys, 2, r)) {
        snprintf(sub, sizeof(sub), "%s.ready.path", path);
        value_set_http_path(ld, r[0], sub, &p->ready_path);
        snprintf(sub, sizeof(sub), "%s.ready.timeout", path);
        value_set_duration(ld, r[1], sub, false, &p->ready_timeout_ms);
    }
    snprintf(sub, sizeof(sub), "%s.stop_timeout", path);
    value_set_duration(ld, v[4], sub, true, &p->stop_timeout_ms);
    snprintf(sub, sizeof(sub), "%s.memory_limit", path);
    value_set_size(ld, v[5], sub, 0, UINT64_MAX, &p->memory_limit);

    snprintf(sub, sizeof(sub), "%s.restart", path);
    if (schema_keys(ld, v[6], sub, restart_keys, 2, r)) {
        bool ok;

        snprintf(sub, sizeof(sub), "%s.restart.min", path);
        ok = value_set_duration(ld, r[0], sub, false, &p->restart_min_ms);
        snprintf(sub, sizeof(sub), "%s.restart.max", path);
        ok = value_set_duration(ld, r[1], sub, false, &p->restart_max_ms) && ok;
        if (ok && p->restart_min_ms > p->restart_max_ms) {
            char a[32], b[32];

            schema_fail(ld, r[0] != NULL ? r[0] : v[6], "%s.restart: min (%s) is more than max (%s)", path,
                        conf_format_duration(p->restart_min_ms, a, sizeof(a)),
                        conf_format_duration(p->restart_max_ms, b, sizeof(b)));
        }
    }
    snprintf(sub, sizeof(sub), "%s.max_inflight", path);
    value_set_uint(ld, v[7], sub, 0, &p->max_inflight);
    snprintf(sub, sizeof(sub), "%s.restart_unhealthy", path);
    value_set_duration(ld, v[8], sub, true, &p->restart_unhealthy_ms);
    snprintf(sub, sizeof(sub), "%s.watch", path);
    load_watch(ld, v[9], sub, p);
    snprintf(sub, sizeof(sub), "%s.cpu", path);
    load_cpu(ld, v[10], sub, p);
    snprintf(sub, sizeof(sub), "%s.memory_max", path);
    /* Below a few megabytes not even the shell that runs the command fits. */
    value_set_size(ld, v[11], sub, 4u << 20, 1ULL << 50, &p->memory_max);
}

void processes_defaults(struct conf_process *p)
{
    p->instances = -1;
    p->ready_timeout_ms = 30000;
    p->stop_timeout_ms = 10000;
    p->restart_min_ms = 100;
    p->restart_max_ms = 30000;
    p->restart_unhealthy_ms = 30000;
}

/* Each type in file order, with the defaults for what it leaves out. */
void processes_load(struct loader *ld, const yaml_node_t *n)
{
    struct conf *c = ld->conf;
    size_t total;

    c->processes = schema_array(ld, n, YAML_MAPPING_NODE, "processes", "a mapping of process types",
                                sizeof(*c->processes), &total);
    if (c->processes == NULL)
        return;
    for (yaml_node_pair_t *pair = n->data.mapping.pairs.start; pair < n->data.mapping.pairs.top; pair++) {
        const char *name = schema_pair_key(ld, n, pair, "processes");
        yaml_node_t *k = schema_node(ld, pair->key);
        struct conf_process *p = &c->processes[c->nprocesses];

        if (name == NULL)
            continue;
        if (!conf_type_name_ok(name)) {
            schema_fail(ld, k, "processes: bad process type name \"%.60s\"; use letters, digits, \"_\" and \"-\"",
                        name);
            continue;
        }
        processes_defaults(p);
        p->line = (int)k->start_mark.line + 1;
        p->col = (int)k->start_mark.column + 1;
        if ((p->name = arena_strdup(ld->arena, name)) == NULL) {
            schema_oom(ld);
            return;
        }
        load_process(ld, schema_node(ld, pair->value), p);
        c->nprocesses++;
    }
}
