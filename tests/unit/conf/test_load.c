/* conf/load.c: whole files, good and bad, the defaults without a file,
 * and YAML syntax errors at file:line:col. Fixtures are in data/config/. */
#include <criterion/criterion.h>

#include "conf_test.h"

static void assert_defaults(const struct conf *c)
{
    cr_assert_eq(c->nlisten, 1);
    cr_assert_str_eq(c->listen[0].text, "0.0.0.0:8080");
    cr_assert_eq(c->workers, 1);
    cr_assert(c->admin.enabled);
    cr_assert_str_eq(c->admin.listen.text, "127.0.0.1:8081");
    cr_assert(c->admin.token == NULL || c->admin.token[0] == '\0');
    cr_assert(c->admin.dashboard);
    cr_assert_str_eq(c->app.dir, c->dir);
    cr_assert_null(c->app.procfile);
    cr_assert_null(c->app.env_file);
    cr_assert_eq(c->app.base_port, 5000);
    cr_assert_eq(c->balance, BALANCE_ROUND_ROBIN);
    cr_assert_eq(c->nroutes, 1);
    cr_assert_eq(c->routes[0].host_match, HOST_ANY);
    cr_assert_str_eq(c->routes[0].path, "/");
    cr_assert_str_eq(c->routes[0].process, "web");
    cr_assert_eq(c->routes[0].nbackends, 0);
    cr_assert_eq(c->routes[0].balance, BALANCE_ROUND_ROBIN);
    cr_assert_null(c->health.path);
    cr_assert_eq(c->health.interval_ms, 2000);
    cr_assert_eq(c->health.timeout_ms, 1000);
    cr_assert_eq(c->health.rise, 2);
    cr_assert_eq(c->health.fall, 3);
    cr_assert_eq(c->retries, 2);
    cr_assert_eq(c->timeouts.connect_ms, 3000);
    cr_assert_eq(c->timeouts.client_header_ms, 10000);
    cr_assert_eq(c->timeouts.client_body_ms, 60000);
    cr_assert_eq(c->timeouts.upstream_ms, 30000);
    cr_assert_eq(c->timeouts.idle_ms, 60000);
    cr_assert_eq(c->timeouts.queue_ms, 5000);
    cr_assert_eq(c->timeouts.drain_ms, 30000);
    cr_assert_eq(c->timeouts.drain_delay_ms, 0);
    cr_assert_eq(c->timeouts.tunnel_ms, 3600000);
    cr_assert_eq(c->limits.max_connections, 10000);
    cr_assert_eq(c->limits.max_header_bytes, 16384);
    cr_assert_eq(c->limits.max_body_bytes, 0);
    cr_assert_eq(c->limits.max_queue, 1000);
    cr_assert_str_eq(c->log.access, "stdout");
    cr_assert_eq(c->log.format, LOG_FORMAT_TEXT);
}

TestSuite(load, .init = tmp_setup, .fini = tmp_teardown);

Test(load, empty_file_is_all_defaults)
{
    struct conf *c = conf_load(data_path("empty.yaml"), err, sizeof(err));

    cr_assert_not_null(c, "%s", err);
    assert_defaults(c);
    cr_assert_eq(c->routes[0].line, 0, "the implicit route");
    cr_assert_str_eq(c->file, data_path("empty.yaml"), "the path as given");
    cr_assert_str_eq(c->dir, real(data_path("")));
    cr_assert_eq(c->nprocesses, 0);
    conf_free(c);
}

Test(load, empty_mapping_is_all_defaults)
{
    struct conf *c = conf_load(data_path("empty_mapping.yaml"), err, sizeof(err));

    cr_assert_not_null(c, "%s", err);
    assert_defaults(c);
    conf_free(c);
}

Test(load, null_values_mean_unset)
{
    struct conf *c = load_ok("workers:\nadmin:\nhealth: ~\nroutes:\nlog: null\n");

    assert_defaults(c);
    conf_free(c);
}

Test(load, example_config_shows_the_defaults)
{
    const char *path = data_path("../../../../../conf/drover.yaml");
    struct conf *c;

    unsetenv("DROVER_ADMIN_TOKEN");
    c = conf_load(path, err, sizeof(err));
    cr_assert_not_null(c, "%s", err);
    assert_defaults(c);
    cr_assert_eq(c->nprocesses, 1);
    cr_assert_str_eq(c->processes[0].name, "web");
    cr_assert_eq(c->processes[0].instances, -1);
    cr_assert_null(c->processes[0].command);
    cr_assert_eq(c->processes[0].nenv, 0);
    cr_assert_null(c->processes[0].ready_path);
    cr_assert_eq(c->processes[0].ready_timeout_ms, 30000);
    cr_assert_eq(c->processes[0].stop_timeout_ms, 10000);
    cr_assert_eq(c->processes[0].memory_limit, 0);
    cr_assert_eq(c->processes[0].restart_min_ms, 100);
    cr_assert_eq(c->processes[0].restart_max_ms, 30000);
    cr_assert_eq(c->processes[0].max_inflight, 0);
    conf_free(c);
}

