/* The admin API server (SPEC "Admin API"): a small HTTP/1.1 server on the
 * main loop that answers from control.c. It is not the request path: one
 * request at a time per connection, answered in the callback that completes
 * it (every control_* function returns at once).
 *
 * Endpoints: GET|HEAD /health, /ready, /status, /metrics; POST /reload,
 * /scale, /processes/TYPE/{restart,stop,start}. With a token in force
 * (control_token), everything but /health and /ready needs
 * "Authorization: Bearer <token>" (401 otherwise, unknown paths included,
 * so an unauthenticated client learns nothing); then a wrong method is 405
 * with Allow, an unknown path 404. Every answer is JSON (metrics:
 * Prometheus text) with Content-Length and Cache-Control: no-store.
 *
 * Limits: request head 16 KiB (431), body 64 KiB (413), 10 s for a request
 * to arrive or a reply to drain (then the connection closes), 64
 * connections at once (the rest wait in the accept backlog). Malformed
 * requests get 400 and the connection closes. */
#ifndef DROVER_CONTROL_ADMIN_H
#define DROVER_CONTROL_ADMIN_H

#include <ev.h>
#include <stddef.h>

#include "conf/config.h"

struct admin;
struct control;

/* Listens on addr (host:port, [v6]:port or unix:/path; non-blocking,
 * close-on-exec, SO_REUSEADDR) on loop, answering from ctl. A unix socket
 * file left by an earlier run is removed first, but not one another
 * process still accepts on. Port 0 picks a free port (see admin_addr).
 * Returns NULL with err filled ("cannot listen on 127.0.0.1:8081: Address
 * already in use"). */
struct admin *admin_start(struct ev_loop *loop, const struct conf_addr *addr, struct control *ctl,
                          char *err, size_t errlen);

/* The address listened on (with the port the kernel chose for port 0). */
const struct conf_addr *admin_addr(const struct admin *a);

/* Stops listening (a unix socket file is removed), closes every admin
 * connection and frees a. NULL is fine. May be called from inside a
 * control_* function that this admin called (POST /reload moving
 * admin.listen): the answer to that request is still sent, as far as the
 * socket takes it at once, with Connection: close, then everything is
 * freed before the callback returns. Either way a is gone on return for
 * the caller. */
void admin_stop(struct admin *a);

#endif
