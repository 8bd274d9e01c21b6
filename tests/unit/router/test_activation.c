/* router/activation: LISTEN_PID / LISTEN_FDS / LISTEN_FDNAMES as systemd
 * sets them, and the passed sockets themselves: a forked child puts real
 * sockets on descriptors 3, 4 and 5 (where systemd puts them; the test
 * process's own descriptors there belong to Criterion) and reports what
 * it found through a pipe. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "router/activation.h"

static struct activation_fd out[ACTIVATION_MAX];
static char why[256];

Test(activation, names_in_order_unknown_when_missing)
{
    cr_assert_eq(activation_parse("42", "3", "web:admin", 42, out, ACTIVATION_MAX, why, sizeof(why)), 3);
    cr_assert_eq(out[0].fd, 3);
    cr_assert_str_eq(out[0].name, "web");
    cr_assert_eq(out[1].fd, 4);
    cr_assert_str_eq(out[1].name, "admin");
    cr_assert_eq(out[2].fd, 5);
    cr_assert_str_eq(out[2].name, "unknown", "sd_listen_fds_with_names' word for a nameless one");
    cr_assert_eq(activation_parse("42", "2", NULL, 42, out, ACTIVATION_MAX, why, sizeof(why)), 2);
    cr_assert_str_eq(out[1].name, "unknown");
    cr_assert_eq(activation_parse("42", "2", ":b", 42, out, ACTIVATION_MAX, why, sizeof(why)), 2);
    cr_assert_str_eq(out[0].name, "unknown");
    cr_assert_str_eq(out[1].name, "b");
}

Test(activation, another_process_s_sockets_are_not_taken)
{
    cr_assert_eq(activation_parse("41", "2", "a:b", 42, out, ACTIVATION_MAX, why, sizeof(why)), 0);
    cr_assert_str_eq(why, "LISTEN_PID=41 is not drover's pid 42: the sockets are another process's");
    cr_assert_eq(activation_parse(NULL, "2", NULL, 42, out, ACTIVATION_MAX, why, sizeof(why)), 0);
    cr_assert_str_eq(why, "LISTEN_PID is not set");
    cr_assert_eq(activation_parse(NULL, NULL, NULL, 42, out, ACTIVATION_MAX, why, sizeof(why)), 0);
    cr_assert_str_eq(why, "LISTEN_FDS is not set");
}

Test(activation, malformed_values)
{
    cr_assert_eq(activation_parse("42", "two", NULL, 42, out, ACTIVATION_MAX, why, sizeof(why)), -1);
    cr_assert_str_eq(why, "LISTEN_PID=42 LISTEN_FDS=two are not numbers");
    cr_assert_eq(activation_parse("", "1", NULL, 42, out, ACTIVATION_MAX, why, sizeof(why)), -1);
    cr_assert_eq(activation_parse("42", "0", NULL, 42, out, ACTIVATION_MAX, why, sizeof(why)), 0);
    cr_assert_str_eq(why, "LISTEN_FDS=0");
    cr_assert_eq(activation_parse("42", "100", NULL, 42, out, 4, why, sizeof(why)), 4, "at most max");
}

/* ---- in a child, with sockets on 3, 4 and 5 ---- */

static int report_fd = -1;

static void child_fail(const char *fmt, ...)
{
    char line[512];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (write(report_fd, line, (size_t)n) < 0)
        _exit(3);
    _exit(1);
}

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            child_fail("line %d: %s: " __VA_ARGS__, __LINE__, #cond);                              \
    } while (0)

static struct conf_addr entry(const char *text)
{
    struct conf_addr a;

    memset(&a, 0, sizeof(a));
    snprintf(a.text, sizeof(a.text), "%s", text);
    a.systemd = true;
    return a;
}

