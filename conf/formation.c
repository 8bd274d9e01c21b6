/* conf/formation.c: the app's process formation (a Procfile or a
 * BlueKing app_desc.yaml) and the plan that combines it with drover.yaml
 * and -m into instance counts, commands, environments and ports.
 *
 * The parsers stop at the first mistake and say where it is: "file:line:"
 * for a Procfile, "file:line:col:" for app_desc.yaml. A formation is a
 * handful of lines; one precise message is worth more than a list.
 *
 * Everything a formation or a plan points to lives in its own arena, so
 * formation_free() and plan_free() are one call each. A plan copies what it
 * takes from the conf and the formation: it stays valid after both are
 * freed (a reload builds a new conf while the old plan is still running). */
#include "conf/formation.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "lib/arena.h"
#include "lib/path.h"
#include "lib/yamlnode.h"
#include "lib/readfile.h"
#include "lib/sbuf.h"
#include "lib/suggest.h"

#define MAX_FILE_BYTES (4u << 20)
#define MAX_LINE_BYTES (64u * 1024)
#define MAX_TYPE_NAME 63 /* what fits in struct scale_entry.name */
#define MAX_COUNT 1000
#define PORTS_PER_TYPE 100
#define PLAN_COL 16 /* same column as conf_print_plan() */

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

static bool blank(int c)
{
    return c == ' ' || c == '\t';
}

static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static bool is_alnum(int c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Procfile and drover.yaml type names: [A-Za-z0-9_-]. */
static bool type_char(int c)
{
    return is_alnum(c) || c == '_' || c == '-';
}

/* The platform's rule for app_desc.yaml: ^[a-z0-9]([a-z0-9-]*[a-z0-9])?$ */
static bool platform_name(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || s[0] == '-' || s[n - 1] == '-')
        return false;
    for (; *s != '\0'; s++)
        if (!is_digit(*s) && !(*s >= 'a' && *s <= 'z') && *s != '-')
            return false;
    return true;
}

/* At most 60 bytes of S[0..N) for a message, cut on a UTF-8 boundary, with
 * "..." when cut. */
static const char *shorten(const char *s, size_t n, char *buf, size_t len)
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

__attribute__((format(printf, 3, 4)))
static int set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err != NULL && errlen > 0) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int read_file(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
    char reason[256];

    if (read_whole_file(path, MAX_FILE_BYTES, text, len, reason, sizeof(reason)) == 0)
        return 0;
    set_err(err, errlen, "%s: %s", path, reason);
    return -1;
}

/* PATH made absolute (from the current directory), or as given when that
 * cannot be done. NULL when out of memory. */
static char *absolute(struct arena *a, const char *path)
{
    char buf[PATH_MAX];

    if (path[0] == '/' || path_abs(NULL, path, buf, sizeof(buf)) < 0)
        return arena_strdup(a, path);
    return arena_strdup(a, buf);
}

/* The directory a formation file's types run in: DIR when given, else the
 * file's own directory. */
static char *types_dir(struct arena *a, const char *dir, const char *abs_file)
{
    char buf[PATH_MAX];

    if (dir != NULL)
        return arena_strdup(a, dir);
    if (path_dir(abs_file, buf, sizeof(buf)) < 0)
        return NULL;
    return arena_strdup(a, buf);
}

/* ------------------------------------------------------------------ */
/* Procfile                                                            */

/* One trimmed, non-blank, non-comment line [S, E) into f->types. */
static int procfile_line(const char *path, int lineno, const char *s, const char *e, const char *dir,
                         struct formation *f, char *err, size_t errlen)
{
    const char *colon = memchr(s, ':', (size_t)(e - s)), *ne, *c;
    struct formation_type *t;
    char buf[80], *name;

    if (colon == NULL)
        return set_err(err, errlen, "%s:%d: expected \"TYPE: command\", got \"%s\"", path, lineno,
                       shorten(s, (size_t)(e - s), buf, sizeof(buf)));
    for (ne = colon; ne > s && blank(ne[-1]); ne--)
        ;
    if (ne == s)
        return set_err(err, errlen, "%s:%d: missing process type before \":\"", path, lineno);
    for (const char *q = s; q < ne; q++)
        if (!type_char((unsigned char)*q))
            return set_err(err, errlen,
                           "%s:%d: invalid process type name \"%s\"; use letters (A-Z, a-z), digits, \"_\" and \"-\"",
                           path, lineno, shorten(s, (size_t)(ne - s), buf, sizeof(buf)));
    if (ne - s > MAX_TYPE_NAME)
        return set_err(err, errlen, "%s:%d: process type name \"%s\" is too long (over %d characters)", path,
                       lineno, shorten(s, (size_t)(ne - s), buf, sizeof(buf)), MAX_TYPE_NAME);
    if ((name = arena_strndup(f->arena, s, (size_t)(ne - s))) == NULL)
        return set_err(err, errlen, "out of memory");
    for (c = colon + 1; c < e && blank(*c); c++)
        ;
    if (c == e)
        return set_err(err, errlen, "%s:%d: process type \"%s\" has no command", path, lineno, name);
    for (size_t i = 0; i < f->ntypes; i++)
        if (strcmp(f->types[i].name, name) == 0)
            return set_err(err, errlen, "%s:%d: duplicate process type \"%s\" (first on line %d)", path, lineno,
                           name, f->types[i].line);
    t = &f->types[f->ntypes];
    t->name = name;
    t->command = arena_strndup(f->arena, c, (size_t)(e - c));
    t->dir = (char *)dir;
    t->replicas = -1;
    t->line = lineno;
    if (t->command == NULL)
        return set_err(err, errlen, "out of memory");
    f->ntypes++;
    return 0;
}

int formation_parse_procfile(const char *path, const char *dir, struct formation *f, char *err, size_t errlen)
{
    char *text = NULL, *tdir;
    const char *p, *end;
    size_t len, cap = 1;
    int lineno = 0;

    memset(f, 0, sizeof(*f));
    if (read_file(path, &text, &len, err, errlen) < 0)
        return -1;
    for (size_t i = 0; i < len; i++)
        cap += text[i] == '\n';
    if ((f->arena = arena_new()) == NULL || (f->types = arena_alloc(f->arena, cap * sizeof(*f->types))) == NULL ||
        (f->file = absolute(f->arena, path)) == NULL || (tdir = types_dir(f->arena, dir, f->file)) == NULL) {
        set_err(err, errlen, "%s: out of memory", path);
        goto fail;
    }
    f->is_procfile = true;
    p = text;
    end = text + len;
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3; /* a byte order mark from a Windows editor */
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *s = p, *e = nl != NULL ? nl : end;

        p = nl != NULL ? nl + 1 : end;
        lineno++;
        if ((size_t)(e - s) > MAX_LINE_BYTES) {
            set_err(err, errlen, "%s:%d: line too long (over %u KiB)", path, lineno, MAX_LINE_BYTES >> 10);
            goto fail;
        }
        if (memchr(s, '\0', (size_t)(e - s)) != NULL) {
            set_err(err, errlen, "%s:%d: contains a NUL byte", path, lineno);
            goto fail;
        }
        if (e > s && e[-1] == '\r')
            e--;
        while (s < e && blank(*s))
            s++;
        while (e > s && blank(e[-1]))
            e--;
        if (s == e || *s == '#')
            continue;
        if (procfile_line(path, lineno, s, e, tdir, f, err, errlen) < 0)
            goto fail;
    }
    if (f->ntypes == 0) {
        set_err(err, errlen, "%s: no process types", path);
        goto fail;
    }
    free(text);
    return 0;

