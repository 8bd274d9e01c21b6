/* libFuzzer target over the whole request path, in process: the real
 * router (router_start with workers: 1) on an event loop this file owns,
 * real sockets, and the harness playing both the client and the backends.
 *
 * Set up once (LLVMFuzzerInitialize): a temp dir with two backend
 * listeners the harness owns (a unix socket and 127.0.0.1:port, so both
 * the immediate unix connect and the EINPROGRESS TCP connect are used), a
 * bound-but-not-listening TCP port (connection refused) and a unix path
 * nobody listens on; a drover.yaml routing to them (see CONFIG below) with
 * long timeouts; conf_load and router_start. The active health checks are
 * switched off (they would connect to the backend listeners at random
 * times).
 *
 * Input: a 4-byte prefix, then the client's bytes, "@@B", the backends'.
 *   [0] flags (F_* below)  [1] client write size (0: all at once)
 *   [2] backend write size [3] more flags (G_* below)
 * The client part is split at "@@C" into up to 3 client connections,
 * opened one after the other (each once the previous one's bytes are in
 * and the loop went quiet), so a max_inflight route can queue. The backend
 * part is split at "@@N" into segments: the k-th upstream connection drover
 * opens gets the k-th segment (none when there are fewer).
 *
 * One input: connect the clients (through drover's unix listener, or by
 * conn_accept on one end of a socketpair with a made-up IPv4/IPv6 peer),
 * write, accept drover's upstream connections and answer them, and spin
 * the loop with EVRUN_NOWAIT until nothing moves (the harness's I/O and a
 * fingerprint of the worker's connections unchanged for two iterations);
 * then, per flags, shut the clients' sending side and expire every
 * connection's timer (deterministically: no waiting on the clock) and spin
 * again. Teardown closes the harness's sockets, spins so drover sees the
 * EOFs, closes whatever drover still holds (conn_close, pooled upstreams)
 * and checks that nothing leaked: no connection, no queued request, no
 * in-flight count, no pooled upstream, no backend or table reference and
 * no socket left over.
 *
 * Oracles besides ASan/UBSan: every byte stream drover sends to a backend
 * must parse as HTTP/1.1 requests with a strict llhttp, each with a usable
 * Host; every stream it sends a client must parse as responses, each framed
 * for the request it answers (no body after a 1xx, 204, 304 or an answer to
 * HEAD, RFC 9112 6.3), and the client must not be in the middle of one when
 * drover waits for its next request. A stream a parser rejects is a message
 * drover built that the other side could read differently from drover. */
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <ev.h>

#include "conf/config.h"
#include "lib/log.h"
#include "llhttp.h"
#include "router/accesslog.h"
#include "router/backend.h"
#include "router/buf.h"
#include "router/conn.h"
#include "router/request.h"
#include "router/health.h"
#include "router/route.h"
#include "router/router.h"
#include "router/upstream.h"
#include "router/worker.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
    F_LISTENER = 1,     /* connect through drover's listener (else socketpair + conn_accept) */
    F_IPV6 = 2,         /* socketpair: an IPv6 peer (else IPv4, listen port 8080) */
    F_CLIENT_SHUT = 4,  /* the clients shut their sending side once all is written */
    F_BACKEND_SHUT = 8, /* a backend shuts its sending side after its segment */
    F_EXPIRE = 16,      /* when quiet, expire every connection's timer */
    F_SLOW = 32,        /* both sides read only when quiet; small send buffers */
    F_JSON = 64,        /* JSON access log */
    F_BACKEND_WAIT = 128, /* a backend answers only once the loop is quiet and it read all */
};
enum {
    G_ROUNDS = 3,       /* timer expiry rounds - 1 */
    G_CLIENT_CLOSE = 4, /* the clients close instead of shutting down */
    G_BACKEND_CLOSE = 8, /* a backend closes instead of shutting down */
};

#define MAX_CLIENTS 3
#define MAX_BACKENDS 16
#define MAX_ITERS 600
#define CAPTURE_MAX (64 * 1024)

#define CHECK(cond)                                                                         \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "fuzz_proxy: check failed at %s:%d: %s\n", __FILE__, __LINE__, \
                    #cond);                                                                 \
            abort();                                                                        \
        }                                                                                   \
    } while (0)

struct client {
    int fd;
    const char *data;
    size_t len, off;
    bool started, eof, shut;
    int drover_fd;      /* drover's end (socketpair clients), else -1 */
    size_t caplen;
    char *cap;          /* what drover answered: checked as a response stream */
};

struct bconn {
    int fd;
    const char *data;
    size_t len, off;
    bool shut, eof, checked;
    size_t caplen;
    char *cap;          /* what drover sent: checked as a request stream */
};

