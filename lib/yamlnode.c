#include "lib/yamlnode.h"

#include <stdio.h>
#include <string.h>

bool yaml_is_null(const yaml_node_t *n)
{
    const char *s;

    if (n == NULL)
        return true;
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    s = yaml_text(n);
    return s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
           strcmp(s, "NULL") == 0;
}

const char *yaml_describe(const yaml_node_t *n, char *buf, size_t len)
{
    if (n->type == YAML_MAPPING_NODE)
        return "a mapping";
    if (n->type == YAML_SEQUENCE_NODE)
        return "a list";
    if (yaml_is_null(n))
        return "nothing";
    snprintf(buf, len, "\"%.60s\"", yaml_text(n));
    return buf;
}
