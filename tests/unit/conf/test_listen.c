/* conf/listen.c: listen entries written as maps. */
#include <criterion/criterion.h>

#include "conf_test.h"

TestSuite(listen, .init = tmp_setup, .fini = tmp_teardown);

Test(listen, map_with_proxy_protocol_beside_a_plain_address)
{
    struct conf *c = load_ok("listen:\n"
                             "  - 127.0.0.1:8080\n"
                             "  - address: 127.0.0.1:8081\n"
                             "    proxy_protocol: true\n"
                             "    proxy_trusted: [10.0.0.0/8, 127.0.0.1, \"::1\"]\n"
                             "routes:\n  - path: /\n    backends: [127.0.0.1:9000]\n");

    cr_assert_eq(c->nlisten, 2);
    cr_assert_not(c->listen[0].opts.proxy_protocol);
    cr_assert_str_eq(c->listen[1].text, "127.0.0.1:8081");
    cr_assert(c->listen[1].opts.proxy_protocol);
    cr_assert_eq(c->listen[1].opts.ntrusted, 3);
    cr_assert_eq(c->listen[1].opts.trusted[0].bits, 8);
    cr_assert_eq(c->listen[1].opts.trusted[1].bits, 32);
    cr_assert_eq(c->listen[1].opts.trusted[2].bits, 128);
    conf_free(c);
}

Test(listen, errors_name_the_entry)
{
    expect_errors("listen:\n"
                  "  - address: 127.0.0.1:8081\n"
                  "    proxy_protocol: true\n"
                  "routes:\n  - path: /\n    backends: [127.0.0.1:9000]\n",
                  "3:21: listen[0]: proxy_protocol needs proxy_trusted, the balancers' address ranges");
    expect_errors("listen:\n"
                  "  - address: 127.0.0.1:8081\n"
                  "    proxy_protocol: true\n"
                  "    proxy_trusted: [10.0.0.1/8]\n"
                  "routes:\n  - path: /\n    backends: [127.0.0.1:9000]\n",
                  "4:21: listen[0].proxy_trusted[0]: \"10.0.0.1/8\" has host bits set (the network is not at a /8 boundary)");
    expect_errors("listen:\n"
                  "  - proxy_protocol: true\n"
                  "routes:\n  - path: /\n    backends: [127.0.0.1:9000]\n",
                  "2:5: listen[0]: needs an address");
    expect_errors("listen:\n"
                  "  - address: 127.0.0.1:8081\n"
                  "    proxy_protocl: true\n"
                  "routes:\n  - path: /\n    backends: [127.0.0.1:9000]\n",
                  "3:5: unknown key \"proxy_protocl\" in listen[0]; did you mean \"proxy_protocol\"?");
}
