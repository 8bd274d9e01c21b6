/* conf/values.c: the value readers every section uses. Each takes a node,
 * expands ${VAR} in its text, checks it, reports what is wrong at the
 * node's line and column, and writes *out only when the value is good. */
#include "conf/config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/internal.h"
#include "lib/arena.h"
#include "lib/path.h"
#include "lib/suggest.h"
#include "lib/yamlnode.h"

/* The names drover.yaml uses, in enum balance_kind order. */
static const char *const balance_names[] = {"round_robin", "least_conn", "random2"};
#define NBALANCE (sizeof(balance_names) / sizeof(balance_names[0]))

char *value_text(struct loader *ld, const yaml_node_t *n, const char *path, const char *what)
{
    char reason[CONF_REASON_MAX];
    char *s, *copy;

    if (!schema_expect(ld, n, YAML_SCALAR_NODE, path, what))
        return NULL;
    s = conf_expand_env(yaml_text(n), reason, sizeof(reason));
    if (s == NULL) {
        schema_fail(ld, n, "%s: %s", path, reason);
        return NULL;
    }
    copy = arena_strdup(ld->arena, s);
    free(s);
    if (copy == NULL)
        schema_oom(ld);
    return copy;
}

bool value_int_from_text(struct loader *ld, const yaml_node_t *n, const char *s, const char *path, long long min,
                         long long max, long long *out)
{
    const char *p = s;
    long long v = 0;
    bool neg;

    neg = *p == '-';
    if (*p == '-' || *p == '+')
        p++;
    if (!conf_all_digits(p)) {
        schema_fail(ld, n, "%s: expected an integer, got \"%.60s\"", path, s);
        return false;
    }
    for (; *p != '\0'; p++) {
        if (v > (LLONG_MAX - 9) / 10) {
            v = LLONG_MAX;
            break;
        }
        v = v * 10 + (*p - '0');
    }
    if (neg)
        v = -v;
    if (v < min || v > max) {
        /* INT_MAX means "no real upper bound": say only what matters. */
        if (max == INT_MAX && v < min)
            schema_fail(ld, n, "%s: must be %lld or more, got %.60s", path, min, s);
        else if (max == INT_MAX)
            schema_fail(ld, n, "%s: must be at most %lld, got %.60s", path, max, s);
        else
            schema_fail(ld, n, "%s: must be between %lld and %lld, got %.60s", path, min, max, s);
        return false;
    }
    *out = v;
    return true;
}

static bool get_int(struct loader *ld, const yaml_node_t *n, const char *path, long long min, long long max,
                    long long *out)
{
    const char *s = value_text(ld, n, path, "an integer");

    return s != NULL && value_int_from_text(ld, n, s, path, min, max, out);
}

void value_set_int(struct loader *ld, const yaml_node_t *n, const char *path, long long min, long long max,
                   int *out)
{
    long long v;

    if (n != NULL && get_int(ld, n, path, min, max, &v))
        *out = (int)v;
}

void value_set_uint(struct loader *ld, const yaml_node_t *n, const char *path, long long min, unsigned *out)
{
    long long v;

    if (n != NULL && get_int(ld, n, path, min, INT_MAX, &v))
        *out = (unsigned)v;
}

bool value_set_duration(struct loader *ld, const yaml_node_t *n, const char *path, bool zero_ok, int64_t *out)
{
    char reason[CONF_REASON_MAX];
    const char *s;
    int64_t v;

    if (n == NULL)
        return true;
    s = value_text(ld, n, path, "a duration");
    if (s == NULL)
        return false;
    if (conf_parse_duration(s, &v, reason, sizeof(reason)) < 0) {
        schema_fail(ld, n, "%s: %s", path, reason);
        return false;
    }
    if (v == 0 && !zero_ok) {
        schema_fail(ld, n, "%s: must be more than 0", path);
        return false;
    }
    *out = v;
    return true;
}

void value_set_size(struct loader *ld, const yaml_node_t *n, const char *path, uint64_t min, uint64_t max,
                    uint64_t *out)
{
    char reason[CONF_REASON_MAX], a[32], b[32];
    const char *s;
    uint64_t v;

    if (n == NULL)
        return;
    s = value_text(ld, n, path, "a size");
    if (s == NULL)
        return;
    if (conf_parse_size(s, &v, reason, sizeof(reason)) < 0) {
        schema_fail(ld, n, "%s: %s", path, reason);
        return;
    }
    if (v < min || v > max) {
        schema_fail(ld, n, "%s: must be between %s and %s, got %.60s", path, conf_format_size(min, a, sizeof(a)),
                    conf_format_size(max, b, sizeof(b)), s);
        return;
    }
    *out = v;
}