static struct {
    char dir[64];
    char path_conf[128], path_drover[128], path_backend[128], path_nobody[128];
    int lis_unix, lis_tcp, refused_tcp;
    struct ev_loop *loop;
    struct router router;
    struct worker *w;
    int base_sockets;
    unsigned table_refs;
    unsigned nbe;
    struct backend *be[16];
    unsigned be_refs[16];

    /* per input */
    unsigned flags, gflags;
    size_t cpiece, bpiece;
    struct client cl[MAX_CLIENTS];
    unsigned ncl;
    struct bconn bc[MAX_BACKENDS];
    unsigned nbc;
    const char *seg[MAX_BACKENDS];
    size_t seglen[MAX_BACKENDS];
    unsigned nseg;
    uint64_t io;        /* harness I/O events: progress */
    bool teardown;
    bool verbose;       /* FUZZ_PROXY_VERBOSE=1: print what each side got */
} G;

static void die(const char *what)
{
    fprintf(stderr, "fuzz_proxy: %s: %s\n", what, strerror(errno));
    abort();
}

/* Open sockets: drover's and the harness's (libFuzzer opens pipes and
 * files of its own, for its symbolizer and corpus). */
static int count_sockets(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;

    if (d == NULL)
        die("opendir /proc/self/fd");
    while ((e = readdir(d)) != NULL) {
        char path[300], target[16];

        snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
        if (readlink(path, target, sizeof(target)) >= 7 && memcmp(target, "socket:", 7) == 0)
            n++;
    }
    closedir(d);
    return n;
}

static int listen_unix(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 128) < 0)
        die("backend unix listener");
    return fd;
}

/* A TCP socket on 127.0.0.1 with a kernel-chosen port; listening or not. */
static int tcp_socket(bool do_listen, int *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        die("backend tcp socket");
    if (do_listen && listen(fd, 128) < 0)
        die("listen");
    if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
        die("getsockname");
    *port = ntohs(sa.sin_port);
    return fd;
}

