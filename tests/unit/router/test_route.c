/* Route matching: host first, then the longest path prefix; strip_prefix. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/config.h"
#include "router/backend.h"
#include "router/route.h"

static struct backend_registry reg;
static struct route_table *table;

/* Loads YAML routes through the real config loader into a route table. */
static void load(const char *yaml)
{
    char path[] = "/tmp/drover-route-XXXXXX";
    char err[4096];
    struct conf *conf;
    int fd = mkstemp(path);

    cr_assert(fd >= 0);
    cr_assert(write(fd, yaml, strlen(yaml)) == (ssize_t)strlen(yaml));
    close(fd);
    conf = conf_load(path, err, sizeof(err));
    unlink(path);
    cr_assert_not_null(conf, "config: %s", err);
    backend_registry_init(&reg, 1);
    table = route_table_build(conf_ref_new(conf), &reg);
    cr_assert_not_null(table);
    /* The table holds its own reference now. */
    conf_ref_put(table->cref);
}

static void unload(void)
{
    route_table_put(table);
    backend_registry_clear(&reg);
}

/* Index of the matched route in the config, or -1. */
static int match(const char *host, const char *path)
{
    struct route_rt *r = route_match(table, host, host != NULL ? strlen(host) : 0, path,
                                     strlen(path));

    return r == NULL ? -1 : (int)(r - table->routes);
}

static const char *const routes_yaml = "routes:\n"
                                       "  - path: /\n    backends: [127.0.0.1:9000]\n"           /* 0 */
                                       "  - path: /api/\n    backends: [127.0.0.1:9001]\n"       /* 1 */
                                       "  - path: /api/v2/\n    backends: [127.0.0.1:9002]\n"    /* 2 */
                                       "  - host: a.test\n    backends: [127.0.0.1:9003]\n"      /* 3 */
                                       "  - host: \"*.b.test\"\n    backends: [127.0.0.1:9004]\n" /* 4 */
                                       "  - host: \"*.x.b.test\"\n    backends: [127.0.0.1:9005]\n" /* 5 */
                                       "  - host: c.test\n    path: /only/\n    backends: [127.0.0.1:9006]\n"; /* 6 */

Test(route, longest_path_prefix_without_host)
{
    load(routes_yaml);
    cr_assert_eq(match("other", "/"), 0);
    cr_assert_eq(match("other", "/index.html"), 0);
    cr_assert_eq(match("other", "/api/x"), 1);
    cr_assert_eq(match("other", "/api/v2/x"), 2);
    cr_assert_eq(match("other", "/api/v3"), 1);
    cr_assert_eq(match(NULL, "/api/v2/"), 2);
    unload();
}

Test(route, prefix_with_slash_also_matches_without_it)
{
    load(routes_yaml);
    cr_assert_eq(match("other", "/api"), 1);
    cr_assert_eq(match("other", "/api/v2"), 2);
    /* "/api/" is not a prefix of "/apiary". */
    cr_assert_eq(match("other", "/apiary"), 0);
    unload();
}

Test(route, exact_host_beats_wildcard_beats_none)
{
    load(routes_yaml);
    cr_assert_eq(match("a.test", "/api/v2/x"), 3, "the host decides before the path");
    cr_assert_eq(match("q.b.test", "/api/"), 4);
    cr_assert_eq(match("q.x.b.test", "/"), 5, "the longer wildcard is more specific");
    cr_assert_eq(match("b.test", "/"), 0, "*.b.test does not match b.test itself");
    unload();
}

Test(route, host_is_case_insensitive_and_ignores_port_and_final_dot)
{
    load(routes_yaml);
    cr_assert_eq(match("A.TEST", "/"), 3);
    cr_assert_eq(match("a.test:8080", "/"), 3);
    cr_assert_eq(match("a.test.", "/"), 3);
    cr_assert_eq(match("Q.B.Test:1", "/"), 4);
    unload();
}

Test(route, host_route_whose_path_does_not_match_falls_through)
{
    load(routes_yaml);
    cr_assert_eq(match("c.test", "/only/x"), 6);
    cr_assert_eq(match("c.test", "/api/x"), 1);
    unload();
}

Test(route, nothing_matches)
{
    load("routes:\n  - path: /a/\n    backends: [127.0.0.1:9000]\n");
    cr_assert_eq(match("x", "/b"), -1);
    cr_assert_eq(match("x", "/"), -1);
    unload();
}

Test(route, a_route_that_could_never_match_is_a_config_error)
{
    char path[] = "/tmp/drover-route-XXXXXX";
    const char *yaml = "routes:\n"
                       "  - path: /same/\n    backends: [127.0.0.1:9000]\n"
                       "  - path: /same/\n    backends: [127.0.0.1:9001]\n";
    char err[4096];
    int fd = mkstemp(path);

    cr_assert(write(fd, yaml, strlen(yaml)) == (ssize_t)strlen(yaml));
    close(fd);
    cr_assert_null(conf_load(path, err, sizeof(err)));
    unlink(path);
    cr_assert(strstr(err, ":4:5: routes[1]: same host and path as routes[0] (line 2)") != NULL, "%s",
              err);
}

Test(route, strip_prefix_lengths)
{
    struct route_rt *r;

    load("routes:\n"
         "  - path: /api/\n    strip_prefix: true\n    backends: [127.0.0.1:9000]\n"
         "  - path: /keep/\n    backends: [127.0.0.1:9001]\n"
         "  - path: /\n    strip_prefix: true\n    backends: [127.0.0.1:9002]\n");
    r = &table->routes[0];
    /* "/api/x" → "/x": the prefix's own final slash stays. */
    cr_assert_eq(route_strip_len(r, strlen("/api/x")), 4);
    cr_assert_eq(route_strip_len(r, strlen("/api")), 4);
    cr_assert_eq(route_strip_len(&table->routes[1], 10), 0, "strip_prefix is off");
    cr_assert_eq(route_strip_len(&table->routes[2], 10), 0, "stripping / changes nothing");
    unload();
}

Test(route, static_backends_are_shared_by_address)
{
    load("routes:\n"
         "  - path: /a/\n    backends: [127.0.0.1:9000, 127.0.0.1:9001]\n"
         "  - path: /b/\n    backends: [127.0.0.1:9001]\n");
    cr_assert_eq(table->routes[0].nbe, 2);
    cr_assert_eq(table->routes[1].nbe, 1);
    /* One backend object per address: its pool and health are shared. */
    cr_assert_eq(table->routes[0].be[1], table->routes[1].be[0]);
    cr_assert_str_eq(table->routes[0].be[0]->name, "127.0.0.1:9000");
    unload();
}

Test(route, default_route_sends_everything_to_web)
{
    load("listen: 127.0.0.1:1\n");
    cr_assert_eq(table->nroutes, 1);
    cr_assert_str_eq(table->routes[0].conf->process, "web");
    cr_assert_eq(match("x", "/anything"), 0);
    cr_assert_eq(table->routes[0].nbe, 0, "no web instance is ready yet");
    unload();
}
