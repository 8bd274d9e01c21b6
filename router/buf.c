#include "router/buf.h"

#include <stdlib.h>
#include <string.h>

void buf_pool_init(struct buf_pool *pool, uint32_t cap, unsigned max_free)
{
    pool->free = NULL;
    pool->nfree = 0;
    pool->max_free = max_free;
    pool->cap = cap;
}

void buf_pool_destroy(struct buf_pool *pool)
{
    struct buf *b;

    while ((b = pool->free) != NULL) {
        pool->free = b->next;
        free(b);
    }
    pool->nfree = 0;
}

struct buf *buf_get(struct buf_pool *pool)
{
    struct buf *b = pool->free;

    if (b != NULL) {
        pool->free = b->next;
        pool->nfree--;
    } else {
        b = malloc(sizeof(*b) + pool->cap);
        if (b == NULL)
            return NULL;
        b->cap = pool->cap;
    }
    b->next = NULL;
    b->start = b->end = BUF_HEADROOM;
    return b;
}

void buf_put(struct buf_pool *pool, struct buf *b)
{
    if (b == NULL)
        return;
    /* A reload may change the buffer size: old buffers are not recycled. */
    if (pool->nfree >= pool->max_free || b->cap != pool->cap) {
        free(b);
        return;
    }
    b->next = pool->free;
    pool->free = b;
    pool->nfree++;
}

void buf_compact(struct buf *b)
{
    uint32_t n = buf_len(b);

    if (b->start == BUF_HEADROOM)
        return;
    if (n > 0)
        memmove(b->data + BUF_HEADROOM, b->data + b->start, n);
    b->start = BUF_HEADROOM;
    b->end = BUF_HEADROOM + n;
}
