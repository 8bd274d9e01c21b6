/* drover under systemd, without systemd: a NOTIFY_SOCKET the test binds
 * (a path, and an abstract name) receives what a service manager would,
 * and systemd-socket-activate (Debian's systemd package) hands drover its
 * listening sockets the way a socket unit does. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/e2e/client.h"
#include "tests/e2e/harness.h"

static char *addr_of(int port)
{
    return e2e_fmt("127.0.0.1:%d", port);
}

/* ---- a fake service manager's notify socket ---- */

/* A datagram socket at path, or at the abstract name after a leading '@'. */
static int notify_bind(const char *name)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    size_t len = strlen(name);
    socklen_t slen;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    ASSERT(fd >= 0 && len < sizeof(sun.sun_path));
    memcpy(sun.sun_path, name, len);
    if (name[0] == '@') {
        sun.sun_path[0] = '\0';
        slen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
    } else {
        slen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
    }
    ASSERT(bind(fd, (struct sockaddr *)&sun, slen) == 0, "bind %s: %s", name, strerror(errno));
    return fd;
}

/* The next datagram within timeout_ms, or NULL. */
static char *notify_next(int fd, int timeout_ms)
{
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    char buf[1024];
    ssize_t n;

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    n = recv(fd, buf, sizeof(buf) - 1, 0);
    if (n <= 0)
        return NULL;
    buf[n] = '\0';
    return e2e_fmt("%s", buf);
}

/* Datagrams until one holding state ("READY=1\n" at a line start); the
 * STATUS= updates between are skipped. Fails the test after timeout_ms,
 * or when another state comes first. */
static char *notify_wait(int fd, const char *state, int timeout_ms)
{
    long long end = e2e_now_ms() + timeout_ms;
    static const char *const states[] = {"READY=1", "RELOADING=1", "STOPPING=1"};

    for (;;) {
        int left = (int)(end - e2e_now_ms());
        char *m = left > 0 ? notify_next(fd, left) : NULL;

        ASSERT(m != NULL, "no %s within %dms", state, timeout_ms);
        e2e_log("notify: %s", m);
        if (strncmp(m, state, strlen(state)) == 0)
            return m;
        for (size_t i = 0; i < 3; i++)
            ASSERT(strncmp(m, states[i], strlen(states[i])) != 0, "%s came before %s: %s", states[i], state, m);
    }
}

static uint64_t monotonic_usec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* RELOADING=1 carries MONOTONIC_USEC of this moment (the same clock). */
static void assert_reloading(const char *m)
{
    const char *u = strstr(m, "\nMONOTONIC_USEC=");
    uint64_t now = monotonic_usec(), t;

    ASSERT(u != NULL, "RELOADING=1 without MONOTONIC_USEC: %s", m);
    t = strtoull(u + 16, NULL, 10);
    ASSERT(t <= now && now - t < 5000000u, "MONOTONIC_USEC=%" PRIu64 " is not now (%" PRIu64 ")", t, now);
}

/* drover run ARGS with NOTIFY_SOCKET=name. */
static struct e2e_proc *drover_notified(const char *name, char *const argv[])
{
    char *env[] = {e2e_fmt("NOTIFY_SOCKET=%s", name), NULL};

    return e2e_spawn("drover", argv, env);
}

/* READY=1 only once the routed type has an instance up: this web takes a
 * second to start, and drover logs "web.1 ready" before it says READY.
 * Then SIGHUP: RELOADING=1 (MONOTONIC_USEC), READY=1; SIGTERM: STOPPING=1. */
