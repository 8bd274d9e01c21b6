/* http-desync-guardian's test cases (its tests/ YAML files) as desync cases.
 *
 * A case there is a method, a URI, a version and a list of headers, with
 * the tier the guardian gives it. The request is written the way its own
 * tests write the raw form: "METHOD URI VERSION\r\n", "name: value\r\n"
 * for each header, "\r\n"; strings are unescaped as its tests do (YAML's
 * own escapes, then \xNN, \r, \n, \t, \b, \f; a \xNN of 0x80 or more is
 * the UTF-8 of U+00NN, as in its Rust strings). Two things are added:
 *
 * - "Host: desync.test" after the request line when the case has no Host
 *   (the guardian does not look at Host; without it every HTTP/1.1 case
 *   would be a 400 for that reason alone, RFC 9112 3.2);
 * - a body, framed as RFC 9112 6.3 reads the case's exact
 *   Transfer-Encoding and Content-Length fields (names that only look like
 *   them do not count): chunked when the last coding is chunked (its
 *   parameters dropped); else nothing for any other Transfer-Encoding;
 *   else Content-Length when every value is digits and all agree (at most
 *   8 MiB); else none. The guardian's cases are heads only; without a body
 *   the marker would be read as one. */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "tests/e2e/desync/desync.h"

#define MAX_LENGTH (8u << 20)

/* Compliant cases drover refuses, and why. The runner fails a case listed
 * here that is forwarded (the reason went stale), and one that is refused
 * and not listed. */
static const struct known {
    const char *file, *name;
    int outcome, status;
    const char *why;
} refused[] = {
#define IDENTITY "\"identity\" is no transfer coding (RFC 7230 8.4 took it out of the registry; RFC " \
                 "9112 6.1: a coding the server does not know gets 501)"
#define PARAMS "the chunked coding has no parameters and RFC 9112 7 says to treat them as an " \
               "error; readers that drop them and readers that do not frame the body differently " \
               "(fuzz/crashes bug 1)"
    {"more-compliant-tests.yaml", "Transfer-Encoding: identity and chunked OK", OUT_REJECTED, 501,
     IDENTITY},
    {"more-compliant-tests.yaml", "Multiple transfer encoding headers in a single request OK",
     OUT_REJECTED, 501, IDENTITY},
    {"rfc-compliant.yaml", "Different Transfer-Encoding headers", OUT_REJECTED, 501, IDENTITY},
    {"rfc-compliant.yaml", "Different Transfer-Encoding headers combined", OUT_REJECTED, 501,
     IDENTITY},
    {"more-compliant-tests.yaml", "TE with custom parameters OK", OUT_REJECTED, 400, PARAMS},
    {"rfc-compliant.yaml", "Transfer-Encoding with a param: chunked;custom_param", OUT_REJECTED,
     400, PARAMS},
    {"rfc-compliant.yaml", "International in URI", OUT_REJECTED, 400,
     "a request target is ASCII (RFC 9112 3.2, RFC 3986 2): other bytes are sent percent-encoded"},
    {"rfc-compliant.yaml", "Empty URI", OUT_REJECTED, 400,
     "RFC 9112 3: the request line needs a target (\"GET  HTTP/1.1\" has none)"},
#undef IDENTITY
#undef PARAMS
};

static void put_utf8(struct dbuf *b, unsigned cp)
{
    char u[2];

    if (cp < 0x80) {
        u[0] = (char)cp;
        dbuf_put(b, u, 1);
    } else {
        u[0] = (char)(0xc0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3f));
        dbuf_put(b, u, 2);
    }
}

static int hexval(int ch)
{
    return isdigit(ch) ? ch - '0' : isxdigit(ch) ? (tolower(ch) - 'a' + 10) : -1;
}

/* The guardian's test unescaping (unescape_value in its request_analyzer.rs). */
static void unescape(struct dbuf *out, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];

        if (ch != '\\' || i + 1 == len) {
            dbuf_put(out, &ch, 1);
            continue;
        }
        ch = s[++i];
        switch (ch) {
        case 'x': {
            unsigned v = 0;

            for (int k = 0; k < 2 && i + 1 < len && hexval(s[i + 1]) >= 0; k++)
                v = v * 16 + (unsigned)hexval(s[++i]);
            put_utf8(out, v);
            break;
        }
        case 'b': dbuf_put(out, "\b", 1); break;
        case 'f': dbuf_put(out, "\f", 1); break;
        case 'n': dbuf_put(out, "\n", 1); break;
        case 'r': dbuf_put(out, "\r", 1); break;
        case 't': dbuf_put(out, "\t", 1); break;
        default: dbuf_put(out, &ch, 1); break;
        }
    }
}

