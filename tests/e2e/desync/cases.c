/* Our own desync regression set, tiered the way http-desync-guardian
 * tiers requests (Compliant: RFC framing, must be forwarded; Acceptable:
 * off the RFC but not in its framing; Ambiguous: framing two readers may
 * read two ways; Severe: framing that is broken), each with the outcome
 * drover must have. Written for drover, not copied from the corpus: it
 * keeps the cases that matter when the corpus is not at hand (CI), and
 * adds what the corpus has not (chunk-size tricks, trailers, bodies).
 *
 * A head is sent as written, then its body (BODY_LENGTH bytes, or the
 * chunked body, or raw bytes), then the marker. */
#include <string.h>
#include <strings.h>

#include "tests/e2e/desync/desync.h"

#define S(lit) lit, sizeof(lit) - 1

/* A chunk holding DESYNC_SMUGGLED (45 bytes = 0x2d). */
#define SMUGGLED "GET /smuggled HTTP/1.1\r\nHost: desync.test\r\n\r\n"
#define POST "POST /r HTTP/1.1\r\nHost: desync.test\r\n"
#define R OUT_REJECTED
#define F OUT_FORWARDED

static const struct rcase {
    const char *name;
    enum tier tier;
    const char *head;
    size_t head_len;
    enum body_kind kind;
    size_t n;
    const char *raw;            /* a raw body instead of kind, or NULL */
    size_t raw_len;
    int expect, status;
} rcases[] = {
    /* Compliant: forwarded with their bodies. */
    {"GET without a body", TIER_COMPLIANT, S("GET /r HTTP/1.1\r\nHost: desync.test\r\n\r\n"),
     BODY_NONE, 0, NULL, 0, F, 0},
    {"Content-Length body", TIER_COMPLIANT, S(POST "Content-Length: 100\r\n\r\n"), BODY_LENGTH, 100,
     NULL, 0, F, 0},
    {"chunked body", TIER_COMPLIANT, S(POST "Transfer-Encoding: chunked\r\n\r\n"), BODY_CHUNKED, 0,
     NULL, 0, F, 0},
    {"Transfer-Encoding: gzip, chunked", TIER_COMPLIANT,
     S(POST "Transfer-Encoding: gzip, chunked\r\n\r\n"), BODY_CHUNKED, 0, NULL, 0, F, 0},
    {"two Transfer-Encoding fields, chunked last", TIER_COMPLIANT,
     S(POST "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"), BODY_CHUNKED, 0, NULL,
     0, F, 0},
    {"OWS around the Transfer-Encoding value", TIER_COMPLIANT,
     S(POST "Transfer-Encoding: \t chunked  \r\n\r\n"), BODY_CHUNKED, 0, NULL, 0, F, 0},
    {"OWS around the Content-Length value", TIER_COMPLIANT,
     S(POST "Content-Length: \t 50  \r\n\r\n"), BODY_LENGTH, 50, NULL, 0, F, 0},
    /* llhttp 8.1 takes a trailing HTAB for part of the coding or the
     * digits (a trailing SP it drops): refused whole, never misread. */
    {"a trailing tab after chunked", TIER_COMPLIANT, S(POST "Transfer-Encoding: chunked\t\r\n\r\n"),
     BODY_CHUNKED, 0, NULL, 0, R, 400},
    {"a trailing tab after the Content-Length digits", TIER_COMPLIANT,
     S(POST "Content-Length: 50\t\r\n\r\n"), BODY_LENGTH, 50, NULL, 0, R, 400},
    {"framing names and coding in mixed case", TIER_COMPLIANT,
     S(POST "tRANSFER-eNCODING: ChUnKeD\r\n\r\n"), BODY_CHUNKED, 0, NULL, 0, F, 0},
    {"obs-text and tabs in a value", TIER_COMPLIANT,
     S(POST "X-Text: \tcaf\xc3\xa9 \x80\xff\tend\r\nContent-Length: 50\r\n\r\n"), BODY_LENGTH, 50,
     NULL, 0, F, 0},
    {"every tchar in a field name", TIER_COMPLIANT,
     S(POST "X-!#$%&'*+.^_`|~09: v\r\nContent-Length: 50\r\n\r\n"), BODY_LENGTH, 50, NULL, 0, F, 0},
    {"HTTP/1.0 keep-alive with a body", TIER_COMPLIANT,
     S("POST /r HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 60\r\n\r\n"), BODY_LENGTH, 60,
     NULL, 0, F, 0},
    {"HTTP/1.0 with a body, then the close", TIER_COMPLIANT,
     S("POST /r HTTP/1.0\r\nContent-Length: 60\r\n\r\n"), BODY_LENGTH, 60, NULL, 0, F, 0},
    {"Connection: close", TIER_COMPLIANT,
     S("GET /r HTTP/1.1\r\nHost: desync.test\r\nConnection: close\r\n\r\n"), BODY_NONE, 0, NULL, 0,
     F, 0},
    {"chunk extensions", TIER_COMPLIANT, S(POST "Transfer-Encoding: chunked\r\n\r\n"), BODY_NONE, 0,
     S("2d;name;q=\"a b\"\r\n" SMUGGLED "\r\n0;last=1\r\n\r\n"), F, 0},
    /* llhttp 8.1 refuses a ';' after an unquoted extension value (and the
     * BWS RFC 9112 7.1.1 allows around ';' and '='): refused whole. */
    {"a second chunk extension after a token value", TIER_COMPLIANT,
     S(POST "Transfer-Encoding: chunked\r\n\r\n"), BODY_NONE, 0,
     S("2d;a=b;c=d\r\n" SMUGGLED "\r\n0\r\n\r\n"), R, 400},
    {"whitespace before a chunk extension", TIER_COMPLIANT,
     S(POST "Transfer-Encoding: chunked\r\n\r\n"), BODY_NONE, 0,
     S("2d ;a\r\n" SMUGGLED "\r\n0\r\n\r\n"), R, 400},
    {"a trailer field", TIER_COMPLIANT, S(POST "Transfer-Encoding: chunked\r\n\r\n"), BODY_NONE, 0,
     S("2d\r\n" SMUGGLED "\r\n0\r\nX-Trailer: 1\r\n\r\n"), F, 0},
    {"percent-encoded CR, LF, NUL and tab in the target", TIER_COMPLIANT,
     S("GET /p%0d%0a%00%09?q=%20 HTTP/1.1\r\nHost: desync.test\r\n\r\n"), BODY_NONE, 0, NULL, 0, F,
     0},
    {"a 1 MB Content-Length body", TIER_COMPLIANT, S(POST "Content-Length: 1000000\r\n\r\n"),
     BODY_LENGTH, 1000000, NULL, 0, F, 0},
    {"an empty line before the request line", TIER_COMPLIANT,
     S("\r\nGET /r HTTP/1.1\r\nHost: desync.test\r\n\r\n"), BODY_NONE, 0, NULL, 0, F, 0},

    /* Acceptable: off the RFC outside the framing. */
    {"GET with Content-Length: 0", TIER_ACCEPTABLE,
     S("GET /r HTTP/1.1\r\nHost: desync.test\r\nContent-Length: 0\r\n\r\n"), BODY_NONE, 0, NULL, 0,
     F, 0},
    {"whitespace before the colon of another field", TIER_ACCEPTABLE,
     S(POST "X-A : v\r\nContent-Length: 50\r\n\r\n"), BODY_LENGTH, 50, NULL, 0, R, 400},
    {"a control byte in another field's value", TIER_ACCEPTABLE,
     S(POST "X-A: a\x01" "b\r\nContent-Length: 50\r\n\r\n"), BODY_LENGTH, 50, NULL, 0, R, 400},
    {"a control byte in another field's name", TIER_ACCEPTABLE,
     S(POST "X-\x01" "A: v\r\nContent-Length: 50\r\n\r\n"), BODY_LENGTH, 50, NULL, 0, R, 400},
    /* RFC 9112 2.3: read as 1.1. */
    {"HTTP/1.2", TIER_ACCEPTABLE, S("GET /r HTTP/1.2\r\nHost: desync.test\r\n\r\n"), BODY_NONE, 0,
     NULL, 0, F, 0},

    /* Ambiguous: refused, or forwarded with one reading only. */
    {"Content-Length, then Transfer-Encoding: chunked", TIER_AMBIGUOUS,
     S(POST "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"), BODY_CHUNKED, 0, NULL, 0, R,
     400},
    {"Transfer-Encoding: chunked, then Content-Length", TIER_AMBIGUOUS,
     S(POST "Transfer-Encoding: chunked\r\nContent-Length: 60\r\n\r\n"), BODY_CHUNKED, 0, NULL, 0, R,
     400},
    {"Transfer-Encoding: gzip and Content-Length", TIER_AMBIGUOUS,
     S(POST "Transfer-Encoding: gzip\r\nContent-Length: 50\r\n\r\n"), BODY_LENGTH, 50, NULL, 0, R,
     400},
    {"two equal Content-Length fields", TIER_AMBIGUOUS,
     S(POST "Content-Length: 50\r\nContent-Length: 50\r\n\r\n"), BODY_LENGTH, 50, NULL, 0, R, 400},
    {"Content-Length: 50, 50", TIER_AMBIGUOUS, S(POST "Content-Length: 50, 50\r\n\r\n"), BODY_LENGTH,
     50, NULL, 0, R, 400},
    {"whitespace before the colon of Transfer-Encoding", TIER_AMBIGUOUS,
     S(POST "Transfer-Encoding : chunked\r\n\r\n"), BODY_CHUNKED, 0, NULL, 0, R, 400},
    {"whitespace before Transfer-Encoding (obs-fold)", TIER_AMBIGUOUS,
     S(POST "X-A: a\r\n Transfer-Encoding: chunked\r\n\r\n"), BODY_CHUNKED, 0, NULL, 0, R, 400},
    {"a tab after the name Transfer-Encoding", TIER_AMBIGUOUS,
     S(POST "Transfer-Encoding\t: chunked\r\n\r\n"), BODY_CHUNKED, 0, NULL, 0, R, 400},
    {"a control byte before Transfer-Encoding", TIER_AMBIGUOUS,
     S(POST "\x01Transfer-Encoding: chunked\r\n\r\n"), BODY_CHUNKED, 0, NULL, 0, R, 400},
    {"a look-alike letter in Transfer-Encoding (U+017F)", TIER_AMBIGUOUS,
     S(POST "Tran\xc5\xbf" "fer-Encoding: chunked\r\n\r\n"), BODY_CHUNKED, 0, NULL, 0, R, 400},
    {"an empty field name", TIER_AMBIGUOUS, S(POST ": chunked\r\nContent-Length: 50\r\n\r\n"),
     BODY_LENGTH, 50, NULL, 0, R, 400},
    /* A valid token: forwarded as an unknown field, the body framed by
     * Content-Length alone (drover and the backend agree; a backend that
     * maps '_' to '-' must not frame by it). */
    {"Transfer_Encoding (an underscore) beside Content-Length", TIER_AMBIGUOUS,
     S(POST "Transfer_Encoding: chunked\r\nContent-Length: 50\r\n\r\n"), BODY_LENGTH, 50, NULL, 0, F,
     0},
    {"Transfer-Encoding in HTTP/1.0", TIER_AMBIGUOUS,
     S("POST /r HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), BODY_CHUNKED, 0, NULL, 0, R, 400},
    {"Transfer-Encoding: chunked, identity (chunked not last)", TIER_AMBIGUOUS,
     S(POST "Transfer-Encoding: chunked, identity\r\n\r\n"), BODY_NONE, 0, NULL, 0, R, 0},
    /* RFC 9112 6.3 frames a request body by its fields whatever the
     * method; the backend reads it as drover does. */
    {"GET with a Content-Length body", TIER_AMBIGUOUS,
     S("GET /r HTTP/1.1\r\nHost: desync.test\r\nContent-Length: 60\r\n\r\n"), BODY_LENGTH, 60, NULL,
     0, F, 0},
    {"HEAD with a chunked body", TIER_AMBIGUOUS,
     S("HEAD /r HTTP/1.1\r\nHost: desync.test\r\nTransfer-Encoding: chunked\r\n\r\n"), BODY_CHUNKED,
     0, NULL, 0, F, 0},
    {"a tab in the target", TIER_AMBIGUOUS, S("GET /a\tb HTTP/1.1\r\nHost: desync.test\r\n\r\n"),
     BODY_NONE, 0, NULL, 0, R, 400},

    /* Severe: refused. */
    {"two different Content-Length fields", TIER_SEVERE,
     S(POST "Content-Length: 50\r\nContent-Length: 5\r\n\r\n"), BODY_LENGTH, 50, NULL, 0, R, 400},
    {"Content-Length: +50", TIER_SEVERE, S(POST "Content-Length: +50\r\n\r\n"), BODY_LENGTH, 50, NULL,
     0, R, 400},
    {"Content-Length: 0x32", TIER_SEVERE, S(POST "Content-Length: 0x32\r\n\r\n"), BODY_LENGTH, 50,
     NULL, 0, R, 400},
    {"Content-Length: 5 0", TIER_SEVERE, S(POST "Content-Length: 5 0\r\n\r\n"), BODY_LENGTH, 50, NULL,
     0, R, 400},
    {"Content-Length past 64 bits", TIER_SEVERE,
     S(POST "Content-Length: 18446744073709551666\r\n\r\n"), BODY_LENGTH, 50, NULL, 0, R, 400},
    {"a control byte after the Content-Length digits", TIER_SEVERE,
     S(POST "Content-Length: 50\x01\r\n\r\n"), BODY_LENGTH, 50, NULL, 0, R, 400},
    {"Transfer-Encoding: xchunked", TIER_SEVERE, S(POST "Transfer-Encoding: xchunked\r\n\r\n"),
     BODY_CHUNKED, 0, NULL, 0, R, 501},
    {"Transfer-Encoding: chunk", TIER_SEVERE, S(POST "Transfer-Encoding: chunk\r\n\r\n"),
     BODY_CHUNKED, 0, NULL, 0, R, 501},
    {"Transfer-Encoding: chunked, chunked", TIER_SEVERE,
     S(POST "Transfer-Encoding: chunked, chunked\r\n\r\n"), BODY_CHUNKED, 0, NULL, 0, R, 400},
    {"two Transfer-Encoding: chunked fields", TIER_SEVERE,
     S(POST "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"), BODY_CHUNKED, 0,
     NULL, 0, R, 400},
    {"Transfer-Encoding: chunked;a=b (a parameter)", TIER_SEVERE,
     S(POST "Transfer-Encoding: chunked;a=b\r\n\r\n"), BODY_CHUNKED, 0, NULL, 0, R, 0},
    {"a NUL before chunked", TIER_SEVERE, S(POST "Transfer-Encoding: \x00" "chunked\r\n\r\n"),
     BODY_CHUNKED, 0, NULL, 0, R, 400},
    {"a bare CR in a value hiding Transfer-Encoding", TIER_SEVERE,
     S(POST "X-A: a\rTransfer-Encoding: chunked\r\nContent-Length: 50\r\n\r\n"), BODY_LENGTH, 50,
     NULL, 0, R, 400},
    {"a bare LF in a value hiding Transfer-Encoding", TIER_SEVERE,
     S(POST "X-A: a\nTransfer-Encoding: chunked\r\nContent-Length: 50\r\n\r\n"), BODY_LENGTH, 50,
     NULL, 0, R, 400},
    {"a NUL in a field name", TIER_SEVERE, S(POST "X-A\x00" "B: v\r\nContent-Length: 50\r\n\r\n"),
     BODY_LENGTH, 50, NULL, 0, R, 400},
    {"a CR in the target", TIER_SEVERE, S("GET /a\rb HTTP/1.1\r\nHost: desync.test\r\n\r\n"),
     BODY_NONE, 0, NULL, 0, R, 400},
    {"a request hidden in the target", TIER_SEVERE,
     S("GET /a\tHTTP/1.1\r\nHost: desync.test\r\n\r\nGET\t/b\t HTTP/1.1\r\nHost: desync.test\r\n\r\n"),
     BODY_NONE, 0, NULL, 0, R, 400},
    {"a control byte in the method", TIER_SEVERE, S("GE\x01T /r HTTP/1.1\r\nHost: desync.test\r\n\r\n"),
     BODY_NONE, 0, NULL, 0, R, 400},
    {"two versions in the request line", TIER_SEVERE,
     S("GET /r HTTP/1.1 HTTP/1.1\r\nHost: desync.test\r\n\r\n"), BODY_NONE, 0, NULL, 0, R, 0},
    {"HTTP/0.9 (no version)", TIER_SEVERE, S("GET /r\r\nHost: desync.test\r\n\r\n"), BODY_NONE, 0,
     NULL, 0, R, 0},
    {"chunk size +2d", TIER_SEVERE, S(POST "Transfer-Encoding: chunked\r\n\r\n"), BODY_NONE, 0,
     S("+2d\r\n" SMUGGLED "\r\n0\r\n\r\n"), R, 400},
    {"chunk size 0x2d", TIER_SEVERE, S(POST "Transfer-Encoding: chunked\r\n\r\n"), BODY_NONE, 0,
     S("0x2d\r\n" SMUGGLED "\r\n0\r\n\r\n"), R, 400},
    {"chunk size past 64 bits", TIER_SEVERE, S(POST "Transfer-Encoding: chunked\r\n\r\n"),
     BODY_NONE, 0, S("1000000000000002d\r\n" SMUGGLED "\r\n0\r\n\r\n"), R, 400},
    {"chunk size ended by a bare LF", TIER_SEVERE, S(POST "Transfer-Encoding: chunked\r\n\r\n"),
     BODY_NONE, 0, S("2d\n" SMUGGLED "\r\n0\r\n\r\n"), R, 400},
    {"chunk size followed by a space", TIER_SEVERE, S(POST "Transfer-Encoding: chunked\r\n\r\n"),
     BODY_NONE, 0, S("2d \r\n" SMUGGLED "\r\n0\r\n\r\n"), R, 400},
    {"chunk data without its CRLF", TIER_SEVERE, S(POST "Transfer-Encoding: chunked\r\n\r\n"),
     BODY_NONE, 0, S("2d\r\n" SMUGGLED "XX0\r\n\r\n"), R, 400},
    {"a bare CR in a chunk extension", TIER_SEVERE, S(POST "Transfer-Encoding: chunked\r\n\r\n"),
     BODY_NONE, 0, S("2d;a\rb\r\n" SMUGGLED "\r\n0\r\n\r\n"), R, 400},
    {"Content-Length in the trailer section", TIER_SEVERE,
     S(POST "Transfer-Encoding: chunked\r\n\r\n"), BODY_NONE, 0,
     S("2d\r\n" SMUGGLED "\r\n0\r\nContent-Length: 5\r\n\r\n"), R, 400},
};

static bool has_field_token(const char *head, size_t len, const char *line)
{
    size_t n = strlen(line);

    for (size_t i = 0; i + n <= len; i++)
        if (strncasecmp(head + i, line, n) == 0)
            return true;
    return false;
}

void regress_cases(struct case_list *out)
{
    for (size_t i = 0; i < sizeof(rcases) / sizeof(rcases[0]); i++) {
        const struct rcase *rc = &rcases[i];
        struct dcase *c = case_add(out);
        const char *line = rc->head, *end = rc->head + rc->head_len, *sp, *sp2, *eol;

        c->name = rc->name;
        c->source = "regress";
        c->tier = rc->tier;
        c->expect = rc->expect;
        c->expect_status = rc->status;
        dbuf_put(&c->head, rc->head, rc->head_len);
        if (rc->raw != NULL)
            case_set_raw_body(c, rc->raw, rc->raw_len, SMUGGLED);
        else
            case_set_body(c, rc->kind, rc->n);
        /* The request line as the client means it: METHOD SP TARGET SP. */
        while (end - line >= 2 && line[0] == '\r' && line[1] == '\n')
            line += 2;
        eol = memchr(line, '\r', (size_t)(end - line));
        sp = memchr(line, ' ', (size_t)(end - line));
        sp2 = sp != NULL ? memchr(sp + 1, ' ', (size_t)(end - sp - 1)) : NULL;
        if (sp != NULL) {
            dbuf_put(&c->method, line, (size_t)(sp - line));
            if (sp2 == NULL || (eol != NULL && sp2 > eol))
                sp2 = eol;
            if (sp2 != NULL)
                dbuf_put(&c->target, sp + 1, (size_t)(sp2 - sp - 1));
        }
        /* RFC 9112 2.3: a higher 1.x minor version is read as 1.1. */
        if (eol != NULL && eol - line >= 8 && memcmp(eol - 8, "HTTP/1.0", 8) == 0)
            c->keep_alive = has_field_token(rc->head, rc->head_len, "\nConnection: keep-alive\r");
        else if (eol != NULL && eol - line >= 8 && memcmp(eol - 8, "HTTP/1.", 7) == 0 &&
                 eol[-1] >= '1' && eol[-1] <= '9')
            c->keep_alive = !has_field_token(rc->head, rc->head_len, "\nConnection: close\r");
    }
}
