/* PROXY protocol v1/v2 headers and the trust check (router/proxy_protocol.c). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "router/proxy_protocol.h"

static struct pp_header hdr;
static const char *why;

static long parse(const void *data, size_t len)
{
    return pp_parse(data, len, &hdr, &why);
}

static const char *src_text(void)
{
    static char buf[INET6_ADDRSTRLEN + 8];
    char a[INET6_ADDRSTRLEN];

    if (hdr.src.ss_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)&hdr.src;

        inet_ntop(AF_INET, &s->sin_addr, a, sizeof(a));
        snprintf(buf, sizeof(buf), "%s:%u", a, ntohs(s->sin_port));
    } else {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)&hdr.src;

        inet_ntop(AF_INET6, &s->sin6_addr, a, sizeof(a));
        snprintf(buf, sizeof(buf), "[%s]:%u", a, ntohs(s->sin6_port));
    }
    return buf;
}

Test(pp_v1, tcp4_tcp6_and_unknown)
{
    const char *l4 = "PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\nGET / HTTP/1.1\r\n";
    const char *l6 = "PROXY TCP6 2001:db8::7 2001:db8::1 1 65535\r\n";

    cr_assert_eq(parse(l4, strlen(l4)), 45);
    cr_assert_not(hdr.local);
    cr_assert_str_eq(src_text(), "192.0.2.7:56324");
    cr_assert_eq(parse(l6, strlen(l6)), (long)strlen(l6));
    cr_assert_str_eq(src_text(), "[2001:db8::7]:1");
    cr_assert_eq(parse("PROXY UNKNOWN\r\n", 15), 15);
    cr_assert(hdr.local);
    cr_assert_eq(parse("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n", 35), 35);
    cr_assert(hdr.local);
}

Test(pp_v1, truncated_needs_more_every_prefix)
{
    const char *l4 = "PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\n";

    for (size_t n = 0; n < strlen(l4); n++)
        cr_assert_eq(parse(l4, n), 0, "prefix of %zu bytes", n);
}

Test(pp_v1, malformed_lines_are_refused)
{
    static const char *const bad[] = {
        "PROXY TCP4 192.0.2.7 198.51.100.1 56324\r\n",            /* five fields */
        "PROXY TCP4 192.0.2.7 198.51.100.1 56324 443 x\r\n",      /* seven */
        "PROXY TCP4 192.0.2.7  198.51.100.1 56324 443\r\n",       /* two spaces */
        "PROXY TCP4 2001:db8::7 198.51.100.1 56324 443\r\n",      /* v6 under TCP4 */
        "PROXY TCP6 192.0.2.7 2001:db8::1 1 2\r\n",               /* v4 under TCP6 */
        "PROXY TCP4 192.0.2.7 198.51.100.1 65536 443\r\n",        /* port range */
        "PROXY TCP4 192.0.2.7 198.51.100.1 0443 443\r\n",         /* leading zero */
        "PROXY TCP4 192.0.2.7 198.51.100.1 -1 443\r\n",
        "PROXY UDP4 192.0.2.7 198.51.100.1 1 2\r\n",
        "PROXY TCP4 192.0.2.7 198.51.100.1 1 2\rX",               /* CR without LF */
        "GET / HTTP/1.1\r\n",                                     /* no header at all */
        "proxy TCP4 192.0.2.7 198.51.100.1 1 2\r\n",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_assert_eq(parse(bad[i], strlen(bad[i])), -1, "accepted: %s", bad[i]);
        cr_assert_not_null(why);
    }
}

Test(pp_v1, a_line_without_end_is_refused_at_107_bytes)
{
    char line[200];

    memset(line, '1', sizeof(line));
    memcpy(line, "PROXY TCP4 ", 11);
    cr_assert_eq(parse(line, 106), 0);
    cr_assert_eq(parse(line, 107), -1);
    cr_assert_str_eq(why, "PROXY v1 line longer than 107 bytes");
}

static const unsigned char sig[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};

/* A v2 header: command, family/transport, the address block, TLVs. */
static size_t v2(unsigned char *out, unsigned cmd, unsigned famproto, const void *addrs, size_t alen,
                 const void *tlvs, size_t tlen)
{
    memcpy(out, sig, 12);
    out[12] = (unsigned char)(0x20 | cmd);
    out[13] = (unsigned char)famproto;
    out[14] = (unsigned char)((alen + tlen) >> 8);
    out[15] = (unsigned char)(alen + tlen);
    if (alen > 0) /* memcpy from NULL is undefined even for 0 bytes (UBSan) */
        memcpy(out + 16, addrs, alen);
    if (tlen > 0)
        memcpy(out + 16 + alen, tlvs, tlen);
    return 16 + alen + tlen;
}