fail:
    free(text);
    formation_free(f);
    return -1;
}

/* ------------------------------------------------------------------ */
/* app_desc.yaml                                                       */

/* A type found while parsing, before the list moves into the arena. */
struct dtype {
    struct formation_type t;
    int col;
};

struct module {
    const char *name;           /* NULL for the single "module" */
    char path[96];              /* for messages: "module", "modules.api", "modules[1]" */
    yaml_node_t *node;          /* its mapping */
    yaml_node_t *at;            /* where to point at it */
    bool is_default;
};

struct desc {
    const char *path;           /* the file, as given */
    const char *dir;            /* absolute app dir */
    int version;                /* 2 or 3 */
    struct arena *a;
    yaml_document_t *doc;
    char *err;
    size_t errlen;
    bool failed;
    struct dtype *types;        /* malloc'd while parsing */
    size_t ntypes, cap;
};

static yaml_node_t *node_at(struct desc *d, int index)
{
    return yaml_document_get_node(d->doc, index);
}

/* The first error wins; later ones are dropped. LINE 0: no position.
 * Always returns false. */
__attribute__((format(printf, 4, 5)))
static bool fail_at(struct desc *d, int line, int col, const char *fmt, ...)
{
    va_list ap;
    int used;

    if (d->failed)
        return false;
    d->failed = true;
    if (d->err == NULL || d->errlen == 0)
        return false;
    if (line > 0)
        used = snprintf(d->err, d->errlen, "%s:%d:%d: ", d->path, line, col);
    else
        used = snprintf(d->err, d->errlen, "%s: ", d->path);
    if (used >= 0 && (size_t)used < d->errlen) {
        va_start(ap, fmt);
        vsnprintf(d->err + used, d->errlen - (size_t)used, fmt, ap);
        va_end(ap);
    }
    return false;
}

/* Where node N starts (1-based); 0 for no node. */
static int line_of(const yaml_node_t *n)
{
    return n != NULL ? (int)n->start_mark.line + 1 : 0;
}

static int col_of(const yaml_node_t *n)
{
    return n != NULL ? (int)n->start_mark.column + 1 : 0;
}

/* At node N (NULL: no position). */
#define fail(d, n, ...) fail_at((d), line_of(n), col_of(n), __VA_ARGS__)

static bool oom(struct desc *d)
{
    return fail(d, NULL, "out of memory");
}

static bool expect(struct desc *d, const yaml_node_t *n, yaml_node_type_t kind, const char *path, const char *what)
{
    char buf[80];

    if (n->type == kind)
        return true;
    return fail(d, n, "%s: expected %s, got %s", path, what, yaml_describe(n, buf, sizeof(buf)));
}

/* The value of KEY in mapping MAP into *OUT (NULL when absent or null);
 * *KEYNODE (when not NULL) gets the key's node. Only the keys drover reads
 * are looked up, so only they are checked for duplicates: the platform's
 * other keys are none of drover's business. */
static bool map_get(struct desc *d, const yaml_node_t *map, const char *key, yaml_node_t **out,
                    yaml_node_t **keynode)
{
    yaml_node_t *found = NULL;

    *out = NULL;
    if (keynode != NULL)
        *keynode = NULL;
    if (map == NULL || map->type != YAML_MAPPING_NODE)
        return true;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_at(d, p->key);

        if (k->type != YAML_SCALAR_NODE || strcmp(yaml_text(k), key) != 0)
            continue;
        if (found != NULL)
            return fail(d, k, "duplicate key \"%s\"; first at %d:%d", key, (int)found->start_mark.line + 1,
                        (int)found->start_mark.column + 1);
        found = k;
        *out = node_at(d, p->value);
        if (keynode != NULL)
            *keynode = k;
    }
    if (yaml_is_null(*out))
        *out = NULL;
    return true;
}

/* A scalar as text in the arena (numbers and booleans as written). */
static bool get_str(struct desc *d, const yaml_node_t *n, const char *path, char **out)
{
    if (!expect(d, n, YAML_SCALAR_NODE, path, "a string"))
        return false;
    if ((*out = arena_strdup(d->a, yaml_text(n))) == NULL)
        return oom(d);
    return true;
}

static bool get_count(struct desc *d, const yaml_node_t *n, const char *path, int *out)
{
    const char *s;
    char buf[80];
    long v = 0;

    if (n->type != YAML_SCALAR_NODE)
        return fail(d, n, "%s: expected an integer from 0 to %d, got %s", path, MAX_COUNT,
                    yaml_describe(n, buf, sizeof(buf)));
    s = yaml_text(n);
    if (*s == '+')
        s++;
    for (const char *q = s; *q != '\0' && v <= MAX_COUNT; q++)
        v = is_digit(*q) ? v * 10 + (*q - '0') : LONG_MAX;
    if (*s == '\0' || v > MAX_COUNT)
        return fail(d, n, "%s: expected an integer from 0 to %d, got \"%.60s\"", path, MAX_COUNT, yaml_text(n));
    *out = (int)v;
    return true;
}

static bool get_bool(struct desc *d, const yaml_node_t *n, const char *path, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on"}, *const no[] = {"false", "no", "off"};
    char buf[80];

    if (n->type == YAML_SCALAR_NODE) {
        for (size_t i = 0; i < 3; i++) {
            if (strcasecmp(yaml_text(n), yes[i]) == 0) {
                *out = true;
                return true;
            }
            if (strcasecmp(yaml_text(n), no[i]) == 0) {
                *out = false;
                return true;
            }
        }
    }
    return fail(d, n, "%s: expected true or false, got %s", path, yaml_describe(n, buf, sizeof(buf)));
}

/* source_dir / sourceDir: a directory below the app dir, which must exist
 * (`drover check` should catch a typo, not the first spawn). */
