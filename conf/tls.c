/* conf/tls.c: the tls: map of a listen entry (SPEC "Production stack").
 * Each certificate is read and checked here, at load, with OpenSSL: a
 * missing file, an unreadable key or a key that is not the certificate's
 * is an error naming the file; an expired certificate is a warning; an
 * OCSP response in CERT.ocsp is read to be stapled. The
 * SSL_CTX built for it is kept in the conf (router/tls.c adds the
 * callbacks), so `drover check`, a start and a reload all judge the very
 * bytes they would serve. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <limits.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "conf/internal.h"
#include "lib/arena.h"

#define TLS_MAX_CERTS 64
#define TLS_MAX_NAMES 256
#define TLS_MAX_OCSP (64 * 1024)

/* OpenSSL's reason for the last failure, its queue emptied. */
static const char *ssl_reason(char *buf, size_t len)
{
    unsigned long e = ERR_peek_last_error();

    if (e == 0)
        snprintf(buf, len, "unknown error");
    else
        ERR_error_string_n(e, buf, len);
    ERR_clear_error();
    return buf;
}

static void add_warning(struct loader *ld, const char *fmt, const char *a, const char *b)
{
    char line[600];
    const char *old = ld->conf->warnings;
    size_t n;
    char *s;

    snprintf(line, sizeof(line), fmt, a, b);
    n = (old != NULL ? strlen(old) : 0) + strlen(line) + 2;
    if ((s = arena_alloc(ld->arena, n)) == NULL) {
        schema_oom(ld);
        return;
    }
    snprintf(s, n, "%s%s\n", old != NULL ? old : "", line);
    ld->conf->warnings = s;
}

/* A DNS name as SNI compares it: lowercased, without a trailing dot. */
static char *name_copy(struct loader *ld, const char *s, size_t len)
{
    char *n;

    while (len > 0 && s[len - 1] == '.')
        len--;
    if (len == 0 || (n = arena_strndup(ld->arena, s, len)) == NULL)
        return NULL;
    for (char *p = n; *p; p++)
        *p = (char)conf_lower((unsigned char)*p);
    return n;
}

/* The certificate's DNS names: its subjectAltName dNSNames, or its CN when
 * it has none (RFC 6125 6.4.4). */
static void cert_names(struct loader *ld, X509 *x, struct conf_tls_cert *c)
{
    GENERAL_NAMES *sans = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    char cn[256];
    int n;

    c->names = arena_alloc(ld->arena, TLS_MAX_NAMES * sizeof(*c->names));
    if (c->names == NULL) {
        schema_oom(ld);
        goto out;
    }
    for (int i = 0; sans != NULL && i < sk_GENERAL_NAME_num(sans) && c->nnames < TLS_MAX_NAMES; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
        char *name;

        if (g->type != GEN_DNS)
            continue;
        name = name_copy(ld, (const char *)ASN1_STRING_get0_data(g->d.dNSName),
                         (size_t)ASN1_STRING_length(g->d.dNSName));
        if (name != NULL)
            c->names[c->nnames++] = name;
    }
    if (c->nnames == 0 && (n = X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn,
                                                         sizeof(cn))) > 0) {
        char *name = name_copy(ld, cn, (size_t)n);

        if (name != NULL)
            c->names[c->nnames++] = name;
    }
out:
    GENERAL_NAMES_free(sans);
}

/* CERT.ocsp next to the certificate (HAProxy's convention: a PEM file
 * has no place for it), a DER OCSP response to staple: read when there,
 * checked to be a successful one. */
static void load_ocsp(struct loader *ld, const yaml_node_t *n, struct conf_tls_cert *c)
{
    char path[PATH_MAX];
    unsigned char *der;
    const unsigned char *p;
    OCSP_RESPONSE *resp;
    long len;
    FILE *f;

    snprintf(path, sizeof(path), "%s.ocsp", c->cert);
    if ((f = fopen(path, "rb")) == NULL)
        return;
    der = arena_alloc(ld->arena, TLS_MAX_OCSP);
    len = der != NULL ? (long)fread(der, 1, TLS_MAX_OCSP, f) : -1;
    fclose(f);
    if (der == NULL) {
        schema_oom(ld);
        return;
    }
    p = der;
    resp = len > 0 && len < TLS_MAX_OCSP ? d2i_OCSP_RESPONSE(NULL, &p, len) : NULL;
    if (resp == NULL || OCSP_response_status(resp) != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
        schema_fail(ld, n, "OCSP response %s: not a successful DER OCSP response (under %d KiB)", path,
                    TLS_MAX_OCSP / 1024);
        ERR_clear_error();
    } else {
        c->ocsp = der;
        c->ocsp_len = (size_t)len;
    }
    OCSP_RESPONSE_free(resp);
}

/* The context that serves c: its chain and key, the protocol range, and
 * what is the same for every TLS listener. NULL after an error naming the
 * file. */
static SSL_CTX *cert_context(struct loader *ld, const yaml_node_t *n, const struct conf_tls *t,
                             struct conf_tls_cert *c)
{
    char why[256];
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    FILE *f;
    X509 *x;

