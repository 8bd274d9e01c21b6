/* conf/plan.c: the -m option, and the plan that combines drover.yaml,
 * the formation and -m into instance counts, commands, environments and
 * ports. A plan copies what it takes from the conf and the formation: it
 * stays valid after both are freed (a reload builds a new conf while the
 * old plan is still running), and plan_free() is one call. */
#include "conf/formation.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "conf/internal.h"
#include "lib/arena.h"
#include "lib/path.h"
#include "lib/suggest.h"

#define PORTS_PER_TYPE 100

int formation_parse_scale(const char *s, struct scale_entry *out, size_t max, size_t *n, char *err, size_t errlen)
{
    const char *p = s;
    size_t count = 0;
    char buf[80];

    *n = 0;
    while (conf_is_blank(*p))
        p++;
    if (*p == '\0')
        return formation_error(err, errlen, "empty; expected TYPE=N[,TYPE=N...], e.g. web=4,worker=1");
    for (;;) {
        const char *item = p, *end = strchr(p, ','), *eq, *ne, *v, *ve;
        long value = 0;

        if (end == NULL)
            end = p + strlen(p);
        while (item < end && conf_is_blank(*item))
            item++;
        ve = end;
        while (ve > item && conf_is_blank(ve[-1]))
            ve--;
        if (item == ve)
            return formation_error(err, errlen, "empty entry in \"%s\"; expected TYPE=N[,TYPE=N...]",
                                   formation_shorten(s, strlen(s), buf, sizeof(buf)));
        formation_shorten(item, (size_t)(ve - item), buf, sizeof(buf));
        eq = memchr(item, '=', (size_t)(ve - item));
        if (eq == NULL)
            return formation_error(err, errlen, "\"%s\": expected TYPE=N", buf);
        for (ne = eq; ne > item && conf_is_blank(ne[-1]); ne--)
            ;
        for (v = eq + 1; v < ve && conf_is_blank(*v); v++)
            ;
        if (ne == item)
            return formation_error(err, errlen, "\"%s\": missing process type before \"=\"", buf);
        for (const char *q = item; q < ne; q++)
            if (!conf_type_char((unsigned char)*q))
                return formation_error(err, errlen, "\"%s\": invalid process type name; use letters, digits, \"_\" "
                                       "and \"-\"", formation_shorten(item, (size_t)(ne - item), buf, sizeof(buf)));
        if (ne - item > FORMATION_MAX_TYPE_NAME)
            return formation_error(err, errlen, "\"%s\": process type name too long (over %d characters)",
                                   formation_shorten(item, (size_t)(ne - item), buf, sizeof(buf)),
                                   FORMATION_MAX_TYPE_NAME);
        if (v == ve)
            return formation_error(err, errlen, "\"%s\": missing count after \"=\"", buf);
        for (const char *q = v; q < ve; q++)
            value = conf_is_digit(*q) && value <= FORMATION_MAX_COUNT ? value * 10 + (*q - '0') : LONG_MAX;
        if (value > FORMATION_MAX_COUNT)
            return formation_error(err, errlen, "\"%s\": the count must be a number from 0 to %d", buf,
                                   FORMATION_MAX_COUNT);
        for (size_t i = 0; i < count; i++)
            if (strlen(out[i].name) == (size_t)(ne - item) && memcmp(out[i].name, item, (size_t)(ne - item)) == 0)
                return formation_error(err, errlen, "\"%s\" is given twice", out[i].name);
        if (count == max)
            return formation_error(err, errlen, "too many entries (at most %zu)", max);
        snprintf(out[count].name, sizeof(out[count].name), "%.*s", (int)(ne - item), item);
        out[count].count = (int)value;
        count++;
        if (*end == '\0')
            break;
        p = end + 1;
    }
    *n = count;
    return 0;
}

static struct plan_type *plan_find(const struct plan *p, const char *name)
{
    for (size_t i = 0; i < p->ntypes; i++)
        if (strcmp(p->types[i].name, name) == 0)
            return &p->types[i];
    return NULL;
}

static const struct conf_process *conf_find(const struct conf *conf, const char *name)
{
    for (size_t i = 0; i < conf->nprocesses; i++)
        if (strcmp(conf->processes[i].name, name) == 0)
            return &conf->processes[i];
    return NULL;
}

