/* The command line: `drover check`, exit codes, start-up errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/e2e/client.h"
#include "tests/e2e/harness.h"

static char *output_of(const char *name)
{
    char *text = e2e_read_file(e2e_fmt("%s/%s.log", e2e_dir(), name), NULL);

    return text != NULL ? text : e2e_fmt("%s", "");
}

E2E_TEST(check_typo_names_file_line_col_and_hint, 30)
{
    char *file = e2e_write_file("typo.yaml", "# a config with a typo\n"
                                             "listen: 127.0.0.1:8080\n"
                                             "timeouts:\n"
                                             "  conect: 3s\n");
    char *argv[] = {(char *)e2e_drover_bin, "check", "-c", file, NULL};
    int code = e2e_run("check", argv, 10000);
    char *out = output_of("check");

    e2e_log("%s", out);
    ASSERT(code == 1, "exit %d", code);
    ASSERT(strstr(out, e2e_fmt("%s:4:3: ", file)) != NULL, "no file:line:col in: %s", out);
    ASSERT(strstr(out, "\"conect\"") != NULL && strstr(out, "did you mean \"connect\"") != NULL,
           "no hint in: %s", out);
}

E2E_TEST(check_prints_the_plan, 30)
{
    char *file = e2e_write_file("good.yaml", "listen: [127.0.0.1:18080, \"unix:/tmp/x.sock\"]\n"
                                             "balance: least_conn\n"
                                             "timeouts:\n  upstream: 2500ms\n"
                                             "routes:\n"
                                             "  - host: \"*.example.test\"\n"
                                             "    path: /api/\n"
                                             "    backends: [127.0.0.1:9001, \"[::1]:9002\"]\n"
                                             "  - path: /\n    process: web\n");
    char *argv[] = {(char *)e2e_drover_bin, "check", "-c", file, NULL};
    int code;
    char *out;

    e2e_write_file("Procfile", "web: bin/serve --port $PORT\n");
    code = e2e_run("check", argv, 10000);
    out = output_of("check");
    e2e_log("%s", out);
    ASSERT(code == 0, "exit %d", code);
    ASSERT(strstr(out, "web.1") && strstr(out, "5000") && strstr(out, "bin/serve --port $PORT"),
           "the formation is not printed");
    ASSERT(strstr(out, "127.0.0.1:18080") && strstr(out, "unix:/tmp/x.sock"));
    ASSERT(strstr(out, "*.example.test") && strstr(out, "/api/"));
    ASSERT(strstr(out, "127.0.0.1:9001") && strstr(out, "[::1]:9002"));
    ASSERT(strstr(out, "least_conn"));
    ASSERT(strstr(out, "2500ms") || strstr(out, "2.5s"));
    ASSERT(strstr(out, "config ok"));
}

E2E_TEST(route_to_a_process_without_a_formation_is_an_error, 30)
{
    char *file = e2e_write_file("d.yaml", "routes:\n  - path: /\n    process: web\n");
    char *argv[] = {(char *)e2e_drover_bin, "check", "-c", file, NULL};
    char *out;

    ASSERT(e2e_run("check", argv, 10000) == 1);
    out = output_of("check");
    ASSERT(strstr(out, e2e_fmt("no Procfile or app_desc.yaml in %s", e2e_dir())) != NULL, "%s",
           out);
}

E2E_TEST(usage_errors_exit_2_and_bad_config_exit_1, 30)
{
    char *bad = e2e_write_file("bad.yaml", "listen: [\n");
    char *argv1[] = {(char *)e2e_drover_bin, "run", "--no-such-flag", NULL};
    char *argv2[] = {(char *)e2e_drover_bin, "frobnicate", NULL};
    char *argv3[] = {(char *)e2e_drover_bin, "run", "-c", bad, NULL};
    char *argv4[] = {(char *)e2e_drover_bin, "version", NULL};
    char *out;

    ASSERT(e2e_run("flag", argv1, 10000) == 2);
    ASSERT(e2e_run("cmd", argv2, 10000) == 2);
    ASSERT(e2e_run("run", argv3, 10000) == 1);
    out = output_of("run");
    ASSERT(strstr(out, e2e_fmt("%s:", bad)) != NULL, "no file name in: %s", out);
    ASSERT(e2e_run("version", argv4, 10000) == 0);
    ASSERT(strncmp(output_of("version"), "drover ", 7) == 0);
}

E2E_TEST(listen_address_in_use_is_a_startup_error, 30)
{
    int port = e2e_free_port();
    struct e2e_proc *b = e2e_backend("squatter", port);
    char *file = e2e_write_file("d.yaml", e2e_fmt("listen: 127.0.0.1:%d\nadmin:\n  listen: off\n"
                                                  "routes:\n  - backends: [127.0.0.1:1]\n",
                                                  port));
    char *argv[] = {(char *)e2e_drover_bin, "run", "-c", file, NULL};
    char *out;

    (void)b;
    ASSERT(e2e_run("drover", argv, 10000) == 1);
    out = output_of("drover");
    ASSERT(strstr(out, e2e_fmt("127.0.0.1:%d", port)) != NULL && strstr(out, "in use") != NULL,
           "unclear: %s", out);
}
