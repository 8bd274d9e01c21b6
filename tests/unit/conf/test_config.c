/* conf/config.c: value parsers, ${VAR} expansion, whole files (good and
 * bad, with exact "file:line:col: message" errors) and the printed plan.
 * Fixtures live in tests/unit/conf/data/config/ (found from __FILE__); small
 * cases write their YAML to a temporary directory. */
#include <criterion/criterion.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf/config.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

static char err[8192];
static char tmpdir[PATH_MAX];
static char yaml_path[PATH_MAX + 32];

/* tests/unit/conf/data/config/NAME, relative to where this file was compiled
 * from (the repository root under make). */
static const char *data_path(const char *name)
{
    static char buf[PATH_MAX];
    const char *slash = strrchr(__FILE__, '/');

    if (slash == NULL)
        snprintf(buf, sizeof(buf), "data/config/%s", name);
    else
        snprintf(buf, sizeof(buf), "%.*s/data/config/%s", (int)(slash - __FILE__), __FILE__, name);
    return buf;
}

/* The absolute, symlink-free form of PATH (which must exist). */
static const char *real(const char *path)
{
    static char buf[PATH_MAX];

    cr_assert_not_null(realpath(path, buf), "realpath(%s)", path);
    return buf;
}

static void tmp_setup(void)
{
    char tmpl[] = "/tmp/drover-conf-XXXXXX";

    cr_assert_not_null(mkdtemp(tmpl));
    snprintf(tmpdir, sizeof(tmpdir), "%s", real(tmpl));
    snprintf(yaml_path, sizeof(yaml_path), "%s/drover.yaml", tmpdir);
}

static void tmp_teardown(void)
{
    unlink(yaml_path);
    rmdir(tmpdir);
}

/* Writes TEXT to <tmpdir>/drover.yaml and loads it. */
static struct conf *load_text(const char *text)
{
    FILE *f = fopen(yaml_path, "w");

    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    err[0] = '\0';
    return conf_load(yaml_path, err, sizeof(err));
}

static struct conf *load_ok(const char *text)
{
    struct conf *c = load_text(text);

    cr_assert_not_null(c, "unexpected error: %s", err);
    return c;
}

/* TEXT must fail with exactly "<file>:" EXPECTED (all lines). */
static void expect_errors(const char *text, const char *expected)
{
    char want[8192], *w = want;
    const char *line = expected;

    /* Every line of EXPECTED gets the file prefix. */
    while (*line != '\0') {
        const char *nl = strchr(line, '\n');
        size_t n = nl != NULL ? (size_t)(nl - line) : strlen(line);

        w += sprintf(w, "%s%s:%.*s", w == want ? "" : "\n", yaml_path, (int)n, line);
        line += n + (nl != NULL);
    }
    cr_assert_null(load_text(text), "loaded, expected: %s", want);
    cr_assert_str_eq(err, want);
}

static int64_t dur(const char *s)
{
    int64_t ms = -42;

    cr_assert_eq(conf_parse_duration(s, &ms, err, sizeof(err)), 0, "\"%s\": %s", s, err);
    return ms;
}

static void dur_err(const char *s, const char *msg)
{
    int64_t ms = -42;

    cr_assert_eq(conf_parse_duration(s, &ms, err, sizeof(err)), -1, "\"%s\" parsed", s);
    cr_assert_str_eq(err, msg);
    cr_assert_eq(ms, -42, "output written on error");
}

static uint64_t size(const char *s)
{
    uint64_t v = 0;

    cr_assert_eq(conf_parse_size(s, &v, err, sizeof(err)), 0, "\"%s\": %s", s, err);
    return v;
}

static void size_err(const char *s, const char *msg)
{
    uint64_t v = 42;

    cr_assert_eq(conf_parse_size(s, &v, err, sizeof(err)), -1, "\"%s\" parsed", s);
    cr_assert_str_eq(err, msg);
    cr_assert_eq(v, 42);
}

