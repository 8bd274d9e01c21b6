/* lib/json: the writer (commas, escaping, numbers) and the reader (RFC 8259,
 * errors with line and column, limits). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"

/* ---- sbuf -------------------------------------------------------------- */

Test(sbuf, grows_and_stays_nul_terminated)
{
    struct sbuf b;

    sbuf_init(&b);
    for (int i = 0; i < 1000; i++)
        sbuf_puts(&b, "0123456789");
    cr_assert_eq(b.len, 10000);
    cr_assert_eq(b.data[b.len], '\0');
    sbuf_printf(&b, "%s-%d", "x", 42);
    cr_assert_eq(b.len, 10004);
    cr_assert_str_eq(b.data + 10000, "x-42");
    cr_assert(!b.oom);
    sbuf_free(&b);
    cr_assert_null(b.data);
    cr_assert_eq(b.len, 0);
}

Test(sbuf, printf_longer_than_the_first_guess)
{
    struct sbuf b;
    char big[3000];

    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    sbuf_init(&b);
    sbuf_puts(&b, "<");
    sbuf_printf(&b, "%s>", big);
    cr_assert_eq(b.len, 3001);
    cr_assert_eq(b.data[0], '<');
    cr_assert_eq(b.data[2999], 'a');
    cr_assert_eq(b.data[3000], '>');
    sbuf_free(&b);
}

Test(sbuf, oom_drops_later_appends)
{
    struct sbuf b;

    sbuf_init(&b);
    sbuf_puts(&b, "ok");
    b.oom = true;
    sbuf_puts(&b, "dropped");
    sbuf_printf(&b, "%d", 5);
    cr_assert_eq(b.len, 2);
    sbuf_free(&b);
    cr_assert(!b.oom);
}

/* ---- writer ------------------------------------------------------------ */

static struct sbuf out;
static struct jsonw w;

static void wsetup(void)
{
    sbuf_init(&out);
    jsonw_init(&w, &out);
}

static void wteardown(void)
{
    sbuf_free(&out);
}

TestSuite(jsonw, .init = wsetup, .fini = wteardown);

Test(jsonw, nested_commas_and_keys)
{
    jsonw_object_begin(&w);
    jsonw_key(&w, "a");
    jsonw_int(&w, -1);
    jsonw_key(&w, "b");
    jsonw_array_begin(&w);
    jsonw_uint(&w, 18446744073709551615ULL);
    jsonw_bool(&w, true);
    jsonw_null(&w);
    jsonw_object_begin(&w);
    jsonw_object_end(&w);
    jsonw_array_begin(&w);
    jsonw_array_end(&w);
    jsonw_string(&w, "s");
    jsonw_array_end(&w);
    jsonw_key(&w, "c");
    jsonw_object_begin(&w);
    jsonw_key(&w, "d");
    jsonw_bool(&w, false);
    jsonw_object_end(&w);
    jsonw_key(&w, "e");
    jsonw_string(&w, NULL);
    jsonw_object_end(&w);
    cr_assert_str_eq(out.data, "{\"a\":-1,\"b\":[18446744073709551615,true,null,{},[],\"s\"],"
                               "\"c\":{\"d\":false},\"e\":null}");
    cr_assert_eq(w.depth, 0);
}

Test(jsonw, doubles_have_three_decimals_and_no_exponent)
{
    jsonw_array_begin(&w);
    jsonw_double(&w, 0.25);
    jsonw_double(&w, 1e20);
    jsonw_double(&w, -3.0);
    jsonw_double(&w, NAN);
    jsonw_double(&w, INFINITY);
    jsonw_array_end(&w);
    cr_assert_str_eq(out.data, "[0.250,100000000000000000000.000,-3.000,null,null]");
}

Test(jsonw, string_escapes)
{
    jsonw_string(&w, "q\"b\\s/\n\r\t\b\f\x01\x1f\x7f");
    cr_assert_str_eq(out.data, "\"q\\\"b\\\\s/\\n\\r\\t\\b\\f\\u0001\\u001f\x7f\"");
}

