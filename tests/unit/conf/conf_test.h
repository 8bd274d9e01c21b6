/* What the drover.yaml unit tests share: the fixtures under data/config/
 * (found from __FILE__, this header's path), a temporary directory to
 * write a drover.yaml in, and the check that a file fails with exactly the
 * given "file:line:col: message" lines. Static inline: each test file is a
 * program of its own. */
#ifndef DROVER_TESTS_UNIT_CONF_CONF_TEST_H
#define DROVER_TESTS_UNIT_CONF_CONF_TEST_H

#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/config.h"

static char err[8192];
static char tmpdir[PATH_MAX];
static char yaml_path[PATH_MAX + 32];

/* tests/unit/conf/data/config/NAME, found from this header's __FILE__ (the
 * path the compiler was given: from the repository root under make). */
static inline const char *data_path(const char *name)
{
    static char buf[PATH_MAX];
    const char *slash = strrchr(__FILE__, '/');

    if (slash == NULL)
        snprintf(buf, sizeof(buf), "data/config/%s", name);
    else
        snprintf(buf, sizeof(buf), "%.*s/data/config/%s", (int)(slash - __FILE__), __FILE__, name);
    return buf;
}

/* The absolute, symlink-free form of PATH (which must exist). */
static inline const char *real(const char *path)
{
    static char buf[PATH_MAX];

    cr_assert_not_null(realpath(path, buf), "realpath(%s)", path);
    return buf;
}

static inline void tmp_setup(void)
{
    char tmpl[] = "/tmp/drover-conf-XXXXXX";

    cr_assert_not_null(mkdtemp(tmpl));
    snprintf(tmpdir, sizeof(tmpdir), "%s", real(tmpl));
    snprintf(yaml_path, sizeof(yaml_path), "%s/drover.yaml", tmpdir);
}

static inline void tmp_teardown(void)
{
    unlink(yaml_path);
    rmdir(tmpdir);
}

/* Writes TEXT to <tmpdir>/drover.yaml and loads it. */
static inline struct conf *load_text(const char *text)
{
    FILE *f = fopen(yaml_path, "w");

    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    err[0] = '\0';
    return conf_load(yaml_path, err, sizeof(err));
}

static inline struct conf *load_ok(const char *text)
{
    struct conf *c = load_text(text);

    cr_assert_not_null(c, "unexpected error: %s", err);
    return c;
}

/* TEXT must fail with exactly "<file>:" EXPECTED (all lines). */
static inline void expect_errors(const char *text, const char *expected)
{
    char want[8192], *w = want;
    const char *line = expected;

    /* Every line of EXPECTED gets the file prefix. */
    while (*line != '\0') {
        const char *nl = strchr(line, '\n');
        size_t n = nl != NULL ? (size_t)(nl - line) : strlen(line);

        w += sprintf(w, "%s%s:%.*s", w == want ? "" : "\n", yaml_path, (int)n, line);
        line += n + (nl != NULL);
    }
    cr_assert_null(load_text(text), "loaded, expected: %s", want);
    cr_assert_str_eq(err, want);
}

#endif