static yaml_node_t *map_get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
    if (map == NULL || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);

        if (k != NULL && k->type == YAML_SCALAR_NODE && k->data.scalar.length == strlen(key) &&
            memcmp(k->data.scalar.value, key, strlen(key)) == 0)
            return yaml_document_get_node(doc, p->value);
    }
    return NULL;
}

/* The scalar at map[key], unescaped, into out; false when it is missing. */
static bool get_string(yaml_document_t *doc, yaml_node_t *map, const char *key, struct dbuf *out)
{
    yaml_node_t *n = map_get(doc, map, key);

    if (n == NULL || n->type != YAML_SCALAR_NODE)
        return false;
    dbuf_put(out, "", 0);
    unescape(out, (const char *)n->data.scalar.value, n->data.scalar.length);
    return true;
}

struct header {
    struct dbuf name, value;
};

static bool name_is(const struct header *h, const char *name)
{
    return h->name.len == strlen(name) && strncasecmp(h->name.p, name, h->name.len) == 0;
}

static bool ows(char ch)
{
    return ch == ' ' || ch == '\t';
}

/* The next comma-separated element of [*s, end), OWS trimmed. */
static bool next_element(const char **s, const char *end, const char **el, size_t *len)
{
    const char *a, *b;

    if (*s >= end)
        return false;
    a = *s;
    b = memchr(a, ',', (size_t)(end - a));
    if (b == NULL)
        b = end;
    *s = b < end ? b + 1 : end;
    while (a < b && ows(*a))
        a++;
    while (b > a && ows(b[-1]))
        b--;
    *el = a;
    *len = (size_t)(b - a);
    return true;
}

/* How RFC 9112 6.3 frames the body of these headers (see the top). */
static enum body_kind framing(const struct header *h, size_t n, size_t *length)
{
    const char *last = NULL;
    size_t last_len = 0;
    bool te = false, cl = false, cl_ok = true;
    unsigned long long value = 0;

    for (size_t i = 0; i < n; i++) {
        const char *s = h[i].value.p, *end = s + h[i].value.len, *el;
        size_t len;

        if (name_is(&h[i], "transfer-encoding")) {
            te = true;
            while (next_element(&s, end, &el, &len)) {
                const char *semi = memchr(el, ';', len);

                if (semi != NULL)
                    len = (size_t)(semi - el);
                while (len > 0 && ows(el[len - 1]))
                    len--;
                last = el;
                last_len = len;
            }
        } else if (name_is(&h[i], "content-length")) {
            while (next_element(&s, end, &el, &len)) {
                unsigned long long v = 0;

                if (len == 0 || len > 19)
                    cl_ok = false;
                for (size_t k = 0; k < len && cl_ok; k++) {
                    if (!isdigit((unsigned char)el[k]))
                        cl_ok = false;
                    v = v * 10 + (unsigned)(el[k] - '0');
                }
                if (cl && v != value)
                    cl_ok = false;
                cl = true;
                value = v;
            }
        }
    }
    if (te)
        return last != NULL && last_len == 7 && strncasecmp(last, "chunked", 7) == 0 ? BODY_CHUNKED
                                                                                     : BODY_NONE;
    if (cl && cl_ok && value <= MAX_LENGTH) {
        *length = (size_t)value;
        return BODY_LENGTH;
    }
    return BODY_NONE;
}

static bool has_token(const struct header *h, size_t n, const char *name, const char *token)
{
    for (size_t i = 0; i < n; i++) {
        const char *s = h[i].value.p, *end = s + h[i].value.len, *el;
        size_t len;

        if (!name_is(&h[i], name))
            continue;
        while (next_element(&s, end, &el, &len))
            if (len == strlen(token) && strncasecmp(el, token, len) == 0)
                return true;
    }
    return false;
}

static bool is(const struct dbuf *b, const char *s)
{
    return b->len == strlen(s) && memcmp(b->p, s, b->len) == 0;
}

static int tier_of(const struct dbuf *s)
{
    for (int t = 0; t < NTIERS; t++)
        if (s->p != NULL && strcmp(s->p, tier_name((enum tier)t)) == 0)
            return t;
    return -1;
}

static int load_case(yaml_document_t *doc, yaml_node_t *node, const char *file,
                     struct case_list *out, char *err, size_t errlen)
{
    struct dbuf name = {0}, uri = {0}, method = {0}, version = {0}, tier = {0};
    struct header h[64];
    size_t nh = 0, length = 0;
    yaml_node_t *hs = map_get(doc, node, "headers");
    enum body_kind kind;
    struct dcase *c;
    bool host = false;
    int t;

