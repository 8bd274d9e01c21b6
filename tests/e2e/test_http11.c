/* HTTP/1.1 conformance and hardening through drover: strict request parsing
 * (smuggling vectors), framing both ways, tunnels, back-pressure
 * (test_limits.c has the slow clients, limits, races and workers). */
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tests/e2e/http11.h"

/* ---- malformed requests: drover answers itself, closes, others go on ---- */

struct vec {
    const char *name;
    const char *bytes;
    size_t len;
    int status;
    const char *reason; /* when set, drover's answer must say this */
};

#define V(name, lit, status) {name, lit, sizeof(lit) - 1, status, NULL}
#define VR(name, lit, status, reason) {name, lit, sizeof(lit) - 1, status, reason}

/* Sends one bad request on a new connection. NULL when drover answered it
 * itself (no X-Backend, an X-Request-Id) with status (and reason, when not
 * NULL, in the body) within timeout_ms and closed the connection, and a
 * connection opened before it was still served; otherwise what went wrong. */
static char *reject_check(const char *dp, const void *bytes, size_t len, int status,
                          const char *reason, int timeout_ms)
{
    struct client *good = client_open(dp), *bad = client_open(dp);
    struct http_resp r;
    char *why = NULL;
    long long t0 = e2e_now_ms();

    client_send_try(bad, bytes, len); /* drover may close before taking it all */
    if (client_read(bad, &r, false, timeout_ms) < 0) {
        why = e2e_fmt("no complete response within %dms%s", timeout_ms,
                      bad->eof ? " (connection closed)" : "");
        resp_free(&r);
    } else {
        if (r.status != status)
            why = e2e_fmt("got %d (%s%s), want %d", r.status,
                          resp_header(&r, "X-Backend") ? "from the backend: " : "",
                          first_line(r.body), status);
        else if (resp_header(&r, "X-Backend") != NULL)
            why = e2e_fmt("the %d came from the backend, not drover", status);
        else if (resp_header(&r, "X-Request-Id") == NULL)
            why = e2e_fmt("drover's %d has no X-Request-Id", status);
        else if (reason != NULL && (r.body == NULL || strstr(r.body, reason) == NULL))
            why = e2e_fmt("drover's %d says \"%s\", not \"%s\"", status, first_line(r.body),
                          reason);
        else if (!client_wait_closed(bad, 1000))
            why = e2e_fmt("connection left open after the %d", status);
        resp_free(&r);
    }
    if (why == NULL)
        e2e_log("ok after %lldms", e2e_now_ms() - t0);
    client_send_try(good, GET_OK, strlen(GET_OK));
    if (client_read(good, &r, false, 2000) < 0 || r.status != 200)
        why = e2e_fmt("%s%sa connection opened before it was not served afterwards (%d)",
                      why != NULL ? why : "", why != NULL ? "; and " : "", r.status);
    resp_free(&r);
    client_close(bad);
    client_close(good);
    return why;
}

/* Every vector is tried; the test fails naming each one that failed. */
static void run_vectors(const char *dp, const struct vec *v, size_t n, int timeout_ms)
{
    char *first = NULL;
    int failed = 0;

    for (size_t i = 0; i < n; i++) {
        char *why;

        e2e_log("vector %s (want %d)", v[i].name, v[i].status);
        why = reject_check(dp, v[i].bytes, v[i].len, v[i].status, v[i].reason, timeout_ms);
        if (why != NULL) {
            e2e_log("  FAILED: %s: %s", v[i].name, why);
            if (first == NULL)
                first = e2e_fmt("%s: %s", v[i].name, why);
            failed++;
        }
    }
    ASSERT(failed == 0, "%d of %zu vectors failed; first: %s", failed, n, first);
}

static void vectors_test(const char *extra, const struct vec *v, size_t n, int timeout_ms)
{
    int bp, dp;
    struct e2e_proc *d = one_backend(&bp, &dp, extra);

    run_vectors(addr_of(dp), v, n, timeout_ms);
    e2e_drover_stop(d);
}