E2E_TEST(notify_ready_reloading_stopping_in_order, 40)
{
    int dp = e2e_free_port(), base = e2e_free_base(1, 2);
    char *dir = e2e_app_dir(e2e_fmt("web: sleep 1; echo \"instance sees NOTIFY_SOCKET=${NOTIFY_SOCKET:-unset}\"; "
                                    "exec %s\n",
                                    e2e_backend_bin),
                            e2e_fmt("listen: 127.0.0.1:%d\nadmin: {listen: off}\nlog: {access: off}\n"
                                    "app: {base_port: %d}\nprocesses:\n  web:\n    ready: {path: /}\n",
                                    dp, base));
    char *sock = e2e_fmt("%s/notify.sock", e2e_dir());
    int fd = notify_bind(sock);
    char *argv[] = {(char *)e2e_drover_bin, "run", "-d", dir, NULL};
    struct e2e_proc *d = drover_notified(sock, argv);
    struct http_resp r;
    char *m;

    m = notify_wait(fd, "READY=1", 15000);
    ASSERT(strstr(e2e_log_of(d), "web.1 ready") != NULL, "READY=1 before the web type was ready");
    ASSERT(strstr(m, "\nSTATUS=serving 1/1 web, ") != NULL, "a STATUS= a person can read: %s", m);
    http_get(addr_of(dp), "/", &r);
    ASSERT(r.status == 200, "READY=1 but not serving: %d", r.status);
    resp_free(&r);

    kill(d->pid, SIGHUP);
    assert_reloading(notify_wait(fd, "RELOADING=1", 5000));
    m = notify_wait(fd, "READY=1", 5000);
    ASSERT(strstr(m, "STATUS=serving 1/1 web") != NULL, "%s", m);

    kill(d->pid, SIGTERM);
    m = notify_wait(fd, "STOPPING=1", 5000);
    ASSERT(strstr(m, "STATUS=draining") != NULL, "%s", m);
    e2e_drover_stop(d);
    ASSERT(strstr(e2e_log_of(d), "instance sees NOTIFY_SOCKET=unset") != NULL,
           "the instances must not get drover's NOTIFY_SOCKET");
    close(fd);
}

/* The same protocol to an abstract socket ('@name'); a reload refused
 * still ends with READY=1 and says why in STATUS=. */
E2E_TEST(notify_to_an_abstract_socket, 30)
{
    int bp = e2e_free_port(), dp = e2e_free_port();
    char *name = e2e_fmt("@drover-e2e-notify-%d", (int)getpid());
    int fd = notify_bind(name);
    char *conf = e2e_fmt("listen: 127.0.0.1:%d\nadmin: {listen: off}\nlog: {access: off}\n"
                         "routes:\n  - path: /\n    backends: [127.0.0.1:%d]\n",
                         dp, bp);
    char *file = e2e_write_file("drover.yaml", conf);
    char *argv[] = {(char *)e2e_drover_bin, "run", "-c", file, NULL};
    struct e2e_proc *d;
    char *m;

    e2e_backend("a", bp);
    d = drover_notified(name, argv);
    m = notify_wait(fd, "READY=1", 10000);
    ASSERT(strstr(m, "STATUS=serving, 0 connections") != NULL, "static routes: nothing to wait for: %s", m);
    e2e_write_file("drover.yaml", e2e_fmt("%stimeouts: {conect: 1s}\n", conf));
    kill(d->pid, SIGHUP);
    assert_reloading(notify_wait(fd, "RELOADING=1", 5000));
    m = notify_wait(fd, "READY=1", 5000);
    ASSERT(strstr(m, "STATUS=reload failed, the old configuration runs on: ") != NULL &&
               strstr(m, "unknown key \"conect\"") != NULL,
           "%s", m);
    kill(d->pid, SIGTERM);
    notify_wait(fd, "STOPPING=1", 5000);
    e2e_drover_stop(d);
    close(fd);
}

/* ---- socket activation ---- */

static bool have_socket_activate(void)
{
    if (access("/usr/bin/systemd-socket-activate", X_OK) == 0)
        return true;
    e2e_log("SKIPPED: no /usr/bin/systemd-socket-activate (Debian package systemd; scripts/deps.sh installs it)");
    return false;
}

