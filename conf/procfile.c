/* conf/procfile.c: a Procfile, "TYPE: command" lines, as Foreman and
 * Heroku read them: # comments and blank lines, CRLF, a byte order mark;
 * the command is kept exactly as written (it runs under /bin/sh -c). */
#include "conf/formation.h"

#include <stdlib.h>
#include <string.h>

#include "conf/internal.h"
#include "lib/arena.h"

/* One trimmed, non-blank, non-comment line [S, E) into f->types. */
static int procfile_line(const char *path, int lineno, const char *s, const char *e, const char *dir,
                         struct formation *f, char *err, size_t errlen)
{
    const char *colon = memchr(s, ':', (size_t)(e - s)), *ne, *c;
    struct formation_type *t;
    char buf[80], *name;

    if (colon == NULL)
        return formation_error(err, errlen, "%s:%d: expected \"TYPE: command\", got \"%s\"", path, lineno,
                               formation_shorten(s, (size_t)(e - s), buf, sizeof(buf)));
    for (ne = colon; ne > s && conf_is_blank(ne[-1]); ne--)
        ;
    if (ne == s)
        return formation_error(err, errlen, "%s:%d: missing process type before \":\"", path, lineno);
    for (const char *q = s; q < ne; q++)
        if (!conf_type_char((unsigned char)*q))
            return formation_error(err, errlen, "%s:%d: invalid process type name \"%s\"; use letters (A-Z, a-z), "
                                   "digits, \"_\" and \"-\"", path, lineno,
                                   formation_shorten(s, (size_t)(ne - s), buf, sizeof(buf)));
    if (ne - s > FORMATION_MAX_TYPE_NAME)
        return formation_error(err, errlen, "%s:%d: process type name \"%s\" is too long (over %d characters)",
                               path, lineno, formation_shorten(s, (size_t)(ne - s), buf, sizeof(buf)),
                               FORMATION_MAX_TYPE_NAME);
    if ((name = arena_strndup(f->arena, s, (size_t)(ne - s))) == NULL)
        return formation_error(err, errlen, "out of memory");
    for (c = colon + 1; c < e && conf_is_blank(*c); c++)
        ;
    if (c == e)
        return formation_error(err, errlen, "%s:%d: process type \"%s\" has no command", path, lineno, name);
    for (size_t i = 0; i < f->ntypes; i++)
        if (strcmp(f->types[i].name, name) == 0)
            return formation_error(err, errlen, "%s:%d: duplicate process type \"%s\" (first on line %d)", path,
                                   lineno, name, f->types[i].line);
    t = &f->types[f->ntypes];
    t->name = name;
    t->command = arena_strndup(f->arena, c, (size_t)(e - c));
    t->dir = (char *)dir;
    t->replicas = -1;
    t->line = lineno;
    if (t->command == NULL)
        return formation_error(err, errlen, "out of memory");
    f->ntypes++;
    return 0;
}

int formation_parse_procfile(const char *path, const char *dir, struct formation *f, char *err, size_t errlen)
{
    struct formation_lines it;
    char *text = NULL, *tdir, reason[CONF_REASON_MAX];
    const char *s, *e;
    size_t len, cap;
    int rc;

    memset(f, 0, sizeof(*f));
    if (formation_read(path, &text, &len, err, errlen) < 0)
        return -1;
    cap = formation_lines_start(&it, text, len);
    if ((f->arena = arena_new()) == NULL || (f->types = arena_alloc(f->arena, cap * sizeof(*f->types))) == NULL ||
        (f->file = formation_absolute(f->arena, path)) == NULL ||
        (tdir = formation_types_dir(f->arena, dir, f->file)) == NULL) {
        formation_error(err, errlen, "%s: out of memory", path);
        goto fail;
    }
    f->is_procfile = true;
    while ((rc = formation_lines_next(&it, &s, &e, reason, sizeof(reason))) > 0)
        if (procfile_line(path, it.lineno, s, e, tdir, f, err, errlen) < 0)
            goto fail;
    if (rc < 0) {
        formation_error(err, errlen, "%s:%d: %s", path, it.lineno, reason);
        goto fail;
    }
    if (f->ntypes == 0) {
        formation_error(err, errlen, "%s: no process types", path);
        goto fail;
    }
    free(text);
    return 0;

fail:
    free(text);
    formation_free(f);
    return -1;
}