E2E_TEST(strict_content_length_400, 30)
{
    static const struct vec v[] = {
        V("CL then TE chunked", POST_HEAD "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                                          "0\r\n\r\n",
          400),
        V("TE chunked then CL", POST_HEAD "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"
                                          "0\r\n\r\n",
          400),
        V("two CL, same value",
          POST_HEAD "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello", 400),
        V("two CL, different values",
          POST_HEAD "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400),
        V("CL 1, 1", POST_HEAD "Content-Length: 1, 1\r\n\r\nh", 400),
        V("CL +5", POST_HEAD "Content-Length: +5\r\n\r\nhello", 400),
        V("CL -1", POST_HEAD "Content-Length: -1\r\n\r\nhello", 400),
        V("CL 5 5", POST_HEAD "Content-Length: 5 5\r\n\r\nhello", 400),
        V("CL 0x5", POST_HEAD "Content-Length: 0x5\r\n\r\nhello", 400),
        V("CL empty", POST_HEAD "Content-Length: \r\n\r\nhello", 400),
    };

    vectors_test("", v, sizeof(v) / sizeof(v[0]), 2000);
}

E2E_TEST(strict_transfer_encoding_400_501, 30)
{
    static const struct vec v[] = {
        V("TE gzip", POST_HEAD "Transfer-Encoding: gzip\r\n\r\nhello", 400),
        V("TE chunked, gzip", POST_HEAD "Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", 400),
        V("TE chunked, chunked",
          POST_HEAD "Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400),
        V("two TE chunked headers",
          POST_HEAD "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
          400),
        V("TE foo, chunked", POST_HEAD "Transfer-Encoding: foo, chunked\r\n\r\n0\r\n\r\n", 501),
        V("TE xchunked", POST_HEAD "Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", 501),
        V("TE chunked in HTTP/1.0",
          "POST /?sum=1 HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    };

    vectors_test("", v, sizeof(v) / sizeof(v[0]), 2000);
}

/* gzip then chunked is a valid list: drover frames it by its final chunked
 * coding and the backend gets it. */
E2E_TEST(transfer_encoding_gzip_chunked_forwarded, 30)
{
    int bp, dp;
    struct e2e_proc *d = one_backend(&bp, &dp, "");
    struct http_resp r;
    struct client *c = client_open(addr_of(dp));

    client_send_str(c, POST_HEAD "Transfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    ASSERT(client_read(c, &r, false, 3000) == 0, "no response");
    ASSERT(resp_header(&r, "X-Backend") != NULL, "drover answered %d itself: %s", r.status,
           first_line(r.body));
    ASSERT(r.status == 200, "backend answered %d: %s", r.status, first_line(r.body));
    ASSERT(strncmp(r.body, "bytes=5 ", 8) == 0, "body %s", r.body);
    resp_free(&r);
    get_ok(c, "next request on the same connection", 2000);
    client_close(c);
    e2e_drover_stop(d);
}

#define GET_HEAD "GET / HTTP/1.1\r\nHost: t\r\n"

E2E_TEST(strict_header_syntax_400, 30)
{
    static const struct vec v[] = {
        V("obs-fold", GET_HEAD "X-A: a\r\n b\r\n\r\n", 400),
        V("obs-fold with tab", GET_HEAD "X-A: a\r\n\tb\r\n\r\n", 400),
        V("space before colon (Host)", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400),
        V("tab before colon", GET_HEAD "X-A\t: 1\r\n\r\n", 400),
        V("space in name", GET_HEAD "X A: 1\r\n\r\n", 400),
        V("@ in name", GET_HEAD "X@A: 1\r\n\r\n", 400),
        V("parentheses in name", GET_HEAD "X(A): 1\r\n\r\n", 400),
        V("NUL in value", GET_HEAD "X-A: a\0b\r\n\r\n", 400),
        V("bare CR in value", GET_HEAD "X-A: a\rb\r\n\r\n", 400),
        V("bare LF line endings", "GET / HTTP/1.1\nHost: a\n\n", 400),
        V("0x01 in value", GET_HEAD "X-A: a\x01" "b\r\n\r\n", 400),
        V("0x7f in value", GET_HEAD "X-A: a\x7f" "b\r\n\r\n", 400),
    };

    vectors_test("", v, sizeof(v) / sizeof(v[0]), 2000);
}

E2E_TEST(header_value_with_tab_accepted, 30)
{
    int bp, dp;
    struct e2e_proc *d = one_backend(&bp, &dp, "");
    struct http_resp r;

    http_exchange(addr_of(dp), "GET /?head=1 HTTP/1.1\r\nHost: t\r\nX-A: a\tb\r\n\r\n", &r, 3000);
    ASSERT(r.status == 200 && resp_header(&r, "X-Backend") != NULL, "got %d %s", r.status,
           first_line(r.body));
    ASSERT(strstr(r.body, "X-A: a\tb\r\n") != NULL, "value not forwarded as sent: %s", r.body);
    resp_free(&r);
    e2e_drover_stop(d);
}

E2E_TEST(strict_host_400, 30)
{
    static const struct vec v[] = {
        V("HTTP/1.1 without Host", "GET / HTTP/1.1\r\nX-A: 1\r\n\r\n", 400),
        V("two Host headers", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    };

    vectors_test("", v, sizeof(v) / sizeof(v[0]), 2000);
}

/* The head may already be upstream: no response has started, so the client
 * still gets drover's 400. */
E2E_TEST(bad_chunk_size_400, 30)
{
    static const struct vec v[] = {
        V("chunk size zz", POST_HEAD "Transfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
        V("chunk size over 64 bits",
          POST_HEAD "Transfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\n", 400),
    };

    vectors_test("", v, sizeof(v) / sizeof(v[0]), 2000);
}

/* The trailer section goes upstream as it came, so it is held to a head's
 * rules, and fields that frame or route a message are refused in it (a
 * backend merging trailers into the head would read them). */
E2E_TEST(bad_trailer_section_400, 30)
{
#define CHUNKED POST_HEAD "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n"
    static char big[20000 + sizeof(CHUNKED) + 16];
    struct vec v[] = {
        VR("obs-fold in a trailer", CHUNKED "X-T: a\r\n folded\r\n\r\n", 400,
           "obsolete line folding in a trailer field"),
        VR("space before the colon", CHUNKED "X-T : a\r\n\r\n", 400,
           "whitespace before the colon of a trailer field"),
        VR("bad byte in a trailer value", CHUNKED "X-T: a\x01b\r\n\r\n", 400,
           "invalid byte in a trailer field"),
        VR("Host in the trailers", CHUNKED "Host: evil.test\r\n\r\n", 400,
           "framing or routing field in the trailer section"),
        VR("Content-Length in the trailers", CHUNKED "Content-Length: 99\r\n\r\n", 400,
           "framing or routing field in the trailer section"),
        VR("Transfer-Encoding in the trailers", CHUNKED "Transfer-Encoding: chunked\r\n\r\n",
           400, "framing or routing field in the trailer section"),
        {"trailer section over max_header_bytes", big, 0, 431,
         "trailer section larger than limits.max_header_bytes"},
    };
    size_t n = (size_t)snprintf(big, sizeof(big), "%sX-Big: ", CHUNKED);

    memset(big + n, 'b', 20000);
    memcpy(big + n + 20000, "\r\n\r\n", 4);
    v[6].len = n + 20004;
    vectors_test("", v, sizeof(v) / sizeof(v[0]), 2000);
#undef CHUNKED
}

E2E_TEST(head_too_large_431, 30)
{
    static char req[8192];
    size_t n = (size_t)snprintf(req, sizeof(req), GET_HEAD);
    struct vec v[1];

    for (int i = 0; n < 6144; i++)
        n += (size_t)snprintf(req + n, sizeof(req) - n, "X-Pad-%02d: %0100d\r\n", i, i);
    n += (size_t)snprintf(req + n, sizeof(req) - n, "\r\n");
    v[0] = (struct vec){"6 KB of headers over a 4k limit", req, n, 431};
    vectors_test("limits:\n  max_header_bytes: 4k\n", v, 1, 2000);
}

E2E_TEST(uri_too_long_414, 30)
{
    static char req[10000];
    size_t n = (size_t)snprintf(req, sizeof(req), "GET /");
    struct vec v[1];

    memset(req + n, 'u', 9000);
    n += 9000;
    n += (size_t)snprintf(req + n, sizeof(req) - n, " HTTP/1.1\r\nHost: t\r\n\r\n");
    v[0] = (struct vec){"9000-byte request target", req, n, 414};
    vectors_test("limits:\n  max_header_bytes: 32k\n", v, 1, 2000);
}

E2E_TEST(body_too_large_413, 30)
{
    static char chunked[4096];
    size_t n = (size_t)snprintf(chunked, sizeof(chunked),
                                POST_HEAD "Transfer-Encoding: chunked\r\n\r\n");
    struct vec v[2];

    /* Three 512-byte chunks: the third goes over 1k. */
    for (int i = 0; i < 3; i++) {
        n += (size_t)snprintf(chunked + n, sizeof(chunked) - n, "200\r\n");
        memset(chunked + n, 'b', 512);
        n += 512;
        n += (size_t)snprintf(chunked + n, sizeof(chunked) - n, "\r\n");
    }
    /* The Content-Length case sends no body: 413 must not wait for it. */
    v[0] = (struct vec){"Content-Length over the limit", POST_HEAD "Content-Length: 2048\r\n\r\n",
                        strlen(POST_HEAD "Content-Length: 2048\r\n\r\n"), 413};
    v[1] = (struct vec){"chunked body growing over the limit", chunked, n, 413};
    vectors_test("limits:\n  max_body_bytes: 1k\n", v, 2, 2000);
}

E2E_TEST(garbage_and_tls_hello_400_promptly, 30)
{
    static const unsigned char tls[] = {
        0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03, 0x5a, 0x3c, 0x91,
        0x7e, 0x22, 0x48, 0xd0, 0x13, 0x66, 0xbb, 0x04, 0x71, 0xc2, 0x9f, 0x38, 0x5d, 0xe1,
        0x27, 0x84, 0x40, 0x6b, 0xf3, 0x19, 0xa8, 0x52, 0x0e, 0xcd, 0x77, 0x31, 0x95, 0x2b,
        0x00, 0x00, 0x20, 0xc0, 0x2b, 0xc0, 0x2f, 0xc0, 0x2c, 0xc0, 0x30, 0xcc, 0xa9, 0xcc,
        0xa8, 0xc0, 0x13, 0xc0, 0x14, 0x00, 0x9c, 0x00, 0x9d, 0x00, 0x2f, 0x00, 0x35,
    };
    static const struct vec v[] = {
        V("garbage", "\x00\x01\x02 hello\r\n\r\n", 400),
        {"TLS ClientHello prefix", (const char *)tls, sizeof(tls), 400},
    };

    /* No newline may ever come: the answer must not wait for one. */
    vectors_test("", v, sizeof(v) / sizeof(v[0]), 1000);
}

E2E_TEST(http_version_505, 30)
{
    static const struct vec v[] = {
        V("HTTP/2.0", "GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505),
        V("HTTP/3.0", "GET / HTTP/3.0\r\nHost: t\r\n\r\n", 505),
    };

    vectors_test("", v, sizeof(v) / sizeof(v[0]), 2000);
}

/* A backend answering an invalid response: 502 from drover, and the
 * upstream connection is not reused (the raw server answers only once per
 * connection, so a reused one would leave the next request unanswered). */
E2E_TEST(malformed_backend_response_502, 30)
{
    static const char dup_cl[] =
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello";
    static const char garbage[] = "HTTP/9 xx\r\n\r\n";
    static const char nul_reason[] = "HTTP/1.1 200 O\0K\r\nContent-Length: 2\r\n\r\nok";
    static const struct {
        const char *name, *bytes;
        size_t len;
    } bad[] = {
        {"raw-dup-cl", dup_cl, sizeof(dup_cl) - 1},
        {"raw-garbage", garbage, sizeof(garbage) - 1},
        {"raw-nul-reason", nul_reason, sizeof(nul_reason) - 1},
    };
    enum { NBAD = sizeof(bad) / sizeof(bad[0]) };
    const char *paths[NBAD] = {"/dup/", "/garbage/", "/nul/"};
    struct e2e_proc *raw[NBAD], *d;
    int port[NBAD], dp = e2e_free_port();

    for (int k = 0; k < NBAD; k++) {
        port[k] = e2e_free_port();
        raw[k] = e2e_raw_server(bad[k].name, port[k], bad[k].bytes, bad[k].len);
    }
    d = e2e_drover(config(dp, e2e_fmt("timeouts:\n  upstream: 3s\n"
                                      "routes:\n"
                                      "  - path: /dup/\n    backends: [127.0.0.1:%d]\n"
                                      "  - path: /garbage/\n    backends: [127.0.0.1:%d]\n"
                                      "  - path: /nul/\n    backends: [127.0.0.1:%d]\n",
                                      port[0], port[1], port[2])),
                   addr_of(dp));
    for (int k = 0; k < NBAD; k++) {
        for (int i = 0; i < 2; i++) {
            struct client *c = client_open(addr_of(dp));
            struct http_resp r;

            client_send_str(c, e2e_fmt("GET %s HTTP/1.1\r\nHost: t\r\n\r\n", paths[k]));
            ASSERT(client_read(c, &r, false, 1500) == 0,
                   "%s request %d: no response within 1.5s (a reused upstream connection?)",
                   paths[k], i + 1);
            ASSERT(r.status == 502, "%s request %d: got %d %s", paths[k], i + 1, r.status,
                   first_line(r.body));
            ASSERT(resp_header(&r, "X-Request-Id") != NULL, "no X-Request-Id");
            resp_free(&r);
            client_close(c);
        }
        e2e_log("%s: raw server accepted %d connections for 2 requests", paths[k],
                e2e_raw_server_conns(raw[k]));
        ASSERT(e2e_raw_server_conns(raw[k]) >= 2, "%s: the upstream connection was reused",
               paths[k]);
    }
    e2e_drover_stop(d);
}

/* ---- framing ---- */

E2E_TEST(chunked_request_extensions_and_trailers, 30)
{
    int bp, dp;
    struct e2e_proc *d = one_backend(&bp, &dp, "");
    struct client *c = client_open(addr_of(dp));
    struct http_resp r;

    client_send_str(c, POST_HEAD "Transfer-Encoding: chunked\r\n\r\n"
                                 "5;ext=1\r\nhello\r\n0\r\nX-T: t\r\n\r\n");
    ASSERT(client_read(c, &r, false, 3000) == 0, "no response");
    ASSERT(r.status == 200 && resp_header(&r, "X-Backend") != NULL, "got %d %s", r.status,
           first_line(r.body));
    ASSERT(strncmp(r.body, "bytes=5 ", 8) == 0, "body %s", r.body);
    resp_free(&r);
    get_ok(c, "after the trailers, on the same connection", 2000);
    client_close(c);
    e2e_drover_stop(d);
}

/* ... and the extension and the trailer field reach the backend as they
 * came: a raw backend logs the bytes it reads. */
E2E_TEST(chunk_extensions_and_trailers_reach_the_backend, 30)
{
    static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    int bp = e2e_free_port(), dp = e2e_free_port();
    struct e2e_proc *raw, *d;
    struct client *c;
    struct http_resp r;

    raw = e2e_raw_server("raw", bp, answer, sizeof(answer) - 1);
    d = e2e_drover(config(dp, e2e_fmt("routes:\n  - path: /\n    backends: [127.0.0.1:%d]\n", bp)),
                   addr_of(dp));
    c = client_open(addr_of(dp));
    client_send_str(c, POST_HEAD "Transfer-Encoding: chunked\r\n\r\n"
                                 "5;ext=1\r\nhello\r\n0\r\nX-T: t\r\n\r\n");
    ASSERT(client_read(c, &r, false, 3000) == 0 && r.status == 200, "no answer");
    resp_free(&r);
    e2e_wait_log(raw, "5;ext=1\\r\\nhello\\r\\n0\\r\\nX-T: t\\r\\n\\r\\n", 3000);
    client_close(c);
    e2e_drover_stop(d);
}

/* RFC 9112 2.2: an empty line before a request line is ignored (clients
 * have sent an extra CRLF after a POST body), as nginx and HAProxy do. */
E2E_TEST(stray_crlf_before_request_ignored, 30)
{
    int bp, dp;
    struct e2e_proc *d = one_backend(&bp, &dp, "");
    struct client *c = client_open(addr_of(dp));
    struct http_resp r;

    client_send_str(c, "\r\n" GET_OK);
    ASSERT(client_read(c, &r, false, 2000) == 0, "no response");
    ASSERT(r.status == 200, "CRLF before the first request: got %d %s", r.status,
           first_line(r.body));
    resp_free(&r);
    client_send_str(c, POST_HEAD "Content-Length: 5\r\n\r\nhello\r\n");
    ASSERT(client_read(c, &r, false, 2000) == 0 && r.status == 200, "POST: %d", r.status);
    resp_free(&r);
    client_send_str(c, GET_OK);
    ASSERT(client_read(c, &r, false, 2000) == 0, "no response after the stray CRLF");
    ASSERT(r.status == 200, "CRLF after a POST body: the next request got %d %s", r.status,
           first_line(r.body));
    resp_free(&r);
    client_close(c);
    e2e_drover_stop(d);
}

static uint64_t fnv_of_x(size_t n)
{
    static char xs[65536];
    uint64_t h = FNV_INIT;

    memset(xs, 'x', sizeof(xs));
    while (n > 0) {
        size_t k = n < sizeof(xs) ? n : sizeof(xs);

        h = fnv1a(xs, k, h);
        n -= k;
    }
    return h;
}

E2E_TEST(chunked_response_head_204_304, 30)
{
    int bp, dp;
    struct e2e_proc *d = one_backend(&bp, &dp, "");
    struct client *c = client_open(addr_of(dp));
    struct http_resp r;

    client_send_str(c, "GET /?chunked=1&size=100000 HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT(client_read(c, &r, false, 5000) == 0, "no chunked response");
    ASSERT(r.status == 200 && r.body_len == 100000, "status %d, %zu bytes", r.status, r.body_len);
    ASSERT(r.body_fnv == fnv_of_x(100000), "body differs");
    resp_free(&r);

    client_send_str(c, "HEAD /?chunked=1&size=100000 HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT(client_read(c, &r, true, 3000) == 0, "no HEAD response");
    ASSERT(r.status == 200, "HEAD: %d", r.status);
    resp_free(&r);
    /* Anything drover sent as a body would be read as the next response. */
    get_ok(c, "after HEAD", 2000);

    for (int i = 0; i < 2; i++) {
        int status = i == 0 ? 204 : 304;

        client_send_str(c, e2e_fmt("GET /?status=%d HTTP/1.1\r\nHost: t\r\n\r\n", status));
        ASSERT(client_read(c, &r, false, 3000) == 0, "no %d response", status);
        ASSERT(r.status == status && r.body_len == 0, "got %d with %zu body bytes", r.status,
               r.body_len);
        ASSERT(resp_header(&r, "Transfer-Encoding") == NULL, "%d with Transfer-Encoding", status);
        resp_free(&r);
        get_ok(c, e2e_fmt("after %d", status), 2000);
    }
    client_close(c);
    e2e_drover_stop(d);
}

E2E_TEST(expect_100_continue, 30)
{
    int bp, dp;
    struct e2e_proc *d = one_backend(&bp, &dp, "");
    struct client *c = client_open(addr_of(dp));
    struct http_resp r;

    client_send_str(c, POST_HEAD "Content-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    ASSERT(client_read_any(c, &r, false, 3000) == 0, "no 100 Continue before the body was sent");
    ASSERT(r.status == 100, "got %d before the body", r.status);
    resp_free(&r);
    client_send_str(c, "hello");
    ASSERT(client_read(c, &r, false, 3000) == 0, "no final response");
    ASSERT(r.status == 200 && strncmp(r.body, "bytes=5 ", 8) == 0, "got %d %s", r.status, r.body);
    resp_free(&r);
    get_ok(c, "next request", 2000);
    client_close(c);
    e2e_drover_stop(d);
}

/* The 100 Continue the client gets is the backend's (drover makes none of
 * its own): a raw backend marks its interim answer. */
E2E_TEST(expect_100_continue_comes_from_the_backend, 30)
{
    static const char answer[] = "HTTP/1.1 100 Continue\r\nX-Interim: backend\r\n\r\n"
                                 "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    int bp = e2e_free_port(), dp = e2e_free_port();
    struct e2e_proc *d;
    struct client *c;
    struct http_resp r;

    e2e_raw_server("raw", bp, answer, sizeof(answer) - 1);
    d = e2e_drover(config(dp, e2e_fmt("routes:\n  - path: /\n    backends: [127.0.0.1:%d]\n", bp)),
                   addr_of(dp));
    c = client_open(addr_of(dp));
    client_send_str(c, POST_HEAD "Content-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    ASSERT(client_read_any(c, &r, false, 3000) == 0, "no interim answer");
    ASSERT(r.status == 100, "got %d", r.status);
    ASSERT(resp_header(&r, "X-Interim") != NULL && strcmp(resp_header(&r, "X-Interim"), "backend") == 0,
           "the 100 Continue is not the backend's");
    resp_free(&r);
    client_send_str(c, "hello");
    ASSERT(client_read(c, &r, false, 3000) == 0 && r.status == 200, "no final answer");
    resp_free(&r);
    client_close(c);
    e2e_drover_stop(d);
}

/* A body delimited by the backend's close reaches the client whole, and
 * the client's connection is closed after it. */
E2E_TEST(response_delimited_by_close, 30)
{
    int bp, dp;
    struct e2e_proc *d = one_backend(&bp, &dp, "");
    struct client *c = client_open(addr_of(dp));
    struct http_resp r;
    const char *conn;

    client_send_str(c, "GET /?eof=1&size=5000 HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT(client_read(c, &r, false, 3000) == 0, "no complete response");
    ASSERT(r.status == 200 && r.body_len == 5000, "status %d, %zu bytes", r.status, r.body_len);
    ASSERT(r.body_fnv == fnv_of_x(5000), "body differs");
    conn = resp_header(&r, "Connection");
    ASSERT(conn != NULL && strcasecmp(conn, "close") == 0, "Connection: %s", conn);
    ASSERT(client_wait_closed(c, 2000), "connection left open");
    resp_free(&r);
    client_close(c);
    e2e_drover_stop(d);
}

E2E_TEST(http10_client_gets_chunked_response_unframed, 30)
{
    int bp, dp;
    struct e2e_proc *d = one_backend(&bp, &dp, "");
    struct client *c = client_open(addr_of(dp));
    struct http_resp r;

    client_send_str(c, "GET /?chunked=1&size=50000 HTTP/1.0\r\n\r\n");
    ASSERT(client_read(c, &r, false, 3000) == 0, "no complete response");
    ASSERT(r.status == 200, "got %d", r.status);
    ASSERT(resp_header(&r, "Transfer-Encoding") == NULL, "Transfer-Encoding: %s sent to HTTP/1.0",
           resp_header(&r, "Transfer-Encoding"));
    ASSERT(r.body_len == 50000 && r.body_fnv == fnv_of_x(50000),
           "%zu bytes, not 50000 raw 'x' (chunk framing left in?)", r.body_len);
    ASSERT(client_wait_closed(c, 2000), "connection left open");
    resp_free(&r);
    client_close(c);
    e2e_drover_stop(d);
}

#define BIG (20u * 1024 * 1024)

static char *pattern(size_t len)
{
    char *b = malloc(len);

    ASSERT(b != NULL);
    for (size_t i = 0; i < len; i++)
        b[i] = (char)('a' + (i * 31 + i / 977) % 26);
    return b;
}

static void check_sum(struct client *c, size_t len, uint64_t fnv, const char *what)
{
    struct http_resp r;
    size_t got = 0;
    uint64_t h = 0;

    ASSERT(client_read(c, &r, false, 30000) == 0, "%s: no response", what);
    ASSERT(r.status == 200, "%s: got %d %s", what, r.status, first_line(r.body));
    ASSERT(sscanf(r.body, "bytes=%zu fnv=%" SCNx64, &got, &h) == 2, "%s: body %s", what, r.body);
    ASSERT(got == len && h == fnv, "%s: backend got %zu bytes fnv %016" PRIx64
           ", sent %zu fnv %016" PRIx64, what, got, h, len, fnv);
    resp_free(&r);
}

E2E_TEST(upload_20mb_content_length_and_chunked, 60)
{
    int bp, dp;
    struct e2e_proc *d = one_backend(&bp, &dp, "");
    struct client *c = client_open(addr_of(dp));
    char *body = pattern(BIG);
    uint64_t fnv = fnv1a(body, BIG, FNV_INIT);
    static const size_t sizes[] = {1, 100, 4096, 65536, 777, 300000, 8191, 1 << 20};
    size_t off = 0;

    client_send_str(c, e2e_fmt(POST_HEAD "Content-Length: %u\r\n\r\n", BIG));
    client_send(c, body, BIG);
    check_sum(c, BIG, fnv, "Content-Length upload");

    client_send_str(c, POST_HEAD "Transfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; off < BIG; i++) {
        size_t n = sizes[i % 8] < BIG - off ? sizes[i % 8] : BIG - off;

        client_send_str(c, e2e_fmt("%zx\r\n", n));
        client_send(c, body + off, n);
        client_send_str(c, "\r\n");
        off += n;
    }
    client_send_str(c, "0\r\n\r\n");
    check_sum(c, BIG, fnv, "chunked upload");
    client_close(c);
    free(body);
    e2e_drover_stop(d);
}

E2E_TEST(download_20mb, 60)
{
    int bp, dp;
    struct e2e_proc *d = one_backend(&bp, &dp, "");
    struct client *c = client_open(addr_of(dp));
    struct http_resp r;

    client_send_str(c, e2e_fmt("GET /?size=%u HTTP/1.1\r\nHost: t\r\n\r\n", BIG));
    ASSERT(client_read(c, &r, false, 30000) == 0, "no complete response");
    ASSERT(r.status == 200 && r.body_len == BIG, "status %d, %zu bytes", r.status, r.body_len);
    ASSERT(r.body_fnv == fnv_of_x(BIG), "body differs");
    resp_free(&r);
    get_ok(c, "after the download", 2000);
    client_close(c);
    e2e_drover_stop(d);
}

/* Ten requests in one write, to two backends (one of them slow): ten
 * responses in order. */
E2E_TEST(pipelined_ten_in_one_write, 30)
{
    static const char *const req[10] = {
        "GET / HTTP/1.1\r\nHost: t\r\nX-Request-Id: p1\r\n\r\n",
        "GET /?delay=100 HTTP/1.1\r\nHost: t\r\nX-Request-Id: p2\r\n\r\n",
        "GET /?size=1000 HTTP/1.1\r\nHost: t\r\nX-Request-Id: p3\r\n\r\n",
        "HEAD / HTTP/1.1\r\nHost: t\r\nX-Request-Id: p4\r\n\r\n",
        "POST /?sum=1 HTTP/1.1\r\nHost: t\r\nX-Request-Id: p5\r\nContent-Length: 5\r\n\r\nhello",
        "GET /?chunked=1&size=3000 HTTP/1.1\r\nHost: t\r\nX-Request-Id: p6\r\n\r\n",
        "GET /?status=204 HTTP/1.1\r\nHost: t\r\nX-Request-Id: p7\r\n\r\n",
        "GET /?delay=30 HTTP/1.1\r\nHost: t\r\nX-Request-Id: p8\r\n\r\n",
        "GET /?size=10 HTTP/1.1\r\nHost: t\r\nX-Request-Id: p9\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: t\r\nX-Request-Id: p10\r\n\r\n",
    };
    int a = e2e_free_port(), b = e2e_free_port(), dp = e2e_free_port();
    struct e2e_proc *d;
    struct client *c;
    char *all = e2e_fmt("%s", "");

    e2e_backend("a", a);
    e2e_backend("b", b);
    d = e2e_drover(config(dp, e2e_fmt("balance: round_robin\nroutes:\n  - path: /\n"
                                      "    backends: [127.0.0.1:%d, 127.0.0.1:%d]\n",
                                      a, b)),
                   addr_of(dp));
    for (int i = 0; i < 10; i++)
        all = e2e_fmt("%s%s", all, req[i]);
    c = client_open(addr_of(dp));
    client_send_str(c, all);
    for (int i = 0; i < 10; i++) {
        struct http_resp r;
        const char *id;

        ASSERT(client_read(c, &r, i == 3, 5000) == 0, "response %d of 10 missing", i + 1);
        id = resp_header(&r, "X-Request-Id");
        ASSERT(id != NULL && strcmp(id, e2e_fmt("p%d", i + 1)) == 0,
               "response %d has X-Request-Id %s (status %d): out of order", i + 1, id, r.status);
        ASSERT(r.status == (i == 6 ? 204 : 200), "p%d: got %d %s", i + 1, r.status,
               first_line(r.body));
        if (i == 2)
            ASSERT(r.body_len == 1000, "p3: %zu bytes", r.body_len);
        if (i == 4)
            ASSERT(strncmp(r.body, "bytes=5 ", 8) == 0, "p5: %s", r.body);
        if (i == 5)
            ASSERT(r.body_len == 3000, "p6: %zu bytes", r.body_len);
        if (i == 8)
            ASSERT(r.body_len == 10, "p9: %zu bytes", r.body_len);
        resp_free(&r);
    }
    get_ok(c, "after the pipeline", 2000);
    client_close(c);
    e2e_drover_stop(d);
}

/* ---- Upgrade tunnels ---- */

#define UPGRADE_REQ                                                                              \
    "GET /ws HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"

static struct client *open_tunnel(const char *dp)
{
    struct client *c = client_open(dp);
    struct http_resp r;
    const char *up, *conn;

    client_send_str(c, UPGRADE_REQ);
    ASSERT(client_read_any(c, &r, false, 3000) == 0, "no response to the Upgrade request");
    ASSERT(r.status == 101, "got %d %s", r.status, first_line(r.body));
    up = resp_header(&r, "Upgrade");
    conn = resp_header(&r, "Connection");
    ASSERT(up != NULL && strcasecmp(up, "websocket") == 0, "Upgrade: %s", up);
    ASSERT(conn != NULL && strcasestr(conn, "upgrade") != NULL, "Connection: %s", conn);
    resp_free(&r);
    return c;
}

/* Sends len bytes through the echoing tunnel while reading the echo back;
 * true when all of it came back unchanged within timeout_ms. */
static bool pump_echo(struct client *c, const char *data, size_t len, int timeout_ms)
{
    char *back = malloc(len);
    size_t sent = 0, got = 0;
    long long deadline = e2e_now_ms() + timeout_ms;
    bool ok;

    ASSERT(back != NULL);
    while (got < len && e2e_now_ms() < deadline) {
        long n = 0;

        if (sent < len) {
            n = client_send_nb(c, data + sent, len - sent < 65536 ? len - sent : 65536);
            if (n < 0)
                break;
            sent += (size_t)n;
        }
        got += client_read_raw(c, back + got, len - got, n > 0 ? 0 : 5);
        if (c->eof && got < len)
            break;
    }
    ok = got == len && memcmp(back, data, len) == 0;
    if (!ok)
        e2e_log("pump: sent %zu, got back %zu of %zu%s", sent, got, len,
                got == len ? " (different bytes)" : "");
    free(back);
    return ok;
}

E2E_TEST(upgrade_websocket_tunnel, 30)
{
    int bp, dp;
    struct e2e_proc *d = one_backend(&bp, &dp, "");
    struct client *c;
    char *mb = pattern(1 << 20);
    int base = e2e_fd_count(d->pid), now = 0;
    long long t0;

    c = open_tunnel(addr_of(dp));
    for (int i = 0; i < 5; i++) {
        char *msg = e2e_fmt("round trip %d through the tunnel", i);
        char back[64];
        size_t n = strlen(msg);

        client_send_str(c, msg);
        ASSERT(client_read_raw(c, back, n, 2000) == n && memcmp(back, msg, n) == 0,
               "round trip %d not echoed", i);
    }
    ASSERT(pump_echo(c, mb, 1 << 20, 10000), "1 MB did not come back intact");
    ASSERT(e2e_fd_count(d->pid) > base, "the tunnel holds no descriptors?");
    /* Closing the client ends the tunnel: drover's descriptors come back. */
    client_close(c);
    t0 = e2e_now_ms();
    while ((now = e2e_fd_count(d->pid)) > base && e2e_now_ms() - t0 < 800)
        e2e_sleep_ms(10);
    ASSERT(now <= base, "drover still has %d descriptors (%d before the tunnel) 800ms after the "
           "client closed", now, base);
    free(mb);
    e2e_drover_stop(d);
}

E2E_TEST(tunnel_idle_timeout, 30)
{
    int bp, dp;
    struct e2e_proc *d = one_backend(&bp, &dp, "timeouts:\n  tunnel: 300ms\n");
    struct client *idle, *busy;
    long long t0;

    idle = open_tunnel(addr_of(dp));
    t0 = e2e_now_ms();
    ASSERT(client_wait_closed(idle, 1500), "idle tunnel still open after 1.5s");
    ASSERT(e2e_now_ms() - t0 >= 250 && e2e_now_ms() - t0 <= 1000,
           "idle tunnel closed after %lldms (timeouts.tunnel 300ms)", e2e_now_ms() - t0);
    client_close(idle);

    busy = open_tunnel(addr_of(dp));
    t0 = e2e_now_ms();
    for (int i = 0; e2e_now_ms() - t0 < 1500; i++) {
        char *msg = e2e_fmt("m%04d", i), back[8];

        client_send_str(busy, msg);
        ASSERT(client_read_raw(busy, back, 5, 1000) == 5 && memcmp(back, msg, 5) == 0,
               "active tunnel: message %d not echoed after %lldms", i, e2e_now_ms() - t0);
        ASSERT(!client_readable(busy, 100) || busy->len > 0, "active tunnel closed after %lldms",
               e2e_now_ms() - t0);
    }
    client_close(busy);
    e2e_drover_stop(d);
}

/* ---- back-pressure ---- */

E2E_TEST(backpressure_slow_reader, 30)
{
    int bp, dp;
    struct e2e_proc *d = one_backend(&bp, &dp, "timeouts:\n  drain: 2s\n");
    struct client *c = client_open(addr_of(dp));
    static char buf[1 << 20];
    long rss0, rss1;

    get_ok(c, "warm-up", 2000);
    rss0 = e2e_rss_kb(d->pid);
    client_send_str(c, "GET /?size=67108864 HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT(client_read_raw(c, buf, sizeof(buf), 5000) == sizeof(buf), "first MB not read");
    e2e_sleep_ms(1000); /* the slow reader */
    rss1 = e2e_rss_kb(d->pid);
    e2e_log("drover VmRSS %ld kB before, %ld kB after 1s of a stalled 64 MB download", rss0, rss1);
    ASSERT(rss1 - rss0 < 16 * 1024, "drover grew by %ld kB: it buffers what the client does "
           "not read", rss1 - rss0);
    /* And the download still flows. */
    ASSERT(client_read_raw(c, buf, sizeof(buf), 5000) == sizeof(buf), "the stream stalled");
    client_close(c);
    e2e_drover_stop(d);
}

E2E_TEST(backpressure_backend_never_reads, 30)
{
    int sp = e2e_free_port(), dp = e2e_free_port();
    struct e2e_proc *d;
    struct client *c;
    static char chunk[65536];
    size_t total = 0;
    long rss0, rss1;
    long long t0;

    e2e_raw_server("sink", sp, NULL, 0);
    d = e2e_drover(config(dp, e2e_fmt("timeouts:\n  drain: 2s\n"
                                      "routes:\n  - path: /\n    backends: [127.0.0.1:%d]\n",
                                      sp)),
                   addr_of(dp));
    rss0 = e2e_rss_kb(d->pid);
    memset(chunk, 'u', sizeof(chunk));
    c = client_open(addr_of(dp));
    client_send_str(c, "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 67108864\r\n\r\n");
    t0 = e2e_now_ms();
    while (e2e_now_ms() - t0 < 2000 && total < 64u * 1024 * 1024) {
        long n = client_send_nb(c, chunk, sizeof(chunk));
        struct pollfd pfd = {c->fd, POLLOUT, 0};

        /* Held, not dropped: an early close would also stop the bytes. */
        ASSERT(n >= 0, "drover closed the upload after %zu bytes instead of holding it", total);
        total += (size_t)n;
        if (n == 0)
            poll(&pfd, 1, 50);
    }
    rss1 = e2e_rss_kb(d->pid);
    e2e_log("client got %zu bytes (%.1f MB) into drover in 2s; drover VmRSS %ld -> %ld kB", total,
            total / 1048576.0, rss0, rss1);
    ASSERT(total < 32u * 1024 * 1024, "drover took %zu bytes for a backend that reads nothing",
           total);
    ASSERT(rss1 - rss0 < 16 * 1024, "drover grew by %ld kB", rss1 - rss0);
    ASSERT(!client_readable(c, 0), "drover answered or closed the held upload");
    client_close(c);
    e2e_drover_stop(d);
}
