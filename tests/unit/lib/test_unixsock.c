/* lib/unixsock: a stale socket file is removed, a live one never is, and
 * anything else is left for bind() to judge. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/unixsock.h"

static struct sockaddr_un sun;

static void setup(void)
{
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof(sun.sun_path), "/tmp/drover-unixsock-%d.sock", (int)getpid());
    unlink(sun.sun_path);
}

static void teardown(void)
{
    unlink(sun.sun_path);
}

TestSuite(unixsock, .init = setup, .fini = teardown);

static bool exists(void)
{
    struct stat st;

    return lstat(sun.sun_path, &st) == 0;
}

/* A socket bound at the path; listening or not. */
static int bound(bool listening)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    cr_assert(fd >= 0);
    cr_assert_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0, "%s", strerror(errno));
    if (listening)
        cr_assert_eq(listen(fd, 4), 0);
    return fd;
}

Test(unixsock, a_stale_socket_file_is_removed)
{
    char why[128] = "";

    close(bound(true)); /* its listener is gone, the file stays */
    cr_assert(exists());
    cr_assert_eq(unixsock_make_way(&sun, sizeof(sun), why, sizeof(why)), 0);
    cr_assert(!exists());
    cr_assert_str_empty(why);
}

Test(unixsock, a_socket_bound_but_not_listening_is_stale_too)
{
    char why[128] = "";
    int fd = bound(false);

    cr_assert_eq(unixsock_make_way(&sun, sizeof(sun), why, sizeof(why)), 0);
    cr_assert(!exists());
    close(fd);
}

Test(unixsock, a_live_socket_is_refused_and_left_alone)
{
    char why[128] = "";
    int fd = bound(true);

    cr_assert_eq(unixsock_make_way(&sun, sizeof(sun), why, sizeof(why)), -1);
    cr_assert_str_eq(why, "another process accepts connections there");
    cr_assert(exists());
    close(fd);
}

Test(unixsock, a_live_socket_with_a_full_backlog_is_still_live)
{
    char why[128] = "";
    int fd = socket(AF_UNIX, SOCK_STREAM, 0), waiting[8];
    size_t n = 0;

    cr_assert_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
    cr_assert_eq(listen(fd, 0), 0);
    /* Fill the backlog: non-blocking connects then fail with EAGAIN. */
    for (; n < sizeof(waiting) / sizeof(waiting[0]); n++) {
        waiting[n] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (connect(waiting[n], (struct sockaddr *)&sun, sizeof(sun)) < 0) {
            cr_assert_eq(errno, EAGAIN, "%s", strerror(errno));
            close(waiting[n]);
            break;
        }
    }
    cr_assert_lt(n, sizeof(waiting) / sizeof(waiting[0]), "the backlog never filled");
    cr_assert_eq(unixsock_make_way(&sun, sizeof(sun), why, sizeof(why)), -1);
    cr_assert(exists());
    while (n-- > 0)
        close(waiting[n]);
    close(fd);
}

Test(unixsock, a_missing_path_or_a_plain_file_is_left_for_bind)
{
    char why[128] = "";
    int fd;

    cr_assert_eq(unixsock_make_way(&sun, sizeof(sun), why, sizeof(why)), 0);
    fd = open(sun.sun_path, O_CREAT | O_WRONLY, 0600);
    cr_assert(fd >= 0);
    close(fd);
    cr_assert_eq(unixsock_make_way(&sun, sizeof(sun), why, sizeof(why)), 0);
    cr_assert(exists(), "a regular file is not ours to remove");
    cr_assert_str_empty(why);
}
