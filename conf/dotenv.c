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

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/internal.h"
#include "lib/arena.h"

/* One non-blank, non-comment line [S, E) (no line end, trimmed) into
 * *KEY and *VALUE (in A). 0, or -1 with the message (without "file:line: ")
 * in err. */
static int parse_line(struct arena *a, const char *s, const char *e, char **key, char **value, char *err,
                      size_t errlen)
{
    const char *eq, *ke, *v, *rest;
    char *out;
    size_t n = 0;

    if (e - s > 6 && memcmp(s, "export", 6) == 0 && conf_is_blank(s[6])) {
        s += 6;
        while (s < e && conf_is_blank(*s))
            s++;
    }
    eq = memchr(s, '=', (size_t)(e - s));
    if (eq == NULL) {
        snprintf(err, errlen, "expected KEY=value, got \"%.*s\"", (int)(e - s > 60 ? 60 : e - s), s);
        return -1;
    }
    ke = eq;
    while (ke > s && conf_is_blank(ke[-1]))
        ke--;
    if (ke == s) {
        snprintf(err, errlen, "missing variable name before \"=\"");
        return -1;
    }
    if (!conf_env_name_ok(s, (size_t)(ke - s))) {
        snprintf(err, errlen, "invalid variable name \"%.*s\"; use letters, digits and \"_\", not starting "
                 "with a digit", (int)(ke - s > 60 ? 60 : ke - s), s);
        return -1;
    }
    if ((*key = arena_strndup(a, s, (size_t)(ke - s))) == NULL)
        goto nomem;

    v = eq + 1;
    while (v < e && conf_is_blank(*v))
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
        for (rest++; rest < e && conf_is_blank(*rest); rest++)
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
        if (*rest == '#' && rest > eq + 1 && conf_is_blank(rest[-1]))
            break;
    while (rest > v && conf_is_blank(rest[-1]))
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
    struct formation_lines it;
    char *text = NULL, reason[CONF_REASON_MAX];
    const char *s, *e;
    struct conf_kv *out = NULL;
    size_t len, cap, count = 0;
    int rc;

    *kv = NULL;
    *n = 0;
    if (formation_read(path, &text, &len, err, errlen) < 0)
        return -1;
    cap = formation_lines_start(&it, text, len);
    while ((rc = formation_lines_next(&it, &s, &e, reason, sizeof(reason))) > 0) {
        char *key, *value;

        if (parse_line(a, s, e, &key, &value, reason, sizeof(reason)) < 0) {
            rc = -1;
            break;
        }
        if (out == NULL && (out = arena_alloc(a, cap * sizeof(*out))) == NULL) {
            formation_error(err, errlen, "%s: out of memory", path);
            goto fail;
        }
        formation_env_set(out, &count, key, value);
    }
    if (rc < 0) {
        formation_error(err, errlen, "%s:%d: %s", path, it.lineno, reason);
        goto fail;
    }
    free(text);
    *kv = out;
    *n = count;
    return 0;

fail:
    free(text);
    return -1;
}
