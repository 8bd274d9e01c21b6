/* The desync runner: see desync.h.
 *
 *   desync --drover PATH [--corpus DIR] [--tls] [-v] [--list] [FILTER...]
 *
 * Without --corpus it runs the regression set of cases.c. With --tls the
 * client speaks TLS to a TLS listener (a certificate made with the
 * openssl command): the bytes after the handshake take the same path. Each case gets
 * its own drover (so no pooled upstream connection carries one case's
 * bytes into the next) on loopback, in front of a backend that lives in
 * this process: it logs everything drover sends it, parses it with a
 * strict llhttp as a server would, and answers every request it reads
 * with "X-Seen: N" (N numbers the requests it read), so the client can
 * tell which request each answer belongs to. One loop drives the client
 * and the backend; a case ends when the client's connection is closed,
 * or it has its answers, and then nothing moves for a while (or nothing
 * moves at all for QUIET_MS).
 *
 * Verdicts (judge()):
 *   desync     the backend read a request the client did not send (one
 *              hidden in a body or a head), or the marker inside a body;
 *              drover sent it bytes a strict parser rejects; the client
 *              cannot read the answers, got more answers than it sent
 *              requests, or an answer meant for another request; or (for a
 *              Compliant or Acceptable case, whose framing is not in
 *              doubt) the backend read another body than the one sent.
 *   rejected   drover answered 4xx/5xx itself and closed the connection;
 *              nothing complete reached the backend (at most the case's
 *              head, when drover refused its body).
 *   forwarded  the backend read exactly the case's request with its body,
 *              then the marker, and the client got both answers in order.
 *   other      anything else (said in the detail).
 * A case passes when it does not desync, and: a Compliant case is
 * forwarded, or refused the way its recorded reason says; a regression
 * case has exactly its expected outcome. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "llhttp.h"
#include "tests/e2e/desync/desync.h"

#define QUIET_MS 1500       /* nothing moved this long: the case is over */
#define SETTLE_MS 100       /* after the answers: room for one too many */
#define CLOSED_MS 30        /* after the close: room for late backend bytes */
#define CASE_MS 10000
#define MAX_BCONN 16
#define MAX_BREQ 16
#define MAX_RESP 8

const char DESYNC_SMUGGLED[] = "GET /smuggled HTTP/1.1\r\nHost: desync.test\r\n\r\n";
static const char MARKER[] = "GET /marker HTTP/1.1\r\nHost: desync.test\r\n\r\n";

static const char *drover_bin;
static char work_dir[64] = "/tmp/drover-desync.XXXXXX";
static SSL_CTX *tls_ctx;           /* --tls: the client's */
static SSL *cssl;                  /* the case's client connection, under --tls */
static bool verbose;

/* ---- small helpers ---- */

static void die(const char *what)
{
    fprintf(stderr, "desync: %s: %s\n", what, strerror(errno));
    exit(2);
}

void dbuf_put(struct dbuf *b, const void *data, size_t len)
{
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;

        while (b->len + len + 1 > cap)
            cap *= 2;
        b->p = realloc(b->p, cap);
        if (b->p == NULL)
            die("realloc");
        b->cap = cap;
    }
    if (len > 0)
        memcpy(b->p + b->len, data, len);
    b->len += len;
    b->p[b->len] = '\0';
}

void dbuf_puts(struct dbuf *b, const char *s)
{
    dbuf_put(b, s, strlen(s));
}

void dbuf_free(struct dbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}

static bool dbuf_eq(const struct dbuf *b, const char *s, size_t len)
{
    return b->len == len && (len == 0 || memcmp(b->p, s, len) == 0);
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* s as a readable one-line string (CR, LF, tab and other bytes escaped),
 * at most max source bytes, into out. */
static const char *shown(const char *s, size_t len, size_t max, char *out, size_t cap)
{
    size_t o = 0;

    for (size_t i = 0; i < len && i < max && o + 8 < cap; i++) {
        unsigned char ch = (unsigned char)s[i];

        if (ch == '\r')
            o += (size_t)snprintf(out + o, cap - o, "\\r");
        else if (ch == '\n')
            o += (size_t)snprintf(out + o, cap - o, "\\n");
        else if (ch == '\t')
            o += (size_t)snprintf(out + o, cap - o, "\\t");
        else if (ch < 0x20 || ch >= 0x7f || ch == '\\')
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", ch);
        else
            out[o++] = (char)ch;
    }
    if (len > max && o + 4 < cap)
        o += (size_t)snprintf(out + o, cap - o, "...");
    out[o] = '\0';
    return out;
}

const char *tier_name(enum tier t)
{
    static const char *const names[] = {"Compliant", "Acceptable", "Ambiguous", "Severe"};

    return names[t];
}

const char *outcome_name(enum outcome o)
{
    static const char *const names[] = {"rejected", "forwarded", "DESYNC", "other"};

    return names[o];
}

struct dcase *case_add(struct case_list *l)
{
    struct dcase *c;

    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = realloc(l->v, l->cap * sizeof(*l->v));
        if (l->v == NULL)
            die("realloc");
    }
    c = &l->v[l->n++];
    memset(c, 0, sizeof(*c));
    c->expect = OUT_BY_TIER;
    return c;
}

