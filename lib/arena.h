/* A bump allocator for things that live and die together (a loaded config):
 * many small allocations, no individual frees, one arena_free() at the end. */
#ifndef DROVER_LIB_ARENA_H
#define DROVER_LIB_ARENA_H

#include <stddef.h>

struct arena;

/* A new, empty arena, or NULL when out of memory. */
struct arena *arena_new(void);

/* SIZE zeroed bytes aligned for any type, or NULL when out of memory. The
 * memory stays valid until arena_free(). */
void *arena_alloc(struct arena *a, size_t size);

/* Copies of S (or of its first N bytes, NUL-terminated) in the arena; NULL
 * when out of memory. */
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);

/* Frees every allocation and the arena itself. NULL is fine. */
void arena_free(struct arena *a);

#endif
