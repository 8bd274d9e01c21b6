/* Reading a small file (a config, a Procfile, a .env) whole. */
#ifndef DROVER_LIB_READFILE_H
#define DROVER_LIB_READFILE_H

#include <stddef.h>

/* The whole of path in *text (malloc'd, NUL-terminated; *len bytes before
 * the NUL), refusing files over max bytes. 0, or -1 with a reason without
 * the path ("cannot read: No such file or directory", "file too large (over
 * 4M)") in reason. */
int read_whole_file(const char *path, size_t max, char **text, size_t *len, char *reason,
                    size_t rlen);

#endif