static void addr_ok(const char *s, const char *text)
{
    struct conf_addr a;

    cr_assert_eq(conf_parse_addr(s, &a, err, sizeof(err)), 0, "\"%s\": %s", s, err);
    cr_assert_str_eq(a.text, text);
}

static void addr_err(const char *s, const char *msg)
{
    struct conf_addr a;

    cr_assert_eq(conf_parse_addr(s, &a, err, sizeof(err)), -1, "\"%s\" parsed", s);
    cr_assert_str_eq(err, msg);
}

static char *expand(const char *s)
{
    char *out = conf_expand_env(s, err, sizeof(err));

    cr_assert_not_null(out, "\"%s\": %s", s, err);
    return out;
}

static void expand_is(const char *s, const char *want)
{
    char *out = expand(s);

    cr_assert_str_eq(out, want, "expanding \"%s\"", s);
    free(out);
}

/* ------------------------------------------------------------------ */
/* Durations                                                           */

Test(duration, units)
{
    cr_assert_eq(dur("250ms"), 250);
    cr_assert_eq(dur("10s"), 10000);
    cr_assert_eq(dur("2m"), 120000);
    cr_assert_eq(dur("1h"), 3600000);
    cr_assert_eq(dur("10S"), 10000, "units ignore case");
    cr_assert_eq(dur(" 3s "), 3000, "surrounding blanks are fine");
}

Test(duration, decimals_and_sums)
{
    cr_assert_eq(dur("1.5s"), 1500);
    cr_assert_eq(dur(".5s"), 500);
    cr_assert_eq(dur("0.25m"), 15000);
    cr_assert_eq(dur("1.0005s"), 1001, "rounded to the millisecond");
    cr_assert_eq(dur("1m30s"), 90000);
    cr_assert_eq(dur("1h 30m"), 5400000);
}

Test(duration, zero)
{
    cr_assert_eq(dur("0"), 0, "a bare 0 needs no unit");
    cr_assert_eq(dur("0s"), 0);
    cr_assert_eq(dur("0ms"), 0);
}

Test(duration, bare_number_needs_unit)
{
    dur_err("10", "missing unit in \"10\"; add a unit: 10s");
    dur_err("1.5", "missing unit in \"1.5\"; add a unit: 1.5s");
}

Test(duration, unknown_unit)
{
    dur_err("10x", "unknown unit \"x\" in \"10x\"; use ms, s, m or h");
    dur_err("5d", "unknown unit \"d\" in \"5d\"; use ms, s, m or h");
    dur_err("10sec", "unknown unit \"sec\" in \"10sec\"; use ms, s, m or h");
}

Test(duration, not_a_duration)
{
    dur_err("", "empty duration; write e.g. 250ms, 10s, 2m or 1h");
    dur_err("abc", "\"abc\" is not a duration; write e.g. 250ms, 10s, 2m or 1h");
    dur_err("1.2.3s", "\"1.2.3s\" is not a duration; write e.g. 250ms, 10s, 2m or 1h");
    dur_err("s", "\"s\" is not a duration; write e.g. 250ms, 10s, 2m or 1h");
    dur_err("-1s", "\"-1s\" is negative; durations are 0 or more");
    dur_err("0.1ms", "\"0.1ms\" is below the 1ms resolution");
}

Test(duration, overflow)
{
    dur_err("99999999999999999999999s", "duration \"99999999999999999999999s\" is too large");
    dur_err("9999999999999h", "duration \"9999999999999h\" is too large");
    dur_err("2562047788h 2562047788h", "duration \"2562047788h 2562047788h\" is too large");
}

