/* drover: the command line. `run` and `check` load the config and plan
 * (load.c; run.c runs them), control commands talk to a running drover
 * (cli.c), and `__instance` is the shim every instance runs under
 * (shim.c). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config.h"
#include "lib/log.h"
#include "control/cli.h"
#include "control/control.h"
#include "conf/formation.h"
#include "supervisor/shim.h"
#include "supervisor/state.h"
#include "supervisor/supervisor.h"

enum { EXIT_CLEAN = 0, EXIT_CONFIG = 1, EXIT_USAGE = 2 };

static void usage(FILE *out)
{
    fprintf(out,
            "usage: drover [run] [-c FILE] [-d APPDIR] [-m web=4,worker=1] [-p PORT] [--watch]\n"
            "       drover check [-c FILE] [-d APPDIR] [-m ...] [-p PORT]\n"
            "       drover status [--json] | scale TYPE=N ... | restart TYPE | stop TYPE |\n"
            "              start TYPE | reload      [--admin ADDR] [-c FILE] [-d APPDIR]\n"
            "       drover logs [TYPE|INSTANCE ...] [-n N] [-f] [--json]\n"
            "       drover version\n");
}

static int parse_options(int argc, char **argv, const char **command, struct run_options *o)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"dir", required_argument, NULL, 'd'},
        {"formation", required_argument, NULL, 'm'},
        {"port", required_argument, NULL, 'p'},
        {"watch", no_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;

    memset(o, 0, sizeof(*o));
    *command = "run";
    if (argc > 1 && argv[1][0] != '-') {
        *command = argv[1];
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
        case 'w':
            o->watch = true;
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

static void print_warning(const char *line, void *ctx)
{
    (void)ctx;
    fprintf(stderr, "warning: %s\n", line);
}

static int cmd_check(const struct run_options *o)
{
    char err[8192];
    struct conf *conf;
    struct plan *plan;

    if (control_load(o, &conf, &plan, err, sizeof(err)) < 0) {
        fprintf(stderr, "%s\n", err);
        return EXIT_CONFIG;
    }
    control_each_warning(conf, print_warning, NULL);
    conf_print_plan(conf, stdout);
    if (plan != NULL) {
        plan_print(plan, stdout);
        /* What a drover started now would run otherwise than planned. */
        if (conf->app.state_file != NULL)
            state_print(conf->app.state_file, plan, stdout);
        if (supervisor_check_limits(plan, err, sizeof(err)) < 0) {
            fprintf(stderr, "drover: %s: `drover run` would not start\n", err);
            plan_free(plan);
            free(plan);
            conf_free(conf);
            return EXIT_CONFIG;
        }
        plan_free(plan);
        free(plan);
    }
    printf("config ok\n");
    conf_free(conf);
    return EXIT_CLEAN;
}

int main(int argc, char **argv)
{
    static const char *const control[] = {"status", "scale", "restart", "stop", "start", "reload"};
    struct run_options o;
    const char *command;

    if (argc > 1 && strcmp(argv[1], SHIM_COMMAND) == 0)
        return shim_main(argc, argv);
    if (getenv("DROVER_DEBUG") != NULL)
        log_set_level(LOG_DEBUG);
    if (argc > 1 && (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0)) {
        printf("drover %s\n", DROVER_VERSION);
        return EXIT_CLEAN;
    }
    if (argc > 1 && strcmp(argv[1], "logs") == 0)
        return cli_logs_main(argc - 1, argv + 1);
    for (size_t i = 0; argc > 1 && i < sizeof(control) / sizeof(control[0]); i++)
        if (strcmp(argv[1], control[i]) == 0)
            return cli_main(argc - 1, argv + 1);
    if (parse_options(argc, argv, &command, &o) < 0)
        return EXIT_USAGE;
    if (strcmp(command, "run") == 0)
        return control_run(&o);
    if (strcmp(command, "check") == 0)
        return cmd_check(&o);
    fprintf(stderr, "drover: unknown command \"%s\"\n", command);
    usage(stderr);
    return EXIT_USAGE;
}
