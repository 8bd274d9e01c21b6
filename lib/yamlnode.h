/* Small helpers over libyaml's document API, shared by the config and the
 * app_desc.yaml loaders: reading exactly one document with its syntax
 * errors at file:line:col, and looking at its nodes. */
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

/* What went wrong reading a YAML text, for "file:line:col: msg". */
struct yaml_problem {
    int line, col;              /* 1-based; 0 when there is no position (out of memory) */
    char msg[400];
};

/* One YAML text read as a single document. Zero it before use. */
struct yaml_reader {
    yaml_parser_t parser;
    yaml_document_t doc;        /* the document, once yaml_reader_open() succeeded */
    bool parser_ok, doc_ok;
    const char *text;           /* the caller's, LEN bytes; it must outlive the reader */
    size_t len;
};

/* Parses the first document of TEXT into r->doc. 0, or -1 with libyaml's
 * complaint in PB at its line and column ("did not find expected key
 * (while parsing a block mapping at 3:1)"); a bad UTF-8 byte only has an
 * offset, turned into line and column (in characters) here. */
int yaml_reader_open(struct yaml_reader *r, const char *text, size_t len, struct yaml_problem *pb);

/* Checks the rest of the text after the document has been walked: a
 * second "---" document would be ignored silently, so it is refused. 0, or
 * -1 with the problem in PB. */
int yaml_reader_end(struct yaml_reader *r, struct yaml_problem *pb);

/* Frees the document and the parser; fine after a failed open. */
void yaml_reader_close(struct yaml_reader *r);

#endif
