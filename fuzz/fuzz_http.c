/* libFuzzer target over router/http.c: no sockets, no event loop.
 *
 * Input: a 4-byte prefix, then a byte stream.
 *   [0..1]  split: the stream arrives in two reads, at split % (len + 1)
 *   [2]     flags (see F_* below)
 *   [3]     strip (bytes of path prefix to remove) / a small output cap
 *
 * The stream is read three ways, each message after the other until the
 * bytes run out or one is rejected:
 *   1. as pipelined requests, the way conn.c and proxy.c do it: head parsed
 *      over the first read, again over both when incomplete (AGAIN), then
 *      rewritten for the backend (http_write_request), its target split
 *      (http_target_parts), its body run through the resumed parser;
 *   2. as responses to an HTTP/1.1 client;
 *   3. as responses to an HTTP/1.0 client, where a chunked body is
 *      de-chunked in place (http_body with w set) exactly as
 *      proxy.c's parse_response_body does, and compared with the payload a
 *      second parser reports.
 *
 * Every rewritten head is written into a buffer of exactly cap bytes (ASan
 * sees any write past it), must be at most cap, must be the same whatever
 * the cap as long as it fits, and must parse again as a head of the same
 * kind with the same body framing: a head drover builds that a parser reads
 * differently would be a request-smuggling bug. Any violation aborts. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llhttp.h"
#include "router/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HEADROOM 1024u                  /* BUF_HEADROOM */
#define BUF_CAP (HEADROOM + 16u * 1024u) /* a worker's buffer size (16k heads) */
#define MAX_MESSAGES 64

enum {
    F_TUNNEL = 1,        /* force rw.tunnel */
    F_HOST = 2,          /* rw.host "fallback.test" instead of "" */
    F_PORT = 4,          /* rw.listen_port 8080 instead of 0 */
    F_IP6 = 8,           /* a long IPv6 client address */
    F_HEAD = 16,         /* responses answer a HEAD request */
    F_SMALL_CAP = 32,    /* also rewrite into a cap of byte [3] */
    F_ID = 64,           /* a 128-byte request id instead of 32 hex digits */
};

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "fuzz_http: check failed at %s:%d: %s\n", __FILE__, __LINE__, \
                    #cond);                                                                \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

struct opts {
    size_t split;   /* absolute offset in the stream where the second read starts */
    unsigned flags;
    unsigned b3;
};

/* Spans must point into the head. llhttp 8.1 reports an empty header name
 * (": x") as a zero-length span: drover rejects it in a request and
 * forwards it in a response. */
static void check_head(const struct http_head *h, size_t avail, bool request)
{
    CHECK(h->len > 0 && h->len <= avail);
    CHECK(h->nhdr <= HTTP_MAX_HEADERS);
    CHECK((size_t)h->target.off + h->target.len <= h->len);
    for (unsigned i = 0; i < h->nhdr; i++) {
        const struct http_header *hd = &h->hdr[i];

        CHECK(hd->kind < H_KINDS);
        CHECK((size_t)hd->name.off + hd->name.len <= h->len);
        CHECK((size_t)hd->value.off + hd->value.len <= h->len);
        CHECK(hd->name.len > 0 || !request);
    }
    for (unsigned k = 0; k < H_KINDS; k++) {
        CHECK(h->count[k] <= h->nhdr);
        CHECK((h->count[k] == 0) == (h->first[k] < 0));
        if (h->first[k] >= 0)
            CHECK(h->first[k] < h->nhdr && h->hdr[h->first[k]].kind == k);
    }
}

/* A line of the head folded onto the one before it (obs-fold). drover
 * refuses it in a request (backends disagree on what it means), and, per
 * RFC 9112 5.2, must not forward it in a response either. */
static bool head_folds(const char *m, size_t len)
{
    return memmem(m, len, "\n ", 2) != NULL || memmem(m, len, "\n\t", 2) != NULL;
}

/* Parses a head the way conn.c does: over the first read, and over both
 * reads when the first was not enough. */
