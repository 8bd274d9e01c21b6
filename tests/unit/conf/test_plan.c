/* conf/plan.c: -m, and the plan built from drover.yaml, the formation and
 * -m: counts, commands, ports, env merging, and its errors. */
#include <criterion/criterion.h>

#include "formation_test.h"

static struct scale_entry sc[8];
static size_t nsc;

static void scale_ok(const char *s)
{
    cr_assert_eq(formation_parse_scale(s, sc, 8, &nsc, err, sizeof(err)), 0, "\"%s\": %s", s, err);
}

static void scale_err(const char *s, const char *msg)
{
    cr_assert_eq(formation_parse_scale(s, sc, 8, &nsc, err, sizeof(err)), -1, "\"%s\" parsed", s);
    cr_assert_str_eq(err, msg);
    cr_assert_eq(nsc, 0);
}

Test(scale, good)
{
    scale_ok("web=4,worker=1");
    cr_assert_eq(nsc, 2);
    cr_assert_str_eq(sc[0].name, "web");
    cr_assert_eq(sc[0].count, 4);
    cr_assert_str_eq(sc[1].name, "worker");
    cr_assert_eq(sc[1].count, 1);
    scale_ok(" web = 0 , worker=1000 ");
    cr_assert_eq(sc[0].count, 0);
    cr_assert_eq(sc[1].count, 1000);
    scale_ok("all=2,web=3");
    cr_assert_str_eq(sc[0].name, "all");
    cr_assert_eq(sc[0].count, 2);
    scale_ok("Web_1-x=7");
    cr_assert_str_eq(sc[0].name, "Web_1-x");
}

Test(scale, bad)
{
    scale_err("web", "\"web\": expected TYPE=N");
    scale_err("web=", "\"web=\": missing count after \"=\"");
    scale_err("web=x", "\"web=x\": the count must be a number from 0 to 1000");
    scale_err("web=1001", "\"web=1001\": the count must be a number from 0 to 1000");
    scale_err("web=-1", "\"web=-1\": the count must be a number from 0 to 1000");
    scale_err("web=99999999999999999999", "\"web=99999999999999999999\": the count must be a number from 0 to 1000");
    scale_err("=3", "\"=3\": missing process type before \"=\"");
    scale_err("web=1,web=2", "\"web\" is given twice");
    scale_err("w+b=1", "\"w+b\": invalid process type name; use letters, digits, \"_\" and \"-\"");
    scale_err("wéb=1", "\"wéb\": invalid process type name; use letters, digits, \"_\" and \"-\"");
    scale_err("", "empty; expected TYPE=N[,TYPE=N...], e.g. web=4,worker=1");
    scale_err("web=1,", "empty entry in \"web=1,\"; expected TYPE=N[,TYPE=N...]");
    scale_err("web=1,,b=2", "empty entry in \"web=1,,b=2\"; expected TYPE=N[,TYPE=N...]");
}

Test(scale, too_many)
{
    cr_assert_eq(formation_parse_scale("a=1,b=2,c=3", sc, 2, &nsc, err, sizeof(err)), -1);
    cr_assert_str_eq(err, "too many entries (at most 2)");
}

Test(scale, long_name)
{
    char s[100];

    memset(s, 'a', 64);
    snprintf(s + 64, sizeof(s) - 64, "=1");
    scale_err(s, "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\": process type name too long (over "
                 "63 characters)");
}

TestSuite(plan, .init = setup, .fini = plan_teardown);