static bool module_dir(struct desc *d, const yaml_node_t *n, const char *path, char **out)
{
    char abs[PATH_MAX];
    const char *s;
    struct stat st;

    if (n == NULL || (n->type == YAML_SCALAR_NODE && yaml_text(n)[0] == '\0')) {
        *out = (char *)d->dir;
        return true;
    }
    if (!expect(d, n, YAML_SCALAR_NODE, path, "a directory"))
        return false;
    s = yaml_text(n);
    if (s[0] == '/')
        return fail(d, n, "%s: must be relative to the app directory, got \"%.60s\"", path, s);
    if (path_abs(d->dir, s, abs, sizeof(abs)) < 0)
        return fail(d, n, "%s: path too long", path);
    if (stat(abs, &st) < 0)
        return fail(d, n, "%s: %s: %s", path, abs, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return fail(d, n, "%s: %s: not a directory", path, abs);
    if ((*out = arena_strdup(d->a, abs)) == NULL)
        return oom(d);
    return true;
}

/* [A-Za-z_][A-Za-z0-9_]*, as in .env files. */
static bool env_name(const char *s)
{
    if (*s == '\0' || is_digit(*s))
        return false;
    for (; *s != '\0'; s++)
        if (!is_alnum((unsigned char)*s) && *s != '_')
            return false;
    return true;
}

/* A module's env list: v2 env_variables [{key, value, environment_name}],
 * v3 spec.configuration.env [{name, value}]. A later duplicate replaces
 * the earlier value. */
static bool parse_env(struct desc *d, const yaml_node_t *seq, const char *path, struct conf_kv **env, size_t *nenv)
{
    const char *keyname = d->version == 2 ? "key" : "name";
    size_t total;
    char ipath[192];

    *env = NULL;
    *nenv = 0;
    if (seq == NULL)
        return true;
    if (!expect(d, seq, YAML_SEQUENCE_NODE, path, "a list of variables"))
        return false;
    total = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    if (total == 0)
        return true;
    if ((*env = arena_alloc(d->a, total * sizeof(**env))) == NULL)
        return oom(d);
    for (size_t i = 0; i < total; i++) {
        yaml_node_t *item = node_at(d, seq->data.sequence.items.start[i]), *k, *v, *envname, *kn, *vn;
        char *key, *value, *scope, buf[80], sub[256];
        size_t j;

        snprintf(ipath, sizeof(ipath), "%s[%zu]", path, i);
        if (!expect(d, item, YAML_MAPPING_NODE, ipath, "a mapping"))
            return false;
        if (!map_get(d, item, keyname, &k, &kn) || !map_get(d, item, "value", &v, &vn) ||
            !map_get(d, item, "environment_name", &envname, NULL))
            return false;
        if (k == NULL)
            return fail(d, item, "%s: missing \"%s\"", ipath, keyname);
        snprintf(sub, sizeof(sub), "%s.%s", ipath, keyname);
        if (!get_str(d, k, sub, &key))
            return false;
        if (!env_name(key))
            return fail(d, k, "%s: invalid variable name \"%s\"; use letters, digits and \"_\", not starting "
                        "with a digit", sub, shorten(key, strlen(key), buf, sizeof(buf)));
        /* "value:" alone is an empty value; no "value" key is a mistake. */
        if (vn == NULL)
            return fail(d, item, "%s: missing \"value\"", ipath);
        snprintf(sub, sizeof(sub), "%s.value", ipath);
        if (v == NULL)
            value = "";
        else if (!get_str(d, v, sub, &value))
            return false;
        /* v2 can scope a variable to one platform environment ("stag",
         * "prod") or to all ("_global_", the default). drover is neither
         * platform environment: only the variables for all apply. */
        if (envname != NULL) {
            snprintf(sub, sizeof(sub), "%s.environment_name", ipath);
            if (!get_str(d, envname, sub, &scope))
                return false;
            if (strcmp(scope, "stag") == 0 || strcmp(scope, "prod") == 0)
                continue;
            if (strcmp(scope, "_global_") != 0)
                return fail(d, envname, "%s: expected _global_, stag or prod, got \"%s\"", sub,
                            shorten(scope, strlen(scope), buf, sizeof(buf)));
        }
        for (j = 0; j < *nenv && strcmp((*env)[j].key, key) != 0; j++)
            ;
        (*env)[j].key = key;
        (*env)[j].value = value;
        if (j == *nenv)
            (*nenv)++;
    }
    return true;
}

static bool check_type_name(struct desc *d, const yaml_node_t *n, const char *path, const char *name)
{
    char buf[80];

    if (platform_name(name))
        return true;
    return fail(d, n, "%s: invalid process type name \"%s\"; use lowercase letters, digits and \"-\" "
                "(not first or last)", path, shorten(name, strlen(name), buf, sizeof(buf)));
}

/* Appends one type (its name already checked); NAME_NODE points at its
 * name for messages. */
static bool add_type(struct desc *d, const struct module *m, const yaml_node_t *name_node, const char *ppath,
                     const char *tname, char *command, int replicas, char *dir, struct conf_kv *env, size_t nenv)
{
    char full[2 * MAX_TYPE_NAME + 8], buf[80];
    struct dtype *t;

    if (m->is_default)
        snprintf(full, sizeof(full), "%.*s", MAX_TYPE_NAME + 1, tname);
    else
        snprintf(full, sizeof(full), "%.*s-%.*s", MAX_TYPE_NAME, m->name, MAX_TYPE_NAME, tname);
    if (strlen(full) > MAX_TYPE_NAME)
        return fail(d, name_node, "%s: process type name \"%s\" is too long (over %d characters)", ppath,
                    shorten(full, strlen(full), buf, sizeof(buf)), MAX_TYPE_NAME);
    for (size_t i = 0; i < d->ntypes; i++) {
        const struct dtype *o = &d->types[i];

        if (strcmp(o->t.name, full) != 0)
            continue;
        if (strcmp(full, tname) == 0)
            return fail(d, name_node, "%s: duplicate process type \"%s\" (first at %d:%d)", ppath, full, o->t.line,
                        o->col);
        return fail(d, name_node, "%s: process type \"%s\" (module \"%s\", type \"%s\") is already defined at %d:%d",
                    ppath, full, m->name, tname, o->t.line, o->col);
    }
    if (d->ntypes == d->cap) {
        size_t cap = d->cap != 0 ? d->cap * 2 : 8;
        struct dtype *bigger = realloc(d->types, cap * sizeof(*bigger));

        if (bigger == NULL)
            return oom(d);
        d->types = bigger;
        d->cap = cap;
    }
    t = &d->types[d->ntypes];
    memset(t, 0, sizeof(*t));
    if ((t->t.name = arena_strdup(d->a, full)) == NULL)
        return oom(d);
    t->t.command = command;
    t->t.dir = dir;
    t->t.replicas = replicas;
    t->t.env = env;
    t->t.nenv = nenv;
    t->t.line = (int)name_node->start_mark.line + 1;
    t->col = (int)name_node->start_mark.column + 1;
    d->ntypes++;
    return true;
}

/* A v3 command: "procCommand" (shell text), or "command" + "args", each a
 * string (shell text, used as written) or a list of words. Words are quoted
 * for /bin/sh so that each reaches the program as one argument:
 *   - only [A-Za-z0-9_./:=@%+,-]: as is;
 *   - containing '$': in double quotes with " \ ` escaped, so ${PORT} and
 *     $PORT are still expanded (the platform expands them too);
 *   - anything else: in single quotes ('\'' for a quote). */
static void sh_word(struct sbuf *b, const char *s)
{
    const char *q;

    if (*s == '\0') {
        sbuf_puts(b, "''");
        return;
    }
    for (q = s; *q != '\0' && (is_alnum((unsigned char)*q) || strchr("_./:=@%+,-", *q) != NULL); q++)
        ;
    if (*q == '\0') {
        sbuf_puts(b, s);
    } else if (strchr(s, '$') != NULL) {
        sbuf_put(b, "\"", 1);
        for (q = s; *q != '\0'; q++) {
            if (*q == '"' || *q == '\\' || *q == '`')
                sbuf_put(b, "\\", 1);
            sbuf_put(b, q, 1);
        }
        sbuf_put(b, "\"", 1);
    } else {
        sbuf_put(b, "'", 1);
        for (q = s; *q != '\0'; q++) {
            if (*q == '\'')
                sbuf_puts(b, "'\\''");
            else
                sbuf_put(b, q, 1);
        }
        sbuf_put(b, "'", 1);
    }
}

/* Appends N (a string: as is; a list: quoted words) to B. */
static bool append_words(struct desc *d, struct sbuf *b, const yaml_node_t *n, const char *path)
{
    char sub[400], buf[80];

    if (n->type == YAML_SCALAR_NODE) {
        if (b->len > 0 && *yaml_text(n) != '\0')
            sbuf_put(b, " ", 1);
        sbuf_puts(b, yaml_text(n));
        return true;
    }
    if (n->type != YAML_SEQUENCE_NODE)
        return fail(d, n, "%s: expected a string or a list of strings, got %s", path, yaml_describe(n, buf, sizeof(buf)));
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        yaml_node_t *w = node_at(d, *it);

        snprintf(sub, sizeof(sub), "%s[%zu]", path, (size_t)(it - n->data.sequence.items.start));
        if (!expect(d, w, YAML_SCALAR_NODE, sub, "a string"))
            return false;
        if (b->len > 0)
            sbuf_put(b, " ", 1);
        sh_word(b, yaml_text(w));
    }
    return true;
}

