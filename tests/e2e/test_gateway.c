/* What RFC 9110 and RFC 9112 ask of a gateway beyond parsing requests:
 * 1xx to HTTP/1.0 clients, strict status lines, faulty response framing,
 * Via, Date, Max-Forwards, OPTIONS * and higher minor versions. Each test
 * puts a raw backend (fixed answer bytes, a log of what it read) behind
 * drover and checks the bytes a client gets. docs/rfc9110-9112.md names
 * these tests per row. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "tests/e2e/http11.h"

/* drover on *dp in front of one raw backend answering with answer. */
static struct e2e_proc *behind_raw(const char *answer, struct e2e_proc **raw, int *dp,
                                   const char *extra)
{
    int bp = e2e_free_port();

    *dp = e2e_free_port();
    *raw = e2e_raw_server("raw", bp, answer, strlen(answer));
    return e2e_drover(config(*dp, e2e_fmt("%sroutes:\n  - path: /\n    backends: [127.0.0.1:%d]\n",
                                          extra, bp)),
                      addr_of(*dp));
}

/* Everything the connection carries until drover closes it. */
static char *read_all(struct client *c, size_t *len)
{
    static char buf[16384];

    *len = client_read_raw(c, buf, sizeof(buf) - 1, 3000);
    buf[*len] = '\0';
    return buf;
}

/* RFC 9110 15.2: a server MUST NOT send a 1xx to an HTTP/1.0 client; the
 * request goes up as HTTP/1.1, so drover filters what comes back. */
E2E_TEST(interim_responses_never_reach_an_http10_client, 30)
{
    static const char answer[] = "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
                                 "HTTP/1.1 100 Continue\r\n\r\n"
                                 "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok";
    struct e2e_proc *raw, *d;
    int dp;
    struct client *c;
    struct http_resp r;
    size_t n;
    char *got;

    d = behind_raw(answer, &raw, &dp, "");
    c = client_open(addr_of(dp));
    client_send_str(c, "GET / HTTP/1.0\r\n\r\n");
    got = read_all(c, &n);
    ASSERT(strncmp(got, "HTTP/1.1 200 OK\r\n", 17) == 0, "HTTP/1.0 client got: %s", first_line(got));
    ASSERT(strstr(got, " 103 ") == NULL && strstr(got, " 100 ") == NULL, "a 1xx reached it: %s", got);
    ASSERT(n >= 2 && memcmp(got + n - 2, "ok", 2) == 0, "body lost: %s", got);
    client_close(c);
    /* An HTTP/1.1 client still gets the 103 first. */
    c = client_open(addr_of(dp));
    client_send_str(c, GET_OK);
    ASSERT(client_read_any(c, &r, false, 3000) == 0, "no response");
    ASSERT(r.status == 103, "HTTP/1.1 client: first response %d", r.status);
    ASSERT(resp_header(&r, "Link") != NULL, "103 without its Link");
    resp_free(&r);
    ASSERT(client_read(c, &r, false, 3000) == 0 && r.status == 200, "final: %d", r.status);
    resp_free(&r);
    client_close(c);
    e2e_drover_stop(d);
}

/* RFC 9112 4: a status code is three digits; an HTTP/1.1 connection
 * carries HTTP/1.x. Each is a 502, never relabelled and forwarded. */
E2E_TEST(strict_status_lines_502, 30)
{
    static const char *const bad[] = {
        "HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/2.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
        "HTTP/1.1 0200 OK\r\nContent-Length: 2\r\n\r\nok",
        "HTTP/1.1 099 Low\r\nContent-Length: 2\r\n\r\nok",
    };

    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        struct e2e_proc *raw, *d;
        struct http_resp r;
        int dp;

        d = behind_raw(bad[k], &raw, &dp, "");
        http_exchange(addr_of(dp), GET_OK, &r, 3000);
        ASSERT(r.status == 502, "backend line %s: client got %d %s", first_line(bad[k]), r.status,
               first_line(r.body));
        resp_free(&r);
        e2e_drover_stop(d);
        e2e_stop(raw, SIGTERM, 2000);
    }
}

/* RFC 9112 6.1: Transfer-Encoding in an HTTP/1.0 message is faulty
 * framing; the response is forwarded but its connection is not reused
 * (the raw backend answers once per connection: a reused one would leave
 * the second request unanswered). */
