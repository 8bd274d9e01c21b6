#include "lib/utf8.h"

#include <string.h>

size_t utf8_seq_len(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    unsigned c = p[0], lo = 0x80, hi = 0xbf;
    size_t len;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4;
    else
        return 0;
    if (n < len)
        return 0;
    /* The second byte's range is what rules out overlongs, surrogates and
     * code points above U+10FFFF. */
    if (c == 0xe0)
        lo = 0xa0;
    else if (c == 0xed)
        hi = 0x9f;
    else if (c == 0xf0)
        lo = 0x90;
    else if (c == 0xf4)
        hi = 0x8f;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return len;
}

void utf8_repair(const char *s, size_t n, struct sbuf *out)
{
    size_t i = 0;

    while (i < n) {
        size_t seq = utf8_seq_len(s + i, n - i);

        if (seq > 0) {
            sbuf_put(out, s + i, seq);
            i += seq;
        } else {
            unsigned char c = (unsigned char)s[i++];
            char two[2] = {(char)(0xc0 | (c >> 6)), (char)(0x80 | (c & 0x3f))};

            sbuf_put(out, two, 2);
        }
    }
}

size_t utf8_json_escape(const char *s, size_t n, char *dst, size_t cap, size_t *used)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i = 0, w = 0;

    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        char esc[6];
        size_t elen = 2, seq = 1;

        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            if (w == cap)
                break;
            dst[w++] = (char)c;
            i++;
            continue;
        }
        if (c >= 0x80 && (seq = utf8_seq_len(s + i, n - i)) > 0) {
            if (w + seq > cap)
                break;
            memcpy(dst + w, s + i, seq);
            w += seq;
            i += seq;
            continue;
        }
        esc[0] = '\\';
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            /* A control byte, or one that is not UTF-8 (Latin-1: U+00XX). */
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            elen = 6;
            break;
        }
        if (w + elen > cap)
            break;
        memcpy(dst + w, esc, elen);
        w += elen;
        i++;
    }
    *used = i;
    return w;
}

void utf8_json_string(struct sbuf *out, const char *s, size_t n)
{
    char buf[1024];
    size_t used;

    sbuf_put(out, "\"", 1);
    while (n > 0) {
        size_t w = utf8_json_escape(s, n, buf, sizeof(buf), &used);

        sbuf_put(out, buf, w);
        s += used;
        n -= used;
    }
    sbuf_put(out, "\"", 1);
}
