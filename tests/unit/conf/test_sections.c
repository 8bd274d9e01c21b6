/* conf/sections.c: listen, workers, admin and log. */
#include <criterion/criterion.h>
#include <netinet/in.h>

#include "conf_test.h"

TestSuite(sections, .init = tmp_setup, .fini = tmp_teardown);

Test(sections, listen_forms)
{
    struct conf *c = load_ok("listen: 9000\n");

    cr_assert_str_eq(c->listen[0].text, "0.0.0.0:9000", "a bare port in listen");
    cr_assert_eq(c->listen[0].line, 1);
    cr_assert_eq(c->listen[0].col, 9);
    conf_free(c);
    c = load_ok("listen: [\":9001\", \"*:9002\", localhost:9003]\n");
    cr_assert_eq(c->nlisten, 3);
    cr_assert_str_eq(c->listen[0].text, "0.0.0.0:9001");
    cr_assert_str_eq(c->listen[1].text, "0.0.0.0:9002");
    cr_assert_str_eq(c->listen[2].text, "127.0.0.1:9003");
    conf_free(c);
}

Test(sections, bare_port_only_in_listen)
{
    expect_errors("routes:\n  - backends: [9000]\n",
                  "2:16: routes[0].backends[0]: missing port in \"9000\"; write host:port");
}

Test(sections, workers_auto)
{
    struct conf *c = load_ok("workers: auto\n");
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);

    cr_assert_eq(c->workers, cpus < 1 ? 1 : cpus > 256 ? 256 : cpus);
    conf_free(c);
}

Test(sections, admin_off_and_token)
{
    struct conf *c = load_ok("admin:\n  listen: off\n");

    cr_assert_not(c->admin.enabled);
    conf_free(c);
    c = load_ok("admin:\n  listen: \"[::]:9999\"\n  token: t0k\n");
    cr_assert(c->admin.enabled);
    cr_assert_str_eq(c->admin.listen.text, "[::]:9999");
    cr_assert_str_eq(c->admin.token, "t0k");
    conf_free(c);
    c = load_ok("admin:\n  listen: unix:admin.sock\n");
    cr_assert_eq(c->admin.listen.ss.ss_family, AF_UNIX);
    conf_free(c);
    expect_errors("admin:\n  listen: 0.0.0.0:8081\n",
                  "2:11: admin.listen: 0.0.0.0:8081 is not a loopback address; set admin.token to expose it");
}

Test(sections, bad_log)
{
    expect_errors("log:\n  format: jsn\n  access: \"\"\n",
                  "2:11: log.format: unknown value \"jsn\"; did you mean \"json\"?\n"
                  "3:11: log.access: empty path");
}

