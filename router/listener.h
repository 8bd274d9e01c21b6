/* Listening sockets. Each worker has its own socket per listen address
 * (SO_REUSEPORT when there are several workers, so the kernel spreads
 * connections); a unix socket is bound once and shared. */
#ifndef DROVER_ROUTER_LISTENER_H
#define DROVER_ROUTER_LISTENER_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

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
 * workers to bind the same address. A unix socket file left by an earlier
 * run is removed first, but not one another process accepts on
 * (unixsock_make_way). Returns the fd, or -1 with err filled. */
int listener_bind(const struct conf_addr *addr, bool reuseport, char *err, size_t errlen);

/* TCP_NODELAY on a listening TCP socket, inherited by what it accepts (a
 * no-op on other sockets). listener_bind does it; sockets passed by systemd
 * get it here. */
void listener_set_nodelay(int fd);

/* A listener on fd (taken over) for loop; once started, on_ready(l) runs
 * whenever a connection waits to be accepted (listener_accept). NULL when
 * out of memory. */
struct listener *listener_new(struct ev_loop *loop, const struct conf_addr *addr, int fd,
                              bool owns_path, void (*on_ready)(struct listener *l), void *data);

/* One connection from the listening socket fd, non-blocking and
 * close-on-exec, retried over EINTR and ECONNABORTED; the peer's address
 * in peer (*len bytes). Returns its fd, or -1 with errno set: *exhausted
 * tells when it is because descriptors or memory ran out (EMFILE, ENFILE,
 * ENOBUFS, ENOMEM: stop accepting for a moment rather than spin), else
 * nothing is waiting. */
int listener_accept(int fd, struct sockaddr_storage *peer, socklen_t *len, bool *exhausted);

void listener_start(struct listener *l);
void listener_stop(struct listener *l);
void listener_close(struct listener *l);

#endif
