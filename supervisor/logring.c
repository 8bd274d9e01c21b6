/* One instance's recent lines: see logring.h. Two circular buffers, one of
 * line headers and one of text; both grow (doubling) up to the bounds and
 * are laid out afresh, oldest line first, whenever they change size. */
#include "supervisor/logring.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MIN_LINES 16
#define MIN_TEXT 4096

struct logring {
    size_t keep, keep_bytes;
    struct logline *lines;      /* circular: count of them from first */
    size_t lcap, first, count;
    char *text;                 /* circular: used bytes from start */
    size_t tcap, start, used;
};

struct logring *logring_new(size_t keep, size_t keep_bytes)
{
    struct logring *r = calloc(1, sizeof(*r));

    if (r != NULL) {
        r->keep = keep;
        r->keep_bytes = keep_bytes;
    }
    return r;
}

void logring_free(struct logring *r)
{
    if (r == NULL)
        return;
    free(r->lines);
    free(r->text);
    free(r);
}

const struct logline *logring_line(const struct logring *r, size_t i)
{
    return &r->lines[(r->first + i) % r->lcap];
}

size_t logring_text(const struct logring *r, size_t i, char *buf, size_t cap)
{
    const struct logline *l = logring_line(r, i);
    size_t n = l->len < cap ? l->len : cap;
    size_t head = r->tcap - l->off < n ? r->tcap - l->off : n;

    if (n == 0)
        return 0; /* an empty line: there may be no text buffer at all */
    memcpy(buf, r->text + l->off, head);
    memcpy(buf + head, r->text, n - head);
    return n;
}

/* New buffers of lcap headers and tcap bytes (each at least what is kept),
 * the lines copied in, oldest first from the start. -1 when out of memory
 * (nothing changed). */
static int relayout(struct logring *r, size_t lcap, size_t tcap)
{
    struct logline *lines = lcap > 0 ? malloc(lcap * sizeof(*lines)) : NULL;
    char *text = tcap > 0 ? malloc(tcap) : NULL;
    size_t off = 0;

    if ((lcap > 0 && lines == NULL) || (tcap > 0 && text == NULL)) {
        free(lines);
        free(text);
        return -1;
    }
    for (size_t i = 0; i < r->count; i++) {
        lines[i] = *logring_line(r, i);
        lines[i].off = off;
        off += logring_text(r, i, text + off, tcap - off);
    }
    free(r->lines);
    free(r->text);
    r->lines = lines;
    r->lcap = lcap;
    r->first = 0;
    r->text = text;
    r->tcap = tcap;
    r->start = 0;
    return 0;
}

static void drop_oldest(struct logring *r)
{
    const struct logline *l = logring_line(r, 0);

    r->start = r->tcap > 0 ? (r->start + l->len) % r->tcap : 0;
    r->used -= l->len;
    r->first = (r->first + 1) % r->lcap;
    if (--r->count == 0)
        r->first = r->start = r->used = 0;
}

/* The oldest lines go until count and bytes are within the bounds, with
 * room for one more line of n bytes when room is true. */
static void make_room(struct logring *r, size_t n, bool room)
{
    while (r->count > 0 && (r->count + room > r->keep || r->used + n > r->keep_bytes))
        drop_oldest(r);
}

void logring_set_limits(struct logring *r, size_t keep, size_t keep_bytes)
{
    r->keep = keep;
    r->keep_bytes = keep_bytes;
    make_room(r, 0, false);
    /* Smaller bounds give memory back. */
    if (r->lcap > keep || r->tcap > keep_bytes)
        relayout(r, r->lcap > keep ? keep : r->lcap, r->tcap > keep_bytes ? keep_bytes : r->tcap);
}

static size_t grow(size_t cap, size_t need, size_t min, size_t max)
{
    size_t n = cap * 2 > min ? cap * 2 : min;

    if (n < need)
        n = need;
    return n > max ? max : n;
}

int logring_push(struct logring *r, uint64_t seq, double time, enum log_stream stream,
                 const char *s, size_t n)
{
    struct logline *l;
    size_t w, head;

    if (r->keep == 0 || r->keep_bytes == 0)
        return 0;
    if (n > r->keep_bytes)
        n = r->keep_bytes;
    make_room(r, n, true);
    if ((r->count == r->lcap || r->used + n > r->tcap) &&
        relayout(r, r->count == r->lcap ? grow(r->lcap, r->count + 1, MIN_LINES, r->keep) : r->lcap,
                 r->used + n > r->tcap ? grow(r->tcap, r->used + n, MIN_TEXT, r->keep_bytes)
                                       : r->tcap) < 0)
        return -1;
    w = r->tcap > 0 ? (r->start + r->used) % r->tcap : 0;
    head = r->tcap - w < n ? r->tcap - w : n;
    if (n > 0) {
        memcpy(r->text + w, s, head);
        memcpy(r->text, s + head, n - head);
    }
    r->used += n;
    l = &r->lines[(r->first + r->count) % r->lcap];
    l->seq = seq;
    l->time = time;
    l->stream = stream;
    l->len = n;
    l->off = w;
    r->count++;
    return 0;
}

uint64_t logring_would_drop(const struct logring *r, size_t n)
{
    size_t count = r->count, used = r->used;
    uint64_t seq = 0;

    if (r->keep == 0 || r->keep_bytes == 0)
        return 0;
    if (n > r->keep_bytes)
        n = r->keep_bytes;
    for (size_t i = 0; count > 0 && (count + 1 > r->keep || used + n > r->keep_bytes); i++) {
        const struct logline *l = logring_line(r, i);

        seq = l->seq;
        used -= l->len;
        count--;
    }
    return seq;
}

void logring_clear(struct logring *r)
{
    r->count = r->first = r->start = r->used = 0;
}

size_t logring_count(const struct logring *r)
{
    return r->count;
}

size_t logring_bytes(const struct logring *r)
{
    return r->used;
}

size_t logring_footprint(const struct logring *r)
{
    return sizeof(*r) + r->lcap * sizeof(struct logline) + r->tcap;
}

size_t logring_after(const struct logring *r, uint64_t seq)
{
    size_t lo = 0, hi = r->count;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (logring_line(r, mid)->seq > seq)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

uint64_t logring_last_seq(const struct logring *r)
{
    return r->count > 0 ? logring_line(r, r->count - 1)->seq : 0;
}
