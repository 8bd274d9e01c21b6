#include "router/sni.h"

#include <string.h>
#include <strings.h>

#define SNI_MAX 253 /* the longest DNS name (RFC 1035) */

/* host's length without its trailing dots; 0 when it is too long to be a
 * DNS name. */
static size_t host_len(const char *host)
{
    size_t n = strnlen(host, SNI_MAX + 2);

    while (n > 0 && host[n - 1] == '.')
        n--;
    return n <= SNI_MAX ? n : 0;
}

static bool match_len(const char *name, const char *host, size_t n)
{
    const char *dot;

    if (name[0] != '*' || name[1] != '.')
        return strlen(name) == n && strncasecmp(name, host, n) == 0;
    /* The wildcard takes one non-empty label: host's first dot starts the
     * rest, which must be the pattern's. */
    dot = memchr(host, '.', n);
    if (dot == NULL || dot == host)
        return false;
    return strlen(name + 1) == n - (size_t)(dot - host) && strncasecmp(name + 1, dot, strlen(name + 1)) == 0;
}

bool sni_match(const char *name, const char *host)
{
    size_t n = host_len(host);

    return n > 0 && match_len(name, host, n);
}

size_t sni_pick(const struct conf_tls *t, const char *host)
{
    size_t n = host != NULL ? host_len(host) : 0;

    if (n == 0)
        return 0;
    for (int wild = 0; wild < 2; wild++)
        for (size_t i = 0; i < t->ncerts; i++)
            for (size_t k = 0; k < t->certs[i].nnames; k++) {
                const char *name = t->certs[i].names[k];

                if ((name[0] == '*') == (wild == 1) && match_len(name, host, n))
                    return i;
            }
    return 0;
}
