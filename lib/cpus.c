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

#include "lib/readfile.h"

#define CPUS_MAX_FILE (1u << 20)

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

static char *slurp(const char *root, const char *path)
{
    char full[2 * PATH_MAX + 32], why[128], *text = NULL;
    size_t len;

    if (snprintf(full, sizeof(full), "%s%s", root, path) >= (int)sizeof(full))
        return NULL;
    if (read_whole_file(full, CPUS_MAX_FILE, &text, &len, why, sizeof(why)) < 0)
        return NULL;
    return text;
}

/* tok is one of the comma-separated words of list. */
static bool has_word(const char *list, const char *tok)
{
    size_t n = strlen(tok);

    for (const char *p = list;; p++) {
        if (strncmp(p, tok, n) == 0 && (p[n] == ',' || p[n] == '\0'))
            return true;
        if ((p = strchr(p, ',')) == NULL)
            return false;
    }
}

/* The cgroup path of this process in the v2 hierarchy (v1: false) or in
 * the v1 hierarchy that has the cpu controller, from /proc/self/cgroup
 * ("0::/a/b", "4:cpu,cpuacct:/a/b"), into out. */
static bool cgroup_path(const char *cgroups, bool v1, char *out, size_t len)
{
    char line[PATH_MAX + 256];

    for (const char *p = cgroups; *p != '\0';) {
        size_t n = strcspn(p, "\n");
        char *ctl, *path;

        if (n < sizeof(line)) {
            memcpy(line, p, n);
            line[n] = '\0';
            ctl = strchr(line, ':');
            path = ctl != NULL ? strchr(ctl + 1, ':') : NULL;
            if (path != NULL) {
                *ctl++ = '\0';
                *path++ = '\0';
                if ((v1 ? has_word(ctl, "cpu") : strcmp(line, "0") == 0 && *ctl == '\0') &&
                    snprintf(out, len, "%s", path) < (int)len)
                    return true;
            }
        }
        p += n + (p[n] == '\n');
    }
    return false;
}

/* A mountinfo field in place: its octal escapes ("\040" for a space)
 * decoded. */
static void unescape(char *s)
{
    char *w = s;

    for (char *r = s; *r != '\0'; r++) {
        if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0' &&
            r[3] <= '7') {
            *w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
            r += 3;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
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
        if ((text = slurp("", path)) == NULL)
            return 0;
        if (sscanf(text, "%31s %lld", q, &period) == 2 && strcmp(q, "max") != 0)
            quota = strtoll(q, NULL, 10);
        free(text);
    } else {
        snprintf(path, sizeof(path), "%s/cpu.cfs_quota_us", dir);
        if ((text = slurp("", path)) == NULL)
            return 0;
        snprintf(path, sizeof(path), "%s/cpu.cfs_period_us", dir);
        period_text = slurp("", path);
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

/* One mountinfo line: for a cgroup hierarchy with the cpu controller, the
 * tightest quota over the process's cgroup and its ancestors; else 0. */
static int quota_of_mount(const char *root, char *line, const char *cgroups)
{
    char *field[5], *save = NULL, *dash, *fstype, *opts, *tok;
    char cg[PATH_MAX], top[PATH_MAX], dir[PATH_MAX];
    const char *rel;
    size_t rootlen;
    bool v1;
    int i = 0;

    dash = strstr(line, " - ");
    if (dash == NULL)
        return 0;
    *dash = '\0';
    fstype = strtok_r(dash + 3, " ", &save);
    (void)strtok_r(NULL, " ", &save); /* the source */
    opts = strtok_r(NULL, " ", &save);
    if (fstype == NULL)
        return 0;
    if (strcmp(fstype, "cgroup2") == 0)
        v1 = false;
    else if (strcmp(fstype, "cgroup") == 0 && opts != NULL && has_word(opts, "cpu"))
        v1 = true;
    else
        return 0;
    save = NULL;
    for (tok = strtok_r(line, " ", &save); tok != NULL && i < 5; tok = strtok_r(NULL, " ", &save))
        field[i++] = tok;
    if (i < 5 || !cgroup_path(cgroups, v1, cg, sizeof(cg)))
        return 0;
    unescape(field[3]);
    unescape(field[4]);
    /* The mount shows the hierarchy from field[3] down (a container's
     * cgroup namespace, or a bind mount of its own cgroup): the path is
     * taken relative to that, and one outside it reads the mount's own. */
    rootlen = strlen(field[3]);
    if (strcmp(field[3], "/") == 0)
        rel = cg;
    else if (strncmp(cg, field[3], rootlen) == 0 && (cg[rootlen] == '/' || cg[rootlen] == '\0'))
        rel = cg + rootlen;
    else
        rel = "";
    if (snprintf(top, sizeof(top), "%s%s", root, field[4]) >= (int)sizeof(top) ||
        snprintf(dir, sizeof(dir), "%s%s", top, strcmp(rel, "/") == 0 ? "" : rel) >= (int)sizeof(dir))
        return 0;
    return quota_up_to(dir, top, v1);
}

int cpus_cgroup_quota(const char *root)
{
    char *cgroups = slurp(root, "/proc/self/cgroup"), *mounts = slurp(root, "/proc/self/mountinfo");
    int best = 0;

    for (char *p = mounts; cgroups != NULL && p != NULL && *p != '\0';) {
        size_t n = strcspn(p, "\n");
        bool last = p[n] == '\0';
        int q;

        p[n] = '\0';
        q = quota_of_mount(root, p, cgroups);
        if (q > 0 && (best == 0 || q < best))
            best = q;
        p = last ? NULL : p + n + 1;
    }
    free(cgroups);
    free(mounts);
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
