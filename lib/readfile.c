#include "lib/readfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int read_whole_file(const char *path, size_t max, char **text, size_t *len, char *reason,
                    size_t rlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    size_t n = 0, cap = 4096;
    char *buf = NULL;

    if (fd < 0 || (buf = malloc(cap)) == NULL)
        goto fail;
    for (;;) {
        ssize_t r;

        if (n + 1 == cap) {
            char *bigger;

            if (cap > max) {
                snprintf(reason, rlen, "file too large (over %zuM)", max >> 20);
                goto out;
            }
            if ((bigger = realloc(buf, cap * 2)) == NULL)
                goto fail;
            buf = bigger;
            cap *= 2;
        }
        r = read(fd, buf + n, cap - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            goto fail;
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return 0;
fail:
    snprintf(reason, rlen, "cannot read: %s", strerror(errno));
out:
    free(buf);
    if (fd >= 0)
        close(fd);
    return -1;
}
