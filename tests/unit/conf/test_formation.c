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

