#include "router/tls.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "router/conn.h"
#include "router/metrics.h"
#include "router/route.h"
#include "router/sni.h"
#include "router/worker.h"

/* Session tickets: a new key every TICKET_ROTATE seconds; the ones before
 * it still decrypt (and are replaced by a ticket under the current key)
 * for TICKET_KEYS - 1 more periods. One ring for the process, so tickets
 * survive reloads and any worker resumes any ticket. */
#define TICKET_ROTATE (12 * 3600)
#define TICKET_KEYS 3
#define SESSION_CACHE_SIZE 20480

struct ticket_key {
    unsigned char name[16], aes[32], hmac[32];
    time_t born;
};

static struct {
    pthread_mutex_t mu;
    struct ticket_key keys[TICKET_KEYS]; /* [0] the current one */
    int n;
} ring = {PTHREAD_MUTEX_INITIALIZER, {{{0}, {0}, {0}, 0}}, 0};

static ssize_t tls_read(struct conn *c, char *p, size_t len);
static ssize_t tls_write(struct conn *c, const char *p, size_t len);
static void tls_shutdown(struct conn *c);
static bool tls_pending(const struct conn *c);
static void tls_close(struct conn *c);

static const struct conn_io tls_io = {tls_read, tls_write, tls_shutdown, tls_pending, tls_close};

/* Under ring.mu: a fresh current key when the current one is too old. */
static int ring_rotate(time_t now)
{
    struct ticket_key k;

    if (ring.n > 0 && now - ring.keys[0].born < TICKET_ROTATE)
        return 0;
    if (RAND_bytes(k.name, sizeof(k.name)) != 1 || RAND_bytes(k.aes, sizeof(k.aes)) != 1 ||
        RAND_bytes(k.hmac, sizeof(k.hmac)) != 1)
        return -1;
    k.born = now;
    memmove(&ring.keys[1], &ring.keys[0], (TICKET_KEYS - 1) * sizeof(k));
    ring.keys[0] = k;
    if (ring.n < TICKET_KEYS)
        ring.n++;
    return 0;
}

/* OpenSSL's ticket callback: enc 1 seals a new ticket under the current
 * key; enc 0 finds the key a ticket names. Returns 1 (ok), 2 (ok, but
 * issue a new ticket: an older key), 0 (unknown key: a full handshake) or
 * -1. */
static int ticket_cb(SSL *s, unsigned char name[16], unsigned char *iv, EVP_CIPHER_CTX *cctx,
                     EVP_MAC_CTX *hctx, int enc)
{
    struct ticket_key k;
    int idx = -1, r;
    OSSL_PARAM params[2] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
                            OSSL_PARAM_construct_end()};

    (void)s;
    pthread_mutex_lock(&ring.mu);
    if (ring_rotate(time(NULL)) == 0) {
        if (enc)
            idx = 0;
        for (int i = 0; !enc && i < ring.n; i++)
            if (memcmp(ring.keys[i].name, name, 16) == 0)
                idx = i;
        if (idx >= 0)
            k = ring.keys[idx];
    }
    pthread_mutex_unlock(&ring.mu);
    if (idx < 0)
        return enc ? -1 : 0;
    if (enc) {
        if (RAND_bytes(iv, EVP_CIPHER_iv_length(EVP_aes_256_cbc())) != 1)
            return -1;
        memcpy(name, k.name, 16);
        r = EVP_EncryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, k.aes, iv);
    } else {
        r = EVP_DecryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, k.aes, iv);
    }
    if (r != 1 || EVP_MAC_init(hctx, k.hmac, sizeof(k.hmac), params) != 1)
        return -1;
    return enc || idx == 0 ? 1 : 2;
}

/* ALPN: http/1.1 when the client offers it; a client offering only h2 goes
 * on without ALPN (and may speak HTTP/1.1 anyway). */
