/* router/http.c: head parsing, request/response rewriting, error answers. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "router/http.h"

static llhttp_t parser;
static struct http_head head;
static struct http_body body_state;

static int parse_req(const char *s)
{
    return http_parse_head(&parser, HTTP_REQUEST, &head, s, strlen(s));
}

static int parse_resp(const char *s)
{
    return http_parse_head(&parser, HTTP_RESPONSE, &head, s, strlen(s));
}

static const struct http_request_rewrite default_rw = {
    .client_ip = "10.1.2.3",
    .listen_port = 8080,
    .request_id = "rid-1",
    .request_id_len = 5,
    .start_ms = 1764000000123,
    .strip = 0,
    .host = "",
    .tunnel = false,
};

static char out[8192];

static const char *rewrite(const char *req, const struct http_request_rewrite *rw)
{
    size_t n;

    cr_assert_eq(parse_req(req), HTTP_HEAD_DONE, "parse failed: %s", head.err_reason);
    n = http_write_request(&head, rw, out, sizeof(out) - 1);
    cr_assert_gt(n, 0);
    out[n] = '\0';
    return out;
}

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

Test(http_parse, chunked_body_split_across_reads)
{
    const char *s = "POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
    const char *b1 = "5;ext=1\r\nhel";
    const char *b2 = "lo\r\n0\r\nX-Trailer: t\r\n\r\nNEXT";
    bool done;
    long n;

    cr_assert_eq(parse_req(s), HTTP_HEAD_DONE);
    cr_assert(parser.flags & F_CHUNKED);
    llhttp_resume(&parser);
    http_body_init(&parser, &body_state, 0);
    n = http_parse_body(&parser, b1, strlen(b1), &done);
    cr_assert_eq(n, (long)strlen(b1));
    cr_assert(!done);
    n = http_parse_body(&parser, b2, strlen(b2), &done);
    cr_assert(done);
    cr_assert_eq(n, (long)strlen(b2) - 4, "message should end before NEXT, got %ld", n);
    cr_assert_eq(body_state.bytes, 5);
}

Test(http_parse, bad_chunk_size_is_an_error)
{
    bool done;

    cr_assert_eq(parse_req("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"),
                 HTTP_HEAD_DONE);
    llhttp_resume(&parser);
    http_body_init(&parser, &body_state, 0);
    cr_assert_eq(http_parse_body(&parser, "zz\r\n", 4, &done), -1);
    cr_assert_eq(body_state.err_status, 400);
    cr_assert_str_eq(body_state.err_reason, "malformed chunked body");
}

/* A chunked body whose trailer section is `trailer`, parsed in pieces of
 * `step` bytes (0: at once) with a trailer limit of `max`. Returns what
 * http_parse_body returned last; *used the bytes of the message. */
static long parse_trailer(const char *trailer, size_t step, uint32_t max, long *used)
{
    static char body[4096];
    size_t len, pos = 0;
    bool done = false;
    long n = 0;

    cr_assert_eq(parse_req("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"),
                 HTTP_HEAD_DONE);
    llhttp_resume(&parser);
    http_body_init(&parser, &body_state, max);
    len = (size_t)snprintf(body, sizeof(body), "3;x=1\r\nabc\r\n0;y=2\r\n%sNEXT", trailer);
    while (pos < len && !done) {
        size_t piece = step == 0 || len - pos < step ? len - pos : step;

        n = http_parse_body(&parser, body + pos, piece, &done);
        if (n < 0)
            return n;
        pos += (size_t)n;
    }
    *used = (long)pos;
    return done ? n : -2;
}

Test(http_body, trailer_fields_pass_in_any_pieces)
{
    const char *t = "X-Checksum: abc\r\nX-Empty:\r\nX-Obs: caf\xc3\xa9 \t ok\r\n\r\n";
    size_t whole = strlen("3;x=1\r\nabc\r\n0;y=2\r\n") + strlen(t);
    long used;

    for (size_t step = 0; step <= 7; step++) {
        cr_assert_geq(parse_trailer(t, step, 0, &used), 0, "step %zu: %s", step,
                      body_state.err_reason);
        cr_assert_eq((size_t)used, whole, "step %zu: the message ends before NEXT", step);
        cr_assert_eq(body_state.bytes, 3);
        cr_assert_eq(body_state.trailer, TRAILER_DONE);
    }
    cr_assert_geq(parse_trailer("\r\n", 1, 0, &used), 0, "no trailer fields at all");
}

Test(http_body, malformed_trailer_fields_are_refused)
{
    static const struct {
        const char *trailer, *reason;
    } cases[] = {
        {"X-A: 1\r\n folded\r\n\r\n", "obsolete line folding in a trailer field"},
        {"X-A : 1\r\n\r\n", "whitespace before the colon of a trailer field"},
        {"X-A\t: 1\r\n\r\n", "whitespace before the colon of a trailer field"},
        {": 1\r\n\r\n", "invalid trailer field name"},
        {"X(A): 1\r\n\r\n", "invalid trailer field name"},
        {"X-A: 1\x01\r\n\r\n", "invalid byte in a trailer field"},
        {"X-A: 1\x7f\r\n\r\n", "invalid byte in a trailer field"},
        {"X-A: 1\rX-B: 2\r\n\r\n", "CR without LF in the trailer section"},
        {"Host: evil.example\r\n\r\n", "framing or routing field in the trailer section"},
        {"content-LENGTH: 0\r\n\r\n", "framing or routing field in the trailer section"},
        {"Transfer-Encoding: chunked\r\n\r\n", "framing or routing field in the trailer section"},
    };
    long used;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        for (size_t step = 0; step <= 3; step++) {
            cr_assert_eq(parse_trailer(cases[i].trailer, step, 0, &used), -1,
                         "case %zu step %zu accepted", i, step);
            cr_assert_eq(body_state.err_status, 400, "case %zu", i);
            cr_assert_str_eq(body_state.err_reason, cases[i].reason, "case %zu step %zu: %s", i,
                             step, body_state.err_reason);
        }
    /* Names that only start like a forbidden one are fine. */
    cr_assert_geq(parse_trailer("Hostname: a\r\nContent-Length-X: 1\r\n\r\n", 0, 0, &used), 0);
}

