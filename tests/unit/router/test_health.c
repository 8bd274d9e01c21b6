/* Active health checks (router/health.c) against real listeners on
 * loopback: a failing backend goes down after `fall` checks, and a check
 * that fails for drover's own shortage of descriptors counts for nothing. */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ev.h>

#include "conf/config.h"
#include "router/backend.h"
#include "router/health.h"

static struct ev_loop *loop;
static struct backend_registry reg;
static struct health *h;
static struct conf *conf;

/* A listener on 127.0.0.1 that completes handshakes and never reads: a TCP
 * check passes. Returns its port; *fd keeps it. */
static int tcp_listener(int *fd)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sin);

    *fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(*fd >= 0);
    cr_assert_eq(bind(*fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    cr_assert_eq(listen(*fd, 64), 0);
    cr_assert_eq(getsockname(*fd, (struct sockaddr *)&sin, &len), 0);
    return ntohs(sin.sin_port);
}

static struct backend *backend_at(int port)
{
    struct conf_addr addr;
    char err[256], text[32];

    snprintf(text, sizeof(text), "127.0.0.1:%d", port);
    cr_assert_eq(conf_parse_addr(text, &addr, err, sizeof(err)), 0, "%s", err);
    return backend_registry_static(&reg, &addr, 0);
}

/* health: TCP checks every 20ms, 100ms to answer, down after 2 failures. */
static void setup(void)
{
    char err[512];

    loop = ev_loop_new(EVFLAG_AUTO);
    conf = conf_default(".", err, sizeof(err));
    cr_assert_not_null(conf, "%s", err);
    conf->health.interval_ms = 20;
    conf->health.timeout_ms = 100;
    conf->health.fall = 2;
    conf->health.rise = 2;
    backend_registry_init(&reg, 1);
    h = health_new(loop);
    cr_assert_not_null(h);
}

static void teardown(void)
{
    health_free(h);
    backend_registry_clear(&reg);
    conf_free(conf);
    ev_loop_destroy(loop);
}

static void run_for(double seconds)
{
    ev_tstamp end = ev_time() + seconds;

    while (ev_time() < end)
        ev_run(loop, EVRUN_ONCE);
}

/* Keeps the loop turning with a short timer so run_for never blocks long. */
static void tick_cb(struct ev_loop *l, ev_timer *t, int revents)
{
    (void)l;
    (void)t;
    (void)revents;
}

TestSuite(health, .init = setup, .fini = teardown);

Test(health, a_backend_that_refuses_goes_down_and_one_that_listens_stays_up)
{
    int lfd, port = tcp_listener(&lfd), closed_fd, closed = tcp_listener(&closed_fd);
    struct backend *good = backend_at(port), *bad;
    ev_timer tick;

    close(closed_fd); /* nobody listens there now */
    bad = backend_at(closed);
    ev_timer_init(&tick, tick_cb, 0.01, 0.01);
    ev_timer_start(loop, &tick);
    health_sync(h, &reg, conf);
    run_for(0.5);
    cr_assert(atomic_load(&good->up), "a listening backend was marked down");
    cr_assert(!atomic_load(&bad->up), "a refusing backend stayed up");
    ev_timer_stop(loop, &tick);
    close(lfd);
}

Test(health, out_of_descriptors_a_check_counts_against_nobody)
{
    int closed_fd, closed = tcp_listener(&closed_fd);
    struct backend *bad;
    struct rlimit rl, tight;
    ev_timer tick;
    int fd;

    close(closed_fd);
    bad = backend_at(closed); /* would go down if its checks ran */
    ev_timer_init(&tick, tick_cb, 0.01, 0.01);
    ev_timer_start(loop, &tick);
    health_sync(h, &reg, conf);
    /* Every descriptor taken: each check's socket() fails with EMFILE. */
    cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    fd = dup(0);
    cr_assert(fd >= 0);
    tight.rlim_cur = (rlim_t)fd + 1;
    tight.rlim_max = rl.rlim_max;
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &tight), 0);
    while (dup(0) >= 0) {
    }
    run_for(0.5);
    cr_assert(atomic_load(&bad->up), "drover's own EMFILE marked a backend down");
    /* With descriptors again, its checks fail for real. */
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
    run_for(0.5);
    cr_assert(!atomic_load(&bad->up), "the backend's own failures were not counted either");
    ev_timer_stop(loop, &tick);
}
