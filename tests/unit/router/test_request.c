/* router/request.c: the one owner of a request's end. A real worker (a
 * config loaded from YAML, its route table and metrics) and bare struct
 * conns attached to it; no sockets. Metrics are read back by scanning the
 * worker's series table (a lookup through metrics_series would create the
 * series it looks for). */
#include <criterion/criterion.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "conf/config.h"
#include "router/backend.h"
#include "router/conn.h"
#include "router/http.h"
#include "router/metrics.h"
#include "router/request.h"
#include "router/route.h"
#include "router/worker.h"

static struct ev_loop *loop;
static struct backend_registry reg;
static struct conf_ref *cref;
static struct worker w;
static struct conn c, c2;
static llhttp_t parser;
static struct http_head head;

static void finished(void *ctx)
{
    (void)ctx;
}

static void setup(void)
{
    static const char yaml[] = "routes:\n"
                               "  - path: /\n"
                               "    backends: [127.0.0.1:9]\n";
    char path[] = "/tmp/drover-request-XXXXXX";
    char err[4096];
    struct conf *conf;
    int fd = mkstemp(path);

    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, yaml, strlen(yaml)), (ssize_t)strlen(yaml));
    close(fd);
    conf = conf_load(path, err, sizeof(err));
    unlink(path);
    cr_assert_not_null(conf, "config: %s", err);
    loop = ev_loop_new(EVFLAG_AUTO);
    cr_assert_not_null(loop);
    cref = conf_ref_new(conf);
    cr_assert_not_null(cref);
    backend_registry_init(&reg, 1);
    struct worker_setup ws = {.cref = cref, .reg = &reg, .nworkers = 1, .access_fd = -1, .on_finished = finished};
    cr_assert_eq(worker_init(&w, &ws, 0, loop), 0);
    memset(&c, 0, sizeof(c));
    memset(&c2, 0, sizeof(c2));
    c.w = c2.w = &w;
    c.fd = c2.fd = -1;
    c.t_first = c2.t_first = ev_now(loop);
}

static void teardown(void)
{
    request_end(&c, false);
    request_end(&c2, false);
    worker_destroy(&w);
    backend_registry_clear(&reg);
    conf_ref_put(cref);
    ev_loop_destroy(loop);
}

TestSuite(request, .init = setup, .fini = teardown, .timeout = 10);

static struct request *begin_head(const char *text)
{
    cr_assert_eq(http_parse_head(&parser, HTTP_REQUEST, &head, text, strlen(text)), HTTP_HEAD_DONE,
                 "%s", head.err_reason);
    return request_begin_head(&c, &head);
}

/* Requests counted for (route, backend, status class), without creating
 * the series. */
static uint64_t counted(const char *route, const char *backend, int cls)
{
    uint64_t n = 0;

    for (size_t i = 0; i < METRICS_MAX_SERIES; i++) {
        const struct metric_series *s = &w.metrics->series[i];

        if (atomic_load(&s->used) && s->class == cls && strcmp(s->route, route) == 0 &&
            strcmp(s->backend, backend) == 0)
            n += counter_get(&s->count);
    }
    return n;
}

static uint64_t counted_total(void)
{
    uint64_t n = 0;

    for (size_t i = 0; i < METRICS_MAX_SERIES; i++)
        if (atomic_load(&w.metrics->series[i].used))
            n += counter_get(&w.metrics->series[i].count);
    return n;
}

static int free_reqs(void)
{
    int n = 0;

    for (struct request *r = w.free_reqs; r != NULL; r = r->next)
        n++;
    return n;
}

/* ---- begin ------------------------------------------------------------ */

Test(request, begin_gives_a_32_hex_id_and_holds_the_table)
{
    struct request *req = request_begin(&c);

    cr_assert_not_null(req);
    cr_assert_eq(c.req, req);
    cr_assert_eq(req->idlen, 32);
    cr_assert_eq(strlen(req->id), 32);
    for (int i = 0; i < 32; i++)
        cr_assert(isxdigit((unsigned char)req->id[i]) && !isupper((unsigned char)req->id[i]),
                  "id %s", req->id);
    cr_assert_eq(req->table, w.table);
    cr_assert_eq(w.table->refs, 2, "the request holds the table");
    cr_assert_not(req->has_method);
}

