/* Backends found by DNS, against a real dnsmasq on a loopback port: the
 * members of "dns:NAME:PORT" follow its hosts file (changed and re-read
 * with SIGHUP) under load without a failed request, "srv:NAME" follows its
 * SRV records, and a name that stops resolving keeps its last answer for
 * resolver.hold. The backends listen on 127.0.0.2, 127.0.0.3 ... */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/e2e/http11.h"

#define DNSMASQ "/usr/sbin/dnsmasq"

static bool have_dnsmasq(void)
{
    if (access(DNSMASQ, X_OK) == 0)
        return true;
    e2e_log("SKIP: %s is not installed (scripts/deps.sh installs dnsmasq-base)", DNSMASQ);
    return false;
}

/* dnsmasq on 127.0.0.1:port answering from hosts (TTL 1s) and the extra
 * config lines (srv-host=...), nothing else. */
static struct e2e_proc *dnsmasq(int port, const char *hosts, const char *extra)
{
    char *hosts_file = e2e_write_file("hosts", hosts);
    char *conf = e2e_write_file("dnsmasq.conf", extra);
    char *argv[] = {DNSMASQ,
                    "--keep-in-foreground",
                    e2e_fmt("--conf-file=%s", conf),
                    "--no-resolv",
                    "--no-hosts",
                    e2e_fmt("--addn-hosts=%s", hosts_file),
                    "--listen-address=127.0.0.1",
                    "--bind-interfaces",
                    e2e_fmt("--port=%d", port),
                    "--local-ttl=1",
                    "--user=root",
                    "--pid-file",
                    "--log-facility=-",
                    NULL};
    struct e2e_proc *p = e2e_spawn("dnsmasq", argv, NULL);

    e2e_sleep_ms(300); /* UDP: nothing to connect to; it binds at once */
    ASSERT(!e2e_exited(p), "dnsmasq exited: see %s", "dnsmasq.log");
    return p;
}

static void rewrite_hosts(struct e2e_proc *dns, const char *hosts)
{
    e2e_write_file("hosts", hosts);
    kill(dns->pid, SIGHUP);
}

/* Waits until GETs through addr have been answered by each of the n names
 * (X-Backend) and by nothing else in the last 20 answers. */
static void until_backends(const char *addr, const char *const *names, int n, int timeout_ms)
{
    long long t0 = e2e_now_ms();

    for (;;) {
        bool seen[8] = {false}, other = false, all = true;

        for (int i = 0; i < 20; i++) {
            struct http_resp r;
            const char *who;
            int k;

            http_get(addr, "/", &r);
            who = r.status == 200 ? resp_header(&r, "X-Backend") : NULL;
            for (k = 0; who != NULL && k < n && strcmp(who, names[k]) != 0; k++)
                ;
            if (who != NULL && k < n)
                seen[k] = true;
            else
                other = true;
            resp_free(&r);
        }
        for (int k = 0; k < n; k++)
            all = all && seen[k];
        if (all && !other)
            return;
        ASSERT(e2e_now_ms() - t0 < timeout_ms, "the answers did not come from exactly the %d expected backends", n);
        e2e_sleep_ms(100);
    }
}