/* GET / on addr: the X-Backend that answered. */
static char *served_by(const char *addr)
{
    struct http_resp r;
    char *who;

    http_get(addr, "/", &r);
    ASSERT(r.status == 200, "status %d", r.status);
    who = e2e_fmt("%s", resp_header(&r, "X-Backend") ? resp_header(&r, "X-Backend") : "?");
    resp_free(&r);
    return who;
}

/* `listen: systemd`: drover binds nothing; the socket systemd-socket-
 * activate made (and execs drover on) serves, and a SIGHUP reload keeps
 * it while the new routes apply. A reload that drops the entry stops
 * serving it but keeps the socket (connections wait in its backlog), and
 * one that brings it back serves them. */
E2E_TEST(socket_activation_serves_and_a_reload_keeps_the_socket, 30)
{
    int b1 = e2e_free_port(), b2 = e2e_free_port(), dp = e2e_free_port(), ap = e2e_free_port();
    int other = e2e_free_port();
    const char *head = "listen: systemd\nlog: {access: off}\n";
    char *file, *argv[8];
    struct e2e_proc *d;
    struct http_resp r;
    struct client *c;

    if (!have_socket_activate())
        return;
    e2e_backend("one", b1);
    e2e_backend("two", b2);
    file = e2e_write_file("drover.yaml", e2e_fmt("%sadmin: {listen: 127.0.0.1:%d}\nroutes:\n  - path: /\n"
                                                 "    backends: [127.0.0.1:%d]\n",
                                                 head, ap, b1));
    argv[0] = "/usr/bin/systemd-socket-activate";
    argv[1] = "-l";
    argv[2] = addr_of(dp);
    argv[3] = (char *)e2e_drover_bin;
    argv[4] = "run";
    argv[5] = "-c";
    argv[6] = file;
    argv[7] = NULL;
    d = e2e_spawn("drover", argv, NULL);
    e2e_wait_listening(addr_of(dp), 5000, d);
    /* The first connection makes it exec drover, which then accepts it. */
    ASSERT(strcmp(served_by(addr_of(dp)), "one") == 0);
    e2e_wait_log(d, e2e_fmt("listening on systemd: 127.0.0.1:%d (passed by systemd)", dp), 3000);
    http_get(addr_of(ap), "/status", &r);
    ASSERT(r.status == 200 && strstr(r.body, "\"listen\":[\"systemd\"]") != NULL, "%s", r.body);
    resp_free(&r);

    e2e_write_file("drover.yaml", e2e_fmt("%sadmin: {listen: 127.0.0.1:%d}\nroutes:\n  - path: /\n"
                                          "    backends: [127.0.0.1:%d]\n",
                                          head, ap, b2));
    kill(d->pid, SIGHUP);
    e2e_wait_log(d, "reload: ", 3000);
    for (int i = 0; i < 4; i++)
        ASSERT(strcmp(served_by(addr_of(dp)), "two") == 0, "the reload did not apply through the socket");
    ASSERT(strstr(e2e_log_of(d), "cannot listen") == NULL);

    e2e_write_file("drover.yaml", e2e_fmt("listen: 127.0.0.1:%d\nlog: {access: off}\nadmin: {listen: 127.0.0.1:%d}\n"
                                          "routes:\n  - path: /\n    backends: [127.0.0.1:%d]\n",
                                          other, ap, b2));
    kill(d->pid, SIGHUP);
    e2e_wait_listening(addr_of(other), 3000, d);
    c = client_open(addr_of(dp));
    client_send_str(c, "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT(client_read(c, &r, false, 500) != 0, "served through a socket no longer listed");
    e2e_write_file("drover.yaml", e2e_fmt("%sadmin: {listen: 127.0.0.1:%d}\nroutes:\n  - path: /\n"
                                          "    backends: [127.0.0.1:%d]\n",
                                          head, ap, b1));
    kill(d->pid, SIGHUP);
    ASSERT(client_read(c, &r, false, 3000) == 0 && r.status == 200, "the passed socket was lost in the reloads");
    ASSERT(strcmp(resp_header(&r, "X-Backend"), "one") == 0);
    resp_free(&r);
    client_close(c);
    ASSERT(strcmp(served_by(addr_of(dp)), "one") == 0);
    e2e_drover_stop(d);
}

/* A config listening on listen, routing to 127.0.0.1:bp. */
static char *named_conf(const char *listen, int bp)
{
    return e2e_fmt("listen: %s\nadmin: {listen: off}\nlog: {access: off}\nroutes:\n  - path: /\n"
                   "    backends: [127.0.0.1:%d]\n",
                   listen, bp);
}

/* `systemd:NAME` takes only the sockets named NAME (--fdname, a socket
 * unit's FileDescriptorName=); a reload that adds the other name starts
 * serving it, and a name nobody passed stops the start with its reason. */
E2E_TEST(socket_activation_by_name, 30)
{
    int bp = e2e_free_port(), pub = e2e_free_port(), in = e2e_free_port();
    char *file, *argv[10];
    struct e2e_proc *d;
    struct client *c;
    struct http_resp r;

    if (!have_socket_activate())
        return;
    e2e_backend("a", bp);
    file = e2e_write_file("drover.yaml", named_conf("[systemd:public]", bp));
    argv[0] = "/usr/bin/systemd-socket-activate";
    argv[1] = "-l";
    argv[2] = addr_of(pub);
    argv[3] = "-l";
    argv[4] = addr_of(in);
    argv[5] = "--fdname=public:internal";
    argv[6] = (char *)e2e_drover_bin;
    argv[7] = "run";
    argv[8] = e2e_fmt("-c%s", file);
    argv[9] = NULL;
    d = e2e_spawn("drover", argv, NULL);
    e2e_wait_listening(addr_of(pub), 5000, d);
    ASSERT(strcmp(served_by(addr_of(pub)), "a") == 0);
    e2e_wait_log(d, e2e_fmt("listening on systemd:public: 127.0.0.1:%d", pub), 3000);
    /* Passed, but not named in listen: nobody accepts there. */
    c = client_open(addr_of(in));
    client_send_str(c, "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT(client_read(c, &r, false, 600) != 0, "systemd:public served the socket named internal");
    client_close(c);

    e2e_write_file("drover.yaml", named_conf("[systemd:public, systemd:internal]", bp));
    kill(d->pid, SIGHUP);
    e2e_wait_log(d, e2e_fmt("listening on systemd:internal: 127.0.0.1:%d", in), 3000);
    ASSERT(strcmp(served_by(addr_of(in)), "a") == 0);
    ASSERT(strcmp(served_by(addr_of(pub)), "a") == 0);

    e2e_write_file("drover.yaml", named_conf("[systemd:public, systemd:nope]", bp));
    kill(d->pid, SIGHUP);
    e2e_wait_log(d, "systemd passed no socket named \"nope\" (LISTEN_FDNAMES: public, internal)", 3000);
    ASSERT(strcmp(served_by(addr_of(pub)), "a") == 0, "a refused reload keeps what runs");
    e2e_drover_stop(d);
}

/* Without socket activation, `listen: systemd` is a start-up error that
 * says so (exit 1), not a drover listening nowhere. */
E2E_TEST(listen_systemd_without_sockets_fails_to_start, 15)
{
    char *file = e2e_write_file("drover.yaml", "listen: systemd\nadmin: {listen: off}\n"
                                               "routes:\n  - path: /\n    backends: [127.0.0.1:9]\n");
    char *argv[] = {(char *)e2e_drover_bin, "run", "-c", file, NULL};
    struct e2e_proc *d = e2e_spawn("drover", argv, NULL);
    int status = e2e_stop(d, 0, 5000);

    ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 1, "status %#x", status);
    ASSERT(strstr(e2e_log_of(d), "cannot listen on systemd: systemd passed no sockets (LISTEN_FDS is not set)") !=
               NULL,
           "%s", e2e_log_of(d));
}
