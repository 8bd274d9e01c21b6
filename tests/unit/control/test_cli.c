/* control/cli: the control commands through cli_run, against a fake admin
 * API: arguments, the request each command sends, where the address and
 * the token come from, what is printed and the exit codes. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "control/cli.h"
#include "tests/unit/control/fake_http.h"

static char tmpdir[64];

static void cleanup(void)
{
    char path[128];

    fake_http_stop();
    if (tmpdir[0] == '\0')
        return;
    snprintf(path, sizeof(path), "%s/drover.yaml", tmpdir);
    unlink(path);
    rmdir(tmpdir);
}

TestSuite(cli, .fini = cleanup);

/* DIR/drover.yaml with text; returns DIR. */
static const char *config_dir(const char *text)
{
    char path[128];
    FILE *f;

    if (tmpdir[0] == '\0') {
        snprintf(tmpdir, sizeof(tmpdir), "/tmp/drover-cli-XXXXXX");
        cr_assert_not_null(mkdtemp(tmpdir));
    }
    snprintf(path, sizeof(path), "%s/drover.yaml", tmpdir);
    f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    return tmpdir;
}

static struct sbuf out, err;

/* `drover ARGS...` (NULL-terminated); out and err get what it printed. */
static int drover(const char *arg0, ...)
{
    char *argv[32];
    int argc = 0;
    va_list ap;

    sbuf_free(&out);
    sbuf_free(&err);
    argv[argc++] = (char *)arg0;
    va_start(ap, arg0);
    while ((argv[argc] = va_arg(ap, char *)) != NULL)
        argc++;
    va_end(ap);
    sbuf_puts(&out, "");
    sbuf_puts(&err, "");
    return cli_run(argc, argv, &out, &err);
}

/* err is "drover CMD: <why>\n" followed by the usage. */
static void assert_usage_error(const char *cmd, const char *why)
{
    char first[512];

    snprintf(first, sizeof(first), "drover %s: %s\nusage: drover status [--json]", cmd, why);
    cr_assert(strncmp(err.data, first, strlen(first)) == 0, "%s", err.data);
}

Test(cli, usage_errors_exit_2_and_print_the_usage)
{
    cr_assert_eq(drover("status", "--frob", NULL), 2);
    assert_usage_error("status", "unknown option --frob");
    cr_assert_eq(drover("status", "-x", NULL), 2);
    assert_usage_error("status", "unknown option -x");
    cr_assert_eq(drover("status", "--admin", NULL), 2);
    assert_usage_error("status", "option --admin needs a value");
    cr_assert_eq(drover("status", "web", NULL), 2);
    assert_usage_error("status", "unexpected argument \"web\"");
    cr_assert_eq(drover("restart", NULL), 2);
    assert_usage_error("restart", "which process type?");
    cr_assert_eq(drover("stop", "web", "worker", NULL), 2);
    assert_usage_error("stop", "unexpected argument \"worker\"");
    cr_assert_eq(drover("start", "we/b", NULL), 2);
    assert_usage_error("start", "\"we/b\" is not a process type name (letters, digits, _ and -)");
    cr_assert_eq(drover("scale", NULL), 2);
    assert_usage_error("scale", "TYPE=N expected");
    cr_assert_eq(drover("frob", NULL), 2);
    assert_usage_error("frob", "unknown command \"frob\"");
    cr_assert_str_empty(out.data);
}

Test(cli, help_goes_to_stdout)
{
    cr_assert_eq(drover("reload", "-h", NULL), 0);
    cr_assert(strncmp(out.data, "usage: drover status [--json]", 29) == 0, "%s", out.data);
    cr_assert(strstr(out.data, "DROVER_ADMIN_TOKEN") != NULL);
    cr_assert_str_empty(err.data);
}

Test(cli, scale_sends_the_counts_in_order)
{
    const char *req;

    unsetenv("DROVER_ADMIN_TOKEN");
    fake_http_start(NULL);
    fake_http_json(200, "{\"formation\":{\"web\":4,\"worker\":1,\"clock\":0}}");
    cr_assert_eq(drover("scale", "web=4", "--admin", fake.addr, "worker=1,clock=0", NULL), 0, "%s",
                 err.data);
    cr_assert_str_eq(out.data, "web=4 worker=1 clock=0\n");
    req = fake_http_request();
    cr_assert(strncmp(req, "POST /scale HTTP/1.1\r\n", 22) == 0, "%s", req);
    cr_assert(strstr(req, "\r\n\r\n{\"web\":4,\"worker\":1,\"clock\":0}") != NULL, "%s", req);
}

