/* app.state_file: the runtime decisions about the formation (`drover
 * scale`, `stop`, `start`) kept on disk, so that a restarted drover runs
 * what the operator last asked for. A scale holds until the config
 * changes that type's count (the count it was made against is kept with
 * it); a stop holds until `drover start`. The file is JSON:
 *
 *   {"drover_state": 1,
 *    "types": {"web": {"instances": 4, "config": 2}, "worker": {"stopped": true}}}
 *
 * written atomically (a temporary file beside it, fsync, rename, fsync of
 * the directory), so a crash leaves the old file or the new one, never a
 * mix. A file that cannot be read or parsed is reported and ignored. */
#ifndef DROVER_SUPERVISOR_STATE_H
#define DROVER_SUPERVISOR_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define STATE_VERSION 1
#define STATE_TYPE_MAX 64

struct plan;

/* One process type's decisions. */
struct state_type {
    char name[STATE_TYPE_MAX];
    int instances;              /* scaled to this many; -1: not scaled */
    int config;                 /* the config's count when it was scaled */
    bool stopped;
};

struct state {
    struct state_type *types;   /* malloc'd */
    size_t ntypes;
};

/* path into st (zeroed by the caller; state_free either way). A file that
 * does not exist is an empty state. Returns 0, or -1 with "PATH: reason"
 * in err (unreadable, not JSON, not a state file) and st empty. */
int state_load(const char *path, struct state *st, char *err, size_t errlen);

/* Writes st to path atomically. 0, or -1 with "PATH: reason" in err and
 * path as it was. */
int state_save(const char *path, const struct state *st, char *err, size_t errlen);

void state_free(struct state *st);

/* Adds (or replaces) type's entry; a type with neither a scale nor a stop
 * is left out. 0, or -1 when out of memory. */
int state_set(struct state *st, const char *type, int instances, int config, bool stopped);

/* What st says for a type the config gives count instances. */
struct state_verdict {
    bool stopped;               /* it stays stopped */
    int instances;              /* run this many; -1: the config's count */
    int stale;                  /* a scale to this many no longer holds (the config
                                   changed the count it was made against); -1: none */
    int stale_config;           /* the count that scale was made against */
};
void state_lookup(const struct state *st, const char *type, int count, struct state_verdict *v);

/* For `drover check`: what the state file at path changes in plan, one
 * line each ("state file  PATH: web runs 4 instances, not 2 (drover
 * scale)"), or that it is unreadable and ignored; nothing when it changes
 * nothing. */
void state_print(const char *path, const struct plan *plan, FILE *out);

#endif
