/* DNS lookups of backends with c-ares, driven by the main libev loop: the
 * channel's sockets get ev_io watchers (ARES_OPT_SOCK_STATE_CB), its
 * retries one ev_timer. Each name has a refresh timer of its own. */
#include "router/resolver.h"

#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"

#define MAX_SOCKS 16
#define MAX_MEMBERS 64

struct name {
    struct resolver *res;
    struct name *next;
    char *key, *host;
    int port;                       /* dns:; 0 for srv: */
    bool srv;
    bool seen;                      /* still in the config (resolver_sync) */
    bool busy;                      /* a lookup is under way */
    bool dropped;                   /* out of the config: freed when its lookup ends */
    ev_timer refresh;
    double last_good;               /* ev_now of the last answer, 0 = none yet */
    /* The lookup under way: the answers gathered so far. */
    int pending;
    int ttl;                        /* smallest TTL seen, seconds */
    bool failed;
    const char *why;
    struct conf_addr got[MAX_MEMBERS];
    size_t ngot;
    /* What was handed over last. */
    struct conf_addr members[MAX_MEMBERS];
    size_t nmembers;
};

struct sock_watch {
    ev_io io;
    int fd;                         /* -1: free */
};

struct resolver {
    struct ev_loop *loop;
    ares_channel channel;
    bool channel_ok;
    ev_timer timeout;               /* c-ares' own retries */
    struct sock_watch socks[MAX_SOCKS];
    struct name *names;
    struct name *dropped;           /* busy when they left the config */
    double refresh_min, refresh_max, hold;
    char *servers;                  /* in force, NULL = resolv.conf */
    resolver_members_fn on_members;
    void *ctx;
};

static void arm_timeout(struct resolver *res)
{
    struct timeval tv, *t;

    ev_timer_stop(res->loop, &res->timeout);
    t = ares_timeout(res->channel, NULL, &tv);
    if (t == NULL)
        return;
    ev_timer_set(&res->timeout, (double)t->tv_sec + (double)t->tv_usec / 1e6 + 0.001, 0.);
    ev_timer_start(res->loop, &res->timeout);
}

static void timeout_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct resolver *res = t->data;

    (void)loop;
    (void)revents;
    ares_process_fd(res->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    arm_timeout(res);
}

static void io_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct resolver *res = io->data;

    (void)loop;
    ares_process_fd(res->channel, (revents & EV_READ) ? io->fd : ARES_SOCKET_BAD,
                    (revents & EV_WRITE) ? io->fd : ARES_SOCKET_BAD);
    arm_timeout(res);
}

static void sock_state_cb(void *data, ares_socket_t fd, int readable, int writable)
{
    struct resolver *res = data;
    struct sock_watch *w = NULL, *free_slot = NULL;

    for (int i = 0; i < MAX_SOCKS; i++) {
        if (res->socks[i].fd == fd)
            w = &res->socks[i];
        else if (res->socks[i].fd < 0 && free_slot == NULL)
            free_slot = &res->socks[i];
    }
    if (w != NULL) {
        ev_io_stop(res->loop, &w->io);
        w->fd = -1;
    }
    if (!readable && !writable)
        return;
    if (w == NULL)
        w = free_slot;
    if (w == NULL) {
        log_warn("resolver: more than %d DNS sockets at once", MAX_SOCKS);
        return;
    }
    w->fd = fd;
    ev_io_init(&w->io, io_cb, fd, (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0));
    w->io.data = res;
    ev_io_start(res->loop, &w->io);
}

static int addr_cmp(const void *a, const void *b)
{
    return strcmp(((const struct conf_addr *)a)->text, ((const struct conf_addr *)b)->text);
}

