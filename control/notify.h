/* What drover tells systemd (sd_notify(3), spoken directly: see notify.c)
 * when NOTIFY_SOCKET is set: READY=1 once it listens and every routed
 * process type has an instance up; RELOADING=1 with MONOTONIC_USEC, then
 * READY=1, around a reload; STOPPING=1 when it starts to stop; and a
 * STATUS= line for `systemctl status` ("serving 4/4 web, 12
 * connections"), sent when it changes. Main thread only. */
#ifndef DROVER_CONTROL_NOTIFY_H
#define DROVER_CONTROL_NOTIFY_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

struct control;

struct notifier {
    int fd;                     /* -1: NOTIFY_SOCKET unset, nothing is sent */
    struct sockaddr_un addr;
    socklen_t len;
    bool ready;                 /* READY=1 went out (and no reload since) */
    char status[256];           /* the STATUS= last sent */
    ev_timer tick;              /* readiness until READY, then STATUS changes */
};

/* The datagram socket NOTIFY_SOCKET names: an absolute path, or an
 * abstract name written with a leading '@'. value NULL or "": n->fd is
 * -1 and every call is a no-op. 0, or -1 with err (a name that is not a
 * unix socket address, or too long). */
int notify_open(struct notifier *n, const char *value, char *err, size_t errlen);
void notify_close(struct notifier *n);

/* One message: state ("READY=1", NULL for none), MONOTONIC_USEC= when usec
 * is not 0, STATUS= when status is not NULL (line breaks become spaces),
 * one "KEY=value" a line. Returns its length, or 0 when it does not fit
 * in len. */
size_t notify_format(char *buf, size_t len, const char *state, uint64_t usec, const char *status);

/* Sends msg as one datagram. 0, or -1 with errno (nothing is retried:
 * the service manager is told again at the next change). */
int notify_send(const struct notifier *n, const char *msg);

/* CLOCK_MONOTONIC in microseconds, as MONOTONIC_USEC wants it. */
uint64_t notify_monotonic_usec(void);

/* The moments of a running drover (ctl->notify): */
void control_notify_start(struct control *ctl);     /* listening: READY=1 once the types are up */
void control_notify_reloading(struct control *ctl); /* RELOADING=1 */
void control_notify_reloaded(struct control *ctl, const char *outcome); /* READY=1 */
void control_notify_stopping(struct control *ctl);  /* STOPPING=1 */
void control_notify_stop(struct control *ctl);      /* the loop is ending: the timer goes */

/* The STATUS= text for ctl now: "starting: 1/4 web up", "serving 4/4 web,
 * 12 connections", "draining: 3 connections". */
void control_status_line(struct control *ctl, char *buf, size_t len);

#endif
