/* A blocking HTTP/1.1 client of the admin API, for the control commands:
 * one request per connection, the whole answer read within a deadline.
 * Not for the event loop. */
#ifndef DROVER_CONTROL_CLIENT_H
#define DROVER_CONTROL_CLIENT_H

#include <stddef.h>

#include "conf/config.h"
#include "lib/sbuf.h"

#define CLIENT_MAX_ANSWER (16u << 20)

struct client_answer {
    int status;                 /* the final status (interim 1xx answers are skipped) */
    struct sbuf body;           /* de-chunked; the caller frees it (sbuf_free) */
};

/* Sends "METHOD path" to addr with Connection: close, Accept and, when
 * given, "Authorization: Bearer <token>"; body (NULL: none) goes as
 * application/json, and a POST always carries a Content-Length. Connect,
 * send and the whole answer share timeout_ms. Returns 0 with the answer in
 * ans, or -1 with a one-line reason in err naming addr->text: not
 * reachable ("... (is drover running?)"), "did not answer within 5s",
 * closed early, or not HTTP. ans->body is initialised either way. */
int client_request(const struct conf_addr *addr, const char *method, const char *path,
                   const char *token, const char *body, size_t bodylen, int timeout_ms,
                   struct client_answer *ans, char *err, size_t errlen);

/* GET path, its answer streamed: connect, send and the answer's head
 * share timeout_ms; then a 2xx answer's body goes to on_body as it comes
 * (de-chunked), with no deadline, until the answer ends, the server closes
 * or on_body returns -1. Returns 0 with ans->status (and, for any other
 * status, the body in ans->body), or -1 with err as client_request. */
int client_stream(const struct conf_addr *addr, const char *path, const char *token,
                  int timeout_ms, int (*on_body)(void *ctx, const char *data, size_t len),
                  void *ctx, struct client_answer *ans, char *err, size_t errlen);

#endif
