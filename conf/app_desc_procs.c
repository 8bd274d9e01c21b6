/* conf/app_desc_procs.c: the processes of one app_desc.yaml module, as
 * process types: v2 "processes" (a mapping of type: {command, replicas}),
 * v3 "spec.processes" (a list of {name, procCommand or command + args,
 * replicas}). A module other than the default one prefixes its types with
 * its name ("api-web"). */
#include "conf/formation.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/internal.h"
#include "lib/arena.h"
#include "lib/sbuf.h"
#include "lib/yamlnode.h"

/* replicas: 0 to FORMATION_MAX_COUNT, a leading '+' allowed. */
static bool get_count(struct desc *d, const yaml_node_t *n, const char *path, int *out)
{
    const char *s;
    char buf[80];
    long v = 0;

    if (n->type != YAML_SCALAR_NODE)
        return desc_fail(d, n, "%s: expected an integer from 0 to %d, got %s", path, FORMATION_MAX_COUNT,
                         yaml_describe(n, buf, sizeof(buf)));
    s = yaml_text(n);
    if (*s == '+')
        s++;
    for (const char *q = s; *q != '\0' && v <= FORMATION_MAX_COUNT; q++)
        v = conf_is_digit(*q) ? v * 10 + (*q - '0') : LONG_MAX;
    if (*s == '\0' || v > FORMATION_MAX_COUNT)
        return desc_fail(d, n, "%s: expected an integer from 0 to %d, got \"%.60s\"", path, FORMATION_MAX_COUNT,
                         yaml_text(n));
    *out = (int)v;
    return true;
}

static bool check_type_name(struct desc *d, const yaml_node_t *n, const char *path, const char *name)
{
    char buf[80];

    if (desc_platform_name(name))
        return true;
    return desc_fail(d, n, "%s: invalid process type name \"%s\"; use lowercase letters, digits and \"-\" "
                     "(not first or last)", path, formation_shorten(name, strlen(name), buf, sizeof(buf)));
}

/* Appends one type (its name already checked); NAME_NODE points at its
 * name for messages. */
static bool add_type(struct desc *d, const struct desc_module *m, const yaml_node_t *name_node, const char *ppath,
                     const char *tname, char *command, int replicas, char *dir, struct conf_kv *env, size_t nenv)
{
    char full[2 * FORMATION_MAX_TYPE_NAME + 8], buf[80];
    struct desc_type *t;

    if (m->is_default)
        snprintf(full, sizeof(full), "%.*s", FORMATION_MAX_TYPE_NAME + 1, tname);
    else
        snprintf(full, sizeof(full), "%.*s-%.*s", FORMATION_MAX_TYPE_NAME, m->name, FORMATION_MAX_TYPE_NAME, tname);
    if (strlen(full) > FORMATION_MAX_TYPE_NAME)
        return desc_fail(d, name_node, "%s: process type name \"%s\" is too long (over %d characters)", ppath,
                         formation_shorten(full, strlen(full), buf, sizeof(buf)), FORMATION_MAX_TYPE_NAME);
    for (size_t i = 0; i < d->ntypes; i++) {
        const struct desc_type *o = &d->types[i];

        if (strcmp(o->t.name, full) != 0)
            continue;
        if (strcmp(full, tname) == 0)
            return desc_fail(d, name_node, "%s: duplicate process type \"%s\" (first at %d:%d)", ppath, full,
                             o->t.line, o->col);
        return desc_fail(d, name_node, "%s: process type \"%s\" (module \"%s\", type \"%s\") is already defined "
                         "at %d:%d", ppath, full, m->name, tname, o->t.line, o->col);
    }
    if (d->ntypes == d->cap) {
        size_t cap = d->cap != 0 ? d->cap * 2 : 8;
        struct desc_type *bigger = realloc(d->types, cap * sizeof(*bigger));

        if (bigger == NULL)
            return desc_oom(d);
        d->types = bigger;
        d->cap = cap;
    }
    t = &d->types[d->ntypes];
    memset(t, 0, sizeof(*t));
    if ((t->t.name = arena_strdup(d->a, full)) == NULL)
        return desc_oom(d);
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
    for (q = s; *q != '\0' && (conf_is_alnum((unsigned char)*q) || strchr("_./:=@%+,-", *q) != NULL); q++)
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
        return desc_fail(d, n, "%s: expected a string or a list of strings, got %s", path,
                         yaml_describe(n, buf, sizeof(buf)));
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        yaml_node_t *w = desc_node(d, *it);

        snprintf(sub, sizeof(sub), "%s[%zu]", path, (size_t)(it - n->data.sequence.items.start));
        if (!desc_expect(d, w, YAML_SCALAR_NODE, sub, "a string"))
            return false;
        if (b->len > 0)
            sbuf_put(b, " ", 1);
        sh_word(b, yaml_text(w));
    }
    return true;
}

/* PROC's command into *OUT (in the arena). False with *OUT NULL and no
 * error recorded when PROC has no command at all: the caller says so. */
