/*
 * core/recent.c - sharded two-generation hash sets of 128-bit key digests.
 */
#include "core/recent.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

#define SHARDS  16
#define SLOTS   (1u << 14) /* per shard and generation; a power of two */
#define GEN_MAX ((size_t)SLOTS / 4 * 3)

struct digest {
    uint64_t hi, lo; /* 0,0 = empty slot (a real digest of 0 is not a concern) */
};

struct shard {
    pthread_mutex_t mu;
    struct digest *cur, *prev;
    size_t n_cur;
};

struct recent {
    struct shard shards[SHARDS];
};

static uint64_t mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* Two independent 64-bit FNV-1a lanes, finalised. Keys are our own strings (dedupe names
 * built from HMACs and ids), not attacker-chosen, so a fast hash is enough; a false match
 * would need two 64-bit lanes to collide at once. */
static struct digest digest_of(const char *key)
{
    uint64_t a = 0xcbf29ce484222325ULL, b = 0x84222325cbf29ce4ULL;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        a = (a ^ *p) * 0x100000001b3ULL;
        b = (b ^ *p) * 0x100000001b3ULL ^ (b >> 29);
    }
    struct digest d = {mix(a) | 1, mix(b ^ a)}; /* hi never 0: 0,0 marks an empty slot */
    return d;
}

/* The slot holding d, or the empty slot where it would go. */
static struct digest *slot_for(struct digest *t, struct digest d)
{
    for (uint64_t i = d.lo & (SLOTS - 1);; i = (i + 1) & (SLOTS - 1))
        if ((t[i].hi == d.hi && t[i].lo == d.lo) || (!t[i].hi && !t[i].lo))
            return &t[i];
}

static bool present(const struct digest *slot, struct digest d)
{
    return slot->hi == d.hi && slot->lo == d.lo;
}

struct recent *recent_new(void)
{
    struct recent *r = xcalloc(1, sizeof *r);
    for (int i = 0; i < SHARDS; i++) {
        pthread_mutex_init(&r->shards[i].mu, NULL);
        r->shards[i].cur = xcalloc(SLOTS, sizeof(struct digest));
        r->shards[i].prev = xcalloc(SLOTS, sizeof(struct digest));
    }
    return r;
}

void recent_free(struct recent *r)
{
    if (!r)
        return;
    for (int i = 0; i < SHARDS; i++) {
        pthread_mutex_destroy(&r->shards[i].mu);
        free(r->shards[i].cur);
        free(r->shards[i].prev);
    }
    free(r);
}

bool recent_insert(struct recent *r, const char *key)
{
    struct digest d = digest_of(key);
    struct shard *s = &r->shards[d.hi % SHARDS];
    pthread_mutex_lock(&s->mu);
    bool fresh = !present(slot_for(s->prev, d), d);
    struct digest *slot = slot_for(s->cur, d);
    if (present(slot, d))
        fresh = false;
    if (fresh) {
        if (s->n_cur >= GEN_MAX) { /* the older generation is forgotten */
            struct digest *t = s->prev;
            s->prev = s->cur;
            s->cur = t;
            memset(s->cur, 0, SLOTS * sizeof *s->cur);
            s->n_cur = 0;
            slot = slot_for(s->cur, d);
        }
        *slot = d;
        s->n_cur++;
    }
    pthread_mutex_unlock(&s->mu);
    return fresh;
}

/* Linear probing: a removed slot must not break a probe chain, so the chain after it is
 * re-inserted. */
static void remove_from(struct digest *t, struct digest d)
{
    struct digest *slot = slot_for(t, d);
    if (!present(slot, d))
        return;
    size_t i = (size_t)(slot - t);
    t[i] = (struct digest){0, 0};
    for (size_t k = (i + 1) & (SLOTS - 1); t[k].hi || t[k].lo; k = (k + 1) & (SLOTS - 1)) {
        struct digest moved = t[k];
        t[k] = (struct digest){0, 0};
        *slot_for(t, moved) = moved;
    }
}

void recent_remove(struct recent *r, const char *key)
{
    struct digest d = digest_of(key);
    struct shard *s = &r->shards[d.hi % SHARDS];
    pthread_mutex_lock(&s->mu);
    remove_from(s->cur, d);
    remove_from(s->prev, d);
    pthread_mutex_unlock(&s->mu);
}
