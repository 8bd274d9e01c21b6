/* conf/app_desc.c: a BlueKing app_desc.yaml, spec_version 2 or
 * specVersion 3, read for its process types: their commands, replicas,
 * module directories and module env. drover reads only the keys it needs;
 * the platform's others are none of its business and are not checked. */
#include "conf/formation.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "conf/internal.h"
#include "lib/arena.h"
#include "lib/path.h"
#include "lib/yamlnode.h"

bool desc_platform_name(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || s[0] == '-' || s[n - 1] == '-')
        return false;
    for (; *s != '\0'; s++)
        if (!conf_is_digit(*s) && !(*s >= 'a' && *s <= 'z') && *s != '-')
            return false;
    return true;
}

yaml_node_t *desc_node(struct desc *d, int index)
{
    return yaml_document_get_node(d->doc, index);
}

bool desc_fail_at(struct desc *d, int line, int col, const char *fmt, ...)
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

bool desc_oom(struct desc *d)
{
    return desc_fail(d, NULL, "out of memory");
}

bool desc_expect(struct desc *d, const yaml_node_t *n, yaml_node_type_t kind, const char *path, const char *what)
{
    char buf[80];

    if (n->type == kind)
        return true;
    return desc_fail(d, n, "%s: expected %s, got %s", path, what, yaml_describe(n, buf, sizeof(buf)));
}

/* The platform's other keys are none of drover's business: they are not
 * even checked for duplicates. */
bool desc_map_get(struct desc *d, const yaml_node_t *map, const char *key, yaml_node_t **out,
                  yaml_node_t **keynode)
{
    yaml_node_t *found = NULL;

    *out = NULL;
    if (keynode != NULL)
        *keynode = NULL;
    if (map == NULL || map->type != YAML_MAPPING_NODE)
        return true;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = desc_node(d, p->key);

        if (k->type != YAML_SCALAR_NODE || strcmp(yaml_text(k), key) != 0)
            continue;
        if (found != NULL)
            return desc_fail(d, k, "duplicate key \"%s\"; first at %d:%d", key, desc_line(found),
                             desc_col(found));
        found = k;
        *out = desc_node(d, p->value);
        if (keynode != NULL)
            *keynode = k;
    }
    if (yaml_is_null(*out))
        *out = NULL;
    return true;
}

bool desc_str(struct desc *d, const yaml_node_t *n, const char *path, char **out)
{
    if (!desc_expect(d, n, YAML_SCALAR_NODE, path, "a string"))
        return false;
    if ((*out = arena_strdup(d->a, yaml_text(n))) == NULL)
        return desc_oom(d);
    return true;
}

