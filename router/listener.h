/* Listening sockets. Each worker has its own socket per listen address
 * (SO_REUSEPORT when there are several workers, so the kernel spreads
 * connections); a unix socket is bound once and shared. */
#ifndef DROVER_ROUTER_LISTENER_H
#define DROVER_ROUTER_LISTENER_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>

#include "conf/config.h"

struct listener {
    struct ev_loop *loop;
    void *data;                     /* the owner's (its worker) */
    struct listener *next;
    struct conf_addr addr;
    int fd;
    bool owns_path;                 /* unlink the unix socket path on close */
    ev_io io;
    void (*on_ready)(struct listener *l);
};

/* A bound, listening, non-blocking socket for addr. reuseport: allow other
 * workers to bind the same address. Returns the fd, or -1 with err filled. */
int listener_bind(const struct conf_addr *addr, bool reuseport, char *err, size_t errlen);

/* A listener on fd (taken over) for loop; once started, on_ready(l) runs
 * whenever a connection waits to be accepted (listener_accept). NULL when
 * out of memory. */
struct listener *listener_new(struct ev_loop *loop, const struct conf_addr *addr, int fd,
                              bool owns_path, void (*on_ready)(struct listener *l), void *data);

/* The next waiting connection: its fd (non-blocking, close-on-exec), its
 * peer in peer/port (port 0 on a unix socket), or -1 with errno (EAGAIN
 * when none waits; EINTR and ECONNABORTED are retried here). */
int listener_accept(struct listener *l, struct sockaddr_storage *peer, uint16_t *port);

void listener_start(struct listener *l);
void listener_stop(struct listener *l);
void listener_close(struct listener *l);

#endif
