/* control/api_logs: the /logs query, and each line as valid JSON. The
 * streaming itself is the e2e tests' (test_logs.c). */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "control/api_logs.h"

static struct api_logs_query q;
static char err[512];

static int parse(const char *s)
{
    err[0] = '\0';
    return api_logs_query(s, strlen(s), &q, err, sizeof(err));
}

Test(api_logs, defaults)
{
    cr_assert_eq(parse(""), 0);
    cr_assert_eq(q.ntypes + q.ninstances, 0);
    cr_assert_eq(q.n, SIZE_MAX, "all lines");
    cr_assert_not(q.follow);
}

Test(api_logs, names_counts_and_follow)
{
    cr_assert_eq(parse("process=web,worker&instance=clock.1&n=100&follow=1&process=api%2Dv2"), 0, "%s",
                 err);
    cr_assert_eq(q.ntypes, 3);
    cr_assert_str_eq(q.types[0], "web");
    cr_assert_str_eq(q.types[1], "worker");
    cr_assert_str_eq(q.types[2], "api-v2", "percent-decoded");
    cr_assert_eq(q.ninstances, 1);
    cr_assert_str_eq(q.instances[0], "clock.1");
    cr_assert_eq(q.n, 100);
    cr_assert(q.follow);
    cr_assert_eq(parse("follow=0&n=0&&"), 0);
    cr_assert_not(q.follow);
    cr_assert_eq(q.n, 0);
    cr_assert_eq(parse("follow"), 0);
    cr_assert(q.follow, "a bare follow");
}

Test(api_logs, refusals)
{
    cr_assert_eq(parse("proces=web"), -1);
    cr_assert_str_eq(err, "unknown parameter \"proces\" (did you mean \"process\"?); use process, "
                          "instance, n or follow");
    cr_assert_eq(parse("n=-1"), -1);
    cr_assert(strstr(err, "n: expected a count") == err, "%s", err);
    cr_assert_eq(parse("n=99999999999"), -1);
    cr_assert_eq(parse("follow=maybe"), -1);
    cr_assert_str_eq(err, "follow: expected 1 or 0, got \"maybe\"");
    cr_assert_eq(parse("process=we%20b"), -1);
    cr_assert(strstr(err, "is not a process type or instance name") != NULL, "%s", err);
    cr_assert_eq(parse("process="), -1);
    cr_assert_eq(parse("process=%zz"), -1);
    cr_assert(strstr(err, "malformed") != NULL, "%s", err);
}

Test(api_logs, each_line_is_one_json_object)
{
    struct logview v = {7, 1764617446.1239, "web.1", "web", LOG_STDERR, "a \"quote\"\n\x01\xff", 12};
    struct sbuf out;
    json_t *doc;

    sbuf_init(&out);
    api_logs_line(&out, &v);
    cr_assert_eq(out.data[out.len - 1], '\n');
    cr_assert_null(memchr(out.data, '\n', out.len - 1), "one line");
    doc = json_loadb(out.data, out.len, 0, NULL);
    cr_assert_not_null(doc, "%s", out.data);
    cr_assert_str_eq(json_string_value(json_object_get(doc, "time")), "2025-12-01T19:30:46.123Z");
    cr_assert_str_eq(json_string_value(json_object_get(doc, "instance")), "web.1");
    cr_assert_str_eq(json_string_value(json_object_get(doc, "stream")), "stderr");
    cr_assert_str_eq(json_string_value(json_object_get(doc, "line")), "a \"quote\"\n\x01\xc3\xbf");
    cr_assert_eq(json_object_size(doc), 4);
    json_decref(doc);
    sbuf_free(&out);
}
