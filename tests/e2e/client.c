#include "tests/e2e/client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "llhttp.h"
#include "tests/e2e/harness.h"

uint64_t fnv1a(const void *data, size_t len, uint64_t h)
{
    const unsigned char *p = data;

    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static int parse_addr(const char *addr, struct sockaddr_storage *ss, socklen_t *len)
{
    memset(ss, 0, sizeof(*ss));
    if (strncmp(addr, "unix:", 5) == 0) {
        struct sockaddr_un *sun = (struct sockaddr_un *)ss;

        sun->sun_family = AF_UNIX;
        snprintf(sun->sun_path, sizeof(sun->sun_path), "%s", addr + 5);
        *len = sizeof(*sun);
        return 0;
    }
    if (addr[0] == '[') {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        const char *close = strchr(addr, ']');
        char host[64];

        if (close == NULL || close[1] != ':')
            return -1;
        snprintf(host, sizeof(host), "%.*s", (int)(close - addr - 1), addr + 1);
        s6->sin6_family = AF_INET6;
        if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
            return -1;
        s6->sin6_port = htons((uint16_t)atoi(close + 2));
        *len = sizeof(*s6);
        return 0;
    }
    {
        struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
        const char *colon = strrchr(addr, ':');
        char host[64];

        if (colon == NULL)
            return -1;
        snprintf(host, sizeof(host), "%.*s", (int)(colon - addr), addr);
        s4->sin_family = AF_INET;
        if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
            return -1;
        s4->sin_port = htons((uint16_t)atoi(colon + 1));
        *len = sizeof(*s4);
        return 0;
    }
}

struct client *client_try_open_from(const char *addr, const char *from_ip)
{
    struct sockaddr_storage ss;
    struct sockaddr_in src = {.sin_family = AF_INET};
    socklen_t len;
    struct client *c;
    int fd, one = 1;

    if (parse_addr(addr, &ss, &len) < 0)
        return NULL;
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return NULL;
    if (from_ip != NULL && (inet_pton(AF_INET, from_ip, &src.sin_addr) != 1 ||
                            bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0)) {
        close(fd);
        return NULL;
    }
    if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
        close(fd);
        return NULL;
    }
    if (ss.ss_family != AF_UNIX)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        _exit(3);
    c->fd = fd;
    return c;
}

struct client *client_try_open(const char *addr)
{
    return client_try_open_from(addr, NULL);
}

struct client *client_open(const char *addr)
{
    struct client *c = client_try_open(addr);

    if (c == NULL)
        e2e_fail(__FILE__, __LINE__, "cannot connect to %s: %s", addr, strerror(errno));
    return c;
}

void client_close(struct client *c)
{
    if (c == NULL)
        return;
    close(c->fd);
    free(c->buf);
    free(c);
}

long client_send_try(struct client *c, const void *data, size_t len)
{
    size_t off = 0;

    while (off < len) {
        ssize_t n = send(c->fd, (const char *)data + off, len - off, MSG_NOSIGNAL);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        off += (size_t)n;
    }
    return (long)off;
}

void client_send(struct client *c, const void *data, size_t len)
{
    if (client_send_try(c, data, len) < 0)
        e2e_fail(__FILE__, __LINE__, "send: %s", strerror(errno));
}

void client_send_str(struct client *c, const char *s)
{
    client_send(c, s, strlen(s));
}

/* Reads more bytes into c->buf; 1 read, 0 EOF, -1 timeout or error. */
static int fill(struct client *c, int timeout_ms)
{
    struct pollfd pfd = {c->fd, POLLIN, 0};
    ssize_t n;
    int r;

    if (c->eof)
        return 0;
    r = poll(&pfd, 1, timeout_ms);
    if (r <= 0)
        return -1;
    if (c->cap - c->len < 65536) {
        c->cap = c->cap ? c->cap * 2 : 131072;
        c->buf = realloc(c->buf, c->cap);
        if (c->buf == NULL)
            _exit(3);
    }
    n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
    if (n < 0) {
        if (errno == EINTR || errno == EAGAIN)
            return 1;
        c->eof = true; /* a reset counts as the end */
        return 0;
    }
    if (n == 0) {
        c->eof = true;
        return 0;
    }
    c->len += (size_t)n;
    return 1;
}

