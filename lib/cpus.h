/* How many CPUs this process may use (`workers: auto`): the affinity
 * mask, bounded by the cgroup's CPU quota, so a container limited to 1.5
 * CPUs on a 64-core host runs 2 event loops, not 64. */
#ifndef DROVER_LIB_CPUS_H
#define DROVER_LIB_CPUS_H

/* CPUs a quota of quota_us per period_us allows, rounded up, at most
 * affinity and at least 1. quota_us <= 0 or period_us <= 0: no quota. */
int cpus_from_quota(long long quota_us, long long period_us, int affinity);

/* The tightest CPU quota on the path from this process's cgroup up to the
 * root of its hierarchy, as ceil(quota / period) CPUs: cgroup v2's cpu.max
 * ("max 100000" or "150000 100000") and cgroup v1's cpu.cfs_quota_us and
 * cpu.cfs_period_us (-1: none), both looked for (a hybrid host has both
 * hierarchies). The cgroup comes from /proc/self/cgroup, the hierarchies'
 * mount points from /proc/self/mountinfo; every path is read under root
 * ("" for the real ones; a test's temp dir). 0 when no quota applies. */
int cpus_cgroup_quota(const char *root);

/* The CPUs the affinity mask allows (sched_getaffinity; the online CPUs
 * when it fails), bounded by the cgroup quota under root ("" for the real
 * files), at least 1. */
int cpus_usable(const char *root);

#endif
