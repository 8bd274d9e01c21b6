/* PROXY protocol headers, versions 1 (a text line) and 2 (binary), as
 * HAProxy's proxy-protocol.txt defines them. Only the source address is
 * kept: it becomes the client's address. */
#include "router/proxy_protocol.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

static const char v2_sig[12] = "\r\n\r\n\0\r\nQUIT\n";

static long fail(const char **why, const char *reason)
{
    *why = reason;
    return -1;
}

/* A decimal port, 0..65535, without a sign or leading zeros. */
static bool parse_port(const char *s, size_t n, uint16_t *out)
{
    unsigned v = 0;

    if (n == 0 || n > 5 || (n > 1 && s[0] == '0'))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > 65535)
        return false;
    *out = (uint16_t)v;
    return true;
}

/* "PROXY TCP4 src dst sport dport\r\n", "PROXY TCP6 ...", "PROXY UNKNOWN ...\r\n". */
static long parse_v1(const char *data, size_t len, struct pp_header *out, const char **why)
{
    const char *eol = memchr(data, '\r', len < PP_V1_MAX ? len : PP_V1_MAX);
    const char *field[7];
    size_t flen[7], nf = 0;
    char addr[INET6_ADDRSTRLEN];
    int family;
    uint16_t port, dport;
    const char *p;

    if (eol == NULL)
        return len < PP_V1_MAX ? 0 : fail(why, "PROXY v1 line longer than 107 bytes");
    if ((size_t)(eol - data) + 1 >= len)
        return 0;
    if (eol[1] != '\n')
        return fail(why, "PROXY v1 line without CRLF");
    /* Fields separated by exactly one space; a seventh means too many. */
    for (p = data; nf < 7;) {
        const char *sp = memchr(p, ' ', (size_t)(eol - p));

        field[nf] = p;
        flen[nf++] = (size_t)((sp != NULL ? sp : eol) - p);
        if (sp == NULL)
            break;
        p = sp + 1;
    }
    if (nf >= 2 && flen[1] == 7 && memcmp(field[1], "UNKNOWN", 7) == 0) {
        out->local = true;
        return eol + 2 - data;
    }
    if (nf != 6)
        return fail(why, "PROXY v1 line without its six fields");
    if (flen[1] == 4 && memcmp(field[1], "TCP4", 4) == 0)
        family = AF_INET;
    else if (flen[1] == 4 && memcmp(field[1], "TCP6", 4) == 0)
        family = AF_INET6;
    else
        return fail(why, "PROXY v1 protocol is not TCP4, TCP6 or UNKNOWN");
    for (int k = 2; k <= 3; k++) {
        struct sockaddr_storage ss;

        if (flen[k] == 0 || flen[k] >= sizeof(addr))
            return fail(why, "PROXY v1 address is not an address");
        memcpy(addr, field[k], flen[k]);
        addr[flen[k]] = '\0';
        memset(&ss, 0, sizeof(ss));
        if (inet_pton(family, addr,
                      family == AF_INET ? (void *)&((struct sockaddr_in *)&ss)->sin_addr
                                        : (void *)&((struct sockaddr_in6 *)&ss)->sin6_addr) != 1)
            return fail(why, "PROXY v1 address does not match its protocol");
        if (k == 2)
            out->src = ss;
    }
    if (!parse_port(field[4], flen[4], &port) || !parse_port(field[5], flen[5], &dport))
        return fail(why, "PROXY v1 port is not 0..65535");
    out->local = false;
    out->src.ss_family = (sa_family_t)family;
    if (family == AF_INET)
        ((struct sockaddr_in *)&out->src)->sin_port = htons(port);
    else
        ((struct sockaddr_in6 *)&out->src)->sin6_port = htons(port);
    return eol + 2 - data;
}