static int alpn_cb(SSL *s, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
                   unsigned int inlen, void *arg)
{
    static const unsigned char ours[] = "\x08http/1.1";
    unsigned char *sel;

    (void)s;
    (void)arg;
    if (SSL_select_next_proto(&sel, outlen, ours, sizeof(ours) - 1, in, inlen) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}

/* SNI: the certificate whose names match; the first one otherwise. */
static int servername_cb(SSL *s, int *alert, void *arg)
{
    const struct conf_tls *t = arg;
    size_t i = sni_pick(t, SSL_get_servername(s, TLSEXT_NAMETYPE_host_name));

    (void)alert;
    if (i > 0 && SSL_set_SSL_CTX(s, t->certs[i].ctx) == NULL)
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    return SSL_TLSEXT_ERR_OK;
}

/* OCSP stapling: the response read with the certificate, to a client that
 * asks (status_request). */
static int status_cb(SSL *s, void *arg)
{
    const struct conf_tls_cert *c = arg;
    unsigned char *copy;

    if (c->ocsp == NULL || SSL_get_tlsext_status_type(s) != TLSEXT_STATUSTYPE_ocsp)
        return SSL_TLSEXT_ERR_NOACK;
    if ((copy = OPENSSL_memdup(c->ocsp, c->ocsp_len)) == NULL)
        return SSL_TLSEXT_ERR_NOACK;
    SSL_set_tlsext_status_ocsp_resp(s, copy, (long)c->ocsp_len); /* OpenSSL frees it */
    return SSL_TLSEXT_ERR_OK;
}

int tls_prepare(struct conf *conf, char *err, size_t errlen)
{
    static const unsigned char sid[] = "drover";

    for (size_t i = 0; i < conf->nlisten; i++) {
        const struct conf_tls *t = conf->listen[i].opts.tls;

        for (size_t k = 0; t != NULL && k < t->ncerts; k++) {
            SSL_CTX *ctx = t->certs[k].ctx;

            SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                         SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_COMPRESSION);
            /* An idle connection gives its read and write buffers back;
             * writes may be partial and retried from a moved buffer (ours
             * compact). */
            SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                                      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
            SSL_CTX_set_alpn_select_cb(ctx, alpn_cb, NULL);
            if (SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_cb) != 1 ||
                SSL_CTX_set_session_id_context(ctx, sid, sizeof(sid) - 1) != 1) {
                snprintf(err, errlen, "%s: cannot set up TLS session resumption", t->certs[k].cert);
                ERR_clear_error();
                return -1;
            }
            /* The session cache of the listener's first context serves the
             * handshakes that SNI moves to another one. It is OpenSSL's
             * (locked) one, shared by the workers: SO_REUSEPORT sends a
             * returning client to any of them. */
            SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
            SSL_CTX_sess_set_cache_size(ctx, SESSION_CACHE_SIZE);
            if (t->certs[k].ocsp != NULL) {
                SSL_CTX_set_tlsext_status_cb(ctx, status_cb);
                SSL_CTX_set_tlsext_status_arg(ctx, (void *)&t->certs[k]);
            }
            if (k == 0) {
                SSL_CTX_set_tlsext_servername_callback(ctx, servername_cb);
                SSL_CTX_set_tlsext_servername_arg(ctx, (void *)t);
            }
        }
    }
    return 0;
}

int tls_start(struct conn *c, const struct conf_tls *tls)
{
    c->ssl = SSL_new(tls->certs[0].ctx);
    if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
        ERR_clear_error();
        SSL_free(c->ssl);
        c->ssl = NULL;
        return -1;
    }
    SSL_set_accept_state(c->ssl);
    c->io = &tls_io;
    /* The SNI callback reads tls, which the config owns: it stays until
     * the handshake is over, whatever reloads meanwhile. */
    c->tls_cref = c->w->table->cref;
    conf_ref_get(c->tls_cref);
    ev_init(&c->tio, NULL);
    c->tio.data = c;
    return 0;
}

static void tio_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct conn *c = io->data;

    (void)revents;
    ev_io_stop(loop, io);
    c->ops->readable(c);
}

/* A read that must write first (a handshake message, a KeyUpdate answer)
 * waits for the socket to take bytes, then runs the reader again. */
static void wait_writable(struct conn *c)
{
    if (ev_is_active(&c->tio))
        return;
    ev_io_init(&c->tio, tio_cb, c->fd, EV_WRITE);
    c->tio.data = c;
    ev_io_start(c->w->loop, &c->tio);
}

static void handshake_over(struct conn *c)
{
    conf_ref_put(c->tls_cref);
    c->tls_cref = NULL;
}

static void count_failure(struct conn *c, enum tls_fail why)
{
    if (c->tls_failed)
        return;
    c->tls_failed = true;
    counter_add(&c->w->metrics->tls_failures[why], 1);
}

/* What the failed handshake's error queue says, the queue emptied. */
static enum tls_fail failure_reason(void)
{
    unsigned long e = ERR_peek_last_error();
    int r = ERR_GET_REASON(e);

    ERR_clear_error();
    if (r >= SSL_AD_REASON_OFFSET)
        return TLS_FAIL_ALERT;
    switch (r) {
    case SSL_R_HTTP_REQUEST:
    case SSL_R_HTTPS_PROXY_REQUEST:
        return TLS_FAIL_HTTP;
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_VERSION_TOO_LOW:
    case SSL_R_VERSION_TOO_HIGH:
    case SSL_R_NO_PROTOCOLS_AVAILABLE:
        return TLS_FAIL_VERSION;
    case SSL_R_NO_SHARED_CIPHER:
    case SSL_R_NO_SHARED_GROUPS:
    case SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM:
        return TLS_FAIL_CIPHER;
    case SSL_R_UNEXPECTED_EOF_WHILE_READING:
        return TLS_FAIL_CLOSED;
    default:
        return TLS_FAIL_OTHER;
    }
}

/* A request line where a ClientHello should be: the client speaks plain
 * HTTP. The connection goes on in plain text just far enough for conn.c
 * to answer 400 (nginx's way) and close. */