E2E_TEST(http10_response_with_transfer_encoding_closes_upstream, 30)
{
    static const char answer[] = "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n"
                                 "Connection: keep-alive\r\n\r\n2\r\nok\r\n0\r\n\r\n";
    struct e2e_proc *raw, *d;
    int dp;

    d = behind_raw(answer, &raw, &dp, "timeouts:\n  upstream: 5s\n");
    for (int i = 0; i < 2; i++) {
        struct client *c = client_open(addr_of(dp));
        struct http_resp r;

        client_send_str(c, GET_OK);
        ASSERT(client_read(c, &r, false, 2000) == 0,
               "request %d: no response within 2s (a reused upstream connection?)", i + 1);
        ASSERT(r.status == 200 && r.body_len == 2 && memcmp(r.body, "ok", 2) == 0,
               "request %d: %d %s", i + 1, r.status, r.body);
        resp_free(&r);
        client_close(c);
    }
    ASSERT(e2e_raw_server_conns(raw) == 2, "%d upstream connections for 2 requests",
           e2e_raw_server_conns(raw));
    e2e_drover_stop(d);
}

/* RFC 9110 7.6.3: Via on every inbound request, with the protocol it was
 * received in; 6.6.1: Date added to a response that has none. */
E2E_TEST(via_inbound_and_date_outbound, 30)
{
    struct e2e_proc *raw, *raw2, *d, *d2;
    int dp, dp2;
    struct http_resp r;
    const char *date;

    /* Connection: close, for a fresh upstream connection (and answer) each. */
    d = behind_raw("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", &raw,
                   &dp, "");
    http_exchange(addr_of(dp), "GET / HTTP/1.1\r\nHost: t\r\nVia: 1.1 edge\r\n\r\n", &r, 3000);
    ASSERT(r.status == 200, "got %d", r.status);
    date = resp_header(&r, "Date");
    ASSERT(date != NULL && strlen(date) == 29 && strcmp(date + 25, " GMT") == 0,
           "Date missing or not an IMF-fixdate: %s", date != NULL ? date : "(none)");
    resp_free(&r);
    e2e_wait_log(raw, "Via: 1.1 edge\\r\\nX-Forwarded-For", 3000);
    e2e_wait_log(raw, "Via: 1.1 drover\\r\\n", 3000);
    http_exchange(addr_of(dp), "GET / HTTP/1.0\r\n\r\n", &r, 3000);
    resp_free(&r);
    e2e_wait_log(raw, "Via: 1.0 drover\\r\\n", 3000);
    /* drover's own answers carry one too. */
    http_exchange(addr_of(dp), "GET / HTTP/1.1\r\n\r\n", &r, 3000);
    ASSERT(r.status == 400 && resp_header(&r, "Date") != NULL, "own 400: %d, Date %s", r.status,
           resp_header(&r, "Date") != NULL ? "present" : "missing");
    resp_free(&r);
    e2e_drover_stop(d);

    /* A backend's own Date is kept, and not doubled. */
    d2 = behind_raw("HTTP/1.1 200 OK\r\nDate: Tue, 01 Dec 2026 10:00:00 GMT\r\nContent-Length: 0\r\n\r\n",
                    &raw2, &dp2, "");
    http_exchange(addr_of(dp2), GET_OK, &r, 3000);
    ASSERT(resp_header_count(&r, "Date") == 1, "%u Date headers", resp_header_count(&r, "Date"));
    ASSERT(strcmp(resp_header(&r, "Date"), "Tue, 01 Dec 2026 10:00:00 GMT") == 0, "Date %s",
           resp_header(&r, "Date"));
    resp_free(&r);
    e2e_drover_stop(d2);
}

/* RFC 9110 7.6.2: OPTIONS and TRACE with Max-Forwards 0 are answered by
 * drover as their final recipient; above 0 the value goes up decremented. */
