/* Rewritten heads and drover's own answers (router/http_write.c). */
#include "tests/unit/router/http_test.h"

Test(http_rewrite, hop_by_hop_removed_and_forwarding_headers_set)
{
    const char *o = rewrite("GET /x HTTP/1.1\r\n"
                            "Host: example.com\r\n"
                            "Connection: keep-alive, X-Secret\r\n"
                            "Keep-Alive: timeout=5\r\n"
                            "Proxy-Connection: keep-alive\r\n"
                            "TE: trailers\r\n"
                            "Trailer: X\r\n"
                            "Upgrade: websocket\r\n"
                            "X-Secret: 1\r\n"
                            "X-Forwarded-Proto: https\r\n"
                            "X-Forwarded-Port: 1\r\n"
                            "X-Request-Start: t=1\r\n"
                            "X-Request-Id: client-id\r\n"
                            "Accept: */*\r\n"
                            "\r\n",
                            &default_rw);

    cr_assert_str_eq(o, "GET /x HTTP/1.1\r\n"
                        "Host: example.com\r\n"
                        "Accept: */*\r\n"
                        "X-Forwarded-For: 10.1.2.3\r\n"
                        "X-Forwarded-Proto: http\r\n"
                        "X-Forwarded-Port: 8080\r\n"
                        "X-Request-Start: t=1764000000123\r\n"
                        "X-Request-Id: rid-1\r\n"
                        "\r\n");
}

Test(http_rewrite, x_forwarded_for_merged_and_appended)
{
    const char *o = rewrite("GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.1.1.1\r\n"
                            "X-Other: o\r\nX-Forwarded-For: 2.2.2.2, 3.3.3.3\r\n\r\n",
                            &default_rw);

    cr_assert(strstr(o, "X-Forwarded-For: 1.1.1.1, 2.2.2.2, 3.3.3.3, 10.1.2.3\r\n") != NULL, "%s", o);
    cr_assert(strstr(o, "X-Other: o\r\n") != NULL);
    /* One merged header, not one per client header. */
    cr_assert_null(strstr(strstr(o, "X-Forwarded-For") + 1, "X-Forwarded-For"), "%s", o);
}

Test(http_rewrite, connection_cannot_remove_framing_headers)
{
    const char *o = rewrite("POST / HTTP/1.1\r\nHost: a\r\nConnection: content-length, host\r\n"
                            "Content-Length: 3\r\n\r\n",
                            &default_rw);

    cr_assert(strstr(o, "Content-Length: 3\r\n") != NULL, "%s", o);
    cr_assert(strstr(o, "Host: a\r\n") != NULL, "%s", o);
}

Test(http_rewrite, strip_prefix_and_query)
{
    struct http_request_rewrite rw = default_rw;

    rw.strip = 4;
    cr_assert(strncmp(rewrite("GET /api/users?id=1 HTTP/1.1\r\nHost: a\r\n\r\n", &rw),
                      "GET /users?id=1 HTTP/1.1\r\n", 26) == 0, "%s", out);
    cr_assert(strncmp(rewrite("GET /api HTTP/1.1\r\nHost: a\r\n\r\n", &rw), "GET / HTTP/1.1\r\n", 16) == 0,
              "%s", out);
    cr_assert(strncmp(rewrite("GET /api?q HTTP/1.1\r\nHost: a\r\n\r\n", &rw), "GET /?q HTTP/1.1\r\n",
                      18) == 0, "%s", out);
}

Test(http_rewrite, absolute_form_becomes_origin_form)
{
    size_t pl, al;
    const char *p, *a;

    rewrite("GET http://Example.com:81/p/q?z HTTP/1.1\r\nHost: ignored\r\n\r\n", &default_rw);
    cr_assert(strncmp(out, "GET /p/q?z HTTP/1.1\r\nHost: Example.com:81\r\n", 43) == 0, "%s", out);
    cr_assert_null(strstr(out, "ignored"), "%s", out);
    http_target_parts(&head, &p, &pl, &a, &al);
    cr_assert_eq(al, strlen("Example.com:81"));
    cr_assert(memcmp(a, "Example.com:81", al) == 0);
    cr_assert_eq(pl, 4);
    rewrite("GET http://h HTTP/1.1\r\nHost: h\r\n\r\n", &default_rw);
    cr_assert(strncmp(out, "GET / HTTP/1.1\r\n", 16) == 0, "%s", out);
}

