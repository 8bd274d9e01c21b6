/* conf/routes.c: routes[], host and path to a process type or to static
 * backends, first match wins. */
#include "conf/config.h"

#include <stdio.h>
#include <string.h>

#include "conf/internal.h"
#include "lib/arena.h"

/* host: "api.example" (exact), "*.example" (any subdomain), "*" or "" (any
 * host); lowercased, trailing dot dropped, no port. */
static void set_host(struct loader *ld, const yaml_node_t *n, const char *path, struct conf_route *r)
{
    char *s = n != NULL ? value_text(ld, n, path, "a host name") : NULL;
    size_t len;

    if (s == NULL)
        return;
    for (char *q = s; *q != '\0'; q++)
        *q = (char)conf_lower(*q);
    len = strlen(s);
    if (len > 1 && s[len - 1] == '.')
        s[--len] = '\0';
    if (len == 0 || strcmp(s, "*") == 0) {
        r->host_match = HOST_ANY;
        r->host = NULL;
        return;
    }
    if (s[0] == '*') {
        if (s[1] != '.' || s[2] == '\0' || strchr(s + 1, '*') != NULL)
            goto bad_wildcard;
        r->host_match = HOST_SUFFIX;
        r->host = s + 1;
    } else if (strchr(s, '*') != NULL) {
        goto bad_wildcard;
    } else {
        r->host_match = HOST_EXACT;
        r->host = s;
    }
    if (s[0] != '[' && strchr(s, ':') != NULL) {
        schema_fail(ld, n, "%s: leave the port out of \"%.60s\"", path, s);
        return;
    }
    for (const char *q = r->host; *q != '\0'; q++) {
        if (!conf_is_alpha(*q) && !conf_is_digit(*q) && !strchr(".-_[]:", *q)) {
            schema_fail(ld, n, "%s: \"%.60s\" is not a host name", path, s);
            return;
        }
    }
    return;

bad_wildcard:
    schema_fail(ld, n, "%s: a wildcard is written \"*.example.com\", got \"%.60s\"", path, s);
}

/* One routes[] entry; *BALANCE_SET says whether it chose its own balance. */
static void load_route(struct loader *ld, const yaml_node_t *n, const char *path, struct conf_route *r,
                       bool *balance_set)
{
    static const char *const keys[] = {"host",         "path",    "process",     "backends",
                                       "strip_prefix", "balance", "max_inflight"};
    enum { HOST, PATH, PROCESS, BACKENDS, STRIP, BALANCE, INFLIGHT };
    yaml_node_t *v[7];
    char sub[128];
    char *s;

    r->line = (int)n->start_mark.line + 1;
    r->col = (int)n->start_mark.column + 1;
    if ((r->path = arena_strdup(ld->arena, "/")) == NULL) {
        schema_oom(ld);
        return;
    }
    if (!schema_keys(ld, n, path, keys, 7, v))
        return;
    snprintf(sub, sizeof(sub), "%s.host", path);
    set_host(ld, v[HOST], sub, r);
    snprintf(sub, sizeof(sub), "%s.path", path);
    if (v[PATH] != NULL && (s = value_text(ld, v[PATH], sub, "a path")) != NULL) {
        if (*s != '/')
            schema_fail(ld, v[PATH], "%s: must start with \"/\", got \"%.60s\"", sub, s);
        else
            r->path = s;
    }
    snprintf(sub, sizeof(sub), "%s.process", path);
    if (v[PROCESS] != NULL && (s = value_text(ld, v[PROCESS], sub, "a process type")) != NULL) {
        if (!conf_type_name_ok(s))
            schema_fail(ld, v[PROCESS], "%s: bad process type name \"%.60s\"; use letters, digits, \"_\" and \"-\"",
                        sub, s);
        else
            r->process = s;
    }
    snprintf(sub, sizeof(sub), "%s.backends", path);
    if (v[BACKENDS] != NULL)
        value_addr_list(ld, v[BACKENDS], sub, false, &r->backends, &r->nbackends, r);
    snprintf(sub, sizeof(sub), "%s.strip_prefix", path);
    value_set_bool(ld, v[STRIP], sub, &r->strip_prefix);
    snprintf(sub, sizeof(sub), "%s.balance", path);
    value_set_balance(ld, v[BALANCE], sub, &r->balance);
    *balance_set = v[BALANCE] != NULL;
    snprintf(sub, sizeof(sub), "%s.max_inflight", path);
    value_set_uint(ld, v[INFLIGHT], sub, 0, &r->max_inflight);

    if (v[PROCESS] != NULL && v[BACKENDS] != NULL)
        schema_fail(ld, n, "%s: set either \"process\" or \"backends\", not both", path);
    else if (v[PROCESS] == NULL && v[BACKENDS] == NULL)
        schema_fail(ld, n, "%s: needs \"process\" (a process type) or \"backends\" (a list of addresses)", path);
    else if (v[PROCESS] != NULL && v[INFLIGHT] != NULL)
        /* Instances get their limit from processes.<type>.max_inflight;
         * ignoring this one silently would be worse than refusing it. */
        schema_fail(ld, v[INFLIGHT], "%s.max_inflight: applies to static backends; for a process set "
                    "processes.%s.max_inflight", path, r->process != NULL ? r->process : "<type>");
}

/* The same host rule: both any host, or the same exact or suffix name. */
static bool same_host(const struct conf_route *a, const struct conf_route *b)
{
    return a->host_match == b->host_match && (a->host_match == HOST_ANY || strcmp(a->host, b->host) == 0);
}

/* Each route in file order; one that an earlier route hides is refused. */
void routes_load(struct loader *ld, const yaml_node_t *n)
{
    struct conf *c = ld->conf;
    bool *balance_set;
    size_t total;
    char path[32];

    c->routes = schema_array(ld, n, YAML_SEQUENCE_NODE, "routes", "a list of routes", sizeof(*c->routes), &total);
    if (c->routes == NULL)
        return;
    if ((balance_set = arena_alloc(ld->arena, total * sizeof(*balance_set))) == NULL) {
        schema_oom(ld);
        return;
    }
    for (size_t i = 0; i < total; i++) {
        const yaml_node_t *item = schema_node(ld, n->data.sequence.items.start[i]);
        struct conf_route *r = &c->routes[c->nroutes];

        snprintf(path, sizeof(path), "routes[%zu]", i);
        load_route(ld, item, path, r, &balance_set[c->nroutes]);
        for (size_t j = 0; j < c->nroutes; j++) {
            /* First match wins: a second route for the same host and path
             * could never be used. */
            if (r->path != NULL && same_host(r, &c->routes[j]) && strcmp(r->path, c->routes[j].path) == 0) {
                schema_fail(ld, item, "%s: same host and path as routes[%zu] (line %d); it would never match", path,
                            j, c->routes[j].line);
                break;
            }
        }
        c->nroutes++;
    }
    /* The top-level balance is read first, wherever it sits in the file. */
    for (size_t i = 0; i < c->nroutes; i++)
        if (!balance_set[i])
            c->routes[i].balance = c->balance;
}

