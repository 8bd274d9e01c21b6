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

static int cmd_check(const struct options *o)
{
    char err[8192];
    struct conf *conf = load_config(o, err, sizeof(err));

    if (conf == NULL) {
        fprintf(stderr, "%s\n", err);
        return EXIT_CONFIG;
    }
    if (o->port != NULL && apply_port(conf, o->port, err, sizeof(err)) < 0) {
        fprintf(stderr, "drover: -p %s: %s\n", o->port, err);
        conf_free(conf);
        return EXIT_USAGE;
    }
    conf_print_plan(conf, stdout);
    printf("config ok\n");
    conf_free(conf);
    return EXIT_CLEAN;
}

struct signals {
    struct router *router;
    ev_signal term, intr, hup;
    int stops;
};

static void stop_signal_cb(struct ev_loop *loop, ev_signal *s, int revents)
{
    struct signals *sig = s->data;

    (void)loop;
    (void)revents;
    if (sig->stops++ == 0) {
        log_info("%s: draining (a second signal stops at once)", strsignal(s->signum));
        router_drain(sig->router);
    } else {
        log_info("%s again: stopping now", strsignal(s->signum));
        router_stop_now(sig->router);
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

static void log_plan(const struct conf *conf)
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
}

static int cmd_run(const struct options *o)
{
    char err[8192];
    struct conf *conf = load_config(o, err, sizeof(err));
    struct ev_loop *loop;
    struct router router;
    struct signals sig;
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
    signal(SIGPIPE, SIG_IGN);
    loop = ev_default_loop(EVBACKEND_EPOLL);
    if (loop == NULL) {
        fprintf(stderr, "drover: cannot create the event loop (epoll)\n");
        conf_free(conf);
        return EXIT_CONFIG;
    }
    log_info("drover %s starting (pid %d, %d worker%s)", DROVER_VERSION, (int)getpid(),
             conf->workers, conf->workers == 1 ? "" : "s");
    log_plan(conf);
    if (router_start(&router, loop, conf, err, sizeof(err)) < 0) {
        log_error("%s", err);
        fprintf(stderr, "drover: %s\n", err);
        router_destroy(&router);
        ev_loop_destroy(loop);
        return EXIT_CONFIG;
    }
    memset(&sig, 0, sizeof(sig));
    sig.router = &router;
    ev_signal_init(&sig.term, stop_signal_cb, SIGTERM);
    ev_signal_init(&sig.intr, stop_signal_cb, SIGINT);
    ev_signal_init(&sig.hup, hup_cb, SIGHUP);
    sig.term.data = sig.intr.data = sig.hup.data = &sig;
    ev_signal_start(loop, &sig.term);
    ev_signal_start(loop, &sig.intr);
    ev_signal_start(loop, &sig.hup);

    ev_run(loop, 0);

    ev_signal_stop(loop, &sig.term);
    ev_signal_stop(loop, &sig.intr);
    ev_signal_stop(loop, &sig.hup);
    router_destroy(&router);
    ev_loop_destroy(loop);
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
