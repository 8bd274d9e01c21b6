/* Unix socket paths: the one rule every listener follows before bind(). */
#ifndef DROVER_LIB_UNIXSOCK_H
#define DROVER_LIB_UNIXSOCK_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

/* Makes way for a listening socket at sun (len bytes of it): a socket file
 * that nobody accepts on any more (left by an earlier run that did not
 * clean up) is removed; one that another process still accepts on is left
 * alone and refused: -1 with "another process accepts connections there"
 * in why. A missing path, or a file that is not a socket, is left for
 * bind() to judge. Returns 0 or -1. */
int unixsock_make_way(const struct sockaddr_un *sun, socklen_t len, char *why, size_t whylen);

#endif
