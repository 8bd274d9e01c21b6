/* Loading: the config (-c, APPDIR/drover.yaml or the defaults, with -p)
 * and the plan of instances from the formation and -m. Used by `drover
 * run`, `drover check` and every reload. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conf/config.h"
#include "control/control.h"
#include "lib/log.h"
#include "conf/formation.h"

/* -c FILE, else APPDIR/drover.yaml when it exists, else the defaults. */
static struct conf *load_config(const struct run_options *o, char *err, size_t errlen)
{
    char path[4096];
    struct stat st;

    if (o->config != NULL)
        return conf_load(o->config, err, errlen);
    snprintf(path, sizeof(path), "%s/drover.yaml", o->appdir != NULL ? o->appdir : ".");
    if (stat(path, &st) == 0)
        return conf_load(path, err, errlen);
    return conf_default(o->appdir != NULL ? o->appdir : ".", err, errlen);
}

/* -p PORT: the router listens on 0.0.0.0:PORT instead of `listen`. */
static int apply_port(struct conf *conf, const char *port, char *err, size_t errlen)
{
    char text[64], why[256];

    snprintf(text, sizeof(text), "0.0.0.0:%s", port);
    if (conf_parse_addr(text, &conf->listen[0], why, sizeof(why)) < 0) {
        snprintf(err, errlen, "-p %s: %s", port, why);
        return -1;
    }
    conf->nlisten = 1;
    return 0;
}

/* Whether drover supervises an app: whenever a formation file exists, and
 * necessarily when a route sends traffic to a process type. */
static bool wants_formation(const struct conf *conf)
{
    for (size_t i = 0; i < conf->nroutes; i++)
        if (conf->routes[i].process != NULL)
            return true;
    return conf->nprocesses > 0;
}

static bool formation_exists(const struct conf *conf)
{
    char path[4096];
    struct stat st;

    if (conf->app.procfile != NULL)
        return true; /* named explicitly: it must load */
    snprintf(path, sizeof(path), "%s/Procfile", conf->app.dir);
    if (stat(path, &st) == 0)
        return true;
    snprintf(path, sizeof(path), "%s/app_desc.yaml", conf->app.dir);
    return stat(path, &st) == 0;
}

/* The plan for conf and -m (NULL when there is nothing to supervise). 0,
 * or -1 with err. */
static int load_plan(const struct conf *conf, const struct run_options *o, struct plan **plan,
                     char *err, size_t errlen)
{
    struct scale_entry m[64];
    struct formation f;
    size_t nm = 0;
    int r;

    *plan = NULL;
    if (o->formation != NULL &&
        formation_parse_scale(o->formation, m, sizeof(m) / sizeof(m[0]), &nm, err, errlen) < 0) {
        char why[512];

        snprintf(why, sizeof(why), "%s", err);
        snprintf(err, errlen, "-m: %s", why);
        return -1;
    }
    if (!formation_exists(conf)) {
        if (!wants_formation(conf) && o->formation == NULL)
            return 0;
        snprintf(err, errlen, "no Procfile or app_desc.yaml in %s (%s)", conf->app.dir,
                 o->formation != NULL ? "-m needs a formation"
                                      : "a route sends traffic to a process type");
        return -1;
    }
    memset(&f, 0, sizeof(f));
    if (formation_load(conf->app.dir, conf->app.procfile, &f, err, errlen) < 0)
        return -1;
    *plan = calloc(1, sizeof(**plan));
    if (*plan == NULL) {
        formation_free(&f);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    r = plan_build(conf, &f, m, nm, *plan, err, errlen);
    formation_free(&f);
    if (r < 0) {
        free(*plan);
        *plan = NULL;
    }
    return r;
}

int control_load(const struct run_options *o, struct conf **conf, struct plan **plan, char *err,
                 size_t errlen)
{
    *plan = NULL;
    *conf = load_config(o, err, errlen);
    if (*conf == NULL)
        return -1;
    if ((o->port != NULL && apply_port(*conf, o->port, err, errlen) < 0) ||
        load_plan(*conf, o, plan, err, errlen) < 0) {
        conf_free(*conf);
        *conf = NULL;
        return -1;
    }
    return 0;
}

void control_each_warning(const struct conf *conf, void (*fn)(const char *line, void *ctx), void *ctx)
{
    const char *s = conf->warnings;

    while (s != NULL && *s != '\0') {
        const char *e = strchr(s, '\n');
        size_t n = e != NULL ? (size_t)(e - s) : strlen(s);
        char line[640];

        snprintf(line, sizeof(line), "%.*s", (int)n, s);
        fn(line, ctx);
        s += n + (e != NULL);
    }
}

static void log_warning(const char *line, void *ctx)
{
    (void)ctx;
    log_warn("%s", line);
}

void control_log_warnings(const struct conf *conf)
{
    control_each_warning(conf, log_warning, NULL);
}