static int parse_head2(llhttp_t *p, llhttp_type_t type, struct http_head *h, const char *m,
                       size_t first, size_t avail, size_t *seen)
{
    int r = HTTP_HEAD_AGAIN;

    if (first > 0 && first < avail) {
        r = http_parse_head(p, type, h, m, first);
        *seen = first;
    }
    if (r == HTTP_HEAD_AGAIN) {
        r = http_parse_head(p, type, h, m, avail);
        *seen = avail;
    }
    if (r == HTTP_HEAD_BAD) {
        CHECK(h->err_status >= 400 && h->err_status <= 599);
        CHECK(h->err_reason != NULL);
    }
    return r;
}

static void check_error_reply(const struct http_head *h, const char *id, unsigned b3)
{
    size_t caps[] = {2048, 64 + (size_t)b3};
    int conn = (int)(b3 % 3);

    for (size_t i = 0; i < 2; i++) {
        char *buf = malloc(caps[i]);
        size_t n = http_write_error(h->err_status, h->err_reason, id, (enum http_conn_header)conn,
                                    buf, caps[i]);

        CHECK(n <= caps[i]); /* exactly cap fits: no NUL is written (ASan sees more) */
        if (n > 0)
            CHECK(memcmp(buf, "HTTP/1.1 ", 9) == 0);
        free(buf);
    }
}

/* Writes the rewritten head into exactly cap bytes (so ASan sees an
 * overflow) and returns a malloc'd copy, or NULL when it did not fit. */
static char *write_req(const struct http_head *h, const struct http_request_rewrite *rw, size_t cap,
                       size_t *len)
{
    char *out = malloc(cap);

    *len = http_write_request(h, rw, out, cap);
    CHECK(*len <= cap);
    if (*len == 0) {
        free(out);
        return NULL;
    }
    return out;
}

static char *write_resp(const struct http_head *h, const struct http_response_rewrite *rw,
                        size_t cap, size_t *len)
{
    char *out = malloc(cap);

    *len = http_write_response(h, rw, out, cap);
    CHECK(*len <= cap);
    if (*len == 0) {
        free(out);
        return NULL;
    }
    return out;
}

/* The body framing a parser saw. */
struct framing {
    bool chunked, has_cl;
    uint64_t cl;
};

static struct framing framing_of(const llhttp_t *p)
{
    struct framing f = {(p->flags & F_CHUNKED) != 0, (p->flags & F_CONTENT_LENGTH) != 0, 0};

    if (f.has_cl)
        f.cl = p->content_length;
    return f;
}

/* The longest id a client may send: 128 of the allowed characters. */
static const char long_id[] =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._~:+/=-"
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
_Static_assert(sizeof(long_id) == HTTP_REQUEST_ID_MAX + 1, "a 128-byte id");

