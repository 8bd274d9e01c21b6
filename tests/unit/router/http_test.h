/* What the router/http*.c unit tests share: a parser, parsing helpers and
 * the default rewrite. Included by each test file (one per module). */
#ifndef DROVER_TESTS_UNIT_ROUTER_HTTP_TEST_H
#define DROVER_TESTS_UNIT_ROUTER_HTTP_TEST_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "router/http.h"

static llhttp_t parser;
static struct http_head head;
static struct http_body body_state __attribute__((unused));

static inline int parse_req(const char *s)
{
    return http_parse_head(&parser, HTTP_REQUEST, &head, s, strlen(s));
}

static inline int parse_resp(const char *s)
{
    return http_parse_head(&parser, HTTP_RESPONSE, &head, s, strlen(s));
}

static const struct http_request_rewrite default_rw __attribute__((unused)) = {
    .client_ip = "10.1.2.3",
    .listen_port = 8080,
    .request_id = "rid-1",
    .request_id_len = 5,
    .start_ms = 1764000000123,
    .strip = 0,
    .host = "",
    .tunnel = false,
};

static char out[8192] __attribute__((unused));

static inline const char *rewrite(const char *req, const struct http_request_rewrite *rw)
{
    size_t n;

    cr_assert_eq(parse_req(req), HTTP_HEAD_DONE, "parse failed: %s", head.err_reason);
    n = http_write_request(&head, rw, out, sizeof(out) - 1);
    cr_assert_gt(n, 0);
    out[n] = '\0';
    return out;
}

#endif
