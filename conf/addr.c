/* conf/addr.c: listen and backend addresses, "host:port", "[v6]:port" or
 * "unix:/path", resolved once when the config is loaded. */
#include "conf/config.h"

#include <arpa/inet.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "conf/internal.h"
#include "lib/path.h"

_Static_assert(sizeof(((struct conf_addr *)0)->text) >= 5 + sizeof(((struct sockaddr_un *)0)->sun_path),
               "conf_addr.text holds \"unix:\" and any sun_path");

/* "unix:PATH": PATH made absolute (from the current directory) and checked
 * against sun_path's size. */
static int parse_unix(const char *path, struct conf_addr *addr, char *err, size_t errlen)
{
    struct sockaddr_un *sun = (struct sockaddr_un *)&addr->ss;
    char abs[PATH_MAX];
    size_t n;

    if (*path == '\0') {
        snprintf(err, errlen, "empty unix socket path; write unix:/path/to.sock");
        return -1;
    }
    if (path_abs(NULL, path, abs, sizeof(abs)) < 0) {
        snprintf(err, errlen, "unix socket path too long");
        return -1;
    }
    n = strlen(abs);
    if (n >= sizeof(sun->sun_path)) {
        snprintf(err, errlen, "unix socket path too long: %zu bytes, at most %zu", n, sizeof(sun->sun_path) - 1);
        return -1;
    }
    sun->sun_family = AF_UNIX;
    memcpy(sun->sun_path, abs, n + 1);
    addr->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
    addr->port = 0;
    memcpy(addr->text, "unix:", 5);
    memcpy(addr->text + 5, abs, n + 1); /* n < sizeof(sun_path): fits in text */
    return 0;
}

/* HOST (numeric, or a name looked up now: first IPv4 result, else first
 * IPv6) with PORT into ADDR. */
static int resolve(const char *host, bool v6, int port, struct conf_addr *addr, char *err, size_t errlen)
{
    struct addrinfo hints, *res = NULL, *pick = NULL;
    char num[NI_MAXHOST];
    int rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_family = v6 ? AF_INET6 : AF_UNSPEC;
    hints.ai_flags = v6 ? AI_NUMERICHOST : 0;
    rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc != 0) {
        if (v6)
            snprintf(err, errlen, "bad IPv6 address \"%s\"", host);
        else
            snprintf(err, errlen, "cannot resolve \"%s\": %s", host, gai_strerror(rc));
        return -1;
    }
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        if (ai->ai_family == AF_INET) {
            pick = ai;
            break;
        }
        if (pick == NULL && ai->ai_family == AF_INET6)
            pick = ai;
    }
    if (pick == NULL || pick->ai_addrlen > sizeof(addr->ss)) {
        freeaddrinfo(res);
        snprintf(err, errlen, "no IPv4 or IPv6 address for \"%s\"", host);
        return -1;
    }
    memcpy(&addr->ss, pick->ai_addr, pick->ai_addrlen);
    addr->len = pick->ai_addrlen;
    freeaddrinfo(res);
    if (addr->ss.ss_family == AF_INET)
        ((struct sockaddr_in *)&addr->ss)->sin_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in6 *)&addr->ss)->sin6_port = htons((uint16_t)port);
    addr->port = port;
    if (getnameinfo((struct sockaddr *)&addr->ss, addr->len, num, sizeof(num), NULL, 0, NI_NUMERICHOST) != 0) {
        snprintf(err, errlen, "cannot format the address of \"%s\"", host);
        return -1;
    }
    if (addr->ss.ss_family == AF_INET6)
        snprintf(addr->text, sizeof(addr->text), "[%.64s]:%d", num, port);
    else
        snprintf(addr->text, sizeof(addr->text), "%.64s:%d", num, port);
    return 0;
}