/* One request head rewritten for the backend, with checks. */
static void rewrite_request(const struct http_head *h, const llhttp_t *p, const struct opts *o)
{
    const char *target = http_str(h, h->target), *target_end = target + h->target.len;
    struct http_request_rewrite rw;
    char gen[33];
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    const char *id, *path, *auth;
    size_t idlen, pathlen, authlen, len, small_len, big_len;
    char *out, *small, *big;
    struct http_head *h2;
    llhttp_t p2;
    size_t seen;
    int r;

    id = http_header_value(h, H_X_REQUEST_ID, &idlen);
    if (id == NULL || h->count[H_X_REQUEST_ID] != 1 || !http_request_id_sane(id, idlen)) {
        if (o->flags & F_ID) {
            id = long_id;
            idlen = strlen(long_id);
            CHECK(idlen == HTTP_REQUEST_ID_MAX && http_request_id_sane(id, idlen));
        } else {
            http_request_id_generate(&rng, gen);
            CHECK(strlen(gen) == 32 && http_request_id_sane(gen, 32));
            id = gen;
            idlen = 32;
        }
    }
    CHECK(idlen <= HTTP_REQUEST_ID_MAX);

    http_target_parts(h, &path, &pathlen, &auth, &authlen);
    CHECK(path != NULL && pathlen >= 1);
    /* Inside the target, or the literal "/" for an empty path. */
    if (!(path >= target && path + pathlen <= target_end))
        CHECK(pathlen == 1 && path[0] == '/');
    if (auth != NULL) {
        CHECK(authlen > 0 && auth >= target && auth + authlen <= target_end);
    } else {
        CHECK(authlen == 0);
    }

    rw.client_ip = (o->flags & F_IP6) ? "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"
                                      : "127.0.0.1";
    rw.listen_port = (o->flags & F_PORT) ? 8080 : 0;
    rw.request_id = id;
    rw.request_id_len = idlen;
    rw.start_ms = 1795000000000ll + o->b3;
    rw.strip = o->b3 % 16;
    rw.host = (o->flags & F_HOST) ? "fallback.test" : "";
    rw.tunnel = (h->conn_upgrade && h->count[H_UPGRADE] > 0) || (o->flags & F_TUNNEL);

    out = write_req(h, &rw, BUF_CAP, &len);
    /* Bigger and smaller caps: the same bytes whenever they fit. */
    big = write_req(h, &rw, 4 * BUF_CAP, &big_len);
    CHECK(big != NULL);
    if (out != NULL)
        CHECK(len == big_len && memcmp(out, big, len) == 0);
    else
        CHECK(big_len > BUF_CAP);
    if (o->flags & F_SMALL_CAP) {
        size_t cap = 1 + o->b3;

        small = write_req(h, &rw, cap, &small_len);
        if (small != NULL)
            CHECK(small_len == big_len && memcmp(small, big, small_len) == 0);
        else
            CHECK(big_len > cap);
        free(small);
    }

    /* The backend must read the rewritten head as one request with the same
     * body framing. Exceptions that are not framing bugs: a target made one
     * byte longer by the '/' put in front of it (414), the headers drover
     * adds taking the count past what its own parser takes (431, too many
     * headers), and CONNECT, whose authority-form target has no origin
     * form. */
    h2 = malloc(sizeof(*h2));
    r = parse_head2(&p2, HTTP_REQUEST, h2, big, 0, big_len, &seen);
    if (r == HTTP_HEAD_DONE) {
        struct framing a = framing_of(p), b = framing_of(&p2);

        if (h2->len != big_len) {
            fprintf(stderr, "fuzz_http: the rewritten request head reads differently:\n%.*s\n",
                    (int)big_len, big);
            abort();
        }
        CHECK(h2->method == h->method);
        CHECK(h2->minor == 1);
        CHECK(a.chunked == b.chunked && a.has_cl == b.has_cl && a.cl == b.cl);
        CHECK(h2->count[H_HOST] == 1);
        CHECK(h2->count[H_X_FORWARDED_FOR] == 1 && h2->count[H_X_REQUEST_ID] == 1);
        CHECK(h2->count[H_KEEP_ALIVE] == 0 && h2->count[H_TE] == 0 &&
              h2->count[H_PROXY_CONNECTION] == 0);
        /* Trailer is end-to-end (RFC 9110 6.6.2): kept, unless Connection names it. */
        CHECK(h2->count[H_TRAILER] <= h->count[H_TRAILER]);
        if (!rw.tunnel)
            CHECK(h2->count[H_CONNECTION] == 0 && h2->count[H_UPGRADE] == 0);
    } else if (h->method != HTTP_CONNECT && !(r == HTTP_HEAD_BAD && h2->err_status == 414) &&
               !(r == HTTP_HEAD_BAD && h2->too_many)) {
        fprintf(stderr, "fuzz_http: rewritten request does not parse (%d %s):\n%.*s\n",
                h2->err_status, h2->err_reason ? h2->err_reason : "incomplete", (int)big_len,
                big);
        abort();
    }
    free(h2);
    free(out);
    free(big);
}

/* Runs the body parser the way proxy.c does: over what the first read
 * brought, then over the rest. Returns the bytes of the body, or -1. */
static long run_body(llhttp_t *p, const char *m, size_t first, size_t avail,
                     struct http_body *bs, bool *done)
{
    size_t pos = 0;

