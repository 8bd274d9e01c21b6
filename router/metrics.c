#include "router/metrics.h"

#include <stdlib.h>
#include <string.h>

const double metrics_buckets[METRICS_NBUCKETS] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                  0.25,  0.5,    1,     2.5,  5,     10};

static const char *const class_names[METRICS_CLASSES] = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};

struct metrics *metrics_new(void)
{
    return calloc(1, sizeof(struct metrics));
}

void metrics_free(struct metrics *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < METRICS_MAX_SERIES; i++) {
        if (atomic_load(&m->series[i].used)) {
            free((char *)m->series[i].route);
            free((char *)m->series[i].backend);
        }
    }
    for (size_t i = 0; i < METRICS_MAX_HISTS; i++)
        if (atomic_load(&m->hist[i].used))
            free((char *)m->hist[i].route);
    free(m);
}

static uint32_t hash_str(uint32_t h, const char *s)
{
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return (h ^ 0xff) * 16777619u;
}

struct metric_series *metrics_series(struct metrics *m, const char *route, const char *backend,
                                     int status)
{
    uint8_t class = (uint8_t)metrics_class(status);
    uint32_t h = hash_str(hash_str(2166136261u, route), backend) ^ class;

    for (size_t k = 0; k < METRICS_MAX_SERIES; k++) {
        struct metric_series *s = &m->series[(h + k) % METRICS_MAX_SERIES];

        if (!atomic_load_explicit(&s->used, memory_order_relaxed)) {
            char *r = strdup(route), *b = strdup(backend);

            if (r == NULL || b == NULL) {
                free(r);
                free(b);
                return NULL;
            }
            s->hash = h;
            s->route = r;
            s->backend = b;
            s->class = class;
            counter_set(&s->count, 0);
            /* The scraping thread reads the fields only after this. */
            atomic_store_explicit(&s->used, true, memory_order_release);
            return s;
        }
        if (s->hash == h && s->class == class && strcmp(s->route, route) == 0 &&
            strcmp(s->backend, backend) == 0)
            return s;
    }
    return NULL;
}

struct metric_hist *metrics_hist(struct metrics *m, const char *route)
{
    uint32_t h = hash_str(2166136261u, route);

    for (size_t k = 0; k < METRICS_MAX_HISTS; k++) {
        struct metric_hist *x = &m->hist[(h + k) % METRICS_MAX_HISTS];

        if (!atomic_load_explicit(&x->used, memory_order_relaxed)) {
            char *r = strdup(route);

            if (r == NULL)
                return NULL;
            x->hash = h;
            x->route = r;
            atomic_store_explicit(&x->used, true, memory_order_release);
            return x;
        }
        if (x->hash == h && strcmp(x->route, route) == 0)
            return x;
    }
    return NULL;
}

void metrics_observe(struct metric_hist *h, double seconds)
{
    size_t b = 0;

    while (b < METRICS_NBUCKETS && seconds > metrics_buckets[b])
        b++;
    counter_add(&h->bucket[b], 1);
    counter_add(&h->count, 1);
    counter_add(&h->sum_us, seconds > 0 ? (uint64_t)(seconds * 1e6) : 0);
}

void metrics_label(struct sbuf *out, const char *value)
{
    sbuf_put(out, "\"", 1);
    for (const char *p = value; *p; p++) {
        if (*p == '\\')
            sbuf_put(out, "\\\\", 2);
        else if (*p == '"')
            sbuf_put(out, "\\\"", 2);
        else if (*p == '\n')
            sbuf_put(out, "\\n", 2);
        else
            sbuf_put(out, p, 1);
    }
    sbuf_put(out, "\"", 1);
}

struct row {
    const char *route, *backend;
    int class;
    const struct metric_hist *hist;
    uint64_t count;
};

static int row_cmp(const void *a, const void *b)
{
    const struct row *x = a, *y = b;
    int c = strcmp(x->route, y->route);

    if (c == 0)
        c = strcmp(x->backend, y->backend);
    return c != 0 ? c : x->class - y->class;
}

