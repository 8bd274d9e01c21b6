/* The live stats members of /status and the live series of /metrics: see
 * api_live.h. */
#include "control/api_live.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "router/metrics.h"
#include "router/stats.h"
#include "supervisor/supervisor.h"

static const double quantiles[3] = {0.5, 0.95, 0.99};

/* Milliseconds to the microsecond, null when there is none. */
static json_t *ms(double seconds)
{
    return isfinite(seconds) ? json_real(round(seconds * 1e6) / 1e3) : json_null();
}

static json_t *num(uint64_t n)
{
    return json_integer(n > (uint64_t)INT64_MAX ? (json_int_t)INT64_MAX : (json_int_t)n);
}

static void window(const struct api_view *v, const char *name, struct stats_window *w)
{
    stats_window_of(w, v->stats, v->stats != NULL ? v->nstats : 0, name, v->now);
}

json_t *api_live_json(const struct api_view *v, const char *name)
{
    struct stats_window w;

    window(v, name, &w);
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "rps",
                     json_real(round(stats_window_rate(&w) * 100.0) / 100.0), "p50_ms",
                     ms(stats_window_quantile(&w, 0.5)), "p95_ms",
                     ms(stats_window_quantile(&w, 0.95)), "p99_ms",
                     ms(stats_window_quantile(&w, 0.99)), "requests_1m", num(w.count), "5xx_1m",
                     num(w.errors), "5xx", num(w.errors_total), "window_s",
                     json_real(round(w.span * 10.0) / 10.0));
}

long api_live_queued(const struct api_view *v, const char *name)
{
    struct stats_window w;

    window(v, name, &w);
    return w.queued;
}

json_t *api_live_exit(const struct api_view *v, const struct sv_instance_view *in)
{
    char at[32];
    time_t t = (time_t)in->exit_at;
    struct tm tm;
    const char *sig = in->exit_signal > 0 ? sigabbrev_np(in->exit_signal) : NULL;
    char signame[32];
    json_t *doc;

    if (in->exit_at <= 0)
        return json_null();
    gmtime_r(&t, &tm);
    strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(signame, sizeof(signame), "SIG%s", sig != NULL ? sig : "?");
    doc = json_pack("{s:o, s:o}", "code", in->exit_code >= 0 ? json_integer(in->exit_code) : json_null(),
                    "signal", in->exit_signal > 0 ? json_string(signame) : json_null());
    /* As the log said it ("killed by the memory limit (64M)"). */
    if (doc != NULL && in->exit_how != NULL)
        json_object_set_new(doc, "how", json_string(in->exit_how));
    if (doc != NULL) {
        json_object_set_new(doc, "at", json_string(at));
        json_object_set_new(doc, "ago_s", json_real(round((v->now - in->exit_at) * 10.0) / 10.0));
    }
    return doc;
}

/* ---- /metrics ------------------------------------------------------------- */

/* One name's series: labels is the label text inside the braces, already
 * escaped ("route=\"/api/\""). */
struct live_row {
    char labels[640];
    struct stats_window w;
};

static void gauge_rows(struct sbuf *out, const char *name, const char *type, const char *help,
                       const struct live_row *rows, size_t n, int what)
{
    sbuf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
    for (size_t i = 0; i < n; i++) {
        const struct stats_window *w = &rows[i].w;

        if (what == 0)
            sbuf_printf(out, "%s{%s} %.3f\n", name, rows[i].labels, stats_window_rate(w));
        else if (what == 1)
            sbuf_printf(out, "%s{%s} %llu\n", name, rows[i].labels,
                        (unsigned long long)w->errors_total);
        else
            sbuf_printf(out, "%s{%s} %ld\n", name, rows[i].labels, w->queued);
    }
}

static void summary_rows(struct sbuf *out, const char *name, const char *help,
                         const struct live_row *rows, size_t n)
{
    sbuf_printf(out, "# HELP %s %s\n# TYPE %s summary\n", name, help, name);
    for (size_t i = 0; i < n; i++) {
        const struct stats_window *w = &rows[i].w;

        for (size_t q = 0; q < 3; q++) {
            double x = stats_window_quantile(w, quantiles[q]);

            if (isfinite(x))
                sbuf_printf(out, "%s{%s,quantile=\"%g\"} %.6f\n", name, rows[i].labels,
                            quantiles[q], x);
            else
                sbuf_printf(out, "%s{%s,quantile=\"%g\"} NaN\n", name, rows[i].labels,
                            quantiles[q]);
        }
        sbuf_printf(out, "%s_sum{%s} %.6f\n%s_count{%s} %llu\n", name, rows[i].labels,
                    (double)w->sum_us / 1e6, name, rows[i].labels,
                    (unsigned long long)w->total);
    }
}

/* "key=\"value\"" with value escaped, after what out holds. */
static void label(struct sbuf *out, const char *key, const char *value)
{
    sbuf_printf(out, "%s%s=", out->len > 0 ? "," : "", key);
    metrics_label(out, value);
}

