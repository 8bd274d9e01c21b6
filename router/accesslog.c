#include "router/accesslog.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/utf8.h"
#include "router/backend.h"
#include "router/conn.h"
#include "router/request.h"
#include "router/route.h"

struct accesslog *accesslog_new(int fd, enum log_format format)
{
    struct accesslog *al = malloc(sizeof(*al));

    if (al == NULL)
        return NULL;
    al->fd = fd;
    al->format = format;
    al->len = 0;
    al->clf_sec = -1;
    return al;
}

void accesslog_free(struct accesslog *al)
{
    if (al == NULL)
        return;
    accesslog_flush(al);
    free(al);
}

LOG_LIMIT(write_failed, "access log writes failing", 10.0);

void accesslog_flush(struct accesslog *al)
{
    /* A full disk or a closed stdout: drop (and count) rather than block. */
    if (log_write(al->fd, al->buf, al->len) < 0 && al->fd > STDERR_FILENO)
        log_limited(&write_failed, LOG_WARN, "access log: %s: lines dropped", strerror(errno));
    al->len = 0;
}

static char *meta_field(struct request *req, size_t *used, const char *s, size_t len,
                        uint16_t *outlen)
{
    size_t room = REQUEST_META_MAX - *used;
    char *dst = req->meta + *used;

    if (len > room)
        len = room;
    memcpy(dst, s, len);
    *used += len;
    *outlen = (uint16_t)len;
    return dst;
}

void accesslog_capture(struct request *req, const struct http_head *h)
{
    size_t used = 0, len;
    const char *v;

    meta_field(req, &used, http_str(h, h->target), h->target.len, &req->uri_len);
    v = http_header_value(h, H_HOST, &len);
    req->has_host = v != NULL;
    meta_field(req, &used, v != NULL ? v : "", len, &req->host_len);
    v = http_header_value(h, H_USER_AGENT, &len);
    req->has_ua = v != NULL;
    meta_field(req, &used, v != NULL ? v : "", len, &req->ua_len);
    v = http_header_value(h, H_REFERER, &len);
    req->has_referer = v != NULL;
    meta_field(req, &used, v != NULL ? v : "", len, &req->referer_len);
}

struct line {
    char *p;
    size_t len, cap;
};

static void add(struct line *l, const char *s, size_t n)
{
    if (n > l->cap - l->len)
        n = l->cap - l->len;
    memcpy(l->p + l->len, s, n);
    l->len += n;
}

static void addf(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void addf(struct line *l, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(l->p + l->len, l->cap - l->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        l->len += (size_t)n < l->cap - l->len ? (size_t)n : l->cap - l->len - 1;
}

/* Text fields: quotes, backslashes and non-printable bytes as \xHH, like
 * nginx, so a line can always be split on its quotes. */
static void add_text(struct line *l, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
            char esc[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};

            add(l, esc, 4);
        } else {
            add(l, (const char *)&c, 1);
        }
    }
}

/* A JSON string as the admin API writes one (lib/utf8: well-formed UTF-8
 * as it is, any other byte as \u00XX read as Latin-1): the line is valid
 * JSON whatever the client sent. */
static void add_json(struct line *l, const char *s, size_t n)
{
    size_t used;

    add(l, "\"", 1);
    l->len += utf8_json_escape(s, n, l->p + l->len, l->cap - l->len, &used);
    add(l, "\"", 1);
}

static void add_json_or_null(struct line *l, bool present, const char *s, size_t n)
{
    if (present)
        add_json(l, s, n);
    else
        add(l, "null", 4);
}

static void cache_time(struct accesslog *al, double now)
{
    static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t sec = (time_t)now;
    struct tm tm;

    if (sec == al->clf_sec)
        return;
    al->clf_sec = sec;
    gmtime_r(&sec, &tm);
    snprintf(al->clf_time, sizeof(al->clf_time), "%02d/%s/%04d:%02d:%02d:%02d +0000",
             tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    snprintf(al->iso_time, sizeof(al->iso_time), "%04d-%02d-%02dT%02d:%02d:%02d",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void accesslog_request(struct accesslog *al, const struct conn *c, const struct request *req,
                       double now)
{
    /* A line longer than this is cut: the meta fields are bounded anyway. */
    char tmp[REQUEST_META_MAX * 4 + 1024];
    struct line l = {tmp, 0, sizeof(tmp) - 1};
    const char *uri = req->meta;
    const char *host = uri + req->uri_len;
    const char *ua = host + req->host_len;
    const char *referer = ua + req->ua_len;
    const char *method = llhttp_method_name((llhttp_method_t)req->method);
    const char *backend = req->be != NULL ? req->be->name : NULL;
    const char *route = req->route != NULL ? req->route->label : NULL;
    double rt = now - req->start;
    const char *client = c->ip;

    if (rt < 0)
        rt = 0;
    cache_time(al, now);
    if (al->format == LOG_FORMAT_JSON) {
        add(&l, "{\"time\":\"", 9);
        addf(&l, "%s.%03dZ\"", al->iso_time, (int)((now - (double)(time_t)now) * 1000) % 1000);
        add(&l, ",\"client\":", 10);
        add_json(&l, client, strlen(client));
        add(&l, ",\"method\":", 10);
        add_json(&l, method, strlen(method));
        add(&l, ",\"uri\":", 7);
        add_json(&l, uri, req->uri_len);
        addf(&l, ",\"proto\":\"HTTP/1.%d\",\"host\":", req->minor);
        add_json_or_null(&l, req->has_host, host, req->host_len);
        addf(&l, ",\"status\":%d,\"bytes\":%llu,\"duration_ms\":%.3f,\"backend\":", req->status,
             (unsigned long long)req->body_out, rt * 1000.0);
        add_json_or_null(&l, backend != NULL, backend, backend != NULL ? strlen(backend) : 0);
        add(&l, ",\"route\":", 9);
        add_json_or_null(&l, route != NULL, route, route != NULL ? strlen(route) : 0);
        add(&l, ",\"request_id\":", 14);
        add_json(&l, req->id, req->idlen);
        add(&l, ",\"user_agent\":", 14);
        add_json_or_null(&l, req->has_ua, ua, req->ua_len);
        add(&l, ",\"referer\":", 11);
        add_json_or_null(&l, req->has_referer, referer, req->referer_len);
        add(&l, "}\n", 2);
    } else {
        addf(&l, "%s - - [%s] \"%s ", client, al->clf_time, method);
        add_text(&l, uri, req->uri_len);
        addf(&l, " HTTP/1.%d\" %d %llu \"", req->minor, req->status,
             (unsigned long long)req->body_out);
        if (req->has_referer)
            add_text(&l, referer, req->referer_len);
        else
            add(&l, "-", 1);
        add(&l, "\" \"", 3);
        if (req->has_ua)
            add_text(&l, ua, req->ua_len);
        else
            add(&l, "-", 1);
        addf(&l, "\" rt=%.3f backend=%s route=%s rid=%.*s\n", rt, backend != NULL ? backend : "-",
             route != NULL ? route : "-", (int)req->idlen, req->id);
    }
    if (l.len > 0 && l.p[l.len - 1] != '\n')
        l.p[l.len - 1] = '\n';
    if (l.len > sizeof(al->buf) - al->len)
        accesslog_flush(al);
    memcpy(al->buf + al->len, l.p, l.len);
    al->len += l.len;
}