struct parse_state {
    struct http_resp *r;
    bool in_value;
    bool head_request;
    bool done;
    size_t body_cap;
};

static char *append(char *s, const char *at, size_t len)
{
    size_t old = s != NULL ? strlen(s) : 0;
    char *n = realloc(s, old + len + 1);

    if (n == NULL)
        _exit(3);
    memcpy(n + old, at, len);
    n[old + len] = '\0';
    return n;
}

static int on_header_field(llhttp_t *p, const char *at, size_t len)
{
    struct parse_state *st = p->data;
    struct http_resp *r = st->r;

    if (st->in_value || r->nhdr == 0) {
        if (r->nhdr == CLIENT_MAX_HEADERS)
            return 0;
        r->nhdr++;
        st->in_value = false;
    }
    r->name[r->nhdr - 1] = append(r->name[r->nhdr - 1], at, len);
    return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t len)
{
    struct parse_state *st = p->data;
    struct http_resp *r = st->r;

    st->in_value = true;
    if (r->nhdr == 0)
        return 0;
    r->value[r->nhdr - 1] = append(r->value[r->nhdr - 1], at, len);
    return 0;
}

static int on_headers_complete(llhttp_t *p)
{
    struct parse_state *st = p->data;

    st->r->status = llhttp_get_status_code(p);
    st->r->major = llhttp_get_http_major(p);
    st->r->minor = llhttp_get_http_minor(p);
    st->r->chunked = (p->flags & F_CHUNKED) != 0;
    for (unsigned i = 0; i < st->r->nhdr; i++)
        if (st->r->value[i] == NULL)
            st->r->value[i] = append(NULL, "", 0);
    return st->head_request ? 1 : 0;
}

static int on_body(llhttp_t *p, const char *at, size_t len)
{
    struct parse_state *st = p->data;
    struct http_resp *r = st->r;

    if (r->body_len + len + 1 > st->body_cap) {
        while (r->body_len + len + 1 > st->body_cap)
            st->body_cap = st->body_cap ? st->body_cap * 2 : 4096;
        r->body = realloc(r->body, st->body_cap);
        if (r->body == NULL)
            _exit(3);
    }
    memcpy(r->body + r->body_len, at, len);
    r->body_len += len;
    r->body[r->body_len] = '\0';
    r->body_fnv = fnv1a(at, len, r->body_fnv);
    return 0;
}

static int on_message_complete(llhttp_t *p)
{
    struct parse_state *st = p->data;

    st->done = true;
    st->r->keep_alive = llhttp_should_keep_alive(p);
    return HPE_PAUSED;
}

