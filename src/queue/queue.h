/*
 * queue/queue.h - the durable job queue.
 *
 * Owns: enqueue (run-at time, ordering key, dedupe key), claim with a lease, ack, retry with
 * backoff, dead letter after max attempts, one job in flight per key, and the intake
 * journal that makes a webhook durable with one append, before its 200.
 * Does not own: what a payload means (the consumer's handler decides).
 * Backend: rows in store/ (SQLite or PostgreSQL); in-process wake-ups between threads.
 * Threads: a struct queue is shared by every thread; each thread passes its own store.
 */
#ifndef SB_QUEUE_QUEUE_H
#define SB_QUEUE_QUEUE_H

#include <stdbool.h>
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
    int64_t run_at_ms; /* 0 = now */
    int max_attempts;  /* 0 = the queue's default (SB_QUEUE_MAX_ATTEMPTS) */
};

/* Starts the queue and its loader thread (own store connection; journal in
 * <data_dir>/journal, replayed from where the last process stopped). Caller owns *out. */
MUST_USE enum err queue_new(const struct store_opts *so, int default_max_attempts,
                            struct queue **out);
/* Loads everything submitted so far into the database, then stops. Call after every
 * producer has stopped. */
void queue_free(struct queue *q);

/* Enqueues on the caller's connection (joins the caller's transaction if one is open).
 * *id receives the job id, or 0 when the dedupe key was already present. */
MUST_USE enum err queue_enqueue(struct queue *q, struct store *s, const struct queue_job *job,
                                int64_t *id);

/* Makes the job durable in the intake journal (one append; no wait on the database) and
 * returns; the loader moves it into the job table moments later (a job whose dedupe key is
 * already there is dropped then). ERR_IO when the journal cannot be written (nothing was
 * stored). Safe from any thread. */
MUST_USE enum err queue_submit(struct queue *q, const struct queue_job *job);
/* Same, for a dead letter (source "webhook": a body we acknowledge but cannot use). */
MUST_USE enum err queue_submit_dead_letter(struct queue *q, const char *source, const char *reason,
                                           const void *payload, size_t len);

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
/* Not run at all (it waits for something outside it, e.g. Meta's throttling of its account):
 * back to the queue for run_at_ms, and this claim does not count as an attempt. */
MUST_USE enum err queue_defer(struct queue *q, struct store *s, const struct store_job *job,
                              int64_t run_at_ms, const char *why);
/* Failed for good: straight to the dead letters. */
MUST_USE enum err queue_bury(struct queue *q, struct store *s, const struct store_job *job,
                             const char *reason);
/* Keeps a long job's lease. */
MUST_USE enum err queue_extend(struct queue *q, struct store *s, const struct store_job *job,
                               int64_t lease_ms);

/* Hands back at once the jobs leased by processes of this host that have died (a crash or
 * kill -9), instead of waiting for their leases to run out. Call at start. */
MUST_USE enum err queue_release_orphans(struct queue *q, struct store *s);
/* Blocks until a job may be available (an enqueue in this process) or timeout_ms passes. */
void queue_wait(struct queue *q, int64_t timeout_ms);
/* Wakes every waiter (shutdown, or work enqueued by another path). */
void queue_notify(struct queue *q);
/* The lease owner name this thread uses ("<pid>.<n>"). */
const char *queue_owner(void);
/* Backoff before attempt n+1 after n failed attempts, without jitter (tests, docs). */
int64_t queue_backoff_ms(int attempts);

#endif