static bool v3_command(struct desc *d, const yaml_node_t *proc, const char *ppath, char **out)
{
    yaml_node_t *pc, *cmd, *args, *pck, *ck, *ak;
    struct sbuf b = {0};
    char sub[320];
    bool ok;

    *out = NULL;
    if (!map_get(d, proc, "procCommand", &pc, &pck) || !map_get(d, proc, "command", &cmd, &ck) ||
        !map_get(d, proc, "args", &args, &ak))
        return false;
    if (pc != NULL && (cmd != NULL || args != NULL))
        return fail(d, cmd != NULL ? ck : ak, "%s: set either \"procCommand\" or \"command\"/\"args\", not both",
                    ppath);
    if (pc != NULL) {
        snprintf(sub, sizeof(sub), "%s.procCommand", ppath);
        if (!get_str(d, pc, sub, out))
            return false;
        if (**out == '\0')
            return fail(d, pc, "%s: empty command", sub);
        return true;
    }
    if (cmd == NULL && args != NULL)
        return fail(d, ak, "%s: \"args\" without \"command\"", ppath);
    if (cmd == NULL)
        return false; /* the caller says "no command" */
    snprintf(sub, sizeof(sub), "%s.command", ppath);
    ok = append_words(d, &b, cmd, sub);
    snprintf(sub, sizeof(sub), "%s.args", ppath);
    ok = ok && (args == NULL || append_words(d, &b, args, sub));
    if (ok && b.oom)
        ok = oom(d);
    if (ok && (b.data == NULL || b.len == 0))
        ok = fail(d, cmd, "%s.command: empty command", ppath);
    if (ok && (*out = arena_strdup(d->a, b.data)) == NULL)
        ok = oom(d);
    free(b.data);
    return ok;
}

/* One module's processes, env and directory. */
static bool parse_module(struct desc *d, const struct module *m)
{
    yaml_node_t *procs, *envs, *dirn, *spec = NULL, *cfg = NULL;
    struct conf_kv *env;
    size_t nenv;
    char *dir, sub[160], ppath[256];

    if (d->version == 2) {
        if (!map_get(d, m->node, "processes", &procs, NULL) || !map_get(d, m->node, "env_variables", &envs, NULL) ||
            !map_get(d, m->node, "source_dir", &dirn, NULL))
            return false;
        snprintf(sub, sizeof(sub), "%s.source_dir", m->path);
    } else {
        if (!map_get(d, m->node, "spec", &spec, NULL) || !map_get(d, m->node, "sourceDir", &dirn, NULL))
            return false;
        snprintf(sub, sizeof(sub), "%s.spec", m->path);
        if (spec != NULL && !expect(d, spec, YAML_MAPPING_NODE, sub, "a mapping"))
            return false;
        if (!map_get(d, spec, "processes", &procs, NULL) || !map_get(d, spec, "configuration", &cfg, NULL))
            return false;
        snprintf(sub, sizeof(sub), "%s.spec.configuration", m->path);
        if (cfg != NULL && !expect(d, cfg, YAML_MAPPING_NODE, sub, "a mapping"))
            return false;
        if (!map_get(d, cfg, "env", &envs, NULL))
            return false;
        snprintf(sub, sizeof(sub), "%s.sourceDir", m->path);
    }
    if (!module_dir(d, dirn, sub, &dir))
        return false;
    snprintf(sub, sizeof(sub), d->version == 2 ? "%s.env_variables" : "%s.spec.configuration.env", m->path);
    if (!parse_env(d, envs, sub, &env, &nenv))
        return false;
    if (procs == NULL)
        return true;

    if (d->version == 2) {
        snprintf(sub, sizeof(sub), "%s.processes", m->path);
        if (!expect(d, procs, YAML_MAPPING_NODE, sub, "a mapping of process types"))
            return false;
        for (yaml_node_pair_t *p = procs->data.mapping.pairs.start; p < procs->data.mapping.pairs.top; p++) {
            yaml_node_t *k = node_at(d, p->key), *v = node_at(d, p->value), *cmd, *rep;
            int replicas = -1;
            char *command, buf[80], cpath[320];

            if (k->type != YAML_SCALAR_NODE)
                return fail(d, k, "%s: process types must be names, got %s", sub, yaml_describe(k, buf, sizeof(buf)));
            snprintf(ppath, sizeof(ppath), "%s.%.60s", sub, yaml_text(k));
            if (!check_type_name(d, k, sub, yaml_text(k)))
                return false;
            if (!yaml_is_null(v) && !expect(d, v, YAML_MAPPING_NODE, ppath, "a mapping with \"command\""))
                return false;
            if (!map_get(d, v, "command", &cmd, NULL) || !map_get(d, v, "replicas", &rep, NULL))
                return false;
            if (cmd == NULL)
                return fail(d, k, "%s: no command", ppath);
            snprintf(cpath, sizeof(cpath), "%s.command", ppath);
            if (!get_str(d, cmd, cpath, &command))
                return false;
            if (*command == '\0')
                return fail(d, cmd, "%s: empty command", cpath);
            snprintf(cpath, sizeof(cpath), "%s.replicas", ppath);
            if (rep != NULL && !get_count(d, rep, cpath, &replicas))
                return false;
            if (!add_type(d, m, k, sub, yaml_text(k), command, replicas, dir, env, nenv))
                return false;
        }
        return true;
    }

    snprintf(sub, sizeof(sub), "%s.spec.processes", m->path);
    if (!expect(d, procs, YAML_SEQUENCE_NODE, sub, "a list of processes"))
        return false;
    for (yaml_node_item_t *it = procs->data.sequence.items.start; it < procs->data.sequence.items.top; it++) {
        yaml_node_t *proc = node_at(d, *it), *name, *rep;
        char *command, *tname, cpath[320];
        int replicas = -1;

        snprintf(ppath, sizeof(ppath), "%s[%zu]", sub, (size_t)(it - procs->data.sequence.items.start));
        if (!expect(d, proc, YAML_MAPPING_NODE, ppath, "a mapping"))
            return false;
        if (!map_get(d, proc, "name", &name, NULL) || !map_get(d, proc, "replicas", &rep, NULL))
            return false;
        if (name == NULL)
            return fail(d, proc, "%s: missing \"name\"", ppath);
        snprintf(cpath, sizeof(cpath), "%s.name", ppath);
        if (!get_str(d, name, cpath, &tname))
            return false;
        if (!check_type_name(d, name, cpath, tname))
            return false;
        if (!v3_command(d, proc, ppath, &command)) {
            if (!d->failed)
                fail(d, proc, "%s (%s): no command; set \"procCommand\" or \"command\"", ppath, tname);
            return false;
        }
        snprintf(cpath, sizeof(cpath), "%s.replicas", ppath);
        if (rep != NULL && !get_count(d, rep, cpath, &replicas))
            return false;
        snprintf(cpath, sizeof(cpath), "%s.name", ppath);
        if (!add_type(d, m, name, cpath, tname, command, replicas, dir, env, nenv))
            return false;
    }
    return true;
}

