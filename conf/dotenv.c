/* conf/dotenv.c: .env files, the KEY=value lines added to every
 * instance's environment (see formation.h).
 *
 * The accepted syntax is the common core of Foreman, docker compose and
 * python-dotenv, and nothing more:
 *
 *   # a comment line                 blank lines too
 *   KEY=value                        unquoted: trimmed; " #..." ends it
 *   export KEY = value               "export " and blanks around "=" allowed
 *   KEY='literal $ \ # "'            single quotes: no escapes at all
 *   KEY="a\tb\n\"q\" \\ \x"          double quotes: \n \t \" \\; any other
 *                                    backslash is kept as written
 *
 * A quoted value ends on its own line (no multi-line values) and may only
 * be followed by blanks or a # comment. Nothing is expanded: "$HOME" stays
 * "$HOME" (the instance's shell expands what its command mentions). CRLF
 * line ends and a UTF-8 byte order mark are accepted. */
#include "conf/formation.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/arena.h"
#include "lib/readfile.h"

#define DOTENV_MAX_BYTES (4u << 20)
#define DOTENV_MAX_LINE (64u * 1024)

__attribute__((format(printf, 5, 6)))
static int line_error(char *err, size_t errlen, const char *path, int line, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (err == NULL || errlen == 0)
        return -1;
    n = snprintf(err, errlen, "%s:%d: ", path, line);
    if (n >= 0 && (size_t)n < errlen) {
        va_start(ap, fmt);
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int read_all(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
    char reason[256];

    if (read_whole_file(path, DOTENV_MAX_BYTES, text, len, reason, sizeof(reason)) == 0)
        return 0;
    snprintf(err, errlen, "%s: %s", path, reason);
    return -1;
}

static bool blank(int c)
{
    return c == ' ' || c == '\t';
}

static bool name_start(int c)
{
    return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool name_char(int c)
{
    return name_start(c) || (c >= '0' && c <= '9');
}

/* One non-blank, non-comment line [S, E) (no line end, not trimmed) into
 * *KEY and *VALUE (in A). 0, or -1 with the message (without "file:line: ")
 * in err. */
static int parse_line(struct arena *a, const char *s, const char *e, char **key, char **value, char *err,
                      size_t errlen)
{
    const char *eq, *ke, *v, *rest;
    char *out;
    size_t n = 0;

    while (s < e && blank(*s))
        s++;
    if (e - s > 6 && memcmp(s, "export", 6) == 0 && blank(s[6])) {
        s += 6;
        while (s < e && blank(*s))
            s++;
    }
    eq = memchr(s, '=', (size_t)(e - s));
    if (eq == NULL) {
        snprintf(err, errlen, "expected KEY=value, got \"%.*s\"", (int)(e - s > 60 ? 60 : e - s), s);
        return -1;
    }
    ke = eq;
    while (ke > s && blank(ke[-1]))
        ke--;
    if (ke == s) {
        snprintf(err, errlen, "missing variable name before \"=\"");
        return -1;
    }
    for (const char *q = s; q < ke; q++) {
        if (q == s ? !name_start(*q) : !name_char(*q)) {
            snprintf(err, errlen, "invalid variable name \"%.*s\"; use letters, digits and \"_\", not starting "
                     "with a digit", (int)(ke - s > 60 ? 60 : ke - s), s);
            return -1;
        }
    }
    if ((*key = arena_strndup(a, s, (size_t)(ke - s))) == NULL)
        goto nomem;

    v = eq + 1;
    while (v < e && blank(*v))
        v++;
    if (v < e && (*v == '\'' || *v == '"')) {
        char quote = *v++;

        if ((out = arena_alloc(a, (size_t)(e - v) + 1)) == NULL)
            goto nomem;
        for (rest = v; rest < e && *rest != quote; rest++) {
            if (quote == '"' && *rest == '\\' && rest + 1 < e) {
                char c = rest[1];

                if (c == 'n' || c == 't' || c == '"' || c == '\\') {
                    out[n++] = c == 'n' ? '\n' : c == 't' ? '\t' : c;
                    rest++;
                    continue;
                }
            }
            out[n++] = *rest;
        }
        if (rest == e) {
            snprintf(err, errlen, "unterminated %c", quote);
            return -1;
        }
        out[n] = '\0';
        for (rest++; rest < e && blank(*rest); rest++)
            ;
        if (rest < e && *rest != '#') {
            snprintf(err, errlen, "unexpected text after the closing %c: \"%.*s\"", quote,
                     (int)(e - rest > 40 ? 40 : e - rest), rest);
            return -1;
        }
        *value = out;
        return 0;
    }
    /* Unquoted: a '#' after a blank starts a comment ("a#b" and "A=#b"
     * keep it; "A= #b" is empty). */
    for (rest = v; rest < e; rest++)
        if (*rest == '#' && rest > eq + 1 && blank(rest[-1]))
            break;
    while (rest > v && blank(rest[-1]))
        rest--;
    if ((*value = arena_strndup(a, v, (size_t)(rest - v))) == NULL)
        goto nomem;
    return 0;

nomem:
    snprintf(err, errlen, "out of memory");
    return -1;
}

int dotenv_parse(const char *path, struct arena *a, struct conf_kv **kv, size_t *n, char *err, size_t errlen)
{
    char *text = NULL, reason[256];
    const char *p, *end;
    struct conf_kv *out = NULL;
    size_t len, cap = 1, count = 0;
    int lineno = 0, rc = -1;

    *kv = NULL;
    *n = 0;
    if (read_all(path, &text, &len, err, errlen) < 0)
        return -1;
    for (size_t i = 0; i < len; i++)
        cap += text[i] == '\n';
    p = text;
    end = text + len;
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *s = p, *e = nl != NULL ? nl : end;
        char *key, *value;
        size_t i;

        p = nl != NULL ? nl + 1 : end;
        lineno++;
        if ((size_t)(e - s) > DOTENV_MAX_LINE) {
            line_error(err, errlen, path, lineno, "line too long (over %u KiB)", DOTENV_MAX_LINE >> 10);
            goto out;
        }
        if (memchr(s, '\0', (size_t)(e - s)) != NULL) {
            line_error(err, errlen, path, lineno, "contains a NUL byte");
            goto out;
        }
        if (e > s && e[-1] == '\r')
            e--;
        while (s < e && blank(*s))
            s++;
        while (e > s && blank(e[-1]))
            e--;
        if (s == e || *s == '#')
            continue;
        if (parse_line(a, s, e, &key, &value, reason, sizeof(reason)) < 0) {
            line_error(err, errlen, path, lineno, "%s", reason);
            goto out;
        }
        if (out == NULL && (out = arena_alloc(a, cap * sizeof(*out))) == NULL) {
            snprintf(err, errlen, "%s: out of memory", path);
            goto out;
        }
        /* A later duplicate replaces the value where the key first stood. */
        for (i = 0; i < count && strcmp(out[i].key, key) != 0; i++)
            ;
        out[i].key = key;
        out[i].value = value;
        if (i == count)
            count++;
    }
    *kv = out;
    *n = count;
    rc = 0;
out:
    free(text);
    return rc;
}
