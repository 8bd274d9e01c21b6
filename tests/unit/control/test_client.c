/* control/client: the request the control commands send, how the answer
 * is read, and the one-line reasons when it cannot be. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "control/client.h"
#include "tests/unit/control/fake_http.h"

TestSuite(client, .fini = fake_http_stop);

static struct conf_addr addr_of(const char *text)
{
    struct conf_addr a;
    char err[256];

    cr_assert_eq(conf_parse_addr(text, &a, err, sizeof(err)), 0, "%s", err);
    return a;
}

/* One request to text; the answer's body stays in ans (freed by the caller). */
static int ask(const char *text, const char *method, const char *path, const char *token,
               const char *body, int timeout_ms, struct client_answer *ans, char *err)
{
    struct conf_addr a = addr_of(text);

    err[0] = '\0';
    return client_request(&a, method, path, token, body, body != NULL ? strlen(body) : 0,
                          timeout_ms, ans, err, 512);
}

Test(client, the_request_on_the_wire)
{
    struct client_answer ans;
    char err[512], want[1024];

    fake_http_start(NULL);
    fake_http_json(200, "{}");
    cr_assert_eq(ask(fake.addr, "POST", "/scale", "t0k", "{\"web\":1}", 2000, &ans, err), 0, "%s",
                 err);
    snprintf(want, sizeof(want),
             "POST /scale HTTP/1.1\r\nHost: %s\r\nUser-Agent: drover-cli\r\n"
             "Accept: application/json\r\nConnection: close\r\nAuthorization: Bearer t0k\r\n"
             "Content-Type: application/json\r\nContent-Length: 9\r\n\r\n{\"web\":1}",
             fake.addr);
    cr_assert_str_eq(fake_http_request(), want);
    sbuf_free(&ans.body);

    /* A POST without a body still says how long it is; a GET does not. */
    cr_assert_eq(ask(fake.addr, "POST", "/reload", NULL, NULL, 2000, &ans, err), 0, "%s", err);
    cr_assert(strstr(fake_http_request(), "\r\nContent-Length: 0\r\n\r\n") != NULL);
    cr_assert_null(strstr(fake_http_request(), "Authorization"));
    sbuf_free(&ans.body);
    cr_assert_eq(ask(fake.addr, "GET", "/status", NULL, NULL, 2000, &ans, err), 0, "%s", err);
    cr_assert_null(strstr(fake_http_request(), "Content-Length"));
    sbuf_free(&ans.body);
}

Test(client, a_unix_socket_is_host_localhost)
{
    struct client_answer ans;
    char err[512], path[64];

    snprintf(path, sizeof(path), "/tmp/drover-client-%d.sock", (int)getpid());
    fake_http_start(path);
    fake_http_json(202, "{\"ok\":1}");
    cr_assert_eq(ask(fake.addr, "GET", "/health", NULL, NULL, 2000, &ans, err), 0, "%s", err);
    cr_assert(strstr(fake_http_request(), "\r\nHost: localhost\r\n") != NULL);
    cr_assert_eq(ans.status, 202);
    cr_assert_str_eq(ans.body.data, "{\"ok\":1}");
    sbuf_free(&ans.body);
}

Test(client, interim_answers_are_skipped_and_chunks_joined)
{
    struct client_answer ans;
    char err[512];

    fake_http_start(NULL);
    fake_http_raw("HTTP/1.1 100 Continue\r\n\r\n"
                  "HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n");
    cr_assert_eq(ask(fake.addr, "GET", "/ready", NULL, NULL, 2000, &ans, err), 0, "%s", err);
    cr_assert_eq(ans.status, 503);
    cr_assert_str_eq(ans.body.data, "{\"a\":1}");
    sbuf_free(&ans.body);
}

Test(client, unreachable)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    socklen_t len = sizeof(sin);
    struct client_answer ans;
    char addr[64], err[512], want[512];
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    /* A port nobody listens on. */
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    getsockname(fd, (struct sockaddr *)&sin, &len);
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", ntohs(sin.sin_port));
    close(fd);
    cr_assert_eq(ask(addr, "GET", "/status", NULL, NULL, 2000, &ans, err), -1);
    snprintf(want, sizeof(want),
             "cannot reach the admin API at %s: Connection refused (is drover running?)", addr);
    cr_assert_str_eq(err, want);
    sbuf_free(&ans.body);
    cr_assert_eq(ask("unix:/nonexistent/admin.sock", "POST", "/reload", NULL, NULL, 2000, &ans, err),
                 -1);
    cr_assert_str_eq(err, "cannot reach the admin API at unix:/nonexistent/admin.sock: No such "
                          "file or directory (is drover running?)");
    sbuf_free(&ans.body);
}

Test(client, a_listener_that_never_answers_times_out)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    socklen_t len = sizeof(sin);
    struct client_answer ans;
    char addr[64], err[512], want[512];
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    cr_assert_eq(listen(fd, 8), 0); /* the kernel completes connects; nobody reads */
    getsockname(fd, (struct sockaddr *)&sin, &len);
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", ntohs(sin.sin_port));
    cr_assert_eq(ask(addr, "GET", "/status", NULL, NULL, 300, &ans, err), -1);
    snprintf(want, sizeof(want), "the admin API at %s did not answer within 300ms", addr);
    cr_assert_str_eq(err, want);
    sbuf_free(&ans.body);
    cr_assert_eq(ask(addr, "GET", "/status", NULL, NULL, 1000, &ans, err), -1);
    snprintf(want, sizeof(want), "the admin API at %s did not answer within 1s", addr);
    cr_assert_str_eq(err, want);
    sbuf_free(&ans.body);
    close(fd);
}

Test(client, closed_early_or_not_http)
{
    struct client_answer ans;
    char err[512], want[512];

    fake_http_start(NULL);
    fake_http_raw(""); /* read the request, close without a word */
    cr_assert_eq(ask(fake.addr, "GET", "/status", NULL, NULL, 2000, &ans, err), -1);
    snprintf(want, sizeof(want), "the admin API at %s closed the connection before answering",
             fake.addr);
    cr_assert_str_eq(err, want);
    sbuf_free(&ans.body);

    fake_http_raw("SSH-2.0-OpenSSH_9.2\r\n");
    cr_assert_eq(ask(fake.addr, "GET", "/status", NULL, NULL, 2000, &ans, err), -1);
    snprintf(want, sizeof(want), "the admin API at %s sent an invalid answer (", fake.addr);
    cr_assert(strncmp(err, want, strlen(want)) == 0, "%s", err);
    sbuf_free(&ans.body);

    /* Cut in the middle of its body. */
    fake_http_raw("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{\"a\"");
    cr_assert_eq(ask(fake.addr, "GET", "/status", NULL, NULL, 2000, &ans, err), -1);
    cr_assert(strncmp(err, want, strlen(want)) == 0, "%s", err);
    sbuf_free(&ans.body);
}