static void remove_dir(const char *dir)
{
    static const char *const files[] = {"drover.yaml", "drover.sock", "backend.sock"};
    char path[300];

    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

static void cleanup(void)
{
    remove_dir(G.dir);
}

/* A crash ends the process without atexit: the next run removes the temp
 * dirs of fuzz processes that are gone ("/tmp/drover-fuzz-<pid>-XXXXXX"). */
static void remove_stale_dirs(void)
{
    DIR *d = opendir("/tmp");
    struct dirent *e;

    while (d != NULL && (e = readdir(d)) != NULL) {
        char dir[300];
        long pid;

        if (sscanf(e->d_name, "drover-fuzz-%ld-", &pid) != 1 || pid <= 0 ||
            kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        snprintf(dir, sizeof(dir), "/tmp/%s", e->d_name);
        remove_dir(dir);
    }
    if (d != NULL)
        closedir(d);
}

/* Routes: host-less /a (unix and TCP backends, round robin) and /api/
 * (stripped); a.test (TCP, least_conn); strip.test/api/ (stripped);
 * dead.test (nothing answers: 503 after the retries); *.dead.test (dead
 * ones, then the unix backend: retries that succeed); limited.test
 * (max_inflight 1, a queue of 1). Anything else is 404. Timeouts are long:
 * they fire only when the harness expires them. */
static const char CONFIG[] =
    "listen: unix:%1$s\n"
    "workers: 1\n"
    "admin:\n"
    "  listen: off\n"
    "routes:\n"
    "  - path: /a\n"
    "    backends: [\"unix:%2$s\", \"127.0.0.1:%3$d\"]\n"
    "  - path: /api/\n"
    "    strip_prefix: true\n"
    "    backends: [\"unix:%2$s\"]\n"
    "  - host: a.test\n"
    "    backends: [\"127.0.0.1:%3$d\"]\n"
    "    balance: least_conn\n"
    "  - host: strip.test\n"
    "    path: /api/\n"
    "    strip_prefix: true\n"
    "    backends: [\"unix:%2$s\"]\n"
    "  - host: dead.test\n"
    "    backends: [\"unix:%4$s\", \"127.0.0.1:%5$d\"]\n"
    "  - host: \"*.dead.test\"\n"
    "    backends: [\"unix:%4$s\", \"127.0.0.1:%5$d\", \"unix:%2$s\"]\n"
    "    balance: random2\n"
    "  - host: limited.test\n"
    "    backends: [\"unix:%2$s\"]\n"
    "    max_inflight: 1\n"
    "retries: 2\n"
    "timeouts:\n"
    "  connect: 10s\n"
    "  client_header: 10s\n"
    "  client_body: 10s\n"
    "  upstream: 10s\n"
    "  idle: 10s\n"
    "  queue: 10s\n"
    "  drain: 1s\n"
    "  tunnel: 10s\n"
    "limits:\n"
    "  max_connections: 64\n"
    "  max_header_bytes: 2k\n"
    "  max_body_bytes: 4k\n"
    "  max_queue: 1\n"
    "log:\n"
    "  access: /dev/null\n"
    "  format: text\n";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[2048];
    struct conf *conf;
    FILE *f;
    int tcp_port, refused_port;

    (void)argc;
    (void)argv;
    signal(SIGPIPE, SIG_IGN);
    G.verbose = getenv("FUZZ_PROXY_VERBOSE") != NULL;
    log_set_level(G.verbose ? LOG_DEBUG : LOG_ERROR);
    remove_stale_dirs();
    snprintf(G.dir, sizeof(G.dir), "/tmp/drover-fuzz-%ld-XXXXXX", (long)getpid());
    if (mkdtemp(G.dir) == NULL)
        die("mkdtemp");
    snprintf(G.path_conf, sizeof(G.path_conf), "%s/drover.yaml", G.dir);
    snprintf(G.path_drover, sizeof(G.path_drover), "%s/drover.sock", G.dir);
    snprintf(G.path_backend, sizeof(G.path_backend), "%s/backend.sock", G.dir);
    snprintf(G.path_nobody, sizeof(G.path_nobody), "%s/nobody.sock", G.dir);
    atexit(cleanup);

    G.lis_unix = listen_unix(G.path_backend);
    G.lis_tcp = tcp_socket(true, &tcp_port);
    G.refused_tcp = tcp_socket(false, &refused_port);

    f = fopen(G.path_conf, "w");
    if (f == NULL)
        die("fopen");
    fprintf(f, CONFIG, G.path_drover, G.path_backend, tcp_port, G.path_nobody, refused_port);
    fclose(f);
    conf = conf_load(G.path_conf, err, sizeof(err));
    if (conf == NULL) {
        fprintf(stderr, "fuzz_proxy: config: %s\n", err);
        abort();
    }

    G.loop = ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOENV);
    if (G.loop == NULL)
        die("ev_loop_new");
    if (router_start(&G.router, G.loop, conf, err, sizeof(err)) < 0) {
        fprintf(stderr, "fuzz_proxy: router_start: %s\n", err);
        abort();
    }
    /* Active checks would connect to the backend listeners at any time. */
    health_free(G.router.health);
    G.router.health = NULL;
    G.w = &G.router.workers[0];
    CHECK(G.router.nworkers == 1 && G.w->alog != NULL);

    for (struct backend *be = G.router.reg.head; be != NULL; be = be->reg_next) {
        CHECK(G.nbe < 16);
        G.be[G.nbe++] = be;
    }
    for (unsigned i = 0; i < G.nbe; i++)
        G.be_refs[i] = atomic_load(&G.be[i]->refs);
    G.table_refs = G.w->table->refs;
    ev_run(G.loop, EVRUN_NOWAIT);
    G.base_sockets = count_sockets();
    return 0;
}

/* ---- the client side ---- */

static void client_open(struct client *c)
{
    struct worker *w = G.w;
    int one = 1;

    c->started = true;
    if (G.flags & F_LISTENER) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};

        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", G.path_drover);
        c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (c->fd < 0)
            die("socket");
        if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
            die("connect to drover's listener");
        return;
    }
    {
        int sv[2];

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
            die("socketpair");
        c->fd = sv[1];
        c->drover_fd = sv[0];
        if (G.flags & F_SLOW)
            setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &one, sizeof(one));
        if (G.flags & F_IPV6) {
            struct sockaddr_in6 peer = {.sin6_family = AF_INET6, .sin6_port = htons(40000)};

            memset(&peer.sin6_addr, 0xff, sizeof(peer.sin6_addr));
            conn_accept(w, sv[0], (struct sockaddr *)&peer, 8443, false, NULL);
        } else {
            struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons(40000),
                                       .sin_addr.s_addr = htonl(0x0a000001)};

            conn_accept(w, sv[0], (struct sockaddr *)&peer, 8080, false, NULL);
        }
    }
}

static void client_step(struct client *c, bool quiet)
{
    char buf[16384];
    ssize_t n;

    if (!c->started || c->fd < 0)
        return;
    if (c->off < c->len) {
        size_t k = c->len - c->off;

        if (G.cpiece != 0 && k > G.cpiece)
            k = G.cpiece;
        n = send(c->fd, c->data + c->off, k, MSG_NOSIGNAL);
        if (n > 0) {
            c->off += (size_t)n;
            G.io++;
        } else if (n < 0 && errno != EAGAIN) {
            c->off = c->len; /* drover closed: nothing more to say */
            G.io++;
        }
    }
    if (c->eof || ((G.flags & F_SLOW) && !quiet))
        return;
    for (int i = 0; i < 4; i++) {
        n = recv(c->fd, buf, sizeof(buf), 0);
        if (n > 0) {
            G.io++;
            if (G.verbose)
                fprintf(stderr, "[client %d got]\n%.*s\n", (int)(c - G.cl), (int)n, buf);
            if (c->caplen + (size_t)n <= CAPTURE_MAX)
                memcpy(c->cap + c->caplen, buf, (size_t)n);
            c->caplen += (size_t)n;
            continue;
        }
        if (n == 0 || errno != EAGAIN) {
            c->eof = true;
            G.io++;
        }
        break;
    }
}

