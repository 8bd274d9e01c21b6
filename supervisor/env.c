/* An instance's environment: drover's own, then the plan's (module env,
 * .env, processes.TYPE.env), then PORT, PS, DROVER_PROCESS and
 * DROVER_INSTANCE; a later one replaces an earlier one of the same name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "supervisor/proc.h"

static int env_set(struct envb *e, const char *key, const char *value)
{
    size_t klen = strlen(key);
    char *s;

    if (asprintf(&s, "%s=%s", key, value) < 0)
        return -1;
    for (size_t i = 0; i < e->n; i++) {
        if (strncmp(e->v[i], key, klen) == 0 && e->v[i][klen] == '=') {
            free(e->v[i]);
            e->v[i] = s;
            return 0;
        }
    }
    if (e->n + 2 > e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 64;
        char **v = realloc(e->v, cap * sizeof(*v));

        if (v == NULL) {
            free(s);
            return -1;
        }
        e->v = v;
        e->cap = cap;
    }
    e->v[e->n++] = s;
    e->v[e->n] = NULL;
    return 0;
}

void env_free(struct envb *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->v[i]);
    free(e->v);
}

int env_build(const struct instance *in, struct envb *e)
{
    const struct plan_type *pt = in->type->pt;
    char port[16];
    int r = 0;

    for (char **p = environ; *p != NULL && r == 0; p++) {
        const char *eq = strchr(*p, '=');
        char key[256];

        if (eq == NULL || (size_t)(eq - *p) >= sizeof(key))
            continue;
        snprintf(key, sizeof(key), "%.*s", (int)(eq - *p), *p);
        r = env_set(e, key, eq + 1);
    }
    for (size_t i = 0; i < pt->nenv && r == 0; i++)
        r = env_set(e, pt->env[i].key, pt->env[i].value);
    snprintf(port, sizeof(port), "%d", in->port);
    if (r == 0)
        r = env_set(e, "PORT", port);
    if (r == 0)
        r = env_set(e, "PS", in->name);
    if (r == 0)
        r = env_set(e, "DROVER_PROCESS", pt->name);
    if (r == 0)
        r = env_set(e, "DROVER_INSTANCE", in->name);
    return r;
}

