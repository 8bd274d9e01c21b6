/* Request and response bodies: framing kinds, chunked bodies in any
 * pieces, trailer sections (router/http_body.c). */
#include "tests/unit/router/http_test.h"

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