static void client_finish(struct client *c)
{
    if (c->fd < 0 || c->shut)
        return;
    c->shut = true;
    G.io++;
    if (G.gflags & G_CLIENT_CLOSE) {
        close(c->fd);
        c->fd = -1;
    } else {
        shutdown(c->fd, SHUT_WR);
    }
}

/* ---- the backend side ---- */

/* The Host headers of the requests drover sends, gathered by callbacks. */
struct host_scan {
    char field[32], value[300];
    size_t flen, vlen;
    bool in_value, bad, upgrade;
    char why[340];
};

static int hs_field(llhttp_t *p, const char *at, size_t len)
{
    struct host_scan *hs = p->data;

    if (hs->in_value) {
        hs->flen = hs->vlen = 0;
        hs->in_value = false;
    }
    for (size_t i = 0; i < len && hs->flen < sizeof(hs->field); i++)
        hs->field[hs->flen++] = at[i];
    return 0;
}

static int hs_value(llhttp_t *p, const char *at, size_t len)
{
    struct host_scan *hs = p->data;

    hs->in_value = true;
    for (size_t i = 0; i < len && hs->vlen < sizeof(hs->value); i++)
        hs->value[hs->vlen++] = at[i];
    return 0;
}

/* Host = uri-host [":" port] (RFC 9110 7.2): no userinfo, and a port of
 * digits after the last ':' that is not inside an IPv6 literal's []. */
static bool host_ok(const char *v, size_t len)
{
    const char *close, *colon = NULL;

    /* llhttp leaves trailing OWS in the value; it is not part of it. */
    while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
        len--;
    close = memchr(v, ']', len);
    if (memchr(v, '@', len) != NULL)
        return false;
    for (const char *q = close != NULL ? close : v; q < v + len; q++)
        if (*q == ':')
            colon = q;
    if (colon != NULL)
        for (const char *q = colon + 1; q < v + len; q++)
            if (*q < '0' || *q > '9')
                return false;
    return true;
}

static int hs_value_done(llhttp_t *p)
{
    struct host_scan *hs = p->data;

    if (hs->flen == 4 && strncasecmp(hs->field, "host", 4) == 0 && !hs->bad &&
        !host_ok(hs->value, hs->vlen)) {
        hs->bad = true;
        snprintf(hs->why, sizeof(hs->why), "Host: %.*s", (int)hs->vlen, hs->value);
    }
    if (hs->flen == 7 && strncasecmp(hs->field, "upgrade", 7) == 0)
        hs->upgrade = true;
    hs->flen = hs->vlen = 0;
    hs->in_value = false;
    return 0;
}

/* drover forwards Upgrade only on a request it will tunnel if the backend
 * answers 101 (the harness's backend may answer 101 to anything, even to
 * an empty Upgrade llhttp does not count): the stream is checked up to
 * there (2: an upgrade). */
static int hs_headers_done(llhttp_t *p)
{
    struct host_scan *hs = p->data;
    bool upgrade = hs->upgrade;

    hs->upgrade = false;
    return upgrade ? 2 : 0;
}

/* Everything drover sent on one upstream connection must read as a
 * sequence of requests (up to an upgrade, after which the bytes are the
 * tunnel's), each with a Host a backend can use. A stream that simply
 * stops is fine: drover gave up on it. */
static void check_upstream_stream(struct bconn *b)
{
    static const llhttp_settings_t hosts = {
        .on_header_field = hs_field,
        .on_header_value = hs_value,
        .on_header_value_complete = hs_value_done,
        .on_headers_complete = hs_headers_done,
    };
    struct host_scan hs = {.flen = 0};
    llhttp_t p;
    llhttp_errno_t e;

    if (b->checked || b->caplen == 0 || b->caplen >= CAPTURE_MAX)
        return;
    b->checked = true;
    llhttp_init(&p, HTTP_REQUEST, &hosts);
    p.data = &hs;
    e = llhttp_execute(&p, b->cap, b->caplen);
    if (hs.bad) {
        fprintf(stderr, "fuzz_proxy: drover sent a backend an invalid %s:\n%.*s\n", hs.why,
                (int)b->caplen, b->cap);
        abort();
    }
    if (e == HPE_OK || e == HPE_PAUSED_UPGRADE)
        return;
    fprintf(stderr,
            "fuzz_proxy: drover sent a backend bytes a strict parser rejects (%s: %s at %ld):\n"
            "%.*s\n",
            llhttp_errno_name(e), llhttp_get_error_reason(&p),
            (long)(llhttp_get_error_pos(&p) - b->cap), (int)b->caplen, b->cap);
    abort();
}

