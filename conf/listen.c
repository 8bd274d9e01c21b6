/* conf/listen.c: a listen entry written as a map (SPEC "Production
 * stack"): its address and what the listener does before HTTP, such as
 * reading a PROXY protocol header from a trusted balancer or terminating
 * TLS (conf/tls.c). */
#include <stdio.h>
#include <string.h>

#include "conf/internal.h"

static void load_trusted(struct loader *ld, const yaml_node_t *n, const char *path,
                         struct conf_listen_opts *o)
{
    char ipath[160], reason[CONF_REASON_MAX];
    const yaml_node_item_t *it;

    if (n->type != YAML_SEQUENCE_NODE) {
        schema_expect(ld, n, YAML_SEQUENCE_NODE, path, "a list of address ranges");
        return;
    }
    for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        const yaml_node_t *item = schema_node(ld, *it);
        const char *s;

        snprintf(ipath, sizeof(ipath), "%s[%zu]", path, (size_t)(it - n->data.sequence.items.start));
        if ((s = value_text(ld, item, ipath, "an address range")) == NULL)
            continue;
        if (o->ntrusted == CONF_MAX_TRUSTED) {
            schema_fail(ld, item, "%s: at most %d ranges", path, CONF_MAX_TRUSTED);
            return;
        }
        if (conf_parse_cidr(s, &o->trusted[o->ntrusted], reason, sizeof(reason)) < 0) {
            schema_fail(ld, item, "%s: %s", ipath, reason);
            continue;
        }
        o->ntrusted++;
    }
}

bool listen_entry_load(struct loader *ld, const yaml_node_t *n, const char *path, struct conf_addr *out)
{
    static const char *const keys[] = {"address", "proxy_protocol", "proxy_trusted", "tls"};
    yaml_node_t *v[4];
    char kpath[128];
    struct conf_listen_opts o;
    const char *s;

    memset(&o, 0, sizeof(o));
    if (!schema_keys(ld, n, path, keys, 4, v))
        return false;
    if (v[0] == NULL) {
        schema_fail(ld, n, "%s: needs an address", path);
        return false;
    }
    snprintf(kpath, sizeof(kpath), "%s.address", path);
    if ((s = value_text(ld, v[0], kpath, "an address")) == NULL ||
        !value_addr_from_text(ld, v[0], s, kpath, true, out))
        return false;
    snprintf(kpath, sizeof(kpath), "%s.proxy_protocol", path);
    value_set_bool(ld, v[1], kpath, &o.proxy_protocol);
    snprintf(kpath, sizeof(kpath), "%s.proxy_trusted", path);
    if (v[2] != NULL)
        load_trusted(ld, v[2], kpath, &o);
    /* Anyone who can reach the port could claim any address: the balancers
     * allowed to must be named. */
    if (o.proxy_protocol && v[2] == NULL)
        schema_fail(ld, v[1], "%s: proxy_protocol needs proxy_trusted, the balancers' address ranges",
                    path);
    if (o.proxy_protocol && out->port == 0 && !out->systemd)
        schema_fail(ld, v[1], "%s: proxy_protocol on a unix socket is not supported", path);
    if (v[3] != NULL) {
        snprintf(kpath, sizeof(kpath), "%s.tls", path);
        if (o.proxy_protocol)
            schema_fail(ld, v[3], "%s: TLS after a PROXY protocol header is not supported yet", kpath);
        else if (!tls_entry_load(ld, v[3], kpath, &o))
            return false;
    }
    out->opts = o;
    return true;
}