static void row_labels(struct live_row *row, const char *k1, const char *v1, const char *k2,
                       const char *v2)
{
    struct sbuf s;

    sbuf_init(&s);
    label(&s, k1, v1);
    if (k2 != NULL)
        label(&s, k2, v2);
    snprintf(row->labels, sizeof(row->labels), "%s", s.data != NULL ? s.data : "");
    sbuf_free(&s);
}

static void route_series(const struct api_view *v, struct sbuf *out)
{
    struct live_row *rows = calloc(v->nroutes + 1, sizeof(*rows));

    if (rows == NULL) {
        out->oom = true;
        return;
    }
    for (size_t i = 0; i < v->nroutes; i++) {
        row_labels(&rows[i], "route", v->routes[i].name, NULL, NULL);
        window(v, v->routes[i].name, &rows[i].w);
    }
    gauge_rows(out, "drover_route_requests_per_second", "gauge",
               "Requests answered per second on the route over the last minute.", rows, v->nroutes,
               0);
    summary_rows(out, "drover_route_latency_seconds",
                 "Request duration on the route: quantiles over the last minute.", rows, v->nroutes);
    gauge_rows(out, "drover_route_queued", "gauge",
               "Requests waiting for a backend of the route under max_inflight.", rows, v->nroutes,
               2);
    free(rows);
}

static void instance_series(const struct api_view *v, struct sbuf *out)
{
    size_t n = 0, k = 0;
    struct live_row *rows;

    for (size_t i = 0; v->sv != NULL && i < v->sv->ntypes; i++)
        n += v->sv->types[i].ninstances;
    if ((rows = calloc(n + 1, sizeof(*rows))) == NULL) {
        out->oom = true;
        return;
    }
    for (size_t i = 0; v->sv != NULL && i < v->sv->ntypes; i++) {
        const struct sv_type_view *t = &v->sv->types[i];

        for (size_t j = 0; j < t->ninstances; j++, k++) {
            row_labels(&rows[k], "type", t->type, "instance", t->instances[j].name);
            window(v, t->instances[j].name, &rows[k].w);
        }
    }
    gauge_rows(out, "drover_instance_requests_per_second", "gauge",
               "Requests the instance answered per second over the last minute.", rows, n, 0);
    summary_rows(out, "drover_instance_latency_seconds",
                 "Request duration on the instance: quantiles over the last minute.", rows, n);
    gauge_rows(out, "drover_instance_responses_5xx_total", "counter",
               "5xx answers from (or for) requests sent to the instance.", rows, n, 1);
    sbuf_puts(out, "# HELP drover_instance_inflight Requests in flight on the instance.\n"
                   "# TYPE drover_instance_inflight gauge\n");
    k = 0;
    for (size_t i = 0; v->sv != NULL && i < v->sv->ntypes; i++)
        for (size_t j = 0; j < v->sv->types[i].ninstances; j++, k++)
            sbuf_printf(out, "drover_instance_inflight{%s} %ld\n", rows[k].labels,
                        v->sv->types[i].instances[j].inflight);
    sbuf_puts(out, "# HELP drover_instance_generation The rollout of its type that started the "
                   "instance (1, one more at each rolling restart).\n"
                   "# TYPE drover_instance_generation gauge\n");
    k = 0;
    for (size_t i = 0; v->sv != NULL && i < v->sv->ntypes; i++)
        for (size_t j = 0; j < v->sv->types[i].ninstances; j++, k++)
            sbuf_printf(out, "drover_instance_generation{%s} %u\n", rows[k].labels,
                        v->sv->types[i].instances[j].generation);
    sbuf_puts(out, "# HELP drover_instance_last_exit_timestamp_seconds When the instance's last "
                   "run ended (its exit code or signal in the labels).\n"
                   "# TYPE drover_instance_last_exit_timestamp_seconds gauge\n");
    k = 0;
    for (size_t i = 0; v->sv != NULL && i < v->sv->ntypes; i++) {
        for (size_t j = 0; j < v->sv->types[i].ninstances; j++, k++) {
            const struct sv_instance_view *in = &v->sv->types[i].instances[j];
            const char *sig = in->exit_signal > 0 ? sigabbrev_np(in->exit_signal) : NULL;

            if (in->exit_at <= 0)
                continue;
            if (in->exit_signal > 0)
                sbuf_printf(out, "drover_instance_last_exit_timestamp_seconds{%s,signal=\"SIG%s\"} %.3f\n",
                            rows[k].labels, sig != NULL ? sig : "?", in->exit_at);
            else
                sbuf_printf(out, "drover_instance_last_exit_timestamp_seconds{%s,code=\"%d\"} %.3f\n",
                            rows[k].labels, in->exit_code, in->exit_at);
        }
    }
    free(rows);
}

void api_live_metrics(const struct api_view *v, struct sbuf *out)
{
    uint64_t dropped = 0;

    route_series(v, out);
    instance_series(v, out);
    for (unsigned i = 0; v->stats != NULL && i < v->nstats; i++)
        dropped += counter_get(&v->stats[i]->dropped);
    sbuf_printf(out, "# HELP drover_live_stats_dropped_total Requests left out of the live stats: "
                     "a worker's table of names was full.\n"
                     "# TYPE drover_live_stats_dropped_total counter\n"
                     "drover_live_stats_dropped_total %llu\n", (unsigned long long)dropped);
}
