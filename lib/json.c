#include "lib/json.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/arena.h"

/* ---- UTF-8 ------------------------------------------------------------ */

/* Length of the well-formed UTF-8 sequence at s[0..n) (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned lo = 0x80, hi = 0xbf;

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
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return len;
}

/* ---- writer ----------------------------------------------------------- */

void jsonw_init(struct jsonw *w, struct sbuf *out)
{
    w->out = out;
    w->depth = 0;
    w->after_key = false;
    for (int i = 0; i < JSONW_MAX_DEPTH; i++)
        w->first[i] = true;
}

/* The comma before a value or a key, unless it is the first member of its
 * container or the value that follows a key. */
static void jsonw_sep(struct jsonw *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->depth > 0 && w->depth <= JSONW_MAX_DEPTH) {
        if (!w->first[w->depth - 1])
            sbuf_put(w->out, ",", 1);
        w->first[w->depth - 1] = false;
    }
}

static void jsonw_open(struct jsonw *w, char c)
{
    jsonw_sep(w);
    sbuf_put(w->out, &c, 1);
    w->depth++;
    if (w->depth > JSONW_MAX_DEPTH)
        w->out->oom = true; /* commas could no longer be placed: the output is void */
    else
        w->first[w->depth - 1] = true;
}

static void jsonw_close(struct jsonw *w, char c)
{
    sbuf_put(w->out, &c, 1);
    if (w->depth > 0)
        w->depth--;
    w->after_key = false;
}

void jsonw_object_begin(struct jsonw *w)
{
    jsonw_open(w, '{');
}

void jsonw_object_end(struct jsonw *w)
{
    jsonw_close(w, '}');
}

void jsonw_array_begin(struct jsonw *w)
{
    jsonw_open(w, '[');
}

void jsonw_array_end(struct jsonw *w)
{
    jsonw_close(w, ']');
}

/* s[0..n) as a JSON string literal: well-formed UTF-8 passes through,
 * every other byte that is not plain printable ASCII is escaped (a stray
 * byte 0xNN becomes \u00NN, i.e. it is read as Latin-1). */
static void put_string(struct sbuf *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t run = 0, i = 0;

    sbuf_put(out, "\"", 1);
    while (i < n) {
        unsigned c = p[i];
        size_t seq;
        char esc[6];
        const char *e = NULL;
        size_t elen = 2;

        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0x80 && (seq = utf8_seq(p + i, n - i)) > 0) {
            i += seq;
            continue;
        }
        /* Flush the run of plain bytes before this one. */
        sbuf_put(out, s + run, i - run);
        switch (c) {
        case '"':
            e = "\\\"";
            break;
        case '\\':
            e = "\\\\";
            break;
        case '\n':
            e = "\\n";
            break;
        case '\r':
            e = "\\r";
            break;
        case '\t':
            e = "\\t";
            break;
        case '\b':
            e = "\\b";
            break;
        case '\f':
            e = "\\f";
            break;
        default:
            esc[0] = '\\';
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            e = esc;
            elen = 6;
            break;
        }
        sbuf_put(out, e, elen);
        i++;
        run = i;
    }
    sbuf_put(out, s + run, n - run);
    sbuf_put(out, "\"", 1);
}

void jsonw_key(struct jsonw *w, const char *key)
{
    jsonw_sep(w);
    put_string(w->out, key, strlen(key));
    sbuf_put(w->out, ":", 1);
    w->after_key = true;
}

void jsonw_stringn(struct jsonw *w, const char *s, size_t n)
{
    jsonw_sep(w);
    put_string(w->out, s, n);
}

void jsonw_string(struct jsonw *w, const char *s)
{
    if (s == NULL) {
        jsonw_null(w);
        return;
    }
    jsonw_stringn(w, s, strlen(s));
}

void jsonw_int(struct jsonw *w, long long v)
{
    jsonw_sep(w);
    sbuf_printf(w->out, "%lld", v);
}

void jsonw_uint(struct jsonw *w, unsigned long long v)
{
    jsonw_sep(w);
    sbuf_printf(w->out, "%llu", v);
}

void jsonw_double(struct jsonw *w, double v)
{
    if (!isfinite(v)) {
        jsonw_null(w); /* JSON has no NaN or infinity */
        return;
    }
    jsonw_sep(w);
    sbuf_printf(w->out, "%.3f", v);
}

void jsonw_bool(struct jsonw *w, bool v)
{
    jsonw_sep(w);
    sbuf_puts(w->out, v ? "true" : "false");
}

void jsonw_null(struct jsonw *w)
{
    jsonw_sep(w);
    sbuf_puts(w->out, "null");
}

/* ---- reader ----------------------------------------------------------- */

#define JSON_MAX_DEPTH 64
#define JSON_MAX_NUMBER 512

