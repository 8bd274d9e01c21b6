/*
 * bench/idle_tls.c: hold N idle HTTPS/1.1 keep-alive connections open
 * (bench/idle.c's TLS twin, for bench/tls.sh).
 *
 *   bench-idle-tls -a HOST:PORT [-n N] [-p PATH]
 *
 * Opens N TCP connections to HOST:PORT (IPv4) one after the other, does a
 * TLS handshake (any version, no verification, no session reuse: every
 * connection costs the server a full handshake's state), sends one
 * "GET PATH HTTP/1.1", reads the response (Content-Length only) and keeps
 * the connection open, idle. Then one line goes to stdout:
 *
 *   idle: ready ok=9998 failed=2 n=10000
 *
 * and the program sleeps until a signal ends it. Sockets have SO_LINGER
 * {on, 0} so the exit resets them instead of filling TIME_WAIT. Its own
 * SSL objects give their buffers back when idle (SSL_MODE_RELEASE_BUFFERS),
 * so 10,000 of them fit in a few hundred MB.
 */
#define _GNU_SOURCE /* strcasestr */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

static struct sockaddr_in addr;

static int parse_addr(const char *s)
{
    char host[256];
    const char *colon = strrchr(s, ':');
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res;

    if (colon == NULL || colon == s || (size_t)(colon - s) >= sizeof(host))
        return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    if (getaddrinfo(host, colon + 1, &hints, &res) != 0)
        return -1;
    memcpy(&addr, res->ai_addr, sizeof(addr));
    freeaddrinfo(res);
    return 0;
}

/* One connection with its answer read: its SSL, or NULL. */
static SSL *one(SSL_CTX *ctx, const char *req)
{
    struct linger lg = {1, 0};
    struct timeval tv = {10, 0};
    char buf[16384];
    size_t got = 0;
    long long clen = -1;
    const char *end = NULL;
    int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    SSL *ssl;

    if (fd < 0)
        return NULL;
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || (ssl = SSL_new(ctx)) == NULL) {
        close(fd);
        return NULL;
    }
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) != 1 || SSL_write(ssl, req, (int)strlen(req)) != (int)strlen(req))
        goto fail;
    for (;;) {
        int n = SSL_read(ssl, buf + got, (int)(sizeof(buf) - 1 - got));

        if (n <= 0)
            goto fail;
        got += (size_t)n;
        buf[got] = '\0';
        if (end == NULL && (end = strstr(buf, "\r\n\r\n")) != NULL) {
            const char *cl = strcasestr(buf, "\r\ncontent-length:");

            if (strncmp(buf, "HTTP/1.1 200", 12) != 0 || cl == NULL || cl > end)
                goto fail;
            clen = atoll(cl + 17);
        }
        if (end != NULL && (long long)(got - (size_t)(end + 4 - buf)) >= clen)
            return ssl;
        if (got >= sizeof(buf) - 1)
            goto fail;
    }
fail:
    ERR_clear_error();
    SSL_free(ssl);
    close(fd);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *target = NULL, *path = "/";
    long n = 10000, ok = 0, failed = 0;
    struct rlimit rl;
    char req[512];
    SSL_CTX *ctx;
    int opt;

    while ((opt = getopt(argc, argv, "a:n:p:")) != -1) {
        if (opt == 'a')
            target = optarg;
        else if (opt == 'n')
            n = atol(optarg);
        else if (opt == 'p')
            path = optarg;
        else
            goto usage;
    }
    if (target == NULL || n <= 0 || parse_addr(target) < 0)
        goto usage;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        if (rl.rlim_cur != RLIM_INFINITY && (long)rl.rlim_cur < n + 16) {
            n = (long)rl.rlim_cur - 16;
            fprintf(stderr, "bench-idle-tls: descriptor limit: n capped at %ld\n", n);
        }
    }
    signal(SIGPIPE, SIG_IGN);
    ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, target);
    for (long i = 0; i < n; i++) {
        if (one(ctx, req) != NULL)
            ok++;
        else
            failed++;
    }
    printf("idle: ready ok=%ld failed=%ld n=%ld\n", ok, failed, n);
    fflush(stdout);
    for (;;)
        pause();
usage:
    fprintf(stderr, "usage: bench-idle-tls -a HOST:PORT [-n N] [-p PATH]\n");
    return 2;
}
