/* Request and response heads: parsing, strictness, ids (router/http.c). */
#include <limits.h>

#include "tests/unit/router/http_test.h"

Test(http_parse, simple_get)
{
    const char *s = "GET /a/b?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n\r\n";
    size_t len;
    const char *v;

    cr_assert_eq(parse_req(s), HTTP_HEAD_DONE);
    cr_assert_eq(head.len, strlen(s));
    cr_assert_eq(head.method, HTTP_GET);
    cr_assert_eq(head.major, 1);
    cr_assert_eq(head.minor, 1);
    cr_assert_eq(head.nhdr, 2);
    cr_assert_eq(head.target.len, strlen("/a/b?x=1"));
    cr_assert(memcmp(http_str(&head, head.target), "/a/b?x=1", 8) == 0);
    v = http_header_value(&head, H_HOST, &len);
    cr_assert_not_null(v);
    cr_assert_eq(len, 11);
    cr_assert(memcmp(v, "example.com", 11) == 0);
    cr_assert_null(http_header_value(&head, H_REFERER, &len));
}

Test(http_parse, incomplete_head_needs_more)
{
    cr_assert_eq(parse_req("GET / HTTP/1.1\r\nHost: a\r\n"), HTTP_HEAD_AGAIN);
    cr_assert_eq(parse_req("GET / HT"), HTTP_HEAD_AGAIN);
}

Test(http_parse, head_ends_before_body_and_pipelined_bytes)
{
    const char *s = "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\n";
    const char *body;
    bool done;
    long n;

    cr_assert_eq(parse_req(s), HTTP_HEAD_DONE);
    body = s + head.len;
    cr_assert(strncmp(body, "hello", 5) == 0);
    llhttp_resume(&parser);
    http_body_init(&parser, &body_state, 0);
    n = http_parse_body(&parser, body, strlen(body), &done);
    cr_assert_eq(n, 5, "body length %ld", n);
    cr_assert(done);
}

Test(http_parse, connection_tokens)
{
    cr_assert_eq(parse_req("GET / HTTP/1.1\r\nHost: a\r\nConnection: Keep-Alive, X-Secret , close\r\n"
                           "X-Secret: 1\r\nX-Other: 2\r\n\r\n"),
                 HTTP_HEAD_DONE);
    cr_assert(head.conn_close);
    cr_assert(head.conn_keep_alive);
    cr_assert(!head.conn_upgrade);
    cr_assert(head.hdr[2].drop, "X-Secret is named in Connection");
    cr_assert(!head.hdr[3].drop);
}

