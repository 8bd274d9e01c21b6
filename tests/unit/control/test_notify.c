/* control/notify: the sd_notify messages as bytes, NOTIFY_SOCKET's forms
 * (a path, an abstract '@name') against sockets the test binds, and the
 * READY and STATUS= judgements from snapshots made by hand. Includes the
 * .c to reach its static functions. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "control/notify.c"

static char buf[512];

Test(notify, format_ready_with_status)
{
    size_t n = notify_format(buf, sizeof(buf), "READY=1", 0, "serving 4/4 web, 12 connections");

    cr_assert_str_eq(buf, "READY=1\nSTATUS=serving 4/4 web, 12 connections\n");
    cr_assert_eq(n, strlen(buf));
}

Test(notify, format_reloading_carries_monotonic_usec)
{
    notify_format(buf, sizeof(buf), "RELOADING=1", 1234567890123ull, "reloading");
    cr_assert_str_eq(buf, "RELOADING=1\nMONOTONIC_USEC=1234567890123\nSTATUS=reloading\n");
}

Test(notify, format_status_alone_on_one_line)
{
    notify_format(buf, sizeof(buf), NULL, 0, "reload failed: a.yaml:1:1: x\nb.yaml:2:2: y\r");
    cr_assert_str_eq(buf, "STATUS=reload failed: a.yaml:1:1: x b.yaml:2:2: y \n",
                     "a line break would start a key of its own");
}

Test(notify, format_that_does_not_fit_is_nothing)
{
    volatile size_t len = 10; /* not a constant the compiler could check */

    cr_assert_eq(notify_format(buf, len, "STOPPING=1", 0, "draining"), 0);
    len = 11;
    cr_assert_eq(notify_format(buf, len, "STOPPING=1", 0, NULL), 0, "no room for the NUL");
    len = 12;
    cr_assert_eq(notify_format(buf, len, "STOPPING=1", 0, NULL), 11);
    len = 0;
    cr_assert_eq(notify_format(buf, len, "READY=1", 0, NULL), 0);
}

Test(notify, monotonic_usec_is_the_monotonic_clock)
{
    struct timespec ts;
    uint64_t a, b;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    a = (uint64_t)ts.tv_sec * 1000000u;
    b = notify_monotonic_usec();
    cr_assert(b >= a && b - a < 5000000u);
}

Test(notify, unset_means_silent)
{
    struct notifier n;
    char err[256] = "";

    cr_assert_eq(notify_open(&n, NULL, err, sizeof(err)), 0);
    cr_assert_eq(n.fd, -1);
    cr_assert_eq(notify_open(&n, "", err, sizeof(err)), 0);
    cr_assert_eq(n.fd, -1);
    cr_assert_eq(notify_send(&n, "READY=1\n"), 0, "no socket: nothing to do");
}

Test(notify, bad_values_are_refused)
{
    struct notifier n;
    char err[256], longname[200];

    cr_assert_eq(notify_open(&n, "relative/path", err, sizeof(err)), -1);
    cr_assert_str_eq(err, "NOTIFY_SOCKET=relative/path: not a unix socket path (/path) or abstract name (@name)");
    memset(longname, 'a', sizeof(longname) - 1);
    longname[0] = '/';
    longname[sizeof(longname) - 1] = '\0';
    cr_assert_eq(notify_open(&n, longname, err, sizeof(err)), -1);
    cr_assert(strstr(err, "or too long") != NULL, "%s", err);
    cr_assert_eq(n.fd, -1);
}

/* A datagram socket bound at sun (len bytes). */
static int bound(const struct sockaddr_un *sun, socklen_t len)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct timeval tv = {2, 0};

    cr_assert(fd >= 0);
    cr_assert_eq(bind(fd, (const struct sockaddr *)sun, len), 0, "%s", strerror(errno));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

static void receive(int fd, const char *want)
{
    char got[512];
    ssize_t n = recv(fd, got, sizeof(got) - 1, 0);

    cr_assert(n > 0, "nothing received: %s", strerror(errno));
    got[n] = '\0';
    cr_assert_str_eq(got, want, "one datagram, the message as it was sent");
}

