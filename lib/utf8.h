/* UTF-8 as jansson reads it (RFC 3629): the one rule for every JSON string
 * drover writes, by jansson (the admin API) or by hand (the access log). */
#ifndef DROVER_LIB_UTF8_H
#define DROVER_LIB_UTF8_H

#include <stddef.h>

#include "lib/sbuf.h"

/* The length (1 to 4) of the well-formed UTF-8 sequence that s[0..n)
 * starts with, or 0 when it does not start with one: no overlong forms, no
 * surrogates, nothing above U+10FFFF (what jansson's json_string accepts).
 * n must be at least 1. */
size_t utf8_seq_len(const char *s, size_t n);

/* s[0..n) into out as well-formed UTF-8: valid sequences are copied, every
 * other byte 0xNN becomes U+00NN (it is read as Latin-1), which is what
 * the access log writes for such a byte (\u00NN). */
void utf8_repair(const char *s, size_t n, struct sbuf *out);

#endif
