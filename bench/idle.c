/*
 * bench/idle.c: hold N idle HTTP/1.1 keep-alive connections open.
 *
 *   bench-idle -a HOST:PORT [-n N] [-p PATH] [-c CONCURRENT] [-t SECONDS]
 *
 * Opens N TCP connections to HOST:PORT (IPv4), sends one
 * "GET PATH HTTP/1.1" on each, reads the whole response (Content-Length or
 * chunked), and then holds every connection open, idle, until it is killed.
 * At most CONCURRENT (default 256) connections are being set up at once, so
 * the server's listen backlog never overflows (an overflow costs a 1 s SYN
 * retransmission). Once every connection has its answer, or after -t SECONDS
 * (default 60) have passed, one line goes to stdout:
 *
 *   idle: ready ok=9998 failed=2 n=10000
 *
 * and the program sleeps until a signal ends it. "ok" counts connections
 * whose response had status 200 and that were still open at that moment.
 * The run script waits for that line, reads the server's memory, then kills
 * us. Every socket has SO_LINGER {on, 0}, so our exit resets the connections
 * instead of leaving 10,000 sockets in TIME_WAIT on this side.
 *
 * RLIMIT_NOFILE is raised to its hard limit; when that is still too low for
 * N, N is capped (a note goes to stderr, and "n=" shows the cap).
 *
 * Exit status: 2 on a usage error, 1 when nothing could be set up; otherwise
 * the program only ends by a signal.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { ST_CONNECTING, ST_READING, ST_DONE, ST_FAILED };

enum { BUF_SIZE = 8192, MAX_TRIES = 3 };

struct conn {
    int fd;
    int state;
    int tries;
    size_t sent;   /* request bytes written */
    size_t got;    /* bytes in buf */
    char *buf;     /* response so far; freed once complete */
};

static struct sockaddr_in addr;
static char request[512];
static size_t request_len;
static int ep = -1;

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench-idle -a HOST:PORT [-n N] [-p PATH] [-c CONCURRENT] [-t SECONDS]\n");
    exit(2);
}

static int parse_addr(const char *s)
{
    char host[256];
    const char *colon = strrchr(s, ':');
    struct addrinfo hints, *res;
    size_t hl;

    if (!colon || colon == s || !colon[1])
        return -1;
    hl = (size_t)(colon - s);
    if (hl >= sizeof(host))
        return -1;
    memcpy(host, s, hl);
    host[hl] = '\0';
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, colon + 1, &hints, &res) != 0)
        return -1;
    memcpy(&addr, res->ai_addr, sizeof(addr));
    freeaddrinfo(res);
    return 0;
}

/* Starts (or restarts) the connect of c. Returns 0, or -1 when c failed. */
static int start(struct conn *c)
{
    struct linger lg = {1, 0};
    struct epoll_event ev;
    int one = 1;

    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        c->state = ST_FAILED;
        return -1;
    }
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->tries++;
    c->sent = 0;
    c->got = 0;
    c->state = ST_CONNECTING;
    if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 && errno != EINPROGRESS) {
        close(c->fd);
        c->fd = -1;
        c->state = ST_FAILED;
        return -1;
    }
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLOUT | EPOLLIN;
    ev.data.ptr = c;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
        close(c->fd);
        c->fd = -1;
        c->state = ST_FAILED;
        return -1;
    }
    return 0;
}

/* The connection broke: try again (a fresh socket) while tries remain. */
static void fail(struct conn *c)
{
    if (c->fd >= 0) {
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        c->fd = -1;
    }
    if (c->state != ST_DONE && c->tries < MAX_TRIES && start(c) == 0)
        return;
    c->state = ST_FAILED;
    free(c->buf);
    c->buf = NULL;
}

/* Is the response in c->buf complete? 1 yes (status 200), -1 complete but
 * not 200 or unusable, 0 not yet. */
static int response_complete(struct conn *c)
{
    char *end, *p, *line;
    long long clen = -1;
    bool chunked = false;
    size_t head_len;

    c->buf[c->got] = '\0';
    end = strstr(c->buf, "\r\n\r\n");
    if (!end)
        return c->got >= BUF_SIZE - 1 ? -1 : 0;
    head_len = (size_t)(end - c->buf) + 4;
    for (line = strstr(c->buf, "\r\n"); line && line < end; line = strstr(line + 2, "\r\n")) {
        p = line + 2;
        if (strncasecmp(p, "content-length:", 15) == 0)
            clen = atoll(p + 15);
        else if (strncasecmp(p, "transfer-encoding:", 18) == 0 && strstr(p, "chunked") && strstr(p, "chunked") < strstr(p, "\r\n"))
            chunked = true;
    }
    if (chunked) {
        if (c->got < head_len + 5 || memcmp(c->buf + c->got - 5, "0\r\n\r\n", 5) != 0)
            return c->got >= BUF_SIZE - 1 ? -1 : 0;
    } else if (clen >= 0) {
        if ((long long)(c->got - head_len) < clen)
            return c->got >= BUF_SIZE - 1 ? -1 : 0;
    } else {
        return -1; /* no length: the body ends at the close, no keep-alive */
    }
    return strncmp(c->buf, "HTTP/1.1 200", 12) == 0 ? 1 : -1;
}

