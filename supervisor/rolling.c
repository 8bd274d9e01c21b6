/* Replacing instances without dropping a request: a replacement starts on a
 * free slot, and only once it is ready (and in the pools) is the old one
 * retired (out of the pools, its requests finish, then stopped). A rolling
 * restart does this for every instance of a type, ceil(N/4) at a time; a
 * replacement that never becomes ready leaves the old one serving. */
#include "supervisor/proc.h"

#include "lib/log.h"

struct instance *rolling_replace(struct instance *old)
{
    struct ptype *t = old->type;
    struct instance *fresh = instance_new(t, supervisor_free_slot(t));

    if (fresh == NULL)
        return NULL;
    fresh->replaces = old;
    old->being_replaced = true;
    old->roll = false;
    instance_spawn(fresh);
    /* Not routed: nothing to wait for. */
    if (fresh->state == INST_UP)
        rolling_ready(fresh);
    return fresh;
}

void rolling_ready(struct instance *in)
{
    struct instance *old = in->replaces;
    struct ptype *t = in->type;

    if (old == NULL)
        return;
    in->replaces = NULL;
    log_info("%s replaced by %s: stopping it", old->name, in->name);
    instance_retire(old);
    rolling_step(t);
}

void rolling_abandoned(struct instance *in)
{
    struct instance *old = in->replaces;

    in->replaces = NULL;
    old->being_replaced = false;
    old->roll = old->type->rolling && !old->retire;
}

void rolling_start(struct ptype *t)
{
    unsigned n = 0;

    for (struct instance *in = t->instances; in != NULL; in = in->next) {
        if (in->retire || in->being_replaced || in->replaces != NULL)
            continue;
        in->roll = true;
        n++;
    }
    t->rolling = true;
    t->generation++;
    t->roll_batch = n < 4 ? 1 : (n + 3) / 4;
    log_info("%s: rolling restart of %u instance%s, %u at a time", t->pt->name, n,
             n == 1 ? "" : "s", t->roll_batch);
    rolling_step(t);
}

void rolling_step(struct ptype *t)
{
    unsigned busy = 0;
    bool left = false;

    if (!t->rolling || t->sv->stopping || t->stepping)
        return;
    t->stepping = true;
    for (struct instance *in = t->instances; in != NULL; in = in->next)
        busy += in->replaces != NULL;
    for (struct instance *in = t->instances, *next; in != NULL && busy < t->roll_batch; in = next) {
        next = in->next;
        if (!in->roll || in->being_replaced || in->retire)
            continue;
        if (in->pid <= 0) {
            /* Backing off: its next start runs the new command anyway. */
            in->roll = false;
            continue;
        }
        if (rolling_replace(in) != NULL)
            busy++;
        next = t->instances; /* the list changed: look again from the start */
    }
    t->stepping = false;
    for (struct instance *in = t->instances; in != NULL; in = in->next)
        left = left || in->roll || in->replaces != NULL;
    if (!left) {
        t->rolling = false;
        log_info("%s: rolling restart done", t->pt->name);
    }
}