/* is_default / isDefault, with drover.yaml's words for true and false. */
static bool get_bool(struct desc *d, const yaml_node_t *n, const char *path, bool *out)
{
    char buf[80];

    if (n->type == YAML_SCALAR_NODE && value_bool_word(yaml_text(n), out) == 0)
        return true;
    return desc_fail(d, n, "%s: expected true or false, got %s", path, yaml_describe(n, buf, sizeof(buf)));
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
    if (!desc_expect(d, n, YAML_SCALAR_NODE, path, "a directory"))
        return false;
    s = yaml_text(n);
    if (s[0] == '/')
        return desc_fail(d, n, "%s: must be relative to the app directory, got \"%.60s\"", path, s);
    if (path_abs(d->dir, s, abs, sizeof(abs)) < 0)
        return desc_fail(d, n, "%s: path too long", path);
    if (stat(abs, &st) < 0)
        return desc_fail(d, n, "%s: %s: %s", path, abs, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return desc_fail(d, n, "%s: %s: not a directory", path, abs);
    if ((*out = arena_strdup(d->a, abs)) == NULL)
        return desc_oom(d);
    return true;
}

/* A module's env list: v2 env_variables [{key, value, environment_name}],
 * v3 spec.configuration.env [{name, value}]. A later duplicate replaces
 * the earlier value. */
static bool parse_env(struct desc *d, const yaml_node_t *seq, const char *path, struct conf_kv **env,
                      size_t *nenv)
{
    const char *keyname = d->version == 2 ? "key" : "name";
    size_t total;
    char ipath[192];

    *env = NULL;
    *nenv = 0;
    if (seq == NULL)
        return true;
    if (!desc_expect(d, seq, YAML_SEQUENCE_NODE, path, "a list of variables"))
        return false;
    total = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    if (total == 0)
        return true;
    if ((*env = arena_alloc(d->a, total * sizeof(**env))) == NULL)
        return desc_oom(d);
    for (size_t i = 0; i < total; i++) {
        yaml_node_t *item = desc_node(d, seq->data.sequence.items.start[i]), *k, *v, *envname, *kn, *vn;
        char *key, *value, *scope, buf[80], sub[256];

        snprintf(ipath, sizeof(ipath), "%s[%zu]", path, i);
        if (!desc_expect(d, item, YAML_MAPPING_NODE, ipath, "a mapping"))
            return false;
        if (!desc_map_get(d, item, keyname, &k, &kn) || !desc_map_get(d, item, "value", &v, &vn) ||
            !desc_map_get(d, item, "environment_name", &envname, NULL))
            return false;
        if (k == NULL)
            return desc_fail(d, item, "%s: missing \"%s\"", ipath, keyname);
        snprintf(sub, sizeof(sub), "%s.%s", ipath, keyname);
        if (!desc_str(d, k, sub, &key))
            return false;
        if (!conf_env_name_ok(key, strlen(key)))
            return desc_fail(d, k, "%s: invalid variable name \"%s\"; use letters, digits and \"_\", not "
                             "starting with a digit", sub, formation_shorten(key, strlen(key), buf, sizeof(buf)));
        /* "value:" alone is an empty value; no "value" key is a mistake. */
        if (vn == NULL)
            return desc_fail(d, item, "%s: missing \"value\"", ipath);
        snprintf(sub, sizeof(sub), "%s.value", ipath);
        if (v == NULL)
            value = "";
        else if (!desc_str(d, v, sub, &value))
            return false;
        /* v2 can scope a variable to one platform environment ("stag",
         * "prod") or to all ("_global_", the default). drover is neither
         * platform environment: only the variables for all apply. */
        if (envname != NULL) {
            snprintf(sub, sizeof(sub), "%s.environment_name", ipath);
            if (!desc_str(d, envname, sub, &scope))
                return false;
            if (strcmp(scope, "stag") == 0 || strcmp(scope, "prod") == 0)
                continue;
            if (strcmp(scope, "_global_") != 0)
                return desc_fail(d, envname, "%s: expected _global_, stag or prod, got \"%s\"", sub,
                                 formation_shorten(scope, strlen(scope), buf, sizeof(buf)));
        }
        formation_env_set(*env, nenv, key, value);
    }
    return true;
}

/* One module's directory, env and processes. */
static bool parse_module(struct desc *d, const struct desc_module *m)
{
    yaml_node_t *procs, *envs, *dirn, *spec = NULL, *cfg = NULL;
    struct conf_kv *env;
    size_t nenv;
    char *dir, sub[160];

    if (d->version == 2) {
        if (!desc_map_get(d, m->node, "processes", &procs, NULL) ||
            !desc_map_get(d, m->node, "env_variables", &envs, NULL) ||
            !desc_map_get(d, m->node, "source_dir", &dirn, NULL))
            return false;
        snprintf(sub, sizeof(sub), "%s.source_dir", m->path);
    } else {
        if (!desc_map_get(d, m->node, "spec", &spec, NULL) || !desc_map_get(d, m->node, "sourceDir", &dirn, NULL))
            return false;
        snprintf(sub, sizeof(sub), "%s.spec", m->path);
        if (spec != NULL && !desc_expect(d, spec, YAML_MAPPING_NODE, sub, "a mapping"))
            return false;
        if (!desc_map_get(d, spec, "processes", &procs, NULL) ||
            !desc_map_get(d, spec, "configuration", &cfg, NULL))
            return false;
        snprintf(sub, sizeof(sub), "%s.spec.configuration", m->path);
        if (cfg != NULL && !desc_expect(d, cfg, YAML_MAPPING_NODE, sub, "a mapping"))
            return false;
        if (!desc_map_get(d, cfg, "env", &envs, NULL))
            return false;
        snprintf(sub, sizeof(sub), "%s.sourceDir", m->path);
    }
    if (!module_dir(d, dirn, sub, &dir))
        return false;
    snprintf(sub, sizeof(sub), d->version == 2 ? "%s.env_variables" : "%s.spec.configuration.env", m->path);
    if (!parse_env(d, envs, sub, &env, &nenv))
        return false;
    return procs == NULL || desc_processes(d, m, procs, dir, env, nenv);
}

/* The module list: v2 "module" / "modules" mapping; v3 "modules" list (or
 * a single "module"). Marks the default one. */
static bool collect_modules(struct desc *d, const yaml_node_t *root, struct desc_module **out, size_t *n)
{
    const char *defkey = d->version == 2 ? "is_default" : "isDefault";
    yaml_node_t *one, *many, *onek, *manyk;
    struct desc_module *ms = NULL;
    size_t total = 0, first_default = SIZE_MAX;
    char buf[80];

    *out = NULL;
    *n = 0;
    if (!desc_map_get(d, root, "module", &one, &onek) || !desc_map_get(d, root, "modules", &many, &manyk))
        return false;
    if (one != NULL && many != NULL)
        return desc_fail(d, manyk, "set either \"module\" or \"modules\", not both");
    if (one == NULL && many == NULL)
        return desc_fail(d, root, "missing \"module\" or \"modules\": no processes to run");
    if (one != NULL) {
        if (!desc_expect(d, one, YAML_MAPPING_NODE, "module", "a mapping"))
            return false;
        if ((ms = calloc(1, sizeof(*ms))) == NULL)
            return desc_oom(d);
        ms->node = one;
        ms->at = onek;
        ms->is_default = true;
        snprintf(ms->path, sizeof(ms->path), "module");
        *out = ms;
        *n = 1;
        return true;
    }
    if (d->version == 2) {
        if (!desc_expect(d, many, YAML_MAPPING_NODE, "modules", "a mapping of modules"))
            return false;
        total = (size_t)(many->data.mapping.pairs.top - many->data.mapping.pairs.start);
    } else {
        if (!desc_expect(d, many, YAML_SEQUENCE_NODE, "modules", "a list of modules"))
            return false;
        total = (size_t)(many->data.sequence.items.top - many->data.sequence.items.start);
    }
    if (total == 0)
        return desc_fail(d, many, "modules: no modules");
    if ((ms = calloc(total, sizeof(*ms))) == NULL)
        return desc_oom(d);
    *out = ms;
    for (size_t i = 0; i < total; i++) {
        struct desc_module *m = &ms[i];
        yaml_node_t *namen, *def, *defk;
        char sub[160];

        if (d->version == 2) {
            const yaml_node_pair_t *p = &many->data.mapping.pairs.start[i];

            namen = desc_node(d, p->key);
            m->node = desc_node(d, p->value);
            m->at = namen;
            if (namen->type != YAML_SCALAR_NODE)
                return desc_fail(d, namen, "modules: module names must be names, got %s",
                                 yaml_describe(namen, buf, sizeof(buf)));
            snprintf(m->path, sizeof(m->path), "modules.%.60s", yaml_text(namen));
            if (yaml_is_null(m->node))
                return desc_fail(d, namen, "%s: empty module", m->path);
            if (!desc_expect(d, m->node, YAML_MAPPING_NODE, m->path, "a mapping"))
                return false;
        } else {
            m->node = desc_node(d, many->data.sequence.items.start[i]);
            m->at = m->node;
            snprintf(m->path, sizeof(m->path), "modules[%zu]", i);
            if (!desc_expect(d, m->node, YAML_MAPPING_NODE, m->path, "a mapping"))
                return false;
            if (!desc_map_get(d, m->node, "name", &namen, NULL))
                return false;
            if (namen == NULL)
                return desc_fail(d, m->node, "%s: missing \"name\"", m->path);
            snprintf(sub, sizeof(sub), "%s.name", m->path);
            if (!desc_expect(d, namen, YAML_SCALAR_NODE, sub, "a module name"))
                return false;
        }
        m->name = yaml_text(namen);
        m->at = namen;
        if (!desc_platform_name(m->name))
            return desc_fail(d, namen, "%s: invalid module name \"%s\"; use lowercase letters, digits and \"-\" "
                             "(not first or last)", d->version == 2 ? "modules" : sub,
                             formation_shorten(m->name, strlen(m->name), buf, sizeof(buf)));
        for (size_t j = 0; j < i; j++)
            if (strcmp(ms[j].name, m->name) == 0)
                return desc_fail(d, namen, "duplicate module \"%s\" (first at %d:%d)", m->name,
                                 desc_line(ms[j].at), desc_col(ms[j].at));
        if (!desc_map_get(d, m->node, defkey, &def, &defk))
            return false;
        snprintf(sub, sizeof(sub), "%s.%s", m->path, defkey);
        if (def != NULL && !get_bool(d, def, sub, &m->is_default))
            return false;
        if (m->is_default && first_default != SIZE_MAX)
            return desc_fail(d, defk, "%s: modules \"%s\" and \"%s\" are both the default; keep one", sub,
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
static bool spec_version(struct desc *d, const yaml_node_t *root)
{
    yaml_node_t *v2, *v3, *k2, *k3, *v, *k;

    if (!desc_map_get(d, root, "spec_version", &v2, &k2) || !desc_map_get(d, root, "specVersion", &v3, &k3))
        return false;
    if (v2 != NULL && v3 != NULL)
        return desc_fail(d, k3, "set either \"spec_version\" or \"specVersion\", not both");
    v = v2 != NULL ? v2 : v3;
    k = v2 != NULL ? k2 : k3;
    if (v == NULL)
        return desc_fail(d, root, "missing spec_version; drover reads spec_version: 2 and specVersion: 3");
    if (v->type == YAML_SCALAR_NODE && strcmp(yaml_text(v), "2") == 0)
        d->version = 2;
    else if (v->type == YAML_SCALAR_NODE && strcmp(yaml_text(v), "3") == 0)
        d->version = 3;
    else {
        char buf[80];

        return desc_fail(d, v, "%s: unsupported version %s; drover reads spec_version: 2 and specVersion: 3",
                         yaml_text(k), yaml_describe(v, buf, sizeof(buf)));
    }
    return true;
}

int formation_parse_app_desc(const char *path, const char *dir, struct formation *f, char *err, size_t errlen)
{
    struct desc d = {.path = path, .err = err, .errlen = errlen};
    struct yaml_reader yr;
    struct yaml_problem pb;
    struct desc_module *mods = NULL;
    size_t nmods = 0, len;
    char *text = NULL;
    yaml_node_t *root;

    memset(f, 0, sizeof(*f));
    memset(&yr, 0, sizeof(yr));
    if (formation_read(path, &text, &len, err, errlen) < 0)
        return -1;
    if ((f->arena = d.a = arena_new()) == NULL || (f->file = formation_absolute(d.a, path)) == NULL ||
        (d.dir = formation_types_dir(d.a, dir, f->file)) == NULL) {
        desc_oom(&d);
        goto done;
    }
    if (yaml_reader_open(&yr, text, len, &pb) < 0) {
        desc_fail_at(&d, pb.line, pb.col, "%s", pb.msg);
        goto done;
    }
    d.doc = &yr.doc;
    root = yaml_document_get_root_node(d.doc);
    if (root == NULL || yaml_is_null(root)) {
        desc_fail(&d, NULL, "empty file; expected spec_version: 2 or specVersion: 3");
        goto done;
    }
    if (!desc_expect(&d, root, YAML_MAPPING_NODE, "top level", "a mapping") || !spec_version(&d, root) ||
        !collect_modules(&d, root, &mods, &nmods))
        goto done;
    for (size_t i = 0; i < nmods; i++)
        if (!parse_module(&d, &mods[i]))
            goto done;
    if (d.ntypes == 0) {
        desc_fail(&d, NULL, "no process types");
        goto done;
    }
    if (yaml_reader_end(&yr, &pb) < 0) {
        desc_fail_at(&d, pb.line, pb.col, "%s", pb.msg);
        goto done;
    }
    if ((f->types = arena_alloc(d.a, d.ntypes * sizeof(*f->types))) == NULL) {
        desc_oom(&d);
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
