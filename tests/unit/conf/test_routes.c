/* conf/routes.c: routes[], hosts and paths, process or backends. */
#include <criterion/criterion.h>

#include "conf_test.h"

TestSuite(routes, .init = tmp_setup, .fini = tmp_teardown);

Test(routes, route_hosts)
{
    struct conf *c = load_ok("routes:\n"
                             "  - host: API.Example.COM\n    process: api\n"
                             "  - host: \"*.Example.com\"\n    path: /static/\n    backends: 127.0.0.1:9000\n"
                             "  - host: \"*\"\n    process: web\n");

    cr_assert_eq(c->nroutes, 3);
    cr_assert_eq(c->routes[0].host_match, HOST_EXACT);
    cr_assert_str_eq(c->routes[0].host, "api.example.com");
    cr_assert_eq(c->routes[1].host_match, HOST_SUFFIX);
    cr_assert_str_eq(c->routes[1].host, ".example.com");
    cr_assert_str_eq(c->routes[1].path, "/static/");
    cr_assert_eq(c->routes[1].nbackends, 1, "one backend may be written without a list");
    cr_assert_eq(c->routes[2].host_match, HOST_ANY);
    conf_free(c);
    expect_errors("routes:\n"
                  "  - host: a.*.com\n    process: web\n"
                  "  - host: a.com:80\n    process: web\n"
                  "  - host: a/b\n    process: web\n",
                  "2:11: routes[0].host: a wildcard is written \"*.example.com\", got \"a.*.com\"\n"
                  "4:11: routes[1].host: leave the port out of \"a.com:80\"\n"
                  "6:11: routes[2].host: \"a/b\" is not a host name");
}

Test(routes, route_checks)
{
    expect_errors("routes:\n"
                  "  - path: api/\n    process: api\n"
                  "  - path: /x\n    process: \"we b\"\n"
                  "  - path: /y\n    backends: []\n"
                  "  - path: /z\n    process: api\n    max_inflight: 4\n"
                  "  - path: /z\n    process: web\n",
                  "2:11: routes[0].path: must start with \"/\", got \"api/\"\n"
                  "5:14: routes[1].process: bad process type name \"we b\"; use letters, digits, \"_\" and \"-\"\n"
                  "7:15: routes[2].backends: needs at least one address\n"
                  "10:19: routes[3].max_inflight: applies to static backends; for a process set "
                  "processes.api.max_inflight\n"
                  "11:5: routes[4]: same host and path as routes[3] (line 8); it would never match");
}

Test(routes, route_with_process_and_backends)
{
    expect_errors("routes:\n  - path: /\n    process: web\n    backends: [127.0.0.1:9000]\n",
                  "2:5: routes[0]: set either \"process\" or \"backends\", not both");
}

Test(routes, route_with_neither)
{
    expect_errors("routes:\n  - path: /\n  - {host: a.test}\n",
                  "2:5: routes[0]: needs \"process\" (a process type) or \"backends\" (a list of addresses)\n"
                  "3:5: routes[1]: needs \"process\" (a process type) or \"backends\" (a list of addresses)");
}

