/* Watch mode (processes.TYPE.watch, drover run --watch): inotify on the
 * main loop over whole directory trees, each tree on behalf of one or more
 * keys (process types). A burst of changes is one call per key: the call
 * comes once the tree has been quiet for the debounce time (or, under
 * changes that never stop, the longest delay after the first), so a
 * rebuild that touches a thousand files restarts once. Directories that
 * appear are watched as they come. Names that change on their own or do
 * not matter to a running program are ignored (watch_ignored). */
#ifndef DROVER_SUPERVISOR_WATCH_H
#define DROVER_SUPERVISOR_WATCH_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WATCH_DEBOUNCE 0.3      /* seconds of quiet that end a burst */
#define WATCH_MAX_DELAY 10.0    /* seconds from a burst's first change to its call at most */

struct watch;

/* A burst of changes under key's paths is over: nchanges events, one of
 * them at path. */
typedef void watch_changed(void *ctx, const char *key, unsigned nchanges, const char *path);

/* A watcher on loop calling changed(ctx, ...); NULL with err when inotify
 * is not to be had (the limit of instances, no memory). */
struct watch *watch_new(struct ev_loop *loop, double debounce, double max_delay,
                        watch_changed *changed, void *ctx, char *err, size_t errlen);

/* Watches the tree at path for key: a directory and every directory below
 * it (links not followed, ignored names left out), or a file (its
 * directory, for that name only). 0, or -1 with the reason in err when
 * path itself cannot be watched (it does not exist, the inotify watch
 * limit); a directory below it that cannot be is left out. */
int watch_add(struct watch *w, const char *key, const char *path, char *err, size_t errlen);

/* Changes to path, and to its temporary files (PATH.tmp.*), never count:
 * drover's own state file. 0, or -1 when out of memory. */
int watch_skip(struct watch *w, const char *path);

/* Directories watched now (for the log line). */
size_t watch_count(const struct watch *w);

/* Stops and frees (NULL is fine). */
void watch_free(struct watch *w);

/* Names never watched: .git, node_modules, __pycache__, *.pyc, *.log, and
 * editor files (*.swp, *.swo, *.swx, *~, .#*, #*#, vim's 4913). */
bool watch_ignored(const char *name);

#endif