/* "FILE:LINE:COL: " for something written in drover.yaml, "" without one. */
static const char *conf_where(const struct conf *conf, int line, int col, char *buf, size_t len)
{
    if (conf->file == NULL)
        buf[0] = '\0';
    else if (line > 0)
        snprintf(buf, len, "%s:%d:%d: ", conf->file, line, col);
    else
        snprintf(buf, len, "%s: ", conf->file);
    return buf;
}

/* A copy of S in A (NULL stays NULL); *OK turns false when out of memory,
 * so a run of copies is checked once. */
static char *dup_or_null(struct arena *a, const char *s, bool *ok)
{
    char *c;

    if (s == NULL)
        return NULL;
    if ((c = arena_strdup(a, s)) == NULL)
        *ok = false;
    return c;
}

/* processes.<type> (copied into A), or the defaults conf uses. */
static bool plan_settings(struct arena *a, const struct conf_process *src, const char *name,
                          struct conf_process *dst)
{
    bool ok = true;

    if (src == NULL) {
        memset(dst, 0, sizeof(*dst));
        processes_defaults(dst);
        dst->name = dup_or_null(a, name, &ok);
        return ok;
    }
    *dst = *src;
    dst->name = dup_or_null(a, src->name, &ok);
    dst->command = dup_or_null(a, src->command, &ok);
    dst->ready_path = dup_or_null(a, src->ready_path, &ok);
    dst->watch = NULL;
    dst->nwatch = 0;
    if (src->nwatch > 0) {
        if ((dst->watch = arena_alloc(a, src->nwatch * sizeof(*dst->watch))) == NULL)
            return false;
        for (size_t i = 0; i < src->nwatch; i++)
            dst->watch[i] = dup_or_null(a, src->watch[i], &ok);
        dst->nwatch = src->nwatch;
    }
    dst->env = NULL;
    dst->nenv = 0;
    if (src->nenv > 0) {
        if ((dst->env = arena_alloc(a, src->nenv * sizeof(*dst->env))) == NULL)
            return false;
        for (size_t i = 0; i < src->nenv; i++) {
            dst->env[i].key = dup_or_null(a, src->env[i].key, &ok);
            dst->env[i].value = dup_or_null(a, src->env[i].value, &ok);
        }
        dst->nenv = src->nenv;
    }
    return ok;
}

/* -m, else processes.<type>.instances, else replicas, else 1. */
static int plan_count(const char *name, const struct scale_entry *m, size_t nm, int instances, int replicas)
{
    int all = -1, named = -1;

    for (size_t i = 0; i < nm; i++) {
        if (strcmp(m[i].name, "all") == 0)
            all = m[i].count;
        else if (strcmp(m[i].name, name) == 0)
            named = m[i].count;
    }
    if (named >= 0)
        return named;
    if (all >= 0)
        return all;
    if (instances >= 0)
        return instances;
    if (replicas >= 0)
        return replicas;
    return 1;
}

/* The .env file: app.env_file, else <app dir>/.env when there is one. */
static int plan_dotenv(const struct conf *conf, struct arena *a, struct conf_kv **kv, size_t *n, char *err,
                       size_t errlen)
{
    char path[PATH_MAX];
    struct stat st;

    *kv = NULL;
    *n = 0;
    if (conf->app.env_file != NULL)
        return dotenv_parse(conf->app.env_file, a, kv, n, err, errlen);
    if (conf->app.dir == NULL)
        return 0;
    if (snprintf(path, sizeof(path), "%s/.env", conf->app.dir) >= (int)sizeof(path) || lstat(path, &st) < 0)
        return 0;
    return dotenv_parse(path, a, kv, n, err, errlen);
}

/* The types: the formation's in its order, then those drover.yaml adds
 * with a command of their own. -1 (with the error) for a
 * processes.<type> with neither. */
