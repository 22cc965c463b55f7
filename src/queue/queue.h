/*
 * queue/queue.h - the durable job queue.
 *
 * Owns: enqueue (run-at time, ordering key, dedupe key), claim with a lease, ack, retry with
 * backoff, dead letter after max attempts, one job in flight per key, and the group-commit
 * writer that lets the webhook path wait for durability without holding a thread.
 * Does not own: what a payload means (the consumer's handler decides).
 * Backend: rows in store/ (SQLite or PostgreSQL); in-process wake-ups between threads.
 * Threads: a struct queue is shared by every thread; each thread passes its own store.
 */
#ifndef SB_QUEUE_QUEUE_H
#define SB_QUEUE_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/mem.h"
#include "store/store.h"

struct queue;

struct queue_job {
    const char *kind;   /* a job kind of the consumer's table */
    const char *key;    /* ordering key (e.g. "conv:42"); NULL = unordered */
    const char *dedupe; /* enqueueing the same dedupe key again is a no-op; NULL = never */
    const void *payload;
    size_t payload_len;
    int64_t run_at_ms;  /* 0 = now */
    int max_attempts;   /* 0 = the queue's default (SB_QUEUE_MAX_ATTEMPTS) */
};

/* Starts the queue and its writer thread, which opens its own store connection.
 * Caller owns *out; free with queue_free(). */
MUST_USE enum err queue_new(const struct store_opts *so, int default_max_attempts,
                            struct queue **out);
/* Commits whatever the writer holds, answers every pending callback, stops the thread. */
void queue_free(struct queue *q);

/* Enqueues on the caller's connection (joins the caller's transaction if one is open).
 * *id receives the job id, or 0 when the dedupe key was already present. */
MUST_USE enum err queue_enqueue(struct queue *q, struct store *s, const struct queue_job *job,
                                int64_t *id);

/* Called on the writer thread once the item is committed (rc ERR_OK; id 0 = duplicate) or has
 * failed (rc != ERR_OK, nothing stored). Must not block. */
typedef void queue_done_fn(void *ctx, enum err rc, int64_t id);
/* Hands a job to the group-commit writer; payload and strings are copied. done is always
 * called exactly once, after the commit that made the job durable. Safe from any thread. */
void queue_enqueue_async(struct queue *q, const struct queue_job *job, queue_done_fn *done,
                         void *ctx);
/* Same, for a dead letter (source "webhook": a body we acknowledge but cannot use). */
void queue_dead_letter_async(struct queue *q, const char *source, const char *reason,
                             const void *payload, size_t len, queue_done_fn *done, void *ctx);

/* Claims up to max jobs of the given kinds for lease_ms. Jobs come back in the arena. A job
 * whose lease expired too often (a crash loop) is dead-lettered instead of returned. */
MUST_USE enum err queue_claim(struct queue *q, struct store *s, const char *const *kinds,
                              size_t n_kinds, size_t max, int64_t lease_ms, struct arena *a,
                              struct store_job *out, size_t *n_out);
/* Done: ERR_CONFLICT if the lease was lost (another worker now owns the job). */
MUST_USE enum err queue_ack(struct queue *q, struct store *s, const struct store_job *job);
/* Failed but worth another try: backoff from attempts (1 s doubling to 1 h, with jitter);
 * past max_attempts the job goes to the dead letters with error as the reason. */
MUST_USE enum err queue_retry(struct queue *q, struct store *s, const struct store_job *job,
                              const char *error);
/* Retry at a time the caller knows (rate-limit headers); still bounded by max_attempts. */
MUST_USE enum err queue_retry_at(struct queue *q, struct store *s, const struct store_job *job,
                                 int64_t run_at_ms, const char *error);
/* Failed for good: straight to the dead letters. */
MUST_USE enum err queue_bury(struct queue *q, struct store *s, const struct store_job *job,
                             const char *reason);
/* Keeps a long job's lease. */
MUST_USE enum err queue_extend(struct queue *q, struct store *s, const struct store_job *job,
                               int64_t lease_ms);

/* Blocks until a job may be available (an enqueue in this process) or timeout_ms passes. */
void queue_wait(struct queue *q, int64_t timeout_ms);
/* Wakes every waiter (shutdown, or work enqueued by another path). */
void queue_notify(struct queue *q);
/* The lease owner name this thread uses ("<pid>.<n>"). */
const char *queue_owner(void);
/* Backoff before attempt n+1 after n failed attempts, without jitter (tests, docs). */
int64_t queue_backoff_ms(int attempts);

#endif
