/* lib/cpus.c: the CPUs `workers: auto` counts (see cpus.h). The quota is
 * read the way container runtimes set it: the cgroup of this process in
 * each hierarchy that has the cpu controller, and every ancestor up to
 * that hierarchy's mount, since a parent's quota bounds its children. */
#include "lib/cpus.h"

#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/cgroup.h"

int cpus_from_quota(long long quota_us, long long period_us, int affinity)
{
    long long n = affinity > 0 ? affinity : 1;

    if (quota_us > 0 && period_us > 0) {
        long long q = (quota_us + period_us - 1) / period_us;

        if (q < n)
            n = q;
    }
    return n < 1 ? 1 : (int)n;
}

/* ceil(quota / period) CPUs from the quota files of directory dir, 0 for
 * none. */
static int quota_at(const char *dir, bool v1)
{
    char path[PATH_MAX + 32], *text, *period_text;
    long long quota = -1, period = 0;

    if (!v1) {
        char q[32];

        snprintf(path, sizeof(path), "%s/cpu.max", dir);
        if ((text = cgroup_read("", path)) == NULL)
            return 0;
        if (sscanf(text, "%31s %lld", q, &period) == 2 && strcmp(q, "max") != 0)
            quota = strtoll(q, NULL, 10);
        free(text);
    } else {
        snprintf(path, sizeof(path), "%s/cpu.cfs_quota_us", dir);
        if ((text = cgroup_read("", path)) == NULL)
            return 0;
        snprintf(path, sizeof(path), "%s/cpu.cfs_period_us", dir);
        period_text = cgroup_read("", path);
        if (period_text == NULL || sscanf(text, "%lld", &quota) != 1 ||
            sscanf(period_text, "%lld", &period) != 1)
            quota = -1;
        free(text);
        free(period_text);
    }
    if (quota <= 0 || period <= 0)
        return 0;
    return (int)((quota + period - 1) / period > INT_MAX ? INT_MAX : (quota + period - 1) / period);
}

/* The tightest quota from dir up to top (the hierarchy's mount), 0 for
 * none. */
static int quota_up_to(char *dir, const char *top, bool v1)
{
    size_t toplen = strlen(top);
    int best = 0;

    for (;;) {
        int n = quota_at(dir, v1);
        char *slash;

        if (n > 0 && (best == 0 || n < best))
            best = n;
        if (strlen(dir) <= toplen || (slash = strrchr(dir, '/')) == NULL)
            return best;
        *slash = '\0';
        if (strlen(dir) < toplen)
            snprintf(dir, PATH_MAX, "%s", top);
    }
}

/* A hierarchy whose cpu controller may hold a quota (v1 with it, or v2):
 * the tightest over the process's cgroup and its ancestors. */
static int quota_of_mount(const struct cgroup_mount *m, void *arg)
{
    int *best = arg, q;
    char dir[PATH_MAX];

    if (!m->v2 && !cgroup_v1_has(m, "cpu"))
        return 0;
    snprintf(dir, sizeof(dir), "%s", m->own);
    q = quota_up_to(dir, m->top, !m->v2);
    if (q > 0 && (*best == 0 || q < *best))
        *best = q;
    return 0;
}

int cpus_cgroup_quota(const char *root)
{
    int best = 0;

    cgroup_each_mount(root, quota_of_mount, &best);
    return best;
}

int cpus_usable(const char *root)
{
    cpu_set_t set;
    int affinity = 0;

    if (sched_getaffinity(0, sizeof(set), &set) == 0)
        affinity = CPU_COUNT(&set);
    if (affinity < 1) {
        long online = sysconf(_SC_NPROCESSORS_ONLN);

        affinity = online < 1 ? 1 : online > INT_MAX ? INT_MAX : (int)online;
    }
    /* The quota is in whole CPUs already: a period of 1. */
    return cpus_from_quota(cpus_cgroup_quota(root), 1, affinity);
}