void case_set_body(struct dcase *c, enum body_kind kind, size_t n)
{
    size_t slen = sizeof(DESYNC_SMUGGLED) - 1;
    char line[32];

    dbuf_free(&c->body);
    dbuf_free(&c->payload);
    switch (kind) {
    case BODY_NONE:
        break;
    case BODY_LENGTH:
        if (n >= slen) {
            dbuf_put(&c->payload, DESYNC_SMUGGLED, slen);
            n -= slen;
        }
        while (n > 0) {
            static const char pad[64] = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
            size_t k = n < sizeof(pad) ? n : sizeof(pad);

            dbuf_put(&c->payload, pad, k);
            n -= k;
        }
        if (c->payload.len > 0)
            dbuf_put(&c->body, c->payload.p, c->payload.len);
        break;
    case BODY_CHUNKED:
        snprintf(line, sizeof(line), "%zx\r\n", slen);
        dbuf_puts(&c->body, line);
        dbuf_put(&c->body, DESYNC_SMUGGLED, slen);
        dbuf_puts(&c->body, "\r\n0\r\n\r\n");
        dbuf_put(&c->payload, DESYNC_SMUGGLED, slen);
        break;
    }
}

void case_set_raw_body(struct dcase *c, const char *body, size_t len, const char *payload)
{
    dbuf_free(&c->body);
    dbuf_free(&c->payload);
    dbuf_put(&c->body, body, len);
    dbuf_puts(&c->payload, payload);
}

/* ---- sockets and the drover process ---- */

static int listen_loopback(int *port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    socklen_t len = sizeof(sin);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
        getsockname(fd, (struct sockaddr *)&sin, &len) < 0)
        die("backend listener");
    if (port != NULL && listen(fd, 64) < 0)
        die("listen");
    if (port != NULL)
        *port = ntohs(sin.sin_port);
    return fd;
}

/* A port nobody listens on now (drover binds it a moment later). */
static int free_port(void)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    int fd = listen_loopback(NULL), port;

    if (getsockname(fd, (struct sockaddr *)&sin, &len) < 0)
        die("getsockname");
    port = ntohs(sin.sin_port);
    close(fd);
    return port;
}

static int connect_loopback(int port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0)
        die("socket");
    if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
        close(fd);
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

struct drover {
    pid_t pid;
    int port;
    char log[128];
};

/* drover in front of the backend on bport; false when it did not start
 * listening (its log says why). */
static bool drover_start(struct drover *d, int bport)
{
    char conf[128];
    FILE *f;
    long long deadline;

    d->port = free_port();
    snprintf(conf, sizeof(conf), "%s/drover.yaml", work_dir);
    snprintf(d->log, sizeof(d->log), "%s/drover.log", work_dir);
    f = fopen(conf, "w");
    if (f == NULL)
        die(conf);
    /* No retries (a replay would read as a second request) and no active
     * checks (their connections would reach the backend). */
    if (tls_ctx != NULL)
        fprintf(f, "listen:\n  - address: 127.0.0.1:%d\n    tls:\n      certificates:\n"
                   "        - {cert: %s/cert.pem, key: %s/cert.key}\n",
                d->port, work_dir, work_dir);
    else
        fprintf(f, "listen: 127.0.0.1:%d\n", d->port);
    fprintf(f,
            "admin:\n  listen: off\n"
            "log:\n  access: off\n"
            "retries: 0\n"
            "timeouts:\n  drain: 2s\n"
            "routes:\n  - path: /\n    backends: [127.0.0.1:%d]\n",
            bport);
    fclose(f);
    fflush(stdout);
    d->pid = fork();
    if (d->pid < 0)
        die("fork");
    if (d->pid == 0) {
        int fd = open(d->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        int null = open("/dev/null", O_RDONLY);

        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
        }
        if (null >= 0)
            dup2(null, STDIN_FILENO);
        signal(SIGPIPE, SIG_DFL);
        execl(drover_bin, drover_bin, "run", "-c", conf, (char *)NULL);
        _exit(127);
    }
    setpgid(d->pid, d->pid);
    deadline = now_ms() + 10000;
    while (now_ms() < deadline) {
        int fd = connect_loopback(d->port), status;

        if (fd >= 0) {
            close(fd);
            return true;
        }
        if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
            d->pid = 0;
            return false;
        }
        usleep(2000);
    }
    return false;
}

/* SIGTERM, then SIGKILL after 10 s; the wait status (-1: never started). */
static int drover_stop(struct drover *d)
{
    long long deadline = now_ms() + 10000;
    int status = -1;

    if (d->pid <= 0)
        return -1;
    kill(-d->pid, SIGTERM);
    while (waitpid(d->pid, &status, WNOHANG) != d->pid) {
        if (now_ms() > deadline) {
            kill(-d->pid, SIGKILL);
            waitpid(d->pid, &status, 0);
            break;
        }
        usleep(2000);
    }
    kill(-d->pid, SIGKILL); /* anything it left in its group */
    d->pid = 0;
    return status;
}