/* The module list: v2 "module" / "modules" mapping; v3 "modules" list (or
 * a single "module"). Marks the default one. */
static bool collect_modules(struct desc *d, const yaml_node_t *root, struct module **out, size_t *n)
{
    const char *defkey = d->version == 2 ? "is_default" : "isDefault";
    yaml_node_t *one, *many, *onek, *manyk;
    struct module *ms = NULL;
    size_t total = 0, first_default = SIZE_MAX;
    char buf[80];

    *out = NULL;
    *n = 0;
    if (!map_get(d, root, "module", &one, &onek) || !map_get(d, root, "modules", &many, &manyk))
        return false;
    if (one != NULL && many != NULL)
        return fail(d, manyk, "set either \"module\" or \"modules\", not both");
    if (one == NULL && many == NULL)
        return fail(d, root, "missing \"module\" or \"modules\": no processes to run");
    if (one != NULL) {
        if (!expect(d, one, YAML_MAPPING_NODE, "module", "a mapping"))
            return false;
        if ((ms = calloc(1, sizeof(*ms))) == NULL)
            return oom(d);
        ms->node = one;
        ms->at = onek;
        ms->is_default = true;
        snprintf(ms->path, sizeof(ms->path), "module");
        *out = ms;
        *n = 1;
        return true;
    }
    if (d->version == 2) {
        if (!expect(d, many, YAML_MAPPING_NODE, "modules", "a mapping of modules"))
            return false;
        total = (size_t)(many->data.mapping.pairs.top - many->data.mapping.pairs.start);
    } else {
        if (!expect(d, many, YAML_SEQUENCE_NODE, "modules", "a list of modules"))
            return false;
        total = (size_t)(many->data.sequence.items.top - many->data.sequence.items.start);
    }
    if (total == 0)
        return fail(d, many, "modules: no modules");
    if ((ms = calloc(total, sizeof(*ms))) == NULL)
        return oom(d);
    *out = ms;
    for (size_t i = 0; i < total; i++) {
        struct module *m = &ms[i];
        yaml_node_t *namen, *def, *defk;
        char sub[160];

        if (d->version == 2) {
            const yaml_node_pair_t *p = &many->data.mapping.pairs.start[i];

            namen = node_at(d, p->key);
            m->node = node_at(d, p->value);
            m->at = namen;
            if (namen->type != YAML_SCALAR_NODE)
                return fail(d, namen, "modules: module names must be names, got %s", yaml_describe(namen, buf, sizeof(buf)));
            snprintf(m->path, sizeof(m->path), "modules.%.60s", yaml_text(namen));
            if (yaml_is_null(m->node))
                return fail(d, namen, "%s: empty module", m->path);
            if (!expect(d, m->node, YAML_MAPPING_NODE, m->path, "a mapping"))
                return false;
        } else {
            m->node = node_at(d, many->data.sequence.items.start[i]);
            m->at = m->node;
            snprintf(m->path, sizeof(m->path), "modules[%zu]", i);
            if (!expect(d, m->node, YAML_MAPPING_NODE, m->path, "a mapping"))
                return false;
            if (!map_get(d, m->node, "name", &namen, NULL))
                return false;
            if (namen == NULL)
                return fail(d, m->node, "%s: missing \"name\"", m->path);
            snprintf(sub, sizeof(sub), "%s.name", m->path);
            if (!expect(d, namen, YAML_SCALAR_NODE, sub, "a module name"))
                return false;
        }
        m->name = yaml_text(namen);
        m->at = namen;
        if (!platform_name(m->name))
            return fail(d, namen, "%s: invalid module name \"%s\"; use lowercase letters, digits and \"-\" "
                        "(not first or last)", d->version == 2 ? "modules" : sub,
                        shorten(m->name, strlen(m->name), buf, sizeof(buf)));
        for (size_t j = 0; j < i; j++)
            if (strcmp(ms[j].name, m->name) == 0)
                return fail(d, namen, "duplicate module \"%s\" (first at %d:%d)", m->name,
                            (int)ms[j].at->start_mark.line + 1, (int)ms[j].at->start_mark.column + 1);
        if (!map_get(d, m->node, defkey, &def, &defk))
            return false;
        snprintf(sub, sizeof(sub), "%s.%s", m->path, defkey);
        if (def != NULL && !get_bool(d, def, sub, &m->is_default))
            return false;
        if (m->is_default && first_default != SIZE_MAX)
            return fail(d, defk, "%s: modules \"%s\" and \"%s\" are both the default; keep one", sub,
                        ms[first_default].name, m->name);
        if (m->is_default)
            first_default = i;
        *n = i + 1;
    }
    if (first_default == SIZE_MAX) {
        size_t i;

        for (i = 0; i < total && strcmp(ms[i].name, "default") != 0; i++)
            ;
        ms[i < total ? i : 0].is_default = true;
    }
    return true;
}

/* spec_version: 2 or specVersion: 3 (either key takes either number). */
static bool desc_version(struct desc *d, const yaml_node_t *root)
{
    yaml_node_t *v2, *v3, *k2, *k3, *v, *k;

    if (!map_get(d, root, "spec_version", &v2, &k2) || !map_get(d, root, "specVersion", &v3, &k3))
        return false;
    if (v2 != NULL && v3 != NULL)
        return fail(d, k3, "set either \"spec_version\" or \"specVersion\", not both");
    v = v2 != NULL ? v2 : v3;
    k = v2 != NULL ? k2 : k3;
    if (v == NULL)
        return fail(d, root, "missing spec_version; drover reads spec_version: 2 and specVersion: 3");
    if (v->type == YAML_SCALAR_NODE && strcmp(yaml_text(v), "2") == 0)
        d->version = 2;
    else if (v->type == YAML_SCALAR_NODE && strcmp(yaml_text(v), "3") == 0)
        d->version = 3;
    else {
        char buf[80];

        return fail(d, v, "%s: unsupported version %s; drover reads spec_version: 2 and specVersion: 3",
                    yaml_text(k), yaml_describe(v, buf, sizeof(buf)));
    }
    return true;
}

