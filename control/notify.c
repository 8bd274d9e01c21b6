/* control/notify.c: systemd's notify protocol and when drover speaks it
 * (see notify.h). The protocol is "KEY=value" lines in one datagram to a
 * unix socket; libsystemd's sd_notify() does just that, so drover sends
 * it itself rather than link libsystemd (and its dependencies) into a
 * binary that must also run where there is no systemd, as in a
 * container. */
#include "control/notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "control/api.h"
#include "control/internal.h"
#include "lib/log.h"
#include "supervisor/supervisor.h"

#define NOTIFY_POLL 0.05        /* readiness is looked at this often until READY=1 */
#define NOTIFY_STATUS_EVERY 2.0 /* then STATUS= changes are sent at most this often */

int notify_open(struct notifier *n, const char *value, char *err, size_t errlen)
{
    size_t len;
    int fd;

    memset(n, 0, sizeof(*n));
    n->fd = -1;
    if (value == NULL || value[0] == '\0')
        return 0;
    len = strlen(value);
    if ((value[0] != '/' && value[0] != '@') || len >= sizeof(n->addr.sun_path)) {
        snprintf(err, errlen, "NOTIFY_SOCKET=%.60s: not a unix socket path (/path) or abstract name (@name)%s",
                 value, len >= sizeof(n->addr.sun_path) ? ", or too long" : "");
        return -1;
    }
    n->addr.sun_family = AF_UNIX;
    memcpy(n->addr.sun_path, value, len);
    if (value[0] == '@') {
        /* An abstract name: a NUL first, and no NUL at the end. */
        n->addr.sun_path[0] = '\0';
        n->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
    } else {
        n->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
    }
    /* Non-blocking: a service manager that does not read never stalls drover. */
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        snprintf(err, errlen, "NOTIFY_SOCKET: socket: %s", strerror(errno));
        return -1;
    }
    n->fd = fd;
    return 0;
}

void notify_close(struct notifier *n)
{
    if (n->fd >= 0)
        close(n->fd);
    n->fd = -1;
}

size_t notify_format(char *buf, size_t len, const char *state, uint64_t usec, const char *status)
{
    size_t at = 0;
    int w;

    if (len == 0)
        return 0;
    buf[0] = '\0';
    if (state != NULL) {
        w = snprintf(buf, len, "%s\n", state);
        if (w < 0 || (size_t)w >= len)
            return 0;
        at = (size_t)w;
    }
    if (usec != 0) {
        w = snprintf(buf + at, len - at, "MONOTONIC_USEC=%llu\n", (unsigned long long)usec);
        if (w < 0 || (size_t)w >= len - at)
            return 0;
        at += (size_t)w;
    }
    if (status != NULL) {
        size_t start = at + 7;

        w = snprintf(buf + at, len - at, "STATUS=%s\n", status);
        if (w < 0 || (size_t)w >= len - at)
            return 0;
        at += (size_t)w;
        /* One line: a break inside would start a key of its own. */
        for (size_t i = start; i + 1 < at; i++)
            if (buf[i] == '\n' || buf[i] == '\r')
                buf[i] = ' ';
    }
    return at;
}

int notify_send(const struct notifier *n, const char *msg)
{
    if (n->fd < 0)
        return 0;
    if (sendto(n->fd, msg, strlen(msg), MSG_NOSIGNAL, (const struct sockaddr *)&n->addr, n->len) < 0)
        return -1;
    return 0;
}

uint64_t notify_monotonic_usec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- what a running drover says, and when ---- */

LOG_LIMIT(notify_failed, "systemd notifications failing", 10.0);

static void say(struct control *ctl, const char *state, uint64_t usec, const char *status)
{
    char msg[512];

    if (ctl->notify.fd < 0)
        return;
    if (notify_format(msg, sizeof(msg), state, usec, status) == 0)
        return;
    if (notify_send(&ctl->notify, msg) < 0)
        log_limited(&notify_failed, LOG_WARN, "systemd notify (NOTIFY_SOCKET): %s", strerror(errno));
    if (status != NULL)
        snprintf(ctl->notify.status, sizeof(ctl->notify.status), "%s", status);
}

static int up_state(void)
{
    for (int i = 0; i < SV_STATES; i++)
        if (strcmp(inst_state_names[i], "up") == 0)
            return i;
    return 0;
}

/* Every routed type that wants instances has one up (its ready probe
 * passed: it is in its pools). Static routes do not hold READY back: their
 * backends are not drover's to start. */
