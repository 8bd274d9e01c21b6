/* control/api: the admin API's answers rendered from views made by hand
 * (member order and number formats as the README shows them), the checks
 * of a POST /scale body, and the endpoint table. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "control/api.h"
#include "router/metrics.h"
#include "router/stats.h"
#include "supervisor/supervisor.h"

static struct admin_answer ans;

static void setup(void)
{
    memset(&ans, 0, sizeof(ans));
    sbuf_init(&ans.body);
}

static void teardown(void)
{
    sbuf_free(&ans.body);
}

TestSuite(api, .init = setup, .fini = teardown);

/* ans back to a fresh 200 with an empty body. */
static void again(void)
{
    teardown();
    setup();
    ans.status = 200;
}

static const char *const listen_addrs[] = {"127.0.0.1:8080", "unix:/run/d.sock"};

static struct sv_instance_view web_instances[] = {
    {"web.1", 101, 100, 5000, "up", 0, 192.4, 12897484, 1, 420, 2, 0, -1, 0, NULL, 0},
    {"web.2", 0, 0, 5001, "backoff", 3, 0, -1, 0, 7, 1, 1764651662.25, -1, 9, "killed by the memory limit (64M)", 2.5},
};
static struct sv_type_view types[] = {
    {"web", "bin/serve --port $PORT", true, false, false, false, 2, 3, {0, 1, 0, 0, 1}, 2,
     web_instances, 1, 2},
    {"old", "sleep 1", false, false, true, false, 0, 0, {0}, 0, NULL},
    {"clock", "bin/clock", false, true, false, false, 0, 0, {0}, 0, NULL},
};
static struct sv_snapshot snap = {3, types};

static struct api_backend backends[] = {
    {"10.0.0.5:80", "10.0.0.5:80", NULL, NULL, false, 0, 17, 3, 1},
    {"web.1", "127.0.0.1:5000", "web", NULL, true, 1, 420, 0, 2},
};

/* A view of a drover that supervises an app and has a static backend. */
#define NOLIVE "\"live\":{\"rps\":0.0,\"p50_ms\":null,\"p95_ms\":null,\"p99_ms\":null,\"requests_1m\":0,\"5xx_1m\":0,\"5xx\":0,\"window_s\":0.0}"

static struct api_view view(void)
{
    struct api_view v = {
        .pid = 4242,
        .uptime_s = 3723.9004,
        .config = "/app/drover.yaml",
        .workers = 2,
        .reloads_ok = 3,
        .reloads_failed = 1,
        .connections = 5,
        .upstream_connections = 2,
        .requests = 1000,
        .listen = listen_addrs,
        .nlisten = 2,
        .backends = backends,
        .nbackends = 2,
        .sv = &snap,
        .now = 1764651674.75,
    };

    return v;
}

Test(api, status_has_the_readme_members_in_order)
{
    struct api_view v = view();

    api_status(&v, &ans);
    cr_assert_eq(ans.status, 200);
    cr_assert_null(ans.content_type, "JSON");
    cr_assert_str_eq(
        ans.body.data,
        "{\"drover\":{\"version\":\"0.1.0\",\"pid\":4242,\"uptime_s\":3723.9,\"draining\":false,"
        "\"config\":\"/app/drover.yaml\",\"workers\":2,\"reloads\":{\"ok\":3,\"failed\":1},"
        "\"state_file\":null},"
        "\"router\":{\"connections\":5,\"upstream_connections\":2,\"requests\":1000,"
        "\"listen\":[\"127.0.0.1:8080\",\"unix:/run/d.sock\"]},"
        "\"routes\":[],"
        "\"processes\":["
        "{\"type\":\"web\",\"routed\":true,\"stopped\":false,\"removed\":false,\"want\":2,\"configured\":1,"
        "\"rolling\":false,\"restarts\":3,\"command\":\"bin/serve --port $PORT\",\"instances\":["
        "{\"name\":\"web.1\",\"pid\":101,\"pgid\":100,\"port\":5000,\"state\":\"up\",\"restarts\":0,"
        "\"uptime_s\":192.4,\"rss_bytes\":12897484,\"inflight\":1,\"requests\":420,"
        "\"generation\":2,\"last_exit\":null," NOLIVE "},"
        "{\"name\":\"web.2\",\"pid\":null,\"pgid\":null,\"port\":5001,\"state\":\"backoff\",\"restarts\":3,"
        "\"uptime_s\":null,\"rss_bytes\":null,\"inflight\":0,\"requests\":7,\"generation\":1,"
        "\"last_exit\":{\"code\":null,\"signal\":\"SIGKILL\",\"how\":\"killed by the memory limit (64M)\",\"at\":\"2025-12-02T05:01:02Z\",\"ago_s\":12.5},"
        NOLIVE "}],\"generation\":2,\"queued\":0},"
        "{\"type\":\"old\",\"routed\":false,\"stopped\":false,\"removed\":true,\"want\":0,\"configured\":0,"
        "\"rolling\":false,\"restarts\":0,\"command\":\"sleep 1\",\"instances\":[],\"generation\":0,\"queued\":0},"
        "{\"type\":\"clock\",\"routed\":false,\"stopped\":true,\"removed\":false,\"want\":0,\"configured\":0,"
        "\"rolling\":false,\"restarts\":0,\"command\":\"bin/clock\",\"instances\":[],\"generation\":0,\"queued\":0}],"
        "\"backends\":["
        "{\"name\":\"10.0.0.5:80\",\"address\":\"10.0.0.5:80\",\"process\":null,\"dns\":null,\"up\":false,"
        "\"inflight\":0,\"requests\":17,\"failures\":3,\"connections\":1," NOLIVE "},"
        "{\"name\":\"web.1\",\"address\":\"127.0.0.1:5000\",\"process\":\"web\",\"dns\":null,\"up\":true,"
        "\"inflight\":1,\"requests\":420,\"failures\":0,\"connections\":2," NOLIVE "}]}");
}