Test(load, full_config_every_key)
{
    struct conf *c = conf_load(data_path("full.yaml"), err, sizeof(err));
    char dir[PATH_MAX], want[PATH_MAX + 64];
    const struct conf_process *web, *worker;
    const struct conf_route *r;

    cr_assert_not_null(c, "%s", err);
    snprintf(dir, sizeof(dir), "%s", real(data_path("")));
    cr_assert_str_eq(c->dir, dir);

    cr_assert_eq(c->nlisten, 3);
    cr_assert_str_eq(c->listen[0].text, "127.0.0.1:9080");
    cr_assert_eq(c->listen[0].line, 4);
    cr_assert_eq(c->listen[0].col, 5);
    cr_assert_str_eq(c->listen[1].text, "[::1]:9080");
    snprintf(want, sizeof(want), "unix:%s/run/drover.sock", dir);
    cr_assert_str_eq(c->listen[2].text, want);
    cr_assert_eq(c->workers, 4);
    cr_assert(c->admin.enabled);
    cr_assert_str_eq(c->admin.listen.text, "0.0.0.0:9081");
    cr_assert_str_eq(c->admin.token, "s3cret");

    snprintf(want, sizeof(want), "%s/app", dir);
    cr_assert_str_eq(c->app.dir, want);
    snprintf(want, sizeof(want), "%s/app/Procfile.dev", dir);
    cr_assert_str_eq(c->app.procfile, want);
    snprintf(want, sizeof(want), "%s/app/.env", dir);
    cr_assert_str_eq(c->app.env_file, want, "../config/app/.env is cleaned");
    cr_assert_eq(c->app.base_port, 6000);

    cr_assert_eq(c->nprocesses, 2);
    web = &c->processes[0];
    worker = &c->processes[1];
    cr_assert_str_eq(web->name, "web");
    cr_assert_eq(web->line, 17);
    cr_assert_eq(web->col, 3);
    cr_assert_eq(web->instances, 4);
    cr_assert_str_eq(web->command, "bin/web --port $PORT");
    cr_assert_eq(web->nenv, 2);
    cr_assert_str_eq(web->env[0].key, "RAILS_ENV");
    cr_assert_str_eq(web->env[0].value, "production");
    cr_assert_str_eq(web->env[1].key, "WORKERS");
    cr_assert_str_eq(web->env[1].value, "3");
    cr_assert_str_eq(web->ready_path, "/health");
    cr_assert_eq(web->ready_timeout_ms, 45000);
    cr_assert_eq(web->stop_timeout_ms, 20000);
    cr_assert_eq(web->memory_limit, 512ULL << 20);
    cr_assert_eq(web->restart_min_ms, 250);
    cr_assert_eq(web->restart_max_ms, 60000);
    cr_assert_eq(web->max_inflight, 8);
    cr_assert_str_eq(worker->name, "worker");
    cr_assert_eq(worker->instances, 2);
    cr_assert_null(worker->command);
    cr_assert_eq(worker->stop_timeout_ms, 10000, "defaults for unset keys");

    cr_assert_eq(c->nroutes, 3);
    r = &c->routes[0];
    cr_assert_eq(r->host_match, HOST_ANY);
    cr_assert_str_eq(r->path, "/api/");
    cr_assert_str_eq(r->process, "api", "no processes.api entry needed");
    cr_assert(r->strip_prefix);
    cr_assert_eq(r->balance, BALANCE_RANDOM2, "top-level balance, though written after routes");
    cr_assert_eq(r->line, 29);
    cr_assert_eq(r->col, 5);
    r = &c->routes[1];
    cr_assert_eq(r->host_match, HOST_SUFFIX);
    cr_assert_str_eq(r->host, ".static.example");
    cr_assert_str_eq(r->path, "/");
    cr_assert_null(r->process);
    cr_assert_eq(r->nbackends, 2);
    cr_assert_str_eq(r->backends[0].text, "10.0.0.5:80");
    cr_assert_str_eq(r->backends[1].text, "unix:/run/app.sock");
    cr_assert_eq(r->backends[1].line, 33);
    cr_assert_eq(r->max_inflight, 16);
    cr_assert_eq(r->balance, BALANCE_LEAST_CONN);
    cr_assert_not(r->strip_prefix);
    r = &c->routes[2];
    cr_assert_eq(r->host_match, HOST_EXACT);
    cr_assert_str_eq(r->host, "admin.example", "lowercased, trailing dot dropped");
    cr_assert_str_eq(r->process, "web");

    cr_assert_eq(c->balance, BALANCE_RANDOM2);
    cr_assert_str_eq(c->health.path, "/healthz");
    cr_assert_eq(c->health.interval_ms, 5000);
    cr_assert_eq(c->health.timeout_ms, 1500);
    cr_assert_eq(c->health.rise, 3);
    cr_assert_eq(c->health.fall, 5);
    cr_assert_eq(c->retries, 4);
    cr_assert_eq(c->timeouts.connect_ms, 1000);
    cr_assert_eq(c->timeouts.client_header_ms, 5000);
    cr_assert_eq(c->timeouts.client_body_ms, 30000);
    cr_assert_eq(c->timeouts.upstream_ms, 120000);
    cr_assert_eq(c->timeouts.idle_ms, 75000);
    cr_assert_eq(c->timeouts.queue_ms, 250);
    cr_assert_eq(c->timeouts.drain_ms, 60000);
    cr_assert_eq(c->timeouts.tunnel_ms, 7200000);
    cr_assert_eq(c->limits.max_connections, 5000);
    cr_assert_eq(c->limits.max_header_bytes, 32768);
    cr_assert_eq(c->limits.max_body_bytes, 10ULL << 20);
    cr_assert_eq(c->limits.max_queue, 50);
    snprintf(want, sizeof(want), "%s/logs/access.log", dir);
    cr_assert_str_eq(c->log.access, want);
    cr_assert_eq(c->log.format, LOG_FORMAT_JSON);
    conf_free(c);
}