/* Adds an address from an answer (port given) to the lookup's set. */
static void gather(struct name *nm, const struct sockaddr *sa, int port, int ttl)
{
    char ip[INET6_ADDRSTRLEN], text[INET6_ADDRSTRLEN + 16], err[128];
    struct conf_addr a;

    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, ip, sizeof(ip));
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, ip, sizeof(ip));
    else
        return;
    snprintf(text, sizeof(text), sa->sa_family == AF_INET6 ? "[%s]:%d" : "%s:%d", ip, port);
    if (conf_parse_addr(text, &a, err, sizeof(err)) < 0)
        return;
    for (size_t i = 0; i < nm->ngot; i++)
        if (strcmp(nm->got[i].text, a.text) == 0)
            return;
    if (nm->ngot == MAX_MEMBERS) {
        log_warn("%s: more than %d addresses; the rest are left out", nm->key, MAX_MEMBERS);
        return;
    }
    nm->got[nm->ngot++] = a;
    if (ttl >= 0 && (nm->ttl < 0 || ttl < nm->ttl))
        nm->ttl = ttl;
}

static void schedule(struct name *nm, double after)
{
    ev_timer_stop(nm->res->loop, &nm->refresh);
    ev_timer_set(&nm->refresh, after, 0.);
    ev_timer_start(nm->res->loop, &nm->refresh);
}

static bool same_members(const struct name *nm, const struct conf_addr *a, size_t n)
{
    if (n != nm->nmembers)
        return false;
    for (size_t i = 0; i < n; i++)
        if (strcmp(a[i].text, nm->members[i].text) != 0)
            return false;
    return true;
}

static void hand_over(struct name *nm, const struct conf_addr *a, size_t n)
{
    if (same_members(nm, a, n))
        return;
    if (n > 0) /* a is NULL for none, and memmove takes no NULL */
        memmove(nm->members, a, n * sizeof(*a));
    nm->nmembers = n;
    nm->res->on_members(nm->res->ctx, nm->key, nm->members, n);
}

static void name_free(struct resolver *res, struct name *nm);

/* Every answer of the lookup is in: hand the members over, and set when
 * to look again. */
static void lookup_done(struct name *nm)
{
    struct resolver *res = nm->res;
    double now = ev_now(res->loop), after;

    nm->busy = false;
    if (nm->dropped) {
        struct name **pp;

        for (pp = &res->dropped; *pp != nm; pp = &(*pp)->next)
            ;
        *pp = nm->next;
        name_free(res, nm);
        return;
    }
    if (!nm->failed && nm->ngot > 0) {
        qsort(nm->got, nm->ngot, sizeof(nm->got[0]), addr_cmp);
        if (nm->last_good == 0 || !same_members(nm, nm->got, nm->ngot))
            log_info("%s: %zu member%s", nm->key, nm->ngot, nm->ngot == 1 ? "" : "s");
        nm->last_good = now;
        hand_over(nm, nm->got, nm->ngot);
        after = nm->ttl < 0 ? res->refresh_max : (double)nm->ttl;
    } else {
        /* The last good answer holds for resolver.hold; then nothing. */
        if (nm->last_good > 0 && now - nm->last_good > res->hold && nm->nmembers > 0) {
            log_warn("%s: no answer for %.0fs (%s): its members leave", nm->key, now - nm->last_good,
                     nm->why != NULL ? nm->why : "no addresses");
            hand_over(nm, NULL, 0);
        } else if (nm->last_good == 0) {
            log_warn("%s: %s", nm->key, nm->why != NULL ? nm->why : "no addresses");
        }
        after = res->refresh_min;
    }
    if (after < res->refresh_min)
        after = res->refresh_min;
    if (after > res->refresh_max)
        after = res->refresh_max;
    schedule(nm, after);
}

static void one_answered(struct name *nm)
{
    if (--nm->pending == 0)
        lookup_done(nm);
}

static void addrinfo_cb(void *arg, int status, int timeouts, struct ares_addrinfo *ai);

struct target {
    struct name *nm;
    int port;
};

static void resolve_host(struct name *nm, const char *host, int port)
{
    struct ares_addrinfo_hints hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct target *t = malloc(sizeof(*t));

    if (t == NULL) {
        nm->failed = true;
        return;
    }
    t->nm = nm;
    t->port = port;
    nm->pending++;
    ares_getaddrinfo(nm->res->channel, host, NULL, &hints, addrinfo_cb, t);
}