    memset(h, 0, sizeof(h));
    if (!get_string(doc, node, "name", &name) || !get_string(doc, node, "uri", &uri) ||
        !get_string(doc, node, "method", &method) || !get_string(doc, node, "version", &version) ||
        !get_string(doc, map_get(doc, node, "expected"), "tier", &tier) || (t = tier_of(&tier)) < 0) {
        snprintf(err, errlen, "%s: a case without name, uri, method, version or expected.tier "
                              "(line %zu)", file, node->start_mark.line + 1);
        return -1;
    }
    if (hs != NULL && hs->type == YAML_SEQUENCE_NODE)
        for (yaml_node_item_t *it = hs->data.sequence.items.start; it < hs->data.sequence.items.top;
             it++) {
            yaml_node_t *hn = yaml_document_get_node(doc, *it);

            if (nh == sizeof(h) / sizeof(h[0]) || !get_string(doc, hn, "name", &h[nh].name) ||
                !get_string(doc, hn, "value", &h[nh].value)) {
                snprintf(err, errlen, "%s:%zu: a header without name or value (or too many)",
                         file, hn != NULL ? hn->start_mark.line + 1 : 0);
                return -1;
            }
            host = host || name_is(&h[nh], "host");
            nh++;
        }

    c = case_add(out);
    c->name = name.p;
    c->source = file;
    c->tier = (enum tier)t;
    c->method = method;
    c->target = uri;
    dbuf_put(&c->head, method.p, method.len);
    dbuf_puts(&c->head, " ");
    dbuf_put(&c->head, uri.p, uri.len);
    dbuf_puts(&c->head, " ");
    dbuf_put(&c->head, version.p, version.len);
    dbuf_puts(&c->head, "\r\n");
    if (!host)
        dbuf_puts(&c->head, "Host: desync.test\r\n");
    for (size_t i = 0; i < nh; i++) {
        dbuf_put(&c->head, h[i].name.p, h[i].name.len);
        dbuf_puts(&c->head, ": ");
        dbuf_put(&c->head, h[i].value.p, h[i].value.len);
        dbuf_puts(&c->head, "\r\n");
    }
    dbuf_puts(&c->head, "\r\n");
    kind = version.len == 8 && memcmp(version.p, "HTTP/1.", 7) == 0 ? framing(h, nh, &length)
                                                                   : BODY_NONE;
    case_set_body(c, kind, length);
    /* RFC 9112 2.3: a higher 1.x minor version is read as 1.1. */
    if (is(&version, "HTTP/1.0"))
        c->keep_alive = has_token(h, nh, "connection", "keep-alive");
    else if (version.len == 8 && memcmp(version.p, "HTTP/1.", 7) == 0 &&
             isdigit((unsigned char)version.p[7]))
        c->keep_alive = !has_token(h, nh, "connection", "close");
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        if (strcmp(refused[i].file, file) == 0 &&
            strcmp(refused[i].name, c->name) == 0) {
            c->why = refused[i].why;
            c->expect = refused[i].outcome;
            c->expect_status = refused[i].status;
        }
    for (size_t i = 0; i < nh; i++) {
        dbuf_free(&h[i].name);
        dbuf_free(&h[i].value);
    }
    dbuf_free(&tier);
    dbuf_free(&version);
    return 0;
}

static int load_file(const char *dir, const char *file, struct case_list *out, char *err,
                     size_t errlen)
{
    char path[1024];
    yaml_parser_t parser;
    yaml_document_t doc;
    yaml_node_t *root;
    FILE *f;
    int rc = 0;

    snprintf(path, sizeof(path), "%s/%s", dir, file);
    f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "cannot read %s", path);
        return -1;
    }
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_file(&parser, f);
    if (!yaml_parser_load(&parser, &doc)) {
        snprintf(err, errlen, "%s:%zu: %s", path, parser.problem_mark.line + 1,
                 parser.problem ? parser.problem : "not YAML");
        yaml_parser_delete(&parser);
        fclose(f);
        return -1;
    }
    root = yaml_document_get_root_node(&doc);
    if (root != NULL && root->type == YAML_SEQUENCE_NODE)
        for (yaml_node_item_t *it = root->data.sequence.items.start;
             it < root->data.sequence.items.top && rc == 0; it++)
            rc = load_case(&doc, yaml_document_get_node(&doc, *it), strdup(file), out, err, errlen);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    fclose(f);
    return rc;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int corpus_load_dir(const char *dir, struct case_list *out, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char *names[256];
    size_t n = 0;
    int rc = 0;

    if (d == NULL) {
        snprintf(err, errlen, "cannot open the corpus directory %s", dir);
        return -1;
    }
    while ((e = readdir(d)) != NULL && n < sizeof(names) / sizeof(names[0])) {
        size_t len = strlen(e->d_name);

        if (len > 5 && strcmp(e->d_name + len - 5, ".yaml") == 0)
            names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (n == 0) {
        snprintf(err, errlen, "no *.yaml in %s (the guardian's tests/ directory?)", dir);
        return -1;
    }
    qsort(names, n, sizeof(names[0]), by_name);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = load_file(dir, names[i], out, err, errlen);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    return rc;
}