static int plan_types(struct plan *p, const struct conf *conf, const struct formation *f, const char *fname,
                      char *err, size_t errlen)
{
    size_t nf = f != NULL ? f->ntypes : 0;
    char where[PATH_MAX + 32];
    bool ok = true;

    for (size_t i = 0; i < nf; i++) {
        struct plan_type *t = &p->types[p->ntypes];

        t->name = dup_or_null(p->arena, f->types[i].name, &ok);
        t->command = dup_or_null(p->arena, f->types[i].command, &ok);
        t->dir = dup_or_null(p->arena, f->types[i].dir != NULL ? f->types[i].dir : conf->app.dir, &ok);
        t->index = (int)p->ntypes++;
    }
    for (size_t i = 0; i < conf->nprocesses; i++) {
        const struct conf_process *cp = &conf->processes[i];
        struct plan_type *t;

        if (plan_find(p, cp->name) != NULL)
            continue;
        if (cp->command == NULL)
            return formation_error(err, errlen, "%sprocesses.%s: process type \"%s\" is not in %s and has no "
                                   "command", conf_where(conf, cp->line, cp->col, where, sizeof(where)), cp->name,
                                   cp->name, fname);
        t = &p->types[p->ntypes];
        t->name = dup_or_null(p->arena, cp->name, &ok);
        t->dir = dup_or_null(p->arena, conf->app.dir, &ok);
        t->index = (int)p->ntypes++;
    }
    return ok ? 0 : formation_error(err, errlen, "out of memory");
}

/* Every -m entry names a type of the plan (or is "all"). */
static int plan_check_scale(const struct plan *p, const struct scale_entry *m, size_t nm, char *err, size_t errlen)
{
    const char **names = arena_alloc(p->arena, (p->ntypes + 1) * sizeof(*names));
    char list[1024];

    if (names == NULL)
        return formation_error(err, errlen, "out of memory");
    for (size_t i = 0; i < p->ntypes; i++)
        names[i] = p->types[i].name;
    for (size_t i = 0; i < nm; i++) {
        const char *hint;

        if (strcmp(m[i].name, "all") == 0 || plan_find(p, m[i].name) != NULL)
            continue;
        if (p->ntypes == 0)
            return formation_error(err, errlen, "-m: unknown process type \"%s\"; the formation has no process "
                                   "types", m[i].name);
        hint = suggest_name(m[i].name, names, p->ntypes);
        suggest_list(names, p->ntypes, ", ", list, sizeof(list));
        if (hint != NULL)
            return formation_error(err, errlen, "-m: unknown process type \"%s\"; the formation has: %s (did you "
                                   "mean \"%s\"?)", m[i].name, list, hint);
        return formation_error(err, errlen, "-m: unknown process type \"%s\"; the formation has: %s", m[i].name,
                               list);
    }
    return 0;
}

/* Marks the types a route names; a route written in drover.yaml to a type
 * the plan lacks is an error. */
static int plan_routes(struct plan *p, const struct conf *conf, const char *fname, char *err, size_t errlen)
{
    for (size_t i = 0; i < conf->nroutes; i++) {
        const struct conf_route *r = &conf->routes[i];
        struct plan_type *t;

        if (r->process == NULL)
            continue;
        if ((t = plan_find(p, r->process)) != NULL) {
            t->routed = true;
        } else if (r->line > 0) {
            /* The implicit "/ → web" route (line 0) is no mistake: a
             * worker-only app simply has nothing to route to. */
            if (conf->file != NULL)
                return formation_error(err, errlen, "%s:%d:%d: routes[%zu]: process type \"%s\" is not in %s",
                                       conf->file, r->line, r->col, i, r->process, fname);
            return formation_error(err, errlen, "route: process type \"%s\" is not in %s", r->process, fname);
        }
    }
    return 0;
}

/* Type I's settings, count and environment (module env, then .env, then
 * processes.<type>.env), and a check that its ports fit. */
