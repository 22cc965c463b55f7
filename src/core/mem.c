/*
 * core/mem.c - xmalloc and the chunked bump arena.
 */
#include "core/mem.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK_MIN 4096

struct arena_chunk {
    struct arena_chunk *prev;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
};

struct arena_cleanup {
    struct arena_cleanup *prev;
    arena_free_fn *fn;
    void *obj;
};

static void oom(size_t n)
{
    /* Not through log.h: logging allocates nothing, but this must not depend on it. */
    fprintf(stderr, "{\"level\":\"fatal\",\"event\":\"memory.exhausted\",\"bytes\":%zu}\n", n);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *xcalloc(size_t count, size_t n)
{
    void *p = calloc(count ? count : 1, n ? n : 1);
    if (!p)
        oom(count * n);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
    char *d = xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

void arena_init(struct arena *a)
{
    a->chunk = NULL;
    a->cleanup = NULL;
}

void arena_release(struct arena *a)
{
    while (a->cleanup) {
        struct arena_cleanup *c = a->cleanup;
        a->cleanup = c->prev;
        c->fn(c->obj);
    }
    while (a->chunk) {
        struct arena_chunk *c = a->chunk;
        a->chunk = c->prev;
        free(c);
    }
}

void *arena_alloc(struct arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    struct arena_chunk *c = a->chunk;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > ARENA_CHUNK_MIN ? n : ARENA_CHUNK_MIN;
        if (c && c->cap * 2 > cap && c->cap < (1u << 20))
            cap = c->cap * 2;
        c = xmalloc(sizeof *c + cap);
        c->prev = a->chunk;
        c->used = 0;
        c->cap = cap;
        a->chunk = c;
    }
    void *p = c->data + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    char *d = arena_alloc(a, n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *arena_strdup(struct arena *a, const char *s)
{
    return s ? arena_strndup(a, s, strlen(s)) : NULL;
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    char *d = arena_alloc(a, (size_t)n + 1);
    vsnprintf(d, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return d;
}

void arena_on_free(struct arena *a, arena_free_fn *fn, void *obj)
{
    struct arena_cleanup *c = arena_alloc(a, sizeof *c);
    c->fn = fn;
    c->obj = obj;
    c->prev = a->cleanup;
    a->cleanup = c;
}
