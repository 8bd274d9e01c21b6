/* What the formation unit tests share: a fresh temporary directory per
 * test (removed with all it holds), writing files in it, and checking
 * formations, plans and messages word for word. Static inline: each test
 * file is a program of its own. */
#ifndef DROVER_TESTS_UNIT_CONF_FORMATION_TEST_H
#define DROVER_TESTS_UNIT_CONF_FORMATION_TEST_H

#include <criterion/criterion.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/config.h"
#include "conf/formation.h"
#include "lib/arena.h"

#include "conf_test.h" /* err, and drover.yaml for the plans */

static char dir[PATH_MAX];
static char fpath[PATH_MAX + 64];
static struct formation f;
static struct plan plan;
static struct arena *arena;

static inline int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static inline void setup(void)
{
    char tmpl[] = "/tmp/drover-formation-XXXXXX";

    cr_assert_not_null(mkdtemp(tmpl));
    cr_assert_not_null(realpath(tmpl, dir));
    memset(&f, 0, sizeof(f));
    memset(&plan, 0, sizeof(plan));
    arena = arena_new();
    cr_assert_not_null(arena);
    err[0] = '\0';
}

static inline void teardown(void)
{
    formation_free(&f);
    plan_free(&plan);
    arena_free(arena);
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* <dir>/NAME, in a rotating set of buffers. */
static inline const char *at(const char *name)
{
    static char bufs[4][PATH_MAX + 64];
    static int next;
    char *b = bufs[next++ % 4];

    snprintf(b, PATH_MAX + 64, "%s/%s", dir, name);
    return b;
}

static inline const char *putn(const char *name, const char *text, size_t len)
{
    const char *path = at(name);
    FILE *fp = fopen(path, "wb");

    cr_assert_not_null(fp, "fopen(%s)", path);
    cr_assert_eq(fwrite(text, 1, len, fp), len);
    fclose(fp);
    return path;
}

static inline const char *put(const char *name, const char *text)
{
    return putn(name, text, strlen(text));
}

static inline void mkdir_in(const char *name)
{
    cr_assert_eq(mkdir(at(name), 0755), 0, "mkdir %s", name);
}

/* ERR must be "<file>" followed by SUFFIX. */
static inline void err_is(const char *file, const char *suffix)
{
    char want[PATH_MAX + 1024];

    snprintf(want, sizeof(want), "%s%s", file, suffix);
    cr_assert_str_eq(err, want);
}

static inline void desc_ok(const char *text)
{
    snprintf(fpath, sizeof(fpath), "%s", put("app_desc.yaml", text));
    cr_assert_eq(formation_parse_app_desc(fpath, dir, &f, err, sizeof(err)), 0, "error: %s", err);
}

static inline void desc_err(const char *text, const char *suffix)
{
    snprintf(fpath, sizeof(fpath), "%s", put("app_desc.yaml", text));
    cr_assert_eq(formation_parse_app_desc(fpath, dir, &f, err, sizeof(err)), -1, "parsed: %s", text);
    err_is(fpath, suffix);
    cr_assert_null(f.arena);
}

static inline void type_is(size_t i, const char *name, const char *command)
{
    cr_assert_lt(i, f.ntypes, "only %zu types", f.ntypes);
    cr_assert_str_eq(f.types[i].name, name);
    cr_assert_str_eq(f.types[i].command, command, "command of %s", name);
}

/* ---- plans: a drover.yaml and the formation in <dir> ---- */

static struct conf *conf;

static inline void conf_text(const char *yaml)
{
    const char *path = put("drover.yaml", yaml);

    conf = conf_load(path, err, sizeof(err));
    cr_assert_not_null(conf, "config: %s", err);
}

static inline void load_dir(void)
{
    cr_assert_eq(formation_load(dir, NULL, &f, err, sizeof(err)), 0, "%s", err);
}

static inline void build_ok(const char *m)
{
    struct scale_entry e[16];
    size_t n = 0;

    if (m != NULL)
        cr_assert_eq(formation_parse_scale(m, e, 16, &n, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(plan_build(conf, &f, e, n, &plan, err, sizeof(err)), 0, "plan: %s", err);
}

static inline void build_err(const char *m, const char *msg)
{
    struct scale_entry e[16];
    size_t n = 0;

    if (m != NULL)
        cr_assert_eq(formation_parse_scale(m, e, 16, &n, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(plan_build(conf, &f, e, n, &plan, err, sizeof(err)), -1, "built");
    cr_assert_str_eq(err, msg);
    cr_assert_null(plan.arena);
    cr_assert_eq(plan.ntypes, 0);
}

static inline const struct plan_type *ptype(const char *name)
{
    for (size_t i = 0; i < plan.ntypes; i++)
        if (strcmp(plan.types[i].name, name) == 0)
            return &plan.types[i];
    cr_assert_fail("no type %s in the plan", name);
    return NULL;
}

static inline const char *penv(const struct plan_type *t, const char *key)
{
    for (size_t i = 0; i < t->nenv; i++)
        if (strcmp(t->env[i].key, key) == 0)
            return t->env[i].value;
    return NULL;
}

static inline void plan_teardown(void)
{
    conf_free(conf);
    conf = NULL;
    teardown();
}

#endif
