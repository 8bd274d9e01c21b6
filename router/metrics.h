/* Request metrics: every worker counts its answered requests by route,
 * backend and status class, and their durations per route, in tables of
 * its own (the only writer; no lock). The main thread merges every
 * worker's tables when /metrics is scraped.
 *
 * Series are found through pointers cached in the worker's route table,
 * so counting a request costs no lookup after the first one of its kind;
 * series are never removed (Prometheus counters only grow). */
#ifndef DROVER_ROUTER_METRICS_H
#define DROVER_ROUTER_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/counter.h"
#include "lib/sbuf.h"

#define METRICS_MAX_SERIES 4096
#define METRICS_MAX_HISTS 256
#define METRICS_NBUCKETS 13
#define METRICS_CLASSES 6           /* status / 100: 1xx..5xx, and 0 for anything else */

/* Upper bounds of the duration buckets, in seconds (+Inf is implicit). */
extern const double metrics_buckets[METRICS_NBUCKETS];

struct metric_series {
    atomic_bool used;               /* published: the fields below are set */
    uint32_t hash;
    const char *route;              /* owned by the table */
    const char *backend;
    uint8_t class;
    counter_t count;
};

struct metric_hist {
    atomic_bool used;
    uint32_t hash;
    const char *route;
    counter_t bucket[METRICS_NBUCKETS + 1]; /* per bucket (not cumulative); last: > 10s */
    counter_t count;
    counter_t sum_us;
};

/* Why a TLS handshake failed (drover_tls_handshake_failures_total{reason}). */
enum tls_fail {
    TLS_FAIL_TIMEOUT,       /* not done within timeouts.client_header */
    TLS_FAIL_CLOSED,        /* the client closed or reset the connection */
    TLS_FAIL_HTTP,          /* plain HTTP to a TLS port (answered 400) */
    TLS_FAIL_VERSION,       /* no protocol version in common */
    TLS_FAIL_CIPHER,        /* no cipher or group in common */
    TLS_FAIL_ALERT,         /* the client refused ours (unknown CA, bad certificate...) */
    TLS_FAIL_OTHER,         /* anything else, our own close included (drain, eviction) */
    TLS_FAIL_N,
};

struct metrics {
    struct metric_series series[METRICS_MAX_SERIES];
    struct metric_hist hist[METRICS_MAX_HISTS];
    counter_t dropped;              /* requests no series was left for */
    counter_t proxy_rejected[3];    /* PROXY headers refused, by enum pp_reject */
    counter_t tls_handshakes[2];    /* TLS handshakes completed: [0] full, [1] resumed */
    counter_t tls_failures[TLS_FAIL_N]; /* TLS handshakes that failed, by enum tls_fail */
};

/* Why a connection on a proxy_protocol listener was closed. */
enum pp_reject { PP_UNTRUSTED, PP_MALFORMED, PP_MISSING };

struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);

/* The series for (route, backend, status class), created on first use (by
 * the owning worker only); NULL when the table is full. route and backend
 * are copied. */
struct metric_series *metrics_series(struct metrics *m, const char *route, const char *backend,
                                     int status);
struct metric_hist *metrics_hist(struct metrics *m, const char *route);

void metrics_observe(struct metric_hist *h, double seconds);

static inline int metrics_class(int status)
{
    return status >= 100 && status < 600 ? status / 100 : 0;
}

/* Prometheus text for the request series and histograms of n workers'
 * tables, merged by labels. */
void metrics_render(struct metrics *const *m, unsigned n, struct sbuf *out);

/* A Prometheus label value, escaped (\\, \", \n). */
void metrics_label(struct sbuf *out, const char *value);

#endif