/* Values are parsed into a scratch stack; when a container closes, its
 * children move from the top of the stack into one arena array, so each
 * container's children are contiguous and the scratch is reused. */
struct jparser {
    const char *text, *p, *end;
    struct arena *arena;
    struct json_value *stack;
    size_t nstack, capstack;
    int depth;
    char *err;
    size_t errlen;
    bool failed;
};

/* Records the first error, at the byte p points to. Always returns -1. */
static int jfail(struct jparser *jp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int jfail(struct jparser *jp, const char *fmt, ...)
{
    int line = 1, col = 1;
    size_t n;
    va_list ap;

    if (jp->failed)
        return -1;
    jp->failed = true;
    for (const char *q = jp->text; q < jp->p; q++) {
        if (*q == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    if (jp->errlen == 0)
        return -1;
    n = (size_t)snprintf(jp->err, jp->errlen, "line %d column %d: ", line, col);
    if (n < jp->errlen) {
        va_start(ap, fmt);
        vsnprintf(jp->err + n, jp->errlen - n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int junexpected(struct jparser *jp, const char *what)
{
    unsigned char c;

    if (jp->p >= jp->end)
        return jfail(jp, "unexpected end of input%s%s", *what ? "; expected " : "", what);
    c = (unsigned char)*jp->p;
    if (c > 0x20 && c < 0x7f)
        return jfail(jp, "unexpected '%c'%s%s", c, *what ? "; expected " : "", what);
    return jfail(jp, "unexpected byte 0x%02x%s%s", c, *what ? "; expected " : "", what);
}

static void skip_ws(struct jparser *jp)
{
    while (jp->p < jp->end &&
           (*jp->p == ' ' || *jp->p == '\t' || *jp->p == '\n' || *jp->p == '\r'))
        jp->p++;
}

static int push(struct jparser *jp, const struct json_value *v)
{
    if (jp->nstack == jp->capstack) {
        size_t cap = jp->capstack ? jp->capstack * 2 : 32;
        struct json_value *s = realloc(jp->stack, cap * sizeof(*s));

        if (s == NULL)
            return jfail(jp, "out of memory");
        jp->stack = s;
        jp->capstack = cap;
    }
    jp->stack[jp->nstack++] = *v;
    return 0;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Four hex digits after "\u" at jp->p; -1 (error recorded) if not. */
static long read_hex4(struct jparser *jp)
{
    long v = 0;

    for (int i = 0; i < 4; i++) {
        int h = jp->p + i < jp->end ? hexval((unsigned char)jp->p[i]) : -1;

        if (h < 0) {
            jp->p += i;
            return jfail(jp, "invalid \\u escape: four hex digits expected");
        }
        v = v * 16 + h;
    }
    jp->p += 4;
    return v;
}

static size_t put_utf8(char *out, unsigned long cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* The string at jp->p (on its opening quote), unescaped into the arena.
 * An escape never makes the text longer, so the raw length bounds it. */
static int parse_string(struct jparser *jp, const char **out)
{
    const char *start = ++jp->p, *q;
    char *buf, *w;

    /* Find the closing quote first, to size the copy. */
    for (q = start; q < jp->end && *q != '"'; q++)
        if (*q == '\\' && q + 1 < jp->end)
            q++;
    if (q >= jp->end) {
        jp->p = jp->end;
        return jfail(jp, "unterminated string");
    }
    buf = w = arena_alloc(jp->arena, (size_t)(q - start) + 1);
    if (buf == NULL)
        return jfail(jp, "out of memory");
    while (jp->p < jp->end) {
        unsigned char c = (unsigned char)*jp->p;
        size_t seq;

        if (c == '"') {
            jp->p++;
            *w = '\0';
            *out = buf;
            return 0;
        }
        if (c < 0x20)
            return jfail(jp, "control character 0x%02x in a string (escape it)", c);
        if (c >= 0x80) {
            if ((seq = utf8_seq((const unsigned char *)jp->p, (size_t)(jp->end - jp->p))) == 0)
                return jfail(jp, "invalid UTF-8 in a string");
            memcpy(w, jp->p, seq);
            w += seq;
            jp->p += seq;
            continue;
        }
        if (c != '\\') {
            *w++ = (char)c;
            jp->p++;
            continue;
        }
        jp->p++;
        if (jp->p >= jp->end)
            return jfail(jp, "unterminated string");
        switch (*jp->p++) {
        case '"':
            *w++ = '"';
            break;
        case '\\':
            *w++ = '\\';
            break;
        case '/':
            *w++ = '/';
            break;
        case 'b':
            *w++ = '\b';
            break;
        case 'f':
            *w++ = '\f';
            break;
        case 'n':
            *w++ = '\n';
            break;
        case 'r':
            *w++ = '\r';
            break;
        case 't':
            *w++ = '\t';
            break;
        case 'u': {
            const char *esc = jp->p - 2;
            long cp = read_hex4(jp), lo;

            if (cp < 0)
                return -1;
            if (cp >= 0xdc00 && cp <= 0xdfff) {
                jp->p = esc;
                return jfail(jp, "unpaired surrogate in a \\u escape");
            }
            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (jp->end - jp->p < 2 || jp->p[0] != '\\' || jp->p[1] != 'u') {
                    jp->p = esc;
                    return jfail(jp, "unpaired surrogate in a \\u escape");
                }
                jp->p += 2;
                if ((lo = read_hex4(jp)) < 0)
                    return -1;
                if (lo < 0xdc00 || lo > 0xdfff) {
                    jp->p = esc;
                    return jfail(jp, "unpaired surrogate in a \\u escape");
                }
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }
            if (cp == 0) {
                /* Strings are NUL-terminated: "a\u0000b" would silently
                 * read as "a". */
                jp->p = esc;
                return jfail(jp, "\\u0000 is not allowed");
            }
            w += put_utf8(w, (unsigned long)cp);
            break;
        }
        default:
            jp->p -= 1;
            return jfail(jp, "invalid escape '\\%c'", *jp->p > 0x20 && *jp->p < 0x7f ? *jp->p : '?');
        }
    }
    return jfail(jp, "unterminated string");
}

static int parse_number(struct jparser *jp, struct json_value *v)
{
    const char *s = jp->p, *q = s;
    char buf[JSON_MAX_NUMBER + 1];
    bool integer = true;
    char *endp;

    if (q < jp->end && *q == '-')
        q++;
    if (q >= jp->end || *q < '0' || *q > '9') {
        jp->p = q;
        return junexpected(jp, "a digit");
    }
    if (*q == '0')
        q++;
    else
        while (q < jp->end && *q >= '0' && *q <= '9')
            q++;
    if (q < jp->end && *q == '.') {
        integer = false;
        q++;
        if (q >= jp->end || *q < '0' || *q > '9') {
            jp->p = q;
            return junexpected(jp, "a digit after '.'");
        }
        while (q < jp->end && *q >= '0' && *q <= '9')
            q++;
    }
    if (q < jp->end && (*q == 'e' || *q == 'E')) {
        integer = false;
        q++;
        if (q < jp->end && (*q == '+' || *q == '-'))
            q++;
        if (q >= jp->end || *q < '0' || *q > '9') {
            jp->p = q;
            return junexpected(jp, "a digit in the exponent");
        }
        while (q < jp->end && *q >= '0' && *q <= '9')
            q++;
    }
    if (q - s > JSON_MAX_NUMBER)
        return jfail(jp, "number longer than %d characters", JSON_MAX_NUMBER);
    memcpy(buf, s, (size_t)(q - s));
    buf[q - s] = '\0';
    v->type = JSON_NUMBER;
    errno = 0;
    v->number = strtod(buf, &endp);
    if (!isfinite(v->number))
        return jfail(jp, "number out of range");
    if (integer) {
        errno = 0;
        v->intval = strtoll(buf, &endp, 10);
        /* Beyond long long: a number, but not an integer one. */
        v->integer = errno != ERANGE;
        if (!v->integer)
            v->intval = 0;
    }
    jp->p = q;
    return 0;
}

static int parse_literal(struct jparser *jp, const char *word, struct json_value *v)
{
    size_t n = strlen(word), avail = (size_t)(jp->end - jp->p);

    if (avail < n || memcmp(jp->p, word, n) != 0) {
        /* "tru" at the end is a truncated document; "nope" is not a value. */
        if (avail < n && memcmp(jp->p, word, avail) == 0)
            jp->p = jp->end;
        return junexpected(jp, "a value");
    }
    jp->p += n;
    if (word[0] == 'n') {
        v->type = JSON_NULL;
    } else {
        v->type = JSON_BOOL;
        v->boolean = word[0] == 't';
    }
    return 0;
}

static int parse_value(struct jparser *jp, struct json_value *v);

static int cmp_keys(const void *a, const void *b)
{
    const struct json_value *const *x = a, *const *y = b;

    return strcmp((*x)->key, (*y)->key);
}

/* The name of a member that appears twice in kids[0..n), or NULL. Sorting
 * pointers keeps a 64 KiB body of one-letter members from taking
 * quadratic time. */
static const char *duplicate_key(struct json_value *kids, size_t n)
{
    const struct json_value **v;
    const char *dup = NULL;

    if (n < 2)
        return NULL;
    if (n <= 8) {
        for (size_t i = 0; i < n; i++)
            for (size_t j = i + 1; j < n; j++)
                if (strcmp(kids[i].key, kids[j].key) == 0)
                    return kids[i].key;
        return NULL;
    }
    v = malloc(n * sizeof(*v));
    if (v == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        v[i] = &kids[i];
    qsort(v, n, sizeof(*v), cmp_keys);
    for (size_t i = 1; i < n && dup == NULL; i++)
        if (strcmp(v[i - 1]->key, v[i]->key) == 0)
            dup = v[i]->key;
    free(v);
    return dup;
}

/* An array or object at jp->p (on its opening bracket). */
static int parse_container(struct jparser *jp, struct json_value *v, bool object)
{
    char close = object ? '}' : ']';
    size_t base = jp->nstack, n;
    const char *dup;

    if (++jp->depth > JSON_MAX_DEPTH)
        return jfail(jp, "nested deeper than %d levels", JSON_MAX_DEPTH);
    v->type = object ? JSON_OBJECT : JSON_ARRAY;
    jp->p++;
    skip_ws(jp);
    if (jp->p < jp->end && *jp->p == close) {
        jp->p++;
        jp->depth--;
        return 0;
    }
    for (;;) {
        struct json_value kid;
        const char *key = NULL;

        memset(&kid, 0, sizeof(kid));
        skip_ws(jp);
        if (object) {
            if (jp->p >= jp->end || *jp->p != '"')
                return junexpected(jp, "a member name (a string)");
            if (parse_string(jp, &key) < 0)
                return -1;
            skip_ws(jp);
            if (jp->p >= jp->end || *jp->p != ':')
                return junexpected(jp, "':' after a member name");
            jp->p++;
            skip_ws(jp);
        }
        if (parse_value(jp, &kid) < 0)
            return -1;
        kid.key = key;
        if (push(jp, &kid) < 0)
            return -1;
        skip_ws(jp);
        if (jp->p < jp->end && *jp->p == ',') {
            jp->p++;
            continue;
        }
        if (jp->p < jp->end && *jp->p == close) {
            jp->p++;
            break;
        }
        return junexpected(jp, object ? "',' or '}'" : "',' or ']'");
    }
    n = jp->nstack - base;
    v->children = arena_alloc(jp->arena, n * sizeof(*v->children));
    if (v->children == NULL)
        return jfail(jp, "out of memory");
    memcpy(v->children, jp->stack + base, n * sizeof(*v->children));
    v->nchildren = n;
    jp->nstack = base;
    jp->depth--;
    if (object && (dup = duplicate_key(v->children, n)) != NULL)
        return jfail(jp, "member \"%.64s\" appears twice in an object", dup);
    return 0;
}

static int parse_value(struct jparser *jp, struct json_value *v)
{
    skip_ws(jp);
    if (jp->p >= jp->end)
        return junexpected(jp, "a value");
    switch (*jp->p) {
    case '{':
        return parse_container(jp, v, true);
    case '[':
        return parse_container(jp, v, false);
    case '"':
        v->type = JSON_STRING;
        return parse_string(jp, &v->string);
    case 't':
        return parse_literal(jp, "true", v);
    case 'f':
        return parse_literal(jp, "false", v);
    case 'n':
        return parse_literal(jp, "null", v);
    default:
        if (*jp->p == '-' || (*jp->p >= '0' && *jp->p <= '9'))
            return parse_number(jp, v);
        return junexpected(jp, "a value");
    }
}

int json_parse(const char *text, size_t len, struct json_doc *doc, char *err, size_t errlen)
{
    struct jparser jp = {.text = text, .p = text, .end = text + len, .err = err, .errlen = errlen};

    doc->root = NULL;
    doc->mem = NULL;
    if (errlen > 0)
        err[0] = '\0';
    jp.arena = arena_new();
    if (jp.arena == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* RFC 8259 8.1: a parser may ignore a byte order mark. */
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        jp.p += 3;
    doc->root = arena_alloc(jp.arena, sizeof(*doc->root));
    if (doc->root == NULL) {
        jfail(&jp, "out of memory");
        goto fail;
    }
    if (parse_value(&jp, doc->root) < 0)
        goto fail;
    skip_ws(&jp);
    if (jp.p < jp.end) {
        junexpected(&jp, "the end of the document");
        goto fail;
    }
    free(jp.stack);
    doc->mem = jp.arena;
    return 0;
fail:
    free(jp.stack);
    arena_free(jp.arena);
    doc->root = NULL;
    return -1;
}

void json_free(struct json_doc *doc)
{
    arena_free(doc->mem);
    doc->mem = NULL;
    doc->root = NULL;
}

const struct json_value *json_get(const struct json_value *obj, const char *key)
{
    if (obj == NULL || obj->type != JSON_OBJECT)
        return NULL;
    for (size_t i = 0; i < obj->nchildren; i++)
        if (strcmp(obj->children[i].key, key) == 0)
            return &obj->children[i];
    return NULL;
}
