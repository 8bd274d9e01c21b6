/* lib/path.c: lexical path work for conf/ (see path.h). */
#include "lib/path.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void path_clean(char *path)
{
    const char *p = path;
    size_t o = 0;

    while (*p != '\0') {
        const char *c;
        size_t n;

        while (*p == '/')
            p++;
        if (*p == '\0')
            break;
        for (c = p; *p != '\0' && *p != '/'; p++)
            ;
        n = (size_t)(p - c);
        if (n == 1 && c[0] == '.')
            continue;
        if (n == 2 && c[0] == '.' && c[1] == '.') {
            while (o > 0 && path[o - 1] != '/')
                o--;
            if (o > 0)
                o--;
            continue;
        }
        path[o++] = '/';
        memmove(path + o, c, n); /* o never passes c: each part lost a '/' */
        o += n;
    }
    if (o == 0)
        path[o++] = '/';
    path[o] = '\0';
}

int path_abs(const char *dir, const char *path, char *out, size_t len)
{
    char cwd[PATH_MAX];
    int n;

    if (path[0] == '/') {
        n = snprintf(out, len, "%s", path);
    } else {
        if (dir == NULL) {
            if (getcwd(cwd, sizeof(cwd)) == NULL)
                return -1;
            dir = cwd;
        }
        n = snprintf(out, len, "%s/%s", dir, path);
    }
    if (n < 0 || (size_t)n >= len)
        return -1;
    path_clean(out);
    return 0;
}

int path_dir(const char *path, char *out, size_t len)
{
    const char *slash = strrchr(path, '/');
    int n;

    if (slash == NULL)
        n = snprintf(out, len, ".");
    else if (slash == path)
        n = snprintf(out, len, "/");
    else if ((size_t)(slash - path) < len)
        n = snprintf(out, len, "%.*s", (int)(slash - path), path);
    else
        return -1;
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

const char *path_base(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash != NULL ? slash + 1 : path;
}
