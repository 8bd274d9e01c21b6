/* What the HTTP/1.1 e2e files share (test_http11.c, test_limits.c): a
 * config on loopback, drover in front of one backend, one checked GET. */
#ifndef DROVER_TESTS_E2E_HTTP11_H
#define DROVER_TESTS_E2E_HTTP11_H

#include <string.h>

#include "tests/e2e/client.h"
#include "tests/e2e/harness.h"

#define GET_OK "GET / HTTP/1.1\r\nHost: t\r\n\r\n"

/* Loopback only, no admin listener, no access log. */
static inline char *config(int port, const char *rest)
{
    return e2e_fmt("listen: 127.0.0.1:%d\n"
                   "admin:\n  listen: off\n"
                   "log:\n  access: off\n"
                   "%s",
                   port, rest);
}

static inline char *addr_of(int port)
{
    return e2e_fmt("127.0.0.1:%d", port);
}

/* drover on dp in front of one test backend "a" on bp, with extra config
 * (top-level keys) before the route. */
static inline struct e2e_proc *one_backend(int *bp, int *dp, const char *extra)
{
    *bp = e2e_free_port();
    *dp = e2e_free_port();
    e2e_backend("a", *bp);
    return e2e_drover(config(*dp, e2e_fmt("%sroutes:\n  - path: /\n    backends: [127.0.0.1:%d]\n",
                                          extra, *bp)),
                      addr_of(*dp));
}

static inline const char *first_line(const char *s)
{
    return e2e_fmt("%.*s", (int)strcspn(s != NULL ? s : "", "\r\n"), s != NULL ? s : "");
}

/* One request on c that must come back 200 within timeout_ms. */
static inline void get_ok(struct client *c, const char *what, int timeout_ms)
{
    struct http_resp r;

    client_send_str(c, GET_OK);
    ASSERT(client_read(c, &r, false, timeout_ms) == 0, "%s: no response within %dms", what,
           timeout_ms);
    ASSERT(r.status == 200, "%s: got %d %s", what, r.status, first_line(r.body));
    resp_free(&r);
}

#define POST_HEAD "POST /?sum=1 HTTP/1.1\r\nHost: t\r\n"

#endif