static bool v3_command(struct desc *d, const yaml_node_t *proc, const char *ppath, char **out)
{
    yaml_node_t *pc, *cmd, *args, *pck, *ck, *ak;
    struct sbuf b = {0};
    char sub[320];
    bool ok;

    *out = NULL;
    if (!desc_map_get(d, proc, "procCommand", &pc, &pck) || !desc_map_get(d, proc, "command", &cmd, &ck) ||
        !desc_map_get(d, proc, "args", &args, &ak))
        return false;
    if (pc != NULL && (cmd != NULL || args != NULL))
        return desc_fail(d, cmd != NULL ? ck : ak, "%s: set either \"procCommand\" or \"command\"/\"args\", not "
                         "both", ppath);
    if (pc != NULL) {
        snprintf(sub, sizeof(sub), "%s.procCommand", ppath);
        if (!desc_str(d, pc, sub, out))
            return false;
        if (**out == '\0')
            return desc_fail(d, pc, "%s: empty command", sub);
        return true;
    }
    if (cmd == NULL && args != NULL)
        return desc_fail(d, ak, "%s: \"args\" without \"command\"", ppath);
    if (cmd == NULL)
        return false;
    snprintf(sub, sizeof(sub), "%s.command", ppath);
    ok = append_words(d, &b, cmd, sub);
    snprintf(sub, sizeof(sub), "%s.args", ppath);
    ok = ok && (args == NULL || append_words(d, &b, args, sub));
    if (ok && b.oom)
        ok = desc_oom(d);
    if (ok && (b.data == NULL || b.len == 0))
        ok = desc_fail(d, cmd, "%s.command: empty command", ppath);
    if (ok && (*out = arena_strdup(d->a, b.data)) == NULL)
        ok = desc_oom(d);
    free(b.data);
    return ok;
}

/* v2: processes: {TYPE: {command: ..., replicas: N}}. */
static bool v2_processes(struct desc *d, const struct desc_module *m, const yaml_node_t *procs, char *dir,
                         struct conf_kv *env, size_t nenv)
{
    char sub[160], ppath[256];

    snprintf(sub, sizeof(sub), "%s.processes", m->path);
    if (!desc_expect(d, procs, YAML_MAPPING_NODE, sub, "a mapping of process types"))
        return false;
    for (yaml_node_pair_t *p = procs->data.mapping.pairs.start; p < procs->data.mapping.pairs.top; p++) {
        yaml_node_t *k = desc_node(d, p->key), *v = desc_node(d, p->value), *cmd, *rep;
        int replicas = -1;
        char *command, buf[80], cpath[320];

        if (k->type != YAML_SCALAR_NODE)
            return desc_fail(d, k, "%s: process types must be names, got %s", sub,
                             yaml_describe(k, buf, sizeof(buf)));
        snprintf(ppath, sizeof(ppath), "%s.%.60s", sub, yaml_text(k));
        if (!check_type_name(d, k, sub, yaml_text(k)))
            return false;
        if (!yaml_is_null(v) && !desc_expect(d, v, YAML_MAPPING_NODE, ppath, "a mapping with \"command\""))
            return false;
        if (!desc_map_get(d, v, "command", &cmd, NULL) || !desc_map_get(d, v, "replicas", &rep, NULL))
            return false;
        if (cmd == NULL)
            return desc_fail(d, k, "%s: no command", ppath);
        snprintf(cpath, sizeof(cpath), "%s.command", ppath);
        if (!desc_str(d, cmd, cpath, &command))
            return false;
        if (*command == '\0')
            return desc_fail(d, cmd, "%s: empty command", cpath);
        snprintf(cpath, sizeof(cpath), "%s.replicas", ppath);
        if (rep != NULL && !get_count(d, rep, cpath, &replicas))
            return false;
        if (!add_type(d, m, k, sub, yaml_text(k), command, replicas, dir, env, nenv))
            return false;
    }
    return true;
}

/* v3: spec.processes: [{name: TYPE, procCommand or command/args, replicas}]. */
static bool v3_processes(struct desc *d, const struct desc_module *m, const yaml_node_t *procs, char *dir,
                         struct conf_kv *env, size_t nenv)
{
    char sub[160], ppath[256];

    snprintf(sub, sizeof(sub), "%s.spec.processes", m->path);
    if (!desc_expect(d, procs, YAML_SEQUENCE_NODE, sub, "a list of processes"))
        return false;
    for (yaml_node_item_t *it = procs->data.sequence.items.start; it < procs->data.sequence.items.top; it++) {
        yaml_node_t *proc = desc_node(d, *it), *name, *rep;
        char *command, *tname, cpath[320];
        int replicas = -1;

        snprintf(ppath, sizeof(ppath), "%s[%zu]", sub, (size_t)(it - procs->data.sequence.items.start));
        if (!desc_expect(d, proc, YAML_MAPPING_NODE, ppath, "a mapping"))
            return false;
        if (!desc_map_get(d, proc, "name", &name, NULL) || !desc_map_get(d, proc, "replicas", &rep, NULL))
            return false;
        if (name == NULL)
            return desc_fail(d, proc, "%s: missing \"name\"", ppath);
        snprintf(cpath, sizeof(cpath), "%s.name", ppath);
        if (!desc_str(d, name, cpath, &tname))
            return false;
        if (!check_type_name(d, name, cpath, tname))
            return false;
        if (!v3_command(d, proc, ppath, &command)) {
            if (!d->failed)
                desc_fail(d, proc, "%s (%s): no command; set \"procCommand\" or \"command\"", ppath, tname);
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

bool desc_processes(struct desc *d, const struct desc_module *m, const yaml_node_t *procs, char *dir,
                    struct conf_kv *env, size_t nenv)
{
    if (d->version == 2)
        return v2_processes(d, m, procs, dir, env, nenv);
    return v3_processes(d, m, procs, dir, env, nenv);
}
