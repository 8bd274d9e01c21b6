/* The app's process formation: which process types exist and how each is
 * run (Procfile or BlueKing app_desc.yaml, plus .env), and the plan that
 * combines it with drover.yaml and the -m option into instance counts,
 * commands, environments and ports. Pure parsing and arithmetic: no
 * processes are started here (supervisor/proc.c does that). */
#ifndef DROVER_CONF_FORMATION_H
#define DROVER_CONF_FORMATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "conf/config.h"

struct arena;

/* One process type as the formation file defines it. */
struct formation_type {
    char *name;                 /* "web", "worker"; an app_desc module other than the
                                   default one prefixes its module: "api-web" */
    char *command;              /* run as /bin/sh -c command, unchanged */
    char *dir;                  /* absolute working directory (app.dir, or a module's
                                   source_dir/sourceDir below it) */
    int replicas;               /* app_desc.yaml replicas; -1 when not given */
    struct conf_kv *env;        /* app_desc.yaml module env, in file order */
    size_t nenv;
    int line;                   /* 1-based line of its definition */
};

struct formation {
    struct arena *arena;        /* owns everything below */
    char *file;                 /* absolute path of the Procfile or app_desc.yaml */
    bool is_procfile;
    char *ignored;              /* an app_desc.yaml that lost to a Procfile, else NULL */
    struct formation_type *types; /* file order: a type's index sets its ports */
    size_t ntypes;
};

/* Parse one file into f (zeroed by the caller). dir is app.dir (absolute),
 * used for module directories. 0, or -1 with "file:line: message" (or
 * "file:line:col: message" where a column is known) in err. */
int formation_parse_procfile(const char *path, const char *dir, struct formation *f, char *err,
                             size_t errlen);
int formation_parse_app_desc(const char *path, const char *dir, struct formation *f, char *err,
                             size_t errlen);

/* The formation of an app: procfile (absolute, from app.procfile) when not
 * NULL (a name ending in .yaml/.yml is an app_desc.yaml), else
 * dir/Procfile, else dir/app_desc.yaml. When both of the latter exist the
 * Procfile wins and f->ignored names the other. -1 with a reason when the
 * file is missing or invalid. */
int formation_load(const char *dir, const char *procfile, struct formation *f, char *err,
                   size_t errlen);
void formation_free(struct formation *f);

/* A .env file: KEY=value lines, optional "export ", # comments, single
 * quotes literal, double quotes with \n \t \" \\ escapes. Pairs are
 * allocated in a; a later duplicate key replaces the earlier value. 0, or
 * -1 with "file:line: message". */
int dotenv_parse(const char *path, struct arena *a, struct conf_kv **kv, size_t *n, char *err,
                 size_t errlen);

/* The -m option: "web=4,worker=1"; "all=N" sets every type (named entries
 * override it wherever they stand). */
struct scale_entry {
    char name[64];
    int count;                  /* 0..1000 */
};

int formation_parse_scale(const char *s, struct scale_entry *out, size_t max, size_t *n, char *err,
                          size_t errlen);

/* One process type as drover will run it. */
struct plan_type {
    const char *name;
    const char *command;        /* processes.<type>.command, else the formation's */
    const char *dir;
    int index;                  /* formation order; ports: base_port + 100 * index + slot */
    int count;                  /* -m, else processes.<type>.instances, else replicas, else 1 */
    bool routed;                /* a route names it (web by default): it gets traffic */
    struct conf_process settings; /* processes.<type> from drover.yaml, or the defaults */
    struct conf_kv *env;        /* merged: module env, then .env, then processes.<type>.env */
    size_t nenv;
};

struct plan {
    struct arena *arena;        /* owns everything below */
    struct plan_type *types;
    size_t ntypes;
    int base_port;
    const char *formation_file;
    const char *ignored_file;   /* see struct formation */
};

/* Combines conf, the formation f and the -m entries into a plan. Errors
 * (with the file and line that caused them): -m or a route naming a type
 * the formation does not have, a processes.<type> entry for an unknown type
 * without its own command, a port above 65535, a .env file that cannot be
 * parsed. A type in processes.<type> with a command but not in the
 * formation is added after the formation's types. */
int plan_build(const struct conf *conf, const struct formation *f, const struct scale_entry *m,
               size_t nm, struct plan *p, char *err, size_t errlen);
void plan_free(struct plan *p);

/* Port of instance slot (0-based: web.1 is slot 0) of type t. */
int plan_port(const struct plan *p, const struct plan_type *t, int slot);

/* What `drover check` prints: the formation file (and the ignored one),
 * then per type its count and settings, and per instance its name, port
 * and command. */
void plan_print(const struct plan *p, FILE *out);

#endif
