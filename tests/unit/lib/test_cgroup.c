/* lib/cgroup: finding this process's cgroups and making the instances'
 * ones, against cgroup files laid out in a temp dir the way the kernel
 * shows them (v1 as on this machine, v2, a hybrid host). The kernel's
 * part (what a real cgroup directory holds) is the e2e test's. */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cgroup.h"

static char root[PATH_MAX];

static void setup(void)
{
    snprintf(root, sizeof(root), "/tmp/drover-cgroup-%d-XXXXXX", (int)getpid());
    cr_assert_not_null(mkdtemp(root));
}

static void teardown(void)
{
    char cmd[PATH_MAX + 16];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(cgroup, .init = setup, .fini = teardown);

/* Writes text to root/rel, making its directories. */
static void put(const char *rel, const char *fmt, ...)
{
    char path[2 * PATH_MAX], cmd[3 * PATH_MAX];
    va_list ap;
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", root, rel);
    snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
    cr_assert_eq(system(cmd), 0);
    f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fclose(f);
}

static const char *at(const char *rel)
{
    static char path[PATH_MAX];

    snprintf(path, sizeof(path), "%.2000s/%.2000s", root, rel);
    return path;
}

/* This machine: v1 hierarchies, an empty cgroup2 beside them, drover's
 * memory cgroup below the root and its cpu one at it. */
static void hybrid_host(void)
{
    put("proc/self/cgroup", "9:name=systemd:/\n4:memory:/api/abc\n2:cpuacct:/\n1:cpu:/\n0::/\n");
    put("proc/self/mountinfo",
        "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
        "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
        "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
        "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
        "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
        "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n");
    put("sys/fs/cgroup/unified/cgroup.controllers", "hugetlb\n");
    put("sys/fs/cgroup/cpu/cgroup.procs", "");
    put("sys/fs/cgroup/memory/api/abc/cgroup.procs", "");
}

Test(cgroup, v1_each_controller_in_its_own_hierarchy)
{
    struct cgroup_mount m;
    char err[512];

    hybrid_host();
    cr_assert_eq(cgroup_locate(root, CGROUP_CPU, &m, err, sizeof(err)), 0, "%s", err);
    cr_assert_not(m.v2);
    cr_assert_str_eq(m.own, at("sys/fs/cgroup/cpu"), "cpuacct's mount is not cpu's");
    cr_assert_eq(cgroup_locate(root, CGROUP_MEMORY, &m, err, sizeof(err)), 0, "%s", err);
    cr_assert_not(m.v2);
    cr_assert_str_eq(m.own, at("sys/fs/cgroup/memory/api/abc"));
    cr_assert_str_eq(m.top, at("sys/fs/cgroup/memory"));
}

Test(cgroup, v2_when_its_controllers_list_it)
{
    struct cgroup_mount m;
    char err[512];

    put("proc/self/cgroup", "0::/system.slice/drover.service\n");
    put("proc/self/mountinfo", "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n");
    put("sys/fs/cgroup/system.slice/drover.service/cgroup.controllers", "cpuset cpu io memory pids\n");
    cr_assert_eq(cgroup_locate(root, CGROUP_MEMORY, &m, err, sizeof(err)), 0, "%s", err);
    cr_assert(m.v2);
    cr_assert_str_eq(m.own, at("sys/fs/cgroup/system.slice/drover.service"));
    put("sys/fs/cgroup/system.slice/drover.service/cgroup.controllers", "cpuset io pids\n");
    cr_assert_eq(cgroup_locate(root, CGROUP_CPU, &m, err, sizeof(err)), -1, "cpuset is not cpu");
    cr_assert_not_null(strstr(err, "no cgroup hierarchy has the cpu controller"), "%s", err);
}

Test(cgroup, no_controller_is_an_error_that_says_so)
{
    bool need[CGROUP_NCTL] = {false, true};
    struct cgroup_base b;
    char err[1024];

    put("proc/self/cgroup", "1:cpu:/\n0::/\n");
    put("proc/self/mountinfo", "32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n"
                               "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n");
    put("sys/fs/cgroup/unified/cgroup.controllers", "hugetlb\n");
    cgroup_base_init(&b, root);
    cr_assert_eq(cgroup_base_open(&b, need, err, sizeof(err)), -1);
    cr_assert_not_null(strstr(err, "no cgroup hierarchy has the memory controller"), "%s", err);
    cr_assert_eq(cgroup_can_make(root, need, err, sizeof(err)), -1);
    cr_assert_not_null(strstr(err, "memory controller"), "%s", err);
}

Test(cgroup, limit_files_v1_and_v2)
{
    struct cgroup_limits l = {250, 64ULL << 20};
    struct cgroup_write w[2];

    cr_assert_eq(cgroup_limit_writes(CGROUP_CPU, false, &l, w), 2);
    cr_assert_str_eq(w[0].file, "cpu.cfs_period_us");
    cr_assert_str_eq(w[0].value, "100000");
    cr_assert_str_eq(w[1].file, "cpu.cfs_quota_us");
    cr_assert_str_eq(w[1].value, "25000");
    cr_assert_eq(cgroup_limit_writes(CGROUP_CPU, true, &l, w), 1);
    cr_assert_str_eq(w[0].file, "cpu.max");
    cr_assert_str_eq(w[0].value, "25000 100000");
    cr_assert_eq(cgroup_limit_writes(CGROUP_MEMORY, false, &l, w), 2);
    cr_assert_str_eq(w[0].file, "memory.limit_in_bytes");
    cr_assert_str_eq(w[0].value, "67108864");
    cr_assert_not(w[0].optional);
    cr_assert_str_eq(w[1].file, "memory.memsw.limit_in_bytes");
    cr_assert_str_eq(w[1].value, "67108864", "memory and swap together: no swap beyond the limit");
    cr_assert(w[1].optional, "only where swap accounting is on");
    cr_assert_eq(cgroup_limit_writes(CGROUP_MEMORY, true, &l, w), 2);
    cr_assert_str_eq(w[0].file, "memory.max");
    cr_assert_str_eq(w[0].value, "67108864");
    cr_assert_str_eq(w[1].file, "memory.swap.max");
    cr_assert_str_eq(w[1].value, "0");
    l = (struct cgroup_limits){2000, 0};
    cr_assert_eq(cgroup_limit_writes(CGROUP_MEMORY, false, &l, w), 0, "no memory limit, no files");
    cr_assert_eq(cgroup_limit_writes(CGROUP_CPU, true, &l, w), 1);
    cr_assert_str_eq(w[0].value, "200000 100000", "two CPUs: twice the period");
}

/* The directories: <own>/drover-<pid>/<name> in each hierarchy used. */
Test(cgroup, base_and_instance_paths_v1)
{
    bool need[CGROUP_NCTL] = {true, true};
    struct cgroup_limits l = {500, 0};
    struct cgroup_base b;
    struct cgroup cg;
    char err[1024], want[PATH_MAX * 3];
    struct stat st;

    hybrid_host();
    cgroup_base_init(&b, root);
    cr_assert_eq(cgroup_base_open(&b, need, err, sizeof(err)), 0, "%s", err);
    snprintf(want, sizeof(want), "%s/drover-%d", at("sys/fs/cgroup/cpu"), (int)getpid());
    cr_assert_str_eq(b.dir[CGROUP_CPU], want);
    cr_assert_eq(stat(want, &st), 0, "made");
    snprintf(want, sizeof(want), "%s/drover-%d", at("sys/fs/cgroup/memory/api/abc"), (int)getpid());
    cr_assert_str_eq(b.dir[CGROUP_MEMORY], want);
    cr_assert_eq(stat(want, &st), 0, "made");
    /* A plain directory has none of the kernel's files: the first write
     * fails, named, and nothing is left made. */
    cr_assert_eq(cgroup_create(&b, "web.1-1", &l, &cg, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "cannot set %s/web.1-1/cpu.cfs_period_us to 100000: No such file or directory",
             b.dir[CGROUP_CPU]);
    cr_assert_str_eq(err, want);
    snprintf(want, sizeof(want), "%s/web.1-1", b.dir[CGROUP_CPU]);
    cr_assert_eq(stat(want, &st), -1, "removed again");
    cgroup_base_close(&b);
    cr_assert_eq(stat(b.dir[CGROUP_MEMORY], &st), -1, "removed at the end");
    snprintf(want, sizeof(want), "%s/drover-%d", at("sys/fs/cgroup/cpu"), (int)getpid());
    cr_assert_eq(stat(want, &st), -1, "removed at the end");
}

Test(cgroup, v2_delegates_the_controller_and_says_why_it_cannot)
{
    bool need[CGROUP_NCTL] = {true, false};
    struct cgroup_base b;
    char err[2048], *text;
    size_t len;
    FILE *f;

    put("proc/self/cgroup", "0::/app\n");
    put("proc/self/mountinfo", "30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
    put("sys/fs/cgroup/app/cgroup.controllers", "cpu memory\n");
    put("sys/fs/cgroup/app/cgroup.subtree_control", "");
    cgroup_base_init(&b, root);
    /* The own cgroup's subtree_control gets "+cpu"; the new directory has
     * no subtree_control here (a real one would): the error names it. */
    cr_assert_eq(cgroup_base_open(&b, need, err, sizeof(err)), -1);
    cr_assert_not_null(strstr(err, "writing \"+cpu\" to "), "%s", err);
    cr_assert_not_null(strstr(err, "/drover-"), "%s", err);
    cr_assert_not_null(strstr(err, "No such file or directory"), "%s", err);
    f = fopen(at("sys/fs/cgroup/app/cgroup.subtree_control"), "r");
    cr_assert_not_null(f);
    text = NULL;
    len = 0;
    cr_assert_gt(getline(&text, &len, f), 0);
    cr_assert_str_eq(text, "+cpu");
    free(text);
    fclose(f);
    cgroup_base_close(&b);
}

Test(cgroup, a_file_in_the_way_is_an_error_with_path_and_errno)
{
    bool need[CGROUP_NCTL] = {true, false};
    struct cgroup_base b;
    char err[1024], rel[128], want[PATH_MAX * 3];

    hybrid_host();
    snprintf(rel, sizeof(rel), "sys/fs/cgroup/cpu/drover-%d", (int)getpid());
    put(rel, "not a cgroup\n");
    cgroup_base_init(&b, root);
    cr_assert_eq(cgroup_base_open(&b, need, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "cannot create the cgroup %s (for the cpu controller): Not a directory", at(rel));
    cr_assert_str_eq(err, want);
}

Test(cgroup, oom_kills_v2_v1_and_the_failcnt_fallback)
{
    struct cgroup cg;

    memset(&cg, 0, sizeof(cg));
    cg.n = 1;
    cg.memory = 0;
    cg.d[0].procs = -1;
    snprintf(cg.d[0].path, sizeof(cg.d[0].path), "%s", at("v2"));
    cg.d[0].v2 = true;
    put("v2/memory.events", "low 0\nhigh 0\nmax 12\noom 2\noom_kill 2\noom_group_kill 0\n");
    cr_assert_eq(cgroup_oom_kills(&cg), 2, "oom_kill, not oom_group_kill");
    snprintf(cg.d[0].path, sizeof(cg.d[0].path), "%s", at("v1"));
    cg.d[0].v2 = false;
    put("v1/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n");
    put("v1/memory.failcnt", "40\n");
    cr_assert_eq(cgroup_oom_kills(&cg), 1);
    put("v1/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\n");
    cr_assert_eq(cgroup_oom_kills(&cg), 1, "an older kernel: the limit was hit");
    put("v1/memory.failcnt", "0\n");
    cr_assert_eq(cgroup_oom_kills(&cg), 0);
    cg.memory = -1;
    cr_assert_eq(cgroup_oom_kills(&cg), 0, "no memory limit, no kills");
}

Test(cgroup, remove_says_busy_and_tries_again)
{
    struct cgroup cg;

    memset(&cg, 0, sizeof(cg));
    cg.n = 1;
    cg.memory = -1;
    cg.d[0].procs = -1;
    snprintf(cg.d[0].path, sizeof(cg.d[0].path), "%s", at("inst"));
    put("inst/cgroup.procs", "123\n"); /* a plain dir with a file: rmdir fails like a busy cgroup */
    cr_assert_eq(cgroup_remove(&cg), -1);
    cr_assert_eq(cg.n, 1, "kept for another try");
    unlink(at("inst/cgroup.procs"));
    cr_assert_eq(cgroup_remove(&cg), 0);
    cr_assert_eq(cg.n, 0);
    cr_assert_eq(access(at("inst"), F_OK), -1);
}
