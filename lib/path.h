/* File paths worked out as text: the config's and the formation's paths
 * may not exist yet, so nothing here touches the file system except
 * path_abs() asking for the current directory. */
#ifndef DROVER_LIB_PATH_H
#define DROVER_LIB_PATH_H

#include <stddef.h>

/* Cleans the absolute PATH in place, like Go's filepath.Clean: "//", "/./"
 * and "x/.." go away, and so does a trailing '/'; "/.." is "/". Symlinks
 * are not resolved. */
void path_clean(char *path);

/* PATH made absolute against DIR (the current directory when DIR is NULL)
 * and cleaned, into OUT. An absolute PATH ignores DIR. 0, or -1 when the
 * result does not fit in LEN bytes or the current directory is unknown. */
int path_abs(const char *dir, const char *path, char *out, size_t len);

/* The directory part of PATH into OUT: "." without a '/', "/" for a file
 * in the root. 0, or -1 when it does not fit in LEN bytes. */
int path_dir(const char *path, char *out, size_t len);

/* What follows PATH's last '/' (all of PATH without one). */
const char *path_base(const char *path);

#endif