Test(http_rewrite, http10_request_goes_up_as_11_with_empty_host)
{
    const char *o = rewrite("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &default_rw);

    cr_assert(strncmp(o, "GET / HTTP/1.1\r\nHost: \r\n", 24) == 0, "%s", o);
}

Test(http_rewrite, tunnel_keeps_upgrade)
{
    struct http_request_rewrite rw = default_rw;
    const char *o;

    rw.tunnel = true;
    o = rewrite("GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", &rw);
    cr_assert(strstr(o, "Connection: upgrade\r\n") != NULL, "%s", o);
    cr_assert(strstr(o, "Upgrade: websocket\r\n") != NULL, "%s", o);
}

Test(http_rewrite, does_not_fit_returns_zero)
{
    const char *req = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";

    cr_assert_eq(parse_req(req), HTTP_HEAD_DONE);
    cr_assert_eq(http_write_request(&head, &default_rw, out, 20), 0);
}

Test(http_response, rewrite)
{
    struct http_response_rewrite rw = {"rid-9", 5, HTTP_CONN_CLOSE, false};
    size_t n;

    cr_assert_eq(parse_resp("HTTP/1.0 200 Fine\r\nConnection: keep-alive\r\nKeep-Alive: t=1\r\n"
                            "Content-Length: 2\r\nX-App: 1\r\n\r\nok"),
                 HTTP_HEAD_DONE);
    cr_assert_eq(head.status, 200);
    n = http_write_response(&head, &rw, out, sizeof(out) - 1);
    out[n] = '\0';
    cr_assert_str_eq(out, "HTTP/1.1 200 Fine\r\nContent-Length: 2\r\nX-App: 1\r\n"
                          "X-Request-Id: rid-9\r\nConnection: close\r\n\r\n");
}

Test(http_response, backend_request_id_kept_and_keep_alive_for_10)
{
    struct http_response_rewrite rw = {"rid-9", 5, HTTP_CONN_KEEP_ALIVE, false};
    size_t n;

    cr_assert_eq(parse_resp("HTTP/1.1 404 Not Found\r\nX-Request-Id: app\r\nContent-Length: 0\r\n\r\n"),
                 HTTP_HEAD_DONE);
    n = http_write_response(&head, &rw, out, sizeof(out) - 1);
    out[n] = '\0';
    cr_assert_str_eq(out, "HTTP/1.1 404 Not Found\r\nX-Request-Id: app\r\nContent-Length: 0\r\n"
                          "Connection: keep-alive\r\n\r\n");
}

Test(http_error, body_names_status_reason_and_id)
{
    size_t n = http_write_error(503, "no healthy backend", "abc", HTTP_CONN_CLOSE, out, sizeof(out));
    const char *body = "503 Service Unavailable: no healthy backend\nrequest id: abc\n";
    char expect[512];

    snprintf(expect, sizeof(expect),
             "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
             "Content-Length: %zu\r\nX-Request-Id: abc\r\nConnection: close\r\n\r\n%s",
             strlen(body), body);
    cr_assert_eq(n, strlen(expect));
    cr_assert(memcmp(out, expect, n) == 0, "%.*s", (int)n, out);
}

Test(http_response, interim_heads_lose_their_framing_headers)
{
    struct http_response_rewrite rw = {NULL, 0, HTTP_CONN_NONE, false, false, true};
    size_t n;

    cr_assert_eq(parse_resp("HTTP/1.1 100 Continue\r\nContent-Length: 5\r\nX-A: 1\r\n\r\n"),
                 HTTP_HEAD_DONE);
    n = http_write_response(&head, &rw, out, sizeof(out) - 1);
    out[n] = '\0';
    cr_assert_str_eq(out, "HTTP/1.1 100 Continue\r\nX-A: 1\r\n\r\n");
}