Test(http_parse, rejects)
{
    struct {
        const char *req;
        int status;
    } cases[] = {
        {"GET / HTTP/1.1\r\n\r\n", 400},                                   /* no Host */
        {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},             /* two Hosts */
        {"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505},
        {"BREW / HTTP/1.1\r\nHost: a\r\n\r\n", 501},                       /* RFC 9110 9.1 */
        {"GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
        {"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n", 400},
        {"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400},              /* TLS ClientHello */
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int r = http_parse_head(&parser, HTTP_REQUEST, &head, cases[i].req, strlen(cases[i].req));

        cr_assert_eq(r, HTTP_HEAD_BAD, "case %zu should be rejected", i);
        cr_assert_eq(head.err_status, cases[i].status, "case %zu: status %d, want %d (%s)", i,
                     head.err_status, cases[i].status, head.err_reason);
        cr_assert_not_null(head.err_reason);
    }
}

Test(http_parse, too_many_headers_is_431)
{
    char req[HTTP_MAX_HEADERS * 16 + 64];
    size_t n = (size_t)sprintf(req, "GET / HTTP/1.1\r\nHost: a\r\n");

    for (int i = 0; i < HTTP_MAX_HEADERS; i++)
        n += (size_t)sprintf(req + n, "X-%d: v\r\n", i);
    strcpy(req + n, "\r\n");
    cr_assert_eq(parse_req(req), HTTP_HEAD_BAD);
    cr_assert_eq(head.err_status, 431);
}

Test(http_parse, http10_without_host_is_fine)
{
    cr_assert_eq(parse_req("GET / HTTP/1.0\r\n\r\n"), HTTP_HEAD_DONE);
    cr_assert_eq(head.minor, 0);
}

Test(http_response, invalid_response_is_bad)
{
    cr_assert_eq(parse_resp("HTTX/1.1 200 OK\r\n\r\n"), HTTP_HEAD_BAD);
    cr_assert_eq(parse_resp("HTTP/1.1 2000 OK\r\n\r\n"), HTTP_HEAD_BAD);
}

Test(http_request_id, sanity)
{
    char big[200];

    memset(big, 'a', sizeof(big));
    cr_assert(http_request_id_sane("abc-123_x.y:z+/=~", 17));
    cr_assert(!http_request_id_sane("", 0));
    cr_assert(!http_request_id_sane("has space", 9));
    cr_assert(!http_request_id_sane("quo\"te", 6));
    cr_assert(http_request_id_sane(big, 128));
    cr_assert(!http_request_id_sane(big, 129));
}

Test(http_request_id, generated_ids_are_hex_and_differ)
{
    uint64_t rng = 42;
    char a[33], b[33];

    http_request_id_generate(&rng, a);
    http_request_id_generate(&rng, b);
    cr_assert_eq(strlen(a), 32);
    cr_assert_eq(strspn(a, "0123456789abcdef"), 32);
    cr_assert_str_neq(a, b);
}

/* Request-smuggling defence: each vector and the answer drover gives. */
Test(http_parse, strictness_vectors)
{
    static const struct {
        const char *req;
        int status;
        const char *reason;
    } v[] = {
        {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
         "invalid or conflicting Content-Length"},
        {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", 400,
         "invalid or conflicting Content-Length"},
        {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", 400,
         "invalid or conflicting Content-Length"},
        {"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 400,
         "Transfer-Encoding does not end with chunked"},
        {"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400,
         "invalid Transfer-Encoding"},
        {"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
         400, "invalid Transfer-Encoding"},
        {"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: foo, chunked\r\n\r\n", 501,
         "unsupported Transfer-Encoding"},
        {"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n", 501,
         "unsupported Transfer-Encoding"},
        {"GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
         "Transfer-Encoding in an HTTP/1.0 request"},
        {"GET / HTTP/1.1\r\nHost: a\r\nX-A: a\r\n b\r\n\r\n", 400, "obsolete line folding in a header"},
        {"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400, "invalid header field"},
        {"GET / HTTP/1.1\r\nX@A: 1\r\nHost: a\r\n\r\n", 400, "invalid header field"},
        {"GET / HTTP/1.1\r\nHost: a\r\nX-A: a\rb\r\n\r\n", 400, "malformed line ending"},
        {"GET / HTTP/1.1\nHost: a\n\n", 400, "invalid header field"},
        {"GET / HTTP/1.1\nHo", 400, "line ending without CR (bare LF)"},
        {"GET / HTTP/1.1\r\nHost: a\r\nX-A: a\x01z\r\n\r\n", 400, "invalid header field"},
        {"GET / HTTP/1.1\r\n\r\n", 400, "missing Host header"},
        {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "more than one Host header"},
        {"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505, "only HTTP/1.0 and HTTP/1.1 are supported"},
        {"GET / HTTP/1.2\r\n\r\n", 400, "missing Host header"},
        {"OPTIONS * HTTP/1.1\r\nHost: a\r\nMax-Forwards: x1\r\n\r\n", 400, "invalid Max-Forwards"},
        {"TRACE / HTTP/1.1\r\nHost: a\r\nMax-Forwards: 1\r\nMax-Forwards: 2\r\n\r\n", 400,
         "invalid Max-Forwards"},
        {"\x16\x03\x01\x00\xa5\x01\x00", 400, "invalid method"},
        {"GET / HTTP/1.1\r\nHost: u@t\r\n\r\n", 400, "invalid Host header"},
        {"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400, "invalid Host header"},
        {"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 405,
         "CONNECT is not supported: drover is not a forward proxy"},
    };

    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        int r = parse_req(v[i].req);

        cr_assert_eq(r, HTTP_HEAD_BAD, "vector %zu accepted: %s", i, v[i].req);
        cr_assert_eq(head.err_status, v[i].status, "vector %zu: %d", i, head.err_status);
        cr_assert_str_eq(head.err_reason, v[i].reason, "vector %zu", i);
    }
}

Test(http_parse, accepted_codings_tabs_and_long_targets)
{
    char big[HTTP_MAX_TARGET + 64];

    cr_assert_eq(parse_req("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
                 HTTP_HEAD_DONE);
    cr_assert_eq(parse_req("GET / HTTP/1.1\r\nHost: a\r\nX-A: a\tb\r\n\r\n"), HTTP_HEAD_DONE);
    cr_assert_eq(parse_req("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n"), HTTP_HEAD_DONE);
    cr_assert_eq(parse_req("GET / HTTP/1.1\r\nHost: xn--bcher-kva.example:80\r\n\r\n"),
                 HTTP_HEAD_DONE);
    snprintf(big, sizeof(big), "GET /%0*d HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_MAX_TARGET, 0);
    cr_assert_eq(parse_req(big), HTTP_HEAD_BAD);
    cr_assert_eq(head.err_status, 414);
}

/* Found by fuzzing (fuzz/crashes/): each was a way for drover and the
 * other side to read one message two ways. */
Test(http_parse, fuzz_findings_are_refused)
{
    /* chunked with parameters: llhttp does not frame it as chunked. */
    cr_assert_eq(parse_req("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked;a\r\n\r\n"),
                 HTTP_HEAD_BAD);
    cr_assert_eq(head.err_status, 400);
    /* An absolute-form target's authority is checked like Host. */
    cr_assert_eq(parse_req("GET http://evil@x.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n"), HTTP_HEAD_BAD);
    cr_assert_str_eq(head.err_reason, "invalid authority in the request target");
    cr_assert_eq(parse_req("OPTIONS http://@ HTTP/1.1\r\nHost: x\r\n\r\n"), HTTP_HEAD_BAD);
    cr_assert_eq(parse_req("GET http://:1/a HTTP/1.1\r\nHost: a.test\r\n\r\n"), HTTP_HEAD_BAD);
    cr_assert_eq(parse_req("GET http://a.test:8080/a HTTP/1.1\r\nHost: a.test\r\n\r\n"), HTTP_HEAD_DONE);
    /* Host is uri-host [":" port]. */
    cr_assert_eq(parse_req("GET / HTTP/1.1\r\nHost: a.test:abc\r\n\r\n"), HTTP_HEAD_BAD);
    cr_assert_eq(parse_req("GET / HTTP/1.1\r\nHost: a.test:1:2\r\n\r\n"), HTTP_HEAD_BAD);
    cr_assert_eq(parse_req("GET / HTTP/1.1\r\nHost: [::1\r\n\r\n"), HTTP_HEAD_BAD);
    cr_assert_eq(parse_req("GET / HTTP/1.1\r\nHost: a.test:8080\r\n\r\n"), HTTP_HEAD_DONE);
    cr_assert_eq(parse_req("GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n"), HTTP_HEAD_DONE);
    cr_assert_eq(parse_req("GET / HTTP/1.1\r\nHost: \r\n\r\n"), HTTP_HEAD_DONE);
    /* A bare LF before the request line is refused, not skipped over. */
    cr_assert_eq(parse_req("\n\r\nGET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n"), HTTP_HEAD_BAD);
    /* Empty lines before the request line do not skip the header checks. */
    cr_assert_eq(parse_req("\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n"), HTTP_HEAD_BAD);
    cr_assert_str_eq(head.err_reason, "obsolete line folding in a header");
}

Test(http_response, obs_fold_and_empty_names_are_refused)
{
    cr_assert_eq(parse_resp("HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 2\r\n\r\nok"), HTTP_HEAD_BAD);
    cr_assert_eq(parse_resp("HTTP/1.1 200 OK\r\n: x\r\nContent-Length: 2\r\n\r\nok"), HTTP_HEAD_BAD);
    cr_assert_eq(parse_resp("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"), HTTP_HEAD_DONE);
}

static int parse_resp_n(const char *s, size_t n)
{
    return http_parse_head(&parser, HTTP_RESPONSE, &head, s, n);
}

/* The reason phrase goes back out as it came: NUL or a control byte in it
 * (llhttp 8.1 lets them through) is refused like a bad header byte. */
Test(http_response, control_bytes_in_the_reason_phrase_are_refused)
{
    static const char nul[] = "HTTP/1.1 304 Not\0Modified\r\nContent-Length: 0\r\n\r\n";

    cr_assert_eq(parse_resp_n(nul, sizeof(nul) - 1), HTTP_HEAD_BAD);
    cr_assert_str_eq(head.err_reason, "invalid byte in the reason phrase");
    cr_assert_eq(parse_resp("HTTP/1.1 200 O\x07K\r\nContent-Length: 0\r\n\r\n"), HTTP_HEAD_BAD);
    cr_assert_eq(parse_resp("HTTP/1.1 200 O\x7fK\r\nContent-Length: 0\r\n\r\n"), HTTP_HEAD_BAD);
    cr_assert_eq(parse_resp("HTTP/1.1 200 Fine \tby me \xc3\xa9\r\nContent-Length: 0\r\n\r\n"),
                 HTTP_HEAD_DONE);
    cr_assert_eq(parse_resp("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n"), HTTP_HEAD_DONE);
}

/* RFC 9112 2.3: a higher HTTP/1 minor version is read as HTTP/1.1. */
Test(http_parse, higher_minor_version_read_as_11)
{
    cr_assert_eq(parse_req("GET /a HTTP/1.2\r\nHost: h\r\n\r\n"), HTTP_HEAD_DONE, "%s", head.err_reason);
    cr_assert_eq(head.major, 1);
    cr_assert_eq(head.minor, 1);
    cr_assert_eq(head.len, strlen("GET /a HTTP/1.2\r\nHost: h\r\n\r\n"));
    cr_assert_eq(head.target.len, 2);
    cr_assert_eq(parse_req("GET /a HTTP/1.9\r\nHost: h\r\nX: 1\r\n\r\n"), HTTP_HEAD_DONE);
    cr_assert_eq(head.nhdr, 2);
    /* Incomplete, it waits like any other head, also when the request
     * line has not ended yet. */
    cr_assert_eq(parse_req("GET /a HTTP/1.2\r\nHost: h\r\n"), HTTP_HEAD_AGAIN);
    cr_assert_eq(parse_req("GET /a HTTP/1.2"), HTTP_HEAD_AGAIN);
    cr_assert_eq(parse_req("GET /a HTTP/1.2\r"), HTTP_HEAD_AGAIN);
    cr_assert_eq(parse_req("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), HTTP_HEAD_BAD);
    cr_assert_eq(head.err_status, 505);
}

/* RFC 9112 4: exactly three digits, HTTP/1.x only. */
Test(http_parse, strict_status_lines)
{
    const char *bad_lines[] = {
        "HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 0200 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 099 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n",
    };

    for (size_t i = 0; i < sizeof(bad_lines) / sizeof(bad_lines[0]); i++) {
        cr_assert_eq(parse_resp(bad_lines[i]), HTTP_HEAD_BAD, "accepted: %s", bad_lines[i]);
        cr_assert_geq(head.err_status, 400);
    }
    cr_assert_eq(parse_resp("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n"), HTTP_HEAD_DONE);
    cr_assert_eq(parse_resp("HTTP/1.0 599 X\r\nContent-Length: 0\r\n\r\n"), HTTP_HEAD_DONE);
    /* 600-999 are three digits: forwarded, for the client to read as 5xx. */
    cr_assert_eq(parse_resp("HTTP/1.1 999 X\r\nContent-Length: 0\r\n\r\n"), HTTP_HEAD_DONE);
    cr_assert_eq(parse_resp("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"), HTTP_HEAD_DONE);
}

Test(http_parse, max_forwards_values)
{
    cr_assert_eq(parse_req("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"), HTTP_HEAD_DONE);
    cr_assert_eq(http_max_forwards(&head), -1);
    cr_assert_eq(parse_req("OPTIONS * HTTP/1.1\r\nHost: a\r\nMax-Forwards:  0 \r\n\r\n"), HTTP_HEAD_DONE);
    cr_assert_eq(http_max_forwards(&head), 0);
    cr_assert_eq(parse_req("TRACE / HTTP/1.1\r\nHost: a\r\nMax-Forwards: 99999999999999\r\n\r\n"),
                 HTTP_HEAD_DONE);
    cr_assert_eq(http_max_forwards(&head), INT_MAX);
    /* Other methods do not count hops: a bad value is not theirs to check. */
    cr_assert_eq(parse_req("GET / HTTP/1.1\r\nHost: a\r\nMax-Forwards: x\r\n\r\n"), HTTP_HEAD_DONE);
    cr_assert_eq(http_max_forwards(&head), -2);
}

Test(http_parse, options_asterisk_routes_as_root)
{
    const char *path, *auth;
    size_t pl, al;

    cr_assert_eq(parse_req("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"), HTTP_HEAD_DONE);
    http_target_parts(&head, &path, &pl, &auth, &al);
    cr_assert_eq(pl, 1);
    cr_assert_eq(path[0], '/');
    cr_assert_null(auth);
}

/* RFC 9112 5.1 and 6.1, as a gateway reads them from a backend: a space
 * before the colon, Content-Length beside Transfer-Encoding, or a list of
 * lengths is a 502, never repaired and forwarded. */
Test(http_response, framing_conflicts_are_refused)
{
    cr_assert_eq(parse_resp("HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok"), HTTP_HEAD_BAD);
    cr_assert_eq(parse_resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n"),
                 HTTP_HEAD_BAD);
    cr_assert_eq(parse_resp("HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok"), HTTP_HEAD_BAD);
    cr_assert_eq(parse_resp("HTTP/1.1 200 OK\r\nX: a\x01z\r\nContent-Length: 2\r\n\r\nok"), HTTP_HEAD_BAD);
}

/* RFC 9112 2.2: whitespace between the request line and the first field
 * is rejected, not consumed. */
Test(http_parse, whitespace_before_the_first_field_is_refused)
{
    cr_assert_eq(parse_req("GET / HTTP/1.1\r\n Host: a\r\n\r\n"), HTTP_HEAD_BAD);
    cr_assert_eq(head.err_status, 400);
    cr_assert_eq(parse_req("GET / HTTP/1.1\r\n\tX: 1\r\nHost: a\r\n\r\n"), HTTP_HEAD_BAD);
}