/* The methods of the requests a client sent, in order, as drover's strict
 * parser reads them. A request drover refuses counts as HEAD when its line
 * starts with "HEAD " once the empty lines (CRLF pairs) before it are
 * skipped, as drover reads it (it answers that without a body too). */
#define MAX_METHODS 64

struct methods {
    unsigned n;
    bool head[MAX_METHODS];
    const char *msg, *end;      /* where the current message starts; the stream's end */
};

static bool only_crlf_pairs(const char *s, const char *e)
{
    for (; s + 1 < e; s += 2)
        if (s[0] != '\r' || s[1] != '\n')
            return false;
    return s == e;
}

/* Called once per request: the stream is parsed in one piece. */
static int note_method(llhttp_t *p, const char *at, size_t len)
{
    struct methods *ms = p->data;

    if (ms->n < MAX_METHODS)
        ms->head[ms->n++] = len == 4 && memcmp(at, "HEAD", 4) == 0 && at + 4 < ms->end &&
                            at[4] == ' ' && only_crlf_pairs(ms->msg, at);
    return 0;
}

static int method_message_done(llhttp_t *p)
{
    (void)p;
    return HPE_PAUSED;
}

static void client_methods(const struct client *c, struct methods *ms)
{
    static const llhttp_settings_t s = {
        .on_method = note_method,
        .on_message_complete = method_message_done,
    };
    char *copy = malloc(c->off + 1);
    const char *at = copy;
    llhttp_t p;

    if (copy == NULL)
        die("malloc");
    /* drover reads a request line's HTTP/1.2..1.9 as 1.1 (RFC 9112 2.3),
     * llhttp refuses it: shown as 1.1 here (elsewhere the same length,
     * so no framing changes). */
    memcpy(copy, c->data, c->off);
    for (size_t i = 0; i + 10 <= c->off; i++)
        if (memcmp(copy + i, " HTTP/1.", 8) == 0 && copy[i + 8] >= '2' && copy[i + 8] <= '9' &&
            (copy[i + 9] == '\r' || copy[i + 9] == '\n'))
            copy[i + 8] = '1';
    ms->n = 0;
    ms->end = copy + c->off;
    llhttp_init(&p, HTTP_REQUEST, &s);
    p.data = ms;
    for (int rounds = 0; at < ms->end && rounds < 4 * MAX_METHODS; rounds++) {
        llhttp_errno_t e;

        ms->msg = at;
        e = llhttp_execute(&p, at, (size_t)(ms->end - at));
        if (e != HPE_PAUSED && e != HPE_PAUSED_UPGRADE)
            break;
        at = llhttp_get_error_pos(&p);
        /* An upgrade without a 101 stays HTTP; after a 101 the response
         * oracle stops reading, so what follows does not matter. */
        if (e == HPE_PAUSED_UPGRADE)
            llhttp_resume_after_upgrade(&p);
        else
            llhttp_resume(&p);
    }
    free(copy);
}

/* Reading a client's stream: responses begun and complete, final (non-1xx)
 * responses seen, and the methods they answer, in order. */
struct resp_scan {
    unsigned begun, complete, final;
    const struct methods *ms;
};

static int count_begin(llhttp_t *p)
{
    ((struct resp_scan *)p->data)->begun++;
    return 0;
}

/* RFC 9112 6.3: whatever its framing headers say, a response to HEAD, a
 * 1xx, 204 or 304 ends with its head (1: no body). drover tunnels after
 * any 101 the client asked for (as nginx does), with or without an
 * Upgrade header: so does the oracle (2: an upgrade). */
static int headers_done(llhttp_t *p)
{
    struct resp_scan *rs = p->data;
    int status = llhttp_get_status_code(p);

    if (status == 101)
        return 2;
    if ((status >= 100 && status < 200) || status == 204 || status == 304)
        return 1;
    if (rs->final < rs->ms->n && rs->ms->head[rs->final])
        return 1;
    return 0;
}

static int count_complete(llhttp_t *p)
{
    struct resp_scan *rs = p->data;

    rs->complete++;
    if (llhttp_get_status_code(p) < 100 || llhttp_get_status_code(p) >= 200)
        rs->final++;
    return 0;
}

