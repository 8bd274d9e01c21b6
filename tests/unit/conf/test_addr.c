/* conf/addr.c: host:port, [v6]:port and unix:/path addresses. */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <sys/un.h>

#include "conf/internal.h"
#include "conf_test.h"

static void addr_ok(const char *s, const char *text)
{
    struct conf_addr a;

    cr_assert_eq(conf_parse_addr(s, &a, err, sizeof(err)), 0, "\"%s\": %s", s, err);
    cr_assert_str_eq(a.text, text);
}

static void addr_err(const char *s, const char *msg)
{
    struct conf_addr a;

    cr_assert_eq(conf_parse_addr(s, &a, err, sizeof(err)), -1, "\"%s\" parsed", s);
    cr_assert_str_eq(err, msg);
}

Test(addr, ipv4)
{
    struct conf_addr a;
    const struct sockaddr_in *sin = (const struct sockaddr_in *)&a.ss;

    cr_assert_eq(conf_parse_addr("127.0.0.1:8080", &a, err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(a.text, "127.0.0.1:8080");
    cr_assert_eq(a.ss.ss_family, AF_INET);
    cr_assert_eq(a.len, sizeof(struct sockaddr_in));
    cr_assert_eq(ntohs(sin->sin_port), 8080);
    cr_assert_eq(ntohl(sin->sin_addr.s_addr), 0x7f000001);
    cr_assert_eq(a.port, 8080);
    cr_assert_eq(a.line, 0);
}

Test(addr, ipv6)
{
    struct conf_addr a;

    cr_assert_eq(conf_parse_addr("[::1]:8080", &a, err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(a.text, "[::1]:8080");
    cr_assert_eq(a.ss.ss_family, AF_INET6);
    cr_assert_eq(ntohs(((const struct sockaddr_in6 *)&a.ss)->sin6_port), 8080);
    addr_ok("[::]:80", "[::]:80");
    addr_ok("[0:0:0:0:0:0:0:1]:443", "[::1]:443");
}

Test(addr, any_host)
{
    addr_ok(":8080", "0.0.0.0:8080");
    addr_ok("*:8080", "0.0.0.0:8080");
    addr_ok("0.0.0.0:1", "0.0.0.0:1");
    addr_ok("127.0.0.1:65535", "127.0.0.1:65535");
}

Test(addr, hostname_resolved_at_load)
{
    struct conf_addr a;

    cr_assert_eq(conf_parse_addr("localhost:8080", &a, err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(a.text, "127.0.0.1:8080", "IPv4 is preferred");
    cr_assert_eq(a.ss.ss_family, AF_INET);
}

Test(addr, unix)
{
    struct conf_addr a;
    char cwd[PATH_MAX], want[PATH_MAX + 16];

    cr_assert_eq(conf_parse_addr("unix:/run/app.sock", &a, err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(a.text, "unix:/run/app.sock");
    cr_assert_eq(a.ss.ss_family, AF_UNIX);
    cr_assert_str_eq(((const struct sockaddr_un *)&a.ss)->sun_path, "/run/app.sock");
    cr_assert_eq(a.port, 0);
    cr_assert_eq(a.len, offsetof(struct sockaddr_un, sun_path) + strlen("/run/app.sock") + 1);

    /* Outside a config file, relative means relative to the cwd. */
    cr_assert_not_null(getcwd(cwd, sizeof(cwd)));
    snprintf(want, sizeof(want), "unix:%s/app.sock", strcmp(cwd, "/") == 0 ? "" : cwd);
    addr_ok("unix:./x/../app.sock", want);
}

Test(addr, unix_path_too_long)
{
    char s[200], msg[200];
    size_t max = sizeof(((struct sockaddr_un *)0)->sun_path) - 1;

    strcpy(s, "unix:/");
    memset(s + 6, 'a', max - 1); /* exactly max bytes with the leading '/' */
    s[6 + max - 1] = '\0';
    addr_ok(s, s);
    strcat(s, "b");
    snprintf(msg, sizeof(msg), "unix socket path too long: %zu bytes, at most %zu", max + 1, max);
    addr_err(s, msg);
}

Test(addr, error_leaves_addr_alone)
{
    struct conf_addr a;

    cr_assert_eq(conf_parse_addr("127.0.0.1:8080", &a, err, sizeof(err)), 0);
    cr_assert_eq(conf_parse_addr("127.0.0.1:0", &a, err, sizeof(err)), -1);
    cr_assert_str_eq(a.text, "127.0.0.1:8080");
}

Test(addr, bad)
{
    addr_err("127.0.0.1", "missing port in \"127.0.0.1\"; write host:port");
    addr_err("127.0.0.1:0", "bad port \"0\" in \"127.0.0.1:0\"; ports are 1 to 65535");
    addr_err("127.0.0.1:65536", "bad port \"65536\" in \"127.0.0.1:65536\"; ports are 1 to 65535");
    addr_err("127.0.0.1:http", "bad port \"http\" in \"127.0.0.1:http\"; ports are 1 to 65535");
    addr_err("127.0.0.1:", "bad port \"\" in \"127.0.0.1:\"; ports are 1 to 65535");
    addr_err("8080", "missing port in \"8080\"; write host:port");
    addr_err("::1:80", "IPv6 addresses need brackets: \"[::1]:80\"");
    addr_err("[::1]", "missing port in \"[::1]\"; write [v6]:port");
    addr_err("[::1:80", "missing \"]\" in \"[::1:80\"");
    addr_err("[nope]:80", "bad IPv6 address \"nope\"");
    addr_err("bad host:80", "bad host name \"bad host\" in \"bad host:80\"");
    addr_err("", "empty address; write host:port, [v6]:port or unix:/path");
    addr_err("unix:", "empty unix socket path; write unix:/path/to.sock");
}


static bool loopback(const char *s)
{
    struct conf_addr a;

    cr_assert_eq(conf_parse_addr(s, &a, err, sizeof(err)), 0, "\"%s\": %s", s, err);
    return conf_addr_is_loopback(&a);
}

Test(addr, loopback)
{
    cr_assert(loopback("127.0.0.1:8081"));
    cr_assert(loopback("127.1.2.3:8081"), "all of 127/8");
    cr_assert(loopback("[::1]:8081"));
    cr_assert(loopback("[::ffff:127.0.0.1]:8081"), "IPv4 loopback mapped into IPv6");
    cr_assert(loopback("unix:/run/admin.sock"), "a unix socket is local");
    cr_assert_not(loopback("0.0.0.0:8081"));
    cr_assert_not(loopback("10.0.0.1:8081"));
    cr_assert_not(loopback("[::]:8081"));
    cr_assert_not(loopback("[::ffff:10.0.0.1]:8081"));
}

Test(addr, cidr_syntax)
{
    struct conf_cidr c;

    cr_assert_eq(conf_parse_cidr("127.0.0.1", &c, err, sizeof(err)), 0);
    cr_assert_eq(c.bits, 32);
    cr_assert_eq(conf_parse_cidr("::1", &c, err, sizeof(err)), 0);
    cr_assert_eq(c.bits, 128);
    cr_assert_eq(conf_parse_cidr("fd00::/8", &c, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(c.family, AF_INET6);
    cr_assert_eq(conf_parse_cidr("10.0.0.1/8", &c, err, sizeof(err)), -1, "host bits set");
    cr_assert_eq(conf_parse_cidr("10.0.0.0/33", &c, err, sizeof(err)), -1);
    cr_assert_eq(conf_parse_cidr("10.0.0.0/", &c, err, sizeof(err)), -1);
    cr_assert_eq(conf_parse_cidr("10.0.0.0/+8", &c, err, sizeof(err)), -1);
    cr_assert_eq(conf_parse_cidr("example.com/8", &c, err, sizeof(err)), -1);
}
