/* conf/expand.c: ${VAR} and ${VAR:-default} in drover.yaml values, from
 * the environment (see conf_expand_env() in config.h). */
#include "conf/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/internal.h"
#include "lib/sbuf.h"

#define ENV_MAX_DEPTH 8

static bool var_start(int c)
{
    return c == '_' || conf_is_alpha(c);
}

static bool var_char(int c)
{
    return var_start(c) || conf_is_digit(c);
}

/* expand() hit the end of the string inside "${NAME:-...": the caller, which
 * knows where that "${" started, writes the message. */
#define EXPAND_UNCLOSED (-2)

static int expand(const char **pp, int depth, struct sbuf *out, char *err, size_t errlen);

static int unclosed(const char *start, char *err, size_t errlen)
{
    snprintf(err, errlen, "unclosed \"${\" in \"%.40s\"; write ${NAME} or ${NAME:-default}", start);
    return -1;
}

/* One "${...}" at *PP; on success *PP is just past its '}'. */
static int expand_var(const char **pp, int depth, struct sbuf *out, char *err, size_t errlen)
{
    const char *start = *pp, *name = start + 2, *p = name, *val;
    char key[256];
    size_t n;

    while (var_char(*p))
        p++;
    n = (size_t)(p - name);
    if (*p == '\0')
        return unclosed(start, err, errlen);
    if (n == 0 || !var_start(*name) || n >= sizeof(key) ||
        (*p != '}' && *p != '-' && !(p[0] == ':' && p[1] == '-'))) {
        const char *close = strchr(p, '}');
        int shown = close != NULL ? (int)(close - start + 1) : 40;

        snprintf(err, errlen, "bad variable reference \"%.*s\"; write ${NAME} or ${NAME:-default}",
                 shown > 60 ? 60 : shown, start);
        return -1;
    }
    memcpy(key, name, n);
    key[n] = '\0';
    val = getenv(key);
    if (*p == '}') {
        if (val != NULL)
            sbuf_put(out, val, strlen(val));
        *pp = p + 1;
        return 0;
    }

    /* ${NAME:-default} (unset or empty) or ${NAME-default} (unset only), as
     * in the shell; the default may itself hold ${...}. */
    {
        bool colon = *p == ':';
        struct sbuf def = {0};
        int rc;

        if (depth >= ENV_MAX_DEPTH) {
            snprintf(err, errlen, "\"${\" nested more than %d deep", ENV_MAX_DEPTH);
            return -1;
        }
        p += colon ? 2 : 1;
        rc = expand(&p, depth + 1, &def, err, errlen);
        if (rc == EXPAND_UNCLOSED)
            rc = unclosed(start, err, errlen);
        if (rc == 0) {
            if (val == NULL || (colon && *val == '\0'))
                sbuf_put(out, def.data != NULL ? def.data : "", def.len);
            else
                sbuf_put(out, val, strlen(val));
            if (def.oom)
                out->oom = true;
            *pp = p + 1;
        }
        free(def.data);
        return rc;
    }
}

/* Expands *PP into OUT up to the end of the string or, when DEPTH > 0, up to
 * the '}' closing the enclosing default (left for the caller). A '$' not
 * followed by '$' or '{' stays as it is, so "$PORT" reaches the shell. */
static int expand(const char **pp, int depth, struct sbuf *out, char *err, size_t errlen)
{
    const char *p = *pp;

    for (;;) {
        size_t span = strcspn(p, depth > 0 ? "$}" : "$");

        sbuf_put(out, p, span);
        p += span;
        if (*p == '\0')
            return depth > 0 ? EXPAND_UNCLOSED : 0;
        if (*p == '}')
            break;
        if (p[1] == '$') {
            sbuf_put(out, "$", 1);
            p += 2;
        } else if (p[1] == '{') {
            int rc = expand_var(&p, depth, out, err, errlen);

            if (rc < 0)
                return rc;
        } else {
            sbuf_put(out, "$", 1);
            p++;
        }
    }
    *pp = p;
    return 0;
}

char *conf_expand_env(const char *s, char *err, size_t errlen)
{
    struct sbuf out = {0};
    const char *p = s;

    if (expand(&p, 0, &out, err, errlen) < 0) {
        free(out.data);
        return NULL;
    }
    sbuf_put(&out, "", 0); /* "" still needs its own allocation */
    if (out.oom) {
        free(out.data);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    return out.data;
}
