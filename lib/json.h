/* JSON for the admin API and the control commands: a writer that appends
 * to a growable buffer, and a small reader that parses a document into a
 * tree. Not for the request path. */
#ifndef DROVER_LIB_JSON_H
#define DROVER_LIB_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/sbuf.h"

/* The writer: call in document order; commas and quoting are its job.
 * Strings are escaped so the output is valid JSON whatever bytes they hold
 * (control and non-UTF-8 bytes become \u00XX). */
#define JSONW_MAX_DEPTH 32
struct jsonw {
    struct sbuf *out;
    int depth;
    bool first[JSONW_MAX_DEPTH];    /* no member written yet at this depth */
    bool after_key;
};

void jsonw_init(struct jsonw *w, struct sbuf *out);
void jsonw_object_begin(struct jsonw *w);
void jsonw_object_end(struct jsonw *w);
void jsonw_array_begin(struct jsonw *w);
void jsonw_array_end(struct jsonw *w);
void jsonw_key(struct jsonw *w, const char *key);
void jsonw_string(struct jsonw *w, const char *s);
void jsonw_stringn(struct jsonw *w, const char *s, size_t n);
void jsonw_int(struct jsonw *w, long long v);
void jsonw_uint(struct jsonw *w, unsigned long long v);
void jsonw_double(struct jsonw *w, double v);   /* %.3f, no exponent */
void jsonw_bool(struct jsonw *w, bool v);
void jsonw_null(struct jsonw *w);

/* The reader: a parsed document is a tree of values owned by the doc. */
enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json_value {
    enum json_type type;
    const char *key;                /* member name inside an object, else NULL */
    bool boolean;
    double number;
    bool integer;                   /* the number was written without fraction or exponent */
    long long intval;               /* its value when integer */
    const char *string;             /* NUL-terminated, unescaped (UTF-8) */
    size_t nchildren;
    struct json_value *children;    /* array elements / object members, in order */
};

struct json_doc {
    struct json_value *root;
    void *mem;                      /* everything, freed by json_free */
};

/* Parses text[0..len) (RFC 8259, depth ≤ 64, no trailing garbage). 0, or
 * -1 with "line L column C: reason" in err. */
int json_parse(const char *text, size_t len, struct json_doc *doc, char *err, size_t errlen);
void json_free(struct json_doc *doc);

/* The member named key of an object, or NULL. */
const struct json_value *json_get(const struct json_value *obj, const char *key);

#endif
