/*
 * core/mem.h - allocation that never returns NULL, and the arena.
 *
 * Owns: xmalloc and friends (log and abort on exhaustion: caps, not NULL checks, protect
 * us from hostile sizes) and struct arena, the per-request / per-job allocator.
 * Threads: an arena belongs to one thread at a time.
 */
#ifndef SB_CORE_MEM_H
#define SB_CORE_MEM_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

struct arena_chunk;
struct arena_cleanup;

struct arena {
    struct arena_chunk *chunk;     /* current chunk, linked to older ones */
    struct arena_cleanup *cleanup; /* foreign objects, freed in reverse order */
};

typedef void arena_free_fn(void *obj);

void arena_init(struct arena *a);
/* Frees every allocation and runs every cleanup; the arena can be reused afterwards. */
void arena_release(struct arena *a);
/* Zeroed, 16-byte aligned memory that lives until arena_release(). */
void *arena_alloc(struct arena *a, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Ties a foreign object to the arena: fn(obj) runs at arena_release(). */
void arena_on_free(struct arena *a, arena_free_fn *fn, void *obj);

#endif
