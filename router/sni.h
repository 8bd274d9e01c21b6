/* SNI: which of a listener's certificates answers a requested host name.
 * Pure functions of the names conf/tls.c read from the certificates. */
#ifndef DROVER_ROUTER_SNI_H
#define DROVER_ROUTER_SNI_H

#include <stdbool.h>
#include <stddef.h>

#include "conf/config.h"

/* Whether host (as a client sent it: any case, perhaps a trailing dot) is
 * name (lowercased, no trailing dot). "*.example.com" stands for exactly
 * one leftmost label (RFC 6125 6.4.3): a.example.com, not example.com nor
 * a.b.example.com. */
bool sni_match(const char *name, const char *host);

/* The index of the certificate of t for host: the first with the exact
 * name, else the first with a wildcard that covers it, else 0 (the first
 * is the default, also for a client that sends no SNI: host NULL). */
size_t sni_pick(const struct conf_tls *t, const char *host);

#endif
