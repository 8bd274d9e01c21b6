#include "router/route.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct conf_ref *conf_ref_new(struct conf *conf)
{
    struct conf_ref *ref = malloc(sizeof(*ref));

    if (ref == NULL)
        return NULL;
    atomic_init(&ref->refs, 1);
    ref->conf = conf;
    return ref;
}

void conf_ref_get(struct conf_ref *ref)
{
    atomic_fetch_add_explicit(&ref->refs, 1, memory_order_relaxed);
}

void conf_ref_put(struct conf_ref *ref)
{
    if (ref != NULL && atomic_fetch_sub_explicit(&ref->refs, 1, memory_order_acq_rel) == 1) {
        conf_free(ref->conf);
        free(ref);
    }
}

static void route_label(struct route_rt *r)
{
    const struct conf_route *cr = r->conf;

    switch (cr->host_match) {
    case HOST_EXACT:
        snprintf(r->label, sizeof(r->label), "%s%s", cr->host, cr->path);
        break;
    case HOST_SUFFIX:
        snprintf(r->label, sizeof(r->label), "*%s%s", cr->host, cr->path);
        break;
    default:
        snprintf(r->label, sizeof(r->label), "%s", cr->path);
        break;
    }
}

static size_t count_process_backends(struct backend_registry *reg, const char *process)
{
    size_t n = 0;

    for (struct backend *be = reg->head; be != NULL; be = be->reg_next)
        if (strcmp(be->process, process) == 0)
            n++;
    return n;
}

struct route_table *route_table_build(struct conf_ref *cref, struct backend_registry *reg)
{
    const struct conf *conf = cref->conf;
    struct route_table *t;
    size_t nbe = 0;
    struct backend **slots;

    for (size_t i = 0; i < conf->nroutes; i++) {
        const struct conf_route *cr = &conf->routes[i];

        nbe += cr->process != NULL ? count_process_backends(reg, cr->process) : cr->nbackends;
        for (size_t k = 0; k < cr->ndns; k++)
            nbe += count_process_backends(reg, cr->dns[k].key);
    }
    /* One allocation: the table, its routes, every route's backend array,
     * then every route's metric series cache ((nbe + 1) x 6 per route). */
    t = calloc(1, sizeof(*t) + conf->nroutes * sizeof(t->routes[0]) + nbe * sizeof(*slots) +
                      (nbe + conf->nroutes) * 6 * sizeof(struct metric_series *));
    if (t == NULL)
        return NULL;
    t->refs = 1;
    t->cref = cref;
    conf_ref_get(cref);
    t->nroutes = (unsigned)conf->nroutes;
    slots = (struct backend **)(void *)&t->routes[conf->nroutes];
    for (size_t i = 0; i < conf->nroutes; i++) {
        const struct conf_route *cr = &conf->routes[i];
        struct route_rt *r = &t->routes[i];

        r->conf = cr;
        r->bal = balancer_for(cr->balance);
        r->path_len = strlen(cr->path);
        r->be = slots;
        route_label(r);
        if (cr->process != NULL) {
            for (struct backend *be = reg->head; be != NULL; be = be->reg_next) {
                if (strcmp(be->process, cr->process) == 0) {
                    backend_ref(be);
                    r->be[r->nbe++] = be;
                }
            }
        } else {
            for (size_t k = 0; k < cr->nbackends; k++) {
                struct backend *be = backend_registry_static(reg, &cr->backends[k], cr->max_inflight);

                if (be == NULL)
                    continue;
                backend_ref(be);
                r->be[r->nbe++] = be;
            }
            /* Members found by DNS are grouped under their entry's key. */
            for (size_t k = 0; k < cr->ndns; k++) {
                for (struct backend *be = reg->head; be != NULL; be = be->reg_next) {
                    if (strcmp(be->process, cr->dns[k].key) == 0) {
                        backend_ref(be);
                        r->be[r->nbe++] = be;
                    }
                }
            }
        }
        slots += r->nbe;
    }
    /* The caches follow the backend arrays. */
    {
        struct metric_series **cache = (struct metric_series **)slots;

        for (size_t i = 0; i < conf->nroutes; i++) {
            t->routes[i].series = cache;
            cache += (t->routes[i].nbe + 1) * 6;
        }
    }
    return t;
}

