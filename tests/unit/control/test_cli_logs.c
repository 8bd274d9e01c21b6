/* control/cli_logs: what `drover logs` asks for and how it prints each
 * line it gets. */
#include <criterion/criterion.h>
#include <string.h>

#include "control/cli.h"

static char err[512];

static const char *target(const char *const *names, int n, long lines, bool follow)
{
    static char buf[1024];
    struct sbuf t;

    sbuf_init(&t);
    if (cli_logs_target((char **)names, n, lines, follow, &t, err, sizeof(err)) < 0) {
        sbuf_free(&t);
        return NULL;
    }
    snprintf(buf, sizeof(buf), "%s", t.data);
    sbuf_free(&t);
    return buf;
}

Test(cli_logs, types_and_instances_become_the_query)
{
    const char *names[] = {"web", "worker.1", "clock", "api-v2.12"};
    const char *bad[] = {"web/1"};

    cr_assert_str_eq(target(NULL, 0, -1, false), "/logs");
    cr_assert_str_eq(target(NULL, 0, 20, true), "/logs?n=20&follow=1");
    cr_assert_str_eq(target(names, 4, 5, false),
                     "/logs?process=web,clock&instance=worker.1,api-v2.12&n=5");
    cr_assert_str_eq(target(names + 1, 1, -1, true), "/logs?instance=worker.1&follow=1");
    cr_assert_null(target(bad, 1, -1, false));
    cr_assert(strstr(err, "\"web/1\" is not a process type or instance") == err, "%s", err);
}

static int print(const char *line, bool json, int *width, struct sbuf *out, struct sbuf *e)
{
    return cli_logs_print(line, strlen(line), json, width, out, e);
}

Test(cli_logs, lines_in_the_live_layout)
{
    struct sbuf out, e;
    int width = 6;

    sbuf_init(&out);
    sbuf_init(&e);
    cr_assert_eq(print("{\"time\":\"2026-12-01T19:30:46.123Z\",\"instance\":\"web.1\","
                       "\"stream\":\"stdout\",\"line\":\"hello\"}",
                       false, &width, &out, &e), 0);
    cr_assert_eq(print("{\"time\":\"2026-12-01T19:30:47.000Z\",\"instance\":\"worker.10\","
                       "\"stream\":\"stderr\",\"line\":\"oops\"}",
                       false, &width, &out, &e), 0);
    /* The clock is local time: only its shape is checked. */
    cr_assert_eq(out.data[2], ':');
    cr_assert(strstr(out.data, " web.1  | hello\n") != NULL, "%s", out.data);
    cr_assert(strstr(out.data, " worker.10 ! oops\n") != NULL, "stderr marked, column widened: %s",
              out.data);
    cr_assert_eq(width, 9);
    cr_assert_eq(print("{\"time\":\"2026-12-01T19:30:47.000Z\",\"instance\":\"web.1\","
                       "\"stream\":\"stdout\",\"line\":\"a\\u0000b\"}",
                       false, &width, &out, &e), 0);
    cr_assert_not_null(memmem(out.data, out.len, "| a\0b\n", 6), "a NUL byte as it was written");
    cr_assert_eq(e.len, 0);
    sbuf_free(&out);
    sbuf_free(&e);
}

Test(cli_logs, json_as_it_came_and_errors_apart)
{
    struct sbuf out, e;
    int width = 6;
    const char *line = "{\"time\":\"2026-12-01T19:30:46.123Z\",\"instance\":\"web.1\",\"stream\":"
                       "\"stdout\",\"line\":\"x\"}";

    sbuf_init(&out);
    sbuf_init(&e);
    cr_assert_eq(print(line, true, &width, &out, &e), 0);
    cr_assert_eq(strncmp(out.data, line, strlen(line)), 0);
    cr_assert_eq(print("{\"time\":\"2026-12-01T19:30:46.123Z\",\"error\":\"dropped: too slow\"}", true,
                       &width, &out, &e), -1);
    cr_assert_str_eq(e.data, "drover: logs: dropped: too slow\n");
    cr_assert_eq(print("not json", false, &width, &out, &e), -1);
    sbuf_free(&out);
    sbuf_free(&e);
}
