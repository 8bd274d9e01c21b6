/* conf/formation.c and dotenv.c: Procfile, app_desc.yaml (v2 and
 * v3), .env, -m, and the plan built from them and drover.yaml. Every error
 * is checked word for word, file:line(:col) included. Each test writes its
 * files to a fresh mkdtemp directory, removed afterwards. */
#include <criterion/criterion.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/config.h"
#include "lib/arena.h"
#include "conf/formation.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

static char err[8192];
static char dir[PATH_MAX];
static char fpath[PATH_MAX + 64];
static struct formation f;
static struct plan plan;
static struct arena *arena;

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void setup(void)
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

static void teardown(void)
{
    formation_free(&f);
    plan_free(&plan);
    arena_free(arena);
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* <dir>/NAME, in a rotating set of buffers. */
static const char *at(const char *name)
{
    static char bufs[4][PATH_MAX + 64];
    static int next;
    char *b = bufs[next++ % 4];

    snprintf(b, PATH_MAX + 64, "%s/%s", dir, name);
    return b;
}

static const char *putn(const char *name, const char *text, size_t len)
{
    const char *path = at(name);
    FILE *fp = fopen(path, "wb");

    cr_assert_not_null(fp, "fopen(%s)", path);
    cr_assert_eq(fwrite(text, 1, len, fp), len);
    fclose(fp);
    return path;
}

static const char *put(const char *name, const char *text)
{
    return putn(name, text, strlen(text));
}

static void mkdir_in(const char *name)
{
    cr_assert_eq(mkdir(at(name), 0755), 0, "mkdir %s", name);
}

/* ERR must be "<file>" followed by SUFFIX. */
static void err_is(const char *file, const char *suffix)
{
    char want[PATH_MAX + 1024];

    snprintf(want, sizeof(want), "%s%s", file, suffix);
    cr_assert_str_eq(err, want);
}

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

static void desc_ok(const char *text)
{
    snprintf(fpath, sizeof(fpath), "%s", put("app_desc.yaml", text));
    cr_assert_eq(formation_parse_app_desc(fpath, dir, &f, err, sizeof(err)), 0, "error: %s", err);
}

static void desc_err(const char *text, const char *suffix)
{
    snprintf(fpath, sizeof(fpath), "%s", put("app_desc.yaml", text));
    cr_assert_eq(formation_parse_app_desc(fpath, dir, &f, err, sizeof(err)), -1, "parsed: %s", text);
    err_is(fpath, suffix);
    cr_assert_null(f.arena);
}

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

static void type_is(size_t i, const char *name, const char *command)
{
    cr_assert_lt(i, f.ntypes, "only %zu types", f.ntypes);
    cr_assert_str_eq(f.types[i].name, name);
    cr_assert_str_eq(f.types[i].command, command, "command of %s", name);
}

/* ------------------------------------------------------------------ */
/* Procfile                                                            */

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

/* ------------------------------------------------------------------ */
/* app_desc.yaml                                                       */

TestSuite(app_desc, .init = setup, .fini = teardown);

Test(app_desc, v2_one_module)
{
    mkdir_in("src");
    desc_ok("spec_version: 2\n"
            "app_version: \"1.0\"\n"
            "app: {bk_app_code: demo, bk_app_name: Demo}\n"
            "module:\n"
            "  language: Python\n"
            "  source_dir: src\n"
            "  scripts: {pre_release_hook: \"python manage.py migrate\"}\n"
            "  processes:\n"
            "    web:\n"
            "      command: gunicorn wsgi -b :$PORT\n"
            "      replicas: 2\n"
            "      plan: 4C1G5R\n"
            "    worker:\n"
            "      command: celery worker\n"
            "  env_variables:\n"
            "    - key: FOO\n"
            "      value: bar\n"
            "      description: a variable\n"
            "    - key: NUM\n"
            "      value: 3\n");
    cr_assert_not(f.is_procfile);
    cr_assert_str_eq(f.file, fpath);
    cr_assert_eq(f.ntypes, 2);
    type_is(0, "web", "gunicorn wsgi -b :$PORT");
    type_is(1, "worker", "celery worker");
    cr_assert_eq(f.types[0].replicas, 2);
    cr_assert_eq(f.types[1].replicas, -1);
    cr_assert_eq(f.types[0].line, 9);
    cr_assert_str_eq(f.types[0].dir, at("src"));
    cr_assert_eq(f.types[1].nenv, 2);
    cr_assert_str_eq(f.types[1].env[0].key, "FOO");
    cr_assert_str_eq(f.types[1].env[0].value, "bar");
    cr_assert_str_eq(f.types[1].env[1].value, "3");
}

Test(app_desc, v2_many_modules)
{
    mkdir_in("api");
    mkdir_in("front");
    desc_ok("spec_version: 2\n"
            "modules:\n"
            "  api:\n"
            "    source_dir: ./api/\n"
            "    processes:\n"
            "      web: {command: api-server}\n"
            "      worker: {command: api-worker, replicas: 0}\n"
            "    env_variables: [{key: ROLE, value: api}]\n"
            "  front:\n"
            "    is_default: true\n"
            "    source_dir: front\n"
            "    processes:\n"
            "      web: {command: front-server}\n"
            "    env_variables: [{key: ROLE, value: front}]\n");
    cr_assert_eq(f.ntypes, 3);
    type_is(0, "api-web", "api-server");
    type_is(1, "api-worker", "api-worker");
    type_is(2, "web", "front-server");
    cr_assert_eq(f.types[1].replicas, 0);
    cr_assert_str_eq(f.types[0].dir, at("api"));
    cr_assert_str_eq(f.types[2].dir, at("front"));
    cr_assert_str_eq(f.types[0].env[0].value, "api");
    cr_assert_str_eq(f.types[2].env[0].value, "front");
}

Test(app_desc, v2_default_named_default)
{
    desc_ok("spec_version: 2\n"
            "modules:\n"
            "  api: {processes: {web: {command: a}}}\n"
            "  default: {is_default: false, processes: {web: {command: b}}}\n");
    type_is(0, "api-web", "a");
    type_is(1, "web", "b");
    cr_assert_str_eq(f.types[1].dir, dir);
}

Test(app_desc, v2_default_is_first)
{
    desc_ok("spec_version: 2\n"
            "modules:\n"
            "  main: {processes: {web: {command: a}}}\n"
            "  api: {processes: {web: {command: b}}}\n");
    type_is(0, "web", "a");
    type_is(1, "api-web", "b");
}

Test(app_desc, v2_two_defaults)
{
    desc_err("spec_version: 2\n"
             "modules:\n"
             "  a: {is_default: true, processes: {web: {command: a}}}\n"
             "  b: {is_default: yes, processes: {web: {command: b}}}\n",
             ":4:7: modules.b.is_default: modules \"a\" and \"b\" are both the default; keep one");
}

Test(app_desc, v3_proc_command)
{
    desc_ok("specVersion: 3\n"
            "appVersion: \"1.0.0\"\n"
            "app: {bkAppCode: demo}\n"
            "modules:\n"
            "  - name: default\n"
            "    isDefault: true\n"
            "    language: python\n"
            "    spec:\n"
            "      processes:\n"
            "        - name: web\n"
            "          procCommand: gunicorn wsgi -b [::]:${PORT}\n"
            "          replicas: 3\n"
            "          targetPort: 5000\n"
            "          probes: {readiness: {httpGet: {path: /healthz, port: 5000}}}\n"
            "        - name: beat\n"
            "          procCommand: celery beat\n"
            "      configuration:\n"
            "        env:\n"
            "          - name: DJANGO_SETTINGS_MODULE\n"
            "            value: settings.prod\n"
            "            description: which settings\n"
            "      hooks: {preRelease: {procCommand: migrate}}\n");
    cr_assert_eq(f.ntypes, 2);
    type_is(0, "web", "gunicorn wsgi -b [::]:${PORT}");
    type_is(1, "beat", "celery beat");
    cr_assert_eq(f.types[0].replicas, 3);
    cr_assert_eq(f.types[1].replicas, -1);
    cr_assert_eq(f.types[0].line, 10);
    cr_assert_eq(f.types[1].nenv, 1);
    cr_assert_str_eq(f.types[1].env[0].key, "DJANGO_SETTINGS_MODULE");
    cr_assert_str_eq(f.types[1].env[0].value, "settings.prod");
}

Test(app_desc, v3_command_and_args)
{
    desc_ok("specVersion: 3\n"
            "modules:\n"
            "  - name: main\n"
            "    spec:\n"
            "      processes:\n"
            "        - name: web\n"
            "          command: [bash, /app/start.sh]\n"
            "          args: [gunicorn, wsgi, -b, \"[::]:${PORT}\", --log-level, \"it's \\\"x\\\"\", \"\", \"a=b,c\"]\n"
            "        - name: echo\n"
            "          command: [\"echo\"]\n"
            "          args: [\"$HOME `x` \\\\ \\\"q\\\"\", \"*\"]\n");
    type_is(0, "web", "bash /app/start.sh gunicorn wsgi -b \"[::]:${PORT}\" --log-level 'it'\\''s \"x\"' '' a=b,c");
    type_is(1, "echo", "echo \"$HOME \\`x\\` \\\\ \\\"q\\\"\" '*'");
}

Test(app_desc, v3_command_string)
{
    desc_ok("specVersion: 3\n"
            "modules:\n"
            "  - name: main\n"
            "    spec:\n"
            "      processes:\n"
            "        - {name: web, command: \"python app.py\", args: [--port, \"$PORT\"], replicas: \"2\"}\n"
            "        - {name: worker, command: [run], args: \"--all --fast\"}\n");
    type_is(0, "web", "python app.py --port \"$PORT\"");
    type_is(1, "worker", "run --all --fast");
    cr_assert_eq(f.types[0].replicas, 2);
}

Test(app_desc, v3_many_modules)
{
    mkdir_in("backend");
    desc_ok("specVersion: 3\n"
            "modules:\n"
            "  - name: backend\n"
            "    sourceDir: backend\n"
            "    spec:\n"
            "      processes: [{name: web, procCommand: b}]\n"
            "      configuration: {env: [{name: A, value: '1'}]}\n"
            "  - name: frontend\n"
            "    isDefault: true\n"
            "    spec:\n"
            "      processes: [{name: web, procCommand: f}, {name: worker, procCommand: w, replicas: 1000}]\n");
    cr_assert_eq(f.ntypes, 3);
    type_is(0, "backend-web", "b");
    type_is(1, "web", "f");
    type_is(2, "worker", "w");
    cr_assert_str_eq(f.types[0].dir, at("backend"));
    cr_assert_eq(f.types[0].nenv, 1);
    cr_assert_eq(f.types[1].nenv, 0);
    cr_assert_eq(f.types[2].replicas, 1000);
}

Test(app_desc, v3_single_module)
{
    desc_ok("specVersion: 3\nmodule:\n  spec:\n    processes:\n      - {name: web, procCommand: run}\n");
    type_is(0, "web", "run");
}

Test(app_desc, crlf_and_no_newline_at_end)
{
    desc_ok("spec_version: 2\r\nmodule:\r\n  processes:\r\n    web:\r\n      command: run it");
    type_is(0, "web", "run it");
}

Test(app_desc, empty_file)
{
    desc_err("", ": empty file; expected spec_version: 2 or specVersion: 3");
    desc_err("# only a comment\n", ": empty file; expected spec_version: 2 or specVersion: 3");
}

Test(app_desc, missing_version)
{
    desc_err("app_code: demo\nmodule: {processes: {web: {command: a}}}\n",
             ":1:1: missing spec_version; drover reads spec_version: 2 and specVersion: 3");
}

Test(app_desc, unsupported_version)
{
    desc_err("spec_version: 1\n", ":1:15: spec_version: unsupported version \"1\"; drover reads spec_version: 2 "
                                  "and specVersion: 3");
    desc_err("specVersion: [3]\n", ":1:14: specVersion: unsupported version a list; drover reads spec_version: 2 "
                                   "and specVersion: 3");
    desc_err("spec_version: 2\nspecVersion: 3\n", ":2:1: set either \"spec_version\" or \"specVersion\", not both");
}

Test(app_desc, not_a_mapping)
{
    desc_err("- a\n- b\n", ":1:1: top level: expected a mapping, got a list");
}

Test(app_desc, syntax_error)
{
    desc_err("spec_version: 2\nmodule:\n  processes: {web: [\n",
             ":4:1: did not find expected node content (while parsing a flow node at 4:1)");
}

Test(app_desc, invalid_utf8)
{
    desc_err("spec_version: 2\nmodule:\n  processes: {web: {command: \"caf\xC3\xA9 \xFF\"}}\n",
             ":3:36: invalid leading UTF-8 octet");
}

Test(app_desc, invalid_type_name)
{
    desc_err("spec_version: 2\nmodule:\n  processes:\n    Web: {command: a}\n",
             ":4:5: module.processes: invalid process type name \"Web\"; use lowercase letters, digits and \"-\" "
             "(not first or last)");
    desc_err("spec_version: 2\nmodule:\n  processes:\n    web_1: {command: a}\n",
             ":4:5: module.processes: invalid process type name \"web_1\"; use lowercase letters, digits and \"-\" "
             "(not first or last)");
    desc_err("specVersion: 3\nmodules:\n  - name: m\n    spec:\n      processes:\n        - {name: web-, procCommand: a}\n",
             ":6:18: modules[0].spec.processes[0].name: invalid process type name \"web-\"; use lowercase letters, "
             "digits and \"-\" (not first or last)");
}

Test(app_desc, invalid_module_name)
{
    desc_err("spec_version: 2\nmodules:\n  My_Api: {processes: {web: {command: a}}}\n",
             ":3:3: modules: invalid module name \"My_Api\"; use lowercase letters, digits and \"-\" (not first or "
             "last)");
}

Test(app_desc, no_command)
{
    desc_err("spec_version: 2\nmodule:\n  processes:\n    web:\n      replicas: 2\n",
             ":4:5: module.processes.web: no command");
    desc_err("spec_version: 2\nmodule:\n  processes:\n    web:\n", ":4:5: module.processes.web: no command");
    desc_err("spec_version: 2\nmodule:\n  processes:\n    web: {command: \"\"}\n",
             ":4:20: module.processes.web.command: empty command");
    desc_err("specVersion: 3\nmodules:\n  - name: m\n    spec:\n      processes:\n        - name: web\n"
             "          replicas: 1\n",
             ":6:11: modules[0].spec.processes[0] (web): no command; set \"procCommand\" or \"command\"");
}

Test(app_desc, command_conflicts)
{
    desc_err("specVersion: 3\nmodules:\n  - name: m\n    spec:\n      processes:\n"
             "        - {name: web, procCommand: a, command: [b]}\n",
             ":6:39: modules[0].spec.processes[0]: set either \"procCommand\" or \"command\"/\"args\", not both");
    desc_err("specVersion: 3\nmodules:\n  - name: m\n    spec:\n      processes:\n"
             "        - {name: web, args: [b]}\n",
             ":6:23: modules[0].spec.processes[0]: \"args\" without \"command\"");
    desc_err("specVersion: 3\nmodules:\n  - name: m\n    spec:\n      processes:\n"
             "        - {name: web, command: [a, [b]]}\n",
             ":6:36: modules[0].spec.processes[0].command[1]: expected a string, got a list");
}

Test(app_desc, bad_replicas)
{
    desc_err("spec_version: 2\nmodule:\n  processes:\n    web: {command: a, replicas: 1001}\n",
             ":4:33: module.processes.web.replicas: expected an integer from 0 to 1000, got \"1001\"");
    desc_err("spec_version: 2\nmodule:\n  processes:\n    web: {command: a, replicas: -1}\n",
             ":4:33: module.processes.web.replicas: expected an integer from 0 to 1000, got \"-1\"");
    desc_err("spec_version: 2\nmodule:\n  processes:\n    web: {command: a, replicas: two}\n",
             ":4:33: module.processes.web.replicas: expected an integer from 0 to 1000, got \"two\"");
    desc_err("specVersion: 3\nmodules:\n  - name: m\n    spec:\n      processes:\n"
             "        - {name: web, procCommand: a, replicas: {n: 1}}\n",
             ":6:49: modules[0].spec.processes[0].replicas: expected an integer from 0 to 1000, got a mapping");
}

Test(app_desc, wrong_types_for_read_keys)
{
    desc_err("spec_version: 2\nmodule:\n  processes: [web]\n",
             ":3:14: module.processes: expected a mapping of process types, got a list");
    desc_err("spec_version: 2\nmodule:\n  processes: {web: {command: [a, b]}}\n",
             ":3:30: module.processes.web.command: expected a string, got a list");
    desc_err("spec_version: 2\nmodule:\n  processes: {web: {command: a}}\n  env_variables: {A: b}\n",
             ":4:18: module.env_variables: expected a list of variables, got a mapping");
    desc_err("spec_version: 2\nmodules:\n  a: {is_default: maybe, processes: {web: {command: a}}}\n",
             ":3:19: modules.a.is_default: expected true or false, got \"maybe\"");
    desc_err("specVersion: 3\nmodules: {a: {}}\n", ":2:10: modules: expected a list of modules, got a mapping");
}

Test(app_desc, unknown_keys_ignored)
{
    desc_ok("spec_version: 2\n"
            "whatever: [1, {2: 3}]\n"
            "module:\n"
            "  svc_discovery: {bk_saas: [bk-iam]}\n"
            "  bkmonitor: {port: 5001}\n"
            "  processes:\n"
            "    web: {command: a, plan: default, probes: {liveness: {}}, unknown: [x]}\n");
    type_is(0, "web", "a");
}

Test(app_desc, duplicate_read_key)
{
    desc_err("spec_version: 2\nmodule:\n  processes: {web: {command: a}}\n  processes: {web: {command: b}}\n",
             ":4:3: duplicate key \"processes\"; first at 3:3");
}

Test(app_desc, duplicate_type)
{
    desc_err("spec_version: 2\nmodule:\n  processes:\n    web: {command: a}\n    web: {command: b}\n",
             ":5:5: module.processes: duplicate process type \"web\" (first at 4:5)");
    desc_err("specVersion: 3\nmodules:\n  - name: m\n    spec:\n      processes:\n"
             "        - {name: web, procCommand: a}\n        - {name: web, procCommand: b}\n",
             ":7:18: modules[0].spec.processes[1].name: duplicate process type \"web\" (first at 6:18)");
}

Test(app_desc, prefixed_name_clash)
{
    desc_err("spec_version: 2\nmodules:\n"
             "  default: {processes: {api-web: {command: a}}}\n"
             "  api: {processes: {web: {command: b}}}\n",
             ":4:21: modules.api.processes: process type \"api-web\" (module \"api\", type \"web\") is already "
             "defined at 3:25");
}

Test(app_desc, duplicate_module)
{
    desc_err("specVersion: 3\nmodules:\n  - {name: a, spec: {processes: [{name: web, procCommand: a}]}}\n"
             "  - {name: a}\n",
             ":4:12: duplicate module \"a\" (first at 3:12)");
}

Test(app_desc, module_and_modules)
{
    desc_err("spec_version: 2\nmodule: {}\nmodules: {}\n", ":3:1: set either \"module\" or \"modules\", not both");
    desc_err("spec_version: 2\napp: {}\n", ":1:1: missing \"module\" or \"modules\": no processes to run");
}

Test(app_desc, no_process_types)
{
    desc_err("spec_version: 2\nmodule:\n  language: python\n", ": no process types");
    desc_err("specVersion: 3\nmodules:\n  - name: m\n    spec: {processes: []}\n", ": no process types");
}

Test(app_desc, source_dir_missing)
{
    char want[PATH_MAX + 200];

    snprintf(fpath, sizeof(fpath), "%s", put("app_desc.yaml", "spec_version: 2\nmodule:\n  source_dir: missing\n"
                                                              "  processes: {web: {command: a}}\n"));
    cr_assert_eq(formation_parse_app_desc(fpath, dir, &f, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "%s:3:15: module.source_dir: %s: No such file or directory", fpath, at("missing"));
    cr_assert_str_eq(err, want);
}

Test(app_desc, source_dir_not_a_directory)
{
    char want[PATH_MAX + 200];

    put("afile", "x");
    snprintf(fpath, sizeof(fpath), "%s", put("app_desc.yaml", "spec_version: 2\nmodule:\n  source_dir: afile\n"
                                                              "  processes: {web: {command: a}}\n"));
    cr_assert_eq(formation_parse_app_desc(fpath, dir, &f, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "%s:3:15: module.source_dir: %s: not a directory", fpath, at("afile"));
    cr_assert_str_eq(err, want);
    desc_err("specVersion: 3\nmodules:\n  - {name: m, sourceDir: /abs, spec: {processes: [{name: w, procCommand: a}]}}\n",
             ":3:26: modules[0].sourceDir: must be relative to the app directory, got \"/abs\"");
}

Test(app_desc, env_entries)
{
    desc_ok("spec_version: 2\n"
            "module:\n"
            "  processes: {web: {command: a}}\n"
            "  env_variables:\n"
            "    - {key: A, value: one}\n"
            "    - {key: B, value: b, environment_name: prod}\n"
            "    - {key: C, value: c, environment_name: _global_}\n"
            "    - {key: D, value: d, environment_name: stag}\n"
            "    - {key: A, value: two}\n"
            "    - {key: E, value: }\n");
    cr_assert_eq(f.types[0].nenv, 3);
    cr_assert_str_eq(f.types[0].env[0].key, "A");
    cr_assert_str_eq(f.types[0].env[0].value, "two", "a later duplicate wins, in the first one's place");
    cr_assert_str_eq(f.types[0].env[1].key, "C");
    cr_assert_str_eq(f.types[0].env[2].key, "E");
    cr_assert_str_eq(f.types[0].env[2].value, "");
}

Test(app_desc, env_errors)
{
    desc_err("spec_version: 2\nmodule:\n  processes: {web: {command: a}}\n  env_variables: [{key: A}]\n",
             ":4:19: module.env_variables[0]: missing \"value\"");
    desc_err("spec_version: 2\nmodule:\n  processes: {web: {command: a}}\n  env_variables: [{key: 1A, value: x}]\n",
             ":4:25: module.env_variables[0].key: invalid variable name \"1A\"; use letters, digits and \"_\", not "
             "starting with a digit");
    desc_err("specVersion: 3\nmodules:\n  - name: m\n    spec:\n      processes: [{name: w, procCommand: a}]\n"
             "      configuration: {env: [{value: x}]}\n",
             ":6:29: modules[0].spec.configuration.env[0]: missing \"name\"");
    desc_err("spec_version: 2\nmodule:\n  processes: {web: {command: a}}\n"
             "  env_variables: [{key: A, value: x, environment_name: dev}]\n",
             ":4:56: module.env_variables[0].environment_name: expected _global_, stag or prod, got \"dev\"");
}

Test(app_desc, two_documents)
{
    desc_err("spec_version: 2\nmodule: {processes: {web: {command: a}}}\n---\nmore: 1\n",
             ":4:1: only one YAML document is allowed");
}

Test(app_desc, cannot_read)
{
    snprintf(fpath, sizeof(fpath), "%s", at("app_desc.yaml"));
    cr_assert_eq(formation_parse_app_desc(fpath, dir, &f, err, sizeof(err)), -1);
    err_is(fpath, ": cannot read: No such file or directory");
}

/* ------------------------------------------------------------------ */
/* formation_load                                                      */

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

/* ------------------------------------------------------------------ */
/* .env                                                                */

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

/* ------------------------------------------------------------------ */
/* -m                                                                  */

static struct scale_entry sc[8];
static size_t nsc;

static void scale_ok(const char *s)
{
    cr_assert_eq(formation_parse_scale(s, sc, 8, &nsc, err, sizeof(err)), 0, "\"%s\": %s", s, err);
}

static void scale_err(const char *s, const char *msg)
{
    cr_assert_eq(formation_parse_scale(s, sc, 8, &nsc, err, sizeof(err)), -1, "\"%s\" parsed", s);
    cr_assert_str_eq(err, msg);
    cr_assert_eq(nsc, 0);
}

Test(scale, good)
{
    scale_ok("web=4,worker=1");
    cr_assert_eq(nsc, 2);
    cr_assert_str_eq(sc[0].name, "web");
    cr_assert_eq(sc[0].count, 4);
    cr_assert_str_eq(sc[1].name, "worker");
    cr_assert_eq(sc[1].count, 1);
    scale_ok(" web = 0 , worker=1000 ");
    cr_assert_eq(sc[0].count, 0);
    cr_assert_eq(sc[1].count, 1000);
    scale_ok("all=2,web=3");
    cr_assert_str_eq(sc[0].name, "all");
    cr_assert_eq(sc[0].count, 2);
    scale_ok("Web_1-x=7");
    cr_assert_str_eq(sc[0].name, "Web_1-x");
}

Test(scale, bad)
{
    scale_err("web", "\"web\": expected TYPE=N");
    scale_err("web=", "\"web=\": missing count after \"=\"");
    scale_err("web=x", "\"web=x\": the count must be a number from 0 to 1000");
    scale_err("web=1001", "\"web=1001\": the count must be a number from 0 to 1000");
    scale_err("web=-1", "\"web=-1\": the count must be a number from 0 to 1000");
    scale_err("web=99999999999999999999", "\"web=99999999999999999999\": the count must be a number from 0 to 1000");
    scale_err("=3", "\"=3\": missing process type before \"=\"");
    scale_err("web=1,web=2", "\"web\" is given twice");
    scale_err("w+b=1", "\"w+b\": invalid process type name; use letters, digits, \"_\" and \"-\"");
    scale_err("wéb=1", "\"wéb\": invalid process type name; use letters, digits, \"_\" and \"-\"");
    scale_err("", "empty; expected TYPE=N[,TYPE=N...], e.g. web=4,worker=1");
    scale_err("web=1,", "empty entry in \"web=1,\"; expected TYPE=N[,TYPE=N...]");
    scale_err("web=1,,b=2", "empty entry in \"web=1,,b=2\"; expected TYPE=N[,TYPE=N...]");
}

Test(scale, too_many)
{
    cr_assert_eq(formation_parse_scale("a=1,b=2,c=3", sc, 2, &nsc, err, sizeof(err)), -1);
    cr_assert_str_eq(err, "too many entries (at most 2)");
}

Test(scale, long_name)
{
    char s[100];

    memset(s, 'a', 64);
    snprintf(s + 64, sizeof(s) - 64, "=1");
    scale_err(s, "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\": process type name too long (over "
                 "63 characters)");
}

/* ------------------------------------------------------------------ */
/* plan_build                                                          */

static struct conf *conf;

static void conf_text(const char *yaml)
{
    const char *path = put("drover.yaml", yaml);

    conf = conf_load(path, err, sizeof(err));
    cr_assert_not_null(conf, "config: %s", err);
}

static void load_dir(void)
{
    cr_assert_eq(formation_load(dir, NULL, &f, err, sizeof(err)), 0, "%s", err);
}

static void build_ok(const char *m)
{
    struct scale_entry e[16];
    size_t n = 0;

    if (m != NULL)
        cr_assert_eq(formation_parse_scale(m, e, 16, &n, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(plan_build(conf, &f, e, n, &plan, err, sizeof(err)), 0, "plan: %s", err);
}

static void build_err(const char *m, const char *msg)
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

static const struct plan_type *ptype(const char *name)
{
    for (size_t i = 0; i < plan.ntypes; i++)
        if (strcmp(plan.types[i].name, name) == 0)
            return &plan.types[i];
    cr_assert_fail("no type %s in the plan", name);
    return NULL;
}

static const char *penv(const struct plan_type *t, const char *key)
{
    for (size_t i = 0; i < t->nenv; i++)
        if (strcmp(t->env[i].key, key) == 0)
            return t->env[i].value;
    return NULL;
}

static void plan_teardown(void)
{
    conf_free(conf);
    conf = NULL;
    teardown();
}

TestSuite(plan, .init = setup, .fini = plan_teardown);

Test(plan, defaults_without_config)
{
    put("Procfile", "web: w\nworker: k\n");
    load_dir();
    conf = conf_default(dir, err, sizeof(err));
    cr_assert_not_null(conf, "%s", err);
    build_ok(NULL);
    cr_assert_eq(plan.ntypes, 2);
    cr_assert_eq(plan.base_port, 5000);
    cr_assert_str_eq(plan.formation_file, at("Procfile"));
    cr_assert_null(plan.ignored_file);
    cr_assert_str_eq(plan.types[0].name, "web");
    cr_assert_eq(plan.types[0].index, 0);
    cr_assert_eq(plan.types[0].count, 1);
    cr_assert(plan.types[0].routed);
    cr_assert_str_eq(plan.types[0].command, "w");
    cr_assert_str_eq(plan.types[0].dir, dir);
    cr_assert_not(plan.types[1].routed);
    cr_assert_eq(plan.types[1].index, 1);
    /* The defaults conf uses for an unlisted type. */
    cr_assert_eq(plan.types[1].settings.instances, -1);
    cr_assert_eq(plan.types[1].settings.ready_timeout_ms, 30000);
    cr_assert_eq(plan.types[1].settings.stop_timeout_ms, 10000);
    cr_assert_eq(plan.types[1].settings.restart_min_ms, 100);
    cr_assert_eq(plan.types[1].settings.restart_max_ms, 30000);
    cr_assert_eq(plan.types[1].settings.memory_limit, 0);
    cr_assert_eq(plan.types[1].settings.max_inflight, 0);
    cr_assert_null(plan.types[1].settings.ready_path);
    cr_assert_null(plan.types[1].settings.command);
    cr_assert_str_eq(plan.types[1].settings.name, "worker");
}

Test(plan, count_precedence)
{
    put("app_desc.yaml", "spec_version: 2\nmodule:\n  processes:\n"
                         "    a: {command: a, replicas: 5}\n"
                         "    b: {command: b, replicas: 5}\n"
                         "    c: {command: c, replicas: 5}\n"
                         "    d: {command: d}\n");
    load_dir();
    conf_text("processes:\n  a: {instances: 2}\n  b: {instances: 3}\n  d: {instances: 0}\n");
    build_ok("a=7");
    cr_assert_eq(ptype("a")->count, 7, "-m beats instances");
    cr_assert_eq(ptype("b")->count, 3, "instances beat replicas");
    cr_assert_eq(ptype("c")->count, 5, "replicas beat the default");
    cr_assert_eq(ptype("d")->count, 0, "instances: 0 is a count");
    plan_free(&plan);
    conf_free(conf);
    conf_text("app: {base_port: 6000}\n");
    build_ok(NULL);
    cr_assert_eq(ptype("d")->count, 1, "nothing set: 1");
    cr_assert_eq(ptype("a")->count, 5);
}

Test(plan, all_and_named)
{
    put("Procfile", "web: w\nworker: k\nclock: c\n");
    load_dir();
    conf_text("processes:\n  clock: {instances: 9}\n");
    build_ok("web=4,all=2");
    cr_assert_eq(ptype("web")->count, 4, "a named entry wins wherever it stands");
    cr_assert_eq(ptype("worker")->count, 2);
    cr_assert_eq(ptype("clock")->count, 2, "all beats instances");
    plan_free(&plan);
    build_ok("all=0");
    cr_assert_eq(ptype("web")->count, 0);
}

Test(plan, indexes_ports_and_extra_types)
{
    put("Procfile", "web: w\nworker: k\n");
    load_dir();
    conf_text("app: {base_port: 7000}\n"
              "processes:\n"
              "  zeta: {command: z --port $PORT, instances: 2}\n"
              "  web: {instances: 3}\n"
              "  alpha: {command: a}\n");
    build_ok(NULL);
    cr_assert_eq(plan.ntypes, 4);
    cr_assert_str_eq(plan.types[2].name, "zeta");
    cr_assert_str_eq(plan.types[3].name, "alpha");
    cr_assert_eq(plan.types[2].index, 2);
    cr_assert_str_eq(plan.types[2].command, "z --port $PORT");
    cr_assert_str_eq(plan.types[2].dir, dir);
    cr_assert_eq(plan_port(&plan, ptype("web"), 0), 7000);
    cr_assert_eq(plan_port(&plan, ptype("web"), 2), 7002);
    cr_assert_eq(plan_port(&plan, ptype("worker"), 0), 7100);
    cr_assert_eq(plan_port(&plan, ptype("zeta"), 1), 7201);
    cr_assert_eq(plan_port(&plan, ptype("alpha"), 0), 7300);
}

Test(plan, command_override)
{
    put("Procfile", "web: from-procfile\n");
    load_dir();
    conf_text("processes:\n  web: {command: from-config, ready: {path: /health, timeout: 5s}}\n");
    build_ok(NULL);
    cr_assert_str_eq(ptype("web")->command, "from-config");
    cr_assert_str_eq(ptype("web")->settings.ready_path, "/health");
    cr_assert_eq(ptype("web")->settings.ready_timeout_ms, 5000);
}

Test(plan, routed)
{
    put("Procfile", "web: w\napi: a\nworker: k\n");
    load_dir();
    conf_text("routes:\n  - {path: /api/, process: api}\n  - {path: /static/, backends: [127.0.0.1:9]}\n");
    build_ok(NULL);
    cr_assert_not(ptype("web")->routed, "explicit routes replace the default one");
    cr_assert(ptype("api")->routed);
    cr_assert_not(ptype("worker")->routed);
}

Test(plan, worker_only_app_with_the_default_route)
{
    put("Procfile", "worker: k\n");
    load_dir();
    conf_text("processes:\n  worker: {instances: 2}\n");
    build_ok(NULL);
    cr_assert_eq(plan.ntypes, 1);
    cr_assert_not(plan.types[0].routed);
}

Test(plan, route_to_missing_type)
{
    char want[PATH_MAX + 200];

    put("Procfile", "web: w\n");
    load_dir();
    conf_text("routes:\n  - path: /\n    process: web\n  - path: /api/\n    process: api\n");
    snprintf(want, sizeof(want), "%s:4:5: routes[1]: process type \"api\" is not in Procfile", conf->file);
    build_err(NULL, want);
}

Test(plan, explicit_route_to_missing_web)
{
    char want[PATH_MAX + 200];

    put("app_desc.yaml", "spec_version: 2\nmodule: {processes: {worker: {command: k}}}\n");
    load_dir();
    conf_text("routes: [{process: web}]\n");
    snprintf(want, sizeof(want), "%s:1:10: routes[0]: process type \"web\" is not in app_desc.yaml", conf->file);
    build_err(NULL, want);
}

Test(plan, unknown_m_type)
{
    put("Procfile", "web: w\nworker: k\n");
    load_dir();
    conf_text("{}\n");
    build_err("wrker=2", "-m: unknown process type \"wrker\"; the formation has: web, worker (did you mean "
                         "\"worker\"?)");
    build_err("web=1,db=2", "-m: unknown process type \"db\"; the formation has: web, worker");
}

Test(plan, config_type_without_command)
{
    char want[PATH_MAX + 200];

    put("Procfile", "web: w\n");
    load_dir();
    conf_text("processes:\n  web: {instances: 2}\n  api: {instances: 2}\n");
    snprintf(want, sizeof(want), "%s:3:3: processes.api: process type \"api\" is not in Procfile and has no command",
             conf->file);
    build_err(NULL, want);
}

Test(plan, port_above_65535)
{
    char want[PATH_MAX + 200];

    put("Procfile", "web: w\nworker: k\n");
    load_dir();
    conf_text("app: {base_port: 65400}\n");
    build_ok("web=100,worker=36");
    cr_assert_eq(plan_port(&plan, ptype("worker"), 35), 65535);
    plan_free(&plan);
    snprintf(want, sizeof(want), "%s: worker.37 would get port 65536 (base_port 65400 + 100 * 1 + 36), above 65535; "
             "lower app.base_port or the instance count", conf->file);
    build_err("worker=37", want);
    build_ok("worker=0");
}

Test(plan, port_ranges_overlap)
{
    put("Procfile", "web: w\nworker: k\n");
    load_dir();
    conf_text("{}\n");
    build_err("web=101", "web x101: more than 100 instances would use the ports of worker (each type has 100 ports "
                         "from base_port + 100 * its index); only the last type may have more");
    build_ok("worker=1000");
    cr_assert_eq(plan_port(&plan, ptype("worker"), 999), 6099);
}

Test(plan, env_merge_order)
{
    put("app_desc.yaml", "spec_version: 2\nmodule:\n  processes: {web: {command: w}, worker: {command: k}}\n"
                         "  env_variables:\n"
                         "    - {key: A, value: desc}\n    - {key: B, value: desc}\n    - {key: C, value: desc}\n");
    put(".env", "B=dotenv\nC=dotenv\nD=dotenv\n");
    load_dir();
    conf_text("processes:\n  web: {env: {C: config, E: config}}\n");
    build_ok(NULL);
    {
        const struct plan_type *w = ptype("web"), *k = ptype("worker");

        cr_assert_eq(w->nenv, 5);
        cr_assert_str_eq(w->env[0].key, "A");
        cr_assert_str_eq(penv(w, "A"), "desc");
        cr_assert_str_eq(penv(w, "B"), "dotenv");
        cr_assert_str_eq(penv(w, "C"), "config");
        cr_assert_str_eq(penv(w, "D"), "dotenv");
        cr_assert_str_eq(penv(w, "E"), "config");
        cr_assert_str_eq(w->env[4].key, "E");
        cr_assert_eq(k->nenv, 4);
        cr_assert_str_eq(penv(k, "C"), "dotenv");
        cr_assert_null(penv(k, "E"));
    }
}

Test(plan, env_file_setting)
{
    put("Procfile", "web: w\n");
    put(".env", "X=default-file\n");
    put("other.env", "X=configured\n");
    load_dir();
    conf_text("app: {env_file: other.env}\n");
    build_ok(NULL);
    cr_assert_str_eq(penv(ptype("web"), "X"), "configured", "env_file replaces <app dir>/.env");
}

Test(plan, env_file_errors)
{
    char want[PATH_MAX + 200];

    put("Procfile", "web: w\n");
    put(".env", "OK=1\nBAD LINE\n");
    load_dir();
    conf_text("{}\n");
    snprintf(want, sizeof(want), "%s:2: expected KEY=value, got \"BAD LINE\"", at(".env"));
    build_err(NULL, want);
    conf_free(conf);
    conf_text("app: {env_file: missing.env}\n");
    snprintf(want, sizeof(want), "%s: cannot read: No such file or directory", at("missing.env"));
    build_err(NULL, want);
}

Test(plan, plan_outlives_conf_and_formation)
{
    put("Procfile", "web: w\n");
    put(".env", "A=1\n");
    load_dir();
    conf_text("processes:\n  web: {env: {B: '2'}, ready: {path: /up}, command: override}\n");
    build_ok(NULL);
    conf_free(conf);
    conf = NULL;
    formation_free(&f);
    cr_assert_str_eq(plan.types[0].name, "web");
    cr_assert_str_eq(plan.types[0].command, "override");
    cr_assert_str_eq(plan.types[0].settings.ready_path, "/up");
    cr_assert_str_eq(plan.types[0].settings.env[0].value, "2");
    cr_assert_str_eq(penv(&plan.types[0], "B"), "2");
    cr_assert_str_eq(plan.formation_file, at("Procfile"));
}

Test(plan, print)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out;
    char want[PATH_MAX * 2 + 1024];

    put("Procfile", "web: bundle exec puma -p $PORT\nworker: bin/worker\n");
    put("app_desc.yaml", "spec_version: 2\n");
    load_dir();
    conf_text("processes:\n  web: {ready: {path: /health}, env: {SECRET: s}}\n");
    build_ok("web=2");
    out = open_memstream(&buf, &len);
    plan_print(&plan, out);
    fclose(out);
    snprintf(want, sizeof(want),
             "formation       %s (app_desc.yaml ignored: the Procfile wins)\n"
             "web x2          routed, ready: HTTP GET /health within 30s\n"
             "                dir %s, stop_timeout 10s, restart back-off 100ms..30s\n"
             "                env SECRET\n"
             "  web.1         port 5000   bundle exec puma -p $PORT\n"
             "  web.2         port 5001   bundle exec puma -p $PORT\n"
             "worker x1       not routed\n"
             "                dir %s, stop_timeout 10s, restart back-off 100ms..30s\n"
             "  worker.1      port 5100   bin/worker\n",
             at("Procfile"), dir, dir);
    cr_assert_str_eq(buf, want);
    free(buf);
}