int value_bool_word(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on"}, *const no[] = {"false", "no", "off"};

    for (size_t i = 0; i < 3; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

void value_set_bool(struct loader *ld, const yaml_node_t *n, const char *path, bool *out)
{
    const char *s;

    if (n == NULL || (s = value_text(ld, n, path, "true or false")) == NULL)
        return;
    if (value_bool_word(s, out) < 0)
        schema_fail(ld, n, "%s: expected true or false, got \"%.60s\"", path, s);
}

bool value_enum(struct loader *ld, const yaml_node_t *n, const char *path, const char *const *names, size_t count,
                int *out)
{
    const char *s = value_text(ld, n, path, "a name");
    const char *hint;
    char list[200];

    if (s == NULL)
        return false;
    for (size_t i = 0; i < count; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (int)i;
            return true;
        }
    }
    hint = suggest_name(s, names, count);
    if (hint != NULL)
        schema_fail(ld, n, "%s: unknown value \"%.60s\"; did you mean \"%s\"?", path, s, hint);
    else
        schema_fail(ld, n, "%s: unknown value \"%.60s\"; use %s", path, s,
                    suggest_list(names, count, " or ", list, sizeof(list)));
    return false;
}

void value_set_balance(struct loader *ld, const yaml_node_t *n, const char *path, enum balance_kind *out)
{
    int v;

    if (n != NULL && value_enum(ld, n, path, balance_names, NBALANCE, &v))
        *out = (enum balance_kind)v;
}

const char *conf_balance_name(enum balance_kind kind)
{
    return (unsigned)kind < NBALANCE ? balance_names[kind] : "?";
}

void value_file_from_text(struct loader *ld, const yaml_node_t *n, const char *s, const char *path, bool empty_ok,
                          char **out)
{
    char abs[PATH_MAX];

    if (*s == '\0') {
        if (!empty_ok)
            schema_fail(ld, n, "%s: empty path", path);
        return;
    }
    if (path_abs(ld->conf->dir, s, abs, sizeof(abs)) < 0) {
        schema_fail(ld, n, "%s: path too long", path);
        return;
    }
    if ((*out = arena_strdup(ld->arena, abs)) == NULL)
        schema_oom(ld);
}

void value_set_file(struct loader *ld, const yaml_node_t *n, const char *path, bool empty_ok, char **out)
{
    const char *s;

    if (n != NULL && (s = value_text(ld, n, path, "a path")) != NULL)
        value_file_from_text(ld, n, s, path, empty_ok, out);
}

void value_set_http_path(struct loader *ld, const yaml_node_t *n, const char *path, char **out)
{
    char *s;

    if (n == NULL || (s = value_text(ld, n, path, "a path")) == NULL)
        return;
    if (*s == '\0')
        *out = NULL;
    else if (*s != '/')
        schema_fail(ld, n, "%s: must start with \"/\", got \"%.60s\"", path, s);
    else
        *out = s;
}

/* A socket activation entry: "systemd", or "systemd:NAME" with a name
 * systemd allows for FileDescriptorName= (printable ASCII, no ':'), short
 * enough for conf_addr.text. */
static bool systemd_from_text(struct loader *ld, const yaml_node_t *n, const char *s, const char *path,
                              struct conf_addr *out)
{
    const char *name = s[7] == ':' ? s + 8 : NULL;

    if (name != NULL) {
        size_t len = strlen(name);

        if (len == 0) {
            schema_fail(ld, n, "%s: systemd:NAME needs a name (FileDescriptorName= of the socket unit)", path);
            return false;
        }
        for (const char *p = name; *p != '\0'; p++) {
            if (*p <= ' ' || *p > '~' || *p == ':') {
                schema_fail(ld, n, "%s: bad socket name \"%.60s\" (printable characters, no ':' or space)", path,
                            name);
                return false;
            }
        }
    }
    memset(out, 0, sizeof(*out));
    if (strlen(s) >= sizeof(out->text)) {
        schema_fail(ld, n, "%s: socket name too long for drover (at most %zu characters)", path,
                    sizeof(out->text) - 9);
        return false;
    }
    snprintf(out->text, sizeof(out->text), "%s", s);
    out->systemd = true;
    out->line = (int)n->start_mark.line + 1;
    out->col = (int)n->start_mark.column + 1;
    return true;
}

bool value_addr_from_text(struct loader *ld, const yaml_node_t *n, const char *s, const char *path, bool in_listen,
                          struct conf_addr *out)
{
    char buf[PATH_MAX + 16], reason[CONF_REASON_MAX];

    if (in_listen && strncmp(s, "systemd", 7) == 0 && (s[7] == '\0' || s[7] == ':'))
        return systemd_from_text(ld, n, s, path, out);
    if (in_listen && conf_all_digits(s)) {
        snprintf(buf, sizeof(buf), "0.0.0.0:%s", s);
        s = buf;
    } else if (strncmp(s, "unix:", 5) == 0 && s[5] != '/' && s[5] != '\0') {
        memcpy(buf, "unix:", 5);
        if (path_abs(ld->conf->dir, s + 5, buf + 5, sizeof(buf) - 5) < 0) {
            schema_fail(ld, n, "%s: unix socket path too long", path);
            return false;
        }
        s = buf;
    }
    if (conf_parse_addr(s, out, reason, sizeof(reason)) < 0) {
        schema_fail(ld, n, "%s: %s", path, reason);
        return false;
    }
    out->line = (int)n->start_mark.line + 1;
    out->col = (int)n->start_mark.column + 1;
    return true;
}

static bool get_addr(struct loader *ld, const yaml_node_t *n, const char *path, bool in_listen,
                     struct conf_addr *out)
{
    const char *s;

    if (in_listen && n->type == YAML_MAPPING_NODE)
        return listen_entry_load(ld, n, path, out);
    s = value_text(ld, n, path, "an address");

    return s != NULL && value_addr_from_text(ld, n, s, path, in_listen, out);
}

bool value_addr_list(struct loader *ld, const yaml_node_t *n, const char *path, bool in_listen, struct conf_addr **out,
                     size_t *count, struct conf_route *dns_into)
{
    const yaml_node_item_t *items, *end;
    yaml_node_item_t self = 0;
    struct conf_addr *arr;
    size_t k = 0, total;
    bool ok = true;
    char ipath[96];

    if (n->type == YAML_SEQUENCE_NODE) {
        items = n->data.sequence.items.start;
        end = n->data.sequence.items.top;
        if (items == end) {
            schema_fail(ld, n, "%s: needs at least one address", path);
            return false;
        }
    } else if (n->type == YAML_SCALAR_NODE || (in_listen && n->type == YAML_MAPPING_NODE)) {
        items = &self;
        end = items + 1;
    } else {
        return schema_expect(ld, n, YAML_SCALAR_NODE, path, "an address or a list of addresses");
    }
    total = (size_t)(end - items);
    arr = arena_alloc(ld->arena, total * sizeof(*arr));
    if (arr == NULL) {
        schema_oom(ld);
        return false;
    }
    for (const yaml_node_item_t *it = items; it < end; it++) {
        const yaml_node_t *item = it == &self ? n : schema_node(ld, *it);

        if (it == &self)
            snprintf(ipath, sizeof(ipath), "%s", path);
        else
            snprintf(ipath, sizeof(ipath), "%s[%zu]", path, (size_t)(it - items));
        if (dns_into != NULL && item->type == YAML_SCALAR_NODE &&
            (strncmp((const char *)item->data.scalar.value, "dns:", 4) == 0 ||
             strncmp((const char *)item->data.scalar.value, "srv:", 4) == 0)) {
            const char *s = value_text(ld, item, ipath, "an address");

            if (s == NULL || !dns_entry_load(ld, item, s, ipath, dns_into))
                ok = false;
            continue;
        }
        if (!get_addr(ld, item, ipath, in_listen, &arr[k])) {
            ok = false;
            continue;
        }
        for (size_t j = 0; j < k; j++) {
            if (strcmp(arr[j].text, arr[k].text) == 0) {
                schema_fail(ld, item, "%s: %s is listed twice (first at %d:%d)", ipath, arr[k].text, arr[j].line,
                            arr[j].col);
                ok = false;
                k--;
                break;
            }
        }
        k++;
    }
    if (!ok)
        return false;
    *out = arr;
    *count = k;
    return true;
}

