/* processes.TYPE.cpu and memory_max: each instance of such a type runs in
 * a cgroup of its own (lib/cgroup.c), made at spawn and joined by the
 * child before it execs the shim, so the app and everything it starts
 * are limited; read when the instance exits (did the kernel kill it for
 * memory?) and removed once its processes are gone. */
#include "supervisor/proc.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "conf/config.h"
#include "lib/cgroup.h"
#include "lib/log.h"

/* A cgroup whose processes were not all gone when its instance ended. */
struct cgroup_left {
    struct cgroup cg;
    char name[64];
    double until;               /* given up on (and said so) after this */
    struct cgroup_left *next;
};

#define LEFT_PATIENCE 30.0

static struct cgroup_limits limits_of(const struct conf_process *s)
{
    return (struct cgroup_limits){s->cpu_milli, s->memory_max};
}

/* The controllers plan's types ask for; false when none does. */
static bool needs(const struct plan *plan, bool need[CGROUP_NCTL], const char **who)
{
    bool any = false;

    need[CGROUP_CPU] = need[CGROUP_MEMORY] = false;
    for (size_t i = 0; i < plan->ntypes; i++) {
        const struct conf_process *s = &plan->types[i].settings;

        if (s->cpu_milli > 0 || s->memory_max > 0) {
            if (!any)
                *who = plan->types[i].name;
            any = true;
        }
        need[CGROUP_CPU] = need[CGROUP_CPU] || s->cpu_milli > 0;
        need[CGROUP_MEMORY] = need[CGROUP_MEMORY] || s->memory_max > 0;
    }
    return any;
}

int supervisor_check_limits(const struct plan *plan, char *err, size_t errlen)
{
    bool need[CGROUP_NCTL];
    const char *who = NULL;
    char why[2048];

    if (!needs(plan, need, &who) || cgroup_can_make("", need, why, sizeof(why)) == 0)
        return 0;
    snprintf(err, errlen, "processes.%s asks for cpu or memory_max limits, but %s", who, why);
    return -1;
}

int supervisor_prepare_limits(struct supervisor *sv, const struct plan *plan, char *err, size_t errlen)
{
    bool need[CGROUP_NCTL];
    const char *who = NULL;
    char why[2048];

    if (plan == NULL)
        plan = &sv->hold->plan;
    if (!needs(plan, need, &who))
        return 0;
    if (sv->cgroups == NULL) {
        if ((sv->cgroups = malloc(sizeof(*sv->cgroups))) == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        cgroup_base_init(sv->cgroups, "");
    }
    if (cgroup_base_open(sv->cgroups, need, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "processes.%s asks for cpu or memory_max limits, but %s", who, why);
        return -1;
    }
    return 0;
}

int limits_create(struct instance *in, char *err, size_t errlen)
{
    struct supervisor *sv = in->type->sv;
    struct cgroup_limits l = limits_of(&in->type->pt->settings);
    char name[96];

    if (l.cpu_milli == 0 && l.memory_max == 0)
        return 0;
    if (sv->cgroups == NULL) {
        snprintf(err, errlen, "no cgroups were prepared for its limits");
        return -1;
    }
    if ((in->cg = malloc(sizeof(*in->cg))) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(name, sizeof(name), "%s-%llu", in->name, ++sv->cgroup_seq);
    if (cgroup_create(sv->cgroups, name, &l, in->cg, err, errlen) < 0) {
        free(in->cg);
        in->cg = NULL;
        return -1;
    }
    return 0;
}

static void left_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct supervisor *sv = t->data;
    double now = ev_now(loop);

    (void)revents;
    for (struct cgroup_left **p = &sv->cgroups_left; *p != NULL;) {
        struct cgroup_left *l = *p;

        if (cgroup_remove(&l->cg) == 0 || now >= l->until) {
            if (l->cg.n > 0)
                log_warn("%s: its cgroup %s still has processes after %.0fs: left in place", l->name,
                         l->cg.d[l->cg.n - 1].path, LEFT_PATIENCE);
            *p = l->next;
            free(l);
        } else {
            p = &l->next;
        }
    }
    if (sv->cgroups_left == NULL)
        ev_timer_stop(loop, t);
}

void limits_release(struct instance *in)
{
    struct supervisor *sv = in->type->sv;
    struct cgroup_left *l;

    if (in->cg == NULL)
        return;
    if (cgroup_remove(in->cg) == 0 || (l = calloc(1, sizeof(*l))) == NULL) {
        free(in->cg);
        in->cg = NULL;
        return;
    }
    l->cg = *in->cg;
    snprintf(l->name, sizeof(l->name), "%s", in->name);
    l->until = ev_now(sv->loop) + LEFT_PATIENCE;
    l->next = sv->cgroups_left;
    sv->cgroups_left = l;
    free(in->cg);
    in->cg = NULL;
    if (!ev_is_active(&sv->cgroups_timer))
        ev_timer_start(sv->loop, &sv->cgroups_timer);
}

void limits_exited(struct instance *in, int status, char *how, size_t len)
{
    unsigned long long kills = in->cg != NULL ? cgroup_oom_kills(in->cg) : 0;
    char size[32], was[128];

    if (kills > 0) {
        conf_format_size(in->cg->memory_max, size, sizeof(size));
        if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
            snprintf(how, len, "killed by the memory limit (%s)", size);
        } else {
            snprintf(was, sizeof(was), "%s", how);
            snprintf(how, len, "%s (the memory limit (%s) killed %llu of its processes)", was, size, kills);
        }
    }
    limits_release(in);
}

void limits_init(struct supervisor *sv)
{
    ev_timer_init(&sv->cgroups_timer, left_cb, LIMITS_RETRY, LIMITS_RETRY);
    sv->cgroups_timer.data = sv;
}

void limits_free(struct supervisor *sv)
{
    for (struct ptype *t = sv->types; t != NULL; t = t->next)
        for (struct instance *in = t->instances; in != NULL; in = in->next)
            limits_release(in);
    while (sv->cgroups_left != NULL) {
        struct cgroup_left *l = sv->cgroups_left;

        /* At exit: a moment for the kernel to let go of the last ones. */
        for (int i = 0; i < 40 && cgroup_remove(&l->cg) < 0 && errno == EBUSY; i++)
            nanosleep(&(struct timespec){0, 25 * 1000 * 1000}, NULL);
        if (l->cg.n > 0)
            log_warn("%s: cannot remove its cgroup %s: %s", l->name, l->cg.d[l->cg.n - 1].path,
                     strerror(errno));
        sv->cgroups_left = l->next;
        free(l);
    }
    ev_timer_stop(sv->loop, &sv->cgroups_timer);
    if (sv->cgroups != NULL)
        cgroup_base_close(sv->cgroups);
    free(sv->cgroups);
    sv->cgroups = NULL;
}