int formation_parse_app_desc(const char *path, const char *dir, struct formation *f, char *err, size_t errlen)
{
    struct desc d = {.path = path, .err = err, .errlen = errlen};
    struct yaml_reader yr;
    struct yaml_problem pb;
    struct module *mods = NULL;
    size_t nmods = 0, len;
    char *text = NULL;
    yaml_node_t *root;

    memset(f, 0, sizeof(*f));
    memset(&yr, 0, sizeof(yr));
    if (read_file(path, &text, &len, err, errlen) < 0)
        return -1;
    if ((f->arena = d.a = arena_new()) == NULL || (f->file = absolute(d.a, path)) == NULL ||
        (d.dir = types_dir(d.a, dir, f->file)) == NULL) {
        oom(&d);
        goto done;
    }
    if (yaml_reader_open(&yr, text, len, &pb) < 0) {
        fail_at(&d, pb.line, pb.col, "%s", pb.msg);
        goto done;
    }
    d.doc = &yr.doc;
    root = yaml_document_get_root_node(d.doc);
    if (root == NULL || yaml_is_null(root)) {
        fail(&d, NULL, "empty file; expected spec_version: 2 or specVersion: 3");
        goto done;
    }
    if (!expect(&d, root, YAML_MAPPING_NODE, "top level", "a mapping") || !desc_version(&d, root) ||
        !collect_modules(&d, root, &mods, &nmods))
        goto done;
    for (size_t i = 0; i < nmods; i++)
        if (!parse_module(&d, &mods[i]))
            goto done;
    if (d.ntypes == 0) {
        fail(&d, NULL, "no process types");
        goto done;
    }
    if (yaml_reader_end(&yr, &pb) < 0) {
        fail_at(&d, pb.line, pb.col, "%s", pb.msg);
        goto done;
    }
    if ((f->types = arena_alloc(d.a, d.ntypes * sizeof(*f->types))) == NULL) {
        oom(&d);
        goto done;
    }
    for (size_t i = 0; i < d.ntypes; i++)
        f->types[i] = d.types[i].t;
    f->ntypes = d.ntypes;

done:
    yaml_reader_close(&yr);
    free(mods);
    free(d.types);
    free(text);
    if (d.failed) {
        formation_free(f);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Loading                                                             */

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
        return set_err(err, errlen, "%s: path too long", dir);
    /* lstat: a dangling Procfile symlink is reported, not skipped. */
    has_pf = lstat(pf, &st) == 0;
    has_ad = lstat(ad, &st) == 0;
    if (!has_pf && !has_ad)
        return set_err(err, errlen, "%s: no Procfile or app_desc.yaml", dir);
    if (!has_pf)
        return formation_parse_app_desc(ad, dir, f, err, errlen);
    if (formation_parse_procfile(pf, dir, f, err, errlen) < 0)
        return -1;
    if (has_ad && (f->ignored = arena_strdup(f->arena, ad)) == NULL) {
        formation_free(f);
        return set_err(err, errlen, "out of memory");
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

/* ------------------------------------------------------------------ */
/* -m                                                                  */

int formation_parse_scale(const char *s, struct scale_entry *out, size_t max, size_t *n, char *err, size_t errlen)
{
    const char *p = s;
    size_t count = 0;
    char buf[80];

    *n = 0;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0')
        return set_err(err, errlen, "empty; expected TYPE=N[,TYPE=N...], e.g. web=4,worker=1");
    for (;;) {
        const char *item = p, *end = strchr(p, ','), *eq, *ne, *v, *ve;
        long value = 0;

        if (end == NULL)
            end = p + strlen(p);
        while (item < end && blank(*item))
            item++;
        ve = end;
        while (ve > item && blank(ve[-1]))
            ve--;
        if (item == ve)
            return set_err(err, errlen, "empty entry in \"%s\"; expected TYPE=N[,TYPE=N...]",
                           shorten(s, strlen(s), buf, sizeof(buf)));
        eq = memchr(item, '=', (size_t)(ve - item));
        if (eq == NULL)
            return set_err(err, errlen, "\"%s\": expected TYPE=N", shorten(item, (size_t)(ve - item), buf, sizeof(buf)));
        for (ne = eq; ne > item && blank(ne[-1]); ne--)
            ;
        for (v = eq + 1; v < ve && blank(*v); v++)
            ;
        if (ne == item)
            return set_err(err, errlen, "\"%s\": missing process type before \"=\"",
                           shorten(item, (size_t)(ve - item), buf, sizeof(buf)));
        for (const char *q = item; q < ne; q++)
            if (!type_char((unsigned char)*q))
                return set_err(err, errlen, "\"%s\": invalid process type name; use letters, digits, \"_\" and \"-\"",
                               shorten(item, (size_t)(ne - item), buf, sizeof(buf)));
        if (ne - item > MAX_TYPE_NAME)
            return set_err(err, errlen, "\"%s\": process type name too long (over %d characters)",
                           shorten(item, (size_t)(ne - item), buf, sizeof(buf)), MAX_TYPE_NAME);
        if (v == ve)
            return set_err(err, errlen, "\"%s\": missing count after \"=\"",
                           shorten(item, (size_t)(ve - item), buf, sizeof(buf)));
        for (const char *q = v; q < ve; q++)
            value = is_digit(*q) && value <= MAX_COUNT ? value * 10 + (*q - '0') : LONG_MAX;
        if (value > MAX_COUNT)
            return set_err(err, errlen, "\"%s\": the count must be a number from 0 to %d",
                           shorten(item, (size_t)(ve - item), buf, sizeof(buf)), MAX_COUNT);
        for (size_t i = 0; i < count; i++)
            if (strlen(out[i].name) == (size_t)(ne - item) && memcmp(out[i].name, item, (size_t)(ne - item)) == 0)
                return set_err(err, errlen, "\"%s\" is given twice", out[i].name);
        if (count == max)
            return set_err(err, errlen, "too many entries (at most %zu)", max);
        snprintf(out[count].name, sizeof(out[count].name), "%.*s", (int)(ne - item), item);
        out[count].count = (int)value;
        count++;
        if (*end == '\0')
            break;
        p = end + 1;
    }
    *n = count;
    return 0;
}

/* ------------------------------------------------------------------ */
/* The plan                                                            */

static struct plan_type *plan_find(const struct plan *p, const char *name)
{
    for (size_t i = 0; i < p->ntypes; i++)
        if (strcmp(p->types[i].name, name) == 0)
            return &p->types[i];
    return NULL;
}

static const struct conf_process *conf_find(const struct conf *conf, const char *name)
{
    for (size_t i = 0; i < conf->nprocesses; i++)
        if (strcmp(conf->processes[i].name, name) == 0)
            return &conf->processes[i];
    return NULL;
}

/* "FILE:LINE:COL: " for something written in drover.yaml, "" without one. */
static const char *conf_where(const struct conf *conf, int line, int col, char *buf, size_t len)
{
    if (conf->file == NULL)
        buf[0] = '\0';
    else if (line > 0)
        snprintf(buf, len, "%s:%d:%d: ", conf->file, line, col);
    else
        snprintf(buf, len, "%s: ", conf->file);
    return buf;
}

static char *dup_or_null(struct arena *a, const char *s, bool *ok)
{
    char *c;

    if (s == NULL)
        return NULL;
    if ((c = arena_strdup(a, s)) == NULL)
        *ok = false;
    return c;
}

/* processes.<type> (copied into A), or the defaults conf uses. */
static bool plan_settings(struct arena *a, const struct conf_process *src, const char *name, struct conf_process *dst)
{
    bool ok = true;

    if (src == NULL) {
        memset(dst, 0, sizeof(*dst));
        dst->instances = -1;
        dst->ready_timeout_ms = 30000;
        dst->stop_timeout_ms = 10000;
        dst->restart_min_ms = 100;
        dst->restart_max_ms = 30000;
        dst->name = dup_or_null(a, name, &ok);
        return ok;
    }
    *dst = *src;
    dst->name = dup_or_null(a, src->name, &ok);
    dst->command = dup_or_null(a, src->command, &ok);
    dst->ready_path = dup_or_null(a, src->ready_path, &ok);
    dst->env = NULL;
    dst->nenv = 0;
    if (src->nenv > 0) {
        if ((dst->env = arena_alloc(a, src->nenv * sizeof(*dst->env))) == NULL)
            return false;
        for (size_t i = 0; i < src->nenv; i++) {
            dst->env[i].key = dup_or_null(a, src->env[i].key, &ok);
            dst->env[i].value = dup_or_null(a, src->env[i].value, &ok);
        }
        dst->nenv = src->nenv;
    }
    return ok;
}

/* Sets KEY to VALUE in ENV (already in the plan's arena): replaced where
 * it first stood, else appended. */
static void env_set(struct conf_kv *env, size_t *n, char *key, char *value)
{
    size_t i;

    for (i = 0; i < *n && strcmp(env[i].key, key) != 0; i++)
        ;
    env[i].key = key;
    env[i].value = value;
    if (i == *n)
        (*n)++;
}

/* -m, else processes.<type>.instances, else replicas, else 1. */
static int plan_count(const char *name, const struct scale_entry *m, size_t nm, int instances, int replicas)
{
    int all = -1, named = -1;

    for (size_t i = 0; i < nm; i++) {
        if (strcmp(m[i].name, "all") == 0)
            all = m[i].count;
        else if (strcmp(m[i].name, name) == 0)
            named = m[i].count;
    }
    if (named >= 0)
        return named;
    if (all >= 0)
        return all;
    if (instances >= 0)
        return instances;
    if (replicas >= 0)
        return replicas;
    return 1;
}

/* The .env file: app.env_file, else <app dir>/.env when there is one. */
static int plan_dotenv(const struct conf *conf, struct arena *a, struct conf_kv **kv, size_t *n, char *err,
                       size_t errlen)
{
    char path[PATH_MAX];
    struct stat st;

    *kv = NULL;
    *n = 0;
    if (conf->app.env_file != NULL)
        return dotenv_parse(conf->app.env_file, a, kv, n, err, errlen);
    if (conf->app.dir == NULL)
        return 0;
    if (snprintf(path, sizeof(path), "%s/.env", conf->app.dir) >= (int)sizeof(path) || lstat(path, &st) < 0)
        return 0;
    return dotenv_parse(path, a, kv, n, err, errlen);
}

int plan_build(const struct conf *conf, const struct formation *f, const struct scale_entry *m, size_t nm,
               struct plan *p, char *err, size_t errlen)
{
    size_t nf = f != NULL ? f->ntypes : 0, ndotenv = 0;
    const char *fname = f != NULL && f->file != NULL ? path_base(f->file) : "the formation";
    struct conf_kv *dotenv = NULL;
    char where[PATH_MAX + 32], list[1024];
    const char **names;
    bool ok = true;

    memset(p, 0, sizeof(*p));
    if ((p->arena = arena_new()) == NULL ||
        (p->types = arena_alloc(p->arena, (nf + conf->nprocesses + 1) * sizeof(*p->types))) == NULL)
        goto nomem;
    p->base_port = conf->app.base_port;
    if (f != NULL) {
        p->formation_file = dup_or_null(p->arena, f->file, &ok);
        p->ignored_file = dup_or_null(p->arena, f->ignored, &ok);
    }

    /* The types: the formation's, then drover.yaml's own. */
    for (size_t i = 0; i < nf; i++) {
        struct plan_type *t = &p->types[p->ntypes];

        t->name = dup_or_null(p->arena, f->types[i].name, &ok);
        t->command = dup_or_null(p->arena, f->types[i].command, &ok);
        t->dir = dup_or_null(p->arena, f->types[i].dir != NULL ? f->types[i].dir : conf->app.dir, &ok);
        t->index = (int)p->ntypes++;
    }
    for (size_t i = 0; i < conf->nprocesses; i++) {
        const struct conf_process *cp = &conf->processes[i];
        struct plan_type *t;

        if (plan_find(p, cp->name) != NULL)
            continue;
        if (cp->command == NULL) {
            set_err(err, errlen, "%sprocesses.%s: process type \"%s\" is not in %s and has no command",
                    conf_where(conf, cp->line, cp->col, where, sizeof(where)), cp->name, cp->name, fname);
            goto fail;
        }
        t = &p->types[p->ntypes];
        t->name = dup_or_null(p->arena, cp->name, &ok);
        t->dir = dup_or_null(p->arena, conf->app.dir, &ok);
        t->index = (int)p->ntypes++;
    }
    if (!ok)
        goto nomem;

    if ((names = arena_alloc(p->arena, (p->ntypes + 1) * sizeof(*names))) == NULL)
        goto nomem;
    for (size_t i = 0; i < p->ntypes; i++)
        names[i] = p->types[i].name;
    for (size_t i = 0; i < nm; i++) {
        const char *hint;

        if (strcmp(m[i].name, "all") == 0 || plan_find(p, m[i].name) != NULL)
            continue;
        hint = suggest_name(m[i].name, names, p->ntypes);
        suggest_list(names, p->ntypes, ", ", list, sizeof(list));
        if (p->ntypes == 0)
            set_err(err, errlen, "-m: unknown process type \"%s\"; the formation has no process types", m[i].name);
        else if (hint != NULL)
            set_err(err, errlen, "-m: unknown process type \"%s\"; the formation has: %s (did you mean \"%s\"?)",
                    m[i].name, list, hint);
        else
            set_err(err, errlen, "-m: unknown process type \"%s\"; the formation has: %s", m[i].name, list);
        goto fail;
    }

    for (size_t i = 0; i < conf->nroutes; i++) {
        const struct conf_route *r = &conf->routes[i];
        struct plan_type *t;

        if (r->process == NULL)
            continue;
        if ((t = plan_find(p, r->process)) != NULL) {
            t->routed = true;
        } else if (r->line > 0) {
            /* The implicit "/ → web" route (line 0) is no mistake: a
             * worker-only app simply has nothing to route to. */
            if (conf->file != NULL)
                set_err(err, errlen, "%s:%d:%d: routes[%zu]: process type \"%s\" is not in %s", conf->file, r->line,
                        r->col, i, r->process, fname);
            else
                set_err(err, errlen, "route: process type \"%s\" is not in %s", r->process, fname);
            goto fail;
        }
    }

    if (plan_dotenv(conf, p->arena, &dotenv, &ndotenv, err, errlen) < 0)
        goto fail;

    for (size_t i = 0; i < p->ntypes; i++) {
        struct plan_type *t = &p->types[i];
        const struct conf_process *cp = conf_find(conf, t->name);
        const struct formation_type *ft = i < nf ? &f->types[i] : NULL;
        size_t cap = (ft != NULL ? ft->nenv : 0) + ndotenv + (cp != NULL ? cp->nenv : 0);
        long top;

        if (!plan_settings(p->arena, cp, t->name, &t->settings))
            goto nomem;
        if (t->settings.command != NULL)
            t->command = t->settings.command;
        t->count = plan_count(t->name, m, nm, t->settings.instances, ft != NULL ? ft->replicas : -1);

        if (cap > 0 && (t->env = arena_alloc(p->arena, cap * sizeof(*t->env))) == NULL)
            goto nomem;
        for (size_t k = 0; ft != NULL && k < ft->nenv; k++)
            env_set(t->env, &t->nenv, dup_or_null(p->arena, ft->env[k].key, &ok),
                    dup_or_null(p->arena, ft->env[k].value, &ok));
        if (!ok)
            goto nomem;
        for (size_t k = 0; k < ndotenv; k++)
            env_set(t->env, &t->nenv, dotenv[k].key, dotenv[k].value);
        for (size_t k = 0; k < t->settings.nenv; k++)
            env_set(t->env, &t->nenv, t->settings.env[k].key, t->settings.env[k].value);

        /* Each type owns 100 ports: more instances would take the next
         * type's, and two processes would be handed the same $PORT. */
        if (t->count > PORTS_PER_TYPE && i + 1 < p->ntypes) {
            set_err(err, errlen, "%s x%d: more than %d instances would use the ports of %s (each type has %d ports "
                    "from base_port + 100 * its index); only the last type may have more", t->name, t->count,
                    PORTS_PER_TYPE, p->types[i + 1].name, PORTS_PER_TYPE);
            goto fail;
        }
        top = (long)p->base_port + (long)PORTS_PER_TYPE * t->index + t->count - 1;
        if (t->count > 0 && top > 65535) {
            set_err(err, errlen, "%s%s.%d would get port %ld (base_port %d + 100 * %d + %d), above 65535; lower "
                    "app.base_port or the instance count", conf_where(conf, 0, 0, where, sizeof(where)), t->name,
                    t->count, top, p->base_port, t->index, t->count - 1);
            goto fail;
        }
    }
    return 0;

nomem:
    set_err(err, errlen, "out of memory");
fail:
    plan_free(p);
    return -1;
}

void plan_free(struct plan *p)
{
    if (p == NULL)
        return;
    arena_free(p->arena);
    memset(p, 0, sizeof(*p));
}

int plan_port(const struct plan *p, const struct plan_type *t, int slot)
{
    return p->base_port + PORTS_PER_TYPE * t->index + slot;
}

/* ------------------------------------------------------------------ */
/* `drover check`                                                      */

static const char *format_size(uint64_t v, char *buf, size_t len)
{
    static const char units[] = "kMGT";
    int u = -1;

    while (u < 3 && v >= 1024 && v % 1024 == 0) {
        v /= 1024;
        u++;
    }
    if (u < 0)
        snprintf(buf, len, "%" PRIu64, v);
    else
        snprintf(buf, len, "%" PRIu64 "%c", v, units[u]);
    return buf;
}

/* A command on one line: control characters shown escaped. */
static void print_command(const char *s, FILE *out)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '\n')
            fputs("\\n", out);
        else if (c == '\t')
            fputs("\\t", out);
        else if (c < 0x20 || c == 0x7f)
            fprintf(out, "\\x%02x", c);
        else
            fputc(c, out);
    }
    fputc('\n', out);
}

