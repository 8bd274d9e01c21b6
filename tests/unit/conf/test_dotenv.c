/* conf/dotenv.c: .env files, every error word for word with its
 * file:line. */
#include <criterion/criterion.h>

#include "formation_test.h"

static struct conf_kv *kv;
static size_t nkv;

static void env_ok(const char *text)
{
    snprintf(fpath, sizeof(fpath), "%s", put(".env", text));
    cr_assert_eq(dotenv_parse(fpath, arena, &kv, &nkv, err, sizeof(err)), 0, "error: %s", err);
}

static void env_err(const char *text, const char *suffix)
{
    snprintf(fpath, sizeof(fpath), "%s", put(".env", text));
    cr_assert_eq(dotenv_parse(fpath, arena, &kv, &nkv, err, sizeof(err)), -1, "parsed: %s", text);
    err_is(fpath, suffix);
    cr_assert_eq(nkv, 0);
}

static void kv_is(size_t i, const char *key, const char *value)
{
    cr_assert_lt(i, nkv, "only %zu variables", nkv);
    cr_assert_str_eq(kv[i].key, key);
    cr_assert_str_eq(kv[i].value, value, "value of %s", key);
}

TestSuite(dotenv, .init = setup, .fini = teardown);

Test(dotenv, basic)
{
    env_ok("A=1\nB=two words\nC_3=x\n");
    cr_assert_eq(nkv, 3);
    kv_is(0, "A", "1");
    kv_is(1, "B", "two words");
    kv_is(2, "C_3", "x");
}

Test(dotenv, empty_file)
{
    env_ok("");
    cr_assert_eq(nkv, 0);
    cr_assert_null(kv);
}

Test(dotenv, comments_and_blank_lines)
{
    env_ok("# comment\n\n   \n\t# indented\nA=1\n");
    cr_assert_eq(nkv, 1);
    kv_is(0, "A", "1");
}

Test(dotenv, export)
{
    env_ok("export A=1\nexport\tB = 2\nexport=3\nexportC=4\n");
    cr_assert_eq(nkv, 4);
    kv_is(0, "A", "1");
    kv_is(1, "B", "2");
    kv_is(2, "export", "3");
    kv_is(3, "exportC", "4");
}

Test(dotenv, spaces_around_equals)
{
    env_ok("  A = spaced value  \nB\t=\tx\t\nC=\n D =  \n");
    kv_is(0, "A", "spaced value");
    kv_is(1, "B", "x");
    kv_is(2, "C", "");
    kv_is(3, "D", "");
}

Test(dotenv, unquoted_comments)
{
    env_ok("A=value # a comment\nB=a#b\nC=#c\nD=x\t# tab comment\nE= # only a comment\n");
    kv_is(0, "A", "value");
    kv_is(1, "B", "a#b");
    kv_is(2, "C", "#c");
    kv_is(3, "D", "x");
    kv_is(4, "E", "");
}

Test(dotenv, equals_in_value)
{
    env_ok("URL=postgres://u:p@h/db?sslmode=require&a=b\n");
    kv_is(0, "URL", "postgres://u:p@h/db?sslmode=require&a=b");
}

Test(dotenv, single_quotes_literal)
{
    env_ok("A='  $HOME \\n \\\\ # \"x\" '\nB=''\nC = 'x' # comment\n");
    kv_is(0, "A", "  $HOME \\n \\\\ # \"x\" ");
    kv_is(1, "B", "");
    kv_is(2, "C", "x");
}

Test(dotenv, double_quote_escapes)
{
    env_ok("A=\"a\\nb\\tc \\\"q\\\" \\\\ \\x \\$ # kept\"\nB=\"\"\nC=\"it's\"#c\n");
    kv_is(0, "A", "a\nb\tc \"q\" \\ \\x \\$ # kept");
    kv_is(1, "B", "");
    kv_is(2, "C", "it's");
}

Test(dotenv, unterminated_double)
{
    env_err("A=1\n\nB=\"abc\n", ":3: unterminated \"");
}

Test(dotenv, unterminated_double_escaped_quote)
{
    env_err("B=\"abc\\\"\n", ":1: unterminated \"");
}

Test(dotenv, unterminated_single)
{
    env_err("A='abc\nB=x'\n", ":1: unterminated '");
}

Test(dotenv, text_after_quote)
{
    env_err("A=\"a\"b\n", ":1: unexpected text after the closing \": \"b\"");
}

Test(dotenv, crlf)
{
    env_ok("A=1\r\nB=\"q\"\r\n# c\r\nC=x # y\r\n");
    kv_is(0, "A", "1");
    kv_is(1, "B", "q");
    kv_is(2, "C", "x");
}

Test(dotenv, no_newline_at_end)
{
    env_ok("A=1\nB='last'");
    kv_is(1, "B", "last");
}

Test(dotenv, invalid_names)
{
    env_err("1A=x\n", ":1: invalid variable name \"1A\"; use letters, digits and \"_\", not starting with a digit");
    env_err("A-B=x\n", ":1: invalid variable name \"A-B\"; use letters, digits and \"_\", not starting with a digit");
    env_err("export =x\n", ":1: missing variable name before \"=\"");
}

Test(dotenv, missing_equals)
{
    env_err("A=1\nJUST_A_WORD\n", ":2: expected KEY=value, got \"JUST_A_WORD\"");
    env_err("export A\n", ":1: expected KEY=value, got \"A\"");
}

Test(dotenv, duplicate_later_wins)
{
    env_ok("A=1\nB=2\nA=3\n");
    cr_assert_eq(nkv, 2);
    kv_is(0, "A", "3");
    kv_is(1, "B", "2");
}

Test(dotenv, very_long_line)
{
    size_t n = 64 * 1024 + 8;
    char *text = malloc(n + 16);

    memcpy(text, "A=", 2);
    memset(text + 2, 'v', n);
    text[n + 2] = '\0';
    env_err(text, ":1: line too long (over 64 KiB)");
    free(text);
}

Test(dotenv, cannot_read)
{
    snprintf(fpath, sizeof(fpath), "%s", at("missing.env"));
    cr_assert_eq(dotenv_parse(fpath, arena, &kv, &nkv, err, sizeof(err)), -1);
    err_is(fpath, ": cannot read: No such file or directory");
}
