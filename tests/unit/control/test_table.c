/* control/table: the /status document and the other answers as the
 * control commands print them. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "control/table.h"

/* A /status document as drover sends it: two web instances, a worker in
 * back-off, a stopped type, an instance backend and a static one. */
static const char status_doc[] =
    "{\"drover\":{\"pid\":4242,\"version\":\"0.1.0\",\"uptime_s\":3723.9,\"draining\":false},"
    "\"router\":{\"connections\":3,\"requests\":1000},"
    "\"processes\":["
    "{\"type\":\"web\",\"wanted\":2,\"stopped\":false,\"instances\":["
    "{\"name\":\"web.1\",\"pid\":101,\"port\":5000,\"state\":\"ready\",\"restarts\":0,"
    "\"uptime_s\":192.4,\"rss_bytes\":12897484,\"inflight\":1,\"requests\":420},"
    "{\"name\":\"web.2\",\"pid\":102,\"port\":5001,\"state\":\"ready\",\"restarts\":2,"
    "\"uptime_s\":45,\"rss_bytes\":1048576,\"inflight\":0,\"requests\":410}]},"
    "{\"type\":\"worker\",\"wanted\":1,\"stopped\":false,\"instances\":["
    "{\"name\":\"worker.1\",\"pid\":null,\"port\":5100,\"state\":\"backoff\",\"restarts\":7,"
    "\"uptime_s\":null,\"rss_bytes\":null}]},"
    "{\"type\":\"clock\",\"wanted\":0,\"stopped\":true,\"instances\":[]}],"
    "\"backends\":["
    "{\"name\":\"web.1\",\"process\":\"web\",\"address\":\"127.0.0.1:5000\",\"up\":true,"
    "\"inflight\":1,\"requests\":420,\"failures\":0},"
    "{\"name\":\"10.0.0.5:80\",\"address\":\"10.0.0.5:80\",\"route\":\"/api/\",\"up\":false,"
    "\"inflight\":0,\"requests\":17,\"failures\":3}]}";

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *doc = json_loads(text, JSON_DECODE_ANY, &e);

    cr_assert_not_null(doc, "%d:%d: %s", e.line, e.column, e.text);
    return doc;
}

/* The document rendered by table_status (the caller frees it). */
static char *render(const char *text)
{
    json_t *doc = parse(text);
    struct sbuf out;

    sbuf_init(&out);
    table_status(doc, &out);
    json_decref(doc);
    return out.data;
}

static char *answer(const char *cmd, const char *type, const char *text)
{
    json_t *doc = parse(text);
    struct sbuf out;

    sbuf_init(&out);
    table_answer(cmd, type, doc, &out);
    json_decref(doc);
    return out.data;
}

static char *dur(double s)
{
    static char buf[64];

    table_duration(s, buf, sizeof(buf));
    return buf;
}

static char *size(double b)
{
    static char buf[64];

    table_bytes(b, buf, sizeof(buf));
    return buf;
}

Test(table, durations_and_sizes)
{
    cr_assert_str_eq(dur(0), "0s");
    cr_assert_str_eq(dur(-3), "0s");
    cr_assert_str_eq(dur(45.9), "45s");
    cr_assert_str_eq(dur(60), "1m00s");
    cr_assert_str_eq(dur(192), "3m12s");
    cr_assert_str_eq(dur(3599), "59m59s");
    cr_assert_str_eq(dur(7500), "2h05m");
    cr_assert_str_eq(dur(86399), "23h59m");
    cr_assert_str_eq(dur(3 * 86400 + 4 * 3600 + 59), "3d4h");
    cr_assert_str_eq(size(0), "0B");
    cr_assert_str_eq(size(512), "512B");
    cr_assert_str_eq(size(1536), "1.5K");
    cr_assert_str_eq(size(12.3 * 1024 * 1024), "12.3M");
    cr_assert_str_eq(size(1.5 * 1024 * 1024 * 1024), "1.5G");
}