void plan_print(const struct plan *p, FILE *out)
{
    int w = PLAN_COL;
    char label[PLAN_COL + 96], a[32], b[32], c[32];

    /* Long type names push the column out for the whole table. */
    for (size_t i = 0; i < p->ntypes; i++) {
        int n = snprintf(label, sizeof(label), "  %s.%d", p->types[i].name, p->types[i].count) + 2;
        int m = snprintf(label, sizeof(label), "%s x%d", p->types[i].name, p->types[i].count) + 2;

        if (n > w)
            w = n;
        if (m > w)
            w = m;
    }
    if (p->formation_file == NULL)
        fprintf(out, "%-*snone\n", w, "formation");
    else if (p->ignored_file != NULL)
        fprintf(out, "%-*s%s (%s ignored: the %s wins)\n", w, "formation", p->formation_file,
                path_base(p->ignored_file), path_base(p->formation_file));
    else
        fprintf(out, "%-*s%s\n", w, "formation", p->formation_file);

    for (size_t i = 0; i < p->ntypes; i++) {
        const struct plan_type *t = &p->types[i];
        const struct conf_process *s = &t->settings;

        snprintf(label, sizeof(label), "%s x%d", t->name, t->count);
        fprintf(out, "%-*s", w, label);
        if (!t->routed)
            fprintf(out, "not routed");
        else if (s->ready_path != NULL)
            fprintf(out, "routed, ready: HTTP GET %s within %s", s->ready_path,
                    conf_format_duration(s->ready_timeout_ms, a, sizeof(a)));
        else
            fprintf(out, "routed, ready: TCP connect within %s", conf_format_duration(s->ready_timeout_ms, a, sizeof(a)));
        if (s->command != NULL)
            fprintf(out, ", command from drover.yaml");
        fputc('\n', out);
        fprintf(out, "%-*sdir %s, stop_timeout %s, restart back-off %s..%s", w, "", t->dir != NULL ? t->dir : "?",
                conf_format_duration(s->stop_timeout_ms, a, sizeof(a)), conf_format_duration(s->restart_min_ms, b,
                sizeof(b)), conf_format_duration(s->restart_max_ms, c, sizeof(c)));
        if (s->memory_limit > 0)
            fprintf(out, ", memory_limit %s", format_size(s->memory_limit, a, sizeof(a)));
        if (s->max_inflight > 0)
            fprintf(out, ", max_inflight %u", s->max_inflight);
        fputc('\n', out);
        if (t->nenv > 0) {
            /* Names only: values are often secrets. */
            fprintf(out, "%-*senv ", w, "");
            for (size_t k = 0; k < t->nenv; k++)
                fprintf(out, "%s%s", k > 0 ? ", " : "", t->env[k].key);
            fputc('\n', out);
        }
        for (int slot = 0; slot < t->count; slot++) {
            snprintf(label, sizeof(label), "  %s.%d", t->name, slot + 1);
            fprintf(out, "%-*sport %-5d  ", w, label, plan_port(p, t, slot));
            print_command(t->command != NULL ? t->command : "", out);
        }
    }
}