/* The drover.uptime_s member of the status for uptime s. */
static char *uptime_text(double s)
{
    struct api_view v = {.uptime_s = s};
    const char *from, *to;

    again();
    api_status(&v, &ans);
    from = strstr(ans.body.data, "\"uptime_s\":") + strlen("\"uptime_s\":");
    to = strchr(from, ',');
    return strndup(from, (size_t)(to - from));
}

Test(api, seconds_to_the_millisecond_without_binary_noise)
{
    static const struct {
        double s;
        const char *want;
    } cases[] = {
        {2.521, "2.521"},       {2.5209999, "2.521"},   {12.3, "12.3"},
        {45, "45.0"},           {0.0004, "0.0"},        {0.0005, "0.001"},
        {86400.5, "86400.5"},   {1e9 + 0.123, "1000000000.123"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = uptime_text(cases[i].s);

        cr_assert_str_eq(got, cases[i].want, "%g", cases[i].s);
        free(got);
    }
    {
        char *got = uptime_text(NAN);

        cr_assert_str_eq(got, "null");
        free(got);
    }
}

Test(api, status_without_a_formation_or_a_config_file)
{
    struct api_view v = {.pid = 7, .workers = 1};

    api_status(&v, &ans);
    cr_assert(strstr(ans.body.data, "\"config\":null,") != NULL, "%s", ans.body.data);
    cr_assert(strstr(ans.body.data, "\"listen\":[]},\"routes\":[],\"processes\":[],\"backends\":[]}") != NULL,
              "%s", ans.body.data);
}

Test(api, strings_that_are_not_utf8_are_read_as_latin1)
{
    struct sv_type_view t = {.type = "web", .command = "echo caf\xe9 \"x\""};
    struct sv_snapshot s = {1, &t};
    struct api_view v = {.sv = &s};

    api_status(&v, &ans);
    cr_assert(strstr(ans.body.data, "\"command\":\"echo caf\xc3\xa9 \\\"x\\\"\"") != NULL, "%s",
              ans.body.data);
}

Test(api, health_and_ready)
{
    const char *unready[] = {"/api/", "*.example.com/"};
    struct api_view v = {0};

    api_health(&v, &ans);
    cr_assert_eq(ans.status, 200);
    cr_assert_str_eq(ans.body.data, "{\"status\":\"ok\"}");
    again();
    api_ready(&v, &ans);
    cr_assert_eq(ans.status, 200);
    cr_assert_str_eq(ans.body.data, "{\"status\":\"ready\"}");

    v.unready = unready;
    v.nunready = 2;
    again();
    api_ready(&v, &ans);
    cr_assert_eq(ans.status, 503);
    cr_assert_str_eq(ans.body.data,
                     "{\"status\":\"not ready\",\"routes\":[\"/api/\",\"*.example.com/\"]}");

    v.nunready = 0;
    v.draining = true;
    again();
    api_ready(&v, &ans);
    cr_assert_eq(ans.status, 503);
    cr_assert_str_eq(ans.body.data, "{\"status\":\"draining\",\"routes\":[]}");
    again();
    api_health(&v, &ans);
    cr_assert_eq(ans.status, 503);
    cr_assert_str_eq(ans.body.data, "{\"status\":\"draining\"}");
}

Test(api, live)
{
    api_live(&ans);
    cr_assert_eq(ans.status, 200);
    cr_assert_str_eq(ans.body.data, "{\"status\":\"live\"}");
}

Test(api, formation_action_and_changes)
{
    struct api_view v = view();

    api_formation(&v, &ans);
    cr_assert_eq(ans.status, 200);
    cr_assert_str_eq(ans.body.data, "{\"formation\":{\"web\":2,\"clock\":0}}",
                     "a removed type is left out");
    again();
    api_action("web", "restart", &ans);
    cr_assert_eq(ans.status, 202);
    cr_assert_str_eq(ans.body.data, "{\"type\":\"web\",\"action\":\"restart\"}");
    again();
    api_changes("balance: round_robin → least_conn\n\n+ routes /x/ -> process web\nlast", &ans);
    cr_assert_eq(ans.status, 200);
    cr_assert_str_eq(ans.body.data, "{\"changes\":[\"balance: round_robin → least_conn\","
                                    "\"+ routes /x/ -> process web\",\"last\"]}");
    again();
    api_changes(NULL, &ans);
    cr_assert_str_eq(ans.body.data, "{\"changes\":[]}");
}

Test(api, metrics_text)
{
    struct api_view v = view();
    struct metrics *m = metrics_new();
    struct metrics *ms[1] = {m};
    struct api_backend odd = {"we\"b\\1", "x", "web", NULL, true, 2, 0, 0, 0};
    const char *t;

    counter_add(&metrics_series(m, "/", "web.1", 204)->count, 5);
    v.metrics = ms;
    v.nmetrics = 1;
    v.draining = true;
    v.backends = &odd;
    v.nbackends = 1;
    api_metrics(&v, &ans);
    cr_assert_eq(ans.status, 200);
    cr_assert_str_eq(ans.content_type, "text/plain; version=0.0.4; charset=utf-8");
    t = ans.body.data;
    cr_assert(strncmp(t, "# HELP drover_build_info drover's version.\n"
                         "# TYPE drover_build_info gauge\n"
                         "drover_build_info{version=\"0.1.0\"} 1\n"
                         "# HELP drover_draining 1 from the first stop signal on.\n"
                         "# TYPE drover_draining gauge\n"
                         "drover_draining 1\n"
                         "# HELP drover_reloads_total Configuration reloads, by outcome.\n"
                         "# TYPE drover_reloads_total counter\n"
                         "drover_reloads_total{result=\"ok\"} 3\n"
                         "drover_reloads_total{result=\"error\"} 1\n"
                         "# HELP drover_client_connections Client connections open.\n"
                         "# TYPE drover_client_connections gauge\n"
                         "drover_client_connections 5\n"
                         "# HELP drover_upstream_connections Connections to backends open (busy "
                         "and pooled).\n"
                         "# TYPE drover_upstream_connections gauge\n"
                         "drover_upstream_connections 2\n",
                  strlen("# HELP drover_build_info")) == 0,
              "%s", t);
    cr_assert(strstr(t, "drover_draining 1\n") != NULL);
    cr_assert(strstr(t, "drover_upstream_connections 2\n# HELP drover_requests_total") != NULL);
    cr_assert(strstr(t, "drover_requests_total{route=\"/\",backend=\"web.1\",code=\"2xx\"} 5\n") !=
              NULL, "%s", t);
    cr_assert(strstr(t, "# TYPE drover_backend_up gauge\ndrover_backend_up{backend=\"we\\\"b\\\\1\"} 1\n"
                        "# HELP drover_backend_inflight") != NULL, "%s", t);
    cr_assert(strstr(t, "drover_backend_inflight{backend=\"we\\\"b\\\\1\"} 2\n") != NULL);
    cr_assert(strstr(t, "# TYPE drover_instance_restarts_total counter\n"
                        "drover_instance_restarts_total{type=\"web\"} 3\n"
                        "drover_instance_restarts_total{type=\"old\"} 0\n"
                        "drover_instance_restarts_total{type=\"clock\"} 0\n") != NULL, "%s", t);
    cr_assert(strstr(t, "drover_instances{type=\"web\",state=\"starting\"} 0\n"
                        "drover_instances{type=\"web\",state=\"up\"} 1\n"
                        "drover_instances{type=\"web\",state=\"draining\"} 0\n"
                        "drover_instances{type=\"web\",state=\"stopping\"} 0\n"
                        "drover_instances{type=\"web\",state=\"backoff\"} 1\n") != NULL, "%s", t);
    metrics_free(m);
}

Test(api, metrics_without_a_formation_have_no_instance_series)
{
    struct api_view v = {0};

    api_metrics(&v, &ans);
    cr_assert(strstr(ans.body.data, "# TYPE drover_backend_inflight gauge\n") != NULL);
    cr_assert_null(strstr(ans.body.data, "drover_instances"));
}

/* api_scale_body's verdict on text: the object, or NULL with ans set. */
static json_t *body(const char *text)
{
    again();
    return api_scale_body(text, strlen(text), &ans);
}

static void refused(const char *text, const char *error)
{
    char want[512];

    cr_assert_null(body(text), "%s accepted", text);
    cr_assert_eq(ans.status, 400, "%s", text);
    snprintf(want, sizeof(want), "{\"error\":\"%s\"}", error);
    cr_assert_str_eq(ans.body.data, want, "%s", text);
}

Test(api, scale_bodies_are_json_objects)
{
    json_t *doc;

    refused("", "body: empty; send a JSON object like {\\\"web\\\": 4}");
    refused("\xef\xbb\xbf", "body: empty; send a JSON object like {\\\"web\\\": 4}");
    refused("not json", "body: line 1 column 3: invalid token near 'not'");
    refused("{\"web\":3,\"web\":2}", "body: line 1 column 14: duplicate object key near '\\\"web\\\"'");
    refused("{\"web\":3} x", "body: line 1 column 11: end of file expected near 'x'");
    refused("{\"web\":3", "body: line 1 column 8: '}' expected near end of file");
    refused("[1]", "body: not a JSON object; send one like {\\\"web\\\": 4}");
    refused("4", "body: not a JSON object; send one like {\\\"web\\\": 4}");
    doc = body("\xef\xbb\xbf {\"web\": 3, \"worker\": 0}\n");
    cr_assert_not_null(doc, "%s", ans.body.data);
    cr_assert_eq(json_object_size(doc), 2);
    json_decref(doc);
}

static bool known(void *ctx, const char *type)
{
    (void)ctx;
    return strcmp(type, "web") == 0 || strcmp(type, "worker") == 0;
}

/* api_scale_check on text: 0 or the status it answered. */
static int check(const char *text)
{
    json_t *doc = body(text);
    int r;

    cr_assert_not_null(doc, "%s: %s", text, ans.body.data);
    r = api_scale_check(doc, known, NULL, &ans);
    json_decref(doc);
    return r == 0 ? 0 : ans.status;
}

Test(api, scale_counts_are_integers_from_0_to_1000_of_known_types)
{
    static const char *const bad[] = {"{\"web\":1.5}", "{\"web\":1.0}", "{\"web\":1e2}",
                                      "{\"web\":-1}", "{\"web\":1001}", "{\"web\":\"3\"}",
                                      "{\"web\":true}", "{\"web\":null}", "{\"web\":[1]}"};

    cr_assert_eq(check("{\"web\":0,\"worker\":1000}"), 0);
    cr_assert_eq(check("{\"web\":-0}"), 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_assert_eq(check(bad[i]), 400, "%s", bad[i]);
        cr_assert_str_eq(ans.body.data,
                         "{\"error\":\"web: the count must be an integer from 0 to 1000\"}");
    }
    cr_assert_eq(check("{}"), 400);
    cr_assert_str_eq(ans.body.data,
                     "{\"error\":\"body: expected an object of TYPE: count, like {\\\"web\\\": 4}\"}");
    cr_assert_eq(check("{\"nope\":1}"), 404);
    cr_assert_str_eq(ans.body.data, "{\"error\":\"unknown process type \\\"nope\\\"\"}");
    /* Members in order: the first one at fault answers. */
    cr_assert_eq(check("{\"web\":-1,\"nope\":1}"), 400);
    cr_assert_eq(check("{\"nope\":1,\"web\":-1}"), 404);
    cr_assert_eq(check("{\"web\":1,\"worker\":2000}"), 400);
    cr_assert_str_eq(ans.body.data,
                     "{\"error\":\"worker: the count must be an integer from 0 to 1000\"}");
}

Test(api, the_endpoint_table)
{
    static const struct {
        enum admin_method method;
        const char *path;
        bool needs_token;
    } want[] = {
        {ADMIN_GET, "/", false},
        {ADMIN_GET, "/dashboard.css", false},
        {ADMIN_GET, "/dashboard.js", false},
        {ADMIN_GET, "/health", false},
        {ADMIN_GET, "/ready", false},
        {ADMIN_GET, "/live", false},
        {ADMIN_GET, "/status", true},
        {ADMIN_GET, "/metrics", true},
        {ADMIN_GET, "/logs", true},
        {ADMIN_POST, "/reload", true},
        {ADMIN_POST, "/scale", true},
        {ADMIN_POST, "/processes/*/restart", true},
        {ADMIN_POST, "/processes/*/stop", true},
        {ADMIN_POST, "/processes/*/start", true},
    };
    struct admin_api api;

    api_init(&api, NULL);
    cr_assert_eq(api.nroutes, sizeof(want) / sizeof(want[0]));
    cr_assert_not_null(api.token);
    cr_assert_null(api.ctx);
    for (size_t i = 0; i < api.nroutes; i++) {
        cr_assert_eq(api.routes[i].method, want[i].method, "%s", want[i].path);
        cr_assert_str_eq(api.routes[i].path, want[i].path);
        cr_assert_eq(api.routes[i].needs_token, want[i].needs_token, "%s", want[i].path);
        cr_assert_not_null(api.routes[i].handler);
    }
}

/* The live members and series come from the workers' stats tables. */
Test(api, live_stats_in_status_and_metrics)
{
    struct api_view v = view();
    struct stats *st = stats_new();
    struct stats *sts[1] = {st};
    struct api_route routes[1] = {{"/", "web"}};
    struct stats_key *k = stats_key(st, "web.1", v.now - 10);

    for (int i = 0; i < 100; i++)
        stats_observe(k, v.now - 5, 0.004, i < 3);
    for (int i = 0; i < 100; i++)
        stats_observe(stats_key(st, "/", v.now - 10), v.now - 5, 0.004, false);
    stats_queue(stats_key(st, "/", v.now - 10), +1);
    v.stats = sts;
    v.nstats = 1;
    v.routes = routes;
    v.nroutes = 1;
    api_status(&v, &ans);
    cr_assert(strstr(ans.body.data, "\"routes\":[{\"route\":\"/\",\"process\":\"web\",\"queued\":1,"
                                    "\"live\":{\"rps\":10.0,") != NULL, "%s", ans.body.data);
    cr_assert(strstr(ans.body.data, "\"requests\":420,\"generation\":2,\"last_exit\":null,"
                                    "\"live\":{\"rps\":10.0,\"p50_ms\":3.968,") != NULL, "%s", ans.body.data);
    cr_assert(strstr(ans.body.data, "\"requests_1m\":100,\"5xx_1m\":3,\"5xx\":3,\"window_s\":10.0}") != NULL,
              "%s", ans.body.data);
    cr_assert(strstr(ans.body.data, "\"instances\":[],\"generation\":0,\"queued\":0}") != NULL);
    cr_assert(strstr(ans.body.data, "\"requests\":7,\"generation\":1,\"queued\":1") == NULL);
    cr_assert(strstr(ans.body.data, "\"command\":\"bin/serve --port $PORT\"") != NULL);
    again();
    api_metrics(&v, &ans);
    cr_assert(strstr(ans.body.data, "drover_route_requests_per_second{route=\"/\"} 10.000\n") != NULL,
              "%s", ans.body.data);
    cr_assert(strstr(ans.body.data, "# TYPE drover_route_latency_seconds summary\n"
                                    "drover_route_latency_seconds{route=\"/\",quantile=\"0.5\"} 0.00") != NULL);
    cr_assert(strstr(ans.body.data, "drover_route_latency_seconds_count{route=\"/\"} 100\n") != NULL);
    cr_assert(strstr(ans.body.data, "drover_route_queued{route=\"/\"} 1\n") != NULL);
    cr_assert(strstr(ans.body.data, "drover_instance_requests_per_second{type=\"web\",instance=\"web.1\"} 10.000\n") != NULL);
    cr_assert(strstr(ans.body.data, "drover_instance_latency_seconds{type=\"web\",instance=\"web.2\",quantile=\"0.99\"} NaN\n") != NULL);
    cr_assert(strstr(ans.body.data, "drover_instance_responses_5xx_total{type=\"web\",instance=\"web.1\"} 3\n") != NULL);
    cr_assert(strstr(ans.body.data, "drover_instance_inflight{type=\"web\",instance=\"web.1\"} 1\n") != NULL);
    cr_assert(strstr(ans.body.data, "drover_instance_generation{type=\"web\",instance=\"web.1\"} 2\n") != NULL);
    cr_assert(strstr(ans.body.data, "drover_instance_last_exit_timestamp_seconds{type=\"web\",instance=\"web.2\","
                                    "signal=\"SIGKILL\"} 1764651662.250\n") != NULL, "%s", ans.body.data);
    stats_free(st);
}