    *done = false;
    for (int part = 0; part < 2 && !*done; part++) {
        size_t end = part == 0 ? first : avail;
        long n;

        if (end <= pos)
            continue;
        n = http_parse_body(p, m + pos, end - pos, done);
        if (n < 0)
            return -1;
        CHECK((size_t)n <= end - pos);
        if (!*done)
            CHECK((size_t)n == end - pos);
        pos += (size_t)n;
    }
    CHECK(bs->bytes <= pos);
    /* A chunked message drover let through had a well-formed trailer
     * section, scanned to its end. */
    if (*done && (p->flags & F_CHUNKED))
        CHECK(bs->trailer == TRAILER_DONE);
    return (long)pos;
}

static void run_requests(const char *s, size_t len, const struct opts *o)
{
    struct http_head *h = malloc(sizeof(*h));
    size_t pos = 0;

    for (int msg = 0; msg < MAX_MESSAGES && pos < len; msg++) {
        const char *m;
        size_t avail, first, seen;
        llhttp_t p;
        struct http_body bs;
        uint64_t cl;
        bool done;
        long n;
        int r;

        /* conn.c skips empty lines before a request line (RFC 9112 2.2)
         * before it calls http_parse_head. */
        while (len - pos >= 2 && s[pos] == '\r' && s[pos + 1] == '\n')
            pos += 2;
        if (pos == len)
            break;
        m = s + pos;
        avail = len - pos;
        first = o->split > pos ? o->split - pos : avail;
        if (first > avail)
            first = avail;
        r = parse_head2(&p, HTTP_REQUEST, h, m, first, avail, &seen);
        if (r == HTTP_HEAD_AGAIN)
            break;
        if (r == HTTP_HEAD_BAD) {
            check_error_reply(h, (o->flags & F_ID) ? long_id : NULL, o->b3);
            break;
        }
        check_head(h, seen, true);
        CHECK(h->major == 1 && h->minor <= 1);
        if (head_folds(m, h->len)) {
            fprintf(stderr, "fuzz_http: accepted a request head with obs-fold:\n%.*s\n",
                    (int)h->len, m);
            abort();
        }
        /* A request drover accepts with a Transfer-Encoding is one whose
         * body it frames as chunked: else it would forward the header and
         * take the body for the next request. */
        if (h->count[H_TRANSFER_ENCODING] > 0 && !(p.flags & F_CHUNKED)) {
            fprintf(stderr, "fuzz_http: accepted a Transfer-Encoding request it does not frame "
                            "as chunked:\n%.*s\n", (int)h->len, m);
            abort();
        }
        CHECK(h->target.len <= HTTP_MAX_TARGET);
        rewrite_request(h, &p, o);
        pos += h->len;
        if (http_request_body_kind(&p) == BODY_NONE)
            continue; /* no body: the next request starts at the head's end */
        cl = p.content_length; /* llhttp counts it down as the body goes */
        llhttp_resume(&p);
        http_body_init(&p, &bs, 0);
        n = run_body(&p, s + pos, first > h->len ? first - h->len : 0, len - pos, &bs, &done);
        if (n < 0 || !done)
            break;
        if (!(p.flags & F_CHUNKED))
            CHECK(bs.bytes == cl && (uint64_t)n == cl);
        pos += (size_t)n;
    }
    free(h);
}

/* The payload as a parser reports it, for comparison with the de-chunker. */
struct payload {
    char *p;
    size_t len;
};

static int collect_body(llhttp_t *p, const char *at, size_t len)
{
    struct payload *pl = p->data;

    memcpy(pl->p + pl->len, at, len);
    pl->len += len;
    return 0;
}

static int pause_complete(llhttp_t *p)
{
    (void)p;
    return HPE_PAUSED;
}

static const llhttp_settings_t collect_settings = {
    .on_body = collect_body,
    .on_message_complete = pause_complete,
};

/* http_body_settings with a check around its on_body when de-chunking:
 * the write position never passes the byte being parsed. */
static const char *dechunk_parse_end;

static int checked_dechunk_body(llhttp_t *p, const char *at, size_t len)
{
    struct http_body *d = p->data;

    CHECK(d->w <= at);
    CHECK(at + len <= dechunk_parse_end);
    return http_body_settings.on_body(p, at, len);
}

static llhttp_settings_t checked_dechunk_settings;

