#include "lib/utf8.h"

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
