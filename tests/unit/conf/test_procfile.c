/* conf/procfile.c: Procfile lines, every error word for word with its
 * file:line. */
#include <criterion/criterion.h>

#include "formation_test.h"

static void procfile_ok(const char *text)
{
    snprintf(fpath, sizeof(fpath), "%s", put("Procfile", text));
    cr_assert_eq(formation_parse_procfile(fpath, dir, &f, err, sizeof(err)), 0, "error: %s", err);
}

static void procfile_n_ok(const char *text, size_t len)
{
    snprintf(fpath, sizeof(fpath), "%s", putn("Procfile", text, len));
    cr_assert_eq(formation_parse_procfile(fpath, dir, &f, err, sizeof(err)), 0, "error: %s", err);
}

/* TEXT as a Procfile must fail with "<path>" SUFFIX, leaving f empty. */
static void procfile_err(const char *text, const char *suffix)
{
    snprintf(fpath, sizeof(fpath), "%s", put("Procfile", text));
    cr_assert_eq(formation_parse_procfile(fpath, dir, &f, err, sizeof(err)), -1, "parsed: %s", text);
    err_is(fpath, suffix);
    cr_assert_null(f.arena);
    cr_assert_eq(f.ntypes, 0);
}

TestSuite(procfile, .init = setup, .fini = teardown);

Test(procfile, basic)
{
    procfile_ok("web: bundle exec puma -p $PORT\nworker: bin/worker --queue default\n");
    cr_assert_eq(f.ntypes, 2);
    type_is(0, "web", "bundle exec puma -p $PORT");
    type_is(1, "worker", "bin/worker --queue default");
    cr_assert_eq(f.types[0].line, 1);
    cr_assert_eq(f.types[1].line, 2);
    cr_assert_str_eq(f.types[0].dir, dir);
    cr_assert_eq(f.types[0].replicas, -1);
    cr_assert_eq(f.types[0].nenv, 0);
    cr_assert(f.is_procfile);
    cr_assert_str_eq(f.file, fpath);
    cr_assert_null(f.ignored);
}

Test(procfile, empty_file)
{
    procfile_err("", ": no process types");
}

Test(procfile, only_comments_and_blanks)
{
    procfile_err("# nothing here\n\n   \n\t# indented comment\n", ": no process types");
}

Test(procfile, crlf)
{
    procfile_ok("web: puma -p $PORT\r\n\r\n# c\r\nworker: sidekiq\r\n");
    cr_assert_eq(f.ntypes, 2);
    type_is(0, "web", "puma -p $PORT");
    type_is(1, "worker", "sidekiq");
    cr_assert_eq(f.types[1].line, 4);
}

Test(procfile, no_newline_at_end)
{
    procfile_ok("web: a\nworker: b");
    cr_assert_eq(f.ntypes, 2);
    type_is(1, "worker", "b");
}

Test(procfile, no_space_after_colon)
{
    procfile_ok("web:python -m http.server $PORT\n");
    type_is(0, "web", "python -m http.server $PORT");
}

Test(procfile, tabs_and_leading_spaces)
{
    procfile_ok("\tweb\t:\tpuma\t-p 5\t\n    worker :   run  it   \n");
    type_is(0, "web", "puma\t-p 5");
    type_is(1, "worker", "run  it");
}

Test(procfile, colon_inside_command)
{
    procfile_ok("web: gunicorn -b 0.0.0.0:$PORT app:wsgi\nclock: echo a: b: c\n");
    type_is(0, "web", "gunicorn -b 0.0.0.0:$PORT app:wsgi");
    type_is(1, "clock", "echo a: b: c");
}

Test(procfile, hash_inside_command_is_kept)
{
    procfile_ok("  # a comment\nweb: echo '#1' # not a comment for drover\n");
    cr_assert_eq(f.ntypes, 1);
    type_is(0, "web", "echo '#1' # not a comment for drover");
    cr_assert_eq(f.types[0].line, 2);
}

Test(procfile, command_kept_unchanged)
{
    procfile_ok("web: sh -c \"exec ${CMD:-x}\" 'a  b' \\\n");
    type_is(0, "web", "sh -c \"exec ${CMD:-x}\" 'a  b' \\");
}