static const llhttp_settings_t settings = {
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

static int read_resp(struct client *c, struct http_resp *r, bool head_request, int timeout_ms,
                     bool skip_1xx);

int client_read(struct client *c, struct http_resp *r, bool head_request, int timeout_ms)
{
    return read_resp(c, r, head_request, timeout_ms, true);
}

int client_read_any(struct client *c, struct http_resp *r, bool head_request, int timeout_ms)
{
    return read_resp(c, r, head_request, timeout_ms, false);
}

static int read_resp(struct client *c, struct http_resp *r, bool head_request, int timeout_ms,
                     bool skip_1xx)
{
    struct parse_state st = {r, false, head_request, false, 0};
    long long deadline = e2e_now_ms() + timeout_ms;
    size_t parsed = 0;
    llhttp_t p;

    memset(r, 0, sizeof(*r));
    r->body_fnv = FNV_INIT;
    r->body = calloc(1, 1);
    st.body_cap = 1;
    llhttp_init(&p, HTTP_RESPONSE, &settings);
    p.data = &st;
    for (;;) {
        if (parsed < c->len) {
            llhttp_errno_t err = llhttp_execute(&p, c->buf + parsed, c->len - parsed);

            if (err == HPE_PAUSED) {
                parsed = (size_t)(llhttp_get_error_pos(&p) - c->buf);
                /* 1xx interim responses are skipped like a browser does. */
                if (skip_1xx && r->status >= 100 && r->status < 200 && r->status != 101) {
                    memmove(c->buf, c->buf + parsed, c->len - parsed);
                    c->len -= parsed;
                    parsed = 0;
                    resp_free(r);
                    return read_resp(c, r, head_request, (int)(deadline - e2e_now_ms()), true);
                }
            } else if (err != HPE_OK) {
                e2e_log("client: unparsable response: %s (%s)", llhttp_errno_name(err),
                        llhttp_get_error_reason(&p));
                return -1;
            } else {
                parsed = c->len;
            }
        }
        if (st.done)
            break;
        if (c->eof) {
            /* A body delimited by the close: llhttp_finish runs
             * on_message_complete, whose pause is its success. */
            llhttp_errno_t fin = llhttp_finish(&p);

            if ((fin == HPE_OK || fin == HPE_PAUSED) && st.done) {
                r->keep_alive = false;
                break;
            }
            return -1;
        }
        if (e2e_now_ms() > deadline)
            return -1;
        if (fill(c, (int)(deadline - e2e_now_ms() + 1)) < 0 && e2e_now_ms() > deadline)
            return -1;
    }
    memmove(c->buf, c->buf + parsed, c->len - parsed);
    c->len -= parsed;
    return 0;
}

bool client_wait_closed(struct client *c, int timeout_ms)
{
    long long deadline = e2e_now_ms() + timeout_ms;

    while (!c->eof) {
        if (e2e_now_ms() > deadline)
            return false;
        if (fill(c, (int)(deadline - e2e_now_ms() + 1)) > 0)
            c->len = 0; /* discard */
    }
    return true;
}

void resp_free(struct http_resp *r)
{
    for (unsigned i = 0; i < r->nhdr; i++) {
        free(r->name[i]);
        free(r->value[i]);
    }
    free(r->body);
    memset(r, 0, sizeof(*r));
}

const char *resp_header(const struct http_resp *r, const char *name)
{
    for (unsigned i = 0; i < r->nhdr; i++)
        if (r->name[i] != NULL && strcasecmp(r->name[i], name) == 0)
            return r->value[i];
    return NULL;
}

unsigned resp_header_count(const struct http_resp *r, const char *name)
{
    unsigned n = 0;

    for (unsigned i = 0; i < r->nhdr; i++)
        if (r->name[i] != NULL && strcasecmp(r->name[i], name) == 0)
            n++;
    return n;
}

void http_exchange(const char *addr, const char *request, struct http_resp *r, int timeout_ms)
{
    struct client *c = client_open(addr);

    client_send_str(c, request);
    if (client_read(c, r, strncmp(request, "HEAD ", 5) == 0, timeout_ms) < 0)
        e2e_fail(__FILE__, __LINE__, "no complete response from %s within %dms to: %.60s", addr,
                 timeout_ms, request);
    client_close(c);
}

void http_get(const char *addr, const char *path, struct http_resp *r)
{
    http_exchange(addr, e2e_fmt("GET %s HTTP/1.1\r\nHost: test\r\n\r\n", path), r, 5000);
}

size_t client_read_raw(struct client *c, void *buf, size_t len, int timeout_ms)
{
    long long deadline = e2e_now_ms() + timeout_ms;
    size_t got = 0;

    while (got < len) {
        if (c->len > 0) {
            size_t n = c->len < len - got ? c->len : len - got;

            memcpy((char *)buf + got, c->buf, n);
            memmove(c->buf, c->buf + n, c->len - n);
            c->len -= n;
            got += n;
            continue;
        }
        if (c->eof || e2e_now_ms() > deadline)
            break;
        fill(c, (int)(deadline - e2e_now_ms() + 1));
    }
    return got;
}

long client_send_nb(struct client *c, const void *data, size_t len)
{
    ssize_t n;

    do {
        n = send(c->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    return (long)n;
}

bool client_readable(struct client *c, int timeout_ms)
{
    struct pollfd pfd = {c->fd, POLLIN, 0};

    if (c->len > 0 || c->eof)
        return true;
    return poll(&pfd, 1, timeout_ms) > 0;
}

/* GETs until every one of the names answered (or the deadline passed);
 * returns how many requests it took. Fails on any non-200. */
int e2e_until_all_answer(const char *addr, const char *const *names, int n, int timeout_ms)
{
    long long deadline = e2e_now_ms() + timeout_ms;
    bool seen[16] = {false};
    int requests = 0, left = n;

    while (left > 0) {
        struct http_resp r;
        const char *be;

        ASSERT(e2e_now_ms() < deadline, "only %d of %d instances answered", n - left, n);
        http_get(addr, "/", &r);
        requests++;
        if (r.status == 503) { /* not ready yet */
            resp_free(&r);
            e2e_sleep_ms(20);
            continue;
        }
        ASSERT(r.status == 200, "status %d: %s", r.status, r.body);
        be = resp_header(&r, "X-Backend");
        for (int i = 0; i < n; i++) {
            if (be != NULL && strcmp(be, names[i]) == 0 && !seen[i]) {
                seen[i] = true;
                left--;
            }
        }
        resp_free(&r);
    }
    return requests;
}

struct load_args {
    char addr[128];
    char path[256];
    int conns;
    int ms;
};

/* The load generator's body (in its own process): conns keep-alive clients
 * in turn, each with one request in flight at a time. Every answer that is
 * not 2xx and every broken connection is counted and described. */
static void load_run(void *arg)
{
    const struct load_args *a = arg;
    struct client *c[64] = {NULL};
    long long end = e2e_now_ms() + a->ms;
    long ok = 0, bad = 0, errors = 0;
    char *req = e2e_fmt("GET %s HTTP/1.1\r\nHost: load\r\n\r\n", a->path);

    while (e2e_now_ms() < end) {
        for (int i = 0; i < a->conns; i++) {
            struct http_resp r;

            if (c[i] == NULL && (c[i] = client_try_open(a->addr)) == NULL) {
                errors++;
                printf("connect failed: %s\n", strerror(errno));
                e2e_sleep_ms(5);
                continue;
            }
            if (client_send_try(c[i], req, strlen(req)) < 0 || client_read(c[i], &r, false, 5000) < 0) {
                errors++;
                printf("connection broke (client %d)\n", i);
                client_close(c[i]);
                c[i] = NULL;
                continue;
            }
            if (r.status >= 200 && r.status < 300) {
                ok++;
            } else {
                bad++;
                printf("status %d: %.200s\n", r.status, r.body);
            }
            if (!r.keep_alive) {
                client_close(c[i]);
                c[i] = NULL;
            }
            resp_free(&r);
        }
    }
    for (int i = 0; i < a->conns; i++)
        client_close(c[i]);
    printf("RESULT ok=%ld bad=%ld errors=%ld\n", ok, bad, errors);
}

struct e2e_proc *e2e_load_start(const char *addr, const char *path, int conns, int ms)
{
    static struct load_args a;

    snprintf(a.addr, sizeof(a.addr), "%s", addr);
    snprintf(a.path, sizeof(a.path), "%s", path);
    a.conns = conns < 64 ? conns : 64;
    a.ms = ms;
    return e2e_fork("load", load_run, &a);
}

void e2e_load_result(struct e2e_proc *p, long *ok, long *bad, long *errors)
{
    char *text;
    const char *line;

    while (!e2e_exited(p))
        e2e_sleep_ms(20);
    text = e2e_read_file(p->log, NULL);
    line = text != NULL ? strstr(text, "RESULT ") : NULL;
    if (line == NULL || sscanf(line, "RESULT ok=%ld bad=%ld errors=%ld", ok, bad, errors) != 3)
        e2e_fail(__FILE__, __LINE__, "the load generator left no result in %s", p->log);
    if (*bad > 0 || *errors > 0)
        e2e_log("load generator log:\n%.3000s", text);
    free(text);
}

void e2e_load_assert_clean(struct e2e_proc *p)
{
    long ok, bad, errors;

    e2e_load_result(p, &ok, &bad, &errors);
    e2e_log("under load: %ld answered 2xx, %ld other, %ld broken connections", ok, bad, errors);
    if (ok <= 100)
        e2e_fail(__FILE__, __LINE__, "the load generator did too little (%ld)", ok);
    if (bad != 0 || errors != 0)
        e2e_fail(__FILE__, __LINE__, "%ld failed answers, %ld broken connections", bad, errors);
}