void metrics_render(struct metrics *const *m, unsigned n, struct sbuf *out)
{
    struct row *rows = calloc((size_t)n * METRICS_MAX_SERIES + 1, sizeof(*rows));
    struct row *hists = calloc((size_t)n * METRICS_MAX_HISTS + 1, sizeof(*hists));
    size_t nrows = 0, nhists = 0;
    uint64_t dropped = 0, pp[3] = {0}, hs[2] = {0}, tf[TLS_FAIL_N] = {0};
    static const char *const pp_reasons[3] = {"untrusted", "malformed", "missing"};
    static const char *const tls_reasons[TLS_FAIL_N] = {"timeout",          "closed", "http_request",
                                                        "protocol_version", "no_shared_cipher",
                                                        "alert",            "other"};

    if (rows == NULL || hists == NULL) {
        free(rows);
        free(hists);
        out->oom = true;
        return;
    }
    for (unsigned w = 0; w < n; w++) {
        for (size_t i = 0; i < METRICS_MAX_SERIES; i++) {
            const struct metric_series *s = &m[w]->series[i];

            if (atomic_load_explicit(&s->used, memory_order_acquire))
                rows[nrows++] = (struct row){s->route, s->backend, s->class, NULL, counter_get(&s->count)};
        }
        for (size_t i = 0; i < METRICS_MAX_HISTS; i++) {
            const struct metric_hist *h = &m[w]->hist[i];

            if (atomic_load_explicit(&h->used, memory_order_acquire))
                hists[nhists++] = (struct row){h->route, "", 0, h, 0};
        }
        dropped += counter_get(&m[w]->dropped);
        for (int k = 0; k < 3; k++)
            pp[k] += counter_get(&m[w]->proxy_rejected[k]);
        for (int k = 0; k < 2; k++)
            hs[k] += counter_get(&m[w]->tls_handshakes[k]);
        for (int k = 0; k < TLS_FAIL_N; k++)
            tf[k] += counter_get(&m[w]->tls_failures[k]);
    }
    qsort(rows, nrows, sizeof(*rows), row_cmp);
    qsort(hists, nhists, sizeof(*hists), row_cmp);

    sbuf_puts(out, "# HELP drover_requests_total Requests answered, by route, backend and status class.\n"
                   "# TYPE drover_requests_total counter\n");
    for (size_t i = 0; i < nrows;) {
        uint64_t total = 0;
        size_t j = i;

        for (; j < nrows && row_cmp(&rows[i], &rows[j]) == 0; j++)
            total += rows[j].count;
        sbuf_puts(out, "drover_requests_total{route=");
        metrics_label(out, rows[i].route);
        sbuf_puts(out, ",backend=");
        metrics_label(out, rows[i].backend);
        sbuf_printf(out, ",code=\"%s\"} %llu\n", class_names[rows[i].class], (unsigned long long)total);
        i = j;
    }
    sbuf_printf(out, "# HELP drover_requests_dropped_total Requests not counted by route: the series table was full.\n"
                     "# TYPE drover_requests_dropped_total counter\n"
                     "drover_requests_dropped_total %llu\n",
                (unsigned long long)dropped);
    sbuf_puts(out, "# HELP drover_proxy_protocol_rejected_total Connections closed on a proxy_protocol listener: "
                   "the peer is not in proxy_trusted, its header is malformed, or it sent none.\n"
                   "# TYPE drover_proxy_protocol_rejected_total counter\n");
    for (int k = 0; k < 3; k++)
        sbuf_printf(out, "drover_proxy_protocol_rejected_total{reason=\"%s\"} %llu\n", pp_reasons[k],
                    (unsigned long long)pp[k]);

    sbuf_printf(out, "# HELP drover_tls_handshakes_total TLS handshakes completed, full or resumed.\n"
                     "# TYPE drover_tls_handshakes_total counter\n"
                     "drover_tls_handshakes_total{resumed=\"false\"} %llu\n"
                     "drover_tls_handshakes_total{resumed=\"true\"} %llu\n",
                (unsigned long long)hs[0], (unsigned long long)hs[1]);
    sbuf_puts(out, "# HELP drover_tls_handshake_failures_total TLS handshakes that failed, by reason.\n"
                   "# TYPE drover_tls_handshake_failures_total counter\n");
    for (int k = 0; k < TLS_FAIL_N; k++)
        sbuf_printf(out, "drover_tls_handshake_failures_total{reason=\"%s\"} %llu\n", tls_reasons[k],
                    (unsigned long long)tf[k]);

    sbuf_puts(out, "# HELP drover_request_duration_seconds Time from the first byte of a request to the end of its answer.\n"
                   "# TYPE drover_request_duration_seconds histogram\n");
    for (size_t i = 0; i < nhists;) {
        uint64_t bucket[METRICS_NBUCKETS + 1] = {0}, count = 0, sum_us = 0, cumulative = 0;
        size_t j = i;

        for (; j < nhists && strcmp(hists[i].route, hists[j].route) == 0; j++) {
            for (size_t b = 0; b <= METRICS_NBUCKETS; b++)
                bucket[b] += counter_get(&hists[j].hist->bucket[b]);
            count += counter_get(&hists[j].hist->count);
            sum_us += counter_get(&hists[j].hist->sum_us);
        }
        for (size_t b = 0; b <= METRICS_NBUCKETS; b++) {
            cumulative += bucket[b];
            sbuf_puts(out, "drover_request_duration_seconds_bucket{route=");
            metrics_label(out, hists[i].route);
            if (b < METRICS_NBUCKETS)
                sbuf_printf(out, ",le=\"%g\"} %llu\n", metrics_buckets[b], (unsigned long long)cumulative);
            else
                sbuf_printf(out, ",le=\"+Inf\"} %llu\n", (unsigned long long)cumulative);
        }
        sbuf_puts(out, "drover_request_duration_seconds_sum{route=");
        metrics_label(out, hists[i].route);
        sbuf_printf(out, "} %.6f\n", (double)sum_us / 1e6);
        sbuf_puts(out, "drover_request_duration_seconds_count{route=");
        metrics_label(out, hists[i].route);
        sbuf_printf(out, "} %llu\n", (unsigned long long)count);
        i = j;
    }
    free(rows);
    free(hists);
}
