/* Byte classes of HTTP/1.1 fields, shared by the head and body parsers
 * (router/http.c, router/http_body.c). Internal to router/http*.c. */
#ifndef DROVER_ROUTER_HTTP_SYNTAX_H
#define DROVER_ROUTER_HTTP_SYNTAX_H

#include <stdbool.h>
#include <stdint.h>

/* RFC 9110 5.6.2 tchar, as a table: header names are checked byte by byte. */
static const uint8_t http_tchar[256] = {
    ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1, ['+'] = 1,
    ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['|'] = 1, ['~'] = 1,
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
    ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
    ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
    ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
    ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
    ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1,
};

/* A field value byte: VCHAR, obs-text, SP or HTAB (RFC 9110 5.5). */
static inline bool http_value_byte(unsigned char c)
{
    return (c >= 0x20 && c != 0x7f) || c == '\t';
}

/* A request target's parts as offsets: [auth, auth + authlen) the
 * authority of an absolute-form target (authlen 0: none), [path, query)
 * the path, query the start of "?..." or the end. */
struct target_split {
    size_t auth, authlen, path, query;
};
struct target_split http_split_target(const char *s, size_t n);

#endif
