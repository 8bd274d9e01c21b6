/* router/listener: binding (the unix socket rule) and accepting, the two
 * things the admin API shares with the router's listeners. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "router/listener.h"

static struct conf_addr addr_of(const char *text)
{
    struct conf_addr a;
    char err[256];

    cr_assert_eq(conf_parse_addr(text, &a, err, sizeof(err)), 0, "%s", err);
    return a;
}

Test(listener, a_unix_path_is_taken_over_when_stale_and_refused_when_live)
{
    char text[128], err[256] = "", want[256];
    struct conf_addr a;
    struct stat st;
    int fd, again;

    snprintf(text, sizeof(text), "unix:/tmp/drover-listener-%d.sock", (int)getpid());
    a = addr_of(text);
    unlink(text + 5);
    fd = listener_bind(&a, false, err, sizeof(err));
    cr_assert(fd >= 0, "%s", err);
    again = listener_bind(&a, false, err, sizeof(err));
    cr_assert_eq(again, -1, "a live socket is never taken over");
    snprintf(want, sizeof(want), "cannot listen on %s: another process accepts connections there",
             text);
    cr_assert_str_eq(err, want);
    close(fd); /* the file stays behind, stale */
    cr_assert_eq(stat(text + 5, &st), 0);
    fd = listener_bind(&a, false, err, sizeof(err));
    cr_assert(fd >= 0, "a stale one is: %s", err);
    close(fd);
    unlink(text + 5);
}

Test(listener, accept_gives_nonblocking_close_on_exec_nodelay_sockets)
{
    struct conf_addr a = addr_of("127.0.0.1:1");
    struct sockaddr_storage peer;
    socklen_t len = sizeof(peer), alen = sizeof(a.ss);
    bool exhausted = true;
    char err[256];
    int lfd, c, fd;

    ((struct sockaddr_in *)&a.ss)->sin_port = 0;
    lfd = listener_bind(&a, false, err, sizeof(err));
    cr_assert(lfd >= 0, "%s", err);
    cr_assert_eq(listener_accept(lfd, &peer, &len, &exhausted), -1, "nothing waits");
    cr_assert_eq(errno, EAGAIN);
    cr_assert(!exhausted);
    getsockname(lfd, (struct sockaddr *)&a.ss, &alen);
    c = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_eq(connect(c, (struct sockaddr *)&a.ss, alen), 0);
    len = sizeof(peer);
    fd = listener_accept(lfd, &peer, &len, &exhausted);
    cr_assert(fd >= 0, "%s", strerror(errno));
    cr_assert(!exhausted);
    cr_assert_eq(peer.ss_family, AF_INET);
    cr_assert(fcntl(fd, F_GETFL) & O_NONBLOCK);
    cr_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    {
        int on = 0;
        socklen_t olen = sizeof(on);

        /* From the listener: conn_accept sets nothing itself. */
        cr_assert_eq(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &olen), 0);
        cr_assert(on, "an accepted socket has TCP_NODELAY");
    }
    close(fd);
    close(c);
    close(lfd);
}

Test(listener, out_of_descriptors_is_told_apart)
{
    struct conf_addr a = addr_of("127.0.0.1:1");
    struct sockaddr_storage peer;
    socklen_t len = sizeof(peer), alen = sizeof(a.ss);
    struct rlimit rl;
    bool exhausted = false;
    char err[256];
    int lfd, c;

    ((struct sockaddr_in *)&a.ss)->sin_port = 0;
    lfd = listener_bind(&a, false, err, sizeof(err));
    cr_assert(lfd >= 0, "%s", err);
    getsockname(lfd, (struct sockaddr *)&a.ss, &alen);
    c = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_eq(connect(c, (struct sockaddr *)&a.ss, alen), 0);
    /* No descriptor left for the accepted socket. */
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = (rlim_t)(c > lfd ? c : lfd) + 1;
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
    cr_assert_eq(listener_accept(lfd, &peer, &len, &exhausted), -1);
    cr_assert_eq(errno, EMFILE);
    cr_assert(exhausted);
    close(c);
    close(lfd);
}
