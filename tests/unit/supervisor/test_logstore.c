/* supervisor/logstore: many instances' rings read back merged in the order
 * the lines came, filtered; followers told before lines they have not
 * taken are dropped, and marked lost when they do not take them. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "supervisor/logstore.h"

static struct logstore *s;
static char got[8192];

static void setup(void)
{
    s = logstore_new(3, 1 << 20);
    got[0] = '\0';
}

static void teardown(void)
{
    logstore_free(s);
}

TestSuite(logstore, .init = setup, .fini = teardown);

static void say(const char *name, const char *type, const char *text)
{
    logstore_push(s, logstore_source(s, name, type), LOG_STDOUT, 0, text, strlen(text));
}

/* Appends "instance:text " for every line taken. */
static bool take_all(void *ctx, const struct logview *l)
{
    (void)ctx;
    snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s:%.*s ", l->instance, (int)l->len,
             l->text);
    return true;
}

static const char *read_from(const struct logfilter *f, uint64_t cursor)
{
    got[0] = '\0';
    logstore_read(s, f, &cursor, take_all, NULL);
    return got;
}

Test(logstore, lines_of_many_instances_merge_in_arrival_order)
{
    say("web.1", "web", "a");
    say("worker.1", "worker", "b");
    say("web.2", "web", "c");
    say("web.1", "web", "d");
    cr_assert_str_eq(read_from(NULL, 0), "web.1:a worker.1:b web.2:c web.1:d ");
    cr_assert_str_eq(read_from(NULL, 2), "web.2:c web.1:d ", "after the second line");
    cr_assert_eq(logstore_last_seq(s), 4);
}

Test(logstore, filters_by_type_or_instance)
{
    const char *web[] = {"web"}, *w1[] = {"worker.1"};
    struct logfilter types = {web, 1, NULL, 0}, either = {web, 1, w1, 1}, inst = {NULL, 0, w1, 1};

    say("web.1", "web", "a");
    say("worker.1", "worker", "b");
    say("web.2", "web", "c");
    say("clock.1", "clock", "d");
    cr_assert_str_eq(read_from(&types, 0), "web.1:a web.2:c ");
    cr_assert_str_eq(read_from(&inst, 0), "worker.1:b ");
    cr_assert_str_eq(read_from(&either, 0), "web.1:a worker.1:b web.2:c ");
    cr_assert(logstore_knows(s, "clock"));
    cr_assert(logstore_knows(s, "clock.1"));
    cr_assert_not(logstore_knows(s, "clock.2"));
}

/* The last n lines are counted among those the filter keeps, across
 * rings, whatever each ring holds. */
Test(logstore, tail_start_gives_the_last_n_matching_lines)
{
    const char *web[] = {"web"};
    struct logfilter f = {web, 1, NULL, 0};

    say("web.1", "web", "a");
    say("worker.1", "worker", "b");
    say("web.2", "web", "c");
    say("worker.1", "worker", "d");
    say("web.1", "web", "e");
    cr_assert_str_eq(read_from(&f, logstore_tail_start(s, &f, 2)), "web.2:c web.1:e ");
    cr_assert_str_eq(read_from(NULL, logstore_tail_start(s, NULL, 3)), "web.2:c worker.1:d web.1:e ");
    cr_assert_str_eq(read_from(NULL, logstore_tail_start(s, NULL, 100)),
                     "web.1:a worker.1:b web.2:c worker.1:d web.1:e ");
    cr_assert_str_eq(read_from(NULL, logstore_tail_start(s, NULL, 0)), "");
}

Test(logstore, a_reused_slot_starts_empty)
{
    say("web.1", "web", "old");
    logstore_reuse(s, "web.1");
    say("web.1", "web", "new");
    cr_assert_str_eq(read_from(NULL, 0), "web.1:new ");
}

/* A follower that takes what it is told to take misses nothing; one that
 * does not is lost. */
struct follower {
    struct logwatch w;
    int news, urgents, ends;
    bool takes;
};

static void on_event(struct logwatch *w, enum logwatch_event ev)
{
    struct follower *f = (struct follower *)w;

    if (ev == LOGWATCH_NEW)
        f->news++;
    else if (ev == LOGWATCH_END)
        f->ends++;
    else if (++f->urgents && f->takes)
        logstore_read(s, w->filter, &w->cursor, take_all, NULL);
}

Test(logstore, followers_take_lines_before_they_go_or_are_lost)
{
    struct follower fast = {.w = {.event = on_event}, .takes = true};
    struct follower slow = {.w = {.event = on_event}, .takes = false};
    const char *web[] = {"web"};
    struct logfilter only_web = {web, 1, NULL, 0};
    struct follower other = {.w = {.filter = &only_web, .event = on_event}};

    logstore_watch(s, &fast.w);
    logstore_watch(s, &slow.w);
    logstore_watch(s, &other.w);
    for (int i = 0; i < 3; i++)
        say("worker.1", "worker", "x");
    cr_assert_eq(fast.news, 3);
    cr_assert_eq(fast.urgents, 0, "nothing dropped yet (keep 3)");
    cr_assert_eq(other.news, 0, "not its lines");
    say("worker.1", "worker", "y");
    cr_assert_eq(fast.urgents, 1);
    cr_assert_not(fast.w.lost);
    cr_assert_eq(fast.w.cursor, 3, "took the three before the fourth came");
    cr_assert(slow.w.lost, "it had not taken line 1 when it went");
    cr_assert_eq(slow.news, 3, "a lost follower hears no more");
    cr_assert_eq(other.urgents, 0);
    cr_assert_not(other.w.lost);
    logstore_unwatch(s, &slow.w);
    logstore_unwatch(s, &other.w);
    teardown();
    cr_assert_eq(fast.ends, 1, "told when the store goes");
    s = logstore_new(1, 1);
}

Test(logstore, new_limits_reach_every_ring)
{
    say("web.1", "web", "a");
    say("web.1", "web", "b");
    say("web.2", "web", "c");
    logstore_set_limits(s, 1, 1 << 20);
    cr_assert_str_eq(read_from(NULL, 0), "web.1:b web.2:c ");
    cr_assert_gt(logstore_footprint(s), 0);
}