E2E_TEST(max_forwards_answered_at_zero_and_decremented, 30)
{
    struct e2e_proc *raw, *d;
    int dp;
    struct http_resp r;

    d = behind_raw("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", &raw, &dp, "");
    http_exchange(addr_of(dp), "OPTIONS * HTTP/1.1\r\nHost: t\r\nMax-Forwards: 0\r\n\r\n", &r, 3000);
    ASSERT(r.status == 200, "OPTIONS at 0: %d %s", r.status, first_line(r.body));
    ASSERT(resp_header(&r, "Allow") != NULL && strstr(resp_header(&r, "Allow"), "GET") != NULL,
           "no Allow");
    ASSERT(r.body_len == 0 && resp_header(&r, "Content-Length") != NULL &&
               strcmp(resp_header(&r, "Content-Length"), "0") == 0,
           "OPTIONS answer without Content-Length: 0 (%zu body bytes)", r.body_len);
    resp_free(&r);
    http_exchange(addr_of(dp),
                  "TRACE /t HTTP/1.1\r\nHost: t\r\nMax-Forwards: 0\r\nCookie: secret=1\r\n"
                  "X-Mark: m1\r\n\r\n",
                  &r, 3000);
    ASSERT(r.status == 200, "TRACE at 0: %d", r.status);
    ASSERT(strcmp(resp_header(&r, "Content-Type"), "message/http") == 0, "type %s",
           resp_header(&r, "Content-Type"));
    ASSERT(strncmp(r.body, "TRACE /t HTTP/1.1\r\n", 19) == 0 && strstr(r.body, "X-Mark: m1\r\n") != NULL,
           "echo: %s", r.body);
    ASSERT(strstr(r.body, "secret") == NULL, "the echo carried the cookie: %s", r.body);
    resp_free(&r);
    ASSERT(e2e_raw_server_conns(raw) == 0, "a request at Max-Forwards 0 reached the backend");
    http_exchange(addr_of(dp), "OPTIONS /x HTTP/1.1\r\nHost: t\r\nMax-Forwards: 5\r\n\r\n", &r, 3000);
    ASSERT(r.status == 200 && r.body_len == 2, "OPTIONS at 5: %d", r.status);
    resp_free(&r);
    e2e_wait_log(raw, "Max-Forwards: 4\\r\\n", 3000);
    e2e_drover_stop(d);
}

/* RFC 9112 3.2.4: the asterisk form is served, by the route of "/", and
 * goes up as it came. */
E2E_TEST(options_asterisk_reaches_the_root_route, 30)
{
    struct e2e_proc *raw, *d;
    int dp;
    struct http_resp r;

    d = behind_raw("HTTP/1.1 204 No Content\r\nAllow: GET, POST\r\n\r\n", &raw, &dp, "");
    http_exchange(addr_of(dp), "OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n", &r, 3000);
    ASSERT(r.status == 204, "OPTIONS *: %d %s", r.status, first_line(r.body));
    ASSERT(resp_header(&r, "Allow") != NULL && strcmp(resp_header(&r, "Allow"), "GET, POST") == 0,
           "not the backend's answer");
    resp_free(&r);
    e2e_wait_log(raw, "OPTIONS * HTTP/1.1\\r\\n", 3000);
    e2e_drover_stop(d);
}

/* RFC 9112 2.3: HTTP/1.2 is read as the highest 1.x drover speaks. */
E2E_TEST(higher_minor_version_served_as_http11, 30)
{
    int bp, dp;
    struct e2e_proc *d = one_backend(&bp, &dp, "");
    struct client *c = client_open(addr_of(dp));
    struct http_resp r;

    client_send_str(c, "GET / HTTP/1.2\r\nHost: t\r\n\r\n");
    ASSERT(client_read(c, &r, false, 3000) == 0, "no response");
    ASSERT(r.status == 200 && r.major == 1 && r.minor == 1, "HTTP/1.2: %d HTTP/%d.%d", r.status,
           r.major, r.minor);
    ASSERT(r.keep_alive, "not kept alive like HTTP/1.1");
    resp_free(&r);
    get_ok(c, "after it, on the same connection", 2000);
    client_close(c);
    e2e_drover_stop(d);
}

/* RFC 9112 6.3: bytes after a complete response are not a response. A
 * backend that answers past its Content-Length must never have the excess
 * read as the answer to the next request (response splitting). */
E2E_TEST(extra_bytes_after_a_response_are_never_forwarded, 30)
{
    static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                                 "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil";
    struct e2e_proc *raw, *d;
    int dp;
    struct client *c;
    struct http_resp r;

    d = behind_raw(answer, &raw, &dp, "timeouts:\n  upstream: 1s\n");
    c = client_open(addr_of(dp));
    for (int i = 0; i < 2; i++) {
        client_send_str(c, GET_OK);
        ASSERT(client_read(c, &r, false, 3000) == 0, "request %d: no response", i + 1);
        ASSERT(strstr(r.body, "evil") == NULL, "request %d got the excess bytes: %d %s", i + 1,
               r.status, r.body);
        ASSERT(i == 1 || (r.status == 200 && strcmp(r.body, "ok") == 0), "first: %d %s", r.status,
               r.body);
        resp_free(&r);
    }
    client_close(c);
    ASSERT(e2e_raw_server_conns(raw) == 2, "the upstream connection with excess bytes was reused");
    e2e_drover_stop(d);
}

/* A backend may answer before the request body is all there (an early
 * 413). The answer is forwarded, and since the rest of the body will not
 * be read, the client connection closes after it (RFC 9112 9.3). */