static void addrinfo_cb(void *arg, int status, int timeouts, struct ares_addrinfo *ai)
{
    struct target *t = arg;
    struct name *nm = t->nm;

    (void)timeouts;
    if (status == ARES_SUCCESS && ai != NULL) {
        for (struct ares_addrinfo_node *n = ai->nodes; n != NULL; n = n->ai_next)
            gather(nm, n->ai_addr, t->port, n->ai_ttl);
    } else if (status != ARES_EDESTRUCTION) {
        nm->why = ares_strerror(status);
        /* One SRV target that does not resolve is left out, not a failure. */
        if (!nm->srv)
            nm->failed = true;
    }
    if (ai != NULL)
        ares_freeaddrinfo(ai);
    free(t);
    if (status != ARES_EDESTRUCTION)
        one_answered(nm);
}

/* SRV: the records of the lowest priority (the balancers have no weights:
 * each target gets an equal share), then each target's addresses. */
static void srv_cb(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
    struct name *nm = arg;
    struct ares_srv_reply *srv = NULL;
    unsigned best = 65536;

    (void)timeouts;
    if (status == ARES_EDESTRUCTION)
        return;
    if (status == ARES_SUCCESS)
        status = ares_parse_srv_reply(abuf, alen, &srv);
    if (status != ARES_SUCCESS) {
        nm->why = ares_strerror(status);
        nm->failed = true;
        one_answered(nm);
        return;
    }
    for (struct ares_srv_reply *s = srv; s != NULL; s = s->next)
        if (s->priority < best)
            best = s->priority;
    for (struct ares_srv_reply *s = srv; s != NULL; s = s->next)
        if (s->priority == best)
            resolve_host(nm, s->host, s->port);
    ares_free_data(srv);
    one_answered(nm);
}

static void lookup(struct name *nm)
{
    if (nm->busy || !nm->res->channel_ok)
        return;
    nm->busy = true;
    nm->failed = false;
    nm->why = NULL;
    nm->ngot = 0;
    nm->ttl = -1;
    nm->pending = 1;
    if (nm->srv) {
        ares_query(nm->res->channel, nm->host, ns_c_in, ns_t_srv, srv_cb, nm);
    } else {
        nm->pending = 0;
        resolve_host(nm, nm->host, nm->port);
        if (nm->pending == 0)
            lookup_done(nm);
    }
    arm_timeout(nm->res);
}

static void refresh_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop;
    (void)revents;
    lookup(t->data);
}

static void name_free(struct resolver *res, struct name *nm)
{
    ev_timer_stop(res->loop, &nm->refresh);
    free(nm->key);
    free(nm->host);
    free(nm);
}

static void free_dropped(struct resolver *res)
{
    while (res->dropped != NULL) {
        struct name *nm = res->dropped;

        res->dropped = nm->next;
        name_free(res, nm);
    }
}

