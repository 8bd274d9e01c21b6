/* drover's own log lines and the rate limit on repeated warnings. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "lib/log.h"

static char path[] = "/tmp/drover-log-XXXXXX";
static int saved_stdout = -1;

/* drover logs to stdout: point it at a file for the test. */
static void capture(void)
{
    int fd = mkstemp(path);

    cr_assert(fd >= 0);
    saved_stdout = dup(STDOUT_FILENO);
    dup2(fd, STDOUT_FILENO);
    close(fd);
}

static char *captured(void)
{
    static char buf[65536];
    FILE *f = fopen(path, "r");
    size_t n;

    cr_assert_not_null(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void release(void)
{
    dup2(saved_stdout, STDOUT_FILENO);
    close(saved_stdout);
    unlink(path);
}

static int count(const char *text, const char *needle)
{
    int n = 0;

    for (const char *p = strstr(text, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

TestSuite(log, .init = capture, .fini = release);

Test(log, one_line_per_message_with_the_drover_name_and_level)
{
    log_msg(LOG_WARN, "backend %s refused", "a");
    log_msg(LOG_INFO, "plain");
    log_msg(LOG_DEBUG, "hidden");
    char *out = captured();

    cr_assert(strstr(out, " drover | warning: backend a refused\n") != NULL, "%s", out);
    cr_assert(strstr(out, " drover | plain\n") != NULL, "%s", out);
    cr_assert(strstr(out, "hidden") == NULL, "%s", out);
}

/* log.timestamps: false drops the time; log.lines: json makes each line
 * one object that jansson reads, with the level apart. */
Test(log, layouts)
{
    char *out, *nl;
    json_t *doc;

    log_set_layout(false, false);
    log_msg(LOG_INFO, "no clock");
    out = captured();
    cr_assert(strncmp(out, "drover | no clock\n", 18) == 0, "%s", out);
    log_set_layout(true, true);
    log_msg(LOG_ERROR, "a \"quoted\" %s", "word");
    out = captured();
    nl = strchr(out, '\n');
    doc = json_loads(nl + 1, JSON_DISABLE_EOF_CHECK, NULL);
    cr_assert_not_null(doc, "%s", nl + 1);
    cr_assert_str_eq(json_string_value(json_object_get(doc, "instance")), "drover");
    cr_assert_str_eq(json_string_value(json_object_get(doc, "stream")), "stdout");
    cr_assert_str_eq(json_string_value(json_object_get(doc, "level")), "error");
    cr_assert_str_eq(json_string_value(json_object_get(doc, "line")), "a \"quoted\" word");
    cr_assert_eq(strlen(json_string_value(json_object_get(doc, "time"))), 24);
    json_decref(doc);
    log_set_layout(true, false);
}

Test(log, a_flood_of_one_warning_is_one_line_then_a_count)
{
    LOG_LIMIT(lim, "accept paused", 0.2);

    for (int i = 0; i < 100; i++)
        log_limited(&lim, LOG_WARN, "accept: Too many open files (%d)", i);
    cr_assert_eq(count(captured(), "accept: Too many open files"), 1, "%s", captured());
    cr_assert(strstr(captured(), "(0)") != NULL);
    log_limit_tick(); /* the interval is not over: nothing yet */
    cr_assert_eq(count(captured(), "more in the last"), 0);
    sleep_ms(250);
    log_limit_tick();
    cr_assert(strstr(captured(), "drover | warning: accept paused: 99 more in the last") != NULL,
              "%s", captured());
    /* Still flooding: still counted, not logged. */
    log_limited(&lim, LOG_WARN, "accept: Too many open files (%d)", 100);
    cr_assert_eq(count(captured(), "accept: Too many open files"), 1);
    sleep_ms(250);
    log_limit_tick();
    cr_assert(strstr(captured(), "accept paused: 1 more in the last") != NULL, "%s", captured());
    /* A quiet interval: the next one is logged in full again. */
    sleep_ms(250);
    log_limit_tick();
    log_limited(&lim, LOG_WARN, "accept: Too many open files (%d)", 101);
    cr_assert_eq(count(captured(), "accept: Too many open files"), 2, "%s", captured());
    cr_assert(strstr(captured(), "(101)") != NULL);
}

Test(log, a_summary_comes_with_the_next_one_even_without_a_tick)
{
    LOG_LIMIT(lim, "disk full", 0.1);

    log_limited(&lim, LOG_ERROR, "write: No space left on device");
    log_limited(&lim, LOG_ERROR, "write: No space left on device");
    sleep_ms(150);
    log_limited(&lim, LOG_ERROR, "write: No space left on device");
    cr_assert_eq(count(captured(), "No space left"), 1, "%s", captured());
    cr_assert(strstr(captured(), "disk full: 1 more in the last") != NULL, "%s", captured());
}
