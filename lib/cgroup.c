/* lib/cgroup.c: the cgroup filesystem (see cgroup.h). */
#include "lib/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/readfile.h"

#define CGROUP_MAX_FILE (1u << 20)

static const char *const ctl_names[CGROUP_NCTL] = {"cpu", "memory"};

char *cgroup_read(const char *root, const char *path)
{
    char full[2 * PATH_MAX + 32], why[128], *text = NULL;
    size_t len;

    if (snprintf(full, sizeof(full), "%s%s", root, path) >= (int)sizeof(full))
        return NULL;
    if (read_whole_file(full, CGROUP_MAX_FILE, &text, &len, why, sizeof(why)) < 0)
        return NULL;
    return text;
}

/* tok is one of the words of list, separated by sep. */
static bool has_word(const char *list, const char *tok, char sep)
{
    size_t n = strlen(tok);

    for (const char *p = list;; p++) {
        if (strncmp(p, tok, n) == 0 && (p[n] == sep || p[n] == '\0' || p[n] == '\n'))
            return true;
        if ((p = strchr(p, sep)) == NULL)
            return false;
    }
}

/* Some controller of the comma-separated ctls is among the v1 mount's
 * options. */
static bool shares_controller(const char *ctls, const char *options)
{
    char word[64];

    for (const char *p = ctls; *p != '\0';) {
        size_t n = strcspn(p, ",");

        if (n > 0 && n < sizeof(word)) {
            memcpy(word, p, n);
            word[n] = '\0';
            if (has_word(options, word, ','))
                return true;
        }
        p += n + (p[n] == ',');
    }
    return false;
}

/* This process's cgroup in the v2 hierarchy (options NULL) or in the v1
 * hierarchy mounted with options, from /proc/self/cgroup ("0::/a/b",
 * "4:cpu,cpuacct:/a/b"), into out. */
