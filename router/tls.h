/* TLS termination (OpenSSL 3): a connection's conn_io when its listener
 * has tls:. The handshake runs inside the connection's first reads, on
 * the same loop and state machine as plain HTTP, under
 * timeouts.client_header; afterwards reads and writes are SSL_read and
 * SSL_write, and the HTTP code above never knows.
 *
 * Contexts: conf/tls.c builds one SSL_CTX per certificate at load;
 * tls_prepare adds what is the same for all (SNI, ALPN http/1.1, OCSP
 * stapling, session tickets from a key ring every context shares, the
 * session cache, SSL_MODE_RELEASE_BUFFERS). A context is shared by every worker; each
 * connection has its own SSL, which holds a reference to its context, so
 * a reload's new certificates serve new handshakes while established
 * connections keep theirs. */
#ifndef DROVER_ROUTER_TLS_H
#define DROVER_ROUTER_TLS_H

#include <stddef.h>

#include "conf/config.h"

struct conn;

/* Readies the contexts of every certificate conf loaded. Call once per
 * conf, before any worker can see it. 0, or -1 with err filled. */
int tls_prepare(struct conf *conf, char *err, size_t errlen);

/* Makes the just accepted c a TLS connection with the certificates of
 * tls (the worker's current config's). 0, or -1 when out of memory. */
int tls_start(struct conn *c, const struct conf_tls *tls);

#endif
