#include "lib/arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* 4k chunks: a typical config fits in one or two. A larger request gets a
 * chunk of its own so the current chunk's free tail is not wasted. */
#define CHUNK_SIZE 4096
#define ALIGN alignof(max_align_t)

struct chunk {
    struct chunk *next;
    size_t used, cap;
    alignas(max_align_t) unsigned char data[];
};

struct arena {
    struct chunk *head; /* the chunk being filled; older ones follow */
};

struct arena *arena_new(void)
{
    return calloc(1, sizeof(struct arena));
}

static struct chunk *chunk_new(size_t cap)
{
    struct chunk *c = malloc(sizeof(*c) + cap);

    if (c == NULL)
        return NULL;
    c->next = NULL;
    c->used = 0;
    c->cap = cap;
    return c;
}

void *arena_alloc(struct arena *a, size_t size)
{
    struct chunk *c = a->head;
    size_t need;
    void *p;

    if (size > SIZE_MAX - ALIGN)
        return NULL;
    need = (size + ALIGN - 1) & ~(ALIGN - 1);
    if (need == 0)
        need = ALIGN;
    if (c == NULL || c->cap - c->used < need) {
        if (need > CHUNK_SIZE / 4) {
            /* Big: its own chunk, linked behind the head so the head keeps
             * serving small requests. */
            struct chunk *big = chunk_new(need);

            if (big == NULL)
                return NULL;
            big->used = need;
            if (c != NULL) {
                big->next = c->next;
                c->next = big;
            } else {
                a->head = big;
            }
            memset(big->data, 0, size);
            return big->data;
        }
        c = chunk_new(CHUNK_SIZE);
        if (c == NULL)
            return NULL;
        c->next = a->head;
        a->head = c;
    }
    p = c->data + c->used;
    c->used += need;
    memset(p, 0, size);
    return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = arena_alloc(a, len + 1);

    if (p == NULL)
        return NULL;
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}

void arena_free(struct arena *a)
{
    if (a == NULL)
        return;
    for (struct chunk *c = a->head, *next; c != NULL; c = next) {
        next = c->next;
        free(c);
    }
    free(a);
}
