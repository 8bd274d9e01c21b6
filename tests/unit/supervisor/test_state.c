/* supervisor/state: the state file read back as written, written so that
 * a reader (or a crash) sees the old file or the new one whole, and a
 * corrupt or unreadable file refused with its path. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/formation.h"
#include "supervisor/state.h"

static char dir[PATH_MAX], path[PATH_MAX + 16], err[2048];

static void setup(void)
{
    char tmpl[] = "/tmp/drover-state-XXXXXX";

    cr_assert_not_null(mkdtemp(tmpl));
    snprintf(dir, sizeof(dir), "%s", tmpl);
    snprintf(path, sizeof(path), "%s/state.json", dir);
}

static void teardown(void)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char p[PATH_MAX * 2];

    while (d != NULL && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        unlink(p);
    }
    if (d != NULL)
        closedir(d);
    rmdir(dir);
}

TestSuite(state, .init = setup, .fini = teardown);

static void write_text(const char *text)
{
    FILE *f = fopen(path, "w");

    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

/* How many entries dir holds. */
static int entries(void)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;

    while ((de = readdir(d)) != NULL)
        n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

Test(state, written_and_read_back)
{
    struct state st = {NULL, 0}, back = {NULL, 0};
    struct state_verdict v;

    cr_assert_eq(state_set(&st, "web", 4, 2, false), 0);
    cr_assert_eq(state_set(&st, "worker", -1, 1, true), 0);
    cr_assert_eq(state_set(&st, "clock", -1, 1, false), 0, "neither: left out");
    cr_assert_eq(st.ntypes, 2);
    cr_assert_eq(state_save(path, &st, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(state_load(path, &back, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(back.ntypes, 2);
    state_lookup(&back, "web", 2, &v);
    cr_assert_eq(v.instances, 4);
    cr_assert_not(v.stopped);
    cr_assert_eq(v.stale, -1);
    state_lookup(&back, "worker", 1, &v);
    cr_assert(v.stopped);
    cr_assert_eq(v.instances, -1);
    state_lookup(&back, "clock", 1, &v);
    cr_assert_not(v.stopped);
    cr_assert_eq(v.instances, -1);
    state_free(&st);
    state_free(&back);
}

/* A scale holds only while the config gives the count it was made against. */
Test(state, a_scale_made_against_another_count_is_stale)
{
    struct state st = {NULL, 0};
    struct state_verdict v;

    state_set(&st, "web", 4, 2, true);
    state_lookup(&st, "web", 3, &v);
    cr_assert_eq(v.instances, -1);
    cr_assert_eq(v.stale, 4);
    cr_assert_eq(v.stale_config, 2);
    cr_assert(v.stopped, "a stop holds whatever the count");
    state_free(&st);
}

/* The new content takes the file's name in one rename: whoever holds the
 * old file open still reads the old content whole, and no temporary file
 * is left beside it. */
Test(state, the_write_is_atomic)
{
    struct state st = {NULL, 0};
    char before[4096], after[4096];
    ssize_t n;
    int old;

    state_set(&st, "web", 1, 2, false);
    cr_assert_eq(state_save(path, &st, err, sizeof(err)), 0, "%s", err);
    old = open(path, O_RDONLY);
    cr_assert_geq(old, 0);
    n = read(old, before, sizeof(before) - 1);
    cr_assert_gt(n, 0);
    before[n] = '\0';
    state_set(&st, "web", 9, 2, true);
    state_set(&st, "worker", -1, 1, true);
    cr_assert_eq(state_save(path, &st, err, sizeof(err)), 0, "%s", err);
    n = pread(old, after, sizeof(after) - 1, 0);
    cr_assert_gt(n, 0);
    after[n] = '\0';
    cr_assert_str_eq(after, before, "the old file was written over in place");
    close(old);
    cr_assert_eq(entries(), 1, "a temporary file was left behind");
    state_free(&st);
    cr_assert_eq(state_load(path, &st, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(st.ntypes, 2);
    state_free(&st);
}

/* The temporary file cannot be made (a directory holds its name): the
 * write fails, says where and why, and the old file is still whole. */
Test(state, a_failed_write_leaves_the_old_file)
{
    struct state st = {NULL, 0};
    char tmp[PATH_MAX + 64], bad[PATH_MAX + 64];

    state_set(&st, "web", 3, 1, false);
    cr_assert_eq(state_save(path, &st, err, sizeof(err)), 0, "%s", err);
    snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
    cr_assert_eq(mkdir(tmp, 0755), 0);
    state_set(&st, "web", 7, 1, true);
    cr_assert_eq(state_save(path, &st, err, sizeof(err)), -1);
    cr_assert(strstr(err, path) == err, "the path first: %s", err);
    cr_assert(strstr(err, "Is a directory") != NULL, "%s", err);
    rmdir(tmp);
    state_free(&st);
    cr_assert_eq(state_load(path, &st, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(st.ntypes, 1);
    cr_assert_eq(st.types[0].instances, 3, "the old content");
    cr_assert_not(st.types[0].stopped);
    state_free(&st);
    snprintf(bad, sizeof(bad), "%s/no/such/dir/state.json", dir);
    cr_assert_eq(state_save(bad, &st, err, sizeof(err)), -1);
    cr_assert(strstr(err, "No such file or directory") != NULL, "%s", err);
}

Test(state, a_missing_file_is_an_empty_state)
{
    struct state st = {NULL, 0};

    cr_assert_eq(state_load(path, &st, err, sizeof(err)), 0);
    cr_assert_eq(st.ntypes, 0);
}

/* Each corrupt file is refused with its path and the reason, and leaves
 * nothing half-read. */
Test(state, corrupt_files_are_refused_with_their_path)
{
    static const struct {
        const char *text, *reason;
    } cases[] = {
        {"", "not JSON: line 1"},
        {"{\"drover_state\": 1, \"types\": {\"web\": {\"instances\": 4, \"con", "not JSON"},
        {"[1, 2]", "not a drover state file"},
        {"{\"types\": {}}", "not a drover state file"},
        {"{\"drover_state\": 2, \"types\": {}}", "version 2"},
        {"{\"drover_state\": 1, \"types\": []}", "types: not an object"},
        {"{\"drover_state\": 1, \"types\": {\"web\": 3}}", "types.web: not an object"},
        {"{\"drover_state\": 1, \"types\": {\"web\": {\"instances\": 4}}}", "types.web: instances and config"},
        {"{\"drover_state\": 1, \"types\": {\"web\": {\"instances\": -1, \"config\": 1}}}", "types.web: instances"},
        {"{\"drover_state\": 1, \"types\": {\"web\": {\"instances\": 5000, \"config\": 1}}}", "types.web: instances"},
        {"{\"drover_state\": 1, \"types\": {\"web\": {\"stopped\": \"yes\"}}}", "types.web.stopped"},
        {"{\"drover_state\": 1, \"drover_state\": 1}", "not JSON"},
        {"\x7f\x45\x4c\x46\x02\x01", "not JSON"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct state st = {NULL, 0};
        char want[PATH_MAX + 32];

        write_text(cases[i].text);
        cr_assert_eq(state_load(path, &st, err, sizeof(err)), -1, "case %zu", i);
        snprintf(want, sizeof(want), "%s: ", path);
        cr_assert(strncmp(err, want, strlen(want)) == 0, "case %zu: %s", i, err);
        cr_assert(strstr(err, cases[i].reason) != NULL, "case %zu: %s", i, err);
        cr_assert_eq(st.ntypes, 0, "case %zu", i);
        cr_assert_null(st.types, "case %zu", i);
    }
}

Test(state, an_unreadable_file_is_refused)
{
    struct state st = {NULL, 0};

    mkdir(path, 0755); /* a directory where the file should be */
    cr_assert_eq(state_load(path, &st, err, sizeof(err)), -1);
    cr_assert(strstr(err, path) == err, "%s", err);
    rmdir(path);
}

/* What `drover check` prints: what a start would run otherwise. */
Test(state, check_says_what_the_file_changes)
{
    struct plan_type types[3] = {{.name = "web", .count = 2}, {.name = "worker", .count = 3},
                                 {.name = "clock", .count = 1}};
    struct plan plan = {.types = types, .ntypes = 3};
    char *text = NULL;
    size_t len = 0;
    FILE *f;

    write_text("{\"drover_state\": 1, \"types\": {\"web\": {\"instances\": 5, \"config\": 2},"
               " \"worker\": {\"instances\": 1, \"config\": 2}, \"clock\": {\"stopped\": true}}}");
    f = open_memstream(&text, &len);
    state_print(path, &plan, f);
    fclose(f);
    cr_assert(strstr(text, ": web runs 5 instances, not 2 (drover scale)\n") != NULL, "%s", text);
    cr_assert(strstr(text, ": worker's scale to 1 no longer holds: the config's count changed from "
                           "2 to 3\n") != NULL, "%s", text);
    cr_assert(strstr(text, ": clock stays stopped") != NULL, "%s", text);
    free(text);
    write_text("{oops");
    f = open_memstream(&text, &len);
    state_print(path, &plan, f);
    fclose(f);
    cr_assert(strstr(text, "; ignored\n") != NULL, "%s", text);
    cr_assert(strstr(text, path) != NULL, "%s", text);
    free(text);
}
