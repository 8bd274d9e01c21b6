/* Listening sockets. Each worker has its own socket per listen address
 * (SO_REUSEPORT when there are several workers, so the kernel spreads
 * connections); a unix socket is bound once and shared. */
#ifndef DROVER_ROUTER_LISTENER_H
#define DROVER_ROUTER_LISTENER_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>

#include "conf/config.h"

struct worker;

struct listener {
    struct worker *w;
    struct listener *next;
    struct conf_addr addr;
    int fd;
    bool owns_path;                 /* unlink the unix socket path on close */
    ev_io io;
};

/* A bound, listening, non-blocking socket for addr. reuseport: allow other
 * workers to bind the same address. A unix socket file left by an earlier
 * run is removed first, but not one another process accepts on
 * (unixsock_make_way). Returns the fd, or -1 with err filled. */
int listener_bind(const struct conf_addr *addr, bool reuseport, char *err, size_t errlen);

/* Adds a listener on fd (taken over) to w; it accepts once w's loop runs. */
struct listener *listener_add(struct worker *w, const struct conf_addr *addr, int fd,
                              bool owns_path);

void listener_start(struct listener *l);
void listener_stop(struct listener *l);
void listener_close(struct listener *l);

#endif
