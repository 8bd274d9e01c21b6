/* Limits and races through drover: slow and hostile clients, the
 * connection table, descriptors, upstream races, per-backend concurrency
 * (max_inflight and its queue) and worker threads. */
#include <dirent.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tests/e2e/http11.h"

/* ---- slow and hostile clients ---- */

/* A head trickling in one byte per 100ms gets 408 when client_header has
 * passed since its first byte; each byte does not extend the deadline. */
E2E_TEST(slowloris_408_deadline_from_first_byte, 30)
{
    static const char head[] =
        "GET / HTTP/1.1\r\nHost: t\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    int bp, dp;
    struct e2e_proc *d = one_backend(&bp, &dp, "timeouts:\n  client_header: 1s\n");
    struct client *slow, *good;
    struct http_resp r;
    long long t0 = 0, t_resp = -1;

    good = client_open(addr_of(dp));
    slow = client_open(addr_of(dp));
    for (size_t i = 0; i < sizeof(head) - 1; i++) {
        long long next;

        if (client_send_try(slow, head + i, 1) < 0)
            break;
        if (i == 0)
            t0 = e2e_now_ms();
        get_ok(good, e2e_fmt("normal request after slow byte %zu", i), 1000);
        next = t0 + (long long)(i + 1) * 100;
        if (client_readable(slow, (int)(next > e2e_now_ms() ? next - e2e_now_ms() : 0))) {
            t_resp = e2e_now_ms();
            break;
        }
    }
    ASSERT(client_read(slow, &r, false, 2000) == 0, "no response to the slow head");
    if (t_resp < 0)
        t_resp = e2e_now_ms();
    e2e_log("slow client answered %d after %lldms", r.status, t_resp - t0);
    ASSERT(r.status == 408, "got %d %s", r.status, first_line(r.body));
    ASSERT(t_resp - t0 >= 900 && t_resp - t0 <= 2000, "408 came %lldms after the first byte",
           t_resp - t0);
    ASSERT(client_wait_closed(slow, 1000), "connection left open after the 408");
    resp_free(&r);
    get_ok(good, "after the 408", 1000);
    client_close(slow);
    client_close(good);
    e2e_drover_stop(d);
}

E2E_TEST(client_body_timeout_408, 30)
{
    int bp, dp;
    struct e2e_proc *d = one_backend(&bp, &dp, "timeouts:\n  client_body: 300ms\n");
    struct client *c = client_open(addr_of(dp));
    struct http_resp r;
    long long t0;

    client_send_str(c, POST_HEAD "Content-Length: 100\r\n\r\n0123456789");
    t0 = e2e_now_ms();
    ASSERT(client_read(c, &r, false, 2000) == 0, "no response to a stalled body");
    e2e_log("answered %d after %lldms", r.status, e2e_now_ms() - t0);
    ASSERT(r.status == 408 && resp_header(&r, "X-Backend") == NULL, "got %d %s", r.status,
           first_line(r.body));
    ASSERT(e2e_now_ms() - t0 >= 250 && e2e_now_ms() - t0 <= 1000, "408 after %lldms",
           e2e_now_ms() - t0);
    ASSERT(client_wait_closed(c, 1000), "connection left open after the 408");
    resp_free(&r);
    client_close(c);
    e2e_drover_stop(d);
}

/* A full table with every connection busy: the next client waits in the
 * kernel's backlog (never refused) until a request ends; then the idle
 * keep-alive client, oldest first, makes room for it. */
E2E_TEST(max_connections_waits_in_backlog_while_all_are_busy, 30)
{
    int bp, dp;
    struct e2e_proc *d = one_backend(&bp, &dp, "limits:\n  max_connections: 4\n");
    struct client *c[4], *fifth;
    struct http_resp r;
    long long t0;

    for (int i = 0; i < 4; i++) {
        c[i] = client_open(addr_of(dp));
        client_send_str(c[i], "GET /?delay=1500 HTTP/1.1\r\nHost: t\r\n\r\n");
        e2e_sleep_ms(20); /* accepted in this order */
    }
    e2e_sleep_ms(200); /* all four in flight */
    fifth = client_open(addr_of(dp)); /* the kernel's backlog takes it */
    client_send_str(fifth, GET_OK);
    if (client_readable(fifth, 500)) {
        client_read(fifth, &r, false, 100);
        e2e_fail(__FILE__, __LINE__, "the 5th connection got %d %s while 4 are busy", r.status, r.body);
    }
    t0 = e2e_now_ms();
    ASSERT(client_read(fifth, &r, false, 3000) == 0, "the 5th connection was not served once the "
           "busy ones were done");
    ASSERT(r.status == 200, "got %d", r.status);
    e2e_log("served %lldms later, when the requests in flight ended", e2e_now_ms() - t0);
    resp_free(&r);
    for (int i = 0; i < 4; i++) {
        ASSERT(client_read(c[i], &r, false, 2000) == 0 && r.status == 200,
               "busy connection %d lost its answer", i);
        resp_free(&r);
    }
    ASSERT(client_wait_closed(c[0], 1000), "the oldest idle keep-alive client did not make room");
    for (int i = 0; i < 4; i++)
        client_close(c[i]);
    client_close(fifth);
    e2e_drover_stop(d);
}