Test(request, ids_differ_between_requests)
{
    struct request *a = request_begin(&c), *b = request_begin(&c2);

    cr_assert_str_neq(a->id, b->id);
}

Test(request, begin_head_takes_method_and_version)
{
    struct request *req = begin_head("POST /x HTTP/1.0\r\nContent-Length: 0\r\n\r\n");

    cr_assert_not_null(req);
    cr_assert_eq(req->method, HTTP_POST);
    cr_assert_eq(req->minor, 0);
    cr_assert(req->has_method);
    cr_assert_eq(req->idlen, 32, "no client id: one of ours");
}

Test(request, begin_head_keeps_a_sane_client_id)
{
    struct request *req = begin_head("GET / HTTP/1.1\r\nHost: a\r\nX-Request-Id: abc-123.Z_~:+/=\r\n\r\n");

    cr_assert_str_eq(req->id, "abc-123.Z_~:+/=");
    cr_assert_eq(req->idlen, strlen("abc-123.Z_~:+/="));
}

Test(request, begin_head_replaces_an_id_with_a_bad_byte)
{
    struct request *req = begin_head("GET / HTTP/1.1\r\nHost: a\r\nX-Request-Id: abc def\r\n\r\n");

    cr_assert_eq(req->idlen, 32);
    cr_assert_str_neq(req->id, "abc def");
    cr_assert_null(strchr(req->id, ' '));
}

Test(request, begin_head_replaces_an_id_that_is_too_long)
{
    char text[512], id[HTTP_REQUEST_ID_MAX + 2];
    struct request *req;

    memset(id, 'a', sizeof(id) - 1);
    id[sizeof(id) - 1] = '\0';
    snprintf(text, sizeof(text), "GET / HTTP/1.1\r\nHost: a\r\nX-Request-Id: %s\r\n\r\n", id);
    req = begin_head(text);
    cr_assert_eq(req->idlen, 32);
}

Test(request, begin_head_keeps_an_id_of_the_longest_length)
{
    char text[512], id[HTTP_REQUEST_ID_MAX + 1];
    struct request *req;

    memset(id, 'a', sizeof(id) - 1);
    id[sizeof(id) - 1] = '\0';
    snprintf(text, sizeof(text), "GET / HTTP/1.1\r\nHost: a\r\nX-Request-Id: %s\r\n\r\n", id);
    req = begin_head(text);
    cr_assert_eq(req->idlen, HTTP_REQUEST_ID_MAX);
    cr_assert_str_eq(req->id, id);
}

Test(request, begin_head_replaces_two_client_ids)
{
    struct request *req =
        begin_head("GET / HTTP/1.1\r\nHost: a\r\nX-Request-Id: one\r\nX-Request-Id: two\r\n\r\n");

    cr_assert_eq(req->idlen, 32);
    cr_assert_str_neq(req->id, "one");
    cr_assert_str_neq(req->id, "two");
}

/* ---- the backend ------------------------------------------------------- */

Test(request, bind_and_unbind_count_once)
{
    struct backend *be = w.table->routes[0].be[0];

    request_begin(&c);
    request_bind_backend(&c, be);
    cr_assert_eq(backend_inflight(be), 1);
    cr_assert_eq(counter_get(&be->slot[0].requests), 1);
    cr_assert_eq(c.req->be, be);
    request_unbind_backend(&c);
    cr_assert_eq(backend_inflight(be), 0);
    request_unbind_backend(&c);
    cr_assert_eq(backend_inflight(be), 0, "a second unbind counted again");
    cr_assert_eq(counter_get(&be->slot[0].requests), 1, "requests served only grow");
}

