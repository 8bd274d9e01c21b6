/* The access log's JSON strings: written as jansson writes them, and valid
 * JSON whatever bytes a client sent. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/sbuf.h"
#include "lib/utf8.h"
#include "router/accesslog.h"
#include "router/conn.h"
#include "router/request.h"

/* The JSON line logged for a GET / whose User-Agent is ua[0..n) (malloc'd). */
static char *log_line(const char *ua, size_t n, enum log_format format)
{
    static struct conn c;
    static struct request req;
    struct accesslog *al;
    char buf[16384];
    ssize_t got;
    int fds[2];

    memset(&c, 0, sizeof(c));
    memset(&req, 0, sizeof(req));
    snprintf(c.ip, sizeof(c.ip), "127.0.0.1");
    req.meta[0] = '/';
    req.uri_len = 1;
    memcpy(req.meta + 1, ua, n);
    req.ua_len = (uint16_t)n;
    req.has_ua = true;
    req.method = HTTP_GET;
    req.minor = 1;
    req.status = 200;
    req.start = 1000.0;
    memcpy(req.id, "rid", 3);
    req.idlen = 3;
    cr_assert_eq(pipe(fds), 0);
    al = accesslog_new(fds[1], format);
    accesslog_request(al, &c, &req, 1000.25);
    accesslog_free(al); /* flushes */
    close(fds[1]);
    got = read(fds[0], buf, sizeof(buf) - 1);
    close(fds[0]);
    cr_assert_gt(got, 0);
    buf[got] = '\0';
    return strdup(buf);
}

/* The user_agent member's JSON text, as the log wrote it (malloc'd). */
static char *ua_text(const char *ua, size_t n)
{
    char *line = log_line(ua, n, LOG_FORMAT_JSON);
    const char *from = strstr(line, "\"user_agent\":"), *to = strstr(line, ",\"referer\":");
    char *text;

    cr_assert(from != NULL && to != NULL && to > from, "%s", line);
    from += strlen("\"user_agent\":");
    text = strndup(from, (size_t)(to - from));
    free(line);
    return text;
}

Test(accesslog, strings_are_written_as_jansson_writes_them)
{
    static const char *const cases[] = {
        "curl/8.1",
        "quote \" backslash \\ slash /",
        "controls \x01 \x1f \b \f \n \r \t and DEL \x7f",
        "caf\xc3\xa9, \xe6\x97\xa5\xe6\x9c\xac, \xf0\x9f\x98\x80, \xf4\x8f\xbf\xbf",
        "",
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *s = json_string(cases[i]);
        char *want = json_dumps(s, JSON_ENCODE_ANY), *got = ua_text(cases[i], strlen(cases[i]));

        cr_assert_str_eq(got, want, "case %zu", i);
        free(want);
        free(got);
        json_decref(s);
    }
}

/* jansson refuses these strings; the log writes each stray byte \u00XX,
 * which reads back as utf8_repair's Latin-1 reading of it. */
Test(accesslog, bytes_jansson_refuses_are_latin1_escapes)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"\xff", "\"\\u00FF\""},
        {"a\xc3(", "\"a\\u00C3(\""},
        {"\xc0\xaf", "\"\\u00C0\\u00AF\""},                  /* overlong */
        {"\xed\xa0\x80", "\"\\u00ED\\u00A0\\u0080\""},       /* a surrogate */
        {"\xf4\x90\x80\x80", "\"\\u00F4\\u0090\\u0080\\u0080\""}, /* above U+10FFFF */
        {"ok \xe6\x97", "\"ok \\u00E6\\u0097\""},            /* cut short */
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *in = cases[i].in;
        char *got = ua_text(in, strlen(in));
        json_error_t e;
        json_t *back = json_loads(got, JSON_DECODE_ANY, &e);
        struct sbuf repaired;

        cr_assert_null(json_string(in), "jansson takes case %zu", i);
        cr_assert_str_eq(got, cases[i].want, "case %zu", i);
        cr_assert_not_null(back, "case %zu: %s", i, e.text);
        sbuf_init(&repaired);
        utf8_repair(in, strlen(in), &repaired);
        cr_assert_str_eq(json_string_value(back), repaired.data, "case %zu", i);
        sbuf_free(&repaired);
        json_decref(back);
        free(got);
    }
}

Test(accesslog, a_json_line_is_one_valid_object_whatever_the_bytes)
{
    char ua[256];
    char *line;
    json_error_t e;
    json_t *doc;

    for (int i = 0; i < 255; i++)
        ua[i] = (char)(i + 1); /* every byte value but NUL */
    line = log_line(ua, 255, LOG_FORMAT_JSON);
    cr_assert_eq(line[strlen(line) - 1], '\n');
    cr_assert_eq(strchr(line, '\n'), line + strlen(line) - 1, "one line");
    doc = json_loads(line, 0, &e);
    cr_assert_not_null(doc, "%s: %s", e.text, line);
    cr_assert_str_eq(json_string_value(json_object_get(doc, "uri")), "/");
    cr_assert(json_is_null(json_object_get(doc, "host")));
    cr_assert(json_is_null(json_object_get(doc, "referer")));
    cr_assert_eq(json_integer_value(json_object_get(doc, "status")), 200);
    cr_assert_str_eq(json_string_value(json_object_get(doc, "request_id")), "rid");
    cr_assert_eq(strlen(json_string_value(json_object_get(doc, "user_agent"))), 255 + 128,
                 "bytes 0x80..0xff read as Latin-1 take two bytes each");
    json_decref(doc);
    free(line);
}

Test(accesslog, the_text_format_keeps_its_hex_escapes)
{
    char *line = log_line("a \"b\" \xc3\xa9", 8, LOG_FORMAT_TEXT);

    cr_assert(strstr(line, "\"a \\x22b\\x22 \\xC3\\xA9\" rt=0.250 ") != NULL, "%s", line);
    free(line);
}
