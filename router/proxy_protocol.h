/* The PROXY protocol (HAProxy's, versions 1 and 2): the header a load
 * balancer in front sends before the first byte of a connection to carry
 * the client's address. A pure parser over bytes, and the trust check of
 * the peer that sent it; conn.c reads, this decides. */
#ifndef DROVER_ROUTER_PROXY_PROTOCOL_H
#define DROVER_ROUTER_PROXY_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "conf/config.h"

#define PP_V1_MAX 107               /* the longest v1 line, CRLF included */
#define PP_V2_MAX 4096              /* drover's bound on a v2 header, TLVs included */

struct pp_header {
    bool local;                     /* LOCAL, UNKNOWN or UNSPEC: keep the peer's address */
    struct sockaddr_storage src;    /* the client, when !local */
};

/* Parses a PROXY header at the start of data[0..len). Returns its length
 * (the bytes to skip) with *out filled, 0 when more bytes are needed, or
 * -1 when it is not a valid header (*why says what). */
long pp_parse(const char *data, size_t len, struct pp_header *out, const char **why);

/* Whether peer is inside one of the n ranges (an IPv4-mapped IPv6 peer
 * matches IPv4 ranges). */
bool pp_trusted(const struct conf_cidr *ranges, size_t n, const struct sockaddr *peer);

#endif
