/* Every instance's recent output and its followers: see logstore.h. The
 * sources are few (one per instance slot ever used), so they sit in an
 * array searched in order, and reads merge them by seq one line at a time. */
#include "supervisor/logstore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct logstore {
    size_t keep, keep_bytes;
    struct logsrc **srcs;
    size_t nsrcs, cap;
    uint64_t seq;
    struct logwatch *watchers;
    char scratch[LOGSTORE_LINE_MAX];    /* the text of the line being read */
};

static bool in_list(const char *const *list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

bool logfilter_match(const struct logfilter *f, const struct logsrc *src)
{
    if (f == NULL || (f->ntypes == 0 && f->ninstances == 0))
        return true;
    return in_list(f->types, f->ntypes, src->type) ||
           in_list(f->instances, f->ninstances, src->name);
}

struct logstore *logstore_new(size_t keep, size_t keep_bytes)
{
    struct logstore *s = calloc(1, sizeof(*s));

    if (s != NULL) {
        s->keep = keep;
        s->keep_bytes = keep_bytes;
    }
    return s;
}

void logstore_free(struct logstore *s)
{
    if (s == NULL)
        return;
    while (s->watchers != NULL) {
        struct logwatch *w = s->watchers;

        logstore_unwatch(s, w);
        w->event(w, LOGWATCH_END);
    }
    for (size_t i = 0; i < s->nsrcs; i++) {
        logring_free(s->srcs[i]->ring);
        free(s->srcs[i]);
    }
    free(s->srcs);
    free(s);
}

void logstore_set_limits(struct logstore *s, size_t keep, size_t keep_bytes)
{
    s->keep = keep;
    s->keep_bytes = keep_bytes;
    for (size_t i = 0; i < s->nsrcs; i++)
        logring_set_limits(s->srcs[i]->ring, keep, keep_bytes);
}

static struct logsrc *find(const struct logstore *s, const char *name)
{
    for (size_t i = 0; i < s->nsrcs; i++)
        if (strcmp(s->srcs[i]->name, name) == 0)
            return s->srcs[i];
    return NULL;
}

struct logsrc *logstore_source(struct logstore *s, const char *name, const char *type)
{
    struct logsrc *src = find(s, name);

    if (src != NULL) {
        snprintf(src->type, sizeof(src->type), "%s", type);
        return src;
    }
    if (s->nsrcs == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        struct logsrc **srcs = realloc(s->srcs, cap * sizeof(*srcs));

        if (srcs == NULL)
            return NULL;
        s->srcs = srcs;
        s->cap = cap;
    }
    src = calloc(1, sizeof(*src));
    if (src == NULL || (src->ring = logring_new(s->keep, s->keep_bytes)) == NULL) {
        free(src);
        return NULL;
    }
    snprintf(src->name, sizeof(src->name), "%s", name);
    snprintf(src->type, sizeof(src->type), "%s", type);
    s->srcs[s->nsrcs++] = src;
    return src;
}

/* src's lines up to seq drop are about to go: every follower that wants
 * them and has not taken them all may take them now, or has lost some. */
static void before_drop(struct logstore *s, const struct logsrc *src, uint64_t drop)
{
    for (struct logwatch *w = s->watchers; w != NULL; w = w->next) {
        if (w->lost || w->cursor >= drop || !logfilter_match(w->filter, src))
            continue;
        w->event(w, LOGWATCH_URGENT);
        if (w->cursor < drop)
            w->lost = true;
    }
}

void logstore_reuse(struct logstore *s, const char *name)
{
    struct logsrc *src = find(s, name);

    if (src == NULL || logring_count(src->ring) == 0)
        return;
    before_drop(s, src, logring_last_seq(src->ring));
    logring_clear(src->ring);
}

void logstore_push(struct logstore *s, struct logsrc *src, enum log_stream stream, double time,
                   const char *text, size_t len)
{
    uint64_t drop = logring_would_drop(src->ring, len);
    uint64_t seq = ++s->seq;

    if (drop > 0)
        before_drop(s, src, drop);
    logring_push(src->ring, seq, time, stream, text, len);
    for (struct logwatch *w = s->watchers; w != NULL; w = w->next)
        if (!w->lost && logfilter_match(w->filter, src))
            w->event(w, LOGWATCH_NEW);
}

bool logstore_knows(const struct logstore *s, const char *name)
{
    for (size_t i = 0; i < s->nsrcs; i++)
        if (strcmp(s->srcs[i]->name, name) == 0 || strcmp(s->srcs[i]->type, name) == 0)
            return true;
    return false;
}

uint64_t logstore_last_seq(const struct logstore *s)
{
    return s->seq;
}

/* The sources f matches, with a position in each ring: pos[i] of srcs[i].
 * Returns how many (their arrays malloc'd into *srcs and *pos), -1 when
 * out of memory. */
static long matching(const struct logstore *s, const struct logfilter *f, struct logsrc ***srcs,
                     size_t **pos)
{
    size_t n = 0;

    *srcs = malloc((s->nsrcs + 1) * sizeof(**srcs));
    *pos = malloc((s->nsrcs + 1) * sizeof(**pos));
    if (*srcs == NULL || *pos == NULL) {
        free(*srcs);
        free(*pos);
        return -1;
    }
    for (size_t i = 0; i < s->nsrcs; i++)
        if (logfilter_match(f, s->srcs[i]) && logring_count(s->srcs[i]->ring) > 0)
            (*srcs)[n++] = s->srcs[i];
    return (long)n;
}

uint64_t logstore_tail_start(const struct logstore *s, const struct logfilter *f, size_t n)
{
    struct logsrc **srcs;
    size_t *pos;
    long m = matching(s, f, &srcs, &pos);
    uint64_t cursor = 0;

    if (m < 0)
        return s->seq; /* out of memory: nothing of the past */
    for (long i = 0; i < m; i++)
        pos[i] = logring_count(srcs[i]->ring);
    /* Backwards, newest first, n lines. */
    for (size_t taken = 0; taken < n; taken++) {
        long best = -1;
        uint64_t best_seq = 0;

        for (long i = 0; i < m; i++) {
            uint64_t seq;

            if (pos[i] == 0)
                continue;
            seq = logring_line(srcs[i]->ring, pos[i] - 1)->seq;
            if (best < 0 || seq > best_seq) {
                best = i;
                best_seq = seq;
            }
        }
        if (best < 0) {
            cursor = 0;
            break;
        }
        pos[best]--;
        cursor = best_seq - 1;
    }
    if (n == 0)
        cursor = s->seq;
    free(srcs);
    free(pos);
    return cursor;
}

size_t logstore_read(struct logstore *s, const struct logfilter *f, uint64_t *cursor,
                     bool (*take)(void *ctx, const struct logview *l), void *ctx)
{
    struct logsrc **srcs;
    size_t *pos, taken = 0;
    long m = matching(s, f, &srcs, &pos);

    if (m < 0)
        return 0;
    for (long i = 0; i < m; i++)
        pos[i] = logring_after(srcs[i]->ring, *cursor);
    for (;;) {
        long best = -1;
        const struct logline *l, *bl = NULL;
        struct logview v;

        for (long i = 0; i < m; i++) {
            if (pos[i] == logring_count(srcs[i]->ring))
                continue;
            l = logring_line(srcs[i]->ring, pos[i]);
            if (bl == NULL || l->seq < bl->seq) {
                best = i;
                bl = l;
            }
        }
        if (best < 0)
            break;
        v.seq = bl->seq;
        v.time = bl->time;
        v.instance = srcs[best]->name;
        v.type = srcs[best]->type;
        v.stream = bl->stream;
        v.len = logring_text(srcs[best]->ring, pos[best], s->scratch, sizeof(s->scratch));
        v.text = s->scratch;
        if (!take(ctx, &v))
            break;
        *cursor = v.seq;
        pos[best]++;
        taken++;
    }
    free(srcs);
    free(pos);
    return taken;
}

void logstore_watch(struct logstore *s, struct logwatch *w)
{
    w->prev = NULL;
    w->next = s->watchers;
    if (s->watchers != NULL)
        s->watchers->prev = w;
    s->watchers = w;
}

void logstore_unwatch(struct logstore *s, struct logwatch *w)
{
    if (w->prev != NULL)
        w->prev->next = w->next;
    else if (s->watchers == w)
        s->watchers = w->next;
    else
        return; /* not watching */
    if (w->next != NULL)
        w->next->prev = w->prev;
    w->prev = w->next = NULL;
}

size_t logstore_footprint(const struct logstore *s)
{
    size_t n = sizeof(*s) + s->cap * sizeof(*s->srcs);

    for (size_t i = 0; i < s->nsrcs; i++)
        n += sizeof(*s->srcs[i]) + logring_footprint(s->srcs[i]->ring);
    return n;
}