Test(procfile, names)
{
    procfile_ok("Web_1: a\nweb-2: b\nweb: c\nWEB: d\n9: e\n");
    cr_assert_eq(f.ntypes, 5, "names are case-sensitive");
    type_is(0, "Web_1", "a");
    type_is(4, "9", "e");
}

Test(procfile, no_command)
{
    procfile_err("# types\nweb: a\nweb:\n", ":3: process type \"web\" has no command");
}

Test(procfile, no_command_blanks_and_crlf)
{
    procfile_err("worker:   \t \r\n", ":1: process type \"worker\" has no command");
}

Test(procfile, duplicate)
{
    procfile_err("\nweb: a\nworker: b\n\nweb: c\n", ":5: duplicate process type \"web\" (first on line 2)");
}

Test(procfile, invalid_name_plus)
{
    procfile_err("+web: x\n", ":1: invalid process type name \"+web\"; use letters (A-Z, a-z), digits, \"_\" and \"-\"");
}

Test(procfile, invalid_name_utf8)
{
    procfile_err("web: a\nwéb: x\n",
                 ":2: invalid process type name \"wéb\"; use letters (A-Z, a-z), digits, \"_\" and \"-\"");
}

Test(procfile, invalid_name_with_space)
{
    procfile_err("web worker: x\n",
                 ":1: invalid process type name \"web worker\"; use letters (A-Z, a-z), digits, \"_\" and \"-\"");
}

Test(procfile, not_a_type_line)
{
    procfile_err("web: a\nbundle exec puma\n", ":2: expected \"TYPE: command\", got \"bundle exec puma\"");
}

Test(procfile, missing_name)
{
    procfile_err("  : run\n", ":1: missing process type before \":\"");
}

Test(procfile, name_too_long)
{
    char text[200];

    memset(text, 'a', 64);
    snprintf(text + 64, sizeof(text) - 64, ": x\n");
    procfile_err(text, ":1: process type name \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\" is too "
                       "long (over 63 characters)");
    formation_free(&f);
    text[63] = ':';
    procfile_ok(text);
    cr_assert_eq(strlen(f.types[0].name), 63);
}

Test(procfile, very_long_line)
{
    size_t n = 64 * 1024 + 1;
    char *text = malloc(n + 32);

    /* Exactly 64 KiB is fine... */
    memcpy(text, "web: ", 5);
    memset(text + 5, 'x', 64 * 1024 - 5);
    text[64 * 1024] = '\n';
    procfile_n_ok(text, 64 * 1024 + 1);
    cr_assert_eq(strlen(f.types[0].command), 64 * 1024 - 5);
    formation_free(&f);

    /* ...one byte more is not, on whatever line it is. */
    memcpy(text, "web: a\n", 7);
    memset(text + 7, 'y', n);
    text[7 + n] = '\0';
    procfile_err(text, ":2: line too long (over 64 KiB)");
    free(text);
}

Test(procfile, nul_byte)
{
    snprintf(fpath, sizeof(fpath), "%s", putn("Procfile", "web: a\nworker: b\0c\n", 19));
    cr_assert_eq(formation_parse_procfile(fpath, dir, &f, err, sizeof(err)), -1);
    err_is(fpath, ":2: contains a NUL byte");
}

Test(procfile, byte_order_mark)
{
    procfile_ok("\xEF\xBB\xBFweb: a\n");
    type_is(0, "web", "a");
}

Test(procfile, cannot_read)
{
    snprintf(fpath, sizeof(fpath), "%s", at("Procfile"));
    cr_assert_eq(formation_parse_procfile(fpath, dir, &f, err, sizeof(err)), -1);
    err_is(fpath, ": cannot read: No such file or directory");
    mkdir_in("Procfile");
    cr_assert_eq(formation_parse_procfile(fpath, dir, &f, err, sizeof(err)), -1);
    err_is(fpath, ": cannot read: Is a directory");
}

Test(procfile, dir_defaults_to_the_files)
{
    snprintf(fpath, sizeof(fpath), "%s", put("Procfile", "web: a\n"));
    cr_assert_eq(formation_parse_procfile(fpath, NULL, &f, err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(f.types[0].dir, dir);
}