/* Everything drover sent one client must read as a sequence of responses,
 * each framed for the request it answers (up to a 101, after which the
 * bytes are the tunnel's); and when drover waits for the client's next
 * request on a connection, the client must not be in the middle of a
 * response. */
static void check_client_stream(struct client *c)
{
    static const llhttp_settings_t counting = {
        .on_message_begin = count_begin,
        .on_headers_complete = headers_done,
        .on_message_complete = count_complete,
    };
    struct methods ms;
    struct resp_scan rs = {.ms = &ms};
    bool drover_idle = false;
    llhttp_t p;
    llhttp_errno_t e;

    if (c->caplen == 0 || c->caplen > CAPTURE_MAX)
        return;
    client_methods(c, &ms);
    /* drover's end is still open (it may have closed it and the number
     * been reused: then ours reads EOF) and everything it sent was read. */
    if (c->fd >= 0 && c->drover_fd >= 0) {
        char byte;

        if (recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) < 0 && errno == EAGAIN)
            for (struct conn *dc = G.w->conns; dc != NULL; dc = dc->next)
                if (dc->fd == c->drover_fd)
                    drover_idle = dc->state == CS_IDLE;
    }
    llhttp_init(&p, HTTP_RESPONSE, &counting);
    p.data = &rs;
    e = llhttp_execute(&p, c->cap, c->caplen);
    if (e == HPE_PAUSED_UPGRADE || (e == HPE_OK && (!drover_idle || rs.begun == rs.complete)))
        return;
    if (e == HPE_OK)
        fprintf(stderr, "fuzz_proxy: drover is done with a response the client is still "
                        "reading (%u begun, %u complete):\n%.*s\n",
                rs.begun, rs.complete, (int)c->caplen, c->cap);
    else
        fprintf(stderr, "fuzz_proxy: drover sent a client bytes a strict parser rejects "
                        "(%s: %s at %ld):\n%.*s\n",
                llhttp_errno_name(e), llhttp_get_error_reason(&p),
                (long)(llhttp_get_error_pos(&p) - c->cap), (int)c->caplen, c->cap);
    abort();
}

static void backend_accept(int lfd, bool tcp)
{
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        struct bconn *b;

        if (fd < 0)
            return;
        G.io++;
        if (tcp) {
            /* Closing with a reset leaves no TIME_WAIT behind. */
            struct linger lg = {1, 0};

            setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        }
        if (G.teardown || G.nbc == MAX_BACKENDS) {
            close(fd);
            continue;
        }
        b = &G.bc[G.nbc];
        memset(b, 0, sizeof(*b));
        b->fd = fd;
        b->cap = malloc(CAPTURE_MAX);
        if (G.nbc < G.nseg) {
            b->data = G.seg[G.nbc];
            b->len = G.seglen[G.nbc];
        }
        G.nbc++;
    }
}

static void backend_step(struct bconn *b, bool quiet)
{
    bool got = false;
    ssize_t n;

    if (b->fd < 0)
        return;
    for (int i = 0; i < 4 && !b->eof && (quiet || !(G.flags & F_SLOW)); i++) {
        char tmp[4096];
        char *dst = b->caplen < CAPTURE_MAX ? b->cap + b->caplen : tmp;
        size_t room = b->caplen < CAPTURE_MAX ? CAPTURE_MAX - b->caplen : sizeof(tmp);

        n = recv(b->fd, dst, room, 0);
        if (n > 0) {
            if (dst != tmp)
                b->caplen += (size_t)n;
            else
                b->caplen = CAPTURE_MAX; /* too much to check */
            G.io++;
            got = true;
            continue;
        }
        if (n == 0 || errno != EAGAIN) {
            b->eof = true;
            G.io++;
        }
        break;
    }
    /* A waiting backend answers once the loop is quiet and it has read
     * all drover sent (drover may have been blocked on it). */
    if ((G.flags & F_BACKEND_WAIT) && (!quiet || got) && b->off == 0)
        return;
    if (b->off < b->len) {
        size_t k = b->len - b->off;

        if (G.bpiece != 0 && k > G.bpiece)
            k = G.bpiece;
        n = send(b->fd, b->data + b->off, k, MSG_NOSIGNAL);
        if (n > 0) {
            b->off += (size_t)n;
            G.io++;
        } else if (n < 0 && errno != EAGAIN) {
            b->off = b->len;
            G.io++;
        }
    }
    if (b->off == b->len && !b->shut && (G.flags & F_BACKEND_SHUT)) {
        b->shut = true;
        G.io++;
        if (G.gflags & G_BACKEND_CLOSE) {
            check_upstream_stream(b);
            close(b->fd);
            b->fd = -1;
        } else {
            shutdown(b->fd, SHUT_WR);
        }
    }
}

