/* A raw-socket HTTP/1.x client for e2e tests: it sends exact bytes and
 * reads responses with llhttp, so a test sees precisely what drover sent. */
#ifndef DROVER_TESTS_E2E_CLIENT_H
#define DROVER_TESTS_E2E_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLIENT_MAX_HEADERS 64

struct http_resp {
    int status;
    int major, minor;
    bool keep_alive;            /* llhttp_should_keep_alive() */
    unsigned nhdr;
    char *name[CLIENT_MAX_HEADERS];
    char *value[CLIENT_MAX_HEADERS];
    char *body;                 /* NUL-terminated for convenience */
    size_t body_len;
    uint64_t body_fnv;          /* FNV-1a 64 of the body */
    bool chunked;
};

struct client {
    int fd;
    char *buf;                  /* bytes read but not yet parsed */
    size_t len, cap;
    bool eof;
};

/* Connects to "127.0.0.1:port", "[::1]:port" or "unix:/path"; fails the
 * test when that is not possible. */
struct client *client_open(const char *addr);
/* Like client_open but returns NULL instead of failing. */
struct client *client_try_open(const char *addr);
/* ... from the IPv4 address from_ip (a loopback address such as 127.0.0.5,
 * so what a proxy passes on can be told from 127.0.0.1). */
struct client *client_try_open_from(const char *addr, const char *from_ip);
void client_close(struct client *c);

/* Sends all of data (fails the test on error). */
void client_send(struct client *c, const void *data, size_t len);
void client_send_str(struct client *c, const char *s);
/* Sends what it can; returns -1 on error (the peer closed...). */
long client_send_try(struct client *c, const void *data, size_t len);

/* Reads one response. head_request: the request was HEAD (no body).
 * Returns 0, or -1 when the connection closed or timeout_ms passed before
 * the response was complete. */
int client_read(struct client *c, struct http_resp *r, bool head_request, int timeout_ms);

/* True when the server closed the connection (EOF or reset) within
 * timeout_ms, after any bytes still to come (which are discarded). */
bool client_wait_closed(struct client *c, int timeout_ms);

void resp_free(struct http_resp *r);
/* First header named name (any case), or NULL. */
const char *resp_header(const struct http_resp *r, const char *name);
unsigned resp_header_count(const struct http_resp *r, const char *name);

/* One request on a new connection: raw request bytes, the response, and
 * whether the server closed the connection after it. Fails the test if no
 * complete response came within timeout_ms. */
void http_exchange(const char *addr, const char *request, struct http_resp *r, int timeout_ms);
/* GET path with Host: test, on a new connection. */
void http_get(const char *addr, const char *path, struct http_resp *r);

uint64_t fnv1a(const void *data, size_t len, uint64_t h);
#define FNV_INIT 0xcbf29ce484222325ULL

/* --- Added for the HTTP/1.1 tests. --- */

/* client_read, but a 1xx interim response (100 Continue...) is returned
 * instead of skipped. */
int client_read_any(struct client *c, struct http_resp *r, bool head_request, int timeout_ms);
/* Raw bytes after whatever was parsed: up to len bytes (buffered ones
 * first); returns how many came before EOF or timeout_ms. */
size_t client_read_raw(struct client *c, void *buf, size_t len, int timeout_ms);
/* One non-blocking send: bytes the kernel took, 0 when it took none
 * (buffers full), -1 on error. */
long client_send_nb(struct client *c, const void *data, size_t len);
/* True when bytes (or EOF) can be read within timeout_ms. */
bool client_readable(struct client *c, int timeout_ms);

/* GETs / on addr (new connections) until every one of names answered;
 * 503s (not ready yet) are retried, anything else but 200 fails the test.
 * Returns how many requests it took. */
int e2e_until_all_answer(const char *addr, const char *const *names, int n, int timeout_ms);

/* A load generator in its own process: conns keep-alive clients doing GET
 * path on addr for ms milliseconds. */
struct e2e_proc *e2e_load_start(const char *addr, const char *path, int conns, int ms);
/* Waits for it to end and reads its counts: 2xx answers, other answers,
 * broken connections (failed connects included). */
void e2e_load_result(struct e2e_proc *p, long *ok, long *bad, long *errors);
/* ... and fails the test unless it did real work (over 100 answers) and
 * every answer was a 2xx on an unbroken connection. */
void e2e_load_assert_clean(struct e2e_proc *p);

#endif