Test(cli, scale_arguments_are_checked_before_anything_is_sent)
{
    static const char *const bad[] = {"web", "web=", "=4", "web=-1", "we b=1", "web=1x",
                                      "web=1234567", ",web=1"};
    char why[128];

    fake_http_start(NULL);
    fake_http_json(200, "{}");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_assert_eq(drover("scale", bad[i], "--admin", fake.addr, NULL), 2, "%s accepted", bad[i]);
        snprintf(why, sizeof(why), "\"%s\" is not TYPE=N (like web=4)", bad[i][0] == ',' ? "" : bad[i]);
        assert_usage_error("scale", why);
    }
    cr_assert_eq(drover("scale", "web=4,", "--admin", fake.addr, NULL), 2);
    assert_usage_error("scale", "\"\" is not TYPE=N (like web=4)");
    cr_assert_eq(drover("scale", "web=1,web=2", "--admin", fake.addr, NULL), 2);
    assert_usage_error("scale", "web is given twice");
    cr_assert_eq(drover("scale", "web=1", "worker=1", "web=2", "--admin", fake.addr, NULL), 2);
    assert_usage_error("scale", "web is given twice");
    cr_assert_eq(fake.nrequests, 0);
}

Test(cli, commands_methods_paths_and_what_they_print)
{
    static const struct {
        const char *cmd, *arg, *request_line, *printed;
    } cases[] = {
        {"restart", "web", "POST /processes/web/restart HTTP/1.1\r\n",
         "restarting web (rolling, in the background)\n"},
        {"stop", "my_worker-2", "POST /processes/my_worker-2/stop HTTP/1.1\r\n",
         "stopping my_worker-2 (in the background)\n"},
        {"start", "web", "POST /processes/web/start HTTP/1.1\r\n",
         "starting web (in the background)\n"},
        {"reload", NULL, "POST /reload HTTP/1.1\r\n", "a → b\nc\n"},
    };

    unsetenv("DROVER_ADMIN_TOKEN");
    fake_http_start(NULL);
    fake_http_json(202, "{\"changes\":[\"a → b\",\"c\"]}");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = cases[i].arg != NULL ? drover(cases[i].cmd, cases[i].arg, "--admin", fake.addr, NULL)
                                      : drover(cases[i].cmd, "--admin", fake.addr, NULL);

        cr_assert_eq(rc, 0, "%s: %s", cases[i].cmd, err.data);
        cr_assert(strncmp(fake_http_request(), cases[i].request_line,
                          strlen(cases[i].request_line)) == 0,
                  "%s", fake_http_request());
        cr_assert_str_eq(out.data, cases[i].printed);
    }
}

Test(cli, status_as_a_table_or_as_it_came)
{
    const char *doc = "{\"drover\":{\"pid\":42,\"uptime_s\":75.5,\"draining\":true},"
                      "\"processes\":[{\"type\":\"web\",\"instances\":[{\"name\":\"web.1\","
                      "\"pid\":43,\"port\":5000,\"state\":\"up\",\"restarts\":1}]}]}";

    unsetenv("DROVER_ADMIN_TOKEN");
    fake_http_start(NULL);
    fake_http_json(200, doc);
    cr_assert_eq(drover("status", "--admin", fake.addr, NULL), 0, "%s", err.data);
    cr_assert(strncmp(fake_http_request(), "GET /status HTTP/1.1\r\n", 22) == 0);
    cr_assert_str_eq(out.data,
        "TYPE  INSTANCE  PID  PGID  PORT  STATE  RESTARTS  UPTIME  RSS  IN-FLIGHT  REQUESTS\n"
        "web   web.1     43   -     5000  up     1         -       -    -          -\n"
        "\n"
        "drover pid 42, up 1m15s, draining\n");
    cr_assert_eq(drover("status", "--json", "--admin", fake.addr, NULL), 0);
    cr_assert_eq(out.len, strlen(doc) + 1);
    cr_assert(strncmp(out.data, doc, strlen(doc)) == 0 && out.data[out.len - 1] == '\n');
}

Test(cli, the_token_from_the_environment_else_the_config)
{
    char yaml[256];
    const char *dir;

    fake_http_start(NULL);
    fake_http_json(200, "{\"changes\":[]}");
    snprintf(yaml, sizeof(yaml), "admin:\n  listen: %s\n  token: fromfile\n", fake.addr);
    dir = config_dir(yaml);

    unsetenv("DROVER_ADMIN_TOKEN");
    cr_assert_eq(drover("reload", "-d", dir, NULL), 0, "%s", err.data);
    cr_assert(strstr(fake_http_request(), "\r\nAuthorization: Bearer fromfile\r\n") != NULL);
    cr_assert_str_eq(out.data, "no changes\n");

    setenv("DROVER_ADMIN_TOKEN", "fromenv", 1);
    cr_assert_eq(drover("reload", "-d", dir, NULL), 0, "%s", err.data);
    cr_assert(strstr(fake_http_request(), "\r\nAuthorization: Bearer fromenv\r\n") != NULL);

    /* --admin and a token in the environment: the config is not even read. */
    config_dir("admin: [broken\n");
    cr_assert_eq(drover("reload", "-d", dir, "--admin", fake.addr, NULL), 0, "%s", err.data);
    unsetenv("DROVER_ADMIN_TOKEN");
    cr_assert_eq(drover("reload", "-d", dir, "--admin", fake.addr, NULL), 1);
    cr_assert(strncmp(err.data, "drover: ", 8) == 0 && strstr(err.data, "/drover.yaml:") != NULL,
              "%s", err.data);

    setenv("DROVER_ADMIN_TOKEN", "bad\r\nX-Evil: 1", 1);
    cr_assert_eq(drover("reload", "--admin", fake.addr, NULL), 1);
    cr_assert_str_eq(err.data, "drover: the admin token holds a control character\n");
}

