/* conf/schema.c: the loader's error list (every mistake, sorted by
 * position before it is printed) and the checks every section makes of
 * its mapping: node kinds, duplicate keys, unknown keys with a hint. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/internal.h"
#include "lib/arena.h"
#include "lib/suggest.h"
#include "lib/yamlnode.h"

void schema_fail_at(struct loader *ld, int line, int col, const char *fmt, ...)
{
    struct conf_error *e;
    va_list ap;

    if (ld->nerr == CONF_MAX_ERRORS) {
        ld->ndropped++;
        return;
    }
    e = &ld->errs[ld->nerr];
    e->line = line;
    e->col = col;
    e->seq = ld->nerr++;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
}

void schema_oom(struct loader *ld)
{
    schema_fail_at(ld, 0, 0, "out of memory");
}

/* By position; errors at the same place keep the order they were found. */
static int error_cmp(const void *a, const void *b)
{
    const struct conf_error *x = a, *y = b;

    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    if (x->col != y->col)
        return x->col < y->col ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void schema_write_errors(struct loader *ld, char *err, size_t errlen)
{
    size_t used = 0;

    if (err == NULL || errlen == 0)
        return;
    err[0] = '\0';
    qsort(ld->errs, (size_t)ld->nerr, sizeof(ld->errs[0]), error_cmp);
    for (int i = 0; i <= ld->nerr && used < errlen; i++) {
        const char *sep = used > 0 ? "\n" : "";
        const struct conf_error *e = &ld->errs[i];
        int n;

        if (i == ld->nerr) {
            if (ld->ndropped == 0)
                break;
            n = snprintf(err + used, errlen - used, "%s%s: %d more error%s not shown", sep, ld->file,
                         ld->ndropped, ld->ndropped == 1 ? "" : "s");
        } else if (e->line > 0)
            n = snprintf(err + used, errlen - used, "%s%s:%d:%d: %s", sep, ld->file, e->line, e->col, e->msg);
        else
            n = snprintf(err + used, errlen - used, "%s%s: %s", sep, ld->file, e->msg);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

yaml_node_t *schema_node(struct loader *ld, int index)
{
    return yaml_document_get_node(ld->doc, index);
}

bool schema_expect(struct loader *ld, const yaml_node_t *n, yaml_node_type_t kind, const char *path,
                   const char *what)
{
    char buf[80];

    if (n->type == kind)
        return true;
    if (path == NULL)
        schema_fail(ld, n, "expected %s at the top level, got %s", what, yaml_describe(n, buf, sizeof(buf)));
    else
        schema_fail(ld, n, "%s: expected %s, got %s", path, what, yaml_describe(n, buf, sizeof(buf)));
    return false;
}

const char *schema_pair_key(struct loader *ld, const yaml_node_t *map, const yaml_node_pair_t *pair,
                            const char *path)
{
    yaml_node_t *k = schema_node(ld, pair->key);
    char buf[80];
    const char *in = path != NULL ? " in " : "", *where = path != NULL ? path : "";

    if (k->type != YAML_SCALAR_NODE) {
        schema_fail(ld, k, "keys must be names, got %s%s%s", yaml_describe(k, buf, sizeof(buf)), in, where);
        return NULL;
    }
    for (const yaml_node_pair_t *q = map->data.mapping.pairs.start; q < pair; q++) {
        yaml_node_t *prev = schema_node(ld, q->key);

        if (prev->type == YAML_SCALAR_NODE && strcmp(yaml_text(prev), yaml_text(k)) == 0) {
            schema_fail(ld, k, "duplicate key \"%s\"%s%s; first set at %d:%d", yaml_text(k), in, where,
                        (int)prev->start_mark.line + 1, (int)prev->start_mark.column + 1);
            return NULL;
        }
    }
    return yaml_text(k);
}

bool schema_keys(struct loader *ld, const yaml_node_t *map, const char *path, const char *const *names, size_t n,
                 yaml_node_t **vals)
{
    const char *in = path != NULL ? " in " : "", *where = path != NULL ? path : "";

    for (size_t i = 0; i < n; i++)
        vals[i] = NULL;
    if (yaml_is_null(map))
        return true;
    if (!schema_expect(ld, map, YAML_MAPPING_NODE, path, "a mapping"))
        return false;
    for (yaml_node_pair_t *pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
        const char *key = schema_pair_key(ld, map, pair, path);
        const char *hint;
        size_t i;

        if (key == NULL)
            continue;
        for (i = 0; i < n && strcmp(names[i], key) != 0; i++)
            ;
        if (i < n) {
            yaml_node_t *v = schema_node(ld, pair->value);

            vals[i] = yaml_is_null(v) ? NULL : v;
            continue;
        }
        hint = suggest_name(key, names, n);
        if (hint != NULL) {
            schema_fail(ld, schema_node(ld, pair->key), "unknown key \"%s\"%s%s; did you mean \"%s\"?", key, in,
                        where, hint);
        } else {
            char list[400];

            schema_fail(ld, schema_node(ld, pair->key), "unknown key \"%s\"%s%s; valid keys: %s", key, in, where,
                        suggest_list(names, n, ", ", list, sizeof(list)));
        }
    }
    return true;
}

void *schema_array(struct loader *ld, const yaml_node_t *n, yaml_node_type_t kind, const char *path,
                   const char *what, size_t size, size_t *count)
{
    void *arr;

    *count = 0;
    if (n == NULL || !schema_expect(ld, n, kind, path, what))
        return NULL;
    if (kind == YAML_MAPPING_NODE)
        *count = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    else
        *count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (*count == 0)
        return NULL;
    if ((arr = arena_alloc(ld->arena, *count * size)) == NULL) {
        schema_oom(ld);
        *count = 0;
    }
    return arr;
}