Test(jsonw, utf8_passes_and_stray_bytes_are_escaped)
{
    /* é (2 bytes), € (3), 😀 (4), then a lone continuation byte, a
     * truncated sequence, an overlong '/', an encoded surrogate. */
    jsonw_string(&w, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80|\x80|\xe2\x82|\xc0\xaf|\xed\xa0\x80");
    cr_assert_str_eq(out.data, "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80|\\u0080|\\u00e2\\u0082|"
                               "\\u00c0\\u00af|\\u00ed\\u00a0\\u0080\"");
}

Test(jsonw, stringn_keeps_nul_bytes_escaped)
{
    jsonw_stringn(&w, "a\0b", 3);
    cr_assert_str_eq(out.data, "\"a\\u0000b\"");
}

Test(jsonw, escaped_output_parses_back)
{
    char raw[256];
    struct json_doc doc;
    char err[128];

    for (int i = 0; i < 255; i++)
        raw[i] = (char)(i + 1);
    raw[255] = '\0';
    jsonw_string(&w, raw);
    cr_assert_eq(json_parse(out.data, out.len, &doc, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(doc.root->type, JSON_STRING);
    /* ASCII comes back as it was; every byte >= 0x80 was a stray byte
     * (Latin-1), so it comes back as the 2-byte UTF-8 of U+0080..U+00FF. */
    cr_assert_eq(memcmp(doc.root->string, raw, 127), 0);
    cr_assert_eq(strlen(doc.root->string), 127 + 2 * 128);
    json_free(&doc);
}

Test(jsonw, too_deep_marks_the_output_failed)
{
    for (int i = 0; i < JSONW_MAX_DEPTH; i++)
        jsonw_array_begin(&w);
    cr_assert(!out.oom);
    jsonw_array_begin(&w);
    cr_assert(out.oom);
}

/* ---- reader ------------------------------------------------------------ */

static struct json_doc doc;
static char err[256];

static int parse(const char *text)
{
    return json_parse(text, strlen(text), &doc, err, sizeof(err));
}

static void rteardown(void)
{
    json_free(&doc);
}

TestSuite(json, .fini = rteardown);

Test(json, object_with_every_type)
{
    const struct json_value *v;

    cr_assert_eq(parse(" {\"s\": \"x\", \"i\": -42, \"f\": 2.5e1, \"t\": true, \"n\": null,"
                       " \"a\": [1, [], {}], \"o\": {\"k\": false}} \n"),
                 0, "%s", err);
    cr_assert_eq(doc.root->type, JSON_OBJECT);
    cr_assert_eq(doc.root->nchildren, 7);
    cr_assert_str_eq(json_get(doc.root, "s")->string, "x");
    v = json_get(doc.root, "i");
    cr_assert(v->type == JSON_NUMBER && v->integer && v->intval == -42 && v->number == -42.0);
    v = json_get(doc.root, "f");
    cr_assert(v->type == JSON_NUMBER && !v->integer && v->number == 25.0);
    cr_assert(json_get(doc.root, "t")->type == JSON_BOOL && json_get(doc.root, "t")->boolean);
    cr_assert_eq(json_get(doc.root, "n")->type, JSON_NULL);
    v = json_get(doc.root, "a");
    cr_assert(v->type == JSON_ARRAY && v->nchildren == 3);
    cr_assert(v->children[0].integer && v->children[0].intval == 1);
    cr_assert_null(v->children[0].key);
    cr_assert(v->children[1].type == JSON_ARRAY && v->children[1].nchildren == 0);
    cr_assert(v->children[2].type == JSON_OBJECT && v->children[2].nchildren == 0);
    v = json_get(json_get(doc.root, "o"), "k");
    cr_assert(v != NULL && v->type == JSON_BOOL && !v->boolean);
    cr_assert_null(json_get(doc.root, "missing"));
    cr_assert_null(json_get(json_get(doc.root, "a"), "x"), "json_get on an array");
    cr_assert_null(json_get(NULL, "x"));
}

Test(json, members_keep_their_order)
{
    cr_assert_eq(parse("{\"z\":1,\"a\":2,\"m\":3}"), 0, "%s", err);
    cr_assert_str_eq(doc.root->children[0].key, "z");
    cr_assert_str_eq(doc.root->children[1].key, "a");
    cr_assert_str_eq(doc.root->children[2].key, "m");
}

Test(json, scalars_at_the_top)
{
    cr_assert_eq(parse("\"top\""), 0);
    cr_assert_str_eq(doc.root->string, "top");
    json_free(&doc);
    cr_assert_eq(parse("0"), 0);
    cr_assert(doc.root->integer && doc.root->intval == 0);
    json_free(&doc);
    cr_assert_eq(parse("-0.0"), 0);
    cr_assert(!doc.root->integer);
    json_free(&doc);
    cr_assert_eq(parse("null"), 0);
    cr_assert_eq(doc.root->type, JSON_NULL);
}

Test(json, string_escapes_and_unicode)
{
    cr_assert_eq(parse("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\u20ac\\ud83d\\ude00\\u0041\""), 0,
                 "%s", err);
    cr_assert_str_eq(doc.root->string,
                     "a\"b\\c/d\b\f\n\r\t\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
                     "A");
}

Test(json, raw_utf8_in_strings)
{
    cr_assert_eq(parse("[\"h\xc3\xa9llo \xf0\x9f\x98\x80\"]"), 0, "%s", err);
    cr_assert_str_eq(doc.root->children[0].string, "h\xc3\xa9llo \xf0\x9f\x98\x80");
}

Test(json, big_integers_are_numbers_but_not_integers)
{
    cr_assert_eq(parse("[9223372036854775807, 9223372036854775808, -9223372036854775808]"), 0);
    cr_assert(doc.root->children[0].integer && doc.root->children[0].intval == 9223372036854775807LL);
    cr_assert(!doc.root->children[1].integer);
    cr_assert(doc.root->children[1].number > 9.2e18);
    cr_assert(doc.root->children[2].integer);
}

Test(json, byte_order_mark_is_skipped)
{
    cr_assert_eq(parse("\xef\xbb\xbf{}"), 0, "%s", err);
    cr_assert_eq(doc.root->type, JSON_OBJECT);
}

/* Each bad document and the exact error it gives. */
static void bad(const char *text, const char *want)
{
    int r = parse(text);

    cr_assert_eq(r, -1, "parsed: %s", text);
    cr_assert_null(doc.root);
    cr_assert_str_eq(err, want, "for %s: got %s", text, err);
}

Test(json, errors_name_line_and_column)
{
    bad("", "line 1 column 1: unexpected end of input; expected a value");
    bad("   ", "line 1 column 4: unexpected end of input; expected a value");
    bad("not json", "line 1 column 1: unexpected 'n'; expected a value");
    bad("{\"a\":1,}", "line 1 column 8: unexpected '}'; expected a member name (a string)");
    bad("{\n  \"a\" 1\n}", "line 2 column 7: unexpected '1'; expected ':' after a member name");
    bad("[1 2]", "line 1 column 4: unexpected '2'; expected ',' or ']'");
    bad("{\"a\":1", "line 1 column 7: unexpected end of input; expected ',' or '}'");
    bad("[1,]", "line 1 column 4: unexpected ']'; expected a value");
    bad("{} x", "line 1 column 4: unexpected 'x'; expected the end of the document");
    bad("{}{}", "line 1 column 3: unexpected '{'; expected the end of the document");
    bad("tru", "line 1 column 4: unexpected end of input; expected a value");
    bad("nul1", "line 1 column 1: unexpected 'n'; expected a value");
    bad("[nope]", "line 1 column 2: unexpected 'n'; expected a value");
    bad("{'a':1}", "line 1 column 2: unexpected '''; expected a member name (a string)");
    bad("{a:1}", "line 1 column 2: unexpected 'a'; expected a member name (a string)");
    bad("\x01", "line 1 column 1: unexpected byte 0x01; expected a value");
}

Test(json, number_errors)
{
    bad("01", "line 1 column 2: unexpected '1'; expected the end of the document");
    bad("-", "line 1 column 2: unexpected end of input; expected a digit");
    bad("-x", "line 1 column 2: unexpected 'x'; expected a digit");
    bad("1.", "line 1 column 3: unexpected end of input; expected a digit after '.'");
    bad(".5", "line 1 column 1: unexpected '.'; expected a value");
    bad("1e", "line 1 column 3: unexpected end of input; expected a digit in the exponent");
    bad("+1", "line 1 column 1: unexpected '+'; expected a value");
    bad("1e999", "line 1 column 1: number out of range");
    bad("NaN", "line 1 column 1: unexpected 'N'; expected a value");
}

Test(json, string_errors)
{
    bad("\"abc", "line 1 column 5: unterminated string");
    bad("\"a\nb\"", "line 1 column 3: control character 0x0a in a string (escape it)");
    bad("\"\\x\"", "line 1 column 3: invalid escape '\\x'");
    bad("\"\\u12\"", "line 1 column 6: invalid \\u escape: four hex digits expected");
    bad("\"\\u12g4\"", "line 1 column 6: invalid \\u escape: four hex digits expected");
    bad("\"\\ud800\"", "line 1 column 2: unpaired surrogate in a \\u escape");
    bad("\"\\udc00\"", "line 1 column 2: unpaired surrogate in a \\u escape");
    bad("\"\\ud800\\u0041\"", "line 1 column 2: unpaired surrogate in a \\u escape");
    bad("\"a\\u0000b\"", "line 1 column 3: \\u0000 is not allowed");
    bad("\"\xff\"", "line 1 column 2: invalid UTF-8 in a string");
    bad("\"\xc0\xaf\"", "line 1 column 2: invalid UTF-8 in a string");
    bad("\"\xed\xa0\x80\"", "line 1 column 2: invalid UTF-8 in a string");
    bad("\"\xe2\x82\"", "line 1 column 2: invalid UTF-8 in a string");
}

Test(json, duplicate_members_are_refused)
{
    struct sbuf b;

    bad("{\"web\":1,\"web\":2}", "line 1 column 18: member \"web\" appears twice in an object");
    /* Many members: the sorted check. */
    sbuf_init(&b);
    sbuf_puts(&b, "{");
    for (int i = 0; i < 500; i++)
        sbuf_printf(&b, "\"k%d\":%d,", i, i);
    sbuf_puts(&b, "\"k250\":0}");
    cr_assert_eq(json_parse(b.data, b.len, &doc, err, sizeof(err)), -1);
    cr_assert(strstr(err, "member \"k250\" appears twice") != NULL, "%s", err);
    sbuf_free(&b);
}

Test(json, depth_limit_is_64)
{
    char text[200];
    int n = 0;

    for (int i = 0; i < 64; i++)
        text[n++] = '[';
    for (int i = 0; i < 64; i++)
        text[n++] = ']';
    cr_assert_eq(json_parse(text, (size_t)n, &doc, err, sizeof(err)), 0, "%s", err);
    json_free(&doc);
    n = 0;
    for (int i = 0; i < 65; i++)
        text[n++] = '[';
    for (int i = 0; i < 65; i++)
        text[n++] = ']';
    cr_assert_eq(json_parse(text, (size_t)n, &doc, err, sizeof(err)), -1);
    cr_assert_str_eq(err, "line 1 column 65: nested deeper than 64 levels");
}

Test(json, text_need_not_be_nul_terminated)
{
    const char text[] = {'[', '1', '2', ']', '3'};

    cr_assert_eq(json_parse(text, 4, &doc, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(doc.root->children[0].intval, 12);
    json_free(&doc);
    cr_assert_eq(json_parse(text, 2, &doc, err, sizeof(err)), -1);
    cr_assert_str_eq(err, "line 1 column 3: unexpected end of input; expected ',' or ']'");
}

Test(json, small_error_buffer_is_fine)
{
    char small[8];

    cr_assert_eq(json_parse("x", 1, &doc, small, sizeof(small)), -1);
    cr_assert_str_eq(small, "line 1 ");
    cr_assert_eq(json_parse("x", 1, &doc, NULL, 0), -1);
}

Test(json, large_document)
{
    struct sbuf b;

    sbuf_init(&b);
    sbuf_puts(&b, "[");
    for (int i = 0; i < 20000; i++)
        sbuf_printf(&b, "%s{\"i\":%d,\"s\":\"v%d\"}", i ? "," : "", i, i);
    sbuf_puts(&b, "]");
    cr_assert_eq(json_parse(b.data, b.len, &doc, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(doc.root->nchildren, 20000);
    cr_assert_eq(json_get(&doc.root->children[19999], "i")->intval, 19999);
    cr_assert_str_eq(json_get(&doc.root->children[123], "s")->string, "v123");
    sbuf_free(&b);
}

Test(json, writer_output_round_trips)
{
    struct sbuf b;
    struct jsonw jw;

    sbuf_init(&b);
    jsonw_init(&jw, &b);
    jsonw_object_begin(&jw);
    jsonw_key(&jw, "tab\tkey");
    jsonw_array_begin(&jw);
    jsonw_int(&jw, 3);
    jsonw_double(&jw, 1.5);
    jsonw_string(&jw, "\"quoted\"");
    jsonw_array_end(&jw);
    jsonw_object_end(&jw);
    cr_assert_eq(json_parse(b.data, b.len, &doc, err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(doc.root->children[0].key, "tab\tkey");
    cr_assert_eq(doc.root->children[0].children[0].intval, 3);
    cr_assert_eq(doc.root->children[0].children[1].number, 1.5);
    cr_assert_str_eq(doc.root->children[0].children[2].string, "\"quoted\"");
    sbuf_free(&b);
}