/* A scale or stop says what the config says instead, and where it is kept. */
Test(table, status_says_what_runs_otherwise_than_the_config)
{
    char *t = render("{\"drover\":{\"pid\":7,\"uptime_s\":1,\"state_file\":\"/var/lib/d/state\"},"
                     "\"processes\":["
                     "{\"type\":\"web\",\"want\":1,\"configured\":3,\"stopped\":false,\"instances\":["
                     "{\"name\":\"web.1\",\"pid\":9,\"port\":5000,\"state\":\"up\"}]},"
                     "{\"type\":\"same\",\"want\":2,\"configured\":2,\"stopped\":false,\"instances\":[]},"
                     "{\"type\":\"clock\",\"want\":0,\"configured\":1,\"stopped\":true,\"instances\":[]}]}");

    cr_assert(strstr(t, "\nweb runs 1 instance, the config says 3 (drover scale; kept in the state file "
                        "/var/lib/d/state)\n"
                        "clock is stopped (drover start clock starts it; kept in the state file "
                        "/var/lib/d/state)\n\ndrover pid 7") != NULL,
              "%s", t);
    cr_assert_null(strstr(t, "same runs"), "%s", t);
    free(t);
}

Test(table, status_instances_static_backends_and_summary)
{
    char *t = render(status_doc);

    cr_assert_str_eq(t,
        "TYPE    INSTANCE  PID  PGID  PORT  STATE    RESTARTS  UPTIME  RSS    IN-FLIGHT  REQUESTS\n"
        "web     web.1     101  -     5000  ready    0         3m12s   12.3M  1          420\n"
        "web     web.2     102  -     5001  ready    2         45s     1.0M   0          410\n"
        "worker  worker.1  -    -     5100  backoff  7         -       -      -          -\n"
        "clock   -         -    -     -     stopped  -         -       -      -          -\n"
        "\n"
        "BACKEND  ADDRESS      STATE  IN-FLIGHT  REQUESTS  FAILURES\n"
        "/api/    10.0.0.5:80  down   0          17        3\n"
        "\n"
        "clock is stopped (drover start clock starts it; until drover stops: no app.state_file)\n"
        "\n"
        "drover pid 4242, up 1h02m, 3 connections, serving\n");
    free(t);
}

Test(table, flat_instances_counters_from_backends_and_draining)
{
    char *t = render("{\"drover\":{\"pid\":1,\"uptime\":5,\"state\":\"draining\"},"
                     "\"router\":{\"active_connections\":1},"
                     "\"processes\":[{\"type\":\"web\",\"instance\":\"web.1\",\"pid\":9,"
                     "\"port\":5000,\"state\":\"running\",\"restarts\":0,\"uptime\":5,\"rss\":2048}],"
                     "\"backends\":[{\"name\":\"web.1\",\"process\":\"web\",\"inflight\":2,"
                     "\"requests\":7}]}");

    cr_assert_str_eq(t,
        "TYPE  INSTANCE  PID  PGID  PORT  STATE    RESTARTS  UPTIME  RSS   IN-FLIGHT  REQUESTS\n"
        "web   web.1     9    -     5000  running  0         5s      2.0K  2          7\n"
        "\n"
        "drover pid 1, up 5s, 1 connection, draining\n");
    free(t);
}

Test(table, nothing_supervised_and_a_route_list)
{
    char *t = render("{\"drover\":{\"pid\":7},\"processes\":[],"
                     "\"backends\":[{\"address\":\"unix:/run/a.sock\",\"routes\":[\"/\",\"/x/\"],"
                     "\"state\":\"up\",\"inflight\":0,\"requests\":1,\"errors\":0}]}");

    cr_assert_str_eq(t, "no processes\n"
                        "\n"
                        "BACKEND  ADDRESS           STATE  IN-FLIGHT  REQUESTS  FAILURES\n"
                        "/,/x/    unix:/run/a.sock  up     0          1         0\n"
                        "\n"
                        "drover pid 7, serving\n");
    free(t);
}

