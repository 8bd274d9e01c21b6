/* One check of an HTTP server on a libev loop, shared by the router's
 * health checks and the supervisor's ready probes: a TCP connect, then,
 * with a path, "GET path" whose status line must say 2xx or 3xx.
 *
 * probe_run() starts a check; done(p, ok, why) runs exactly once per check,
 * from a callback of the loop (never from inside probe_run), with the
 * socket already closed and why a short reason when ok is false. A probe is
 * reused for the next check; probe_cancel() ends a check without done. */
#ifndef DROVER_LIB_PROBE_H
#define DROVER_LIB_PROBE_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct probe {
    struct ev_loop *loop;
    void (*done)(struct probe *p, bool ok, const char *why);
    void *data;                     /* the caller's */
    ev_io io;
    ev_timer deadline;              /* the check's timeout, or a failure to report at once */
    int fd;
    bool busy;
    bool local;                     /* the failure was drover's own (syserr_local): not the server's */
    size_t len;
    char buf[16];                   /* the start of the status line */
    char why[96];
    char req[1280];                 /* the request to send (empty: TCP only) */
    size_t reqlen;
};

void probe_init(struct probe *p, struct ev_loop *loop,
                void (*done)(struct probe *p, bool ok, const char *why), void *data);

/* Checks the server at addr. path NULL: a connect is enough. host is the
 * Host header's value, agent the User-Agent's. timeout > 0 bounds the whole
 * check ("no answer within <what>" names the setting in why). A check
 * already running is cancelled first. */
void probe_run(struct probe *p, const struct sockaddr *addr, socklen_t addrlen, const char *path,
               const char *host, const char *agent, double timeout, const char *what);

void probe_cancel(struct probe *p);

static inline bool probe_busy(const struct probe *p)
{
    return p->busy;
}

#endif
