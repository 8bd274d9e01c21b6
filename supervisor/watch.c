/* Watch mode: see watch.h. One inotify descriptor; a watched directory is
 * found by its watch descriptor in an array indexed by it (inotify hands
 * them out counting up), with the keys it is watched for. */
#include "supervisor/watch.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#define WATCH_MASK                                                                                 \
    (IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB | IN_MOVED_FROM | IN_MOVED_TO | \
     IN_DELETE_SELF)
#define MAX_DEPTH 64
#define MAX_KEYS 64             /* types watched; a key is a bit in a mask */
#define READS_PER_CALLBACK 16

struct wdir {
    char *path;
    char *only;                 /* a watched file: only this name in path counts */
    uint64_t keys;              /* bit i: keys[i] watches it */
};

struct wkey {
    char name[64];
    unsigned changes;           /* in the burst under way */
    char example[PATH_MAX];
};

struct watch {
    struct ev_loop *loop;
    int fd;
    ev_io io;
    ev_timer timer;
    double debounce, max_delay;
    double first;               /* the burst's first change (0: none under way) */
    struct wdir **by_wd;        /* index: watch descriptor */
    size_t nwd;
    size_t ndirs;
    struct wkey keys[MAX_KEYS];
    size_t nkeys;
    char **skip;                /* paths never counted (watch_skip) */
    size_t nskip;
    watch_changed *changed;
    void *ctx;
};

static bool suffix(const char *s, const char *end)
{
    size_t n = strlen(s), m = strlen(end);

    return n >= m && strcmp(s + n - m, end) == 0;
}

bool watch_ignored(const char *name)
{
    static const char *const names[] = {".git", ".hg", ".svn", "node_modules", "__pycache__", "4913"};
    static const char *const ends[] = {".pyc", ".log", ".swp", ".swo", ".swx", "~"};
    size_t n = strlen(name);

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(name, names[i]) == 0)
            return true;
    for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++)
        if (suffix(name, ends[i]))
            return true;
    /* emacs: .#file (a lock) and #file# (an autosave). */
    return strncmp(name, ".#", 2) == 0 || (n >= 2 && name[0] == '#' && name[n - 1] == '#');
}

static void burst_over(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct watch *w = t->data;

    (void)loop;
    (void)revents;
    w->first = 0;
    for (size_t i = 0; i < w->nkeys; i++) {
        struct wkey *k = &w->keys[i];
        unsigned n = k->changes;

        if (n == 0)
            continue;
        k->changes = 0;
        w->changed(w->ctx, k->name, n, k->example);
    }
}

/* A change for keys at path: the burst goes on (its end moves on, up to
 * max_delay after its first change). */
static void count_change(struct watch *w, uint64_t keys, const char *path)
{
    double now = ev_now(w->loop), wait = w->debounce;

    for (size_t i = 0; i < w->nkeys; i++) {
        if (!(keys & (1ull << i)))
            continue;
        if (w->keys[i].changes++ == 0)
            snprintf(w->keys[i].example, sizeof(w->keys[i].example), "%s", path);
    }
    if (w->first == 0)
        w->first = now;
    if (now + wait > w->first + w->max_delay)
        wait = w->first + w->max_delay - now;
    ev_timer_stop(w->loop, &w->timer);
    ev_timer_set(&w->timer, wait > 0 ? wait : 0, 0.);
    ev_timer_start(w->loop, &w->timer);
}

static int key_index(struct watch *w, const char *key)
{
    for (size_t i = 0; i < w->nkeys; i++)
        if (strcmp(w->keys[i].name, key) == 0)
            return (int)i;
    if (w->nkeys == MAX_KEYS)
        return -1;
    snprintf(w->keys[w->nkeys].name, sizeof(w->keys[w->nkeys].name), "%s", key);
    return (int)w->nkeys++;
}

/* Watches directory path (for keys; only: one name in it, or NULL). The
 * entry for its watch descriptor, or NULL with errno set. */
static struct wdir *watch_dir(struct watch *w, const char *path, const char *only, uint64_t keys)
{
    int wd = inotify_add_watch(w->fd, path, WATCH_MASK | IN_ONLYDIR);
    struct wdir *d;

    if (wd < 0)
        return NULL;
    if ((size_t)wd >= w->nwd) {
        size_t n = (size_t)wd * 2 + 16;
        struct wdir **by = realloc(w->by_wd, n * sizeof(*by));

        if (by == NULL)
            goto nomem;
        memset(by + w->nwd, 0, (n - w->nwd) * sizeof(*by));
        w->by_wd = by;
        w->nwd = n;
    }
    d = w->by_wd[wd];
    if (d == NULL) {
        d = calloc(1, sizeof(*d));
        if (d == NULL || (d->path = strdup(path)) == NULL ||
            (only != NULL && (d->only = strdup(only)) == NULL)) {
            if (d != NULL)
                free(d->path);
            free(d);
            goto nomem;
        }
        w->by_wd[wd] = d;
        w->ndirs++;
    } else if (d->only != NULL && (only == NULL || strcmp(d->only, only) != 0)) {
        free(d->only); /* watched whole now */
        d->only = NULL;
    }
    d->keys |= keys;
    return d;
nomem:
    inotify_rm_watch(w->fd, wd);
    errno = ENOMEM;
    return NULL;
}

/* path and every directory below it (not following links, skipping
 * ignored names). -1 with errno when path itself cannot be watched. */
