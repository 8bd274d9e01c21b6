/* A listen entry's tls: map (conf/tls.c): protocols, certificates read
 * and checked at load, their names for SNI. */
#include "tests/unit/conf/conf_test.h"

/* <tmpdir>/NAME.pem and .key, self-signed for subj with the SANs (NULL:
 * none): made with the openssl command. */
static void make_cert(const char *name, const char *subj, const char *sans)
{
    char cmd[3 * PATH_MAX];

    snprintf(cmd, sizeof(cmd),
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout %s/%s.key "
             "-out %s/%s.pem -days 2 -subj '%s' %s%s 2>/dev/null",
             tmpdir, name, tmpdir, name, subj, sans != NULL ? "-addext subjectAltName=" : "",
             sans != NULL ? sans : "");
    cr_assert_eq(system(cmd), 0, "%s", cmd);
}

static void rm_cert(const char *name)
{
    char p[PATH_MAX + 40];

    snprintf(p, sizeof(p), "%s/%s.pem", tmpdir, name);
    unlink(p);
    snprintf(p, sizeof(p), "%s/%s.key", tmpdir, name);
    unlink(p);
}

static void teardown(void)
{
    char p[PATH_MAX + 40];

    snprintf(p, sizeof(p), "%s/a.pem.ocsp", tmpdir);
    unlink(p);
    rm_cert("a");
    rm_cert("b");
    tmp_teardown();
}

TestSuite(conf_tls, .init = tmp_setup, .fini = teardown);

Test(conf_tls, names_from_san_else_cn_lowercased)
{
    struct conf *c;
    const struct conf_tls *t;

    make_cert("a", "/CN=ignored.test", "DNS:A.Test,DNS:*.Wild.Test.,IP:127.0.0.1");
    make_cert("b", "/CN=B.Test", NULL);
    c = load_ok("listen:\n  - address: 127.0.0.1:8443\n    tls:\n      certificates:\n"
                "        - {cert: a.pem, key: a.key}\n        - {cert: b.pem, key: b.key}\n");
    t = c->listen[0].opts.tls;
    cr_assert_not_null(t);
    cr_assert_eq(t->ncerts, 2);
    cr_assert_eq(t->certs[0].nnames, 2);
    cr_assert_str_eq(t->certs[0].names[0], "a.test");
    cr_assert_str_eq(t->certs[0].names[1], "*.wild.test");
    cr_assert_eq(t->certs[1].nnames, 1);
    cr_assert_str_eq(t->certs[1].names[0], "b.test");
    cr_assert_eq(t->min_version, CONF_TLS_V12);
    cr_assert_eq(t->max_version, CONF_TLS_V13);
    cr_assert_not_null(t->certs[0].ctx);
    cr_assert_null(c->warnings);
    conf_free(c);
}

Test(conf_tls, protocols)
{
    struct conf *c;

    make_cert("a", "/CN=a.test", NULL);
    c = load_ok("listen:\n  - address: 127.0.0.1:8443\n    tls:\n      protocols: [TLSv1.3]\n"
                "      certificates: [{cert: a.pem, key: a.key}]\n");
    cr_assert_eq(c->listen[0].opts.tls->min_version, CONF_TLS_V13);
    cr_assert_eq(c->listen[0].opts.tls->max_version, CONF_TLS_V13);
    conf_free(c);
    expect_errors("listen:\n  - address: 127.0.0.1:8443\n    tls:\n      protocols: [TLSv1.1]\n"
                  "      certificates: [{cert: a.pem, key: a.key}]\n",
                  "4:19: listen[0].tls.protocols[0]: unknown value \"TLSv1.1\"; did you mean \"TLSv1.2\"?");
}

Test(conf_tls, certificate_errors_name_the_file)
{
    char want[3 * PATH_MAX];

    make_cert("a", "/CN=a.test", NULL);
    make_cert("b", "/CN=b.test", NULL);
    expect_errors("listen:\n  - address: 127.0.0.1:8443\n    tls: {}\n",
                  "3:10: listen[0].tls.certificates: needs a list of {cert, key} (the first is the default)");
    expect_errors("listen:\n  - address: 127.0.0.1:8443\n    tls:\n      certificates: [{cert: a.pem}]\n",
                  "4:22: listen[0].tls.certificates[0]: needs key (a PEM file)");
    snprintf(want, sizeof(want), "4:22: key %s/b.key does not match certificate %s/a.pem", tmpdir, tmpdir);
    expect_errors("listen:\n  - address: 127.0.0.1:8443\n    tls:\n      certificates: [{cert: a.pem, key: b.key}]\n",
                  want);
    snprintf(want, sizeof(want), "4:22: certificate %s/none.pem: No such file or directory", tmpdir);
    expect_errors("listen:\n  - address: 127.0.0.1:8443\n    tls:\n      certificates: [{cert: none.pem, key: b.key}]\n",
                  want);
    snprintf(want, sizeof(want), "4:22: certificate %s/b.key: not a PEM certificate chain", tmpdir);
    cr_assert_null(load_text("listen:\n  - address: 127.0.0.1:8443\n    tls:\n"
                             "      certificates: [{cert: b.key, key: b.key}]\n"));
    cr_assert(strstr(err, want) != NULL, "%s", err);
}

Test(conf_tls, not_after_a_proxy_header)
{
    make_cert("a", "/CN=a.test", NULL);
    expect_errors("listen:\n  - address: 127.0.0.1:8443\n    proxy_protocol: true\n"
                  "    proxy_trusted: [127.0.0.1]\n    tls:\n      certificates: [{cert: a.pem, key: a.key}]\n",
                  "6:7: listen[0].tls: TLS after a PROXY protocol header is not supported yet");
}

Test(conf_tls, a_bad_ocsp_file_is_named)
{
    char p[PATH_MAX + 40], want[3 * PATH_MAX];
    FILE *f;

    make_cert("a", "/CN=a.test", NULL);
    snprintf(p, sizeof(p), "%s/a.pem.ocsp", tmpdir);
    f = fopen(p, "w");
    cr_assert_not_null(f);
    fputs("not DER\n", f);
    fclose(f);
    snprintf(want, sizeof(want),
             "4:22: OCSP response %s/a.pem.ocsp: not a successful DER OCSP response (under 64 KiB)", tmpdir);
    expect_errors("listen:\n  - address: 127.0.0.1:8443\n    tls:\n      certificates: [{cert: a.pem, key: a.key}]\n",
                  want);
}
