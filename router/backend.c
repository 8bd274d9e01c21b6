#include "router/backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct backend *backend_new(const struct conf_addr *addr, const char *name,
                            const char *process, unsigned nworkers)
{
    struct backend *be;

    be = calloc(1, sizeof(*be) + nworkers * sizeof(be->slot[0]));
    if (be == NULL)
        return NULL;
    atomic_init(&be->refs, 1);
    be->addr = *addr;
    snprintf(be->name, sizeof(be->name), "%s", name != NULL ? name : addr->text);
    snprintf(be->process, sizeof(be->process), "%s", process != NULL ? process : "");
    atomic_init(&be->inflight, 0);
    atomic_init(&be->up, true);
    atomic_init(&be->down_until_ms, 0);
    atomic_init(&be->retired, false);
    be->nslots = nworkers;
    return be;
}

void backend_ref(struct backend *be)
{
    atomic_fetch_add_explicit(&be->refs, 1, memory_order_relaxed);
}

void backend_unref(struct backend *be)
{
    if (be != NULL && atomic_fetch_sub_explicit(&be->refs, 1, memory_order_acq_rel) == 1)
        free(be);
}

void backend_mark_failed(struct backend *be, int64_t now_ms, int64_t hold_ms)
{
    atomic_store_explicit(&be->down_until_ms, now_ms + hold_ms, memory_order_relaxed);
}

void backend_registry_init(struct backend_registry *reg, unsigned nworkers)
{
    reg->head = NULL;
    reg->nworkers = nworkers;
}

struct backend *backend_registry_static(struct backend_registry *reg, const struct conf_addr *addr,
                                        unsigned max_inflight)
{
    struct backend *be;

    for (be = reg->head; be != NULL; be = be->reg_next) {
        if (be->process[0] == '\0' && strcmp(be->addr.text, addr->text) == 0) {
            atomic_store(&be->max_inflight, max_inflight);
            return be;
        }
    }
    be = backend_new(addr, NULL, NULL, reg->nworkers);
    if (be == NULL)
        return NULL;
    atomic_store(&be->max_inflight, max_inflight);
    be->reg_next = reg->head;
    reg->head = be;
    return be;
}

struct backend *backend_registry_add_instance(struct backend_registry *reg,
                                              const struct conf_addr *addr, const char *name,
                                              const char *process, unsigned max_inflight)
{
    struct backend *be = backend_new(addr, name, process, reg->nworkers);
    struct backend **tail = &reg->head;

    if (be == NULL)
        return NULL;
    atomic_store(&be->max_inflight, max_inflight);
    /* Appended, so a route's instances keep the order they became ready in. */
    while (*tail != NULL)
        tail = &(*tail)->reg_next;
    *tail = be;
    return be;
}

void backend_registry_remove(struct backend_registry *reg, struct backend *be)
{
    for (struct backend **p = &reg->head; *p != NULL; p = &(*p)->reg_next) {
        if (*p == be) {
            *p = be->reg_next;
            be->reg_next = NULL;
            atomic_store(&be->retired, true);
            backend_unref(be);
            return;
        }
    }
}

static bool named_by(const struct conf *conf, const struct backend *be)
{
    for (size_t i = 0; i < conf->nroutes; i++)
        for (size_t k = 0; k < conf->routes[i].nbackends; k++)
            if (strcmp(conf->routes[i].backends[k].text, be->addr.text) == 0)
                return true;
    return false;
}

void backend_registry_sweep_static(struct backend_registry *reg, const struct conf *conf)
{
    struct backend *be, *next;

    for (be = reg->head; be != NULL; be = next) {
        next = be->reg_next;
        if (be->process[0] == '\0' && !named_by(conf, be))
            backend_registry_remove(reg, be);
    }
}

void backend_registry_clear(struct backend_registry *reg)
{
    struct backend *be;

    while ((be = reg->head) != NULL) {
        reg->head = be->reg_next;
        atomic_store(&be->retired, true);
        backend_unref(be);
    }
}
