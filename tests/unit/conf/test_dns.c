/* conf/dns.c: "dns:NAME:PORT" and "srv:NAME" backends, the resolver section. */
#include <criterion/criterion.h>

#include "conf_test.h"

TestSuite(dns, .init = tmp_setup, .fini = tmp_teardown);

Test(dns, entries_beside_static_backends_and_the_resolver)
{
    struct conf *c = load_ok("resolver:\n"
                             "  servers: [127.0.0.1:5353, 10.0.0.2, \"::1\", \"[fd00::1]:53\"]\n"
                             "  refresh: {min: 2s, max: 30s}\n"
                             "  hold: 1m\n"
                             "routes:\n  - path: /\n"
                             "    backends: [127.0.0.1:9000, dns:app.internal:8080, srv:_http._tcp.app]\n");
    const struct conf_route *r = &c->routes[0];

    cr_assert_eq(r->nbackends, 1);
    cr_assert_eq(r->ndns, 2);
    cr_assert_str_eq(r->dns[0].key, "dns:app.internal:8080");
    cr_assert_str_eq(r->dns[0].name, "app.internal");
    cr_assert_eq(r->dns[0].port, 8080);
    cr_assert_not(r->dns[0].srv);
    cr_assert_str_eq(r->dns[1].name, "_http._tcp.app");
    cr_assert(r->dns[1].srv);
    cr_assert_str_eq(c->resolver.servers, "127.0.0.1:5353,10.0.0.2:53,[::1]:53,[fd00::1]:53");
    cr_assert_eq(c->resolver.refresh_min_ms, 2000);
    cr_assert_eq(c->resolver.refresh_max_ms, 30000);
    cr_assert_eq(c->resolver.hold_ms, 60000);
    conf_free(c);
}

Test(dns, defaults)
{
    struct conf *c = load_ok("routes:\n  - path: /\n    backends: [dns:a.test:80]\n");

    cr_assert_null(c->resolver.servers, "/etc/resolv.conf");
    cr_assert_eq(c->resolver.refresh_min_ms, 1000);
    cr_assert_eq(c->resolver.refresh_max_ms, 60000);
    cr_assert_eq(c->resolver.hold_ms, 300000);
    conf_free(c);
}

Test(dns, errors)
{
    expect_errors("routes:\n  - path: /\n    backends: [dns:app.internal]\n",
                  "3:16: routes[0].backends[0]: \"dns:app.internal\" needs a port: dns:NAME:PORT");
    expect_errors("routes:\n  - path: /\n    backends: [dns:bad..name:80]\n",
                  "3:16: routes[0].backends[0]: \"bad..name\" is not a DNS name");
    expect_errors("routes:\n  - path: /\n    backends: [dns:a.test:80, dns:a.test:80]\n",
                  "3:31: routes[0].backends[1]: dns:a.test:80 is listed twice (first at 3:16)");
    expect_errors("resolver:\n  servers: [dns.example]\nroutes:\n  - path: /\n    backends: [dns:a.test:80]\n",
                  "2:13: resolver.servers[0]: \"dns.example\" is not an IP address with an optional port");
    expect_errors("resolver:\n  refresh: {min: 1m, max: 1s}\nroutes:\n  - path: /\n    backends: [dns:a.test:80]\n",
                  "2:12: resolver.refresh: min is above max");
}
