/* conf/values.c: values after ${VAR} expansion, integers and their
 * ranges, durations, sizes and names, each error at its line and column. */
#include <criterion/criterion.h>

#include "conf/internal.h"
#include "conf_test.h"

TestSuite(values, .init = tmp_setup, .fini = tmp_teardown);

Test(values, env_in_values)
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

Test(values, env_unclosed_in_file)
{
    expect_errors("listen: 127.0.0.1:8080\nadmin:\n  token: \"${TOKEN\"\n",
                  "3:10: admin.token: unclosed \"${\" in \"${TOKEN\"; write ${NAME} or ${NAME:-default}");
}

Test(values, integers_as_strings)
{
    struct conf *c = load_ok("workers: \"4\"\nretries: '0'\n");

    cr_assert_eq(c->workers, 4);
    cr_assert_eq(c->retries, 0);
    conf_free(c);
    expect_errors("workers: 4x\nretries: 2x\n",
                  "1:10: workers: expected an integer or \"auto\", got \"4x\"\n"
                  "2:10: retries: expected an integer, got \"2x\"");
}

Test(values, ranges)
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

Test(values, zero_durations)
{
    struct conf *c = load_ok("timeouts:\n  drain: 0s\nprocesses:\n  web:\n    stop_timeout: 0\n");

    cr_assert_eq(c->timeouts.drain_ms, 0, "drain: 0 stops at once");
    cr_assert_eq(c->timeouts.drain_delay_ms, 0);
    cr_assert_eq(c->processes[0].stop_timeout_ms, 0, "stop_timeout: 0 kills at once");
    conf_free(c);
    expect_errors("timeouts:\n  connect: 0s\nhealth:\n  interval: 0ms\n",
                  "2:12: timeouts.connect: must be more than 0\n"
                  "4:13: health.interval: must be more than 0");
}

Test(values, bad_duration)
{
    expect_errors("timeouts:\n  connect: 10\n  upstream: 30x\n",
                  "2:12: timeouts.connect: missing unit in \"10\"; add a unit: 10s\n"
                  "3:13: timeouts.upstream: unknown unit \"x\" in \"30x\"; use ms, s, m or h");
}

Test(values, bad_size)
{
    expect_errors("limits:\n  max_body_bytes: 10Q\n",
                  "2:19: limits.max_body_bytes: unknown unit \"Q\" in \"10Q\"; "
                  "use k, M or G (1024-based), or none for bytes");
}

Test(values, bad_balance_with_hint)
{
    expect_errors("balance: least-conn\n", "1:10: balance: unknown value \"least-conn\"; did you mean \"least_conn\"?");
    expect_errors("routes:\n  - path: /\n    process: web\n    balance: fastest\n",
                  "4:14: routes[0].balance: unknown value \"fastest\"; use round_robin, least_conn or random2");
}


Test(values, bool_words)
{
    static const char *const yes[] = {"true", "yes", "on", "True", "YES", "On"};
    static const char *const no[] = {"false", "no", "off", "FALSE", "No", "oFF"};
    static const char *const neither[] = {"1", "0", "y", "n", "", "truthy", "enable"};
    bool v;

    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        v = false;
        cr_assert_eq(value_bool_word(yes[i], &v), 0, "%s", yes[i]);
        cr_assert(v, "%s", yes[i]);
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        v = true;
        cr_assert_eq(value_bool_word(no[i], &v), 0, "%s", no[i]);
        cr_assert_not(v, "%s", no[i]);
    }
    for (size_t i = 0; i < sizeof(neither) / sizeof(neither[0]); i++) {
        v = true;
        cr_assert_eq(value_bool_word(neither[i], &v), -1, "%s", neither[i]);
        cr_assert(v, "left alone");
    }
}

Test(values, bad_bool_in_file)
{
    expect_errors("routes:\n  - path: /\n    process: web\n    strip_prefix: maybe\n",
                  "4:19: routes[0].strip_prefix: expected true or false, got \"maybe\"");
}