/* A plain run of the reference parser: no trailer checks. */
static long ref_parse_body(llhttp_t *p, const char *data, size_t len, bool *done)
{
    llhttp_errno_t err = llhttp_execute(p, data, len);

    *done = err == HPE_PAUSED;
    if (err == HPE_OK)
        return (long)len;
    if (err == HPE_PAUSED)
        return (long)(llhttp_get_error_pos(p) - data);
    return -1;
}

/* proxy.c's parse_response_body for a de-chunked response, over a
 * writable buffer laid out like up->in: the body bytes arrive in two reads
 * (first, then the rest); after each parse the gap the framing left is
 * closed and the payload so far is "sent". Checked against what a plain
 * parser reports as the payload of the same bytes. */
static long dechunk_body(llhttp_t *p, const char *m, size_t first, size_t avail, bool *done)
{
    char *b = malloc(avail + 1);
    struct payload sent = {malloc(avail + 1), 0}, ref = {malloc(avail + 1), 0};
    struct http_body d;
    llhttp_t rp = *p;       /* the same parser state, for the reference */
    size_t end = 0, fwd = 0, total = 0;
    bool rdone = false;
    long result = 0;

    checked_dechunk_settings = http_body_settings;
    checked_dechunk_settings.on_body = checked_dechunk_body;
    llhttp_resume(p);
    http_body_init(p, &d, 0);
    p->settings = (void *)&checked_dechunk_settings;
    rp.settings = (void *)&collect_settings;
    rp.data = &ref;
    llhttp_resume(&rp);

    *done = false;
    for (int part = 0; part < 2 && !*done; part++) {
        size_t upto = part == 0 ? first : avail;
        size_t parsed_end, w;
        long n, rn;
        bool rd;

        if (upto <= total)
            continue;
        /* The read appends at b's end. */
        memcpy(b + end, m + total, upto - total);
        end += upto - total;
        d.w = b + fwd;
        dechunk_parse_end = b + end;
        n = http_parse_body(p, b + fwd, end - fwd, done);
        rn = ref_parse_body(&rp, m + total, upto - total, &rd);
        if (n < 0 && d.trailer != TRAILER_OFF && rn >= 0) {
            result = -1; /* a trailer section that drover refuses */
            break;
        }
        CHECK(n == rn && *done == rd);
        if (n < 0) {
            result = -1;
            break;
        }
        parsed_end = fwd + (size_t)n;
        w = (size_t)(d.w - b);
        CHECK(w >= fwd && w <= parsed_end && parsed_end <= end);
        memmove(b + w, b + parsed_end, end - parsed_end);
        end -= parsed_end - w;
        fwd = w;
        total += (size_t)n;
        /* send_response: [0, fwd) goes to the client. */
        memcpy(sent.p + sent.len, b, fwd);
        sent.len += fwd;
        memmove(b, b + fwd, end - fwd);
        end -= fwd;
        fwd = 0;
        if (!*done)
            CHECK(end == 0);
        rdone = rd;
    }
    if (result == 0) {
        CHECK(sent.len == ref.len && memcmp(sent.p, ref.p, ref.len) == 0);
        CHECK(*done == rdone);
        result = (long)total;
    }
    free(b);
    free(sent.p);
    free(ref.p);
    return result;
}

