/* A test helper for test_client.c and test_cli.c: a tiny HTTP server on a
 * thread of its own that reads one request per connection (head and
 * Content-Length body), keeps its bytes, and sends back the raw answer the
 * test set, then closes. Not a unit under test. */
#ifndef DROVER_TESTS_FAKE_HTTP_H
#define DROVER_TESTS_FAKE_HTTP_H

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct fake_http {
    int fd;
    char addr[128];             /* "127.0.0.1:PORT" or "unix:/path" */
    pthread_t thread;
    pthread_mutex_t lock;
    char answer[65536];
    size_t answer_len;
    char request[65536];        /* the last request, NUL-terminated */
    size_t request_len;
    int nrequests;
};

static struct fake_http fake;

static void fake_http_serve_one(int c)
{
    char buf[65536];
    size_t n = 0, want = 0;
    char *end = NULL;

    while (n < sizeof(buf) - 1) {
        ssize_t r = read(c, buf + n, sizeof(buf) - 1 - n);

        if (r <= 0)
            break;
        n += (size_t)r;
        buf[n] = '\0';
        if (end == NULL && (end = strstr(buf, "\r\n\r\n")) != NULL) {
            const char *cl = strcasestr(buf, "\r\nContent-Length:");

            want = (size_t)(end + 4 - buf) + (cl != NULL && cl < end ? strtoul(cl + 17, NULL, 10) : 0);
        }
        if (end != NULL && n >= want)
            break;
    }
    pthread_mutex_lock(&fake.lock);
    memcpy(fake.request, buf, n);
    fake.request[n] = '\0';
    fake.request_len = n;
    fake.nrequests++;
    pthread_mutex_unlock(&fake.lock);
    if (fake.answer_len > 0 && write(c, fake.answer, fake.answer_len) < 0)
        perror("fake_http write");
    close(c);
}

static void *fake_http_main(void *arg)
{
    int c;

    (void)arg;
    while ((c = accept(fake.fd, NULL, NULL)) >= 0)
        fake_http_serve_one(c);
    return NULL;
}

/* Listens on 127.0.0.1 (a free port) or, with unix_path, there. */
static void fake_http_start(const char *unix_path)
{
    memset(&fake, 0, sizeof(fake));
    pthread_mutex_init(&fake.lock, NULL);
    if (unix_path != NULL) {
        struct sockaddr_un sun = {.sun_family = AF_UNIX};

        snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", unix_path);
        unlink(unix_path);
        fake.fd = socket(AF_UNIX, SOCK_STREAM, 0);
        cr_assert_eq(bind(fake.fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
        snprintf(fake.addr, sizeof(fake.addr), "unix:%s", unix_path);
    } else {
        struct sockaddr_in sin = {.sin_family = AF_INET};
        socklen_t len = sizeof(sin);

        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        fake.fd = socket(AF_INET, SOCK_STREAM, 0);
        cr_assert_eq(bind(fake.fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
        getsockname(fake.fd, (struct sockaddr *)&sin, &len);
        snprintf(fake.addr, sizeof(fake.addr), "127.0.0.1:%d", ntohs(sin.sin_port));
    }
    cr_assert_eq(listen(fake.fd, 16), 0);
    cr_assert_eq(pthread_create(&fake.thread, NULL, fake_http_main, NULL), 0);
}

/* The raw bytes the next connections get. */
static void fake_http_raw(const char *raw)
{
    pthread_mutex_lock(&fake.lock);
    fake.answer_len = strlen(raw);
    memcpy(fake.answer, raw, fake.answer_len);
    pthread_mutex_unlock(&fake.lock);
}

/* An answer with status and a JSON body. */
static void fake_http_json(int status, const char *body)
{
    char raw[65536];

    snprintf(raw, sizeof(raw),
             "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
             status, strlen(body), body);
    fake_http_raw(raw);
}

/* The last request received (a static copy). */
static const char *fake_http_request(void)
{
    static char copy[65536];

    pthread_mutex_lock(&fake.lock);
    memcpy(copy, fake.request, fake.request_len + 1);
    pthread_mutex_unlock(&fake.lock);
    return copy;
}

static void fake_http_stop(void)
{
    if (fake.fd <= 0)
        return;
    shutdown(fake.fd, SHUT_RDWR); /* wakes accept() */
    pthread_join(fake.thread, NULL);
    close(fake.fd);
    if (strncmp(fake.addr, "unix:", 5) == 0)
        unlink(fake.addr + 5);
    fake.fd = 0;
}

#endif
