/* lib/utf8: the same idea of well-formed UTF-8 as jansson's, checked
 * against jansson itself, and the Latin-1 reading of every other byte. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>

#include "lib/utf8.h"

/* s[0..n) is well-formed as a whole, by utf8_seq_len. */
static bool valid(const char *s, size_t n)
{
    for (size_t i = 0, k; i < n; i += k)
        if ((k = utf8_seq_len(s + i, n - i)) == 0)
            return false;
    return true;
}

/* jansson's verdict on the same bytes. */
static bool jansson_valid(const char *s, size_t n)
{
    json_t *j = json_stringn(s, n);

    json_decref(j);
    return j != NULL;
}

Test(utf8, sequence_lengths_at_the_boundaries)
{
    cr_assert_eq(utf8_seq_len("a", 1), 1);
    cr_assert_eq(utf8_seq_len("\x7f", 1), 1);
    cr_assert_eq(utf8_seq_len("\xc2\x80", 2), 2);         /* U+0080 */
    cr_assert_eq(utf8_seq_len("\xdf\xbf", 2), 2);         /* U+07FF */
    cr_assert_eq(utf8_seq_len("\xe0\xa0\x80", 3), 3);     /* U+0800 */
    cr_assert_eq(utf8_seq_len("\xed\x9f\xbf", 3), 3);     /* U+D7FF */
    cr_assert_eq(utf8_seq_len("\xee\x80\x80", 3), 3);     /* U+E000 */
    cr_assert_eq(utf8_seq_len("\xef\xbf\xbf", 3), 3);     /* U+FFFF */
    cr_assert_eq(utf8_seq_len("\xf0\x90\x80\x80", 4), 4); /* U+10000 */
    cr_assert_eq(utf8_seq_len("\xf4\x8f\xbf\xbf", 4), 4); /* U+10FFFF */
    cr_assert_eq(utf8_seq_len("\xc3\xa9 and more", 11), 2, "only the first sequence");
}

Test(utf8, ill_formed_sequences_are_refused)
{
    cr_assert_eq(utf8_seq_len("\x80", 1), 0, "a continuation byte first");
    cr_assert_eq(utf8_seq_len("\xc0\xaf", 2), 0, "overlong '/'");
    cr_assert_eq(utf8_seq_len("\xc1\xbf", 2), 0, "overlong");
    cr_assert_eq(utf8_seq_len("\xe0\x9f\xbf", 3), 0, "overlong U+07FF");
    cr_assert_eq(utf8_seq_len("\xf0\x8f\xbf\xbf", 4), 0, "overlong U+FFFF");
    cr_assert_eq(utf8_seq_len("\xed\xa0\x80", 3), 0, "surrogate U+D800");
    cr_assert_eq(utf8_seq_len("\xed\xbf\xbf", 3), 0, "surrogate U+DFFF");
    cr_assert_eq(utf8_seq_len("\xf4\x90\x80\x80", 4), 0, "U+110000");
    cr_assert_eq(utf8_seq_len("\xf5\x80\x80\x80", 4), 0);
    cr_assert_eq(utf8_seq_len("\xff", 1), 0);
    cr_assert_eq(utf8_seq_len("\xe6\x97", 2), 0, "cut short");
    cr_assert_eq(utf8_seq_len("\xc3(", 2), 0, "not a continuation");
    cr_assert_eq(utf8_seq_len("\xe6\x97(", 3), 0);
}