static void run_responses(const char *s, size_t len, const struct opts *o, bool http10_client)
{
    struct http_head *h = malloc(sizeof(*h)), *h2 = malloc(sizeof(*h2));
    bool head_req = (o->flags & F_HEAD) != 0;
    size_t pos = 0;

    for (int msg = 0; msg < MAX_MESSAGES && pos < len; msg++) {
        const char *m = s + pos;
        size_t avail = len - pos;
        size_t first = o->split > pos ? o->split - pos : avail;
        struct http_response_rewrite rw;
        enum body_kind kind;
        struct framing fa, fb;
        size_t seen, rlen, blen;
        char *out, *big;
        llhttp_t p, p2;
        bool done, dechunk;
        long n;
        int r;

        if (first > avail)
            first = avail;
        r = parse_head2(&p, HTTP_RESPONSE, h, m, first, avail, &seen);
        if (r != HTTP_HEAD_DONE)
            break;
        check_head(h, seen, false);
        CHECK(h->status <= 999);
        if (head_folds(m, h->len)) {
            fprintf(stderr, "fuzz_http: accepted a response head with obs-fold:\n%.*s\n",
                    (int)h->len, m);
            abort();
        }
        if (h->status >= 100 && h->status < 200 && h->status != 101) {
            /* forward_interim: as it is, then the final response follows. */
            rw = (struct http_response_rewrite){NULL, 0, HTTP_CONN_NONE, false, false, true};
            out = write_resp(h, &rw, BUF_CAP, &rlen);
            free(out);
            pos += h->len;
            continue;
        }
        kind = http_response_body_kind(&p, head_req, h->status);
        dechunk = http10_client && kind == BODY_CHUNKED;
        rw.request_id = (o->flags & F_ID) ? long_id : "0123456789abcdef0123456789abcdef";
        rw.request_id_len = strlen(rw.request_id);
        rw.connection = (enum http_conn_header)(o->b3 % 3);
        rw.tunnel = h->status == 101;
        rw.dechunk = dechunk;
        rw.interim = false;
        rw.date = "Wed, 02 Dec 2026 00:00:00 GMT"; /* added when the backend sent none */
        out = write_resp(h, &rw, BUF_CAP, &rlen);
        big = write_resp(h, &rw, 4 * BUF_CAP, &blen);
        CHECK(big != NULL);
        if (out != NULL)
            CHECK(rlen == blen && memcmp(out, big, rlen) == 0);
        else
            CHECK(blen > BUF_CAP);
        if (o->flags & F_SMALL_CAP) {
            size_t slen;
            char *small = write_resp(h, &rw, 1 + o->b3, &slen);

            if (small != NULL)
                CHECK(slen == blen && memcmp(small, big, slen) == 0);
            else
                CHECK(blen > 1u + o->b3);
            free(small);
        }
        /* The client reads the same head: same status and, unless
         * de-chunked, the same framing (when the headers drover adds do not
         * take the count past what its own parser takes). */
        r = parse_head2(&p2, HTTP_RESPONSE, h2, big, 0, blen, &seen);
        if (r != HTTP_HEAD_AGAIN && !(r == HTTP_HEAD_BAD && h2->too_many)) {
            if (r != HTTP_HEAD_DONE || h2->len != blen) {
                fprintf(stderr, "fuzz_http: the rewritten response head reads differently:\n%.*s\n",
                        (int)blen, big);
                abort();
            }
            CHECK(h2->status == h->status);
            fa = framing_of(&p);
            fb = framing_of(&p2);
            if (h->status == 204)
                CHECK(!fb.chunked && !fb.has_cl); /* RFC 9112 6.1, RFC 9110 8.6: none on a 204 */
            else if (dechunk)
                CHECK(!fb.chunked && fa.has_cl == fb.has_cl);
            else
                CHECK(fa.chunked == fb.chunked && fa.has_cl == fb.has_cl && fa.cl == fb.cl);
        }
        free(out);
        free(big);
        pos += h->len;
        if (h->status == 101 || kind == BODY_EOF)
            break; /* the rest is the tunnel, or the body up to the close */
        if (kind == BODY_NONE)
            continue;
        first = first > h->len ? first - h->len : 0;
        if (dechunk) {
            n = dechunk_body(&p, s + pos, first, len - pos, &done);
        } else {
            struct http_body bs;

            llhttp_resume(&p);
            http_body_init(&p, &bs, 0);
            n = run_body(&p, s + pos, first, len - pos, &bs, &done);
        }
        if (n < 0 || !done)
            break;
        pos += (size_t)n;
    }
    free(h);
    free(h2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct opts o;
    const char *s;
    size_t len;

    if (size < 4)
        return 0;
    s = (const char *)data + 4;
    len = size - 4;
    o.split = ((size_t)data[0] | (size_t)data[1] << 8) % (len + 1);
    o.flags = data[2];
    o.b3 = data[3];
    run_requests(s, len, &o);
    run_responses(s, len, &o, false);
    run_responses(s, len, &o, true);
    return 0;
}