Test(notify, sends_to_a_path)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    struct notifier n;
    char err[256];
    int fd;

    snprintf(sun.sun_path, sizeof(sun.sun_path), "/tmp/drover-notify-%d.sock", (int)getpid());
    unlink(sun.sun_path);
    fd = bound(&sun, sizeof(sun));
    cr_assert_eq(notify_open(&n, sun.sun_path, err, sizeof(err)), 0, "%s", err);
    cr_assert(n.fd >= 0);
    cr_assert(fcntl(n.fd, F_GETFD) & FD_CLOEXEC, "the instances do not inherit it");
    cr_assert_eq(notify_send(&n, "READY=1\nSTATUS=serving\n"), 0);
    receive(fd, "READY=1\nSTATUS=serving\n");
    notify_close(&n);
    cr_assert_eq(n.fd, -1);
    close(fd);
    unlink(sun.sun_path);
}

Test(notify, sends_to_an_abstract_name)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    struct notifier n;
    char err[256], name[64];
    int fd, len;

    len = snprintf(name, sizeof(name), "@drover-notify-%d", (int)getpid());
    memcpy(sun.sun_path, name, (size_t)len);
    sun.sun_path[0] = '\0';
    fd = bound(&sun, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + (size_t)len));
    cr_assert_eq(notify_open(&n, name, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(notify_send(&n, "STOPPING=1\n"), 0);
    receive(fd, "STOPPING=1\n");
    notify_close(&n);
    close(fd);
}

Test(notify, a_socket_nobody_reads_is_an_error_not_a_stall)
{
    struct notifier n;
    char err[256], path[64];

    snprintf(path, sizeof(path), "/tmp/drover-notify-none-%d.sock", (int)getpid());
    cr_assert_eq(notify_open(&n, path, err, sizeof(err)), 0);
    cr_assert_eq(notify_send(&n, "READY=1\n"), -1);
    notify_close(&n);
}

/* ---- when READY=1 goes out, and what STATUS= says ---- */

static struct sv_type_view type(const char *name, bool routed, int want, unsigned up)
{
    struct sv_type_view t = {.type = name, .routed = routed, .want = want};

    t.by_state[up_state()] = up;
    return t;
}

Test(notify, ready_once_every_routed_type_has_one_up)
{
    struct sv_type_view t[3] = {type("web", true, 4, 0), type("worker", false, 1, 0), type("api", true, 2, 1)};
    struct sv_snapshot sv = {3, t};

    cr_assert_str_eq(inst_state_names[up_state()], "up");
    cr_assert_not(types_ready(&sv), "web has none up");
    t[0].by_state[up_state()] = 1;
    cr_assert(types_ready(&sv), "one of each routed type; the worker is not routed");
    t[2].by_state[up_state()] = 0;
    t[2].stopped = true;
    cr_assert(types_ready(&sv), "a stopped type is not waited for");
    t[2].stopped = false;
    t[2].want = 0;
    cr_assert(types_ready(&sv), "nor one scaled to 0");
    cr_assert(types_ready(NULL), "no formation: static routes only");
}

Test(notify, status_lines)
{
    struct sv_type_view t[2] = {type("web", true, 4, 4), type("worker", false, 1, 1)};
    struct sv_snapshot sv = {2, t};
    struct control ctl;
    struct api_view v = {.sv = &sv, .connections = 12};
    char line[256];

    memset(&ctl, 0, sizeof(ctl));
    ctl.notify.fd = 3;
    ctl.notify.ready = true;
    status_of(&ctl, &v, line, sizeof(line));
    cr_assert_str_eq(line, "serving 4/4 web, 12 connections");
    ctl.notify.ready = false;
    t[0].by_state[up_state()] = 1;
    status_of(&ctl, &v, line, sizeof(line));
    cr_assert_str_eq(line, "starting: 1/4 web up");
    ctl.draining = ctl.delaying = true;
    v.connections = 1;
    status_of(&ctl, &v, line, sizeof(line));
    cr_assert_str_eq(line, "stopping: serving through timeouts.drain_delay (/ready 503), 1 connection");
    ctl.delaying = false;
    status_of(&ctl, &v, line, sizeof(line));
    cr_assert_str_eq(line, "draining: 1 connection");
    ctl.draining = false;
    ctl.notify.ready = true;
    v.sv = NULL;
    v.connections = 0;
    status_of(&ctl, &v, line, sizeof(line));
    cr_assert_str_eq(line, "serving, 0 connections");
}
