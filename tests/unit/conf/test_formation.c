/* conf/formation.c: which file formation_load() reads, and the helpers
 * the formation parsers share. */
#include <criterion/criterion.h>

#include "conf/internal.h"
#include "formation_test.h"

TestSuite(load, .init = setup, .fini = teardown);

Test(load, procfile_wins)
{
    put("Procfile", "web: from-procfile\n");
    put("app_desc.yaml", "spec_version: 2\nmodule: {processes: {web: {command: from-desc}}}\n");
    cr_assert_eq(formation_load(dir, NULL, &f, err, sizeof(err)), 0, "%s", err);
    cr_assert(f.is_procfile);
    cr_assert_str_eq(f.file, at("Procfile"));
    cr_assert_str_eq(f.ignored, at("app_desc.yaml"));
    type_is(0, "web", "from-procfile");
}

Test(load, procfile_wins_even_when_the_other_is_broken)
{
    put("Procfile", "web: a\n");
    put("app_desc.yaml", "{{{ not yaml");
    cr_assert_eq(formation_load(dir, NULL, &f, err, sizeof(err)), 0, "%s", err);
    cr_assert_not_null(f.ignored);
}

Test(load, app_desc_alone)
{
    put("app_desc.yaml", "spec_version: 2\nmodule: {processes: {web: {command: from-desc}}}\n");
    cr_assert_eq(formation_load(dir, NULL, &f, err, sizeof(err)), 0, "%s", err);
    cr_assert_not(f.is_procfile);
    cr_assert_null(f.ignored);
    type_is(0, "web", "from-desc");
}

Test(load, neither)
{
    cr_assert_eq(formation_load(dir, NULL, &f, err, sizeof(err)), -1);
    err_is(dir, ": no Procfile or app_desc.yaml");
}

Test(load, broken_procfile_is_not_skipped)
{
    put("Procfile", "web:\n");
    put("app_desc.yaml", "spec_version: 2\nmodule: {processes: {web: {command: x}}}\n");
    cr_assert_eq(formation_load(dir, NULL, &f, err, sizeof(err)), -1);
    err_is(at("Procfile"), ":1: process type \"web\" has no command");
    cr_assert_null(f.arena);
}

Test(load, dangling_procfile_symlink_is_reported)
{
    cr_assert_eq(symlink(at("nowhere"), at("Procfile")), 0);
    cr_assert_eq(formation_load(dir, NULL, &f, err, sizeof(err)), -1);
    err_is(at("Procfile"), ": cannot read: No such file or directory");
}

Test(load, explicit_file)
{
    put("Procfile.dev", "web: dev\n");
    put("deploy.yml", "spec_version: 2\nmodule: {processes: {web: {command: yml}}}\n");
    put("Procfile", "web: default\n");
    cr_assert_eq(formation_load(dir, at("Procfile.dev"), &f, err, sizeof(err)), 0, "%s", err);
    type_is(0, "web", "dev");
    cr_assert_null(f.ignored);
    formation_free(&f);
    cr_assert_eq(formation_load(dir, at("deploy.yml"), &f, err, sizeof(err)), 0, "%s", err);
    type_is(0, "web", "yml");
    cr_assert_not(f.is_procfile);
    formation_free(&f);
    cr_assert_eq(formation_load(dir, at("gone.yaml"), &f, err, sizeof(err)), -1);
    err_is(at("gone.yaml"), ": cannot read: No such file or directory");
}


/* Every meaningful line of TEXT as "N:line|", N its line number. */
static const char *walk(const char *text, size_t len)
{
    static char out[512];
    struct formation_lines it;
    const char *s, *e;
    char reason[128];
    size_t used = 0;
    int rc;

    formation_lines_start(&it, text, len);
    while ((rc = formation_lines_next(&it, &s, &e, reason, sizeof(reason))) > 0)
        used += (size_t)snprintf(out + used, sizeof(out) - used, "%d:%.*s|", it.lineno, (int)(e - s), s);
    if (rc < 0)
        snprintf(out + used, sizeof(out) - used, "%d:error: %s", it.lineno, reason);
    return out;
}

Test(lines, skips_blanks_and_comments_and_trims)
{
    const char *text = "\xEF\xBB\xBF" "a: 1\r\n\n   \n# comment\n  \tb = 2 \t\n  # indented comment\nc#not";

    cr_assert_str_eq(walk(text, strlen(text)), "1:a: 1|5:b = 2|7:c#not|");
}

Test(lines, counts_lines_for_the_caller)
{
    struct formation_lines it;

    cr_assert_eq(formation_lines_start(&it, "", 0), 1);
    cr_assert_eq(formation_lines_start(&it, "a\nb\n", 4), 3);
    cr_assert_eq(formation_lines_start(&it, "a\nb", 3), 2);
}

Test(lines, refuses_nul_and_very_long_lines)
{
    static char big[70 * 1024 + 8];

    cr_assert_str_eq(walk("a\nb\0c\n", 6), "1:a|2:error: contains a NUL byte");
    memset(big, 'x', sizeof(big) - 1);
    big[0] = 'a';
    big[1] = '\n';
    cr_assert_str_eq(walk(big, sizeof(big) - 1), "1:a|2:error: line too long (over 64 KiB)");
}

Test(env_set, later_duplicate_replaces_in_place)
{
    struct conf_kv env[4];
    size_t n = 0;

    formation_env_set(env, &n, "A", "1");
    formation_env_set(env, &n, "B", "2");
    formation_env_set(env, &n, "A", "3");
    cr_assert_eq(n, 2);
    cr_assert_str_eq(env[0].key, "A");
    cr_assert_str_eq(env[0].value, "3");
    cr_assert_str_eq(env[1].key, "B");
}

Test(shorten, cuts_on_a_character_boundary)
{
    char s[80], buf[80];

    memset(s, 'a', 59);
    strcpy(s + 59, "\xC3\xA9tail"); /* "é" spans bytes 59 and 60 */
    cr_assert_str_eq(formation_shorten("short", 5, buf, sizeof(buf)), "short");
    formation_shorten(s, strlen(s), buf, sizeof(buf));
    cr_assert_eq(strlen(buf), 59 + 3, "%s", buf);
    cr_assert_str_eq(buf + 59, "...");
}

Test(paths, absolute_and_types_dir)
{
    struct arena *a = arena_new();
    char cwd[PATH_MAX], want[PATH_MAX + 16];

    cr_assert_not_null(getcwd(cwd, sizeof(cwd)));
    snprintf(want, sizeof(want), "%s/Procfile", strcmp(cwd, "/") == 0 ? "" : cwd);
    cr_assert_str_eq(formation_absolute(a, "./x/../Procfile"), want);
    cr_assert_str_eq(formation_absolute(a, "/srv//app/Procfile"), "/srv//app/Procfile", "kept as written");
    cr_assert_str_eq(formation_types_dir(a, "/srv/app", "/elsewhere/Procfile"), "/srv/app");
    cr_assert_str_eq(formation_types_dir(a, NULL, "/srv/app/Procfile"), "/srv/app");
    arena_free(a);
}
