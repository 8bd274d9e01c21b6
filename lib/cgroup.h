/* The cgroup filesystem: where this process's cgroups are (cgroup v1's
 * hierarchies, v2's unified one, or both on a hybrid host), and the
 * cgroups drover makes for the instances of a type with `cpu` or
 * `memory_max`: <own>/drover-<pid>/<instance>-<n> in each hierarchy that
 * holds a controller asked for. Every path is read under root ("" for the
 * real files; a test's temp dir). Errors name the path and errno. */
#ifndef DROVER_LIB_CGROUP_H
#define DROVER_LIB_CGROUP_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One cgroup hierarchy this process is in. */
struct cgroup_mount {
    bool v2;
    char options[256];          /* v1: the mount's options ("rw,cpu,cpuacct"): its controllers */
    char top[PATH_MAX];         /* where it is mounted, under root */
    char own[PATH_MAX];         /* this process's cgroup in it, under root */
};

/* The whole of a small file under root (root "" for none), malloc'd and
 * NUL-terminated; NULL when it cannot be read. */
char *cgroup_read(const char *root, const char *path);

/* Calls fn for each cgroup hierarchy in root's /proc/self/mountinfo that
 * /proc/self/cgroup places this process in, until fn returns non-zero;
 * returns that, or 0. */
int cgroup_each_mount(const char *root, int (*fn)(const struct cgroup_mount *m, void *arg), void *arg);

/* A v1 mount of the controller name ("cpu"). */
bool cgroup_v1_has(const struct cgroup_mount *m, const char *name);

enum cgroup_ctl { CGROUP_CPU, CGROUP_MEMORY, CGROUP_NCTL };

/* The hierarchy holding controller ctl: a v1 mount with it, else v2 when
 * this process's cgroup.controllers lists it. 0, or -1 with err. */
int cgroup_locate(const char *root, enum cgroup_ctl ctl, struct cgroup_mount *out, char *err, size_t errlen);

/* What `drover check` can tell without making anything: each controller
 * in need (by enum cgroup_ctl) is in some hierarchy, and this process's
 * cgroup there is writable. 0, or -1 with err. */
int cgroup_can_make(const char *root, const bool need[CGROUP_NCTL], char *err, size_t errlen);

struct cgroup_limits {
    unsigned cpu_milli;         /* thousandths of a CPU; 0: none */
    uint64_t memory_max;        /* bytes; 0: none */
};

/* One file a limit is written to, and what. An optional file (the swap
 * limits) is skipped where the kernel does not have it. */
struct cgroup_write {
    const char *file;
    char value[32];
    bool optional;
};

#define CGROUP_CPU_PERIOD_US 100000

/* The files (in order) that set ctl's part of l on v2 or v1: at most 2.
 * Returns how many. */
size_t cgroup_limit_writes(enum cgroup_ctl ctl, bool v2, const struct cgroup_limits *l, struct cgroup_write *out);

/* drover's own directory in each hierarchy it uses: <own>/drover-<pid>. */
struct cgroup_base {
    char root[PATH_MAX];
    bool open[CGROUP_NCTL];
    bool v2[CGROUP_NCTL];
    char dir[CGROUP_NCTL][PATH_MAX];
};

void cgroup_base_init(struct cgroup_base *b, const char *root);
/* Makes the directories for the controllers in need (by enum cgroup_ctl;
 * those open already are kept): on v2 the controller is delegated to it
 * first. 0, or -1 with err saying which path failed and why. */
int cgroup_base_open(struct cgroup_base *b, const bool need[CGROUP_NCTL], char *err, size_t errlen);
/* Removes the directories (each must be empty by now: briefly retried). */
void cgroup_base_close(struct cgroup_base *b);

/* One instance's cgroup: a directory in each hierarchy it is limited in. */
struct cgroup {
    unsigned n;
    int memory;                 /* index of the directory with the memory controller, -1 none */
    uint64_t memory_max;
    struct {
        char path[PATH_MAX];
        bool v2;
        int procs;              /* cgroup.procs, open for the child to join; -1 once closed */
    } d[CGROUP_NCTL];
};

/* Makes b's dir/name in every hierarchy l needs, writes the limits and
 * opens cgroup.procs. 0, or -1 with err (nothing is left made). */
int cgroup_create(const struct cgroup_base *b, const char *name, const struct cgroup_limits *l,
                  struct cgroup *cg, char *err, size_t errlen);
/* Moves the calling process into cg (async-signal-safe: for a child
 * between fork and exec). 0, or -1 with errno, *failed the path. */
int cgroup_enter(const struct cgroup *cg, const char **failed);
/* The cgroup.procs descriptors closed (the parent, once the child is in). */
void cgroup_close_procs(struct cgroup *cg);
/* Processes of cg the kernel killed for its memory limit: v2's and v1's
 * oom_kill counters; on a v1 kernel without one, 1 when memory.failcnt
 * says the limit was hit (the caller checks for SIGKILL). */
unsigned long long cgroup_oom_kills(const struct cgroup *cg);
/* Removes cg's directories: 0 when they are gone, -1 (errno EBUSY while a
 * process is still in one) when some are left for another try. */
int cgroup_remove(struct cgroup *cg);

#endif
