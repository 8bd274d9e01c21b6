/* The ready probe of a routed instance: probed every PROBE_FIRST at first,
 * backing off to PROBE_MAX, until it answers (ready.path: GET path on
 * 127.0.0.1:PORT answering 2xx/3xx; without a path: a TCP connect). The
 * ready.timeout deadline is proc.c's. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>

#include "supervisor/proc.h"

#define PROBE_FIRST 0.05
#define PROBE_MAX 0.5

static void probe_done(struct probe *p, bool ok, const char *why)
{
    struct instance *in = p->data;

    (void)why;
    if (ok) {
        ready_stop(in);
        instance_ready(in);
        return;
    }
    ev_timer_set(&in->probe_timer, in->probe_delay, 0.);
    ev_timer_start(in->type->sv->loop, &in->probe_timer);
    in->probe_delay *= 2;
    if (in->probe_delay > PROBE_MAX)
        in->probe_delay = PROBE_MAX;
}

static void probe_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct instance *in = t->data;
    struct sockaddr_in sin = {.sin_family = AF_INET};
    char host[32];

    (void)loop;
    (void)revents;
    sin.sin_port = htons((uint16_t)in->port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    snprintf(host, sizeof(host), "127.0.0.1:%d", in->port);
    probe_run(&in->probe, (struct sockaddr *)&sin, sizeof(sin),
              in->type->pt->settings.ready_path, host, "drover-ready", 0, NULL);
}

void ready_init(struct instance *in)
{
    probe_init(&in->probe, in->type->sv->loop, probe_done, in);
    ev_init(&in->probe_timer, probe_timer_cb);
    in->probe_timer.data = in;
}

void ready_start(struct instance *in)
{
    ready_stop(in);
    in->probe_delay = PROBE_FIRST;
    ev_timer_set(&in->probe_timer, in->probe_delay, 0.);
    ev_timer_start(in->type->sv->loop, &in->probe_timer);
}

void ready_stop(struct instance *in)
{
    ev_timer_stop(in->type->sv->loop, &in->probe_timer);
    probe_cancel(&in->probe);
}
