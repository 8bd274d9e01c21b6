/* HTTP/1.x message heads: parsing with llhttp and rewriting for the other
 * side. Pure functions over byte ranges, no sockets: conn.c and upstream.c
 * call them, unit tests call them directly.
 *
 * A head is parsed in one llhttp_execute() over every byte received so far
 * (re-run when more arrive), with header positions kept as offsets from
 * h->base. When the head is complete the parser is left paused just after it,
 * ready to run over the body (http_body_init, http_parse_body). */
#ifndef DROVER_ROUTER_HTTP_H
#define DROVER_ROUTER_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "llhttp.h"

#define HTTP_MAX_HEADERS 128
#define HTTP_MAX_CONN_TOKENS 8
#define HTTP_REQUEST_ID_MAX 128
#define HTTP_MAX_TARGET 8192        /* longer request targets get 414 */

enum http_hdr_kind {
    H_OTHER,
    /* hop-by-hop: never forwarded as they are */
    H_CONNECTION,
    H_KEEP_ALIVE,
    H_PROXY_CONNECTION,
    H_TE,
    H_TRAILER,
    H_UPGRADE,
    /* set by drover */
    H_X_FORWARDED_FOR,
    H_X_FORWARDED_PROTO,
    H_X_FORWARDED_PORT,
    H_X_REQUEST_START,
    H_X_REQUEST_ID,
    /* read by drover, forwarded unchanged */
    H_HOST,
    H_CONTENT_LENGTH,
    H_TRANSFER_ENCODING,
    H_USER_AGENT,
    H_REFERER,
    H_EXPECT,
    H_DATE,
    H_MAX_FORWARDS,
    H_VIA,
};
#define H_KINDS (H_VIA + 1)

struct http_span {
    uint32_t off;
    uint32_t len;
};

struct http_header {
    struct http_span name;
    struct http_span value;
    uint8_t kind;               /* enum http_hdr_kind */
    bool drop;                  /* named in Connection: removed on forwarding */
};

struct http_head {
    const char *base;           /* what the spans are offsets into */
    uint32_t len;               /* bytes of the head, final CRLF included */
    uint8_t method;             /* llhttp_method_t (requests) */
    uint8_t major, minor;
    uint16_t status;            /* responses */
    struct http_span target;    /* request target / status reason phrase */
    bool conn_close, conn_keep_alive, conn_upgrade; /* Connection tokens */
    bool too_many;              /* more than HTTP_MAX_HEADERS */
    uint16_t nhdr;
    uint16_t count[H_KINDS];     /* headers seen per kind */
    int16_t first[H_KINDS];      /* index of the first of each kind, -1 */
    int err_status;             /* after HTTP_HEAD_BAD: 400, 431, 505 ... */
    const char *err_reason;
    uint8_t cb_state;           /* parse bookkeeping */
    struct http_header hdr[HTTP_MAX_HEADERS];
};

enum { HTTP_HEAD_DONE, HTTP_HEAD_AGAIN, HTTP_HEAD_BAD };

extern const llhttp_settings_t http_head_settings;
extern const llhttp_settings_t http_body_settings; /* used by http_body_init */

/* The body parser's state, one per message body: p->data while it runs. */
enum { TRAILER_OFF, TRAILER_LINE, TRAILER_NAME, TRAILER_VALUE, TRAILER_CR, TRAILER_END_CR,
       TRAILER_DONE };
struct http_body {
    uint64_t bytes;             /* payload bytes (without chunk framing) */
    char *w;                    /* set: de-chunk, the next payload byte goes here */
    bool complete;              /* the message ended */
    uint8_t trailer;            /* where the trailer section scan is (TRAILER_*) */
    uint8_t name_len;           /* length of the trailer field name being read */
    char name[18];              /* its first bytes, lower-cased */
    uint32_t trailer_bytes;
    uint32_t max_trailer;       /* 0: no limit */
    int err_status;             /* after -1 from http_parse_body: the answer, */
    const char *err_reason;     /* and why */
};

/* Parses data[0..len) as a request (type HTTP_REQUEST) or response head.
 * HTTP_HEAD_DONE: h is filled, h->len is the head's length and p is paused
 * after it (call llhttp_resume, then http_body_init, for the body).
 * HTTP_HEAD_AGAIN: incomplete, call again with more bytes.
 * HTTP_HEAD_BAD: h->err_status and h->err_reason say why. */
int http_parse_head(llhttp_t *p, llhttp_type_t type, struct http_head *h, const char *data,
                    size_t len);

/* Makes p, paused after a head, parse a body into b: payload counted, a
 * trailer section checked and at most max_trailer bytes (0: no limit). Set
 * b->w before each http_parse_body to de-chunk in place. */
void http_body_init(llhttp_t *p, struct http_body *b, uint32_t max_trailer);

/* How a message's body is framed, from its parser paused after the head:
 * none, Content-Length, chunked, or up to the close (responses only). A
 * response to HEAD, a 204 and a 304 have none (RFC 9112 6.3). */
