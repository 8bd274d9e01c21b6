#include "router/listener.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/unixsock.h"

#define LISTEN_BACKLOG 4096

int listener_bind(const struct conf_addr *addr, bool reuseport, char *err, size_t errlen)
{
    int fd, one = 1, family = addr->ss.ss_family;

    fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "%s: socket: %s", addr->text, strerror(errno));
        return -1;
    }
    if (family == AF_UNIX) {
        /* A stale socket file from an earlier run would make bind fail;
         * a live one belongs to another process. */
        char why[128];

        if (unixsock_make_way((const struct sockaddr_un *)&addr->ss, addr->len, why,
                              sizeof(why)) < 0) {
            snprintf(err, errlen, "cannot listen on %s: %s", addr->text, why);
            goto fail;
        }
    } else {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (reuseport)
            setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
        if (family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        listener_set_nodelay(fd);
    }
    if (bind(fd, (const struct sockaddr *)&addr->ss, addr->len) < 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", addr->text, strerror(errno));
        goto fail;
    }
    if (listen(fd, LISTEN_BACKLOG) < 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", addr->text, strerror(errno));
        goto fail;
    }
    return fd;
fail:
    close(fd);
    return -1;
}

/* Linux copies TCP_NODELAY from a listening socket to the sockets it
 * accepts: set once here, it saves a setsockopt per connection. */
void listener_set_nodelay(int fd)
{
    int one = 1;

    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

int listener_accept(int fd, struct sockaddr_storage *peer, socklen_t *len, bool *exhausted)
{
    for (;;) {
        int c = accept4(fd, (struct sockaddr *)peer, len, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (c >= 0 || (errno != EINTR && errno != ECONNABORTED)) {
            *exhausted = c < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
                                   errno == ENOMEM);
            return c;
        }
    }
}

static void ready_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct listener *l = io->data;
    (void)loop;
    (void)revents;
    l->on_ready(l);
}

struct listener *listener_new(struct ev_loop *loop, const struct conf_addr *addr, int fd,
                              bool owns_path, void (*on_ready)(struct listener *l), void *data)
{
    struct listener *l = calloc(1, sizeof(*l));

    if (l == NULL)
        return NULL;
    l->loop = loop;
    l->data = data;
    l->addr = *addr;
    l->fd = fd;
    l->owns_path = owns_path;
    l->on_ready = on_ready;
    ev_io_init(&l->io, ready_cb, fd, EV_READ);
    l->io.data = l;
    return l;
}

void listener_start(struct listener *l)
{
    if (l->fd >= 0)
        ev_io_start(l->loop, &l->io);
}

void listener_stop(struct listener *l)
{
    ev_io_stop(l->loop, &l->io);
}

void listener_close(struct listener *l)
{
    listener_stop(l);
    if (l->fd >= 0) {
        close(l->fd);
        l->fd = -1;
        if (l->owns_path && l->addr.ss.ss_family == AF_UNIX)
            unlink(((const struct sockaddr_un *)&l->addr.ss)->sun_path);
    }
}
