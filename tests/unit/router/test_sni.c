/* SNI: which certificate answers a host name (router/sni.c). */
#include <criterion/criterion.h>

#include "router/sni.h"

Test(sni_match, exact_any_case_and_trailing_dot)
{
    cr_assert(sni_match("a.example.com", "a.example.com"));
    cr_assert(sni_match("a.example.com", "A.Example.COM"));
    cr_assert(sni_match("a.example.com", "a.example.com."));
    cr_assert_not(sni_match("a.example.com", "b.example.com"));
    cr_assert_not(sni_match("a.example.com", "a.example.co"));
    cr_assert_not(sni_match("a.example.com", "a.example.com.x"));
    cr_assert_not(sni_match("a.example.com", "xa.example.com"));
    cr_assert_not(sni_match("a.example.com", ""));
    cr_assert_not(sni_match("a.example.com", "."));
}

Test(sni_match, wildcard_is_one_label)
{
    cr_assert(sni_match("*.example.com", "www.example.com"));
    cr_assert(sni_match("*.example.com", "WWW.EXAMPLE.COM."));
    cr_assert_not(sni_match("*.example.com", "example.com"));
    cr_assert_not(sni_match("*.example.com", "a.b.example.com"));
    cr_assert_not(sni_match("*.example.com", ".example.com"));
    cr_assert_not(sni_match("*.example.com", "www.example.org"));
    cr_assert_not(sni_match("*.example.com", "wwwexample.com"));
}

Test(sni_match, too_long_a_name_matches_nothing)
{
    char host[300];

    memset(host, 'a', sizeof(host) - 1);
    host[sizeof(host) - 1] = '\0';
    cr_assert_not(sni_match(host, host));
}

static char *a_names[] = {"a.test", "*.wild.test"};
static char *b_names[] = {"b.test", "*.b.test"};
static char *c_names[] = {"x.b.test"};
static struct conf_tls_cert certs[] = {
    {.names = a_names, .nnames = 2},
    {.names = b_names, .nnames = 2},
    {.names = c_names, .nnames = 1},
};
static const struct conf_tls tls = {.certs = certs, .ncerts = 3};

Test(sni_pick, exact_then_wildcard_then_default)
{
    cr_assert_eq(sni_pick(&tls, "a.test"), 0);
    cr_assert_eq(sni_pick(&tls, "B.TEST"), 1);
    cr_assert_eq(sni_pick(&tls, "b.test."), 1);
    cr_assert_eq(sni_pick(&tls, "y.wild.test"), 0);
    cr_assert_eq(sni_pick(&tls, "y.b.test"), 1);
    /* An exact name wins over an earlier certificate's wildcard. */
    cr_assert_eq(sni_pick(&tls, "x.b.test"), 2);
    cr_assert_eq(sni_pick(&tls, "unknown.test"), 0);
    cr_assert_eq(sni_pick(&tls, "y.x.b.test"), 0);
}

Test(sni_pick, no_sni_is_the_default)
{
    cr_assert_eq(sni_pick(&tls, NULL), 0);
    cr_assert_eq(sni_pick(&tls, ""), 0);
}
