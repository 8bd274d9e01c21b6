/* lib/cpus: the CPU count of `workers: auto`, from cgroup files laid out
 * in a temp dir the way the kernel shows them (v2, v1, hybrid, a cgroup
 * namespace, a container's bind mount). */
#include <criterion/criterion.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cpus.h"

static char root[PATH_MAX];

static void setup(void)
{
    snprintf(root, sizeof(root), "/tmp/drover-cpus-%d-XXXXXX", (int)getpid());
    cr_assert_not_null(mkdtemp(root));
}

static void teardown(void)
{
    char cmd[PATH_MAX + 16];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(cpus, .init = setup, .fini = teardown);

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

#define V2_MOUNT "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"

Test(cpus, the_quota_is_rounded_up_and_bounded_by_the_affinity)
{
    cr_assert_eq(cpus_from_quota(150000, 100000, 8), 2);
    cr_assert_eq(cpus_from_quota(50000, 100000, 8), 1);
    cr_assert_eq(cpus_from_quota(100000, 100000, 8), 1);
    cr_assert_eq(cpus_from_quota(100001, 100000, 8), 2);
    cr_assert_eq(cpus_from_quota(1, 100000, 4), 1, "a sliver of a CPU is still one");
    cr_assert_eq(cpus_from_quota(400000, 100000, 2), 2, "no more than the affinity mask");
    cr_assert_eq(cpus_from_quota(-1, 100000, 6), 6, "-1: no quota");
    cr_assert_eq(cpus_from_quota(0, 0, 0), 1, "at least one");
}

Test(cpus, v2_the_tightest_quota_on_the_way_up)
{
    put("proc/self/cgroup", "0::/kubepods/pod1/c1\n");
    put("proc/self/mountinfo", "22 1 0:20 / / rw - ext4 /dev/vda rw\n" V2_MOUNT);
    put("sys/fs/cgroup/kubepods/pod1/c1/cpu.max", "max 100000\n");
    put("sys/fs/cgroup/kubepods/pod1/cpu.max", "250000 100000\n");
    put("sys/fs/cgroup/kubepods/cpu.max", "800000 100000\n");
    cr_assert_eq(cpus_cgroup_quota(root), 3);
}

Test(cpus, v2_no_quota)
{
    put("proc/self/cgroup", "0::/user.slice\n");
    put("proc/self/mountinfo", V2_MOUNT);
    put("sys/fs/cgroup/user.slice/cpu.max", "max 100000\n");
    cr_assert_eq(cpus_cgroup_quota(root), 0);
}

Test(cpus, v2_inside_a_cgroup_namespace)
{
    /* A container's own cgroup is its "/", mounted at /sys/fs/cgroup. */
    put("proc/self/cgroup", "0::/\n");
    put("proc/self/mountinfo", V2_MOUNT);
    put("sys/fs/cgroup/cpu.max", "150000 100000\n");
    cr_assert_eq(cpus_cgroup_quota(root), 2);
}

Test(cpus, v1_a_containers_bind_mount_of_its_own_cgroup)
{
    /* Docker without a cgroup namespace: the path names the host's
     * hierarchy, the mount shows only the container's part of it. */
    put("proc/self/cgroup", "5:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n");
    put("proc/self/mountinfo",
        "40 31 0:37 /docker/abc /sys/fs/cgroup/cpu,cpuacct ro - cgroup cgroup rw,cpu,cpuacct\n"
        "41 31 0:38 /docker/abc /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory\n");
    put("sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "200000\n");
    put("sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us", "100000\n");
    put("sys/fs/cgroup/memory/cpu.cfs_quota_us", "50000\n"); /* not the cpu hierarchy */
    cr_assert_eq(cpus_cgroup_quota(root), 2);
}

Test(cpus, v1_minus_one_is_no_quota)
{
    put("proc/self/cgroup", "1:cpu:/\n");
    put("proc/self/mountinfo", "32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n");
    put("sys/fs/cgroup/cpu/cpu.cfs_quota_us", "-1\n");
    put("sys/fs/cgroup/cpu/cpu.cfs_period_us", "100000\n");
    cr_assert_eq(cpus_cgroup_quota(root), 0);
}

Test(cpus, hybrid_the_v1_cpu_controller_counts)
{
    /* This machine's layout: cgroup2 without the cpu controller beside v1. */
    put("proc/self/cgroup", "1:cpu:/drover-test\n0::/\n");
    put("proc/self/mountinfo",
        "32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n"
        "33 31 0:30 / /sys/fs/cgroup/cpuacct rw - cgroup cgroup rw,cpuacct\n"
        "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n");
    put("sys/fs/cgroup/unified/cgroup.controllers", "hugetlb\n");
    put("sys/fs/cgroup/cpu/cpu.cfs_quota_us", "-1\n");
    put("sys/fs/cgroup/cpu/cpu.cfs_period_us", "100000\n");
    put("sys/fs/cgroup/cpu/drover-test/cpu.cfs_quota_us", "50000\n");
    put("sys/fs/cgroup/cpu/drover-test/cpu.cfs_period_us", "100000\n");
    put("sys/fs/cgroup/cpuacct/drover-test/cpu.cfs_quota_us", "10000\n"); /* cpuacct is not cpu */
    cr_assert_eq(cpus_cgroup_quota(root), 1);
}

Test(cpus, an_escaped_mount_point)
{
    put("proc/self/cgroup", "0::/a\n");
    put("proc/self/mountinfo", "30 23 0:26 / /sys/fs/my\\040cgroup rw - cgroup2 cgroup2 rw\n");
    put("sys/fs/my cgroup/a/cpu.max", "300000 100000\n");
    cr_assert_eq(cpus_cgroup_quota(root), 3);
}

Test(cpus, nothing_to_read_is_no_quota)
{
    cr_assert_eq(cpus_cgroup_quota(root), 0);
    put("proc/self/cgroup", "0::/a\n");
    put("proc/self/mountinfo", "garbage\n\n - \n" V2_MOUNT);
    put("sys/fs/cgroup/a/cpu.max", "nonsense\n");
    cr_assert_eq(cpus_cgroup_quota(root), 0);
}

Test(cpus, usable_is_the_affinity_mask_at_most)
{
    cpu_set_t set;
    int n;

    cr_assert_eq(sched_getaffinity(0, sizeof(set), &set), 0);
    put("proc/self/cgroup", "0::/\n");
    put("proc/self/mountinfo", V2_MOUNT);
    put("sys/fs/cgroup/cpu.max", "100000 100000\n");
    cr_assert_eq(cpus_usable(root), 1);
    n = cpus_usable("/nonexistent");
    cr_assert_eq(n, CPU_COUNT(&set));
}