E2E_TEST(response_before_the_request_body_closes_the_connection, 30)
{
    struct e2e_proc *raw, *d;
    int dp;
    struct client *c;
    struct http_resp r;

    d = behind_raw("HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\n\r\n", &raw, &dp, "");
    c = client_open(addr_of(dp));
    client_send_str(c, "POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\n0123456789");
    ASSERT(client_read(c, &r, false, 3000) == 0, "the early answer was not forwarded");
    ASSERT(r.status == 413, "got %d", r.status);
    ASSERT(!r.keep_alive, "the early answer promised keep-alive with the body still unread");
    resp_free(&r);
    ASSERT(client_wait_closed(c, 3000), "the connection stayed open with the body unread");
    client_close(c);
    e2e_drover_stop(d);
}

/* RFC 9112 9.6: after a request with Connection: close, a pipelined
 * request behind it is not processed. */
E2E_TEST(connection_close_ends_the_pipeline, 30)
{
    int bp, dp;
    struct e2e_proc *d = one_backend(&bp, &dp, "");
    struct client *c = client_open(addr_of(dp));
    struct http_resp r;

    client_send_str(c, "GET /?n=1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
                       "GET /?n=2 HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT(client_read(c, &r, false, 3000) == 0 && r.status == 200, "first: %d", r.status);
    ASSERT(resp_header(&r, "Connection") != NULL &&
               strcmp(resp_header(&r, "Connection"), "close") == 0,
           "no Connection: close in the last answer");
    resp_free(&r);
    ASSERT(client_wait_closed(c, 3000), "a second answer came, or the connection stayed open");
    client_close(c);
    e2e_drover_stop(d);
}

/* RFC 9110 8.6 and RFC 9112 6.1: a 204 carries no Content-Length or
 * Transfer-Encoding, whatever the backend sent; 9.1: an unknown method is
 * 501; 7.8: an Upgrade from HTTP/1.0 is ignored (no tunnel). */
E2E_TEST(no_framing_on_204_unknown_method_501_upgrade_10_ignored, 30)
{
    struct e2e_proc *raw, *d;
    int dp;
    struct http_resp r;
    char *got;
    size_t n;
    struct client *c;

    d = behind_raw("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", &raw,
                   &dp, "");
    http_exchange(addr_of(dp), GET_OK, &r, 3000);
    ASSERT(r.status == 204, "got %d", r.status);
    ASSERT(resp_header(&r, "Content-Length") == NULL, "204 with Content-Length");
    resp_free(&r);
    http_exchange(addr_of(dp), "BREW /pot HTTP/1.1\r\nHost: t\r\n\r\n", &r, 3000);
    ASSERT(r.status == 501, "unknown method: %d", r.status);
    resp_free(&r);
    c = client_open(addr_of(dp));
    client_send_str(c, "GET /ws HTTP/1.0\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
    got = read_all(c, &n);
    ASSERT(strncmp(got, "HTTP/1.1 204", 12) == 0, "HTTP/1.0 upgrade: %s", first_line(got));
    client_close(c);
    e2e_wait_log(raw, "GET /ws HTTP/1.1\\r\\nHost: \\r\\nX-Forwarded-For", 3000);
    ASSERT(strstr(e2e_log_of(raw), "Upgrade: websocket") == NULL, "Upgrade forwarded from HTTP/1.0");
    e2e_drover_stop(d);
}

/* RFC 9110 9.3.6: CONNECT asks for a tunnel to anywhere; a reverse proxy
 * refuses it (405) and never opens one. The asterisk form is OPTIONS's. */
E2E_TEST(connect_refused_and_asterisk_only_for_options, 30)
{
    struct e2e_proc *raw, *d;
    int dp;
    struct client *c;
    struct http_resp r;

    d = behind_raw("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", &raw, &dp, "");
    c = client_open(addr_of(dp));
    client_send_str(c, "CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n");
    ASSERT(client_read(c, &r, false, 3000) == 0, "no answer to CONNECT");
    ASSERT(r.status == 405, "CONNECT: %d", r.status);
    resp_free(&r);
    ASSERT(client_wait_closed(c, 3000), "the connection stayed open after CONNECT");
    client_close(c);
    http_exchange(addr_of(dp), "GET * HTTP/1.1\r\nHost: t\r\n\r\n", &r, 3000);
    ASSERT(r.status == 400, "GET *: %d", r.status);
    resp_free(&r);
    ASSERT(e2e_raw_server_conns(raw) == 0, "a refused request reached the backend");
    e2e_drover_stop(d);
}
