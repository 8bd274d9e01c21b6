/* TLS listeners: curl, Python's ssl and OpenSSL itself as clients over
 * TLS 1.2 and 1.3, SNI picking the certificate, resumption, bodies with
 * back-pressure, pipelining and a WebSocket over TLS, certificates
 * reloaded under load, plain HTTP to the TLS port, the handshake deadline,
 * and `drover check` on broken certificates. Every certificate is made by
 * the test with the openssl command. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "tests/e2e/http11.h"

#define OPENSSL "/usr/bin/openssl"
#define CURL "/usr/bin/curl"
#define WRK "/usr/bin/wrk"

/* ---- certificates --------------------------------------------------- */

/* dir/name.pem and dir/name.key: self-signed, for cn with the SANs
 * (comma-separated "DNS:x" entries, or NULL for none); ec: P-256, else
 * RSA 2048. */
static void make_cert(const char *name, const char *cn, const char *sans, bool ec)
{
    char *key = e2e_fmt("%s/%s.key", e2e_dir(), name), *pem = e2e_fmt("%s/%s.pem", e2e_dir(), name);
    char *subj = e2e_fmt("/CN=%s", cn), *ext = e2e_fmt("subjectAltName=%s", sans != NULL ? sans : "");
    char *argv_ec[] = {OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                       "-nodes", "-keyout", key, "-out", pem, "-days", "2", "-subj", subj,
                       sans != NULL ? "-addext" : NULL, ext, NULL};
    char *argv_rsa[] = {OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                        "-out", pem, "-days", "2", "-subj", subj, sans != NULL ? "-addext" : NULL, ext,
                        NULL};

    ASSERT(e2e_run(e2e_fmt("openssl-%s", name), ec ? argv_ec : argv_rsa, 20000) == 0,
           "openssl req for %s failed", name);
}

/* A certificate whose validity ended in 2020 (openssl ca can backdate). */
static void make_expired_cert(const char *name)
{
    const char *d = e2e_dir();
    char *cnf = e2e_write_file("ca.cnf", "[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\n"
                                         "new_certs_dir = .\nserial = serial\ndefault_md = sha256\n"
                                         "policy = p\n[p]\ncommonName = supplied\n");
    char *key = e2e_fmt("%s/%s.key", d, name), *csr = e2e_fmt("%s/%s.csr", d, name);
    char *pem = e2e_fmt("%s/%s.pem", d, name);
    char *req[] = {OPENSSL, "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
                   "-subj", "/CN=expired.test", NULL};
    char *ca[] = {"/bin/sh", "-c",
                  e2e_fmt("cd %s && : > index.txt && echo 01 > serial && " OPENSSL " ca -batch -config %s "
                          "-selfsign -keyfile %s -in %s -out %s -startdate 20200101000000Z "
                          "-enddate 20200201000000Z",
                          d, cnf, key, csr, pem),
                  NULL};

    ASSERT(e2e_run("openssl-csr", req, 20000) == 0, "openssl req failed");
    ASSERT(e2e_run("openssl-ca", ca, 20000) == 0, "openssl ca failed");
}

/* A TLS listen entry on port with the certificates named (NULL-ended),
 * in front of the backend on bp; extra goes before routes. */
static char *tls_config(int port, int plain, int admin, const char *const *certs, const char *extra,
                        int bp)
{
    char *list = "";

    for (int i = 0; certs[i] != NULL; i++)
        list = e2e_fmt("%s        - {cert: %s.pem, key: %s.key}\n", list, certs[i], certs[i]);
    return e2e_fmt("listen:\n  - 127.0.0.1:%d\n  - address: 127.0.0.1:%d\n    tls:\n"
                   "      certificates:\n%s"
                   "admin:\n  listen: %s\n"
                   "log:\n  access: off\n%s"
                   "routes:\n  - path: /\n    backends: [127.0.0.1:%d]\n",
                   plain, port, list, admin > 0 ? addr_of(admin) : "off", extra, bp);
}

struct tls_setup {
    int bp, tp, pp, ap;          /* backend, TLS, plain, admin ports */
    struct e2e_proc *d;
};

/* Backend, certificates a (RSA: a.test, *.wild.test) and b (ECDSA: b.test),
 * and drover with both on a TLS port. */
static void tls_up(struct tls_setup *s, const char *extra)
{
    static const char *const certs[] = {"a", "b", NULL};

    make_cert("a", "a.test", "DNS:a.test,DNS:*.wild.test", false);
    make_cert("b", "b.test", NULL, true);
    s->bp = e2e_free_port();
    s->tp = e2e_free_port();
    s->pp = e2e_free_port();
    s->ap = e2e_free_port();
    e2e_backend("a", s->bp);
    s->d = e2e_drover(tls_config(s->tp, s->pp, s->ap, certs, extra, s->bp), addr_of(s->ap));
    e2e_wait_listening(addr_of(s->tp), 5000, s->d);
}

