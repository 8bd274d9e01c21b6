/* conf/processes.c: processes.<type>. */
#include <criterion/criterion.h>

#include "conf_test.h"

TestSuite(processes, .init = tmp_setup, .fini = tmp_teardown);

Test(processes, restart_min_above_max)
{
    expect_errors("processes:\n  web:\n    restart: {min: 1m, max: 10s}\n",
                  "3:20: processes.web.restart: min (1m) is more than max (10s)");
    expect_errors("processes:\n  web:\n    restart:\n      min: 1m\n",
                  "4:12: processes.web.restart: min (1m) is more than max (30s)");
}

Test(processes, bad_process_name)
{
    expect_errors("processes:\n  web/1:\n    instances: 2\n",
                  "2:3: processes: bad process type name \"web/1\"; use letters, digits, \"_\" and \"-\"");
}


Test(processes, defaults_for_what_is_left_out)
{
    struct conf *c = load_ok("processes:\n  web:\n    instances: 3\n  worker: {}\n");

    cr_assert_eq(c->nprocesses, 2);
    cr_assert_eq(c->processes[0].instances, 3);
    cr_assert_eq(c->processes[1].instances, -1, "not set");
    for (size_t i = 0; i < 2; i++) {
        cr_assert_eq(c->processes[i].ready_timeout_ms, 30000);
        cr_assert_eq(c->processes[i].stop_timeout_ms, 10000);
        cr_assert_eq(c->processes[i].restart_min_ms, 100);
        cr_assert_eq(c->processes[i].restart_max_ms, 30000);
        cr_assert_null(c->processes[i].command);
    }
    cr_assert_eq(c->processes[1].line, 4);
    cr_assert_eq(c->processes[1].col, 3);
    conf_free(c);
}

Test(processes, env_values_and_names)
{
    struct conf *c = load_ok("processes:\n  web:\n    env:\n      EMPTY:\n      N: 3\n      S: \"a b\"\n");

    cr_assert_eq(c->processes[0].nenv, 3);
    cr_assert_str_eq(c->processes[0].env[0].key, "EMPTY");
    cr_assert_str_eq(c->processes[0].env[0].value, "", "a null value is empty");
    cr_assert_str_eq(c->processes[0].env[1].value, "3");
    cr_assert_str_eq(c->processes[0].env[2].value, "a b");
    conf_free(c);
    expect_errors("processes:\n  web:\n    env: {\"A=B\": 1, OK: [1]}\n",
                  "3:11: processes.web.env: bad variable name \"A=B\"\n"
                  "3:25: processes.web.env.OK: expected a string, got a list");
}

/* watch: one path or a list, from app.dir (not the config's directory). */
Test(processes, watch_paths_from_the_app_dir)
{
    struct conf *c = load_ok("app: {dir: app}\n"
                             "processes:\n  web:\n    watch: [src, /etc/app.ini]\n  worker:\n    watch: lib\n");
    char want[PATH_MAX + 32];

    cr_assert_eq(c->processes[0].nwatch, 2);
    snprintf(want, sizeof(want), "%s/app/src", tmpdir);
    cr_assert_str_eq(c->processes[0].watch[0], want);
    cr_assert_str_eq(c->processes[0].watch[1], "/etc/app.ini");
    cr_assert_eq(c->processes[1].nwatch, 1);
    snprintf(want, sizeof(want), "%s/app/lib", tmpdir);
    cr_assert_str_eq(c->processes[1].watch[0], want);
    conf_free(c);
    expect_errors("processes:\n  web:\n    watch: {src: 1}\n    wach: x\n",
                  "3:12: processes.web.watch: expected a path or a list of paths, got a mapping\n"
                  "4:5: unknown key \"wach\" in processes.web; did you mean \"watch\"?");
    expect_errors("processes:\n  web:\n    watch: [\"\"]\n",
                  "3:13: processes.web.watch[0]: empty path");
}

/* cpu and memory_max: the cgroup limits, each error at its value. */
Test(processes, cpu_and_memory_max)
{
    struct conf *c = load_ok("processes:\n  web: {cpu: 0.5, memory_max: 512M}\n  worker: {}\n");

    cr_assert_eq(c->processes[0].cpu_milli, 500);
    cr_assert_eq(c->processes[0].memory_max, 512ULL << 20);
    cr_assert_eq(c->processes[1].cpu_milli, 0, "no limit unless asked");
    cr_assert_eq(c->processes[1].memory_max, 0);
    conf_free(c);
    expect_errors("processes:\n  web:\n    cpu: 0\n    memory_max: 512Q\n",
                  "3:10: processes.web.cpu: 0 CPUs is out of range; write between 0.01 and 4096\n"
                  "4:17: processes.web.memory_max: unknown unit \"Q\" in \"512Q\"; use k, M or G "
                  "(1024-based), or none for bytes");
    expect_errors("processes:\n  web: {cpu: lots, memory_max: 1M}\n",
                  "2:14: processes.web.cpu: \"lots\" is not a number of CPUs; write e.g. 0.5, 1 or 2\n"
                  "2:32: processes.web.memory_max: must be between 4M and 1024T, got 1M");
    expect_errors("processes:\n  web:\n    cpu: [1]\n",
                  "3:10: processes.web.cpu: expected a number of CPUs, got a list");
}