Test(pp_v2, inet_inet6_local_and_tlvs)
{
    unsigned char b[512];
    const unsigned char a4[12] = {192, 0, 2, 7, 198, 51, 100, 1, 0xdc, 0x04, 0x01, 0xbb};
    unsigned char a6[36] = {0x20, 0x01, 0x0d, 0xb8, [15] = 7, [16] = 0x20, [17] = 0x01, [18] = 0x0d,
                            [19] = 0xb8, [31] = 1, [32] = 0x30, [33] = 0x39, [34] = 0, [35] = 80};
    /* ALPN "h2", then a NOOP with 3 bytes, then an empty authority. */
    const unsigned char tlv[] = {0x01, 0, 2, 'h', '2', 0x04, 0, 3, 0, 0, 0, 0x02, 0, 0};
    size_t n;

    n = v2(b, 1, 0x11, a4, sizeof(a4), NULL, 0);
    cr_assert_eq(parse(b, n + 5), (long)n, "bytes after the header are not its own");
    cr_assert_not(hdr.local);
    cr_assert_str_eq(src_text(), "192.0.2.7:56324");
    n = v2(b, 1, 0x21, a6, sizeof(a6), tlv, sizeof(tlv));
    cr_assert_eq(parse(b, n), (long)n);
    cr_assert_str_eq(src_text(), "[2001:db8::7]:12345");
    /* LOCAL: a balancer's health check; the addresses, if any, are not a client. */
    n = v2(b, 0, 0x11, a4, sizeof(a4), NULL, 0);
    cr_assert_eq(parse(b, n), (long)n);
    cr_assert(hdr.local);
    n = v2(b, 0, 0x00, NULL, 0, NULL, 0);
    cr_assert_eq(parse(b, n), 16);
    cr_assert(hdr.local);
    /* PROXY over UNSPEC, or over UDP: no client address either. */
    n = v2(b, 1, 0x00, NULL, 0, NULL, 0);
    cr_assert_eq(parse(b, n), 16);
    cr_assert(hdr.local);
    n = v2(b, 1, 0x12, a4, sizeof(a4), NULL, 0);
    cr_assert_eq(parse(b, n), (long)n);
    cr_assert(hdr.local);
}

Test(pp_v2, truncated_needs_more_bad_ones_refused)
{
    unsigned char b[512];
    const unsigned char a4[12] = {192, 0, 2, 7, 198, 51, 100, 1, 0, 1, 0, 2};
    const unsigned char tlv_long[] = {0x01, 0, 9, 'h', '2'};
    size_t n = v2(b, 1, 0x11, a4, sizeof(a4), NULL, 0);

    for (size_t k = 0; k < n; k++)
        cr_assert_eq(parse(b, k), 0, "prefix of %zu bytes", k);
    b[12] = 0x11; /* version 1 in the binary form */
    cr_assert_eq(parse(b, n), -1);
    b[12] = 0x22; /* command 2 */
    cr_assert_eq(parse(b, n), -1);
    b[12] = 0x21;
    b[13] = 0x41; /* family 4 */
    cr_assert_eq(parse(b, n), -1);
    /* Addresses shorter than the family needs. */
    n = v2(b, 1, 0x21, a4, sizeof(a4), NULL, 0);
    cr_assert_eq(parse(b, n), -1);
    cr_assert_str_eq(why, "PROXY v2 addresses truncated");
    /* A TLV longer than what is left. */
    n = v2(b, 1, 0x11, a4, sizeof(a4), tlv_long, sizeof(tlv_long));
    cr_assert_eq(parse(b, n), -1);
    cr_assert_str_eq(why, "PROXY v2 TLV runs past the header");
    /* A length over the bound is refused before waiting for it. */
    n = v2(b, 1, 0x11, a4, sizeof(a4), NULL, 0);
    b[14] = 0x10;
    b[15] = 0x00;
    cr_assert_eq(parse(b, n), -1);
    /* A signature that breaks off. */
    memcpy(b, sig, 12);
    b[11] = 'X';
    cr_assert_eq(parse(b, 12), -1);
}

static struct conf_cidr cidr(const char *s)
{
    struct conf_cidr c;
    char err[128];

    cr_assert_eq(conf_parse_cidr(s, &c, err, sizeof(err)), 0, "%s: %s", s, err);
    return c;
}

static struct sockaddr_storage peer(const char *ip)
{
    struct sockaddr_storage ss;

    memset(&ss, 0, sizeof(ss));
    if (inet_pton(AF_INET, ip, &((struct sockaddr_in *)&ss)->sin_addr) == 1)
        ss.ss_family = AF_INET;
    else if (inet_pton(AF_INET6, ip, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1)
        ss.ss_family = AF_INET6;
    return ss;
}

Test(pp_trust, ranges_and_mapped_addresses)
{
    struct conf_cidr r[3] = {cidr("10.0.0.0/8"), cidr("192.168.1.128/25"), cidr("fd00::/8")};
    struct sockaddr_storage p;

    p = peer("10.200.3.4");
    cr_assert(pp_trusted(r, 3, (struct sockaddr *)&p));
    p = peer("11.0.0.1");
    cr_assert_not(pp_trusted(r, 3, (struct sockaddr *)&p));
    p = peer("192.168.1.200");
    cr_assert(pp_trusted(r, 3, (struct sockaddr *)&p));
    p = peer("192.168.1.127");
    cr_assert_not(pp_trusted(r, 3, (struct sockaddr *)&p));
    p = peer("fd12::1");
    cr_assert(pp_trusted(r, 3, (struct sockaddr *)&p));
    p = peer("fe80::1");
    cr_assert_not(pp_trusted(r, 3, (struct sockaddr *)&p));
    p = peer("::ffff:10.1.1.1"); /* on a dual-stack [::] listener */
    cr_assert(pp_trusted(r, 3, (struct sockaddr *)&p));
    p = peer("127.0.0.1");
    cr_assert_not(pp_trusted(r, 0, (struct sockaddr *)&p), "no ranges: nobody");
    r[0] = cidr("0.0.0.0/0");
    cr_assert(pp_trusted(r, 1, (struct sockaddr *)&p));
}
