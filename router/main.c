/* drover: command line → config → router (→ supervisor, admin) → ev_run. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ev.h>

#include "conf/config.h"
#include "lib/log.h"
#include "router/router.h"
#include "supervisor/formation.h"
#include "supervisor/shim.h"
#include "supervisor/supervisor.h"

#define DROVER_VERSION "0.1.0"

enum { EXIT_CLEAN = 0, EXIT_CONFIG = 1, EXIT_USAGE = 2 };

struct options {
    const char *command;
    const char *config;
    const char *appdir;
    const char *formation;
    const char *port;
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: drover [run] [-c FILE] [-d APPDIR] [-m web=4,worker=1] [-p PORT]\n"
            "       drover check [-c FILE] [-d APPDIR]\n"
            "       drover status [--json] | scale TYPE=N ... | restart TYPE | stop TYPE |\n"
            "              start TYPE | reload\n"
            "       drover version\n");
}

static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"dir", required_argument, NULL, 'd'},
        {"formation", required_argument, NULL, 'm'},
        {"port", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;

    memset(o, 0, sizeof(*o));
    o->command = "run";
    o->appdir = ".";
    if (argc > 1 && argv[1][0] != '-') {
        o->command = argv[1];
        argv++;
        argc--;
    }
    while ((ch = getopt_long(argc, argv, "c:d:m:p:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            o->config = optarg;
            break;
        case 'd':
            o->appdir = optarg;
            break;
        case 'm':
            o->formation = optarg;
            break;
        case 'p':
            o->port = optarg;
            break;
        case 'h':
            usage(stdout);
            exit(EXIT_CLEAN);
        default:
            usage(stderr);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "drover: unexpected argument \"%s\"\n", argv[optind]);
        usage(stderr);
        return -1;
    }
    return 0;
}

/* -c FILE, else APPDIR/drover.yaml when it exists, else the defaults. */
static struct conf *load_config(const struct options *o, char *err, size_t errlen)
{
    char path[4096];
    struct stat st;

    if (o->config != NULL)
        return conf_load(o->config, err, errlen);
    snprintf(path, sizeof(path), "%s/drover.yaml", o->appdir);
    if (stat(path, &st) == 0)
        return conf_load(path, err, errlen);
    return conf_default(o->appdir, err, errlen);
}