Test(utf8, agrees_with_jansson_on_every_short_string)
{
    unsigned char s[4];
    size_t disagree = 0;

    /* Every one- and two-byte string. */
    for (unsigned a = 0; a < 256; a++) {
        s[0] = (unsigned char)a;
        disagree += valid((char *)s, 1) != jansson_valid((char *)s, 1);
        for (unsigned b = 0; b < 256; b++) {
            s[1] = (unsigned char)b;
            disagree += valid((char *)s, 2) != jansson_valid((char *)s, 2);
        }
    }
    /* Three bytes around every lead and continuation boundary. */
    for (unsigned a = 0xc0; a < 256; a++)
        for (unsigned b = 0x70; b < 0xc8; b++)
            for (unsigned c = 0x70; c < 0xc8; c++) {
                s[0] = (unsigned char)a;
                s[1] = (unsigned char)b;
                s[2] = (unsigned char)c;
                disagree += valid((char *)s, 3) != jansson_valid((char *)s, 3);
            }
    /* Four bytes: every lead and second byte, edge continuations. */
    for (unsigned a = 0xf0; a < 256; a++)
        for (unsigned b = 0x70; b < 0xc8; b++)
            for (unsigned k = 0; k < 16; k++) {
                static const unsigned char edge[4] = {0x7f, 0x80, 0xbf, 0xc0};

                s[0] = (unsigned char)a;
                s[1] = (unsigned char)b;
                s[2] = edge[k & 3];
                s[3] = edge[k >> 2];
                disagree += valid((char *)s, 4) != jansson_valid((char *)s, 4);
            }
    cr_assert_eq(disagree, 0, "%zu strings judged differently", disagree);
}

Test(utf8, repair_reads_stray_bytes_as_latin1)
{
    struct sbuf out;
    const char *in = "ok \xc3\xa9 \xff \xe6\x97 \xed\xa0\x80";

    sbuf_init(&out);
    utf8_repair(in, strlen(in), &out);
    /* é stays; 0xff → ÿ (U+00FF); a cut sequence and a surrogate byte by byte. */
    cr_assert_str_eq(out.data, "ok \xc3\xa9 \xc3\xbf \xc3\xa6\xc2\x97 \xc3\xad\xc2\xa0\xc2\x80");
    cr_assert(jansson_valid(out.data, out.len));
    out.len = 0;
    utf8_repair("plain", 5, &out);
    cr_assert_str_eq(out.data, "plain");
    sbuf_free(&out);
}

/* utf8_json_string: jansson reads back exactly the bytes, with every byte
 * that is not UTF-8 read as Latin-1 (utf8_repair's reading). */
Test(utf8, json_strings_read_back_by_jansson)
{
    static const char *const cases[] = {
        "plain", "", "quote \" backslash \\ slash /", "\b\f\n\r\t\x01\x1f\x7f",
        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "bad \xff \xc3 \xed\xa0\x80 end",
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sbuf out, fixed;
        json_t *doc;

        sbuf_init(&out);
        sbuf_init(&fixed);
        utf8_json_string(&out, cases[i], strlen(cases[i]));
        doc = json_loadb(out.data, out.len, JSON_DECODE_ANY, NULL);
        cr_assert_not_null(doc, "case %zu: %s", i, out.data);
        utf8_repair(cases[i], strlen(cases[i]), &fixed);
        cr_assert_eq(json_string_length(doc), fixed.len, "case %zu", i);
        cr_assert_eq(memcmp(json_string_value(doc), fixed.data ? fixed.data : "", fixed.len), 0,
                     "case %zu", i);
        json_decref(doc);
        sbuf_free(&out);
        sbuf_free(&fixed);
    }
}

/* A full buffer stops before an escape or a character that does not fit. */
Test(utf8, json_escape_stops_at_a_whole_piece)
{
    char buf[8];
    size_t used, n;

    n = utf8_json_escape("ab\ncd", 5, buf, 3, &used);
    cr_assert_eq(n, 2, "\\n does not fit after ab");
    cr_assert_eq(used, 2);
    n = utf8_json_escape("a\xe2\x82\xac", 4, buf, 3, &used);
    cr_assert_eq(n, 1, "the euro sign needs 3 bytes");
    cr_assert_eq(used, 1);
    n = utf8_json_escape("\x01", 1, buf, 6, &used);
    cr_assert_eq(n, 6);
    cr_assert_eq(memcmp(buf, "\\u0001", 6), 0);
}