/* Small send buffers on drover's upstream sockets: back-pressure. */
static void squeeze_upstreams(void)
{
    int one = 1;

    for (struct conn *c = G.w->conns; c != NULL; c = c->next)
        if (c->up != NULL && c->up->fd >= 0)
            setsockopt(c->up->fd, SOL_SOCKET, SO_SNDBUF, &one, sizeof(one));
}

/* ---- the loop ---- */

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h;
}

/* What may change while drover works without the harness seeing I/O. */
static uint64_t fingerprint(void)
{
    struct worker *w = G.w;
    uint64_t h = mix(G.io, w->nconns);

    h = mix(h, G.nbc);
    h = mix(h, w->queue.head != NULL);
    for (struct conn *c = w->conns; c != NULL; c = c->next) {
        h = mix(h, c->state);
        h = mix(h, c->tkind);
        if (c->in != NULL)
            h = mix(mix(h, c->in->start), c->in->end);
        if (c->req != NULL) {
            struct request *r = c->req;

            h = mix(mix(h, r->req_fwd), r->resp_fwd);
            h = mix(mix(h, r->req_parse.bytes), r->body_out);
            h = mix(mix(h, (uint64_t)r->status), r->resp_started + 2u * r->req_done);
        }
        if (c->up != NULL) {
            h = mix(h, c->up->state);
            if (c->up->in != NULL)
                h = mix(mix(h, c->up->in->start), c->up->in->end);
        }
    }
    return h;
}

/* Timeouts without waiting: every connection's timer fires on the next
 * iteration as if its deadline had passed, and pooled upstream
 * connections reach their idle limit. */
static void expire_timers(void)
{
    struct ev_loop *loop = G.loop;

    for (struct conn *c = G.w->conns; c != NULL; c = c->next) {
        if (!ev_is_active(&c->timer))
            continue;
        ev_timer_stop(loop, &c->timer);
        c->deadline = ev_now(loop) - 1.0;
        c->timer_at = c->deadline;
        ev_timer_set(&c->timer, 0., 0.);
        ev_timer_start(loop, &c->timer);
    }
    for (unsigned i = 0; i < G.nbe; i++) {
        for (struct upstream *up = G.be[i]->slot[0].idle; up != NULL; up = up->next) {
            up->idle_since = ev_now(loop) - 2 * UPSTREAM_POOL_IDLE;
            ev_feed_event(loop, &up->idle_timer, EV_TIMER);
        }
    }
    G.io++;
}

static void step(bool quiet)
{
    backend_accept(G.lis_unix, false);
    backend_accept(G.lis_tcp, true);
    for (unsigned i = 0; i < G.nbc; i++)
        backend_step(&G.bc[i], quiet);
    for (unsigned i = 0; i < G.ncl; i++)
        client_step(&G.cl[i], quiet);
    if (G.flags & F_SLOW)
        squeeze_upstreams();
    ev_run(G.loop, EVRUN_NOWAIT);
}

/* Spins until nothing moved for two iterations (or the budget is spent);
 * the iteration that finds the loop quiet lets slow readers read once. */
static void spin(int *budget)
{
    uint64_t last = fingerprint();
    int still = 0;

    while (*budget > 0) {
        uint64_t now;

        (*budget)--;
        step(still >= 2);
        now = fingerprint();
        if (now == last) {
            if (++still >= 3)
                return;
        } else {
            still = 0;
            last = now;
        }
    }
}

