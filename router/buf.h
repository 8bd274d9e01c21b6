/* Fixed-size I/O buffers from a per-worker free list.
 *
 * Each buffer keeps BUF_HEADROOM bytes free in front of the data it reads, so
 * a parsed message head can be rewritten in place right before its body and
 * the pair leaves in a single write(2). Buffers are taken when a connection
 * has bytes to hold and given back as soon as it has none, so an idle
 * keep-alive connection owns no buffer at all. */
#ifndef DROVER_ROUTER_BUF_H
#define DROVER_ROUTER_BUF_H

#include <stddef.h>
#include <stdint.h>

#define BUF_HEADROOM 1024u

struct buf {
    struct buf *next;   /* free list link */
    uint32_t cap;       /* bytes in data[] */
    uint32_t start;     /* first byte not yet consumed */
    uint32_t end;       /* one past the last byte read */
    char data[];
};

struct buf_pool {
    struct buf *free;
    unsigned nfree;
    unsigned max_free;
    uint32_t cap;       /* size of the buffers this pool hands out */
};

void buf_pool_init(struct buf_pool *pool, uint32_t cap, unsigned max_free);
void buf_pool_destroy(struct buf_pool *pool);

/* An empty buffer (start = end = BUF_HEADROOM), or NULL when out of memory. */
struct buf *buf_get(struct buf_pool *pool);
void buf_put(struct buf_pool *pool, struct buf *b);

static inline uint32_t buf_len(const struct buf *b)
{
    return b->end - b->start;
}

static inline uint32_t buf_room(const struct buf *b)
{
    return b->cap - b->end;
}

static inline uint32_t buf_len_or_zero(const struct buf *b)
{
    return b != NULL ? buf_len(b) : 0;
}

/* Moves the unconsumed bytes back to BUF_HEADROOM. */
void buf_compact(struct buf *b);

#endif
