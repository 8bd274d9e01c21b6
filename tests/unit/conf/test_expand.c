/* conf/expand.c: ${VAR}, ${VAR:-default}, ${VAR-default} and $$. */
#include <criterion/criterion.h>

#include "conf_test.h"

static char *expand(const char *s)
{
    char *out = conf_expand_env(s, err, sizeof(err));

    cr_assert_not_null(out, "\"%s\": %s", s, err);
    return out;
}

static void expand_is(const char *s, const char *want)
{
    char *out = expand(s);

    cr_assert_str_eq(out, want, "expanding \"%s\"", s);
    free(out);
}

Test(env, set_and_unset)
{
    setenv("DROVER_T_HOST", "10.0.0.1", 1);
    unsetenv("DROVER_T_NONE");
    expand_is("${DROVER_T_HOST}:80", "10.0.0.1:80");
    expand_is("a${DROVER_T_NONE}b", "ab");
    expand_is("${DROVER_T_NONE}", "");
    expand_is("no variables", "no variables");
    expand_is("", "");
}

Test(env, defaults)
{
    unsetenv("DROVER_T_NONE");
    setenv("DROVER_T_EMPTY", "", 1);
    setenv("DROVER_T_SET", "yes", 1);
    expand_is("${DROVER_T_NONE:-8080}", "8080");
    expand_is("${DROVER_T_EMPTY:-8080}", "8080");
    expand_is("${DROVER_T_SET:-8080}", "yes");
    expand_is("${DROVER_T_NONE:-}", "");
    expand_is("${DROVER_T_NONE:-a:b c}", "a:b c");
    /* Shell's "-" without ":" only replaces an unset variable. */
    expand_is("${DROVER_T_EMPTY-x}", "");
    expand_is("${DROVER_T_NONE-x}", "x");
    /* Defaults may hold variables. */
    expand_is("${DROVER_T_NONE:-${DROVER_T_SET}!}", "yes!");
    expand_is("${DROVER_T_NONE:-${DROVER_T_NONE:-deep}}", "deep");
}

Test(env, dollars)
{
    setenv("DROVER_T_SET", "v", 1);
    expand_is("$$", "$");
    expand_is("$${DROVER_T_SET}", "${DROVER_T_SET}");
    expand_is("cost: $$5", "cost: $5");
    /* Only ${...} is ours: $PORT reaches the shell that runs a command. */
    expand_is("bin/web --port $PORT", "bin/web --port $PORT");
    expand_is("trailing $", "trailing $");
}

Test(env, unclosed)
{
    cr_assert_null(conf_expand_env("x${HOME", err, sizeof(err)));
    cr_assert_str_eq(err, "unclosed \"${\" in \"${HOME\"; write ${NAME} or ${NAME:-default}");
    cr_assert_null(conf_expand_env("${A:-${B}", err, sizeof(err)));
    cr_assert_str_eq(err, "unclosed \"${\" in \"${A:-${B}\"; write ${NAME} or ${NAME:-default}");
    cr_assert_null(conf_expand_env("${", err, sizeof(err)));
    cr_assert_str_eq(err, "unclosed \"${\" in \"${\"; write ${NAME} or ${NAME:-default}");
}

Test(env, bad_reference)
{
    cr_assert_null(conf_expand_env("${1X}", err, sizeof(err)));
    cr_assert_str_eq(err, "bad variable reference \"${1X}\"; write ${NAME} or ${NAME:-default}");
    cr_assert_null(conf_expand_env("${A B}", err, sizeof(err)));
    cr_assert_str_eq(err, "bad variable reference \"${A B}\"; write ${NAME} or ${NAME:-default}");
    cr_assert_null(conf_expand_env("${A:default}", err, sizeof(err)));
    cr_assert_str_eq(err, "bad variable reference \"${A:default}\"; write ${NAME} or ${NAME:-default}");
}
