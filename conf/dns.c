/* conf/dns.c: backends found by DNS ("dns:NAME:PORT", "srv:NAME") and the
 * resolver section that says how they are looked up. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/internal.h"
#include "lib/arena.h"

/* Letters, digits, '-', '_' (SRV labels) and dots between labels. */
static bool dns_name_ok(const char *s, size_t n)
{
    if (n == 0 || n > 253 || s[0] == '.' || s[n - 1] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.' && i + 1 < n && s[i + 1] == '.')
            return false;
        if (!conf_is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
            return false;
    }
    return true;
}

bool dns_entry_load(struct loader *ld, const yaml_node_t *n, const char *s, const char *path,
                    struct conf_route *r)
{
    struct conf_dns d = {0}, *grown;
    const char *name = s + 4, *colon;
    size_t nlen;

    d.srv = s[0] == 's';
    if (d.srv) {
        nlen = strlen(name);
    } else {
        long long port;

        colon = strrchr(name, ':');
        if (colon == NULL) {
            schema_fail(ld, n, "%s: \"%s\" needs a port: dns:NAME:PORT", path, s);
            return false;
        }
        nlen = (size_t)(colon - name);
        if (!value_int_from_text(ld, n, colon + 1, path, 1, 65535, &port))
            return false;
        d.port = (int)port;
    }
    if (!dns_name_ok(name, nlen)) {
        schema_fail(ld, n, "%s: \"%.*s\" is not a DNS name", path, (int)nlen, name);
        return false;
    }
    for (size_t i = 0; i < r->ndns; i++)
        if (strcmp(r->dns[i].key, s) == 0) {
            schema_fail(ld, n, "%s: %s is listed twice (first at %d:%d)", path, s, r->dns[i].line,
                        r->dns[i].col);
            return false;
        }
    d.key = arena_strdup(ld->arena, s);
    d.name = arena_strndup(ld->arena, name, nlen);
    grown = arena_alloc(ld->arena, (r->ndns + 1) * sizeof(*grown));
    if (d.key == NULL || d.name == NULL || grown == NULL) {
        schema_oom(ld);
        return false;
    }
    if (r->ndns > 0)
        memcpy(grown, r->dns, r->ndns * sizeof(*grown));
    d.line = (int)n->start_mark.line + 1;
    d.col = (int)n->start_mark.column + 1;
    grown[r->ndns++] = d;
    r->dns = grown;
    return true;
}

/* "ip", "ip:port", "v6", "[v6]" or "[v6]:port" as "ip:port" / "[v6]:port". */
static bool server_text(const char *s, char *out, size_t len)
{
    const char *first = strchr(s, ':'), *last = strrchr(s, ':');
    char host[64];
    unsigned char tmp[16];
    const char *port = "53";
    size_t hlen;

    if (s[0] == '[') {
        const char *end = strchr(s, ']');

        if (end == NULL || (end[1] != '\0' && end[1] != ':'))
            return false;
        hlen = (size_t)(end - s - 1);
        if (end[1] == ':')
            port = end + 2;
        s++;
    } else if (first != NULL && first == last) {
        hlen = (size_t)(first - s);
        port = first + 1;
    } else {
        hlen = strlen(s);
    }
    if (hlen == 0 || hlen >= sizeof(host) || !conf_all_digits(port) || strlen(port) > 5 || atoi(port) < 1 ||
        atoi(port) > 65535)
        return false;
    memcpy(host, s, hlen);
    host[hlen] = '\0';
    if (inet_pton(AF_INET, host, tmp) == 1)
        return (size_t)snprintf(out, len, "%s:%s", host, port) < len;
    if (inet_pton(AF_INET6, host, tmp) == 1)
        return (size_t)snprintf(out, len, "[%s]:%s", host, port) < len;
    return false;
}

static void load_servers(struct loader *ld, const yaml_node_t *n)
{
    char list[1024], ipath[64];
    size_t len = 0;
    const yaml_node_item_t *it;

    if (n->type != YAML_SEQUENCE_NODE) {
        schema_expect(ld, n, YAML_SEQUENCE_NODE, "resolver.servers", "a list of addresses");
        return;
    }
    list[0] = '\0';
    for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        const yaml_node_t *item = schema_node(ld, *it);
        const char *s;
        char text[96];

        snprintf(ipath, sizeof(ipath), "resolver.servers[%zu]", (size_t)(it - n->data.sequence.items.start));
        if ((s = value_text(ld, item, ipath, "an address")) == NULL)
            continue;
        if (!server_text(s, text, sizeof(text))) {
            schema_fail(ld, item, "%s: \"%s\" is not an IP address with an optional port", ipath, s);
            continue;
        }
        len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", len > 0 ? "," : "", text);
        if (len >= sizeof(list)) {
            schema_fail(ld, item, "resolver.servers: too many servers");
            return;
        }
    }
    if (len > 0 && (ld->conf->resolver.servers = arena_strdup(ld->arena, list)) == NULL)
        schema_oom(ld);
}

void resolver_load(struct loader *ld, const yaml_node_t *n)
{
    static const char *const keys[] = {"servers", "refresh", "hold"};
    static const char *const rkeys[] = {"min", "max"};
    struct conf *c = ld->conf;
    yaml_node_t *v[3], *r[2];

    if (n == NULL || !schema_keys(ld, n, "resolver", keys, 3, v))
        return;
    if (v[0] != NULL)
        load_servers(ld, v[0]);
    if (v[1] != NULL && schema_keys(ld, v[1], "resolver.refresh", rkeys, 2, r)) {
        value_set_duration(ld, r[0], "resolver.refresh.min", false, &c->resolver.refresh_min_ms);
        value_set_duration(ld, r[1], "resolver.refresh.max", false, &c->resolver.refresh_max_ms);
        if (c->resolver.refresh_min_ms > c->resolver.refresh_max_ms)
            schema_fail(ld, v[1], "resolver.refresh: min is above max");
    }
    value_set_duration(ld, v[2], "resolver.hold", true, &c->resolver.hold_ms);
}