static long metric(int ap, const char *sample)
{
    struct http_resp r;
    const char *at;

    http_get(addr_of(ap), "/metrics", &r);
    ASSERT(r.status == 200, "/metrics: %d", r.status);
    at = strstr(r.body, e2e_fmt("\n%s ", sample));
    ASSERT(at != NULL, "no %s in /metrics", sample);
    return atol(at + strlen(sample) + 2);
}

/* ---- a TLS client on OpenSSL --------------------------------------- */

struct tc {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
};

static int tc_delay_ms; /* between the connect and the handshake */

/* Connects to 127.0.0.1:port and completes a handshake (version 0: any),
 * resuming sess when given. NULL when the handshake fails. */
static struct tc *tc_open(int port, const char *sni, int version, SSL_SESSION *sess)
{
    struct tc *t = calloc(1, sizeof(*t));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct timeval tv = {5, 0};
    int one = 1;

    ASSERT(t != NULL, "out of memory");
    t->ctx = SSL_CTX_new(TLS_client_method());
    if (version != 0) {
        SSL_CTX_set_min_proto_version(t->ctx, version);
        SSL_CTX_set_max_proto_version(t->ctx, version);
    }
    t->fd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(t->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(t->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    setsockopt(t->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    ASSERT(connect(t->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "connect %d: %s", port, strerror(errno));
    if (tc_delay_ms > 0)
        e2e_sleep_ms(tc_delay_ms);
    t->ssl = SSL_new(t->ctx);
    SSL_set_fd(t->ssl, t->fd);
    if (sni != NULL)
        SSL_set_tlsext_host_name(t->ssl, sni);
    if (sess != NULL)
        SSL_set_session(t->ssl, sess);
    if (SSL_connect(t->ssl) != 1) {
        ERR_clear_error();
        SSL_free(t->ssl);
        SSL_CTX_free(t->ctx);
        close(t->fd);
        free(t);
        return NULL;
    }
    return t;
}

static void tc_close(struct tc *t)
{
    SSL_shutdown(t->ssl);
    SSL_free(t->ssl);
    SSL_CTX_free(t->ctx);
    close(t->fd);
    free(t);
}

static void tc_send(struct tc *t, const void *p, size_t len)
{
    ASSERT(SSL_write(t->ssl, p, (int)len) == (int)len, "SSL_write of %zu bytes failed", len);
}

static void tc_send_str(struct tc *t, const char *s)
{
    tc_send(t, s, strlen(s));
}

/* One response with a Content-Length body (the test backend's kind): its
 * status, and its body in *body (malloc'd, NUL-ended) when body is not
 * NULL. delay_us between reads makes a slow reader. -1 on EOF or error. */
static int tc_response(struct tc *t, char **body, size_t *blen, int delay_us)
{
    static char head[16384];
    size_t n = 0, len = 0, got;
    const char *cl, *end;
    char *b;
    int status;

    while ((end = n >= 4 ? memmem(head, n, "\r\n\r\n", 4) : NULL) == NULL) {
        int r = n < sizeof(head) ? SSL_read(t->ssl, head + n, 1) : -1;

        if (r <= 0)
            return -1;
        n += (size_t)r;
    }
    status = atoi(head + 9);
    head[n] = '\0';
    cl = strcasestr(head, "\r\ncontent-length:");
    if (cl != NULL)
        len = strtoull(cl + 17, NULL, 10);
    b = malloc(len + 1);
    for (got = 0; got < len;) {
        int r = SSL_read(t->ssl, b + got, (int)(len - got > 65536 ? 65536 : len - got));

        if (r <= 0) {
            free(b);
            return -1;
        }
        got += (size_t)r;
        if (delay_us > 0)
            usleep((useconds_t)delay_us);
    }
    b[len] = '\0';
    if (blen != NULL)
        *blen = len;
    if (body != NULL)
        *body = b;
    else
        free(b);
    return status;
}

/* The served certificate's subject, "CN=b.test". */
static char *tc_subject(struct tc *t)
{
    X509 *x = SSL_get1_peer_certificate(t->ssl);
    char buf[256];

    ASSERT(x != NULL, "no peer certificate");
    X509_NAME_oneline(X509_get_subject_name(x), buf, sizeof(buf));
    X509_free(x);
    return e2e_fmt("%s", buf);
}

static void tc_get_ok(struct tc *t, const char *what)
{
    tc_send(t, GET_OK, strlen(GET_OK));
    int st = tc_response(t, NULL, NULL, 0);
    ASSERT(st == 200, "%s: status %d", what, st);
}

/* ---- the tests ------------------------------------------------------ */

/* curl over TLS 1.2 and 1.3: ALPN http/1.1, the backend sees
 * X-Forwarded-Proto: https and X-Forwarded-Port. */
E2E_TEST(tls_curl_12_and_13, 40)
{
    struct tls_setup s;

    tls_up(&s, "");
    for (int v = 2; v <= 3; v++) {
        char *name = e2e_fmt("curl-1%d", v);
        char *out = e2e_fmt("%s/%s.out", e2e_dir(), name);
        char *ver = e2e_fmt("--tlsv1.%d", v), *max = e2e_fmt("1.%d", v);
        char *argv[] = {CURL, "-sSkv", ver, "--tls-max", max, "-o", out,
                        e2e_fmt("https://127.0.0.1:%d/?head=1", s.tp), NULL};
        char *log, *body;

        ASSERT(e2e_run(name, argv, 10000) == 0, "curl TLS 1.%d failed", v);
        log = e2e_read_file(e2e_fmt("%s/%s.log", e2e_dir(), name), NULL);
        body = e2e_read_file(out, NULL);
        ASSERT(log != NULL && strstr(log, e2e_fmt("SSL connection using TLSv1.%d", v)) != NULL,
               "curl did not speak TLS 1.%d", v);
        ASSERT(strstr(log, "ALPN: server accepted http/1.1") != NULL, "no ALPN http/1.1");
        ASSERT(body != NULL && strstr(body, "X-Forwarded-Proto: https\r\n") != NULL,
               "backend did not see X-Forwarded-Proto: https:\n%s", body);
        ASSERT(strstr(body, e2e_fmt("X-Forwarded-Port: %d\r\n", s.tp)) != NULL, "no X-Forwarded-Port");
    }
    ASSERT(metric(s.ap, "drover_tls_handshakes_total{resumed=\"false\"}") >= 2, "handshakes not counted");
    e2e_drover_stop(s.d);
}

/* Python's ssl, verifying the served certificate against the name asked
 * for: SNI picks a (exact and wildcard) or b; TLS 1.2 and 1.3. */
E2E_TEST(tls_python_sni, 40)
{
    struct tls_setup s;
    char *py = e2e_write_file(
        "client.py",
        "import socket, ssl, sys\n"
        "port, host, cafile, version = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]\n"
        "ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)\n"
        "ctx.load_verify_locations(cafile)\n"
        "ctx.minimum_version = ctx.maximum_version = getattr(ssl.TLSVersion, version)\n"
        "ctx.set_alpn_protocols(['http/1.1'])\n"
        "with ctx.wrap_socket(socket.create_connection(('127.0.0.1', port)), server_hostname=host) as s:\n"
        "    s.sendall(b'GET / HTTP/1.1\\r\\nHost: t\\r\\nConnection: close\\r\\n\\r\\n')\n"
        "    data = b''\n"
        "    while True:\n"
        "        d = s.recv(65536)\n"
        "        if not d: break\n"
        "        data += d\n"
        "    print(s.version(), s.selected_alpn_protocol(), dict(x[0] for x in s.getpeercert()['subject'])['commonName'])\n"
        "    print(data.decode().splitlines()[0])\n");
    static const char *const cases[][3] = {
        {"a.test", "a", "TLSv1_3"}, {"x.wild.test", "a", "TLSv1_2"}, {"B.Test", "b", "TLSv1_3"},
        {"b.test", "b", "TLSv1_2"},
    };

    tls_up(&s, "");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *name = e2e_fmt("py-%zu", i);
        char *argv[] = {"/usr/bin/env", "python3", py, e2e_fmt("%d", s.tp), (char *)cases[i][0],
                        e2e_fmt("%s/%s.pem", e2e_dir(), cases[i][1]), (char *)cases[i][2], NULL};
        char *log;

        ASSERT(e2e_run(name, argv, 10000) == 0, "python ssl to %s failed:\n%s", cases[i][0],
               e2e_read_file(e2e_fmt("%s/%s.log", e2e_dir(), name), NULL));
        log = e2e_read_file(e2e_fmt("%s/%s.log", e2e_dir(), name), NULL);
        ASSERT(strstr(log, e2e_fmt("%s http/1.1 %s.test", strcmp(cases[i][2], "TLSv1_3") == 0 ? "TLSv1.3" : "TLSv1.2",
                                   cases[i][1])) != NULL,
               "%s: %s", cases[i][0], log);
        ASSERT(strstr(log, "HTTP/1.1 200 OK") != NULL, "%s: %s", cases[i][0], log);
    }
    e2e_drover_stop(s.d);
}

/* SNI seen from OpenSSL: exact names, a wildcard of one label, any case,
 * a trailing dot; no SNI and an unknown name get the first certificate. */
E2E_TEST(tls_sni_picks_certificate, 40)
{
    struct tls_setup s;
    static const char *const cases[][2] = {
        {"a.test", "/CN=a.test"},         {"b.test", "/CN=b.test"},    {"B.TEST", "/CN=b.test"},
        {"b.test.", "/CN=b.test"},        {"q.wild.test", "/CN=a.test"}, {"x.q.wild.test", "/CN=a.test"},
        {"unknown.test", "/CN=a.test"},   {NULL, "/CN=a.test"},
    };

    tls_up(&s, "");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct tc *t = tc_open(s.tp, cases[i][0], 0, NULL);

        ASSERT(t != NULL, "handshake with SNI %s failed", cases[i][0]);
        ASSERT(strcmp(tc_subject(t), cases[i][1]) == 0, "SNI %s got %s, not %s", cases[i][0], tc_subject(t),
               cases[i][1]);
        tc_get_ok(t, cases[i][0] != NULL ? cases[i][0] : "no SNI");
        tc_close(t);
    }
    e2e_drover_stop(s.d);
}

/* A second connection resumes the first one's session (a ticket under
 * TLS 1.3, the session cache or a ticket under 1.2), and it is counted. */
E2E_TEST(tls_resumption, 30)
{
    struct tls_setup s;

    tls_up(&s, "");
    for (int v = TLS1_2_VERSION; v <= TLS1_3_VERSION; v++) {
        struct tc *t = tc_open(s.tp, "a.test", v, NULL), *t2;
        SSL_SESSION *sess;

        ASSERT(t != NULL, "handshake failed");
        tc_get_ok(t, "first"); /* TLS 1.3 tickets come after the handshake */
        sess = SSL_get1_session(t->ssl);
        ASSERT(SSL_session_reused(t->ssl) == 0, "first connection resumed?");
        tc_close(t);
        t2 = tc_open(s.tp, "a.test", v, sess);
        ASSERT(t2 != NULL, "resuming handshake failed");
        ASSERT(SSL_session_reused(t2->ssl) == 1, "TLS %x: second connection not resumed", v);
        tc_get_ok(t2, "resumed");
        tc_close(t2);
        SSL_SESSION_free(sess);
    }
    ASSERT(metric(s.ap, "drover_tls_handshakes_total{resumed=\"true\"}") == 2, "resumptions not counted");
    e2e_drover_stop(s.d);
}

/* 8 MiB up (summed by the backend) and 32 MiB down to a slow reader:
 * back-pressure both ways through TLS, every byte there. */
E2E_TEST(tls_large_bodies, 60)
{
    struct tls_setup s;
    size_t up = 8u << 20, down = 32u << 20, got = 0;
    char *chunk = malloc(1 << 16), *body = NULL;
    uint64_t h = FNV_INIT;
    struct tc *t;

    tls_up(&s, "");
    t = tc_open(s.tp, NULL, 0, NULL);
    ASSERT(t != NULL, "handshake failed");
    memset(chunk, 'u', 1 << 16);
    for (size_t i = 0; i < up / (1 << 16); i++)
        h = fnv1a(chunk, 1 << 16, h);
    tc_send_str(t, e2e_fmt(POST_HEAD "Content-Length: %zu\r\n\r\n", up));
    for (size_t i = 0; i < up / (1 << 16); i++)
        tc_send(t, chunk, 1 << 16);
    ASSERT(tc_response(t, &body, NULL, 0) == 200, "upload not answered 200");
    ASSERT(strstr(body, e2e_fmt("bytes=%zu fnv=%016llx", up, (unsigned long long)h)) != NULL,
           "upload arrived otherwise: %s", body);
    free(body);
    tc_send_str(t, e2e_fmt("GET /?size=%zu HTTP/1.1\r\nHost: t\r\n\r\n", down));
    ASSERT(tc_response(t, &body, &got, 200) == 200, "download not answered 200");
    ASSERT(got == down, "downloaded %zu of %zu bytes", got, down);
    for (size_t i = 0; i < got; i++)
        if (body[i] != 'x')
            ASSERT(false, "byte %zu is %d", i, body[i]);
    free(body);
    tc_get_ok(t, "after the bodies"); /* the connection goes on */
    tc_close(t);
    free(chunk);
    e2e_drover_stop(s.d);
}

/* A record that does not fit in what is left of drover's buffer (the
 * head's first line came in a record before it): what OpenSSL keeps of
 * it is read at once, without waiting for the socket (the client sends
 * nothing more until it has its answer). */
E2E_TEST(tls_record_larger_than_room, 30)
{
    struct tls_setup s;
    char *rec = malloc(16384), *answer;
    const char *line = "POST /?sum=1 HTTP/1.1\r\n";
    struct tc *t;

    tls_up(&s, "");
    t = tc_open(s.tp, NULL, 0, NULL);
    ASSERT(t != NULL, "handshake failed");
    for (int i = 0; i < 3; i++) {
        int hl = snprintf(rec, 16384, "Host: t\r\nContent-Length: 16000\r\n\r\n");
        size_t body = 16384 - (size_t)hl;

        snprintf(rec, 16384, "Host: t\r\nContent-Length: %zu\r\n\r\n", body);
        memset(rec + hl, 'r', body);
        tc_send_str(t, line);
        e2e_sleep_ms(50); /* read by drover on its own */
        tc_send(t, rec, 16384); /* one record: 16 KiB, more than the room left */
        ASSERT(tc_response(t, &answer, NULL, 0) == 200, "request %d: no answer", i);
        ASSERT(strncmp(answer, e2e_fmt("bytes=%zu ", body), strlen(e2e_fmt("bytes=%zu ", body))) == 0,
               "request %d: %s", i, answer);
        free(answer);
    }
    tc_close(t);
    free(rec);
    e2e_drover_stop(s.d);
}

/* Three requests in one TLS record: three answers, in order. */
E2E_TEST(tls_pipelining, 30)
{
    struct tls_setup s;
    const char *three = "GET /one?head=1 HTTP/1.1\r\nHost: t\r\n\r\n"
                        "GET /two?head=1 HTTP/1.1\r\nHost: t\r\n\r\n"
                        "GET /three?head=1 HTTP/1.1\r\nHost: t\r\n\r\n";
    static const char *const paths[] = {"GET /one?", "GET /two?", "GET /three?"};
    struct tc *t;

    tls_up(&s, "");
    t = tc_open(s.tp, NULL, 0, NULL);
    ASSERT(t != NULL, "handshake failed");
    tc_send(t, three, strlen(three));
    for (int i = 0; i < 3; i++) {
        char *body;

        ASSERT(tc_response(t, &body, NULL, 0) == 200, "answer %d missing", i);
        ASSERT(strncmp(body, paths[i], strlen(paths[i])) == 0, "answer %d is for %s", i, first_line(body));
        free(body);
    }
    tc_close(t);
    e2e_drover_stop(s.d);
}

/* An Upgrade over TLS: 101, then bytes both ways through the tunnel. */
E2E_TEST(tls_websocket, 30)
{
    struct tls_setup s;
    const char *up = "GET /chat HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                     "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    char buf[4096];
    size_t n = 0;
    struct tc *t;

    tls_up(&s, "");
    t = tc_open(s.tp, NULL, 0, NULL);
    ASSERT(t != NULL, "handshake failed");
    tc_send(t, up, strlen(up));
    while (n < sizeof(buf) - 1 && memmem(buf, n, "\r\n\r\n", 4) == NULL) {
        int r = SSL_read(t->ssl, buf + n, 1);

        ASSERT(r == 1, "no 101 head");
        n++;
    }
    buf[n] = '\0';
    ASSERT(strncmp(buf, "HTTP/1.1 101", 12) == 0, "got %s", first_line(buf));
    for (int i = 0; i < 50; i++) {
        char *msg = e2e_fmt("frame %d through the tunnel", i);
        size_t got = 0;

        tc_send(t, msg, strlen(msg));
        while (got < strlen(msg)) {
            int r = SSL_read(t->ssl, buf + got, (int)(strlen(msg) - got));

            ASSERT(r > 0, "tunnel closed after %d frames", i);
            got += (size_t)r;
        }
        ASSERT(memcmp(buf, msg, got) == 0, "echo %d differs", i);
    }
    tc_close(t);
    e2e_drover_stop(s.d);
}

/* Plain HTTP to the TLS port: 400 in plain text, nginx's words, closed. */
E2E_TEST(tls_plain_http_to_tls_port, 30)
{
    struct tls_setup s;
    struct http_resp r;

    tls_up(&s, "");
    http_exchange(addr_of(s.tp), GET_OK, &r, 3000);
    ASSERT(r.status == 400, "got %d", r.status);
    ASSERT(strstr(r.body, "plain HTTP request sent to HTTPS port") != NULL, "body: %s", r.body);
    ASSERT(strcmp(resp_header(&r, "Content-Type"), "text/plain; charset=utf-8") == 0, "not plain text");
    ASSERT(!r.keep_alive, "the connection stays open");
    resp_free(&r);
    ASSERT(metric(s.ap, "drover_tls_handshake_failures_total{reason=\"http_request\"}") == 1,
           "not counted");
    /* The TLS port still speaks TLS. */
    struct tc *t = tc_open(s.tp, NULL, 0, NULL);
    ASSERT(t != NULL, "handshake failed after the plain request");
    tc_get_ok(t, "after plain");
    tc_close(t);
    e2e_drover_stop(s.d);
}

/* A ClientHello on the plain port: an error answer, one log line for two. */
E2E_TEST(tls_hello_on_plain_port, 30)
{
    struct tls_setup s;
    const char *line = "a TLS handshake from 127.0.0.1 on plain HTTP port";
    const char *log;

    tls_up(&s, "");
    for (int i = 0; i < 2; i++)
        ASSERT(tc_open(s.pp, NULL, 0, NULL) == NULL, "a handshake succeeded on the plain port");
    e2e_wait_log(s.d, line, 3000);
    e2e_sleep_ms(200);
    log = e2e_log_of(s.d);
    ASSERT(strstr(strstr(log, line) + 1, line) == NULL, "logged twice:\n%s", log);
    e2e_drover_stop(s.d);
}

/* A client that connects and sends nothing is closed after client_header,
 * counted as a handshake timeout. */
E2E_TEST(tls_handshake_deadline, 30)
{
    struct tls_setup s;
    struct client *c;
    long long t0;

    tls_up(&s, "timeouts:\n  client_header: 1s\n");
    c = client_open(addr_of(s.tp));
    t0 = e2e_now_ms();
    ASSERT(client_wait_closed(c, 4000), "not closed within 4s");
    ASSERT(e2e_now_ms() - t0 >= 800, "closed after %lldms, before client_header", e2e_now_ms() - t0);
    client_close(c);
    ASSERT(metric(s.ap, "drover_tls_handshake_failures_total{reason=\"timeout\"}") == 1, "not counted");
    e2e_drover_stop(s.d);
}

/* OCSP stapling: CERT.ocsp (made here by openssl ocsp for a certificate
 * of a CA the test makes) goes to a client that asks for it. */
E2E_TEST(tls_ocsp_stapling, 40)
{
    struct tls_setup s;
    const char *d = e2e_dir();
    static const char *const certs[] = {"o", NULL};
    char *mk[] = {"/bin/sh", "-c",
                  e2e_fmt("cd %s && " OPENSSL " req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem "
                          "-days 2 -subj /CN=ca && " OPENSSL " req -new -newkey ec -pkeyopt "
                          "ec_paramgen_curve:P-256 -nodes -keyout o.key -out o.csr -subj /CN=o.test && "
                          ": > index.txt && echo 01 > serial && printf '[ca]\\ndefault_ca = d\\n[d]\\n"
                          "database = index.txt\\nnew_certs_dir = .\\nserial = serial\\ndefault_md = sha256\\n"
                          "policy = p\\ndefault_days = 2\\n[p]\\ncommonName = supplied\\n' > ca.cnf && "
                          OPENSSL " ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in o.csr -out o.pem && "
                          OPENSSL " ocsp -index index.txt -rsigner ca.pem -rkey ca.key -CA ca.pem -issuer ca.pem "
                          "-cert o.pem -respout o.pem.ocsp -ndays 1",
                          d),
                  NULL};
    char *log;

    ASSERT(e2e_run("make-ocsp", mk, 30000) == 0, "making the CA, certificate and OCSP response failed");
    s.bp = e2e_free_port();
    s.tp = e2e_free_port();
    s.pp = e2e_free_port();
    e2e_backend("a", s.bp);
    s.d = e2e_drover(tls_config(s.tp, s.pp, 0, certs, "", s.bp), addr_of(s.pp));
    char *argv[] = {"/bin/sh", "-c",
                    e2e_fmt("echo | " OPENSSL " s_client -connect 127.0.0.1:%d -status -servername o.test", s.tp),
                    NULL};
    ASSERT(e2e_run("s_client", argv, 10000) == 0, "s_client failed");
    log = e2e_read_file(e2e_fmt("%s/s_client.log", d), NULL);
    ASSERT(strstr(log, "OCSP Response Status: successful") != NULL, "no stapled response:\n%s", log);
    ASSERT(strstr(log, "Cert Status: good") != NULL, "not good:\n%s", log);
    e2e_drover_stop(s.d);
}

/* protocols: [TLSv1.3] refuses a TLS 1.2 client, counted by reason. */
E2E_TEST(tls_protocols_13_only, 30)
{
    struct tls_setup s;
    struct tc *t;

    make_cert("c", "c.test", NULL, true);
    s.bp = e2e_free_port();
    s.tp = e2e_free_port();
    s.ap = e2e_free_port();
    e2e_backend("a", s.bp);
    s.d = e2e_drover(e2e_fmt("listen:\n  - address: 127.0.0.1:%d\n    tls:\n      protocols: [TLSv1.3]\n"
                             "      certificates: [{cert: c.pem, key: c.key}]\n"
                             "admin:\n  listen: 127.0.0.1:%d\nlog:\n  access: off\n"
                             "routes:\n  - path: /\n    backends: [127.0.0.1:%d]\n",
                             s.tp, s.ap, s.bp),
                     addr_of(s.ap));
    ASSERT(tc_open(s.tp, NULL, TLS1_2_VERSION, NULL) == NULL, "a TLS 1.2 handshake succeeded");
    t = tc_open(s.tp, NULL, TLS1_3_VERSION, NULL);
    ASSERT(t != NULL, "TLS 1.3 handshake failed");
    tc_get_ok(t, "TLS 1.3");
    tc_close(t);
    ASSERT(metric(s.ap, "drover_tls_handshake_failures_total{reason=\"protocol_version\"}") == 1,
           "not counted as protocol_version");
    e2e_drover_stop(s.d);
}

/* After a slow handshake the client has a client_header of its own to
 * send its request: 0.7 s before the handshake, 0.5 s after it, then the
 * head in two parts 0.3 s apart (the head's own deadline starts at its
 * first byte), all under client_header: 1s. */
E2E_TEST(tls_head_deadline_starts_after_the_handshake, 30)
{
    struct tls_setup s;
    struct tc *t;
    int st;

    tls_up(&s, "timeouts:\n  client_header: 1s\n");
    tc_delay_ms = 700;
    t = tc_open(s.tp, NULL, 0, NULL);
    tc_delay_ms = 0;
    ASSERT(t != NULL, "handshake failed");
    e2e_sleep_ms(500);
    tc_send_str(t, "GET / HTTP/1.1\r\n");
    e2e_sleep_ms(300);
    tc_send_str(t, "Host: t\r\n\r\n");
    st = tc_response(t, NULL, NULL, 0);
    ASSERT(st == 200, "status %d: the handshake's time counted against the head", st);
    tc_close(t);
    e2e_drover_stop(s.d);
}

/* drover check: a key of another certificate and a missing file are errors
 * naming the file; an expired certificate is a warning. */
E2E_TEST(tls_check_certificates, 40)
{
    int bp = e2e_free_port(), tp = e2e_free_port(), pp = e2e_free_port();
    static const char *const mism[] = {"m", NULL}, *const expired[] = {"expired", NULL},
                             *const missing[] = {"nothere", NULL};
    const char *d = e2e_dir();
    char *log;

    make_cert("a", "a.test", NULL, false);
    make_cert("b", "b.test", NULL, true);
    make_expired_cert("expired");
    ASSERT(e2e_run("cp-pem", (char *[]){"/bin/cp", e2e_fmt("%s/a.pem", d), e2e_fmt("%s/m.pem", d), NULL},
                   5000) == 0, "cp");
    ASSERT(e2e_run("cp-key", (char *[]){"/bin/cp", e2e_fmt("%s/b.key", d), e2e_fmt("%s/m.key", d), NULL},
                   5000) == 0, "cp");
    struct {
        const char *const *certs;
        int code;
        const char *says;
    } cases[] = {
        {mism, 1, e2e_fmt("key %s/m.key does not match certificate %s/m.pem", d, d)},
        {missing, 1, e2e_fmt("certificate %s/nothere.pem: No such file or directory", d)},
        {expired, 0, e2e_fmt("warning: certificate %s/expired.pem has expired", d)},
    };
    for (size_t i = 0; i < 3; i++) {
        char *cfg = e2e_write_file(e2e_fmt("c%zu.yaml", i), tls_config(tp, pp, 0, cases[i].certs, "", bp));
        char *name = e2e_fmt("check-%zu", i);
        int code = e2e_run(name, (char *[]){(char *)e2e_drover_bin, "check", "-c", cfg, NULL}, 10000);

        log = e2e_read_file(e2e_fmt("%s/%s.log", d, name), NULL);
        ASSERT((code == 0) == (cases[i].code == 0), "case %zu: exit %d\n%s", i, code, log);
        ASSERT(strstr(log, cases[i].says) != NULL, "case %zu does not say \"%s\":\n%s", i, cases[i].says, log);
        ASSERT(strstr(log, e2e_fmt("c%zu.yaml:", i)) != NULL || cases[i].code == 0,
               "case %zu: no file:line:col", i);
    }
}

static int log_count(struct e2e_proc *p, const char *needle)
{
    int n = 0;

    for (const char *at = e2e_log_of(p); (at = strstr(at, needle)) != NULL; at++)
        n++;
    return n;
}

/* wrk's summary: requests, and every kind of failure it counts. */
static void wrk_result(const char *name, long *reqs, long *failed)
{
    char *log = e2e_read_file(e2e_fmt("%s/%s.log", e2e_dir(), name), NULL);
    const char *p;

    ASSERT(log != NULL, "no wrk output");
    p = strstr(log, " requests in ");
    ASSERT(p != NULL, "no summary in the wrk output:\n%s", log);
    while (p > log && p[-1] != '\n')
        p--;
    *reqs = strtol(p, NULL, 10);
    *failed = 0;
    if ((p = strstr(log, "Non-2xx or 3xx responses: ")) != NULL)
        *failed += atol(p + 27);
    if ((p = strstr(log, "Socket errors: ")) != NULL) {
        long a = 0, b = 0, c = 0, e = 0;

        sscanf(p, "Socket errors: connect %ld, read %ld, write %ld, timeout %ld", &a, &b, &c, &e);
        *failed += a + b + c + e;
    }
    e2e_log("%s: %ld requests, %ld failed", name, *reqs, *failed);
}

/* New certificates by SIGHUP while wrk runs keep-alive and one-request
 * connections on two workers: no failed request, no dropped connection; a connection
 * from before the reloads goes on; new handshakes get the new certificate;
 * a broken one keeps the old and the reload answers 422 naming it. */
E2E_TEST(tls_reload_under_load, 60)
{
    struct tls_setup s;
    struct tc *kept;
    char *ka_name = "wrk-keepalive", *cl_name = "wrk-close";
    struct e2e_proc *w1, *w2;
    struct http_resp r;
    long reqs, failed;
    const char *d;

    if (access(WRK, X_OK) != 0) {
        e2e_log("SKIP: %s is not installed (scripts/deps.sh installs it)", WRK);
        return;
    }
    tls_up(&s, "workers: 2\n"); /* contexts and the ticket ring shared by two threads */
    d = e2e_dir();
    kept = tc_open(s.tp, "b.test", 0, NULL);
    ASSERT(kept != NULL, "handshake failed");
    tc_get_ok(kept, "before");
    w1 = e2e_spawn(ka_name, (char *[]){WRK, "-t1", "-c8", "-d3s", e2e_fmt("https://127.0.0.1:%d/", s.tp), NULL},
                   NULL);
    w2 = e2e_spawn(cl_name, (char *[]){WRK, "-t1", "-c4", "-d3s", "-H", "Connection: close",
                                       e2e_fmt("https://127.0.0.1:%d/", s.tp), NULL},
                   NULL);
    for (int i = 0; i < 4; i++) {
        e2e_sleep_ms(400);
        make_cert("b", e2e_fmt("b%d.test", i), "DNS:b.test", true);
        kill(s.d->pid, SIGHUP);
        for (long long t0 = e2e_now_ms(); log_count(s.d, "certificates re-read") <= i;) {
            ASSERT(e2e_now_ms() - t0 < 3000, "reload %d not done", i);
            e2e_sleep_ms(20);
        }
    }
    tc_get_ok(kept, "after the reloads"); /* established: untouched */
    ASSERT(strcmp(tc_subject(kept), "/CN=b.test") == 0, "the kept connection's certificate changed");
    for (long long t0 = e2e_now_ms(); !e2e_exited(w1) || !e2e_exited(w2);) {
        ASSERT(e2e_now_ms() - t0 < 10000, "wrk does not end");
        e2e_sleep_ms(50);
    }
    wrk_result(ka_name, &reqs, &failed);
    ASSERT(reqs > 100 && failed == 0, "keep-alive: %ld requests, %ld failed", reqs, failed);
    wrk_result(cl_name, &reqs, &failed);
    ASSERT(reqs > 20 && failed == 0, "new connections: %ld requests, %ld failed", reqs, failed);
    /* A new handshake: the last certificate. */
    struct tc *t = tc_open(s.tp, "b.test", 0, NULL);
    ASSERT(t != NULL && strcmp(tc_subject(t), "/CN=b3.test") == 0, "new handshakes do not get the new certificate");
    tc_close(t);
    /* A broken key: 422 naming it, the old certificate stays. */
    e2e_write_file("b.key", "not a key\n");
    http_exchange(addr_of(s.ap), "POST /reload HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n", &r, 5000);
    ASSERT(r.status == 422, "reload with a broken key: %d", r.status);
    ASSERT(strstr(r.body, e2e_fmt("%s/b.key", d)) != NULL, "the answer does not name the key: %s", r.body);
    resp_free(&r);
    t = tc_open(s.tp, "b.test", 0, NULL);
    ASSERT(t != NULL && strcmp(tc_subject(t), "/CN=b3.test") == 0, "the old certificate is gone");
    tc_get_ok(t, "after the refused reload");
    tc_close(t);
    tc_close(kept);
    e2e_drover_stop(s.d);
}