static void child(const char *unix_path)
{
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    socklen_t len = sizeof(in);
    struct conf_addr all = entry("systemd"), web = entry("systemd:web"), udp = entry("systemd:udp"),
                     nope = entry("systemd:nope"), addrs[ACTIVATION_MAX];
    int tcp = socket(AF_INET, SOCK_STREAM, 0), unx = socket(AF_UNIX, SOCK_STREAM, 0),
        dgram = socket(AF_INET, SOCK_DGRAM, 0), fds[ACTIVATION_MAX], port, client;
    char err[512], pid[16];

    snprintf(un.sun_path, sizeof(un.sun_path), "%s", unix_path);
    CHECK(bind(tcp, (struct sockaddr *)&in, sizeof(in)) == 0 && listen(tcp, 8) == 0);
    CHECK(getsockname(tcp, (struct sockaddr *)&in, &len) == 0);
    port = ntohs(in.sin_port);
    CHECK(bind(unx, (struct sockaddr *)&un, sizeof(un)) == 0 && listen(unx, 8) == 0);
    CHECK(dup2(tcp, 3) == 3 && dup2(unx, 4) == 4 && dup2(dgram, 5) == 5);
    close(tcp);
    close(unx);
    close(dgram);
    snprintf(pid, sizeof(pid), "%d", (int)getpid());
    setenv("LISTEN_PID", pid, 1);
    setenv("LISTEN_FDS", "3", 1);
    setenv("LISTEN_FDNAMES", "web:admin:udp", 1);

    CHECK(activation_take() == 3);
    CHECK(getenv("LISTEN_PID") == NULL && getenv("LISTEN_FDS") == NULL && getenv("LISTEN_FDNAMES") == NULL,
          "the instances must not see them");
    CHECK((fcntl(3, F_GETFD) & FD_CLOEXEC) && (fcntl(4, F_GETFD) & FD_CLOEXEC), "close-on-exec");
    CHECK((fcntl(3, F_GETFL) & O_NONBLOCK) && (fcntl(4, F_GETFL) & O_NONBLOCK), "non-blocking");
    CHECK(activation_count(&all) == 3 && activation_count(&web) == 1 && activation_count(&nope) == 0);

    CHECK(activation_dup(&web, fds, addrs, ACTIVATION_MAX, err, sizeof(err)) == 1, "%s", err);
    CHECK(fds[0] > 5 && (fcntl(fds[0], F_GETFD) & FD_CLOEXEC), "a new descriptor: %d", fds[0]);
    CHECK(strcmp(addrs[0].text, "systemd:web") == 0 && addrs[0].systemd, "%s", addrs[0].text);
    CHECK(addrs[0].port == port && addrs[0].ss.ss_family == AF_INET, "port %d, not %d", addrs[0].port, port);
    CHECK(strncmp(activation_describe(&addrs[0], err, sizeof(err)), "127.0.0.1:", 10) == 0 &&
          atoi(err + 10) == port, "%s", err);
    client = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(connect(client, (struct sockaddr *)&in, sizeof(in)) == 0);
    CHECK(accept(fds[0], NULL, NULL) >= 0, "the duplicate accepts: %s", strerror(errno));
    close(fds[0]);
    CHECK(fcntl(3, F_GETFD) >= 0, "the passed socket stays open for a later reload");

    CHECK(activation_dup(&udp, fds, addrs, ACTIVATION_MAX, err, sizeof(err)) == -1);
    CHECK(strcmp(err, "cannot listen on systemd:udp: the socket passed as fd 5 (udp) is not a stream socket "
                      "(ListenStream=)") == 0, "%s", err);
    CHECK(activation_dup(&all, fds, addrs, ACTIVATION_MAX, err, sizeof(err)) == -1, "the udp one is in it");
    CHECK(activation_dup(&nope, fds, addrs, ACTIVATION_MAX, err, sizeof(err)) == -1);
    CHECK(strcmp(err, "cannot listen on systemd:nope: systemd passed no socket named \"nope\" "
                      "(LISTEN_FDNAMES: web, admin, udp)") == 0, "%s", err);
    CHECK(activation_dup(&all, fds, addrs, 1, err, sizeof(err)) == -1, "more than max");
    if (write(report_fd, "ok", 2) != 2)
        _exit(3);
    _exit(0);
}

Test(activation, passed_sockets_taken_checked_and_duplicated)
{
    char path[64], got[600] = "";
    int p[2], status;
    ssize_t n;
    pid_t pid;

    snprintf(path, sizeof(path), "/tmp/drover-activation-%d.sock", (int)getpid());
    unlink(path);
    cr_assert_eq(pipe(p), 0);
    pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        report_fd = fcntl(p[1], F_DUPFD, 50);
        close(p[1]);
        child(path);
    }
    close(p[1]);
    n = read(p[0], got, sizeof(got) - 1);
    close(p[0]);
    waitpid(pid, &status, 0);
    unlink(path);
    got[n > 0 ? n : 0] = '\0';
    cr_assert_str_eq(got, "ok");
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

Test(activation, nothing_passed)
{
    struct conf_addr all = entry("systemd");
    struct conf_addr addrs[1];
    char err[256];
    int fds[1];

    unsetenv("LISTEN_FDS");
    cr_assert_eq(activation_take(), 0);
    cr_assert_eq(activation_count(&all), 0);
    cr_assert_eq(activation_dup(&all, fds, addrs, 1, err, sizeof(err)), -1);
    cr_assert_str_eq(err, "cannot listen on systemd: systemd passed no sockets (LISTEN_FDS is not set)");
}