Test(plan, defaults_without_config)
{
    put("Procfile", "web: w\nworker: k\n");
    load_dir();
    conf = conf_default(dir, err, sizeof(err));
    cr_assert_not_null(conf, "%s", err);
    build_ok(NULL);
    cr_assert_eq(plan.ntypes, 2);
    cr_assert_eq(plan.base_port, 5000);
    cr_assert_str_eq(plan.formation_file, at("Procfile"));
    cr_assert_null(plan.ignored_file);
    cr_assert_str_eq(plan.types[0].name, "web");
    cr_assert_eq(plan.types[0].index, 0);
    cr_assert_eq(plan.types[0].count, 1);
    cr_assert(plan.types[0].routed);
    cr_assert_str_eq(plan.types[0].command, "w");
    cr_assert_str_eq(plan.types[0].dir, dir);
    cr_assert_not(plan.types[1].routed);
    cr_assert_eq(plan.types[1].index, 1);
    /* The defaults conf uses for an unlisted type. */
    cr_assert_eq(plan.types[1].settings.instances, -1);
    cr_assert_eq(plan.types[1].settings.ready_timeout_ms, 30000);
    cr_assert_eq(plan.types[1].settings.stop_timeout_ms, 10000);
    cr_assert_eq(plan.types[1].settings.restart_min_ms, 100);
    cr_assert_eq(plan.types[1].settings.restart_max_ms, 30000);
    cr_assert_eq(plan.types[1].settings.memory_limit, 0);
    cr_assert_eq(plan.types[1].settings.max_inflight, 0);
    cr_assert_null(plan.types[1].settings.ready_path);
    cr_assert_null(plan.types[1].settings.command);
    cr_assert_str_eq(plan.types[1].settings.name, "worker");
}

Test(plan, count_precedence)
{
    put("app_desc.yaml", "spec_version: 2\nmodule:\n  processes:\n"
                         "    a: {command: a, replicas: 5}\n"
                         "    b: {command: b, replicas: 5}\n"
                         "    c: {command: c, replicas: 5}\n"
                         "    d: {command: d}\n");
    load_dir();
    conf_text("processes:\n  a: {instances: 2}\n  b: {instances: 3}\n  d: {instances: 0}\n");
    build_ok("a=7");
    cr_assert_eq(ptype("a")->count, 7, "-m beats instances");
    cr_assert_eq(ptype("b")->count, 3, "instances beat replicas");
    cr_assert_eq(ptype("c")->count, 5, "replicas beat the default");
    cr_assert_eq(ptype("d")->count, 0, "instances: 0 is a count");
    plan_free(&plan);
    conf_free(conf);
    conf_text("app: {base_port: 6000}\n");
    build_ok(NULL);
    cr_assert_eq(ptype("d")->count, 1, "nothing set: 1");
    cr_assert_eq(ptype("a")->count, 5);
}

Test(plan, all_and_named)
{
    put("Procfile", "web: w\nworker: k\nclock: c\n");
    load_dir();
    conf_text("processes:\n  clock: {instances: 9}\n");
    build_ok("web=4,all=2");
    cr_assert_eq(ptype("web")->count, 4, "a named entry wins wherever it stands");
    cr_assert_eq(ptype("worker")->count, 2);
    cr_assert_eq(ptype("clock")->count, 2, "all beats instances");
    plan_free(&plan);
    build_ok("all=0");
    cr_assert_eq(ptype("web")->count, 0);
}

Test(plan, indexes_ports_and_extra_types)
{
    put("Procfile", "web: w\nworker: k\n");
    load_dir();
    conf_text("app: {base_port: 7000}\n"
              "processes:\n"
              "  zeta: {command: z --port $PORT, instances: 2}\n"
              "  web: {instances: 3}\n"
              "  alpha: {command: a}\n");
    build_ok(NULL);
    cr_assert_eq(plan.ntypes, 4);
    cr_assert_str_eq(plan.types[2].name, "zeta");
    cr_assert_str_eq(plan.types[3].name, "alpha");
    cr_assert_eq(plan.types[2].index, 2);
    cr_assert_str_eq(plan.types[2].command, "z --port $PORT");
    cr_assert_str_eq(plan.types[2].dir, dir);
    cr_assert_eq(plan_port(&plan, ptype("web"), 0), 7000);
    cr_assert_eq(plan_port(&plan, ptype("web"), 2), 7002);
    cr_assert_eq(plan_port(&plan, ptype("worker"), 0), 7100);
    cr_assert_eq(plan_port(&plan, ptype("zeta"), 1), 7201);
    cr_assert_eq(plan_port(&plan, ptype("alpha"), 0), 7300);
}

