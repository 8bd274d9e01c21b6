/* What a request costs drover in system calls, counted by strace attached
 * to the real binary: the budget of the accept/close path. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/e2e/http11.h"

#define CLOSE_REQUESTS 200

/* The calls column of syscall name in an `strace -c` table (0 if absent). */
static long strace_calls(const char *table, const char *name)
{
    for (const char *line = table; line != NULL && *line != '\0';) {
        const char *end = strchr(line, '\n');
        size_t len = end != NULL ? (size_t)(end - line) : strlen(line);
        char buf[256], *tok, *save, *fields[8];
        int n = 0;

        snprintf(buf, sizeof(buf), "%.*s", (int)len, line);
        for (tok = strtok_r(buf, " ", &save); tok != NULL && n < 8; tok = strtok_r(NULL, " ", &save))
            fields[n++] = tok;
        if (n >= 5 && strcmp(fields[n - 1], name) == 0)
            return atol(fields[3]);
        line = end != NULL ? end + 1 : NULL;
    }
    return 0;
}

/* Connection: close clients answered quickly: the accepted socket is read
 * at once (no epoll registration) and inherits TCP_NODELAY from the
 * listener (no setsockopt). Before: one epoll_ctl and one setsockopt each. */
E2E_TEST(close_path_needs_no_epoll_registration_or_setsockopt, 60)
{
    int bp, dp;
    struct e2e_proc *d = one_backend(&bp, &dp, "");
    char *out = e2e_fmt("%s/strace.txt", e2e_dir()), *pid = e2e_fmt("%d", (int)d->pid);
    char *argv[] = {"/usr/bin/strace", "-f", "-c", "-e", "trace=epoll_ctl,setsockopt,accept4",
                    "-o", out, "-p", pid, NULL};
    struct http_resp r;
    struct e2e_proc *s;
    char *table = NULL;
    long epoll_ctl, setsockopt_, accepts;

    http_exchange(addr_of(dp), "GET / HTTP/1.1\r\nHost: t\r\n\r\n", &r, 3000); /* pools a connection */
    ASSERT(r.status == 200, "warm-up: %d", r.status);
    resp_free(&r);
    s = e2e_spawn("strace", argv, NULL);
    e2e_sleep_ms(500); /* attached */
    for (int i = 0; i < CLOSE_REQUESTS; i++) {
        http_exchange(addr_of(dp), "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", &r, 3000);
        ASSERT(r.status == 200, "request %d: %d", i, r.status);
        resp_free(&r);
    }
    e2e_stop(s, SIGINT, 5000);
    for (long long t = e2e_now_ms(); (table = e2e_read_file(out, NULL)) == NULL || strstr(table, "total") == NULL;
         e2e_sleep_ms(50)) {
        ASSERT(e2e_now_ms() - t < 3000, "no strace table in %s", out);
        free(table);
    }
    epoll_ctl = strace_calls(table, "epoll_ctl");
    setsockopt_ = strace_calls(table, "setsockopt");
    accepts = strace_calls(table, "accept4");
    e2e_log("%d requests: %ld accept4, %ld epoll_ctl, %ld setsockopt", CLOSE_REQUESTS, accepts, epoll_ctl,
            setsockopt_);
    ASSERT(accepts >= CLOSE_REQUESTS, "strace saw %ld accepts of %d: %s", accepts, CLOSE_REQUESTS, table);
    /* A slow answer (over 10 ms: a loaded machine, the sanitizers) may
     * still register its client; most must not. */
    ASSERT(epoll_ctl < CLOSE_REQUESTS / 4, "%ld epoll_ctl for %d requests", epoll_ctl, CLOSE_REQUESTS);
    ASSERT(setsockopt_ < CLOSE_REQUESTS / 10, "%ld setsockopt for %d requests", setsockopt_, CLOSE_REQUESTS);
    free(table);
    e2e_drover_stop(d);
}