static void teardown(void)
{
    struct worker *w = G.w;
    int budget = 100;

    G.teardown = true;
    for (unsigned i = 0; i < G.ncl; i++) {
        check_client_stream(&G.cl[i]);
        free(G.cl[i].cap);
    }
    for (unsigned i = 0; i < G.ncl; i++)
        if (G.cl[i].fd >= 0) {
            close(G.cl[i].fd);
            G.cl[i].fd = -1;
        }
    for (unsigned i = 0; i < G.nbc; i++) {
        if (G.bc[i].fd >= 0) {
            close(G.bc[i].fd);
            G.bc[i].fd = -1;
        }
    }
    G.io++;
    /* drover sees the EOFs and resets (and may try other backends). */
    spin(&budget);

    while (w->conns != NULL)
        conn_close(w->conns);
    for (unsigned i = 0; i < G.nbe; i++)
        upstream_close_idle(w, G.be[i]);
    backend_accept(G.lis_unix, false);
    backend_accept(G.lis_tcp, true);
    ev_run(G.loop, EVRUN_NOWAIT); /* the reaper, the access log */

    for (unsigned i = 0; i < G.nbc; i++) {
        if (G.verbose)
            fprintf(stderr, "[backend %u got]\n%.*s\n", i, (int)G.bc[i].caplen, G.bc[i].cap);
        check_upstream_stream(&G.bc[i]);
        free(G.bc[i].cap);
    }


    /* Nothing may outlive the input. */
    CHECK(w->conns == NULL && w->nconns == 0);
    CHECK(w->dead_conns == NULL && w->dead_ups == NULL);
    CHECK(w->queue.head == NULL && w->queue.tail == NULL);
    CHECK(w->table->refs == G.table_refs);
    for (unsigned i = 0; i < w->table->nroutes; i++)
        CHECK(w->table->routes[i].nqueued == 0);
    for (unsigned i = 0; i < G.nbe; i++) {
        struct backend *be = G.be[i];

        CHECK(atomic_load(&be->inflight) == 0);
        CHECK(be->slot[0].idle == NULL && be->slot[0].nidle == 0);
        CHECK(atomic_load(&be->refs) == G.be_refs[i]);
    }
    if (count_sockets() != G.base_sockets) {
        DIR *d = opendir("/proc/self/fd");
        struct dirent *e;

        fprintf(stderr, "fuzz_proxy: %d sockets open, %d before the input:\n",
                count_sockets(), G.base_sockets);
        while (d != NULL && (e = readdir(d)) != NULL) {
            char path[300], target[256];
            ssize_t n;

            snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
            n = readlink(path, target, sizeof(target) - 1);
            if (n > 0)
                fprintf(stderr, "  %s -> %.*s\n", e->d_name, (int)n, target);
        }
        abort();
    }
}

/* The next section of [*s, end) up to sep (consumed), or the rest. */
static size_t cut(const char **s, const char *end, const char *sep, const char **part)
{
    const char *hit = memmem(*s, (size_t)(end - *s), sep, strlen(sep));
    size_t len = (size_t)((hit != NULL ? hit : end) - *s);

    *part = *s;
    *s = hit != NULL ? hit + strlen(sep) : end;
    return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s, *end, *client, *backend, *part;
    size_t clen, blen, total;
    int budget = MAX_ITERS, rounds;

    if (size < 4)
        return 0;
    memset(G.cl, 0, sizeof(G.cl));
    G.ncl = G.nbc = G.nseg = 0;
    G.io = 0;
    G.teardown = false;
    G.flags = data[0];
    G.gflags = data[3];
    s = (const char *)data + 4;
    end = (const char *)data + size;
    total = (size_t)(end - s);

    clen = cut(&s, end, "@@B", &client);
    blen = (size_t)(end - s);
    backend = s;
    /* At most ~32 writes per connection, whatever the piece size. */
    G.cpiece = data[1] == 0 ? 0 : data[1] + total / 32;
    G.bpiece = data[2] == 0 ? 0 : data[2] + total / 32;
    s = client;
    while (G.ncl < MAX_CLIENTS && s < client + clen) {
        size_t n = cut(&s, client + clen, "@@C", &part);

        G.cl[G.ncl].fd = -1;
        G.cl[G.ncl].drover_fd = -1;
        G.cl[G.ncl].cap = malloc(CAPTURE_MAX);
        G.cl[G.ncl].data = part;
        G.cl[G.ncl].len = n;
        G.ncl++;
    }
    s = backend;
    while (G.nseg < MAX_BACKENDS && s < backend + blen) {
        G.seglen[G.nseg] = cut(&s, backend + blen, "@@N", &G.seg[G.nseg]);
        G.nseg++;
    }

    /* Same start for every input: balancer cursors, request ids, the
     * passive marks of backends that refused a connect. */
    G.w->rng = 0x2545f4914f6cdd1dull;
    for (unsigned i = 0; i < G.w->table->nroutes; i++)
        G.w->table->routes[i].cursor = 0;
    for (unsigned i = 0; i < G.nbe; i++)
        atomic_store(&G.be[i]->down_until_ms, 0);
    G.w->alog->format = (G.flags & F_JSON) ? LOG_FORMAT_JSON : LOG_FORMAT_TEXT;
    ev_now_update(G.loop);

    /* Each client once the one before it is quiet: written out, or stuck
     * because drover stopped reading it. */
    for (unsigned i = 0; i < G.ncl; i++) {
        client_open(&G.cl[i]);
        spin(&budget);
    }
    if (G.flags & F_CLIENT_SHUT) {
        for (unsigned i = 0; i < G.ncl; i++)
            client_finish(&G.cl[i]);
        spin(&budget);
    }
    rounds = (G.flags & F_EXPIRE) ? 1 + (G.gflags & G_ROUNDS) : 0;
    for (int i = 0; i < rounds && G.w->conns != NULL; i++) {
        expire_timers();
        spin(&budget);
    }
    if (G.verbose)
        fprintf(stderr, "[%d iterations used, %u upstream connections]\n", MAX_ITERS - budget,
                G.nbc);
    teardown();
    return 0;
}