void route_table_get(struct route_table *t)
{
    t->refs++;
}

void route_table_put(struct route_table *t)
{
    if (t == NULL || --t->refs > 0)
        return;
    for (unsigned i = 0; i < t->nroutes; i++)
        for (unsigned k = 0; k < t->routes[i].nbe; k++)
            backend_unref(t->routes[i].be[k]);
    conf_ref_put(t->cref);
    free(t);
}

/* Host without its port and a trailing dot ("Example.COM.:8080" → "Example.COM"). */
static size_t host_name_len(const char *host, size_t len)
{
    if (len > 0 && host[0] == '[') {
        const char *close = memchr(host, ']', len);

        return close != NULL ? (size_t)(close - host) + 1 : len;
    }
    for (size_t i = 0; i < len; i++) {
        if (host[i] == ':') {
            len = i;
            break;
        }
    }
    if (len > 0 && host[len - 1] == '.')
        len--;
    return len;
}

static bool host_matches(const struct conf_route *cr, const char *host, size_t len)
{
    size_t n;

    switch (cr->host_match) {
    case HOST_ANY:
        return true;
    case HOST_EXACT:
        return strlen(cr->host) == len && strncasecmp(cr->host, host, len) == 0;
    case HOST_SUFFIX:
        /* "*.example.test" matches "a.example.test" and "a.b.example.test",
         * not "example.test" itself. */
        n = strlen(cr->host);
        return len > n && strncasecmp(cr->host, host + len - n, n) == 0;
    }
    return false;
}

static bool path_matches(const struct route_rt *r, const char *path, size_t len)
{
    const char *p = r->conf->path;
    size_t n = r->path_len;

    if (len >= n && memcmp(p, path, n) == 0)
        return true;
    return n > 1 && p[n - 1] == '/' && len == n - 1 && memcmp(p, path, len) == 0;
}

/* How specifically a route's host matched: an exact name beats a wildcard,
 * a longer wildcard suffix beats a shorter one, any wildcard beats no host. */
static size_t host_rank(const struct conf_route *cr)
{
    switch (cr->host_match) {
    case HOST_EXACT:
        return SIZE_MAX;
    case HOST_SUFFIX:
        return 1 + strlen(cr->host);
    default:
        return 0;
    }
}

struct route_rt *route_match(struct route_table *t, const char *host, size_t hostlen,
                             const char *path, size_t pathlen)
{
    struct route_rt *best = NULL;
    size_t best_rank = 0;

    hostlen = host != NULL ? host_name_len(host, hostlen) : 0;
    for (unsigned i = 0; i < t->nroutes; i++) {
        struct route_rt *r = &t->routes[i];
        size_t rank;

        if (r->conf->host_match != HOST_ANY && (host == NULL || !host_matches(r->conf, host, hostlen)))
            continue;
        if (!path_matches(r, path, pathlen))
            continue;
        rank = host_rank(r->conf);
        if (best == NULL || rank > best_rank || (rank == best_rank && r->path_len > best->path_len)) {
            best = r;
            best_rank = rank;
        }
    }
    return best;
}

size_t route_strip_len(const struct route_rt *r, size_t pathlen)
{
    size_t n = r->path_len;

    if (!r->conf->strip_prefix || n <= 1)
        return 0;
    /* Keep the slash the prefix ends with: "/api/" on "/api/x" strips "/api". */
    if (r->conf->path[n - 1] == '/')
        n--;
    return n <= pathlen ? n : pathlen;
}
