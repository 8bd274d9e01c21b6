#include "router/http.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/rng.h"
#include "router/http_syntax.h"

enum { CB_NONE, CB_FIELD, CB_VALUE };

static struct http_head *head_of(llhttp_t *p)
{
    return p->data;
}

static int on_target(llhttp_t *p, const char *at, size_t len)
{
    struct http_head *h = head_of(p);

    if (h->target.len == 0)
        h->target.off = (uint32_t)(at - h->base);
    h->target.len += (uint32_t)len;
    return 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t len)
{
    struct http_head *h = head_of(p);
    struct http_header *hd;

    if (h->cb_state != CB_FIELD) {
        if (h->nhdr == HTTP_MAX_HEADERS) {
            h->too_many = true;
            llhttp_set_error_reason(p, "too many header fields");
            return HPE_USER;
        }
        hd = &h->hdr[h->nhdr++];
        memset(hd, 0, sizeof(*hd));
        hd->name.off = (uint32_t)(at - h->base);
        h->cb_state = CB_FIELD;
    } else {
        hd = &h->hdr[h->nhdr - 1];
    }
    hd->name.len += (uint32_t)len;
    return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t len)
{
    struct http_head *h = head_of(p);
    struct http_header *hd = &h->hdr[h->nhdr - 1];

    if (h->cb_state != CB_VALUE) {
        hd->value.off = (uint32_t)(at - h->base);
        h->cb_state = CB_VALUE;
    }
    hd->value.len += (uint32_t)len;
    return 0;
}

static bool name_is(const char *name, size_t len, const char *lower)
{
    return strlen(lower) == len && strncasecmp(name, lower, len) == 0;
}

/* A header name (llhttp has checked it is a token) against a lowercase
 * literal: OR-ing 0x20 folds A-Z to a-z and maps no other token byte onto
 * a letter or '-', so this is exact and cheaper than strncasecmp. */
static inline bool token_eq(const char *n, const char *lower, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((n[i] | 0x20) != lower[i])
            return false;
    return true;
}

#define TOKEN_IS(n, lit) token_eq((n), (lit), sizeof(lit) - 1)

static enum http_hdr_kind classify(const char *n, size_t len)
{
    /* Dispatch on length, then one fold-compare: most headers are rejected
     * by the switch or the first byte. */
    switch (len) {
    case 2:
        return TOKEN_IS(n, "te") ? H_TE : H_OTHER;
    case 3:
        return TOKEN_IS(n, "via") ? H_VIA : H_OTHER;
    case 4:
        if (TOKEN_IS(n, "host"))
            return H_HOST;
        return TOKEN_IS(n, "date") ? H_DATE : H_OTHER;
    case 6:
        return TOKEN_IS(n, "expect") ? H_EXPECT : H_OTHER;
    case 7:
        if (TOKEN_IS(n, "upgrade"))
            return H_UPGRADE;
        if (TOKEN_IS(n, "trailer"))
            return H_TRAILER;
        return TOKEN_IS(n, "referer") ? H_REFERER : H_OTHER;
    case 10:
        if (TOKEN_IS(n, "connection"))
            return H_CONNECTION;
        if (TOKEN_IS(n, "keep-alive"))
            return H_KEEP_ALIVE;
        return TOKEN_IS(n, "user-agent") ? H_USER_AGENT : H_OTHER;
    case 12:
        if (TOKEN_IS(n, "x-request-id"))
            return H_X_REQUEST_ID;
        return TOKEN_IS(n, "max-forwards") ? H_MAX_FORWARDS : H_OTHER;
    case 14:
        return TOKEN_IS(n, "content-length") ? H_CONTENT_LENGTH : H_OTHER;
    case 15:
        if (TOKEN_IS(n, "x-forwarded-for"))
            return H_X_FORWARDED_FOR;
        return TOKEN_IS(n, "x-request-start") ? H_X_REQUEST_START : H_OTHER;
    case 16:
        if (TOKEN_IS(n, "proxy-connection"))
            return H_PROXY_CONNECTION;
        return TOKEN_IS(n, "x-forwarded-port") ? H_X_FORWARDED_PORT : H_OTHER;
    case 17:
        if (TOKEN_IS(n, "transfer-encoding"))
            return H_TRANSFER_ENCODING;
        return TOKEN_IS(n, "x-forwarded-proto") ? H_X_FORWARDED_PROTO : H_OTHER;
    default:
        return H_OTHER;
    }
}