Test(duration, format)
{
    char b[32];

    cr_assert_str_eq(conf_format_duration(250, b, sizeof(b)), "250ms");
    cr_assert_str_eq(conf_format_duration(10000, b, sizeof(b)), "10s");
    cr_assert_str_eq(conf_format_duration(120000, b, sizeof(b)), "2m");
    cr_assert_str_eq(conf_format_duration(3600000, b, sizeof(b)), "1h");
    cr_assert_str_eq(conf_format_duration(90000, b, sizeof(b)), "90s");
    cr_assert_str_eq(conf_format_duration(1500, b, sizeof(b)), "1.5s");
    cr_assert_str_eq(conf_format_duration(1001, b, sizeof(b)), "1.001s");
    cr_assert_str_eq(conf_format_duration(0, b, sizeof(b)), "0s");
    cr_assert_str_eq(conf_format_duration(-250, b, sizeof(b)), "-250ms");
}

Test(duration, format_parses_back)
{
    static const int64_t values[] = {1, 999, 1000, 1001, 1500, 59999, 60000, 61000, 3599999, 7200000};
    char b[32];

    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
        cr_assert_eq(dur(conf_format_duration(values[i], b, sizeof(b))), values[i], "%s", b);
}

/* ------------------------------------------------------------------ */
/* Sizes                                                               */

Test(size, units)
{
    cr_assert_eq(size("512"), 512);
    cr_assert_eq(size("0"), 0);
    cr_assert_eq(size("16k"), 16384);
    cr_assert_eq(size("16K"), 16384);
    cr_assert_eq(size("16kb"), 16384);
    cr_assert_eq(size("10M"), 10485760);
    cr_assert_eq(size("10MiB"), 10485760);
    cr_assert_eq(size("1G"), 1073741824);
    cr_assert_eq(size("1gB"), 1073741824);
    cr_assert_eq(size("2T"), 2ULL << 40);
    cr_assert_eq(size("1.5k"), 1536);
    cr_assert_eq(size("100b"), 100);
}

Test(size, errors)
{
    size_err("10Q", "unknown unit \"Q\" in \"10Q\"; use k, M or G (1024-based), or none for bytes");
    size_err("10kk", "unknown unit \"kk\" in \"10kk\"; use k, M or G (1024-based), or none for bytes");
    size_err("", "empty size; write e.g. 16k, 10M or 1G");
    size_err("k", "\"k\" is not a size; write e.g. 16k, 10M or 1G");
    size_err("-1k", "\"-1k\" is negative; sizes are 0 or more");
    size_err("1.5", "\"1.5\" is not a whole number of bytes");
}

Test(size, overflow)
{
    cr_assert_eq(size("18446744073709551615"), UINT64_MAX);
    size_err("18446744073709551616", "size \"18446744073709551616\" is too large");
    size_err("16777216T", "size \"16777216T\" is too large");
    size_err("16777216.5T", "size \"16777216.5T\" is too large");
    cr_assert_eq(size("16777215.5T"), (16777215ULL << 40) + (1ULL << 39));
}

/* ------------------------------------------------------------------ */
/* Addresses                                                           */