static char *read_file(const char *path)
{
    struct dbuf b = {0};
    char tmp[4096];
    size_t n;
    FILE *f = fopen(path, "rb");

    if (f == NULL)
        return NULL;
    while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
        dbuf_put(&b, tmp, n);
    fclose(f);
    if (b.p == NULL)
        dbuf_puts(&b, "");
    return b.p;
}

/* ---- the backend: a strict server that logs and answers ---- */

struct breq {
    int conn;
    struct dbuf method, url, payload;
    bool complete;
};

struct bconn {
    int fd;
    struct dbuf in;             /* every byte drover sent on it */
    struct dbuf out;            /* answers not yet written */
    size_t out_off;
    llhttp_t parser;
    int cur;                    /* the request being read, or -1 */
    bool dead;                  /* refused: nothing more is parsed */
    bool shut_after;            /* half-close once out is written */
    bool eof;
    char err[200];
};

static struct exchange {
    const struct dcase *c;
    int cfd;
    struct dbuf sent;           /* the case, then the marker */
    size_t sent_off;
    bool send_failed;
    struct dbuf got;            /* every byte the client got */
    bool ceof;
    int lfd;
    struct bconn b[MAX_BCONN];
    int nb;
    struct breq req[MAX_BREQ];
    int nreq;
} X;

static int b_begin(llhttp_t *p)
{
    struct bconn *b = p->data;

    b->cur = -1;
    if (X.nreq < MAX_BREQ) {
        b->cur = X.nreq++;
        memset(&X.req[b->cur], 0, sizeof(X.req[b->cur]));
        X.req[b->cur].conn = (int)(b - X.b);
    }
    return 0;
}

static int b_method(llhttp_t *p, const char *at, size_t len)
{
    struct bconn *b = p->data;

    if (b->cur >= 0)
        dbuf_put(&X.req[b->cur].method, at, len);
    return 0;
}

static int b_url(llhttp_t *p, const char *at, size_t len)
{
    struct bconn *b = p->data;

    if (b->cur >= 0)
        dbuf_put(&X.req[b->cur].url, at, len);
    return 0;
}

static int b_body(llhttp_t *p, const char *at, size_t len)
{
    struct bconn *b = p->data;

    if (b->cur >= 0)
        dbuf_put(&X.req[b->cur].payload, at, len);
    return 0;
}

static int b_complete(llhttp_t *p)
{
    struct bconn *b = p->data;
    char resp[128];

    if (b->cur >= 0)
        X.req[b->cur].complete = true;
    snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\nX-Seen: %d\r\nContent-Length: 0\r\n%s\r\n",
             b->cur + 1, llhttp_should_keep_alive(p) ? "" : "Connection: close\r\n");
    dbuf_puts(&b->out, resp);
    if (!llhttp_should_keep_alive(p))
        b->shut_after = true;
    b->cur = -1;
    return 0;
}

static const llhttp_settings_t backend_settings = {
    .on_message_begin = b_begin,
    .on_method = b_method,
    .on_url = b_url,
    .on_body = b_body,
    .on_message_complete = b_complete,
};