static int channel_open(struct resolver *res, const char *servers, char *err, size_t errlen)
{
    struct ares_options opts = {.sock_state_cb = sock_state_cb, .sock_state_cb_data = res,
                                .timeout = 1000, .tries = 2};
    ares_channel ch;
    int rc;

    rc = ares_init_options(&ch, &opts, ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
    if (rc != ARES_SUCCESS) {
        snprintf(err, errlen, "resolver: %s", ares_strerror(rc));
        return -1;
    }
    if (servers != NULL && (rc = ares_set_servers_ports_csv(ch, servers)) != ARES_SUCCESS) {
        snprintf(err, errlen, "resolver.servers %s: %s", servers, ares_strerror(rc));
        ares_destroy(ch);
        return -1;
    }
    if (res->channel_ok) {
        /* Lookups under way on the old channel end with ARES_EDESTRUCTION,
         * which touches no name. */
        ares_destroy(res->channel);
        for (struct name *nm = res->names; nm != NULL; nm = nm->next)
            nm->busy = false;
        free_dropped(res);
    }
    res->channel = ch;
    res->channel_ok = true;
    return 0;
}

struct resolver *resolver_new(struct ev_loop *loop, resolver_members_fn on_members, void *ctx,
                              char *err, size_t errlen)
{
    struct resolver *res = calloc(1, sizeof(*res));

    if (res == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) {
        snprintf(err, errlen, "resolver: c-ares does not start");
        free(res);
        return NULL;
    }
    res->loop = loop;
    res->on_members = on_members;
    res->ctx = ctx;
    for (int i = 0; i < MAX_SOCKS; i++)
        res->socks[i].fd = -1;
    ev_init(&res->timeout, timeout_cb);
    res->timeout.data = res;
    return res;
}

int resolver_sync(struct resolver *res, const struct conf *conf, char *err, size_t errlen)
{
    const char *servers = conf->resolver.servers;
    struct name **pp;

    if (!res->channel_ok || (servers == NULL) != (res->servers == NULL) ||
        (servers != NULL && strcmp(servers, res->servers) != 0)) {
        if (channel_open(res, servers, err, errlen) < 0)
            return -1;
        free(res->servers);
        res->servers = servers != NULL ? strdup(servers) : NULL;
    }
    res->refresh_min = (double)conf->resolver.refresh_min_ms / 1000.0;
    res->refresh_max = (double)conf->resolver.refresh_max_ms / 1000.0;
    res->hold = (double)conf->resolver.hold_ms / 1000.0;
    for (struct name *nm = res->names; nm != NULL; nm = nm->next)
        nm->seen = false;
    for (size_t i = 0; i < conf->nroutes; i++) {
        for (size_t k = 0; k < conf->routes[i].ndns; k++) {
            const struct conf_dns *d = &conf->routes[i].dns[k];
            struct name *nm;

            for (nm = res->names; nm != NULL && strcmp(nm->key, d->key) != 0; nm = nm->next)
                ;
            if (nm != NULL) {
                nm->seen = true;
                continue;
            }
            if ((nm = calloc(1, sizeof(*nm))) == NULL || (nm->key = strdup(d->key)) == NULL ||
                (nm->host = strdup(d->name)) == NULL) {
                if (nm != NULL)
                    free(nm->key);
                free(nm);
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            nm->res = res;
            nm->port = d->port;
            nm->srv = d->srv;
            nm->seen = true;
            ev_init(&nm->refresh, refresh_cb);
            nm->refresh.data = nm;
            nm->next = res->names;
            res->names = nm;
        }
    }
    for (pp = &res->names; *pp != NULL;) {
        struct name *nm = *pp;

        if (nm->seen) {
            pp = &nm->next;
            continue;
        }
        *pp = nm->next;
        if (nm->nmembers > 0)
            res->on_members(res->ctx, nm->key, NULL, 0);
        if (nm->busy) {
            /* Its answers still come: it goes when they are in. */
            ev_timer_stop(res->loop, &nm->refresh);
            nm->dropped = true;
            nm->next = res->dropped;
            res->dropped = nm;
        } else {
            name_free(res, nm);
        }
    }
    /* Every name looked up now: new ones for the first time, old ones
     * because the servers or bounds may have changed. */
    for (struct name *nm = res->names; nm != NULL; nm = nm->next)
        if (!nm->busy)
            lookup(nm);
    return 0;
}

void resolver_free(struct resolver *res)
{
    if (res == NULL)
        return;
    ev_timer_stop(res->loop, &res->timeout);
    if (res->channel_ok)
        ares_destroy(res->channel);
    for (int i = 0; i < MAX_SOCKS; i++)
        if (res->socks[i].fd >= 0)
            ev_io_stop(res->loop, &res->socks[i].io);
    while (res->names != NULL) {
        struct name *nm = res->names;

        res->names = nm->next;
        name_free(res, nm);
    }
    free_dropped(res);
    free(res->servers);
    free(res);
    ares_library_cleanup();
}