static bool types_ready(const struct sv_snapshot *sv)
{
    int up = up_state();

    for (size_t i = 0; sv != NULL && i < sv->ntypes; i++) {
        const struct sv_type_view *t = &sv->types[i];

        if (t->routed && !t->removed && !t->stopped && t->want > 0 && t->by_state[up] == 0)
            return false;
    }
    return true;
}

/* "4/4 web, 1/2 api" into buf. */
static void types_line(const struct sv_snapshot *sv, char *buf, size_t len)
{
    int up = up_state();
    size_t at = 0;

    buf[0] = '\0';
    for (size_t i = 0; sv != NULL && i < sv->ntypes && at < len; i++) {
        const struct sv_type_view *t = &sv->types[i];

        if (t->routed && !t->removed && !t->stopped)
            at += (size_t)snprintf(buf + at, len - at, "%s%u/%d %s", at > 0 ? ", " : "", t->by_state[up],
                                   t->want, t->type);
    }
}

static void status_of(struct control *ctl, const struct api_view *v, char *buf, size_t len)
{
    char types[192];
    const char *conns = v->connections == 1 ? "connection" : "connections";

    types_line(v->sv, types, sizeof(types));
    if (ctl->delaying)
        snprintf(buf, len, "stopping: serving through timeouts.drain_delay (/ready 503), %llu %s",
                 (unsigned long long)v->connections, conns);
    else if (ctl->draining)
        snprintf(buf, len, "draining: %llu %s", (unsigned long long)v->connections, conns);
    else if (!ctl->notify.ready && ctl->notify.fd >= 0)
        snprintf(buf, len, "starting: %s up", types[0] != '\0' ? types : "nothing");
    else
        snprintf(buf, len, "serving%s%s, %llu %s", types[0] != '\0' ? " " : "", types,
                 (unsigned long long)v->connections, conns);
}

void control_status_line(struct control *ctl, char *buf, size_t len)
{
    struct api_view v;

    view_take(ctl, VIEW_ROUTER | VIEW_PROCESSES, &v);
    status_of(ctl, &v, buf, len);
    view_release(&v);
}

static void tick_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct control *ctl = t->data;
    struct api_view v;
    char status[256];

    (void)revents;
    view_take(ctl, VIEW_ROUTER | VIEW_PROCESSES, &v);
    if (!ctl->notify.ready && !ctl->draining && types_ready(v.sv)) {
        ctl->notify.ready = true;
        status_of(ctl, &v, status, sizeof(status));
        say(ctl, "READY=1", 0, status);
        t->repeat = NOTIFY_STATUS_EVERY;
        ev_timer_again(loop, t);
    } else {
        status_of(ctl, &v, status, sizeof(status));
        if (strcmp(status, ctl->notify.status) != 0)
            say(ctl, NULL, 0, status);
    }
    view_release(&v);
}

void control_notify_start(struct control *ctl)
{
    if (ctl->notify.fd < 0)
        return;
    ev_init(&ctl->notify.tick, tick_cb);
    ctl->notify.tick.data = ctl;
    ctl->notify.tick.repeat = NOTIFY_POLL;
    ev_timer_again(ctl->loop, &ctl->notify.tick);
    tick_cb(ctl->loop, &ctl->notify.tick, 0); /* nothing to wait for: READY=1 now */
}

/* Around a reload only once READY=1 went out: before that, the reload is
 * part of starting. */
void control_notify_reloading(struct control *ctl)
{
    if (ctl->notify.ready)
        say(ctl, "RELOADING=1", notify_monotonic_usec(), "reloading the configuration");
}

void control_notify_reloaded(struct control *ctl, const char *outcome)
{
    char status[256];

    if (ctl->notify.fd < 0 || !ctl->notify.ready)
        return;
    control_status_line(ctl, status, sizeof(status));
    say(ctl, "READY=1", 0, outcome != NULL ? outcome : status);
}

void control_notify_stopping(struct control *ctl)
{
    char status[256];

    if (ctl->notify.fd < 0)
        return;
    control_status_line(ctl, status, sizeof(status));
    say(ctl, "STOPPING=1", 0, status);
}

void control_notify_stop(struct control *ctl)
{
    if (ctl->notify.fd >= 0)
        ev_timer_stop(ctl->loop, &ctl->notify.tick);
    notify_close(&ctl->notify);
}