static bool own_path(const char *cgroups, const char *options, char *out, size_t len)
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
                if ((options != NULL ? *ctl != '\0' && shares_controller(ctl, options)
                                     : strcmp(line, "0") == 0 && *ctl == '\0') &&
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

/* One mountinfo line into m: true for a cgroup hierarchy this process is
 * in. */
static bool parse_mount(const char *root, char *line, const char *cgroups, struct cgroup_mount *m)
{
    char *field[5], *save = NULL, *dash, *fstype, *opts, *tok;
    char cg[PATH_MAX];
    const char *rel;
    size_t rootlen;
    int i = 0;

    dash = strstr(line, " - ");
    if (dash == NULL)
        return false;
    *dash = '\0';
    fstype = strtok_r(dash + 3, " ", &save);
    (void)strtok_r(NULL, " ", &save); /* the source */
    opts = strtok_r(NULL, " ", &save);
    if (fstype == NULL)
        return false;
    if (strcmp(fstype, "cgroup2") == 0)
        m->v2 = true;
    else if (strcmp(fstype, "cgroup") == 0 && opts != NULL)
        m->v2 = false;
    else
        return false;
    snprintf(m->options, sizeof(m->options), "%s", m->v2 || opts == NULL ? "" : opts);
    save = NULL;
    for (tok = strtok_r(line, " ", &save); tok != NULL && i < 5; tok = strtok_r(NULL, " ", &save))
        field[i++] = tok;
    if (i < 5 || !own_path(cgroups, m->v2 ? NULL : m->options, cg, sizeof(cg)))
        return false;
    unescape(field[3]);
    unescape(field[4]);
    /* The mount shows the hierarchy from field[3] down (a container's
     * cgroup namespace, or a bind mount of its own cgroup): the path is
     * taken relative to that, and one outside it is the mount's own. */
    rootlen = strlen(field[3]);
    if (strcmp(field[3], "/") == 0)
        rel = cg;
    else if (strncmp(cg, field[3], rootlen) == 0 && (cg[rootlen] == '/' || cg[rootlen] == '\0'))
        rel = cg + rootlen;
    else
        rel = "";
    return snprintf(m->top, sizeof(m->top), "%s%s", root, field[4]) < (int)sizeof(m->top) &&
           snprintf(m->own, sizeof(m->own), "%s%s", m->top, strcmp(rel, "/") == 0 ? "" : rel) <
               (int)sizeof(m->own);
}

int cgroup_each_mount(const char *root, int (*fn)(const struct cgroup_mount *m, void *arg), void *arg)
{
    char *cgroups = cgroup_read(root, "/proc/self/cgroup"), *mounts = cgroup_read(root, "/proc/self/mountinfo");
    struct cgroup_mount *m = malloc(sizeof(*m));
    int rc = 0;

    for (char *p = mounts; m != NULL && cgroups != NULL && p != NULL && *p != '\0' && rc == 0;) {
        size_t n = strcspn(p, "\n");
        bool last = p[n] == '\0';

        p[n] = '\0';
        if (parse_mount(root, p, cgroups, m))
            rc = fn(m, arg);
        p = last ? NULL : p + n + 1;
    }
    free(m);
    free(cgroups);
    free(mounts);
    return rc;
}

bool cgroup_v1_has(const struct cgroup_mount *m, const char *name)
{
    return !m->v2 && has_word(m->options, name, ',');
}

struct locate {
    const char *name;
    struct cgroup_mount *out;
    bool v1, v2;
};

/* A v1 mount with the controller wins; v2 counts when it offers it. */
static int locate_cb(const struct cgroup_mount *m, void *arg)
{
    struct locate *l = arg;
    char path[PATH_MAX + 32], *ctls;

    if (cgroup_v1_has(m, l->name)) {
        *l->out = *m;
        l->v1 = true;
        return 1;
    }
    if (m->v2 && !l->v2) {
        snprintf(path, sizeof(path), "%s/cgroup.controllers", m->own);
        ctls = cgroup_read("", path);
        if (ctls != NULL && has_word(ctls, l->name, ' ')) {
            *l->out = *m;
            l->v2 = true;
        }
        free(ctls);
    }
    return 0;
}

int cgroup_locate(const char *root, enum cgroup_ctl ctl, struct cgroup_mount *out, char *err, size_t errlen)
{
    struct locate l = {ctl_names[ctl], out, false, false};

    cgroup_each_mount(root, locate_cb, &l);
    if (l.v1 || l.v2)
        return 0;
    snprintf(err, errlen,
             "no cgroup hierarchy has the %s controller (%s/proc/self/mountinfo mounts no cgroup v1 "
             "hierarchy with it, and no cgroup v2 cgroup.controllers of this process lists it)",
             l.name, root);
    return -1;
}

int cgroup_can_make(const char *root, const bool need[CGROUP_NCTL], char *err, size_t errlen)
{
    for (int c = 0; c < CGROUP_NCTL; c++) {
        struct cgroup_mount m;

        if (!need[c])
            continue;
        if (cgroup_locate(root, (enum cgroup_ctl)c, &m, err, errlen) < 0)
            return -1;
        if (access(m.own, W_OK) < 0) {
            snprintf(err, errlen, "cannot create cgroups in %s (for the %s controller): %s", m.own, ctl_names[c],
                     strerror(errno));
            return -1;
        }
    }
    return 0;
}

size_t cgroup_limit_writes(enum cgroup_ctl ctl, bool v2, const struct cgroup_limits *l, struct cgroup_write *out)
{
    size_t n = 0;

    if (ctl == CGROUP_CPU && l->cpu_milli > 0) {
        unsigned long long quota = (unsigned long long)l->cpu_milli * (CGROUP_CPU_PERIOD_US / 1000);

        if (v2) {
            out[n] = (struct cgroup_write){"cpu.max", "", false};
            snprintf(out[n++].value, sizeof(out->value), "%llu %d", quota, CGROUP_CPU_PERIOD_US);
        } else {
            /* The period first: the quota is checked against it. */
            out[n] = (struct cgroup_write){"cpu.cfs_period_us", "", false};
            snprintf(out[n++].value, sizeof(out->value), "%d", CGROUP_CPU_PERIOD_US);
            out[n] = (struct cgroup_write){"cpu.cfs_quota_us", "", false};
            snprintf(out[n++].value, sizeof(out->value), "%llu", quota);
        }
    } else if (ctl == CGROUP_MEMORY && l->memory_max > 0) {
        /* No swap beyond the limit: memory_max is what it may use. v1's
         * memsw counts memory and swap together, hence the same figure. */
        out[n] = (struct cgroup_write){v2 ? "memory.max" : "memory.limit_in_bytes", "", false};
        snprintf(out[n++].value, sizeof(out->value), "%llu", (unsigned long long)l->memory_max);
        out[n] = (struct cgroup_write){v2 ? "memory.swap.max" : "memory.memsw.limit_in_bytes", "", true};
        snprintf(out[n++].value, sizeof(out->value), "%llu", v2 ? 0ULL : (unsigned long long)l->memory_max);
    }
    return n;
}

/* Writes text to dir/file. 0, or -1 with errno (ENOENT: no such file). */
static int write_to(const char *dir, const char *file, const char *text)
{
    char path[PATH_MAX + 64];
    ssize_t n;
    int fd, saved;

    snprintf(path, sizeof(path), "%s/%s", dir, file);
    fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    n = write(fd, text, strlen(text));
    saved = errno;
    close(fd);
    errno = saved;
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

void cgroup_base_init(struct cgroup_base *b, const char *root)
{
    memset(b, 0, sizeof(*b));
    snprintf(b->root, sizeof(b->root), "%s", root);
}

/* cgroup v2 lets a cgroup's children use a controller only when the
 * cgroup's cgroup.subtree_control enables it. */
static int delegate(const char *dir, const char *name, char *err, size_t errlen)
{
    char path[PATH_MAX + 32], plus[32], *now;
    bool on;

    snprintf(path, sizeof(path), "%s/cgroup.subtree_control", dir);
    now = cgroup_read("", path);
    on = now != NULL && has_word(now, name, ' ');
    free(now);
    snprintf(plus, sizeof(plus), "+%s", name);
    if (on || write_to(dir, "cgroup.subtree_control", plus) == 0)
        return 0;
    snprintf(err, errlen, "cannot enable the %s controller for cgroups below %s: writing \"%s\" to %s: %s%s",
             name, dir, plus, path, strerror(errno),
             errno == EBUSY ? " (cgroup v2 delegates controllers only from a cgroup without processes of "
                              "its own: start drover in a cgroup of its own with a leaf for itself, e.g. "
                              "systemd's Delegate=yes and DelegateSubgroup=)"
                            : "");
    return -1;
}

/* path is a directory (errno ENOTDIR when it is not). */
static bool is_dir(const char *path)
{
    struct stat st;

    if (stat(path, &st) < 0)
        return false;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return false;
    }
    return true;
}

int cgroup_base_open(struct cgroup_base *b, const bool need[CGROUP_NCTL], char *err, size_t errlen)
{
    for (int c = 0; c < CGROUP_NCTL; c++) {
        struct cgroup_mount m;

        if (!need[c] || b->open[c])
            continue;
        if (cgroup_locate(b->root, (enum cgroup_ctl)c, &m, err, errlen) < 0)
            return -1;
        if (snprintf(b->dir[c], sizeof(b->dir[c]), "%s/drover-%d", m.own, (int)getpid()) >=
            (int)sizeof(b->dir[c])) {
            snprintf(err, errlen, "cgroup path too long under %s", m.own);
            return -1;
        }
        if (m.v2 && delegate(m.own, ctl_names[c], err, errlen) < 0)
            return -1;
        /* EEXIST: a drover of this pid before us (in a container) left it. */
        if (mkdir(b->dir[c], 0755) < 0 && (errno != EEXIST || !is_dir(b->dir[c]))) {
            snprintf(err, errlen, "cannot create the cgroup %s (for the %s controller): %s", b->dir[c],
                     ctl_names[c], strerror(errno));
            return -1;
        }
        b->v2[c] = m.v2;
        b->open[c] = true;
        if (m.v2 && delegate(b->dir[c], ctl_names[c], err, errlen) < 0)
            return -1;
    }
    return 0;
}

/* rmdir, tried again for a moment while the kernel lets go of the last
 * process. */
static void rmdir_patiently(const char *dir)
{
    for (int i = 0; i < 40 && rmdir(dir) < 0 && errno == EBUSY; i++)
        nanosleep(&(struct timespec){0, 25 * 1000 * 1000}, NULL);
}

void cgroup_base_close(struct cgroup_base *b)
{
    for (int c = CGROUP_NCTL - 1; c >= 0; c--) {
        bool shared = false;

        for (int o = 0; o < c; o++)
            shared = shared || (b->open[o] && strcmp(b->dir[o], b->dir[c]) == 0);
        if (b->open[c] && !shared)
            rmdir_patiently(b->dir[c]);
        b->open[c] = false;
    }
}

void cgroup_close_procs(struct cgroup *cg)
{
    for (unsigned i = 0; i < cg->n; i++) {
        if (cg->d[i].procs >= 0)
            close(cg->d[i].procs);
        cg->d[i].procs = -1;
    }
}

int cgroup_create(const struct cgroup_base *b, const char *name, const struct cgroup_limits *l,
                  struct cgroup *cg, char *err, size_t errlen)
{
    memset(cg, 0, sizeof(*cg));
    cg->memory = -1;
    cg->memory_max = l->memory_max;
    for (int c = 0; c < CGROUP_NCTL; c++) {
        struct cgroup_write w[2];
        size_t nw = cgroup_limit_writes((enum cgroup_ctl)c, b->v2[c], l, w);
        char path[PATH_MAX];
        unsigned i;

        if (nw == 0)
            continue;
        if (!b->open[c]) {
            snprintf(err, errlen, "no cgroup for the %s controller was prepared", ctl_names[c]);
            goto fail;
        }
        if (snprintf(path, sizeof(path), "%s/%s", b->dir[c], name) >= (int)sizeof(path)) {
            snprintf(err, errlen, "cgroup path too long under %s", b->dir[c]);
            goto fail;
        }
        /* v2 has one hierarchy for every controller: one directory. */
        for (i = 0; i < cg->n && strcmp(cg->d[i].path, path) != 0; i++)
            ;
        if (i == cg->n) {
            /* EEXIST: an empty one left by a drover of this pid before
             * (killed, in a container): rmdir only takes it when empty. */
            if (mkdir(path, 0755) < 0 && (errno != EEXIST || rmdir(path) < 0 || mkdir(path, 0755) < 0)) {
                snprintf(err, errlen, "cannot create the cgroup %s: %s", path, strerror(errno));
                goto fail;
            }
            snprintf(cg->d[i].path, sizeof(cg->d[i].path), "%s", path);
            cg->d[i].v2 = b->v2[c];
            cg->d[i].procs = -1;
            cg->n++;
        }
        if (c == CGROUP_MEMORY)
            cg->memory = (int)i;
        for (size_t k = 0; k < nw; k++) {
            if (write_to(path, w[k].file, w[k].value) == 0 || (w[k].optional && errno == ENOENT))
                continue;
            snprintf(err, errlen, "cannot set %s/%s to %s: %s", path, w[k].file, w[k].value, strerror(errno));
            goto fail;
        }
    }
    for (unsigned i = 0; i < cg->n; i++) {
        char procs[PATH_MAX + 32];

        snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg->d[i].path);
        if ((cg->d[i].procs = open(procs, O_WRONLY | O_CLOEXEC)) < 0) {
            snprintf(err, errlen, "cannot open %s: %s", procs, strerror(errno));
            goto fail;
        }
    }
    return 0;
fail:
    cgroup_close_procs(cg);
    for (unsigned i = cg->n; i-- > 0;)
        rmdir(cg->d[i].path);
    cg->n = 0;
    return -1;
}