Test(table, members_of_the_wrong_kind_print_a_dash)
{
    /* A document from some other server: strings where numbers go, an
     * object where a list goes, a scaled-down type. */
    char *t = render("{\"drover\":\"x\",\"processes\":[{\"type\":\"web\",\"stopped\":false,"
                     "\"instances\":[]},{\"name\":\"api\",\"instances\":[{\"name\":\"\","
                     "\"pid\":\"12\",\"port\":0,\"state\":true,\"uptime_s\":\"1\","
                     "\"rss_bytes\":-1}]}],\"backends\":{\"a\":1}}");

    cr_assert_str_eq(t,
        "TYPE  INSTANCE  PID  PGID  PORT  STATE  RESTARTS  UPTIME  RSS  IN-FLIGHT  REQUESTS\n"
        "web   -         -    -     -     none   -         -       -    -          -\n"
        "api   -         -    -     -     yes    -         -       -    -          -\n"
        "\n"
        "drover, serving\n");
    free(t);
}

Test(table, answers_of_the_other_commands)
{
    char *t;

    t = answer("scale", "", "{\"formation\":{\"web\":4,\"worker\":1,\"clock\":0}}");
    cr_assert_str_eq(t, "web=4 worker=1 clock=0\n", "in the order sent");
    free(t);
    t = answer("scale", "", "{\"ok\":true}");
    cr_assert_str_eq(t, "scaled\n");
    free(t);
    t = answer("reload", "", "{\"changes\":[\"a\",1,\"b\"]}");
    cr_assert_str_eq(t, "a\nb\n");
    free(t);
    t = answer("reload", "", "{\"changes\":[]}");
    cr_assert_str_eq(t, "no changes\n");
    free(t);
    t = answer("restart", "web", "{}");
    cr_assert_str_eq(t, "restarting web (rolling, in the background)\n");
    free(t);
    t = answer("stop", "web", "{}");
    cr_assert_str_eq(t, "stopping web (in the background)\n");
    free(t);
    t = answer("start", "worker", "{}");
    cr_assert_str_eq(t, "starting worker (in the background)\n");
    free(t);
}

Test(table, live_stats_generation_last_exit_and_routes)
{
    char *t = render("{\"drover\":{\"pid\":3,\"uptime_s\":70},\"routes\":["
                     "{\"route\":\"/\",\"process\":\"web\",\"queued\":4,\"live\":{\"rps\":152.25,"
                     "\"p50_ms\":1.234,\"p95_ms\":3,\"p99_ms\":25.5,\"5xx\":2}},"
                     "{\"route\":\"/img/\",\"process\":null,\"queued\":0,\"live\":{\"rps\":0,"
                     "\"p50_ms\":null,\"p99_ms\":null,\"5xx\":0}}],"
                     "\"processes\":[{\"type\":\"web\",\"instances\":["
                     "{\"name\":\"web.1\",\"pid\":9,\"port\":5000,\"state\":\"up\",\"generation\":2,"
                     "\"last_exit\":{\"code\":null,\"signal\":\"SIGKILL\",\"ago_s\":75},"
                     "\"live\":{\"rps\":12.5,\"p50_ms\":1500,\"p99_ms\":0.5,\"5xx\":1}},"
                     "{\"name\":\"web.2\",\"pid\":10,\"port\":5001,\"state\":\"up\",\"generation\":1,"
                     "\"last_exit\":{\"code\":3,\"signal\":null,\"ago_s\":4},\"live\":{}}]}]}");

    cr_assert_str_eq(t,
        "TYPE  INSTANCE  PID  PGID  PORT  STATE  RESTARTS  UPTIME  RSS  IN-FLIGHT  REQUESTS  REQ/S  P50   P99     5XX  GEN  LAST EXIT\n"
        "web   web.1     9    -     5000  up     -         -       -    -          -         12.5   1.5s  0.50ms  1    2    SIGKILL, 1m15s ago\n"
        "web   web.2     10   -     5001  up     -         -       -    -          -         -      -     -       -    1    3, 4s ago\n"
        "\n"
        "ROUTE  TO   REQ/S  P50     P99   5XX  QUEUED\n"
        "/      web  152    1.23ms  26ms  2    4\n"
        "/img/  -    0.0    -       -     0    0\n"
        "\n"
        "drover pid 3, up 1m10s, serving\n");
    free(t);
}
