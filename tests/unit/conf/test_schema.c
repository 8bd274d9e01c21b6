/* conf/schema.c: unknown keys (with a hint), duplicate keys, wrong node
 * kinds, and every error of a file in file order, capped. */
#include <criterion/criterion.h>

#include "conf_test.h"

TestSuite(schema, .init = tmp_setup, .fini = tmp_teardown);

Test(schema, unknown_key_with_hint)
{
    expect_errors("workers: 2\n\nlistn: 8080\n", "3:1: unknown key \"listn\"; did you mean \"listen\"?");
}

Test(schema, unknown_key_hints_everywhere)
{
    expect_errors("Listen: 8080\n"
                  "time: {}\n"
                  "admin:\n  tokn: x\n"
                  "routes:\n  - path: /\n    proces: web\n"
                  "processes:\n  web:\n    stop_timout: 1s\n",
                  "1:1: unknown key \"Listen\"; did you mean \"listen\"?\n"
                  "2:1: unknown key \"time\"; did you mean \"timeouts\"?\n"
                  "4:3: unknown key \"tokn\" in admin; did you mean \"token\"?\n"
                  "6:5: routes[0]: needs \"process\" (a process type) or \"backends\" (a list of addresses)\n"
                  "7:5: unknown key \"proces\" in routes[0]; did you mean \"process\"?\n"
                  "10:5: unknown key \"stop_timout\" in processes.web; did you mean \"stop_timeout\"?");
}

Test(schema, unknown_key_without_hint)
{
    expect_errors("log:\n  color: true\n", "2:3: unknown key \"color\" in log; valid keys: access, format, keep, keep_bytes, timestamps, lines");
}

Test(schema, wrong_node_kinds)
{
    expect_errors("admin: [127.0.0.1:8081]\n"
                  "timeouts: 10s\n"
                  "workers: {n: 2}\n"
                  "listen: {a: 1}\n"
                  "routes:\n  path: /\n"
                  "processes:\n  web:\n    env: [A=1]\n",
                  "1:8: admin: expected a mapping, got a list\n"
                  "2:11: timeouts: expected a mapping, got \"10s\"\n"
                  "3:10: workers: expected an integer or \"auto\", got a mapping\n"
                  "4:9: listen: needs an address\n"
                  "4:10: unknown key \"a\" in listen; valid keys: address, proxy_protocol, proxy_trusted, tls\n"
                  "6:3: routes: expected a list of routes, got a mapping\n"
                  "9:10: processes.web.env: expected a mapping of NAME: value, got a list");
}

Test(schema, top_level_must_be_a_mapping)
{
    expect_errors("- listen: 8080\n", "1:1: expected a mapping at the top level, got a list");
}

Test(schema, duplicate_key)
{
    expect_errors("listen: 8080\nworkers: 2\nlisten: 9090\n",
                  "3:1: duplicate key \"listen\"; first set at 1:1");
    expect_errors("timeouts:\n  idle: 1s\n  idle: 2s\n",
                  "3:3: duplicate key \"idle\" in timeouts; first set at 2:3");
}

Test(schema, several_errors_in_file_order)
{
    const char *path = data_path("several_errors.yaml");
    char want[4 * PATH_MAX + 512];

    cr_assert_null(conf_load(path, err, sizeof(err)));
    snprintf(want, sizeof(want),
             "%1$s:2:1: unknown key \"wokers\"; did you mean \"workers\"?\n"
             "%1$s:4:12: timeouts.connect: missing unit in \"10\"; add a unit: 10s\n"
             "%1$s:6:5: routes[0]: set either \"process\" or \"backends\", not both\n"
             "%1$s:9:10: balance: unknown value \"fastest\"; use round_robin, least_conn or random2",
             path);
    cr_assert_str_eq(err, want);
}

Test(schema, error_count_is_capped)
{
    char text[4096] = "", *p = text;

    for (int i = 0; i < 30; i++)
        p += sprintf(p, "k%d: 1\n", i);
    cr_assert_null(load_text(text));
    cr_assert_not_null(strstr(err, ":20:1: unknown key \"k19\""), "%s", err);
    cr_assert_null(strstr(err, "\"k20\""), "%s", err);
    cr_assert_not_null(strstr(err, "drover.yaml: 10 more errors not shown"), "%s", err);
}

