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

/* s[0..n) as the inside of a JSON string (no quotes) the way jansson's
 * json_dumps writes one: '"' and '\\' escaped, \b \f \n \r \t, any other
 * control byte \u00XX, well-formed UTF-8 as it is, and every other byte
 * \u00XX (read as Latin-1, as utf8_repair does), so the result is always
 * valid JSON. Into dst (cap bytes, no NUL added); stops early, before an
 * escape or a character that does not fit. Returns the bytes written, and
 * in *used how many bytes of s they hold. */
size_t utf8_json_escape(const char *s, size_t n, char *dst, size_t cap, size_t *used);

/* The same, quotes included, appended to out. */
void utf8_json_string(struct sbuf *out, const char *s, size_t n);

#endif