static int watch_tree(struct watch *w, const char *path, uint64_t keys, int depth)
{
    DIR *dir;
    struct dirent *de;

    if (watch_dir(w, path, NULL, keys) == NULL)
        return -1;
    if (depth >= MAX_DEPTH || (dir = opendir(path)) == NULL)
        return 0;
    while ((de = readdir(dir)) != NULL) {
        char sub[PATH_MAX];
        struct stat st;

        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
            watch_ignored(de->d_name))
            continue;
        if (snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name) >= (int)sizeof(sub))
            continue;
        if (de->d_type == DT_DIR ||
            (de->d_type == DT_UNKNOWN && lstat(sub, &st) == 0 && S_ISDIR(st.st_mode)))
            watch_tree(w, sub, keys, depth + 1); /* one that cannot be watched is left out */
    }
    closedir(dir);
    return 0;
}

int watch_add(struct watch *w, const char *key, const char *path, char *err, size_t errlen)
{
    int k = key_index(w, key);
    struct stat st;

    if (k < 0) {
        snprintf(err, errlen, "more than %d process types watched", MAX_KEYS);
        return -1;
    }
    if (stat(path, &st) < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        if (watch_tree(w, path, 1ull << k, 0) == 0)
            return 0;
    } else {
        char dir[PATH_MAX];
        const char *slash = strrchr(path, '/');

        snprintf(dir, sizeof(dir), "%.*s", slash != NULL && slash > path ? (int)(slash - path) : 1,
                 slash != NULL ? path : ".");
        if (watch_dir(w, dir, slash != NULL ? slash + 1 : path, 1ull << k) != NULL)
            return 0;
    }
    snprintf(err, errlen, "%s: %s%s", path, strerror(errno),
             errno == ENOSPC ? " (fs.inotify.max_user_watches)" : "");
    return -1;
}

int watch_skip(struct watch *w, const char *path)
{
    char **skip = realloc(w->skip, (w->nskip + 1) * sizeof(*skip));

    if (skip == NULL)
        return -1;
    w->skip = skip;
    if ((skip[w->nskip] = strdup(path)) == NULL)
        return -1;
    w->nskip++;
    return 0;
}

static bool skipped(const struct watch *w, const char *path)
{
    for (size_t i = 0; i < w->nskip; i++) {
        size_t n = strlen(w->skip[i]);

        /* The file itself and its temporary files (PATH.tmp.PID). */
        if (strncmp(path, w->skip[i], n) == 0 &&
            (path[n] == '\0' || strncmp(path + n, ".tmp.", 5) == 0))
            return true;
    }
    return false;
}

static void forget(struct watch *w, int wd)
{
    struct wdir *d = w->by_wd[wd];

    w->by_wd[wd] = NULL;
    w->ndirs--;
    free(d->path);
    free(d->only);
    free(d);
}

static void on_event(struct watch *w, const struct inotify_event *ev)
{
    struct wdir *d = ev->wd >= 0 && (size_t)ev->wd < w->nwd ? w->by_wd[ev->wd] : NULL;
    const char *name = ev->len > 0 ? ev->name : "";
    char path[PATH_MAX];
    uint64_t all = 0;

    if (ev->mask & IN_Q_OVERFLOW) {
        /* Events were lost: anything may have changed. */
        for (size_t i = 0; i < w->nkeys; i++)
            all |= 1ull << i;
        count_change(w, all, "(too many changes at once)");
        return;
    }
    if (d == NULL)
        return;
    if (ev->mask & IN_IGNORED) {
        forget(w, ev->wd); /* its directory is gone */
        return;
    }
    if (*name != '\0' && (watch_ignored(name) || (d->only != NULL && strcmp(name, d->only) != 0)))
        return;
    snprintf(path, sizeof(path), "%s%s%s", d->path, *name ? "/" : "", name);
    if (skipped(w, path))
        return;
    if ((ev->mask & IN_ISDIR) && (ev->mask & (IN_CREATE | IN_MOVED_TO)) && d->only == NULL)
        watch_tree(w, path, d->keys, 1); /* a new directory: its files count too */
    count_change(w, d->keys, path);
}

static void read_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct watch *w = io->data;
    char buf[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));

    (void)loop;
    (void)revents;
    for (int i = 0; i < READS_PER_CALLBACK; i++) {
        ssize_t n = read(w->fd, buf, sizeof(buf));

        if (n <= 0)
            return;
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;

            on_event(w, ev);
            p += sizeof(*ev) + ev->len;
        }
    }
}

struct watch *watch_new(struct ev_loop *loop, double debounce, double max_delay,
                        watch_changed *changed, void *ctx, char *err, size_t errlen)
{
    struct watch *w = calloc(1, sizeof(*w));

    if (w == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (w->fd < 0) {
        snprintf(err, errlen, "inotify: %s%s", strerror(errno),
                 errno == EMFILE ? " (fs.inotify.max_user_instances)" : "");
        free(w);
        return NULL;
    }
    w->loop = loop;
    w->debounce = debounce;
    w->max_delay = max_delay;
    w->changed = changed;
    w->ctx = ctx;
    ev_io_init(&w->io, read_cb, w->fd, EV_READ);
    w->io.data = w;
    ev_io_start(loop, &w->io);
    ev_init(&w->timer, burst_over);
    w->timer.data = w;
    return w;
}

size_t watch_count(const struct watch *w)
{
    return w->ndirs;
}

void watch_free(struct watch *w)
{
    if (w == NULL)
        return;
    ev_io_stop(w->loop, &w->io);
    ev_timer_stop(w->loop, &w->timer);
    close(w->fd);
    for (size_t i = 0; i < w->nwd; i++)
        if (w->by_wd[i] != NULL)
            forget(w, (int)i);
    free(w->by_wd);
    for (size_t i = 0; i < w->nskip; i++)
        free(w->skip[i]);
    free(w->skip);
    free(w);
}
