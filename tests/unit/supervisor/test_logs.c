/* supervisor/logs: what an instance writes, read from a real pipe, becomes
 * whole lines: kept in the instance's ring and re-emitted on stdout in the
 * live layout (text with '|' or '!' for stderr, or JSON). A partial line
 * waits for its newline, or for the end of the pipe. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "tests/unit/spin.h"
#include "lib/log.h"
#include "supervisor/logs.h"
#include "supervisor/logstore.h"

static struct ev_loop *loop;
static struct logstore *store;
static struct logsrc *src;
static char out_path[] = "/tmp/drover-logs-XXXXXX";
static int saved_stdout = -1;
static char text[65536];

static void setup(void)
{
    int fd = mkstemp(out_path);

    cr_assert_geq(fd, 0);
    saved_stdout = dup(STDOUT_FILENO);
    dup2(fd, STDOUT_FILENO);
    close(fd);
    loop = ev_default_loop(0);
    logs_init();
    log_set_name_width(6);
    store = logstore_new(100, 1 << 20);
    src = logstore_source(store, "web.1", "web");
}

static void teardown(void)
{
    logs_close_all();
    logstore_free(store);
    log_set_layout(true, false);
    dup2(saved_stdout, STDOUT_FILENO);
    close(saved_stdout);
    unlink(out_path);
}

TestSuite(logs, .init = setup, .fini = teardown);

/* What went to stdout so far. */
static const char *output(void)
{
    FILE *f = fopen(out_path, "r");
    size_t n;

    cr_assert_not_null(f);
    n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

static size_t want_lines;

static bool lines_kept(void)
{
    return logring_count(src->ring) >= want_lines;
}

static const char *kept(size_t i)
{
    static char buf[LOG_LINE_MAX + 1];
    size_t n = logring_text(src->ring, i, buf, sizeof(buf) - 1);

    buf[n] = '\0';
    return buf;
}

/* A pipe read as stream; its write end. */
static int open_pipe(enum log_stream stream, struct logpipe **lp)
{
    int fds[2];

    cr_assert_eq(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
    *lp = logpipe_new(loop, fds[0], "web.1", 0, stream, store, src);
    cr_assert_not_null(*lp);
    return fds[1];
}

static void put(int fd, const char *s)
{
    cr_assert_eq(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

Test(logs, a_partial_line_waits_for_its_newline_or_the_end)
{
    struct logpipe *lp;
    int w = open_pipe(LOG_STDOUT, &lp);

    put(w, "par");
    want_lines = 1;
    spin_until(loop, 0.2, lines_kept);
    cr_assert_eq(logring_count(src->ring), 0, "half a line is not a line");
    put(w, "tial\r\nnext");
    cr_assert(spin_until(loop, 2.0, lines_kept));
    cr_assert_str_eq(kept(0), "partial", "one line, its CR dropped");
    cr_assert_eq(logring_count(src->ring), 1);
    close(w);
    want_lines = 2;
    cr_assert(spin_until(loop, 2.0, lines_kept), "the rest at the end of the pipe");
    cr_assert_str_eq(kept(1), "next");
    logpipe_release(lp);
    cr_assert(strstr(output(), " web.1  | partial\n") != NULL, "%s", output());
    cr_assert(strstr(output(), " web.1  | next\n") != NULL, "%s", output());
}

/* A line longer than LOG_LINE_MAX is kept in pieces of that size. */
Test(logs, a_long_line_is_split)
{
    struct logpipe *lp;
    int w = open_pipe(LOG_STDOUT, &lp);
    char *big = malloc(LOG_LINE_MAX + 101);

    memset(big, 'z', LOG_LINE_MAX + 100);
    big[LOG_LINE_MAX + 100] = '\n';
    cr_assert_eq(write(w, big, LOG_LINE_MAX + 101), LOG_LINE_MAX + 101);
    want_lines = 2;
    cr_assert(spin_until(loop, 2.0, lines_kept));
    cr_assert_eq(logring_line(src->ring, 0)->len, LOG_LINE_MAX);
    cr_assert_eq(logring_line(src->ring, 1)->len, 100);
    close(w);
    logpipe_close(lp);
    free(big);
}

Test(logs, stderr_is_marked)
{
    struct logpipe *lp;
    int w = open_pipe(LOG_STDERR, &lp);

    put(w, "oops\n");
    want_lines = 1;
    cr_assert(spin_until(loop, 2.0, lines_kept));
    cr_assert_eq(logring_line(src->ring, 0)->stream, LOG_STDERR);
    close(w);
    logpipe_close(lp);
    cr_assert(strstr(output(), " web.1  ! oops\n") != NULL, "%s", output());
}

Test(logs, without_timestamps_and_as_json)
{
    struct logpipe *lp;
    int w = open_pipe(LOG_STDERR, &lp);
    json_t *doc;
    const char *line;

    log_set_layout(false, false);
    put(w, "plain\n");
    want_lines = 1;
    cr_assert(spin_until(loop, 2.0, lines_kept));
    cr_assert(strncmp(output(), "web.1  ! plain\n", 15) == 0, "no time first: %s", output());
    log_set_layout(true, true);
    put(w, "tab\there \"q\" \xff\n");
    want_lines = 2;
    cr_assert(spin_until(loop, 2.0, lines_kept));
    close(w);
    logpipe_close(lp);
    line = strchr(output(), '\n') + 1;
    doc = json_loads(line, JSON_DISABLE_EOF_CHECK, NULL);
    cr_assert_not_null(doc, "not JSON: %s", line);
    cr_assert_str_eq(json_string_value(json_object_get(doc, "instance")), "web.1");
    cr_assert_str_eq(json_string_value(json_object_get(doc, "stream")), "stderr");
    cr_assert_str_eq(json_string_value(json_object_get(doc, "line")), "tab\there \"q\" \xc3\xbf",
                     "a byte that is not UTF-8 reads as Latin-1");
    cr_assert_not_null(json_string_value(json_object_get(doc, "time")));
    json_decref(doc);
}
