/* Every instance's recent output (one logring per instance name), merged
 * in the order it came, and the followers that read it as it comes
 * (GET /logs?follow=1). The ring of an instance that is gone stays until a
 * new instance takes its name (its slot). Main loop only.
 *
 * A follower is a cursor: the seq of the last line it has taken. It reads
 * the rings themselves (logstore_read), so it costs no memory however far
 * behind it is; when a ring is about to drop lines a follower has not
 * taken, the follower is told at once (LOGWATCH_URGENT) and may take them
 * then; if it does not, it is marked lost: it missed lines. */
#ifndef DROVER_SUPERVISOR_LOGSTORE_H
#define DROVER_SUPERVISOR_LOGSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "supervisor/logring.h"

#define LOGSTORE_NAME_MAX 64
#define LOGSTORE_LINE_MAX (16 * 1024)   /* the longest line read back whole */

struct logstore;

/* One instance name's ring. */
struct logsrc {
    char name[LOGSTORE_NAME_MAX];       /* "web.1" */
    char type[LOGSTORE_NAME_MAX];       /* "web" */
    struct logring *ring;
};

/* Which lines a reader wants: those of the types or instances named
 * (either list matching is enough); everything when both are empty. */
struct logfilter {
    const char *const *types;
    size_t ntypes;
    const char *const *instances;
    size_t ninstances;
};

bool logfilter_match(const struct logfilter *f, const struct logsrc *src);

/* One line as a reader sees it; text is valid during the call only. */
struct logview {
    uint64_t seq;
    double time;
    const char *instance;
    const char *type;
    enum log_stream stream;
    const char *text;
    size_t len;
};

enum logwatch_event {
    LOGWATCH_NEW,       /* a line it wants came */
    LOGWATCH_URGENT,    /* lines it has not taken are about to be dropped: take them now */
    LOGWATCH_END,       /* the store is going away: stop watching (and reading) */
};

/* A follower. Its callback must neither unwatch nor free it (defer that
 * to a callback of its own); the store reads cursor after URGENT. */
struct logwatch {
    const struct logfilter *filter;
    uint64_t cursor;                    /* the seq of the last line taken */
    bool lost;                          /* lines it wanted were dropped before it took them */
    void (*event)(struct logwatch *w, enum logwatch_event ev);
    struct logwatch *prev, *next;
};

/* A store whose rings keep the given bounds; NULL when out of memory. */
struct logstore *logstore_new(size_t keep, size_t keep_bytes);
/* Every watcher gets LOGWATCH_END first (and is unwatched). */
void logstore_free(struct logstore *s);

/* New bounds for every ring (log.keep, log.keep_bytes on a reload). */
void logstore_set_limits(struct logstore *s, size_t keep, size_t keep_bytes);

/* The source named name (created for type when new); NULL when out of
 * memory. */
struct logsrc *logstore_source(struct logstore *s, const char *name, const char *type);

/* A new instance takes name: the lines of the one before are dropped. */
void logstore_reuse(struct logstore *s, const char *name);

/* One line of src, written at time (seconds since the epoch). */
void logstore_push(struct logstore *s, struct logsrc *src, enum log_stream stream, double time,
                   const char *text, size_t len);

/* Some source is of type or is named name. */
bool logstore_knows(const struct logstore *s, const char *name);

/* The seq of the newest line of all, 0 when none came yet. */
uint64_t logstore_last_seq(const struct logstore *s);

/* A cursor from which logstore_read gives the last n lines f matches. */
uint64_t logstore_tail_start(const struct logstore *s, const struct logfilter *f, size_t n);

/* Calls take for each line f matches after *cursor, in order, moving
 * *cursor past each line take accepts (returns true), until take refuses
 * one or there is no more. Returns how many were taken. */
size_t logstore_read(struct logstore *s, const struct logfilter *f, uint64_t *cursor,
                     bool (*take)(void *ctx, const struct logview *l), void *ctx);

void logstore_watch(struct logstore *s, struct logwatch *w);
void logstore_unwatch(struct logstore *s, struct logwatch *w);

/* Bytes held by every ring. */
size_t logstore_footprint(const struct logstore *s);

#endif