static void backend_feed(struct bconn *b, const char *data, size_t len)
{
    const char *at = data;

    while (!b->dead && at < data + len) {
        llhttp_errno_t e = llhttp_execute(&b->parser, at, (size_t)(data + len - at));

        if (e == HPE_OK)
            return;
        if (e == HPE_PAUSED_UPGRADE) {
            /* We answer 200, not 101: the connection stays HTTP. */
            at = llhttp_get_error_pos(&b->parser);
            llhttp_resume_after_upgrade(&b->parser);
            continue;
        }
        snprintf(b->err, sizeof(b->err), "%s: %s at byte %ld", llhttp_errno_name(e),
                 llhttp_get_error_reason(&b->parser),
                 (long)(b->in.len - len + (size_t)(llhttp_get_error_pos(&b->parser) - data)));
        b->dead = true;
        dbuf_puts(&b->out, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        b->shut_after = true;
    }
}

/* ---- the client's view: answers, framed for the requests they answer ---- */

struct cresp {
    int status;
    int seen;                   /* X-Seen: the backend's request number, 0: drover's own */
    bool complete;
    char text[96];              /* the start of the body (drover's reason) */
    size_t tlen;
};

struct cview {
    struct cresp r[MAX_RESP];
    int n;                      /* final answers begun */
    bool err;
    char errmsg[200];
    char field[32];
    size_t flen;
    bool in_seen;
};

static struct cresp *cur_resp(struct cview *v)
{
    return v->n > 0 ? &v->r[v->n - 1] : NULL;
}

static int c_begin(llhttp_t *p)
{
    struct cview *v = p->data;

    if (v->n < MAX_RESP)
        memset(&v->r[v->n], 0, sizeof(v->r[v->n]));
    v->n++;
    v->flen = 0;
    return 0;
}

static int c_field(llhttp_t *p, const char *at, size_t len)
{
    struct cview *v = p->data;

    if (v->in_seen || v->flen + len >= sizeof(v->field)) {
        v->flen = 0;
        v->in_seen = false;
    }
    if (v->flen + len < sizeof(v->field)) {
        memcpy(v->field + v->flen, at, len);
        v->flen += len;
    }
    return 0;
}

static int c_value(llhttp_t *p, const char *at, size_t len)
{
    struct cview *v = p->data;
    struct cresp *r = v->n <= MAX_RESP ? cur_resp(v) : NULL;

    if (r != NULL && v->flen == 6 && strncasecmp(v->field, "X-Seen", 6) == 0)
        for (size_t i = 0; i < len; i++)
            if (at[i] >= '0' && at[i] <= '9')
                r->seen = r->seen * 10 + (at[i] - '0');
    v->in_seen = true;
    return 0;
}

static int c_value_done(llhttp_t *p)
{
    struct cview *v = p->data;

    v->flen = 0;
    v->in_seen = false;
    return 0;
}

/* RFC 9112 6.3: no body after a 1xx, 204, 304, or an answer to HEAD (the
 * case's method answers the first request, GET the marker). */
static int c_headers(llhttp_t *p)
{
    struct cview *v = p->data;
    struct cresp *r = v->n <= MAX_RESP ? cur_resp(v) : NULL;
    int status = llhttp_get_status_code(p);

    if (r != NULL)
        r->status = status;
    if (status == 101)
        return 2;
    if (status < 200 || status == 204 || status == 304)
        return 1;
    if (v->n == 1 && dbuf_eq(&X.c->method, "HEAD", 4))
        return 1;
    return 0;
}

static int c_body(llhttp_t *p, const char *at, size_t len)
{
    struct cview *v = p->data;
    struct cresp *r = v->n <= MAX_RESP ? cur_resp(v) : NULL;

    for (size_t i = 0; r != NULL && i < len && r->tlen + 1 < sizeof(r->text); i++)
        if (at[i] != '\n')
            r->text[r->tlen++] = at[i];
        else
            r->tlen = sizeof(r->text); /* the first line only */
    return 0;
}

static int c_complete(llhttp_t *p)
{
    struct cview *v = p->data;
    struct cresp *r = v->n <= MAX_RESP ? cur_resp(v) : NULL;

    if (r != NULL) {
        r->complete = true;
        if (r->tlen >= sizeof(r->text))
            r->tlen = strlen(r->text);
    }
    if (llhttp_get_status_code(p) < 200)
        v->n--; /* interim: it answers nothing */
    return 0;
}

static const llhttp_settings_t client_settings = {
    .on_message_begin = c_begin,
    .on_header_field = c_field,
    .on_header_value = c_value,
    .on_header_value_complete = c_value_done,
    .on_headers_complete = c_headers,
    .on_body = c_body,
    .on_message_complete = c_complete,
};

static void client_view(struct cview *v)
{
    llhttp_t p;
    llhttp_errno_t e;

    memset(v, 0, sizeof(*v));
    if (X.got.len == 0)
        return;
    llhttp_init(&p, HTTP_RESPONSE, &client_settings);
    p.data = v;
    e = llhttp_execute(&p, X.got.p, X.got.len);
    if (e == HPE_OK && X.ceof)
        e = llhttp_finish(&p); /* a body delimited by the close */
    if (e != HPE_OK && e != HPE_PAUSED_UPGRADE) {
        v->err = true;
        snprintf(v->errmsg, sizeof(v->errmsg), "%s: %s at byte %ld", llhttp_errno_name(e),
                 llhttp_get_error_reason(&p), (long)(llhttp_get_error_pos(&p) - X.got.p));
    }
    if (v->n > MAX_RESP)
        v->n = MAX_RESP;
}

static int complete_answers(void)
{
    struct cview v;
    int n = 0;

    client_view(&v);
    for (int i = 0; i < v.n; i++)
        n += v.r[i].complete;
    return n;
}

/* ---- one case ---- */

static void exchange_reset(void)
{
    for (int i = 0; i < X.nb; i++) {
        dbuf_free(&X.b[i].in);
        dbuf_free(&X.b[i].out);
    }
    for (int i = 0; i < X.nreq; i++) {
        dbuf_free(&X.req[i].method);
        dbuf_free(&X.req[i].url);
        dbuf_free(&X.req[i].payload);
    }
    dbuf_free(&X.sent);
    dbuf_free(&X.got);
    memset(&X, 0, sizeof(X));
    X.cfd = X.lfd = -1;
}

static void backend_accept(void)
{
    for (;;) {
        int fd = accept4(X.lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        struct bconn *b;

        if (fd < 0)
            return;
        if (X.nb == MAX_BCONN) {
            close(fd);
            continue;
        }
        b = &X.b[X.nb++];
        memset(b, 0, sizeof(*b));
        b->fd = fd;
        b->cur = -1;
        llhttp_init(&b->parser, HTTP_REQUEST, &backend_settings);
        b->parser.data = b;
    }
}

/* The client's bytes, plain or through TLS: send(2)/recv(2) results and
 * errno (EAGAIN when TLS waits for the socket). */
static ssize_t client_send(const void *p, size_t len)
{
    int n, e;

    if (cssl == NULL)
        return send(X.cfd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if ((n = SSL_write(cssl, p, (int)len)) > 0)
        return n;
    e = SSL_get_error(cssl, n);
    ERR_clear_error();
    errno = e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ ? EAGAIN : EPIPE;
    return -1;
}

static ssize_t client_recv(void *p, size_t len)
{
    int n, e;

    if (cssl == NULL)
        return recv(X.cfd, p, len, MSG_DONTWAIT);
    if ((n = SSL_read(cssl, p, (int)len)) > 0)
        return n;
    e = SSL_get_error(cssl, n);
    ERR_clear_error();
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        errno = EAGAIN;
        return -1;
    }
    if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && errno == 0))
        return 0;
    errno = ECONNRESET;
    return -1;
}

