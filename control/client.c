/* The control commands' HTTP client: see client.h. Blocking sockets with
 * SO_SNDTIMEO/SO_RCVTIMEO shortened to what is left of the deadline before
 * each call, llhttp to read the answer. */
#include "control/client.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "llhttp.h"

struct client_read {
    struct client_answer *ans;
    bool complete;
    bool too_large;
    /* Streaming (client_stream): a 2xx answer's body goes to on_body once
     * the head came (head_done), with no deadline from then on. */
    int (*on_body)(void *ctx, const char *data, size_t len);
    void *ctx;
    bool head_done, stopped;
};

static int client_on_headers_complete(llhttp_t *p)
{
    struct client_read *r = p->data;

    if (llhttp_get_status_code(p) >= 200)
        r->head_done = true;
    return 0;
}

static int client_on_body(llhttp_t *p, const char *at, size_t len)
{
    struct client_read *r = p->data;
    int status = llhttp_get_status_code(p);

    if (r->on_body != NULL && status >= 200 && status <= 299) {
        if (r->on_body(r->ctx, at, len) < 0) {
            r->stopped = true;
            return -1;
        }
        return 0;
    }
    if (r->ans->body.len + len > CLIENT_MAX_ANSWER) {
        r->too_large = true;
        return -1;
    }
    sbuf_put(&r->ans->body, at, len);
    return r->ans->body.oom ? -1 : 0;
}

static int client_on_message_complete(llhttp_t *p)
{
    struct client_read *r = p->data;

    if (llhttp_get_status_code(p) < 200)
        return 0; /* an interim answer: the real one follows */
    r->complete = true;
    r->ans->status = llhttp_get_status_code(p);
    return HPE_PAUSED;
}

static const llhttp_settings_t client_http_settings = {
    .on_headers_complete = client_on_headers_complete,
    .on_body = client_on_body,
    .on_message_complete = client_on_message_complete,
};

static long long client_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void client_set_timeout(int fd, int opt, long long ms)
{
    struct timeval tv;

    if (ms < 1)
        ms = 1;
    tv.tv_sec = (time_t)(ms / 1000);
    tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
    setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv));
}

/* The reason for a failed send or recv: the deadline, or the peer. */
static void client_io_error(const struct conf_addr *addr, int e, const char *tmo, char *err,
                            size_t errlen)
{
    if (e == EAGAIN || e == EWOULDBLOCK)
        snprintf(err, errlen, "the admin API at %s did not answer within %s", addr->text, tmo);
    else
        snprintf(err, errlen, "the admin API at %s closed the connection: %s", addr->text,
                 strerror(e));
}

/* The request as it goes on the wire. */
static void client_format(struct sbuf *req, const struct conf_addr *addr, const char *method,
                          const char *path, const char *token, const char *body, size_t bodylen)
{
    sbuf_printf(req, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: drover-cli\r\n"
                     "Accept: application/json\r\nConnection: close\r\n",
                method, path, addr->ss.ss_family == AF_UNIX ? "localhost" : addr->text);
    if (token != NULL)
        sbuf_printf(req, "Authorization: Bearer %s\r\n", token);
    if (body != NULL)
        sbuf_puts(req, "Content-Type: application/json\r\n");
    if (body != NULL || strcmp(method, "POST") == 0)
        sbuf_printf(req, "Content-Length: %zu\r\n", bodylen);
    sbuf_puts(req, "\r\n");
    if (body != NULL)
        sbuf_put(req, body, bodylen);
}

/* Reads the answer on fd until it is complete or the deadline passes (a
 * streamed answer: until its head came). */