/* At 64 descriptors drover fits its table to the limit (and says so), so
 * 80 clients find it full rather than out of descriptors; either way it
 * must not spin on a readable listener, and a new client is served once
 * the others leave. */
E2E_TEST(emfile_does_not_spin, 30)
{
    int bp = e2e_free_port(), dp = e2e_free_port();
    struct e2e_proc *d;
    struct client *c[80], *late;
    struct http_resp r;
    char *limits;
    long cpu0, cpu1;
    long long t0;

    e2e_backend("a", bp);
    d = e2e_drover_nofile(config(dp, e2e_fmt("limits:\n  max_connections: 10000\n"
                                             "routes:\n  - path: /\n    backends: [127.0.0.1:%d]\n",
                                             bp)),
                          addr_of(dp), 64);
    limits = e2e_read_file(e2e_fmt("/proc/%d/limits", (int)d->pid), NULL);
    ASSERT(limits != NULL &&
               strstr(limits, "Max open files            64                   64") != NULL,
           "RLIMIT_NOFILE not applied: %s", limits);
    e2e_wait_log(d, "limits.max_connections lowered from 10000 to", 2000);
    for (int i = 0; i < 80; i++)
        c[i] = client_open(addr_of(dp));
    /* Let drover run into the limit. */
    for (t0 = e2e_now_ms(); e2e_fd_count(d->pid) < 60 && e2e_now_ms() - t0 < 500;)
        e2e_sleep_ms(10);
    e2e_log("drover holds %d descriptors", e2e_fd_count(d->pid));
    cpu0 = e2e_cpu_ms(d->pid);
    e2e_sleep_ms(1000);
    cpu1 = e2e_cpu_ms(d->pid);
    e2e_log("drover used %ld ms of CPU in 1s with 80 connections and 64 descriptors", cpu1 - cpu0);
    ASSERT(!e2e_exited(d), "drover exited (status %#x)", d->status);
    ASSERT(cpu1 - cpu0 < 300, "drover used %ld ms of CPU in 1 s: it spins on EMFILE", cpu1 - cpu0);
    for (int i = 0; i < 80; i++)
        client_close(c[i]);
    t0 = e2e_now_ms();
    late = client_open(addr_of(dp));
    client_send_str(late, GET_OK);
    ASSERT(client_read(late, &r, false, 1000) == 0, "a new client was not served within 1s");
    ASSERT(r.status == 200, "got %d %s", r.status, first_line(r.body));
    e2e_log("new client served after %lldms", e2e_now_ms() - t0);
    resp_free(&r);
    client_close(late);
    e2e_drover_stop(d);
}

/* ---- retries and upstream races ---- */

E2E_TEST(backend_restarted_under_pooled_connections, 60)
{
    int bp = e2e_free_port(), dp = e2e_free_port();
    struct e2e_proc *a, *d;
    struct client *c[5];
    int failed = 0;
    char *first = NULL;

    a = e2e_backend("a", bp);
    d = e2e_drover(config(dp, e2e_fmt("routes:\n  - path: /\n    backends: [127.0.0.1:%d]\n", bp)),
                   addr_of(dp));
    /* Four requests at once leave four idle upstream connections. */
    for (int i = 0; i < 4; i++) {
        c[i] = client_open(addr_of(dp));
        client_send_str(c[i], "GET /?delay=20 HTTP/1.1\r\nHost: t\r\n\r\n");
    }
    for (int i = 0; i < 4; i++) {
        struct http_resp r;

        ASSERT(client_read(c[i], &r, false, 2000) == 0 && r.status == 200);
        resp_free(&r);
        client_close(c[i]);
    }
    e2e_stop(a, SIGKILL, 2000);
    e2e_backend("a2", bp);
    for (int i = 0; i < 5; i++)
        c[i] = client_open(addr_of(dp));
    for (int i = 0; i < 500; i++) {
        struct client *cl = c[i % 5];
        struct http_resp r;
        const char *why = NULL;

        client_send_try(cl, GET_OK, strlen(GET_OK));
        if (client_read(cl, &r, false, 3000) < 0)
            why = "no response";
        else if (r.status != 200)
            why = e2e_fmt("%d %s", r.status, first_line(r.body));
        if (why != NULL) {
            failed++;
            if (first == NULL)
                first = e2e_fmt("request %d: %s", i, why);
            client_close(cl);
            c[i % 5] = client_open(addr_of(dp));
        }
        resp_free(&r);
    }
    for (int i = 0; i < 5; i++)
        client_close(c[i]);
    ASSERT(failed == 0, "%d of 500 requests failed after the backend restarted; first: %s", failed,
           first);
    e2e_drover_stop(d);
}

