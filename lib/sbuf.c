#include "lib/sbuf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sbuf_init(struct sbuf *b)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->oom = false;
}

void sbuf_free(struct sbuf *b)
{
    free(b->data);
    sbuf_init(b);
}

/* Room for n more bytes and a NUL after them. false (and oom set) when
 * that cannot be had. */
static bool sbuf_reserve(struct sbuf *b, size_t n)
{
    size_t cap;
    char *data;

    if (b->oom)
        return false;
    if (b->cap > b->len && n < b->cap - b->len)
        return true;
    if (n > SIZE_MAX / 2 - b->len) {
        b->oom = true;
        return false;
    }
    cap = b->cap != 0 ? b->cap : 256;
    while (cap - b->len <= n)
        cap *= 2;
    data = realloc(b->data, cap);
    if (data == NULL) {
        b->oom = true;
        return false;
    }
    b->data = data;
    b->cap = cap;
    return true;
}

void sbuf_put(struct sbuf *b, const char *s, size_t n)
{
    if (!sbuf_reserve(b, n))
        return;
    if (n > 0)
        memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void sbuf_puts(struct sbuf *b, const char *s)
{
    sbuf_put(b, s, strlen(s));
}

void sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (!sbuf_reserve(b, 64))
        return;
    va_start(ap, fmt);
    n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= b->cap - b->len) {
        if (!sbuf_reserve(b, (size_t)n))
            return;
        va_start(ap, fmt);
        vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
}