/* The TLVs after the addresses: each must fit exactly in what is left. */
static bool tlvs_fit(const unsigned char *p, size_t n)
{
    while (n > 0) {
        size_t vlen;

        if (n < 3)
            return false;
        vlen = (size_t)p[1] << 8 | p[2];
        if (vlen > n - 3)
            return false;
        p += 3 + vlen;
        n -= 3 + vlen;
    }
    return true;
}

static long parse_v2(const unsigned char *data, size_t len, struct pp_header *out, const char **why)
{
    size_t body, need;
    unsigned cmd, fam, proto;

    if (len < 16)
        return 0;
    if ((data[12] >> 4) != 2)
        return fail(why, "PROXY v2 header of another version");
    cmd = data[12] & 0x0f;
    fam = data[13] >> 4;
    proto = data[13] & 0x0f;
    body = (size_t)data[14] << 8 | data[15];
    if (16 + body > PP_V2_MAX)
        return fail(why, "PROXY v2 header longer than 4 KiB");
    if (len < 16 + body)
        return 0;
    if (cmd > 1)
        return fail(why, "PROXY v2 command is neither LOCAL nor PROXY");
    /* LOCAL (a balancer's own check), UNSPEC or a non-stream transport
     * carries no client to speak of: the peer stays the client. */
    out->local = cmd == 0 || fam == 0 || proto != 1 || fam == 3;
    if (fam > 3 || proto > 2)
        return fail(why, "PROXY v2 address family or transport unknown");
    need = fam == 1 ? 12 : fam == 2 ? 36 : fam == 3 ? 216 : 0;
    if (body < need)
        return fail(why, "PROXY v2 addresses truncated");
    if (!tlvs_fit(data + 16 + need, body - need))
        return fail(why, "PROXY v2 TLV runs past the header");
    if (!out->local && fam == 1) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&out->src;

        memset(&out->src, 0, sizeof(out->src));
        sin->sin_family = AF_INET;
        memcpy(&sin->sin_addr, data + 16, 4);
        memcpy(&sin->sin_port, data + 24, 2);
    } else if (!out->local && fam == 2) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->src;

        memset(&out->src, 0, sizeof(out->src));
        sin6->sin6_family = AF_INET6;
        memcpy(&sin6->sin6_addr, data + 16, 16);
        memcpy(&sin6->sin6_port, data + 48, 2);
    }
    return (long)(16 + body);
}

long pp_parse(const char *data, size_t len, struct pp_header *out, const char **why)
{
    size_t n = len < sizeof(v2_sig) ? len : sizeof(v2_sig);

    *why = NULL;
    memset(out, 0, sizeof(*out));
    if (memcmp(data, v2_sig, n) == 0)
        return len < sizeof(v2_sig) ? 0 : parse_v2((const unsigned char *)data, len, out, why);
    n = len < 6 ? len : 6;
    if (memcmp(data, "PROXY ", n) == 0)
        return len < 6 ? 0 : parse_v1(data, len, out, why);
    return fail(why, "no PROXY protocol header");
}

static bool in_range(const struct conf_cidr *r, const unsigned char *a)
{
    unsigned full = r->bits / 8, rest = r->bits % 8;

    if (memcmp(r->addr, a, full) != 0)
        return false;
    return rest == 0 || ((r->addr[full] ^ a[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}

bool pp_trusted(const struct conf_cidr *ranges, size_t n, const struct sockaddr *peer)
{
    const unsigned char *v4 = NULL, *v6 = NULL;

    if (peer->sa_family == AF_INET) {
        v4 = (const unsigned char *)&((const struct sockaddr_in *)peer)->sin_addr;
    } else if (peer->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)peer)->sin6_addr;

        v6 = a->s6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a))
            v4 = a->s6_addr + 12;
    }
    for (size_t i = 0; i < n; i++) {
        if (ranges[i].family == AF_INET && v4 != NULL && in_range(&ranges[i], v4))
            return true;
        if (ranges[i].family == AF_INET6 && v6 != NULL && in_range(&ranges[i], v6))
            return true;
    }
    return false;
}