Test(http_body, trailer_section_limit)
{
    const char *t = "X-Big: 0123456789\r\n\r\n"; /* 21 bytes */
    long used;

    for (size_t step = 0; step <= 5; step++) {
        cr_assert_geq(parse_trailer(t, step, 21, &used), 0, "step %zu: exactly the limit", step);
        cr_assert_eq(parse_trailer(t, step, 20, &used), -1, "step %zu: one over", step);
        cr_assert_eq(body_state.err_status, 431);
        cr_assert_str_eq(body_state.err_reason,
                         "trailer section larger than limits.max_header_bytes");
    }
}

/* A de-chunked body (HTTP/1.0 client), parsed in pieces of every size the
 * way proxy.c does: after each parse the payload sits at [0, w) of what was
 * not yet sent, the framing and the trailer section are gone, and the bytes
 * after the message are left where the parser stopped. */
Test(http_body, dechunks_in_place_in_any_pieces)
{
    static const char msg[] = "3\r\nabc\r\n4;e=1\r\ndefg\r\n0\r\nX-T: 1\r\n\r\nHTTP/1.1";
    size_t mlen = sizeof(msg) - 1, body_len = mlen - strlen("HTTP/1.1");

    for (size_t step = 1; step <= mlen; step++) {
        char buf[sizeof(msg)], sent[sizeof(msg)];
        size_t in = 0, fed = 0, nsent = 0;
        bool done = false;

        cr_assert_eq(parse_resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
                     HTTP_HEAD_DONE);
        llhttp_resume(&parser);
        http_body_init(&parser, &body_state, 0);
        while (!done && fed < mlen) {
            size_t piece = mlen - fed < step ? mlen - fed : step, w;
            long n;

            memcpy(buf + in, msg + fed, piece); /* a read appends */
            in += piece;
            fed += piece;
            body_state.w = buf;
            n = http_parse_body(&parser, buf, in, &done);
            cr_assert_geq(n, 0, "step %zu: %s", step, body_state.err_reason);
            w = (size_t)(body_state.w - buf);
            cr_assert_leq(w, (size_t)n);
            memcpy(sent + nsent, buf, w); /* the payload, [0, w), is sent */
            nsent += w;
            memmove(buf, buf + n, in - (size_t)n);
            in -= (size_t)n;
        }
        cr_assert(done, "step %zu: the message did not end", step);
        cr_assert_eq(nsent, 7, "step %zu: %zu payload bytes", step, nsent);
        cr_assert(memcmp(sent, "abcdefg", 7) == 0, "step %zu", step);
        cr_assert_eq(body_state.bytes, 7);
        cr_assert_eq(in, fed - body_len, "step %zu: the next message's bytes stay", step);
        cr_assert(memcmp(buf, msg + body_len, in) == 0, "step %zu", step);
    }
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
        {"BREW / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
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

Test(http_response, invalid_response_is_bad)
{
    cr_assert_eq(parse_resp("HTTX/1.1 200 OK\r\n\r\n"), HTTP_HEAD_BAD);
    cr_assert_eq(parse_resp("HTTP/1.1 2000 OK\r\n\r\n"), HTTP_HEAD_BAD);
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
        {"GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505, "only HTTP/1.0 and HTTP/1.1 are supported"},
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

Test(http_body, kinds_of_framing)
{
    cr_assert_eq(parse_req("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), HTTP_HEAD_DONE);
    cr_assert_eq(http_request_body_kind(&parser), BODY_NONE);
    cr_assert_eq(parse_req("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"), HTTP_HEAD_DONE);
    cr_assert_eq(http_request_body_kind(&parser), BODY_NONE);
    cr_assert_eq(parse_req("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n"), HTTP_HEAD_DONE);
    cr_assert_eq(http_request_body_kind(&parser), BODY_LENGTH);
    cr_assert_eq(parse_req("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"),
                 HTTP_HEAD_DONE);
    cr_assert_eq(http_request_body_kind(&parser), BODY_CHUNKED);

    cr_assert_eq(parse_resp("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n"), HTTP_HEAD_DONE);
    cr_assert_eq(http_response_body_kind(&parser, false, 200), BODY_LENGTH);
    cr_assert_eq(http_response_body_kind(&parser, true, 200), BODY_NONE, "a HEAD request");
    cr_assert_eq(http_response_body_kind(&parser, false, 304), BODY_NONE);
    cr_assert_eq(parse_resp("HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\n"), HTTP_HEAD_DONE);
    cr_assert_eq(http_response_body_kind(&parser, false, 204), BODY_NONE);
    cr_assert_eq(parse_resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), HTTP_HEAD_DONE);
    cr_assert_eq(http_response_body_kind(&parser, false, 200), BODY_CHUNKED);
    cr_assert_eq(parse_resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"), HTTP_HEAD_DONE);
    cr_assert_eq(http_response_body_kind(&parser, false, 200), BODY_EOF, "not chunked: to the close");
    cr_assert_eq(parse_resp("HTTP/1.1 200 OK\r\nX: y\r\n\r\n"), HTTP_HEAD_DONE);
    cr_assert_eq(http_response_body_kind(&parser, false, 200), BODY_EOF, "no length: to the close");
}
