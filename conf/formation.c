/* conf/formation.c: which file holds an app's formation (formation_load),
 * freeing one, and what the formation parsers share: errors, reading a
 * file, paths, the environment rule and the walk over a line-based file.
 *
 * The parsers stop at the first mistake and say where it is: "file:line:"
 * for a Procfile or a .env file, "file:line:col:" for app_desc.yaml. A
 * formation is a handful of lines; one precise message is worth more than
 * a list. Everything a formation points to lives in its arena, so
 * formation_free() is one call. */
#include "conf/formation.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conf/internal.h"
#include "lib/arena.h"
#include "lib/path.h"
#include "lib/readfile.h"

#define MAX_LINE_BYTES (64u * 1024)

int formation_error(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err != NULL && errlen > 0) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int formation_read(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
    char reason[CONF_REASON_MAX];

    if (read_whole_file(path, CONF_MAX_FILE_BYTES, text, len, reason, sizeof(reason)) == 0)
        return 0;
    return formation_error(err, errlen, "%s: %s", path, reason);
}

const char *formation_shorten(const char *s, size_t n, char *buf, size_t len)
{
    size_t keep = n;

    if (keep > 60) {
        keep = 60;
        while (keep > 0 && ((unsigned char)s[keep] & 0xC0) == 0x80)
            keep--;
    }
    snprintf(buf, len, "%.*s%s", (int)keep, s, keep < n ? "..." : "");
    return buf;
}

char *formation_absolute(struct arena *a, const char *path)
{
    char buf[PATH_MAX];

    /* An absolute path is kept as written: it is what messages show. */
    if (path[0] == '/' || path_abs(NULL, path, buf, sizeof(buf)) < 0)
        return arena_strdup(a, path);
    return arena_strdup(a, buf);
}

char *formation_types_dir(struct arena *a, const char *dir, const char *abs_file)
{
    char buf[PATH_MAX];

    if (dir != NULL)
        return arena_strdup(a, dir);
    if (path_dir(abs_file, buf, sizeof(buf)) < 0)
        return NULL;
    return arena_strdup(a, buf);
}

void formation_env_set(struct conf_kv *env, size_t *n, char *key, char *value)
{
    size_t i;

    for (i = 0; i < *n && strcmp(env[i].key, key) != 0; i++)
        ;
    env[i].key = key;
    env[i].value = value;
    if (i == *n)
        (*n)++;
}

size_t formation_lines_start(struct formation_lines *it, const char *text, size_t len)
{
    size_t lines = 1;

    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    it->p = text;
    it->end = text + len;
    it->lineno = 0;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        it->p += 3;
    return lines;
}

int formation_lines_next(struct formation_lines *it, const char **sp, const char **ep, char *reason, size_t rlen)
{
    while (it->p < it->end) {
        const char *nl = memchr(it->p, '\n', (size_t)(it->end - it->p));
        const char *s = it->p, *e = nl != NULL ? nl : it->end;

        it->p = nl != NULL ? nl + 1 : it->end;
        it->lineno++;
        if ((size_t)(e - s) > MAX_LINE_BYTES) {
            snprintf(reason, rlen, "line too long (over %u KiB)", MAX_LINE_BYTES >> 10);
            return -1;
        }
        if (memchr(s, '\0', (size_t)(e - s)) != NULL) {
            snprintf(reason, rlen, "contains a NUL byte");
            return -1;
        }
        if (e > s && e[-1] == '\r')
            e--;
        while (s < e && conf_is_blank(*s))
            s++;
        while (e > s && conf_is_blank(e[-1]))
            e--;
        if (s == e || *s == '#')
            continue;
        *sp = s;
        *ep = e;
        return 1;
    }
    return 0;
}

static bool yaml_name(const char *path)
{
    size_t n = strlen(path);

    return (n >= 5 && strcmp(path + n - 5, ".yaml") == 0) || (n >= 4 && strcmp(path + n - 4, ".yml") == 0);
}

int formation_load(const char *dir, const char *procfile, struct formation *f, char *err, size_t errlen)
{
    char pf[PATH_MAX], ad[PATH_MAX];
    const char *sep = dir[0] != '\0' && dir[strlen(dir) - 1] == '/' ? "" : "/";
    struct stat st;
    bool has_pf, has_ad;

    memset(f, 0, sizeof(*f));
    if (procfile != NULL)
        return yaml_name(procfile) ? formation_parse_app_desc(procfile, dir, f, err, errlen)
                                   : formation_parse_procfile(procfile, dir, f, err, errlen);
    if (snprintf(pf, sizeof(pf), "%s%sProcfile", dir, sep) >= (int)sizeof(pf) ||
        snprintf(ad, sizeof(ad), "%s%sapp_desc.yaml", dir, sep) >= (int)sizeof(ad))
        return formation_error(err, errlen, "%s: path too long", dir);
    /* lstat: a dangling Procfile symlink is reported, not skipped. */
    has_pf = lstat(pf, &st) == 0;
    has_ad = lstat(ad, &st) == 0;
    if (!has_pf && !has_ad)
        return formation_error(err, errlen, "%s: no Procfile or app_desc.yaml", dir);
    if (!has_pf)
        return formation_parse_app_desc(ad, dir, f, err, errlen);
    if (formation_parse_procfile(pf, dir, f, err, errlen) < 0)
        return -1;
    if (has_ad && (f->ignored = arena_strdup(f->arena, ad)) == NULL) {
        formation_free(f);
        return formation_error(err, errlen, "out of memory");
    }
    return 0;
}

void formation_free(struct formation *f)
{
    if (f == NULL)
        return;
    arena_free(f->arena);
    memset(f, 0, sizeof(*f));
}
