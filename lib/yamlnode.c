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

/* libyaml's complaint at its position. */
static int problem(const struct yaml_reader *r, struct yaml_problem *pb)
{
    const yaml_parser_t *parser = &r->parser;
    const char *what = parser->problem != NULL ? parser->problem : "syntax error";

    pb->line = (int)parser->problem_mark.line + 1;
    pb->col = (int)parser->problem_mark.column + 1;
    if (parser->error == YAML_MEMORY_ERROR) {
        pb->line = pb->col = 0;
        snprintf(pb->msg, sizeof(pb->msg), "out of memory");
    } else if (parser->error == YAML_READER_ERROR) {
        pb->line = pb->col = 1;
        for (size_t i = 0; i < parser->problem_offset && i < r->len; i++) {
            if (r->text[i] == '\n') {
                pb->line++;
                pb->col = 1;
            } else if (((unsigned char)r->text[i] & 0xC0) != 0x80) {
                pb->col++;
            }
        }
        snprintf(pb->msg, sizeof(pb->msg), "%s", what);
    } else if (parser->context != NULL) {
        snprintf(pb->msg, sizeof(pb->msg), "%s (%s at %d:%d)", what, parser->context,
                 (int)parser->context_mark.line + 1, (int)parser->context_mark.column + 1);
    } else {
        snprintf(pb->msg, sizeof(pb->msg), "%s", what);
    }
    return -1;
}

int yaml_reader_open(struct yaml_reader *r, const char *text, size_t len, struct yaml_problem *pb)
{
    r->text = text;
    r->len = len;
    if (!yaml_parser_initialize(&r->parser)) {
        pb->line = pb->col = 0;
        snprintf(pb->msg, sizeof(pb->msg), "out of memory");
        return -1;
    }
    r->parser_ok = true;
    yaml_parser_set_input_string(&r->parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&r->parser, &r->doc))
        return problem(r, pb);
    r->doc_ok = true;
    return 0;
}

int yaml_reader_end(struct yaml_reader *r, struct yaml_problem *pb)
{
    yaml_document_t extra;
    yaml_node_t *root;
    int rc = 0;

    if (!yaml_parser_load(&r->parser, &extra))
        return problem(r, pb);
    if ((root = yaml_document_get_root_node(&extra)) != NULL) {
        pb->line = (int)root->start_mark.line + 1;
        pb->col = (int)root->start_mark.column + 1;
        snprintf(pb->msg, sizeof(pb->msg), "only one YAML document is allowed");
        rc = -1;
    }
    yaml_document_delete(&extra);
    return rc;
}

void yaml_reader_close(struct yaml_reader *r)
{
    if (r->doc_ok)
        yaml_document_delete(&r->doc);
    if (r->parser_ok)
        yaml_parser_delete(&r->parser);
    r->doc_ok = r->parser_ok = false;
}
