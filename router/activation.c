/* router/activation.c: the sockets systemd passes (see activation.h).
 * The protocol is three variables and descriptors from 3 on; libsystemd's
 * sd_listen_fds_with_names() is all drover would use of it, so drover
 * reads them itself rather than link a library for it. */
#include "router/activation.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static struct activation_fd passed[ACTIVATION_MAX];
static char problem[ACTIVATION_MAX][96];  /* "": a listening stream socket */
static size_t npassed;
static char why_none[160] = "LISTEN_FDS is not set";

static bool digits(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s != '\0'; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

int activation_parse(const char *pid, const char *fds, const char *names, pid_t self,
                     struct activation_fd *out, size_t max, char *why, size_t whylen)
{
    const char *name = names;
    unsigned long n;
    size_t i;

    why[0] = '\0';
    if (fds == NULL) {
        snprintf(why, whylen, "LISTEN_FDS is not set");
        return 0;
    }
    if (pid == NULL) {
        snprintf(why, whylen, "LISTEN_PID is not set");
        return 0;
    }
    if (!digits(pid) || !digits(fds) || strlen(fds) > 6) {
        snprintf(why, whylen, "LISTEN_PID=%.20s LISTEN_FDS=%.20s are not numbers", pid, fds);
        return -1;
    }
    if (strtoul(pid, NULL, 10) != (unsigned long)self) {
        snprintf(why, whylen, "LISTEN_PID=%.20s is not drover's pid %d: the sockets are another process's",
                 pid, (int)self);
        return 0;
    }
    n = strtoul(fds, NULL, 10);
    if (n == 0)
        snprintf(why, whylen, "LISTEN_FDS=0");
    for (i = 0; i < n && i < max; i++) {
        size_t len = name != NULL ? strcspn(name, ":") : 0;

        out[i].fd = ACTIVATION_FDS_START + (int)i;
        if (len == 0 || len >= sizeof(out[i].name))
            snprintf(out[i].name, sizeof(out[i].name), "unknown");
        else
            snprintf(out[i].name, sizeof(out[i].name), "%.*s", (int)len, name);
        if (name != NULL)
            name = name[len] == ':' ? name + len + 1 : NULL;
    }
    return (int)i;
}

/* Why fd cannot be listened on, or "" when it can. */
static void check_socket(int fd, char *why, size_t whylen)
{
    int type = 0, accepting = 0;
    socklen_t len = sizeof(type);
    struct stat st;

    why[0] = '\0';
    if (fstat(fd, &st) < 0)
        snprintf(why, whylen, "is not open (%s)", strerror(errno));
    else if (!S_ISSOCK(st.st_mode))
        snprintf(why, whylen, "is not a socket");
    else if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM)
        snprintf(why, whylen, "is not a stream socket (ListenStream=)");
    else if ((len = sizeof(accepting)),
             getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) < 0 || !accepting)
        snprintf(why, whylen, "is not listening (Accept=no is needed)");
}

int activation_take(void)
{
    int n = activation_parse(getenv("LISTEN_PID"), getenv("LISTEN_FDS"), getenv("LISTEN_FDNAMES"),
                             getpid(), passed, ACTIVATION_MAX, why_none, sizeof(why_none));

    npassed = n > 0 ? (size_t)n : 0;
    for (size_t i = 0; i < npassed; i++) {
        int fd = passed[i].fd, fl;

        check_socket(fd, problem[i], sizeof(problem[i]));
        if (problem[i][0] != '\0')
            continue;
        /* Not for the instances (the shim closes the rest anyway). */
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        if ((fl = fcntl(fd, F_GETFL)) >= 0)
            fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    }
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    return (int)npassed;
}

static bool named(const struct conf_addr *addr, size_t i)
{
    const char *want = conf_addr_fdname(addr);

    return want == NULL || strcmp(passed[i].name, want) == 0;
}

size_t activation_count(const struct conf_addr *addr)
{
    size_t n = 0;

    for (size_t i = 0; i < npassed; i++)
        n += named(addr, i);
    return n;
}

/* The names passed, "a, b", for a message. */
static void names_passed(char *buf, size_t len)
{
    size_t at = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < npassed && at < len; i++)
        at += (size_t)snprintf(buf + at, len - at, "%s%s", i > 0 ? ", " : "", passed[i].name);
}

/* addr's text, with the socket's own address and port. */
static void socket_addr(const struct conf_addr *addr, int fd, struct conf_addr *out)
{
    *out = *addr;
    out->len = sizeof(out->ss);
    memset(&out->ss, 0, sizeof(out->ss));
    if (getsockname(fd, (struct sockaddr *)&out->ss, &out->len) < 0)
        out->len = 0;
    if (out->ss.ss_family == AF_INET)
        out->port = ntohs(((const struct sockaddr_in *)&out->ss)->sin_port);
    else if (out->ss.ss_family == AF_INET6)
        out->port = ntohs(((const struct sockaddr_in6 *)&out->ss)->sin6_port);
    else
        out->port = 0;
}

int activation_dup(const struct conf_addr *addr, int *fds, struct conf_addr *addrs, size_t max,
                   char *err, size_t errlen)
{
    char names[512];
    size_t n = 0;

    if (npassed == 0) {
        snprintf(err, errlen, "cannot listen on %s: systemd passed no sockets (%s)", addr->text, why_none);
        return -1;
    }
    for (size_t i = 0; i < npassed; i++) {
        if (!named(addr, i))
            continue;
        if (problem[i][0] != '\0' || n == max) {
            snprintf(err, errlen, "cannot listen on %s: the socket passed as fd %d (%s) %s", addr->text,
                     passed[i].fd, passed[i].name, n == max ? "is one too many" : problem[i]);
            goto fail;
        }
        fds[n] = fcntl(passed[i].fd, F_DUPFD_CLOEXEC, 0);
        if (fds[n] < 0) {
            snprintf(err, errlen, "cannot listen on %s: fd %d: %s", addr->text, passed[i].fd, strerror(errno));
            goto fail;
        }
        socket_addr(addr, fds[n], &addrs[n]);
        n++;
    }
    if (n == 0) {
        names_passed(names, sizeof(names));
        snprintf(err, errlen, "cannot listen on %s: systemd passed no socket named \"%s\" (LISTEN_FDNAMES: %s)",
                 addr->text, conf_addr_fdname(addr), names);
        return -1;
    }
    return (int)n;
fail:
    while (n-- > 0)
        close(fds[n]);
    return -1;
}

const char *activation_describe(const struct conf_addr *addr, char *buf, size_t len)
{
    char host[NI_MAXHOST];

    if (addr->ss.ss_family == AF_UNIX)
        snprintf(buf, len, "unix:%s", ((const struct sockaddr_un *)&addr->ss)->sun_path);
    else if (addr->len == 0 ||
             getnameinfo((const struct sockaddr *)&addr->ss, addr->len, host, sizeof(host), NULL, 0,
                         NI_NUMERICHOST) != 0)
        snprintf(buf, len, "an unknown address");
    else
        snprintf(buf, len, addr->ss.ss_family == AF_INET6 ? "[%s]:%d" : "%s:%d", host, addr->port);
    return buf;
}