Test(addr, ipv4)
{
    struct conf_addr a;
    const struct sockaddr_in *sin = (const struct sockaddr_in *)&a.ss;

    cr_assert_eq(conf_parse_addr("127.0.0.1:8080", &a, err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(a.text, "127.0.0.1:8080");
    cr_assert_eq(a.ss.ss_family, AF_INET);
    cr_assert_eq(a.len, sizeof(struct sockaddr_in));
    cr_assert_eq(ntohs(sin->sin_port), 8080);
    cr_assert_eq(ntohl(sin->sin_addr.s_addr), 0x7f000001);
    cr_assert_eq(a.port, 8080);
    cr_assert_eq(a.line, 0);
}

Test(addr, ipv6)
{
    struct conf_addr a;

    cr_assert_eq(conf_parse_addr("[::1]:8080", &a, err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(a.text, "[::1]:8080");
    cr_assert_eq(a.ss.ss_family, AF_INET6);
    cr_assert_eq(ntohs(((const struct sockaddr_in6 *)&a.ss)->sin6_port), 8080);
    addr_ok("[::]:80", "[::]:80");
    addr_ok("[0:0:0:0:0:0:0:1]:443", "[::1]:443");
}

Test(addr, any_host)
{
    addr_ok(":8080", "0.0.0.0:8080");
    addr_ok("*:8080", "0.0.0.0:8080");
    addr_ok("0.0.0.0:1", "0.0.0.0:1");
    addr_ok("127.0.0.1:65535", "127.0.0.1:65535");
}

Test(addr, hostname_resolved_at_load)
{
    struct conf_addr a;

    cr_assert_eq(conf_parse_addr("localhost:8080", &a, err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(a.text, "127.0.0.1:8080", "IPv4 is preferred");
    cr_assert_eq(a.ss.ss_family, AF_INET);
}

Test(addr, unix)
{
    struct conf_addr a;
    char cwd[PATH_MAX], want[PATH_MAX + 16];

    cr_assert_eq(conf_parse_addr("unix:/run/app.sock", &a, err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(a.text, "unix:/run/app.sock");
    cr_assert_eq(a.ss.ss_family, AF_UNIX);
    cr_assert_str_eq(((const struct sockaddr_un *)&a.ss)->sun_path, "/run/app.sock");
    cr_assert_eq(a.port, 0);
    cr_assert_eq(a.len, offsetof(struct sockaddr_un, sun_path) + strlen("/run/app.sock") + 1);

    /* Outside a config file, relative means relative to the cwd. */
    cr_assert_not_null(getcwd(cwd, sizeof(cwd)));
    snprintf(want, sizeof(want), "unix:%s/app.sock", strcmp(cwd, "/") == 0 ? "" : cwd);
    addr_ok("unix:./x/../app.sock", want);
}

Test(addr, unix_path_too_long)
{
    char s[200], msg[200];
    size_t max = sizeof(((struct sockaddr_un *)0)->sun_path) - 1;

    strcpy(s, "unix:/");
    memset(s + 6, 'a', max - 1); /* exactly max bytes with the leading '/' */
    s[6 + max - 1] = '\0';
    addr_ok(s, s);
    strcat(s, "b");
    snprintf(msg, sizeof(msg), "unix socket path too long: %zu bytes, at most %zu", max + 1, max);
    addr_err(s, msg);
}

Test(addr, error_leaves_addr_alone)
{
    struct conf_addr a;

    cr_assert_eq(conf_parse_addr("127.0.0.1:8080", &a, err, sizeof(err)), 0);
    cr_assert_eq(conf_parse_addr("127.0.0.1:0", &a, err, sizeof(err)), -1);
    cr_assert_str_eq(a.text, "127.0.0.1:8080");
}

Test(addr, bad)
{
    addr_err("127.0.0.1", "missing port in \"127.0.0.1\"; write host:port");
    addr_err("127.0.0.1:0", "bad port \"0\" in \"127.0.0.1:0\"; ports are 1 to 65535");
    addr_err("127.0.0.1:65536", "bad port \"65536\" in \"127.0.0.1:65536\"; ports are 1 to 65535");
    addr_err("127.0.0.1:http", "bad port \"http\" in \"127.0.0.1:http\"; ports are 1 to 65535");
    addr_err("127.0.0.1:", "bad port \"\" in \"127.0.0.1:\"; ports are 1 to 65535");
    addr_err("8080", "missing port in \"8080\"; write host:port");
    addr_err("::1:80", "IPv6 addresses need brackets: \"[::1]:80\"");
    addr_err("[::1]", "missing port in \"[::1]\"; write [v6]:port");
    addr_err("[::1:80", "missing \"]\" in \"[::1:80\"");
    addr_err("[nope]:80", "bad IPv6 address \"nope\"");
    addr_err("bad host:80", "bad host name \"bad host\" in \"bad host:80\"");
    addr_err("", "empty address; write host:port, [v6]:port or unix:/path");
    addr_err("unix:", "empty unix socket path; write unix:/path/to.sock");
}

/* ------------------------------------------------------------------ */
/* ${VAR} expansion                                                    */

Test(env, set_and_unset)
{
    setenv("DROVER_T_HOST", "10.0.0.1", 1);
    unsetenv("DROVER_T_NONE");
    expand_is("${DROVER_T_HOST}:80", "10.0.0.1:80");
    expand_is("a${DROVER_T_NONE}b", "ab");
    expand_is("${DROVER_T_NONE}", "");
    expand_is("no variables", "no variables");
    expand_is("", "");
}

Test(env, defaults)
{
    unsetenv("DROVER_T_NONE");
    setenv("DROVER_T_EMPTY", "", 1);
    setenv("DROVER_T_SET", "yes", 1);
    expand_is("${DROVER_T_NONE:-8080}", "8080");
    expand_is("${DROVER_T_EMPTY:-8080}", "8080");
    expand_is("${DROVER_T_SET:-8080}", "yes");
    expand_is("${DROVER_T_NONE:-}", "");
    expand_is("${DROVER_T_NONE:-a:b c}", "a:b c");
    /* Shell's "-" without ":" only replaces an unset variable. */
    expand_is("${DROVER_T_EMPTY-x}", "");
    expand_is("${DROVER_T_NONE-x}", "x");
    /* Defaults may hold variables. */
    expand_is("${DROVER_T_NONE:-${DROVER_T_SET}!}", "yes!");
    expand_is("${DROVER_T_NONE:-${DROVER_T_NONE:-deep}}", "deep");
}

Test(env, dollars)
{
    setenv("DROVER_T_SET", "v", 1);
    expand_is("$$", "$");
    expand_is("$${DROVER_T_SET}", "${DROVER_T_SET}");
    expand_is("cost: $$5", "cost: $5");
    /* Only ${...} is ours: $PORT reaches the shell that runs a command. */
    expand_is("bin/web --port $PORT", "bin/web --port $PORT");
    expand_is("trailing $", "trailing $");
}

Test(env, unclosed)
{
    cr_assert_null(conf_expand_env("x${HOME", err, sizeof(err)));
    cr_assert_str_eq(err, "unclosed \"${\" in \"${HOME\"; write ${NAME} or ${NAME:-default}");
    cr_assert_null(conf_expand_env("${A:-${B}", err, sizeof(err)));
    cr_assert_str_eq(err, "unclosed \"${\" in \"${A:-${B}\"; write ${NAME} or ${NAME:-default}");
    cr_assert_null(conf_expand_env("${", err, sizeof(err)));
    cr_assert_str_eq(err, "unclosed \"${\" in \"${\"; write ${NAME} or ${NAME:-default}");
}

Test(env, bad_reference)
{
    cr_assert_null(conf_expand_env("${1X}", err, sizeof(err)));
    cr_assert_str_eq(err, "bad variable reference \"${1X}\"; write ${NAME} or ${NAME:-default}");
    cr_assert_null(conf_expand_env("${A B}", err, sizeof(err)));
    cr_assert_str_eq(err, "bad variable reference \"${A B}\"; write ${NAME} or ${NAME:-default}");
    cr_assert_null(conf_expand_env("${A:default}", err, sizeof(err)));
    cr_assert_str_eq(err, "bad variable reference \"${A:default}\"; write ${NAME} or ${NAME:-default}");
}

/* ------------------------------------------------------------------ */
/* Whole files                                                         */

TestSuite(file, .init = tmp_setup, .fini = tmp_teardown);

static void assert_defaults(const struct conf *c)
{
    cr_assert_eq(c->nlisten, 1);
    cr_assert_str_eq(c->listen[0].text, "0.0.0.0:8080");
    cr_assert_eq(c->workers, 1);
    cr_assert(c->admin.enabled);
    cr_assert_str_eq(c->admin.listen.text, "127.0.0.1:8081");
    cr_assert(c->admin.token == NULL || c->admin.token[0] == '\0');
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
    cr_assert_eq(c->timeouts.tunnel_ms, 3600000);
    cr_assert_eq(c->limits.max_connections, 10000);
    cr_assert_eq(c->limits.max_header_bytes, 16384);
    cr_assert_eq(c->limits.max_body_bytes, 0);
    cr_assert_eq(c->limits.max_queue, 1000);
    cr_assert_str_eq(c->log.access, "stdout");
    cr_assert_eq(c->log.format, LOG_FORMAT_TEXT);
}

Test(file, empty_file_is_all_defaults)
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

Test(file, empty_mapping_is_all_defaults)
{
    struct conf *c = conf_load(data_path("empty_mapping.yaml"), err, sizeof(err));

    cr_assert_not_null(c, "%s", err);
    assert_defaults(c);
    conf_free(c);
}

Test(file, null_values_mean_unset)
{
    struct conf *c = load_ok("workers:\nadmin:\nhealth: ~\nroutes:\nlog: null\n");

    assert_defaults(c);
    conf_free(c);
}

Test(file, example_config_shows_the_defaults)
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

Test(file, full_config_every_key)
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

Test(file, relative_paths_start_at_the_config_dir)
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

Test(file, listen_forms)
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

Test(file, bare_port_only_in_listen)
{
    expect_errors("routes:\n  - backends: [9000]\n",
                  "2:16: routes[0].backends[0]: missing port in \"9000\"; write host:port");
}

Test(file, env_in_values)
{
    struct conf *c;

    setenv("DROVER_T_PORT", "9100", 1);
    setenv("DROVER_T_WORKERS", "3", 1);
    unsetenv("DROVER_T_TOKEN");
    c = load_ok("listen: 127.0.0.1:${DROVER_T_PORT}\n"
                "workers: \"${DROVER_T_WORKERS}\"\n"
                "retries: ${DROVER_T_RETRIES:-5}\n"
                "admin:\n  token: ${DROVER_T_TOKEN}\n"
                "processes:\n  web:\n    command: echo $$HOME ${DROVER_T_PORT} $PORT\n");
    cr_assert_str_eq(c->listen[0].text, "127.0.0.1:9100");
    cr_assert_eq(c->workers, 3);
    cr_assert_eq(c->retries, 5);
    cr_assert(c->admin.token == NULL || c->admin.token[0] == '\0', "unset token: none");
    cr_assert_str_eq(c->processes[0].command, "echo $HOME 9100 $PORT");
    conf_free(c);
}

Test(file, env_unclosed_in_file)
{
    expect_errors("listen: 127.0.0.1:8080\nadmin:\n  token: \"${TOKEN\"\n",
                  "3:10: admin.token: unclosed \"${\" in \"${TOKEN\"; write ${NAME} or ${NAME:-default}");
}

Test(file, integers_as_strings)
{
    struct conf *c = load_ok("workers: \"4\"\nretries: '0'\n");

    cr_assert_eq(c->workers, 4);
    cr_assert_eq(c->retries, 0);
    conf_free(c);
    expect_errors("workers: 4x\nretries: 2x\n",
                  "1:10: workers: expected an integer or \"auto\", got \"4x\"\n"
                  "2:10: retries: expected an integer, got \"2x\"");
}

Test(file, workers_auto)
{
    struct conf *c = load_ok("workers: auto\n");
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);

    cr_assert_eq(c->workers, cpus < 1 ? 1 : cpus > 256 ? 256 : cpus);
    conf_free(c);
}

Test(file, ranges)
{
    expect_errors("workers: 0\n"
                  "retries: 17\n"
                  "health:\n  rise: 0\n  fall: 101\n"
                  "app:\n  base_port: 70000\n"
                  "limits:\n  max_connections: 0\n  max_header_bytes: 2M\n"
                  "processes:\n  web:\n    instances: 1001\n    max_inflight: -1\n",
                  "1:10: workers: must be between 1 and 256, got 0\n"
                  "2:10: retries: must be between 0 and 16, got 17\n"
                  "4:9: health.rise: must be between 1 and 100, got 0\n"
                  "5:9: health.fall: must be between 1 and 100, got 101\n"
                  "7:14: app.base_port: must be between 1 and 65535, got 70000\n"
                  "9:20: limits.max_connections: must be 1 or more, got 0\n"
                  "10:21: limits.max_header_bytes: must be between 1k and 1M, got 2M\n"
                  "13:16: processes.web.instances: must be between 0 and 1000, got 1001\n"
                  "14:19: processes.web.max_inflight: must be 0 or more, got -1");
    expect_errors("limits:\n  max_queue: 3000000000\n",
                  "2:14: limits.max_queue: must be at most 2147483647, got 3000000000");
}

Test(file, zero_durations)
{
    struct conf *c = load_ok("timeouts:\n  drain: 0s\nprocesses:\n  web:\n    stop_timeout: 0\n");

    cr_assert_eq(c->timeouts.drain_ms, 0, "drain: 0 stops at once");
    cr_assert_eq(c->processes[0].stop_timeout_ms, 0, "stop_timeout: 0 kills at once");
    conf_free(c);
    expect_errors("timeouts:\n  connect: 0s\nhealth:\n  interval: 0ms\n",
                  "2:12: timeouts.connect: must be more than 0\n"
                  "4:13: health.interval: must be more than 0");
}

Test(file, restart_min_above_max)
{
    expect_errors("processes:\n  web:\n    restart: {min: 1m, max: 10s}\n",
                  "3:20: processes.web.restart: min (1m) is more than max (10s)");
    expect_errors("processes:\n  web:\n    restart:\n      min: 1m\n",
                  "4:12: processes.web.restart: min (1m) is more than max (30s)");
}

Test(file, admin_off_and_token)
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

Test(file, route_hosts)
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

Test(file, route_checks)
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

Test(file, print_plan)
{
    struct conf *c = conf_load(data_path("full.yaml"), err, sizeof(err));
    char *out = NULL;
    size_t len = 0;
    FILE *f;

    cr_assert_not_null(c, "%s", err);
    f = open_memstream(&out, &len);
    cr_assert_not_null(f);
    conf_print_plan(c, f);
    fclose(f);
    cr_assert_not_null(strstr(out, "\nlisten          127.0.0.1:9080\n                [::1]:9080\n"), "%s", out);
    cr_assert_not_null(strstr(out, "\nworkers         4\n"), "%s", out);
    cr_assert_not_null(strstr(out, "\nadmin           0.0.0.0:9081 (bearer token required)\n"), "%s", out);
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

Test(file, conf_default_uses_dir_and_port)
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

/* ------------------------------------------------------------------ */
/* Bad files: each message exactly, with its line and column           */

Test(file, unknown_key_with_hint)
{
    expect_errors("workers: 2\n\nlistn: 8080\n", "3:1: unknown key \"listn\"; did you mean \"listen\"?");
}

Test(file, unknown_key_hints_everywhere)
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

Test(file, unknown_key_without_hint)
{
    expect_errors("log:\n  color: true\n", "2:3: unknown key \"color\" in log; valid keys: access, format");
}

Test(file, wrong_node_kinds)
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
                  "4:9: listen: expected an address or a list of addresses, got a mapping\n"
                  "6:3: routes: expected a list of routes, got a mapping\n"
                  "9:10: processes.web.env: expected a mapping of NAME: value, got a list");
}

Test(file, top_level_must_be_a_mapping)
{
    expect_errors("- listen: 8080\n", "1:1: expected a mapping at the top level, got a list");
}

Test(file, duplicate_key)
{
    expect_errors("listen: 8080\nworkers: 2\nlisten: 9090\n",
                  "3:1: duplicate key \"listen\"; first set at 1:1");
    expect_errors("timeouts:\n  idle: 1s\n  idle: 2s\n",
                  "3:3: duplicate key \"idle\" in timeouts; first set at 2:3");
}

Test(file, bad_duration)
{
    expect_errors("timeouts:\n  connect: 10\n  upstream: 30x\n",
                  "2:12: timeouts.connect: missing unit in \"10\"; add a unit: 10s\n"
                  "3:13: timeouts.upstream: unknown unit \"x\" in \"30x\"; use ms, s, m or h");
}

Test(file, bad_size)
{
    expect_errors("limits:\n  max_body_bytes: 10Q\n",
                  "2:19: limits.max_body_bytes: unknown unit \"Q\" in \"10Q\"; "
                  "use k, M or G (1024-based), or none for bytes");
}

Test(file, route_with_process_and_backends)
{
    expect_errors("routes:\n  - path: /\n    process: web\n    backends: [127.0.0.1:9000]\n",
                  "2:5: routes[0]: set either \"process\" or \"backends\", not both");
}

Test(file, route_with_neither)
{
    expect_errors("routes:\n  - path: /\n  - {host: a.test}\n",
                  "2:5: routes[0]: needs \"process\" (a process type) or \"backends\" (a list of addresses)\n"
                  "3:5: routes[1]: needs \"process\" (a process type) or \"backends\" (a list of addresses)");
}

Test(file, bad_balance_with_hint)
{
    expect_errors("balance: least-conn\n", "1:10: balance: unknown value \"least-conn\"; did you mean \"least_conn\"?");
    expect_errors("routes:\n  - path: /\n    process: web\n    balance: fastest\n",
                  "4:14: routes[0].balance: unknown value \"fastest\"; use round_robin, least_conn or random2");
}

Test(file, bad_log)
{
    expect_errors("log:\n  format: jsn\n  access: \"\"\n",
                  "2:11: log.format: unknown value \"jsn\"; did you mean \"json\"?\n"
                  "3:11: log.access: empty path");
}

Test(file, bad_process_name)
{
    expect_errors("processes:\n  web/1:\n    instances: 2\n",
                  "2:3: processes: bad process type name \"web/1\"; use letters, digits, \"_\" and \"-\"");
}

Test(file, yaml_syntax_error)
{
    const char *path = data_path("syntax_error.yaml");
    char want[PATH_MAX + 200];

    cr_assert_null(conf_load(path, err, sizeof(err)));
    snprintf(want, sizeof(want),
             "%s:5:3: did not find expected '-' indicator (while parsing a block collection at 3:3)", path);
    cr_assert_str_eq(err, want);
}

Test(file, yaml_syntax_error_inline)
{
    expect_errors("listen: 8080\nworkers: 2\n  admin: x\n", "3:8: mapping values are not allowed in this context");
    expect_errors("listen: [8080\n", "2:1: did not find expected ',' or ']' (while parsing a flow sequence at 1:9)");
}

Test(file, only_one_document)
{
    expect_errors("workers: 2\n---\nworkers: 3\n", "3:1: only one YAML document is allowed");
}

Test(file, several_errors_in_file_order)
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

Test(file, error_count_is_capped)
{
    char text[4096] = "", *p = text;

    for (int i = 0; i < 30; i++)
        p += sprintf(p, "k%d: 1\n", i);
    cr_assert_null(load_text(text));
    cr_assert_not_null(strstr(err, ":20:1: unknown key \"k19\""), "%s", err);
    cr_assert_null(strstr(err, "\"k20\""), "%s", err);
    cr_assert_not_null(strstr(err, "drover.yaml: 10 more errors not shown"), "%s", err);
}

Test(file, missing_file)
{
    cr_assert_null(conf_load("/nonexistent/drover.yaml", err, sizeof(err)));
    cr_assert_str_eq(err, "/nonexistent/drover.yaml: cannot read: No such file or directory");
}
