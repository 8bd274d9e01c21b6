/* Rewritten heads and drover's own answers (router/http_write.c). */
#include <stdlib.h>
#include <time.h>

#include "tests/unit/router/http_test.h"

/* Trailer is kept: the trailer fields it announces go through. */
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
                        "Trailer: X\r\n"
                        "Accept: */*\r\n"
                        "X-Forwarded-For: 10.1.2.3\r\n"
                        "X-Forwarded-Proto: http\r\n"
                        "X-Forwarded-Port: 8080\r\n"
                        "Via: 1.1 drover\r\n"
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

/* Takes out the Date line drover's own answers carry, after checking it
 * is an IMF-fixdate of now. */
static size_t without_date(char *s, size_t n)
{
    char *d = strstr(s, "\r\nDate: ");
    time_t now = time(NULL);
    struct tm tm;

    cr_assert_not_null(d, "%.*s", (int)n, s);
    d += 2;
    cr_assert(memcmp(d + 6 + HTTP_DATE_LEN, "\r\n", 2) == 0, "%.40s", d);
    cr_assert_not_null(strptime(d + 6, "%a, %d %b %Y %H:%M:%S GMT", &tm), "%.40s", d);
    cr_assert_lt(llabs((long long)(timegm(&tm) - now)), 3);
    memmove(d, d + 6 + HTTP_DATE_LEN + 2, n - (size_t)(d - s) - 6 - HTTP_DATE_LEN - 2);
    return n - 6 - HTTP_DATE_LEN - 2;
}

Test(http_error, body_names_status_reason_and_id)
{
    size_t n = http_write_error(503, "no healthy backend", "abc", HTTP_CONN_CLOSE, out, sizeof(out));
    const char *body = "503 Service Unavailable: no healthy backend\nrequest id: abc\n";
    char expect[512];

    n = without_date(out, n);
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

Test(http_response, date_added_only_when_missing)
{
    struct http_response_rewrite rw = {NULL, 0, HTTP_CONN_NONE, false, false, false,
                                       "Tue, 01 Dec 2026 00:00:00 GMT"};
    size_t n;

    cr_assert_eq(parse_resp("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), HTTP_HEAD_DONE);
    n = http_write_response(&head, &rw, out, sizeof(out) - 1);
    out[n] = '\0';
    cr_assert_str_eq(out, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
                          "Date: Tue, 01 Dec 2026 00:00:00 GMT\r\n\r\n");
    cr_assert_eq(parse_resp("HTTP/1.1 200 OK\r\ndate: Mon, 30 Nov 2026 00:00:00 GMT\r\n"
                            "Content-Length: 0\r\n\r\n"),
                 HTTP_HEAD_DONE);
    n = http_write_response(&head, &rw, out, sizeof(out) - 1);
    out[n] = '\0';
    cr_assert_null(strstr(out, "Dec 2026"), "%s", out);
    /* A 1xx gets none. */
    rw.interim = true;
    cr_assert_eq(parse_resp("HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n"), HTTP_HEAD_DONE);
    n = http_write_response(&head, &rw, out, sizeof(out) - 1);
    out[n] = '\0';
    cr_assert_null(strstr(out, "Date"), "%s", out);
}

Test(http_rewrite, via_names_the_received_protocol_after_the_clients)
{
    const char *o = rewrite("GET / HTTP/1.1\r\nHost: a\r\nVia: 1.1 edge\r\n\r\n", &default_rw);
    const char *first = strstr(o, "Via: 1.1 edge\r\n");

    cr_assert_not_null(first, "%s", o);
    cr_assert_not_null(strstr(first + 1, "Via: 1.1 drover\r\n"), "%s", o);
    o = rewrite("GET / HTTP/1.0\r\n\r\n", &default_rw);
    cr_assert_not_null(strstr(o, "Via: 1.0 drover\r\n"), "%s", o);
}

Test(http_rewrite, max_forwards_decremented_on_options_and_trace_only)
{
    const char *o = rewrite("OPTIONS * HTTP/1.1\r\nHost: a\r\nMax-Forwards: 5\r\n\r\n", &default_rw);

    cr_assert(strncmp(o, "OPTIONS * HTTP/1.1\r\n", 20) == 0, "%s", o);
    cr_assert_not_null(strstr(o, "Max-Forwards: 4\r\n"), "%s", o);
    cr_assert_null(strstr(o, "Max-Forwards: 5"), "%s", o);
    o = rewrite("TRACE / HTTP/1.1\r\nHost: a\r\nMax-Forwards: 1\r\n\r\n", &default_rw);
    cr_assert_not_null(strstr(o, "Max-Forwards: 0\r\n"), "%s", o);
    o = rewrite("GET / HTTP/1.1\r\nHost: a\r\nMax-Forwards: 5\r\n\r\n", &default_rw);
    cr_assert_not_null(strstr(o, "Max-Forwards: 5\r\n"), "%s", o);
}

Test(http_rewrite, expect_from_http10_not_forwarded)
{
    const char *o = rewrite("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n",
                            &default_rw);

    cr_assert_null(strstr(o, "Expect"), "%s", o);
    o = rewrite("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n",
                &default_rw);
    cr_assert_not_null(strstr(o, "Expect: 100-continue\r\n"), "%s", o);
}

Test(http_reply, trace_echo_hides_credentials)
{
    const char *req = "TRACE /t HTTP/1.1\r\nHost: a\r\nCookie: s=1\r\nX-A: 1\r\n"
                      "Authorization: Basic x\r\nMax-Forwards: 0\r\n\r\n";
    const char *echo = "TRACE /t HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nMax-Forwards: 0\r\n\r\n";
    char expect[512];
    size_t n;

    cr_assert_eq(parse_req(req), HTTP_HEAD_DONE);
    n = http_write_trace(&head, "id", HTTP_CONN_NONE, out, sizeof(out));
    cr_assert_gt(n, 0);
    n = without_date(out, n);
    snprintf(expect, sizeof(expect),
             "HTTP/1.1 200 OK\r\nContent-Type: message/http\r\nContent-Length: %zu\r\n"
             "X-Request-Id: id\r\n\r\n%s",
             strlen(echo), echo);
    cr_assert_eq(n, strlen(expect), "%.*s", (int)n, out);
    cr_assert(memcmp(out, expect, n) == 0, "%.*s", (int)n, out);
    /* Too small a buffer: 0, never a cut echo. */
    cr_assert_eq(http_write_trace(&head, "id", HTTP_CONN_NONE, out, 520), 0);
}

Test(http_response, no_framing_headers_on_204_and_no_trailer_when_dechunked)
{
    struct http_response_rewrite rw = {NULL, 0, HTTP_CONN_NONE, false, false, false, NULL};
    size_t n;

    cr_assert_eq(parse_resp("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nX-A: 1\r\n\r\n"),
                 HTTP_HEAD_DONE);
    n = http_write_response(&head, &rw, out, sizeof(out) - 1);
    out[n] = '\0';
    cr_assert_str_eq(out, "HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n");
    cr_assert_eq(parse_resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n"),
                 HTTP_HEAD_DONE);
    n = http_write_response(&head, &rw, out, sizeof(out) - 1);
    out[n] = '\0';
    cr_assert_not_null(strstr(out, "Trailer: X-T\r\n"), "%s", out);
    rw.dechunk = true;
    n = http_write_response(&head, &rw, out, sizeof(out) - 1);
    out[n] = '\0';
    cr_assert_str_eq(out, "HTTP/1.1 200 OK\r\n\r\n");
}
