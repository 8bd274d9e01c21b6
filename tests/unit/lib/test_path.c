/* lib/path: cleaning, making absolute, the directory and the base name. */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/path.h"

static void clean_is(const char *path, const char *want)
{
    char buf[256];

    snprintf(buf, sizeof(buf), "%s", path);
    path_clean(buf);
    cr_assert_str_eq(buf, want, "cleaning \"%s\"", path);
}

Test(path, clean)
{
    clean_is("/a/b/c", "/a/b/c");
    clean_is("//a///b//", "/a/b");
    clean_is("/a/./b/.", "/a/b");
    clean_is("/a/b/../c", "/a/c");
    clean_is("/a/b/../../..", "/");
    clean_is("/..", "/");
    clean_is("/", "/");
    clean_is("/a/.b/..c/...", "/a/.b/..c/..."); /* dots inside names are names */
}

Test(path, abs_against_a_dir)
{
    char out[64];

    cr_assert_eq(path_abs("/srv/app", "run/x.sock", out, sizeof(out)), 0);
    cr_assert_str_eq(out, "/srv/app/run/x.sock");
    cr_assert_eq(path_abs("/srv/app", "../config/.env", out, sizeof(out)), 0);
    cr_assert_str_eq(out, "/srv/config/.env");
    cr_assert_eq(path_abs("/srv/app", "/etc//hosts", out, sizeof(out)), 0);
    cr_assert_str_eq(out, "/etc/hosts", "an absolute path ignores the dir, and is cleaned");
}

Test(path, abs_against_the_cwd)
{
    char cwd[PATH_MAX], out[PATH_MAX], want[PATH_MAX + 8];

    cr_assert_not_null(getcwd(cwd, sizeof(cwd)));
    snprintf(want, sizeof(want), "%s/x", strcmp(cwd, "/") == 0 ? "" : cwd);
    cr_assert_eq(path_abs(NULL, "./y/../x", out, sizeof(out)), 0);
    cr_assert_str_eq(out, want);
}

Test(path, abs_too_long)
{
    char out[16] = "untouched";

    cr_assert_eq(path_abs("/a", "0123456789abcdef", out, sizeof(out)), -1);
    cr_assert_eq(path_abs("/a", "0123456789ab", out, sizeof(out)), 0, "15 bytes fit");
    cr_assert_str_eq(out, "/a/0123456789ab");
}

Test(path, dir)
{
    char out[32];

    cr_assert_eq(path_dir("/srv/app/drover.yaml", out, sizeof(out)), 0);
    cr_assert_str_eq(out, "/srv/app");
    cr_assert_eq(path_dir("drover.yaml", out, sizeof(out)), 0);
    cr_assert_str_eq(out, ".");
    cr_assert_eq(path_dir("/drover.yaml", out, sizeof(out)), 0);
    cr_assert_str_eq(out, "/");
    cr_assert_eq(path_dir("conf/drover.yaml", out, sizeof(out)), 0);
    cr_assert_str_eq(out, "conf");
    cr_assert_eq(path_dir("/a/very/long/directory/name/x", out, 8), -1);
}

Test(path, base)
{
    cr_assert_str_eq(path_base("/srv/app/Procfile"), "Procfile");
    cr_assert_str_eq(path_base("Procfile"), "Procfile");
    cr_assert_str_eq(path_base("/srv/app/"), "");
}