Test(plan, command_override)
{
    put("Procfile", "web: from-procfile\n");
    load_dir();
    conf_text("processes:\n  web: {command: from-config, ready: {path: /health, timeout: 5s}}\n");
    build_ok(NULL);
    cr_assert_str_eq(ptype("web")->command, "from-config");
    cr_assert_str_eq(ptype("web")->settings.ready_path, "/health");
    cr_assert_eq(ptype("web")->settings.ready_timeout_ms, 5000);
}

Test(plan, routed)
{
    put("Procfile", "web: w\napi: a\nworker: k\n");
    load_dir();
    conf_text("routes:\n  - {path: /api/, process: api}\n  - {path: /static/, backends: [127.0.0.1:9]}\n");
    build_ok(NULL);
    cr_assert_not(ptype("web")->routed, "explicit routes replace the default one");
    cr_assert(ptype("api")->routed);
    cr_assert_not(ptype("worker")->routed);
}

Test(plan, worker_only_app_with_the_default_route)
{
    put("Procfile", "worker: k\n");
    load_dir();
    conf_text("processes:\n  worker: {instances: 2}\n");
    build_ok(NULL);
    cr_assert_eq(plan.ntypes, 1);
    cr_assert_not(plan.types[0].routed);
}

Test(plan, route_to_missing_type)
{
    char want[PATH_MAX + 200];

    put("Procfile", "web: w\n");
    load_dir();
    conf_text("routes:\n  - path: /\n    process: web\n  - path: /api/\n    process: api\n");
    snprintf(want, sizeof(want), "%s:4:5: routes[1]: process type \"api\" is not in Procfile", conf->file);
    build_err(NULL, want);
}

Test(plan, explicit_route_to_missing_web)
{
    char want[PATH_MAX + 200];

    put("app_desc.yaml", "spec_version: 2\nmodule: {processes: {worker: {command: k}}}\n");
    load_dir();
    conf_text("routes: [{process: web}]\n");
    snprintf(want, sizeof(want), "%s:1:10: routes[0]: process type \"web\" is not in app_desc.yaml", conf->file);
    build_err(NULL, want);
}

Test(plan, unknown_m_type)
{
    put("Procfile", "web: w\nworker: k\n");
    load_dir();
    conf_text("{}\n");
    build_err("wrker=2", "-m: unknown process type \"wrker\"; the formation has: web, worker (did you mean "
                         "\"worker\"?)");
    build_err("web=1,db=2", "-m: unknown process type \"db\"; the formation has: web, worker");
}

Test(plan, config_type_without_command)
{
    char want[PATH_MAX + 200];

    put("Procfile", "web: w\n");
    load_dir();
    conf_text("processes:\n  web: {instances: 2}\n  api: {instances: 2}\n");
    snprintf(want, sizeof(want), "%s:3:3: processes.api: process type \"api\" is not in Procfile and has no command",
             conf->file);
    build_err(NULL, want);
}

Test(plan, port_above_65535)
{
    char want[PATH_MAX + 200];

    put("Procfile", "web: w\nworker: k\n");
    load_dir();
    conf_text("app: {base_port: 65400}\n");
    build_ok("web=100,worker=36");
    cr_assert_eq(plan_port(&plan, ptype("worker"), 35), 65535);
    plan_free(&plan);
    snprintf(want, sizeof(want), "%s: worker.37 would get port 65536 (base_port 65400 + 100 * 1 + 36), above 65535; "
             "lower app.base_port or the instance count", conf->file);
    build_err("worker=37", want);
    build_ok("worker=0");
}

