/* Small helpers over libyaml's document nodes, shared by the config and the
 * app_desc.yaml loaders. */
#ifndef DROVER_LIB_YAMLNODE_H
#define DROVER_LIB_YAMLNODE_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

/* A scalar node's text. */
static inline const char *yaml_text(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

/* "key:" with nothing after it, "~" or "null": the key counts as unset. */
bool yaml_is_null(const yaml_node_t *n);

/* "a list", "a mapping", "nothing", or the scalar's text in quotes (in buf),
 * for messages. */
const char *yaml_describe(const yaml_node_t *n, char *buf, size_t len);

#endif