static int plan_fill(struct plan *p, size_t i, const struct conf *conf, const struct formation *f,
                     const struct scale_entry *m, size_t nm, const struct conf_kv *dotenv, size_t ndotenv,
                     char *err, size_t errlen)
{
    struct plan_type *t = &p->types[i];
    const struct conf_process *cp = conf_find(conf, t->name);
    const struct formation_type *ft = f != NULL && i < f->ntypes ? &f->types[i] : NULL;
    size_t cap = (ft != NULL ? ft->nenv : 0) + ndotenv + (cp != NULL ? cp->nenv : 0);
    char where[PATH_MAX + 32];
    bool ok = true;
    long top;

    if (!plan_settings(p->arena, cp, t->name, &t->settings))
        return formation_error(err, errlen, "out of memory");
    if (t->settings.command != NULL)
        t->command = t->settings.command;
    t->count = plan_count(t->name, m, nm, t->settings.instances, ft != NULL ? ft->replicas : -1);

    if (cap > 0 && (t->env = arena_alloc(p->arena, cap * sizeof(*t->env))) == NULL)
        return formation_error(err, errlen, "out of memory");
    for (size_t k = 0; ft != NULL && k < ft->nenv; k++)
        formation_env_set(t->env, &t->nenv, dup_or_null(p->arena, ft->env[k].key, &ok),
                          dup_or_null(p->arena, ft->env[k].value, &ok));
    if (!ok)
        return formation_error(err, errlen, "out of memory");
    for (size_t k = 0; k < ndotenv; k++)
        formation_env_set(t->env, &t->nenv, dotenv[k].key, dotenv[k].value);
    for (size_t k = 0; k < t->settings.nenv; k++)
        formation_env_set(t->env, &t->nenv, t->settings.env[k].key, t->settings.env[k].value);

    /* Each type owns 100 ports: more instances would take the next
     * type's, and two processes would be handed the same $PORT. */
    if (t->count > PORTS_PER_TYPE && i + 1 < p->ntypes)
        return formation_error(err, errlen, "%s x%d: more than %d instances would use the ports of %s (each type "
                               "has %d ports from base_port + 100 * its index); only the last type may have more",
                               t->name, t->count, PORTS_PER_TYPE, p->types[i + 1].name, PORTS_PER_TYPE);
    top = (long)p->base_port + (long)PORTS_PER_TYPE * t->index + t->count - 1;
    if (t->count > 0 && top > 65535)
        return formation_error(err, errlen, "%s%s.%d would get port %ld (base_port %d + 100 * %d + %d), above "
                               "65535; lower app.base_port or the instance count",
                               conf_where(conf, 0, 0, where, sizeof(where)), t->name, t->count, top, p->base_port,
                               t->index, t->count - 1);
    return 0;
}

int plan_build(const struct conf *conf, const struct formation *f, const struct scale_entry *m, size_t nm,
               struct plan *p, char *err, size_t errlen)
{
    size_t nf = f != NULL ? f->ntypes : 0, ndotenv = 0;
    const char *fname = f != NULL && f->file != NULL ? path_base(f->file) : "the formation";
    struct conf_kv *dotenv = NULL;
    bool ok = true;

    memset(p, 0, sizeof(*p));
    if ((p->arena = arena_new()) == NULL ||
        (p->types = arena_alloc(p->arena, (nf + conf->nprocesses + 1) * sizeof(*p->types))) == NULL) {
        formation_error(err, errlen, "out of memory");
        goto fail;
    }
    p->base_port = conf->app.base_port;
    if (f != NULL) {
        p->formation_file = dup_or_null(p->arena, f->file, &ok);
        p->ignored_file = dup_or_null(p->arena, f->ignored, &ok);
    }
    if (!ok) {
        formation_error(err, errlen, "out of memory");
        goto fail;
    }
    if (plan_types(p, conf, f, fname, err, errlen) < 0 || plan_check_scale(p, m, nm, err, errlen) < 0 ||
        plan_routes(p, conf, fname, err, errlen) < 0 || plan_dotenv(conf, p->arena, &dotenv, &ndotenv, err, errlen) < 0)
        goto fail;
    for (size_t i = 0; i < p->ntypes; i++)
        if (plan_fill(p, i, conf, f, m, nm, dotenv, ndotenv, err, errlen) < 0)
            goto fail;
    return 0;

fail:
    plan_free(p);
    return -1;
}

void plan_free(struct plan *p)
{
    if (p == NULL)
        return;
    arena_free(p->arena);
    memset(p, 0, sizeof(*p));
}

int plan_port(const struct plan *p, const struct plan_type *t, int slot)
{
    return p->base_port + PORTS_PER_TYPE * t->index + slot;
}
