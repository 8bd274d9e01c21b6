/* conf/processes.c: processes.<type>. */
#include <criterion/criterion.h>

#include "conf_test.h"

TestSuite(processes, .init = tmp_setup, .fini = tmp_teardown);

Test(processes, restart_min_above_max)
{
    expect_errors("processes:\n  web:\n    restart: {min: 1m, max: 10s}\n",
                  "3:20: processes.web.restart: min (1m) is more than max (10s)");
    expect_errors("processes:\n  web:\n    restart:\n      min: 1m\n",
                  "4:12: processes.web.restart: min (1m) is more than max (30s)");
}

Test(processes, bad_process_name)
{
    expect_errors("processes:\n  web/1:\n    instances: 2\n",
                  "2:3: processes: bad process type name \"web/1\"; use letters, digits, \"_\" and \"-\"");
}

