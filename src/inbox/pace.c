/*
 * inbox/pace.c - per-account token buckets for Send API calls (see pace.h).
 *
 * The buckets live in one array searched linearly: a process serves at most
 * STORE_ACCOUNTS_MAX accounts, and a search is far cheaper than the HTTP call it paces.
 */
#include "inbox/pace.h"

#include <pthread.h>
#include <stdlib.h>

#include "core/mem.h"

/* Whole micro-calls, so the arithmetic is exact for every whole rate. */
#define MICRO          1000000LL
#define MAX_ELAPSED_MS 10000000LL /* ~3 h: long past a full bucket, and no overflow */

struct bucket {
    int64_t account_id;
    int64_t tokens_u; /* micro-calls */
    int64_t last_ms;
    int64_t slow_until_ms;
};

struct inbox_pace {
    pthread_mutex_t mu;
    int64_t rate;  /* calls a second; <= 0: unpaced */
    int64_t cap_u; /* a second's worth, at least one call */
    struct bucket *b;
    size_t n, n_cap;
};

struct inbox_pace *inbox_pace_new(int64_t rate_per_s)
{
    struct inbox_pace *p = xcalloc(1, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    p->rate = rate_per_s;
    p->cap_u = (rate_per_s > 1 ? rate_per_s : 1) * MICRO;
    return p;
}

void inbox_pace_free(struct inbox_pace *p)
{
    if (!p)
        return;
    pthread_mutex_destroy(&p->mu);
    free(p->b);
    free(p);
}

/* The account's bucket, made full when it is new (call with mu held). */
static struct bucket *find(struct inbox_pace *p, int64_t account_id, int64_t now_ms)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->b[i].account_id == account_id)
            return &p->b[i];
    if (p->n == p->n_cap) {
        p->n_cap = p->n_cap ? 2 * p->n_cap : 16;
        p->b = xrealloc(p->b, p->n_cap * sizeof *p->b);
    }
    struct bucket *b = &p->b[p->n++];
    *b = (struct bucket){.account_id = account_id, .tokens_u = p->cap_u, .last_ms = now_ms};
    return b;
}

/* Micro-calls the bucket gains a millisecond: rate * 1000, half that while slowed. */
static int64_t per_ms_u(const struct inbox_pace *p, const struct bucket *b, int64_t now_ms)
{
    return now_ms < b->slow_until_ms ? p->rate * 500 : p->rate * 1000;
}

int64_t inbox_pace_take(struct inbox_pace *p, int64_t account_id, int n, int64_t now_ms)
{
    if (p->rate <= 0 || n <= 0)
        return 0;
    pthread_mutex_lock(&p->mu);
    struct bucket *b = find(p, account_id, now_ms);
    int64_t gain = per_ms_u(p, b, now_ms);
    if (now_ms > b->last_ms) {
        int64_t elapsed = now_ms - b->last_ms;
        b->tokens_u += (elapsed < MAX_ELAPSED_MS ? elapsed : MAX_ELAPSED_MS) * gain;
        if (b->tokens_u > p->cap_u)
            b->tokens_u = p->cap_u;
        b->last_ms = now_ms;
    }
    int64_t want = (int64_t)n * MICRO > p->cap_u ? p->cap_u : (int64_t)n * MICRO;
    int64_t wait = 0;
    if (b->tokens_u >= want)
        b->tokens_u -= want;
    else
        wait = (want - b->tokens_u + gain - 1) / gain;
    pthread_mutex_unlock(&p->mu);
    return wait;
}

void inbox_pace_usage(struct inbox_pace *p, int64_t account_id, int max_pct, int64_t now_ms)
{
    if (p->rate <= 0 || max_pct < INBOX_PACE_SLOW_PCT)
        return;
    pthread_mutex_lock(&p->mu);
    struct bucket *b = find(p, account_id, now_ms);
    b->slow_until_ms = now_ms + INBOX_PACE_SLOW_MS;
    pthread_mutex_unlock(&p->mu);
}