/* Fills ADDR (fully zeroed first) from S; see conf_parse_addr(). */
static int parse_addr(const char *s, struct conf_addr *addr, char *err, size_t errlen)
{
    char host[256];
    const char *port, *hend;
    const char *hstart = s;
    bool v6 = false;
    long pnum;

    memset(addr, 0, sizeof(*addr));
    if (strncmp(s, "unix:", 5) == 0)
        return parse_unix(s + 5, addr, err, errlen);
    if (*s == '\0') {
        snprintf(err, errlen, "empty address; write host:port, [v6]:port or unix:/path");
        return -1;
    }
    if (s[0] == '[') {
        hend = strchr(s, ']');
        if (hend == NULL) {
            snprintf(err, errlen, "missing \"]\" in \"%s\"", s);
            return -1;
        }
        if (hend[1] != ':') {
            snprintf(err, errlen, "missing port in \"%s\"; write [v6]:port", s);
            return -1;
        }
        hstart = s + 1;
        port = hend + 2;
        v6 = true;
    } else {
        hend = strrchr(s, ':');
        if (hend == NULL) {
            snprintf(err, errlen, "missing port in \"%s\"; write host:port", s);
            return -1;
        }
        if (memchr(s, ':', (size_t)(hend - s)) != NULL) {
            snprintf(err, errlen, "IPv6 addresses need brackets: \"[%.*s]:%s\"", (int)(hend - s), s, hend + 1);
            return -1;
        }
        port = hend + 1;
    }
    if ((size_t)(hend - hstart) >= sizeof(host)) {
        snprintf(err, errlen, "host name too long in \"%.40s...\"", s);
        return -1;
    }
    memcpy(host, hstart, (size_t)(hend - hstart));
    host[hend - hstart] = '\0';
    if (!conf_all_digits(port) || strlen(port) > 5 || (pnum = strtol(port, NULL, 10)) < 1 || pnum > 65535) {
        snprintf(err, errlen, "bad port \"%s\" in \"%s\"; ports are 1 to 65535", port, s);
        return -1;
    }
    if (!v6 && (host[0] == '\0' || strcmp(host, "*") == 0))
        strcpy(host, "0.0.0.0");
    if (v6 && host[0] == '\0') {
        snprintf(err, errlen, "empty IPv6 address in \"%s\"", s);
        return -1;
    }
    for (const char *h = host; !v6 && *h != '\0'; h++) {
        if (!conf_is_alpha(*h) && !conf_is_digit(*h) && *h != '.' && *h != '-' && *h != '_') {
            snprintf(err, errlen, "bad host name \"%s\" in \"%s\"", host, s);
            return -1;
        }
    }
    return resolve(host, v6, (int)pnum, addr, err, errlen);
}

/* ADDR is only written on success: a failed override (-p) keeps the old one. */
int conf_parse_addr(const char *s, struct conf_addr *addr, char *err, size_t errlen)
{
    struct conf_addr tmp;

    if (parse_addr(s, &tmp, err, errlen) < 0)
        return -1;
    *addr = tmp;
    return 0;
}

const char *conf_addr_fdname(const struct conf_addr *addr)
{
    return addr->systemd && addr->text[7] == ':' ? addr->text + 8 : NULL;
}

bool conf_addr_is_loopback(const struct conf_addr *a)
{
    if (a->ss.ss_family == AF_UNIX)
        return true;
    if (a->ss.ss_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)&a->ss)->sin_addr.s_addr) >> 24) == 127;
    if (a->ss.ss_family == AF_INET6) {
        const struct in6_addr *in6 = &((const struct sockaddr_in6 *)&a->ss)->sin6_addr;

        return IN6_IS_ADDR_LOOPBACK(in6) || (IN6_IS_ADDR_V4MAPPED(in6) && in6->s6_addr[12] == 127);
    }
    return false;
}


int conf_parse_cidr(const char *s, struct conf_cidr *out, char *err, size_t errlen)
{
    char host[INET6_ADDRSTRLEN + 1];
    const char *slash = strchr(s, '/');
    size_t hlen = slash != NULL ? (size_t)(slash - s) : strlen(s);
    unsigned max;
    long bits;
    char *end;

    memset(out, 0, sizeof(*out));
    if (hlen == 0 || hlen >= sizeof(host)) {
        snprintf(err, errlen, "\"%s\" is not an address range (like 10.0.0.0/8)", s);
        return -1;
    }
    memcpy(host, s, hlen);
    host[hlen] = '\0';
    if (inet_pton(AF_INET, host, out->addr) == 1) {
        out->family = AF_INET;
        max = 32;
    } else if (inet_pton(AF_INET6, host, out->addr) == 1) {
        out->family = AF_INET6;
        max = 128;
    } else {
        snprintf(err, errlen, "\"%s\" is not an IPv4 or IPv6 address", host);
        return -1;
    }
    bits = max;
    if (slash != NULL) {
        bits = strtol(slash + 1, &end, 10);
        if (slash[1] == '\0' || *end != '\0' || !conf_is_digit(slash[1]) || bits < 0 || bits > (long)max) {
            snprintf(err, errlen, "\"%s\": the prefix length must be 0 to %u", s, max);
            return -1;
        }
    }
    out->bits = (unsigned)bits;
    for (unsigned i = out->bits; i < max; i++)
        if (out->addr[i / 8] & (0x80 >> (i % 8))) {
            snprintf(err, errlen, "\"%s\" has host bits set (the network is not at a /%u boundary)", s,
                     out->bits);
            return -1;
        }
    return 0;
}
