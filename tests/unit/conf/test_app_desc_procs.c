/* conf/app_desc_procs.c: a module's processes: names, commands (v3 words
 * quoted for /bin/sh), replicas, and clashes between types. */
#include <criterion/criterion.h>

#include "formation_test.h"

TestSuite(app_desc_procs, .init = setup, .fini = teardown);

Test(app_desc_procs, v3_proc_command)
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

Test(app_desc_procs, v3_command_and_args)
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

Test(app_desc_procs, v3_command_string)
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

Test(app_desc_procs, invalid_type_name)
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

Test(app_desc_procs, no_command)
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

Test(app_desc_procs, command_conflicts)
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

Test(app_desc_procs, bad_replicas)
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

Test(app_desc_procs, duplicate_type)
{
    desc_err("spec_version: 2\nmodule:\n  processes:\n    web: {command: a}\n    web: {command: b}\n",
             ":5:5: module.processes: duplicate process type \"web\" (first at 4:5)");
    desc_err("specVersion: 3\nmodules:\n  - name: m\n    spec:\n      processes:\n"
             "        - {name: web, procCommand: a}\n        - {name: web, procCommand: b}\n",
             ":7:18: modules[0].spec.processes[1].name: duplicate process type \"web\" (first at 6:18)");
}

Test(app_desc_procs, prefixed_name_clash)
{
    desc_err("spec_version: 2\nmodules:\n"
             "  default: {processes: {api-web: {command: a}}}\n"
             "  api: {processes: {web: {command: b}}}\n",
             ":4:21: modules.api.processes: process type \"api-web\" (module \"api\", type \"web\") is already "
             "defined at 3:25");
}
