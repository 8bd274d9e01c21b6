/* conf/app_desc.c: app_desc.yaml v2 and v3 documents: versions, modules,
 * directories, env, and errors at file:line:col. */
#include <criterion/criterion.h>

#include "formation_test.h"

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

Test(app_desc, invalid_module_name)
{
    desc_err("spec_version: 2\nmodules:\n  My_Api: {processes: {web: {command: a}}}\n",
             ":3:3: modules: invalid module name \"My_Api\"; use lowercase letters, digits and \"-\" (not first or "
             "last)");
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