/* One poll round over the client and the backend; true if anything moved. */
static bool exchange_step(void)
{
    struct pollfd pfd[2 + MAX_BCONN];
    int n = 0, ci = -1, li;
    bool moved = false;
    char buf[65536];

    if (X.cfd >= 0) {
        ci = n;
        pfd[n].fd = X.cfd;
        pfd[n++].events = (short)((X.ceof ? 0 : POLLIN) | (X.sent_off < X.sent.len ? POLLOUT : 0));
    }
    li = n;
    pfd[n].fd = X.lfd;
    pfd[n++].events = POLLIN;
    for (int i = 0; i < X.nb; i++) {
        struct bconn *b = &X.b[i];

        pfd[n].fd = b->fd;
        pfd[n++].events = (short)((b->eof ? 0 : POLLIN) | (b->out_off < b->out.len ? POLLOUT : 0));
    }
    if (poll(pfd, (nfds_t)n, 10) < 0 && errno != EINTR)
        die("poll");
    if (ci >= 0 && pfd[ci].revents != 0) {
        if (X.sent_off < X.sent.len && (pfd[ci].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t w = client_send(X.sent.p + X.sent_off, X.sent.len - X.sent_off);

            if (w > 0) {
                X.sent_off += (size_t)w;
                moved = true;
            } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
                X.send_failed = true; /* drover closed: nothing more to say */
                X.sent_off = X.sent.len;
                moved = true;
            }
        }
        if (!X.ceof && (pfd[ci].revents & (POLLIN | POLLERR | POLLHUP))) {
            ssize_t r = client_recv(buf, sizeof(buf));

            if (r > 0)
                dbuf_put(&X.got, buf, (size_t)r);
            else if (r == 0 || (errno != EAGAIN && errno != EINTR))
                X.ceof = true; /* a reset counts as the close */
            moved = moved || r != -1 || X.ceof;
        }
    }
    if (pfd[li].revents & POLLIN) {
        int before = X.nb;

        backend_accept();
        moved = moved || X.nb != before;
    }
    for (int i = 0, k = li + 1; i < X.nb && k < n; i++, k++) {
        struct bconn *b = &X.b[i];

        if (pfd[k].fd != b->fd || pfd[k].revents == 0)
            continue;
        if (!b->eof && (pfd[k].revents & (POLLIN | POLLERR | POLLHUP))) {
            ssize_t r = recv(b->fd, buf, sizeof(buf), MSG_DONTWAIT);

            if (r > 0) {
                dbuf_put(&b->in, buf, (size_t)r);
                backend_feed(b, buf, (size_t)r);
                moved = true;
            } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                b->eof = true;
                moved = true;
            }
        }
        if (b->out_off < b->out.len && (pfd[k].revents & POLLOUT)) {
            ssize_t w = send(b->fd, b->out.p + b->out_off, b->out.len - b->out_off,
                             MSG_NOSIGNAL | MSG_DONTWAIT);

            if (w > 0)
                b->out_off += (size_t)w;
            else if (w < 0 && errno != EAGAIN && errno != EINTR)
                b->out_off = b->out.len;
            if (b->out_off == b->out.len && b->shut_after)
                shutdown(b->fd, SHUT_WR);
            moved = true;
        }
    }
    /* Answers queued by this round's reads go out on the next poll. */
    return moved;
}

static void exchange_run(const struct dcase *c, int dport)
{
    long long start = now_ms(), last = start;
    int want = c->keep_alive ? 2 : 1, done = 0;

    dbuf_put(&X.sent, c->head.p, c->head.len);
    dbuf_put(&X.sent, c->body.p, c->body.len);
    dbuf_puts(&X.sent, MARKER);
    X.c = c;
    X.cfd = connect_loopback(dport);
    if (X.cfd < 0)
        die("connect to drover");
    if (tls_ctx != NULL) {
        /* A blocking handshake, then the same non-blocking exchange. */
        if ((cssl = SSL_new(tls_ctx)) == NULL || SSL_set_fd(cssl, X.cfd) != 1 || SSL_connect(cssl) != 1)
            die("TLS handshake with drover");
        fcntl(X.cfd, F_SETFL, fcntl(X.cfd, F_GETFL) | O_NONBLOCK);
    }
    /* The case and the marker in one write. */
    {
        ssize_t w = client_send(X.sent.p, X.sent.len);

        if (w > 0)
            X.sent_off = (size_t)w;
    }
    for (;;) {
        long long t;

        if (exchange_step()) {
            last = now_ms();
            done = complete_answers();
        }
        t = now_ms();
        if (X.ceof && t - last >= CLOSED_MS)
            break;
        if (done >= want && t - last >= SETTLE_MS)
            break;
        if (t - last >= QUIET_MS || t - start >= CASE_MS)
            break;
    }
}

