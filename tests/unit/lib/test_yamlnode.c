/* lib/yamlnode: reading one document with its problems at line:col, and
 * the node helpers. */
#include <criterion/criterion.h>
#include <string.h>

#include "lib/yamlnode.h"

static struct yaml_reader yr;
static struct yaml_problem pb;

static void reader_setup(void)
{
    memset(&yr, 0, sizeof(yr));
    memset(&pb, 0, sizeof(pb));
}

static void reader_teardown(void)
{
    yaml_reader_close(&yr);
}

static int open_text(const char *text)
{
    return yaml_reader_open(&yr, text, strlen(text), &pb);
}

TestSuite(reader, .init = reader_setup, .fini = reader_teardown);

Test(reader, one_document)
{
    yaml_node_t *root;

    cr_assert_eq(open_text("a: 1\nb: [x, y]\n"), 0, "%s", pb.msg);
    root = yaml_document_get_root_node(&yr.doc);
    cr_assert_not_null(root);
    cr_assert_eq(root->type, YAML_MAPPING_NODE);
    cr_assert_eq(yaml_reader_end(&yr, &pb), 0, "%s", pb.msg);
}

Test(reader, empty_text_is_an_empty_document)
{
    cr_assert_eq(open_text(""), 0, "%s", pb.msg);
    cr_assert_null(yaml_document_get_root_node(&yr.doc));
    cr_assert_eq(yaml_reader_end(&yr, &pb), 0);
}

Test(reader, syntax_error_with_context)
{
    cr_assert_eq(open_text("listen: [8080\n"), -1);
    cr_assert_eq(pb.line, 2);
    cr_assert_eq(pb.col, 1);
    cr_assert_str_eq(pb.msg, "did not find expected ',' or ']' (while parsing a flow sequence at 1:9)");
}

Test(reader, syntax_error_without_context)
{
    cr_assert_eq(open_text("listen: 8080\nworkers: 2\n  admin: x\n"), -1);
    cr_assert_eq(pb.line, 3);
    cr_assert_eq(pb.col, 8);
    cr_assert_str_eq(pb.msg, "mapping values are not allowed in this context");
}

Test(reader, bad_utf8_is_placed_by_characters)
{
    /* "é" is two bytes but one column; the bad byte is the 4th character of line 2. */
    cr_assert_eq(open_text("a: 1\n\xc3\xa9" "b\xff: 2\n"), -1);
    cr_assert_eq(pb.line, 2, "line %d col %d: %s", pb.line, pb.col, pb.msg);
    cr_assert_eq(pb.col, 3, "line %d col %d: %s", pb.line, pb.col, pb.msg);
    cr_assert_str_eq(pb.msg, "invalid leading UTF-8 octet");
}

Test(reader, second_document_refused)
{
    cr_assert_eq(open_text("workers: 2\n---\nworkers: 3\n"), 0);
    cr_assert_eq(yaml_reader_end(&yr, &pb), -1);
    cr_assert_eq(pb.line, 3);
    cr_assert_eq(pb.col, 1);
    cr_assert_str_eq(pb.msg, "only one YAML document is allowed");
}

Test(reader, syntax_error_in_the_second_document)
{
    cr_assert_eq(open_text("a: 1\n---\nb: [\n"), 0);
    cr_assert_eq(yaml_reader_end(&yr, &pb), -1);
    cr_assert_eq(pb.line, 4);
    cr_assert_not_null(strstr(pb.msg, "while parsing a flow"), "%s", pb.msg);
}

Test(reader, close_is_safe_twice_and_unopened)
{
    yaml_reader_close(&yr);
    cr_assert_eq(open_text("a: 1\n"), 0);
    yaml_reader_close(&yr);
    yaml_reader_close(&yr);
}

static yaml_document_t doc;

static void load(const char *text)
{
    yaml_parser_t p;

    cr_assert(yaml_parser_initialize(&p));
    yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
    cr_assert(yaml_parser_load(&p, &doc));
    yaml_parser_delete(&p);
}

/* The value of KEY in the loaded document's top-level mapping. */
static yaml_node_t *key_in(const char *key)
{
    yaml_node_t *root = yaml_document_get_root_node(&doc);

    for (yaml_node_pair_t *q = root->data.mapping.pairs.start; q < root->data.mapping.pairs.top; q++)
        if (strcmp(yaml_text(yaml_document_get_node(&doc, q->key)), key) == 0)
            return yaml_document_get_node(&doc, q->value);
    cr_assert_fail("no key %s", key);
    return NULL;
}

static void doc_teardown(void)
{
    yaml_document_delete(&doc);
}

TestSuite(node, .fini = doc_teardown);

Test(node, null_forms)
{
    load("a:\nb: ~\nc: null\nd: Null\ne: NULL\nf: \"null\"\ng: ''\n");
    cr_assert(yaml_is_null(key_in("a")));
    cr_assert(yaml_is_null(key_in("b")));
    cr_assert(yaml_is_null(key_in("c")));
    cr_assert(yaml_is_null(key_in("d")));
    cr_assert(yaml_is_null(key_in("e")));
    cr_assert_not(yaml_is_null(key_in("f")), "a quoted null is a string");
    cr_assert_not(yaml_is_null(key_in("g")), "so is a quoted empty string");
    cr_assert(yaml_is_null(NULL));
}

Test(node, describe)
{
    char buf[80];

    load("m: {x: 1}\nl: [1]\nn: ~\ns: hello\n");
    cr_assert_str_eq(yaml_describe(key_in("m"), buf, sizeof(buf)), "a mapping");
    cr_assert_str_eq(yaml_describe(key_in("l"), buf, sizeof(buf)), "a list");
    cr_assert_str_eq(yaml_describe(key_in("n"), buf, sizeof(buf)), "nothing");
    cr_assert_str_eq(yaml_describe(key_in("s"), buf, sizeof(buf)), "\"hello\"");
    cr_assert_str_eq(yaml_text(key_in("s")), "hello");
}