Test(cli, where_the_admin_api_is)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    socklen_t len = sizeof(sin);
    char yaml[128], want[512];
    const char *dir;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    unsetenv("DROVER_ADMIN_TOKEN");
    /* admin.listen of DIR/drover.yaml, where nobody listens. */
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    getsockname(fd, (struct sockaddr *)&sin, &len);
    close(fd);
    snprintf(yaml, sizeof(yaml), "admin:\n  listen: 127.0.0.1:%d\n", ntohs(sin.sin_port));
    dir = config_dir(yaml);
    cr_assert_eq(drover("status", "-d", dir, NULL), 1);
    snprintf(want, sizeof(want),
             "drover: cannot reach the admin API at 127.0.0.1:%d: Connection refused "
             "(is drover running?)\n",
             ntohs(sin.sin_port));
    cr_assert_str_eq(err.data, want);

    dir = config_dir("admin:\n  listen: off\n");
    cr_assert_eq(drover("status", "-d", dir, NULL), 1);
    snprintf(want, sizeof(want),
             "drover: admin API disabled in %s/drover.yaml (admin.listen: off); use --admin ADDR\n",
             dir);
    cr_assert_str_eq(err.data, want);

    cr_assert_eq(drover("status", "--admin", "nope", NULL), 2);
    cr_assert(strncmp(err.data, "drover status: --admin nope: ", 29) == 0, "%s", err.data);
    cr_assert_eq(drover("status", "--admin", "unix:/nonexistent/a.sock", "-d", "/nonexistent", NULL),
                 1);
    cr_assert_str_eq(err.data, "drover: cannot reach the admin API at unix:/nonexistent/a.sock: "
                               "No such file or directory (is drover running?)\n");
}

Test(cli, refusals_are_one_line_on_stderr_and_exit_1)
{
    char want[512];

    fake_http_start(NULL);
    setenv("DROVER_ADMIN_TOKEN", "wrong", 1);
    fake_http_json(401, "{\"error\":\"missing or wrong bearer token\"}");
    cr_assert_eq(drover("status", "--admin", fake.addr, NULL), 1);
    snprintf(want, sizeof(want),
             "drover: the admin API at %s refused the token (set DROVER_ADMIN_TOKEN)\n", fake.addr);
    cr_assert_str_eq(err.data, want);
    cr_assert_str_empty(out.data);
    unsetenv("DROVER_ADMIN_TOKEN");
    cr_assert_eq(drover("status", "--admin", fake.addr, NULL), 1);
    snprintf(want, sizeof(want),
             "drover: the admin API at %s needs a token (set DROVER_ADMIN_TOKEN)\n", fake.addr);
    cr_assert_str_eq(err.data, want);

    fake_http_json(404, "{\"error\":\"unknown process type \\\"nosuch\\\"\"}");
    cr_assert_eq(drover("restart", "nosuch", "--admin", fake.addr, NULL), 1);
    cr_assert_str_eq(err.data, "drover: unknown process type \"nosuch\"\n");
    fake_http_json(422, "{\"error\":\"app/drover.yaml:3:5: bad\\nsecond line\"}");
    cr_assert_eq(drover("reload", "--admin", fake.addr, NULL), 1);
    cr_assert_str_eq(err.data, "drover: app/drover.yaml:3:5: bad second line\n");
    fake_http_json(500, "oops");
    cr_assert_eq(drover("reload", "--admin", fake.addr, NULL), 1);
    snprintf(want, sizeof(want), "drover: the admin API at %s answered 500 Internal Server Error\n",
             fake.addr);
    cr_assert_str_eq(err.data, want);
    fake_http_json(200, "{\"changes\":");
    cr_assert_eq(drover("reload", "--admin", fake.addr, NULL), 1);
    snprintf(want, sizeof(want), "drover: the admin API at %s sent invalid JSON: line 1 column ",
             fake.addr);
    cr_assert(strncmp(err.data, want, strlen(want)) == 0, "%s", err.data);
    cr_assert_str_empty(out.data);
}
