/* router/resolver.c against a real dnsmasq on a loopback port: answers
 * handed over sorted, changes followed within resolver.refresh, names
 * dropped from the config handed over as none. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf/config.h"
#include "router/resolver.h"
#include "tests/unit/spin.h"

#define DNSMASQ "/usr/sbin/dnsmasq"

static struct ev_loop *loop;
static pid_t dns_pid = -1;
static char dir[] = "/tmp/drover-resolver-XXXXXX";
static char hosts[64];
static int dns_port;
static int calls;
static char last_key[128], last[512];

static void on_members(void *ctx, const char *key, const struct conf_addr *m, size_t n)
{
    (void)ctx;
    calls++;
    snprintf(last_key, sizeof(last_key), "%s", key);
    last[0] = '\0';
    for (size_t i = 0; i < n; i++)
        snprintf(last + strlen(last), sizeof(last) - strlen(last), "%s%s", i > 0 ? " " : "", m[i].text);
}

static void write_hosts(const char *text)
{
    FILE *f = fopen(hosts, "w");

    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

static void setup(void)
{
    char port[32], addn[96];

    cr_assert_not_null(mkdtemp(dir));
    snprintf(hosts, sizeof(hosts), "%s/hosts", dir);
    write_hosts("127.0.0.3 a.test\n127.0.0.2 a.test\n");
    dns_port = 20000 + (int)(getpid() % 20000);
    snprintf(port, sizeof(port), "--port=%d", dns_port);
    snprintf(addn, sizeof(addn), "--addn-hosts=%s", hosts);
    dns_pid = fork();
    cr_assert_geq(dns_pid, 0);
    if (dns_pid == 0) {
        execl(DNSMASQ, DNSMASQ, "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv",
              "--no-hosts", addn, "--listen-address=127.0.0.1", "--bind-interfaces", port,
              "--local-ttl=1", "--user=root", "--pid-file", "--log-facility=/dev/null", (char *)NULL);
        _exit(127);
    }
    usleep(300000);
    loop = ev_loop_new(EVFLAG_AUTO);
}

static void teardown(void)
{
    if (dns_pid > 0) {
        kill(dns_pid, SIGTERM);
        waitpid(dns_pid, NULL, 0);
    }
    unlink(hosts);
    rmdir(dir);
    if (loop != NULL)
        ev_loop_destroy(loop);
}

TestSuite(resolver, .init = setup, .fini = teardown, .timeout = 20);

static bool called(void)
{
    return calls > 0;
}

static int want_calls;
static bool called_again(void)
{
    return calls >= want_calls;
}

/* A config with one route whose backends are these DNS entries. */
static struct conf *conf_with(const char *entries)
{
    char path[96], yaml[512], err[2048];
    FILE *f;
    struct conf *c;

    snprintf(path, sizeof(path), "%s/drover.yaml", dir);
    snprintf(yaml, sizeof(yaml),
             "resolver:\n  servers: [127.0.0.1:%d]\n  refresh: {min: 100ms, max: 300ms}\n"
             "routes:\n  - path: /\n    backends: [%s]\n",
             dns_port, entries);
    f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(yaml, f);
    fclose(f);
    c = conf_load(path, err, sizeof(err));
    unlink(path);
    cr_assert_not_null(c, "%s", err);
    return c;
}

Test(resolver, answers_sorted_then_changes_then_dropped)
{
    char err[256];
    struct conf *c = conf_with("dns:a.test:8080"), *none;
    struct resolver *res;

    if (access(DNSMASQ, X_OK) != 0)
        cr_skip_test("dnsmasq is not installed");
    res = resolver_new(loop, on_members, NULL, err, sizeof(err));
    cr_assert_not_null(res, "%s", err);
    cr_assert_eq(resolver_sync(res, c, err, sizeof(err)), 0, "%s", err);
    cr_assert(spin_until(loop, 5, called));
    cr_assert_str_eq(last_key, "dns:a.test:8080");
    cr_assert_str_eq(last, "127.0.0.2:8080 127.0.0.3:8080");
    /* The same answer again is not handed over; a changed one is, within
     * refresh.max after dnsmasq re-reads its hosts. */
    write_hosts("127.0.0.2 a.test\n");
    kill(dns_pid, SIGHUP);
    want_calls = 2;
    cr_assert(spin_until(loop, 5, called_again));
    cr_assert_str_eq(last, "127.0.0.2:8080");
    /* Out of the config: its members are handed over as none. */
    none = conf_with("127.0.0.1:9");
    want_calls = 3;
    cr_assert_eq(resolver_sync(res, none, err, sizeof(err)), 0);
    cr_assert(called_again());
    cr_assert_str_eq(last, "");
    resolver_free(res);
    conf_free(c);
    conf_free(none);
}

Test(resolver, a_name_that_does_not_resolve_hands_nothing_over)
{
    char err[256];
    struct conf *c = conf_with("dns:nowhere.test:80");
    struct resolver *res;

    if (access(DNSMASQ, X_OK) != 0)
        cr_skip_test("dnsmasq is not installed");
    res = resolver_new(loop, on_members, NULL, err, sizeof(err));
    cr_assert_not_null(res);
    cr_assert_eq(resolver_sync(res, c, err, sizeof(err)), 0);
    spin_until(loop, 1, called);
    cr_assert_eq(calls, 0, "members for a name with no answer: %s", last);
    resolver_free(res);
    conf_free(c);
}
