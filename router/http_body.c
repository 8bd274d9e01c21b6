/* Request and response bodies: their framing kind, and streaming them
 * through llhttp (Content-Length or chunked), with the trailer section of a
 * chunked body checked like a head. */
#include <string.h>

#include "router/http.h"
#include "router/http_syntax.h"

/* Body parsing state (struct http_body in http.h). The payload is counted
 * and, when w is set, moved down over the chunk framing in place: the
 * write position never passes the bytes still to be parsed. */
static int on_body(llhttp_t *p, const char *at, size_t len)
{
    struct http_body *b = p->data;

    b->bytes += len;
    if (b->w != NULL) {
        memmove(b->w, at, len);
        b->w += len;
    }
    return 0;
}

/* The last chunk: pause, so that http_parse_body learns where the trailer
 * section starts and scans it itself. */
static int on_chunk_header(llhttp_t *p)
{
    struct http_body *b = p->data;

    if (p->content_length != 0)
        return 0;
    b->trailer = TRAILER_LINE;
    return HPE_PAUSED;
}

static int on_body_complete(llhttp_t *p)
{
    struct http_body *b = p->data;

    b->complete = true;
    return HPE_PAUSED;
}

const llhttp_settings_t http_body_settings = {
    .on_body = on_body,
    .on_chunk_header = on_chunk_header,
    .on_message_complete = on_body_complete,
};

static bool body_bad(struct http_body *b, int status, const char *reason)
{
    b->err_status = status;
    b->err_reason = reason;
    return false;
}

/* A field that frames or routes the message has no place in a trailer
 * section (RFC 9110 6.5.1); a recipient that merges trailers into the head
 * could read it. */
static bool trailer_name_forbidden(const struct http_body *b)
{
    static const char *const names[] = {"content-length", "transfer-encoding", "host"};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (b->name_len == strlen(names[i]) && memcmp(b->name, names[i], b->name_len) == 0)
            return true;
    return false;
}

/* Bodies: the bytes are forwarded as they came (chunk framing and trailer
 * section included), so the trailer section is held to a head's rules
 * (scan_header_lines) byte by byte as it arrives, in any pieces. */
static bool scan_trailer(struct http_body *b, const char *s, const char *end)
{
    if (b->max_trailer != 0 && (size_t)(end - s) > b->max_trailer - b->trailer_bytes)
        return body_bad(b, 431, "trailer section larger than limits.max_header_bytes");
    b->trailer_bytes += (uint32_t)(end - s);
    for (; s < end; s++) {
        unsigned char c = (unsigned char)*s;

        switch (b->trailer) {
        case TRAILER_LINE:
            if (c == '\r') {
                b->trailer = TRAILER_END_CR;
                break;
            }
            if (c == ' ' || c == '\t')
                return body_bad(b, 400, "obsolete line folding in a trailer field");
            b->name_len = 0;
            b->trailer = TRAILER_NAME;
            /* fall through */
        case TRAILER_NAME:
            if (c == ':' && b->name_len > 0) {
                if (trailer_name_forbidden(b))
                    return body_bad(b, 400, "framing or routing field in the trailer section");
                b->trailer = TRAILER_VALUE;
            } else if (c == ' ' || c == '\t') {
                return body_bad(b, 400, "whitespace before the colon of a trailer field");
            } else if (!http_tchar[c]) {
                return body_bad(b, 400, "invalid trailer field name");
            } else {
                if (b->name_len < sizeof(b->name))
                    b->name[b->name_len] = (char)(c | 0x20);
                if (b->name_len < UINT8_MAX)
                    b->name_len++;
            }
            break;
        case TRAILER_VALUE:
            if (c == '\r')
                b->trailer = TRAILER_CR;
            else if (!http_value_byte(c))
                return body_bad(b, 400, "invalid byte in a trailer field");
            break;
        case TRAILER_CR:
        case TRAILER_END_CR:
            if (c != '\n')
                return body_bad(b, 400, "CR without LF in the trailer section");
            b->trailer = b->trailer == TRAILER_CR ? TRAILER_LINE : TRAILER_DONE;
            break;
        default:
            return body_bad(b, 400, "bytes after the trailer section");
        }
    }
    return true;
}

enum body_kind http_request_body_kind(const llhttp_t *p)
{
    if (p->flags & F_CHUNKED)
        return BODY_CHUNKED;
    if ((p->flags & F_CONTENT_LENGTH) && p->content_length > 0)
        return BODY_LENGTH;
    return BODY_NONE;
}

enum body_kind http_response_body_kind(const llhttp_t *p, bool head_request, int status)
{
    if (head_request || status == 204 || status == 304)
        return BODY_NONE;
    if (p->flags & F_CHUNKED)
        return BODY_CHUNKED;
    if (p->flags & F_TRANSFER_ENCODING)
        return BODY_EOF;
    if (p->flags & F_CONTENT_LENGTH)
        return p->content_length > 0 ? BODY_LENGTH : BODY_NONE;
    return BODY_EOF;
}

void http_body_init(llhttp_t *p, struct http_body *b, uint32_t max_trailer)
{
    memset(b, 0, sizeof(*b));
    b->max_trailer = max_trailer;
    p->settings = (void *)&http_body_settings;
    p->data = b;
}

long http_parse_body(llhttp_t *p, const char *data, size_t len, bool *done)
{
    struct http_body *b = p->data;
    const char *pos = data, *end = data + len;

    *done = false;
    for (;;) {
        bool in_trailer = b->trailer != TRAILER_OFF;
        llhttp_errno_t err = llhttp_execute(p, pos, (size_t)(end - pos));
        const char *stop = err == HPE_PAUSED ? llhttp_get_error_pos(p) : end;

        if (err != HPE_OK && err != HPE_PAUSED) {
            /* llhttp refused a byte: the scan up to it names the fault. */
            const char *at = llhttp_get_error_pos(p);
            const char *upto = at != NULL && at >= pos && at < end ? at + 1 : end;

            if (!in_trailer || scan_trailer(b, pos, upto))
                body_bad(b, 400, in_trailer ? "malformed trailer section"
                                            : "malformed chunked body");
            return -1;
        }
        if (in_trailer && !scan_trailer(b, pos, stop))
            return -1;
        if (err == HPE_OK)
            return (long)len;
        if (b->complete) {
            *done = true;
            return (long)(stop - data);
        }
        /* Paused at the last chunk: the trailer section starts at stop. */
        llhttp_resume(p);
        pos = stop;
    }
}

