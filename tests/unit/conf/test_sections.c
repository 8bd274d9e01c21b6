/* conf/sections.c: listen, workers, admin and log. */
#include <criterion/criterion.h>
#include <netinet/in.h>

#include "conf_test.h"
#include "lib/cpus.h"

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
    int cpus = cpus_usable("");

    cr_assert_eq(c->workers, cpus > 256 ? 256 : cpus, "the CPUs the affinity mask and the cgroup allow");
    conf_free(c);
}

Test(sections, listen_systemd)
{
    struct conf *c = load_ok("listen: [systemd:web, \"systemd:admin-2\", 127.0.0.1:9000]\n");

    cr_assert_eq(c->nlisten, 3);
    cr_assert(c->listen[0].systemd);
    cr_assert_str_eq(c->listen[0].text, "systemd:web");
    cr_assert_str_eq(conf_addr_fdname(&c->listen[0]), "web");
    cr_assert_str_eq(conf_addr_fdname(&c->listen[1]), "admin-2");
    cr_assert_eq(c->listen[0].col, 10);
    cr_assert_not(c->listen[2].systemd);
    cr_assert_null(conf_addr_fdname(&c->listen[2]));
    conf_free(c);
    c = load_ok("listen: systemd\n");
    cr_assert(c->listen[0].systemd);
    cr_assert_null(conf_addr_fdname(&c->listen[0]), "every passed socket");
    conf_free(c);
}

Test(sections, listen_systemd_errors)
{
    expect_errors("listen: [systemd, systemd:web]\n",
                  "1:19: listen: systemd:web is taken already by \"systemd\" (every passed socket, at 1:10)");
    expect_errors("listen: [systemd:web, systemd:web]\n",
                  "1:23: listen[1]: systemd:web is listed twice (first at 1:10)");
    expect_errors("listen: \"systemd:\"\n",
                  "1:9: listen: systemd:NAME needs a name (FileDescriptorName= of the socket unit)");
    expect_errors("listen: \"systemd:a b\"\n",
                  "1:9: listen: bad socket name \"a b\" (printable characters, no ':' or space)");
    expect_errors("admin:\n  listen: systemd\n",
                  "2:11: admin.listen: missing port in \"systemd\"; write host:port");
    expect_errors("routes:\n  - backends: [systemd]\n",
                  "2:16: routes[0].backends[0]: missing port in \"systemd\"; write host:port");
}

Test(sections, drain_delay)
{
    struct conf *c = load_ok("timeouts:\n  drain_delay: 5s\n");

    cr_assert_eq(c->timeouts.drain_delay_ms, 5000);
    conf_free(c);
    expect_errors("timeouts:\n  drain_dealy: 5s\n",
                  "2:3: unknown key \"drain_dealy\" in timeouts; did you mean \"drain_delay\"?");
    expect_errors("timeouts:\n  drain_delay: 5\n",
                  "2:16: timeouts.drain_delay: missing unit in \"5\"; add a unit: 5s");
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
    c = load_ok("admin:\n  dashboard: false\n");
    cr_assert_not(c->admin.dashboard);
    cr_assert(c->admin.enabled);
    conf_free(c);
    expect_errors("admin:\n  dashboard: maybe\n", "2:14: admin.dashboard: expected true or false, got \"maybe\"");
    expect_errors("admin:\n  listen: 0.0.0.0:8081\n",
                  "2:11: admin.listen: 0.0.0.0:8081 is not a loopback address; set admin.token to expose it");
}

Test(sections, bad_log)
{
    expect_errors("log:\n  format: jsn\n  access: \"\"\n",
                  "2:11: log.format: unknown value \"jsn\"; did you mean \"json\"?\n"
                  "3:11: log.access: empty path");
}


Test(sections, log_keep_layout_and_state_file)
{
    struct conf *c = load_ok("");

    cr_assert_eq(c->log.keep, 1000);
    cr_assert_eq(c->log.keep_bytes, 1024 * 1024);
    cr_assert(c->log.timestamps);
    cr_assert_not(c->log.json_lines);
    cr_assert_null(c->app.state_file);
    conf_free(c);
    c = load_ok("log:\n  keep: 50\n  keep_bytes: 64k\n  timestamps: false\n  lines: json\n"
                "app:\n  state_file: run/state.json\n");
    cr_assert_eq(c->log.keep, 50);
    cr_assert_eq(c->log.keep_bytes, 64 * 1024);
    cr_assert_not(c->log.timestamps);
    cr_assert(c->log.json_lines);
    {
        char want[PATH_MAX + 32];

        snprintf(want, sizeof(want), "%s/run/state.json", tmpdir);
        cr_assert_str_eq(c->app.state_file, want, "relative to the config");
    }
    conf_free(c);
    expect_errors("log:\n  keep: -1\n  keep_bytes: 2G\n  timestamps: maybe\n  lines: jsn\n"
                  "  keeep: 1\n",
                  "2:9: log.keep: must be between 0 and 1000000, got -1\n"
                  "3:15: log.keep_bytes: must be between 0 and 1G, got 2G\n"
                  "4:15: log.timestamps: expected true or false, got \"maybe\"\n"
                  "5:10: log.lines: unknown value \"jsn\"; did you mean \"json\"?\n"
                  "6:3: unknown key \"keeep\" in log; did you mean \"keep\"?");
    expect_errors("app:\n  state_fil: x\n",
                  "2:3: unknown key \"state_fil\" in app; did you mean \"state_file\"?");
}