Test(plan, port_ranges_overlap)
{
    put("Procfile", "web: w\nworker: k\n");
    load_dir();
    conf_text("{}\n");
    build_err("web=101", "web x101: more than 100 instances would use the ports of worker (each type has 100 ports "
                         "from base_port + 100 * its index); only the last type may have more");
    build_ok("worker=1000");
    cr_assert_eq(plan_port(&plan, ptype("worker"), 999), 6099);
}

Test(plan, env_merge_order)
{
    put("app_desc.yaml", "spec_version: 2\nmodule:\n  processes: {web: {command: w}, worker: {command: k}}\n"
                         "  env_variables:\n"
                         "    - {key: A, value: desc}\n    - {key: B, value: desc}\n    - {key: C, value: desc}\n");
    put(".env", "B=dotenv\nC=dotenv\nD=dotenv\n");
    load_dir();
    conf_text("processes:\n  web: {env: {C: config, E: config}}\n");
    build_ok(NULL);
    {
        const struct plan_type *w = ptype("web"), *k = ptype("worker");

        cr_assert_eq(w->nenv, 5);
        cr_assert_str_eq(w->env[0].key, "A");
        cr_assert_str_eq(penv(w, "A"), "desc");
        cr_assert_str_eq(penv(w, "B"), "dotenv");
        cr_assert_str_eq(penv(w, "C"), "config");
        cr_assert_str_eq(penv(w, "D"), "dotenv");
        cr_assert_str_eq(penv(w, "E"), "config");
        cr_assert_str_eq(w->env[4].key, "E");
        cr_assert_eq(k->nenv, 4);
        cr_assert_str_eq(penv(k, "C"), "dotenv");
        cr_assert_null(penv(k, "E"));
    }
}

Test(plan, env_file_setting)
{
    put("Procfile", "web: w\n");
    put(".env", "X=default-file\n");
    put("other.env", "X=configured\n");
    load_dir();
    conf_text("app: {env_file: other.env}\n");
    build_ok(NULL);
    cr_assert_str_eq(penv(ptype("web"), "X"), "configured", "env_file replaces <app dir>/.env");
}

Test(plan, env_file_errors)
{
    char want[PATH_MAX + 200];

    put("Procfile", "web: w\n");
    put(".env", "OK=1\nBAD LINE\n");
    load_dir();
    conf_text("{}\n");
    snprintf(want, sizeof(want), "%s:2: expected KEY=value, got \"BAD LINE\"", at(".env"));
    build_err(NULL, want);
    conf_free(conf);
    conf_text("app: {env_file: missing.env}\n");
    snprintf(want, sizeof(want), "%s: cannot read: No such file or directory", at("missing.env"));
    build_err(NULL, want);
}

Test(plan, plan_outlives_conf_and_formation)
{
    put("Procfile", "web: w\n");
    put(".env", "A=1\n");
    load_dir();
    conf_text("processes:\n  web: {env: {B: '2'}, ready: {path: /up}, command: override}\n");
    build_ok(NULL);
    conf_free(conf);
    conf = NULL;
    formation_free(&f);
    cr_assert_str_eq(plan.types[0].name, "web");
    cr_assert_str_eq(plan.types[0].command, "override");
    cr_assert_str_eq(plan.types[0].settings.ready_path, "/up");
    cr_assert_str_eq(plan.types[0].settings.env[0].value, "2");
    cr_assert_str_eq(penv(&plan.types[0], "B"), "2");
    cr_assert_str_eq(plan.formation_file, at("Procfile"));
}


Test(plan, unknown_m_type_hint_folds_case)
{
    put("Procfile", "web: w\nworker: k\n");
    load_dir();
    conf_text("{}\n");
    build_err("WORKER=2", "-m: unknown process type \"WORKER\"; the formation has: web, worker (did you mean "
                          "\"worker\"?)");
}

Test(plan, unknown_m_type_hint_from_a_prefix)
{
    put("Procfile", "web: w\nscheduler: s\n");
    load_dir();
    conf_text("{}\n");
    build_err("sched=1", "-m: unknown process type \"sched\"; the formation has: web, scheduler (did you mean "
                         "\"scheduler\"?)");
}