int cgroup_enter(const struct cgroup *cg, const char **failed)
{
    for (unsigned i = 0; i < cg->n; i++) {
        /* "0" is the writer itself. */
        if (write(cg->d[i].procs, "0", 1) != 1) {
            *failed = cg->d[i].path;
            return -1;
        }
    }
    return 0;
}

/* The number after "key " in a flat-keyed cgroup file, -1 when absent. */
static long long keyed(const char *dir, const char *file, const char *key)
{
    char path[PATH_MAX + 64], *text, *at;
    size_t n = strlen(key);
    long long v = -1;

    snprintf(path, sizeof(path), "%s/%s", dir, file);
    if ((text = cgroup_read("", path)) == NULL)
        return -1;
    for (at = text; (at = strstr(at, key)) != NULL; at += n)
        if ((at == text || at[-1] == '\n') && at[n] == ' ') {
            v = strtoll(at + n + 1, NULL, 10);
            break;
        }
    free(text);
    return v;
}

unsigned long long cgroup_oom_kills(const struct cgroup *cg)
{
    const char *dir;
    char path[PATH_MAX + 32], *text;
    long long v;

    if (cg->memory < 0)
        return 0;
    dir = cg->d[cg->memory].path;
    v = keyed(dir, cg->d[cg->memory].v2 ? "memory.events" : "memory.oom_control", "oom_kill");
    if (v >= 0 || cg->d[cg->memory].v2)
        return v > 0 ? (unsigned long long)v : 0;
    snprintf(path, sizeof(path), "%s/memory.failcnt", dir);
    text = cgroup_read("", path);
    v = text != NULL ? strtoll(text, NULL, 10) : 0;
    free(text);
    return v > 0 ? 1 : 0;
}

int cgroup_remove(struct cgroup *cg)
{
    cgroup_close_procs(cg);
    while (cg->n > 0) {
        if (rmdir(cg->d[cg->n - 1].path) < 0 && errno != ENOENT)
            return -1;
        cg->n--;
    }
    return 0;
}