static long backend_requests(int port)
{
    struct http_resp r;
    const char *p;
    long n;

    http_get(addr_of(port), "/?stats=1", &r);
    p = strstr(r.body, "\"requests\":");
    ASSERT(r.status == 200 && p != NULL, "stats: %d %s", r.status, r.body);
    n = strtol(p + 11, NULL, 10);
    resp_free(&r);
    return n;
}

E2E_TEST(no_retry_after_response_bytes, 30)
{
    int bp, dp;
    struct e2e_proc *d = one_backend(&bp, &dp, "retries: 2\n");
    struct client *c = client_open(addr_of(dp));
    struct http_resp r;
    long before, after;

    before = backend_requests(bp);
    client_send_str(c, "GET /?size=100000&close=1000 HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT(client_read(c, &r, false, 3000) < 0, "a truncated response looked complete");
    ASSERT(r.status == 200 && r.body_len < 100000, "status %d, %zu bytes", r.status, r.body_len);
    ASSERT(client_wait_closed(c, 2000), "client connection left open");
    resp_free(&r);
    client_close(c);
    after = backend_requests(bp);
    /* The second stats request counts itself and the first one. */
    ASSERT(after - before == 2, "the backend answered %ld requests for one (a retry after "
           "response bytes went out)", after - before - 1);
    e2e_drover_stop(d);
}

/* ---- per-backend concurrency ---- */

/* Sends one request on each client at once and records each response's
 * status and arrival (ms after t0). */
static void concurrent(const char *dp, int n, const char *req, int *status, long long *ms)
{
    struct client *c[8];
    struct pollfd pfd[8];
    bool done[8] = {false};
    long long t0;
    int left = n;

    for (int i = 0; i < n; i++)
        c[i] = client_open(dp);
    t0 = e2e_now_ms();
    for (int i = 0; i < n; i++)
        client_send_str(c[i], req);
    while (left > 0) {
        for (int i = 0; i < n; i++)
            pfd[i] = (struct pollfd){c[i]->fd, done[i] ? 0 : POLLIN, 0};
        ASSERT(poll(pfd, (nfds_t)n, 5000) > 0, "no response within 5s");
        for (int i = 0; i < n; i++) {
            struct http_resp r;

            if (done[i] || pfd[i].revents == 0)
                continue;
            ms[i] = e2e_now_ms() - t0;
            ASSERT(client_read(c[i], &r, false, 3000) == 0, "request %d: no complete response", i);
            status[i] = r.status;
            e2e_log("request %d: %d after %lldms (%s)", i, r.status, ms[i],
                    resp_header(&r, "X-Backend") ? "backend" : first_line(r.body));
            resp_free(&r);
            done[i] = true;
            left--;
        }
    }
    for (int i = 0; i < n; i++)
        client_close(c[i]);
}

static struct e2e_proc *inflight_drover(int *dp, const char *extra)
{
    int bp = e2e_free_port();

    *dp = e2e_free_port();
    e2e_backend("a", bp);
    return e2e_drover(config(*dp, e2e_fmt("%sroutes:\n  - path: /\n    max_inflight: 1\n"
                                          "    backends: [127.0.0.1:%d]\n",
                                          extra, bp)),
                      addr_of(*dp));
}

E2E_TEST(max_inflight_queues_the_second, 30)
{
    int dp, status[2];
    long long ms[2];
    struct e2e_proc *d = inflight_drover(&dp, "");

    concurrent(addr_of(dp), 2, "GET /?delay=300 HTTP/1.1\r\nHost: t\r\n\r\n", status, ms);
    ASSERT(status[0] == 200 && status[1] == 200, "got %d and %d", status[0], status[1]);
    ASSERT((ms[0] > ms[1] ? ms[0] : ms[1]) >= 550,
           "the second finished after %lldms: it did not wait for the first",
           ms[0] > ms[1] ? ms[0] : ms[1]);
    e2e_drover_stop(d);
}

E2E_TEST(queue_timeout_503, 30)
{
    int dp, status[2];
    long long ms[2];
    struct e2e_proc *d = inflight_drover(&dp, "timeouts:\n  queue: 100ms\n");
    int q;

    concurrent(addr_of(dp), 2, "GET /?delay=300 HTTP/1.1\r\nHost: t\r\n\r\n", status, ms);
    q = status[0] == 503 ? 0 : 1;
    ASSERT(status[q] == 503 && status[1 - q] == 200, "got %d and %d, want one 200 and one 503",
           status[0], status[1]);
    ASSERT(ms[q] >= 80 && ms[q] <= 400, "503 after %lldms (timeouts.queue 100ms)", ms[q]);
    e2e_drover_stop(d);
}

E2E_TEST(max_queue_full_503_at_once, 30)
{
    int dp, status[3], n503 = 0, n200 = 0;
    long long ms[3], fast = 0;
    struct e2e_proc *d = inflight_drover(&dp, "limits:\n  max_queue: 1\n");

    concurrent(addr_of(dp), 3, "GET /?delay=1500 HTTP/1.1\r\nHost: t\r\n\r\n", status, ms);
    for (int i = 0; i < 3; i++) {
        n503 += status[i] == 503;
        n200 += status[i] == 200;
        if (status[i] == 503)
            fast = ms[i];
    }
    ASSERT(n503 == 1 && n200 == 2, "got %d, %d, %d: want two 200 and one 503", status[0],
           status[1], status[2]);
    /* At once: long before the requests ahead of it (1.5 s) are done. */
    ASSERT(fast < 1000, "the 503 for a full queue took %lldms", fast);
    e2e_drover_stop(d);
}

/* ---- workers ---- */

E2E_TEST(two_workers_even_spread, 60)
{
    int bp[3] = {e2e_free_port(), e2e_free_port(), e2e_free_port()}, dp = e2e_free_port();
    const char *names[3] = {"a", "b", "c"};
    long count[3] = {0, 0, 0};
    struct e2e_proc *d;
    struct client *c[8];

    for (int i = 0; i < 3; i++)
        e2e_backend(names[i], bp[i]);
    d = e2e_drover(config(dp, e2e_fmt("workers: 2\nbalance: round_robin\n"
                                      "routes:\n  - path: /\n"
                                      "    backends: [127.0.0.1:%d, 127.0.0.1:%d, 127.0.0.1:%d]\n",
                                      bp[0], bp[1], bp[2])),
                   addr_of(dp));
    /* Two event loops: the main thread's and one thread of its own (the
     * port accepts a moment before the thread is there). */
    for (long long t0 = e2e_now_ms();; e2e_sleep_ms(20)) {
        char *tasks = e2e_fmt("/proc/%d/task", (int)d->pid);
        int n = 0;
        DIR *dir = opendir(tasks);

        for (struct dirent *de; dir != NULL && (de = readdir(dir)) != NULL;)
            n += de->d_name[0] != '.';
        if (dir != NULL)
            closedir(dir);
        if (n == 2)
            break;
        ASSERT(n < 2 && e2e_now_ms() - t0 < 3000, "drover runs %d threads with workers: 2", n);
    }
    for (int i = 0; i < 8; i++)
        c[i] = client_open(addr_of(dp));
    for (int round = 0; round < 250; round++) {
        for (int i = 0; i < 8; i++)
            client_send_str(c[i], GET_OK);
        for (int i = 0; i < 8; i++) {
            struct http_resp r;
            const char *be;

            ASSERT(client_read(c[i], &r, false, 5000) == 0, "round %d client %d: no response",
                   round, i);
            ASSERT(r.status == 200, "round %d: %d", round, r.status);
            be = resp_header(&r, "X-Backend");
            for (int k = 0; k < 3; k++)
                if (be != NULL && strcmp(be, names[k]) == 0)
                    count[k]++;
            resp_free(&r);
        }
    }
    for (int i = 0; i < 8; i++)
        client_close(c[i]);
    e2e_log("spread over 2 workers: a=%ld b=%ld c=%ld", count[0], count[1], count[2]);
    ASSERT(count[0] + count[1] + count[2] == 2000);
    for (int k = 0; k < 3; k++)
        ASSERT(count[k] >= 633 && count[k] <= 700, "backend %s got %ld of 2000 (not within 5%%)",
               names[k], count[k]);
    e2e_drover_stop(d);
}