/* ---- the verdict ---- */

struct verdict {
    enum outcome out;
    int status;                 /* drover's own answer, when rejected */
    char detail[1024];
};

static bool is_case(const struct breq *r)
{
    return dbuf_eq(&r->method, X.c->method.p, X.c->method.len) &&
           dbuf_eq(&r->url, X.c->target.p, X.c->target.len);
}

static bool is_marker(const struct breq *r)
{
    return dbuf_eq(&r->method, "GET", 3) && dbuf_eq(&r->url, "/marker", 7);
}

/* "client: ...; backend: ..." in out. */
static void describe(const struct cview *v, char *out, size_t cap)
{
    size_t o = 0;
    char tmp[160];

    o += (size_t)snprintf(out + o, cap - o, "client got");
    if (v->n == 0)
        o += (size_t)snprintf(out + o, cap - o, " nothing");
    for (int i = 0; i < v->n && o < cap; i++) {
        const struct cresp *r = &v->r[i];

        if (r->seen > 0)
            o += (size_t)snprintf(out + o, cap - o, " %d(backend #%d)%s", r->status, r->seen,
                                  r->complete ? "" : "(partial)");
        else
            o += (size_t)snprintf(out + o, cap - o, " %d \"%s\"%s", r->status,
                                  shown(r->text, r->tlen, 60, tmp, sizeof(tmp)),
                                  r->complete ? "" : "(partial)");
    }
    if (o < cap)
        o += (size_t)snprintf(out + o, cap - o, "%s; backend read", X.ceof ? ", closed" : ", open");
    if (X.nreq == 0 && o < cap)
        o += (size_t)snprintf(out + o, cap - o, " nothing");
    for (int i = 0; i < X.nreq && o < cap; i++) {
        const struct breq *r = &X.req[i];
        char m[64];

        o += (size_t)snprintf(out + o, cap - o, "%s %s %s [%zu body bytes%s]", i ? "," : "",
                              shown(r->method.p, r->method.len, 20, m, sizeof(m)),
                              shown(r->url.p, r->url.len, 40, tmp, sizeof(tmp)), r->payload.len,
                              r->complete ? "" : ", incomplete");
    }
}

