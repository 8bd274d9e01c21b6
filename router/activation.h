/* Listening sockets passed by systemd socket activation (sd_listen_fds(3),
 * without libsystemd): LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES are read
 * once at start; `listen: systemd` takes every passed socket and
 * `systemd:NAME` those named NAME. The passed descriptors stay open for
 * the life of drover, and listeners get duplicates of them, so a reload
 * that drops an entry and a later one that brings it back both work.
 * Main thread only. */
#ifndef DROVER_ROUTER_ACTIVATION_H
#define DROVER_ROUTER_ACTIVATION_H

#include <stddef.h>
#include <sys/types.h>

#include "conf/config.h"

#define ACTIVATION_FDS_START 3  /* SD_LISTEN_FDS_START */
#define ACTIVATION_MAX 64       /* sockets drover takes */

struct activation_fd {
    int fd;
    char name[256];             /* LISTEN_FDNAMES' entry; "unknown" when not given */
};

/* The sockets the variables pass to the process self: LISTEN_PID must be
 * self (else they are another process's: 0 sockets, with the reason in
 * why), LISTEN_FDS the count (fds 3, 4, ...), LISTEN_FDNAMES (may be
 * NULL) their names separated by ':'. Unset LISTEN_FDS: 0 sockets. Returns
 * how many went into out (at most max), or -1 with the reason in why for
 * values that are not numbers. */
int activation_parse(const char *pid, const char *fds, const char *names, pid_t self,
                     struct activation_fd *out, size_t max, char *why, size_t whylen);

/* At start, before anything opens a descriptor: the passed sockets from
 * the environment, made close-on-exec and non-blocking, and the variables
 * removed so that the instances do not see them. Returns how many; a
 * problem (malformed values, another process's sockets) is kept to be
 * told when a listen entry asks for them. */
int activation_take(void);

/* How many passed sockets the systemd listen entry addr names. */
size_t activation_count(const struct conf_addr *addr);

/* New descriptors (close-on-exec) for the sockets addr names, into fds,
 * and each one's address into addrs (addr's text, the socket's own
 * address and port). Returns how many (at least 1, at most max), or -1
 * with err: none passed, none of that name, or one that is not a
 * listening stream socket. */
int activation_dup(const struct conf_addr *addr, int *fds, struct conf_addr *addrs, size_t max,
                   char *err, size_t errlen);

/* A socket address as drover writes addresses: "127.0.0.1:8080",
 * "[::1]:8080", "unix:/run/drover.sock". Returns buf. */
const char *activation_describe(const struct conf_addr *addr, char *buf, size_t len);

#endif