static int on_header_value_complete(llhttp_t *p)
{
    struct http_head *h = head_of(p);
    struct http_header *hd = &h->hdr[h->nhdr - 1];
    enum http_hdr_kind kind = classify(http_str(h, hd->name), hd->name.len);

    hd->kind = (uint8_t)kind;
    if (h->count[kind]++ == 0)
        h->first[kind] = (int16_t)(h->nhdr - 1);
    h->cb_state = CB_NONE;
    return 0;
}

static void trim(const char **s, size_t *len)
{
    while (*len > 0 && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
        (*len)--;
}

/* Marks the headers a Connection token names. Framing and routing headers
 * are never dropped this way: "Connection: content-length" would otherwise
 * let a client make drover and the backend disagree about the body. */
static void drop_named(struct http_head *h, const char *tok, size_t len)
{
    for (unsigned i = 0; i < h->nhdr; i++) {
        struct http_header *hd = &h->hdr[i];

        if (hd->kind == H_OTHER && hd->name.len == len &&
            strncasecmp(http_str(h, hd->name), tok, len) == 0)
            hd->drop = true;
    }
}

static void scan_connection_tokens(struct http_head *h)
{
    for (unsigned i = 0; i < h->nhdr; i++) {
        const struct http_header *hd = &h->hdr[i];
        const char *s, *end;

        if (hd->kind != H_CONNECTION)
            continue;
        s = http_str(h, hd->value);
        end = s + hd->value.len;
        while (s < end) {
            const char *comma = memchr(s, ',', (size_t)(end - s));
            const char *tok = s;
            size_t len = (size_t)((comma != NULL ? comma : end) - s);

            trim(&tok, &len);
            if (name_is(tok, len, "close"))
                h->conn_close = true;
            else if (name_is(tok, len, "keep-alive"))
                h->conn_keep_alive = true;
            else if (name_is(tok, len, "upgrade"))
                h->conn_upgrade = true;
            else if (len > 0)
                drop_named(h, tok, len);
            s = comma != NULL ? comma + 1 : end;
        }
    }
}

static int on_headers_complete(llhttp_t *p)
{
    struct http_head *h = head_of(p);

    h->method = llhttp_get_method(p);
    h->major = llhttp_get_http_major(p);
    h->minor = llhttp_get_http_minor(p);
    h->status = (uint16_t)llhttp_get_status_code(p);
    if (h->count[H_CONNECTION] > 0)
        scan_connection_tokens(h);
    return HPE_PAUSED;
}

static int on_message_complete(llhttp_t *p)
{
    (void)p;
    return HPE_PAUSED;
}

const llhttp_settings_t http_head_settings = {
    .on_url = on_target,
    .on_status = on_target,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_header_value_complete = on_header_value_complete,
    .on_headers_complete = on_headers_complete,
    .on_message_complete = on_message_complete,
};

static int bad(struct http_head *h, int status, const char *reason)
{
    h->err_status = status;
    h->err_reason = reason;
    return HTTP_HEAD_BAD;
}

/* Line endings in bytes that may be an incomplete head: NUL anywhere, a CR
 * not followed by LF, or an LF without its CR is malformed whatever
 * follows, so it is answered at once rather than after client_header. */
static int scan_line_ends(struct http_head *h, const char *data, size_t len)
{
    const char *end = data + len;

    if (memchr(data, '\0', len) != NULL)
        return bad(h, 400, "NUL byte in the request head");
    for (const char *p = data; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
        if (p == data || p[-1] != '\r')
            return bad(h, 400, "line ending without CR (bare LF)");
    for (const char *p = data; (p = memchr(p, '\r', (size_t)(end - p))) != NULL; p++)
        if (p + 1 < end && p[1] != '\n')
            return bad(h, 400, "CR without LF in the request head");
    return HTTP_HEAD_AGAIN;
}

/* Every header line of a complete head, byte by byte: llhttp 8.1 accepts
 * obs-fold and is lenient about some bytes; a front router must not be, or
 * it and the backend may read one request two ways. */
static int scan_header_lines(struct http_head *h, const char *data, size_t len)
{
    const char *end = data + len, *p = data;

    /* Empty lines before the start line (llhttp skips them), then the start
     * line, which llhttp checked. Every other byte is checked below: NUL, a
     * lone CR or LF are not token or value bytes. */
    while (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
        p += 2;
    if (p < end && (*p == '\r' || *p == '\n'))
        return bad(h, 400, "line ending without CR (bare LF)");
    p = memchr(p, '\n', (size_t)(end - p));
    if (p == NULL || p == data || p[-1] != '\r')
        return bad(h, 400, "line ending without CR (bare LF)");
    for (p = p + 1; p < end;) {
        const char *eol = memchr(p, '\r', (size_t)(end - p)), *q;

        if (eol == NULL || eol + 1 >= end || eol[1] != '\n')
            return bad(h, 400, "CR without LF in the request head");
        if (eol == p)
            break; /* the blank line: the head ends */
        if (*p == ' ' || *p == '\t')
            return bad(h, 400, "obsolete line folding in a header");
        for (q = p; q < eol && http_tchar[(unsigned char)*q]; q++) {
        }
        if (q < eol && (*q == ' ' || *q == '\t'))
            return bad(h, 400, "whitespace before the colon of a header");
        if (q == p || q == eol || *q != ':')
            return bad(h, 400, "invalid header name");
        for (q++; q < eol; q++)
            if (!http_value_byte((unsigned char)*q))
                return bad(h, 400, "invalid byte in a header value");
        p = eol + 2;
    }
    return HTTP_HEAD_DONE;
}

/* Transfer-Encoding, all headers together: drover can frame a list whose
 * last (and only last) coding is chunked. An unknown coding is 501
 * (RFC 9112 6.1), any other shape 400. */
static int check_transfer_encoding(struct http_head *h)
{
    static const char *const known[] = {"gzip", "x-gzip", "deflate", "compress", "x-compress"};
    unsigned ncodings = 0, nchunked = 0;
    bool last_chunked = false;

    for (unsigned i = 0; i < h->nhdr; i++) {
        const struct http_header *hd = &h->hdr[i];
        const char *s = http_str(h, hd->value), *end = s + hd->value.len;

        if (hd->kind != H_TRANSFER_ENCODING)
            continue;
        for (;;) {
            const char *comma = memchr(s, ',', (size_t)(end - s));
            const char *tok = s, *semi;
            size_t len = (size_t)((comma != NULL ? comma : end) - s);
            bool ok;

            semi = memchr(tok, ';', len);
            if (semi != NULL)
                len = (size_t)(semi - tok); /* parameters do not change the coding */
            trim(&tok, &len);
            if (len > 0) {
                ncodings++;
                last_chunked = name_is(tok, len, "chunked");
                /* chunked has no parameters; a backend that strips them and
                 * llhttp (which does not) would frame the body two ways. */
                if (last_chunked && semi != NULL)
                    return bad(h, 400, "parameters on chunked");
                nchunked += last_chunked;
                ok = last_chunked;
                for (size_t k = 0; !ok && k < sizeof(known) / sizeof(known[0]); k++)
                    ok = name_is(tok, len, known[k]);
                if (!ok)
                    return bad(h, 501, "unsupported Transfer-Encoding");
            }
            if (comma == NULL)
                break;
            s = comma + 1;
        }
    }
    if (ncodings == 0)
        return bad(h, 400, "empty Transfer-Encoding");
    if (nchunked > 1)
        return bad(h, 400, "chunked applied more than once");
    if (!last_chunked)
        return bad(h, 400, "Transfer-Encoding does not end with chunked");
    return HTTP_HEAD_DONE;
}

/* Host = uri-host [ ":" port ] (RFC 9110 7.2, RFC 3986 3.2.2): an
 * [IPv6] literal, or a reg-name / IPv4 address of unreserved, sub-delims
 * and %-escapes, then optionally ":" and 1 to 5 digits. Userinfo ("u@h"),
 * a second colon, a port that is not a number and any other byte are
 * refused. An empty value is valid (RFC 9112 3.2). */
static bool host_valid(const char *s, size_t len)
{
    size_t i = 0, digits = 0;

    if (len > 0 && s[0] == '[') {
        for (i = 1; i < len && s[i] != ']'; i++)
            if (!isxdigit((unsigned char)s[i]) && s[i] != ':' && s[i] != '.')
                return false;
        if (i == len || i == 1)
            return false;
        i++;
    } else {
        for (; i < len && s[i] != ':'; i++) {
            unsigned char c = (unsigned char)s[i];

            if (c == '\0' || !(isalnum(c) || strchr("-._~!$&'()*+,;=%", c) != NULL))
                return false;
        }
    }
    if (i == len)
        return true;
    if (s[i] != ':')
        return false;
    for (i++; i < len; i++, digits++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return digits >= 1 && digits <= 5;
}

static int check_request(struct http_head *h, const char *data)
{
    struct target_split t = http_split_target(http_str(h, h->target), h->target.len);
    const char *host;
    size_t hostlen;

    if (h->major != 1 || h->minor > 1)
        return bad(h, 505, "only HTTP/1.0 and HTTP/1.1 are supported");
    if (h->method == HTTP_CONNECT)
        return bad(h, 405, "CONNECT is not supported: drover is not a forward proxy");
    if (h->target.len > HTTP_MAX_TARGET)
        return bad(h, 414, "request target longer than 8 KiB");
    /* RFC 9112 3.2.4: the asterisk form is for a server-wide OPTIONS only. */
    if (h->target.len == 1 && data[h->target.off] == '*' && h->method != HTTP_OPTIONS)
        return bad(h, 400, "the target * is for OPTIONS only");
    if (scan_header_lines(h, data, h->len) != HTTP_HEAD_DONE)
        return HTTP_HEAD_BAD;
    if (h->minor == 1 && h->count[H_HOST] == 0)
        return bad(h, 400, "missing Host header");
    if (h->count[H_HOST] > 1)
        return bad(h, 400, "more than one Host header");
    host = http_header_value(h, H_HOST, &hostlen);
    if (host != NULL)
        trim(&host, &hostlen);
    if (host != NULL && !host_valid(host, hostlen))
        return bad(h, 400, "invalid Host header");
    /* An absolute-form target's authority is routed on and becomes Host:
     * it must pass the same checks, and name a host. */
    if (t.auth > 0) {
        const char *auth = http_str(h, h->target) + t.auth;

        if (t.authlen == 0 || auth[0] == ':' || !host_valid(auth, t.authlen) ||
            memchr(auth, '@', t.authlen) != NULL)
            return bad(h, 400, "invalid authority in the request target");
    }
    if ((h->method == HTTP_OPTIONS || h->method == HTTP_TRACE) && http_max_forwards(h) == -2)
        return bad(h, 400, "invalid Max-Forwards");
    if (h->count[H_TRANSFER_ENCODING] > 0) {
        if (h->minor == 0)
            return bad(h, 400, "Transfer-Encoding in an HTTP/1.0 request");
        return check_transfer_encoding(h);
    }
    return HTTP_HEAD_DONE;
}

/* " HTTP/d.d" that llhttp refused: a version we do not speak, not garbage. */
static bool looks_like_version(const char *data, size_t len)
{
    const char *p = memmem(data, len, " HTTP/", 6);

    return p != NULL && (size_t)(p - data) + 9 <= len && isdigit((unsigned char)p[6]) &&
           p[7] == '.' && isdigit((unsigned char)p[8]);
}

/* RFC 9112 2.3: a request of a higher minor version of HTTP/1 is read as
 * HTTP/1.1, the highest drover speaks. llhttp refuses it, so where the
 * request line ends in " HTTP/1.2" to " HTTP/1.9" this gives the offset of
 * that digit, for llhttp to be shown a "1" there; else 0. */
static size_t higher_minor_at(const char *data, size_t len)
{
    const char *eol = memchr(data, '\n', len);
    /* Without its end yet, the line may stop right after the digit. */
    size_t n = eol != NULL ? (size_t)(eol - data) : len;

    if (n > 0 && data[n - 1] == '\r')
        n--;
    if (n < 9 || memcmp(data + n - 9, " HTTP/1.", 8) != 0 || data[n - 1] < '2' || data[n - 1] > '9')
        return 0;
    return n - 1;
}

/* RFC 9112 4: a status line is HTTP/1.x, one space, exactly three digits
 * (llhttp takes "20" and "0200"), then a space or the line's end; an
 * HTTP/1.1 connection carries no other major version. */
static int check_status_line(struct http_head *h, const char *data)
{
    const char *code = memchr(data, ' ', h->len);

    if (h->major != 1)
        return bad(h, 502, "the backend answered in a protocol other than HTTP/1.x");
    if (code == NULL || (size_t)(code - data) + 4 >= h->len || !isdigit((unsigned char)code[1]) ||
        !isdigit((unsigned char)code[2]) || !isdigit((unsigned char)code[3]) ||
        (code[4] != ' ' && code[4] != '\r') || h->status < 100)
        return bad(h, 502, "invalid status code from the backend");
    return HTTP_HEAD_DONE;
}

/* Whether a request line llhttp refused at its method is well formed
 * otherwise ("TOKEN SP target SP HTTP/"): 1 yes, 0 no, -1 it may be once
 * the line is complete. */
static int looks_like_request_line(const char *data, size_t len)
{
    const char *eol, *sp;
    size_t i = 0;

    while (i < len && i <= 32 && http_tchar[(unsigned char)data[i]])
        i++;
    if (i == 0 || i > 32 || i == len || data[i] != ' ')
        return i == len && i > 0 && i <= 32 ? -1 : 0;
    if ((eol = memchr(data, '\n', len)) == NULL)
        return -1;
    sp = memchr(data + i + 1, ' ', (size_t)(eol - data) - i - 1);
    return sp != NULL && sp > data + i + 1 && eol - sp > 6 && memcmp(sp, " HTTP/", 6) == 0;
}

int http_parse_head(llhttp_t *p, llhttp_type_t type, struct http_head *h, const char *data,
                    size_t len)
{
    llhttp_errno_t err;
    size_t minor_at = type == HTTP_REQUEST ? higher_minor_at(data, len) : 0;

    llhttp_init(p, type, &http_head_settings);
    memset(h, 0, offsetof(struct http_head, hdr));
    memset(h->first, 0xff, sizeof(h->first));
    h->base = data;
    p->data = h;
    if (minor_at > 0) {
        /* No callback holds a span over the version digits. */
        err = llhttp_execute(p, data, minor_at);
        if (err == HPE_OK)
            err = llhttp_execute(p, "1", 1);
        if (err == HPE_OK)
            err = llhttp_execute(p, data + minor_at + 1, len - minor_at - 1);
    } else {
        err = llhttp_execute(p, data, len);
    }
    if (err == HPE_OK)
        return type == HTTP_REQUEST ? scan_line_ends(h, data, len) : HTTP_HEAD_AGAIN;
    if (err == HPE_PAUSED && llhttp_get_error_pos(p) != NULL) {
        h->len = (uint32_t)(llhttp_get_error_pos(p) - data);
        p->data = NULL; /* http_body_init gives it the body's state */
        if (type == HTTP_RESPONSE) {
            /* The head goes back out verbatim: obs-fold or a bad byte in it,
             * or in the reason phrase (llhttp 8.1 lets NUL and controls
             * through there), would reach the client (RFC 9112 4, 5.2). */
            const char *reason = http_str(h, h->target);

            if (check_status_line(h, data) != HTTP_HEAD_DONE)
                return HTTP_HEAD_BAD;
            for (uint32_t i = 0; i < h->target.len; i++)
                if (!http_value_byte((unsigned char)reason[i]))
                    return bad(h, 502, "invalid byte in the reason phrase");
            return scan_header_lines(h, data, h->len) == HTTP_HEAD_DONE ? HTTP_HEAD_DONE
                                                                        : HTTP_HEAD_BAD;
        }
        if (check_request(h, data) != HTTP_HEAD_DONE)
            return HTTP_HEAD_BAD;
        /* Whatever the checks above allowed, the body is framed the way
         * llhttp frames it: a Transfer-Encoding it does not read as
         * chunked would leave the body to be parsed as a request. */
        if (h->count[H_TRANSFER_ENCODING] > 0 && !(p->flags & F_CHUNKED))
            return bad(h, 400, "Transfer-Encoding that is not chunked");
        return HTTP_HEAD_DONE;
    }
    if (h->too_many)
        return bad(h, 431, "too many header fields");
    switch (err) {
    case HPE_INVALID_VERSION:
        if (looks_like_version(data, len))
            return bad(h, 505, "only HTTP/1.0 and HTTP/1.1 are supported");
        return bad(h, 400, "invalid HTTP version");
    case HPE_INVALID_METHOD:
        /* RFC 9110 9.1: a well-formed method drover does not know is 501. */
        switch (looks_like_request_line(data, len)) {
        case 1:
            return bad(h, 501, "method not implemented");
        case -1:
            return HTTP_HEAD_AGAIN;
        default:
            break;
        }
        return bad(h, 400, "invalid method");
    case HPE_INVALID_URL:
        return bad(h, 400, "invalid request target");
    case HPE_INVALID_CONTENT_LENGTH:
    case HPE_UNEXPECTED_CONTENT_LENGTH:
        return bad(h, 400, "invalid or conflicting Content-Length");
    case HPE_INVALID_TRANSFER_ENCODING:
        /* The headers parsed so far say whether a coding is unknown (501). */
        if (type == HTTP_REQUEST && check_transfer_encoding(h) == HTTP_HEAD_BAD &&
            h->err_status == 501)
            return HTTP_HEAD_BAD;
        return bad(h, 400, "invalid Transfer-Encoding");
    case HPE_INVALID_HEADER_TOKEN:
        return bad(h, 400, "invalid header field");
    case HPE_LF_EXPECTED:
    case HPE_CR_EXPECTED:
        return bad(h, 400, "malformed line ending");
    default:
        return bad(h, 400, "malformed request");
    }
}

const char *http_header_value(const struct http_head *h, enum http_hdr_kind kind, size_t *len)
{
    int i = h->first[kind];

    if (i < 0) {
        *len = 0;
        return NULL;
    }
    *len = h->hdr[i].value.len;
    return http_str(h, h->hdr[i].value);
}

bool http_request_id_sane(const char *s, size_t len)
{
    if (len == 0 || len > HTTP_REQUEST_ID_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr("._~:+/=-", c) != NULL) || c == '\0')
            return false;
    }
    return true;
}

void http_request_id_generate(uint64_t *rng, char out[33])
{
    static const char hex[] = "0123456789abcdef";
    uint64_t a = rng_next(rng), b = rng_next(rng);

    for (int i = 0; i < 8; i++, a >>= 8, b >>= 8) {
        out[2 * i] = hex[(a >> 4) & 15];
        out[2 * i + 1] = hex[a & 15];
        out[16 + 2 * i] = hex[(b >> 4) & 15];
        out[16 + 2 * i + 1] = hex[b & 15];
    }
    out[32] = '\0';
}

/* Offsets into the target (struct target_split, http_syntax.h): [auth,
 * auth+authlen) is the authority of an absolute-form target (authlen 0
 * otherwise), [path, query) the path and [query, end) the query with its
 * '?'. */

struct target_split http_split_target(const char *s, size_t n)
{
    struct target_split t = {0, 0, 0, 0};
    size_t i = 0;

    if (n >= 7 && strncasecmp(s, "http://", 7) == 0)
        i = 7;
    else if (n >= 8 && strncasecmp(s, "https://", 8) == 0)
        i = 8;
    if (i > 0) {
        t.auth = i;
        while (i < n && s[i] != '/' && s[i] != '?')
            i++;
        t.authlen = i - t.auth;
    }
    t.path = i;
    while (i < n && s[i] != '?')
        i++;
    t.query = i;
    return t;
}

void http_target_parts(const struct http_head *h, const char **path, size_t *pathlen,
                       const char **authority, size_t *authlen)
{
    const char *s = http_str(h, h->target);
    struct target_split t = http_split_target(s, h->target.len);

    *authority = t.authlen > 0 ? s + t.auth : NULL;
    *authlen = t.authlen;
    *path = s + t.path;
    *pathlen = t.query - t.path;
    /* OPTIONS * asks about the server as a whole: the route of "/" answers. */
    if (*pathlen == 0 || (h->target.len == 1 && s[0] == '*')) {
        *path = "/";
        *pathlen = 1;
    }
}

int http_max_forwards(const struct http_head *h)
{
    const char *v;
    size_t n;
    long long x = 0;

    if (h->count[H_MAX_FORWARDS] == 0)
        return -1;
    v = http_header_value(h, H_MAX_FORWARDS, &n);
    trim(&v, &n);
    if (h->count[H_MAX_FORWARDS] > 1 || n == 0)
        return -2;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)v[i]))
            return -2;
        if (x < INT_MAX)
            x = x * 10 + (v[i] - '0');
    }
    return x > INT_MAX ? INT_MAX : (int)x;
}
