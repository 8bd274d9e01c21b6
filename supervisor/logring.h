/* The last lines one instance wrote (stdout and stderr), kept in memory for
 * `drover logs` and GET /logs: a ring of at most `keep` lines holding at
 * most `keep_bytes` bytes of text, the oldest dropped first. Memory grows
 * with what is kept, never past the bounds (a line longer than keep_bytes
 * is cut to it). Every line carries the drover-wide sequence number it was
 * given (logstore.c), so the lines of many rings merge in the order they
 * came. Not thread-safe: the main loop's. */
#ifndef DROVER_SUPERVISOR_LOGRING_H
#define DROVER_SUPERVISOR_LOGRING_H

#include <stddef.h>
#include <stdint.h>

enum log_stream { LOG_STDOUT, LOG_STDERR };

struct logline {
    uint64_t seq;               /* the order of arrival, drover-wide (from 1) */
    double time;                /* wall clock, seconds since the epoch */
    enum log_stream stream;
    size_t len;                 /* bytes of text, no line end */
    size_t off;                 /* where the text starts in the ring (private) */
};

struct logring;

/* An empty ring (nothing allocated for lines yet); NULL when out of memory. */
struct logring *logring_new(size_t keep, size_t keep_bytes);
void logring_free(struct logring *r);

/* New bounds: lines over them go at once, oldest first. */
void logring_set_limits(struct logring *r, size_t keep, size_t keep_bytes);

/* Appends s[0..n) as one line (cut to keep_bytes), dropping the oldest
 * lines until it fits. seq must be above every seq in the ring. Returns 0,
 * or -1 when out of memory (the line is not kept). */
int logring_push(struct logring *r, uint64_t seq, double time, enum log_stream stream,
                 const char *s, size_t n);

/* The seq of the newest line a push of n bytes would drop (lines go
 * oldest first), or 0 when it would drop none. */
uint64_t logring_would_drop(const struct logring *r, size_t n);

/* Drops every line (a new instance takes the slot). */
void logring_clear(struct logring *r);

size_t logring_count(const struct logring *r);
/* Bytes of text kept, and bytes held in all (its buffers). */
size_t logring_bytes(const struct logring *r);
size_t logring_footprint(const struct logring *r);

/* Line i, 0 the oldest (i < count). */
const struct logline *logring_line(const struct logring *r, size_t i);

/* Line i's text copied into buf (at most cap bytes); its length. The text
 * may wrap around the ring's end, so it is copied rather than pointed to. */
size_t logring_text(const struct logring *r, size_t i, char *buf, size_t cap);

/* The index of the first line whose seq is above seq (count when none). */
size_t logring_after(const struct logring *r, uint64_t seq);

/* The seq of the newest line, 0 when empty. */
uint64_t logring_last_seq(const struct logring *r);

#endif
