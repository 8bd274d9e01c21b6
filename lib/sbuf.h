/* A growable, always NUL-terminated byte buffer, for building strings off
 * the request path (config values, commands, admin API answers). */
#ifndef DROVER_LIB_SBUF_H
#define DROVER_LIB_SBUF_H

#include <stdbool.h>
#include <stddef.h>

/* A growable byte buffer. Appends never fail: out of memory is remembered
 * in oom and later appends are dropped. */
struct sbuf {
    char *data;
    size_t len, cap;
    bool oom;
};

void sbuf_init(struct sbuf *b);
void sbuf_free(struct sbuf *b);
void sbuf_put(struct sbuf *b, const char *s, size_t n);
void sbuf_puts(struct sbuf *b, const char *s);
void sbuf_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