Test(request, unbind_under_max_inflight_kicks_a_waiting_queue)
{
    struct backend *be = w.table->routes[0].be[0];

    atomic_store(&be->max_inflight, 1);
    request_begin(&c);
    request_bind_backend(&c, be);
    request_begin(&c2);
    c2.req->route = &w.table->routes[0];
    cr_assert_eq(queue_enter(&w.queue, &c2, 10), 0);
    cr_assert_not(w.queue.kicked);
    request_unbind_backend(&c);
    cr_assert(w.queue.kicked, "the freed slot did not kick the queue");
}

Test(request, unbind_without_max_inflight_does_not_kick)
{
    struct backend *be = w.table->routes[0].be[0];

    request_begin(&c);
    request_bind_backend(&c, be);
    request_begin(&c2);
    c2.req->route = &w.table->routes[0];
    cr_assert_eq(queue_enter(&w.queue, &c2, 10), 0);
    request_unbind_backend(&c);
    cr_assert_not(w.queue.kicked);
}

/* ---- the end ----------------------------------------------------------- */

Test(request, end_frees_once)
{
    struct request *req = request_begin(&c);

    cr_assert_eq(free_reqs(), 0);
    request_end(&c, true);
    cr_assert_null(c.req);
    cr_assert_eq(free_reqs(), 1);
    cr_assert_eq(w.free_reqs, req, "back on the worker's free list");
    cr_assert_eq(w.table->refs, 1, "the table reference was let go");
    request_end(&c, true);
    cr_assert_eq(free_reqs(), 1, "a second end freed it again");
    cr_assert_eq(w.table->refs, 1);
    cr_assert_eq(counted_total(), 1, "a second end counted it again");
    /* The next request reuses the object. */
    cr_assert_eq(request_begin(&c2), req);
    cr_assert_eq(free_reqs(), 0);
}

Test(request, end_without_a_status_is_499)
{
    request_begin(&c);
    request_end(&c, true);
    cr_assert_eq(counted("-", "-", 4), 1);
    cr_assert_eq(counted_total(), 1);
}

Test(request, end_counts_the_status_and_route_it_had)
{
    struct route_rt *r = &w.table->routes[0];
    struct metric_hist *h;

    begin_head("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    c.req->route = r;
    c.req->status = 200;
    request_end(&c, true);
    cr_assert_eq(counted(r->label, "-", 2), 1, "route %s", r->label);
    cr_assert_eq(counted_total(), 1);
    h = r->hist;
    cr_assert_not_null(h);
    cr_assert_eq(counter_get(&h->count), 1, "its duration observed");
}

Test(request, end_names_the_backend_that_answered)
{
    struct route_rt *r = &w.table->routes[0];
    struct backend *be = r->be[0];

    begin_head("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    c.req->route = r;
    request_bind_backend(&c, be);
    c.req->pick.tried[0] = 0;
    c.req->pick.ntried = 1;
    c.req->status = 502;
    request_end(&c, true);
    cr_assert_eq(counted(r->label, be->name, 5), 1);
    cr_assert_eq(backend_inflight(be), 0, "the end let the backend go");
}

Test(request, end_unanswered_without_a_method_is_not_counted)
{
    request_begin(&c);
    request_end(&c, false);
    cr_assert_eq(counted_total(), 0);
    cr_assert_eq(free_reqs(), 1, "freed all the same");
}

Test(request, end_unanswered_with_a_method_is_counted_as_499)
{
    begin_head("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    request_end(&c, false);
    cr_assert_eq(counted("-", "-", 4), 1);
}

Test(request, end_takes_the_request_out_of_the_queue)
{
    struct route_rt *r = &w.table->routes[0];

    request_begin(&c);
    c.req->route = r;
    cr_assert_eq(queue_enter(&w.queue, &c, 10), 0);
    cr_assert_eq(r->nqueued, 1);
    request_end(&c, false);
    cr_assert_not(c.queued);
    cr_assert_null(w.queue.head);
    cr_assert_eq(r->nqueued, 0);
}

Test(request, end_without_a_request_does_nothing)
{
    request_end(&c, true);
    cr_assert_eq(counted_total(), 0);
    cr_assert_eq(free_reqs(), 0);
}