/* -p PORT: the router listens on 0.0.0.0:PORT instead of `listen`. */
static int apply_port(struct conf *conf, const char *port, char *err, size_t errlen)
{
    char text[64];

    snprintf(text, sizeof(text), "0.0.0.0:%s", port);
    if (conf_parse_addr(text, &conf->listen[0], err, errlen) < 0)
        return -1;
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

/* The plan of instances, or *plan NULL when there is nothing to supervise.
 * -1 with the reason in err. */
static int load_plan(const struct conf *conf, const struct options *o, struct plan **plan,
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

static int cmd_check(const struct options *o)
{
    char err[8192];
    struct conf *conf = load_config(o, err, sizeof(err));
    struct plan *plan;

    if (conf == NULL) {
        fprintf(stderr, "%s\n", err);
        return EXIT_CONFIG;
    }
    if (o->port != NULL && apply_port(conf, o->port, err, sizeof(err)) < 0) {
        fprintf(stderr, "drover: -p %s: %s\n", o->port, err);
        conf_free(conf);
        return EXIT_USAGE;
    }
    if (load_plan(conf, o, &plan, err, sizeof(err)) < 0) {
        fprintf(stderr, "%s\n", err);
        conf_free(conf);
        return EXIT_CONFIG;
    }
    conf_print_plan(conf, stdout);
    if (plan != NULL) {
        plan_print(plan, stdout);
        plan_free(plan);
        free(plan);
    }
    printf("config ok\n");
    conf_free(conf);
    return EXIT_CLEAN;
}

/* What a running drover is made of, for the signal and stop callbacks. */
struct app {
    struct ev_loop *loop;
    struct router router;
    struct supervisor *sv;
    ev_signal term, intr, hup;
    int stops;
};

static void app_stopped(void *arg)
{
    struct app *app = arg;

    ev_break(app->loop, EVBREAK_ALL);
}

/* The router has let its last connection go: now the instances. */
static void router_stopped(void *arg)
{
    struct app *app = arg;

    if (app->sv == NULL) {
        app_stopped(app);
        return;
    }
    log_info("stopping the app's instances");
    supervisor_stop(app->sv, app->stops > 1, app_stopped, app);
}

static void stop_signal_cb(struct ev_loop *loop, ev_signal *s, int revents)
{
    struct app *app = s->data;

    (void)loop;
    (void)revents;
    if (app->stops++ == 0) {
        log_info("%s: draining (a second signal stops at once)", strsignal(s->signum));
        router_drain(&app->router, router_stopped, app);
    } else {
        log_info("%s again: stopping now", strsignal(s->signum));
        router_stop_now(&app->router);
        if (app->sv != NULL)
            supervisor_stop(app->sv, true, app_stopped, app);
    }
}

static void hup_cb(struct ev_loop *loop, ev_signal *s, int revents)
{
    (void)loop;
    (void)s;
    (void)revents;
    log_warn("SIGHUP: configuration reload is not available in this build yet; "
             "the running configuration is unchanged");
}

static void log_plan(const struct conf *conf, const struct plan *plan)
{
    for (size_t i = 0; i < conf->nlisten; i++)
        log_info("listening on %s", conf->listen[i].text);
    for (size_t i = 0; i < conf->nroutes; i++) {
        const struct conf_route *r = &conf->routes[i];
        char backends[512] = "";
        size_t len = 0;

        for (size_t k = 0; k < r->nbackends && len < sizeof(backends); k++)
            len += (size_t)snprintf(backends + len, sizeof(backends) - len, "%s%s", k ? ", " : "",
                                    r->backends[k].text);
        log_info("route %s%s%s → %s%s (%s)", r->host_match == HOST_SUFFIX ? "*" : "",
                 r->host != NULL ? r->host : "", r->path, r->process != NULL ? "process " : "",
                 r->process != NULL ? r->process : backends, conf_balance_name(r->balance));
    }
    if (plan == NULL)
        return;
    log_info("formation from %s", plan->formation_file);
    if (plan->ignored_file != NULL)
        log_info("ignoring %s: the Procfile wins", plan->ignored_file);
}

static int cmd_run(const struct options *o)
{
    char err[8192];
    struct conf *conf = load_config(o, err, sizeof(err));
    struct plan *plan = NULL;
    struct app app;
    int status = EXIT_CLEAN;

    if (conf == NULL) {
        fprintf(stderr, "%s\n", err);
        return EXIT_CONFIG;
    }
    if (o->port != NULL && apply_port(conf, o->port, err, sizeof(err)) < 0) {
        fprintf(stderr, "drover: -p %s: %s\n", o->port, err);
        conf_free(conf);
        return EXIT_USAGE;
    }
    if (load_plan(conf, o, &plan, err, sizeof(err)) < 0) {
        fprintf(stderr, "%s\n", err);
        conf_free(conf);
        return EXIT_CONFIG;
    }
    signal(SIGPIPE, SIG_IGN);
    memset(&app, 0, sizeof(app));
    app.loop = ev_default_loop(EVBACKEND_EPOLL);
    if (app.loop == NULL) {
        fprintf(stderr, "drover: cannot create the event loop (epoll)\n");
        conf_free(conf);
        return EXIT_CONFIG;
    }
    if (plan != NULL) {
        /* Before the first log line, so every name lines up. */
        app.sv = supervisor_new(app.loop, &app.router, plan);
        if (app.sv == NULL) {
            fprintf(stderr, "drover: out of memory\n");
            plan_free(plan);
            free(plan);
            conf_free(conf);
            return EXIT_CONFIG;
        }
    }
    log_info("drover %s starting (pid %d, %d worker%s)", DROVER_VERSION, (int)getpid(),
             conf->workers, conf->workers == 1 ? "" : "s");
    log_plan(conf, plan);
    if (router_start(&app.router, app.loop, conf, err, sizeof(err)) < 0) {
        log_error("%s", err);
        fprintf(stderr, "drover: %s\n", err);
        router_destroy(&app.router);
        supervisor_free(app.sv);
        ev_loop_destroy(app.loop);
        return EXIT_CONFIG;
    }
    ev_signal_init(&app.term, stop_signal_cb, SIGTERM);
    ev_signal_init(&app.intr, stop_signal_cb, SIGINT);
    ev_signal_init(&app.hup, hup_cb, SIGHUP);
    app.term.data = app.intr.data = app.hup.data = &app;
    ev_signal_start(app.loop, &app.term);
    ev_signal_start(app.loop, &app.intr);
    ev_signal_start(app.loop, &app.hup);
    if (app.sv != NULL)
        supervisor_start(app.sv);

    ev_run(app.loop, 0);

    ev_signal_stop(app.loop, &app.term);
    ev_signal_stop(app.loop, &app.intr);
    ev_signal_stop(app.loop, &app.hup);
    router_destroy(&app.router);
    supervisor_free(app.sv);
    ev_loop_destroy(app.loop);
    log_info("stopped");
    return status;
}

static int cmd_control(const char *name)
{
    fprintf(stderr,
            "drover %s: control commands talk to the admin API, which this build does not have "
            "yet\n",
            name);
    return EXIT_CONFIG;
}

int main(int argc, char **argv)
{
    static const char *const control[] = {"status", "scale", "restart", "stop", "start", "reload"};
    struct options o;

    if (argc > 1 && strcmp(argv[1], SHIM_COMMAND) == 0)
        return shim_main(argc, argv);
    if (getenv("DROVER_DEBUG") != NULL)
        log_set_level(LOG_DEBUG);
    if (argc > 1 && (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0)) {
        printf("drover %s\n", DROVER_VERSION);
        return EXIT_CLEAN;
    }
    for (size_t i = 0; argc > 1 && i < sizeof(control) / sizeof(control[0]); i++)
        if (strcmp(argv[1], control[i]) == 0)
            return cmd_control(argv[1]);
    if (parse_options(argc, argv, &o) < 0)
        return EXIT_USAGE;
    if (strcmp(o.command, "run") == 0)
        return cmd_run(&o);
    if (strcmp(o.command, "check") == 0)
        return cmd_check(&o);
    fprintf(stderr, "drover: unknown command \"%s\"\n", o.command);
    usage(stderr);
    return EXIT_USAGE;
}