static void judge(struct verdict *v)
{
    const struct dcase *c = X.c;
    int want = c->keep_alive ? 2 : 1, ncase = 0, nmarker = 0;
    const struct breq *creq = NULL, *mreq = NULL;
    size_t bbytes = 0;
    struct cview cv;
    char what[512], tmp[160], m[64];

    client_view(&cv);
    describe(&cv, what, sizeof(what));
    memset(v, 0, sizeof(*v));
    for (int i = 0; i < X.nb; i++)
        bbytes += X.b[i].in.len;
    for (int i = 0; i < X.nreq; i++) {
        const struct breq *r = &X.req[i];

        if (is_case(r)) {
            ncase++;
            creq = r;
        } else if (is_marker(r)) {
            nmarker++;
            mreq = r;
        }
    }

    /* Desync: the first sign found. */
    v->out = OUT_DESYNC;
    for (int i = 0; i < X.nreq; i++) {
        const struct breq *r = &X.req[i];

        if (!is_case(r) && !is_marker(r)) {
            snprintf(v->detail, sizeof(v->detail),
                     "the backend read a request the client did not send (%s %s); %s",
                     shown(r->method.p, r->method.len, 20, m, sizeof(m)),
                     shown(r->url.p, r->url.len, 60, tmp, sizeof(tmp)), what);
            return;
        }
        if (r->payload.len > 0 && memmem(r->payload.p, r->payload.len, "GET /marker", 11) != NULL) {
            snprintf(v->detail, sizeof(v->detail), "the marker reached the backend in a body; %s",
                     what);
            return;
        }
    }
    for (int i = 0; i < X.nb; i++)
        if (X.b[i].err[0] != '\0') {
            snprintf(v->detail, sizeof(v->detail),
                     "drover sent the backend bytes a strict parser rejects (%s); %s", X.b[i].err,
                     what);
            return;
        }
    if (cv.err) {
        snprintf(v->detail, sizeof(v->detail), "the client cannot read the answers (%s); %s",
                 cv.errmsg, what);
        return;
    }
    if (cv.n > want) {
        snprintf(v->detail, sizeof(v->detail), "%d answers to %d request%s; %s", cv.n, want,
                 want > 1 ? "s" : "", what);
        return;
    }
    for (int i = 0; i < cv.n; i++) {
        int s = cv.r[i].seen;

        if (s <= 0)
            continue;
        if (s > X.nreq || (i == 0 && !is_case(&X.req[s - 1])) ||
            (i == 1 && !is_marker(&X.req[s - 1]))) {
            snprintf(v->detail, sizeof(v->detail), "answer %d is the backend's answer to another "
                                                   "request; %s", i + 1, what);
            return;
        }
    }
    if (creq != NULL && creq->complete && c->tier <= TIER_ACCEPTABLE &&
        !dbuf_eq(&creq->payload, c->payload.p, c->payload.len)) {
        snprintf(v->detail, sizeof(v->detail),
                 "the backend read a body of %zu bytes where the client sent %zu; %s",
                 creq->payload.len, c->payload.len, what);
        return;
    }

    snprintf(v->detail, sizeof(v->detail), "%s", what);
    /* Refused: nothing reached the backend, or only the start of the case
     * (drover read its head before the body it refused). */
    if ((X.nreq == 0 ? bbytes == 0 : X.nreq == 1 && ncase == 1 && !creq->complete) &&
        cv.n == 1 && cv.r[0].seen == 0 && cv.r[0].complete && cv.r[0].status >= 400) {
        v->status = cv.r[0].status;
        if (X.ceof) {
            v->out = OUT_REJECTED;
            snprintf(v->detail, sizeof(v->detail), "%d %s%s", cv.r[0].status,
                     shown(cv.r[0].text, cv.r[0].tlen, 80, tmp, sizeof(tmp)),
                     X.nreq > 0 ? " (the head had gone to the backend)" : "");
        } else {
            v->out = OUT_OTHER;
            snprintf(v->detail, sizeof(v->detail), "refused, but the connection stayed open; %s",
                     what);
        }
        return;
    }
    if (ncase == 1 && creq->complete && dbuf_eq(&creq->payload, c->payload.p, c->payload.len) &&
        nmarker == (c->keep_alive ? 1 : 0) && (mreq == NULL || mreq->complete) &&
        X.nreq == want && cv.n == want && cv.r[0].complete && cv.r[0].seen > 0 &&
        (want == 1 || (cv.r[1].complete && cv.r[1].seen > 0)) && (c->keep_alive || X.ceof)) {
        v->out = OUT_FORWARDED;
        return;
    }
    v->out = OUT_OTHER;
}

/* ---- running the cases ---- */

struct tally {
    int n[NTIERS][NOUTCOMES];
    int passed, failed;
};

/* Why a case fails, or NULL when it passes. */
static const char *failure(const struct dcase *c, const struct verdict *v, int status,
                           bool sanitizer)
{
    static char why[200];

    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(why, sizeof(why), "drover did not exit 0 on SIGTERM (wait status %#x)", status);
        return why;
    }
    if (sanitizer)
        return "a sanitizer report in drover's log";
    if (v->out == OUT_DESYNC)
        return "desync";
    if (c->expect != OUT_BY_TIER) {
        if ((int)v->out != c->expect ||
            (c->expect == OUT_REJECTED && c->expect_status != 0 && v->status != c->expect_status)) {
            char code[16] = "";

            if (c->expect_status != 0)
                snprintf(code, sizeof(code), " %d", c->expect_status);
            snprintf(why, sizeof(why), "expected %s%s%s", outcome_name((enum outcome)c->expect),
                     code, c->why != NULL ? " (the recorded reason is stale)" : "");
            return why;
        }
        return NULL;
    }
    if (c->tier == TIER_COMPLIANT && v->out != OUT_FORWARDED)
        return "a Compliant case not forwarded, and no reason recorded";
    return NULL;
}

static bool has_sanitizer_report(const char *log)
{
    static const char *const marks[] = {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                                        "runtime error:"};
    char *text = read_file(log);
    bool found = false;

    for (size_t i = 0; text != NULL && i < sizeof(marks) / sizeof(marks[0]); i++)
        found = found || strstr(text, marks[i]) != NULL;
    free(text);
    return found;
}

static void run_case(const struct dcase *c, struct tally *t)
{
    struct drover d = {0};
    struct verdict v;
    const char *fail;
    char name[200];
    int bport, status, tries = 0;
    bool sanitizer;

    exchange_reset();
    X.lfd = listen_loopback(&bport);
    while (!drover_start(&d, bport)) {
        char *log = read_file(d.log);

        drover_stop(&d);
        if (++tries == 3) { /* a port taken between our check and its bind, thrice */
            fprintf(stderr, "desync: drover did not start:\n%s\n", log ? log : "");
            exit(2);
        }
        free(log);
    }
    exchange_run(c, d.port);
    judge(&v);
    SSL_free(cssl);
    cssl = NULL;
    close(X.cfd);
    for (int i = 0; i < X.nb; i++)
        close(X.b[i].fd);
    close(X.lfd);
    status = drover_stop(&d);
    sanitizer = has_sanitizer_report(d.log);
    fail = failure(c, &v, status, sanitizer);
    t->n[c->tier][v.out]++;
    if (fail == NULL)
        t->passed++;
    else
        t->failed++;
    shown(c->name, strlen(c->name), 80, name, sizeof(name));
    printf("%s %-10s %-9s %s (%s)\n", fail ? "FAIL" : "ok  ", tier_name(c->tier),
           outcome_name(v.out), name, c->source);
    if (fail != NULL || verbose || v.out != OUT_FORWARDED)
        printf("     %s\n", v.detail);
    if (c->why != NULL && (fail != NULL || verbose))
        printf("     recorded reason: %s\n", c->why);
    if (fail != NULL) {
        char req[400];

        printf("     FAILED: %s\n", fail);
        printf("     sent: %s\n", shown(c->head.p, c->head.len, 300, req, sizeof(req)));
    }
    fflush(stdout);
}