E2E_TEST(dns_members_join_and_leave_under_load, 60)
{
    int dnsp = e2e_free_port(), bp = e2e_free_port(), dp = e2e_free_port(), ap = e2e_free_port();
    struct e2e_proc *dns, *d, *load;
    const char *b2[] = {"b2"}, *b23[] = {"b2", "b3"}, *b3[] = {"b3"};
    struct http_resp r;
    char *log;

    if (!have_dnsmasq())
        return;
    e2e_backend_at("b2", e2e_fmt("127.0.0.2:%d", bp));
    e2e_backend_at("b3", e2e_fmt("127.0.0.3:%d", bp));
    dns = dnsmasq(dnsp, "127.0.0.2 app.test\n", "");
    d = e2e_drover(e2e_fmt("listen: 127.0.0.1:%d\n"
                           "admin:\n  listen: 127.0.0.1:%d\n"
                           "log:\n  access: off\n"
                           "resolver:\n  servers: [127.0.0.1:%d]\n  refresh: {min: 200ms, max: 1s}\n"
                           "routes:\n  - path: /\n    backends: [dns:app.test:%d]\n",
                           dp, ap, dnsp, bp),
                   addr_of(dp));
    until_backends(addr_of(dp), b2, 1, 5000);
    load = e2e_load_start(addr_of(dp), "/", 4, 5000);
    e2e_sleep_ms(300);
    rewrite_hosts(dns, "127.0.0.2 app.test\n127.0.0.3 app.test\n");
    e2e_wait_log(d, e2e_fmt("dns:app.test:%d: 127.0.0.3:%d joined", bp, bp), 5000);
    until_backends(addr_of(dp), b23, 2, 5000);
    rewrite_hosts(dns, "127.0.0.3 app.test\n");
    e2e_wait_log(d, e2e_fmt("dns:app.test:%d: 127.0.0.2:%d left", bp, bp), 5000);
    until_backends(addr_of(dp), b3, 1, 5000);
    e2e_stop(load, 0, 10000);
    e2e_load_assert_clean(load);
    /* The member that stayed kept its backend: it never left and came back. */
    log = e2e_log_of(d);
    ASSERT(strstr(log, e2e_fmt("127.0.0.3:%d left", bp)) == NULL, "b3 was dropped and re-added");
    free(log);
    http_get(addr_of(ap), "/status", &r);
    ASSERT(strstr(r.body, e2e_fmt("\"dns\":\"dns:app.test:%d\"", bp)) != NULL, "/status: %s", r.body);
    resp_free(&r);
    e2e_drover_stop(d);
    e2e_stop(dns, SIGTERM, 3000);
}

/* srv: the targets and ports come from SRV records; only the lowest
 * priority is used. A name that stops resolving keeps its members for
 * resolver.hold, then the route is not ready. */
E2E_TEST(srv_records_and_the_hold_of_a_failing_name, 60)
{
    int dnsp = e2e_free_port(), p2 = e2e_free_port(), p3 = e2e_free_port(), dp = e2e_free_port();
    int ap = e2e_free_port();
    struct e2e_proc *dns, *d;
    const char *both[] = {"s2", "s3"};
    struct http_resp r;
    long long t_gone;

    if (!have_dnsmasq())
        return;
    e2e_backend_at("s2", e2e_fmt("127.0.0.2:%d", p2));
    e2e_backend_at("s3", e2e_fmt("127.0.0.3:%d", p3));
    e2e_backend_at("s4", e2e_fmt("127.0.0.4:%d", p3));
    dns = dnsmasq(dnsp, "127.0.0.2 n2.test\n127.0.0.3 n3.test\n127.0.0.4 n4.test\n",
                  e2e_fmt("srv-host=_http._tcp.app.test,n2.test,%d,10,5\n"
                          "srv-host=_http._tcp.app.test,n3.test,%d,10,5\n"
                          "srv-host=_http._tcp.app.test,n4.test,%d,20,5\n",
                          p2, p3, p3));
    d = e2e_drover(e2e_fmt("listen: 127.0.0.1:%d\n"
                           "admin:\n  listen: 127.0.0.1:%d\n"
                           "log:\n  access: off\n"
                           "resolver:\n  servers: [127.0.0.1:%d]\n  refresh: {min: 200ms, max: 500ms}\n"
                           "  hold: 2s\n"
                           "routes:\n  - path: /\n    backends: [srv:_http._tcp.app.test]\n",
                           dp, ap, dnsp),
                   addr_of(dp));
    until_backends(addr_of(dp), both, 2, 5000);
    /* The DNS server goes away: the members hold for 2s, then leave. */
    e2e_stop(dns, SIGTERM, 3000);
    t_gone = e2e_now_ms();
    e2e_sleep_ms(1000);
    get_ok(client_open(addr_of(dp)), "1s into the hold", 3000);
    e2e_wait_log(d, "srv:_http._tcp.app.test: no answer for", 8000);
    /* The hold counts from the last good answer, which came at most
     * refresh.max (500ms) before dnsmasq went. */
    ASSERT(e2e_now_ms() - t_gone >= 1500, "members left %lldms after the server went, before resolver.hold",
           e2e_now_ms() - t_gone);
    http_get(addr_of(ap), "/ready", &r);
    ASSERT(r.status == 503, "/ready with no member: %d %s", r.status, r.body);
    resp_free(&r);
    http_get(addr_of(dp), "/", &r);
    ASSERT(r.status == 503, "a request with no member: %d", r.status);
    resp_free(&r);
    e2e_drover_stop(d);
}