static bool plain_http(struct conn *c)
{
    unsigned char first;
    ssize_t n = recv(c->fd, &first, 1, MSG_PEEK);

    if (n != 1 || first < 'A' || first > 'Z')
        return false;
    count_failure(c, TLS_FAIL_HTTP);
    tls_close(c);
    c->io = &conn_plain_io;
    c->refuse = "plain HTTP request sent to HTTPS port";
    return true;
}

/* Moves the handshake on. 0 once it is over, else -1 with errno: EAGAIN
 * while it waits for the client (or for room to write), another when it
 * failed (counted by reason, never logged one line each). */
static int handshake(struct conn *c)
{
    int r, e;

    ERR_clear_error();
    r = SSL_do_handshake(c->ssl);
    if (r == 1) {
        c->tls_done = true;
        counter_add(&c->w->metrics->tls_handshakes[SSL_session_reused(c->ssl) ? 1 : 0], 1);
        handshake_over(c);
        /* The client gets a client_header of its own to start its first
         * request, as after nginx's handshake. */
        conn_set_timeout(c, T_HEADER);
        return 0;
    }
    e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_READ) {
        errno = EAGAIN;
        return -1;
    }
    if (e == SSL_ERROR_WANT_WRITE) {
        wait_writable(c);
        errno = EAGAIN;
        return -1;
    }
    if (e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN) {
        ERR_clear_error();
        count_failure(c, TLS_FAIL_CLOSED);
    } else {
        count_failure(c, failure_reason());
    }
    errno = ECONNABORTED;
    return -1;
}

static ssize_t tls_read(struct conn *c, char *p, size_t len)
{
    int n, e;

    if (!c->tls_done) {
        if (!c->tls_peeked) {
            c->tls_peeked = true;
            if (plain_http(c))
                return c->io->read(c, p, len);
        }
        if (handshake(c) < 0)
            return -1;
    }
    ERR_clear_error();
    n = SSL_read(c->ssl, p, (int)(len > INT32_MAX ? INT32_MAX : len));
    if (n > 0) {
        /* The rest of a record is inside OpenSSL: the socket will not say. */
        if (c->reading && SSL_has_pending(c->ssl))
            ev_feed_event(c->w->loop, &c->rio, EV_READ);
        return n;
    }
    e = SSL_get_error(c->ssl, n);
    switch (e) {
    case SSL_ERROR_WANT_READ:
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_WANT_WRITE:
        wait_writable(c);
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_ZERO_RETURN:
        return 0; /* close_notify, or a bare EOF (SSL_OP_IGNORE_UNEXPECTED_EOF) */
    case SSL_ERROR_SYSCALL:
        ERR_clear_error();
        if (errno == 0 || errno == EAGAIN)
            errno = ECONNRESET;
        return -1;
    default:
        ERR_clear_error();
        errno = EPROTO;
        return -1;
    }
}

/* With renegotiation off and the handshake over before the first write, a
 * write never has to read: WANT_READ cannot come, and is taken as
 * WANT_WRITE would be. */
static ssize_t tls_write(struct conn *c, const char *p, size_t len)
{
    int n, e;

    if (!c->tls_done) {
        errno = EPIPE;
        return -1;
    }
    ERR_clear_error();
    n = SSL_write(c->ssl, p, (int)(len > INT32_MAX ? INT32_MAX : len));
    if (n > 0)
        return n;
    e = SSL_get_error(c->ssl, n);
    if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
        errno = EAGAIN;
        return -1;
    }
    ERR_clear_error();
    if (e != SSL_ERROR_SYSCALL || errno == 0 || errno == EAGAIN)
        errno = EPIPE;
    return -1;
}

/* close_notify, then the TCP FIN: the client knows the response is whole. */
static void tls_shutdown(struct conn *c)
{
    if (c->tls_done && !(SSL_get_shutdown(c->ssl) & SSL_SENT_SHUTDOWN)) {
        ERR_clear_error();
        SSL_shutdown(c->ssl);
        ERR_clear_error();
    }
    shutdown(c->fd, SHUT_WR);
}

static bool tls_pending(const struct conn *c)
{
    return c->tls_done && SSL_has_pending(c->ssl);
}

static void tls_close(struct conn *c)
{
    if (!c->tls_done)
        count_failure(c, c->timed_out ? TLS_FAIL_TIMEOUT : TLS_FAIL_OTHER);
    if (ev_is_active(&c->tio))
        ev_io_stop(c->w->loop, &c->tio);
    if (c->tls_done && !(SSL_get_shutdown(c->ssl) & SSL_SENT_SHUTDOWN)) {
        ERR_clear_error();
        SSL_shutdown(c->ssl);
    }
    ERR_clear_error();
    SSL_free(c->ssl);
    c->ssl = NULL;
    if (c->tls_cref != NULL)
        handshake_over(c);
}
