/* supervisor/watch: inotify over real directory trees on a real loop. A
 * burst of changes is one call, however many files it touched; new
 * directories are watched as they come; ignored names never count. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ev.h>

#include "tests/unit/spin.h"
#include "supervisor/watch.h"

static struct ev_loop *loop;
static struct watch *w;
static char dir[PATH_MAX];
static char err[1024];
static int calls;
static unsigned changes;
static char last_key[64], last_path[PATH_MAX];

static void changed(void *ctx, const char *key, unsigned n, const char *path)
{
    (void)ctx;
    calls++;
    changes += n;
    snprintf(last_key, sizeof(last_key), "%s", key);
    snprintf(last_path, sizeof(last_path), "%s", path);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)flag;
    (void)f;
    return remove(path);
}

static void setup(void)
{
    char tmpl[] = "/tmp/drover-watch-XXXXXX";

    cr_assert_not_null(mkdtemp(tmpl));
    snprintf(dir, sizeof(dir), "%s", tmpl);
    loop = ev_default_loop(0);
    calls = 0;
    changes = 0;
    w = watch_new(loop, 0.15, 1.0, changed, NULL, err, sizeof(err));
    cr_assert_not_null(w, "%s", err);
}

static void teardown(void)
{
    watch_free(w);
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(watch, .init = setup, .fini = teardown);

static const char *at(const char *name)
{
    static char buf[4][PATH_MAX + 64];
    static int i;

    i = (i + 1) % 4;
    snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
    return buf[i];
}

static void put(const char *name)
{
    int fd = open(at(name), O_WRONLY | O_CREAT | O_TRUNC, 0644);

    cr_assert_geq(fd, 0, "%s", at(name));
    cr_assert_eq(write(fd, "x\n", 2), 2);
    close(fd);
}

static int want_calls;

static bool called(void)
{
    return calls >= want_calls;
}

/* Runs the loop until n calls came (true), or for seconds. */
static bool wait_calls(int n, double seconds)
{
    want_calls = n;
    return spin_until(loop, seconds, called);
}

Test(watch, ignored_names)
{
    static const char *const yes[] = {".git", "node_modules", "__pycache__", "a.pyc", "app.log",
                                      ".main.c.swp", "x.swo", "x.swx", "notes.txt~", ".#lock",
                                      "#auto#", "4913", ".hg", ".svn"};
    static const char *const no[] = {"main.c", "app.py", "log", "git", ".gitignore", "a.pycx",
                                     "#", "swp", "index.js"};

    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        cr_assert(watch_ignored(yes[i]), "%s", yes[i]);
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        cr_assert_not(watch_ignored(no[i]), "%s", no[i]);
}

Test(watch, a_thousand_files_are_one_call)
{
    cr_assert_eq(watch_add(w, "web", dir, err, sizeof(err)), 0, "%s", err);
    for (int i = 0; i < 1000; i++) {
        char name[32];

        snprintf(name, sizeof(name), "f%d.txt", i);
        put(name);
        if (i % 100 == 99)
            ev_run(loop, EVRUN_NOWAIT); /* the events are read while the files are written */
    }
    cr_assert(wait_calls(1, 3.0), "no call");
    cr_assert_not(wait_calls(2, 0.5), "%d calls for one burst", calls);
    cr_assert_eq(calls, 1);
    cr_assert_str_eq(last_key, "web");
    cr_assert_geq(changes, 1000);
    put("again.txt");
    cr_assert(wait_calls(2, 3.0), "a later change is a burst of its own");
}

Test(watch, directories_below_and_new_ones_are_watched)
{
    cr_assert_eq(mkdir(at("src"), 0755), 0);
    cr_assert_eq(mkdir(at("src/deep"), 0755), 0);
    cr_assert_eq(watch_add(w, "web", dir, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(watch_count(w), 3);
    put("src/deep/a.c");
    cr_assert(wait_calls(1, 3.0));
    cr_assert_str_eq(last_path, at("src/deep/a.c"));
    cr_assert_eq(mkdir(at("src/new"), 0755), 0);
    cr_assert(wait_calls(2, 3.0), "the new directory itself");
    put("src/new/b.c");
    cr_assert(wait_calls(3, 3.0), "a file in the new directory");
    cr_assert_str_eq(last_path, at("src/new/b.c"));
}

Test(watch, ignored_names_never_count)
{
    cr_assert_eq(mkdir(at(".git"), 0755), 0);
    cr_assert_eq(mkdir(at("node_modules"), 0755), 0);
    cr_assert_eq(watch_add(w, "web", dir, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(watch_count(w), 1, "ignored directories are not watched");
    put(".git/index");
    put("node_modules/left-pad.js");
    put("a.pyc");
    put("server.log");
    put(".app.py.swp");
    put("app.py~");
    cr_assert_eq(mkdir(at("__pycache__"), 0755), 0);
    put("__pycache__/x.cpython-311.pyc");
    cr_assert_not(wait_calls(1, 0.6), "called for %s", last_path);
}

Test(watch, a_watched_file_counts_alone)
{
    put("config.ini");
    put("other.txt");
    cr_assert_eq(watch_add(w, "worker", at("config.ini"), err, sizeof(err)), 0, "%s", err);
    put("other.txt");
    cr_assert_not(wait_calls(1, 0.5), "another file of its directory counted");
    put("config.ini");
    cr_assert(wait_calls(1, 3.0));
    cr_assert_str_eq(last_key, "worker");
}

Test(watch, a_skipped_path_and_its_temporary_files_never_count)
{
    char tmp[64];

    cr_assert_eq(watch_add(w, "web", dir, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(watch_skip(w, at("state.json")), 0);
    snprintf(tmp, sizeof(tmp), "state.json.tmp.%d", (int)getpid());
    put(tmp);
    cr_assert_eq(rename(at(tmp), at("state.json")), 0);
    cr_assert_not(wait_calls(1, 0.5), "called for %s", last_path);
    put("state.json2");
    cr_assert(wait_calls(1, 3.0), "only that path is skipped");
}

/* Changes that never stop still end a burst after max_delay (1 s here). */
Test(watch, a_burst_that_never_quiets_is_cut_at_max_delay)
{
    double start = ev_time();

    cr_assert_eq(watch_add(w, "web", dir, err, sizeof(err)), 0, "%s", err);
    while (calls == 0 && ev_time() - start < 3.0) {
        put("busy.txt");
        wait_calls(1, 0.05);
    }
    cr_assert_eq(calls, 1);
    cr_assert_lt(ev_time() - start, 1.5, "the call came after %.2fs", ev_time() - start);
}

Test(watch, what_cannot_be_watched_says_why)
{
    cr_assert_eq(watch_add(w, "web", at("missing"), err, sizeof(err)), -1);
    cr_assert(strstr(err, "missing: No such file or directory") != NULL, "%s", err);
}