    if (ctx == NULL) {
        schema_oom(ld);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, t->min_version);
    SSL_CTX_set_max_proto_version(ctx, t->max_version);
    if ((f = fopen(c->cert, "r")) == NULL) {
        schema_fail(ld, n, "certificate %s: %s", c->cert, strerror(errno));
        goto fail;
    }
    fclose(f);
    if (SSL_CTX_use_certificate_chain_file(ctx, c->cert) != 1) {
        schema_fail(ld, n, "certificate %s: not a PEM certificate chain (%s)", c->cert,
                    ssl_reason(why, sizeof(why)));
        goto fail;
    }
    if ((f = fopen(c->key, "r")) == NULL) {
        schema_fail(ld, n, "key %s: %s", c->key, strerror(errno));
        goto fail;
    }
    fclose(f);
    if (SSL_CTX_use_PrivateKey_file(ctx, c->key, SSL_FILETYPE_PEM) != 1) {
        if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH ||
            ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_TYPE_MISMATCH) {
            ERR_clear_error();
            schema_fail(ld, n, "key %s does not match certificate %s", c->key, c->cert);
        } else {
            schema_fail(ld, n, "key %s: not a readable private key (%s)", c->key,
                        ssl_reason(why, sizeof(why)));
        }
        goto fail;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        schema_fail(ld, n, "key %s does not match certificate %s", c->key, c->cert);
        ERR_clear_error();
        goto fail;
    }
    x = SSL_CTX_get0_certificate(ctx);
    if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0)
        add_warning(ld, "certificate %s has expired (clients will refuse it)%s", c->cert, "");
    else if (X509_cmp_current_time(X509_get0_notBefore(x)) > 0)
        add_warning(ld, "certificate %s is not valid yet%s", c->cert, "");
    cert_names(ld, x, c);
    load_ocsp(ld, n, c);
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

static void load_cert(struct loader *ld, const yaml_node_t *n, const char *path, struct conf_tls *t,
                      struct conf_tls_cert *c)
{
    static const char *const keys[] = {"cert", "key"};
    yaml_node_t *v[2];
    char kpath[256];

    if (!schema_keys(ld, n, path, keys, 2, v))
        return;
    c->line = (int)n->start_mark.line + 1;
    c->col = (int)n->start_mark.column + 1;
    for (int i = 0; i < 2; i++) {
        if (v[i] == NULL) {
            schema_fail(ld, n, "%s: needs %s (a PEM file)", path, keys[i]);
            return;
        }
        snprintf(kpath, sizeof(kpath), "%s.%s", path, keys[i]);
        value_set_file(ld, v[i], kpath, false, i == 0 ? &c->cert : &c->key);
    }
    if (c->cert == NULL || c->key == NULL)
        return;
    if ((c->ctx = cert_context(ld, n, t, c)) == NULL)
        return;
    c->loaded = ld->conf->tls_loaded;
    ld->conf->tls_loaded = c;
}

static void load_protocols(struct loader *ld, const yaml_node_t *n, const char *path, struct conf_tls *t)
{
    static const char *const names[] = {"TLSv1.2", "TLSv1.3"};
    static const int versions[] = {TLS1_2_VERSION, TLS1_3_VERSION};
    const yaml_node_item_t *it;
    char ipath[224];
    int lo = 0, hi = 0;

    if (n->type != YAML_SEQUENCE_NODE || n->data.sequence.items.start == n->data.sequence.items.top) {
        schema_fail(ld, n, "%s: expected a list of protocols (TLSv1.2, TLSv1.3)", path);
        return;
    }
    for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        const yaml_node_t *item = schema_node(ld, *it);
        int k;

        snprintf(ipath, sizeof(ipath), "%s[%zu]", path, (size_t)(it - n->data.sequence.items.start));
        if (!value_enum(ld, item, ipath, names, 2, &k))
            return;
        if (lo == 0 || versions[k] < lo)
            lo = versions[k];
        if (versions[k] > hi)
            hi = versions[k];
    }
    t->min_version = lo;
    t->max_version = hi;
}

bool tls_entry_load(struct loader *ld, const yaml_node_t *n, const char *path, struct conf_listen_opts *o)
{
    static const char *const keys[] = {"certificates", "protocols"};
    yaml_node_t *v[2];
    char kpath[160], ipath[224];
    struct conf_tls *t;
    const yaml_node_item_t *it;

    if (!schema_keys(ld, n, path, keys, 2, v))
        return false;
    if ((t = arena_alloc(ld->arena, sizeof(*t))) == NULL) {
        schema_oom(ld);
        return false;
    }
    t->min_version = TLS1_2_VERSION;
    t->max_version = TLS1_3_VERSION;
    snprintf(kpath, sizeof(kpath), "%s.protocols", path);
    if (v[1] != NULL)
        load_protocols(ld, v[1], kpath, t);
    snprintf(kpath, sizeof(kpath), "%s.certificates", path);
    if (v[0] == NULL || v[0]->type != YAML_SEQUENCE_NODE ||
        v[0]->data.sequence.items.start == v[0]->data.sequence.items.top) {
        schema_fail(ld, v[0] != NULL ? v[0] : n, "%s: needs a list of {cert, key} (the first is the default)",
                    kpath);
        return false;
    }
    t->certs = arena_alloc(ld->arena, TLS_MAX_CERTS * sizeof(*t->certs));
    if (t->certs == NULL) {
        schema_oom(ld);
        return false;
    }
    for (it = v[0]->data.sequence.items.start; it < v[0]->data.sequence.items.top; it++) {
        const yaml_node_t *item = schema_node(ld, *it);

        if (t->ncerts == TLS_MAX_CERTS) {
            schema_fail(ld, item, "%s: at most %d certificates", kpath, TLS_MAX_CERTS);
            return false;
        }
        snprintf(ipath, sizeof(ipath), "%s[%zu]", kpath, (size_t)(it - v[0]->data.sequence.items.start));
        load_cert(ld, item, ipath, t, &t->certs[t->ncerts]);
        if (t->certs[t->ncerts].ctx == NULL)
            return false;
        t->ncerts++;
    }
    o->tls = t;
    return true;
}

void tls_conf_free(struct conf *conf)
{
    for (struct conf_tls_cert *c = conf->tls_loaded; c != NULL; c = c->loaded)
        SSL_CTX_free(c->ctx);
    conf->tls_loaded = NULL;
}