static void on_event(struct conn *c, uint32_t events)
{
    ssize_t n;

    if (c->state == ST_DONE) {
        /* The peer closed an idle connection (or sent something). */
        char tmp[512];

        n = read(c->fd, tmp, sizeof(tmp));
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
            close(c->fd);
            c->fd = -1;
            c->state = ST_FAILED;
        }
        return;
    }
    if (c->state == ST_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof(err);

        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
            fail(c);
            return;
        }
        if (!(events & EPOLLOUT))
            return;
        while (c->sent < request_len) {
            n = write(c->fd, request + c->sent, request_len - c->sent);
            if (n < 0 && errno == EAGAIN)
                return;
            if (n <= 0) {
                fail(c);
                return;
            }
            c->sent += (size_t)n;
        }
        {
            struct epoll_event ev;

            memset(&ev, 0, sizeof(ev));
            ev.events = EPOLLIN;
            ev.data.ptr = c;
            epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
        }
        if (!c->buf && !(c->buf = malloc(BUF_SIZE))) {
            fail(c);
            return;
        }
        c->state = ST_READING;
    }
    if (c->state == ST_READING) {
        for (;;) {
            int r;

            n = read(c->fd, c->buf + c->got, BUF_SIZE - 1 - c->got);
            if (n < 0 && errno == EAGAIN)
                return;
            if (n <= 0) {
                fail(c);
                return;
            }
            c->got += (size_t)n;
            r = response_complete(c);
            if (r == 0)
                continue;
            free(c->buf);
            c->buf = NULL;
            if (r < 0) {
                c->tries = MAX_TRIES;
                fail(c);
                return;
            }
            c->state = ST_DONE;
            return;
        }
    }
}

static void on_signal(int sig)
{
    (void)sig;
    _exit(0);
}

int main(int argc, char **argv)
{
    const char *target = NULL, *path = "/";
    long n = 10000, concurrent = 256;
    double limit = 60;
    struct rlimit rl;
    struct conn *conns;
    struct epoll_event evs[512];
    long next = 0, done = 0, failed = 0, ok = 0, i;
    double t0;
    int opt;

    while ((opt = getopt(argc, argv, "a:n:p:c:t:h")) != -1) {
        switch (opt) {
        case 'a': target = optarg; break;
        case 'n': n = atol(optarg); break;
        case 'p': path = optarg; break;
        case 'c': concurrent = atol(optarg); break;
        case 't': limit = atof(optarg); break;
        default: usage();
        }
    }
    if (!target || n <= 0 || concurrent <= 0 || limit <= 0 || strlen(path) > 256 || parse_addr(target) < 0)
        usage();

    /* Raise our own descriptor limit as far as the hard limit allows. */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
        if (rl.rlim_cur != RLIM_INFINITY && (rlim_t)n + 32 > rl.rlim_cur) {
            long cap = (long)rl.rlim_cur - 32;

            fprintf(stderr, "bench-idle: RLIMIT_NOFILE is %llu: holding %ld connections instead of %ld\n",
                    (unsigned long long)rl.rlim_cur, cap, n);
            n = cap;
            if (n <= 0)
                return 1;
        }
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGPIPE, SIG_IGN);

    request_len = (size_t)snprintf(request, sizeof(request),
                                   "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: bench-idle\r\n\r\n", path, target);
    conns = calloc((size_t)n, sizeof(*conns));
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (!conns || ep < 0) {
        perror("bench-idle");
        return 1;
    }
    for (i = 0; i < n; i++)
        conns[i].fd = -1;

    t0 = now();
    while (done + failed < n && now() - t0 < limit) {
        int k, m;

        /* Keep at most `concurrent` connections being set up at once. */
        {
            long in_setup = next - done - failed;

            while (next < n && in_setup < concurrent) {
                if (start(&conns[next]) < 0)
                    failed++;
                else
                    in_setup++;
                next++;
            }
        }
        m = epoll_wait(ep, evs, 512, 100);
        for (k = 0; k < m; k++) {
            struct conn *c = evs[k].data.ptr;
            int before = c->state;

            on_event(c, evs[k].events);
            if (before != ST_DONE && c->state == ST_DONE)
                done++;
            else if (before != ST_FAILED && before != ST_DONE && c->state == ST_FAILED)
                failed++;
            else if (before == ST_DONE && c->state == ST_FAILED) {
                done--;
                failed++;
            }
        }
    }
    for (i = 0; i < n; i++)
        if (conns[i].state == ST_DONE && conns[i].fd >= 0)
            ok++;
    printf("idle: ready ok=%ld failed=%ld n=%ld secs=%.2f\n", ok, n - ok, n, now() - t0);
    fflush(stdout);

    /* Hold everything; note peers that close, but never answer them. */
    for (;;) {
        int k, m = epoll_wait(ep, evs, 512, -1);

        for (k = 0; k < m; k++) {
            struct conn *c = evs[k].data.ptr;

            if (c->state == ST_DONE)
                on_event(c, evs[k].events);
            else if (c->fd >= 0) {
                epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
            }
        }
    }
}