static void usage(void)
{
    fprintf(stderr, "usage: desync --drover PATH [--corpus DIR] [--tls] [-v] [--list] [FILTER...]\n");
    exit(2);
}

static bool selected(const struct dcase *c, int nf, char **f)
{
    if (nf == 0)
        return true;
    for (int i = 0; i < nf; i++)
        if (strstr(c->name, f[i]) != NULL || strstr(c->source, f[i]) != NULL)
            return true;
    return false;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"drover", required_argument, NULL, 'd'},
        {"corpus", required_argument, NULL, 'c'},
        {"list", no_argument, NULL, 'l'},
        {"verbose", no_argument, NULL, 'v'},
        {"tls", no_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    struct case_list cases = {0};
    struct tally t = {0};
    const char *corpus = NULL;
    bool list = false, tls = false;
    int ch, run = 0;
    char err[512];

    while ((ch = getopt_long(argc, argv, "v", longopts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            drover_bin = optarg;
            break;
        case 'c':
            corpus = optarg;
            break;
        case 'l':
            list = true;
            break;
        case 'v':
            verbose = true;
            break;
        case 't':
            tls = true;
            break;
        default:
            usage();
        }
    }
    if (corpus != NULL) {
        if (corpus_load_dir(corpus, &cases, err, sizeof(err)) < 0) {
            fprintf(stderr, "desync: %s\n", err);
            return 2;
        }
    } else {
        regress_cases(&cases);
    }
    if (list) {
        for (size_t i = 0; i < cases.n; i++) {
            char name[200];

            printf("%-10s %s (%s)\n", tier_name(cases.v[i].tier),
                   shown(cases.v[i].name, strlen(cases.v[i].name), 80, name, sizeof(name)),
                   cases.v[i].source);
        }
        return 0;
    }
    if (drover_bin == NULL)
        usage();
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (mkdtemp(work_dir) == NULL)
        die("mkdtemp");
    if (tls) {
        char cmd[400];

        snprintf(cmd, sizeof(cmd),
                 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout %s/cert.key "
                 "-out %s/cert.pem -days 2 -subj /CN=desync.test 2>/dev/null",
                 work_dir, work_dir);
        if (system(cmd) != 0 || (tls_ctx = SSL_CTX_new(TLS_client_method())) == NULL)
            die("making the TLS certificate");
    }
    X.cfd = X.lfd = -1;
    for (size_t i = 0; i < cases.n; i++) {
        if (!selected(&cases.v[i], argc - optind, argv + optind))
            continue;
        run_case(&cases.v[i], &t);
        run++;
    }
    exchange_reset();
    printf("\n%-11s %6s %9s %10s %6s %7s\n", "tier", "cases", "rejected", "forwarded", "other",
           "DESYNC");
    for (int ti = 0; ti < NTIERS; ti++) {
        int *n = t.n[ti];

        printf("%-11s %6d %9d %10d %6d %7d\n", tier_name((enum tier)ti),
               n[OUT_REJECTED] + n[OUT_FORWARDED] + n[OUT_OTHER] + n[OUT_DESYNC], n[OUT_REJECTED],
               n[OUT_FORWARDED], n[OUT_OTHER], n[OUT_DESYNC]);
    }
    printf("%d passed, %d failed\n", t.passed, t.failed);
    /* Freed for LeakSanitizer, which judges this program in make test. */
    for (size_t i = 0; i < cases.n; i++) {
        struct dbuf *bufs[] = {&cases.v[i].head, &cases.v[i].body, &cases.v[i].payload,
                               &cases.v[i].method, &cases.v[i].target};

        for (size_t k = 0; k < sizeof(bufs) / sizeof(bufs[0]); k++)
            free(bufs[k]->p);
    }
    free(cases.v);
    unlink(strcat(strcpy(err, work_dir), "/drover.yaml"));
    unlink(strcat(strcpy(err, work_dir), "/drover.log"));
    unlink(strcat(strcpy(err, work_dir), "/cert.pem"));
    unlink(strcat(strcpy(err, work_dir), "/cert.key"));
    SSL_CTX_free(tls_ctx);
    rmdir(work_dir);
    if (run == 0) {
        fprintf(stderr, "desync: no case matches the filter\n");
        return 1;
    }
    return t.failed == 0 ? 0 : 1;
}