enum body_kind { BODY_NONE, BODY_LENGTH, BODY_CHUNKED, BODY_EOF };
enum body_kind http_request_body_kind(const llhttp_t *p);
enum body_kind http_response_body_kind(const llhttp_t *p, bool head_request, int status);

/* Runs the body parser over data[0..len). Returns the number of bytes that
 * belong to the current message; *done is set when the message ended there.
 * Returns -1 on a framing error (bad chunk, a malformed or forbidden trailer
 * field): b->err_status and b->err_reason say what. */
long http_parse_body(llhttp_t *p, const char *data, size_t len, bool *done);

static inline const char *http_str(const struct http_head *h, struct http_span s)
{
    return h->base + s.off;
}

/* Value of the first header of a kind, or NULL (and *len 0). */
const char *http_header_value(const struct http_head *h, enum http_hdr_kind kind, size_t *len);

/* The Max-Forwards of a request (RFC 9110 7.6.2): -1 when absent, -2 when
 * not one decimal number, else its value (capped at INT_MAX). */
int http_max_forwards(const struct http_head *h);

bool http_request_id_sane(const char *s, size_t len);

/* 32 lowercase hex characters and a NUL from the state's random stream. */
void http_request_id_generate(uint64_t *rng, char out[33]);

enum http_conn_header { HTTP_CONN_NONE, HTTP_CONN_CLOSE, HTTP_CONN_KEEP_ALIVE };

struct http_request_rewrite {
    const char *client_ip;      /* appended to X-Forwarded-For */
    unsigned listen_port;       /* X-Forwarded-Port; 0 = not set (unix listener) */
    bool https;                 /* X-Forwarded-Proto: https (a TLS listener) */
    const char *request_id;
    size_t request_id_len;
    int64_t start_ms;           /* X-Request-Start: t=<unix ms> */
    size_t strip;               /* bytes of path prefix to remove */
    const char *host;           /* Host to add when the client sent none */
    bool tunnel;                /* Upgrade request: keep Connection/Upgrade */
};

/* The upstream request head for h: origin-form target, HTTP/1.1, hop-by-hop
 * headers removed, X-Forwarded-*, X-Request-Start and X-Request-Id set.
 * Returns its length, or 0 when it does not fit in cap. */
size_t http_write_request(const struct http_head *h, const struct http_request_rewrite *rw,
                          char *out, size_t cap);

struct http_response_rewrite {
    const char *request_id;     /* added unless the backend set one */
    size_t request_id_len;
    enum http_conn_header connection;
    bool tunnel;                /* 101: keep Connection/Upgrade */
    bool dechunk;               /* the body goes out without chunk framing */
    bool interim;               /* a 1xx: it has no body, so no framing headers go out */
    const char *date;           /* added when the backend sent no Date; NULL: none */
};

/* The client response head for h: "HTTP/1.1 <status> <reason>", hop-by-hop
 * headers removed, X-Request-Id and the Connection header drover decided.
 * Returns its length, or 0 when it does not fit in cap. */
size_t http_write_response(const struct http_head *h, const struct http_response_rewrite *rw,
                           char *out, size_t cap);

/* The request target split for routing: the path without its query, and
 * the authority of an absolute-form target ("http://host:port/path"), else
 * NULL. A target that is only a query or empty gives path "/". */
void http_target_parts(const struct http_head *h, const char **path, size_t *pathlen,
                       const char **authority, size_t *authlen);

/* A complete small response drover answers itself: a text/plain body
 * "<status> <phrase>: <reason>\nrequest id: <id>\n". Returns its length
 * (truncating the reason to fit cap). */
size_t http_write_error(int status, const char *reason, const char *request_id,
                        enum http_conn_header connection, char *out, size_t cap);

/* A complete response drover answers itself: status line, Date, the
 * given header lines (each ending in CRLF), Content-Length, X-Request-Id,
 * Connection, then the body. Returns its length, or 0 when it does not
 * fit in cap. */
/* The methods drover forwards (CONNECT is refused). */
#define HTTP_ALLOW "GET, HEAD, POST, PUT, DELETE, OPTIONS, TRACE, PATCH"

size_t http_write_reply(int status, const char *headers, const char *body, size_t blen,
                        const char *request_id, enum http_conn_header connection, char *out,
                        size_t cap);

/* drover as TRACE's final recipient (Max-Forwards: 0): 200 with the
 * request head as received, as message/http, without Authorization,
 * Proxy-Authorization and Cookie. 0 when it does not fit in cap. */
size_t http_write_trace(const struct http_head *h, const char *request_id,
                        enum http_conn_header connection, char *out, size_t cap);

/* The current time as an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"),
 * formatted once a second per thread. */
#define HTTP_DATE_LEN 29
const char *http_date_now(void);

const char *http_status_phrase(int status);

#endif