Test(load, relative_paths_start_at_the_config_dir)
{
    struct conf *c = load_ok("app:\n  dir: ./srv/../app/\n  env_file: /etc/app.env\n"
                             "listen: unix:drover.sock\n"
                             "log:\n  access: ../access.log\n");
    char want[PATH_MAX + 64];

    cr_assert_str_eq(c->dir, tmpdir);
    snprintf(want, sizeof(want), "%s/app", tmpdir);
    cr_assert_str_eq(c->app.dir, want);
    cr_assert_str_eq(c->app.env_file, "/etc/app.env", "absolute paths stay");
    snprintf(want, sizeof(want), "unix:%s/drover.sock", tmpdir);
    cr_assert_str_eq(c->listen[0].text, want);
    cr_assert_str_eq(c->log.access, "/tmp/access.log");
    conf_free(c);
}

Test(load, conf_default_uses_dir_and_port)
{
    struct conf *c;

    unsetenv("PORT");
    c = conf_default(tmpdir, err, sizeof(err));
    cr_assert_not_null(c, "%s", err);
    assert_defaults(c);
    cr_assert_null(c->file);
    cr_assert_str_eq(c->dir, tmpdir);
    cr_assert_str_eq(c->app.dir, tmpdir);
    conf_free(c);

    setenv("PORT", "5123", 1);
    c = conf_default(tmpdir, err, sizeof(err));
    cr_assert_not_null(c, "%s", err);
    cr_assert_str_eq(c->listen[0].text, "0.0.0.0:5123", "like foreman: the router takes $PORT");
    conf_free(c);

    setenv("PORT", "nope", 1);
    cr_assert_null(conf_default(tmpdir, err, sizeof(err)));
    cr_assert_str_eq(err, "PORT=\"nope\" is not a port (1 to 65535)");
    unsetenv("PORT");
    cr_assert_null(conf_default("/nonexistent/drover", err, sizeof(err)));
    cr_assert_str_eq(err, "/nonexistent/drover: No such file or directory");
}

Test(load, yaml_syntax_error)
{
    const char *path = data_path("syntax_error.yaml");
    char want[PATH_MAX + 200];

    cr_assert_null(conf_load(path, err, sizeof(err)));
    snprintf(want, sizeof(want),
             "%s:5:3: did not find expected '-' indicator (while parsing a block collection at 3:3)", path);
    cr_assert_str_eq(err, want);
}

Test(load, yaml_syntax_error_inline)
{
    expect_errors("listen: 8080\nworkers: 2\n  admin: x\n", "3:8: mapping values are not allowed in this context");
    expect_errors("listen: [8080\n", "2:1: did not find expected ',' or ']' (while parsing a flow sequence at 1:9)");
}

Test(load, only_one_document)
{
    expect_errors("workers: 2\n---\nworkers: 3\n", "3:1: only one YAML document is allowed");
}

Test(load, missing_file)
{
    cr_assert_null(conf_load("/nonexistent/drover.yaml", err, sizeof(err)));
    cr_assert_str_eq(err, "/nonexistent/drover.yaml: cannot read: No such file or directory");
}

