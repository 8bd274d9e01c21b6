/* Watch mode: a change under processes.TYPE.watch (or, with drover run
 * --watch, the app's directory) rolls the type, the usual rolling restart
 * with no failed request; a burst of a thousand files is one roll. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/e2e/client.h"
#include "tests/e2e/harness.h"

static int count_in(const char *text, const char *needle)
{
    int n = 0;

    for (const char *p = strstr(text, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* The pids of the n instances serving addr, " 812 907 " (a rolling
 * restart puts the replacements on other slots: names change too). */
static char *pids_of(const char *addr, int n)
{
    char *seen = e2e_fmt(" ");
    long long deadline = e2e_now_ms() + 5000;
    int found = 0;

    while (found < n) {
        struct http_resp r;
        const char *pid;

        ASSERT(e2e_now_ms() < deadline, "%d instances answered, not %d", found, n);
        http_get(addr, "/", &r);
        pid = r.status == 200 ? resp_header(&r, "X-Backend-Pid") : NULL;
        if (pid != NULL && strstr(seen, e2e_fmt(" %s ", pid)) == NULL) {
            seen = e2e_fmt("%s%s ", seen, pid);
            found++;
        }
        resp_free(&r);
    }
    return seen;
}

/* No pid of a is in b. */
static bool disjoint(const char *a, const char *b)
{
    char *copy = e2e_fmt("%s", a), *save = NULL;

    for (char *p = strtok_r(copy, " ", &save); p != NULL; p = strtok_r(NULL, " ", &save))
        if (strstr(b, e2e_fmt(" %s ", p)) != NULL)
            return false;
    return true;
}

/* The log has "rolling restart done" count times, and no roll started
 * beyond it for a while after. */
static void wait_rolls(struct e2e_proc *d, int count)
{
    long long deadline = e2e_now_ms() + 20000;
    char *text;

    for (;;) {
        text = e2e_log_of(d);
        if (count_in(text, "web: rolling restart done") >= count)
            break;
        ASSERT(e2e_now_ms() < deadline, "%d rolls done, not %d", count_in(text, "web: rolling restart done"),
               count);
        free(text);
        e2e_sleep_ms(50);
    }
    free(text);
    e2e_sleep_ms(1500); /* longer than the debounce: a second roll would have started */
    text = e2e_log_of(d);
    ASSERT(count_in(text, "web: rolling restart of") == count, "%d rolls, not %d",
           count_in(text, "web: rolling restart of"), count);
    free(text);
}

E2E_TEST(a_touched_file_rolls_the_type_once_without_a_failed_request, 90)
{
    int dp = e2e_free_port();
    const char *names[2] = {"web.1", "web.2"};
    char *addr = e2e_fmt("127.0.0.1:%d", dp), *dir, *before, *after, *text;
    struct e2e_proc *d, *load;
    long ok, bad, errors, t0, dt = -1;

    dir = e2e_app_dir(e2e_fmt("web: %s\n", e2e_backend_bin),
                      e2e_fmt("listen: %s\nadmin: {listen: off}\nlog: {access: off}\n"
                              "app: {base_port: %d}\n"
                              "processes:\n  web:\n    instances: 2\n    ready: {path: /}\n"
                              "    watch: [src, settings.ini]\n",
                              addr, e2e_free_base(1, 4)));
    mkdir(e2e_fmt("%s/src", dir), 0755);
    e2e_write_file("app/src/app.py", "print('v1')\n");
    e2e_write_file("app/settings.ini", "a = 1\n");
    d = e2e_drover_in(dir, NULL, addr);
    e2e_until_all_answer(addr, names, 2, 10000);
    e2e_wait_log(d, "watch mode: 2 paths, 2 directories watched", 5000);
    before = pids_of(addr, 2);
    /* Ignored names and files beside the watched one do nothing. */
    e2e_write_file("app/src/app.pyc", "x");
    e2e_write_file("app/src/.app.py.swp", "x");
    e2e_write_file("app/notes.txt", "x");
    e2e_sleep_ms(800);
    ASSERT(strstr(text = e2e_log_of(d), "rolling restart") == NULL, "an ignored file rolled web");
    free(text);

    load = e2e_load_start(addr, "/", 4, 4000);
    e2e_sleep_ms(500);
    t0 = (long)e2e_now_ms();
    e2e_write_file("app/src/app.py", "print('v2')\n");
    while (dt < 0 && e2e_now_ms() < t0 + 5000) {
        text = e2e_log_of(d);
        if (strstr(text, "web: rolling restart of") != NULL)
            dt = (long)e2e_now_ms() - t0;
        free(text);
        e2e_sleep_ms(5);
    }
    e2e_log("the roll started %ldms after the file was written", dt);
    ASSERT(dt >= 0, "no roll");
    wait_rolls(d, 1);
    e2e_load_result(load, &ok, &bad, &errors);
    e2e_log("under load: %ld ok, %ld bad, %ld broken", ok, bad, errors);
    ASSERT(ok > 0 && bad == 0 && errors == 0, "%ld bad, %ld broken during the roll", bad, errors);
    after = pids_of(addr, 2);
    e2e_log("pids before:%s after:%s", before, after);
    ASSERT(disjoint(before, after), "an instance was not replaced");
    e2e_wait_log(d, e2e_fmt("under its watched paths (%s/src/app.py): rolling restart", dir), 100);
    /* The watched file beside them rolls too. */
    e2e_write_file("app/settings.ini", "a = 2\n");
    wait_rolls(d, 2);
    e2e_drover_stop(d);
}

/* drover run --watch: the app's directory, recursively; a build that
 * writes a thousand files is one roll. */
E2E_TEST(a_thousand_files_written_are_one_roll, 90)
{
    int dp = e2e_free_port();
    const char *names[1] = {"web.1"};
    char *addr = e2e_fmt("127.0.0.1:%d", dp), *dir, *before, *after;
    struct e2e_proc *d;

    dir = e2e_app_dir(e2e_fmt("web: %s\n", e2e_backend_bin),
                      e2e_fmt("listen: %s\nadmin: {listen: off}\nlog: {access: off}\n"
                              "app: {base_port: %d}\n"
                              "processes:\n  web:\n    ready: {path: /}\n",
                              addr, e2e_free_base(1, 2)));
    mkdir(e2e_fmt("%s/build", dir), 0755);
    d = e2e_drover_in(dir, "--watch", addr);
    e2e_until_all_answer(addr, names, 1, 10000);
    e2e_wait_log(d, "watch mode: 1 path, 2 directories watched", 5000);
    before = pids_of(addr, 1);
    mkdir(e2e_fmt("%s/build/out", dir), 0755);
    for (int i = 0; i < 1000; i++)
        e2e_write_file(e2e_fmt("app/build/out/%d.o", i), "object code\n");
    wait_rolls(d, 1);
    after = pids_of(addr, 1);
    ASSERT(disjoint(before, after), "web.1 was not replaced");
    e2e_drover_stop(d);
}
