/* conf/print.c: the two tables `drover check` prints. */
#include <criterion/criterion.h>

#include "formation_test.h"

TestSuite(print, .init = tmp_setup, .fini = tmp_teardown);

Test(print, print_plan)
{
    struct conf *c = conf_load(data_path("full.yaml"), err, sizeof(err));
    char *out = NULL;
    size_t len = 0;
    FILE *fp;

    cr_assert_not_null(c, "%s", err);
    fp = open_memstream(&out, &len);
    cr_assert_not_null(fp);
    conf_print_plan(c, fp);
    fclose(fp);
    cr_assert_not_null(strstr(out, "\nlisten          127.0.0.1:9080\n                [::1]:9080\n"), "%s", out);
    cr_assert_not_null(strstr(out, "\nworkers         4\n"), "%s", out);
    cr_assert_not_null(strstr(out, "\nadmin           0.0.0.0:9081 (bearer token required; dashboard at /)\n"), "%s", out);
    cr_assert_not_null(strstr(out, "\n  web           instances         4\n"), "%s", out);
    cr_assert_not_null(strstr(out, "                memory_limit      512M\n"), "%s", out);
    cr_assert_not_null(strstr(out, "\n  /api/              -> process api  (random2, strip_prefix)\n"), "%s", out);
    cr_assert_not_null(strstr(out, "\n  *.static.example/  -> 10.0.0.5:80, unix:/run/app.sock  "
                                   "(least_conn, max_inflight 16 per backend)\n"), "%s", out);
    cr_assert_not_null(strstr(out, "                timeout           1.5s\n"), "%s", out);
    cr_assert_not_null(strstr(out, "\ntimeouts        connect           1s\n"), "%s", out);
    cr_assert_not_null(strstr(out, "                tunnel            2h\n"), "%s", out);
    cr_assert_not_null(strstr(out, "                max_header_bytes  32k\n"), "%s", out);
    cr_assert_not_null(strstr(out, "                max_body_bytes    10M\n"), "%s", out);
    cr_assert_not_null(strstr(out, "                format            json\n"), "%s", out);
    cr_assert_null(strstr(out, "s3cret"), "the admin token is never printed");
    cr_assert_null(strstr(out, "production"), "env values are never printed");
    cr_assert_null(strstr(out, " \n"), "no trailing blanks");
    cr_assert_null(strstr(out, "ok\n"), "the caller prints \"config ok\"");
    free(out);
    conf_free(c);
}

TestSuite(plan_print, .init = setup, .fini = plan_teardown);

Test(plan_print, print)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out;
    char want[PATH_MAX * 2 + 1024];

    put("Procfile", "web: bundle exec puma -p $PORT\nworker: bin/worker\n");
    put("app_desc.yaml", "spec_version: 2\n");
    load_dir();
    conf_text("processes:\n  web: {ready: {path: /health}, env: {SECRET: s}}\n");
    build_ok("web=2");
    out = open_memstream(&buf, &len);
    plan_print(&plan, out);
    fclose(out);
    snprintf(want, sizeof(want),
             "formation       %s (app_desc.yaml ignored: the Procfile wins)\n"
             "web x2          routed, ready: HTTP GET /health within 30s\n"
             "                dir %s, stop_timeout 10s, restart back-off 100ms..30s\n"
             "                env SECRET\n"
             "  web.1         port 5000   bundle exec puma -p $PORT\n"
             "  web.2         port 5001   bundle exec puma -p $PORT\n"
             "worker x1       not routed\n"
             "                dir %s, stop_timeout 10s, restart back-off 100ms..30s\n"
             "  worker.1      port 5100   bin/worker\n",
             at("Procfile"), dir, dir);
    cr_assert_str_eq(buf, want);
    free(buf);
}

Test(plan_print, settings_and_escaped_commands)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out;
    char want[PATH_MAX * 2 + 1024];

    put("Procfile", "web: w\n");
    load_dir();
    conf_text("processes:\n  web: {memory_limit: 512M, max_inflight: 4, command: \"a\\tb\\nc\\x01\"}\n");
    build_ok(NULL);
    out = open_memstream(&buf, &len);
    plan_print(&plan, out);
    fclose(out);
    snprintf(want, sizeof(want),
             "formation       %s\n"
             "web x1          routed, ready: TCP connect within 30s, command from drover.yaml\n"
             "                dir %s, stop_timeout 10s, restart back-off 100ms..30s, memory_limit 512M, "
             "max_inflight 4\n"
             "  web.1         port 5000   a\\tb\\nc\\x01\n",
             at("Procfile"), dir);
    cr_assert_str_eq(buf, want);
    free(buf);
}
