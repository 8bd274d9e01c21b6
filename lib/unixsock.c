#include "lib/unixsock.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

int unixsock_make_way(const struct sockaddr_un *sun, socklen_t len, char *why, size_t whylen)
{
    struct stat st;
    int fd, rc = 0;

    if (lstat(sun->sun_path, &st) < 0 || !S_ISSOCK(st.st_mode))
        return 0;
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0; /* cannot tell: bind() will say what is wrong */
    /* A full backlog (EAGAIN) is a listener too. Only a refusal proves the
     * file stale: any other error leaves it for bind(). */
    if (connect(fd, (const struct sockaddr *)sun, len) == 0 || errno == EAGAIN) {
        snprintf(why, whylen, "another process accepts connections there");
        rc = -1;
    } else if (errno == ECONNREFUSED) {
        unlink(sun->sun_path);
    }
    close(fd);
    return rc;
}