static int client_read_answer(int fd, const struct conf_addr *addr, long long deadline,
                              const char *tmo, struct client_read *rd, char *err, size_t errlen)
{
    struct client_read r = *rd;
    struct client_answer *ans = r.ans;
    llhttp_t parser;

    llhttp_init(&parser, HTTP_RESPONSE, &client_http_settings);
    parser.data = &r;
    for (;;) {
        char buf[16384];
        long long left = deadline - client_now_ms();
        llhttp_errno_t e;
        ssize_t n;
        bool streaming = r.on_body != NULL && r.head_done;

        if (left <= 0 && !streaming) {
            client_io_error(addr, EAGAIN, tmo, err, errlen);
            return -1;
        }
        if (streaming) {
            struct timeval none = {0, 0};

            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof(none));
        } else {
            client_set_timeout(fd, SO_RCVTIMEO, left);
        }
        n = recv(fd, buf, sizeof(buf), 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            client_io_error(addr, errno, tmo, err, errlen);
            return -1;
        }
        e = n == 0 ? llhttp_finish(&parser) : llhttp_execute(&parser, buf, (size_t)n);
        if (r.complete || r.stopped) {
            ans->status = llhttp_get_status_code(&parser);
            return 0;
        }
        if (e != HPE_OK) {
            if (r.too_large)
                snprintf(err, errlen, "the admin API at %s sent an answer over %u MiB",
                         addr->text, CLIENT_MAX_ANSWER >> 20);
            else
                snprintf(err, errlen, "the admin API at %s sent an invalid answer (%s)",
                         addr->text, llhttp_get_error_reason(&parser));
            return -1;
        }
        if (n == 0) {
            snprintf(err, errlen, "the admin API at %s closed the connection before answering",
                     addr->text);
            return -1;
        }
    }
}

/* client_request and client_stream: one request, its answer read as rd
 * says. */
static int client_exchange(const struct conf_addr *addr, const char *method, const char *path,
                           const char *token, const char *body, size_t bodylen, int timeout_ms,
                           struct client_read *rd, char *err, size_t errlen)
{
    struct client_answer *ans = rd->ans;
    long long deadline = client_now_ms() + timeout_ms;
    struct sbuf req;
    size_t off = 0;
    char tmo[16];
    int fd = -1, rc = -1;

    ans->status = 0;
    sbuf_init(&ans->body);
    if (timeout_ms % 1000 == 0)
        snprintf(tmo, sizeof(tmo), "%ds", timeout_ms / 1000);
    else
        snprintf(tmo, sizeof(tmo), "%dms", timeout_ms);
    sbuf_init(&req);
    client_format(&req, addr, method, path, token, body, bodylen);
    if (req.oom) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    fd = socket(addr->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "cannot reach the admin API at %s: %s (is drover running?)",
                 addr->text, strerror(errno));
        goto out;
    }
    client_set_timeout(fd, SO_SNDTIMEO, timeout_ms);
    client_set_timeout(fd, SO_RCVTIMEO, timeout_ms);
    while (connect(fd, (const struct sockaddr *)&addr->ss, addr->len) < 0) {
        int e = errno;

        if (e == EINTR)
            continue;
        /* SO_SNDTIMEO also bounds connect: it ends with EINPROGRESS. */
        if (e == EINPROGRESS || e == EAGAIN)
            e = ETIMEDOUT;
        snprintf(err, errlen, "cannot reach the admin API at %s: %s (is drover running?)",
                 addr->text, strerror(e));
        goto out;
    }
    while (off < req.len) {
        ssize_t n = send(fd, req.data + off, req.len - off, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            client_io_error(addr, errno, tmo, err, errlen);
            goto out;
        }
        off += (size_t)n;
    }
    rc = client_read_answer(fd, addr, deadline, tmo, rd, err, errlen);
out:
    if (fd >= 0)
        close(fd);
    sbuf_free(&req);
    return rc;
}

int client_request(const struct conf_addr *addr, const char *method, const char *path,
                   const char *token, const char *body, size_t bodylen, int timeout_ms,
                   struct client_answer *ans, char *err, size_t errlen)
{
    struct client_read rd = {.ans = ans};

    return client_exchange(addr, method, path, token, body, bodylen, timeout_ms, &rd, err, errlen);
}

int client_stream(const struct conf_addr *addr, const char *path, const char *token,
                  int timeout_ms, int (*on_body)(void *ctx, const char *data, size_t len),
                  void *ctx, struct client_answer *ans, char *err, size_t errlen)
{
    struct client_read rd = {.ans = ans, .on_body = on_body, .ctx = ctx};

    return client_exchange(addr, "GET", path, token, NULL, 0, timeout_ms, &rd, err, errlen);
}
